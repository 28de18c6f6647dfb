#!/bin/sh
# deps/install.sh - installs the Debian packages lattice needs and that are missing.
#   build: what compiling the server needs (compiler, libev, xxHash)
#   test:  build + what the test suites and benchmarks need
#   fuzz:  build + clang and its libFuzzer runtime (make fuzz)
# Uses apt-get as root, or through sudo.  Never starts a service: a policy-rc.d
# keeps the redis-server package from launching a daemon on port 6379.
set -e
what=${1:-build}
build_pkgs="gcc make libev-dev libxxhash-dev"
test_pkgs="libhiredis-dev libcmocka-dev redis-server redis-tools tcl dpkg-dev"
fuzz_pkgs="clang libclang-rt-dev"
pkgs=$build_pkgs
[ "$what" = test ] && pkgs="$build_pkgs $test_pkgs"
[ "$what" = fuzz ] && pkgs="$build_pkgs $fuzz_pkgs"

missing=""
for p in $pkgs; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

echo "deps: installing$missing"
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO=sudo
if ! command -v apt-get >/dev/null 2>&1; then
    echo "deps: apt-get not found; please install:$missing" >&2
    exit 1
fi
policy=/usr/sbin/policy-rc.d
made_policy=0
if [ ! -e $policy ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee $policy >/dev/null
    $SUDO chmod +x $policy
    made_policy=1
fi
trap '[ $made_policy = 1 ] && $SUDO rm -f $policy' EXIT
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
