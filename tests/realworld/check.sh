#!/usr/bin/env bash
# Checks the real-world corpus: for every <name>/pipeline.cdl under tests/realworld/ (or the
# folders given as arguments), `cdl check`, then `cdl export` to the pipeline's original system
# (GitHub Actions when the folder holds original.yml, GitLab CI when it holds .gitlab-ci.yml)
# and that system's validator from ../shared/tools/validate/. Prints one row per pipeline and
# exits 1 when any step of any pipeline fails (2 on a usage or setup error).
#
# Usage: tests/realworld/check.sh [DIR...]      run from anywhere
#   CDL=path/to/cdl      the compiler to use (default: target/release/cdl of this repository)
#   VALIDATE=path        the validators' folder (default: ../shared/tools/validate beside the repo)
#   KEEP=1               keep the exported files (their folder is printed)
# A GitHub pipeline's folder may hold `runner-labels`: runner labels (one a line, `#` comments)
# that actionlint 1.7.7 does not know, as actionlint.yaml's `self-hosted-runner: labels`.
set -u

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cdl="${CDL:-$root/target/release/cdl}"
validate="${VALIDATE:-$root/../shared/tools/validate}"
# as in .ci/run: zizmor's medium findings fail the GitHub exports too
export ZIZMOR_FAIL_ON="${ZIZMOR_FAIL_ON:-medium}"

if [ ! -x "$cdl" ]; then
  echo "check.sh: no compiler at $cdl (build it with \`cargo build --release\`, or set CDL=...)" >&2
  exit 2
fi
if [ ! -x "$validate/gha.sh" ] || [ ! -x "$validate/gitlab.sh" ]; then
  echo "check.sh: no validators in $validate (set VALIDATE=...)" >&2
  exit 2
fi

if [ $# -eq 0 ]; then
  set --
  for dir in "$here"/*/; do
    [ -f "$dir/pipeline.cdl" ] && set -- "$@" "${dir%/}"
  done
fi
if [ $# -eq 0 ]; then
  echo "check.sh: no <name>/pipeline.cdl to check" >&2
  exit 2
fi

out="$(mktemp -d "${TMPDIR:-/tmp}/cdl-realworld.XXXXXX")"
if [ "${KEEP:-0}" = 1 ]; then
  echo "exports and logs in $out"
else
  trap 'rm -rf "$out"' EXIT
fi

# actionlint on FILE, its findings but `label "X" is unknown` for the labels listed in LABELS.
actionlint_with_labels() {
  local labels="$1" file="$2" findings
  echo "--- actionlint (runner labels of $labels: $(grep -v '^#' "$labels" | tr '\n' ' '))"
  findings="$(node "$validate/lib/actionlint-wasm.cjs" "$file" |
    grep -v -F -f <(grep -v '^#' "$labels" | sed '/^$/d; s/.*/label "&" is unknown/'))"
  [ -z "$findings" ] && return 0
  printf '%s\n' "$findings"
  return 1
}

failed=0
rows=()
for dir in "$@"; do
  dir="${dir%/}"
  name="$(basename "$dir")"
  file="$dir/pipeline.cdl"
  if [ -f "$dir/original.yml" ]; then
    target=github; validator="$validate/gha.sh"; exported="$out/$name/$name.yml"
  elif [ -f "$dir/.gitlab-ci.yml" ]; then
    target=gitlab; validator="$validate/gitlab.sh"; exported="$out/$name/.gitlab-ci.yml"
  else
    rows+=("$(printf '%-22s %-7s %-6s %-6s %-8s %s' "$name" "?" "-" "-" "-" "no original.yml or .gitlab-ci.yml")")
    failed=1
    continue
  fi
  mkdir -p "$out/$name"
  log="$out/$name/log.txt"
  check=fail export=- valid=- note=""
  if "$cdl" check "$file" >"$log" 2>&1; then
    check=pass
    export=fail
    if "$cdl" export --target "$target" "$file" -o "$exported" >>"$log" 2>&1; then
      export=pass
      valid=fail
      warnings="$(grep -c 'warning\[W0200\]' "$log" || true)"
      note="W0200 x$warnings"
      if [ "$target" = github ] && [ -f "$dir/runner-labels" ]; then
        # actionlint's own rule knows the runner labels of its release only; `runner-labels`
        # lists the project's others (as actionlint.yaml's `self-hosted-runner: labels` would)
        if VALIDATE_SKIP=actionlint "$validator" "$exported" >>"$log" 2>&1 &&
          actionlint_with_labels "$dir/runner-labels" "$exported" >>"$log" 2>&1; then valid=pass; fi
      elif "$validator" "$exported" >>"$log" 2>&1; then valid=pass; fi
    fi
  fi
  if [ "$check" != pass ] || [ "$export" != pass ] || [ "$valid" != pass ]; then
    failed=1
    # the first error line says why
    note="$(grep -m1 -E 'error|×|^---' "$log" | sed 's/^[[:space:]│×]*//' | cut -c1-70)"
  fi
  rows+=("$(printf '%-22s %-7s %-6s %-6s %-8s %s' "$name" "$target" "$check" "$export" "$valid" "$note")")
  if [ "${VERBOSE:-0}" = 1 ]; then cat "$log"; fi
done

printf '%-22s %-7s %-6s %-6s %-8s %s\n' pipeline target check export validate note
for row in "${rows[@]}"; do echo "$row"; done
if [ "$failed" != 0 ]; then
  echo "FAILED (KEEP=1 keeps the logs; VERBOSE=1 prints them)"
  exit 1
fi
echo "all ${#rows[@]} pipelines pass"
