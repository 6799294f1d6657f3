// The cdl extension: the language (grammar, brackets, comments) is declared in package.json;
// this starts `cdl lsp` for diagnostics, hover, definitions, references, completion,
// symbols, formatting and rename.
"use strict";

const vscode = require("vscode");
const { LanguageClient, TransportKind } = require("vscode-languageclient/node");

let client;

function activate(context) {
  const config = vscode.workspace.getConfiguration("cdl");
  const command = config.get("server.path") || "cdl";
  const args = ["lsp", ...(config.get("server.extraArgs") || [])];
  const serverOptions = {
    run: { command, args, transport: TransportKind.stdio },
    debug: { command, args, transport: TransportKind.stdio },
  };
  const clientOptions = {
    documentSelector: [
      { scheme: "file", language: "cdl" },
      { scheme: "untitled", language: "cdl" },
    ],
  };
  client = new LanguageClient("cdl", "cdl language server", serverOptions, clientOptions);
  context.subscriptions.push(
    vscode.commands.registerCommand("cdl.restartServer", () => client.restart())
  );
  return client.start();
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
