"""Reading a `param`'s search range: `in uniform(LOW, HIGH)`, `in loguniform(LOW, HIGH)`,
`in range(LOW, HIGH[, STEP])` (dsl/specs.py `ParamRange`), each mistake located (N511-N517)."""

from __future__ import annotations

from typing import Any

from lark import Tree

from . import specs
from .errors import Span, close_match, did_you_mean
from .values import Expr, describe, expr_text

# The ranges a `param` may be drawn from, with their arguments in order (dsl/specs.py `ParamRange`).
RANGE_ARGUMENTS = {"uniform": ("low", "high"), "loguniform": ("low", "high"), "range": ("low", "high", "step")}
# Other libraries' names for them, suggested as a close name (scipy.stats's, keras-tuner's `Int`, `Float`).
RANGE_ALIASES = {"randint": "range", "int": "range", "integer": "range", "reciprocal": "loguniform",
                 "log_uniform": "loguniform", "float": "uniform"}
RANGE_EXAMPLES = {"uniform": "uniform(0, 0.5)", "loguniform": "loguniform(1e-4, 1e-1)", "range": "range(1, 5)"}


def _number_text(value) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _range_text(found: dict) -> str:
    bounds = [found["low"], found["high"]] + ([found["step"]] if found.get("step") is not None else [])
    return f"{found['kind']}({', '.join(map(_number_text, bounds))})"


class RangeReading:
    """The loader's reading of ranges, mixed into its tree walker (`loader._Builder`), whose `value`,
    `spans` and `_problem` it uses."""

    def param_range(self, node: Tree, path: tuple) -> dict | None:
        """`uniform(low, high)`, `loguniform(low, high)`, `range(low, high[, step])` as `ParamRange`
        data, or None when it is not one (each mistake reported at its argument)."""
        word, arguments = node.children
        kind = word.value
        self.spans[path] = Span.of(node)
        if kind not in RANGE_ARGUMENTS:
            close = RANGE_ALIASES.get(kind) or close_match(kind, RANGE_ARGUMENTS)
            self._problem(
                "N511", f"unknown search range `{kind}`", word,
                help=(f"did you mean `{close}`? " if close else "") + "the ranges are `uniform(low, high)`, "
                "`loguniform(low, high)` and `range(low, high[, step])`; or list the values: `in [V1, V2]`",
            )
            return None
        names = RANGE_ARGUMENTS[kind]
        takes = f"`{kind}` takes " + ("`low`, `high` and an optional `step`" if len(names) == 3 else "`low` and `high`")
        data: dict[str, Any] = {"kind": kind}
        spans: dict[str, Tree] = {}
        good = True
        positional, keywords = 0, False
        for argument in arguments.children if arguments is not None else ():
            if argument is None:
                continue
            if isinstance(argument, Tree) and argument.data == "kwarg":
                key, value = argument.children
                field, keywords = key.value, True
                if field not in names:
                    near = did_you_mean(field, names)
                    self._problem("N512", f"`{kind}` has no argument `{field}`", key, help=(f"{near} " if near else "") + takes)
                    good = False
                    continue
            elif keywords:
                self._problem("N207", "positional argument after keyword arguments", argument,
                              help="put positional arguments first, or name this one")
                good = False
                continue
            elif positional >= len(names):
                self._problem("N512", f"too many arguments for `{kind}`", argument, help=takes)
                good = False
                continue
            else:
                field, value, positional = names[positional], argument, positional + 1
            if field in spans:
                self._problem("N206", f"argument `{field}` is given twice", argument, help=f"give `{field}` once")
                good = False
                continue
            spans[field] = value
            number = self.value(value, path + (field,))
            if isinstance(number, bool) or not isinstance(number, (int, float)):
                got = (f"the parameter `{number.name}`" if number.op == "ref" else f"`{expr_text(number)}`") \
                    if isinstance(number, Expr) else describe(number)
                self._problem(
                    "N512", f"`{field}` of `{kind}` must be a number, got {got}", value,
                    help=takes + " as literal numbers" + ("; a range's bounds cannot use other parameters" if isinstance(number, Expr) else ""),
                )
                good = False
                continue
            data[field] = number
        missing = [f"`{field}`" for field in names[:2] if field not in spans]
        if missing and good:
            self._problem("N512", f"`{kind}` is missing its {' and '.join(missing)}", node, help=takes + f", e.g. `{RANGE_EXAMPLES[kind]}`")
        if missing or not good:
            return None
        problem = specs.range_problem(kind, data["low"], data["high"], data.get("step"))
        if problem is not None:
            self._problem(problem.code, problem.title, spans.get(problem.argument, node), help=problem.help)
            return None
        return data

    def range_default(self, name: str, default, found: dict, node: Tree) -> None:
        """A range param's default is a value its search may draw (N517 of another type, N516 outside)."""
        if isinstance(default, Expr):
            return  # computed from other params: known only when they are
        kind, low, high = found["kind"], found["low"], found["high"]
        integer = kind == "range"
        if isinstance(default, bool) or not isinstance(default, int if integer else (int, float)):
            self._problem(
                "N517", f"the default of `{name}` is {describe(default)}, not " + ("an integer" if integer else "a number"), node,
                help=f"`{kind}` gives " + ("integers" if integer else "numbers") + " to a search: give a default of that type",
            )
            return
        step = found.get("step")
        if specs.in_range(kind, low, high, step, default):
            return
        if integer:
            listed = range(low, high, step or 1)  # a range object: its ends without listing them all
            shown = ", ".join(map(str, listed[:3])) + (", ..., " + str(listed[-1]) if len(listed) > 4 else
                                                      "".join(f", {v}" for v in listed[3:]))
            where = f"`range` excludes its end: {shown}" if default == high else f"the values are {shown}"
        else:
            where = f"the range is [{_number_text(low)}, {_number_text(high)}]"
        self._problem(
            "N516", f"the default of `{name}` ({_number_text(default)}) is outside `{_range_text(found)}`", node,
            help=f"{where}; change the default or the range",
        )
