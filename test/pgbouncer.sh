# Starting a real PgBouncer for the test suites (test/pooler, test/django),
# sourced by them. server_reset_query_always = 0 (the default): nothing
# cleans a server connection between transaction-pool clients, which is what
# would make a session-level SET leak to the next client.

# start_pgbouncer WORKDIR PASSWORD ROLES... < [databases] lines
# Writes pgbouncer.ini (the [databases] section from standard input) and a
# userlist with each role and the password into WORKDIR, starts PgBouncer on a
# free port of 127.0.0.1 and waits until it answers. Sets bport and
# bouncer_pid; returns non-zero (its output in $bouncer_output) if it did not
# start. The caller stops it with stop_pgbouncer.
start_pgbouncer() {
    local work=$1 password=$2 role; shift 2
    bport=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    {
        echo "[databases]"
        cat
        cat <<EOF2

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $bport
unix_socket_dir =
auth_type = scram-sha-256
auth_file = $work/userlist.txt
logfile = $work/pgbouncer.log
pidfile = $work/pgbouncer.pid
pool_mode = transaction
default_pool_size = 2
min_pool_size = 0
reserve_pool_size = 0
max_client_conn = 100
server_reset_query = DISCARD ALL
server_reset_query_always = 0
EOF2
    } > "$work/pgbouncer.ini"
    for role in "$@"; do echo "\"$role\" \"$password\""; done > "$work/userlist.txt"
    local -a run_as=()
    if [ "$(id -u)" = 0 ]; then
        chown -R postgres: "$work"   # PgBouncer refuses to run as root
        run_as=(-u postgres)
    fi
    /usr/sbin/pgbouncer "${run_as[@]}" "$work/pgbouncer.ini" >"$work/pgbouncer.out" 2>&1 &
    bouncer_pid=$!
    for _ in $(seq 50); do
        pg_isready -q -h 127.0.0.1 -p "$bport" && return 0
        kill -0 "$bouncer_pid" 2>/dev/null || break
        sleep 0.2
    done
    bouncer_output=$(cat "$work/pgbouncer.out" "$work/pgbouncer.log" 2>/dev/null)
    return 1
}

# Stops the PgBouncer that start_pgbouncer started, if any.
stop_pgbouncer() {
    if [ -n "${bouncer_pid:-}" ]; then
        kill "$bouncer_pid" 2>/dev/null
        wait "$bouncer_pid" 2>/dev/null
        bouncer_pid=""
    fi
}
