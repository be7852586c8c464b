"""`netdsl lsp` end to end: the real server, started as the editor starts it (`netdsl lsp` over
stdio), driven by a real LSP client (pytest-lsp)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types as lsp
from pytest_lsp import ClientServerConfig, LanguageClient

from netdsl.dsl import NetError, analyse, format_source, load

ROOT = Path(__file__).resolve().parents[1]
CNN = ROOT / "examples" / "digits_cnn.net"
SERVER = ClientServerConfig(server_command=[sys.executable, "-m", "netdsl.pipelines.cli", "lsp"])

MISTAKES = """net broken
param width = 8
input (8, 8, 1)
conv2d(width, kernel_size=3, padding=same)
dnese(10, activation=softmax)
train {
    epochs = 3
    optimizr = adam
}
"""


@pytest_lsp.fixture(config=SERVER)
async def client(lsp_client: LanguageClient):
    lsp_client.refreshes = []

    @lsp_client.feature(lsp.WORKSPACE_INLAY_HINT_REFRESH)
    def _refresh(params):  # the client says it supports it: the server asks when the setting changes
        lsp_client.refreshes.append(params)

    capabilities = lsp.ClientCapabilities(
        workspace=lsp.WorkspaceClientCapabilities(inlay_hint=lsp.InlayHintWorkspaceClientCapabilities(refresh_support=True)))
    await lsp_client.initialize_session(lsp.InitializeParams(capabilities=capabilities, initialization_options={"inlayHints": True}))
    yield
    await lsp_client.shutdown_session()


async def _open(client: LanguageClient, path: Path, text: str | None = None) -> str:
    uri = path.as_uri()
    client.text_document_did_open(lsp.DidOpenTextDocumentParams(
        lsp.TextDocumentItem(uri=uri, language_id="netdsl", version=1, text=path.read_text() if text is None else text)))
    await client.wait_for_notification(lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    return uri


def _doc(uri: str) -> lsp.TextDocumentIdentifier:
    return lsp.TextDocumentIdentifier(uri=uri)


@pytest.mark.asyncio
async def test_diagnostics_are_checks(client: LanguageClient, tmp_path: Path):
    path = tmp_path / "broken.net"
    path.write_text(MISTAKES)
    uri = await _open(client, path)
    with pytest.raises(NetError) as caught:
        load(path)
    expected = [(d.span.line - 1, d.span.col - 1, d.span.end_col - 1, d.code, d.title, d.help) for d in caught.value.diagnostics]
    got = [(d.range.start.line, d.range.start.character, d.range.end.character, d.code,
            *(d.message.split("\nhelp: ") + [None])[:2]) for d in client.diagnostics[uri]]
    assert got == expected and len(got) == 2
    assert {d.source for d in client.diagnostics[uri]} == {"netdsl"}
    # and clean once fixed: the change is applied, the file checked again
    fixed = MISTAKES.replace("dnese", "dense").replace("optimizr", "optimizer")
    client.text_document_did_change(lsp.DidChangeTextDocumentParams(
        lsp.VersionedTextDocumentIdentifier(uri=uri, version=2), [lsp.TextDocumentContentChangeWholeDocument(text=fixed)]))
    await client.wait_for_notification(lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    assert list(client.diagnostics[uri]) == []


@pytest.mark.asyncio
async def test_quick_fix_replaces_the_typo(client: LanguageClient, tmp_path: Path):
    path = tmp_path / "broken.net"
    uri = await _open(client, path, MISTAKES)
    typo = next(d for d in client.diagnostics[uri] if "dnese" in d.message)
    actions = await client.text_document_code_action_async(lsp.CodeActionParams(
        _doc(uri), typo.range, lsp.CodeActionContext(diagnostics=[typo])))
    (action,) = actions
    (edit,) = action.edit.changes[uri]
    assert (edit.new_text, edit.range) == ("dense", lsp.Range(lsp.Position(4, 0), lsp.Position(4, 5)))


@pytest.mark.asyncio
async def test_a_document_never_opened_is_not_read_from_disk(client: LanguageClient, tmp_path: Path):
    # pygls read it (unbounded: a FIFO blocked the server, /dev/zero filled its memory) and a
    # missing file was an internal error with a traceback.
    secret = tmp_path / "secret.net"
    secret.write_text("net secret\ninput (4)\ndense(1)\n")
    for uri in (secret.as_uri(), (tmp_path / "missing.net").as_uri()):
        assert await client.text_document_formatting_async(lsp.DocumentFormattingParams(
            _doc(uri), lsp.FormattingOptions(tab_size=4, insert_spaces=True))) in (None, [], ())
        assert await client.text_document_hover_async(lsp.HoverParams(_doc(uri), lsp.Position(0, 1))) is None


@pytest.mark.asyncio
async def test_ranges_stay_inside_lines_that_end_in_a_bare_return(client: LanguageClient, tmp_path: Path):
    # The protocol ends a line at a bare `\r`, the parser does not: N110 at 1:6 became character 6
    # of the 5-character line `net a`, outside the document.
    uri = await _open(client, tmp_path / "cr.net", "net a\rparam w = 4\rinput (3)\rdense(w)\r")
    for diagnostic in client.diagnostics[uri]:
        assert diagnostic.range.end.line > 0 or diagnostic.range.end.character <= len("net a")


@pytest.mark.asyncio
async def test_a_quick_fix_takes_only_a_word(client: LanguageClient, tmp_path: Path):
    uri = await _open(client, tmp_path / "x.net", MISTAKES)
    odd = lsp.Diagnostic(range=lsp.Range(lsp.Position(0, 0), lsp.Position(0, 1)), message="x", data={"replace": ["list"]})
    assert await client.text_document_code_action_async(lsp.CodeActionParams(
        _doc(uri), odd.range, lsp.CodeActionContext(diagnostics=[odd]))) in (None, [], ())


@pytest.mark.asyncio
async def test_hover_on_a_conv_layer(client: LanguageClient):
    uri = await _open(client, CNN)
    line = next(i for i, text in enumerate(CNN.read_text().splitlines()) if "conv2d(" in text)
    col = CNN.read_text().splitlines()[line].index("conv2d") + 2
    hover = await client.text_document_hover_async(lsp.HoverParams(_doc(uri), lsp.Position(line, col)))
    text = hover.contents.value
    row = next(r for r in analyse(load(CNN)).rows if r.kind == "conv2d")
    assert f"(batch, {', '.join(map(str, row.output_shape))})" in text and f"{row.params:,} params" in text
    assert "### `conv2d`" in text and "`kernel_size`" in text  # the kind's documentation, as docs/language.md


@pytest.mark.asyncio
async def test_inlay_hints_give_every_layer_its_shape(client: LanguageClient):
    uri = await _open(client, CNN)
    hints = await client.text_document_inlay_hint_async(lsp.InlayHintParams(
        _doc(uri), lsp.Range(lsp.Position(0, 0), lsp.Position(100, 0))))
    labels = [h.label.strip() for h in hints]
    assert "-> (batch, 64)  16,448 params" in labels and "-> (batch, 10)  650 params" in labels
    assert len(hints) == len({(r.span.line, r.span.col) for r in analyse(load(CNN)).rows})
    # the setting turns them off
    client.workspace_did_change_configuration(lsp.DidChangeConfigurationParams(settings={"netdsl": {"inlayHints": False}}))
    off = await client.text_document_inlay_hint_async(lsp.InlayHintParams(
        _doc(uri), lsp.Range(lsp.Position(0, 0), lsp.Position(100, 0))))
    assert list(off) == [] and len(client.refreshes) == 1


@pytest.mark.asyncio
async def test_complete_den_to_dense(client: LanguageClient, tmp_path: Path):
    uri = await _open(client, tmp_path / "new.net", "net x\ninput (4)\nden")
    result = await client.text_document_completion_async(lsp.CompletionParams(_doc(uri), lsp.Position(2, 3)))
    labels = [item.label for item in result.items]
    assert "dense" in labels and "conv2d" in labels  # the client filters by the typed prefix
    dense = next(item for item in result.items if item.label == "dense")
    assert dense.kind == lsp.CompletionItemKind.Class and "`units`" in dense.documentation.value


@pytest.mark.asyncio
async def test_completes_arguments_values_and_settings(client: LanguageClient, tmp_path: Path):
    text = "net x\nparam width = 4\ninput (4)\ndense(width, activation=\ntrain {\n    \n}\n"
    uri = await _open(client, tmp_path / "new.net", text)

    async def labels(line, col):
        result = await client.text_document_completion_async(lsp.CompletionParams(_doc(uri), lsp.Position(line, col)))
        return [item.label for item in result.items]

    assert {"relu", "softmax", "width"} <= set(await labels(3, 24))
    assert {"units=", "activation=", "use_bias="} <= set(await labels(3, 6))
    assert {"epochs", "optimizer", "batch_size"} <= set(await labels(5, 4))


@pytest.mark.asyncio
async def test_rename_a_param_across_the_file(client: LanguageClient):
    uri = await _open(client, CNN)
    lines = CNN.read_text().splitlines()
    line = next(i for i, text in enumerate(lines) if text.startswith("param filters"))
    edit = await client.text_document_rename_async(lsp.RenameParams(_doc(uri), lsp.Position(line, 8), "width"))
    edits = edit.changes[uri]
    assert len(edits) == CNN.read_text().count("filters") - 1  # every use; not conv2d's comment-free `filters` argument name
    renamed = list(lines)
    for change in sorted(edits, key=lambda e: (e.range.start.line, -e.range.start.character)):
        row = renamed[change.range.start.line]
        renamed[change.range.start.line] = row[:change.range.start.character] + change.new_text + row[change.range.end.character:]
    assert load_text("\n".join(renamed)).params[0].name == "width"
    where = await client.text_document_definition_async(lsp.DefinitionParams(_doc(uri), lsp.Position(line + 8, 12)))
    assert where.range.start == lsp.Position(line, 6)
    uses = await client.text_document_references_async(lsp.ReferenceParams(
        context=lsp.ReferenceContext(include_declaration=True), text_document=_doc(uri), position=lsp.Position(line, 8)))
    assert len(uses) == len(edits)


def load_text(text: str):
    from netdsl.dsl import loads

    return loads(text)


@pytest.mark.asyncio
async def test_formatting_is_fmt(client: LanguageClient, tmp_path: Path):
    messy = "net  x\ninput(4)\ndense( 3,activation = softmax )   # out\n"
    uri = await _open(client, tmp_path / "messy.net", messy)
    (edit,) = await client.text_document_formatting_async(lsp.DocumentFormattingParams(
        _doc(uri), lsp.FormattingOptions(tab_size=4, insert_spaces=True)))
    assert edit.new_text == format_source(messy) != messy


@pytest.mark.asyncio
async def test_outline_and_folding(client: LanguageClient):
    uri = await _open(client, CNN)
    symbols = await client.text_document_document_symbol_async(lsp.DocumentSymbolParams(_doc(uri)))
    names = [s.name for s in symbols]
    assert names[:5] == ["digits_cnn", "filters", "depth", "hidden", "rate"] and "train" in names
    train = next(s for s in symbols if s.name == "train")
    assert [c.name for c in train.children][:2] == ["loss", "optimizer"]
    folds = await client.text_document_folding_range_async(lsp.FoldingRangeParams(_doc(uri)))
    lines = CNN.read_text().splitlines()
    opened = {i for i, text in enumerate(lines) if text.rstrip().endswith("{")}
    assert opened <= {f.start_line for f in folds}


def _message(obj) -> bytes:
    import json

    body = json.dumps(obj).encode()
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


@pytest.mark.parametrize("extra", [[], ["--stdio"]])
def test_server_exits_cleanly_when_the_editor_leaves(extra):
    """Status 0 after `shutdown` and `exit` (an editor logs anything else as a crash), with or without
    the `--stdio` many clients add."""
    import subprocess

    session = b"".join(_message(m) for m in (
        {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"capabilities": {}}},
        {"jsonrpc": "2.0", "method": "initialized", "params": {}},
        {"jsonrpc": "2.0", "id": 2, "method": "shutdown"},
        {"jsonrpc": "2.0", "method": "exit"},
    ))  # fmt: skip
    done = subprocess.run([*SERVER.server_command, *extra], input=session, capture_output=True, timeout=120)
    assert (done.returncode, done.stderr) == (0, b"")
    assert b'"capabilities"' in done.stdout and b'"hoverProvider": true' in done.stdout


def test_server_never_imports_tensorflow():
    import subprocess

    code = (
        "import sys\nfrom pathlib import Path\nfrom netdsl.editor import server, document, features, navigation\n"
        "for path in sorted(Path('examples').glob('*.net')):\n"
        "    a = document.read(path.read_text(), str(path))\n"
        "    features.inlay_hints(a); navigation.outline(a); features.completions(a, 3, 1)\n"
        "    [features.hover(a, t.line, t.col) for t in a.tokens]\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras')))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
