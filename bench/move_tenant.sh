#!/bin/bash
# Moving a tenant between modes: tenancy.move_tenant() of one tenant with
# BENCH_MOVE_ROWS rows (default 200,000 items and a tenth as many lists,
# referred to by the items) from row to schema mode and back, among 50 other
# tenants of 1,000 rows, against the same copy written by hand in the same
# run (INSERT ... SELECT into the new tables and DELETE or DROP SCHEMA of the
# old copy in one transaction, without waiting for writers or verifying;
# rolled back). Prints seconds, rows/s and the ratio. Runs inside
# pg_virtualenv (tools/run-bench.sh) as the cluster's superuser.
set -eu
cd "$(dirname "$0")"
rows=${BENCH_MOVE_ROWS:-200000}
database=move_bench

sql() { psql -X -q -At -v ON_ERROR_STOP=1 -d "$database" -c "$1"; }
seconds_since() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }'; }
# Runs a file of SQL and prints how long it took.
timed() {
    local started
    started=$(date +%s.%N)
    psql -X -q -v ON_ERROR_STOP=1 -d "$database" -f "$1" >/dev/null
    seconds_since "$started"
}

dropdb --if-exists --force "$database" >/dev/null 2>&1 || true
psql -X -q -d postgres -c "SET client_min_messages = warning" -c "DROP ROLE IF EXISTS move_bench_owner" \
     -c "CREATE ROLE move_bench_owner LOGIN PASSWORD 'bench'" >/dev/null
createdb -O move_bench_owner "$database"
sql "CREATE EXTENSION pg_tenancy; SELECT tenancy.grant_platform_admin('move_bench_owner');
     GRANT CREATE ON SCHEMA public TO move_bench_owner" >/dev/null
psql -X -q -v ON_ERROR_STOP=1 -d "dbname=$database user=move_bench_owner password=bench" <<'SQL' >/dev/null
BEGIN;
SELECT tenancy.start_migration('tenant', NULL, '0001_items.sql', repeat('a', 64), $m$
    CREATE TABLE lists (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name text NOT NULL);
    CREATE TABLE items (id bigserial PRIMARY KEY, list_id bigint NOT NULL REFERENCES lists, title text NOT NULL,
                        amount numeric(12,2), done boolean NOT NULL DEFAULT false,
                        created_at timestamptz NOT NULL DEFAULT now());
    CREATE INDEX ON items (list_id);
$m$);
CREATE TABLE public.lists (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name text NOT NULL);
CREATE TABLE public.items (id bigserial PRIMARY KEY, list_id bigint NOT NULL REFERENCES public.lists, title text NOT NULL,
                           amount numeric(12,2), done boolean NOT NULL DEFAULT false,
                           created_at timestamptz NOT NULL DEFAULT now());
CREATE INDEX ON public.items (list_id);
SELECT tenancy.finish_migration('tenant', NULL, '0001_items.sql');
COMMIT;
SQL
sql "SELECT tenancy.protect('public.lists'); SELECT tenancy.protect('public.items')" >/dev/null
sql "SELECT tenancy.create_tenant('big', 'Big'); SELECT tenancy.create_tenant('hand', 'Hand', isolation => 'schema');
     SELECT tenancy.create_tenant('o' || g, 'Other ' || g) FROM generate_series(1, 50) g" >/dev/null
sql "INSERT INTO public.lists (name, tenant_id)
     SELECT 'list ' || g, t.id FROM tenancy.tenants t, generate_series(1, greatest($rows / 10, 1)) g WHERE t.slug = 'big';
     INSERT INTO public.items (list_id, title, amount, tenant_id)
     SELECT l.id, 'item ' || g, g * 0.01, l.tenant_id
       FROM (SELECT l.*, row_number() OVER (ORDER BY l.id) AS n FROM public.lists l) l,
            generate_series(1, 10) g
      WHERE l.tenant_id = (SELECT id FROM tenancy.tenants WHERE slug = 'big') AND (l.n - 1) * 10 + g <= $rows;
     INSERT INTO public.lists (name, tenant_id) SELECT 'list', t.id FROM tenancy.tenants t WHERE t.slug LIKE 'o%';
     INSERT INTO public.items (list_id, title, tenant_id)
     SELECT l.id, 'other ' || g, l.tenant_id FROM public.lists l, generate_series(1, 1000) g WHERE l.name = 'list'" >/dev/null
sql "VACUUM ANALYZE" >/dev/null
moved=$(sql "SELECT (SELECT count(*) FROM public.items i JOIN tenancy.tenants t ON t.id = i.tenant_id WHERE t.slug = 'big')
              + (SELECT count(*) FROM public.lists l JOIN tenancy.tenants t ON t.id = l.tenant_id WHERE t.slug = 'big')")
big=$(sql "SELECT id FROM tenancy.tenants WHERE slug = 'big'")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Row to schema: by hand into tenant_hand (rolled back), then move_tenant().
cat > "$work/hand_to_schema.sql" <<SQL
BEGIN;
SET LOCAL tenancy.tenant = 'hand';
INSERT INTO tenant_hand.lists (id, name) OVERRIDING SYSTEM VALUE
SELECT id, name FROM public.lists WHERE tenant_id = '$big';
INSERT INTO tenant_hand.items (id, list_id, title, amount, done, created_at)
SELECT id, list_id, title, amount, done, created_at FROM public.items WHERE tenant_id = '$big';
DELETE FROM public.items WHERE tenant_id = '$big';
DELETE FROM public.lists WHERE tenant_id = '$big';
ROLLBACK;
SQL
echo "SELECT tenancy.move_tenant('big', 'schema');" > "$work/to_schema.sql"
hand=$(timed "$work/hand_to_schema.sql")
tool=$(timed "$work/to_schema.sql")
awk -v n="$moved" -v h="$hand" -v t="$tool" 'BEGIN {
    printf "move_tenant row -> schema, %d rows: %.2f s (%.0f rows/s); by hand: %.2f s; ratio %.2f\n", n, t, n / t, h, t / h }'

# Schema to row: by hand back into the protected tables (rolled back), then
# move_tenant().
cat > "$work/hand_to_row.sql" <<SQL
BEGIN;
SET LOCAL tenancy.tenant = 'big';
CREATE TEMPORARY TABLE lists_copy AS SELECT * FROM tenant_big.lists;
CREATE TEMPORARY TABLE items_copy AS SELECT * FROM tenant_big.items;
UPDATE tenancy.tenants SET isolation = 'row', schema_name = NULL WHERE slug = 'big';
INSERT INTO public.lists (id, name, tenant_id) OVERRIDING SYSTEM VALUE SELECT id, name, '$big' FROM lists_copy;
INSERT INTO public.items (id, list_id, title, amount, done, created_at, tenant_id)
SELECT id, list_id, title, amount, done, created_at, '$big' FROM items_copy;
DROP SCHEMA tenant_big CASCADE;
ROLLBACK;
SQL
echo "SELECT tenancy.move_tenant('big', 'row');" > "$work/to_row.sql"
hand=$(PGOPTIONS="-c client_min_messages=warning" timed "$work/hand_to_row.sql")
tool=$(timed "$work/to_row.sql")
awk -v n="$moved" -v h="$hand" -v t="$tool" 'BEGIN {
    printf "move_tenant schema -> row, %d rows: %.2f s (%.0f rows/s); by hand: %.2f s; ratio %.2f\n", n, t, n / t, h, t / h }'
left=$(sql "SELECT count(*) FROM public.items")
echo "rows in public.items after both moves: $left (expected $(( rows + 50000 )))"
dropdb --force "$database"
psql -X -q -d postgres -c "DROP ROLE move_bench_owner" >/dev/null
