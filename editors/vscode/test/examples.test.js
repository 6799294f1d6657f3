// Tokenises every example and `ok` fixture of the repository with the TextMate grammar, as
// VS Code would, and checks that each file ends outside any string or comment, that no token
// is marked invalid, and that keywords, strings, comments and durations are recognised.
"use strict";

const fs = require("fs");
const path = require("path");
const vsctm = require("vscode-textmate");
const oniguruma = require("vscode-oniguruma");

const root = path.resolve(__dirname, "..", "..", "..");
const grammarPath = path.resolve(__dirname, "..", "syntaxes", "cdl.tmLanguage.json");

async function loadGrammar() {
  const wasm = fs.readFileSync(require.resolve("vscode-oniguruma/release/onig.wasm")).buffer;
  await oniguruma.loadWASM(wasm);
  const registry = new vsctm.Registry({
    onigLib: Promise.resolve({
      createOnigScanner: (patterns) => new oniguruma.OnigScanner(patterns),
      createOnigString: (s) => new oniguruma.OnigString(s),
    }),
    loadGrammar: async (scopeName) =>
      scopeName === "source.cdl"
        ? vsctm.parseRawGrammar(fs.readFileSync(grammarPath, "utf8"), grammarPath)
        : null,
  });
  return registry.loadGrammar("source.cdl");
}

function cdlFiles(folder) {
  return fs
    .readdirSync(path.join(root, folder))
    .filter((f) => f.endsWith(".cdl") && fs.statSync(path.join(root, folder, f)).isFile())
    .map((f) => path.join(folder, f));
}

async function main() {
  const grammar = await loadGrammar();
  const files = [...cdlFiles("examples"), ...cdlFiles("tests/fixtures/ok"), "stdlib/prelude.cdl"];
  const seen = new Set();
  let failures = 0;
  for (const file of files) {
    const lines = fs.readFileSync(path.join(root, file), "utf8").split("\n");
    let state = vsctm.INITIAL;
    lines.forEach((line, index) => {
      const result = grammar.tokenizeLine(line, state);
      for (const token of result.tokens) {
        const text = line.slice(token.startIndex, token.endIndex);
        for (const scope of token.scopes) {
          seen.add(scope.split(".").slice(0, 2).join("."));
          if (scope.startsWith("invalid")) {
            console.error(`${file}:${index + 1}: "${text}" is ${scope}`);
            failures++;
          }
        }
      }
      state = result.ruleStack;
    });
    // At the end of a file the grammar must be back at its top level (no string or comment
    // left open).
    if (state !== vsctm.INITIAL && state.depth !== 1) {
      console.error(`${file}: the grammar ends inside a string or a comment`);
      failures++;
    }
  }
  for (const scope of [
    "keyword.other",
    "string.quoted",
    "comment.line",
    "constant.numeric",
    "entity.name",
    "variable.other",
  ]) {
    if (!seen.has(scope)) {
      console.error(`no token of the examples is ${scope}`);
      failures++;
    }
  }
  const checks = files.length + 6;
  console.log(`${checks - failures} passed, ${failures} failed`);
  process.exit(failures === 0 ? 0 : 1);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
