#!/usr/bin/env bash
# Installs what is missing (Debian 12), builds, and runs either the demo or
# every test.
#
#   bash scripts/run.sh demo   build and run the main example
#   bash scripts/run.sh test   build with g++ and clang++ (-Werror) and run all tests,
#                              fuzz for a fixed number of runs, then the tests again
#                              under ASan+UBSan and TSan
#
# Packages installed when missing: cmake make g++ libboost1.81-dev
# libboost-test1.81-dev libboost-context1.81-dev, and for the tests clang,
# libclang-rt-14-dev (libFuzzer) and pkg-config.
set -euo pipefail

mode=${1:-}
case "$mode" in
  demo|test) ;;
  *) echo "usage: bash scripts/run.sh demo|test" >&2; exit 2 ;;
esac

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root" # cmake --preset reads CMakePresets.json from here
jobs=$(nproc 2>/dev/null || echo 2)

packages=(cmake make g++ libboost1.81-dev libboost-test1.81-dev libboost-context1.81-dev)
[ "$mode" = test ] && packages+=(clang libclang-rt-14-dev pkg-config)

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

# The configurations are CMake presets (CMakePresets.json): build/<preset>.
build() {
  cmake --preset "$1" > /dev/null
  cmake --build "$root/build/$1" -j "$jobs" ${2:+--target "$2"}
}

if [ "$mode" = demo ]; then
  build demo example_slow_child
  "$root/build/demo/examples/example_slow_child"
  exit
fi

# g++ with assertions, then clang++ optimised; both with -Werror.
for preset in gcc clang; do
  echo "== $preset"
  build "$preset"
  (cd "$root/build/$preset" && ctest --output-on-failure -j "$jobs")
done

# libFuzzer over policies and event orders, from the seed corpus, for a fixed
# number of executions (the corpus itself is replayed by every configuration).
echo "== fuzz (libFuzzer)"
build fuzz asio_backoff_fuzz
(cd "$root/build/fuzz" && ctest --output-on-failure -R '^fuzz_run$')

# The tests and examples again under AddressSanitizer (leaks included) and
# UndefinedBehaviorSanitizer; any report fails the run. The consumer
# projects are left out: they test packaging, not the code.
echo "== asan (AddressSanitizer, UndefinedBehaviorSanitizer)"
build asan
(cd "$root/build/asan" && ASAN_OPTIONS=detect_leaks=1:strict_string_checks=1 \
  UBSAN_OPTIONS=print_stacktrace=1 ctest --output-on-failure -j "$jobs" -LE consumer)

# The tests under ThreadSanitizer: strands on a thread pool, io_contexts on
# two threads.
echo "== tsan (ThreadSanitizer)"
build tsan
(cd "$root/build/tsan" && TSAN_OPTIONS=halt_on_error=1 ctest --output-on-failure -j "$jobs" -LE consumer)
