#!/bin/sh
# bench/peer_cpu.sh - what streaming to a peer costs the node that takes the
# writes, in CPU time per request rather than in requests/s: on a small machine
# the peer and redis-benchmark compete for the same cores, so peers.sh part (a)
# mixes the writer's overhead with that contention.  For each test, the same
# redis-benchmark run is sent to lattice A alone, then to A with peer B joined
# (REPLICAOF), and A's user+system CPU seconds (from /proc) are divided by the
# requests.  Prints A's CPU per request with and without the peer, their ratio,
# and B's CPU per request.  A (and B, CPU_B) on core 0, the client on core 1.
# Servers on free ports, stopped by pid on exit.
#
#   sh bench/peer_cpu.sh                       # defaults below
#   TESTS=set,incr N=500000 P=16 sh bench/peer_cpu.sh
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
. "$root/redis-tests/server.sh"
LATTICE_SERVER=${LATTICE_SERVER:-$root/src/lattice-server}
TESTS=${TESTS:-set,incr,sadd,hset,mset}
N=${N:-400000}
P=${P:-16}
ROUNDS=${ROUNDS:-3}
CPU_B=${CPU_B:-0}        # B next to A, so that redis-benchmark keeps core 1 to itself
tick=$(getconf CLK_TCK)
pids=""
cleanup() { for p in $pids; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT INT TERM
cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; }
start() {   # port cpu -> pid
    taskset -c "$2" "$LATTICE_SERVER" --port "$1" --bind 127.0.0.1 --peer-timeout-ms 5000 >/dev/null 2>&1 &
    echo $!
}
waitup() { for _ in $(seq 100); do redis-cli -p "$1" ping >/dev/null 2>&1 && return 0; sleep 0.05; done; return 1; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
printf '%-6s %3s %14s %14s %8s %14s\n' test P "A_us/req" "A+peer_us/req" ratio "B_us/req"
for t in $(echo "$TESTS" | tr ',' ' '); do
    solo=""; peer=""; bcost=""
    for r in $(seq "$ROUNDS"); do
        pa=$(srv_pick_port); A=$(start "$pa" 0); pids="$pids $A"; waitup "$pa"
        c0=$(cpu "$A"); taskset -c 1 redis-benchmark -p "$pa" -c 50 -r 100000 -d 16 -n "$N" -P "$P" -t "$t" -q >/dev/null
        c1=$(cpu "$A"); solo="$solo $(echo "($c1 - $c0) * 1000000 / $tick / $N" | bc -l)"
        pb=$(srv_pick_port); B=$(start "$pb" "$CPU_B"); pids="$pids $B"; waitup "$pb"
        redis-cli -p "$pb" REPLICAOF 127.0.0.1 "$pa" >/dev/null
        for _ in $(seq 100); do redis-cli -p "$pa" info replication | grep -q "connected_peers:1" && break; sleep 0.05; done
        c0=$(cpu "$A"); b0=$(cpu "$B")
        taskset -c 1 redis-benchmark -p "$pa" -c 50 -r 100000 -d 16 -n "$N" -P "$P" -t "$t" -q >/dev/null
        sleep 0.5
        c1=$(cpu "$A"); b1=$(cpu "$B")
        peer="$peer $(echo "($c1 - $c0) * 1000000 / $tick / $N" | bc -l)"
        bcost="$bcost $(echo "($b1 - $b0) * 1000000 / $tick / $N" | bc -l)"
        kill "$A" "$B"; wait "$A" "$B" 2>/dev/null || true
    done
    s=$(echo "$solo" | tr ' ' '\n' | grep . | median); p=$(echo "$peer" | tr ' ' '\n' | grep . | median)
    b=$(echo "$bcost" | tr ' ' '\n' | grep . | median)
    printf '%-6s %3s %14.3f %14.3f %8.2f %14.3f\n' "$t" "$P" "$s" "$p" "$(echo "$p / $s" | bc -l)" "$b"
done
