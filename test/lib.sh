# Helpers shared by test/run.sh and the shell test suites it runs: where
# PostgreSQL's test drivers are, numbered ok/FAILED lines, pg_regress counts,
# the counts written for test/run.sh, and psql that stops at errors.
passed=0
failed=0
pg_config=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}
pgxs_dir=$(dirname "$("$pg_config" --pgxs)")/..
bindir=$("$pg_config" --bindir)

# Records one result; a failure shows what differed.
result() {
    if [ "$1" = ok ]; then
        passed=$((passed + 1)); echo "ok $((passed + failed)) - $2"
    else
        failed=$((failed + 1)); echo "FAILED $((passed + failed)) - $2"; sed 's/^/    /' <<<"${3:-}" | head -60
    fi
}

# Records ok when the output ($3) is exactly what was expected ($2).
expect() {
    if [ "$3" = "$2" ]; then result ok "$1"; else result failed "$1" "expected: $2
got: $3"; fi
}

# Runs psql quietly against a database, stopping at the first error.
run_psql() {
    local database=$1; shift
    psql -X -q -v ON_ERROR_STOP=1 -d "$database" "$@"
}

# Counts pg_regress's "... ok" and "... FAILED" lines in a log; the second
# argument is pg_regress's exit status.
count_results() {
    local log=$1 status=$2 ok bad
    ok=$(grep -cE '\.\.\. ok' "$log")
    bad=$(grep -cE '\.\.\. FAILED|\.\.\. failed' "$log")
    passed=$((passed + ok))
    failed=$((failed + bad))
    # A run that failed without saying which test (it died, or a test had no
    # expected output) counts as a failure.
    if [ "$status" != 0 ] && [ "$bad" = 0 ]; then failed=$((failed + 1)); fi
}

# Writes "passed failed" into the summary file test/run.sh reads.
write_summary() {
    echo "$passed $failed" > "$1"
}
