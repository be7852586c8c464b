#!/usr/bin/env bash
# Packages the VS Code extension in editor/vscode/ as build/netdsl-<version>.vsix.
#
# Needs Node.js 20+ and npm with access to the npm registry: `npm ci` installs the exact versions
# in package-lock.json (vscode-languageclient, bundled into the .vsix, and the packaging tool
# @vscode/vsce, a devDependency that stays out of it). Nothing is installed globally.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
extension="$root/editor/vscode"
out="$root/build"

if [ ! -f "$extension/syntaxes/net.tmLanguage.json" ]; then
    echo "error: $extension/syntaxes/net.tmLanguage.json is missing (the TextMate grammar)" >&2
    exit 1
fi

cd "$extension"
version="$(node -p 'require("./package.json").version')"
vsix="$out/netdsl-$version.vsix"
mkdir -p "$out"

npm ci --no-audit --no-fund
# extension.js on a stand-in vscode module against the real `netdsl lsp` (on the PATH)
node test/smoke.js
# No repository URL in the manifest: say so, or vsce stops to ask.
npx --no-install vsce package --allow-missing-repository --out "$vsix"

echo "wrote $vsix ($(wc -c < "$vsix") bytes)"
