#!/bin/bash
# tenantctl migrate against a real server, with schema-mode tenants: shared
# migrations once, tenant migrations in the shared schemas and in every
# tenant schema, --jobs, --dry-run, --json, --tenant, --shared; a changed
# file refused; a failing tenant reported with the server's error while the
# others go on (exit 1); kill -9 in the middle of a run and a resume that
# applies nothing twice; a tenant created afterwards gets every migration;
# tenantctl tenant move both ways; tenantctl psql lands in the tenant's
# schema. Writes "passed failed" into the file named by $1.
set -u
cd "$(dirname "$0")"
. ../lib.sh
summary=$1
tenantctl=$(command -v tenantctl || echo ../../cli/tenantctl)
database=migrate_test
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Runs SQL as the superuser; prints unaligned values.
sql() {
    psql -X -q -At -v ON_ERROR_STOP=1 -d "$database" -c "$1"
}

# Runs tenantctl as the migration role; sets $out (stdout and stderr) and $code.
ctl() {
    out=$("$tenantctl" -d "dbname=$database user=migrate_owner password=tenancy-test" "$@" 2>&1); code=$?
}

# check DESCRIPTION EXPECTED_CODE PATTERN -- tenantctl args
check() {
    local description=$1 expected=$2 pattern=$3; shift 4
    ctl "$@"
    if [ "$code" = "$expected" ] && grep -qE -- "$pattern" <<<"$out"; then result ok "$description"
    else result failed "$description" "exit $code (expected $expected), output:
$out"; fi
}

dropdb --if-exists --force "$database" >/dev/null 2>&1
psql -X -q -d postgres -c "SET client_min_messages = warning" -c "DROP ROLE IF EXISTS migrate_owner" -c "CREATE ROLE migrate_owner LOGIN PASSWORD 'tenancy-test'" >/dev/null
createdb -O migrate_owner "$database"
sql "CREATE EXTENSION pg_tenancy; SELECT tenancy.grant_platform_admin('migrate_owner')" >/dev/null
for t in t01 t02 t03 t04 t05 t06; do
    sql "SELECT tenancy.create_tenant('$t', 'Tenant $t', isolation => 'schema')" >/dev/null
done
sql "SELECT tenancy.create_tenant('rows', 'Row tenant')" >/dev/null

dir=$work/migrations
mkdir -p "$dir/shared" "$dir/tenant"
echo "CREATE TABLE public.plans (name text PRIMARY KEY);" > "$dir/shared/0001_plans.sql"
echo "CREATE TABLE todo (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, title text NOT NULL);" \
    > "$dir/tenant/0001_todo.sql"

check "a dry run lists what would run" 0 "would apply 0001_todo.sql to tenant t06" -- migrate "$dir" --dry-run
expect "a dry run runs nothing" "0" "$(sql "SELECT count(*) FROM tenancy.migrations")"
check "migrate applies shared and tenant migrations with --jobs 2" 0 \
    "8 places, 0 up to date, 8 migrations applied, 0 failed" -- migrate "$dir" --jobs 2
expect "one table per tenant schema and one for row-mode tenants" "7" \
    "$(sql "SELECT count(*) FROM pg_class WHERE relname = 'todo' AND relkind = 'r'")"
expect "the ledger holds every place with a duration" "8|8" \
    "$(sql "SELECT count(*), count(duration) FROM tenancy.migrations")"
check "a second run applies nothing" 0 "8 places, 8 up to date, 0 migrations applied" -- migrate "$dir"
check "--json prints a summary" 0 '"places":8,"up_to_date":8,"applied":0,"failed":0' -- --json migrate "$dir"

# A changed file is refused in every place it ran, and nothing runs.
cp "$dir/tenant/0001_todo.sql" "$work/saved.sql"
echo "-- edited" >> "$dir/tenant/0001_todo.sql"
check "a changed migration is refused" 1 "tenant t01: 0001_todo.sql: migration 0001_todo.sql was changed" -- migrate "$dir"
cp "$work/saved.sql" "$dir/tenant/0001_todo.sql"

# A migration that fails in one tenant: reported, the others go on, exit 1.
sql "SELECT tenancy.enter('t03'); ALTER TABLE todo ADD COLUMN blocker int" >/dev/null
echo "ALTER TABLE todo ADD COLUMN blocker text;" > "$dir/tenant/0002_blocker.sql"
check "one tenant's failure is reported with the server's error" 1 \
    'tenant t03: 0002_blocker.sql: column "blocker" of relation "todo" already exists \(SQLSTATE 42701\)' -- migrate "$dir" --jobs 2
expect "the other places got the migration" "6" \
    "$(sql "SELECT count(*) FROM tenancy.migrations WHERE version = '0002_blocker.sql'")"
sql "SELECT tenancy.enter('t03'); ALTER TABLE todo DROP COLUMN blocker" >/dev/null
check "--tenant migrates that tenant only" 0 "1 places, 0 up to date, 1 migrations applied" -- migrate "$dir" --tenant t03
check "--tenant of a row-mode tenant means the shared schemas" 0 "1 places, 1 up to date" -- migrate "$dir" --tenant rows
check "--shared runs the shared migrations only" 0 "1 places, 1 up to date" -- migrate "$dir" --shared
check "an unknown tenant is refused" 1 'tenant "nope" does not exist' -- migrate "$dir" --tenant nope
sql "CREATE ROLE migrate_stranger LOGIN PASSWORD 'tenancy-test'" >/dev/null 2>&1
out=$("$tenantctl" -d "dbname=$database user=migrate_stranger password=tenancy-test" migrate "$dir" 2>&1); code=$?
if [ "$code" = 1 ] && grep -q "permission denied to list the places of migrations" <<<"$out"; then result ok "a stranger cannot migrate"
else result failed "a stranger cannot migrate" "exit $code: $out"; fi

# kill -9 in the middle of a run: what committed stays, the rest runs on
# the next run, nothing twice.
cat > "$dir/tenant/0003_slow.sql" <<'SQL'
ALTER TABLE todo ADD COLUMN due date;
SELECT pg_sleep(0.4);
SQL
"$tenantctl" -d "dbname=$database user=migrate_owner password=tenancy-test" migrate "$dir" --jobs 1 >/dev/null 2>&1 &
pid=$!
for i in $(seq 100); do
    [ "$(sql "SELECT count(*) FROM tenancy.migrations WHERE version = '0003_slow.sql'")" -ge 2 ] && break
    sleep 0.05
done
kill -9 "$pid"; wait "$pid" 2>/dev/null
sleep 0.5
done_before=$(sql "SELECT count(*) FROM tenancy.migrations WHERE version = '0003_slow.sql'")
if [ "$done_before" -ge 1 ] && [ "$done_before" -lt 7 ]; then result ok "kill -9 stopped the run half way ($done_before of 7)"
else result failed "kill -9 stopped the run half way" "$done_before of 7 done"; fi
check "the run resumes where it stopped" 0 "0 failed" -- migrate "$dir" --jobs 2
expect "every place has it once, and the column once" "7|7|7" \
    "$(sql "SELECT count(*), count(DISTINCT coalesce(tenant_id::text, '')), (SELECT count(*) FROM pg_attribute WHERE attname = 'due' AND attrelid IN (SELECT oid FROM pg_class WHERE relname = 'todo'))
              FROM tenancy.migrations WHERE version = '0003_slow.sql'")"

# A tenant created now is ready: every tenant migration already applied.
sql "SELECT tenancy.create_tenant('late', 'Late', isolation => 'schema')" >/dev/null
expect "a new tenant gets every migration" "0001_todo.sql,0002_blocker.sql,0003_slow.sql|t" \
    "$(sql "SELECT string_agg(version, ',' ORDER BY version), bool_and(applied_by = 'migrate_owner') FROM tenancy.migrations m JOIN tenancy.tenants t ON t.id = m.tenant_id WHERE t.slug = 'late'")"
expect "its table has every column" "id,title,blocker,due" \
    "$(sql "SELECT string_agg(attname, ',' ORDER BY attnum) FROM pg_attribute WHERE attrelid = 'tenant_late.todo'::regclass AND attnum > 0 AND NOT attisdropped")"
check "and the next run finds it up to date" 0 "9 places, 9 up to date" -- migrate "$dir"
check "a run that applies nothing refreshes nothing" 0 "9 up to date, 0 migrations applied, 0 failed, in [0-9.e-]* s$" -- migrate "$dir"

# A union view over the tenants' table follows the migrations' columns: the
# run refreshes it.
sql "CREATE SCHEMA reports AUTHORIZATION migrate_owner" >/dev/null
psql -X -q -At -d "dbname=$database user=migrate_owner password=tenancy-test" \
    -c "SELECT tenancy.union_view('reports.all_todo', 'todo')" >/dev/null
sql "SELECT tenancy.enter('t01'); INSERT INTO todo (title) VALUES ('first')" >/dev/null
echo "ALTER TABLE todo ADD COLUMN done boolean NOT NULL DEFAULT false;" > "$dir/tenant/0004_done.sql"
check "a run refreshes the union views" 0 "8 migrations applied, 0 failed, in .*; 1 union views refreshed" -- migrate "$dir" --jobs 2
expect "the union view has the new column" "tenant_id,id,title,blocker,due,done" \
    "$(sql "SELECT string_agg(attname, ',' ORDER BY attnum) FROM pg_attribute WHERE attrelid = 'reports.all_todo'::regclass AND attnum > 0")"
expect "and shows t01's row with it" "t01|first|f" \
    "$(sql "SELECT t.slug, v.title, v.done FROM reports.all_todo v JOIN tenancy.tenants t ON t.id = v.tenant_id")"

# tenantctl tenant move: the row-mode tenant into a schema of its own (the
# union view shows it then), and t01 out of its schema into the protected
# table.
sql "SELECT tenancy.protect('public.todo')" >/dev/null
sql "INSERT INTO public.todo (title, tenant_id) SELECT 'row ' || g, t.id FROM tenancy.tenants t, generate_series(1, 2) g WHERE t.slug = 'rows'" >/dev/null
check "tenant move copies, verifies and switches" 0 \
    "moved tenant rows from row to schema mode \(tenant_rows\): 1 table, 2 rows copied, counts and checksums verified" \
    -- tenant move rows --isolation schema
expect "its rows are in its schema and the union view" "row 1,row 2|0|row 1,row 2" \
    "$(sql "SELECT (SELECT string_agg(title, ',' ORDER BY id) FROM tenant_rows.todo), (SELECT count(*) FROM public.todo),
                   (SELECT string_agg(v.title, ',' ORDER BY v.id) FROM reports.all_todo v JOIN tenancy.tenants t ON t.id = v.tenant_id WHERE t.slug = 'rows')")"
check "moving it to the mode it is in is refused" 1 'tenant "rows" is already in schema mode' -- tenant move rows --isolation schema
check "tenant move --json prints what moved" 0 '"from": "schema".*"rows": 1.*"target": "public.todo"' -- --json tenant move t01 --isolation row
expect "t01's row is in the protected table, its schema gone" "first|0" \
    "$(sql "SELECT (SELECT string_agg(d.title, ',') FROM public.todo d JOIN tenancy.tenants t ON t.id = d.tenant_id WHERE t.slug = 't01'),
                   (SELECT count(*) FROM pg_namespace WHERE nspname = 'tenant_t01')")"

# tenantctl psql opens a schema tenant's schema first.
out=$("$tenantctl" -d "dbname=$database user=migrate_owner password=tenancy-test" psql t02 -- -At -c "SHOW search_path" 2>&1)
expect "tenantctl psql lands in the tenant's schema" 'tenant_t02, "$user", public' "$out"

dropdb --force "$database" >/dev/null 2>&1
psql -X -q -d postgres -c "DROP ROLE IF EXISTS migrate_owner" -c "DROP ROLE IF EXISTS migrate_stranger" >/dev/null
echo "$passed $failed" > "$summary"
