"""The VS Code extension in editor/vscode/, checked without VS Code or Node: its manifest, the
files it names, its agreement with the TextMate grammar, the language configuration against the
example files, and the settings it sends against what the real server does with them."""

from __future__ import annotations

import json
from importlib import metadata
import re
import sys
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types as lsp
from pytest_lsp import ClientServerConfig, LanguageClient

from netdsl.pipelines.cli import build_parser

ROOT = Path(__file__).resolve().parents[1]
EXTENSION = ROOT / "editor" / "vscode"
EXAMPLES = sorted((ROOT / "examples").glob("*.net"))
CNN = ROOT / "examples" / "digits_cnn.net"
SCRIPT = (EXTENSION / "extension.js").read_text()


def _json(path: Path) -> dict:
    return json.loads(path.read_text())


MANIFEST = _json(EXTENSION / "package.json")
(LANGUAGE,) = MANIFEST["contributes"]["languages"]
(GRAMMAR,) = MANIFEST["contributes"]["grammars"]
SETTINGS = MANIFEST["contributes"]["configuration"]["properties"]
CONFIGURATION = _json(EXTENSION / LANGUAGE["configuration"])


def test_manifest_names_the_language_its_grammar_and_its_client():
    assert (MANIFEST["name"], MANIFEST["publisher"], MANIFEST["main"]) == ("netdsl", "netdsl", "./extension.js")
    assert re.fullmatch(r"\^1\.\d+\.\d+", MANIFEST["engines"]["vscode"])
    assert (LANGUAGE["id"], LANGUAGE["extensions"]) == ("netdsl", [".net"])
    assert (GRAMMAR["language"], GRAMMAR["scopeName"]) == (LANGUAGE["id"], "source.netdsl")
    assert MANIFEST["activationEvents"] == [f"onLanguage:{LANGUAGE['id']}"]
    # the .vsix is named after this version: the package's own
    assert MANIFEST["version"] == metadata.version("netdsl")


def test_every_file_the_manifest_names_is_there():
    for relative in (MANIFEST["main"], LANGUAGE["configuration"], GRAMMAR["path"]):
        assert (EXTENSION / relative).is_file(), relative


def _scopes(rule) -> set[str]:
    if isinstance(rule, dict):
        found = {rule[key] for key in ("name", "contentName") if isinstance(rule.get(key), str)}
        return found.union(*(_scopes(value) for value in rule.values()))
    if isinstance(rule, list):
        return set().union(*(_scopes(item) for item in rule))
    return set()


def test_the_grammar_is_the_one_the_manifest_names():
    grammar = _json(EXTENSION / GRAMMAR["path"])
    assert grammar["scopeName"] == GRAMMAR["scopeName"] == f"source.{LANGUAGE['id']}"
    assert grammar["fileTypes"] == [extension.lstrip(".") for extension in LANGUAGE["extensions"]]
    scopes = _scopes(grammar["patterns"]) | _scopes(grammar["repository"])
    assert all(scope.endswith(f".{LANGUAGE['id']}") for scope in scopes), sorted(scopes)
    # VS Code knows strings and comments (autoClosingPairs' notIn) by these scopes
    assert any(scope.startswith("comment.") for scope in scopes)
    assert any(scope.startswith("string.") for scope in scopes)


def test_the_lock_file_pins_what_the_manifest_asks_for():
    """`npm ci` (scripts/package_vscode.sh) refuses a lock file out of step with package.json."""
    lock = _json(EXTENSION / "package-lock.json")
    root = lock["packages"][""]
    assert (lock["name"], lock["version"]) == (MANIFEST["name"], MANIFEST["version"])
    for field in ("dependencies", "devDependencies"):
        assert root.get(field) == MANIFEST.get(field), field
        for name in MANIFEST[field]:
            assert f"node_modules/{name}" in lock["packages"], name


def test_the_client_is_the_dependency_and_registers_the_commands_it_contributes():
    assert "require('vscode-languageclient/node')" in SCRIPT
    # a `transport` (TransportKind.stdio) makes the client add `--stdio` to the command, and
    # `netdsl lsp` stops at an argument it does not know: the server never starts
    assert not re.search(r"\btransport\s*:", re.sub(r"//.*", "", SCRIPT))
    assert "vscode-languageclient" in MANIFEST["dependencies"]
    registered = set(re.findall(r"registerCommand\('([\w.]+)'", SCRIPT))
    assert registered == {command["command"] for command in MANIFEST["contributes"]["commands"]}


def test_the_settings_the_client_reads_are_contributed():
    (section,) = re.findall(r"const SECTION = '(\w+)';", SCRIPT)
    assert section == LANGUAGE["id"] and "configurationSection: SECTION" in SCRIPT
    read = set(re.findall(r"settings\(\)\.get\('([\w.]+)'", SCRIPT))
    assert {f"{section}.{key}" for key in read} == set(SETTINGS)
    assert SETTINGS["netdsl.inlayHints"]["default"] is True


def test_the_default_command_is_the_cli_s_lsp():
    command = SETTINGS["netdsl.server.command"]["default"]
    (script,) = metadata.entry_points(group="console_scripts", name=command[0])
    assert script.value == "netdsl.pipelines.cli:program"
    args = build_parser(command[1:]).parse_args(command[1:])
    assert args.command == "lsp" and args.run.__module__ == "netdsl.pipelines.commands.lsp"


def test_language_configuration_comments_and_brackets():
    assert CONFIGURATION["comments"] == {"lineComment": "#"}
    assert sorted(map(tuple, CONFIGURATION["brackets"])) == [("(", ")"), ("[", "]"), ("{", "}")]
    closing = {(pair["open"], pair["close"]) for pair in CONFIGURATION["autoClosingPairs"]}
    assert closing == {("(", ")"), ("[", "]"), ("{", "}"), ('"', '"'), ("'", "'")}
    assert set(map(tuple, CONFIGURATION["surroundingPairs"])) == closing
    word = re.compile(CONFIGURATION["wordPattern"])
    for token in ("max_pooling2d", "_private", "64", "0.25", "1e-4", "3.", ".5"):
        assert word.fullmatch(token), token
    assert word.match("2x").group() == "2"


def _code(line: str) -> str:
    """The line without its comment or strings (neither holds a bracket the editor counts)."""
    line = re.sub(r"\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*'", '""', line)
    return line.split("#", 1)[0]


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_indentation_rules_indent_the_examples_as_they_are(path: Path):
    """VS Code's rules, replayed: a line matching `increaseIndentPattern` indents the next one a
    level, a line matching `decreaseIndentPattern` goes back one; continuation lines (inside
    `( )` or `[ ]`) are the user's to align and are not checked."""
    rules = CONFIGURATION["indentationRules"]
    increase, decrease = re.compile(rules["increaseIndentPattern"]), re.compile(rules["decreaseIndentPattern"])
    level, open_brackets, checked = 0, 0, 0
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip():
            continue
        if decrease.search(line):
            level -= 1
        if open_brackets == 0:
            indent = len(line) - len(line.lstrip(" "))
            assert indent == 4 * level, f"{path.name}:{number}: {line!r}"
            checked += 1
        code = _code(line)
        open_brackets += code.count("(") + code.count("[") - code.count(")") - code.count("]")
        if increase.search(line):
            level += 1
    assert level == 0 and open_brackets == 0 and checked > 5


SERVER = ClientServerConfig(server_command=[sys.executable, "-m", "netdsl.pipelines.cli", "lsp"])


def _sent_settings(**values) -> dict:
    """What vscode-languageclient sends for `synchronize.configurationSection: 'netdsl'`: the
    section's settings nested by their dotted names, `{"netdsl": {"server": {"command": [...]}, ...}}`."""
    settings: dict = {}
    for key, prop in SETTINGS.items():
        *path, last = key.split(".")
        place = settings
        for part in path:
            place = place.setdefault(part, {})
        place[last] = values.get(last, prop["default"])
    return settings


@pytest_lsp.fixture(config=SERVER)
async def client(lsp_client: LanguageClient):
    # as extension.js starts it, with inlay hints switched off in the settings
    (option,) = re.findall(r"initializationOptions: \{ (\w+): settings\(\)\.get\('(\w+)'", SCRIPT)
    assert option == ("inlayHints", "inlayHints")
    await lsp_client.initialize_session(lsp.InitializeParams(
        capabilities=lsp.ClientCapabilities(), initialization_options={option[0]: False}))
    yield
    await lsp_client.shutdown_session()


@pytest.mark.asyncio
async def test_the_server_obeys_the_settings_the_extension_sends(client: LanguageClient):
    uri = CNN.as_uri()
    client.text_document_did_open(lsp.DidOpenTextDocumentParams(
        lsp.TextDocumentItem(uri=uri, language_id=LANGUAGE["id"], version=1, text=CNN.read_text())))
    await client.wait_for_notification(lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    whole = lsp.InlayHintParams(lsp.TextDocumentIdentifier(uri), lsp.Range(lsp.Position(0, 0), lsp.Position(200, 0)))

    async def hints() -> list:
        return await client.text_document_inlay_hint_async(whole) or []

    assert await hints() == []  # off from initializationOptions
    for on in (True, False, True):
        client.workspace_did_change_configuration(lsp.DidChangeConfigurationParams(_sent_settings(inlayHints=on)))
        assert bool(await hints()) is on
