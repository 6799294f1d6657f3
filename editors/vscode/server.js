// Finding the `cdl` binary that `cdl.server.path` names, without VS Code: a name is looked up on
// PATH (with PATHEXT on Windows), a path must be an executable file. Used by extension.js at
// each (re)start so that a missing or unrunnable binary gets a message naming the path and the
// setting, not "couldn't create connection to server".
"use strict";

const fs = require("fs");
const path = require("path");

const SETTING = "cdl.server.path";

function isExecutableFile(file, platform) {
  try {
    if (!fs.statSync(file).isFile()) return false;
    if (platform !== "win32") fs.accessSync(file, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

// Returns { command } with the full path to run, or { error } with a message for the user.
function findServer(configured, env = process.env, platform = process.platform) {
  const command = (configured || "").trim() || "cdl";
  const hasSeparator = command.includes("/") || (platform === "win32" && command.includes("\\"));
  if (hasSeparator) {
    if (!fs.existsSync(command)) {
      return { error: notFound(command, `the file \`${command}\` does not exist`) };
    }
    if (fs.statSync(command).isDirectory()) {
      return { error: notFound(command, `\`${command}\` is a folder, not the cdl binary`) };
    }
    if (!isExecutableFile(command, platform)) {
      return { error: notFound(command, `the file \`${command}\` is not executable`) };
    }
    return { command: path.resolve(command) };
  }
  const exts =
    platform === "win32" ? ["", ...(env.PATHEXT || ".EXE;.CMD;.BAT").split(";")] : [""];
  const dirs = (env.PATH || env.Path || "").split(path.delimiter).filter(Boolean);
  for (const dir of dirs) {
    for (const ext of exts) {
      const candidate = path.join(dir, command + ext);
      if (isExecutableFile(candidate, platform)) return { command: candidate };
    }
  }
  return { error: notFound(command, `\`${command}\` was not found on PATH`) };
}

function notFound(command, why) {
  return (
    `cdl: cannot start the language server \`${command} lsp\`: ${why}. ` +
    `Install cdl or set \`${SETTING}\` to the cdl binary, then run "cdl: Restart the language server".`
  );
}

// The message for a binary that was found but failed to start or died at once.
function failedToStart(command, err) {
  const why = err && err.message ? err.message : String(err);
  return (
    `cdl: the language server \`${command} lsp\` failed to start (${why}). ` +
    `Check \`${SETTING}\`: it must name the cdl binary.`
  );
}

module.exports = { findServer, failedToStart, SETTING };
