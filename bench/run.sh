#!/bin/bash
# Benchmark driver; runs inside pg_virtualenv (see tools/run-bench.sh).
# Every comparison runs its variants alternately in the same cluster, round
# after round, and reports the median TPS of each and the median of the
# per-round ratios. Settings: BENCH_TENANTS, BENCH_ROWS, BENCH_BIG_ROWS (the
# tenant of the parallel aggregate), BENCH_DURATION (s), BENCH_ROUNDS,
# BENCH_CLIENTS, BENCH_DENIALS, BENCH_DENIAL_SESSIONS, BENCH_WP_TENANTS and
# BENCH_WP_ROWS (the write path), BENCH_HOT_CLIENTS (the hot tenant).
set -eu
cd "$(dirname "$0")"
tenants=${BENCH_TENANTS:-200}
rows=${BENCH_ROWS:-1000}
big_rows=${BENCH_BIG_ROWS:-2000000}
duration=${BENCH_DURATION:-10}
rounds=${BENCH_ROUNDS:-5}
clients=${BENCH_CLIENTS:-2}
wp_tenants=${BENCH_WP_TENANTS:-5000}
wp_rows=${BENCH_WP_ROWS:-100}
hot_clients=${BENCH_HOT_CLIENTS:-16}

echo "pg_tenancy benchmarks: $tenants tenants x $rows rows, $clients clients, $rounds rounds of ${duration}s"
echo "server: $(psql -XAtc 'SHOW server_version') fsync=$(psql -XAtc 'SHOW fsync')" \
     "synchronous_commit=$(psql -XAtc 'SHOW synchronous_commit') shared_buffers=$(psql -XAtc 'SHOW shared_buffers')"
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo)"
psql -X -q -v tenants="$tenants" -v rows="$rows" -v big_rows="$big_rows" -f setup.sql >/dev/null
psql -X -q -v wp_tenants="$wp_tenants" -v wp_rows="$wp_rows" -f setup_write_path.sql >/dev/null
admin_user=$PGUSER admin_password=${PGPASSWORD:-}
export PGUSER=bench_user PGPASSWORD=bench

# The write scripts are templates over bench.w_VARIANT: one copy per table.
generated=$(mktemp -d)
for variant in off cpp plpgsql; do
    for op in insert update delete transaction; do
        sed "s/w_VARIANT/w_$variant/g" "scripts/write_$op.sql" > "$generated/${op}_$variant.sql"
    done
done
for variant in off cpp; do sed "s/wp_VARIANT/wp_$variant/g" scripts/write_path_tenancy.sql > "$generated/wp_$variant.sql"; done
for variant in hand hand_audit; do sed "s/wp_VARIANT/wp_$variant/g" scripts/write_path_hand.sql > "$generated/wp_$variant.sql"; done

# Prints the TPS of one pgbench run: a script name, or "mix_<variant>" for
# equal parts of single-row INSERT, UPDATE and DELETE transactions. Scripts
# named service_* and wp_* (the write path) run as the service role; hot_*
# is the write path into one tenant with many clients; parallel_* runs with
# one client (each query has two parallel workers).
tps() {
    local scripts user=$PGUSER run_clients=$clients hot=0
    case $1 in service_*|wp_*|hot_*) user=bench_service ;; parallel_*) run_clients=1 ;; esac
    case $1 in
        mix_*) scripts=(-f "$generated/insert_${1#mix_}.sql@1" -f "$generated/update_${1#mix_}.sql@1"
                        -f "$generated/delete_${1#mix_}.sql@1") ;;
        transaction_*|wp_*) scripts=(-f "$generated/$1.sql") ;;
        hot_*) scripts=(-f "$generated/wp_${1#hot_}.sql"); hot=1; run_clients=$hot_clients ;;
        *) scripts=(-f "scripts/$1.sql") ;;
    esac
    PGUSER=$user pgbench -n -M prepared -c "$run_clients" -j "$(( run_clients < 2 ? run_clients : 2 ))" \
        -T "$duration" -D tenants="$tenants" -D rows="$rows" -D wp_tenants="$wp_tenants" -D wp_rows="$wp_rows" \
        -D hot="$hot" "${scripts[@]}" 2>&1 |
        awk '/^tps = / { print $3 } /ERROR|error:/ { print "pgbench: " $0 > "/dev/stderr" }'
}

# Prints the median of its arguments.
median() {
    printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# Runs variants alternately; sets tps_<variant> arrays.
compare() {
    local variants=("$@") round v
    for v in "${variants[@]}"; do eval "tps_$v=()"; done
    for round in $(seq "$rounds"); do
        # Rotate the order each round so that no variant always runs first.
        local order=("${variants[@]:$(( (round - 1) % ${#variants[@]} ))}" "${variants[@]:0:$(( (round - 1) % ${#variants[@]} ))}")
        for v in "${order[@]}"; do eval "tps_$v+=($(tps "$v"))"; done
    done
}

# Prints the median of per-round ratios a/b, and their range.
ratio() {
    local -n a=$1 b=$2
    local values=() i
    for i in "${!a[@]}"; do values+=("$(awk -v x="${a[$i]}" -v y="${b[$i]}" 'BEGIN { printf "%.3f", x / y }')"); done
    printf '%s (%s..%s)' "$(median "${values[@]}")" "$(printf '%s\n' "${values[@]}" | sort -g | head -1)" \
        "$(printf '%s\n' "${values[@]}" | sort -g | tail -1)"
}

# Prints one result line.
line() {
    printf '%-40s %10.0f %10.0f  %-21s %s\n' "$1" "${2:-0}" "${3:-0}" "$4" "$5"
}

echo
printf '%-40s %10s %10s  %-21s %s\n' "comparison" "tps A" "tps B" "A/B (range)" "target"
compare point_tenancy point_baseline
line "point read: tenancy / baseline" "$(median "${tps_point_tenancy[@]}")" "$(median "${tps_point_baseline[@]}")" \
     "$(ratio tps_point_tenancy tps_point_baseline)" ">= 0.97"
compare aggregate_tenancy aggregate_baseline
line "aggregate: tenancy / baseline" "$(median "${tps_aggregate_tenancy[@]}")" "$(median "${tps_aggregate_baseline[@]}")" \
     "$(ratio tps_aggregate_tenancy tps_aggregate_baseline)" ">= 0.95"
compare parallel_tenancy parallel_baseline
line "parallel aggregate ($big_rows rows): / base" "$(median "${tps_parallel_tenancy[@]}")" \
     "$(median "${tps_parallel_baseline[@]}")" "$(ratio tps_parallel_tenancy tps_parallel_baseline)" ">= 0.90"
compare service_tenancy service_handwritten
line "service point read: tenancy / hand RLS" "$(median "${tps_service_tenancy[@]}")" \
     "$(median "${tps_service_handwritten[@]}")" "$(ratio tps_service_tenancy tps_service_handwritten)" ">= 1.00"
compare service_page_tenancy service_page_handwritten
line "service 10-row page: tenancy / hand RLS" "$(median "${tps_service_page_tenancy[@]}")" \
     "$(median "${tps_service_page_handwritten[@]}")" "$(ratio tps_service_page_tenancy tps_service_page_handwritten)" ""
# Prints the audit cost per transaction (from the TPS of 2 clients, in
# microseconds of the machine) of ours and of PL/pgSQL, and their ratio.
audit_cost() {
    awk -v off="$1" -v cpp="$2" -v plpgsql="$3" -v n="$clients" \
        'BEGIN { c = n * (1e6/cpp - 1e6/off); p = n * (1e6/plpgsql - 1e6/off);
                 printf "%.1f us vs %.1f us: PL/pgSQL costs %.1fx", c, p, p / c }'
}
for workload in mix transaction; do
    compare "${workload}_off" "${workload}_cpp" "${workload}_plpgsql"
    declare -n on="tps_${workload}_cpp" off="tps_${workload}_off" peer="tps_${workload}_plpgsql"
    label=$([ "$workload" = mix ] && echo "single-row writes" || echo "3-write transactions")
    line "$label: audited / unaudited" "$(median "${on[@]}")" "$(median "${off[@]}")" \
         "$(ratio "tps_${workload}_cpp" "tps_${workload}_off")" ">= 0.85"
    line "$label: audited / PL/pgSQL" "$(median "${on[@]}")" "$(median "${peer[@]}")" \
         "$(ratio "tps_${workload}_cpp" "tps_${workload}_plpgsql")" ""
    echo "  audit cost per transaction (from TPS, noisy): $(audit_cost "$(median "${off[@]}")" "$(median "${on[@]}")" "$(median "${peer[@]}")")"
    unset -n on off peer
done

# The write path: a service role, $wp_tenants tenants, one INSERT and one
# UPDATE by primary key per transaction; pg_tenancy against the hand-written
# recipe, each without and with its audit; then one hot tenant.
compare wp_off wp_cpp wp_hand wp_hand_audit
echo "write path ($wp_tenants tenants x $wp_rows rows, service role, INSERT + UPDATE per transaction):"
line "  tenancy, no audit / hand RLS" "$(median "${tps_wp_off[@]}")" "$(median "${tps_wp_hand[@]}")" \
     "$(ratio tps_wp_off tps_wp_hand)" ">= 0.97"
line "  tenancy audit on / audit off" "$(median "${tps_wp_cpp[@]}")" "$(median "${tps_wp_off[@]}")" \
     "$(ratio tps_wp_cpp tps_wp_off)" ">= 0.90"
line "  tenancy audited / hand RLS + PL/pgSQL" "$(median "${tps_wp_cpp[@]}")" "$(median "${tps_wp_hand_audit[@]}")" \
     "$(ratio tps_wp_cpp tps_wp_hand_audit)" ">= 1.30"
compare hot_off hot_hand
line "  hot tenant ($hot_clients clients): / hand RLS" "$(median "${tps_hot_off[@]}")" "$(median "${tps_hot_hand[@]}")" \
     "$(ratio tps_hot_off tps_hot_hand)" ">= 0.97"

# Bulk UPDATE of 100k rows of one tenant, timed by psql, alternating tables.
bulk_ms() {
    psql -X -q <<SQL | awk '/^Time: / { print $2 }'
VACUUM bench.bulk_$1;
SELECT set_config('tenancy.tenant', md5('1')::uuid::text, false) \\g /dev/null
\\timing on
UPDATE bench.bulk_$1 SET amount = amount + 1, note = note;
SQL
}
declare -a ms_off=() ms_cpp=() ms_plpgsql=()
for round in 1 2 3; do
    for v in off cpp plpgsql; do eval "ms_$v+=($(bulk_ms $v | tail -1))"; done
done
off=$(median "${ms_off[@]}"); cpp=$(median "${ms_cpp[@]}"); plpgsql=$(median "${ms_plpgsql[@]}")
echo
printf 'bulk UPDATE of 100000 rows (median of 3): no audit %.0f ms, pg_tenancy audit %.0f ms, PL/pgSQL audit %.0f ms\n' \
    "$off" "$cpp" "$plpgsql"
awk -v off="$off" -v cpp="$cpp" -v plpgsql="$plpgsql" 'BEGIN {
    printf "bulk: audited throughput / unaudited %.2f; audited / PL/pgSQL %.2fx; audit cost per row %.2f us vs %.2f us: PL/pgSQL costs %.1fx\n",
        off / cpp, plpgsql / cpp, (cpp - off) / 100, (plpgsql - off) / 100, (plpgsql - off) / (cpp - off) }'

echo
PGUSER=$admin_user PGPASSWORD=$admin_password ./denials.sh

echo
PGUSER=postgres ./instructions.sh

echo
PGUSER=$admin_user PGPASSWORD=$admin_password ./online.sh

echo
PGUSER=$admin_user PGPASSWORD=$admin_password ./lifecycle.sh

echo
PGUSER=$admin_user PGPASSWORD=$admin_password ./metering.sh

echo
PGUSER=$admin_user PGPASSWORD=$admin_password ./pii.sh
PGUSER=$admin_user PGPASSWORD=$admin_password ./portability.sh

echo
PGUSER=$admin_user PGPASSWORD=$admin_password ./schema_tenants.sh

echo
PGUSER=$admin_user PGPASSWORD=$admin_password ./move_tenant.sh
