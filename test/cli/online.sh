#!/bin/bash
# Adopting tables that hold rows, through tenantctl against a real server:
# protect --backfill/--backfill-from, protect --online while two pgbench
# clients keep writing (no row lost, none without a tenant, isolation
# afterwards, no writer refused), and kill -9 of tenantctl at each step
# (and of the server's backend in the middle of a batch and of CREATE INDEX
# CONCURRENTLY), each followed by a resumed run. Writes "passed failed" into
# the file named by $1.
set -u
cd "$(dirname "$0")"
. ../lib.sh
summary=$1
tenantctl=$(command -v tenantctl || echo ../../cli/tenantctl)
database=online_test
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Runs SQL as the superuser; prints unaligned values.
sql() {
    psql -X -q -At -v ON_ERROR_STOP=1 -d "$database" -c "$1"
}

# Runs tenantctl; sets $out (stdout and stderr) and $code.
ctl() {
    out=$("$tenantctl" -d "dbname=$database" "$@" 2>&1); code=$?
}

# check DESCRIPTION EXPECTED_CODE PATTERN -- tenantctl args
check() {
    local description=$1 expected=$2 pattern=$3; shift 4
    ctl "$@"
    if [ "$code" = "$expected" ] && grep -qE -- "$pattern" <<<"$out"; then result ok "$description"
    else result failed "$description" "exit $code (expected $expected), output:
$out"; fi
}

# Waits until SQL returns t (up to 30 s).
wait_until() {
    local i
    for i in $(seq 300); do
        [ "$(sql "$1")" = t ] && return 0
        sleep 0.1
    done
    return 1
}

# Starts a session that holds what SQL takes, in an open transaction.
start_blocker() {
    PGAPPNAME=blocker psql -X -q -d "$database" -c "BEGIN" -c "$1" -c "SELECT pg_sleep(120)" >/dev/null 2>&1 &
    wait_until "SELECT EXISTS (SELECT FROM pg_stat_activity WHERE application_name = 'blocker'
                                AND query LIKE 'SELECT pg_sleep%')"
}

# Ends the blocking session.
release_blocker() {
    sql "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = 'blocker'" >/dev/null
    wait_until "SELECT NOT EXISTS (SELECT FROM pg_stat_activity WHERE application_name = 'blocker')"
}

# Starts tenantctl protect --online in the background, waits until it waits
# for a lock, and kills it with SIGKILL (the step's transaction, left open,
# is rolled back when its server backend finds the client gone).
kill_while_waiting() {
    local table=$1 pid
    "$tenantctl" -d "dbname=$database" protect "$table" --online --lock-timeout 60s --batch-rows 5000 \
        >"$work/killed.log" 2>&1 &
    pid=$!
    if ! wait_until "SELECT EXISTS (SELECT FROM pg_stat_activity WHERE application_name = 'tenantctl'
                                     AND wait_event_type = 'Lock')"; then
        kill -9 "$pid" 2>/dev/null
        return 1
    fi
    kill -9 "$pid"
    wait "$pid" 2>/dev/null
    return 0
}

# Waits until the backend of a killed tenantctl has ended.
wait_for_tenantctl_gone() {
    wait_until "SELECT NOT EXISTS (SELECT FROM pg_stat_activity WHERE application_name = 'tenantctl')"
}

# The step the table's job has reached ("none" once it is gone).
job_step() {
    sql "SELECT coalesce((SELECT step || ' pass ' || pass FROM tenancy.protect_jobs WHERE relid = '$1'::regclass), 'none')"
}

# Checks that a table protected online kept every row, each of an existing
# tenant, with exactly one valid tenant_id index and nothing left over.
check_protected() {
    local table=$1 rows=$2 state
    state=$(sql "SET row_security = off;
        SELECT (SELECT count(*) FROM $table) || ' rows, '
            || (SELECT count(*) FROM $table t WHERE NOT EXISTS (SELECT FROM tenancy.tenants x WHERE x.id = t.tenant_id))
            || ' orphans, ' || (SELECT count(*) FROM tenancy.protected_tables WHERE relid = '$table'::regclass)
            || ' protected, ' || (SELECT count(*) FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid
                                     AND a.attnum = i.indkey[0] WHERE i.indrelid = '$table'::regclass
                                     AND a.attname = 'tenant_id') || ' tenant index, '
            || (SELECT count(*) FROM pg_index WHERE indrelid = '$table'::regclass AND NOT indisvalid) || ' invalid, '
            || (SELECT count(*) FROM pg_constraint WHERE conrelid = '$table'::regclass AND conname LIKE 'tenancy%')
            || ' temporary constraints, '
            || (SELECT count(*) FROM pg_trigger WHERE tgrelid = '$table'::regclass AND tgname = 'tenancy_backfill')
            || ' backfill trigger'" 2>&1)
    expect "$3" "$rows rows, 0 orphans, 1 protected, 1 tenant index, 0 invalid, 0 temporary constraints, 0 backfill trigger" "$state"
}

dropdb --if-exists --force "$database" >/dev/null 2>&1
createdb "$database"
sql "CREATE EXTENSION pg_tenancy" >/dev/null
for role in online_writer online_globex; do
    sql "DO \$\$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$role') THEN
           CREATE ROLE $role LOGIN PASSWORD 'online'; END IF; END \$\$"
done
sql "SELECT tenancy.create_tenant('acme', 'Acme', owner => 'online_writer'),
            tenancy.create_tenant('globex', 'Globex', owner => 'online_globex')" >/dev/null

# Backfill without --online: an expression over the row (here the org's
# slug), rows it cannot place reported, then a tenant for the rest.
sql "CREATE TABLE legacy (id int PRIMARY KEY, org text);
     INSERT INTO legacy SELECT g, (ARRAY['acme', 'globex', 'ghost'])[1 + g % 3] FROM generate_series(1, 30) g"
check "protect --backfill-from reports rows it cannot place, and changes nothing" 1 \
    "cannot place 10 rows of table public.legacy in a tenant" -- protect legacy --backfill-from org
expect "the refused backfill left no tenant_id column" "0" \
    "$(sql "SELECT count(*) FROM pg_attribute WHERE attrelid = 'legacy'::regclass AND attname = 'tenant_id'")"
check "protect --backfill-from --backfill places every row" 0 "^protected legacy" -- \
    protect legacy --backfill-from org --backfill globex
expect "rows went to the org's tenant, the rest to the backfill tenant" "acme|10
globex|20" "$(sql "SET row_security = off; SELECT t.slug, count(*) FROM legacy l JOIN tenancy.tenants t ON t.id = l.tenant_id
                   GROUP BY 1 ORDER BY 1")"
check "online options need --online" 2 "apply to --online only" -- protect legacy --unassigned backfill
check "an unknown backfill tenant is refused" 1 'tenant "nope" does not exist' -- \
    protect legacy --online --backfill nope

# Online, while two clients keep writing: each transaction selects tenant
# acme, inserts an order and updates an existing acme order (even ids).
sql "CREATE TABLE orders (id bigserial PRIMARY KEY, org text NOT NULL, amount int NOT NULL);
     INSERT INTO orders (org, amount) SELECT CASE WHEN g % 2 = 0 THEN 'acme' ELSE 'globex' END, 0
       FROM generate_series(1, 200000) g;
     GRANT SELECT, INSERT, UPDATE ON orders TO online_writer, online_globex;
     GRANT USAGE ON SEQUENCE orders_id_seq TO online_writer;
     ANALYZE orders"
cat > "$work/writer.sql" <<'EOF'
\set id 2 * random(1, 100000)
BEGIN;
SET LOCAL tenancy.tenant = 'acme';
INSERT INTO orders (org, amount) VALUES ('acme', 1);
UPDATE orders SET amount = amount + 1 WHERE id = :id;
END;
EOF
PGPASSWORD=online pgbench -n -U online_writer -c 2 -j 2 -T 12 -f "$work/writer.sql" \
    "$database" >"$work/pgbench.log" 2>&1 &
writers=$!
sleep 2
ctl protect orders --online --backfill-from org --batch-rows 20000
online_code=$code; online_out=$out
wait "$writers"; writers_code=$?
inserted=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' "$work/pgbench.log")
# (Rows inserted before the column existed are backfilled too: 200,000 and more.)
if [ "$online_code" = 0 ] && grep -qE "protected orders online: (2[0-9]{2}|[3-9][0-9]{2}),[0-9]{3} rows backfilled" <<<"$online_out"; then
    result ok "protect --online under a write load backfills every row"
else result failed "protect --online under a write load backfills every row" "exit $online_code: $online_out"; fi
if [ "$writers_code" = 0 ] && [ -n "$inserted" ] && [ "$inserted" -gt 0 ]; then
    result ok "no writer was refused or failed during the online protection ($inserted transactions)"
else result failed "no writer was refused or failed during the online protection" "$(cat "$work/pgbench.log")"; fi
check_protected orders "$((200000 + ${inserted:-0}))" "no row lost, none without an existing tenant, nothing left over"
expect "isolation holds afterwards: globex sees exactly its rows" "100000|0" \
    "$(PGPASSWORD=online psql -X -q -At -U online_globex -d "$database" \
         -c "SET tenancy.tenant = 'globex'" -c "SELECT count(*), count(*) FILTER (WHERE org <> 'globex') FROM orders" 2>&1)"
expect "updates during the run kept their tenant: acme rows are acme's orders" "0" \
    "$(sql "SET row_security = off; SELECT count(*) FROM orders o JOIN tenancy.tenants t ON t.id = o.tenant_id
            WHERE t.slug <> o.org")"

# On a terminal, a progress bar: rows done/total, rate and ETA.
sql "CREATE TABLE crates (id int PRIMARY KEY, org text NOT NULL);
     INSERT INTO crates SELECT g, 'acme' FROM generate_series(1, 20000) g;
     ANALYZE crates" >/dev/null
out=$(python3 pty_session.py -- "$tenantctl" -d "dbname=$database" protect crates --online --backfill acme \
      --batch-rows 1000 2>&1); code=$?
if [ "$code" = 0 ] && grep -qE "backfill +\[#+" <<<"$out" && grep -qE "[0-9,]+/[0-9,]+ rows +[0-9,]+ rows/s +ETA" <<<"$out" \
   && grep -q "protected crates online: 20,000 rows backfilled" <<<"$out"; then
    result ok "on a terminal, protect --online shows a progress bar with rows, rate and ETA"
else result failed "on a terminal, protect --online shows a progress bar with rows, rate and ETA" "exit $code: $out"; fi

# kill -9 at each step, then resume. The job is brought to the step through
# SQL; there a session holding a conflicting lock keeps tenantctl waiting
# inside the step's transaction, which the kill aborts.
sql "CREATE TABLE parcels (id int PRIMARY KEY, org text NOT NULL);
     INSERT INTO parcels SELECT g, CASE WHEN g % 2 = 0 THEN 'acme' ELSE 'globex' END FROM generate_series(1, 50000) g;
     ANALYZE parcels" >/dev/null
sql "SELECT tenancy.protect_online('parcels', backfill_from => 'org', batch_rows => 5000)" >/dev/null

# Runs steps through psql (with the commands they hand back) until the job
# reaches the step.
advance_to() {
    local i
    for i in $(seq 100); do
        case $(job_step parcels) in "$1"*) return 0 ;; esac
        echo "SELECT command FROM tenancy.protect_online_step('parcels') \\gexec" |
            psql -X -q -At -v ON_ERROR_STOP=1 -d "$database" >/dev/null || return 1
    done
    return 1
}

start_blocker "LOCK TABLE parcels IN ACCESS SHARE MODE"
kill_while_waiting parcels; killed=$?
release_blocker
wait_for_tenantctl_gone
expect "kill -9 in step prepare: nothing of it was kept" "0 prepare pass 1" "$killed $(job_step parcels)"

advance_to backfill
start_blocker "SELECT * FROM parcels WHERE id = 3 FOR UPDATE"
kill_while_waiting parcels; killed=$?
release_blocker
wait_for_tenantctl_gone
expect "kill -9 in a backfill batch: the batch is not recorded" "0 backfill pass 1 0" \
    "$killed $(job_step parcels) $(sql "SELECT next_block FROM tenancy.protect_jobs")"

advance_to validate
start_blocker "LOCK TABLE parcels IN SHARE UPDATE EXCLUSIVE MODE"
kill_while_waiting parcels; killed=$?
release_blocker
wait_for_tenantctl_gone
expect "kill -9 in step validate" "0 validate pass 1" "$killed $(job_step parcels)"

advance_to index
start_blocker "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ; SELECT count(*) FROM pg_class"
"$tenantctl" -d "dbname=$database" protect parcels --online --lock-timeout 60s >"$work/index.log" 2>&1 &
pid=$!
wait_until "SELECT EXISTS (SELECT FROM pg_stat_activity WHERE application_name = 'tenantctl'
                            AND query LIKE 'CREATE INDEX CONCURRENTLY%' AND wait_event_type = 'Lock')"
kill -9 "$pid"; wait "$pid" 2>/dev/null
sql "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = 'tenantctl'" >/dev/null
release_blocker
wait_until "SELECT NOT EXISTS (SELECT FROM pg_stat_activity WHERE application_name = 'tenantctl')"
expect "kill -9 in CREATE INDEX CONCURRENTLY (and of its backend) leaves an invalid index" "index pass 1 1" \
    "$(job_step parcels) $(sql "SELECT count(*) FROM pg_index WHERE indrelid = 'parcels'::regclass AND NOT indisvalid")"

advance_to switch
expect "the resumed step drops the invalid index and builds it again" "0" \
    "$(sql "SELECT count(*) FROM pg_index WHERE indrelid = 'parcels'::regclass AND NOT indisvalid")"
start_blocker "LOCK TABLE parcels IN ACCESS SHARE MODE"
kill_while_waiting parcels; killed=$?
release_blocker
wait_for_tenantctl_gone
expect "kill -9 in step switch" "0 switch pass 1" "$killed $(job_step parcels)"

check "the resumed run finishes the protection" 0 "protected parcels online" -- protect parcels --online
check_protected parcels 50000 "after kill -9 at every step: every row, none without a tenant, nothing left over"
expect "the rows went to their org's tenant" "0" \
    "$(sql "SET row_security = off; SELECT count(*) FROM parcels p JOIN tenancy.tenants t ON t.id = p.tenant_id
            WHERE t.slug <> p.org")"

dropdb --force "$database" >/dev/null 2>&1
write_summary "$summary"
