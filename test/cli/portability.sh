#!/bin/bash
# Tenant export, import and clone through tenantctl against a real server:
# round trips in CSV and JSON (export, import under a new slug, export
# again: the same rows, checksums equal where no key is generated), the xlsx
# workbook read back with Python's zipfile, a changed file refused before
# anything is created, regions, a tenant owner's export of her own tenant
# only, and kill -9 of tenantctl in the middle of an export, an import and a
# clone, each leaving nothing behind and run again. Writes "passed failed"
# into the file named by $1.
set -u
cd "$(dirname "$0")"
. ../lib.sh
summary=$1
tenantctl=$(command -v tenantctl || echo ../../cli/tenantctl)
database=portability_test
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Runs SQL as the superuser; prints unaligned values.
sql() {
    psql -X -q -At -v ON_ERROR_STOP=1 -d "$database" -c "$1"
}

# Runs tenantctl (as $dsn, else the superuser); sets $out (stdout and
# stderr) and $code.
ctl() {
    out=$("$tenantctl" -d "${dsn:-dbname=$database}" "$@" 2>&1); code=$?
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

# A tenant's rows of every table, keys left out, in a stable order: what two
# tenants holding the same data have alike whatever keys they were given.
content() {
    sql "SET row_security = off;
         SELECT 'shop ' || s.name FROM shop.shops s WHERE s.tenant_id = (SELECT id FROM tenancy.tenants WHERE slug = '$1')
         UNION ALL
         SELECT format('item %s %s %s %s %s %s', i.label, s.name, p.label, i.price, i.tags, i.meta)
           FROM shop.items i JOIN shop.shops s ON s.id = i.shop_id LEFT JOIN shop.items p ON p.id = i.parent_id
          WHERE i.tenant_id = (SELECT id FROM tenancy.tenants WHERE slug = '$1')
         UNION ALL
         SELECT format('code %s %s %s', c.code, c.label, c.amount) FROM shop.codes c
          WHERE c.tenant_id = (SELECT id FROM tenancy.tenants WHERE slug = '$1')
         ORDER BY 1"
}

# The sha256 of a table's file in an export's manifest.
manifest_sha() {
    python3 -c 'import json, sys
m = json.load(open(sys.argv[1] + "/manifest.json"))
print([t["sha256"] for t in m["tables"] if t["table"] == sys.argv[2]][0])' "$1" "$2"
}

# Starts a session that holds a lock on a table in an open transaction.
start_blocker() {
    PGAPPNAME=blocker psql -X -q -d "$database" -c "BEGIN" -c "LOCK TABLE $1 IN ACCESS EXCLUSIVE MODE" \
        -c "SELECT pg_sleep(120)" >/dev/null 2>&1 &
    wait_until "SELECT EXISTS (SELECT FROM pg_stat_activity WHERE application_name = 'blocker'
                                AND query LIKE 'SELECT pg_sleep%')"
}

# Ends the blocking session.
release_blocker() {
    sql "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = 'blocker'" >/dev/null
    wait_until "SELECT NOT EXISTS (SELECT FROM pg_stat_activity WHERE application_name = 'blocker')"
}

# Runs tenantctl in the background until it waits for a lock, then kills it
# with SIGKILL; returns 1 when it never waited.
kill_while_waiting() {
    "$tenantctl" -d "dbname=$database" "$@" >/dev/null 2>&1 &
    local pid=$!
    if ! wait_until "SELECT EXISTS (SELECT FROM pg_stat_activity WHERE application_name = 'tenantctl'
                                     AND wait_event_type = 'Lock')"; then
        kill -9 "$pid" 2>/dev/null
        return 1
    fi
    kill -9 "$pid"
    wait "$pid" 2>/dev/null
    return 0
}

dropdb --if-exists --force "$database" >/dev/null 2>&1
createdb "$database"
sql "CREATE EXTENSION pg_tenancy" >/dev/null
for role in port_alice port_bob; do
    sql "DO \$\$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$role') THEN
           CREATE ROLE $role LOGIN PASSWORD 'port'; END IF; END \$\$"
done
sql "CREATE SCHEMA shop;
     CREATE TABLE shop.shops (id bigserial PRIMARY KEY, tenant_id uuid, name text NOT NULL, UNIQUE (tenant_id, name));
     CREATE TABLE shop.items (id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY, tenant_id uuid,
                              shop_id bigint NOT NULL REFERENCES shop.shops (id), parent_id integer REFERENCES shop.items (id),
                              label text NOT NULL, price numeric(10, 2), tags text[], meta jsonb);
     CREATE TABLE shop.codes (tenant_id uuid, code text, label text, amount double precision, PRIMARY KEY (tenant_id, code));
     GRANT USAGE ON SCHEMA shop TO PUBLIC; GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA shop TO PUBLIC;
     GRANT USAGE ON ALL SEQUENCES IN SCHEMA shop TO PUBLIC;
     SELECT tenancy.protect('shop.shops'), tenancy.protect('shop.items'), tenancy.protect('shop.codes');
     SELECT tenancy.create_tenant('acme', 'Acme', owner => 'port_alice'), tenancy.create_tenant('globex', 'Globex', owner => 'port_bob');
     SELECT tenancy.add_member('acme', 'ann@example.com', 'viewer'), tenancy.set_tenant_setting('acme', 'colour', '\"red\"');
     SELECT tenancy.add_domain('acme', 'acme.example.com')" >/dev/null
sql "SET tenancy.tenant = 'acme';
     INSERT INTO shop.shops (name) VALUES ('north'), ('south, \"quoted\"');
     INSERT INTO shop.items (shop_id, label, price, tags, meta)
     SELECT s.id, 'item ' || g || E'\twith tab\nand line', g / 3.0, ARRAY['a', 'b c', NULL], jsonb_build_object('g', g, 'q', E'x\\\\y\"z')
       FROM shop.shops s, generate_series(1, 500) g;
     UPDATE shop.items c SET parent_id = (SELECT min(id) FROM shop.items) WHERE c.id % 7 = 0;
     INSERT INTO shop.codes (code, label, amount) SELECT g::text, CASE WHEN g % 2 = 0 THEN 'even' END, g * 0.1 FROM generate_series(1, 50) g;
     SET tenancy.tenant = 'globex';
     INSERT INTO shop.shops (name) VALUES ('globex-only');
     INSERT INTO shop.codes (code, label, amount) VALUES ('secret', 'globex secret', 1)" >/dev/null

# Export: one file per table and a manifest with counts and checksums.
check "tenant export writes a directory with a file per table" 0 \
    "^exported tenant acme to $work/acme-csv: 1,052 rows in 3 tables" -- tenant export acme --out "$work/acme-csv"
if python3 - "$work/acme-csv" <<'PY'
import csv, hashlib, json, os, sys
d = sys.argv[1]
m = json.load(open(os.path.join(d, "manifest.json")))
assert m["format"] == "pg_tenancy export" and m["file_format"] == "csv" and m["tenant"]["slug"] == "acme", m
assert [t["table"] for t in m["tables"]] == ["shop.codes", "shop.shops", "shop.items"], m["tables"]
assert m["tenant"]["settings"] == {"colour": "red"} and m["tenant"]["domains"] == ["acme.example.com"], m["tenant"]
assert {x["actor"] for x in m["tenant"]["memberships"]} == {"port_alice", "ann@example.com"}, m["tenant"]
for t in m["tables"]:
    data = open(os.path.join(d, t["file"]), "rb").read()
    assert hashlib.sha256(data).hexdigest() == t["sha256"] and len(data) == t["bytes"], t
    rows = list(csv.reader(open(os.path.join(d, t["file"]), newline="")))
    assert rows[0] == [c["name"] for c in t["columns"]] and len(rows) - 1 == t["rows"], t
    assert "tenant_id" not in rows[0] and not any("globex" in v for r in rows for v in r), t
assert sorted(os.listdir(d)) == sorted(["manifest.json"] + [t["file"] for t in m["tables"]])
PY
then result ok "the manifest's counts and checksums are the files', no tenant_id and no other tenant's row"
else result failed "the manifest's counts and checksums are the files', no tenant_id and no other tenant's row" ""; fi
check "an export into a directory that is not empty is refused" 1 "already exists and is not empty" -- \
    tenant export acme --out "$work/acme-csv"
dsn="dbname=$database user=port_bob password=port" check "a tenant owner exports his own tenant" 0 \
    "^exported tenant globex to $work/globex-by-bob: 2 rows in 3 tables" -- tenant export globex --out "$work/globex-by-bob"
dsn="dbname=$database user=port_bob password=port" check "a tenant owner cannot export another tenant" 1 \
    'permission denied to export the tenant of tenant "acme"' -- tenant export acme --out "$work/acme-by-bob"
[ ! -e "$work/acme-by-bob" ] && [ ! -e "$work/acme-by-bob.partial" ] && result ok "a refused export leaves no directory" \
    || result failed "a refused export leaves no directory" "$(ls -d "$work"/acme-by-bob* 2>&1)"

# Round trip: import under a new slug, same rows (keys remapped), export
# again: the table without generated keys has the same checksum.
check "tenant import creates the tenant, all rows" 0 "^imported tenant acme-csv into region default: 1,052 rows in 3 tables" -- \
    tenant import "$work/acme-csv" --as acme-csv
expect "the imported tenant holds the same rows as the source" "$(content acme)" "$(content acme-csv)"
expect "the import brought members and settings, and left the domain another tenant holds" \
    "ann@example.com:viewer,port_alice:owner|{\"colour\": \"red\"}|0" \
    "$(sql "SELECT (SELECT string_agg(m.actor || ':' || m.role, ',' ORDER BY m.actor) FROM tenancy.memberships m WHERE m.tenant_id = t.id),
                   t.settings, (SELECT count(*) FROM tenancy.domains d WHERE d.tenant_id = t.id)
              FROM tenancy.tenants t WHERE t.slug = 'acme-csv'")"
check "export of the imported tenant" 0 "^exported tenant acme-csv" -- tenant export acme-csv --out "$work/acme-csv-again"
expect "a table without generated keys exports with the same checksum after the round trip" \
    "$(manifest_sha "$work/acme-csv" shop.codes)" "$(manifest_sha "$work/acme-csv-again" shop.codes)"
check "JSON lines export" 0 "^exported tenant acme to" -- tenant export acme --out "$work/acme-json" --format json
if python3 -c '
import json, sys, os
d = sys.argv[1]; m = json.load(open(d + "/manifest.json"))
for t in m["tables"]:
    lines = open(os.path.join(d, t["file"])).read().splitlines()
    assert len(lines) == t["rows"] and all(isinstance(json.loads(l), dict) for l in lines), t
' "$work/acme-json"; then result ok "each JSON file holds one object per row"
else result failed "each JSON file holds one object per row" "$(head -3 "$work"/acme-json/*.jsonl)"; fi
check "tenant import of a JSON export" 0 "^imported tenant acme-json" -- tenant import "$work/acme-json" --as acme-json
expect "the JSON round trip keeps every value" "$(content acme)" "$(content acme-json)"

# xlsx: a real workbook (zip with one sheet per table), typed cells.
check "xlsx export" 0 "^exported tenant acme to" -- tenant export acme --out "$work/acme-xlsx" --format xlsx
if python3 - "$work/acme-xlsx/tenant.xlsx" <<'PY'
import re, sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
assert z.testzip() is None
workbook = z.read("xl/workbook.xml").decode()
assert re.findall(r'<sheet name="([^"]+)"', workbook) == ["shop.codes", "shop.shops", "shop.items"], workbook
sheet = z.read("xl/worksheets/sheet3.xml").decode()
assert sheet.count("<row ") == 1001, sheet.count("<row ")
PY
then result ok "the xlsx file is a workbook with a sheet per table and every row"
else result failed "the xlsx file is a workbook with a sheet per table and every row" ""; fi
check "an xlsx export is not imported" 1 "an xlsx export cannot be imported" -- tenant import "$work/acme-xlsx" --as acme-x

# A changed file is refused, and nothing is created.
cp -r "$work/acme-csv" "$work/tampered"
sed -i '2s/north/NORTH/' "$work/tampered/002-shop.shops.csv"
check "a file that does not match its checksum is refused" 1 "file 002-shop.shops.csv does not match the manifest" -- \
    tenant import "$work/tampered" --as acme-tampered
expect "the refused import created no tenant" "0" "$(sql "SELECT count(*) FROM tenancy.tenants WHERE slug = 'acme-tampered'")"
cp -r "$work/acme-csv" "$work/escaping"
python3 -c 'import json, sys
p = sys.argv[1] + "/manifest.json"; m = json.load(open(p)); m["tables"][0]["file"] = "../acme-json/manifest.json"
json.dump(m, open(p, "w"))' "$work/escaping"
check "a manifest naming a file outside the export is refused" 1 "names a file outside the export" -- \
    tenant import "$work/escaping" --as acme-escaping

# Regions: a tenant does not move to another region unless allowed.
sql "SELECT tenancy.define_region('eu-west', 'Ireland', 'host=db-eu.invalid port=5432')" >/dev/null
check "import into another region is refused" 1 'tenant "acme" belongs to region "default"' -- \
    tenant import "$work/acme-csv" --as acme-eu --region eu-west
sql "SELECT tenancy.define_region('default', 'this server', 'host=db-default.invalid')" >/dev/null
check "import onto a server that is not its region's is refused" 1 'this server is not the server of region "default"' -- \
    tenant import "$work/acme-csv" --as acme-elsewhere
sql "SELECT tenancy.define_region('default', 'this server', NULL)" >/dev/null
check "--allow-cross-region allows the move" 0 "^imported tenant acme-eu into region eu-west" -- \
    tenant import "$work/acme-csv" --as acme-eu --region eu-west --allow-cross-region

# Clone inside the database, and a template.
check "tenant clone" 0 "^cloned tenant acme into acme-clone" -- tenant clone acme acme-clone
expect "the clone holds the same rows as the source" "$(content acme)" "$(content acme-clone)"
check "tenant clone --template" 0 "^created tenant acme-empty from the template of acme" -- \
    tenant clone acme acme-empty --template --owner port_bob
expect "a template has settings and its owner, no rows" "{\"colour\": \"red\"}|port_bob:owner" \
    "$(sql "SELECT t.settings, (SELECT string_agg(m.actor || ':' || m.role, ',') FROM tenancy.memberships m WHERE m.tenant_id = t.id)
              FROM tenancy.tenants t WHERE t.slug = 'acme-empty'")$(content acme-empty)"

# On a terminal, export shows a progress bar.
out=$(python3 pty_session.py -- "$tenantctl" -d "dbname=$database" tenant export acme --out "$work/acme-pty" 2>&1); code=$?
if [ "$code" = 0 ] && grep -qE "export +\[#{30}\] 100%  1,052/1,052 rows" <<<"$out" && grep -qE "[0-9,]+/[0-9,]+ rows" <<<"$out"; then
    result ok "on a terminal, export shows a progress bar"
else result failed "on a terminal, export shows a progress bar" "exit $code: $out"; fi

# kill -9 in the middle: a lock another session holds keeps tenantctl
# waiting at a known point, where it is killed.
start_blocker shop.items
kill_while_waiting tenant export acme --out "$work/killed" && killed=yes || killed=no
release_blocker
[ "$killed" = yes ] && [ ! -e "$work/killed" ] && result ok "an export killed with kill -9 leaves no export directory" \
    || result failed "an export killed with kill -9 leaves no export directory" "killed: $killed; $(ls -d "$work"/killed* 2>&1)"
check "the killed export runs again" 0 "^exported tenant acme to $work/killed: 1,052 rows" -- tenant export acme --out "$work/killed"
[ ! -e "$work/killed.partial" ] && result ok "the rerun leaves no partial directory" \
    || result failed "the rerun leaves no partial directory" "$(ls -d "$work"/killed*)"
for command in import clone; do
    if [ $command = import ]; then args=(tenant import "$work/acme-csv" --as acme-killed)
    else args=(tenant clone acme acme-killed); fi
    start_blocker shop.items
    kill_while_waiting "${args[@]}" && killed=yes || killed=no
    release_blocker
    wait_until "SELECT NOT EXISTS (SELECT FROM pg_stat_activity WHERE application_name = 'tenantctl')" >/dev/null
    expect "$command killed with kill -9 leaves no tenant and no row" "$killed|0|0" \
        "$killed|$(sql "SELECT count(*) FROM tenancy.tenants WHERE slug = 'acme-killed'")|$(sql "SET row_security = off;
             SELECT count(*) FROM shop.shops WHERE NOT EXISTS (SELECT FROM tenancy.tenants t WHERE t.id = tenant_id)")"
    check "the killed $command runs again" 0 "tenant acme.*acme-killed|acme-killed into" -- "${args[@]}"
    expect "the rerun $command holds the source's rows" "$(content acme)" "$(content acme-killed)"
    sql "SELECT tenancy.drop_tenant('acme-killed')" >/dev/null
done

expect "globex was never touched" "globex-only|globex secret" \
    "$(sql "SELECT (SELECT string_agg(name, ',') FROM shop.shops WHERE tenant_id = t.id) || '|'
                   || (SELECT string_agg(label, ',') FROM shop.codes WHERE tenant_id = t.id)
              FROM tenancy.tenants t WHERE t.slug = 'globex'")"

dropdb --force "$database" >/dev/null 2>&1
echo "$passed $failed" > "$summary"
