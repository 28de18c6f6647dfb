#!/bin/sh
# bench/run.sh - throughput of lattice against redis-server on this machine, same run.
#
# Starts src/lattice-server and redis-server (--save '' --appendonly no) on free ports,
# both pinned to core 0, and runs redis-benchmark pinned to core 1:
#   -c 50 -r 100000 -d 16 -t <one test> --csv, at -P 1 and -P 16
# in ROUNDS rounds; within a round every (depth, test) pair runs on lattice, then on
# redis, so slow drift of the machine hits both alike.  Prints, per test and depth, the
# median requests/s of each server and lattice/redis, then each server's median CPU
# time per request (user + system, from /proc, so it includes the system calls) and
# redis/lattice.  At -P 1 lattice's figure includes its busy polling (busy-poll-us),
# which fills the time it would otherwise sleep between requests, so the work a
# request costs compares at -P 16.  A test that fails (error reply,
# closed connection, timeout) counts as n/a for that server; a server that died is
# restarted for the next test.  Raw results: bench/out/<time>/results.csv.
#
# Environment:
#   LATTICE_SERVER  lattice binary (default src/lattice-server); set it to
#                   /usr/bin/redis-server to check this script itself
#   LATTICE_ARGS    arguments for lattice before --port/--bind (a config file first)
#   REDIS_SERVER    reference binary (default /usr/bin/redis-server)
#   ROUNDS          rounds (default 5)
#   N_P1, N_P16     requests per run at -P 1 (default 200000) and -P 16 (default 1000000)
#   TESTS           redis-benchmark tests (default set,get,incr,mset,sadd,hset)
#   BENCH_TIMEOUT   seconds before one redis-benchmark run is abandoned (default 120)
set -u

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
lattice_bin=${LATTICE_SERVER:-$root/src/lattice-server}
redis_bin=${REDIS_SERVER:-/usr/bin/redis-server}
rounds=${ROUNDS:-5}
n_p1=${N_P1:-200000}
n_p16=${N_P16:-1000000}
tests=$(echo "${TESTS:-set,get,incr,mset,sadd,hset}" | tr , ' ')
bench_timeout=${BENCH_TIMEOUT:-120}
out=$here/out/$(date +%Y%m%d-%H%M%S)
results=$out/results.csv
tick=$(getconf CLK_TCK 2>/dev/null || echo 100)

# shellcheck source=redis-tests/server.sh
. "$root/redis-tests/server.sh"
# shellcheck source=bench/lib.sh
. "$root/bench/lib.sh"
lattice_pid=""
lattice_port=""
redis_pid=""
redis_port=""
bench_pid=""

# Pinning needs two cores; without them the figures mean little, but still run.
pin_server="taskset -c 0"
pin_client="taskset -c 1"
if [ "$(nproc)" -lt 2 ] || ! command -v taskset >/dev/null 2>&1; then
    echo "bench: fewer than 2 cores or no taskset: running unpinned" >&2
    pin_server=""
    pin_client=""
fi

# start_server NAME: starts lattice or redis, pinned to core 0; sets NAME_pid and
# NAME_port.
start_server() {
    if [ "$1" = lattice ]; then
        # shellcheck disable=SC2086
        srv_start "$out/lattice.server.log" "$out" $pin_server "$lattice_bin" ${LATTICE_ARGS:-}
    else
        # shellcheck disable=SC2086
        srv_start "$out/redis.server.log" "$out" $pin_server "$redis_bin" --save '' --appendonly no
    fi || { echo "bench: $1 did not start; see $out/$1.server.log" >&2; return 1; }
    if [ "$1" = lattice ]; then
        lattice_pid=$srv_pid lattice_port=$srv_port
    else
        redis_pid=$srv_pid redis_port=$srv_port
    fi
}

# server_of NAME: sets pid and port to those of lattice or redis.
server_of() {
    if [ "$1" = lattice ]; then
        pid=$lattice_pid port=$lattice_port
    else
        pid=$redis_pid port=$redis_port
    fi
}

stop_all() {
    [ -z "$bench_pid" ] || kill "$bench_pid" 2>/dev/null
    srv_stop "$lattice_pid"
    lattice_pid=""
    srv_stop "$redis_pid"
    redis_pid=""
}

# cpu_ticks PID: user + system CPU time the process used so far, in clock ticks.
cpu_ticks() {
    awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0
}

# bench_one NAME DEPTH TEST: one redis-benchmark run; appends
# "name,depth,test,rps,cpu_us" to the results: rps is n/a when the run failed, cpu_us
# the server's CPU time per request in microseconds.
bench_one() {
    name=$1
    depth=$2
    t=$3
    server_of "$name"
    if ! srv_alive "$pid"; then
        echo "bench: $name is not running; restarting it" >&2
        start_server "$name" || { echo "$name,$depth,$t,n/a" >>"$results"; return; }
        server_of "$name"
    fi
    n=$n_p1
    [ "$depth" -eq 1 ] || n=$n_p16
    c0=$(cpu_ticks "$pid")
    bench_watched "$name" "$port" "$pid" "$depth" "$t" "$n"
    c1=$(cpu_ticks "$pid")
    rps=$bench_rps
    cpu=n/a
    [ "$rps" = n/a ] || cpu=$(awk -v a="$c0" -v b="$c1" -v hz="$tick" -v n="$n" 'BEGIN { printf "%.3f", (b - a) * 1e6 / hz / n }')
    echo "$name,$depth,$t,$rps,$cpu" >>"$results"
    printf '  %-7s -P %-2s %-5s %s (%s us CPU/request)\n' "$name" "$depth" "$t" "$rps" "$cpu"
}

# median NAME DEPTH TEST [FIELD [FORMAT]]: median of a results column (default 4,
# requests/s) over the successful runs, or n/a if none.
median() {
    awk -F, -v s="$1" -v d="$2" -v t="$3" -v f="${4:-4}" \
        '$1 == s && $2 == d && $3 == t && $f != "n/a" { print $f }' "$results" |
        sort -n | awk -v fmt="${5:-%.0f}" '{ v[NR] = $1 }
            END {
                if (NR == 0) { print "n/a"; exit }
                if (NR % 2) printf fmt "\n", v[(NR + 1) / 2]
                else printf fmt "\n", (v[NR / 2] + v[NR / 2 + 1]) / 2
            }'
}

failures() {
    awk -F, -v s="$1" -v d="$2" -v t="$3" \
        '$1 == s && $2 == d && $3 == t && $4 == "n/a" { n++ } END { print n + 0 }' "$results"
}

command -v redis-benchmark >/dev/null 2>&1 || { echo "bench: redis-benchmark missing (apt-get install redis-tools)" >&2; exit 1; }
[ -x "$lattice_bin" ] || { echo "bench: $lattice_bin not found (run make)" >&2; exit 1; }
[ -x "$redis_bin" ] || { echo "bench: $redis_bin not found (apt-get install redis-server)" >&2; exit 1; }
mkdir -p "$out" || exit 1
: >"$results"

trap 'stop_all' EXIT
trap 'stop_all; exit 130' INT TERM

start_server lattice || exit 1
start_server redis || exit 1
echo "bench: lattice $lattice_bin on port $lattice_port (pid $lattice_pid), redis $redis_bin on port $redis_port (pid $redis_pid)"
echo "bench: $rounds rounds; -n $n_p1 at -P 1, -n $n_p16 at -P 16; tests: $tests; raw results in $out"

r=1
while [ $r -le "$rounds" ]; do
    echo "round $r/$rounds"
    for depth in 1 16; do
        for t in $tests; do
            bench_one lattice "$depth" "$t"
            bench_one redis "$depth" "$t"
        done
    done
    r=$((r + 1))
done

echo
echo "Median requests/s over $rounds rounds ($(nproc) cores; servers on core 0, redis-benchmark on core 1)"
printf '%-6s %3s %12s %12s %14s\n' test P lattice redis lattice/redis
for depth in 1 16; do
    for t in $tests; do
        l=$(median lattice "$depth" "$t")
        rd=$(median redis "$depth" "$t")
        ratio=n/a
        if [ "$l" != n/a ] && [ "$rd" != n/a ]; then
            ratio=$(awk -v a="$l" -v b="$rd" 'BEGIN { printf "%.2f", a / b }')
        fi
        note=""
        fl=$(failures lattice "$depth" "$t")
        fr=$(failures redis "$depth" "$t")
        [ "$fl" -eq 0 ] || note="$note lattice failed $fl/$rounds"
        [ "$fr" -eq 0 ] || note="$note redis failed $fr/$rounds"
        printf '%-6s %3s %12s %12s %14s%s\n' "$(echo "$t" | tr '[:lower:]' '[:upper:]')" "$depth" "$l" "$rd" "$ratio" "$note"
    done
done

echo
echo "Median server CPU time per request (us; lower is cheaper; redis/lattice > 1: lattice cheaper)"
printf '%-6s %3s %12s %12s %14s\n' test P lattice redis redis/lattice
for depth in 1 16; do
    for t in $tests; do
        l=$(median lattice "$depth" "$t" 5 %.3f)
        rd=$(median redis "$depth" "$t" 5 %.3f)
        ratio=n/a
        if [ "$l" != n/a ] && [ "$rd" != n/a ] && [ "$l" != 0.000 ]; then
            ratio=$(awk -v a="$rd" -v b="$l" 'BEGIN { printf "%.2f", a / b }')
        fi
        printf '%-6s %3s %12s %12s %14s\n' "$(echo "$t" | tr '[:lower:]' '[:upper:]')" "$depth" "$l" "$rd" "$ratio"
    done
done
