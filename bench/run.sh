#!/usr/bin/env bash
# Builds the benchmark (Release, -DASIO_BACKOFF_BUILD_BENCHMARKS=ON) and runs
# all of it: the timing/allocation/memory/lateness matrix, then callgrind
# instruction counts for N=1000. About 5 minutes on 2 cores.
#
#   bash bench/run.sh          results in build/bench/results/
#
# Environment: REPS (default 5), NS (default 1k,10k,100k), BIG_NS (default
# 1M), BIG_CONTENDERS (default 1,2,4), SEED_NS (default "1000 10000"),
# CALLGRIND=0 to skip callgrind.
# Installs valgrind when missing (Debian 12, as root or with sudo).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build="$root/build/bench"
out="$build/results"
reps=${REPS:-5}
ns=${NS:-1k,10k,100k}
big_ns=${BIG_NS:-1M}
big_contenders=${BIG_CONTENDERS:-1,2,4}

need=()
command -v cmake > /dev/null || need+=(cmake)
command -v g++ > /dev/null || need+=(g++)
[ -f /usr/include/boost/asio.hpp ] || need+=(libboost1.81-dev)
[ "${CALLGRIND:-1}" = 0 ] || command -v valgrind > /dev/null || need+=(valgrind)
if [ ${#need[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}"
fi

cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DASIO_BACKOFF_BUILD_BENCHMARKS=ON \
  -DASIO_BACKOFF_BUILD_TESTS=OFF -DASIO_BACKOFF_BUILD_EXAMPLES=OFF -DASIO_BACKOFF_INSTALL=OFF > /dev/null
cmake --build "$build" -j "$(nproc 2>/dev/null || echo 2)" --target asio_backoff_bench asio_backoff_seed_bench
bin="$build/bench/asio_backoff_bench"
mkdir -p "$out"

{ echo "date: $(date -u +%FT%TZ)"; echo "nproc: $(nproc)"; lscpu | head -20; uptime; } > "$out/machine.txt"

echo "== matrix: reps=$reps N=$ns (+ $big_ns for contenders $big_contenders)"
"$bin" --reps "$reps" --n "$ns" --big-n "$big_ns" --big-contenders "$big_contenders" \
  --csv "$out/results.csv" --summary "$out/summary.md" 2> "$out/runs.log"

echo "== the seed's blocking loop, one thread per wait, N=${SEED_NS:-1000 10000}"
# shellcheck disable=SC2086
"$build/bench/asio_backoff_seed_bench" ${SEED_NS:-1000 10000} | tee "$out/seed_loop.md"

if [ "${CALLGRIND:-1}" != 0 ]; then
  echo "== callgrind, N=1000, instructions in bench_measured_region (initiation + run)"
  : > "$out/callgrind.txt"
  for c in 1 2 3 4 5; do
    valgrind --tool=callgrind --collect-atstart=no --toggle-collect=bench_measured_region \
      --callgrind-out-file="$out/callgrind.$c.out" "$bin" --single "$c" --n 1000 --no-lateness \
      > /dev/null 2> "$out/callgrind.$c.log"
    ir=$(sed -n 's/.*Collected : \([0-9]*\).*/\1/p' "$out/callgrind.$c.log")
    echo "contender $c: $ir Ir, $((ir / 20000)) Ir/attempt" | tee -a "$out/callgrind.txt"
  done
  for c in 1 2; do
    echo "-- contender $c vs 4, Ir per attempt by source file" >> "$out/callgrind.txt"
    python3 "$root/bench/callgrind_by_file.py" "$out/callgrind.$c.out" "$out/callgrind.4.out" 20000 \
      >> "$out/callgrind.txt"
  done
fi
echo "== results in $out (summary.md, results.csv, callgrind.txt)"
