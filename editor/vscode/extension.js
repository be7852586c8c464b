// The netdsl extension's client: starts `netdsl lsp` (or the configured command) over stdio
// and leaves everything else to the server. Plain JavaScript so that it needs no build step.
'use strict';

const vscode = require('vscode');
const { LanguageClient } = require('vscode-languageclient/node');

const SECTION = 'netdsl';
let client;

function settings() {
  return vscode.workspace.getConfiguration(SECTION);
}

// The server is a program and its arguments: a list, so that paths with spaces need no quoting.
// No `transport`: left out, the client speaks over the process's stdin and stdout as it is;
// `TransportKind.stdio` would add a `--stdio` argument, which `netdsl lsp` does not take.
function serverOptions() {
  const command = settings().get('server.command', ['netdsl', 'lsp']);
  const [program, ...args] = Array.isArray(command) && command.length ? command : ['netdsl', 'lsp'];
  return { command: program, args };
}

function clientOptions() {
  return {
    documentSelector: [
      { scheme: 'file', language: 'netdsl' },
      { scheme: 'untitled', language: 'netdsl' },
    ],
    // The server reads its settings here at start, and from workspace/didChangeConfiguration
    // ({settings: {netdsl: {...}}}) whenever the user changes them.
    initializationOptions: { inlayHints: settings().get('inlayHints', true) },
    synchronize: { configurationSection: SECTION },
  };
}

async function start() {
  client = new LanguageClient(SECTION, 'netdsl language server', serverOptions(), clientOptions());
  try {
    await client.start();
  } catch (error) {
    const command = settings().get('server.command', ['netdsl', 'lsp']).join(' ');
    vscode.window.showErrorMessage(
      `netdsl: could not start the language server with \`${command}\` (${error.message || error}). ` +
      'Install netdsl (pip install netdsl) or set `netdsl.server.command` to its path.');
  }
}

async function stop() {
  const old = client;
  client = undefined;
  if (old) {
    try {
      await old.stop();
    } catch (error) {
      // A server that never started cannot be stopped; the new one starts all the same.
    }
  }
}

async function restart() {
  await stop();
  await start();
}

async function activate(context) {
  context.subscriptions.push(
    vscode.commands.registerCommand('netdsl.restartServer', restart),
    // A new command needs a new process; other settings reach the running server as they change.
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (event.affectsConfiguration(`${SECTION}.server.command`)) {
        restart();
      }
    }),
  );
  await start();
}

function deactivate() {
  return stop();
}

module.exports = { activate, deactivate };
