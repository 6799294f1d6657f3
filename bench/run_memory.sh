#!/usr/bin/env bash
# Peak memory of `cdl run`: the main process, and it plus the run's keeper and supervisors (every
# process of the cdl binary), summed, sampled every 20 ms; RSS counts the pages the forked
# supervisors share with the keeper once per process, PSS (proportional set size) once in all.
#   1. one job printing 500 MB (goal: < 50 MB)
#   2. 2,000 no-op jobs (goal: < 20 MB)
# Usage: bench/run_memory.sh   (builds the release binary first; CDL=PATH measures that binary instead)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cdl=${CDL:-$root/target/release/cdl}
[ -n "${CDL:-}" ] || cargo build --release --quiet --manifest-path "$root/Cargo.toml"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat > "$work/loud.cdl" <<'CDL'
pipeline loud { stage s { job loud { run = "head -c 500000000 /dev/zero | tr '\\0' 'x' | fold -w 100" } } }
CDL
python3 - "$work/many.cdl" <<'PY'
import sys
lines = ["pipeline many { stage all {"]
for i in range(2000):
    after = f"; after = [j{i-1}]" if i % 10 else ""
    lines.append(f'  job j{i} {{ run = "true"{after} }}')
lines.append("} }")
open(sys.argv[1], "w").write("\n".join(lines) + "\n")
PY
peak() { # runs `cdl run FILE ...` and prints its peak summed RSS in MB and the time taken
  python3 - "$cdl" "$work" "$@" <<'PY'
import os, subprocess, sys, time
cdl, work, args = sys.argv[1], sys.argv[2], sys.argv[3:]
start = time.time()
proc = subprocess.Popen([cdl, "run", *args], cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
exe = os.path.realpath(cdl)
peak_main = peak_all = peak_pss = 0
while proc.poll() is None:
    total = pss = 0
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            if os.path.realpath(f"/proc/{pid}/exe") != exe:
                continue
            for line in open(f"/proc/{pid}/status"):
                if line.startswith("VmRSS:"):
                    kb = int(line.split()[1])
                    total += kb
                    if int(pid) == proc.pid:
                        peak_main = max(peak_main, kb)
            for line in open(f"/proc/{pid}/smaps_rollup"):
                if line.startswith("Pss:"):
                    pss += int(line.split()[1])
        except OSError:
            pass
    peak_all = max(peak_all, total)
    peak_pss = max(peak_pss, pss)
    time.sleep(0.02)
print(f"{' '.join(args)}: exit {proc.returncode}, {time.time() - start:.1f} s, peak RSS main {peak_main / 1024:.1f} MB, main + keeper + supervisors {peak_all / 1024:.1f} MB RSS, {peak_pss / 1024:.1f} MB PSS (shared pages counted once)")
PY
}
peak loud.cdl
peak many.cdl --jobs 2
