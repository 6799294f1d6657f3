#!/usr/bin/env bash
# Checks the tree-sitter grammar of cdl: the committed src/ is what `tree-sitter generate` makes
# of grammar.js, `tree-sitter test` passes over test/corpus, and every example, `ok` fixture and
# standard-library file parses without an ERROR or MISSING node.
# Needs the `tree-sitter` CLI on PATH (cargo install tree-sitter-cli --locked --version 0.27.1
# --root ~/.cache/cdl-tools/tree-sitter) and a C compiler. Run from anywhere.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
cd "$here"
command -v tree-sitter >/dev/null || { echo "tree-sitter is not on PATH" >&2; exit 2; }
tree-sitter --version

# 1. the generated parser is up to date
before="$(mktemp -d)"
trap 'rm -rf "$before"' EXIT
cp -r src "$before/src"
tree-sitter generate --js-runtime native # QuickJS, built into the CLI: no Node.js needed
if ! diff -r "$before/src" src >"$before/src.diff" 2>&1; then
  head -n 20 "$before/src.diff" >&2
  echo "src/ is not what tree-sitter generate makes of grammar.js: run it and commit src/" >&2
  exit 1
fi

# 2. Zed's extension carries a copy of the highlight queries (Zed reads them from languages/)
if ! cmp -s queries/highlights.scm "$repo/editors/zed/languages/cdl/highlights.scm"; then
  echo "editors/zed/languages/cdl/highlights.scm differs from queries/highlights.scm: copy it" >&2
  exit 1
fi

# 3. the corpus
tree-sitter test

# 4. every cdl file of the repository parses cleanly (--quiet prints only the failing files): the
# examples, the standard library and every fixture, including the `err` ones, whose errors are
# found after parsing (pest parses misplaced declarations and other systems' words to report
# them), except the syntax error E0100, which must not parse.
mapfile -t files < <(cd "$repo" && ls examples/*.cdl stdlib/*.cdl tests/fixtures/*/*.cdl tests/fixtures/ok/*/*.cdl 2>/dev/null | grep -v '^tests/fixtures/err/E0100-')
if (cd "$repo" && tree-sitter parse --quiet --grammar-path "$here" tests/fixtures/err/E0100-*.cdl >/dev/null 2>&1); then
  echo "tests/fixtures/err/E0100-*.cdl (a syntax error for pest) parses without an error" >&2
  exit 1
fi
(cd "$repo" && tree-sitter parse --quiet --grammar-path "$here" "${files[@]}") || {
  echo "some files have ERROR or MISSING nodes (above)" >&2
  exit 1
}
# 5. hostile text: 300 examples and fixtures cut, spliced or with an unclosed `"`, `"""`, `/*`,
# a lone `\`, a NUL, smart quotes… inserted must parse (with errors) without a crash or a hang.
mutants="$(mktemp -d)"
trap 'rm -rf "$before" "$mutants"' EXIT
python3 - "$repo" "$mutants" <<'PY'
import glob, random, sys
repo, out = sys.argv[1], sys.argv[2]
random.seed(15)
files = sorted(glob.glob(f"{repo}/examples/*.cdl") + glob.glob(f"{repo}/tests/fixtures/ok/*.cdl"))
inserts = ['"', '"""', "/*", "*/", "\\", "\\u{", "\u00e9", "{", "}", "\u201c", "\x00", "///", "\r", "\ufeff"]
for i in range(300):
    text = open(random.choice(files), encoding="utf-8").read()
    at = random.randint(0, len(text))
    kind = random.random()
    if kind < 0.3:
        text = text[:at]
    elif kind < 0.7:
        text = text[:at] + random.choice(inserts) + text[at:]
    else:
        text = text[:at] + text[random.randint(at, len(text)):]
    open(f"{out}/m{i}.cdl", "w", encoding="utf-8").write(text)
PY
status=0
timeout 120 tree-sitter parse --quiet --grammar-path "$here" "$mutants"/*.cdl >/dev/null 2>&1 || status=$?
if [ "$status" -gt 1 ]; then
  echo "tree-sitter parse crashed or hung on a mutated file (status $status)" >&2
  exit 1
fi

echo "tree-sitter-cdl: parser up to date, corpus passes, ${#files[@]} files parse, 300 mutants survive"
