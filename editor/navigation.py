"""Moving around a document: where a name is defined and used, renaming it, the outline of the
program and the blocks that fold. Plain data with 1-based `Span`s; `server.py` speaks the protocol.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from netdsl.dsl import Span, specs
from netdsl.dsl.words import KEYWORDS

from .document import Analysis
from .features import STATEMENT_WORDS, layer_rows, row_text

NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
RESERVED = frozenset(STATEMENT_WORDS) | {"skip", "in"}  # a point or param named so no longer parses


def definition(analysis: Analysis, line: int, col: int) -> Span | None:
    symbol = analysis.symbol_at(line, col)
    return None if symbol is None else symbol.definition.inner


def references(analysis: Analysis, line: int, col: int, include_definition: bool = True) -> list[Span]:
    symbol = analysis.symbol_at(line, col)
    if symbol is None:
        return []
    return [t.inner for t in symbol.uses if include_definition or t is not symbol.definition]


class RenameError(ValueError):
    """A rename that cannot be made (the message says why, for the editor to show)."""


def rename(analysis: Analysis, line: int, col: int, new_name: str) -> list[tuple[Span, str]]:
    """The edits that rename the name under the cursor everywhere it is used."""
    symbol = analysis.symbol_at(line, col)
    if symbol is None:
        raise RenameError("no param, input, named point or named layer here to rename")
    if not NAME.match(new_name):
        raise RenameError(f"`{new_name}` is not a name: a letter or `_`, then letters, digits or `_`")
    if new_name in RESERVED:
        raise RenameError(f"`{new_name}` is a word of the language (a statement starts with it)")
    if symbol.kind == "param" and (new_name in KEYWORDS or new_name in specs.SETTING_NAMES):
        raise RenameError(f"`{new_name}` already means something in .net files (`check`: a param may not shadow it)")
    taken = analysis.symbols.get(new_name)
    if taken is not None and taken is not symbol:
        raise RenameError(f"`{new_name}` is already the name of a {taken.kind} (line {taken.definition.line})")
    return [(span, new_name) for span in symbol.spans]


@dataclass
class Outline:
    """One entry of the document's outline: a statement or a block, with what it holds."""

    name: str
    what: str  # net, input, output, param, layer, block
    span: Span  # the whole statement or block
    selection: Span  # its name
    detail: str = ""
    children: list["Outline"] = field(default_factory=list)


def outline(analysis: Analysis) -> list[Outline]:
    """The program's statements in order, the layers with their output shapes, blocks nested."""
    rows = layer_rows(analysis)
    root: list[Outline] = []
    stack: list[list[Outline]] = [root]
    tokens = analysis.tokens
    for i, token in enumerate(tokens):
        if token.text == "}" and token.kind == "punct" and len(stack) > 1:
            stack.pop()
            parent = stack[-1][-1]
            parent.span = Span(parent.span.line, parent.span.col, token.line, token.col + 1)
            continue
        if not token.starts_statement or token.kind != "name":
            continue
        after = tokens[i + 1] if i + 1 < len(tokens) and tokens[i + 1].line == token.line else None
        entry = _entry(analysis, i, token, after, rows)
        if entry is None:
            continue
        stack[-1].append(entry)
        opener = next((t for t in tokens[i + 1:] if t.line == token.line and t.text == "{"), None)
        if opener is not None:
            stack.append(entry.children)
    for depth in range(len(stack) - 1, 0, -1):  # blocks not closed yet (being typed) reach their last child
        parent = stack[depth - 1][-1]
        if parent.children:
            last = parent.children[-1].span
            parent.span = Span(parent.span.line, parent.span.col, last.end_line, last.end_col)
    return root


def _entry(analysis: Analysis, i: int, token, after, rows) -> Outline | None:
    line_span = _statement_span(analysis, i)
    if token.text in ("net", "input", "param") and after is not None and after.kind == "name":
        return Outline(after.text, token.text, line_span, after.span, token.text)
    if token.text in ("train", "augment", "repeat", "residual", "skip"):
        return Outline(token.text, "block", line_span, token.span)
    if token.text in ("output", "from"):
        return Outline(token.text, token.text, line_span, token.span)
    if token.block == "train":
        return Outline(token.text, "setting", line_span, token.span)
    call = token
    if after is not None and after.text == "=" and i + 2 < len(analysis.tokens):
        call = analysis.tokens[i + 2]
    found = rows.get((call.line, call.col))
    detail = row_text(found) if found else call.text
    name = found[-1].name if found else token.text
    return Outline(name, "layer", line_span, token.span, detail)


def _statement_span(analysis: Analysis, i: int) -> Span:
    """From the statement's first token to the last before the next statement."""
    tokens = analysis.tokens
    end = tokens[i]
    for token in tokens[i + 1:]:
        if token.starts_statement or token.text == "}" and token.depth == 0:
            break
        if token.kind != "comment":
            end = token
    return Span(tokens[i].line, tokens[i].col, end.line, end.col + len(end.text))


def folding_ranges(analysis: Analysis) -> list[tuple[int, int]]:
    """(first line, last line) of every `{ }` block and every bracket spread over lines, and of runs
    of comment lines."""
    ranges, open_at = [], []
    for token in analysis.tokens:
        if token.kind == "punct" and token.text in "{([":
            open_at.append(token.line)
        elif token.kind == "punct" and token.text in "})]" and open_at:
            start = open_at.pop()
            if token.line > start:
                ranges.append((start, token.line))
    first_of_line: dict[int, str] = {}
    for token in analysis.tokens:
        first_of_line.setdefault(token.line, token.kind)
    comment_lines = [line for line, kind in first_of_line.items() if kind == "comment"]
    run_start = None
    for previous, line in zip([None] + comment_lines, comment_lines + [None]):
        if previous is None or line != previous + 1:
            if run_start is not None and previous is not None and previous > run_start:
                ranges.append((run_start, previous))
            run_start = line
    return sorted(ranges)
