#!/bin/bash
# Counts the CPU instructions a backend spends per transaction, with
# callgrind on a single-user backend: no network, no scheduling, the same
# count on every run. Reads: a point read with pg_tenancy against the
# baseline table with an explicit WHERE tenant_id. Writes: INSERT, UPDATE
# and DELETE of one row of a protected table, with audit off, with
# pg_tenancy's audit, and with the PL/pgSQL audit trigger. Single-user mode
# plans every statement (no prepared statements), as a simple-protocol
# application would. Runs inside pg_virtualenv after bench/run.sh's setup;
# stops the cluster while it counts and starts it again.
set -eu
transactions=${BENCH_INSTRUCTION_TRANSACTIONS:-500}
wp_tenants=${BENCH_WP_TENANTS:-5000}
wp_rows=${BENCH_WP_ROWS:-100}
command -v valgrind >/dev/null || { echo "instructions: valgrind is not installed, skipped"; exit 0; }
work=$(mktemp -d)
chmod 755 "$work"
data=$(pg_conftool -s "$PGVERSION" regress show data_directory)
config=${PG_CLUSTER_CONF_ROOT:-/etc/postgresql}/$PGVERSION/regress/postgresql.conf

# Writes the single-user script of one variant ("" for the empty run).
write_script() {
    local variant=$1 i
    echo "SET ROLE bench_user"
    case $variant in
        "") return ;;
        point_*)
            for i in $(seq "$transactions"); do
                local t=$((i % 200 + 1)) k=$((i * 7 % 1000))
                echo "BEGIN"
                if [ "$variant" = point_tenancy ]; then
                    echo "SELECT set_config('tenancy.tenant', md5('$t')::uuid::text, true)"
                    echo "SELECT amount, note FROM bench.items WHERE id = $((k * 200 + t))"
                else
                    echo "SELECT set_config('bench.tenant', md5('$t')::uuid::text, true)"
                    echo "SELECT amount, note FROM bench.items_base WHERE tenant_id = md5('$t')::uuid AND id = $((k * 200 + t))"
                fi
                echo "COMMIT"
            done
            return ;;
    esac
    for i in $(seq "$transactions"); do
        local id=$((50000000 + i)) t=$((i % 200 + 1))
        echo "BEGIN"
        echo "SELECT set_config('tenancy.tenant', md5('$t')::uuid::text, true)"
        echo "INSERT INTO bench.w_$variant (id, amount, note) VALUES ($id, $t, 'new')"
        echo "UPDATE bench.w_$variant SET amount = amount + 1, note = 'changed' WHERE id = $id"
        echo "DELETE FROM bench.w_$variant WHERE id = $id"
        echo "COMMIT"
    done
}

# Writes the single-user script of one write-path variant (wp_off, wp_cpp,
# wp_hand, wp_hand_audit): the service role, prepared statements as pgbench
# -M prepared uses them, $transactions transactions of set_config + INSERT +
# UPDATE by primary key over 100 tenants; none with "0" as second argument.
write_path_script() {
    local table=$1 n=$2 prefix=tenancy i t k
    case $table in wp_hand*) prefix=app ;; esac
    echo "SET ROLE bench_service"
    echo "PREPARE s(text, text) AS SELECT set_config('$prefix.actor', \$1, true), set_config('$prefix.tenant', \$2, true)"
    echo "PREPARE i(int) AS INSERT INTO bench.$table (amount, note) VALUES (\$1, 'new')"
    echo "PREPARE u(bigint) AS UPDATE bench.$table SET amount = amount + 1, note = 'changed' WHERE id = \$1"
    for i in $(seq "$n"); do
        t=$((i * 37 % 100 + 1)) k=$((i * 13 % 100))
        echo "BEGIN"
        echo "EXECUTE s('writer', md5('wp$t')::uuid::text)"
        echo "EXECUTE i($t)"
        echo "EXECUTE u($((k * wp_tenants + t)))"
        echo "COMMIT"
    done
}

# Runs a script in a single-user backend without counting (table upkeep).
run_single() {
    su postgres -c "/usr/lib/postgresql/$PGVERSION/bin/postgres --single -D '$data' -c config_file='$config' \
        $PGDATABASE < $1 > /dev/null 2>&1"
}

# Prints the instructions of one single-user run of a script file.
count_file() {
    chown -R postgres "$work"
    su postgres -c "valgrind --tool=callgrind --callgrind-out-file=$work/out \
        /usr/lib/postgresql/$PGVERSION/bin/postgres --single -D '$data' -c config_file='$config' $PGDATABASE \
        < $1 > /dev/null 2>&1"
    awk '/^(summary|totals):/ { print $2; exit }' "$work/out"
}

# Prints the instructions of one single-user run.
count() {
    write_script "$1" > "$work/script.sql"
    count_file "$work/script.sql"
}

# Prints the inclusive instructions of the functions matching a pattern in
# the last run, per transaction, in thousands.
share() {
    callgrind_annotate --inclusive=yes --threshold=100 "$work/out" 2>/dev/null | grep -v '=>' |
        grep -E "$1" | awk -v n="$transactions" '{ v = $1; gsub(",", "", v); s += v } END { printf "%.1f", s / n / 1e3 }'
}

# Counts one write-path variant: its rows removed and the table vacuumed
# first (not counted), then the run without and with the transactions.
# Sets wp_<table> (instructions per transaction) and the shares.
count_write_path() {
    local table=$1 none all
    printf 'DELETE FROM bench.%s WHERE id > %s\nVACUUM ANALYZE bench.%s\nVACUUM bench.plpgsql_log\nCHECKPOINT\n' \
        "$table" "$((wp_tenants * wp_rows))" "$table" > "$work/upkeep.sql"
    run_single "$work/upkeep.sql"
    write_path_script "$table" 0 > "$work/script.sql"
    none=$(count_file "$work/script.sql")
    run_single "$work/upkeep.sql"
    write_path_script "$table" "$transactions" > "$work/script.sql"
    all=$(count_file "$work/script.sql")
    eval "wp_$table=$(awk -v a="$all" -v b="$none" -v n="$transactions" 'BEGIN { printf "%.1f", (a - b) / n / 1e3 }')"
    eval "check_$table=$(share 'statement_check.cpp:.*check_permissions')"
    eval "policy_$table=$(share 'tenancy_tenant_for|ExecSetParamPlan ')"
    eval "tenant_$table=$(share 'tenancy_tenant_check')"
    eval "audit_$table=$(share 'tenancy_audit_trigger|bench.hand_audit|plpgsql_exec_trigger')"
    eval "after_$table=$(share '\?\?\?:AfterTriggerEndQuery ')"
}

pg_ctlcluster "$PGVERSION" regress stop
empty=$(count "")
point_baseline=$(count point_baseline)
point_tenancy=$(count point_tenancy)
off=$(count off)
cpp=$(count cpp)
plpgsql=$(count plpgsql)
for table in wp_off wp_cpp wp_hand wp_hand_audit; do count_write_path "$table"; done
pg_ctlcluster "$PGVERSION" regress start
rm -rf "$work"
awk -v e="$empty" -v b="$point_baseline" -v t="$point_tenancy" -v n="$transactions" 'BEGIN {
    printf "instructions per point-read transaction (callgrind, %d transactions, planned each time):\n", n
    printf "  baseline %.0fk, pg_tenancy %.0fk: tenancy / baseline throughput %.3f\n", (b-e)/n/1e3, (t-e)/n/1e3, (b-e)/(t-e) }'
awk -v e="$empty" -v off="$off" -v cpp="$cpp" -v p="$plpgsql" -v n="$transactions" 'BEGIN {
    o = (off - e) / n; c = (cpp - e) / n; q = (p - e) / n;
    printf "instructions per write transaction (callgrind, %d transactions of INSERT+UPDATE+DELETE):\n", n
    printf "  no audit %.0fk, pg_tenancy audit %.0fk (+%.1f%%), PL/pgSQL audit %.0fk (+%.1f%%)\n", o/1e3, c/1e3, 100*(c-o)/o, q/1e3, 100*(q-o)/o
    printf "  audited / unaudited %.3f; audit cost per audited row %.1fk vs %.1fk instructions: PL/pgSQL costs %.1fx\n", o/c, (c-o)/3e3, (q-o)/3e3, (q-o)/(c-o) }'
awk -v off="$wp_wp_off" -v cpp="$wp_wp_cpp" -v hand="$wp_wp_hand" -v audit="$wp_wp_hand_audit" -v n="$transactions" 'BEGIN {
    printf "instructions per write-path transaction (callgrind, %d of set_config + INSERT + UPDATE, service role, prepared):\n", n
    printf "  hand RLS %.1fk, tenancy no audit %.1fk (+%.1fk), tenancy audited %.1fk, hand RLS + PL/pgSQL audit %.1fk\n", hand, off, off - hand, cpp, audit
    printf "  instruction ratios: no audit / hand %.3f, audited / no audit %.3f, audited / hand + PL/pgSQL %.3f\n", hand / off, off / cpp, audit / cpp }'
echo "  where they go, per transaction (inclusive, k instructions; 1 inserted + 1 updated row):"
printf '    %-28s %8s %8s %8s %8s\n' "" "tenancy" "audited" "hand" "hand+PL"
printf '    %-28s %8s %8s %8s %8s\n' "statement check (hook)" "$check_wp_off" "$check_wp_cpp" "$check_wp_hand" "$check_wp_hand_audit"
printf '    %-28s %8s %8s %8s %8s\n' "policies: tenant_for, initplans" "$policy_wp_off" "$policy_wp_cpp" "$policy_wp_hand" "$policy_wp_hand_audit"
printf '    %-28s %8s %8s %8s %8s\n' "tenant check trigger" "$tenant_wp_off" "$tenant_wp_cpp" "$tenant_wp_hand" "$tenant_wp_hand_audit"
printf '    %-28s %8s %8s %8s %8s\n' "audit trigger" "$audit_wp_off" "$audit_wp_cpp" "$audit_wp_hand" "$audit_wp_hand_audit"
printf '    %-28s %8s %8s %8s %8s\n' "all AFTER triggers, fired" "$after_wp_off" "$after_wp_cpp" "$after_wp_hand" "$after_wp_hand_audit"
