#!/bin/bash
# Django integration tests, run inside pg_virtualenv: the example project of
# examples/django (clients/django's middleware, decorators, fields, migration
# operations and management commands) with Django's test runner against the
# real server, as a new user follows clients/django/README.md:
#   - the application's role is an ordinary login role with CREATEDB, never a
#     superuser; `manage.py tenancy_test_template | psql` (as the superuser)
#     prepares the template that `manage.py test` copies;
#   - `manage.py test` runs every test of the example (each is one check);
#   - `manage.py migrate` on a fresh database where a superuser created the
#     extension, then the management commands as a platform admin.
# Writes "passed failed" into the file named by $1.
set -u
cd "$(dirname "$0")"
. ../lib.sh
. ../pgbouncer.sh
summary=$1
# Debian's python3, which python3-django and python3-psycopg2 are installed for
# (a python3 earlier in PATH, e.g. in /usr/local, would not see them).
python=${TENANCY_PYTHON:-/usr/bin/python3}
example=$(cd ../../examples/django && pwd)
role=tenancy_django_app
password=django-test-password
log=$(mktemp)
trap 'rm -f "$log"' EXIT

export EXAMPLE_DB_USER=$role EXAMPLE_DB_PASSWORD=$password EXAMPLE_DB_NAME=tenancy_django_example
# Django's test database is test_<NAME>; connect over TCP with the password.
export PGHOST=${PGHOST:-localhost}
[ "${PGHOST#/}" != "$PGHOST" ] && export PGHOST=localhost

psql -X -q -d postgres -c "DROP DATABASE IF EXISTS test_$EXAMPLE_DB_NAME" \
     -c "DROP DATABASE IF EXISTS $EXAMPLE_DB_NAME" >/dev/null 2>&1
run_psql postgres -c "DO \$\$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$role') THEN
                           CREATE ROLE $role; END IF; END \$\$" \
    -c "ALTER ROLE $role LOGIN NOSUPERUSER NOCREATEDB PASSWORD '$password'"

# The documented recipe: the template, prepared once by a superuser.
if out=$(set -o pipefail; cd "$example" && "$python" manage.py tenancy_test_template | psql -X -q -d postgres 2>&1); then
    result ok "manage.py tenancy_test_template | psql prepares the test template"
else
    result failed "manage.py tenancy_test_template | psql prepares the test template" "$out"
fi

# The template's rights (a platform admin there) are for copies only: nobody
# connects to the template itself.
out=$(PGPASSWORD=$password psql -X -At -U "$role" -d "${EXAMPLE_DB_NAME}_tenancy_template" -c "SELECT tenancy.is_platform_admin()" 2>&1)
if grep -q 'is not currently accepting connections' <<<"$out"; then
    result ok "the application's role cannot connect to the test template"
else result failed "the application's role cannot connect to the test template" "$out"; fi

# manage.py test: every test is one check.
(cd "$example" && "$python" manage.py test --noinput -v 2) >"$log" 2>&1
status=$?
# With -v 2 each test ends in a line "<its docstring, or its name> ... ok".
ok=$(grep -cE ' \.\.\. ok$' "$log")
bad=$(grep -cE ' \.\.\. (FAIL|ERROR)$' "$log")
number=$((passed + failed))
while IFS= read -r line; do
    number=$((number + 1))
    case $line in *" ... ok") word=ok ;; *) word=FAILED ;; esac
    echo "$word $number - manage.py test: ${line% ... *}"
done < <(grep -E ' \.\.\. (ok|FAIL|ERROR)$' "$log")
passed=$((passed + ok)); failed=$((failed + bad))
if [ "$status" != 0 ] || [ "$ok" = 0 ]; then
    [ "$bad" = 0 ] && failed=$((failed + 1))
    echo "FAILED - manage.py test (exit $status)"; sed 's/^/    /' "$log" | tail -80
fi

# A fresh database: a superuser creates the extension and makes the role a
# service; the role migrates (creating and protecting the tables) as owner.
run_psql postgres -c "CREATE DATABASE $EXAMPLE_DB_NAME OWNER $role"
run_psql "$EXAMPLE_DB_NAME" -c "CREATE EXTENSION pg_tenancy" -c "SELECT tenancy.grant_service('$role')" >/dev/null
if out=$(cd "$example" && "$python" manage.py migrate --noinput 2>&1); then
    result ok "manage.py migrate creates and protects the tables as the application's role"
else
    result failed "manage.py migrate creates and protects the tables as the application's role" "$out"
fi
out=$(run_psql "$EXAMPLE_DB_NAME" -At -c "SELECT string_agg(relid::regclass::text, ',' ORDER BY relid::regclass::text)
                                          FROM tenancy.protected_tables" 2>&1)
expect "the example's two tables are protected" "notes_note,notes_project" "$out"
# The application's role is not a platform admin here: creating tenants is refused.
out=$(cd "$example" && "$python" manage.py create_tenant acme Acme 2>&1); code=$?
if [ "$code" = 1 ] && grep -q "permission denied" <<<"$out"; then
    result ok "create_tenant as the application's role is refused (not a platform admin)"
else result failed "create_tenant as the application's role is refused (not a platform admin)" "exit $code: $out"; fi
# A platform admin's alias (here the superuser) creates tenants and members.
out=$(cd "$example" && EXAMPLE_DB_USER=${PGUSER:-postgres} EXAMPLE_DB_PASSWORD=${PGPASSWORD:-} \
      "$python" manage.py create_tenant acme Acme --owner alice --raw-actor --domain acme.example.com 2>&1 &&
      EXAMPLE_DB_USER=${PGUSER:-postgres} EXAMPLE_DB_PASSWORD=${PGPASSWORD:-} \
      "$python" manage.py assign_user_to_tenant acme bob --role viewer --raw-actor 2>&1); code=$?
if [ "$code" = 0 ] && grep -q "created tenant acme" <<<"$out" && grep -q "added bob to tenant acme as viewer" <<<"$out"; then
    result ok "create_tenant and assign_user_to_tenant as a platform admin"
else result failed "create_tenant and assign_user_to_tenant as a platform admin" "exit $code: $out"; fi
# In a database where the superuser created the extension, nothing is wrong
# but the warnings about Django's serial keys.
out=$(cd "$example" && EXAMPLE_DB_USER=${PGUSER:-postgres} EXAMPLE_DB_PASSWORD=${PGPASSWORD:-} \
      "$python" manage.py tenant_health_check 2>&1); code=$?
if [ "$code" = 0 ] && [ "$(grep -c '^warning: public.notes_[a-z]*_pkey' <<<"$out")" = 2 ] && ! grep -q '^error' <<<"$out"; then
    result ok "tenant_health_check passes on the migrated database (two warnings about serial keys)"
else result failed "tenant_health_check passes on the migrated database (two warnings about serial keys)" "exit $code: $out"; fi
out=$(cd "$example" && "$python" manage.py shell -c "
from django.test import Client
from django.contrib.auth.models import User
from django.db import connection
bob = User.objects.create_user('bob', password='x')
client = Client()
client.force_login(bob)
print(client.get('/', HTTP_HOST='acme.example.com:8000').status_code,
      client.post('/notes/', {'title': 'x'}, HTTP_HOST='acme.example.com').status_code,
      client.get('/', HTTP_HOST='acme.example.com').json()['notes'])
" 2>&1)
expect "outside the test runner, a viewer reads and is refused a write (committed requests)" "200 403 []" "$out"

# Through a real PgBouncer in transaction pooling over ONE server connection:
# two clients (alice in acme, gina in globex) interleave requests that list
# and add notes; every answer shows its own tenant's notes only, so nothing
# the middleware set for one request reached the other's.
run_psql "$EXAMPLE_DB_NAME" -c "SELECT tenancy.create_tenant('globex', 'Globex', owner => 'gina')" \
    -c "SELECT tenancy.add_domain('globex', 'globex.example.com')" \
    -c "SELECT tenancy.set_member_role('acme', 'bob', 'member')" >/dev/null
(cd "$example" && "$python" manage.py shell -c "
from django.contrib.auth.models import User
User.objects.create_user('alice', password='x'); User.objects.create_user('gina', password='x')") >/dev/null
work=$(mktemp -d /tmp/pg_tenancy-django.XXXXXX)
if start_pgbouncer "$work" "$password" "$role" <<EOF
$EXAMPLE_DB_NAME = host=127.0.0.1 port=$PGPORT dbname=$EXAMPLE_DB_NAME pool_mode=transaction pool_size=1
EOF
then
    clients=()
    for client in "alice acme.example.com:8000 acme-note" "gina globex.example.com globex-note"; do
        set -- $client
        PGHOST=127.0.0.1 PGPORT=$bport EXAMPLE_PGBOUNCER=1 \
            "$python" pooled_client.py "$example" "$1" "$2" "$3" 40 >"$work/$1.out" 2>&1 &
        clients+=($!)
    done
    wait "${clients[@]}"
    out="alice: $(cat "$work/alice.out"); gina: $(cat "$work/gina.out")"
    expect "through PgBouncer (transaction pooling, one server connection), two tenants' requests interleave without a leak" \
        "alice: ok 40; gina: ok 40" "$out"
else
    result failed "PgBouncer starts for the example" "$bouncer_output"
fi
stop_pgbouncer
rm -rf "$work"

psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $EXAMPLE_DB_NAME" \
     -c "DROP DATABASE IF EXISTS test_$EXAMPLE_DB_NAME" >/dev/null 2>&1
echo "$passed $failed" > "$summary"
