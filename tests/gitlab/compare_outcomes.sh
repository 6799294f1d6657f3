#!/usr/bin/env bash
# Runs each pipeline twice — with `cdl run --auto-approve` and, exported, with GitLab's own
# runner logic (gitlab-ci-local through ../shared/tools/validate/gitlab-run.sh --manual-all)
# — and checks that every job ends the same way: passed, failed or skipped.
# Usage: tests/gitlab/compare_outcomes.sh FILE.cdl...   (exit 1 on any difference)
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
tools=${CDL_SHARED_TOOLS:-$root/../shared/tools}
cdl=${CDL:-$root/target/release/cdl}
status=0
for file in "$@"; do
  work=$(mktemp -d)
  cp "$file" "$work/pipeline.cdl"
  (cd "$work" && "$cdl" run pipeline.cdl --auto-approve --branch main --event push --state-dir "$work/.cdl" >/dev/null 2>&1)
  local_run=$(cd "$work" && "$cdl" status --state-dir "$work/.cdl")
  mkdir "$work/gitlab"
  cp "$file" "$work/gitlab/pipeline.cdl"
  (cd "$work/gitlab" && "$cdl" export --target gitlab pipeline.cdl >/dev/null 2>&1)
  rm -f "$work/gitlab/pipeline.cdl"
  "$tools/validate/gitlab-run.sh" --manual-all "$work/gitlab" >"$work/gitlab.log" 2>&1
  python3 - "$file" "$work/gitlab.log" <<PY || status=1
import re, sys
file, log = sys.argv[1], open(sys.argv[2]).read()
local = {}
for line in """$local_run""".splitlines():
    parts = line.split()
    if len(parts) >= 2 and not parts[0].endswith(":") and parts[1] in ("passed", "failed", "skipped", "cancelled", "waiting", "pending"):
        local[parts[0]] = parts[1]
gitlab = {}
for match in re.finditer(r"^\s*(PASS|FAIL|WARN)\s+(\S+)", log, re.M):
    gitlab[match.group(2)] = {"PASS": "passed", "FAIL": "failed", "WARN": "failed"}[match.group(1)]
differences = 0
print(f"{file}")
for job, outcome in local.items():
    theirs = gitlab.get(job, "skipped")
    mark = "ok" if theirs == outcome else "DIFFERENT"
    differences += theirs != outcome
    print(f"  {job:24} cdl run: {outcome:8} gitlab: {theirs:8} {mark}")
for job in sorted(set(gitlab) - set(local)):
    print(f"  {job:24} only in gitlab: {gitlab[job]}  DIFFERENT")
    differences += 1
if not local:
    print("  cdl run recorded no jobs"); differences += 1
sys.exit(1 if differences else 0)
PY
  rm -rf "$work"
done
exit $status
