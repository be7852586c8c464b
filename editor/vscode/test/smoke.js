// extension.js on a stand-in `vscode` module (fake_vscode.js), with the real vscode-languageclient
// and the real `netdsl lsp`: the server starts, a file's mistakes come back as diagnostics, the
// inlayHints setting reaches the server at start and when changed, a new server command
// restarts it, and a missing one says what to do. Run from editor/vscode after `npm ci`:
//   node test/smoke.js            (NETDSL_SERVER='["/path/netdsl", "lsp"]' for another command)
'use strict';
const assert = require('assert');
const fs = require('fs');
const Module = require('module');
const os = require('os');
const path = require('path');

const resolve = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  return resolve.call(this, request === 'vscode' ? require.resolve('./fake_vscode.js') : request, ...rest);
};
const vscode = require('./fake_vscode.js');
const { LanguageClient } = require('vscode-languageclient/node');
const extension = require('../extension.js');

const EXAMPLE = path.resolve(__dirname, '../../../examples/digits_cnn.net');
const command = JSON.parse(process.env.NETDSL_SERVER || '["netdsl", "lsp"]');
const clients = [];
const start = LanguageClient.prototype.start;
LanguageClient.prototype.start = function (...args) {
  if (!clients.includes(this)) clients.push(this);
  return start.apply(this, args);
};
const sleep = (ms) => new Promise((done) => setTimeout(done, ms));
async function until(check, ms = 10000) {
  for (const end = Date.now() + ms; Date.now() < end; await sleep(20)) {
    if (await check()) return true;
  }
  return false;
}

function textDocument(file) {
  const text = fs.readFileSync(file, 'utf8');
  const lines = text.split('\n');
  return {
    uri: vscode.Uri.file(file), fileName: file, languageId: 'netdsl', version: 1, isUntitled: false, isClosed: false,
    isDirty: false, lineCount: lines.length, eol: 1, getText: () => text, lineAt: (n) => ({ text: lines[n.line ?? n] }),
  };
}

function changeSettings(change, key) {
  change(vscode.state.settings.netdsl);
  const event = { affectsConfiguration: (section) => `netdsl.${key}`.startsWith(section) };
  vscode.state.configurationListeners.forEach((listener) => listener(event));
}

async function hints() {
  const client = clients[clients.length - 1];
  const range = { start: { line: 0, character: 0 }, end: { line: 100, character: 0 } };
  return (await client.sendRequest('textDocument/inlayHint', { textDocument: { uri: vscode.Uri.file(EXAMPLE).toString() }, range })) || [];
}

async function main() {
  const broken = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'netdsl-')), 'broken.net');
  fs.writeFileSync(broken, 'net broken\ninput (8, 8, 1)\nflatten\ndnese(10, activation=softmax)\n');
  vscode.workspace.textDocuments.push(textDocument(broken), textDocument(EXAMPLE));
  vscode.state.settings.netdsl.server.command = command;
  vscode.state.settings.netdsl.inlayHints = false;

  await extension.activate({ subscriptions: [] });
  assert.strictEqual(clients[0].state, 2, 'the client runs (state 2)');
  assert.deepStrictEqual([...vscode.state.commands.keys()], ['netdsl.restartServer']);
  const uri = vscode.Uri.file(broken).toString();
  assert(await until(() => (vscode.state.diagnostics.get(uri) || []).length), 'diagnostics for the broken file');
  const [typo] = vscode.state.diagnostics.get(uri);
  assert.match(typo.message, /dnese/);
  console.log(`diagnostic ${typo.range.start.line + 1}:${typo.range.start.character + 1} ${JSON.stringify(typo.message)}`);

  assert.strictEqual((await hints()).length, 0, 'inlayHints false at start: no hints');
  changeSettings((s) => { s.inlayHints = true; }, 'inlayHints');
  assert(await until(async () => (await hints()).length > 0), 'inlayHints changed to true: hints');
  console.log(`inlay hints: none with inlayHints false at start, ${(await hints()).length} once true`);

  changeSettings((s) => { s.server.command = command.slice(); }, 'server.command');
  assert(await until(() => clients.length === 2 && clients[1].state === 2), 'a new command starts a new server');
  assert.strictEqual(clients[0].state, 1, 'and stops the old one (state 1)');
  assert((await hints()).length > 0, 'the new server has the current settings');
  console.log('a new server command: the old server stopped, a new one running');

  changeSettings((s) => { s.server.command = ['/nonexistent/netdsl', 'lsp']; }, 'server.command');
  assert(await until(() => vscode.state.errors.some((m) => m.includes('netdsl.server.command'))), 'a missing command says so');
  console.log(`a missing command: ${JSON.stringify(vscode.state.errors[vscode.state.errors.length - 1])}`);
  await extension.deactivate();
}

process.on('unhandledRejection', (error) => {
  console.error('smoke test FAILED: the client gave up:', error && error.message);
  process.exit(1);
});
main().then(() => { console.log('smoke test passed'); process.exit(0); },
  (error) => { console.error('smoke test FAILED:', error); process.exit(1); });
