#!/bin/bash
# Protecting a big live table: plain protect() (one transaction) against
# tenantctl protect --online, each on its own copy of a table of
# BENCH_ONLINE_ROWS rows (default 10,000,000) without a tenant column, while
# BENCH_ONLINE_CLIENTS pgbench clients (default 2) keep writing into it (an
# UPDATE of a row and an INSERT per transaction, tenant acme selected).
# Reports, for each: total time, the longest stall any application
# transaction saw while it ran (target for --online: <= 1 s), and the write
# TPS during the operation relative to the 10 s before it. Runs inside
# pg_virtualenv (tools/run-bench.sh), as the cluster's superuser.
set -eu
cd "$(dirname "$0")"
rows=${BENCH_ONLINE_ROWS:-10000000}
clients=${BENCH_ONLINE_CLIENTS:-2}
database=online_bench
tenantctl=$(command -v tenantctl || echo ../cli/tenantctl)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

sql() { psql -X -q -At -v ON_ERROR_STOP=1 -d "$database" -c "$1"; }

dropdb --if-exists --force "$database" >/dev/null 2>&1 || true
createdb "$database"
sql "CREATE EXTENSION pg_tenancy" >/dev/null
sql "DO \$\$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'online_bench_writer') THEN
       CREATE ROLE online_bench_writer LOGIN PASSWORD 'bench'; END IF; END \$\$"
sql "SELECT tenancy.create_tenant('acme', 'Acme', owner => 'online_bench_writer'), tenancy.create_tenant('globex', 'Globex')" >/dev/null
for variant in plain online; do
    sql "CREATE TABLE big_$variant (id bigserial PRIMARY KEY, org text NOT NULL, amount int NOT NULL);
         INSERT INTO big_$variant (org, amount)
         SELECT CASE WHEN g % 2 = 0 THEN 'acme' ELSE 'globex' END, 0 FROM generate_series(1, $rows) g;
         GRANT SELECT, INSERT, UPDATE ON big_$variant TO online_bench_writer;
         GRANT USAGE ON SEQUENCE big_${variant}_id_seq TO online_bench_writer"
    sql "VACUUM ANALYZE big_$variant"
done
echo "online protection of a $(printf "%'d" "$rows")-row table while $clients clients write into it" \
     "($(psql -XAtc 'SHOW server_version'), $(nproc) cores):"

# Runs the writers against one table, protects it with the given command
# after 10 s, stops the writers 5 s after it ends, and prints the numbers.
measure() {
    local variant=$1 label=$2; shift 2
    cat > "$work/writer_$variant.sql" <<EOF
\set id 2 * random(1, $rows / 2)
BEGIN;
SET LOCAL tenancy.tenant = 'acme';
UPDATE big_$variant SET amount = amount + 1 WHERE id = :id;
INSERT INTO big_$variant (org, amount) VALUES ('acme', 1);
END;
EOF
    rm -f "$work"/pgbench_log.*
    (cd "$work" && PGUSER=online_bench_writer PGPASSWORD=bench pgbench -n -c "$clients" -j "$clients" -T 36000 -l \
        -f "writer_$variant.sql" "$database" >/dev/null 2>&1) &
    local writers=$!
    sleep 10
    local started ended
    started=$(date +%s.%N)
    "$@" >"$work/protect_$variant.log" 2>&1 || { echo "  $label failed:"; cat "$work/protect_$variant.log"; }
    ended=$(date +%s.%N)
    sleep 5
    kill "$writers" 2>/dev/null; wait "$writers" 2>/dev/null || true
    # pgbench -l: client, transaction, latency (us), script, epoch s, epoch us (at the end).
    cat "$work"/pgbench_log.* | awk -v start="$started" -v end="$ended" -v label="$label" '
        { finished = $5 + $6 / 1e6; began = finished - $3 / 1e6 }
        finished >= start - 10 && finished < start { before++ }
        finished >= start && finished <= end { during++ }
        began <= end && finished >= start && $3 > stall { stall = $3 }
        END {
            seconds = end - start
            printf "  %-24s %8.1f s   longest stall %7.3f s   write TPS during / before %.2f\n",
                label, seconds, stall / 1e6, (during / seconds) / (before / 10)
        }'
}

measure plain "plain protect():" sql "SELECT tenancy.protect('big_plain', backfill_from => 'org')"
measure online "tenantctl --online:" "$tenantctl" -d "dbname=$database" protect big_online --online \
    --backfill-from org --batch-rows 10000 --lock-timeout 200ms
echo "  (target for --online: longest stall <= 1 s)"
dropdb --force "$database" >/dev/null 2>&1 || true
