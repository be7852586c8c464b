"""The canonical formatter behind `netdsl fmt`.

The layout is rebuilt from the parse tree, so spacing, indentation and line breaks always come out
the same; what the tree cannot hold is taken from the source text: comments, blank lines between
statements, the spelling of numbers and strings, and parentheses the author wrote. The house style
is the one of `examples/*.net`, which format to themselves byte for byte.

    >>> print(format_source("net  tiny\\ninput(4)\\ndense( 3,activation = softmax )"), end="")
    net tiny
    input (4)
    dense(3, activation=softmax)
"""

from __future__ import annotations

import re
from collections import Counter
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import zip_longest

from lark import Token, Tree

from .errors import NetError
from .parser import SyntaxProblem, matrix_cells, parse, terminal_pattern

__all__ = ["format_source"]

INDENT = "    "
_BLOCKS = ("repeat_block", "residual_block", "skip_block", "augment_block", "train_block")

# Binding strength of expression nodes; a child weaker than its slot needs parentheses.
_SUM, _PRODUCT, _UNARY, _ATOM = 1, 2, 3, 4
_BINARY = {"add": ("+", _SUM), "sub": ("-", _SUM), "mul": ("*", _PRODUCT), "div": ("/", _PRODUCT)}

# The tokens of the language, as far as parentheses need them (comments and blanks are skipped);
# a literal array of numbers is one token, as for the parser (see `_token_pattern`).
_TOKEN = r"""(?P<skip>[ \t\f\r\n]+|\#[^\n]*)
      | (?P<string>"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')
      | (?P<number>(?:\d+\.\d*|\.\d+|\d+)(?:[eE][+-]?\d+)?)
      | (?P<word>[A-Za-z_][A-Za-z0-9_]*)
      | (?P<other>.)"""


@lru_cache(maxsize=1)
def _token_pattern() -> re.Pattern:
    """`_TOKEN`, with the grammar's MATRIX terminal first: a 1000x1000 matrix is then one token
    here too, not two million."""
    matrix = terminal_pattern("MATRIX")
    return re.compile(f"(?P<matrix>(?-x:{matrix}))|{_TOKEN}", re.VERBOSE | re.DOTALL)

# A fragment of output: its first line continues the current line, later lines are relative to
# the column where the fragment starts (only literal matrices span several lines).
Fragment = list


def format_source(text: str, filename: str = "<string>") -> str:
    """Return `text` in the canonical layout; raises `NetError` if it is not valid syntax."""
    try:
        tree, comments = parse(text)
    except SyntaxProblem as problem:
        raise NetError([problem.diagnostic], text, filename) from None
    return _Formatter(text, tree, comments).program()


def _concat(*parts) -> Fragment:
    """Join fragments (or strings) on one line, shifting continuation lines to where each part starts."""
    lines = [""]
    for part in parts:
        if isinstance(part, str):
            part = [part]
        column = len(lines[-1])
        lines[-1] += part[0]
        lines.extend(" " * column + line for line in part[1:])
    return lines


def _join(fragments: list[Fragment], separator: str = ", ") -> Fragment:
    parts: list = []
    for i, fragment in enumerate(fragments):
        if i:
            parts.append(separator)
        parts.append(fragment)
    return _concat(*parts) if parts else [""]


@dataclass
class _Notes:
    """The comments that belong to one statement, by where they go in the output."""

    leading: list[tuple[Token, int]] = field(default_factory=list)  # (comment, line used for blank lines)
    trailing: Token | None = None  # after the statement (after the `}` of a block)
    opening: Token | None = None  # after the `{` of a block
    closing: list[Token] = field(default_factory=list)  # own lines at the end of a block's body


class _Formatter:
    """One formatting run: the tree gives the code, the source text what the tree does not keep."""

    def __init__(self, text: str, tree: Tree, comments: list[Token]):
        self.tree = tree
        self.lines = [line.rstrip("\r") for line in text.split("\n")]
        self._tokenize(text)
        self.notes: dict[int, _Notes] = {}
        self.final: list[Token] = []  # full-line comments after the last statement
        self.columns: Counter[int] = Counter()  # how many trailing comments start at each column
        self._attach(comments)

    # -- source facts the tree does not keep ------------------------------------------------

    def _tokenize(self, text: str) -> None:
        """Index the source tokens, so parentheses the author wrote around a value can be found."""
        self.text = text
        self.kinds: list[tuple[str, str]] = []  # (group, text) of each token
        self.offsets: list[int] = []  # where each token starts
        self.starts: dict[int, int] = {}
        self.ends: dict[int, int] = {}
        for match in _token_pattern().finditer(text):
            if match.lastgroup == "skip":
                continue
            self.starts[match.start()] = len(self.kinds)
            self.ends[match.end()] = len(self.kinds)
            self.kinds.append((match.lastgroup, match.group()))
            self.offsets.append(match.start())
        self.partner: dict[int, int] = {}
        self._line_cursor = (0, 1)  # (offset, its line), for `_brace_position`
        stack: list[int] = []
        for index, (_, value) in enumerate(self.kinds):
            if value in "([":
                stack.append(index)
            elif value in ")]" and stack:
                self.partner[stack.pop()] = index

    def _parenthesised(self, node: Tree, repeat_count: bool = False) -> bool:
        """Whether the source wrapped `node` in a pair of grouping parentheses.

        A `(` right after a word opens a call's arguments or an input shape, not a group; the one
        exception is the count of `repeat (n) {`."""
        first = self.starts.get(node.meta.start_pos)
        last = self.ends.get(node.meta.end_pos)
        if first is None or last is None or first == 0:
            return False
        opener = first - 1
        if self.kinds[opener][1] != "(" or self.partner.get(opener) != last + 1:
            return False
        before = self.kinds[opener - 1] if opener else ("other", "")
        return before[0] != "word" or (repeat_count and before[1] == "repeat")

    def _blank_between(self, end_line: int, start_line: int) -> bool:
        """Whether the source has a blank line between two items (1-based lines, exclusive)."""
        return any(not self.lines[i - 1].strip() for i in range(end_line + 1, start_line))

    # -- comments ----------------------------------------------------------------------------

    def _note(self, node: Tree) -> _Notes:
        return self.notes.setdefault(id(node), _Notes())

    def _events(self, statements, events: list) -> None:
        """Source positions, in order, where statements start and end and where blocks open and close."""
        for node in statements:
            meta = node.meta
            events.append(((meta.line, meta.column), "start", node))
            if node.data in _BLOCKS:
                events.append((self._brace_position(node), "open", node))
                self._events(self._body_statements(node), events)
                skip = node.children[-1] if node.data == "residual_block" else None
                if skip is not None:  # `} skip { ... }`: its own block, closed where the residual is
                    self._events([skip], events)
                    continue
                events.append(((meta.end_line, meta.end_column - 1), "close", node))
            else:
                events.append(((meta.end_line, meta.end_column), "end", node))

    def _brace_position(self, block: Tree) -> tuple[int, int]:
        """Line and column of the `{` that opens a block's body (after `repeat`'s count and its `)`s)."""
        start = block.children[0].meta.end_pos if block.data == "repeat_block" else block.meta.start_pos
        index = bisect_left(self.offsets, start)
        while self.kinds[index][1] != "{":
            index += 1
        position = self.offsets[index]
        # Blocks come in source order: count newlines from the last one (from the start each time
        # was quadratic in a file of thousands of `repeat` blocks).
        start, line = self._line_cursor if self._line_cursor[0] <= position else (0, 1)
        line += self.text.count("\n", start, position)
        self._line_cursor = (position, line)
        return line, position - self.text.rfind("\n", 0, position)

    def _attach(self, comments: list[Token]) -> None:
        """Decide for each comment where it goes, from the code around it.

        After code on its own line it stays trailing; inside a statement (or a block's header) it
        moves before that statement; on a line of its own it goes before the next statement, or
        at the end of the block (or file) if nothing follows."""
        events: list = []
        self._events(self.tree.children, events)
        positions = [position for position, _, _ in events]
        for comment in comments:
            comment = Token("COMMENT", comment.value.rstrip(), line=comment.line, column=comment.column)
            # bisect_right: code that ends right where the comment starts (`dense(4)# c`) comes first.
            index = bisect_right(positions, (comment.line, comment.column))
            previous = events[index - 1] if index else None
            following = events[index] if index < len(events) else None
            if previous is not None and previous[1] == "start":
                self._note(previous[2]).leading.append((comment, previous[2].meta.line))
            elif previous is not None and previous[0][0] == comment.line:
                notes = self._note(previous[2])
                if previous[1] == "open":
                    notes.opening = comment
                else:
                    notes.trailing = comment
                self.columns[comment.column - 1] += 1
            elif following is None:
                self.final.append(comment)
            elif following[1] == "start":
                self._note(following[2]).leading.append((comment, comment.line))
            else:  # the `}` of a block
                self._note(following[2]).closing.append(comment)

    def _trail(self, line: str, comment: Token | None) -> str:
        """Append a trailing comment, two spaces after the code, or at its original column.

        The column is kept where it means something: when the code before the comment comes out
        as it was (so the author chose the spacing), or when other trailing comments share it (an
        aligned group, as in `examples/digits_cnn.net`); and only if that leaves two spaces."""
        if comment is None:
            return line
        column = comment.column - 1
        unchanged = self.lines[comment.line - 1][:column].rstrip() == line
        keep = (unchanged or self.columns[column] > 1) and column >= len(line) + 2
        return line + " " * (column - len(line) if keep else 2) + comment.value

    # -- statements --------------------------------------------------------------------------

    def program(self) -> str:
        lines = self._sequence(self.tree.children, self.final, depth=0)
        return "\n".join(lines) + "\n" if lines else ""

    def _sequence(self, statements, closing: list[Token], depth: int) -> list[str]:
        """Statements of one block (or the file) with their comments, blank lines collapsed to one."""
        indent = INDENT * depth
        items: list[tuple[int, int, list[str]]] = []  # (first, last source line, output lines)
        for node in statements:
            notes = self.notes.get(id(node), _Notes())
            for comment, line in notes.leading:
                items.append((line, line, [indent + comment.value]))
            items.append((node.meta.line, node.meta.end_line, self._statement(node, depth)))
        for comment in closing:
            items.append((comment.line, comment.line, [indent + comment.value]))
        out: list[str] = []
        for i, (first, _, lines) in enumerate(items):
            if i and self._blank_between(items[i - 1][1], first):
                out.append("")
            out.extend(lines)
        return out

    def _statement(self, node: Tree, depth: int) -> list[str]:
        notes = self.notes.get(id(node), _Notes())
        if node.data in _BLOCKS:
            return self._block(node, notes, depth)
        indent = INDENT * depth
        lines = [indent + line for line in getattr(self, "_" + node.data)(node)]
        lines[-1] = self._trail(lines[-1], notes.trailing)
        return lines

    def _net_decl(self, node: Tree) -> Fragment:
        return [f"net {node.children[0]}"]

    def _input_decl(self, node: Tree) -> Fragment:
        name, what = node.children
        head = f"input {name} " if name is not None else "input "
        if isinstance(what, Token):
            return [f"{head}{what}"]
        values = [self._expr(child) for child in what.children if child is not None]
        return _concat(head + "(", _join(values), ")")

    def _output_decl(self, node: Tree) -> Fragment:
        return ["output " + ", ".join(str(name) for name in node.children if name is not None)]

    def _from_statement(self, node: Tree) -> Fragment:
        return [f"from {node.children[0]}"]

    def _assignment(self, node: Tree) -> Fragment:
        name, call = node.children
        return _concat(f"{name} = ", self._layer(Tree("layer", [call])))

    def _param_decl(self, node: Tree) -> Fragment:
        name, value, grid = node.children
        parts = [f"param {name} = ", self._expr(value)]
        if grid is not None:
            parts += [" in ", self._expr(grid)]
        return _concat(*parts)

    def _layer(self, node: Tree) -> Fragment:
        name, arguments = node.children[0].children
        if arguments is None:  # `flatten` and `flatten()` are the same layer; the bare word is the style
            return [str(name)]
        return _concat(f"{name}(", self._arguments(arguments), ")")

    def _setting(self, node: Tree) -> Fragment:
        name, field, value = node.children
        key = f"{name}.{field}" if field is not None else str(name)
        return _concat(f"{key} = ", self._expr(value))

    @staticmethod
    def _body_statements(block: Tree) -> list[Tree]:
        if block.data == "repeat_block":
            return block.children[1:]
        if block.data == "residual_block":
            return block.children[:-1]  # the last is `skip { }`, or None
        return block.children

    def _block(self, node: Tree, notes: _Notes, depth: int) -> list[str]:
        """`repeat n {`, `augment {`, `train {`: the body one level deeper, `}` on its own line."""
        indent = INDENT * depth
        head = node.children[0] if node.data == "repeat_block" else None
        if head is not None and head.data == "loop":
            variable, values = head.children
            header = _concat(indent + f"repeat {variable} in ", self._expr(values), " {")
        elif head is not None:
            count = self._expr(head, repeat_count=True)
            header = _concat(indent + "repeat ", count, " {")
        else:
            header = [indent + node.data.split("_")[0] + " {"]
        skip = node.children[-1] if node.data == "residual_block" else None
        if skip is not None:
            return self._residual_with_skip(node, skip, header, notes, depth)
        body = self._sequence(self._body_statements(node), notes.closing, depth + 1)
        if not body and notes.opening is None:  # an empty block stays on one line
            header[-1] = self._trail(header[-1] + "}", notes.trailing)
            return header
        header[-1] = self._trail(header[-1], notes.opening)
        return header + body + [self._trail(indent + "}", notes.trailing)]

    def _residual_with_skip(self, node: Tree, skip: Tree, header: list, notes: _Notes, depth: int) -> list[str]:
        """`residual {` body `} skip {` skip's body `}`: comments before `skip` close the body."""
        indent = INDENT * depth
        skip_notes = self.notes.get(id(skip), _Notes())
        before_skip = [comment for comment, _ in skip_notes.leading]
        header[-1] = self._trail(header[-1], notes.opening)
        body = self._sequence(self._body_statements(node), before_skip, depth + 1)
        middle = self._trail(indent + "} skip {", skip_notes.opening)
        rest = self._sequence(self._body_statements(skip), skip_notes.closing, depth + 1)
        closing = self._trail(indent + "}", skip_notes.trailing or notes.trailing)
        return header + body + [middle] + rest + [closing]

    # -- values ------------------------------------------------------------------------------

    def _expr(self, node: Tree, slot: int = _SUM, repeat_count: bool = False) -> Fragment:
        """A value; parenthesised if the source had parentheses or if its slot binds tighter."""
        fragment, strength = getattr(self, "_v_" + node.data)(node)
        if strength < slot or self._parenthesised(node, repeat_count):
            fragment = _concat("(", fragment, ")")
        return fragment

    def _v_number(self, node: Tree):
        return [str(node.children[0])], _ATOM  # as written: `1e-3` stays `1e-3`

    _v_string = _v_name = _v_number

    def _v_call_value(self, node: Tree):
        name, arguments = node.children
        inside = self._arguments(arguments) if arguments is not None else ""
        return _concat(f"{name}(", inside, ")"), _ATOM

    _v_param_range = _v_call_value  # `param rate = 0.2 in uniform(0, 0.5)`

    def _v_list(self, node: Tree):
        items = [child for child in node.children if child is not None]
        if self._is_matrix(items):
            return self._matrix(items), _ATOM
        return _concat("[", _join([self._expr(item) for item in items]), "]"), _ATOM

    def _v_matrix(self, node: Tree):
        """A literal array lexed as one token: laid out as the same `list`s would be."""

        def layout(item) -> Fragment:
            if isinstance(item, str):
                return [item]
            if len(item) >= 2 and all(isinstance(row, list) and row and set(map(type, row)) == {str} for row in item):
                return _matrix_lines(item)
            return _concat("[", _join([layout(x) for x in item]), "]")  # four levels at most

        return layout(matrix_cells(node.children[0])), _ATOM

    def _v_tuple_literal(self, node: Tree):
        items = [self._expr(child) for child in node.children]
        if len(items) == 1:
            return _concat("(", items[0], ",)"), _ATOM
        return _concat("(", _join(items), ")"), _ATOM

    def _v_neg(self, node: Tree):
        return _concat("-", self._expr(node.children[0], _UNARY)), _UNARY

    def _binary(self, node: Tree):
        """`a + b`: left-associative, so the right operand needs one level more than the left."""
        symbol, strength = _BINARY[node.data]
        left, right = node.children
        return _concat(self._expr(left, strength), f" {symbol} ", self._expr(right, strength + 1)), strength

    _v_add = _v_sub = _v_mul = _v_div = _binary

    def _arguments(self, node: Tree) -> Fragment:
        return _join([self._argument(child) for child in node.children])

    def _argument(self, node: Tree) -> Fragment:
        if node.data == "kwarg":
            name, value = node.children
            if name == "padding" and isinstance(value, Tree) and value.data in ("name", "string"):
                word = str(value.children[0])
                if word.strip("\"'").lower() in ("valid", "same", "causal"):  # read in any case, as Keras does
                    return [f"{name}={word.lower()}"]
            return _concat(f"{name}=", self._expr(value))
        return self._expr(node)

    # -- literal matrices --------------------------------------------------------------------

    @staticmethod
    def _is_scalar(node) -> bool:
        while isinstance(node, Tree) and node.data == "neg":
            node = node.children[0]
        return isinstance(node, Tree) and node.data == "number"

    def _is_matrix(self, rows: list) -> bool:
        """At least two rows, each a non-empty list of (possibly negative) numbers, not in parentheses."""

        def is_row(row) -> bool:
            if not (isinstance(row, Tree) and row.data == "list") or self._parenthesised(row):
                return False
            return all(item is not None and self._is_scalar(item) for item in row.children)

        return len(rows) >= 2 and all(is_row(row) for row in rows)

    def _matrix(self, rows: list[Tree]) -> Fragment:
        return _matrix_lines([[self._expr(item)[0] for item in row.children] for row in rows])


def _matrix_lines(cells: list[list[str]]) -> Fragment:
    """One row per line under the first, each column right-aligned to its widest entry."""
    # `map` and `zip` in C: a 1000x1000 kernel is a million cells.
    widths = [max(map(len, column)) for column in zip_longest(*cells, fillvalue="")]
    lines = []
    for r, row in enumerate(cells):
        text = "[" + ", ".join(map(str.rjust, row, widths)) + "]"
        lines.append(("[" if r == 0 else " ") + text + ("]" if r == len(cells) - 1 else ","))
    return lines
