#!/usr/bin/env bash
# The long torture test of durable runs: at least 300 kills (SIGKILL at random moments, SIGHUP
# through closed tmux sessions) of `cdl run`/`resume`/`approve` on a 32-job pipeline, each run
# checked (every job exactly once, production got the built bytes, no overlapping deploys, no
# process left), after one round per failpoint and occurrence (--failpoints all). CI runs the
# same script with 30 kills and each failpoint's first occurrence (.ci/run).
# Usage: bench/torture.sh [KILLS] [--seed S]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
kills=${1:-300}
shift || true
cargo build --release --quiet --manifest-path "$root/Cargo.toml"
exec python3 "$root/tests/torture/torture.py" --kills "$kills" --failpoints all --full-disk --cdl "$root/target/release/cdl" "$@"
