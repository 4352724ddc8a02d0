# Helpers shared by the shell test suites (test/*/run.sh): numbered ok/FAILED
# lines, the counts written for test/run.sh, and psql that stops at errors.
passed=0
failed=0

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

# Writes "passed failed" into the summary file test/run.sh reads.
write_summary() {
    echo "$passed $failed" > "$1"
}
