"""One open `.net` document, read once per version: `check`'s diagnostics, `show`'s layer rows, and
the program's words (tokens) with the names it defines and where each is used.

Why tokens of our own beside the parser: an editor's file is mostly broken while it is typed, and
completion, hover, go-to-definition and rename must still work then. The parse and the analysis
give the exact answers where the program is whole (diagnostics, shapes, parameter counts); the
tokens (the grammar's own terminals, `grammar/net.lark`) give names and positions always.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from netdsl.dsl import Diagnostic, NetError, Span, analyse, loads

# The grammar's terminals (grammar/net.lark: COMMENT, STRING, NAME, NUMBER), then brackets and
# operators one character each; anything else is one `other` character.
TOKEN = re.compile(
    r"(?P<comment>#[^\n]*)"
    r"|(?P<string>\"(?:[^\"\\\n]|\\.)*\"|'(?:[^'\\\n]|\\.)*')"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<number>(?:\d+\.\d*|\.\d+|\d+)(?:[eE][+-]?\d+)?)"
    r"|(?P<newline>\r?\n)"
    r"|(?P<space>[ \t\f\r]+)"
    r"|(?P<punct>[(){}\[\],=.+\-*/])"
    r"|(?P<other>.)"
)
OPENING, CLOSING = "([{", ")]}"


@dataclass(frozen=True)
class Token:
    kind: str  # name, string, number, punct, comment, other
    text: str
    line: int  # 1-based, as `Span`
    col: int  # 1-based
    depth: int  # brackets `(` `[` open around it (a newline inside them does not end a statement)
    block: str | None  # the block it is in: `train`, `augment`, `repeat`, ... or None at top level
    starts_statement: bool
    block_after: str | None = None  # the block a token right after it is in (`{` opens, `}` closes)

    @property
    def span(self) -> Span:
        return Span(self.line, self.col, self.line, self.col + len(self.text))

    @property
    def inner(self) -> Span:
        """The span of a string's contents (a name written in quotes), else the token's."""
        if self.kind == "string":
            return Span(self.line, self.col + 1, self.line, self.col + len(self.text) - 1)
        return self.span

    @property
    def value(self) -> str:
        return self.text[1:-1] if self.kind == "string" else self.text


def tokenize(text: str) -> list[Token]:
    """The program's tokens, spaces and newlines left out, each knowing its bracket depth, its block
    and whether it starts a statement."""
    tokens: list[Token] = []
    line, line_start, depth, start = 1, 0, 0, True
    blocks: list[str | None] = []
    last_name = None
    for match in TOKEN.finditer(text):
        kind, value = match.lastgroup, match.group()
        if kind == "newline":
            line, line_start = line + 1, match.end()
            start = start or depth == 0
            continue
        if kind == "space":
            continue
        block, token_depth = (blocks[-1] if blocks else None), depth
        if kind != "comment":
            starts, start = start, False
        else:
            starts = False
        if value == "{":
            blocks.append(last_name)
            start = True
        elif value == "}" and blocks:
            blocks.pop()
            start = True
        elif value in "([" and kind == "punct":
            depth += 1
        elif value in ")]" and kind == "punct" and depth:
            depth -= 1
        after = blocks[-1] if blocks else None
        tokens.append(Token(kind, value, line, match.start() - line_start + 1, token_depth, block, starts, after))
        if kind == "name" and value in BLOCK_WORDS:
            last_name = value
    return tokens


BLOCK_WORDS = frozenset({"train", "augment", "repeat", "residual", "skip"})


@dataclass
class Symbol:
    """A name the program defines (a `param`, an input, a named point `x = ...`, a layer's
    `name="..."`, a `repeat` loop's variable) with the tokens that define and use it."""

    name: str
    kind: str  # param, input, point, layer, loop
    definition: Token
    uses: list[Token] = field(default_factory=list)  # every occurrence, the definition included

    @property
    def spans(self) -> list[Span]:
        return [token.inner for token in self.uses]


def symbols(tokens: list[Token]) -> dict[str, Symbol]:
    """Every name defined in the program, by name (the first definition of a name wins), with its uses."""
    found: dict[str, Symbol] = {}

    def define(token: Token, kind: str) -> None:
        if token.value and token.value not in found:
            found[token.value] = Symbol(token.value, kind, token)

    for i, token in enumerate(tokens):
        after = tokens[i + 1] if i + 1 < len(tokens) and tokens[i + 1].line == token.line else None  # `param` alone on a line names nothing
        later = tokens[i + 2] if i + 2 < len(tokens) else None
        if token.kind != "name":
            if token.kind == "string" and follows(tokens, i, "=") and follows(tokens, i - 1, "name"):
                define(token, "layer")
            continue
        if token.starts_statement and token.text == "param" and after is not None and after.kind == "name":
            define(after, "param")
        elif token.starts_statement and token.text == "input" and after is not None and after.kind == "name":
            if later is not None and later.line == after.line and (later.kind == "name" or later.text == "("):
                define(after, "input")
        elif token.starts_statement and token.text == "repeat" and after is not None and later is not None \
                and after.kind == "name" and later.text == "in":
            define(after, "loop")
        elif token.starts_statement and token.block != "train" and after is not None and after.text == "=":
            define(token, "point")
    for i, token in enumerate(tokens):
        symbol = found.get(token.value) if token.kind in ("name", "string") else None
        if symbol is None or (token.kind == "string") != (symbol.kind == "layer"):
            continue
        if token.kind == "name" and not _is_use(tokens, i, symbol):
            continue
        symbol.uses.append(token)
    return found


def follows(tokens: list[Token], i: int, text: str) -> bool:
    """Whether token `i` comes right after a token `text`."""
    return i >= 1 and tokens[i - 1].text == text


def _is_use(tokens: list[Token], i: int, symbol: Symbol) -> bool:
    """Whether the name at `i` stands for `symbol` (not a keyword argument's or a setting's name, not
    a call's kind, not the part after `NAME.`)."""
    token = tokens[i]
    if token is symbol.definition:
        return True
    after = tokens[i + 1].text if i + 1 < len(tokens) else ""
    if after == "(" or follows(tokens, i, "."):
        return False
    if after == "=" and not token.starts_statement:
        return False  # `units=...`: an argument's name
    return not (after == "=" and token.block == "train")


@dataclass
class Analysis:
    """What the editor knows of one version of a document."""

    text: str
    filename: str
    tokens: list[Token]
    symbols: dict[str, Symbol]
    problems: list[Diagnostic]
    net: object | None = None  # the validated `Net` spec, where the program loads
    summary: object | None = None  # `analyse`'s summary (rows with shapes and counts), where it analyses

    def token_at(self, line: int, col: int) -> tuple[int, Token] | None:
        """The token under the 1-based position (or just before it: a cursor at a word's end)."""
        for i, token in enumerate(self.tokens):
            if token.line == line and token.col <= col <= token.col + len(token.text):
                if token.kind in ("name", "string", "number") or col < token.col + len(token.text):
                    return i, token
        return None

    def symbol_at(self, line: int, col: int) -> Symbol | None:
        found = self.token_at(line, col)
        if found is None:
            return None
        return next((s for s in self.symbols.values() if any(t is found[1] for t in s.uses)), None)


def read(text: str, filename: str = "<string>") -> Analysis:
    """Read a document as `netdsl check` does (load, then analyse), keeping every problem."""
    tokens = tokenize(text)
    found = Analysis(text, filename, tokens, symbols(tokens), [])
    try:
        found.net = loads(text, filename)
        found.summary = analyse(found.net)
    except NetError as error:
        found.problems = list(error.diagnostics)
    return found
