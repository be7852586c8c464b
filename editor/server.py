"""`netdsl lsp`: the Language Server Protocol over stdio, on pygls.

Every answer comes from `document.read` (what `netdsl check` and `netdsl show` compute, read once
per version of a document) through `features` and `navigation`; this module only speaks the
protocol: positions (the protocol counts UTF-16 units, the specs count characters: pygls's codec
converts), diagnostics, and the editor's setting `netdsl.inlayHints`. It never imports TensorFlow.
"""

from __future__ import annotations

import gc
import re
from urllib.parse import unquote, urlparse

from lsprotocol import types as lsp
from pygls.exceptions import JsonRpcException
from pygls.lsp.server import LanguageServer
from pygls.workspace import TextDocument, Workspace

from netdsl.dsl import NetError, Span, format_source

from . import document, features, navigation

SOURCE = "netdsl"


class NetServer(LanguageServer):
    """The server, with each open document's latest reading and the editor's settings."""

    def __init__(self):
        super().__init__("netdsl", "0.1.0", text_document_sync_kind=lsp.TextDocumentSyncKind.Incremental)
        self.readings: dict[str, tuple[str, document.Analysis]] = {}  # uri -> (text, its reading)
        self.inlay_hints = True

    def reading(self, uri: str) -> tuple[object, document.Analysis]:
        """The open document `uri` and its reading (made again only when the text has changed). A
        document the editor has not opened is empty here: pygls's `get_text_document` would read it
        from disk, unbounded (a FIFO blocked the server, `/dev/zero` filled its memory)."""
        doc = self.workspace.text_documents.get(uri) or self.workspace._create_text_document(uri, source="")
        cached = self.readings.get(uri)
        if cached is None or cached[0] != doc.source:
            cached = (doc.source, document.read(doc.source, _filename(uri)))
            self.readings[uri] = cached
        return doc, cached[1]


LINE_END = re.compile(r"(\r\n|\r|\n)")


class _Document(TextDocument):
    """A document whose lines end where the protocol's do: at `\\n`, `\\r\\n` and `\\r` only.

    pygls splits as `str.splitlines`, also at a form feed (an Emacs page break in a comment),
    `\\v`, `\\x85` or `\\u2028`: the editor's line numbers and pygls's then differ, and an
    incremental edit was applied to the wrong line. The last line is kept even when empty, the line
    a cursor at the end of the file is on."""

    _split: tuple[str, tuple[str, ...]] = ("", ("",))  # the source last split, and its lines

    @property
    def lines(self) -> tuple[str, ...]:
        source = self.source
        if self._split[0] is not source:  # asked for every range: split once per version
            parts = LINE_END.split(source)
            self._split = source, tuple(parts[i] + (parts[i + 1] if i + 1 < len(parts) else "") for i in range(0, len(parts), 2))
        return self._split[1]


class _Workspace(Workspace):
    def _create_text_document(self, doc_uri, source=None, version=None, language_id=None) -> TextDocument:
        return _Document(doc_uri, source=source, version=version, language_id=language_id,
                         sync_kind=self._sync_kind, position_codec=self.position_codec)


class RequestFailed(JsonRpcException):
    CODE = lsp.LSPErrorCodes.RequestFailed


def _filename(uri: str) -> str:
    parsed = urlparse(uri)
    return unquote(parsed.path) if parsed.scheme == "file" else uri


def _range(doc, span: Span | None) -> lsp.Range:
    """A span (1-based, in characters) as the client counts (0-based, in its units)."""
    if span is None:
        return lsp.Range(lsp.Position(0, 0), lsp.Position(0, 0))
    lines = doc.lines  # (a span past a line's end, where the parser and the protocol end lines apart
    #                     (a bare `\r`), is clamped to it: a client refuses a position outside the document)
    at = [(min(line, len(lines)) - 1, col - 1) for line, col in ((span.line, span.col), (span.end_line, span.end_col))]
    start, end = (lsp.Position(line, min(col, len(lines[line].rstrip("\r\n")))) for line, col in at)
    return doc.position_codec.range_to_client_units(lines, lsp.Range(start, end))


def _place(doc, position: lsp.Position) -> tuple[int, int]:
    """A client position as (line, col), 1-based, in characters."""
    server = doc.position_codec.position_from_client_units(doc.lines, position)
    return server.line + 1, server.character + 1


def diagnostics(doc, analysis: document.Analysis) -> list[lsp.Diagnostic]:
    """`check`'s problems: the same spans, titles, codes and help; a note as related information;
    a "did you mean" word kept in `data` for the quick fix."""
    found = []
    for problem in analysis.problems:
        related = None
        if problem.related is not None:
            span, note = problem.related
            related = [lsp.DiagnosticRelatedInformation(lsp.Location(doc.uri, _range(doc, span)), note)]
        word = features.suggestion(analysis, problem)
        found.append(lsp.Diagnostic(
            range=_range(doc, problem.span), message=problem.title + (f"\nhelp: {problem.help}" if problem.help else ""),
            severity=lsp.DiagnosticSeverity.Error, code=problem.code, source=SOURCE,
            related_information=related, data={"replace": word} if word else None,
        ))  # fmt: skip
    return found


server = NetServer()


def _publish(ls: NetServer, uri: str) -> None:
    doc, analysis = ls.reading(uri)
    ls.text_document_publish_diagnostics(
        lsp.PublishDiagnosticsParams(uri=uri, version=doc.version, diagnostics=diagnostics(doc, analysis)))
    _settle_memory()


_SETTLED = []


def _settle_memory() -> None:
    """After the first reading (the specs' validators and the parser built, for good), move what the
    process holds out of the garbage collector's sight: a full collection of it took about 67 ms,
    every tenth change or so, which alone put the diagnostics' 95th percentile over 100 ms
    (benchmarks/README.md, "Editor"). The server is its own process; nothing else is affected."""
    if not _SETTLED:
        _SETTLED.append(True)
        gc.collect()
        gc.freeze()


@server.feature(lsp.INITIALIZE)
def _initialize(ls: NetServer, params: lsp.InitializeParams) -> None:
    ls.workspace.__class__ = _Workspace  # made by pygls just before; its documents split lines as the protocol does
    options = params.initialization_options or {}
    if isinstance(options, dict) and "inlayHints" in options:
        ls.inlay_hints = bool(options["inlayHints"])


@server.feature(lsp.WORKSPACE_DID_CHANGE_CONFIGURATION)
def _configuration(ls: NetServer, params: lsp.DidChangeConfigurationParams) -> None:
    settings = params.settings if isinstance(params.settings, dict) else {}
    settings = settings.get("netdsl", settings)
    if isinstance(settings, dict) and "inlayHints" in settings:
        ls.inlay_hints = bool(settings["inlayHints"])
        refresh = ls.client_capabilities.workspace and ls.client_capabilities.workspace.inlay_hint
        if refresh and refresh.refresh_support:
            ls.workspace_inlay_hint_refresh(None)


@server.feature(lsp.TEXT_DOCUMENT_DID_OPEN)
def _opened(ls: NetServer, params: lsp.DidOpenTextDocumentParams) -> None:
    _publish(ls, params.text_document.uri)


@server.feature(lsp.TEXT_DOCUMENT_DID_CHANGE)
def _changed(ls: NetServer, params: lsp.DidChangeTextDocumentParams) -> None:
    _publish(ls, params.text_document.uri)


@server.feature(lsp.TEXT_DOCUMENT_DID_CLOSE)
def _closed(ls: NetServer, params: lsp.DidCloseTextDocumentParams) -> None:
    ls.readings.pop(params.text_document.uri, None)
    ls.text_document_publish_diagnostics(lsp.PublishDiagnosticsParams(uri=params.text_document.uri, diagnostics=[]))


@server.feature(lsp.TEXT_DOCUMENT_HOVER)
def _hover(ls: NetServer, params: lsp.HoverParams) -> lsp.Hover | None:
    doc, analysis = ls.reading(params.text_document.uri)
    found = features.hover(analysis, *_place(doc, params.position))
    if found is None:
        return None
    text, span = found
    return lsp.Hover(lsp.MarkupContent(lsp.MarkupKind.Markdown, text), range=_range(doc, span))


@server.feature(lsp.TEXT_DOCUMENT_INLAY_HINT, lsp.InlayHintOptions(resolve_provider=False))
def _inlay_hints(ls: NetServer, params: lsp.InlayHintParams) -> list[lsp.InlayHint]:
    if not ls.inlay_hints:
        return []
    doc, analysis = ls.reading(params.text_document.uri)
    first, last = params.range.start.line + 1, params.range.end.line + 1
    return [
        lsp.InlayHint(position=_range(doc, Span(h.line, h.col, h.line, h.col)).start, label=h.label,
                      kind=lsp.InlayHintKind.Type, padding_left=False)
        for h in features.inlay_hints(analysis) if first <= h.line <= last
    ]  # fmt: skip


COMPLETION_KINDS = {
    "kind": lsp.CompletionItemKind.Class, "argument": lsp.CompletionItemKind.Property,
    "value": lsp.CompletionItemKind.EnumMember, "name": lsp.CompletionItemKind.Variable,
    "setting": lsp.CompletionItemKind.Property, "keyword": lsp.CompletionItemKind.Keyword,
}  # fmt: skip


@server.feature(lsp.TEXT_DOCUMENT_COMPLETION, lsp.CompletionOptions(trigger_characters=["(", ",", "=", " ", "["]))
def _complete(ls: NetServer, params: lsp.CompletionParams) -> lsp.CompletionList:
    doc, analysis = ls.reading(params.text_document.uri)
    items = [
        lsp.CompletionItem(
            label=item.label, kind=COMPLETION_KINDS[item.what], detail=item.detail or None,
            documentation=lsp.MarkupContent(lsp.MarkupKind.Markdown, item.documentation) if item.documentation else None,
            insert_text=item.insert,
        )
        for item in features.completions(analysis, *_place(doc, params.position))
    ]  # fmt: skip
    return lsp.CompletionList(is_incomplete=False, items=items)


@server.feature(lsp.TEXT_DOCUMENT_DEFINITION)
def _definition(ls: NetServer, params: lsp.DefinitionParams) -> lsp.Location | None:
    doc, analysis = ls.reading(params.text_document.uri)
    span = navigation.definition(analysis, *_place(doc, params.position))
    return None if span is None else lsp.Location(doc.uri, _range(doc, span))


@server.feature(lsp.TEXT_DOCUMENT_REFERENCES)
def _references(ls: NetServer, params: lsp.ReferenceParams) -> list[lsp.Location]:
    doc, analysis = ls.reading(params.text_document.uri)
    spans = navigation.references(analysis, *_place(doc, params.position), params.context.include_declaration)
    return [lsp.Location(doc.uri, _range(doc, span)) for span in spans]


@server.feature(lsp.TEXT_DOCUMENT_PREPARE_RENAME)
def _prepare_rename(ls: NetServer, params: lsp.PrepareRenameParams) -> lsp.Range | None:
    doc, analysis = ls.reading(params.text_document.uri)
    found = analysis.token_at(*_place(doc, params.position))
    symbol = analysis.symbol_at(*_place(doc, params.position))
    return None if symbol is None or found is None else _range(doc, found[1].inner)


@server.feature(lsp.TEXT_DOCUMENT_RENAME, lsp.RenameOptions(prepare_provider=True))
def _rename(ls: NetServer, params: lsp.RenameParams) -> lsp.WorkspaceEdit:
    doc, analysis = ls.reading(params.text_document.uri)
    try:
        edits = navigation.rename(analysis, *_place(doc, params.position), params.new_name)
    except navigation.RenameError as error:
        raise RequestFailed(str(error)) from None
    return lsp.WorkspaceEdit(changes={doc.uri: [lsp.TextEdit(_range(doc, span), text) for span, text in edits]})


@server.feature(lsp.TEXT_DOCUMENT_FORMATTING)
def _format(ls: NetServer, params: lsp.DocumentFormattingParams) -> list[lsp.TextEdit] | None:
    """The whole document as `netdsl fmt` writes it; nothing for a program that does not parse."""
    doc, analysis = ls.reading(params.text_document.uri)
    try:
        formatted = format_source(doc.source, analysis.filename)
    except NetError:
        return None
    if formatted == doc.source:
        return []
    lines = doc.lines
    end = lsp.Position(len(lines) - 1, doc.position_codec.client_num_units(lines[-1]))
    whole = lsp.Range(lsp.Position(0, 0), end)
    return [lsp.TextEdit(whole, formatted)]


SYMBOL_KINDS = {
    "net": lsp.SymbolKind.Module, "input": lsp.SymbolKind.Variable, "param": lsp.SymbolKind.Constant,
    "layer": lsp.SymbolKind.Function, "block": lsp.SymbolKind.Namespace, "setting": lsp.SymbolKind.Property,
    "output": lsp.SymbolKind.Event, "from": lsp.SymbolKind.Event,
}  # fmt: skip


def _symbol(doc, entry: navigation.Outline) -> lsp.DocumentSymbol:
    return lsp.DocumentSymbol(
        name=entry.name, kind=SYMBOL_KINDS[entry.what], range=_range(doc, entry.span),
        selection_range=_range(doc, entry.selection), detail=entry.detail or None,
        children=[_symbol(doc, child) for child in entry.children] or None,
    )  # fmt: skip


@server.feature(lsp.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
def _outline(ls: NetServer, params: lsp.DocumentSymbolParams) -> list[lsp.DocumentSymbol]:
    doc, analysis = ls.reading(params.text_document.uri)
    return [_symbol(doc, entry) for entry in navigation.outline(analysis)]


@server.feature(lsp.TEXT_DOCUMENT_FOLDING_RANGE)
def _folding(ls: NetServer, params: lsp.FoldingRangeParams) -> list[lsp.FoldingRange]:
    _, analysis = ls.reading(params.text_document.uri)
    return [lsp.FoldingRange(start_line=first - 1, end_line=last - 1) for first, last in navigation.folding_ranges(analysis)]


@server.feature(lsp.TEXT_DOCUMENT_CODE_ACTION,
                lsp.CodeActionOptions(code_action_kinds=[lsp.CodeActionKind.QuickFix]))  # fmt: skip
def _code_actions(ls: NetServer, params: lsp.CodeActionParams) -> list[lsp.CodeAction]:
    """A quick fix for each "did you mean" in the diagnostics asked about."""
    uri = params.text_document.uri
    actions = []
    for problem in params.context.diagnostics:
        word = problem.data.get("replace") if isinstance(problem.data, dict) else None
        if isinstance(word, str) and 0 < len(word) <= 200 and "\n" not in word:  # as the server's own diagnostics give
            edit = lsp.WorkspaceEdit(changes={uri: [lsp.TextEdit(problem.range, word)]})
            actions.append(lsp.CodeAction(title=f"Replace with `{word}`", kind=lsp.CodeActionKind.QuickFix,
                                          diagnostics=[problem], edit=edit, is_preferred=True))
    return actions


def serve() -> None:
    """Serve one editor over stdin and stdout until it exits."""
    server.start_io()
