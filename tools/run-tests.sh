#!/bin/bash
# Runs every test of pg_tenancy against a throwaway PostgreSQL 15 cluster
# (pg_virtualenv) and prints, as its very last line, "N passed, N failed".
# Exits non-zero when a test failed or the run could not complete.
set -u
cd "$(dirname "$0")/.."

summary=$(mktemp)
trap 'rm -f "$summary"' EXIT
echo "0 1" > "$summary"   # if the run dies before counting, that is a failure

TENANCY_SUMMARY="$summary" pg_virtualenv -t -v 15 \
    -o "max_worker_processes=16" -o "log_min_messages=warning" \
    test/run.sh
status=$?

read -r passed failed < "$summary"
if [ "$failed" != 0 ] || [ "$status" != 0 ]; then
    for diffs in regression.diffs isolation.diffs updated-regression.diffs; do
        [ -s "$diffs" ] && { echo "--- $diffs"; cat "$diffs"; }
    done
    [ "$failed" = 0 ] && failed=1
fi
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
