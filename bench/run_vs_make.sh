#!/usr/bin/env bash
# cdl run of 1,000 no-op jobs against make -j2 on the same dependency graph (chains of ten).
# Each make recipe is `true;`: the `;` makes make run it through `/bin/sh -c`, as cdl runs every
# step (without it make execs `true` directly, skipping the shell).
# Usage: bench/run_vs_make.sh [JOBS]   (builds the release binary first; CDL=PATH measures that binary instead)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
jobs=${1:-1000}
cdl=${CDL:-$root/target/release/cdl}
[ -n "${CDL:-}" ] || cargo build --release --quiet --manifest-path "$root/Cargo.toml"
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
best() { # the best of five runs, in seconds
  local best=999
  for _ in 1 2 3 4 5; do
    rm -rf .cdl
    local start end
    start=$(date +%s.%N)
    "$@" >/dev/null 2>&1
    end=$(date +%s.%N)
    best=$(python3 -c "print(min($best, $end - $start))")
  done
  echo "$best"
}
cdl_time=$(best "$cdl" run noop.cdl --jobs 2)
make_time=$(best make -j2)
python3 -c "print(f'$jobs no-op jobs: cdl run {float($cdl_time):.3f}s, make -j2 {float($make_time):.3f}s, ratio {float($cdl_time)/float($make_time):.2f}x')"
