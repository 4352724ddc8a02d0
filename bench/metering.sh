#!/bin/bash
# What usage metering costs the write path: pgbench single-row INSERT
# transactions (a service role naming actor and tenant, 200 tenants) into an
# audited and an unaudited protected table, with metering on (the default)
# against the same writes by a role for which a superuser turned it off
# (ALTER ROLE ... SET tenancy.usage_metering = off), alternating, median of
# the per-round ratios. Runs inside pg_virtualenv (tools/run-bench.sh) as
# the cluster's superuser.
set -eu
cd "$(dirname "$0")"
tenants=200
duration=${BENCH_DURATION:-10}
rounds=${BENCH_ROUNDS:-5}
database=metering_bench
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

sql() { psql -X -q -At -v ON_ERROR_STOP=1 -d "$database" -c "$1"; }

dropdb --if-exists --force "$database" >/dev/null 2>&1 || true
createdb "$database"
sql "CREATE EXTENSION pg_tenancy" >/dev/null
for role in metering_bench_on metering_bench_off; do
    sql "DO \$\$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$role') THEN
           CREATE ROLE $role LOGIN PASSWORD 'bench'; END IF; END \$\$"
    sql "SELECT tenancy.grant_service('$role')" >/dev/null
done
sql "ALTER ROLE metering_bench_off SET tenancy.usage_metering = off"
sql "SELECT count(tenancy.create_tenant('t' || n, 'Tenant ' || n)) FROM generate_series(1, $tenants) n;
     INSERT INTO tenancy.memberships (tenant_id, actor, role) SELECT id, 'writer', 'member' FROM tenancy.tenants" >/dev/null
for audit in audited unaudited; do
    sql "CREATE TABLE rows_$audit (id bigserial PRIMARY KEY, amount int NOT NULL, note text);
         GRANT SELECT, INSERT ON rows_$audit TO metering_bench_on, metering_bench_off;
         GRANT USAGE ON SEQUENCE rows_${audit}_id_seq TO metering_bench_on, metering_bench_off;
         SELECT tenancy.protect('rows_$audit', audit => $([ $audit = audited ] && echo true || echo false))" >/dev/null
    cat > "$work/$audit.sql" <<SQL
\set t random(1, $tenants)
BEGIN;
SELECT set_config('tenancy.actor', 'writer', true), set_config('tenancy.tenant', 't' || :t, true);
INSERT INTO rows_$audit (amount, note) VALUES (:t, 'new');
END;
SQL
done

# Prints the TPS of one pgbench run of a script as a role.
tps() {
    PGUSER=$2 PGPASSWORD=bench pgbench -n -M prepared -c 2 -j 2 -T "$duration" \
        -f "$work/$1.sql" "$database" 2>&1 | awk '/^tps = / { print $3 }'
}
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
for audit in audited unaudited; do
    ratios=() on_tps=() off_tps=()
    for round in $(seq "$rounds"); do
        if [ $((round % 2)) = 1 ]; then
            on=$(tps "$audit" metering_bench_on); off=$(tps "$audit" metering_bench_off)
        else
            off=$(tps "$audit" metering_bench_off); on=$(tps "$audit" metering_bench_on)
        fi
        on_tps+=("$on"); off_tps+=("$off")
        ratios+=("$(awk -v a="$on" -v b="$off" 'BEGIN { printf "%.3f", a / b }')")
    done
    echo "metering: single-row INSERT transactions into an $audit table, metering on / off"
    printf '  %.0f vs %.0f TPS: %s (range %s..%s), target >= 0.95\n' "$(median "${on_tps[@]}")" \
        "$(median "${off_tps[@]}")" "$(median "${ratios[@]}")" "$(printf '%s\n' "${ratios[@]}" | sort -g | head -1)" \
        "$(printf '%s\n' "${ratios[@]}" | sort -g | tail -1)"
done
written=$(sql "SELECT sum(inserted) FROM tenancy.usage_summary()")
echo "metered rows written today (collector caught up): $written"
dropdb --force "$database"
