#!/bin/bash
# Access denials on a primary and on a hot standby, run inside pg_virtualenv.
#
# On the primary, a storm of refused attempts from several sessions is
# queued without waiting and written by one collector, aggregated. A
# streaming standby (pg_basebackup of the test cluster) cannot write: a
# refused statement must fail at once with its real error, and the denial go
# to the standby's server log. Writes "passed failed" into the file named by $1.
set -u
cd "$(dirname "$0")"
summary=$1
passed=0
failed=0
database=standby_test
work=$(mktemp -d /tmp/tenancy-standby.XXXXXX)
standby_port=$((PGPORT + 17))
bindir=$(/usr/lib/postgresql/15/bin/pg_config --bindir)

# Records one result; a failure shows what was seen.
result() {
    if [ "$1" = ok ]; then
        passed=$((passed + 1)); echo "ok $((passed + failed)) - $2"
    else
        failed=$((failed + 1)); echo "FAILED $((passed + failed)) - $2"; sed 's/^/    /' <<<"$3" | head -40
    fi
}

# Runs SQL on the primary as the superuser, stopping at the first error.
primary() {
    psql -X -q -v ON_ERROR_STOP=1 -d "$database" "$@"
}

# Runs SQL on the standby as a role.
standby() {
    local role=$1; shift
    psql -X -q -h "$work" -p "$standby_port" -U "$role" -d "$database" "$@"
}

# Stops the standby and removes its files.
cleanup() {
    [ -f "$work/data/postmaster.pid" ] && runuser -u postgres -- "$bindir/pg_ctl" -D "$work/data" -m immediate stop >/dev/null 2>&1
    rm -rf "$work"
    dropdb --if-exists "$database" >/dev/null 2>&1
}
trap cleanup EXIT

dropdb --if-exists "$database" >/dev/null 2>&1
createdb "$database"
primary <<'SQL' >/dev/null
CREATE EXTENSION pg_tenancy;
DO $$ BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'sb_member') THEN CREATE ROLE sb_member LOGIN; END IF;
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'sb_outsider') THEN CREATE ROLE sb_outsider LOGIN; END IF;
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'sb_owner') THEN CREATE ROLE sb_owner; END IF;
END $$;
CREATE SCHEMA app AUTHORIZATION sb_owner;
GRANT USAGE ON SCHEMA app TO PUBLIC;
SET ROLE sb_owner;
CREATE TABLE app.notes (id int PRIMARY KEY, body text);
GRANT SELECT, INSERT, UPDATE, DELETE ON app.notes TO PUBLIC;
RESET ROLE;
SELECT tenancy.create_tenant('north', 'North', owner => 'sb_member');
SET ROLE sb_owner;
SELECT tenancy.protect('app.notes');
RESET ROLE;
SET ROLE sb_member;
SET tenancy.tenant = 'north';
INSERT INTO app.notes VALUES (1, 'replicated');
SQL

# A storm of refusals on the primary: 4 sessions, 250 attempts each. Each
# refusal returns at once; one collector writes them, aggregated.
storm=$(cat <<'SQL'
SET ROLE sb_outsider;
SET tenancy.tenant = 'north';
DO $$
BEGIN
    FOR i IN 1 .. 250 LOOP
        BEGIN
            PERFORM count(*) FROM app.notes;
        EXCEPTION WHEN insufficient_privilege THEN NULL;
        END;
    END LOOP;
END
$$;
SQL
)
started=$(date +%s%N)
for session in 1 2 3 4; do primary <<<"$storm" & done
wait
elapsed_ms=$(( ($(date +%s%N) - started) / 1000000 ))
out=$(primary -At -c "SELECT tenancy.wait_for_access_log('20 seconds')" \
      -c "SELECT count(*), sum(attempts) FROM tenancy.access_denials WHERE actor = 'sb_outsider'")
if [ "$out" = "$(printf 't\n1|1000')" ]; then
    result ok "1000 refusals from 4 sessions: one aggregated row, 1000 attempts (refused in ${elapsed_ms} ms)"
else
    result failed "1000 refusals from 4 sessions: one aggregated row, 1000 attempts" "$out"
fi
out=$(primary -At -c "SELECT count(*) FROM pg_stat_activity
                        WHERE backend_type = 'pg_tenancy access event collector' AND datname = current_database()")
if [ "$out" -le 1 ]; then result ok "at most one collector runs ($out now)"
else result failed "at most one collector runs" "$out collectors"; fi

# A streaming standby of the test cluster.
chown postgres "$work"
if ! out=$(runuser -u postgres -- env PGPASSWORD="$PGPASSWORD" "$bindir/pg_basebackup" -h "$PGHOST" -p "$PGPORT" \
           -U "$PGUSER" -D "$work/data" -R -X stream -c fast 2>&1); then
    result failed "pg_basebackup of the test cluster" "$out"
    echo "$passed $failed" > "$summary"; exit 0
fi
# Debian keeps configuration outside the data directory: give the copy its
# own, with the settings a standby needs at least as high as its primary's.
{
    echo "port = $standby_port"
    echo "listen_addresses = ''"
    echo "unix_socket_directories = '$work'"
    echo "hot_standby = on"
    primary -At -c "SELECT format('%s = %s', name, setting) FROM pg_settings
                     WHERE name IN ('max_connections', 'max_worker_processes', 'max_wal_senders',
                                    'max_prepared_transactions', 'max_locks_per_transaction')"
} > "$work/data/postgresql.conf"
touch "$work/data/pg_ident.conf"
echo "local all all trust" > "$work/data/pg_hba.conf"
chown postgres "$work/data/postgresql.conf" "$work/data/pg_hba.conf" "$work/data/pg_ident.conf"
if ! out=$(runuser -u postgres -- "$bindir/pg_ctl" -D "$work/data" -l "$work/standby.log" -w start 2>&1); then
    result failed "the standby starts" "$out$(cat "$work/standby.log")"
    echo "$passed $failed" > "$summary"; exit 0
fi
out=$(standby postgres -At -c "SELECT pg_is_in_recovery()" 2>&1)
if [ "$out" = t ]; then result ok "a streaming standby runs in recovery"
else result failed "a streaming standby runs in recovery" "$out"; fi

# A member reads her tenant on the standby.
out=$(standby sb_member -At -c "SET tenancy.tenant = 'north'" -c "SELECT body FROM app.notes" 2>&1)
if [ "$out" = replicated ]; then result ok "a member reads her tenant's rows on the standby"
else result failed "a member reads her tenant's rows on the standby" "$out"; fi

# A refusal on the standby fails at once with its real error, and goes to
# the standby's server log.
started=$(date +%s%N)
out=$(standby sb_outsider -c "SET statement_timeout = '20s'" -c "SET tenancy.tenant = 'north'" \
      -c "SELECT count(*) FROM app.notes" 2>&1)
elapsed_ms=$(( ($(date +%s%N) - started) / 1000000 ))
if grep -q 'permission denied for tenant "north"' <<<"$out" && [ "$elapsed_ms" -lt 5000 ]; then
    result ok "a refusal on the standby is reported at once (${elapsed_ms} ms) with its real error"
else
    result failed "a refusal on the standby is reported at once with its real error" "${elapsed_ms} ms: $out"
fi
sleep 0.2
if grep -q 'pg_tenancy access denial recorded in the server log only' "$work/standby.log" &&
   grep -q 'actor="sb_outsider"' "$work/standby.log"; then
    result ok "the standby's denial is in its server log"
else
    result failed "the standby's denial is in its server log" "$(tail -20 "$work/standby.log")"
fi
# A platform admin entering a tenant on the standby is logged the same way.
out=$(standby postgres -At -c "SET tenancy.tenant = 'north'" -c "SELECT tenancy.current_tenant()" 2>&1)
sleep 0.2
if [ "$out" = north ] && grep -q 'pg_tenancy platform admin entry recorded in the server log only' "$work/standby.log"; then
    result ok "a platform admin's entry on the standby is in its server log"
else
    result failed "a platform admin's entry on the standby is in its server log" "$out
$(tail -20 "$work/standby.log")"
fi

echo "$passed $failed" > "$summary"
