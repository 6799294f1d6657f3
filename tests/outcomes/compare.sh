#!/usr/bin/env bash
# Runs each pipeline with `cdl run --auto-approve` and, exported, under GitHub Actions' and
# GitLab's own runner logic (act through ../shared/tools/validate/gha-run.sh, gitlab-ci-local
# through gitlab-run.sh --manual-all), once for each event its triggers accept among a push to
# the default branch (main), a push to another branch (dev), a tag (v1.2.0) and a manual run,
# and checks that every job ends the same way: passed, failed or skipped.
#
# Usage (from anywhere): tests/outcomes/compare.sh [-j N] [--target github|gitlab] FILE.cdl...
#   -j N       how many pipelines are compared at once (default 2); the events and targets of
#              one pipeline run one after the other, since its jobs may share folders on this host
#   --target   compare with this target only (repeatable; default both)
# Env: CDL (default target/release/cdl), CDL_SHARED_TOOLS (default ../shared/tools).
# Exit: 0 when every job agrees everywhere, 1 on any difference, 2 on bad usage.
#
# A pipeline file may name jobs that an emulator cannot show, one line each:
#   // compare-skip TARGET JOB...: why
# Those jobs are printed, not compared, on that target (e.g. gitlab-ci-local has no `timeout:`
# and no `retry:`).
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
tools=${CDL_SHARED_TOOLS:-$root/../shared/tools}
cdl=${CDL:-$root/target/release/cdl}
case "$cdl" in /*) ;; *) cdl="$(pwd)/$cdl" ;; esac
case "$tools" in /*) ;; *) tools="$(pwd)/$tools" ;; esac
export CDL="$cdl" CDL_SHARED_TOOLS="$tools"

# --- one pipeline, every event and target: `compare.sh --one TARGETS FILE` --------------------
if [ "${1:-}" = --one ]; then
  targets=$2 file=$3
  status=0
  scenarios=$("$cdl" plan "$file" --format json | python3 -c '
import fnmatch, json, sys
triggers = json.load(sys.stdin)["triggers"]
def accepts(kind, value):
    for t in triggers:
        globs = t["branches"] if kind == "push" else [t["pattern"]] if t["pattern"] else []
        if t["event"] == kind and (not globs or any(fnmatch.fnmatchcase(value, g) for g in globs)):
            return True
    return False
if accepts("push", "main"): print("push-main")
if accepts("push", "dev"): print("push-dev")
if accepts("tag", "v1.2.0"): print("tag")
# a pipeline without triggers runs only when started by hand (workflow_dispatch, web)
if not triggers or any(t["event"] == "manual" for t in triggers): print("manual")
') || { echo "$file: cdl plan failed"; exit 1; }
  for scenario in $scenarios; do
    case $scenario in
      push-main) run=(--event push --branch main); gha=(--event push --branch main)
                 gitlab=(--variable CI_PIPELINE_SOURCE=push --variable CI_COMMIT_BRANCH=main) ;;
      push-dev)  run=(--event push --branch dev); gha=(--event push --branch dev)
                 gitlab=(--variable CI_PIPELINE_SOURCE=push --variable CI_COMMIT_BRANCH=dev) ;;
      tag)       run=(--event tag --branch '' --tag v1.2.0); gha=(--event push --tag v1.2.0)
                 gitlab=(--variable CI_PIPELINE_SOURCE=push --unset-variable CI_COMMIT_BRANCH --variable CI_COMMIT_TAG=v1.2.0) ;;
      manual)    run=(--event manual --branch main); gha=(--event workflow_dispatch --branch main)
                 gitlab=(--variable CI_PIPELINE_SOURCE=web --variable CI_COMMIT_BRANCH=main) ;;
    esac
    work=$(mktemp -d "${TMPDIR:-/tmp}/cdl-compare.XXXXXX")
    mkdir "$work/cdl"
    cp "$file" "$work/cdl/pipeline.cdl"
    (cd "$work/cdl" && "$cdl" run pipeline.cdl --auto-approve "${run[@]}" --state-dir "$work/.cdl" >"$work/cdl.log" 2>&1)
    (cd "$work/cdl" && "$cdl" status --state-dir "$work/.cdl") >"$work/cdl.status" 2>&1
    for target in $targets; do
      mkdir "$work/$target"
      cp "$file" "$work/$target/pipeline.cdl"
      case $target in
        github)
          (cd "$work/github" && "$cdl" export --target github pipeline.cdl -o "$work/workflow.yml" >/dev/null 2>&1)
          rm -f "$work/github/pipeline.cdl"
          "$tools/validate/gha-run.sh" "$work/workflow.yml" "$work/github" "${gha[@]}" >"$work/github.out" 2>"$work/github.err"
          echo "exit $?" >>"$work/github.err" ;;
        gitlab)
          (cd "$work/gitlab" && "$cdl" export --target gitlab pipeline.cdl >/dev/null 2>&1)
          rm -f "$work/gitlab/pipeline.cdl"
          GCL_IGNORE_PREDEFINED_VARS=CI_PIPELINE_SOURCE,CI_COMMIT_BRANCH,CI_COMMIT_TAG \
            "$tools/validate/gitlab-run.sh" --manual-all "$work/gitlab" "${gitlab[@]}" >"$work/gitlab.out" 2>&1 ;;
      esac
      python3 - "$file" "$scenario" "$target" "$work" <<'PY' || status=1
import re, sys
file, scenario, target, work = sys.argv[1:5]
local = {}
for line in open(f"{work}/cdl.status"):
    parts = line.split()
    if len(parts) >= 2 and not parts[0].endswith(":") and parts[1] in ("passed", "failed", "skipped", "cancelled", "waiting", "pending"):
        local[parts[0]] = parts[1]
skip = {}
for line in open(file):
    m = re.match(r"\s*//\s*compare-skip\s+(\w+)\s+([^:]+):\s*(.*)", line)
    if m and m.group(1) == target:
        for job in m.group(2).split():
            skip[job] = m.group(3).strip()
theirs, problem = {}, None
if target == "github":
    names = {"success": "passed", "failure": "failed", "skipped": "skipped"}
    for line in open(f"{work}/github.out"):
        if ": " in line:
            job, outcome = line.rstrip("\n").split(": ", 1)
            theirs[job] = names.get(outcome, outcome)
    theirs.pop("cdl_conditions", None)
    err = open(f"{work}/github.err").read().strip()
    if not err.endswith("exit 0"):
        problem = "gha-run.sh failed: " + err[-2000:]
else:
    log = open(f"{work}/gitlab.out").read()
    # a matrix instance is `unit: [linux,small]` there, `unit[os=linux,size=small]` here
    for m in re.finditer(r"^\s*(PASS|FAIL|WARN)\s+(\S+?(?:: \[[^\]]*\])?)(?:\s|$)", log, re.M):
        theirs[m.group(2)] = {"PASS": "passed", "FAIL": "failed", "WARN": "failed"}[m.group(1)]
    if not re.search(r"^pipeline (finished|failed)", log, re.M) and not theirs:
        problem = "gitlab-run.sh failed: " + log[-2000:]
def name_there(job):
    m = re.fullmatch(r"([^\[]+)\[(.*)\]", job)
    # an instance of a matrix with include/exclude is a job of its own there, named as here
    if target != "gitlab" or not m or job in theirs:
        return job
    return f"{m.group(1)}: [{','.join(kv.split('=', 1)[1] for kv in m.group(2).split(','))}]"
print(f"{file} ({scenario}, {target})")
differences = 0
if problem:
    print("  " + problem.replace("\n", "\n  ")); differences += 1
for job, outcome in local.items():
    if target == "github" and job not in theirs and "[" in job:
        # a matrix skipped as a whole is one unexpanded job on GitHub
        other = theirs.get(job.split("[")[0], "absent")
    else:
        other = theirs.get(name_there(job), "skipped" if target == "gitlab" else "absent")
    if job in skip:
        print(f"  {job:28} cdl run: {outcome:8} {target}: {other:8} not compared: {skip[job]}")
        continue
    mark = "ok" if other == outcome else "DIFFERENT"
    differences += other != outcome
    print(f"  {job:28} cdl run: {outcome:8} {target}: {other:8} {mark}")
seen = {name_there(j) for j in local} | {j.split("[")[0] for j in local}
for job in sorted(set(theirs) - seen):
    print(f"  {job:28} only in {target}: {theirs[job]}  DIFFERENT"); differences += 1
if not local:
    print("  cdl run recorded no jobs:", open(f"{work}/cdl.log").read()[-1000:]); differences += 1
sys.exit(1 if differences else 0)
PY
    done
    rm -rf "$work"
  done
  exit $status
fi

# --- the driver ---------------------------------------------------------------------------------
parallel=2 targets=()
while [ $# -gt 0 ]; do
  case $1 in
    -j) parallel=${2:?}; shift 2 ;;
    --target) case ${2:-} in github|gitlab) targets+=("$2") ;; *) echo "unknown target ${2:-}" >&2; exit 2 ;; esac; shift 2 ;;
    -*) sed -n '2,18p' "$0" >&2; exit 2 ;;
    *) break ;;
  esac
done
[ $# -gt 0 ] || { sed -n '2,18p' "$0" >&2; exit 2; }
[ ${#targets[@]} -gt 0 ] || targets=(github gitlab)
logs=$(mktemp -d "${TMPDIR:-/tmp}/cdl-compare-logs.XXXXXX")
trap 'rm -rf "$logs"' EXIT
n=$#
# shellcheck disable=SC2016 # the arguments are expanded by the shell that xargs starts
for i in $(seq 1 $n); do
  printf '%s\0%s\0%s\0' "${targets[*]}" "${!i}" "$logs/$i"
done | xargs -0 -n 3 -P "$parallel" sh -c '"$0" --one "$1" "$2" >"$3.log" 2>&1; echo $? >"$3.status"' "$0"
status=0
for i in $(seq 1 $n); do
  cat "$logs/$i.log"
  [ "$(cat "$logs/$i.status" 2>/dev/null)" = 0 ] || status=1
done
exit $status
