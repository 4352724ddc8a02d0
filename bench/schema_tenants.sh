#!/bin/bash
# Schema-mode tenants: (1) the rate of create_tenant(..., isolation =>
# 'schema') for BENCH_SCHEMA_TENANTS (default 1,000) tenants, each getting 10
# tables from a tenant migration replayed into its new schema; (2) tenantctl
# migrate of one ALTER TABLE ... ADD COLUMN and one CREATE INDEX across all of
# them with --jobs 2; (3) a point read by primary key in a tenant's schema
# against the same read in the same table protected in row mode (200 tenants
# x 1,000 rows), pgbench alternating, median of the per-round ratios. Runs
# inside pg_virtualenv (tools/run-bench.sh) as the cluster's superuser.
set -eu
cd "$(dirname "$0")"
schema_tenants=${BENCH_SCHEMA_TENANTS:-1000}
row_tenants=200
rows=1000
duration=${BENCH_DURATION:-10}
rounds=${BENCH_ROUNDS:-5}
database=schema_bench
tenantctl=$(command -v tenantctl || echo ../cli/tenantctl)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

sql() { psql -X -q -At -v ON_ERROR_STOP=1 -d "$database" -c "$1"; }
seconds_since() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }

dropdb --if-exists --force "$database" >/dev/null 2>&1 || true
psql -X -q -d postgres -c "SET client_min_messages = warning" \
     -c "DROP ROLE IF EXISTS schema_bench_owner" -c "DROP ROLE IF EXISTS schema_bench_reader" \
     -c "CREATE ROLE schema_bench_owner LOGIN PASSWORD 'bench'" \
     -c "CREATE ROLE schema_bench_reader LOGIN PASSWORD 'bench'" >/dev/null
createdb -O schema_bench_owner "$database"
sql "CREATE EXTENSION pg_tenancy; SELECT tenancy.grant_platform_admin('schema_bench_owner')" >/dev/null
owner="dbname=$database user=schema_bench_owner password=bench"

# The tenant migrations: 10 tables with grants, then the change to migrate.
mkdir -p "$work/m/tenant"
{
    for n in $(seq -w 1 10); do
        echo "CREATE TABLE t$n (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, title text NOT NULL,"
        echo "                  amount int NOT NULL DEFAULT 0, created_at timestamptz NOT NULL DEFAULT now());"
        echo "GRANT SELECT ON t$n TO schema_bench_reader;"
    done
    echo "DO \$\$ BEGIN EXECUTE format('GRANT USAGE ON SCHEMA %I TO schema_bench_reader', current_schema()); END \$\$;"
} > "$work/m/tenant/0001_tables.sql"
"$tenantctl" -d "$owner" migrate "$work/m" >/dev/null

# (1) Create the schema tenants, one transaction each.
for n in $(seq -w 1 "$schema_tenants"); do
    echo "SELECT tenancy.create_tenant('s$n', 'Schema tenant $n', isolation => 'schema');"
done > "$work/create.sql"
started=$(date +%s.%N)
psql -X -q -v ON_ERROR_STOP=1 -d "$owner" -f "$work/create.sql" >/dev/null
elapsed=$(seconds_since "$started")
tables=$(sql "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
               WHERE n.nspname LIKE 'tenant\_s%' AND c.relkind = 'r'")
awk -v n="$schema_tenants" -v s="$elapsed" -v t="$tables" 'BEGIN {
    printf "create %d schema tenants (10 tables each from a tenant migration, %d tables in all): %.1f s, %.0f tenants/s\n", n, t, s, n / s }'

# (2) One ALTER TABLE ADD COLUMN and one CREATE INDEX in every place.
printf 'ALTER TABLE t01 ADD COLUMN note text;\nCREATE INDEX ON t01 (created_at);\n' > "$work/m/tenant/0002_note.sql"
started=$(date +%s.%N)
"$tenantctl" -d "$owner" migrate "$work/m" --jobs 2 >/dev/null
elapsed=$(seconds_since "$started")
applied=$(sql "SELECT count(*) FROM tenancy.migrations WHERE version = '0002_note.sql'")
changed=$(sql "SELECT count(*) FROM pg_attribute WHERE attname = 'note' AND attrelid::regclass::text LIKE '%t01'")
[ "$changed" = "$applied" ] || { echo "the migration changed $changed tables, not $applied" >&2; exit 1; }
printf 'tenantctl migrate --jobs 2, ADD COLUMN + CREATE INDEX in %d places: %s s (target <= 60 s)\n' "$applied" "$elapsed"

# (3) The same table in row mode: public.t01, protected, $row_tenants tenants.
sql "SELECT tenancy.protect('public.t01', audit => false)" >/dev/null
sql "SELECT count(tenancy.create_tenant('r' || lpad(n::text, 3, '0'), 'Row tenant ' || n))
       FROM generate_series(1, $row_tenants) n" >/dev/null
first=$(sql "SELECT slug FROM tenancy.tenants WHERE isolation = 'schema' ORDER BY slug LIMIT 1")
sql "INSERT INTO tenancy.memberships (tenant_id, actor, role)
     SELECT id, 'schema_bench_reader', 'viewer' FROM tenancy.tenants WHERE slug IN ('r001', '$first')" >/dev/null
sql "INSERT INTO public.t01 (tenant_id, title)
     SELECT t.id, 'row ' || n FROM tenancy.tenants t, generate_series(1, $rows) n WHERE t.isolation = 'row'
      ORDER BY n, t.slug" >/dev/null
sql "INSERT INTO tenant_$first.t01 (title) SELECT 'row ' || n FROM generate_series(1, $rows) n" >/dev/null
sql "VACUUM ANALYZE public.t01" && sql "VACUUM ANALYZE tenant_$first.t01"
row_first=$(sql "SELECT min(id) FROM public.t01 WHERE tenant_id = (SELECT id FROM tenancy.tenants WHERE slug = 'r001')")
row_ids=$(sql "SELECT array_agg(id ORDER BY id)::text FROM public.t01
                WHERE tenant_id = (SELECT id FROM tenancy.tenants WHERE slug = 'r001')")
# Row tenant r001's rows are every $row_tenants-th id: read one of them.
echo "\\set k random(0, $((rows - 1)))
SELECT title, amount FROM t01 WHERE id = $row_first + :k * $row_tenants;" > "$work/point_row.sql"
echo "\\set k random(1, $rows)
SELECT title, amount FROM t01 WHERE id = :k;" > "$work/point_schema.sql"
[ "$(sed 's/[{}]//g' <<<"$row_ids" | tr , '\n' | awk -v f="$row_first" -v s="$row_tenants" '$1 != f + (NR - 1) * s' | wc -l)" = 0 ] ||
    { echo "row tenant r001's ids are not every ${row_tenants}th: the benchmark would read other rows" >&2; exit 1; }

# Prints the TPS of one pgbench run of a point read as the reader.
point_tps() {
    local options="-c tenancy.tenant=r001"
    [ "$1" = schema ] && options="-c tenancy.tenant=$first -c search_path=tenant_$first,public"
    PGOPTIONS="$options" PGUSER=schema_bench_reader PGPASSWORD=bench pgbench -n -M prepared -c 2 -j 2 \
        -T "$duration" -f "$work/point_$1.sql" "$database" 2>&1 |
        awk '/^tps = / { print $3 } /ERROR|error:/ { print "pgbench: " $0 > "/dev/stderr" }'
}
# Checks that each read finds exactly one row of its own tenant.
found=$(PGOPTIONS="-c tenancy.tenant=$first -c search_path=tenant_$first,public" PGUSER=schema_bench_reader \
        PGPASSWORD=bench psql -X -At -d "$database" -c "SELECT count(*) FROM t01")
[ "$found" = "$rows" ] || { echo "the schema tenant's reader sees $found rows, not $rows" >&2; exit 1; }
found=$(PGOPTIONS="-c tenancy.tenant=r001" PGUSER=schema_bench_reader PGPASSWORD=bench \
        psql -X -At -d "$database" -c "SELECT count(*) FROM t01")
[ "$found" = "$rows" ] || { echo "the row tenant's reader sees $found rows, not $rows" >&2; exit 1; }

schema=() row=() ratios=()
for round in $(seq "$rounds"); do
    if [ $((round % 2)) = 1 ]; then s=$(point_tps schema); r=$(point_tps row)
    else r=$(point_tps row); s=$(point_tps schema); fi
    schema+=("$s"); row+=("$r"); ratios+=("$(awk -v a="$s" -v b="$r" 'BEGIN { printf "%.3f", a / b }')")
done
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
printf 'point read, schema mode / row mode (RLS): %.0f / %.0f tps = %s (%s..%s) (target >= 1.0)\n' \
    "$(median "${schema[@]}")" "$(median "${row[@]}")" "$(median "${ratios[@]}")" \
    "$(printf '%s\n' "${ratios[@]}" | sort -g | head -1)" "$(printf '%s\n' "${ratios[@]}" | sort -g | tail -1)"
dropdb --force "$database"
