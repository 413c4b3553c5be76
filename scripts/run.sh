#!/usr/bin/env bash
# Installs what is missing (Debian 12), builds, and runs either the demo or
# every test.
#
#   bash scripts/run.sh demo   build and run the main example
#   bash scripts/run.sh test   build with g++ and clang++ (-Werror) and run all tests,
#                              then the tests again under ASan+UBSan and TSan
#
# Packages installed when missing: cmake make g++ libboost1.81-dev
# libboost-test1.81-dev libboost-context1.81-dev, and for the tests clang and
# pkg-config.
set -euo pipefail

mode=${1:-}
case "$mode" in
  demo|test) ;;
  *) echo "usage: bash scripts/run.sh demo|test" >&2; exit 2 ;;
esac

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
jobs=$(nproc 2>/dev/null || echo 2)

packages=(cmake make g++ libboost1.81-dev libboost-test1.81-dev libboost-context1.81-dev)
[ "$mode" = test ] && packages+=(clang pkg-config)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "== installing: ${missing[*]}"
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# configure NAME COMPILER BUILD_TYPE [cmake args...]
configure() {
  local name=$1 cxx=$2 type=$3
  shift 3
  cmake -S "$root" -B "$root/build/$name" -DCMAKE_CXX_COMPILER="$cxx" \
    -DCMAKE_BUILD_TYPE="$type" "$@" > /dev/null
}

if [ "$mode" = demo ]; then
  configure demo g++ Release -DASIO_BACKOFF_BUILD_TESTS=OFF
  cmake --build "$root/build/demo" -j "$jobs" --target example_embedded_callback
  "$root/build/demo/examples/example_embedded_callback"
  exit
fi

# g++ with assertions, then clang++ optimised; both with -Werror.
for config in "gcc g++ Debug" "clang clang++ Release"; do
  set -- $config
  echo "== $2 ($3)"
  configure "$1" "$2" "$3" -DASIO_BACKOFF_WERROR=ON
  cmake --build "$root/build/$1" -j "$jobs"
  (cd "$root/build/$1" && ctest --output-on-failure -j "$jobs")
done

# The tests and examples again under AddressSanitizer (leaks included) and
# UndefinedBehaviorSanitizer; any report fails the run. The consumer
# projects are left out: they test packaging, not the code.
echo "== g++ (AddressSanitizer, UndefinedBehaviorSanitizer)"
configure asan g++ Debug -DASIO_BACKOFF_WERROR=ON -DASIO_BACKOFF_INSTALL=OFF \
  -DCMAKE_CXX_FLAGS="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"
cmake --build "$root/build/asan" -j "$jobs"
(cd "$root/build/asan" && ASAN_OPTIONS=detect_leaks=1:strict_string_checks=1 \
  UBSAN_OPTIONS=print_stacktrace=1 ctest --output-on-failure -j "$jobs" -LE consumer)

# The tests under ThreadSanitizer: strands on a thread pool, io_contexts on
# two threads. Without -Werror: g++ warns (-Wtsan) that the fences in
# Boost.System's headers are not modelled; the other builds check warnings.
echo "== g++ (ThreadSanitizer)"
configure tsan g++ Debug -DASIO_BACKOFF_INSTALL=OFF \
  -DASIO_BACKOFF_BUILD_EXAMPLES=OFF -DCMAKE_CXX_FLAGS="-fsanitize=thread"
cmake --build "$root/build/tsan" -j "$jobs"
(cd "$root/build/tsan" && TSAN_OPTIONS=halt_on_error=1 ctest --output-on-failure -j "$jobs" -LE consumer)
