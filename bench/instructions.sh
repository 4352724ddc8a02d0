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

# Prints the instructions of one single-user run.
count() {
    write_script "$1" > "$work/script.sql"
    chown -R postgres "$work"
    su postgres -c "valgrind --tool=callgrind --callgrind-out-file=$work/out \
        /usr/lib/postgresql/$PGVERSION/bin/postgres --single -D '$data' -c config_file='$config' $PGDATABASE \
        < $work/script.sql > /dev/null 2>&1"
    awk '/^(summary|totals):/ { print $2; exit }' "$work/out"
}

pg_ctlcluster "$PGVERSION" regress stop
empty=$(count "")
point_baseline=$(count point_baseline)
point_tenancy=$(count point_tenancy)
off=$(count off)
cpp=$(count cpp)
plpgsql=$(count plpgsql)
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
