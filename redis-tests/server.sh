# shellcheck shell=sh
# redis-tests/server.sh - sourced (POSIX sh) by redis-tests/run.sh and bench/run.sh:
# starts a Redis-compatible server on a free loopback port and stops it by its pid.
# Never uses port 6379 and never touches a process it did not start.  Needs redis-cli.
# Its variables and functions all start with srv_.

# Prints a port in 30000-32699 that nothing listens on: below Linux's ephemeral range,
# above the ports Redis's test suite uses for itself.
srv_pick_port() {
    while :; do
        srv_p=$(($(od -An -N2 -tu2 /dev/urandom) % 2700 + 30000))
        if command -v ss >/dev/null 2>&1 && [ -n "$(ss -Hltn "sport = :$srv_p" 2>/dev/null)" ]; then
            continue
        fi
        echo "$srv_p"
        return
    done
}

# True if PID is a running process: neither gone nor a zombie awaiting wait.
srv_alive() {
    [ -n "$1" ] || return 1
    srv_state=$(ps -o stat= -p "$1" 2>/dev/null)
    [ -n "$srv_state" ] && [ "${srv_state#Z}" = "$srv_state" ]
}

# srv_start LOG DIR COMMAND...: runs "COMMAND... --port P --bind 127.0.0.1" in DIR as a
# background child, output appended to LOG, and waits until it answers PING.  Sets
# srv_pid and srv_port.  Tries another port if the server exits (port taken meanwhile);
# returns 1 after five failed starts or if it never answers within 10 s.
srv_start() {
    srv_log=$1
    srv_dir=$2
    shift 2
    srv_attempt=0
    while [ $srv_attempt -lt 5 ]; do
        srv_attempt=$((srv_attempt + 1))
        srv_port=$(srv_pick_port)
        (cd "$srv_dir" && exec "$@" --port "$srv_port" --bind 127.0.0.1) >>"$srv_log" 2>&1 &
        srv_pid=$!
        srv_i=0
        while [ $srv_i -lt 100 ] && srv_alive "$srv_pid"; do
            if [ "$(redis-cli -h 127.0.0.1 -p "$srv_port" ping 2>/dev/null)" = PONG ]; then
                # A server that lost the port race exits at once; PONG came from another.
                sleep 0.1
                srv_alive "$srv_pid" && return 0
            fi
            sleep 0.1
            srv_i=$((srv_i + 1))
        done
        srv_stop "$srv_pid"
    done
    srv_pid=""
    srv_port=""
    return 1
}

# srv_stop PID: TERM, then KILL after 5 s; reaps the child.  An empty PID is a no-op.
srv_stop() {
    [ -n "$1" ] || return 0
    kill "$1" 2>/dev/null
    srv_i=0
    while srv_alive "$1" && [ $srv_i -lt 50 ]; do
        sleep 0.1
        srv_i=$((srv_i + 1))
    done
    kill -9 "$1" 2>/dev/null
    wait "$1" 2>/dev/null
    return 0
}
