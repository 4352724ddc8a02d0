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

# Runs tenantctl against the test database (or the connection in $dsn);
# sets $out (stdout and stderr), $stdout, $stderr and $code.
ctl() {
    local errors
    errors=$(mktemp)
    stdout=$("$tenantctl" -d "${dsn:-dbname=$database}" "$@" 2>"$errors"); code=$?
    stderr=$(cat "$errors")
    out="$stdout"$'\n'"$stderr"
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
    if [ "$code" = "$expected" ] && python3 -c "import json, re, sys; v = json.loads(sys.argv[1]); sys.exit(0 if ($expression) else 1)" "$stdout" 2>/dev/null; then
        result ok "$description"
    else
        result failed "$description" "exit $code, expression: $expression, output:
$out"
    fi
}

# check_all DESCRIPTION EXPECTED_CODE PATTERN... -- tenantctl args: like
# check, and every pattern must match a line of the output.
check_all() {
    local description=$1 expected=$2 patterns=() pattern missing=
    shift 2
    while [ "$1" != -- ]; do patterns+=("$1"); shift; done
    shift
    ctl "$@"
    for pattern in "${patterns[@]}"; do
        grep -qE -- "$pattern" <<<"$out" || missing="$missing /$pattern/"
    done
    if [ "$code" = "$expected" ] && [ -z "$missing" ]; then
        result ok "$description"
    else
        result failed "$description" "exit $code (expected $expected), missing:$missing, output:
$out"
    fi
}

# check_json_error DESCRIPTION PYTHON_EXPRESSION EXPECTED_CODE -- tenantctl args:
# standard error must be one line of JSON and the expression (over the
# parsed value v) must be true.
check_json_error() {
    local description=$1 expression=$2 expected=$3
    shift 4
    ctl "$@"
    if [ "$code" = "$expected" ] && [ "$(wc -l <<<"$stderr")" = 1 ] &&
       python3 -c "import json, sys; v = json.loads(sys.argv[1]); sys.exit(0 if ($expression) else 1)" "$stderr" 2>/dev/null; then
        result ok "$description"
    else
        result failed "$description" "exit $code (expected $expected), expression: $expression, stderr:
$stderr"
    fi
}

# check_csv DESCRIPTION PYTHON_EXPRESSION -- tenantctl args: standard output
# must parse as CSV (RFC 4180) and the expression (over the list of rows,
# each a list of fields; re is imported) must be true.
check_csv() {
    local description=$1 expression=$2
    shift 3
    ctl "$@"
    if [ "$code" = 0 ] && python3 -c "
import csv, io, re, sys
rows = list(csv.reader(io.StringIO(sys.argv[1] + '\n', newline=''), strict=True))
sys.exit(0 if ($expression) else 1)" "$stdout" 2>/dev/null; then
        result ok "$description"
    else
        result failed "$description" "exit $code, expression: $expression, output:
$out"
    fi
}

# Prints what the bash completion of tenantctl offers for a command line
# whose last word is being completed, as sourced from "tenantctl completion bash".
complete_bash() {
    bash -c 'source <("$1" completion bash) || exit 1; shift
             COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); COMP_LINE="$*"
             _tenantctl; echo "${COMPREPLY[*]}"' complete_bash "$tenantctl" "$@"
}

# check_completion DESCRIPTION EXPECTED -- words: the bash completion of the
# last word offers exactly EXPECTED (space-separated).
check_completion() {
    local description=$1 expected=$2 offered
    shift 3
    offered=$(complete_bash "$@" 2>&1)
    if [ "$offered" = "$expected" ]; then result ok "$description"
    else result failed "$description" "offered: '$offered', expected: '$expected'"; fi
}

# Runs tenantctl in a pseudo-terminal with the environment changes given
# before "--" (VAR=value, or -u VAR); sets $out and $code.
pty_ctl() {
    local changes=()
    while [ "$1" != -- ]; do changes+=("$1"); shift; done
    shift
    out=$(env "${changes[@]}" python3 pty_session.py -- "$tenantctl" -d "dbname=$database" "$@" 2>&1); code=$?
}

# check_pty DESCRIPTION yes|no ENV... -- tenantctl args: whether the output on
# a pseudo-terminal carries escape sequences (colour), and exactly LITERAL
# when $literal is set.
check_pty() {
    local description=$1 coloured=$2 escape=$'\e['
    shift 2
    pty_ctl "$@"
    local has=no
    [[ $out == *"$escape"* ]] && has=yes
    if [ "$has" = "$coloured" ] && { [ -z "${literal:-}" ] || [[ $out == *"$literal"* ]]; }; then
        result ok "$description"
    else
        result failed "$description" "colour: $has (expected $coloured${literal:+, with $(printf %q "$literal")}), output:
$(cat -v <<<"$out")"
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
check_all "no command is a usage error that lists the commands" 2 "^tenantctl: a command is needed" \
    "^  tenant +Create, list" "^  completion +Print a shell completion script" --
check "an unknown command is a usage error" 2 'unknown command "frobnicate"' -- frobnicate
check "a bad --isolation is a usage error" 2 "isolation" -- tenant create acme --name Acme --isolation sideways
check "tenant create without a terminal needs its arguments" 2 "needs SLUG and --name" -- tenant create acme
check "member set-role needs --role" 2 "role" -- member set-role acme ctl_alice
out=$("$tenantctl" -d "host=127.0.0.1 port=1 dbname=x connect_timeout=3" tenant list 2>&1); code=$?
if [ "$code" = 3 ] && grep -q "cannot connect" <<<"$out"; then result ok "an unreachable server exits 3"
else result failed "an unreachable server exits 3" "exit $code: $out"; fi

# Tenants.
check "tenant create" 0 "created tenant acme \(" -- tenant create acme --name "Acme Corp" --owner ctl_alice
check "tenant create with a plan that does not exist" 1 'plan "pro" does not exist' -- \
    tenant create globex --name Globex --plan pro
check "plan create with features and limits" 0 "^created plan pro$" -- plan create pro --feature sso \
    --feature export --limit members=3 --limit rows.app.invoices=1000 --limit statement_timeout=5s \
    --description "for growing teams"
check_json "tenant create --json returns id and slug" "v['slug'] == 'globex' and len(v['id']) == 36" -- \
    tenant create globex --name Globex --plan pro
check "a duplicate slug is refused with the server's message and hint" 1 'tenant "acme" already exists' -- \
    tenant create acme --name Again
check "the server's hint is shown" 1 "HINT: +Choose another slug" -- tenant create acme --name Again
check_without "PL/pgSQL context lines are left out" 1 'tenant "acme" already exists' "CONTEXT|PL/pgSQL" -- \
    tenant create acme --name Again
check "an invalid slug is refused" 1 'invalid tenant slug "Bad Slug"' -- tenant create "Bad Slug" --name Bad
check "an unsupported isolation mode is refused by the server" 1 "not supported yet" -- \
    tenant create initech --name Initech --isolation database
check "tenant list shows status, plan and members" 0 "acme +Acme Corp +active +row +basic +1" -- tenant list
check_json "tenant list --json" "[t['slug'] for t in v] == ['acme', 'globex'] and v[1]['plan'] == 'pro'" -- tenant list
check "tenant show" 0 "ctl_alice +owner" -- tenant show acme
check "tenant show lists rows per protected table" 0 "rows per protected table" -- tenant show acme
check_json "tenant show --json" "v['slug'] == 'acme' and v['members'][0]['actor'] == 'ctl_alice'" -- tenant show acme
check "tenant show of an unknown tenant" 1 'tenant "nope" does not exist' -- tenant show nope
# Plans and limits.
check_json "plan show --json: features sorted, limits typed, its tenants" \
    "v['features'] == ['export', 'sso'] and v['limits'] == {'members': 3, 'rows': {'app.invoices': 1000}, 'statement_timeout': '5s'} and v['tenants'] == ['globex']" -- \
    plan show pro
check "plan list" 0 "^pro +for growing teams +\{export,sso\}" -- plan list
check "plan show lists its tenants" 0 "^globex$" -- plan show pro
check "plan create refuses a limit without a value" 2 'takes KEY=VALUE' -- plan create odd --limit members
check "plan create refuses an unknown limit" 1 'unknown limit "seats"' -- plan create odd --limit seats=3
check "plan show of a plan that does not exist" 1 'plan "odd" does not exist' -- plan show odd
check "plan create solo" 0 "created plan solo" -- plan create solo --limit members=1
check "member add within the limit" 0 "added ctl_app to globex" -- member add globex ctl_app --role viewer
check "member add within the limit, again" 0 "added ctl_alice to globex" -- member add globex ctl_alice --role admin
check_without "plan set warns about a limit the tenant is already over" 0 \
    "warning: over the limit members: 2 \(limit 1\)" "^ERROR" -- plan set globex solo
check "member add past the limit names plan, limit and usage" 1 \
    'tenant "globex" has reached its limit of 1 active members' -- member add globex ctl_ops
check "tenant limits: the tenant is over its members limit" 0 "^members +1 +plan +2 +t$" -- tenant limits globex
check_json "tenant limits --json" "v == [{'key': 'members', 'limit': 1, 'source': 'plan', 'usage': 2, 'over': True}]" -- \
    tenant limits globex
check "plan drop of a plan in use is refused" 1 'plan "solo" is in use' -- plan drop solo
check "plan set back" 0 "tenant globex now has plan pro" -- plan set globex pro
check "plan drop" 0 "dropped plan solo" -- plan drop solo
check "member remove" 0 "removed ctl_app from globex" -- member remove globex ctl_app
check "member remove, again" 0 "removed ctl_alice from globex" -- member remove globex ctl_alice

# Alerts: a tenant crossing 80 % and 100 % of a limit, listed, and followed
# as they come (LISTEN tenancy_alerts; the notification names the alert).
check "plan create pair" 0 "created plan pair" -- plan create pair --limit members=2
check "tenant create on plan pair" 0 "created tenant alerted" -- \
    tenant create alerted --name Alerted --owner ctl_alice --plan pair
follow_out=$(mktemp); owner_out=$(mktemp)
"$tenantctl" -d "dbname=$database" --json alerts --follow >"$follow_out" 2>&1 & follower=$!
"$tenantctl" -d "dbname=$database user=ctl_alice password=ctl" --json alerts alerted --follow >"$owner_out" 2>&1 &
owner_follower=$!
for _ in $(seq 50); do
    [ "$(psql -X -At -d "$database" -c "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'LISTEN%'")" = 2 ] && break
    sleep 0.1
done
check "member add crossing 80 % and 100 % at once" 0 "added ctl_app to alerted" -- \
    member add alerted ctl_app --role viewer
for _ in $(seq 50); do [ "$(cat "$follow_out" "$owner_out" | wc -l)" -ge 4 ] && break; sleep 0.1; done
# A notification anyone sends again prints nothing twice.
psql -X -q -d "dbname=$database user=ctl_app password=ctl" \
    -c "NOTIFY tenancy_alerts, '{\"id\": 1}'" -c "NOTIFY tenancy_alerts, 'garbage'" >/dev/null 2>&1
sleep 0.5
kill "$follower" "$owner_follower"; wait "$follower" "$owner_follower" 2>/dev/null
for out in "$follow_out" "$owner_out"; do
    if python3 -c '
import json, sys
alerts = [json.loads(line) for line in open(sys.argv[1])]
assert [(a["tenant"], a["limit_key"], a["threshold"], a["usage"], a["limit"]) for a in alerts] == \
    [("alerted", "members", 80, 2, 2), ("alerted", "members", 100, 2, 2)], alerts
' "$out" 2>/dev/null; then result ok "alerts --follow prints each new alert once as it comes ($([ "$out" = "$follow_out" ] && echo "platform admin" || echo "the tenant's owner"))"
    else result failed "alerts --follow prints each new alert once as it comes" "$(cat "$out")"; fi
done
rm -f "$follow_out" "$owner_out"
check "alerts SLUG" 0 "alerted +members +100 +2 +2 +pair$" -- alerts alerted
check_json "alerts --json" "[a['threshold'] for a in v if a['tenant'] == 'alerted'] == [80, 100]" -- alerts
check "alerts --since in the future" 0 "^\(none\)$" -- alerts alerted --since tomorrow
out=$("$tenantctl" -d "dbname=$database user=ctl_app password=ctl" alerts alerted 2>&1); code=$?
if [ "$code" = 1 ] && grep -q 'permission denied to read the alerts of tenant "alerted"' <<<"$out"; then
    result ok "alerts of a tenant are refused to a viewer"
else result failed "alerts of a tenant are refused to a viewer" "exit $code: $out"; fi
check "tenant drop alerted" 0 "dropped tenant alerted" -- tenant drop alerted --yes
check "plan drop pair" 0 "dropped plan pair" -- plan drop pair

check "tenant suspend --reason" 0 "suspended tenant globex" -- tenant suspend globex --reason "unpaid"
check_json "tenant activate --json shows the new status" "v['status'] == 'active'" -- tenant activate globex
check_json "tenant archive --json" "v['status'] == 'archived'" -- tenant archive globex --reason "closed"
check "tenant drop without a terminal needs --yes" 2 "pass --yes" -- tenant drop globex
check_json "tenant drop --yes" "v == {'dropped': 'globex'}" -- tenant drop globex --yes
check "a dropped tenant is gone" 1 'tenant "globex" does not exist' -- tenant show globex

# Termination: a grace period, restore within it, purge after it, history.
check "tenant create hooli" 0 "created tenant hooli" -- tenant create hooli --name Hooli --owner ctl_alice
check "tenant terminate without a terminal needs --yes" 2 "pass --yes" -- tenant terminate hooli
check "tenant terminate refuses a negative grace period" 1 'invalid grace period "-2 days"' -- \
    tenant terminate hooli --grace=-2d --yes
check "tenant terminate refuses a grace period that is no interval" 1 'invalid input syntax for type interval' -- \
    tenant terminate hooli --grace soon --yes
check "tenant terminate --grace 2d says when it is deleted" 0 \
    "^tenant hooli is terminating: read-only, deleted after [0-9-]{10} [0-9:]{8} UTC$" -- \
    tenant terminate hooli --grace 2d --reason unpaid --yes
check "tenant show shows the terminating status and when it is purged" 0 "^purge_after +[0-9-]{10} [0-9:]{8}" -- \
    tenant show hooli
check "a terminating tenant cannot be terminated again" 1 'tenant "hooli" is already terminating' -- \
    tenant terminate hooli --yes
check "tenant events lists the termination with its reason" 0 "status +active +terminating +unpaid" -- \
    tenant events hooli
check_json "tenant events --json, oldest first" \
    "[e['event'] for e in v] == ['created', 'owner', 'status'] and v[1]['to'] == 'ctl_alice'" -- tenant events hooli
out=$("$tenantctl" -d "dbname=$database user=ctl_app password=ctl" tenant events hooli 2>&1); code=$?
if [ "$code" = 1 ] && grep -q 'permission denied to read the events of tenant "hooli"' <<<"$out"; then
    result ok "tenant events is refused to a non-member"
else result failed "tenant events is refused to a non-member" "exit $code: $out"; fi
check "tenant purge leaves a tenant within its grace period" 0 "^purged 0 tenants$" -- tenant purge
check "tenant restore" 0 "restored tenant hooli" -- tenant restore hooli
check "tenant restore of a tenant that is not terminating" 1 'tenant "hooli" is not terminating' -- \
    tenant restore hooli
check_json "tenant terminate --json --grace 0" "v['tenant'] == 'hooli' and v['status'] == 'terminating'" -- \
    tenant terminate hooli --grace 0 --yes
check "tenant restore after the grace period is refused" 1 'the grace period of tenant "hooli" has ended' -- \
    tenant restore hooli
check_all "tenant purge deletes it and says so" 0 "^hooli " "^purged 1 tenant$" -- tenant purge
check_json "tenant purge --json when nothing is due" "v == []" -- tenant purge
check "a purged tenant is gone" 1 'tenant "hooli" does not exist' -- tenant show hooli
check "its history stays, ending with its deletion" 0 "deleted +terminating +deleted" -- tenant events hooli

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

# Usage: writes metered, rows and storage collected, sparklines of the trend
# on a terminal only, and the HTML report with its charts.
sql "SET tenancy.tenant = 'acme'; INSERT INTO shop.items (id) SELECT g FROM generate_series(1, 40) g;
     DELETE FROM shop.items WHERE id > 30; RESET tenancy.tenant; SELECT tenancy.collect_usage()"
check_json "usage SLUG --json: 30 days, today's writes, rows and storage last" \
    "len(v) == 30 and (v[-1]['inserted'], v[-1]['deleted'], v[-1]['rows']) == (40, 10, 30) and v[-1]['storage_mb'] > 0" -- \
    usage acme
check_without "usage SLUG --from --to, no sparklines in a pipe" 0 "^[0-9-]{10} +40 +0 +10 +30 +[0-9.]+ +0$" "▁|█" -- \
    usage acme --from today --to today
check_json "usage --json: every tenant over the period" "[(t['writes'], t['rows']) for t in v if t['tenant'] == 'acme'] == [(50, 30)]" -- \
    usage
sql "SELECT tenancy.create_tenant('viewed', 'Viewed'); SELECT tenancy.add_member('viewed', 'ctl_alice', 'viewer')"
out=$("$tenantctl" -d "dbname=$database user=ctl_alice password=ctl" --json usage 2>&1); code=$?
if [ "$code" = 0 ] && python3 -c 'import json, sys; v = json.loads(sys.argv[1]); assert "acme" in [t["tenant"] for t in v] and "viewed" not in [t["tenant"] for t in v]' "$out"; then
    result ok "usage without a slug lists the tenants the caller may read, and only those"
else result failed "usage without a slug lists the tenants the caller may read, and only those" "exit $code: $out"; fi
sql "SELECT tenancy.drop_tenant('viewed')"
out=$(python3 pty_session.py -- "$tenantctl" -d "dbname=$database" usage acme --from today --to today 2>&1); code=$?
if [ "$code" = 0 ] && grep -q "^writes   █" <<<"$out" && grep -q "50 in all" <<<"$out"; then
    result ok "usage on a terminal draws sparklines of the daily trend"
else result failed "usage on a terminal draws sparklines of the daily trend" "exit $code: $out"; fi
report=$(mktemp --suffix=.html)
check "report --html" 0 "^wrote $report$" -- report --html "$report" --to today
if python3 - "$report" <<'PY'
import html.parser, sys
class Page(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.svgs, self.titles, self.external, self.sections, self.text = [], 0, [], [], []
        self.in_title = False
    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "svg":
            self.svgs.append(attrs.get("class", ""))
        if tag in ("script", "link", "img", "iframe") or "src" in attrs or \
                any(v and v.startswith(("http:", "https:", "//")) for v in attrs.values()):
            self.external.append(tag)
        if tag == "section":
            self.sections.append(attrs.get("id"))
    def handle_data(self, data):
        self.text.append(data)
page = Page()
page.feed(open(sys.argv[1], encoding="utf-8").read())
text = " ".join(page.text)
assert page.sections == ["limits", "top", "trends"], page.sections
assert page.svgs.count("chart top") == 2, page.svgs
assert page.svgs.count("chart trend") >= 2, page.svgs
assert not page.external, page.external
assert "Writes and rows per day of acme" in text and "Top tenants by storage" in text, text[:500]
PY
then result ok "report --html: one self-contained page, its sections and inline SVG charts"
else result failed "report --html: one self-contained page, its sections and inline SVG charts" "$(head -c 2000 "$report")"; fi
rm -f "$report"
out=$("$tenantctl" -d "dbname=$database user=ctl_app password=ctl" report --html /dev/null 2>&1); code=$?
if [ "$code" = 1 ] && grep -q "permission denied to read the usage of every tenant" <<<"$out"; then
    result ok "report is for platform admins"
else result failed "report is for platform admins" "exit $code: $out"; fi
# A table owner chooses table names: one holding terminal escape sequences
# (cursor up, erase line, set the window title) is printed escaped, in tables
# and in error messages, never raw to the operator's terminal.
sql "CREATE TABLE shop.\"evil$(printf '\033')[1A$(printf '\033')[2K$(printf '\033')]0;owned$(printf '\007')\" (id int)"
ctl protect "shop.\"evil$(printf '\033')[1A$(printf '\033')[2K$(printf '\033')]0;owned$(printf '\007')\""
ctl protected
if ! grep -q "$(printf '\033')" <<<"$out" && grep -qF 'evil\x1B[1A\x1B[2K\x1B]0;owned\x07' <<<"$out"; then
    result ok "control characters in a table name are escaped in tables"
else result failed "control characters in a table name are escaped in tables" "$(cat -v <<<"$out")"; fi
ctl protect "shop.\"nope$(printf '\033')[2J\""
if [ "$code" = 1 ] && ! grep -q "$(printf '\033')" <<<"$out" && grep -qF 'nope\x1B[2J' <<<"$out"; then
    result ok "control characters in an error message are escaped"
else result failed "control characters in an error message are escaped" "exit $code: $(cat -v <<<"$out")"; fi
ctl unprotect "shop.\"evil$(printf '\033')[1A$(printf '\033')[2K$(printf '\033')]0;owned$(printf '\007')\""
sql "DROP TABLE shop.\"evil$(printf '\033')[1A$(printf '\033')[2K$(printf '\033')]0;owned$(printf '\007')\""

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
check "settings define" 0 "^defined setting seats \(integer\)$" -- settings define seats integer --default 5 \
    --description "seats bought"
check "settings define refuses a default of another type" 1 'invalid default for setting "zone"' -- \
    settings define zone timezone --default Mars/Base
check "settings define refuses an unknown type" 2 "wat not in" -- settings define zone wat
check "settings definitions" 0 "^seats +integer +5 +seats bought$" -- settings definitions
check_json "settings set takes a defined integer as a number" "v['seats'] == 12" -- settings set acme seats 12
check "settings set refuses a value of another type" 1 'Setting "seats" is of type integer' -- \
    settings set acme seats 2.5
check "settings undefine" 0 "^undefined setting seats$" -- settings undefine seats
check_json "settings unset" "'seats' not in v" -- settings unset acme seats

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

# Regions: defined, listed, given to new tenants, changed (an event),
# dropped once empty.
check "region define" 0 "^defined region eu-west$" -- region define eu-west --description "Dublin, Ireland"
check "region define refuses a bad name" 1 'invalid region name "EU West"' -- region define "EU West"
check_json "region list --json" "[(r['name'], r['description']) for r in v if r['name'] == 'eu-west'] == [('eu-west', 'Dublin, Ireland')]" -- \
    region list
check "tenant create --region" 0 "^created tenant regional" -- tenant create regional --name Regional --region eu-west
check "tenant create refuses an unknown region" 1 'region "mars" does not exist' -- \
    tenant create lost --name Lost --region mars
check_json "tenant show --json has the region" "v['region'] == 'eu-west'" -- tenant show regional
check "tenant show has the region" 0 "^region +eu-west$" -- tenant show regional
check "region drop refuses a region with tenants" 1 'region "eu-west" still has tenants' -- region drop eu-west
check "tenant set-region" 0 "^tenant regional now lives in region default$" -- tenant set-region regional default
check_json "a change of region is an event" "[(e['event'], e['from'], e['to']) for e in v if e['event'] == 'region'] == [('region', 'eu-west', 'default')]" -- \
    tenant events regional
check "tenant set-region refuses an unknown region" 1 'region "mars" does not exist' -- tenant set-region regional mars
check "tenant drop regional" 0 "dropped tenant regional" -- tenant drop regional --yes

# The wizard, through a pseudo-terminal: welcome, name, a slug refused on the
# spot and then the suggestion, a plan refused on the spot (with the plans
# there are) and then an existing one, a region and an isolation mode
# refused on the spot and then accepted ones, owner, confirmation.
out=$(python3 pty_session.py "Tenant name=>Umbrella Corp" "Slug=>Bad Slug" "Slug=>" "Plan=>gold" "Plan=>pro" \
      "Region=>mars" "Region=>eu-west" "Isolation=>database" "Isolation=>" \
      "First owner=>ctl_alice" "Create it?=>y" -- "$tenantctl" -d "dbname=$database" tenant create 2>&1); code=$?
if [ "$code" = 0 ] && grep -q "Welcome" <<<"$out" && grep -q "a slug starts with a lowercase letter" <<<"$out" \
   && grep -q "\[umbrella-corp\]" <<<"$out" && grep -q 'plan "gold" does not exist; the plans are: basic, pro' <<<"$out" \
   && grep -q 'region "mars" does not exist; the regions are: default, eu-west' <<<"$out" \
   && grep -q 'isolation mode "database" is not supported yet' <<<"$out" \
   && grep -q "region eu-west, isolation row" <<<"$out" \
   && grep -q "created tenant umbrella-corp" <<<"$out"; then
    result ok "the wizard creates a tenant, checking the slug, plan, region and isolation on the spot"
else result failed "the wizard creates a tenant, checking the slug, plan, region and isolation on the spot" "exit $code: $out"; fi
check_json "the wizard's answers were used" "[(t['slug'], t['plan'], t['members'], t['region'], t['isolation']) for t in v if t['slug'] == 'umbrella-corp'] == [('umbrella-corp', 'pro', 1, 'eu-west', 'row')]" -- \
    tenant list
out=$(python3 pty_session.py "Tenant name=>Taken" "Slug=>acme" "Slug=>taken" "Plan=>" "Region=>" "Isolation=>" \
      "First owner=>" "Create it?=>n" \
      -- "$tenantctl" -d "dbname=$database" tenant create 2>&1); code=$?
if [ "$code" = 2 ] && grep -q 'tenant "acme" already exists' <<<"$out" && grep -q "nothing was created" <<<"$out"; then
    result ok "the wizard refuses a taken slug and can be cancelled"
else result failed "the wizard refuses a taken slug and can be cancelled" "exit $code: $out"; fi
out=$(python3 pty_session.py "Type the slug again=>umbrella-corp" -- "$tenantctl" -d "dbname=$database" \
      tenant drop umbrella-corp 2>&1); code=$?
if [ "$code" = 0 ] && grep -q "dropped tenant umbrella-corp" <<<"$out"; then
    result ok "tenant drop on a terminal asks for the slug again"
else result failed "tenant drop on a terminal asks for the slug again" "exit $code: $out"; fi
check "region drop once no tenant lives there" 0 "^dropped region eu-west$" -- region drop eu-west
check "region drop of an unknown region" 1 'region "eu-west" does not exist' -- region drop eu-west
out=$(python3 pty_session.py "Type the slug again=>wrong" -- "$tenantctl" -d "dbname=$database" tenant drop acme 2>&1); code=$?
if [ "$code" = 2 ] && grep -q "nothing was dropped" <<<"$out"; then
    result ok "a mistyped slug drops nothing"
else result failed "a mistyped slug drops nothing" "exit $code: $out"; fi
out=$(python3 pty_session.py "Type the slug again=>wrong" -- "$tenantctl" -d "dbname=$database" \
      tenant terminate acme 2>&1); code=$?
if [ "$code" = 2 ] && grep -q "nothing was changed" <<<"$out" && grep -q "once its grace period (30 days) ends" <<<"$out"; then
    result ok "tenant terminate on a terminal asks for the slug again; a mistyped one changes nothing"
else result failed "tenant terminate on a terminal asks for the slug again; a mistyped one changes nothing" "exit $code: $out"; fi
check "acme is still active" 0 "^status +active" -- tenant show acme

# Mistyped and missing commands: the names come from the command tree; exit 2.
check_all "a mistyped command is named, with the command meant" 2 '^tenantctl: unknown command "tenant lst"$' \
    '^did you mean "tenant list"\?$' -- tenant lst
check_all "a mistyped group is named, with the group meant" 2 '^tenantctl: unknown command "tenat"$' \
    '^did you mean "tenant"\?$' -- tenat list
check_all "a transposition is a near miss too" 2 'unknown command "member lsit"' 'did you mean "member list"\?' -- \
    member lsit acme
check "a prefix suggests every command it starts" 2 '^did you mean "protect" or "protected"\?$' -- protec shop.items
check_all "a word near no command lists the commands of its group" 2 'unknown command "tenant frobnicate"' \
    '^the commands of "tenant" are: create, list, show, suspend, activate, archive, drop, terminate, restore, purge, events, limits, set-region, export, import, clone, move$' -- tenant frobnicate
check_all "a group without a command lists its commands" 2 '^tenantctl: "tenant" needs a command' \
    '^  list +List tenants' '^  drop +Drop a tenant' 'Run "tenantctl tenant COMMAND --help"' -- tenant
check_without "a missing command is not CLI11's bare message" 2 '"member" needs a command' "A subcommand is required" -- \
    member
check "global options before a mistyped command are skipped with their values" 2 'did you mean "tenant list"\?' -- \
    -o table --no-headers tenant lsit
check "an unknown option keeps CLI11's message" 2 "not expected: --bogus" -- tenant list --bogus
check "a missing option value keeps CLI11's message" 2 "reason" -- tenant suspend acme --reason

# Output formats: --output table|json|csv (-o), --json, --no-headers.
check "tenant create with a comma and a double quote in the name" 0 "created tenant quoted" -- \
    tenant create quoted --name 'Comma, "Quote" Inc'
check "csv quotes a field with a comma and doubles its quotes (RFC 4180)" 0 \
    '^quoted,"Comma, ""Quote"" Inc",active,row,basic,0,' -- tenant list --output csv
check_csv "csv has a header line, and parses back to the same values" \
    "rows[0] == ['slug', 'name', 'status', 'isolation', 'plan', 'members', 'created_at', 'region'] and [r[:6] for r in rows if r[0] == 'quoted'] == [['quoted', 'Comma, \"Quote\" Inc', 'active', 'row', 'basic', '0']]" -- \
    tenant list -o csv
check_csv "--no-headers drops the csv header" "[r[0] for r in rows] == ['acme', 'initech', 'quoted']" -- \
    tenant list --output=csv --no-headers
check_without "--no-headers drops the table header and dashes" 0 "^acme +Acme Corp +active" "^slug|^-+ " -- \
    tenant list --no-headers
check_all "a table has its header and dashes line" 0 "^slug +name +status" "^-+  -+  -+" -- tenant list
check "csv: NULL is an empty field" 0 '^status_reason,$' -- tenant show quoted -o csv
ctl settings set quoted motto 'a "b", c'
check "csv: settings values (JSON text) are quoted too" 0 '^motto,"""a \\""b\\"", c"""$' -- settings get quoted -o csv
check_csv "csv: tenant show is four blocks (details, members, domains, tables)" \
    "rows[0] == ['field', 'value'] and ['actor', 'role', 'is_active'] in rows and ['host'] in rows and ['table', 'rows'] in rows and rows.count([]) == 3" -- \
    tenant show acme -o csv
for command in "tenant list" "member list acme" "admin list" "protected" "domain list" "settings get acme"; do
    # shellcheck disable=SC2086
    check_csv "$command honours --output csv" "len(rows) >= 1 and len(set(len(r) for r in rows)) == 1" -- $command -o csv
done
check_csv "health --output csv prints only CSV on standard output" \
    "rows[0] == ['severity', 'object', 'problem', 'hint'] and len(rows) == 1" -- health -o csv
if grep -q "0 error(s), 0 warning(s)" <<<"$stderr"; then result ok "health --output csv counts on standard error"
else result failed "health --output csv counts on standard error" "stderr: $stderr"; fi
ctl --json tenant list; json_flag=$stdout
ctl --output json tenant list; json_output=$stdout
ctl -o json tenant list; json_short=$stdout
if [ -n "$json_flag" ] && [ "$json_flag" = "$json_output" ] && [ "$json_flag" = "$json_short" ] &&
   python3 -c "import json, sys; json.loads(sys.argv[1])" "$json_flag"; then
    result ok "--output json and -o json print what --json prints"
else result failed "--output json and -o json print what --json prints" "$json_flag / $json_output / $json_short"; fi
check "--json with another --output is a usage error" 2 "--json and --output csv contradict each other" -- \
    --json -o csv tenant list
check "a bad --output is a usage error" 2 "output" -- -o yaml tenant list

# Timestamps in tables and CSV are shown to the second; JSON keeps them whole.
second='[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}[+-][0-9]{2}'
check_without "tenant list shows created_at to the second" 0 "^acme .* ${second} +default\$" ":[0-9]{2}\.[0-9]" -- tenant list
check_without "member list shows created_at to the second" 0 "^ctl_alice +owner +t +${second}\$" ":[0-9]{2}\.[0-9]" -- \
    member list acme
check_without "tenant show shows its timestamps to the second" 0 "^updated_at +${second}\$" ":[0-9]{2}\.[0-9]" -- \
    tenant show acme
check_without "protected shows protected_at to the second" 0 "^shop\.items .* ${second} " ":[0-9]{2}\.[0-9]" -- protected
check_csv "csv shows timestamps to the second" \
    "all(re.fullmatch('${second}', r[6]) for r in rows[1:])" -- tenant list -o csv
check_json "JSON keeps the server's timestamps (ISO 8601, as built by the server)" \
    "all(re.match(r'\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d', t['created_at']) for t in v)" -- tenant list

# Errors as one line of JSON on standard error with --json / --output json.
check_json_error "a database error is JSON with its SQLSTATE and hint" \
    "v['error']['sqlstate'] == '42704' and v['error']['message'] == 'tenant \"nope\" does not exist' and v['error']['hint'].startswith('A tenant is named') and 'detail' not in v['error'] and v['exit_code'] == 1" 1 -- \
    --json tenant show nope
check_json_error "a database error is JSON with its detail" \
    "v['error']['sqlstate'] == '22023' and v['error']['detail'].startswith('A slug starts with a lowercase letter') and v['error']['hint'] == 'Try \"bad-slug\".'" 1 -- \
    -o json tenant create "Bad Slug" --name Bad
dsn="dbname=$database user=ctl_app password=ctl" check_json_error "a refusal is JSON with SQLSTATE 42501" \
    "v['error']['sqlstate'] == '42501' and 'permission denied' in v['error']['message'] and v['exit_code'] == 1" 1 -- \
    --output=json member add acme mallory
check_json_error "a usage error is JSON without a SQLSTATE, exit_code 2" \
    "v['exit_code'] == 2 and 'sqlstate' not in v['error'] and v['error']['message'] == 'unknown command \"tenant lst\"' and v['error']['hint'] == 'did you mean \"tenant list\"?'" 2 -- \
    --json tenant lst
check_json_error "CLI11's usage errors are JSON too" \
    "v['exit_code'] == 2 and '--bogus' in v['error']['message']" 2 -- tenant list --bogus --output json
dsn="host=127.0.0.1 port=1 dbname=x connect_timeout=3" check_json_error "a connection error is JSON with exit_code 3" \
    "v['exit_code'] == 3 and v['error']['message'] == 'cannot connect to the database' and 'sqlstate' not in v['error'] and v['error']['hint'].startswith('Check -d')" 3 -- \
    --json tenant list
sql "ALTER TABLE shop.items DISABLE ROW LEVEL SECURITY"
check_json_error "a failed health check is JSON on standard error" \
    "v == {'error': {'message': 'the health check found errors'}, 'exit_code': 1}" 1 -- --json health
sql "ALTER TABLE shop.items ENABLE ROW LEVEL SECURITY"
check_without "without --json, errors stay in the server's words" 1 "^ERROR:  tenant \"nope\" does not exist" '^\{' -- \
    tenant show nope

# Shell completion, generated from the command tree.
check_completion "bash: tenantctl ten<TAB> offers tenant" "tenant" -- tenantctl ten
check_completion "bash: tenantctl tenant li<TAB> offers list and limits" "list limits" -- tenantctl tenant li
check_completion "bash: global options and their values are skipped" "list limits" -- tenantctl -d "dbname=x" -o csv tenant li
check_completion "bash: option values come from the command tree" "row schema database" -- \
    tenantctl tenant create acme --isolation ""
check_completion "bash: --output=<TAB> offers the formats" "csv" -- tenantctl --output = c
check_completion "bash: options of the command and the global ones" "--name --no-headers" -- tenantctl tenant create --n
check_completion "bash: nothing is offered after --" "" -- tenantctl psql acme -- -
out=$(bash -c 'source <("$1" completion bash) && complete -p tenantctl' _ "$tenantctl" 2>&1)
if [ "$out" = "complete -F _tenantctl tenantctl" ]; then result ok "bash: the script registers itself with complete -F"
else result failed "bash: the script registers itself with complete -F" "$out"; fi
commands=$("$tenantctl" --help | sed -n '/^Subcommands:/,$p' | awk 'NR > 1 && NF { print $1 }' | tr '\n' ' ')
check_completion "bash: every command of --help is offered" "${commands% }" -- tenantctl ""
check_all "completion without a shell lists bash and zsh" 2 '"completion" needs a command' "^  bash " "^  zsh " -- completion
ctl completion zsh
if [ "$code" = 0 ] && [ "$(head -n 1 <<<"$stdout")" = "#compdef tenantctl" ] &&
   { ! command -v zsh >/dev/null || zsh -n <<<"$stdout"; }; then
    result ok "zsh: a #compdef script$(command -v zsh >/dev/null && echo ' that zsh -n accepts')"
else result failed "zsh: a #compdef script" "exit $code: $(head -n 3 <<<"$stdout")"; fi
if command -v zsh >/dev/null; then
    # The completion functions of zsh are replaced by stubs that print what
    # they were given, and words/CURRENT are set as the completion system would.
    out=$(zsh -f -c '
        compdef() { print "compdef $*" }
        compadd() { print -r -- "compadd ${(P)2}" }
        _describe() { local -a shown; shown=("${(@P)4}"); shown=(${shown%%:*}); print -r -- "describe $shown" }
        _message() { print -r -- "message $*" }
        source <("$1" completion zsh)
        words=(tenantctl -o json tenant ""); CURRENT=5; PREFIX=; _tenantctl
        words=(tenantctl tenant create x --isolation ""); CURRENT=6; PREFIX=; _tenantctl
        words=(tenantctl member add acme bob --r); CURRENT=6; PREFIX=--r; _tenantctl' zsh "$tenantctl" 2>&1)
    if [ "$out" = "compdef _tenantctl tenantctl
describe create list show suspend activate archive drop terminate restore purge events limits set-region export import clone move
compadd row schema database
describe -h --help --role --version -d --dbname -o --output --json --no-headers" ]; then
        result ok "zsh: commands, option values and options from the command tree"
    else result failed "zsh: commands, option values and options from the command tree" "$out"; fi
fi

# Personal data: mark and list, a request per tenant, its export written
# to a file (valid JSON, the subject's rows of that tenant only), and its
# erasure (confirmed by --yes without a terminal).
sql "CREATE TABLE shop.clients (id int PRIMARY KEY, email text NOT NULL, name text); SELECT tenancy.protect('shop.clients')"
check "pii mark --subject" 0 "^marked shop.clients.email as email \(subject\)$" -- pii mark shop.clients email email --subject
check "pii mark" 0 "^marked shop.clients.name as name$" -- pii mark shop.clients name name
check "pii mark of an unknown column is refused by the server" 1 'column "nope" of table shop.clients does not exist' -- \
    pii mark shop.clients nope name
check "pii policy takes only redact, null or delete" 2 "shred" -- pii policy shop.clients shred
check "pii list" 0 "^shop.clients +email +email +t +redact +t$" -- pii list
sql "SET tenancy.tenant = 'acme'; INSERT INTO shop.clients VALUES (1, 'ann@example.com', 'Ann'), (2, 'ben@example.com', 'Ben')"
sql "SELECT tenancy.create_tenant('pii-other', 'Other'); SET tenancy.tenant = 'pii-other'; INSERT INTO shop.clients VALUES (3, 'ann@example.com', 'Ann of Globex')"
dsn="dbname=$database user=ctl_app password=ctl" check "pii request without a tenant's rights is refused" 1 \
    "permission denied to request the export of a person's data of tenant \"acme\"" -- pii request acme ann@example.com
ctl --json pii request acme ann@example.com
request=$(python3 -c 'import json, sys; print(json.loads(sys.argv[1])["request"])' "$stdout" 2>/dev/null)
export_file=$(mktemp -d)/ann.json
check "pii export --out writes the subject's rows" 0 "^wrote 1 rows of 1 tables about the subject of request $request to " -- \
    pii export "$request" --out "$export_file"
if python3 -c '
import json, sys
v = json.load(open(sys.argv[1]))
assert v["subject"] == "ann@example.com" and v["tenant"] == "acme", v
assert v["tables"] == {"shop.clients": [{"id": 1, "email": "ann@example.com", "name": "Ann"}]}, v
' "$export_file" 2>/dev/null && [ ! -e "$export_file.partial" ]; then result ok "the export file is the tenant's rows of the subject, as JSON"
else result failed "the export file is the tenant's rows of the subject, as JSON" "$(cat "$export_file" 2>&1)"; fi
check "pii export of a request that does not exist" 1 "permission denied to read the data of request 999999" -- \
    pii export 999999 --out "$export_file.none"
[ ! -e "$export_file.none" ] && [ ! -e "$export_file.none.partial" ] && result ok "a refused export leaves no file" \
    || result failed "a refused export leaves no file" "$(ls "$export_file"*)"
check "pii requests" 0 "^$request +acme +export +ann@example.com +completed" -- pii requests acme
ctl --json pii request acme ann@example.com --erasure
request=$(python3 -c 'import json, sys; print(json.loads(sys.argv[1])["request"])' "$stdout" 2>/dev/null)
check "pii erase without a terminal needs --yes" 2 "pass --yes" -- pii erase "$request"
check "pii erase --yes prints what it did" 0 "^shop.clients +redact +1 +1$" -- pii erase "$request" --yes
left=$(psql -X -A -t -d "$database" -c "SELECT string_agg(name, ',' ORDER BY id) FROM shop.clients WHERE email = 'ann@example.com'")
[ "$left" = "Ann of Globex" ] && result ok "the erasure touched no other tenant's row with the same subject" \
    || result failed "the erasure touched no other tenant's row with the same subject" "left: $left"
check "pii requests shows no subject after the erasure" 0 "^$request +acme +erasure +completed" -- pii requests acme

# The man page: installed by make install where man finds it, renders
# without warnings, and documents every command and option of the tree.
if command -v man >/dev/null; then
    page=$(man -w tenantctl 2>&1)
    if [ -f "$page" ] && cmp -s "$page" ../../man/tenantctl.1; then result ok "man -w tenantctl finds the installed page"
    else result failed "man -w tenantctl finds the installed page" "man -w: $page"; fi
else
    if [ -f /usr/local/share/man/man1/tenantctl.1 ]; then result ok "the man page is installed"
    else result failed "the man page is installed" "no /usr/local/share/man/man1/tenantctl.1"; fi
fi
if command -v groff >/dev/null; then
    warnings=$(groff -man -ww -z ../../man/tenantctl.1 2>&1)
    if [ -z "$warnings" ]; then result ok "the man page renders without warnings"
    else result failed "the man page renders without warnings" "$warnings"; fi
    missing=$(python3 - "$("$tenantctl" completion bash)" "$(groff -man -Tascii -rHY=0 -rLL=200n -P-cbou ../../man/tenantctl.1 2>/dev/null)" <<'PY'
import re, sys
script, page = sys.argv[1], ' '.join(sys.argv[2].split())
paths = re.findall(r"^    '([^']+)'\)$", script, re.M)
options = set(re.findall(r"'(--?[a-z][a-z-]*)'", script))
print(' '.join([p for p in paths if p not in page] + sorted(o for o in options if o not in page)))
PY
)
    if [ -z "$missing" ]; then result ok "the man page documents every command and option"
    else result failed "the man page documents every command and option" "missing: $missing"; fi
fi

# Colour: only on a terminal, never with NO_COLOR set and not empty, nor
# with TERM=dumb; never when piped. Headers bold, health findings and the
# severity of database errors coloured.
literal=$'\e[1mslug\e[0m' check_pty "on a terminal, table headers are bold" yes -u NO_COLOR TERM=xterm -- tenant list
check_pty "NO_COLOR=1 turns colour off" no NO_COLOR=1 TERM=xterm -- tenant list
literal=$'\e[1mslug' check_pty "an empty NO_COLOR leaves colour on (no-color.org)" yes NO_COLOR= TERM=xterm -- tenant list
check_pty "TERM=dumb turns colour off" no -u NO_COLOR TERM=dumb -- tenant list
check_pty "csv is never coloured" no -u NO_COLOR TERM=xterm -- tenant list -o csv
literal=$'\e[31mERROR:\e[0m  tenant "nope" does not exist' check_pty "on a terminal, the severity of a database error is red" \
    yes -u NO_COLOR TERM=xterm -- tenant show nope
check_pty "NO_COLOR leaves database errors plain" no NO_COLOR=1 TERM=xterm -- tenant show nope
sql "CREATE TABLE shop.loose (tenant_id uuid, id int)"
literal=$'\e[33mwarning\e[0m' check_pty "on a terminal, health warnings are yellow" yes -u NO_COLOR TERM=xterm -- health
sql "DROP TABLE shop.loose"
escape=$'\e['
NO_COLOR= TERM=xterm ctl tenant list
piped=$out
NO_COLOR= TERM=xterm ctl tenant show nope
if [[ $piped != *"$escape"* && $out != *"$escape"* ]]; then result ok "piped output and errors are never coloured"
else result failed "piped output and errors are never coloured" "$(cat -v <<<"$piped$out")"; fi

dropdb "$database" >/dev/null 2>&1
echo "$passed $failed" > "$summary"
