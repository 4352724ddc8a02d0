#!/bin/bash
# Plays the walkthrough in a throwaway PostgreSQL 15 cluster: tools/demo.sql
# with psql echoing every statement, then the operator's side with tenantctl.
# Exits non-zero when any step of the demo fails.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" != "--inside" ]; then
    pg_virtualenv -t -v 15 -o "session_preload_libraries=pg_tenancy" "$0" --inside 2>&1 |
        { grep -v "^Dropping cluster" || true; }
    exit
fi

transcript=$(mktemp)
trap 'rm -f "$transcript"' EXIT
psql -X -q -e -f tools/demo.sql 2>&1 | tee "$transcript"
if grep -q "^demo failed:" "$transcript"; then
    echo "the demo failed: a statement it shows being refused was not" >&2
    exit 1
fi
echo
echo "== 11. The same from the operator's side, with tenantctl"
for command in "tenant list" "member list acme" "tenant show acme" "health"; do
    echo "\$ tenantctl $command"
    # shellcheck disable=SC2086 # the words of the command are meant to split
    tenantctl $command
done
echo
echo "That was pg_tenancy. README.md has the walkthrough, the security model and the reference."
