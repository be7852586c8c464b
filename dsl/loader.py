"""From parse tree to validated specs: names resolved, arguments mapped, every mistake located.

The transform builds plain data (what `Net.model_validate` takes) and a source map from each
pydantic `loc` path to the span it came from. Validation errors are then translated through the
source map into diagnostics (`dsl/validation.py`), all reported at once.
"""

from __future__ import annotations

import math
import re
from typing import Any

from lark import Token, Tree
from pydantic import ValidationError

from . import specs
from .errors import Diagnostic, NetError, Source, SourceMap, Span, close_match
from .keras_layers import unknown_layer
from .kinds import LAYER_ALIASES
from .parser import SyntaxProblem, matrix_parts, matrix_values, parse
from .ranges import RangeReading
from .validation import translate
from .values import DATA_NAMES, LITERAL_WORDS, MAX_INT, Expr, describe, evaluate, number_problem
from .words import CALLABLE_VALUES, KEYWORDS


# The statements of the flow (the net's body), as the grammar names them.
FLOW_STATEMENTS = ("layer", "assignment", "from_statement", "repeat_block", "residual_block")


class _Builder(RangeReading):
    """Walks the Lark tree once, producing `Net` data, the source map and structural diagnostics."""

    def __init__(self):
        self.spans = SourceMap()
        self.problems: list[Diagnostic] = []
        self.params: dict[str, Token] = {}
        self.declared: set[str] | None = None  # while a param's value is built: the params before it
        self._before: set[str] = set()  # the params declared so far
        self.loop_names: list[str] = []  # the names `repeat NAME in [...]` binds, innermost last

    # -- statements -----------------------------------------------------------------------

    def program(self, tree: Tree) -> dict:
        data: dict[str, Any] = {"params": [], "layers": []}
        seen: dict[str, Tree] = {}
        for statement in tree.children:
            if statement.data == "param_decl":
                name = statement.children[0]
                if name.value in self.params:
                    self._problem(
                        "N501", f"parameter `{name.value}` is declared twice", name,
                        help=f"the first declaration is on line {self.params[name.value].line}; remove one",
                    )
                self.params[name.value] = name
        inputs = [s for s in tree.children if s.data == "input_decl"]
        for statement in tree.children:
            kind = statement.data
            if kind in ("net_decl", "augment_block", "train_block") or (kind == "input_decl" and len(inputs) == 1):
                if kind in seen:
                    word = {"net_decl": "net", "input_decl": "input", "augment_block": "augment", "train_block": "train"}[kind]
                    self._problem(
                        "N212", f"a second `{word}` statement", statement,
                        help=f"a file has at most one; the first is on line {seen[kind].meta.line}",
                    )
                    continue
                seen[kind] = statement
            if kind == "net_decl":
                data["name"] = statement.children[0].value
                self.spans[("name",)] = Span.of(statement.children[0])
            elif kind == "input_decl" and len(inputs) == 1:
                data["input"] = self.input(statement, ("input",))
            elif kind == "input_decl":
                data.setdefault("inputs", []).append(self.input(statement, ("inputs", len(data.get("inputs", [])))))
            elif kind == "output_decl":
                self.output(statement, data.setdefault("outputs", []))
            elif kind == "param_decl":
                data["params"].append(self.param(statement, len(data["params"])))
            elif kind in FLOW_STATEMENTS:
                data["layers"].append(self.statement(statement, ("layers", len(data["layers"]))))
            elif kind == "augment_block":
                data["augment"] = [self.augment_layer(layer, ("augment", i)) for i, layer in enumerate(statement.children)]
            elif kind == "train_block":
                data["train"] = self.train(statement)
        return data

    def input(self, statement: Tree, path: tuple) -> dict:
        name, what = statement.children
        self.spans[path] = Span.of(statement)
        named = {}
        if name is not None:
            self.spans[path + ("name",)] = Span.of(name)
            named = {"name": name.value}
        elif path[0] == "inputs":
            self._problem(
                "N801", "a net with several inputs names each one", statement,
                help="write e.g. `input image (8, 8, 1)` and `input meta (3)`; `from image` then reads one",
            )
        if isinstance(what, Token):
            if what.value != "text":
                self._problem(
                    "N213", f"unknown input `{what.value}`", what,
                    help="write `input text` for raw strings, or a shape such as `input (8, 8, 1)`",
                )
                return named
            return {**named, "text": True}
        shape = []
        for i, dim in enumerate(what.children):
            if dim is None:
                continue
            size = self.value(dim, path + ("shape", i))
            if size is None and None in shape:
                self._problem(
                    "N213", "at most one axis of an input may be `none`", dim,
                    help="the data gives each sample's values in a row: one axis of any length can be found from "
                    "the row's width, not two; give the other axes a size",
                )
                size = 1  # reported; 1 stands in for it
            shape.append(size)
        if not shape:
            self._problem("N213", "empty input shape", what, help="give one sample's shape, e.g. `input (64)` or `input (8, 8, 1)`")
        self.spans[path + ("shape",)] = Span.of(what)
        return {**named, "shape": shape}

    def output(self, statement: Tree, outputs: list) -> None:
        """`output A, B`: the named points the net outputs, in order (several lines add to the list)."""
        for name in statement.children:
            if name is None:
                continue
            if name.value in outputs:
                self._problem("N206", f"`{name.value}` is an output twice", name, help="name each output once")
                continue
            self.spans[("outputs", len(outputs))] = Span.of(name)
            outputs.append(name.value)

    def param(self, statement: Tree, index: int) -> dict:
        name, default, values = statement.children
        path = ("params", index)
        self.spans[path] = Span.of(statement)
        self.spans[path + ("name",)] = Span.of(name)
        if name.value in KEYWORDS:
            self._problem(
                "N502", f"parameter `{name.value}` shadows the keyword `{name.value}`", name,
                help=f"`{name.value}` already means something in .net files; choose another name, e.g. `{name.value}_value`",
            )
        elif name.value in specs.SETTING_NAMES:
            self._problem(
                "N503", f"parameter `{name.value}` has the name of an estimator setting", name,
                help=f"`{name.value}` is already a setting of the estimators (set it in `train {{ }}` or as "
                f"`{name.value}=...`); choose another name",
            )
        self.declared = {p for p in self.params if p in self._before}
        result = {"name": name.value, "default": self.value(default, path + ("default",))}
        if values is not None and values.data == "param_range":  # `in uniform(0, 0.5)`
            found = self.param_range(values, path + ("range",))
            self.declared = None
            self._before.add(name.value)
            if found is not None:
                self.range_default(name.value, result["default"], found, default)
                result["range"] = found
            return result
        if values is not None and values.data == "matrix":  # `in [[8], [8, 16]]`: lists of numbers, one token
            items = self.value(values, path + ("values",))
        elif values is not None:
            items = [self.value(v, path + ("values", i)) for i, v in enumerate(values.children) if v is not None]
        self.declared = None
        self._before.add(name.value)
        if values is not None:
            self.spans[path + ("values",)] = Span.of(values)
            if not items:
                self._problem("N504", f"empty search values for `{name.value}`", values, help="list at least one value, or drop `in [...]`")
            kinds = {_value_kind(v) for v in items + [result["default"]] if not isinstance(v, Expr)}
            if len(kinds) > 1:
                self._problem(
                    "N505", f"the values of parameter `{name.value}` mix {' and '.join(sorted(kinds))}", values,
                    help="a parameter's default and search values must all be of one type",
                )
            result["values"] = items
        return result

    def statement(self, statement: Tree, path: tuple) -> dict:
        kind = statement.data
        if kind == "repeat_block":
            return self.repeat(statement, path)
        if kind == "residual_block":
            return self.residual(statement, path)
        if kind == "from_statement":
            (point,) = statement.children
            self.spans[path] = Span.of(statement)
            self.spans[path + ("from", "point")] = Span.of(point)
            return {"kind": "from", "point": point.value}
        if kind == "assignment":
            return self.assignment(statement, path)
        return self.layer(statement, path)

    def assignment(self, statement: Tree, path: tuple) -> dict:
        """`NAME = layer(...)`: the layer, named `NAME` (the name of the point it makes)."""
        name, call = statement.children
        data = self.layer(Tree("layer", [call], statement.meta), path)
        if "name" in data:
            self._problem(
                "N206", f"the layer is named twice: `{name.value} =` and `name=`", name,
                help=f"keep one: `{name.value} = {call.children[0].value}(...)` names the layer and its point",
            )
        data["name"] = name.value
        self.spans[path + (data["kind"], "name")] = Span.of(name)
        self.spans.assigned.add(path)
        return data

    def repeat(self, block: Tree, path: tuple) -> dict:
        head, *body = block.children
        path = path + ("repeat",)
        self.spans[path[:-1]] = Span.of(block)
        data: dict[str, Any] = {"kind": "repeat"}
        if isinstance(head, Tree) and head.data == "loop":
            variable, values = head.children
            self.spans[path + ("variable",)] = Span.of(variable)
            data["values"] = self.value(values, path + ("values",))
            data["variable"] = variable.value
            named = isinstance(data["values"], Expr) and not data["values"].names() & set(DATA_NAMES)
            if not named and (not isinstance(data["values"], list) or not data["values"]):  # named: a `param`'s list
                self._problem(
                    "N809", f"`repeat {variable.value} in` takes a list of values", values,
                    help=f"write e.g. `repeat {variable.value} in [32, 64, 128] {{ ... }}`",
                )
                data["values"] = [0]
            self.loop_names.append(variable.value)
        else:
            count_value = data["count"] = self.value(head, path + ("count",))
            if isinstance(count_value, Expr) and count_value.names() & set(DATA_NAMES):
                self._problem(
                    "N510", "a repeat count cannot depend on the data", head,
                    help="use a literal or a `param` (the depth of the net must be known before fitting)",
                )
        items = [self.statement(s, path + ("body", i)) for i, s in enumerate(body)]
        if "variable" in data:
            self.loop_names.pop()
        if not items:
            self._problem("N215", "empty `repeat` block", block, help="put layer statements between `{` and `}`")
        data["body"] = items
        return data

    def residual(self, block: Tree, path: tuple) -> dict:
        """`residual { ... } [skip { ... }]`."""
        *body, skip = block.children
        path = path + ("residual",)
        self.spans[path[:-1]] = Span.of(block)
        items = [self.statement(s, path + ("body", i)) for i, s in enumerate(body)]
        if not items:
            self._problem("N215", "empty `residual` block", block, help="put layer statements between `{` and `}`")
        data = {"kind": "residual", "body": items}
        if skip is not None:
            self.spans[path + ("skip",)] = Span.of(skip)
            data["skip"] = [self.statement(s, path + ("skip", i)) for i, s in enumerate(skip.children)]
            if not data["skip"]:
                self._problem("N215", "empty `skip` block", skip, help="put layer statements between `{` and `}`, or drop `skip { }`")
        return data

    def layer(self, statement: Tree, path: tuple) -> dict:
        (call,) = statement.children
        name = call.children[0]
        if LAYER_ALIASES.get(name.value, name.value) not in specs.LAYERS:
            title, hint = unknown_layer(name.value, specs.LAYERS)  # a Keras layer not supported yet, a typo...
            if name.value in CALLABLE_VALUES:
                hint = f"`{name.value}` is not a layer; it goes in the `train {{ }}` block"
            code = "N201" if title.startswith("unknown layer kind") else "N202"  # or a Keras layer not supported yet
            self._problem(code, title, name, help=hint)
            self.spans[path] = Span.of(call)
            return {"kind": name.value}
        return self.call(call, path)

    def augment_layer(self, statement: Tree, path: tuple) -> dict:
        (call,) = statement.children
        name = call.children[0]
        if name.value in specs.LAYERS and name.value not in specs.AUGMENTATION_KINDS:
            self._problem(
                "N214", f"`{name.value}` is not an augmentation layer", name,
                help="`augment { }` takes " + ", ".join(sorted(specs.AUGMENTATION_KINDS)) + "; put other layers in the net",
            )
        return self.layer(statement, path)

    def train(self, block: Tree) -> dict:
        settings: dict[str, Any] = {}
        self.spans[("train",)] = Span.of(block)
        for setting in block.children:
            key, field, value = setting.children
            if field is not None:  # `digit.loss = ...`: one output's own setting
                self._output_setting(settings.setdefault("outputs", {}), key, field, value)
                continue
            path = ("train", key.value)
            if key.value in settings:
                self._problem("N206", f"`{key.value}` is set twice", key, help="keep one of the two settings")
                continue
            self.spans.keys_[path] = Span.of(key)
            settings[key.value] = self.value(value, path)
            if key.value == "fine_tune":
                settings[key.value] = self._fine_tune(settings[key.value], value, path)
        return settings

    def _output_setting(self, outputs: dict, output: Token, key: Token, value) -> None:
        """`NAME.key = value` into `outputs[NAME][key]` (validated as `OutputTraining`)."""
        path = ("train", "outputs", output.value, key.value)
        settings = outputs.setdefault(output.value, {})
        self.spans.setdefault(("train", "outputs", output.value), Span.of(output))
        if key.value in settings:
            self._problem("N206", f"`{output.value}.{key.value}` is set twice", key, help="keep one of the two settings")
            return
        self.spans.keys_[path] = Span.of(key)
        settings[key.value] = self.value(value, path)

    def _fine_tune(self, data, node, path: tuple):
        """`fine_tune` takes one kind of call (so pydantic's `loc` has no tag): its spans are
        recorded without the tag too; a bare `unfreeze` means `unfreeze()`."""
        if data == "unfreeze":
            return {"kind": "unfreeze"}
        if not isinstance(data, dict) or data.get("kind") != "unfreeze":
            self._problem(
                "N407", "`fine_tune` takes `unfreeze(...)`", node,
                help='write e.g. `fine_tune = unfreeze("conv_*", epochs=10, learning_rate=0.0001)`',
            )
            return None
        tagged = path + ("unfreeze",)
        for table in (self.spans, self.spans.keys_):
            for loc in [loc for loc in table if loc[: len(tagged)] == tagged]:
                table.setdefault(path + loc[len(tagged):], table[loc])
        return data

    # -- values ---------------------------------------------------------------------------

    def call(self, call: Tree, path: tuple) -> dict:
        """`kind(positional..., key=value...)` mapped onto the kind's argument names."""
        name, arguments = call.children
        kind = LAYER_ALIASES.get(name.value, name.value)  # `leaky_relu` is the kind `leaky_re_lu`
        path_with_tag = path + (kind,)
        self.spans[path] = Span.of(name)  # an unknown kind is reported at its name
        self.spans[path_with_tag] = Span.of(call)
        data: dict[str, Any] = {"kind": kind}
        cls = CALLABLE_VALUES.get(kind)
        positional_names = getattr(cls, "positional", ()) if cls else ()
        variadic = getattr(cls, "variadic", None) if cls else None  # `unfreeze("a", "b")`: a list
        seen_keyword = False
        for i, argument in enumerate(arguments.children if arguments is not None else ()):
            if argument is None:
                continue
            if isinstance(argument, Tree) and argument.data == "kwarg":
                key, value = argument.children
                seen_keyword = True
                if key.value in data:
                    self._problem("N206", f"argument `{key.value}` is given twice", key, help=f"give `{key.value}` once")
                    continue
                self.spans.keys_[path_with_tag + (key.value,)] = Span.of(key)
                data[key.value] = self.value(value, path_with_tag + (key.value,))
                continue
            if seen_keyword:
                self._problem(
                    "N207", "positional argument after keyword arguments", argument,
                    help="put positional arguments first, or name this one",
                )
                continue
            if cls is None:
                continue  # the unknown kind is reported; its arguments cannot be mapped
            if variadic is not None:
                items = data.setdefault(variadic, [])
                self.spans.setdefault(path_with_tag + (variadic,), Span.of(argument))
                items.append(self.value(argument, path_with_tag + (variadic, len(items))))
                continue
            if i >= len(positional_names):
                if i > len(positional_names):
                    continue  # reported once, at the first extra argument
                takes = ", ".join(positional_names) if positional_names else "no positional arguments"
                self._problem(
                    "N208", f"too many positional arguments for `{kind}`", argument,
                    help=f"`{kind}` takes {takes}" + ("; name the others (key=value)" if positional_names else "; name them (key=value)"),
                )
                continue
            field = positional_names[i]
            data[field] = self.value(argument, path_with_tag + (field,))
        return data

    def value(self, node, path: tuple):
        """A value node as plain data; parameter and data-bound names become `Expr` references."""
        self.spans[path] = Span.of(node)
        if isinstance(node, Token):  # only NAME tokens reach here via shape/input
            return self._name(node, path)
        kind = node.data
        if kind == "number":
            return self._number(node.children[0])
        if kind == "string":
            text, problem = _unquote(node.children[0])
            if problem is not None:
                self.problems.append(problem)
            return text
        if kind == "name":
            return self._name(node.children[0], path)
        if kind == "call_value":
            return self.call(Tree("call", node.children, node.meta), path)
        if kind == "list":
            return [self.value(v, path + (i,)) for i, v in enumerate(node.children) if v is not None]
        if kind == "matrix":
            return self._matrix(node.children[0])
        if kind == "tuple_literal":
            return tuple(self.value(v, path + (i,)) for i, v in enumerate(node.children) if v is not None)
        if kind in ("add", "sub", "mul", "div", "neg"):
            op = {"add": "+", "sub": "-", "mul": "*", "div": "/", "neg": "neg"}[kind]
            args = tuple(self.value(v, path + ("@", i)) for i, v in enumerate(node.children))
            if all(isinstance(a, (int, float)) and not isinstance(a, bool) for a in args):
                try:
                    return evaluate(Expr(op=op, args=args), {})  # constant folding: `-1`, `1 / 16`
                except ZeroDivisionError:
                    self._problem("N508", "division by zero", node, help="divide by a number other than 0")
                    return 0
                except OverflowError as error:
                    self._problem("N130", "number too large", node, help=str(error))
                    return 0
            bad = False
            for arg, child in zip(args, node.children):
                if isinstance(arg, (str, bool, list, tuple, dict)) or arg is None:
                    bad = True
                    self._problem(
                        "N509", f"cannot compute with {describe(arg)}", child,
                        help="arithmetic takes numbers and parameters"
                        + (f"; did you mean `{close_match(arg, self._names())}`?" if isinstance(arg, str) and close_match(arg, self._names()) else ""),
                    )
            return 0 if bad else Expr(op=op, args=args)  # a bad operand is reported; 0 stands in for it
        raise AssertionError(f"unexpected node {kind}")  # pragma: no cover - the grammar has no other values

    def _matrix(self, token: Token) -> list:
        """A literal array of numbers (one MATRIX token, maybe megabytes long) as nested lists;
        a number out of range is located through `matrix_parts`' offsets."""
        value = matrix_values(token)
        if _numbers_in_range(value):
            return value

        def number(item):
            if isinstance(item, list):
                return [number(x) for x in item]  # four levels at most
            text, offset = item
            before = token[:offset]
            line = token.line + before.count("\n")
            column = offset - before.rfind("\n") if "\n" in before else token.column + offset
            return self._number(Token("NUMBER", text, line=line, column=column, end_line=line, end_column=column + len(text)))

        return number(matrix_parts(token))

    def _number(self, token: Token):
        text = token.value
        if not any(c in text for c in ".eE"):
            digits = text.lstrip("0")
            value = int(digits or "0") if len(digits) <= len(str(MAX_INT)) else MAX_INT + 1  # no 10,000-digit ints
        else:
            value = float(text)
        problem = number_problem(value)
        if problem is not None:
            self._problem("N130", "number too large", token, help=problem)
            return 0  # reported; 0 stands in for it
        return value

    def _name(self, token: Token, path: tuple):
        word = token.value
        if self.declared is not None and word in self.params and word not in self.declared:
            line = self.params[word].line
            self._problem(
                "N506", f"parameter `{word}` is used before it is declared", token,
                help="a parameter's value cannot use the parameter itself" if line == token.line
                else f"a parameter's value may use only the parameters declared above it; `{word}` is declared on line {line}",
            )  # fmt: skip
        if word in self.params or word in DATA_NAMES or word in self.loop_names:
            return Expr(op="ref", name=word)
        if word in LITERAL_WORDS:
            return LITERAL_WORDS[word]
        self.spans.bare.add(path)
        return word

    def _names(self):
        return list(self.params) + list(DATA_NAMES)

    def _problem(self, code: str, title: str, where, help: str | None = None):
        """A problem of kind `code` (netdsl.dsl.codes) at the token or tree `where`."""
        self.problems.append(Diagnostic(title, Span.of(where), help=help, code=code))


def _one_per_spot(problems: list[Diagnostic]) -> list[Diagnostic]:
    """Sorted by position; where two problems start at one spot, the first (structural) one is kept."""
    seen, kept = set(), []
    for problem in sorted(problems, key=lambda d: (d.span.line, d.span.col) if d.span else (0, 0)):
        spot = (problem.span.line, problem.span.col) if problem.span else None
        if spot is None or spot not in seen:
            kept.append(problem)
        seen.add(spot)
    return kept


def _numbers_in_range(value: list) -> bool:
    """Whether every number of nested lists (as JSON reads them) passes `number_problem`, a row at a time."""
    stack = [value]
    while stack:
        item = stack.pop()
        if not set(map(type, item)) <= {int, float}:  # rows (or, rarely, rows and numbers mixed)
            stack.extend(x for x in item if isinstance(x, list))
            item = [x for x in item if not isinstance(x, list)]
        if item and not (all(map(math.isfinite, item)) and -MAX_INT <= min(item) and max(item) <= MAX_INT):
            return False
    return True


def _value_kind(value) -> str:
    if isinstance(value, bool):
        return "booleans"
    if isinstance(value, (int, float)):
        return "numbers"
    if isinstance(value, str):
        return "words"
    return "lists"


_ESCAPE = re.compile(r"\\(?:([0-7]{1,3})|x(?P<x>[0-9a-fA-F]{0,2})|u(?P<u>[0-9a-fA-F]{0,4})|U(?P<U>[0-9a-fA-F]{0,8})|N(?P<N>\{[^}\n]*\}?)?|(.))")
_SIMPLE_ESCAPES = {"\\": "\\", "'": "'", '"': '"', "a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v"}
_HEX_DIGITS = {"x": 2, "u": 4, "U": 8}


def _unquote(token: Token) -> tuple[str, Diagnostic | None]:
    """A string literal's value, with Python's escapes; an invalid escape is a problem located at it
    (the value then keeps the escape as written)."""
    body = token.value[1:-1]
    if "\\" not in body:
        return body, None
    import unicodedata

    def replace(match: re.Match) -> str:
        octal, other = match.group(1), match.group(6)
        if octal is not None:
            return chr(int(octal, 8))
        if other is not None:
            return _SIMPLE_ESCAPES.get(other, match.group())  # an unknown escape (`\d`) stays as written
        letter = match.group()[1]
        if letter == "N":
            name = match.group("N") or ""
            if not (name.startswith("{") and name.endswith("}")):
                raise _BadEscape(match, "`\\N` takes a character name in braces, e.g. `\\N{BULLET}`")
            try:
                return unicodedata.lookup(name[1:-1])
            except KeyError:
                raise _BadEscape(match, f"there is no Unicode character named `{name[1:-1]}`") from None
        digits = match.group(letter)
        if len(digits) < _HEX_DIGITS[letter]:
            raise _BadEscape(match, f"`\\{letter}` takes exactly {_HEX_DIGITS[letter]} hexadecimal digits")
        code = int(digits, 16)
        if code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
            raise _BadEscape(match, f"`{match.group()}` is not a Unicode character")
        return chr(code)

    try:
        return _ESCAPE.sub(replace, body), None
    except _BadEscape as bad:
        match = bad.match
        col = token.column + 1 + match.start()
        span = Span(token.line, col, token.line, col + len(match.group()))
        return body, Diagnostic(f"invalid escape `{match.group()}` in a string", span, help=bad.help, code="N114")


class _BadEscape(Exception):
    def __init__(self, match: re.Match, help: str):
        super().__init__(help)
        self.match, self.help = match, help


# ---- public entry points -------------------------------------------------------------------


def build(text: str, filename: str = "<string>") -> specs.Net:
    """Parse and validate `.net` text (parameters at their defaults, data-bound names unbound)."""
    try:
        tree, _ = parse(text)
    except SyntaxProblem as problem:
        raise NetError([problem.diagnostic], text, filename) from None
    builder = _Builder()
    data = builder.program(tree)
    problems = list(builder.problems)
    net = None
    try:
        net = specs.Net.model_validate(data)
    except ValidationError as error:
        problems += translate(error, builder.spans, builder.params)
    if problems:
        problems = _one_per_spot(problems)
        raise NetError(problems, text, filename)
    net._source = Source(text, filename, builder.spans)
    return net
