#!/bin/bash
# Plays tools/demo.sql in a throwaway PostgreSQL 15 cluster with psql echoing
# every statement, so that the transcript reads as a walkthrough.
set -u
cd "$(dirname "$0")/.."
pg_virtualenv -t -v 15 -o "session_preload_libraries=pg_tenancy" \
    psql -X -q -e -f tools/demo.sql 2>&1 | grep -v "^Dropping cluster"
