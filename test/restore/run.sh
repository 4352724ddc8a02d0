#!/bin/bash
# Backup and restore, run inside pg_virtualenv: a database where pg_tenancy
# has run for a while (test/upgrade/fill.sql, then restore/fill.sql: audit
# partitions, a removed member, a strict table, a recorded denial) goes
# through pg_dump -Fc and pg_restore --single-transaction --exit-on-error
# into a new database, and through a plain dump into psql into another. Every
# row pg_tenancy keeps must come back identical (restore/state.sql), no audit
# row may be invented on the way, and isolation, audit and denial recording
# must work in the copy. Writes "passed failed" into the file named by $1.
set -u
cd "$(dirname "$0")"
. ../lib.sh
summary=$1
source_db=restore_source
target_db=restore_target
plain_db=restore_plain
work=$(mktemp -d)

# Drops the test databases (--force: the denial collector may still be connected).
drop_databases() {
    for database in "$source_db" "$target_db" "$plain_db"; do dropdb --force --if-exists "$database" >/dev/null 2>&1; done
}
trap 'rm -rf "$work"; drop_databases' EXIT
drop_databases

# Makes one refused attempt to use a tenant and waits until it is recorded.
refuse() {
    local database=$1 role=$2 tenant=$3
    psql -X -q -d "$database" -c "SET ROLE $role" -c "SET tenancy.tenant = '$tenant'" \
         -c "SELECT count(*) FROM shop.orders" >/dev/null 2>&1
    run_psql "$database" -c "SELECT tenancy.wait_for_access_log()" >/dev/null
}

createdb "$source_db"
if ! out=$(run_psql "$source_db" -c "CREATE EXTENSION pg_tenancy" -f ../upgrade/fill.sql -f fill.sql 2>&1); then
    result failed "fill the source database" "$out"; write_summary "$summary"; exit 0
fi
refuse "$source_db" upgrade_bob acme
run_psql "$source_db" -f state.sql >"$work/source.txt" 2>&1
# The source holds what the restore must carry.
out=$(run_psql "$source_db" -At -c "SELECT (SELECT count(*) FROM tenancy.access_denials),
    (SELECT count(*) FROM pg_inherits WHERE inhparent = 'tenancy.audit_log'::regclass) > 1,
    (SELECT count(*) FROM tenancy.audit_log) > 30" 2>&1)
expect "the source has a denial, monthly audit partitions and audit rows" "1|t|t" "$out"

pg_dump -Fc -d "$source_db" -f "$work/custom.dump"
createdb "$target_db"
if out=$(pg_restore --single-transaction --exit-on-error -d "$target_db" "$work/custom.dump" 2>&1); then
    result ok "pg_restore --single-transaction --exit-on-error exits 0"
else
    result failed "pg_restore --single-transaction --exit-on-error exits 0" "$out"
fi
run_psql "$target_db" -f state.sql >"$work/target.txt" 2>&1
if out=$(diff "$work/source.txt" "$work/target.txt"); then
    result ok "every tenancy table, id sequence and protected row is identical after pg_restore"
else
    result failed "every tenancy table, id sequence and protected row is identical after pg_restore" "< source, > restored
$out"
fi

pg_dump -d "$source_db" -f "$work/plain.sql"
createdb "$plain_db"
if out=$(run_psql "$plain_db" -f "$work/plain.sql" 2>&1 >/dev/null); then
    result ok "a plain dump replays into psql with ON_ERROR_STOP"
else
    result failed "a plain dump replays into psql with ON_ERROR_STOP" "$out"
fi
run_psql "$plain_db" -f state.sql >"$work/plain.txt" 2>&1
if out=$(diff "$work/source.txt" "$work/plain.txt"); then
    result ok "every tenancy table, id sequence and protected row is identical after the plain dump"
else
    result failed "every tenancy table, id sequence and protected row is identical after the plain dump" "$out"
fi

# The restored database is protected: members see their own rows only.
out=$(run_psql "$target_db" -At -c "SET ROLE upgrade_alice" -c "SET tenancy.tenant = 'acme'" \
      -c "SELECT count(*), min(id), max(id) FROM shop.orders" -c "SELECT count(*) FROM shop.invoices" 2>&1)
expect "restored: a member reads her tenant's rows, and none of another tenant's" "19|1|19
0" "$out"
out=$(run_psql "$target_db" -At -c "SET ROLE upgrade_bob" -c "SET tenancy.tenant = 'acme'" \
      -c "SELECT count(*) FROM shop.orders" 2>&1)
if grep -q "permission denied for tenant" <<<"$out"; then result ok "restored: a non-member is refused"
else result failed "restored: a non-member is refused" "$out"; fi
out=$(run_psql "$target_db" -At -c "SET ROLE upgrade_owner" -c "SELECT count(*) FROM shop.orders" 2>&1)
if grep -q "no tenant selected\|tenancy.tenant" <<<"$out"; then result ok "restored: no tenant selected is refused"
else result failed "restored: no tenant selected is refused" "$out"; fi

# Platform rights came along with the database.
out=$(run_psql "$target_db" -At -c "SET ROLE upgrade_ops" -c "SELECT tenancy.is_platform_admin()" \
      -c "SELECT count(*) FROM tenancy.tenants" 2>&1)
expect "restored: its platform admin is a platform admin of the copy and reads its catalog" "t
2" "$out"

# Audit: a change writes one new audit row, numbered after the restored ones.
out=$(run_psql "$target_db" -At -c "SET ROLE upgrade_alice" -c "SET tenancy.tenant = 'acme'" \
      -c "INSERT INTO shop.orders (id, item, qty) VALUES (50, 'restored', 1)" -c "RESET ROLE" \
      -c "SELECT count(*), count(DISTINCT id), max(id) = (SELECT max(id) FROM tenancy.audit_log WHERE NOT
                 (table_name = 'shop.orders' AND operation = 'INSERT' AND new_row->>'item' = 'restored'))
                 + 1 FROM tenancy.audit_log" 2>&1)
expected=$(( $(grep '^audit_log|' "$work/source.txt" | cut -d'|' -f2) + 1 ))
expect "restored: a change is audited with the next id" "$expected|$expected|t" "$out"

# Denials: a new refusal gets a new row (the identity sequence came along).
refuse "$target_db" upgrade_bob initech
out=$(run_psql "$target_db" -At -c "SELECT count(*), count(DISTINCT id), max(id) FILTER (WHERE requested_tenant = 'initech')
      > max(id) FILTER (WHERE requested_tenant = 'acme') FROM tenancy.access_denials" 2>&1)
expect "restored: a refused attempt is recorded under a new id" "2|2|t" "$out"

# History: the restore invented no event (state.sql above), and a change of
# status is one new event, numbered after the restored ones.
out=$(run_psql "$target_db" -At -c "SELECT tenancy.suspend_tenant('globex', 'restored')" \
      -c "SELECT count(*), max(id) = (SELECT max(id) FROM tenancy.tenant_events WHERE reason IS DISTINCT FROM 'restored') + 1,
                 count(*) FILTER (WHERE event = 'created') FROM tenancy.tenant_events" 2>&1)
expected=$(( $(grep '^tenant_events|' "$work/source.txt" | cut -d'|' -f2) + 1 ))
expect "restored: a change of status is one new event after the restored history" "
$expected|t|2" "$out"

# The restored database is as healthy as its source.
health="SELECT severity, object, problem FROM tenancy.health_check() ORDER BY 1, 2, 3"
if out=$(diff <(run_psql "$source_db" -At -c "$health" 2>&1) <(run_psql "$target_db" -At -c "$health" 2>&1)); then
    result ok "restored: the health check finds what it finds in the source"
else
    result failed "restored: the health check finds what it finds in the source" "$out"
fi
write_summary "$summary"
