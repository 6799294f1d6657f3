// The cdl extension: the language (grammar, brackets, comments) is declared in package.json;
// this starts `cdl lsp` for diagnostics, hover, definitions, references, completion,
// symbols, formatting and rename. The binary is `cdl.server.path`, read again at every start:
// "cdl: Restart the language server" and a change of the setting pick up a new path.
"use strict";

const vscode = require("vscode");
const { LanguageClient, TransportKind } = require("vscode-languageclient/node");
const { findServer, failedToStart, SETTING } = require("./server");

let client;

async function showError(message) {
  const choice = await vscode.window.showErrorMessage(message, "Open Settings");
  if (choice === "Open Settings") {
    await vscode.commands.executeCommand("workbench.action.openSettings", SETTING);
  }
}

async function start() {
  const config = vscode.workspace.getConfiguration("cdl");
  const configured = config.get("server.path") || "cdl";
  const found = findServer(configured);
  if (found.error) {
    showError(found.error);
    return;
  }
  const args = ["lsp", ...(config.get("server.extraArgs") || [])];
  const serverOptions = {
    run: { command: found.command, args, transport: TransportKind.stdio },
    debug: { command: found.command, args, transport: TransportKind.stdio },
  };
  const clientOptions = {
    documentSelector: [
      { scheme: "file", language: "cdl" },
      { scheme: "untitled", language: "cdl" },
    ],
  };
  client = new LanguageClient("cdl", "cdl language server", serverOptions, clientOptions);
  try {
    await client.start();
  } catch (err) {
    const failed = client;
    client = undefined;
    failed.stop().catch(() => {});
    showError(failedToStart(configured, err));
  }
}

async function stop() {
  const old = client;
  client = undefined;
  if (old) {
    try {
      await old.stop();
    } catch {
      // a server that already died cannot be stopped; it is replaced all the same
    }
  }
}

async function restart() {
  await stop();
  await start();
}

function activate(context) {
  context.subscriptions.push(
    vscode.commands.registerCommand("cdl.restartServer", restart),
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (event.affectsConfiguration("cdl.server")) restart();
    })
  );
  return start();
}

function deactivate() {
  return stop();
}

module.exports = { activate, deactivate };
