#!/usr/bin/env bash
# cdl run of 1,000 no-op jobs against make -j2 on the same dependency graph (chains of ten).
# Each make recipe is `true;`: the `;` makes make run it through `/bin/sh -c`, as cdl runs every
# step (without it make execs `true` directly, skipping the shell).
#
# Measured back to back (cdl, make, cdl, make …), REPS times each: the best wall-clock time, and
# the CPU time (user + system) of the whole process tree (`/usr/bin/time`: every process is
# waited for by its parent, so a keeper's and its supervisors' time reaches `cdl`'s), as the
# median and the best. CPU time is the steadier measure on a shared machine; the load average is
# printed with the numbers.
#
# Each cdl repetition keeps its run in a folder of its own (`--state-dir`), and all are deleted
# only after the last measurement: deleting the previous run's ~3,000 files right before a run
# makes ext4 without a journal (this machine's /tmp) scan the inodes deleted in the last seconds
# on every file created (`recently_deleted`), which measures the benchmark's own `rm`, not cdl.
# RM_BEFORE=1 measures that way too (the state folder deleted right before each run).
#
# Usage: bench/run_vs_make.sh [JOBS] [REPS]   (builds the release binary first; CDL=PATH measures
# that binary instead)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
jobs=${1:-1000}
reps=${2:-5}
cdl=${CDL:-$root/target/release/cdl}
[ -n "${CDL:-}" ] || cargo build --release --quiet --manifest-path "$root/Cargo.toml"
[ -x /usr/bin/time ] || { echo "needs /usr/bin/time (GNU time)" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 - "$work" "$jobs" <<'PY'
import sys
work, n = sys.argv[1], int(sys.argv[2])
lines = ["pipeline noop { stage all {"]
rules = ["all: " + " ".join(f"j{i}" for i in range(n))]
for i in range(n):
    after = f"; after = [j{i-1}]" if i % 10 else ""
    lines.append(f'  job j{i} {{ run = "true"{after} }}')
    rules.append(f"j{i}: {f'j{i-1}' if i % 10 else ''}\n\t@true;")
lines.append("} }")
rules.append(".PHONY: all " + " ".join(f"j{i}" for i in range(n)))
open(f"{work}/noop.cdl", "w").write("\n".join(lines) + "\n")
open(f"{work}/Makefile", "w").write("\n".join(rules) + "\n")
PY
cd "$work"
measure() { # NAME COMMAND...: appends "wall cpu" to NAME.times
  local name=$1
  shift
  /usr/bin/time -o "$name.time" -f "%e %U %S" "$@" >/dev/null 2>&1
  awk '{ print $1, $2 + $3 }' "$name.time" >> "$name.times"
}
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
for rep in $(seq "$reps"); do
  if [ "${RM_BEFORE:-0}" = 1 ]; then
    rm -rf state
    measure cdl "$cdl" run noop.cdl --jobs 2 --state-dir state
  else
    measure cdl "$cdl" run noop.cdl --jobs 2 --state-dir "state$rep"
  fi
  measure make make -j2
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
python3 - "$jobs" "$load_before" "$load_after" <<'PY'
import statistics, sys
jobs, before, after = sys.argv[1], sys.argv[2], sys.argv[3]
def read(name):
    rows = [tuple(map(float, line.split())) for line in open(f"{name}.times")]
    return min(r[0] for r in rows), statistics.median(r[1] for r in rows), min(r[1] for r in rows)
cw, cc, cb = read("cdl")
mw, mc, mb = read("make")
print(f"{jobs} no-op jobs, {len(open('cdl.times').readlines())} runs each, load average {before} -> {after}")
print(f"  wall, best:        cdl run {cw:.3f}s, make -j2 {mw:.3f}s, ratio {cw / mw:.2f}x")
print(f"  CPU of the tree, median: cdl run {cc:.3f}s, make -j2 {mc:.3f}s, ratio {cc / mc:.2f}x")
print(f"  CPU of the tree, best:   cdl run {cb:.3f}s, make -j2 {mb:.3f}s, ratio {cb / mb:.2f}x")
PY
