#!/bin/bash
# Personal data: tenancy.erase_subject() of one person across 5 protected,
# audited tables of a tenant whose audit log holds BENCH_PII_PEOPLE x 20 rows
# (default 5,000 people: 100,000 audit rows), against the same erasure
# written by hand (UPDATEs and a DELETE by the person's keys, and the audit
# rows of those rows rewritten by primary key), and tenancy.export_subject()
# against a hand-written json_agg of the same rows. Each is timed for
# BENCH_PII_SUBJECTS people (default 9), median. Runs inside pg_virtualenv
# (tools/run-bench.sh) as the cluster's superuser.
set -eu
cd "$(dirname "$0")"
people=${BENCH_PII_PEOPLE:-5000}
subjects=${BENCH_PII_SUBJECTS:-9}
database=pii_bench

sql() { psql -X -q -At -v ON_ERROR_STOP=1 -d "$database" -c "$1"; }

dropdb --if-exists --force "$database" >/dev/null 2>&1 || true
createdb "$database"
sql "CREATE EXTENSION pg_tenancy" >/dev/null
sql "SELECT tenancy.create_tenant('big', 'Big'), tenancy.create_tenant('other', 'Other')" >/dev/null
sql "CREATE TABLE people (id int PRIMARY KEY, email text NOT NULL, name text);
     CREATE TABLE orders (id int PRIMARY KEY, person_id int NOT NULL REFERENCES people, note text, amount int);
     CREATE TABLE lines (id int PRIMARY KEY, order_id int NOT NULL REFERENCES orders, product text);
     CREATE TABLE addresses (id int PRIMARY KEY, person_id int NOT NULL REFERENCES people, street text NOT NULL);
     CREATE TABLE notes (id int PRIMARY KEY, person_id int NOT NULL REFERENCES people, body text);
     CREATE INDEX ON orders (person_id); CREATE INDEX ON lines (order_id);
     CREATE INDEX ON addresses (person_id); CREATE INDEX ON notes (person_id); CREATE INDEX ON people (email);
     SELECT tenancy.protect(t) FROM unnest(ARRAY['people', 'orders', 'lines', 'addresses', 'notes']) t;
     SELECT tenancy.mark_pii('people', 'email', 'email', subject => true), tenancy.mark_pii('people', 'name', 'name'),
            tenancy.mark_pii('orders', 'note', 'free_text'), tenancy.mark_pii('notes', 'body', 'free_text'),
            tenancy.mark_pii('addresses', 'street', 'address'), tenancy.set_erasure_policy('addresses', 'delete')" \
    >/dev/null
# Each person: 1 row, 5 orders of 2 lines, 1 address, 3 notes: 20 rows, each
# with its audit row.
sql "SET tenancy.tenant = 'big';
     INSERT INTO people SELECT p, 'p' || p || '@example.com', 'Person ' || p FROM generate_series(1, $people) p;
     INSERT INTO orders SELECT p * 10 + o, p, 'note of p' || p, o FROM generate_series(1, $people) p, generate_series(1, 5) o;
     INSERT INTO lines SELECT (p * 10 + o) * 10 + l, p * 10 + o, 'product ' || l
       FROM generate_series(1, $people) p, generate_series(1, 5) o, generate_series(1, 2) l;
     INSERT INTO addresses SELECT p, p, p || ' Main Street' FROM generate_series(1, $people) p;
     INSERT INTO notes SELECT p * 10 + n, p, 'p' || p || ' called' FROM generate_series(1, $people) p, generate_series(1, 3) n" \
    >/dev/null
sql "VACUUM ANALYZE" >/dev/null
audit_rows=$(sql "SELECT count(*) FROM tenancy.audit_log WHERE tenant_id = (SELECT id FROM tenancy.tenants WHERE slug = 'big')")

# Prints the median of the numbers on standard input.
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# Prints the milliseconds one statement takes (its own transaction).
time_ms() {
    sql "SET tenancy.tenant = 'big';
         CREATE TEMP TABLE t AS SELECT clock_timestamp() AS s; $1;
         SELECT round(extract(epoch FROM clock_timestamp() - s) * 1000, 2) FROM t" | tail -1
}

tenancy_erase=() hand_erase=() tenancy_export=() hand_export=()
for i in $(seq 1 "$subjects"); do
    p=$((i * 7)); q=$((i * 7 + 1))
    tenancy_export+=("$(time_ms "SELECT tenancy.export_subject(tenancy.request_subject_export('p$p@example.com'))")")
    hand_export+=("$(time_ms "SELECT jsonb_build_object(
        'people', (SELECT jsonb_agg(to_jsonb(x) - 'tenant_id') FROM people x WHERE email = 'p$q@example.com'),
        'orders', (SELECT jsonb_agg(to_jsonb(o) - 'tenant_id') FROM orders o JOIN people x ON x.id = o.person_id WHERE x.email = 'p$q@example.com'),
        'lines', (SELECT jsonb_agg(to_jsonb(l) - 'tenant_id') FROM lines l JOIN orders o ON o.id = l.order_id
                   JOIN people x ON x.id = o.person_id WHERE x.email = 'p$q@example.com'),
        'addresses', (SELECT jsonb_agg(to_jsonb(a) - 'tenant_id') FROM addresses a JOIN people x ON x.id = a.person_id WHERE x.email = 'p$q@example.com'),
        'notes', (SELECT jsonb_agg(to_jsonb(n) - 'tenant_id') FROM notes n JOIN people x ON x.id = n.person_id WHERE x.email = 'p$q@example.com'))")")
    tenancy_erase+=("$(time_ms "SELECT tenancy.erase_subject(tenancy.request_erasure('p$p@example.com'))")")
    # By hand: the rows by the person's keys, then the audit rows of those
    # rows by primary key, rewritten without their personal columns.
    hand_erase+=("$(time_ms "WITH person AS (UPDATE people SET email = '[erased]', name = '[erased]' WHERE email = 'p$q@example.com' RETURNING id),
        o AS (UPDATE orders SET note = '[erased]' WHERE person_id IN (SELECT id FROM person) RETURNING id),
        n AS (UPDATE notes SET body = '[erased]' WHERE person_id IN (SELECT id FROM person) RETURNING id),
        a AS (DELETE FROM addresses WHERE person_id IN (SELECT id FROM person) RETURNING id)
        UPDATE tenancy.audit_log l SET old_row = l.old_row || jsonb_build_object('email', '[erased]'),
               new_row = l.new_row - 'email' - 'name' - 'note' - 'body' - 'street'
         WHERE l.tenant_id = tenancy.current_tenant_id()
           AND ((l.relid = 'people'::regclass AND (l.new_row->>'id')::int IN (SELECT id FROM person))
             OR (l.relid = 'orders'::regclass AND (l.new_row->>'id')::int IN (SELECT id FROM o))
             OR (l.relid = 'notes'::regclass AND (l.new_row->>'id')::int IN (SELECT id FROM n))
             OR (l.relid = 'addresses'::regclass AND (l.new_row->>'id')::int IN (SELECT id FROM a)))")")
done
left=$(sql "SET tenancy.tenant = 'big'; SELECT count(*) FROM people WHERE email = 'p7@example.com'" | tail -1)
[ "$left" = 0 ] || { echo "pii: the erasure left the subject's row"; exit 1; }

te=$(printf '%s\n' "${tenancy_erase[@]}" | median); he=$(printf '%s\n' "${hand_erase[@]}" | median)
tx=$(printf '%s\n' "${tenancy_export[@]}" | median); hx=$(printf '%s\n' "${hand_export[@]}" | median)
echo "pii: one person (20 rows in 5 tables) of a tenant with $audit_rows audit rows, median of $subjects"
printf '  erase_subject %8.1f ms   by hand %8.1f ms   ratio %.2f\n' "$te" "$he" "$(echo "$te / $he" | bc -l)"
printf '  export_subject %7.1f ms   by hand %8.1f ms   ratio %.2f\n' "$tx" "$hx" "$(echo "$tx / $hx" | bc -l)"
[ -n "${BENCH_KEEP:-}" ] || dropdb --force "$database" >/dev/null 2>&1 || true
