#!/bin/bash
# The denial storm: BENCH_DENIALS refused statements from BENCH_DENIAL_SESSIONS
# sessions at once, against the same number of allowed statements. Prints the
# time per statement of each, how long the collector needed to write the
# denials, how many rows they became, how many collector workers ran, and
# how many parallel workers a parallel query got meanwhile. Runs inside
# pg_virtualenv after bench/run.sh's setup.
set -eu
cd "$(dirname "$0")"
total=${BENCH_DENIALS:-10000}
sessions=${BENCH_DENIAL_SESSIONS:-4}
per_session=$((total / sessions))
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The loop each session runs: one statement per iteration, each in its own
# subtransaction so that a refusal does not end the loop.
loop="DO \$\$
BEGIN
    FOR i IN 1 .. $per_session LOOP
        BEGIN
            PERFORM amount FROM bench.items WHERE id = i;
        EXCEPTION WHEN insufficient_privilege THEN NULL;
        END;
    END LOOP;
END
\$\$;"

# Runs the loop in every session at once as a role; prints the milliseconds.
storm() {
    local role=$1 started session
    started=$(date +%s%N)
    for session in $(seq "$sessions"); do
        PGUSER=$role PGPASSWORD=bench psql -X -q -c "SET tenancy.tenant = '$(psql -XAtc "SELECT md5('1')::uuid")'" \
            -c "$loop" >/dev/null &
    done
    wait
    echo $(( ($(date +%s%N) - started) / 1000000 ))
}

# Samples, until the file $work/stop appears, the collectors running and the
# parallel workers a parallel query is given; writes them to $work/samples.
probe() {
    local collectors launched
    while [ ! -f "$work/stop" ]; do
        collectors=$(psql -XAtc "SELECT count(*) FROM pg_stat_activity
                                  WHERE backend_type = 'pg_tenancy access event collector'")
        launched=$(psql -XAt -c "SET max_parallel_workers_per_gather = 2" -c "SET parallel_setup_cost = 0" \
                   -c "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) SELECT count(*) FROM bench.big_base" |
                   awk '/Workers Launched/ { print $3 }')
        echo "$collectors ${launched:-0}" >> "$work/samples"
    done
}

psql -XAtq -c "DELETE FROM tenancy.access_denials WHERE actor = 'bench_outsider'"
allowed_ms=$(storm bench_user)
probe &
prober=$!
refused_ms=$(storm bench_outsider)
queued_at=$(date +%s%N)
written=$(psql -XAtc "SELECT tenancy.wait_for_access_log('60 seconds')")
written_ms=$(( ($(date +%s%N) - queued_at) / 1000000 ))
touch "$work/stop"
wait "$prober"
read -r rows attempts < <(psql -XAtF ' ' -c "SELECT count(*), coalesce(sum(attempts), 0) FROM tenancy.access_denials
                                            WHERE actor = 'bench_outsider'")
awk -v a="$allowed_ms" -v r="$refused_ms" -v n="$total" -v s="$sessions" -v w="$written_ms" -v ok="$written" \
    -v rows="$rows" -v attempts="$attempts" 'BEGIN {
    printf "denial storm: %d statements from %d sessions: allowed %d ms (%.0f us each), refused %d ms (%.0f us each, %.1fx)\n",
        n, s, a, 1000 * a / n * s, r, 1000 * r / n * s, r / a
    printf "  all denials written %d ms after the storm (%s); %d attempts recorded in %d row(s)\n",
        w, ok == "t" ? "queue empty" : "QUEUE NOT EMPTY", attempts, rows }'
awk '{ c = $1 > c ? $1 : c; l[NR] = $2; if ($2 < 2) short++ } END {
    printf "  during the storm: at most %d collector worker(s); a parallel query got 2 of 2 workers in %d of %d samples\n",
        c, NR - short, NR }' "$work/samples"
