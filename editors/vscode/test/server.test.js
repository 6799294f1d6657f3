// Tests of server.js (bug 4): the binary named by `cdl.server.path` is found on PATH or by its
// path, and a missing, non-executable or folder path gets a message naming it and the setting.
"use strict";

const assert = require("assert");
const fs = require("fs");
const os = require("os");
const path = require("path");
const { findServer, failedToStart } = require("../server");

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cdl-server-"));
const bin = path.join(dir, "bin");
fs.mkdirSync(bin);
const cdl = path.join(bin, "cdl");
fs.writeFileSync(cdl, "#!/bin/sh\n");
fs.chmodSync(cdl, 0o755);
const plain = path.join(bin, "not-executable");
fs.writeFileSync(plain, "");
fs.chmodSync(plain, 0o644);
const env = { PATH: ["/nonexistent", bin].join(path.delimiter) };

let passed = 0;
function check(name, fn) {
  fn();
  passed++;
  console.log(`ok ${name}`);
}

check("a name is found on PATH", () => {
  assert.deepStrictEqual(findServer("cdl", env, "linux"), { command: cdl });
});
check("an empty setting means `cdl`", () => {
  assert.deepStrictEqual(findServer("  ", env, "linux"), { command: cdl });
});
check("a full path is used as it is", () => {
  assert.deepStrictEqual(findServer(cdl, { PATH: "" }, "linux"), { command: cdl });
});
for (const [name, configured, why] of [
  ["a name missing from PATH", "cdl-nope", "was not found on PATH"],
  ["a missing file", path.join(dir, "missing", "cdl"), "does not exist"],
  ["a file that is not executable", plain, "is not executable"],
  ["a folder", bin, "is a folder"],
]) {
  check(`${name}: the message names the path and the setting`, () => {
    const found = findServer(configured, env, "linux");
    assert.strictEqual(found.command, undefined);
    assert.ok(found.error.includes(`\`${configured}`), found.error);
    assert.ok(found.error.includes(why), found.error);
    assert.ok(found.error.includes("`cdl.server.path`"), found.error);
  });
}
check("a name on PATH with PATHEXT on Windows", () => {
  const exe = path.join(bin, "cdlw.EXE");
  fs.writeFileSync(exe, "");
  assert.deepStrictEqual(findServer("cdlw", { PATH: bin, PATHEXT: ".EXE" }, "win32"), { command: exe });
});
check("a failed start names the path and the setting", () => {
  const message = failedToStart("/opt/cdl", new Error("spawn EACCES"));
  assert.ok(message.includes("`/opt/cdl lsp`") && message.includes("spawn EACCES"), message);
  assert.ok(message.includes("`cdl.server.path`"), message);
});

// The restart command re-reads the setting: extension.js reads `cdl.server.path` in start(),
// which restart() calls after stopping the old client.
check("extension.js reads the setting at each start, and restart stops then starts", () => {
  const source = fs.readFileSync(path.join(__dirname, "..", "extension.js"), "utf8");
  const startBody = source.slice(source.indexOf("async function start()"), source.indexOf("async function stop()"));
  assert.ok(startBody.includes('config.get("server.path")'), "start() reads cdl.server.path");
  assert.ok(/async function restart\(\) \{\s*await stop\(\);\s*await start\(\);/.test(source));
  assert.ok(source.includes('registerCommand("cdl.restartServer", restart)'));
});

fs.rmSync(dir, { recursive: true, force: true });
console.log(`${passed} passed`);
