#!/bin/bash
# Upgrade tests, run inside pg_virtualenv: a database created at each earlier
# version of pg_tenancy, filled, then updated with ALTER EXTENSION ... UPDATE,
# must have exactly the objects of a fresh install (test/upgrade/fingerprint.sql),
# all its data, its isolation and its platform rights. (regress.sh then runs
# the whole regression suite on such a database.) Writes "passed failed"
# into the file named by $1.
set -u
cd "$(dirname "$0")"
. ../lib.sh
summary=$1
current=$(sed -n "s/^default_version = '\(.*\)'/\1/p" ../../pg_tenancy.control)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

dropdb --if-exists upgrade_fresh >/dev/null 2>&1
createdb upgrade_fresh
if ! out=$(run_psql upgrade_fresh -c "CREATE EXTENSION pg_tenancy" -f fingerprint.sql 2>&1 >"$work/fresh.txt") ||
   [ "$(grep -c '^function ' "$work/fresh.txt")" -lt 40 ]; then
    result failed "fingerprint of a fresh install" "$out"
fi

for script in ../../sql/pg_tenancy--*.sql; do
    version=$(basename "$script" .sql); version=${version#pg_tenancy--}
    case $version in *--*|"$current") continue ;; esac
    database="upgrade_from_${version//./_}"
    dropdb --if-exists "$database" >/dev/null 2>&1
    createdb "$database"
    if ! out=$(run_psql "$database" -c "CREATE EXTENSION pg_tenancy VERSION '$version'" -f fill.sql 2>&1); then
        result failed "$version: install and fill" "$out"; continue
    fi
    result ok "$version: install and fill"
    if ! out=$(run_psql "$database" -f state.sql 2>&1 >"$work/before.txt"); then
        result failed "$version: state before the update" "$out"; continue
    fi
    if out=$(run_psql "$database" -c "ALTER EXTENSION pg_tenancy UPDATE" 2>&1); then
        result ok "$version: ALTER EXTENSION pg_tenancy UPDATE to $current"
    else
        result failed "$version: ALTER EXTENSION pg_tenancy UPDATE to $current" "$out"; continue
    fi
    if ! out=$(run_psql "$database" -f fingerprint.sql 2>&1 >"$work/updated.txt"); then
        result failed "$version: fingerprint of the updated database" "$out"
    elif out=$(diff "$work/fresh.txt" "$work/updated.txt"); then
        result ok "$version: updated objects are those of a fresh install"
    else
        result failed "$version: updated objects are those of a fresh install" "< fresh install, > updated
$out"
    fi
    if ! out=$(run_psql "$database" -f state.sql 2>&1 >"$work/after.txt"); then
        result failed "$version: state after the update" "$out"
    elif out=$(diff "$work/before.txt" "$work/after.txt"); then
        result ok "$version: every tenant, member, domain, protected row and audit row kept"
    else
        result failed "$version: every tenant, member, domain, protected row and audit row kept" "$out"
    fi
    # Isolation still holds after the update: each owner sees only her rows.
    out=$(run_psql "$database" -At -c "SET ROLE upgrade_alice" -c "SET tenancy.tenant = 'acme'" \
          -c "SELECT count(*), min(id), max(id) FROM shop.orders" 2>&1)
    if [ "$out" = "19|1|19" ]; then result ok "$version: a member reads her tenant's rows after the update"
    else result failed "$version: a member reads her tenant's rows after the update" "$out"; fi
    out=$(run_psql "$database" -At -c "SET ROLE upgrade_bob" -c "SET tenancy.tenant = 'acme'" \
          -c "SELECT count(*) FROM shop.orders" 2>&1)
    if grep -q "permission denied for tenant" <<<"$out"; then result ok "$version: a non-member is refused after the update"
    else result failed "$version: a non-member is refused after the update" "$out"; fi
    # Platform rights, per database since 0.3, stay with this database.
    out=$(run_psql "$database" -At -c "SET ROLE upgrade_ops" -c "SELECT tenancy.is_platform_admin()" \
          -c "SET ROLE upgrade_app" -c "BEGIN" -c "SET LOCAL tenancy.actor = 'carol@example.com'" \
          -c "SET LOCAL tenancy.tenant = 'acme'" -c "SELECT tenancy.actor()" -c "COMMIT" 2>&1)
    expect "$version: its platform admin and service role keep their rights in this database" "t
carol@example.com" "$out"
    # Since 0.4 protected tables have no foreign key to tenancy.tenants but
    # the tenancy_tenant_check trigger; a dropped tenant's rows still go.
    out=$(run_psql "$database" -At -c "SELECT count(*) FROM pg_constraint WHERE conrelid = 'shop.orders'::regclass
                                          AND confrelid = 'tenancy.tenants'::regclass" \
          -c "SELECT tgenabled FROM pg_trigger WHERE tgrelid = 'shop.orders'::regclass
                                                 AND tgname = 'tenancy_tenant_check'" \
          -c "SELECT tenancy.drop_tenant('acme')" -c "SET row_security = off" \
          -c "SELECT count(*) FROM shop.orders o WHERE NOT EXISTS (SELECT FROM tenancy.tenants t WHERE t.id = o.tenant_id)" 2>&1)
    expect "$version: the tenant check replaces the foreign key, and a dropped tenant's rows go" "0
O

0" "$out"
    dropdb --force "$database" >/dev/null 2>&1
done
dropdb --force upgrade_fresh >/dev/null 2>&1
write_summary "$summary"
