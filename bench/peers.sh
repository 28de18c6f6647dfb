#!/bin/sh
# bench/peers.sh - the peering figures of the spec (issue #4), against redis-server
# started in the same run.  Three parts, each skippable (PARTS):
#
#  a  Throughput with one peer connected and streaming: lattice A joined by an empty
#     lattice B (REPLICAOF on B), redis-benchmark -c 50 -r 100000 -d 16 -t <one test>
#     at -P 1 and -P 16 against A, and the same against a standalone redis-server, in
#     ROUNDS interleaved rounds as in run.sh.  Median requests/s and lattice/redis per
#     test (goal >= 0.9).  Afterwards B must reach A's DEBUG DIGEST.
#  b  Anti-entropy after a partition: A loaded with KEYS keys (key:0.. with 16-byte
#     values, through redis-cli --pipe), B joins (join time), then B is SIGSTOPped until
#     A has marked the link down, CHANGED existing keys get new values on A, B is
#     SIGCONTed.  Time until B holds A's contents (goal < 2 s) and the peer bytes both
#     nodes moved meanwhile, as a share of the dataset's bytes (goal < 5%).
#  c  Join of an empty node to a KEYS-key node, lattice (REPLICAOF until B holds A's
#     contents) against a Redis replica's full sync of the same data (REPLICAOF until
#     master_link_status:up, master_sync_in_progress:0 and equal DBSIZE).
#  b and c run REPEAT times on fresh servers; the tables show medians.
#
# "Holds A's contents" is checked cheaply every POLL_MS (b: MGET of the changed keys
# gives A's new values; c: DBSIZE equal), and each time the cheap check passes by
# DEBUG DIGEST on B against A's digest (taken once, before the clock starts: A does not
# change meanwhile).  The time reported is when the cheap check passed that was then
# confirmed by an equal digest; the time after the confirming digest is in the raw
# CSV.  DEBUG DIGEST walks the whole keyspace (about 0.2 s per 1M keys), so polling it
# every POLL_MS would stall B and slow what is measured.
#
# Pinning (when taskset exists and nproc >= 2): A and the Redis master on core 0,
# redis-benchmark and the loader on core 1, B and the Redis replica on core 2, or on
# core 1 next to the client when there are only 2 cores (said in the output).
# Every wait has a timeout; a lattice failure (does not start, REPLICAOF refused, link
# never online, no convergence) is reported and makes the exit status 1.  Servers are
# stopped by pid on exit.  Raw results: bench/out/peers-<time>/{a,b,c}.csv.
#
# Environment:
#   PARTS            parts to run (default "a b c")
#   LATTICE_SERVER   lattice binary (default src/lattice-server)
#   LATTICE_ARGS     its arguments before the peering ones (a config file first)
#   LATTICE_PEER_ARGS  peering arguments; default "--anti-entropy-interval-ms
#                    $AE_INTERVAL_MS --peer-heartbeat-ms $HEARTBEAT_MS
#                    --peer-timeout-ms $PEER_TIMEOUT_MS"; set it empty to pass none
#   AE_INTERVAL_MS, HEARTBEAT_MS, PEER_TIMEOUT_MS  (default 1000, 200, 1000)
#   REDIS_SERVER     reference binary (default /usr/bin/redis-server)
#   REDIS_SYNC_ARGS  sync settings of both Redis servers (default "--repl-diskless-sync
#                    yes --repl-diskless-sync-delay 0 --repl-diskless-load disabled":
#                    the master streams the RDB over the socket at once, the replica
#                    stores it to disk, then loads it: Redis 7.0's defaults without the
#                    5 s wait for more replicas)
#   ROUNDS           part a rounds (default 5)
#   N_P1, N_P16      part a requests per run (default 200000, 1000000)
#   TESTS            part a tests (default set,get,incr,sadd,hset,mset)
#   REPEAT           part b and c repetitions (default 3)
#   KEYS, CHANGED    dataset size and keys changed in the partition (1000000, 1000)
#   POLL_MS          poll interval of the convergence waits (default 20)
#   BENCH_TIMEOUT    s, one redis-benchmark run (default 120)
#   LOAD_TIMEOUT     s, loading KEYS keys (default 300)
#   ONLINE_TIMEOUT   s, until A lists B online after a join (default 10)
#   DOWN_TIMEOUT     s, until A marks the stopped B down (default 15)
#   JOIN_TIMEOUT     s, a join of an empty node to KEYS keys (default 300)
#   HEAL_TIMEOUT     s, convergence after the partition (default 60)
#   CPU_A, CPU_B, CPU_CLIENT  taskset core lists overriding the pinning above
#
# Checking the script itself: LATTICE_SERVER=/usr/bin/redis-server LATTICE_PEER_ARGS=
# LATTICE_ARGS='--enable-debug-command yes --repl-diskless-sync-delay 0' runs
# the lattice side on Redis replication (B is then a read-only replica, A never marks
# it down, and the peer_* counters are n/a).
set -u

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
lattice_bin=${LATTICE_SERVER:-$root/src/lattice-server}
redis_bin=${REDIS_SERVER:-/usr/bin/redis-server}
parts=${PARTS:-a b c}
ae_interval_ms=${AE_INTERVAL_MS:-1000}
heartbeat_ms=${HEARTBEAT_MS:-200}
peer_timeout_ms=${PEER_TIMEOUT_MS:-1000}
peer_args=${LATTICE_PEER_ARGS---anti-entropy-interval-ms $ae_interval_ms --peer-heartbeat-ms $heartbeat_ms --peer-timeout-ms $peer_timeout_ms}
redis_sync_args=${REDIS_SYNC_ARGS:---repl-diskless-sync yes --repl-diskless-sync-delay 0 --repl-diskless-load disabled}
rounds=${ROUNDS:-5}
n_p1=${N_P1:-200000}
n_p16=${N_P16:-1000000}
tests=$(echo "${TESTS:-set,get,incr,sadd,hset,mset}" | tr , ' ')
repeat=${REPEAT:-3}
nkeys=${KEYS:-1000000}
changed=${CHANGED:-1000}
poll_ms=${POLL_MS:-20}
bench_timeout=${BENCH_TIMEOUT:-120}
load_timeout=${LOAD_TIMEOUT:-300}
online_timeout=${ONLINE_TIMEOUT:-10}
down_timeout=${DOWN_TIMEOUT:-15}
join_timeout=${JOIN_TIMEOUT:-300}
heal_timeout=${HEAL_TIMEOUT:-60}
out=$here/out/peers-$(date +%Y%m%d-%H%M%S)
poll_s=$(awk -v m="$poll_ms" 'BEGIN { printf "%.3f", m / 1000 }')

# shellcheck source=redis-tests/server.sh
. "$root/redis-tests/server.sh"
# shellcheck source=bench/lib.sh
. "$root/bench/lib.sh"
# Servers: NAME_pid and NAME_port, set and read (also through eval) by start and stop.
a_pid="" a_port=""      # lattice A
b_pid="" b_port=""      # lattice B, the peer
r1_pid="" r1_port=""    # redis: standalone (a) or master (c)
# shellcheck disable=SC2034
r2_pid="" r2_port=""    # redis replica (c)
bench_pid=""
failed=""               # parts whose lattice side failed

ncores=$(nproc)
if [ "$ncores" -ge 2 ] && command -v taskset >/dev/null 2>&1; then
    cpu_a=${CPU_A:-0}
    cpu_client=${CPU_CLIENT:-1}
    if [ "$ncores" -ge 3 ]; then cpu_b=${CPU_B:-2}; else cpu_b=${CPU_B:-1}; fi
    pin_a="taskset -c $cpu_a"
    pin_b="taskset -c $cpu_b"
    pin_client="taskset -c $cpu_client"
    pinning="A and redis on core $cpu_a, B and the redis replica on core $cpu_b, client on core $cpu_client"
    [ "$cpu_b" != "$cpu_client" ] || pinning="$pinning (B shares the client's core: only $ncores cores)"
else
    echo "peers: fewer than 2 cores or no taskset: running unpinned" >&2
    pin_a="" pin_b="" pin_client=""
    pinning="unpinned"
fi

now_ms() { date +%s%3N; }

# cli PORT ARGS...: redis-cli against 127.0.0.1:PORT, never waiting more than 10 s.
cli() {
    cli_p=$1
    shift
    timeout 10 redis-cli -h 127.0.0.1 -p "$cli_p" "$@" 2>/dev/null | tr -d '\r'
}

# info_field PORT SECTION FIELD: the value of FIELD in INFO SECTION, empty if absent.
info_field() {
    cli "$1" info "$2" | sed -n "s/^$3://p"
}

# peer_states PORT: the state of each peer line of INFO replication, one a line
# (peerN:...,state=S,... ; slaveN: lines too, for the check of the script on Redis).
peer_states() {
    cli "$1" info replication |
        awk '/^(peer|slave)[0-9]+:/ { s = $0; sub(/.*state=/, "", s); sub(/,.*/, "", s); print s }'
}

peer_online() { peer_states "$1" | grep -qx online; }

# peer_stats PORT: "bytes_sent bytes_received deltas_sent deltas_received ae_rounds
# ae_keys_repaired" from INFO stats, n/a for a field that is missing.
peer_stats() {
    cli "$1" info stats | awk -F: '{ v[$1] = $2 }
        END {
            n = split("peer_bytes_sent peer_bytes_received peer_deltas_sent peer_deltas_received anti_entropy_rounds anti_entropy_keys_repaired", f, " ")
            for (i = 1; i <= n; i++) printf "%s%s", (f[i] in v && v[f[i]] ~ /^[0-9]+$/) ? v[f[i]] : "n/a", i < n ? " " : "\n"
        }'
}

# stats_delta "BEFORE" "AFTER": field-wise AFTER - BEFORE of two peer_stats lines.
stats_delta() {
    echo "$1 $2" | awk '{
        for (i = 1; i <= 6; i++) {
            d = ($i == "n/a" || $(i + 6) == "n/a") ? "n/a" : $(i + 6) - $i
            printf "%s%s", d, i < 6 ? " " : "\n"
        }
    }'
}

# add A B: A + B, n/a if either is.
add() {
    if [ "$1" = n/a ] || [ "$2" = n/a ]; then echo n/a; else echo $(($1 + $2)); fi
}

# start NAME KIND PIN: starts lattice or redis (KIND) as A, B, R1 or R2 (NAME) in a new
# directory of its own (out/NAME.SEQ), so that nothing a previous server left there (a
# replica's dump.rdb) is loaded; sets NAME_pid, NAME_port and NAME_dir.
seq=0
start() {
    seq=$((seq + 1))
    st_dir=$out/$1.$seq
    mkdir -p "$st_dir"
    if [ "$2" = lattice ]; then
        # shellcheck disable=SC2086
        srv_start "$st_dir/server.log" "$st_dir" $3 "$lattice_bin" ${LATTICE_ARGS:-} $peer_args
    else
        # shellcheck disable=SC2086
        srv_start "$st_dir/server.log" "$st_dir" $3 "$redis_bin" --save '' --appendonly no $redis_sync_args
    fi || {
        echo "peers: $2 server $1 did not start; last lines of $st_dir/server.log:" >&2
        tail -n 5 "$st_dir/server.log" | sed 's/^/    /' >&2
        return 1
    }
    eval "${1}_pid=\$srv_pid ${1}_port=\$srv_port ${1}_dir=\$st_dir"
}

# stop NAME: stops a server started by start (continuing it first if it was stopped)
# and removes the RDB files a Redis replica leaves in its directory.
stop() {
    eval "sp_pid=\$${1}_pid sp_dir=\${${1}_dir:-}"
    if [ -n "$sp_pid" ]; then
        kill -CONT "$sp_pid" 2>/dev/null
        srv_stop "$sp_pid"
    fi
    [ -z "$sp_dir" ] || rm -f "$sp_dir/dump.rdb" "$sp_dir"/temp-*.rdb
    eval "${1}_pid='' ${1}_port='' ${1}_dir=''"
}

stop_all() {
    if [ -n "$bench_pid" ]; then
        kill "$bench_pid" 2>/dev/null
        wait "$bench_pid" 2>/dev/null
        bench_pid=""
    fi
    for n in a b r1 r2; do stop $n; done
}

# join JOINER_PORT TARGET_PORT: REPLICAOF; fails unless the reply starts with OK.
join() {
    jn_reply=$(cli "$1" replicaof 127.0.0.1 "$2")
    case $jn_reply in
    OK*) return 0 ;;
    esac
    echo "peers: REPLICAOF 127.0.0.1 $2 on port $1 answered: ${jn_reply:-nothing}" >&2
    return 1
}

# wait_online PORT TIMEOUT_S: until the node on PORT lists a peer as online.
wait_online() {
    wo_end=$(($(now_ms) + $2 * 1000))
    while [ "$(now_ms)" -lt $wo_end ]; do
        peer_online "$1" && return 0
        sleep 0.05
    done
    echo "peers: port $1 lists no online peer after $2 s; INFO replication:" >&2
    cli "$1" info replication | grep -E '^(connected_peers|peer[0-9]+|connected_slaves|slave[0-9]+):' | sed 's/^/    /' >&2
    return 1
}

# load PORT: KEYS keys key:0.. with 16-byte values, through redis-cli --pipe.
# shellcheck disable=SC2086  # $pin_client is a command prefix or nothing
load() {
    ld_log=$out/load.log
    awk -v n="$nkeys" 'BEGIN {
        for (i = 0; i < n; i++) {
            k = "key:" i
            printf "*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$16\r\n%016d\r\n", length(k), k, i
        }
    }' | timeout "$load_timeout" $pin_client redis-cli -h 127.0.0.1 -p "$1" --pipe >"$ld_log" 2>&1
    ld_n=$(cli "$1" dbsize)
    if ! grep -q "errors: 0, replies: $nkeys" "$ld_log" || [ "$ld_n" != "$nkeys" ]; then
        echo "peers: loading $nkeys keys into port $1 failed (DBSIZE ${ld_n:-none}); $ld_log:" >&2
        tail -n 3 "$ld_log" | sed 's/^/    /' >&2
        return 1
    fi
}

# The keys changed during the partition: CHANGED keys spread evenly over the key space,
# each given a new 16-byte value ("n" and 15 digits, never equal to the loaded one).
make_changes() {
    awk -v n="$nkeys" -v c="$changed" 'BEGIN {
        step = n / c
        for (j = 0; j < c; j++) { i = int(j * step + step / 2); print "key:" i; }
    }' >"$out/changed.keys"
    awk '{ i = substr($0, 5); printf "n%015d\n", i }' "$out/changed.keys" >"$out/changed.values"
    paste -d ' ' "$out/changed.keys" "$out/changed.values" | awk '{
        printf "*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$16\r\n%s\r\n", length($1), $1, $2
    }' >"$out/changed.resp"
    changed_keys=$(tr '\n' ' ' <"$out/changed.keys")
}

# changes_visible PORT: true if PORT holds the changed keys' new values.
changes_visible() {
    # shellcheck disable=SC2086
    cli "$1" mget $changed_keys | cmp -s - "$out/changed.values"
}

# has_all_keys PORT: true if PORT's DBSIZE is KEYS.
# shellcheck disable=SC2317  # called through converge
has_all_keys() { [ "$(cli "$1" dbsize)" = "$nkeys" ]; }

# converge PORT DIGEST T0 TIMEOUT_S CHECK: polls every POLL_MS until CHECK PORT passes
# and PORT's DEBUG DIGEST then equals DIGEST.  Sets cv_ms (CHECK passed, ms after T0)
# and cv_confirm_ms (digest returned).  Fails after TIMEOUT_S or if the node dies.
converge() {
    cv_end=$(($3 + $4 * 1000))
    cv_ms="" cv_confirm_ms=""
    cv_digest=""
    while [ "$(now_ms)" -lt $cv_end ]; do
        if $5 "$1"; then
            cv_t=$(now_ms)
            cv_digest=$(cli "$1" debug digest)
            if [ "$cv_digest" = "$2" ]; then
                cv_confirm_ms=$(($(now_ms) - $3))
                cv_ms=$((cv_t - $3))
                return 0
            fi
        fi
        sleep "$poll_s"
    done
    echo "peers: port $1 did not converge within $4 s (last digest ${cv_digest:-none}, expected $2)" >&2
    return 1
}

# redis_synced PORT: true once the Redis replica on PORT finished its sync of KEYS keys.
redis_synced() {
    rs_info=$(cli "$1" info replication)
    echo "$rs_info" | grep -qx 'master_link_status:up' &&
        echo "$rs_info" | grep -qx 'master_sync_in_progress:0' &&
        [ "$(cli "$1" dbsize)" = "$nkeys" ]
}

# median FILE COLUMN [AWK-CONDITION]: median of a numeric CSV column, n/a if none.
median() {
    awk -F, -v c="$2" "${3:-1} && \$c ~ /^[0-9.]+\$/ { print \$c }" "$1" |
        sort -n | awk '{ v[NR] = $1 }
            END {
                if (NR == 0) { print "n/a"; exit }
                if (NR % 2) printf "%.0f\n", v[(NR + 1) / 2]
                else printf "%.0f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2
            }'
}

ratio() {
    if [ "$1" = n/a ] || [ "$2" = n/a ] || [ "$2" = 0 ]; then echo n/a; else
        awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'
    fi
}

pct() {
    if [ "$1" = n/a ] || [ "$2" = n/a ]; then echo n/a; else
        awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", 100 * a / b }'
    fi
}

# --- part a: throughput with one streaming peer -------------------------------------

# pair_up: fresh lattice A and B, B joined to A, A listing B online.
pair_up() {
    stop b
    stop a
    start a lattice "$pin_a" && start b lattice "$pin_b" &&
        join "$b_port" "$a_port" && wait_online "$a_port" "$online_timeout"
}

# bench_one NAME DEPTH TEST: one redis-benchmark run against A (lattice) or R1 (redis);
# appends "name,depth,test,rps,note" to a.csv.
bench_one() {
    bo_note=""
    if [ "$1" = lattice ]; then
        if ! srv_alive "$a_pid" || ! srv_alive "$b_pid" || ! peer_online "$a_port"; then
            echo "peers: lattice pair not up (A or B died, or link not online); restarting it" >&2
            if ! pair_up; then
                echo "$1,$2,$3,n/a,pair not up" >>"$out/a.csv"
                printf '  %-13s -P %-2s %-5s n/a (pair not up)\n' "lattice+peer" "$2" "$3"
                return
            fi
            bo_note="restarted"
        fi
        bo_pid=$a_pid bo_port=$a_port
    else
        if ! srv_alive "$r1_pid"; then
            echo "peers: redis is not running; restarting it" >&2
            start r1 redis "$pin_a" || { echo "$1,$2,$3,n/a,not running" >>"$out/a.csv"; return; }
        fi
        bo_pid=$r1_pid bo_port=$r1_port
    fi
    bo_n=$n_p1
    [ "$2" -eq 1 ] || bo_n=$n_p16
    bench_watched "$1" "$bo_port" "$bo_pid" "$2" "$3" "$bo_n"
    bo_rps=$bench_rps
    if [ "$1" = lattice ] && ! peer_online "$a_port"; then
        bo_note="${bo_note:+$bo_note }link not online after run"
    fi
    echo "$1,$2,$3,$bo_rps,$bo_note" >>"$out/a.csv"
    printf '  %-13s -P %-2s %-5s %s%s\n' "$([ "$1" = lattice ] && echo lattice+peer || echo redis)" "$2" "$3" "$bo_rps" "${bo_note:+ ($bo_note)}"
}

part_a() {
    echo
    echo "== (a) throughput, lattice A with peer B streaming vs redis standalone"
    : >"$out/a.csv"
    a_converged=n/a
    start r1 redis "$pin_a" || return 1
    if ! pair_up; then
        echo "peers: (a) FAILED: could not bring up lattice A with peer B" >&2
        return 1
    fi
    echo "lattice A port $a_port (pid $a_pid), B port $b_port (pid $b_pid), redis port $r1_port (pid $r1_pid)"
    echo "$rounds rounds; -n $n_p1 at -P 1, -n $n_p16 at -P 16; tests: $tests"
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
    stop r1

    echo
    echo "Median requests/s over $rounds rounds ($ncores cores; $pinning)"
    printf '%-6s %3s %13s %12s %14s\n' test P lattice+peer redis lattice/redis
    a_min_ratio=""
    for depth in 1 16; do
        for t in $tests; do
            l=$(median "$out/a.csv" 4 "\$1 == \"lattice\" && \$2 == $depth && \$3 == \"$t\"")
            rd=$(median "$out/a.csv" 4 "\$1 == \"redis\" && \$2 == $depth && \$3 == \"$t\"")
            q=$(ratio "$l" "$rd")
            note=$(awk -F, -v d="$depth" -v t="$t" '$2 == d && $3 == t {
                    if ($4 == "n/a") f[$1]++
                    if ($1 == "lattice" && $5 ~ /link not online/) down++
                }
                END {
                    s = ""
                    if (f["lattice"]) s = s " lattice failed " f["lattice"]
                    if (f["redis"]) s = s " redis failed " f["redis"]
                    if (down) s = s " link down after " down " run(s)"
                    print s
                }' "$out/a.csv")
            printf '%-6s %3s %13s %12s %14s%s\n' "$(echo "$t" | tr '[:lower:]' '[:upper:]')" "$depth" "$l" "$rd" "$q" "$note"
            if [ "$q" = n/a ]; then a_min_ratio=n/a
            elif [ "$a_min_ratio" != n/a ]; then
                a_min_ratio=$(awk -v a="${a_min_ratio:-9e9}" -v b="$q" 'BEGIN { print (b < a) ? b : a }')
            fi
        done
    done
    a_min=${a_min_ratio:-n/a}

    # B must end with A's contents.
    if ! srv_alive "$a_pid" || ! srv_alive "$b_pid"; then
        echo "peers: (a) FAILED: A or B is not running at the end" >&2
        return 1
    fi
    da=$(cli "$a_port" debug digest)
    t0=$(now_ms)
    if converge "$b_port" "$da" "$t0" 30 true; then
        a_converged="yes"
        echo "B converged to A: DEBUG DIGEST $da on both (${cv_confirm_ms} ms after the run), DBSIZE $(cli "$a_port" dbsize)"
    else
        a_converged="NO"
        echo "peers: (a) FAILED: B did not converge to A: A $da, B $(cli "$b_port" debug digest)" >&2
    fi
    sa=$(peer_stats "$a_port")
    sb=$(peer_stats "$b_port")
    echo "A: peer_bytes_sent/received, peer_deltas_sent/received, anti_entropy_rounds/keys_repaired: $sa"
    echo "B: same counters: $sb"
    case $(echo "$sa" | cut -d' ' -f3) in
    n/a | 0) echo "peers: (a) note: A reports no peer_deltas_sent: was anything streamed?" >&2 ;;
    esac
    stop b
    stop a
    [ "$a_converged" = yes ]
}

# --- part b: anti-entropy after a partition ------------------------------------------

part_b() {
    echo
    echo "== (b) partition: $nkeys keys, B SIGSTOPped, $changed keys changed on A, B SIGCONTed ($repeat times)"
    echo "rep,join_ms,join_confirm_ms,down_ms,heal_ms,heal_confirm_ms,wire_bytes,sent_recv_bytes,partition_sent_a,repaired,used_memory,note" >"$out/b.csv"
    make_changes
    b_ok=0
    rep=1
    while [ $rep -le "$repeat" ]; do
        echo "rep $rep/$repeat"
        if run_b "$rep"; then b_ok=$((b_ok + 1)); fi
        stop b
        stop a
        rep=$((rep + 1))
    done
    b_down=$(median "$out/b.csv" 4)
    b_join=$(median "$out/b.csv" 2)
    b_heal=$(median "$out/b.csv" 5)
    b_heal_c=$(median "$out/b.csv" 6)
    b_wire=$(median "$out/b.csv" 7)
    b_sr=$(median "$out/b.csv" 8)
    b_mem=$(median "$out/b.csv" 11)
    echo
    echo "Partition, medians over $b_ok successful of $repeat reps (dataset $dataset_bytes bytes of keys+values)"
    printf '%-8s %-8s %-8s %-11s %-12s %-8s %-14s %-8s\n' join_ms heal_ms +digest wire_bytes wire_%data sent+recv sent+recv_%data used_memory
    printf '%-8s %-8s %-8s %-11s %-12s %-8s %-14s %-8s\n' "$b_join" "$b_heal" "$b_heal_c" "$b_wire" "$(pct "$b_wire" "$dataset_bytes")" \
        "$b_sr" "$(pct "$b_sr" "$dataset_bytes")" "$b_mem"
    [ $b_ok -eq "$repeat" ]
}

# run_b REP: one partition experiment; appends a line to b.csv.
run_b() {
    rb_note=""
    rb_line() {
        [ -n "$rb_heal" ] || echo "  failed: $rb_note"
        echo "$1,${rb_join:-n/a},${rb_join_c:-n/a},${rb_down:-n/a},${rb_heal:-n/a},${rb_heal_c:-n/a},${rb_wire:-n/a},${rb_sr:-n/a},${rb_part:-n/a},${rb_rep:-n/a},${rb_mem:-n/a},$rb_note" >>"$out/b.csv"
    }
    rb_join="" rb_join_c="" rb_down="" rb_heal="" rb_heal_c="" rb_wire="" rb_sr="" rb_part="" rb_rep="" rb_mem=""
    if ! start a lattice "$pin_a" || ! load "$a_port"; then
        rb_note="A did not start or load"; rb_line "$1"; return 1
    fi
    rb_mem=$(info_field "$a_port" memory used_memory)
    start b lattice "$pin_b" || { rb_note="B did not start"; rb_line "$1"; return 1; }
    da=$(cli "$a_port" debug digest)
    t0=$(now_ms)
    join "$b_port" "$a_port" || { rb_note="REPLICAOF failed"; rb_line "$1"; return 1; }
    if ! converge "$b_port" "$da" "$t0" "$join_timeout" has_all_keys; then
        rb_note="join did not converge"; rb_line "$1"; return 1
    fi
    rb_join=$cv_ms rb_join_c=$cv_confirm_ms
    wait_online "$a_port" "$online_timeout" || { rb_note="A does not list B online"; rb_line "$1"; return 1; }

    # Cut B off.  B's counters cannot move while it is stopped: read them just before.
    sb0=$(peer_stats "$b_port")
    kill -STOP "$b_pid"
    ts=$(now_ms)
    rb_min_end=$((ts + peer_timeout_ms + 500))
    rb_end=$((ts + down_timeout * 1000))
    while [ "$(now_ms)" -lt $rb_end ] && peer_online "$a_port"; do sleep 0.05; done
    if peer_online "$a_port"; then
        rb_note="A still listed B online ${down_timeout}s after SIGSTOP"
        echo "peers: (b) $rb_note; measuring anyway" >&2
    else
        rb_down=$(($(now_ms) - ts))
    fi
    while [ "$(now_ms)" -lt $rb_min_end ]; do sleep 0.05; done
    sa_part0=$(peer_stats "$a_port")
    # shellcheck disable=SC2086
    cr=$(timeout 60 $pin_client redis-cli -h 127.0.0.1 -p "$a_port" --pipe <"$out/changed.resp" 2>&1)
    if ! echo "$cr" | grep -q "errors: 0, replies: $changed" || ! changes_visible "$a_port"; then
        rb_note="changing $changed keys on A failed"; rb_line "$1"; return 1
    fi
    da=$(cli "$a_port" debug digest)
    sa0=$(peer_stats "$a_port")
    rb_part=$(stats_delta "$sa_part0" "$sa0" | cut -d' ' -f1)

    kill -CONT "$b_pid"
    t0=$(now_ms)
    if ! converge "$b_port" "$da" "$t0" "$heal_timeout" changes_visible; then
        rb_note="${rb_note:+$rb_note; }no convergence after heal"; rb_line "$1"; return 1
    fi
    rb_heal=$cv_ms rb_heal_c=$cv_confirm_ms
    sa1=$(peer_stats "$a_port")
    sb1=$(peer_stats "$b_port")
    dla=$(stats_delta "$sa0" "$sa1")
    dlb=$(stats_delta "$sb0" "$sb1")
    # On the wire: what each side sent (each byte once); the brief's sum of sent and
    # received over both nodes counts each byte twice.
    rb_wire=$(add "$(echo "$dla" | cut -d' ' -f1)" "$(echo "$dlb" | cut -d' ' -f1)")
    rb_recv=$(add "$(echo "$dla" | cut -d' ' -f2)" "$(echo "$dlb" | cut -d' ' -f2)")
    rb_sr=$(add "$rb_wire" "$rb_recv")
    rb_rep=$(add "$(echo "$dla" | cut -d' ' -f6)" "$(echo "$dlb" | cut -d' ' -f6)")
    [ "$(cli "$a_port" debug digest)" = "$da" ] || rb_note="${rb_note:+$rb_note; }A's digest moved"
    printf '  join %s ms (digest %s); A marked B down after %s ms; healed in %s ms (digest %s); wire %s B (%s%%), sent+recv %s B; keys repaired %s; A sent %s B to peers while the keys changed\n' \
        "$rb_join" "$rb_join_c" "${rb_down:-n/a}" "$rb_heal" "$rb_heal_c" "$rb_wire" "$(pct "$rb_wire" "$dataset_bytes")" "$rb_sr" "$rb_rep" "$rb_part"
    rb_line "$1"
}

# --- part c: join of an empty node vs a Redis full sync ------------------------------

part_c() {
    echo
    echo "== (c) empty node joining a $nkeys-key node: lattice vs redis replica full sync ($repeat times)"
    echo "redis master and replica: --save '' --appendonly no $redis_sync_args"
    echo "rep,lattice_ms,lattice_confirm_ms,redis_ms,note" >"$out/c.csv"
    c_ok=0
    rep=1
    while [ $rep -le "$repeat" ]; do
        echo "rep $rep/$repeat"
        cl_ms="" cl_c="" cr_ms="" c_note=""
        if start a lattice "$pin_a" && load "$a_port" && start b lattice "$pin_b"; then
            da=$(cli "$a_port" debug digest)
            t0=$(now_ms)
            if join "$b_port" "$a_port" && converge "$b_port" "$da" "$t0" "$join_timeout" has_all_keys; then
                cl_ms=$cv_ms cl_c=$cv_confirm_ms
            else
                c_note="lattice join failed"
            fi
        else
            c_note="lattice did not start or load"
        fi
        stop b
        stop a
        if start r1 redis "$pin_a" && load "$r1_port" && start r2 redis "$pin_b"; then
            t0=$(now_ms)
            rc_reply=$(cli "$r2_port" replicaof 127.0.0.1 "$r1_port")
            rc_end=$((t0 + join_timeout * 1000))
            while [ "$(now_ms)" -lt $rc_end ]; do
                if redis_synced "$r2_port"; then cr_ms=$(($(now_ms) - t0)); break; fi
                sleep "$poll_s"
            done
            [ -n "$cr_ms" ] || c_note="${c_note:+$c_note; }redis sync did not finish (REPLICAOF: $rc_reply)"
        else
            c_note="${c_note:+$c_note; }redis did not start or load"
        fi
        stop r2
        stop r1
        echo "$rep,${cl_ms:-n/a},${cl_c:-n/a},${cr_ms:-n/a},$c_note" >>"$out/c.csv"
        printf '  lattice join %s ms (digest %s), redis full sync %s ms%s\n' "${cl_ms:-n/a}" "${cl_c:-n/a}" "${cr_ms:-n/a}" "${c_note:+ ($c_note)}"
        [ -z "$cl_ms" ] || c_ok=$((c_ok + 1))
        rep=$((rep + 1))
    done
    c_l=$(median "$out/c.csv" 2)
    c_lc=$(median "$out/c.csv" 3)
    c_r=$(median "$out/c.csv" 4)
    c_q=$(ratio "$c_l" "$c_r")
    echo
    echo "Join, medians over $repeat reps"
    printf '%-11s %-14s %-9s %s\n' lattice_ms "+digest" redis_ms lattice/redis
    printf '%-11s %-14s %-9s %s\n' "$c_l" "$c_lc" "$c_r" "$c_q"
    [ $c_ok -eq "$repeat" ]
}

# --- main ------------------------------------------------------------------------------

command -v redis-benchmark >/dev/null 2>&1 || { echo "peers: redis-benchmark missing (apt-get install redis-tools)" >&2; exit 1; }
[ -x "$lattice_bin" ] || { echo "peers: $lattice_bin not found (run make)" >&2; exit 1; }
[ -x "$redis_bin" ] || { echo "peers: $redis_bin not found (apt-get install redis-server)" >&2; exit 1; }
mkdir -p "$out" || exit 1

trap 'stop_all' EXIT
trap 'stop_all; exit 130' INT TERM HUP

dataset_bytes=$(awk -v n="$nkeys" 'BEGIN { for (i = 0; i < n; i++) s += length("key:" i) + 16; print s }')
echo "peers: lattice $lattice_bin, peering args: ${peer_args:-none}; redis $redis_bin"
echo "peers: parts: $parts; $ncores cores, $pinning; raw results in $out"

a_min=n/a a_converged=n/a
b_down=n/a b_join=n/a b_heal=n/a b_heal_c=n/a b_wire=n/a b_sr=n/a b_mem=n/a
c_l=n/a c_lc=n/a c_r=n/a c_q=n/a
for p in $parts; do
    case $p in
    a) part_a || failed="$failed a" ;;
    b) part_b || failed="$failed b" ;;
    c) part_c || failed="$failed c" ;;
    *) echo "peers: unknown part $p (PARTS takes a, b, c)" >&2; failed="$failed $p" ;;
    esac
    stop_all
done

# verdict MEASURED OP TARGET: "ok", "MISSED" or "-" when not measured.
verdict() {
    if [ "$1" = n/a ]; then echo -; else
        awk -v m="$1" -v t="$3" -v op="$2" 'BEGIN {
            ok = (op == ">=") ? m >= t : m < t
            print ok ? "ok" : "MISSED"
        }'
    fi
}

echo
echo "Summary ($(date +%Y-%m-%d), $ncores cores, $pinning)"
srow() { printf '%-54s %-12s %-10s %s\n' "$@"; }
srow figure measured goal verdict
case " $parts " in *" a "*)
    srow "(a) lowest lattice+peer/redis over tests and depths" "$a_min" ">= 0.9" "$(verdict "$a_min" ">=" 0.9)"
    srow "(a) B reached A's DEBUG DIGEST after the run" "$a_converged" "yes" "$(case $a_converged in yes) echo ok ;; n/a) echo - ;; *) echo MISSED ;; esac)"
    ;;
esac
case " $parts " in *" b "*)
    b_wire_pct=$(pct "$b_wire" "$dataset_bytes")
    b_sr_pct=$(pct "$b_sr" "$dataset_bytes")
    srow "(b) join of empty B to $nkeys keys, ms" "$b_join" "" ""
    srow "(b) A marked the stopped B down after, ms" "$b_down" "" "$([ "$b_down" = n/a ] && [ "$b_heal" != n/a ] && echo "never: not a partition")"
    srow "(b) heal after partition, ms (changed keys on B)" "$b_heal" "< 2000" "$(verdict "$b_heal" "<" 2000)"
    srow "(b) heal, ms, until the confirming DEBUG DIGEST" "$b_heal_c" "" ""
    srow "(b) bytes on the wire after heal, % of dataset" "$b_wire_pct" "< 5" "$(verdict "$b_wire_pct" "<" 5)"
    srow "(b) sent+received over both nodes, % of dataset" "$b_sr_pct" "" ""
    srow "(b) used_memory of A with $nkeys keys" "$b_mem" "" ""
    ;;
esac
case " $parts " in *" c "*)
    srow "(c) join, lattice ms" "$c_l" "" ""
    srow "(c) full sync, redis replica ms" "$c_r" "" ""
    srow "(c) lattice/redis" "$c_q" "" ""
    ;;
esac
if [ -n "$failed" ]; then
    echo "peers: FAILED parts:$failed (see the messages above and $out)" >&2
    exit 1
fi
exit 0
