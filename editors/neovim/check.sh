#!/usr/bin/env bash
# Checks the Neovim snippets of docs/editors.md for real: headless Neovim loads each snippet as
# its only configuration, opens a *.cdl file, and must see the filetype, the cdl client and its
# diagnostics. Usage: editors/neovim/check.sh [path/to/cdl]   (default target/release/cdl)
# Neovim 0.7 runs the 0.8+ snippet too: vim.filetype.add exists there behind do_filetype_lua,
# and vim.lsp.start (0.8) is emulated with start_client + buf_attach_client.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cdl="$(realpath "${1:-target/release/cdl}")"
command -v nvim >/dev/null || { echo "nvim is not installed" >&2; exit 2; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/bin"
ln -s "$cdl" "$work/bin/cdl" # the snippets run `cdl` from PATH, as users have it
cat > "$work/pipeline.cdl" <<'CDL'
pipeline p {
  stage s {
    job a { run = "true"; after = [nope] }
  }
}
CDL
cat > "$work/compat.lua" <<'LUA'
if not vim.lsp.start then -- Neovim 0.7: what 0.8's vim.lsp.start does, for the 0.8+ snippet
  vim.g.do_filetype_lua = 1
  local ids = {}
  vim.lsp.start = function(config)
    ids[config.name] = ids[config.name] or vim.lsp.start_client(config)
    vim.lsp.buf_attach_client(vim.api.nvim_get_current_buf(), ids[config.name])
  end
end
LUA
failures=0
for snippet in cdl-0.7.lua cdl.lua; do
  pre=()
  [ "$snippet" = cdl.lua ] && pre=(--cmd "luafile $work/compat.lua")
  if (cd "$work" && PATH="$work/bin:$PATH" XDG_STATE_HOME="$work/state" XDG_DATA_HOME="$work/data" \
      timeout 60 nvim --headless --clean "${pre[@]}" --cmd "luafile $here/$snippet" \
      -c "luafile $here/test.lua" pipeline.cdl); then
    echo "ok $snippet"
  else
    echo "FAILED $snippet" >&2
    failures=$((failures + 1))
  fi
done
exit "$failures"
