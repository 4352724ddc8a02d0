#!/bin/bash
# Runs bench/run.sh in a throwaway PostgreSQL 15 cluster and keeps its output
# in bench/out/latest.txt.
set -u
cd "$(dirname "$0")/.."
mkdir -p bench/out
pg_virtualenv -t -v 15 -o "max_worker_processes=16" bench/run.sh 2>&1 | grep --line-buffered -v "^Dropping cluster" | tee bench/out/latest.txt
