// A stand-in for the `vscode` module: enough of it for vscode-languageclient to start a server,
// send it documents and settings, and hand back diagnostics. What it lacks is a callable proxy.
'use strict';
const path = require('path');

function anything() {
  return new Proxy(function () { return anything(); }, {
    get: (target, prop) => (prop === 'then' || typeof prop === 'symbol' ? undefined : prop === 'dispose' ? () => {} : anything()),
    construct: () => anything(),
  });
}
function withFallback(object) {
  return new Proxy(object, {
    get: (target, prop) => (prop in target ? target[prop] : prop === 'then' || typeof prop === 'symbol' ? undefined : anything()),
  });
}

class Disposable {
  constructor(dispose) { this.dispose = dispose || (() => {}); }
  static from(...all) { return new Disposable(() => all.forEach((d) => d && d.dispose && d.dispose())); }
}
class EventEmitter {
  constructor() { this.listeners = []; this.event = (f) => { this.listeners.push(f); return new Disposable(); }; }
  fire(e) { this.listeners.forEach((f) => f(e)); }
  dispose() {}
}
class Position { constructor(line, character) { this.line = line; this.character = character; } }
class Range {
  constructor(a, b, c, d) {
    [this.start, this.end] = typeof a === 'number' ? [new Position(a, b), new Position(c, d)] : [a, b];
  }
}
// A token that is never cancelled (a proxy's `isCancellationRequested` would be truthy).
class CancellationTokenSource {
  constructor() { this.token = { isCancellationRequested: false, onCancellationRequested: () => new Disposable() }; }
  cancel() {}
  dispose() {}
}
class Diagnostic { constructor(range, message, severity) { Object.assign(this, { range, message, severity }); } }
class Uri {
  constructor(scheme, fsPath) { Object.assign(this, { scheme, path: fsPath, fsPath }); }
  static parse(text) { const m = /^(\w+):\/\/(.*)$/.exec(text); return new Uri(m[1], decodeURIComponent(m[2])); }
  static file(fsPath) { return new Uri('file', path.resolve(fsPath)); }
  toString() { return `${this.scheme}://${this.path}`; }
  with() { return this; }
}

// What the tests set and read: the user's settings, and what the client did with the editor.
const state = {
  settings: { netdsl: { server: { command: ['netdsl', 'lsp'] }, inlayHints: true } },
  configurationListeners: [], diagnostics: new Map(), commands: new Map(), errors: [],
};
const event = () => () => new Disposable();
function setting(section, key) {
  let value = section ? state.settings[section] : state.settings;
  for (const part of (key || '').split('.').filter(Boolean)) value = value == null ? undefined : value[part];
  return value;
}

module.exports = withFallback({
  state, version: '1.95.0', Disposable, EventEmitter, Position, Range, Diagnostic, Uri, CancellationTokenSource,
  DiagnosticSeverity: { Error: 0, Warning: 1, Information: 2, Hint: 3 },
  env: { appName: 'stand-in', language: 'en', machineId: 'm', sessionId: 's', uiKind: 1 },
  workspace: withFallback({
    getConfiguration: (section) => ({
      get: (key, otherwise) => { const v = setting(section, key); return v === undefined ? otherwise : v; },
      has: () => true, update: async () => {},
    }),
    onDidChangeConfiguration: (f) => { state.configurationListeners.push(f); return new Disposable(); },
    textDocuments: [], notebookDocuments: [], workspaceFolders: undefined,
    onDidOpenTextDocument: event(), onDidCloseTextDocument: event(), onDidChangeTextDocument: event(),
    onDidSaveTextDocument: event(), onWillSaveTextDocument: event(), onDidChangeWorkspaceFolders: event(),
    createFileSystemWatcher: () => withFallback({ dispose() {} }),
  }),
  window: withFallback({
    createOutputChannel: (name) => withFallback({
      name, append: (s) => process.stderr.write(s), appendLine: (s) => process.stderr.write(`${s}\n`), dispose() {},
    }),
    showErrorMessage: async (message) => { state.errors.push(message); },
    showWarningMessage: async () => undefined,
    showInformationMessage: async () => undefined,
    visibleTextEditors: [], onDidChangeActiveTextEditor: event(), onDidChangeVisibleTextEditors: event(),
    tabGroups: { all: [], onDidChangeTabs: event(), onDidChangeTabGroups: event() },
  }),
  languages: withFallback({
    createDiagnosticCollection: (name) => withFallback({
      name, set: (uri, found) => state.diagnostics.set(uri.toString(), found),
      delete: (uri) => state.diagnostics.delete(uri.toString()), clear() {}, dispose() {}, forEach() {},
    }),
    match: () => 10,
  }),
  commands: withFallback({
    registerCommand: (id, f) => { state.commands.set(id, f); return new Disposable(() => state.commands.delete(id)); },
    executeCommand: async () => undefined,
  }),
});
