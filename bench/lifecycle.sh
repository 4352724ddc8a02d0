#!/bin/bash
# Plans and the lifecycle: (1) what a row limit costs an INSERT: pgbench
# single-row INSERT transactions (a service role naming actor and tenant,
# 200 tenants, audit off) into a protected table that a plan's row limit
# names against an identical one no limit names, alternating, median of the
# per-round ratios; (2) what a plan's statement_timeout and work_mem cost:
# the same INSERTs into the unlimited table by tenants whose plan sets both
# (applied at each statement) against tenants whose plan sets neither;
# (3) tenancy.purge_terminated() of BENCH_PURGE_TENANTS
# (default 1,000) terminated tenants with BENCH_PURGE_ROWS rows each (default
# 100) in two protected tables. Runs inside pg_virtualenv (tools/run-bench.sh)
# as the cluster's superuser.
set -eu
cd "$(dirname "$0")"
tenants=200
purge_tenants=${BENCH_PURGE_TENANTS:-1000}
purge_rows=${BENCH_PURGE_ROWS:-100}
duration=${BENCH_DURATION:-10}
rounds=${BENCH_ROUNDS:-5}
database=lifecycle_bench
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

sql() { psql -X -q -At -v ON_ERROR_STOP=1 -d "$database" -c "$1"; }

dropdb --if-exists --force "$database" >/dev/null 2>&1 || true
createdb "$database"
sql "CREATE EXTENSION pg_tenancy" >/dev/null
sql "DO \$\$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'lifecycle_bench_service') THEN
       CREATE ROLE lifecycle_bench_service LOGIN PASSWORD 'bench'; END IF; END \$\$"
sql "SELECT tenancy.grant_service('lifecycle_bench_service')" >/dev/null
sql "SELECT tenancy.create_plan('limited', limits => jsonb_build_object('rows',
         jsonb_build_object('public.rows_limited', 1000000000)))" >/dev/null
sql "SELECT tenancy.create_plan('timed', limits => '{\"statement_timeout\": \"5s\", \"work_mem\": \"8MB\"}')" >/dev/null
sql "SELECT count(tenancy.create_tenant('t' || n, 'Tenant ' || n, plan => 'limited')) FROM generate_series(1, $tenants) n;
     SELECT count(tenancy.create_tenant('u' || n, 'Timed ' || n, plan => 'timed')) FROM generate_series(1, $tenants) n;
     INSERT INTO tenancy.memberships (tenant_id, actor, role) SELECT id, 'writer', 'member' FROM tenancy.tenants" >/dev/null
for variant in free limited; do
    sql "CREATE TABLE rows_$variant (id bigserial PRIMARY KEY, amount int NOT NULL, note text);
         GRANT SELECT, INSERT ON rows_$variant TO lifecycle_bench_service;
         GRANT USAGE ON SEQUENCE rows_${variant}_id_seq TO lifecycle_bench_service;
         SELECT tenancy.protect('rows_$variant', audit => false)" >/dev/null
done
# Writes a pgbench script: single-row INSERTs into a table by tenants whose
# slugs start with prefix.
script() {
    cat > "$work/$1.sql" <<SQL
\set t random(1, $tenants)
BEGIN;
SELECT set_config('tenancy.actor', 'writer', true), set_config('tenancy.tenant', '$3' || :t, true);
INSERT INTO rows_$2 (amount, note) VALUES (:t, 'new');
END;
SQL
}
script free free t; script limited limited t; script timed free u
sql "SELECT count(*) FROM pg_trigger WHERE tgname = 'tenancy_row_count' AND tgrelid = 'rows_limited'::regclass" |
    grep -qx 1 || { echo "lifecycle: the limited table has no counting trigger"; exit 1; }

# Prints the TPS of one pgbench run of a variant.
tps() {
    PGUSER=lifecycle_bench_service PGPASSWORD=bench pgbench -n -M prepared -c 2 -j 2 -T "$duration" \
        -f "$work/$1.sql" "$database" 2>&1 | awk '/^tps = / { print $3 }'
}
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
# Runs a variant against the free baseline, alternating which goes first,
# and prints the median TPS of each and the median per-round ratio.
compare() {
    local variant=$1 title=$2 ratios=() base_tps=() variant_tps=() b v
    for round in $(seq "$rounds"); do
        if [ $((round % 2)) = 1 ]; then b=$(tps free); v=$(tps "$variant"); else v=$(tps "$variant"); b=$(tps free); fi
        base_tps+=("$b"); variant_tps+=("$v")
        ratios+=("$(awk -v a="$v" -v b="$b" 'BEGIN { printf "%.3f", a / b }')")
    done
    echo "$title"
    printf '  %.0f vs %.0f TPS: %s (range %s..%s)\n' "$(median "${variant_tps[@]}")" "$(median "${base_tps[@]}")" \
        "$(median "${ratios[@]}")" "$(printf '%s\n' "${ratios[@]}" | sort -g | head -1)" \
        "$(printf '%s\n' "${ratios[@]}" | sort -g | tail -1)"
}
compare limited "row limit: single-row INSERT transactions into a table a row limit names / one no limit names"
compare timed "session settings: the same INSERTs by tenants whose plan sets statement_timeout and work_mem / by tenants whose plan sets neither"

# Purge: terminated tenants with rows in two protected tables.
sql "CREATE TABLE purge_a (id bigserial PRIMARY KEY, note text); CREATE TABLE purge_b (id bigserial PRIMARY KEY, note text);
     SELECT tenancy.protect('purge_a'), tenancy.protect('purge_b');
     SELECT count(tenancy.create_tenant('p' || n, 'Purged ' || n)) FROM generate_series(1, $purge_tenants) n;
     INSERT INTO purge_a (tenant_id, note) SELECT t.id, 'row' FROM tenancy.tenants t, generate_series(1, $purge_rows)
      WHERE t.slug LIKE 'p%';
     INSERT INTO purge_b (tenant_id, note) SELECT t.id, 'row' FROM tenancy.tenants t, generate_series(1, $purge_rows)
      WHERE t.slug LIKE 'p%';
     SELECT count(tenancy.terminate_tenant(slug, '0')) FROM tenancy.tenants WHERE slug LIKE 'p%'" >/dev/null
sql "VACUUM ANALYZE purge_a, purge_b" 
start=$(date +%s.%N)
purged=$(sql "SELECT count(*) FILTER (WHERE purged) FROM tenancy.purge_terminated()")
end=$(date +%s.%N)
left=$(sql "SELECT (SELECT count(*) FROM purge_a) + (SELECT count(*) FROM purge_b)")
awk -v s="$start" -v e="$end" -v n="$purged" -v r="$purge_rows" -v left="$left" 'BEGIN {
    printf "purge_terminated(): %d tenants with %d rows each in 2 tables in %.2f s (%.1f ms per tenant), %d rows left\n",
        n, r * 2, e - s, 1000 * (e - s) / n, left }'
dropdb --force "$database"
