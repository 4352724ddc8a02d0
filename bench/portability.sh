#!/bin/bash
# Tenant portability: tenantctl tenant export (CSV) and import of a tenant
# of BENCH_PORT_ROWS rows (default 1,000,000) across 5 protected tables,
# against COPY (query) TO STDOUT of the same rows with psql (the physical
# limit of reading them out) and COPY FROM of the exported files into plain
# unprotected tables of the same shape (the physical limit of loading them);
# and tenancy.clone_tenant() of the same tenant. Each is run
# BENCH_PORT_ROUNDS times (default 3), median. Runs inside pg_virtualenv
# (tools/run-bench.sh) as the cluster's superuser.
set -eu
cd "$(dirname "$0")"
rows=${BENCH_PORT_ROWS:-1000000}
rounds=${BENCH_PORT_ROUNDS:-3}
database=portability_bench
tenantctl=$(command -v tenantctl || echo ../cli/tenantctl)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

sql() { psql -X -q -At -v ON_ERROR_STOP=1 -d "$database" -c "$1"; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
calc() { awk "BEGIN { printf \"%.6f\", $1 }"; }
median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

dropdb --if-exists --force "$database" >/dev/null 2>&1 || true
createdb "$database"
sql "CREATE EXTENSION pg_tenancy" >/dev/null
sql "SELECT tenancy.create_tenant('big', 'Big'), tenancy.create_tenant('other', 'Other')" >/dev/null
# 5 tables, a fifth of the rows each: customers, orders (-> customers),
# lines (-> orders), notes (-> customers), events (no key of its own).
per=$((rows / 5))
sql "CREATE TABLE customers (id bigserial PRIMARY KEY, email text NOT NULL, name text, created timestamptz DEFAULT now());
     CREATE TABLE orders (id bigserial PRIMARY KEY, customer_id bigint NOT NULL REFERENCES customers, amount numeric(12, 2), note text);
     CREATE TABLE lines (id bigserial PRIMARY KEY, order_id bigint NOT NULL REFERENCES orders, product text, quantity int);
     CREATE TABLE notes (id bigserial PRIMARY KEY, customer_id bigint NOT NULL REFERENCES customers, body text);
     CREATE TABLE events (tenant_id uuid, at timestamptz NOT NULL, kind text NOT NULL, payload jsonb);
     CREATE INDEX ON orders (customer_id); CREATE INDEX ON lines (order_id); CREATE INDEX ON notes (customer_id);
     SELECT tenancy.protect(t) FROM unnest(ARRAY['customers', 'orders', 'lines', 'notes', 'events']) t" >/dev/null
sql "SET tenancy.tenant = 'big';
     INSERT INTO customers (email, name) SELECT 'c' || g || '@example.com', 'Customer ' || g FROM generate_series(1, $per) g;
     INSERT INTO orders (customer_id, amount, note) SELECT id, id % 1000 + 0.5, 'order of ' || id FROM customers;
     INSERT INTO lines (order_id, product, quantity) SELECT id, 'product ' || id % 97, id % 5 FROM orders;
     INSERT INTO notes (customer_id, body) SELECT id, 'a note about customer ' || id FROM customers;
     INSERT INTO events (at, kind, payload) SELECT now(), 'kind ' || g % 7, jsonb_build_object('g', g) FROM generate_series(1, $per) g;
     SET tenancy.tenant = 'other';
     INSERT INTO customers (email) SELECT 'o' || g FROM generate_series(1, 1000) g" >/dev/null
sql "VACUUM ANALYZE" >/dev/null
queries=$(sql "SELECT string_agg(t->>'query', E'\n' ORDER BY n) FROM jsonb_array_elements(tenancy.export_manifest('big')->'tables') WITH ORDINALITY a(t, n)")
bytes=0

echo "tenant portability: $rows rows in 5 tables, $rounds rounds"
export_times=() copy_to_times=() import_times=() copy_from_times=() clone_times=()
for round in $(seq "$rounds"); do
    rm -rf "$work/export"
    start=$(now); "$tenantctl" -d "dbname=$database" tenant export big --out "$work/export" >/dev/null; end=$(now)
    export_times+=("$(elapsed "$start" "$end")")
    bytes=$(du -sb "$work/export" | cut -f1)
    start=$(now)
    while read -r query; do
        psql -X -q -d "$database" -c "COPY ($query) TO STDOUT (FORMAT csv, HEADER)" > /dev/null
    done <<<"$queries"
    end=$(now); copy_to_times+=("$(elapsed "$start" "$end")")

    start=$(now); "$tenantctl" -d "dbname=$database" tenant import "$work/export" --as "copy$round" >/dev/null; end=$(now)
    import_times+=("$(elapsed "$start" "$end")")
    sql "SET client_min_messages = warning; DROP TABLE IF EXISTS plain_customers, plain_orders, plain_lines, plain_notes, plain_events;
         CREATE TABLE plain_customers (id bigint PRIMARY KEY, email text NOT NULL, name text, created timestamptz);
         CREATE TABLE plain_orders (id bigint PRIMARY KEY, customer_id bigint NOT NULL REFERENCES plain_customers, amount numeric(12, 2), note text);
         CREATE TABLE plain_lines (id bigint PRIMARY KEY, order_id bigint NOT NULL REFERENCES plain_orders, product text, quantity int);
         CREATE TABLE plain_notes (id bigint PRIMARY KEY, customer_id bigint NOT NULL REFERENCES plain_customers, body text);
         CREATE TABLE plain_events (at timestamptz NOT NULL, kind text NOT NULL, payload jsonb)" >/dev/null
    start=$(now)
    for table in customers orders lines notes events; do
        psql -X -q -d "$database" -c "\\copy plain_$table FROM '$(ls "$work"/export/*-public.$table.csv)' (FORMAT csv, HEADER)"
    done
    end=$(now); copy_from_times+=("$(elapsed "$start" "$end")")

    start=$(now); sql "SELECT tenancy.clone_tenant('big', 'clone$round')" >/dev/null; end=$(now)
    clone_times+=("$(elapsed "$start" "$end")")
    sql "SELECT tenancy.drop_tenant('copy$round'), tenancy.drop_tenant('clone$round')" >/dev/null
done

export_s=$(printf '%s\n' "${export_times[@]}" | median)
copy_to_s=$(printf '%s\n' "${copy_to_times[@]}" | median)
import_s=$(printf '%s\n' "${import_times[@]}" | median)
copy_from_s=$(printf '%s\n' "${copy_from_times[@]}" | median)
clone_s=$(printf '%s\n' "${clone_times[@]}" | median)
mb=$(calc "$bytes / 1048576")
line() { printf '%-44s %8.2f s  %10.0f rows/s  %7.1f MB/s\n' "$1" "$2" "$(calc "$rows / $2")" "$(calc "$mb / $2")"; }
printf "files: %.1f MB (CSV)\n" "$mb"
line "tenantctl tenant export (csv)" "$export_s"
line "COPY (query) TO STDOUT, same rows (psql)" "$copy_to_s"
printf '%-44s %8.2f\n' "  ratio export / COPY TO" "$(calc "$copy_to_s / $export_s")"
line "tenantctl tenant import" "$import_s"
line "COPY FROM into unprotected tables" "$copy_from_s"
printf '%-44s %8.2f\n' "  ratio import / COPY FROM" "$(calc "$copy_from_s / $import_s")"
printf '%-44s %8.2f\n' "  ratio import / COPY TO" "$(calc "$copy_to_s / $import_s")"
line "tenancy.clone_tenant()" "$clone_s"
dropdb --force "$database" >/dev/null 2>&1 || true
