#!/bin/sh
# bench/memory.sh - resident memory of lattice against redis-server for the same data.
#
# Starts each server (lattice, then redis-server with --save '' --appendonly no) on a
# free port, pinned to core 0, and loads with redis-benchmark (pinned to core 1):
#   strings: SET key:__rand_int__ with -r STRING_KEYS and 4x as many requests (-d 16),
#            so about 98% of the key space exists;
#   sets:    SADD set:__rand_int__ __rand_int__ with -r SET_RANGE;
#   hashes:  HSET hash:__rand_int__ f:__rand_int__ __rand_int__ with -r HASH_RANGE.
# Then reads DBSIZE and the resident set size (VmRSS of the server process) and
# prints both servers' figures, the RSS growth over the empty server, and the ratio
# lattice/redis of that growth, which includes lattice's CRDT metadata.
#
# Environment: LATTICE_SERVER, REDIS_SERVER, STRING_KEYS (default 1000000),
# SET_RANGE / HASH_RANGE (default 10000), SETHASH_REQUESTS (default 500000).
set -u

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
lattice_bin=${LATTICE_SERVER:-$root/src/lattice-server}
redis_bin=${REDIS_SERVER:-/usr/bin/redis-server}
string_keys=${STRING_KEYS:-1000000}
set_range=${SET_RANGE:-10000}
hash_range=${HASH_RANGE:-10000}
sethash_n=${SETHASH_REQUESTS:-500000}
out=$here/out/memory-$(date +%Y%m%d-%H%M%S)
mkdir -p "$out"

# shellcheck source=redis-tests/server.sh
. "$root/redis-tests/server.sh"
pid=""
trap 'srv_stop "$pid"' EXIT INT TERM

pin_server="taskset -c 0"
pin_client="taskset -c 1"
if [ "$(nproc)" -lt 2 ] || ! command -v taskset >/dev/null 2>&1; then
    pin_server=""
    pin_client=""
fi

rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }

bench() {
    # shellcheck disable=SC2086
    $pin_client redis-benchmark -h 127.0.0.1 -p "$port" -c 50 -P 64 -q "$@" >/dev/null 2>&1
}

# measure NAME BIN ARGS...: prints "NAME dbsize base_kb loaded_kb"
measure() {
    name=$1
    shift
    # shellcheck disable=SC2086
    if ! srv_start "$out/$name.log" "$out" $pin_server "$@"; then
        echo "memory: $name did not start (see $out/$name.log)" >&2
        exit 1
    fi
    pid=$srv_pid
    port=$srv_port
    base=$(rss_kb "$pid")
    bench -t set -d 16 -r "$string_keys" -n $((string_keys * 4))
    bench -r "$set_range" -n "$sethash_n" sadd 'set:__rand_int__' '__rand_int__'
    bench -r "$hash_range" -n "$sethash_n" hset 'hash:__rand_int__' 'f:__rand_int__' '__rand_int__'
    sleep 1
    loaded=$(rss_kb "$pid")
    keys=$(redis-cli -p "$port" dbsize)
    srv_stop "$pid"
    pid=""
    echo "$name $keys $base $loaded"
}

l=$(measure lattice "$lattice_bin" --save '' --appendonly no)
r=$(measure redis "$redis_bin" --save '' --appendonly no)
echo "$l" "$r" | awk '{
    lg = $4 - $3; rg = $8 - $7;
    printf "server   keys       rss_empty_kb  rss_loaded_kb  growth_kb\n";
    printf "lattice  %-10d %-13d %-14d %d\n", $2, $3, $4, lg;
    printf "redis    %-10d %-13d %-14d %d\n", $6, $7, $8, rg;
    printf "resident memory growth lattice/redis: %.2f\n", lg / rg;
}'
