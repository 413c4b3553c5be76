#!/usr/bin/env bash
# Plots the medians of a benchmark run (bench/run.sh) with gnuplot:
# docs/benchmarks-cpu.svg (CPU ns per attempt) and docs/benchmarks-memory.svg
# (peak RSS bytes per pending operation), both against N.
#
#   bash bench/plot.sh [build/bench/results/results.csv]
#
# Needs gnuplot (Debian: apt-get install gnuplot-nox) and python3.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
csv=${1:-$root/build/bench/results/results.csv}
dat=$(mktemp -d)
trap 'rm -rf "$dat"' EXIT

# One file per contender: N, median CPU ns/attempt, median RSS bytes/op.
python3 - "$csv" "$dat" <<'PY'
import csv, statistics, sys, collections
rows = list(csv.DictReader(open(sys.argv[1])))
by = collections.defaultdict(list)
for r in rows:
    by[(int(r["contender"]), r["name"], int(r["n"]))].append(r)
for (c, name, n), rs in sorted(by.items()):
    cpu = statistics.median(float(r["cpu_ns_per_attempt"]) for r in rs)
    rss = statistics.median(float(r["rss_bytes_per_op"]) for r in rs)
    with open(f"{sys.argv[2]}/{c}.dat", "a") as f:
        f.write(f"# ({c}) {name}\n" if f.tell() == 0 else "")
        f.write(f"{n} {cpu:.1f} {rss:.1f}\n")
PY

plot() { # output, column, y label
  local cmds="set terminal svg size 720,420 dynamic font 'sans,11'; set output '$1';"
  cmds+="set logscale x; set xlabel 'N concurrent operations'; set ylabel '$3';"
  cmds+="set key outside right; set grid; set yrange [0:*];"
  local sep="plot "
  for f in "$dat"/*.dat; do
    local title
    title=$(head -1 "$f" | sed 's/^# //')
    cmds+="$sep'$f' using 1:$2 with linespoints title '$title'"
    sep=", "
  done
  gnuplot -e "$cmds"
}
mkdir -p "$root/docs"
plot "$root/docs/benchmarks-cpu.svg" 2 "CPU ns per attempt (median)"
plot "$root/docs/benchmarks-memory.svg" 3 "peak RSS bytes per operation (median)"
echo "wrote docs/benchmarks-cpu.svg docs/benchmarks-memory.svg"
