#!/bin/bash
# tenantctl tests, run inside pg_virtualenv against a real server. Each check
# is one test; the counts go to the file named by $1 as "passed failed".
set -u
cd "$(dirname "$0")"
summary=$1
tenantctl=$(command -v tenantctl || echo ../../cli/tenantctl)
passed=0
failed=0
database=tenantctl_test

# Records one result.
result() {
    if [ "$1" = ok ]; then
        passed=$((passed + 1)); echo "ok $((passed + failed)) - $2"
    else
        failed=$((failed + 1)); echo "FAILED $((passed + failed)) - $2"; echo "$3" | sed 's/^/    /'
    fi
}

# Runs tenantctl against the test database; sets $out (stdout and stderr),
# $stdout and $code.
ctl() {
    local errors
    errors=$(mktemp)
    stdout=$("$tenantctl" -d "dbname=$database" "$@" 2>"$errors"); code=$?
    out="$stdout$(printf '\n'; cat "$errors")"
    rm -f "$errors"
}

# check DESCRIPTION EXPECTED_CODE PATTERN -- tenantctl args
check() {
    local description=$1 expected=$2 pattern=$3; shift 4
    ctl "$@"
    if [ "$code" = "$expected" ] && grep -qE -- "$pattern" <<<"$out"; then
        result ok "$description"
    else
        result failed "$description" "exit $code (expected $expected), output:
$out"
    fi
}

# check_without DESCRIPTION EXPECTED_CODE PATTERN ABSENT_PATTERN -- tenantctl args:
# like check, and ABSENT_PATTERN must match no line of the output.
check_without() {
    local description=$1 expected=$2 pattern=$3 absent=$4; shift 5
    ctl "$@"
    if [ "$code" = "$expected" ] && grep -qE -- "$pattern" <<<"$out" && ! grep -qE -- "$absent" <<<"$out"; then
        result ok "$description"
    else
        result failed "$description" "exit $code (expected $expected), wanted /$pattern/ and no /$absent/, output:
$out"
    fi
}

# check_json DESCRIPTION PYTHON_EXPRESSION [EXPECTED_CODE] -- tenantctl args:
# standard output must parse as JSON and the expression (over the parsed
# value v) must be true.
check_json() {
    local description=$1 expression=$2 expected=0
    shift 2
    [ "$1" != -- ] && { expected=$1; shift; }
    shift
    ctl --json "$@"
    if [ "$code" = "$expected" ] && python3 -c "import json, sys; v = json.loads(sys.argv[1]); sys.exit(0 if ($expression) else 1)" "$stdout" 2>/dev/null; then
        result ok "$description"
    else
        result failed "$description" "exit $code, expression: $expression, output:
$out"
    fi
}

# Runs SQL in the test database as the superuser.
sql() {
    psql -X -q -v ON_ERROR_STOP=1 -d "$database" -c "$1" >/dev/null
}

dropdb --if-exists "$database" >/dev/null 2>&1
createdb "$database"
sql "CREATE EXTENSION pg_tenancy"
for role in ctl_ops ctl_alice ctl_app; do
    sql "DO \$\$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$role') THEN CREATE ROLE $role LOGIN PASSWORD 'ctl'; END IF; END \$\$"
done
sql "CREATE SCHEMA shop; CREATE TABLE shop.items (tenant_id uuid NOT NULL, id int NOT NULL, PRIMARY KEY (tenant_id, id))"

# Usage, help and version.
# The version comes from the control file, as the extension's does.
control_version=$(sed -n "s/^default_version = '\(.*\)'/\1/p" ../../pg_tenancy.control)
check "--version prints the version of pg_tenancy.control" 0 "^tenantctl ${control_version//./\\.}\$" -- --version
check "--help lists the command groups" 0 "tenant.*member|member" -- --help
check "tenant --help shows the subcommands" 0 "create" -- tenant --help
check "no command is a usage error" 2 "A subcommand is required" --
check "an unknown command is a usage error" 2 "subcommand is required|frobnicate" -- frobnicate
check "a bad --isolation is a usage error" 2 "isolation" -- tenant create acme --name Acme --isolation sideways
check "tenant create without a terminal needs its arguments" 2 "needs SLUG and --name" -- tenant create acme
check "member set-role needs --role" 2 "role" -- member set-role acme ctl_alice
out=$("$tenantctl" -d "host=127.0.0.1 port=1 dbname=x connect_timeout=3" tenant list 2>&1); code=$?
if [ "$code" = 3 ] && grep -q "cannot connect" <<<"$out"; then result ok "an unreachable server exits 3"
else result failed "an unreachable server exits 3" "exit $code: $out"; fi

# Tenants.
check "tenant create" 0 "created tenant acme \(" -- tenant create acme --name "Acme Corp" --owner ctl_alice
check_json "tenant create --json returns id and slug" "v['slug'] == 'globex' and len(v['id']) == 36" -- \
    tenant create globex --name Globex --plan pro
check "a duplicate slug is refused with the server's message and hint" 1 'tenant "acme" already exists' -- \
    tenant create acme --name Again
check "the server's hint is shown" 1 "HINT: +Choose another slug" -- tenant create acme --name Again
check_without "PL/pgSQL context lines are left out" 1 'tenant "acme" already exists' "CONTEXT|PL/pgSQL" -- \
    tenant create acme --name Again
check "an invalid slug is refused" 1 'invalid tenant slug "Bad Slug"' -- tenant create "Bad Slug" --name Bad
check "an unsupported isolation mode is refused by the server" 1 "not supported yet" -- \
    tenant create initech --name Initech --isolation schema
check "tenant list shows status, plan and members" 0 "acme +Acme Corp +active +row +basic +1" -- tenant list
check_json "tenant list --json" "[t['slug'] for t in v] == ['acme', 'globex'] and v[1]['plan'] == 'pro'" -- tenant list
check "tenant show" 0 "ctl_alice +owner" -- tenant show acme
check "tenant show lists rows per protected table" 0 "rows per protected table" -- tenant show acme
check_json "tenant show --json" "v['slug'] == 'acme' and v['members'][0]['actor'] == 'ctl_alice'" -- tenant show acme
check "tenant show of an unknown tenant" 1 'tenant "nope" does not exist' -- tenant show nope
check "tenant suspend --reason" 0 "suspended tenant globex" -- tenant suspend globex --reason "unpaid"
check_json "tenant activate --json shows the new status" "v['status'] == 'active'" -- tenant activate globex
check_json "tenant archive --json" "v['status'] == 'archived'" -- tenant archive globex --reason "closed"
check "tenant drop without a terminal needs --yes" 2 "pass --yes" -- tenant drop globex
check_json "tenant drop --yes" "v == {'dropped': 'globex'}" -- tenant drop globex --yes
check "a dropped tenant is gone" 1 'tenant "globex" does not exist' -- tenant show globex

# Members.
check "member add" 0 "added ctl_app to acme" -- member add acme ctl_app --role viewer
check_json "member list --json" "[(m['actor'], m['role']) for m in v] == [('ctl_alice', 'owner'), ('ctl_app', 'viewer')]" -- \
    member list acme
check_json "member set-role --json" "v['role'] == 'admin' and v['tenant'] == 'acme'" -- \
    member set-role acme ctl_app --role admin
check "the last owner cannot be removed" 1 "cannot remove the last owner" -- member remove acme ctl_alice
check "member remove" 0 "removed ctl_app from acme" -- member remove acme ctl_app
check "member list" 0 "ctl_alice +owner +t" -- member list acme
out=$("$tenantctl" -d "dbname=$database user=ctl_app password=ctl" member add acme mallory 2>&1); code=$?
if [ "$code" = 1 ] && grep -q "permission denied to manage the members" <<<"$out"; then
    result ok "a non-member is refused with exit 1"
else result failed "a non-member is refused with exit 1" "exit $code: $out"; fi

# Platform admins and services.
check "admin grant" 0 "ctl_ops is now a platform admin" -- admin grant ctl_ops
check_json "admin list --json" "any(r['role'] == 'ctl_ops' and r['platform_admin'] for r in v)" -- admin list
check_json "admin service" "v['service'] is True" -- admin service ctl_app
check_json "admin service --revoke" "v['service'] is False" -- admin service ctl_app --revoke
check "admin grant of an unknown role" 1 'role "nobody" does not exist' -- admin grant nobody
out=$("$tenantctl" -d "dbname=$database user=ctl_ops password=ctl" tenant create initech --name Initech 2>&1); code=$?
if [ "$code" = 0 ]; then result ok "a granted platform admin creates tenants"
else result failed "a granted platform admin creates tenants" "exit $code: $out"; fi
check "admin revoke" 0 "no longer a platform admin" -- admin revoke ctl_ops

# Protection.
check "protect" 0 "protected shop.items" -- protect shop.items --delete-role owner
check_json "protected --json" "v[0]['table_name'] == 'shop.items' and v[0]['delete_role'] == 'owner'" -- protected
check "protect of a missing table" 1 'relation "shop.nope" does not exist' -- protect shop.nope
check "a bad role is a usage error" 2 "read-role" -- protect shop.items --read-role root
check "unprotect" 0 "unprotected shop.items" -- unprotect shop.items
check "protected lists nothing" 0 "\(none\)" -- protected
check "protect again" 0 "protected shop.items" -- protect shop.items

# Domains.
check "domain add" 0 "assigned acme.example.com to acme" -- domain add acme ACME.example.com
check_json "domain list --json" "v == [{'host': 'acme.example.com', 'tenant_slug': 'acme', 'created_at': v[0]['created_at']}]" -- \
    domain list acme
check "domain add of a taken host" 1 "already assigned" -- domain add initech acme.example.com
check "domain remove" 0 "removed acme.example.com" -- domain remove acme.example.com

# Settings.
check_json "settings set stores a string" "v == {'theme': 'dark'}" -- settings set acme theme dark
check_json "settings set --raw stores JSON" "v == {'theme': 'dark', 'max_users': 25}" -- settings set acme max_users 25 --raw
check "settings get" 0 "max_users +25" -- settings get acme
check_json "settings get KEY" "v == {'theme': 'dark'}" -- settings get acme theme
check_json "settings unset" "v == {'max_users': 25}" -- settings unset acme theme
check "settings set --raw refuses bad JSON" 1 "invalid input syntax for type json" -- settings set acme x "{bad" --raw
check "settings set refuses a bad name" 1 'invalid setting name "Bad Key"' -- settings set acme "Bad Key" 1

# Health.
check "health on a clean schema" 0 "0 error\(s\), 0 warning\(s\)" -- health
sql "CREATE TABLE shop.loose (tenant_id uuid, id int)"
check "health warns without failing" 0 "1 warning" -- health
sql "ALTER TABLE shop.items DISABLE ROW LEVEL SECURITY"
check "health fails on an error" 1 "row level security is disabled" -- health
check_json "health --json (exit 1)" "any(f['severity'] == 'error' and f['object'] == 'shop.items' for f in v)" 1 -- health
sql "ALTER TABLE shop.items ENABLE ROW LEVEL SECURITY; DROP TABLE shop.loose"
check "health after the fix" 0 "0 error\(s\)" -- health

# psql with the tenant set.
check "psql starts with tenancy.tenant set" 0 "^acme$" -- psql acme -- -X -A -t -c "SELECT tenancy.current_tenant()"
check "psql refuses an unknown tenant before starting" 1 'tenant "nope" does not exist' -- psql nope

# The wizard, through a pseudo-terminal: welcome, name, a slug refused on the
# spot and then the suggestion, plan, owner, confirmation.
out=$(python3 pty_session.py "Tenant name=>Umbrella Corp" "Slug=>Bad Slug" "Slug=>" "Plan=>pro" \
      "First owner=>ctl_alice" "Create it?=>y" -- "$tenantctl" -d "dbname=$database" tenant create 2>&1); code=$?
if [ "$code" = 0 ] && grep -q "Welcome" <<<"$out" && grep -q "a slug starts with a lowercase letter" <<<"$out" \
   && grep -q "\[umbrella-corp\]" <<<"$out" && grep -q "created tenant umbrella-corp" <<<"$out"; then
    result ok "the wizard creates a tenant, checking the slug on the spot"
else result failed "the wizard creates a tenant, checking the slug on the spot" "exit $code: $out"; fi
check_json "the wizard's answers were used" "[(t['slug'], t['plan'], t['members']) for t in v if t['slug'] == 'umbrella-corp'] == [('umbrella-corp', 'pro', 1)]" -- \
    tenant list
out=$(python3 pty_session.py "Tenant name=>Taken" "Slug=>acme" "Slug=>taken" "Plan=>" "First owner=>" "Create it?=>n" \
      -- "$tenantctl" -d "dbname=$database" tenant create 2>&1); code=$?
if [ "$code" = 2 ] && grep -q 'tenant "acme" already exists' <<<"$out" && grep -q "nothing was created" <<<"$out"; then
    result ok "the wizard refuses a taken slug and can be cancelled"
else result failed "the wizard refuses a taken slug and can be cancelled" "exit $code: $out"; fi
out=$(python3 pty_session.py "Type the slug again=>umbrella-corp" -- "$tenantctl" -d "dbname=$database" \
      tenant drop umbrella-corp 2>&1); code=$?
if [ "$code" = 0 ] && grep -q "dropped tenant umbrella-corp" <<<"$out"; then
    result ok "tenant drop on a terminal asks for the slug again"
else result failed "tenant drop on a terminal asks for the slug again" "exit $code: $out"; fi
out=$(python3 pty_session.py "Type the slug again=>wrong" -- "$tenantctl" -d "dbname=$database" tenant drop acme 2>&1); code=$?
if [ "$code" = 2 ] && grep -q "nothing was dropped" <<<"$out"; then
    result ok "a mistyped slug drops nothing"
else result failed "a mistyped slug drops nothing" "exit $code: $out"; fi

dropdb "$database" >/dev/null 2>&1
echo "$passed $failed" > "$summary"
