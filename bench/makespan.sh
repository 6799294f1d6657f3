#!/usr/bin/env bash
# The makespan of a DAG of `sleep` jobs against its critical path: how much the scheduler
# adds. The graph: a fan-out of 8 jobs of 0.2 s, two chains (0.3 s + 0.3 s and 0.5 s), a
# second stage of 4 jobs of 0.1 s. Critical path: 0.2 + 0.3 + 0.3 + 0.1 = 0.9 s with 8 slots.
# Usage: bench/makespan.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cargo build --release --quiet --manifest-path "$root/Cargo.toml"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat > "$work/dag.cdl" <<'CDL'
pipeline dag {
  stage one {
    job a1 { run = "sleep 0.2" }
    job a2 { run = "sleep 0.2" }
    job a3 { run = "sleep 0.2" }
    job a4 { run = "sleep 0.2" }
    job b1 { run = "sleep 0.3"; after = [a1] }
    job b2 { run = "sleep 0.3"; after = [b1] }
    job c1 { run = "sleep 0.5"; after = [a2] }
    job d1 { run = "sleep 0.2"; after = [a3, a4] }
  }
  stage two {
    job e1 { run = "sleep 0.1" }
    job e2 { run = "sleep 0.1" }
    job e3 { run = "sleep 0.1" }
    job e4 { run = "sleep 0.1" }
  }
}
CDL
critical=0.9
cd "$work"
best=999
for _ in 1 2 3 4 5; do
  rm -rf .cdl
  start=$(date +%s.%N)
  "$root/target/release/cdl" run dag.cdl --jobs 8 >/dev/null 2>&1
  end=$(date +%s.%N)
  best=$(python3 -c "print(min($best, $end - $start))")
done
python3 -c "m=float($best); print(f'makespan {m:.3f}s, critical path {$critical:.3f}s, overhead {(m-$critical)*1000:.0f} ms')"
