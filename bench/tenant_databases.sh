#!/bin/bash
# Database-mode tenants: (1) create_tenant(..., isolation => 'database') for
# BENCH_DATABASE_TENANTS (default 100) tenants, each getting 10 tables from a
# tenant migration replayed into its new database, against the floor of a
# plain CREATE DATABASE of as many databases in the same run; (2) tenantctl
# migrate of one ALTER TABLE ... ADD COLUMN and one CREATE INDEX across all of
# them with --jobs 2. Runs inside pg_virtualenv (tools/run-bench.sh) as the
# cluster's superuser.
set -eu
cd "$(dirname "$0")"
tenants=${BENCH_DATABASE_TENANTS:-100}
database=database_bench
tenantctl=$(command -v tenantctl || echo ../cli/tenantctl)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

sql() { psql -X -q -At -v ON_ERROR_STOP=1 -d "$database" -c "$1"; }
seconds_since() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }'; }
drop_all() {
    for d in $(psql -X -At -d postgres -c "SELECT datname FROM pg_database WHERE datname LIKE 'tenant\_d%' OR datname LIKE 'plain\_%'"); do
        dropdb --force "$d"
    done
}

dropdb --if-exists --force "$database" >/dev/null 2>&1 || true
drop_all
psql -X -q -d postgres -c "SET client_min_messages = warning" -c "DROP ROLE IF EXISTS database_bench_owner" \
     -c "CREATE ROLE database_bench_owner LOGIN PASSWORD 'bench'" >/dev/null
createdb -O database_bench_owner "$database"
sql "CREATE EXTENSION pg_tenancy; SELECT tenancy.grant_platform_admin('database_bench_owner')" >/dev/null
owner="dbname=$database user=database_bench_owner password=bench"

mkdir -p "$work/m/tenant"
for n in $(seq -w 1 10); do
    echo "CREATE TABLE t$n (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, title text NOT NULL,"
    echo "                  created_at timestamptz NOT NULL DEFAULT now());"
done > "$work/m/tenant/0001_tables.sql"
"$tenantctl" -d "$owner" migrate "$work/m" >/dev/null

# (1) The floor: plain CREATE DATABASE, one after another.
started=$(date +%s.%N)
for n in $(seq -w 1 "$tenants"); do psql -X -q -d postgres -c "CREATE DATABASE plain_$n"; done
plain=$(seconds_since "$started")
for n in $(seq -w 1 "$tenants"); do
    echo "SELECT tenancy.create_tenant('d$n', 'Database tenant $n', isolation => 'database');"
done > "$work/create.sql"
started=$(date +%s.%N)
psql -X -q -v ON_ERROR_STOP=1 -d "$owner" -f "$work/create.sql" >/dev/null
elapsed=$(seconds_since "$started")
awk -v n="$tenants" -v s="$elapsed" -v p="$plain" 'BEGIN {
    printf "create %d database tenants (10 tables each from a tenant migration): %.1f s, %.1f tenants/s; plain CREATE DATABASE: %.1f s; ratio %.2f\n", n, s, n / s, p, s / p }'

# (2) One ALTER TABLE ADD COLUMN and one CREATE INDEX in every tenant database.
printf 'ALTER TABLE t01 ADD COLUMN note text;\nCREATE INDEX ON t01 (created_at);\n' > "$work/m/tenant/0002_note.sql"
started=$(date +%s.%N)
"$tenantctl" -d "$owner" migrate "$work/m" --jobs 2 >/dev/null
elapsed=$(seconds_since "$started")
echo "tenantctl migrate (ADD COLUMN + CREATE INDEX) across $tenants tenant databases, --jobs 2: $elapsed s"

sql "SELECT count(*) FROM tenancy.tenant_list()" >/dev/null
for n in $(seq -w 1 "$tenants"); do echo "SELECT tenancy.drop_tenant('d$n');"; done | psql -X -q -d "$owner" >/dev/null
sleep 2
drop_all
dropdb --force "$database"
