"""The Lark parser for `grammar/net.lark`, and syntax errors turned into located diagnostics."""

from __future__ import annotations

import json
import os
import re
import threading
from functools import lru_cache

from lark import Lark, Token, Tree
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput

from .errors import Diagnostic, Span

_CLOSERS = {"LPAR": "RPAR", "LSQB": "RSQB"}
_BRACKET_TEXT = {"LPAR": "(", "RPAR": ")", "LSQB": "[", "RSQB": "]", "LBRACE": "{", "RBRACE": "}"}

# Terminal names as people say them.
_WORDS = {
    "RPAR": "`)`", "LPAR": "`(`", "RSQB": "`]`", "LSQB": "`[`", "LBRACE": "`{`", "RBRACE": "`}`",
    "COMMA": "`,`", "EQUAL": "`=`", "PLUS": "`+`", "MINUS": "`-`", "STAR": "`*`", "SLASH": "`/`",
    "NAME": "a name", "VALUE": "a value", "NUMBER": "a number", "STRING": "a string", "_NL": "the end of the line",
    "$END": "the end of the file", "_IN": "`in`", "NET": "`net`", "INPUT": "`input`",
    "PARAM": "`param`", "REPEAT": "`repeat`", "AUGMENT": "`augment`", "TRAIN": "`train`",
    "FROM": "`from`", "OUTPUT": "`output`", "RESIDUAL": "`residual`", "SKIP": "`skip`",
}  # fmt: skip


class _Brackets:
    """Post-lexer: drops newlines inside () and [] (so a call or a matrix may span lines), and
    remembers the open brackets, so an unclosed one can be pointed at."""

    always_accept = ("_NL",)

    def __init__(self):
        self.open: list[tuple[Token, str | None]] = []
        self.blocks: list[str] = []  # the keywords of the blocks `{ }` the parser is inside

    def process(self, stream):
        self.open = []
        self.blocks = []
        keyword = None
        previous = None
        count = 0  # tokens of the current statement
        for token in stream:
            count += 1
            if count > MAX_STATEMENT_TOKENS:
                raise SyntaxProblem(Diagnostic(
                    f"statement too long: more than {MAX_STATEMENT_TOKENS:,} tokens", Span.of(token),
                    help="an array of numbers alone counts as one token, but not one with a name or "
                    "comment inside; write it as numbers only, or split the statement", code="N115",
                ))  # fmt: skip
            if token.type in ("REPEAT", "AUGMENT", "TRAIN"):
                keyword = token.type.lower()
            elif token.type == "LBRACE":
                self.blocks.append(keyword or "")
            elif token.type == "RBRACE" and self.blocks:
                self.blocks.pop()
            if token.type in _CLOSERS:
                callee = previous.value if previous is not None and previous.type == "NAME" else None
                self.open.append((token, callee))
            elif self.open and token.type == _CLOSERS[self.open[-1][0].type]:
                self.open.pop()
            if token.type == "_NL" and self.open:
                continue
            if token.type == "_NL":
                count = 0
            previous = token
            yield token


_MATRIX_PART = re.compile(
    r"(?P<open>\[)|(?P<close>\])|(?P<comma>,)|[ \t\f\r\n]+"
    r"|(?P<number>[+-]?[ \t\f\r\n]*(?:\d+\.\d*|\.\d+|\d+)(?:[eE][+-]?\d+)?)|(?P<bad>.)",
    re.DOTALL,
)
# What may follow each part of an array, as the `list` rules have it (a trailing comma allowed).
_MATRIX_NEXT = {"open": {"open", "close", "number"}, "comma": {"open", "close", "number"},
                "number": {"comma", "close"}, "close": {"comma", "close"}}  # fmt: skip


def matrix_parts(token: Token):
    """The nested lists of a MATRIX token, each number as `(spelling, offset in the token)`: the
    sign joined to it, a `+` dropped, as the `list` rules read it. Raises `SyntaxProblem` where the
    text is not an array those rules accept (the token's rows are lexed loosely, for speed)."""
    root: list = []
    stack = [root]
    previous = "open"
    for match in _MATRIX_PART.finditer(token):
        part = match.lastgroup
        if part is None:
            continue  # blanks
        if part not in _MATRIX_NEXT[previous] or (part == "comma" and len(stack) == 1):
            offset = match.start()
            before = token[:offset]
            line = token.line + before.count("\n")
            col = offset - before.rfind("\n") if "\n" in before else token.column + offset
            found = match.group().strip() or match.group()
            raise SyntaxProblem(Diagnostic(
                f"unexpected `{found}` in an array of numbers", Span(line, col, line, col + len(found)),
                help="expected " + ("`,` or `]`" if previous in ("number", "close") else "a number, `[` or `]`"), code="N110",
            ))  # fmt: skip
        previous = part
        if part == "open":
            stack.append([])
            stack[-2].append(stack[-1])
        elif part == "close":
            stack.pop()
        elif part == "number":
            text = match.group()
            sign = "-" if text[0] == "-" else ""
            stack[-1].append((sign + text.lstrip("+- \t\f\r\n"), match.start()))
    return root[0]


_PIECE = re.compile(r"\[|\]|[^\[\]]+")
_PLUS_OR_BLANK = re.compile(r"(?<![eE])\+|[ \t\f\r\n]+")


def matrix_cells(token: Token) -> list:
    """The nested lists of a MATRIX token that parsed (`parse` checked it), each number spelled as
    written but for blanks and a leading `+`; string operations a row at a time, for `fmt`."""
    root: list = []
    stack = [root]
    for piece in _PIECE.findall(token):
        if piece == "[":
            stack.append([])
            stack[-2].append(stack[-1])
        elif piece == "]":
            stack.pop()
        else:
            cells = _PLUS_OR_BLANK.sub("", piece).split(",")
            stack[-1].extend(cell for cell in cells if cell)  # separators between rows give none
    return root[0]


def matrix_values(token: Token) -> list:
    """A MATRIX token's numbers as nested lists (ints and floats as in the source). JSON's reader,
    in C, does most arrays as written; `matrix_parts` the rest (`.5`, `+1`, a trailing comma) and
    every malformed one."""
    try:
        return json.loads(token)
    except ValueError:  # not JSON (or not an array the rules accept: `matrix_parts` says where)
        pass

    def number(item):
        if isinstance(item, list):
            return [number(x) for x in item]  # four levels at most
        text = item[0]
        # A 5,000-digit integer is read as a float (too large either way; the loader says so).
        return float(text) if len(text) > 20 or any(c in text for c in ".eE") else int(text)

    return number(matrix_parts(token))


def _cache_path(grammar: str):
    """Where Lark keeps the parser tables (a user cache folder), or False where none is writable."""
    import hashlib

    import lark

    digest = hashlib.sha256((grammar + lark.__version__).encode()).hexdigest()[:16]
    for folder in _cache_folders():
        try:
            os.makedirs(folder, mode=0o700, exist_ok=True)
        except OSError:
            continue
        if _private(folder):
            return os.path.join(folder, f"grammar-{digest}.lark-cache")
    return False


def _private(folder: str) -> bool:
    """Whether only this user can write in `folder`. Lark reads its cache with pickle, so a folder
    another user made first (`/tmp/netdsl-1000`, made before us) or may write in would let them run
    code in every later `netdsl check`: such a folder is not used (the tables are then computed)."""
    try:
        info = os.stat(folder)
        owner = getattr(os, "getuid", lambda: info.st_uid)()
        if info.st_uid == owner and info.st_mode & 0o022:
            os.chmod(folder, 0o700)  # our own folder, made under a permissive umask: ours alone now
            info = os.stat(folder)
    except OSError:
        return False
    return info.st_uid == owner and not info.st_mode & 0o022 and os.access(folder, os.W_OK)


def _cache_folders():
    """The user's cache folder for netdsl, then (tempfile imported only if it comes to that) one in
    the folder of temporary files."""
    root = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    yield os.path.join(root, "netdsl")
    import tempfile

    yield os.path.join(tempfile.gettempdir(), f"netdsl-{os.getuid()}")


def grammar_text() -> str:
    """The text of `grammar/net.lark`, the file beside the `netdsl.grammar` package (read as a plain
    file: importlib.resources would import zipfile and tempfile into every cold `netdsl check`)."""
    from netdsl import grammar

    with open(os.path.join(os.path.dirname(grammar.__file__), "net.lark"), encoding="utf-8") as handle:
        return handle.read()


@lru_cache(maxsize=1)
def _parser() -> tuple[Lark, _Brackets]:
    grammar = grammar_text()
    brackets = _Brackets()
    comments: list[Token] = []
    parser = Lark(
        grammar,
        parser="lalr",
        propagate_positions=True,
        maybe_placeholders=True,
        postlex=brackets,
        lexer_callbacks={"COMMENT": comments.append},
        cache=_cache_path(grammar),  # the LALR tables, computed once per grammar and Lark version
    )
    parser.comments = comments  # the comments of the last parse (for fmt)
    return parser, brackets



def terminal_pattern(name: str) -> str:
    """The regular expression of the grammar's terminal `name` (`MATRIX`), as the parser reads it."""
    return _parser()[0].get_terminal(name).pattern.to_regexp()


_lock = threading.Lock()

# Bounds on a program's shape, checked right after parsing. Every walk over a program (the loader,
# `fmt`, `dumps`, pydantic's validation, evaluation) recurses once or twice per level of nesting, so a
# bound well under Python's recursion limit (1000 frames) keeps all of them safe without a
# process-wide `sys.setrecursionlimit`; no real network nests values or `repeat` blocks this deep.
MAX_NESTING = 100  # brackets, calls, operators and `repeat` blocks inside one another
MAX_NAME_LENGTH = 100  # characters of a name (`net`, `param`, layer kinds, arguments)
# Tokens in one statement: Lark's time grows with them, so a 3 MB array that cannot be one MATRIX
# token (a name inside) is refused early rather than parsed for a minute (benchmarks/README.md).
MAX_STATEMENT_TOKENS = 200_000
# Lines in one program: Lark builds the whole tree before any other bound is met, and 300,000 lines
# of `dense(2)` (2.7 MB, far under the file-size bound) took 21 s and 1.1 GB to refuse; a real net
# is a few hundred lines (a 1000x1000 literal matrix written a row a line: 1,000).
MAX_LINES = 50_000
_NESTING = {"list", "tuple_literal", "call_value", "add", "sub", "mul", "div", "neg", "repeat_block", "residual_block", "skip_block"}


def parse(text: str) -> tuple[Tree, list[Token]]:
    """Parse `.net` text into a Lark tree and its comments; raises `SyntaxProblem` on bad syntax or
    on a program beyond `MAX_NESTING` or `MAX_NAME_LENGTH`."""
    if text.count("\n", 0, len(text)) > MAX_LINES:
        raise SyntaxProblem(Diagnostic(
            f"the program is longer than {MAX_LINES:,} lines", Span(MAX_LINES + 1, 1, MAX_LINES + 1, 2),
            help="a network is a few hundred lines; is this the right file?", code="N115",
        ))  # fmt: skip
    parser, brackets = _parser()
    if not text.endswith("\n"):
        text += "\n"
    with _lock:
        parser.comments.clear()
        try:
            tree = parser.parse(text)
        except UnexpectedInput as error:
            raise SyntaxProblem(_diagnose(error, brackets, text)) from None
        comments = list(parser.comments)
    _check_limits(tree)
    return tree, comments


def _check_limits(tree: Tree) -> None:
    """Raise `SyntaxProblem` at the first place (in source order) where `tree` nests deeper than
    `MAX_NESTING` or has a name longer than `MAX_NAME_LENGTH`; an explicit stack, not recursion."""
    stack = [(tree, 0)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, Token):
            if node.type == "MATRIX":
                _check_matrix(node)
            if node.type == "NAME" and len(node) > MAX_NAME_LENGTH:
                raise SyntaxProblem(Diagnostic(
                    f"name too long ({len(node):,} characters)", Span.of(node),
                    help=f"a name has at most {MAX_NAME_LENGTH} characters", code="N115",
                ))  # fmt: skip
            continue
        if node is None:
            continue
        if node.data in _NESTING:
            depth += 1
            if depth > MAX_NESTING:
                raise SyntaxProblem(_too_deep(node))
        stack.extend((child, depth) for child in reversed(node.children))


def _check_matrix(token: Token) -> None:
    """Raise `SyntaxProblem` if a MATRIX token is not an array the `list` rules accept."""
    try:
        json.loads(token)  # valid JSON is a valid array; the C reader is fast
    except ValueError:
        matrix_parts(token)


def _too_deep(node: Tree) -> Diagnostic:
    span = Span.of(node)
    if node.data in ("repeat_block", "residual_block", "skip_block"):  # (the blocks count together)
        return Diagnostic(f"blocks (`repeat`, `residual`) nested more than {MAX_NESTING} deep", span,
                          help="flatten the blocks: `repeat` counts multiply, so one block can say the same; a "
                          "`residual` block may hold several layers", code="N116")
    if node.data in ("list", "tuple_literal", "call_value"):
        return Diagnostic(f"values nested more than {MAX_NESTING} deep", span,
                          help=f"brackets and calls may nest at most {MAX_NESTING} deep", code="N116")
    return Diagnostic(
        f"expression nested more than {MAX_NESTING} deep", span,
        help=f"an expression may hold at most {MAX_NESTING} operators inside one another (each `+` of a long "
        "sum counts, and each sign); compute part of it in a `param`, or write the number", code="N116",
    )  # fmt: skip


class SyntaxProblem(Exception):
    def __init__(self, diagnostic: Diagnostic):
        super().__init__(diagnostic.title)
        self.diagnostic = diagnostic


def _expected_words(names) -> str:
    names = set(names)
    if {"NAME", "NUMBER", "STRING"} <= names:
        names -= {"NAME", "NUMBER", "STRING", "LSQB", "LPAR", "MINUS", "PLUS"}
        names.add("VALUE")
    words = sorted({_WORDS.get(n, f"`{n.lower()}`") for n in names if not n.startswith("__")})
    # Operators are rarely what the user missed; mention them last and only when nothing else fits.
    main = [w for w in words if w not in ("`+`", "`-`", "`*`", "`/`")] or words
    if len(main) == 1:
        return main[0]
    return ", ".join(main[:-1]) + " or " + main[-1]


def _token_words(token: Token) -> str:
    if token.type == "$END":
        return "end of file"
    if token.type == "_NL":
        return "end of line"
    if token.type in _BRACKET_TEXT:
        return f"`{_BRACKET_TEXT[token.type]}`"
    return f"`{token.value}`"


def _lines(text: str) -> list[str]:
    """The lines as Lark counts them: split at `\n` only (`str.splitlines` also splits at a form feed,
    `\x1c` or `\u2028`, and the end of file's line would then disagree with Lark's), less a final
    empty line after the last newline."""
    lines = [line.removesuffix("\r") for line in text.split("\n")]
    return lines[:-1] if len(lines) > 1 and lines[-1] == "" else lines


def _diagnose(error: UnexpectedInput, brackets: _Brackets, text: str) -> Diagnostic:
    lines = _lines(text)
    if isinstance(error, UnexpectedCharacters):
        char = text[error.pos_in_stream] if error.pos_in_stream < len(text) else ""
        span = Span(error.line, error.column, error.line, error.column + 1)
        if char in "\"'":
            return Diagnostic("unterminated string", span, help=f"close the string with {char} on the same line", code="N111")
        allowed = set(error.allowed or ()) - {"RBRACE", "LBRACE"} or set(error.allowed or ())
        if "_NL" in allowed and allowed - {"_NL"} <= {"PLUS", "MINUS", "STAR", "SLASH", "_IN", "LPAR"}:
            allowed = {"_NL"}
        # a control character named, not printed (an escape sequence would recolour the terminal)
        shown = f"`{char}`" if char.isprintable() else f"`{repr(char)[1:-1]}` (U+{ord(char):04X})"
        return Diagnostic(
            f"unexpected character {shown}",
            span,
            help=f"expected {_expected_words(allowed)}" if allowed else "remove it", code="N110",
        )
    token = getattr(error, "token", None)
    expected = set(getattr(error, "expected", ()) or ())
    if isinstance(error, UnexpectedEOF) or token is None or token.type == "$END":
        line = len(lines)
        span = Span(line, len(lines[-1]) + 1 if lines else 1, line, len(lines[-1]) + 2 if lines else 2)
    else:
        end_col = token.end_column if token.end_line == token.line else token.column + 1
        span = Span(token.line, token.column, token.line, end_col)
        if token.type == "_NL":
            span = Span(token.line, len(lines[token.line - 1]) + 1, token.line, len(lines[token.line - 1]) + 2)

    # An unclosed bracket: point at the opener too.
    if brackets.open:
        opener, callee = brackets.open[-1]
        closer = _CLOSERS[opener.type]
        value_starts = {"NAME", "NUMBER", "STRING", "LSQB", "MINUS"}
        closes_late = token is None or token.type == "$END" or token.line > opener.line or token.type in ("RPAR", "RSQB")
        if closer in expected and (closes_late or not (expected & value_starts)):
            where = f" after the arguments of `{callee}`" if callee and opener.type == "LPAR" else ""
            what = f"`{_BRACKET_TEXT[closer]}`"
            return Diagnostic(
                f"missing {what}{where}",
                span,
                help=f"expected `,` or {what} here, found {_token_words(token) if token else 'the end of the file'}",
                related=(Span(opener.line, opener.column, opener.line, opener.column + 1), f"the `{opener.value}` opened here is never closed"),
                code="N112",
            )
    if expected == {"RBRACE"} or ("RBRACE" in expected and (token is None or token.type == "$END")):
        return Diagnostic("missing `}` at the end of the block", span, help="close the block with `}` on its own line", code="N113")
    operators = {"PLUS", "MINUS", "STAR", "SLASH", "_IN", "LPAR", "RBRACE"}
    if "_NL" in expected and token is not None and token.type != "$END":
        # `expected` (LALR's lookaheads) may hold more than can follow; `accepts` tries each one.
        accepts = set(getattr(error, "accepts", None) or expected)
        if "_NL" in accepts and accepts - {"_NL", "$END"} <= operators:
            what = "setting" if brackets.blocks and brackets.blocks[-1] == "train" else "statement"
            return Diagnostic(
                f"unexpected {_token_words(token)}",
                span,
                help=f"expected the end of the line: write one {what} per line", code="N110",
            )
    expected.discard("_NL")
    found = _token_words(token) if token is not None else "the end of the file"
    return Diagnostic(f"unexpected {found}", span, help=f"expected {_expected_words(expected)}", code="N110")
