"""What the editor shows about a place in a document: hover text, the shape hints after each layer,
completions and quick fixes. Plain data (spans are `netdsl.dsl.Span`s, 1-based); `server.py` turns
them into the protocol's types.

The documentation comes from the specs through `netdsl.dsl.reference`, the source of
`docs/language.md`; shapes and parameter counts from `analyse`, as `netdsl show` prints them.
"""

from __future__ import annotations

import functools
import re
import typing
from dataclasses import dataclass

from netdsl.dsl import Span, reference, specs
from netdsl.dsl.kinds import LAYER_ALIASES
from netdsl.dsl.ranges import RANGE_EXAMPLES
from netdsl.dsl.reference_intro import INTRODUCTION
from netdsl.dsl.shapes.text import batch_text
from netdsl.dsl.words import CALLABLE_VALUES, literal_words

from .document import TOKEN, Analysis, Token, follows

STATEMENT_WORDS = ("net", "input", "output", "param", "from", "repeat", "residual", "augment", "train")
TRAIN_FAMILIES = {  # a setting whose value is a call of one of these kinds
    "optimizer": specs.OPTIMIZERS,
    "callbacks": specs.CALLBACKS,
}


# ---- layer rows --------------------------------------------------------------------------------


def _count(value) -> str:
    return f"{value:,}" if isinstance(value, int) else str(value)


def layer_rows(analysis: Analysis) -> dict[tuple[int, int], list]:
    """The analysis's rows by the position of the call that makes them (a `repeat` makes several)."""
    rows: dict[tuple[int, int], list] = {}
    for row in getattr(analysis.summary, "rows", ()):
        if row.span is not None:
            rows.setdefault((row.span.line, row.span.col), []).append(row)
    return rows


def row_text(rows: list) -> str:
    """`-> (batch, 4, 4, 16)  2,320 params`: the last row's output and the parameters of all of them."""
    params = [row.params for row in rows]
    total = sum(params) if all(isinstance(p, int) for p in params) else " + ".join(map(str, params))
    times = f" ({len(rows)} layers)" if len(rows) > 1 else ""
    return f"-> {batch_text(rows[-1].output_shape)}  {_count(total)} params{times}"


@dataclass(frozen=True)
class Hint:
    """An inlay hint: its text, shown at `line`:`col` (1-based, after the call)."""

    line: int
    col: int
    label: str


def inlay_hints(analysis: Analysis) -> list[Hint]:
    """After each layer's call, its output shape and parameter count."""
    hints = []
    for rows in layer_rows(analysis).values():
        span = rows[0].span
        hints.append(Hint(span.end_line, span.end_col, "  " + row_text(rows)))
    return sorted(hints, key=lambda hint: (hint.line, hint.col))


# ---- hover -------------------------------------------------------------------------------------


def enclosing_call(analysis: Analysis, index: int) -> str | None:
    """The kind of the call whose parentheses hold token `index` (`dense` in `dense(4, |`)."""
    depth = 0
    for i in range(index - 1, -1, -1):
        token = analysis.tokens[i]
        if token.text in ")]" and token.kind == "punct":
            depth += 1
        elif token.text in "([" and token.kind == "punct":
            if depth == 0:
                before = analysis.tokens[i - 1] if i else None
                return before.text if token.text == "(" and before is not None and before.kind == "name" else None
            depth -= 1
        elif token.starts_statement and depth == 0:
            return None
    return None


def _kind_class(name: str):
    return CALLABLE_VALUES.get(name) or CALLABLE_VALUES.get(LAYER_ALIASES.get(name, name))


def hover(analysis: Analysis, line: int, col: int) -> tuple[str, Span] | None:
    """Markdown for what is under the cursor, and the span it describes."""
    found = analysis.token_at(line, col)
    if found is None:
        return None
    index, token = found
    tokens = analysis.tokens
    after = tokens[index + 1].text if index + 1 < len(tokens) else ""
    symbol = analysis.symbol_at(line, col)
    if symbol is not None:
        return _symbol_hover(analysis, symbol), token.inner
    if token.kind != "name":
        return None
    if after == "=" and token.block == "train" and follows(tokens, index, ".") \
            and token.text in specs.OutputTraining.model_fields:
        return reference.field_help(specs.OutputTraining, token.text), token.span
    if after == "=" and token.block == "train" and token.text in specs.Train.model_fields:
        return reference.field_help(specs.Train, token.text), token.span
    if after == "=" and not token.starts_statement:
        cls = _kind_class(enclosing_call(analysis, index) or "")
        if cls is not None and token.text in cls.model_fields:
            return reference.field_help(cls, token.text), token.span
        return None
    cls = _kind_class(token.text)
    if token.starts_statement and token.text in STATEMENT_WORDS and after not in ("=", "("):
        words = statement_help(token.text)
        return (words, token.span) if words else None
    if cls is None and follows(tokens, index, "="):  # `activation=relu`, `loss = mse`: what the argument takes
        words = _value_help(analysis, index)
        return (words, token.span) if words else None
    if cls is None or not (after == "(" or token.starts_statement or follows(tokens, index, "=")):
        return None
    text = reference.kind_help(cls)
    rows = layer_rows(analysis).get((token.line, token.col))
    if rows:
        text = f"**{rows[-1].name}** `{row_text(rows)}`\n\n" + text
    return text, token.span


def statement_help(word: str) -> str | None:
    """The section of `docs/language.md` on a statement (`input`, `param`, `repeat`, `train`...)."""
    found = re.search(rf"^### `{word}\b.*?(?=^##|\Z)", INTRODUCTION, re.M | re.S)
    return found.group().strip() if found else None


def _value_help(analysis: Analysis, index: int) -> str | None:
    """The help of the argument or setting a value is given to (`activation` for `relu`)."""
    key = analysis.tokens[index - 2] if index >= 2 else None
    if key is None or key.kind != "name":
        return None
    if key.block == "train" and (key.starts_statement or follows(analysis.tokens, index - 2, ".")):
        cls = specs.Train
    else:
        cls = None if key.starts_statement else _kind_class(enclosing_call(analysis, index - 2) or "")
    return reference.field_help(cls, key.text) if cls is not None and key.text in cls.model_fields else None


def _symbol_hover(analysis: Analysis, symbol) -> str:
    if symbol.kind == "param":
        return _param_hover(analysis, symbol.name)
    if symbol.kind in ("point", "layer"):
        row = next((r for r in getattr(analysis.summary, "rows", ()) if r.name == symbol.name), None)
        where = f"`{symbol.name}`: a layer's output" if symbol.kind == "point" else f"the layer `{symbol.name}`"
        if row is not None:
            return f"{where} ({row.kind}) `{batch_text(row.output_shape)}`, {_count(row.params)} params"
        return where
    if symbol.kind == "input":
        shape = getattr(analysis.summary, "inputs", {}).get(symbol.name)
        return f"input `{symbol.name}`" + (f" `{batch_text(shape)}`" if shape is not None else "")
    return f"`{symbol.name}`: the variable of a `repeat` loop"


def _param_hover(analysis: Analysis, name: str) -> str:
    param = next((p for p in getattr(analysis.net, "params", ()) if p.name == name), None)
    if param is None:
        return f"param `{name}`"
    text = f"param `{name}` = `{reference.net_value(param.default)}`"
    if param.values is not None:
        text += "\n\nsearch values: " + ", ".join(f"`{reference.net_value(v)}`" for v in param.values)
    elif param.range is not None:
        bounds = [param.range.low, param.range.high] + ([param.range.step] if param.range.step else [])
        text += f"\n\nsearch range: `{param.range.kind}({', '.join(map(str, bounds))})`"
    return text


# ---- completion --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Item:
    """A completion: the text, what it is (`kind`, `argument`, `value`, `name`, `setting`, `keyword`),
    a one-line detail and documentation (markdown)."""

    label: str
    what: str
    detail: str = ""
    documentation: str = ""
    insert: str | None = None  # text to insert, where not the label


def completions(analysis: Analysis, line: int, col: int) -> list[Item]:
    """What may be written at the cursor (1-based `line`, `col`: the place the next character goes)."""
    if _in_comment_or_string(analysis, line, col):
        return []  # prose: a space there (a trigger character) must not pop up the layer kinds
    tokens = [t for t in analysis.tokens if (t.line, t.col) < (line, col)]
    if tokens and tokens[-1].kind == "name" and tokens[-1].line == line and tokens[-1].col + len(tokens[-1].text) >= col:
        tokens = tokens[:-1]  # the word being typed: the client filters by it
    last = tokens[-1] if tokens else None
    starting = last is None or last.line < line and last.depth == 0 or last.text in "{}"
    block = _block_at(analysis, line, col)
    names = _names(analysis)
    if last is not None and last.line == line and last.starts_statement and last.text in ("net", "param", "input"):
        return [Item("text", "keyword", "raw strings as samples")] if last.text == "input" else []  # a new name
    if last is not None and last.line == line and last.text == ")" and last.depth == 1:
        return []  # `dense(4) |`: the statement is whole (a comment may follow)
    if last is not None and last.text == "from" and last.line == line:
        return [item for item in names if item.detail != "param"]
    if last is not None and last.text in ("output", ",") and last.line == line and _statement_word(tokens) == "output":
        return [item for item in names if item.detail == "point"]  # `output digit, |`
    if last is not None and last.text == "." and last.line == line and block == "train":
        return _settings(specs.OutputTraining)  # `digit.|`: one output's own settings
    if last is not None and last.text == "in" and last.line == line and _statement_word(tokens) == "param":
        return [Item(kind, "kind", example, insert=example) for kind, example in RANGE_EXAMPLES.items()]
    if starting:
        if block == "train":
            return _settings()
        if block == "augment":
            return [item for item in _layer_kinds() if item.label in specs.AUGMENTATION_KINDS]
        return _layer_kinds() + [Item(word, "keyword") for word in STATEMENT_WORDS] + names
    if last.text == "=" and len(tokens) >= 2:
        key = tokens[-2]
        if key.block == "train" and key.starts_statement or follows(tokens, len(tokens) - 2, "."):
            return _setting_values(key.text) + names
        if key.starts_statement and block != "train":
            return _layer_kinds()  # `x = |`: a named point is made by a layer
        cls = _kind_class(enclosing_call(analysis, len(tokens) - 1) or "")
        if cls is not None and key.text in cls.model_fields:
            return _layer_values(cls, key.text) + _field_values(cls, key.text) + names
        return names
    cls = _kind_class(enclosing_call(analysis, len(tokens)) or "") if last.text in "(," else None
    if cls is not None:  # `time_distributed(|`: its layer first
        return (_layer_values(cls, "layer") if last.text == "(" else []) + _arguments(cls) + names
    if last.text in "[," and block == "train":  # `metrics = [accuracy, |`, `digit.metrics = [|`
        return _setting_values(_setting_of(tokens)) + names
    return names + _layer_kinds()


def _in_comment_or_string(analysis: Analysis, line: int, col: int) -> bool:
    """Whether the cursor is in a comment or a string (closed or not: strings end on their line)."""
    lines = analysis.text.split("\n")
    prefix = lines[line - 1][:col - 1] if 1 <= line <= len(lines) else ""
    return any(match.lastgroup == "comment" or match.lastgroup == "other" and match.group() in "\"'"
               for match in TOKEN.finditer(prefix))


def _statement_word(tokens: list[Token]) -> str:
    return next((t.text for t in reversed(tokens) if t.starts_statement), "")


def _setting_of(tokens: list[Token]) -> str:
    """The setting a train statement sets: `metrics` in `metrics = [...` and in `digit.metrics = [...`."""
    start = next((i for i in range(len(tokens) - 1, -1, -1) if tokens[i].starts_statement), None)
    if start is None:
        return ""
    if start + 2 < len(tokens) and tokens[start + 1].text == ".":
        return tokens[start + 2].text
    return tokens[start].text


def _block_at(analysis: Analysis, line: int, col: int) -> str | None:
    """The block the cursor is in (what the next token there would be in)."""
    before = [token for token in analysis.tokens if (token.line, token.col) < (line, col)]
    return before[-1].block_after if before else None


def _names(analysis: Analysis) -> list[Item]:
    return [Item(s.name, "name", s.kind) for s in analysis.symbols.values() if s.kind != "layer"]


def _layer_kinds() -> list[Item]:
    return list(_kind_items())


@functools.cache
def _kind_items() -> tuple[Item, ...]:
    """Every layer kind with its documentation: made once (each kind's help is rendered from its spec)."""
    return tuple(Item(kind, "kind", reference.signature(cls).strip("`").split("`")[0], reference.kind_help(cls))
                 for kind, cls in specs.LAYERS.items())


def _settings(cls: type = specs.Train) -> list[Item]:
    return [Item(name, "setting", reference.type_label(cls, name), reference.field_help(cls, name),
                 insert=f"{name} = ") for name in cls.model_fields if name not in ("outputs", "kind")]


def _setting_values(setting: str) -> list[Item]:
    family = TRAIN_FAMILIES.get(setting)
    if family is not None:
        return [Item(kind, "kind", setting, reference.kind_help(cls)) for kind, cls in family.items()]
    if setting in specs.Train.model_fields:
        return _field_values(specs.Train, setting)
    return []


def _layer_values(cls: type, name: str) -> list[Item]:
    """The kinds a field holding a layer takes: any for `time_distributed`, the recurrent ones for
    `bidirectional`; none for other fields."""
    info = cls.model_fields.get(name)
    members = [m for m in (typing.get_args(info.annotation) or (info.annotation,)) if isinstance(m, type)] if info else []
    return [item for item in _layer_kinds() if any(issubclass(specs.LAYERS[item.label], m) for m in members)]


def _field_values(cls: type, name: str) -> list[Item]:
    words = sorted(literal_words(cls.model_fields[name].annotation))
    if not words and cls.model_fields[name].annotation in (bool,) or "Bool" in str(cls.model_fields[name].annotation):
        words = ["true", "false"]
    return [Item(word, "value", name) for word in words]


def _arguments(cls: type) -> list[Item]:
    return [Item(f"{name}=", "argument", reference.type_label(cls, name), reference.field_help(cls, name))
            for name in cls.model_fields if name != "kind"]


# ---- quick fixes -------------------------------------------------------------------------------

SUGGESTION = re.compile(r"did you mean (?:[a-z ]+ )?`([^`]+)`")


def suggestion(analysis: Analysis, diagnostic) -> str | None:
    """The word a diagnostic's "did you mean" help offers, where the diagnostic's span is exactly one
    word (or one quoted name) that the word can replace."""
    match = SUGGESTION.search(diagnostic.help or "")
    span = diagnostic.span
    if match is None or span is None or span.line != span.end_line:
        return None
    for token in analysis.tokens:
        if token.kind in ("name", "string") and token.line == span.line and span.col <= token.col \
                and token.col + len(token.text) <= span.end_col:
            return match.group(1) if token.span == span or token.inner == span else None
    return None
