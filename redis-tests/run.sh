#!/bin/sh
# redis-tests/run.sh - runs Redis 7.0's own test suite, unit by unit, in external mode
# against a fresh server per unit.  The suite is fetched at run time from Debian's
# source package `redis` into redis-tests/work/ (gitignored, never committed) and kept
# there: a second run does not fetch again.
#
#   sh redis-tests/run.sh                    every unit listed in redis-tests/units
#   sh redis-tests/run.sh unit/type/incr ... only the named units
#
# Environment:
#   REDIS_TEST_SERVER       server binary (default: src/lattice-server); point it at
#                           /usr/bin/redis-server to check the runner itself
#   REDIS_TEST_SERVER_ARGS  arguments for the server before --port/--bind (a config
#                           file first, then --directive value pairs)
#   REDIS_TEST_TIMEOUT      seconds without progress before a unit is abandoned (300)
#
# Prints one PASS/FAIL line per unit and ends with "N passed, M failed" (units); exits
# non-zero if a unit failed.  Logs: redis-tests/work/logs/<unit>.log (the suite) and
# <unit>.server.log (the server).
set -u

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
work=$here/work
suite=$work/redis
logs=$work/logs
server=${REDIS_TEST_SERVER:-$root/src/lattice-server}
server_args=${REDIS_TEST_SERVER_ARGS:-}
timeout=${REDIS_TEST_TIMEOUT:-300}

# Tests tagged with these need features lattice leaves out on purpose, or that only
# make sense inside Redis: SYNC/PSYNC (needs:repl), DEBUG/OBJECT internals such as
# refcounts and DEBUG RELOAD (needs:debug, needs:pfdebug), eviction under maxmemory
# (needs:config-maxmemory), SAVE (needs:save).  external:skip and singledb:skip tests
# are left out by the suite itself in this mode.
tags="-needs:repl -needs:debug -needs:pfdebug -needs:config-maxmemory -needs:save"

# shellcheck source=redis-tests/server.sh
. "$here/server.sh"
srv_pid=""

# Runs apt-get with a private sources list, package lists and cache under $work/apt,
# so that the machine's apt configuration is neither needed nor touched.
apt_private() {
    sandbox=""
    [ "$(id -u)" -eq 0 ] && sandbox="-o APT::Sandbox::User=root"
    # shellcheck disable=SC2086
    apt-get -q -o Dir::Etc::sourcelist=/dev/null \
        -o Dir::Etc::sourceparts="$work/apt/sources" \
        -o Dir::State::Lists="$work/apt/lists" \
        -o Dir::Cache="$work/apt/cache" $sandbox "$@"
}

# Writes a deb-src twin of every deb entry the machine has (deb822 .sources and
# one-line .list files), or Debian bookworm's main archive if it has none.
write_src_sources() {
    out=$work/apt/sources
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] || continue
        sed 's/^Types:.*/Types: deb-src/' "$f" >"$out/$(basename "$f")"
    done
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [ -f "$f" ] || continue
        sed -n 's/^[[:space:]]*deb[[:space:]]/deb-src /p' "$f" >"$out/src-$(basename "$f")"
    done
    if [ -z "$(ls "$out")" ]; then
        printf '%s\n' "Types: deb-src" "URIs: http://deb.debian.org/debian" \
            "Suites: bookworm" "Components: main" \
            "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg" >"$out/bookworm.sources"
    fi
}

# Makes $suite hold the extracted source of Debian's `redis` package: the version of
# the installed redis-server when the archive still has it, else the newest one.
fetch_suite() {
    [ -f "$suite/tests/test_helper.tcl" ] && return 0
    echo "redis-tests: fetching Debian source package redis into $work"
    rm -rf "$work/apt" "$work/dl"
    mkdir -p "$work/apt/sources" "$work/apt/lists/partial" \
        "$work/apt/cache/archives/partial" "$work/dl" || return 1
    write_src_sources
    apt_private update -qq || return 1
    want=$(dpkg-query -W -f='${Version}' redis-server 2>/dev/null)
    (
        cd "$work/dl" || exit 1
        { [ -n "$want" ] && apt_private source --download-only "redis=$want"; } ||
            apt_private source --download-only redis
    ) >"$work/fetch.log" 2>&1 || { cat "$work/fetch.log" >&2; return 1; }
    for dsc in "$work"/dl/redis_*.dsc; do break; done
    [ -f "$dsc" ] || { echo "redis-tests: no .dsc downloaded" >&2; return 1; }
    if command -v dpkg-source >/dev/null 2>&1; then
        # Extracted beside the .dsc: dpkg-source links the orig tarball next to its target.
        dpkg-source -x "$dsc" "$work/dl/redis" >>"$work/fetch.log" 2>&1 ||
            { cat "$work/fetch.log" >&2; return 1; }
    else
        echo "redis-tests: dpkg-source missing (dpkg-dev); using the upstream tarball unpatched" >&2
        mkdir -p "$work/dl/redis" &&
            tar -xzf "$work"/dl/redis_*.orig.tar.gz -C "$work/dl/redis" --strip-components=1 || return 1
    fi
    mv "$work/dl/redis" "$suite" || return 1
    rm -rf "$work/dl" "$work/apt"
    version=$(sed -n 's/^#define REDIS_VERSION "\(.*\)"/\1/p' "$suite/src/version.h")
    echo "redis-tests: Redis $version test suite in $suite"
    case $version in
    7.0.*) ;;
    *) echo "redis-tests: warning: expected Redis 7.0.x, got $version" >&2 ;;
    esac
}

# Every skipfile line needs a reason in skipfile.reasons ("<line> -- <reason>").
check_reasons() {
    ok=0
    while IFS= read -r line; do
        [ -n "$line" ] || continue
        if ! want="$line -- " awk 'index($0, ENVIRON["want"]) == 1 { found = 1 }
                END { exit !found }' "$here/skipfile.reasons"; then
            printf 'redis-tests: skipfile line has no reason in skipfile.reasons: %s\n' "$line" >&2
            ok=1
        fi
    done <"$here/skipfile"
    return $ok
}

count() { grep -c "^\[$1\]" "$2"; }

# Runs one unit against a fresh server; prints its PASS/FAIL line.
run_unit() {
    unit=$1
    name=$(echo "$unit" | tr / _)
    log=$logs/$name.log
    if [ ! -f "$suite/tests/$unit.tcl" ]; then
        echo "FAIL $unit (no such unit in the suite)"
        return 1
    fi
    start=$(date +%s)
    : >"$logs/$name.server.log"
    # shellcheck disable=SC2086
    if ! srv_start "$logs/$name.server.log" "$work/run" "$server" $server_args; then
        echo "FAIL $unit (server did not start; see $logs/$name.server.log)"
        return 1
    fi
    # The test helper listens on a port of its own from --baseport: below the
    # kernel's ephemeral range (32768+), where outgoing connections of other
    # tests cannot hold it; should it still be taken, try another range.
    for attempt in 1 2 3; do
        (cd "$suite" && TERM=dumb exec tclsh tests/test_helper.tcl \
            --host 127.0.0.1 --port "$srv_port" --singledb --ignore-encoding --ignore-digest \
            --baseport "$((20000 + (($$ + attempt * 17) % 50) * 200))" --portcount 200 \
            --skipfile "$here/skipfile" --tags "$tags" --timeout "$timeout" \
            --single "$unit") >"$log" 2>&1
        rc=$?
        grep -q "couldn't open socket: address already in use" "$log" || break
    done
    alive=yes
    srv_alive "$srv_pid" || alive=no
    srv_stop "$srv_pid"
    srv_pid=""
    secs=$(($(date +%s) - start))
    counts="ok $(count ok "$log"), err $(count err "$log"), skipped $(count skip "$log"), ignored $(count ignore "$log")"
    if [ $rc -eq 0 ] && [ $alive = yes ] && grep -q "All tests passed without errors" "$log" &&
        [ "$(count err "$log")" -eq 0 ] && [ "$(count exception "$log")" -eq 0 ]; then
        note=""
        [ "$(count ok "$log")" -eq 0 ] && note="; no test ran"
        echo "PASS $unit ($counts; ${secs}s$note)"
        return 0
    fi
    why=""
    [ $alive = yes ] || why="; server died"
    echo "FAIL $unit ($counts$why; ${secs}s; see $log)"
    grep -E '^\[(err|exception)\]' "$log" | sed 's/^/    /' | head -n 20
    return 1
}

command -v tclsh >/dev/null 2>&1 || { echo "redis-tests: tclsh missing (apt-get install tcl)" >&2; exit 1; }
command -v redis-cli >/dev/null 2>&1 || { echo "redis-tests: redis-cli missing (apt-get install redis-tools)" >&2; exit 1; }
[ -x "$server" ] || { echo "redis-tests: server binary $server not found (run make)" >&2; exit 1; }
check_reasons || exit 1
mkdir -p "$work/run" "$logs" || exit 1
fetch_suite || { echo "redis-tests: could not fetch the Redis test suite" >&2; exit 1; }

trap 'srv_stop "$srv_pid"' EXIT
trap 'srv_stop "$srv_pid"; exit 130' INT TERM

if [ $# -gt 0 ]; then
    units=$*
else
    units=$(sed -e 's/#.*//' -e 's/[[:space:]]//g' "$here/units" | grep -v '^$')
fi
[ -n "$units" ] || { echo "redis-tests: no units to run" >&2; exit 1; }

passed=0
failed=0
for unit in $units; do
    if run_unit "$unit"; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
    fi
done
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
