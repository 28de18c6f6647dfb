# shellcheck shell=sh disable=SC2154
# bench/lib.sh - what the bench scripts share beyond redis-tests/server.sh.
# Sourced; expects $bench_timeout, $pin_client (a taskset prefix or empty) and $out.

# bench_watched LABEL PORT SERVER_PID DEPTH TEST N: one redis-benchmark run
# (-c 50 -r 100000 -d 16) against PORT, in the background and watched, because
# redis-benchmark spins rather than exits when the server dies under it.  Sets
# bench_rps to the requests/s, or n/a when the run failed.  bench_pid names the
# running benchmark meanwhile, for the caller's exit trap.
bench_watched() {
    # shellcheck disable=SC2086
    timeout "$bench_timeout" $pin_client redis-benchmark -h 127.0.0.1 -p "$2" \
        -c 50 -r 100000 -d 16 -n "$6" -P "$4" -t "$5" --csv \
        >"$out/last.csv" 2>>"$out/benchmark.err" &
    bench_pid=$!
    while srv_alive "$bench_pid"; do
        if ! srv_alive "$3"; then
            echo "bench: $1 died during $5 at -P $4" >&2
            kill "$bench_pid" 2>/dev/null
        fi
        sleep 0.5
    done
    wait "$bench_pid"
    bench_rc=$?
    bench_pid=""
    # The CSV has a header line, then one line per test: "SET","123.45",...
    bench_rps=$(sed -n '2p' "$out/last.csv" | cut -d, -f2 | tr -d '"')
    case $bench_rps in
    '' | *[!0-9.]*) bench_rps=n/a ;;
    esac
    [ $bench_rc -eq 0 ] || bench_rps=n/a
}
