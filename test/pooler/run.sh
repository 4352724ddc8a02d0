#!/bin/bash
# Connection pooler tests, run inside pg_virtualenv: a real PgBouncer in
# transaction pooling between a service role and the server. A service role's
# tenancy.tenant and tenancy.actor must be set for the transaction (SET LOCAL):
# a session-level value would stay on the pooled server connection and reach
# the next client, so it is refused when used. Each check here would fail if
# that rule did not hold. Writes "passed failed" into the file named by $1.
set -u
summary=$(realpath -m "$1")
cd "$(dirname "$0")" || exit 1
. ../pgbouncer.sh
echo "0 1" > "$summary"   # if the run dies before counting, that is a failure
tenantctl=$(command -v tenantctl || echo ../../cli/tenantctl)
pgbouncer=/usr/sbin/pgbouncer
database=pooler_test
password=pooler-test
passed=0
failed=0
bouncer_pid=""
unset PGOPTIONS
work=$(mktemp -d /tmp/pg_tenancy-pooler.XXXXXX)

# Stops PgBouncer (it holds server connections to the test database), drops
# the database and the roles, removes the temporary directory.
cleanup() {
    stop_pgbouncer
    dropdb --if-exists --force "$database" >/dev/null 2>&1
    for role in pool_app pool_alice pool_owner; do
        psql -X -q -d postgres -c "DROP ROLE IF EXISTS $role" >/dev/null 2>&1
    done
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Records one result; a failure shows what went wrong.
result() {
    if [ "$1" = ok ]; then
        passed=$((passed + 1)); echo "ok $((passed + failed)) - $2"
    else
        failed=$((failed + 1)); echo "FAILED $((passed + failed)) - $2"; sed 's/^/    /' <<<"$3" | head -60
    fi
}

finish() {
    echo "$passed $failed" > "$summary"
    exit 0
}

if [ ! -x "$pgbouncer" ]; then
    result failed "PgBouncer is installed" "$pgbouncer is missing: run tools/deps.sh (or apt-get install pgbouncer); no pooler test was run"
    finish
fi

# Runs SQL in the test database as the superuser, directly (no pooler).
sql() {
    psql -X -q -At -v ON_ERROR_STOP=1 -d "$database" "$@"
}

# Connection strings: straight to the server, and through PgBouncer.
direct() { echo "host=$PGHOST port=$PGPORT dbname=$database user=$1 password=$password"; }
bounced() { echo "host=127.0.0.1 port=$bport dbname=$1 user=$2 password=$password connect_timeout=10"; }

# tenant_of CLIENT: the tenant (1..4) of a concurrent client (1..8).
tenant_of() { echo $(( ($1 - 1) % 4 + 1 )); }

# The database: the service pool_app, the human pool_alice, the table owner
# pool_owner; tenants t_1..t_4, app user user_i@example.com a member of t_i
# only; pool.items protected, with three seed rows per tenant.
dropdb --if-exists --force "$database" >/dev/null 2>&1
createdb "$database"
if ! out=$(sql 2>&1 <<EOF
CREATE EXTENSION pg_tenancy;
DO \$\$ BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'pool_owner') THEN CREATE ROLE pool_owner; END IF;
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'pool_app') THEN CREATE ROLE pool_app; END IF;
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'pool_alice') THEN CREATE ROLE pool_alice; END IF;
END \$\$;
ALTER ROLE pool_owner LOGIN PASSWORD '$password';
ALTER ROLE pool_app LOGIN PASSWORD '$password';
ALTER ROLE pool_alice LOGIN PASSWORD '$password';
SELECT tenancy.grant_service('pool_app');
CREATE SCHEMA pool AUTHORIZATION pool_owner;
GRANT USAGE ON SCHEMA pool TO PUBLIC;
SET ROLE pool_owner;
CREATE TABLE pool.items (
    client integer NOT NULL,   -- the concurrent client that wrote it (seeds: minus the tenant number)
    txn    integer NOT NULL,   -- its transaction number
    home   text NOT NULL,      -- the tenant the writer had set: any other value read back is a leak
    PRIMARY KEY (client, txn)
);
GRANT SELECT, INSERT, UPDATE, DELETE ON pool.items TO PUBLIC;
SELECT tenancy.protect('pool.items');
RESET ROLE;
SELECT tenancy.create_tenant('t_' || i, 'Tenant ' || i, owner => 'boss_' || i || '@example.com'),
       tenancy.add_member('t_' || i, 'user_' || i || '@example.com', 'member')
  FROM generate_series(1, 4) AS i;
SELECT tenancy.add_member('t_1', 'pool_alice', 'member');
EOF
) || ! out=$(for i in 1 2 3 4; do
        echo "BEGIN; SET LOCAL tenancy.actor = 'user_$i@example.com'; SET LOCAL tenancy.tenant = 't_$i';"
        echo "INSERT INTO pool.items (client, txn, home) SELECT -$i, n, 't_$i' FROM generate_series(1, 3) AS n; COMMIT;"
    done | psql -X -q -v ON_ERROR_STOP=1 -d "$(direct pool_app)" 2>&1) ||
   [ "$(sql -c "SELECT count(*) FROM pool.items" 2>&1)" != 12 ]; then
    result failed "setup: database, roles, tenants, protected table, seed rows" "$out"
    finish
fi
result ok "setup: service pool_app, tenants t_1..t_4, protected pool.items with 3 rows per tenant"

# PgBouncer: "pooled" is transaction pooling over 2 server connections,
# "pooled_one" the same over 1 (two clients in a row surely share it),
# "pooled_session" session pooling. server_reset_query_always = 0 (the
# default): nothing cleans a server connection between transaction-pool
# clients, which is what makes a session-level SET leak.
server="host=127.0.0.1 port=$PGPORT dbname=$database"
start_pgbouncer "$work" "$password" pool_app pool_alice <<EOF
pooled = $server pool_mode=transaction pool_size=2
pooled_one = $server pool_mode=transaction pool_size=1
pooled_session = $server pool_mode=session pool_size=2
EOF
if ! out=$(psql -X -At -d "$(bounced pooled_session pool_alice)" -c "SELECT current_user" 2>&1) || [ "$out" != pool_alice ]; then
    result failed "PgBouncer $("$pgbouncer" --version | head -1) listens on 127.0.0.1:$bport" "$out
${bouncer_output:-}"
    finish
fi
result ok "PgBouncer $("$pgbouncer" --version | sed -n '1s/PgBouncer //p') listens on 127.0.0.1:$bport, forwarding to port $PGPORT"

# (a) The leak attempt: client 1 sets tenant and actor for the session (plain
# SET) and disconnects, or stays connected and idle; client 2, connecting next
# as the same service role, is given the same server connection and sets
# nothing. It must see the leaked values (otherwise the check proves
# nothing) and be refused when it reads, writes or asks for the actor.
#
# leak_check LABEL ROLE SLUG ACTOR MODE TAG
leak_check() {
    local label=$1 role=$2 slug=$3 actor=$4 mode=$5 tag=$6 client1 pid1="" stdout stderr shared=yes why
    local -a statements=("SET tenancy.tenant = '$slug'") sets=()
    [ -n "$actor" ] && statements+=("SET tenancy.actor = '$actor'")
    local statement
    for statement in "${statements[@]}"; do sets+=(-c "$statement"); done
    if [ "$mode" = disconnect ]; then
        client1=$(psql -X -q -At -d "$(bounced pooled_one "$role")" "${sets[@]}" -c "SELECT pg_backend_pid()" 2>&1)
        pid1=$(tail -1 <<<"$client1")
    else
        rm -f "$work/client1.in" "$work/client1.out"
        mkfifo "$work/client1.in"
        psql -X -q -At -d "$(bounced pooled_one "$role")" <"$work/client1.in" >"$work/client1.out" 2>&1 &
        local client1_pid=$!
        trap '' PIPE   # should client 1 die, writing to it must not kill the suite
        exec 7>"$work/client1.in"
        printf '%s;\n' "${statements[@]}" >&7
        echo "SELECT pg_backend_pid();" >&7
        for _ in $(seq 100); do
            grep -qE '^[0-9]+$' "$work/client1.out" && break
            sleep 0.1
        done
        client1=$(cat "$work/client1.out")
        pid1=$(grep -E '^[0-9]+$' <<<"$client1")
    fi
    psql -X -q -At -d "$(bounced pooled_one "$role")" -f - >"$work/client2.out" 2>"$work/client2.err" <<EOF
SELECT pg_backend_pid();
SHOW tenancy.tenant;
SELECT coalesce(current_setting('tenancy.actor', true), '');
SELECT 'LEAKED rows ' || count(*) FROM pool.items;
\\echo select :SQLSTATE
INSERT INTO pool.items (client, txn, home) VALUES (0, $tag, 'leak');
\\echo insert :SQLSTATE
SELECT 'LEAKED actor ' || tenancy.actor();
\\echo actor :SQLSTATE
EOF
    if [ "$mode" = idle ]; then
        kill -0 "$client1_pid" 2>/dev/null || { shared=no; why="client 1 did not stay connected"; }
        exec 7>&-
        wait "$client1_pid"
        trap - PIPE
    fi
    stdout=$(cat "$work/client2.out"); stderr=$(cat "$work/client2.err")
    local report="client 1 (backend pid, after SET tenancy.tenant/actor):
$client1
client 2 stdout:
$stdout
client 2 stderr:
$stderr"
    if [ "$shared" = yes ] && [ -n "$pid1" ] && [ "$(sed -n 1p <<<"$stdout")" = "$pid1" ] &&
       [ "$(sed -n 2p <<<"$stdout")" = "$slug" ] && [ "$(sed -n 3p <<<"$stdout")" = "$actor" ]; then
        result ok "$label: client 2 got client 1's server connection, SHOW tenancy.tenant = $slug left over"
    else
        shared=no
        result failed "$label: client 2 got client 1's server connection, SHOW tenancy.tenant = $slug left over" \
            "${why:-not shared: the refusals below would prove nothing}
$report"
    fi
    # refused STEP LINE DESCRIPTION GUC_PATTERN: the statement on that line of
    # client 2's script failed with 42501 and the service role's error.
    refused() {
        local step=$1 line=$2 description=$3 guc=$4
        if [ "$shared" != yes ]; then
            result failed "$label: $description" "vacuous: client 2 did not inherit client 1's session (see above)"
        elif grep -qx "$step 42501" <<<"$stdout" && ! grep -q "^LEAKED" <<<"$stdout" &&
             grep -qE "^psql:<stdin>:$line: ERROR:  tenancy\.$guc of service role \"$role\" must be set for the transaction$" <<<"$stderr"; then
            result ok "$label: $description"
        else
            result failed "$label: $description" "$report"
            report="(client 2's output: see above)"
        fi
    }
    refused select 4 "client 2's SELECT is refused: must be set for the transaction (42501)" "(tenant|actor)"
    refused insert 6 "client 2's INSERT is refused: must be set for the transaction (42501)" "(tenant|actor)"
    refused actor 8 "client 2's tenancy.actor() is refused instead of returning '$actor'" "actor"
    local inserted
    inserted=$(sql -c "SELECT count(*) FROM pool.items WHERE client = 0 AND txn = $tag" 2>&1)
    if [ "$inserted" = 0 ]; then result ok "$label: no row was inserted by client 2"
    else result failed "$label: no row was inserted by client 2" "rows with client 0, txn $tag: $inserted"; fi
}
leak_check "leak after disconnect" pool_app t_1 user_1@example.com disconnect 1
leak_check "leak from an idle client" pool_app t_2 user_2@example.com idle 2

# (b) Half session, half transaction: still refused, with a hint to SET LOCAL.
# All on "pooled_one", whose single server connection keeps the values of
# the earlier steps: RESET ALL first. The controls show that the same
# transaction with both values set for it works on the same connection.
# mixed DESCRIPTION GUC SETUP... : runs SETUP, then a transaction reading pool.items.
mixed() {
    local description=$1 guc=$2 stdout stderr; shift 2
    local script="RESET ALL;"$'\n'
    local statement
    for statement in "$@"; do script+="$statement;"$'\n'; done
    script+="SELECT 'rows ' || count(*) FROM pool.items;"$'\n'"\\echo :SQLSTATE"$'\n'"ROLLBACK;"
    stdout=$(psql -X -q -At -d "$(bounced pooled_one pool_app)" -f - 2>"$work/mixed.err" <<<"$script")
    stderr=$(cat "$work/mixed.err")
    if [ "$guc" = none ]; then
        if [ "$stdout" = $'rows 3\n00000' ] && [ -z "$stderr" ]; then result ok "$description"
        else result failed "$description" "script:
$script
stdout:
$stdout
stderr:
$stderr"; fi
    elif [ "$(tail -1 <<<"$stdout")" = 42501 ] && ! grep -q '^rows' <<<"$stdout" &&
         grep -q "ERROR:  tenancy\.$guc of service role \"pool_app\" must be set for the transaction$" <<<"$stderr" &&
         grep -q "^DETAIL:  A service role's tenancy\.$guc set for the whole session" <<<"$stderr" &&
         grep -q "^HINT:  .*SET LOCAL tenancy\.$guc = " <<<"$stderr"; then
        result ok "$description"
    else
        result failed "$description" "script:
$script
stdout:
$stdout
stderr:
$stderr"
    fi
}
mixed "tenant by plain SET, actor by SET LOCAL: refused, hint says SET LOCAL" tenant \
    "SET tenancy.tenant = 't_3'" "BEGIN" "SET LOCAL tenancy.actor = 'user_3@example.com'"
mixed "actor by plain SET, tenant by SET LOCAL: refused, hint says SET LOCAL" actor \
    "SET tenancy.actor = 'user_3@example.com'" "BEGIN" "SET LOCAL tenancy.tenant = 't_3'"
mixed "tenant by set_config(..., false), actor by set_config(..., true): refused" tenant \
    "SELECT WHERE set_config('tenancy.tenant', 't_3', false) IS NULL" "BEGIN" \
    "SELECT WHERE set_config('tenancy.actor', 'user_3@example.com', true) IS NULL"
mixed "actor by set_config(..., false), tenant by set_config(..., true): refused" actor \
    "SELECT WHERE set_config('tenancy.actor', 'user_3@example.com', false) IS NULL" "BEGIN" \
    "SELECT WHERE set_config('tenancy.tenant', 't_3', true) IS NULL"
mixed "control: both by SET LOCAL over leftover session values, the transaction reads t_3's 3 rows" none \
    "SET tenancy.tenant = 't_1'" "SET tenancy.actor = 'user_1@example.com'" "BEGIN" \
    "SET LOCAL tenancy.actor = 'user_3@example.com'" "SET LOCAL tenancy.tenant = 't_3'"
mixed "control: both by set_config(..., true), the transaction reads t_3's 3 rows" none "BEGIN" \
    "SELECT WHERE set_config('tenancy.actor', 'user_3@example.com', true) IS NULL" \
    "SELECT WHERE set_config('tenancy.tenant', 't_3', true) IS NULL"

# (c) Concurrency: 8 clients through the 2-connection transaction pool, each
# doing 50 transactions with SET LOCAL for its tenant and actor (clients k
# and k+4 share tenant t_k), inserting a row and reading the table back; at
# the same time 2 "polluting" clients keep setting session-level values on
# whatever server connection they get, and must never read or write a row.
clients=8
transactions=50
pollutions=25
for k in $(seq $clients); do
    t=$(tenant_of "$k")
    for i in $(seq $transactions); do
        cat <<EOF
BEGIN;
SET LOCAL tenancy.actor = 'user_$t@example.com';
SET LOCAL tenancy.tenant = 't_$t';
INSERT INTO pool.items (client, txn, home) VALUES ($k, $i, 't_$t');
SELECT pg_backend_pid(), count(*) FILTER (WHERE home <> 't_$t'), count(*) FILTER (WHERE client = $k),
       tenancy.current_tenant(), tenancy.actor() FROM pool.items;
COMMIT;
EOF
        echo "0|$i|t_$t|user_$t@example.com" >> "$work/expected.$k"
    done > "$work/client.$k.sql"
done
for p in 1 2; do
    for i in $(seq $pollutions); do
        cat <<EOF
SET tenancy.tenant = 't_$((p + 2))';
SET tenancy.actor = 'user_$((p + 2))@example.com';
SELECT 'LEAKED rows ' || count(*) FROM pool.items;
\\echo :SQLSTATE
INSERT INTO pool.items (client, txn, home) VALUES ($((100 + p)), $i, 't_$((p + 2))');
\\echo :SQLSTATE
EOF
    done > "$work/polluter.$p.sql"
done
started=$(date +%s%N)
declare -A running
for k in $(seq $clients); do
    psql -X -q -At -v ON_ERROR_STOP=1 -d "$(bounced pooled pool_app)" -f "$work/client.$k.sql" \
        >"$work/client.$k.out" 2>"$work/client.$k.err" &
    running[client.$k]=$!
done
for p in 1 2; do
    psql -X -q -At -d "$(bounced pooled pool_app)" -f "$work/polluter.$p.sql" \
        >"$work/polluter.$p.out" 2>"$work/polluter.$p.err" &
    running[polluter.$p]=$!
done
for name in "${!running[@]}"; do
    wait "${running[$name]}"; echo $? > "$work/$name.rc"
done
elapsed=$(awk -v t="$(( $(date +%s%N) - started ))" 'BEGIN { printf "%.1f", t / 1e9 }')

bad=""
for k in $(seq $clients); do
    got=$(cut -d'|' -f2- "$work/client.$k.out")
    if [ "$(cat "$work/client.$k.rc")" != 0 ] || [ "$got" != "$(cat "$work/expected.$k")" ]; then
        bad+="client $k (tenant t_$(tenant_of "$k")), exit $(cat "$work/client.$k.rc"):
$(paste -d' ' "$work/expected.$k" <(echo "$got") | awk '$1 != $2 { print "    want " $1 ", got " $2 }' | head -4)
$(head -5 "$work/client.$k.err")
"
    fi
done
if [ -z "$bad" ]; then
    result ok "$clients clients x $transactions SET LOCAL transactions in ${elapsed}s: each saw only its tenant's rows, its own rows, its actor"
else
    result failed "$clients clients x $transactions SET LOCAL transactions: each saw only its tenant's rows, its own rows, its actor" \
        "expected per transaction: other-tenant rows 0|own rows|tenant|actor
$bad"
fi
# Which clients each server connection (backend pid) served.
shares=$(for k in $(seq $clients); do cut -d'|' -f1 "$work/client.$k.out" | grep -E '^[0-9]+$' | sort -u | sed "s/\$/ $k/"; done |
         awk '{ n[$1]++ } END { for (p in n) print n[p] }' | sort -n | tr '\n' ' ')
if [ -n "$shares" ] && [ "$(wc -w <<<"$shares")" -le 2 ]; then
    result ok "the $clients clients shared $(wc -w <<<"$shares") server connection(s), used by: $(sed 's/ $//; s/ / and /' <<<"$shares") clients"
else
    result failed "the $clients clients shared at most 2 server connections" "clients per backend pid: $shares"
fi
bad=""
for p in 1 2; do
    codes=$(grep -E '^[0-9A-Z]{5}$' "$work/polluter.$p.out" | sort | uniq -c | awk '{ printf "%s x%s ", $2, $1 }')
    if grep -q '^LEAKED' "$work/polluter.$p.out" || grep -qx 00000 "$work/polluter.$p.out" ||
       [ "$(grep -cE '^[0-9A-Z]{5}$' "$work/polluter.$p.out")" != $((2 * pollutions)) ] ||
       ! grep -qE 'must be set for the transaction$' "$work/polluter.$p.err"; then
        bad+="polluter $p (exit $(cat "$work/polluter.$p.rc")): SQLSTATEs ${codes:-none}; reads that returned rows: $(grep -c '^LEAKED' "$work/polluter.$p.out")
$(grep -v '^DETAIL\|^HINT' "$work/polluter.$p.err" | sed 's/^psql:[^ ]*: //' | sort | uniq -c | head -5)
"
    fi
done
if [ -z "$bad" ]; then
    result ok "2 clients setting session-level values on the shared connections: all $((2 * pollutions)) reads and $((2 * pollutions)) inserts refused"
else
    result failed "2 clients setting session-level values on the shared connections: all reads and inserts refused" \
        "each SELECT and INSERT should have failed (42501 must be set for the transaction; 55000 when none was set on that connection)
$bad"
fi

# After the run, as the superuser: every row in its client's tenant, none lost.
out=$(sql 2>&1 <<EOF
SELECT count(*) FILTER (WHERE i.client > 0),
       count(*) FILTER (WHERE i.client > 0 AND t.slug IS DISTINCT FROM 't_' || ((i.client - 1) % 4 + 1)),
       count(*) FILTER (WHERE i.home IS DISTINCT FROM t.slug),
       count(DISTINCT (i.client, i.txn)) FILTER (WHERE i.client BETWEEN 1 AND $clients AND i.txn BETWEEN 1 AND $transactions)
  FROM pool.items i LEFT JOIN tenancy.tenants t ON t.id = i.tenant_id;
EOF
)
want="$((clients * transactions))|0|0|$((clients * transactions))"
if [ "$out" = "$want" ]; then
    result ok "all $((clients * transactions)) rows stored, each in its client's tenant (0 in a wrong tenant)"
else
    result failed "all $((clients * transactions)) rows stored, each in its client's tenant (0 in a wrong tenant)" \
        "rows|in a wrong tenant|home differs from tenant|distinct (client, txn): want $want, got:
$out"
fi
# Every audit row of pool.items names the client's user and the tenant.
out=$(sql 2>&1 <<EOF
WITH a AS (
    SELECT a.*, (a.new_row->>'client')::int AS client, t.slug
      FROM tenancy.audit_log a LEFT JOIN tenancy.tenants t ON t.id = a.tenant_id
     WHERE a.relid = 'pool.items'::regclass)
SELECT count(*) FILTER (WHERE client > 0 AND operation = 'INSERT'),
       count(*) FILTER (WHERE client > 0 AND (operation <> 'INSERT'
           OR actor IS DISTINCT FROM 'user_' || ((client - 1) % 4 + 1) || '@example.com'
           OR slug IS DISTINCT FROM 't_' || ((client - 1) % 4 + 1)
           OR tenant_id IS DISTINCT FROM (new_row->>'tenant_id')::uuid
           OR db_role <> 'pool_app')),
       count(*) FILTER (WHERE client IS NULL OR client <= 0),
       (SELECT count(*) FROM pool.items)
  FROM a;
EOF
)
want="$((clients * transactions))|0|12|$((clients * transactions + 12))"
if [ "$out" = "$want" ]; then
    result ok "$((clients * transactions)) audit rows, each with the client's actor and tenant (0 wrong); no audit row of a refused write"
else
    result failed "$((clients * transactions)) audit rows, each with the client's actor and tenant (0 wrong)" \
        "client inserts|wrong actor, tenant or role|seed rows|table rows: want $want, got:
$out
$(sql -c "SELECT actor, db_role, table_name, operation, new_row FROM tenancy.audit_log WHERE relid = 'pool.items'::regclass AND (new_row->>'client')::int > 0 AND actor IS DISTINCT FROM 'user_' || (((new_row->>'client')::int - 1) % 4 + 1) || '@example.com' LIMIT 5" 2>&1)"
fi

# (d) tenantctl through the session pool: it sets the tenant with a SET
# statement, which PgBouncer lets through, and not with the "options"
# startup parameter, which PgBouncer refuses (shown right after).
out=$("$tenantctl" -d "$(bounced pooled_session pool_alice)" psql t_1 -- -X -A -t \
      -c "SELECT tenancy.current_tenant()" \
      -c "SELECT count(*) FILTER (WHERE client < 0) || ' ' || count(*) FILTER (WHERE home <> 't_1') FROM pool.items" 2>&1); code=$?
if [ "$code" = 0 ] && [ "$out" = $'t_1\n3 0' ]; then
    result ok "tenantctl psql t_1 through PgBouncer's session pool: tenant t_1, its 3 seed rows, no other tenant's"
else
    result failed "tenantctl psql t_1 through PgBouncer's session pool: tenant t_1, its 3 seed rows, no other tenant's" "exit $code, output:
$out"
fi
out=$(PGOPTIONS="-c tenancy.tenant=t_1" psql -X -At -d "$(bounced pooled_session pool_alice)" -c "SELECT 1" 2>&1); code=$?
if [ "$code" != 0 ] && grep -q "unsupported startup parameter: options" <<<"$out"; then
    result ok "PgBouncer refuses the options startup parameter (PGOPTIONS), which tenantctl therefore avoids"
else
    result failed "PgBouncer refuses the options startup parameter (PGOPTIONS), which tenantctl therefore avoids" "exit $code, output:
$out"
fi

finish
