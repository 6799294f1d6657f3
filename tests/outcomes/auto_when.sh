#!/usr/bin/env bash
# A manual job with `auto_when` under gitlab-ci-local and `cdl run`, without starting manual
# jobs (compare.sh starts them all): on `main` the guard starts by itself in both, on `dev` it
# waits for a person in both (GitLab: a manual job not played; cdl: skipped).
# Usage: tests/outcomes/auto_when.sh   Env: CDL (default target/release/cdl), CDL_SHARED_TOOLS.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
tools=${CDL_SHARED_TOOLS:-$root/../shared/tools}
cdl=${CDL:-$root/target/release/cdl}
case "$cdl" in /*) ;; *) cdl="$(pwd)/$cdl" ;; esac
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat > "$work/p.cdl" <<'CDL'
pipeline p {
  on push
  stage s {
    job build { run = "echo build" }
    job guard {
      start     = manual
      auto_when = branch == "main" || branch matches "gnome-[0-9]*"
      after     = [build]
      run       = "echo GUARD-RAN"
    }
  }
}
CDL
"$cdl" export --target gitlab "$work/p.cdl" -o "$work/.gitlab-ci.yml" 2>/dev/null
status=0
for branch in main gnome-48 dev; do
  expected=no
  case "$branch" in main|gnome-48) expected=yes ;; esac
  gitlab=no
  bash "$tools/validate/gitlab-run.sh" "$work" --variable "CI_COMMIT_BRANCH=$branch" \
    --variable "CI_COMMIT_REF_NAME=$branch" >"$work/gitlab.log" 2>&1 || true
  grep -q '^guard > GUARD-RAN' "$work/gitlab.log" && gitlab=yes
  local_run=no
  (cd "$work" && rm -rf .cdl && "$cdl" run p.cdl --branch "$branch" >"$work/cdl.log" 2>&1) || true
  grep -q 'GUARD-RAN' "$work/cdl.log" && local_run=yes
  echo "$branch: expected $expected, gitlab-ci-local $gitlab, cdl run $local_run"
  [ "$gitlab" = "$expected" ] && [ "$local_run" = "$expected" ] || status=1
done
exit $status
