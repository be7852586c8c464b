"""Positions through the protocol, where characters and UTF-16 units differ: the client counts a
line's columns in UTF-16 units (`😀` is two, `层` one), the specs in characters. A server that mixes
them puts a diagnostic, a hover or a rename one column off for every emoji before it on the line."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types as lsp
from pytest_lsp import ClientServerConfig, LanguageClient

from netdsl.dsl import loads

SERVER = ClientServerConfig(server_command=[sys.executable, "-m", "netdsl.pipelines.cli", "lsp"])
# A string with an emoji and a CJK character, then a layer and a param on the same line; a comment too.
TEXT = """net unicode
param width = 4
input (3, 4)
time_distributed(name="层😀", layer=dnese(width))  # 注释 😀 width
dense(width)
"""
LINE = 3  # 0-based, the line of the emoji


@pytest_lsp.fixture(config=SERVER)
async def client(lsp_client: LanguageClient):
    await lsp_client.initialize_session(lsp.InitializeParams(capabilities=lsp.ClientCapabilities()))
    yield
    await lsp_client.shutdown_session()


def _units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _at(text: str, word: str) -> lsp.Position:
    """Where `word` starts on LINE, in UTF-16 units, as the client counts."""
    line = text.splitlines()[LINE]
    return lsp.Position(LINE, _units(line[:line.index(word)]))


def _apply(text: str, edits: list[lsp.TextEdit]) -> str:
    """The client's side of an edit: columns in UTF-16 units."""
    lines = text.split("\n")
    for edit in sorted(edits, key=lambda e: (e.range.start.line, e.range.start.character), reverse=True):
        assert edit.range.start.line == edit.range.end.line
        row = lines[edit.range.start.line].encode("utf-16-le")
        start, end = 2 * edit.range.start.character, 2 * edit.range.end.character
        lines[edit.range.start.line] = (row[:start] + edit.new_text.encode("utf-16-le") + row[end:]).decode("utf-16-le")
    return "\n".join(lines)


async def _open(client: LanguageClient, path: Path, text: str) -> str:
    uri = path.as_uri()
    client.text_document_did_open(lsp.DidOpenTextDocumentParams(
        lsp.TextDocumentItem(uri=uri, language_id="netdsl", version=1, text=text)))
    await client.wait_for_notification(lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    return uri


@pytest.mark.asyncio
async def test_diagnostic_and_quick_fix_after_an_emoji(client: LanguageClient, tmp_path: Path):
    uri = await _open(client, tmp_path / "unicode.net", TEXT)
    (typo,) = client.diagnostics[uri]
    start = _at(TEXT, "dnese")
    assert typo.range == lsp.Range(start, lsp.Position(LINE, start.character + 5))
    assert start.character == TEXT.splitlines()[LINE].index("dnese") + 1  # 😀 is two units
    (action,) = await client.text_document_code_action_async(lsp.CodeActionParams(
        lsp.TextDocumentIdentifier(uri), typo.range, lsp.CodeActionContext(diagnostics=[typo])))
    fixed = _apply(TEXT, action.edit.changes[uri])
    assert fixed == TEXT.replace("dnese", "dense")


@pytest.mark.asyncio
async def test_hover_and_rename_after_an_emoji(client: LanguageClient, tmp_path: Path):
    text = TEXT.replace("dnese", "dense")
    uri = await _open(client, tmp_path / "unicode.net", text)
    (name,) = client.diagnostics[uri]  # the analysis refuses the name: its range is the string's
    quoted = _at(text, '"层')
    assert name.code == "N216" and name.range == lsp.Range(quoted, lsp.Position(LINE, quoted.character + 5))
    doc = lsp.TextDocumentIdentifier(uri)
    dense = _at(text, "dense")
    hover = await client.text_document_hover_async(lsp.HoverParams(doc, lsp.Position(LINE, dense.character + 4)))
    assert hover.range == lsp.Range(dense, lsp.Position(LINE, dense.character + 5))
    assert "### `dense`" in hover.contents.value
    width = _at(text, "width")
    hover = await client.text_document_hover_async(lsp.HoverParams(doc, width))
    assert hover.range == lsp.Range(width, lsp.Position(LINE, width.character + 5)) and "param `width`" in hover.contents.value
    edit = await client.text_document_rename_async(lsp.RenameParams(doc, lsp.Position(LINE, width.character + 2), "size"))
    renamed = _apply(text, edit.changes[uri])
    assert renamed == text.replace("width", "size").replace("😀 size", "😀 width")  # not in the comment
    assert [p.name for p in loads(renamed).params] == ["size"]



@pytest.mark.asyncio
async def test_a_form_feed_is_not_a_line_end(client: LanguageClient, tmp_path: Path):
    """A page break (`^L`, as Emacs writes them) in a comment: the editor's line 4 stays line 4 when
    it sends an edit there, as for diagnostics and hover."""
    text = "# part one\x0cpart two\u2028\nnet x\ninput (4)\ndnese(2)\n"
    uri = await _open(client, tmp_path / "pages.net", text)
    (typo,) = client.diagnostics[uri]
    assert typo.range.start == lsp.Position(3, 0)
    client.text_document_did_change(lsp.DidChangeTextDocumentParams(
        lsp.VersionedTextDocumentIdentifier(uri=uri, version=2),
        [lsp.TextDocumentContentChangePartial(range=typo.range, text="dense")]))
    await client.wait_for_notification(lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    assert list(client.diagnostics[uri]) == []
    hover = await client.text_document_hover_async(lsp.HoverParams(lsp.TextDocumentIdentifier(uri), lsp.Position(3, 2)))
    assert "### `dense`" in hover.contents.value and hover.range.start == lsp.Position(3, 0)


@pytest.mark.asyncio
async def test_the_empty_last_line(client: LanguageClient, tmp_path: Path):
    """The cursor on the line after the file's last newline (where one types next): inside `train {`
    it is offered the settings; formatting replaces up to the real end of the file."""
    text = "net x\ninput (4)\ndense(2)\ntrain {\n    epochs = 3\n"
    uri = await _open(client, tmp_path / "end.net", text)
    doc = lsp.TextDocumentIdentifier(uri)
    result = await client.text_document_completion_async(lsp.CompletionParams(doc, lsp.Position(5, 0)))
    assert {"loss", "optimizer", "batch_size"} <= {item.label for item in result.items}
    assert "dense" not in {item.label for item in result.items}
    messy = "net  x\ninput(4)\ndense( 3 )"
    uri = await _open(client, tmp_path / "messy.net", messy)
    (edit,) = await client.text_document_formatting_async(lsp.DocumentFormattingParams(
        lsp.TextDocumentIdentifier(uri), lsp.FormattingOptions(tab_size=4, insert_spaces=True)))
    assert edit.range == lsp.Range(lsp.Position(0, 0), lsp.Position(2, 10))
