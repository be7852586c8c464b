"""Value types of the language: the argument types layer specs declare, and parameter expressions.

A `.net` value can be a literal or an expression over `param`s and the data-bound names
(`hidden * 2`, `n_classes`). Expressions are kept as `Expr` in the specs, so `dumps` writes the
program back as it was meant; `resolve` substitutes values and re-validates.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal, Union

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainValidator,
    WrapSerializer,
    WrapValidator,
    field_validator,
)
from pydantic_core import PydanticCustomError

from .kinds import ACTIVATIONS, INITIALIZERS

# Names bound from the data at fit time; `check` accepts them unbound and `show` prints them symbolically.
DATA_NAMES = ("n_features", "n_classes", "n_outputs")


class Expr(BaseModel):
    """An arithmetic expression over names: `{"op": "ref", "name": "hidden"}` or `{"op": "*", "args": [...]}`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    op: Literal["ref", "+", "-", "*", "/", "neg"]
    name: str | None = None
    args: tuple[Any, ...] = ()

    @field_validator("args", mode="before")
    @classmethod
    def _nested(cls, args):
        return tuple(Expr.model_validate(a) if isinstance(a, dict) else a for a in args)

    def names(self) -> set[str]:
        if self.op == "ref":
            return {self.name}
        found = set()
        for arg in self.args:
            if isinstance(arg, Expr):
                found |= arg.names()
        return found

    def __str__(self) -> str:
        return expr_text(self)

    def as_data(self) -> dict:
        if self.op == "ref":
            return {"op": "ref", "name": self.name}
        return {"op": self.op, "args": [a.as_data() if isinstance(a, Expr) else a for a in self.args]}


_PRECEDENCE = {"+": 1, "-": 1, "*": 2, "/": 2, "neg": 3}


def expr_text(value, parent: int = 0) -> str:
    """`.net` source text for an expression (parenthesised only where needed)."""
    if not isinstance(value, Expr):
        return repr(value)
    if value.op == "ref":
        return value.name
    prec = _PRECEDENCE[value.op]
    if value.op == "neg":
        text = "-" + expr_text(value.args[0], prec)
    else:
        left, right = value.args
        text = f"{expr_text(left, prec)} {value.op} {expr_text(right, prec + 1)}"
    return f"({text})" if prec < parent else text


def evaluate(value, env: dict[str, Any]):
    """Substitute the names of `env`; what cannot be computed yet stays an `Expr`."""
    if not isinstance(value, Expr):
        if isinstance(value, (list, tuple)) and not set(map(type, value)) <= {int, float}:  # rows of numbers as they are
            return type(value)(evaluate(v, env) for v in value)
        return value
    if value.op == "ref":
        return env.get(value.name, value)
    args = tuple(evaluate(a, env) for a in value.args)
    if any(isinstance(a, Expr) for a in args):
        return Expr(op=value.op, args=args)
    return _apply(value.op, args)


# Largest magnitude of a number in a program: what a 64-bit integer holds. No size, count or setting
# means anything beyond it, and arithmetic on ever longer Python integers would only cost time.
MAX_INT = 2**63 - 1


def number_problem(value) -> str | None:
    """Why a literal or computed number cannot be used (too large, infinite), or None."""
    if isinstance(value, float) and not math.isfinite(value):
        return "the number is too large (beyond a 64-bit float, about 1.8e308)"
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_INT:
        return f"the integer is too large (at most {MAX_INT:,}, what 64 bits hold)"
    return None


def _apply(op: str, args):
    """One arithmetic step; TypeError for a non-number, ZeroDivisionError, OverflowError for a result
    beyond `number_problem`'s bounds."""
    for arg in args:
        if isinstance(arg, (str, bool, list, tuple, dict)) or arg is None:
            raise TypeError(f"cannot compute `{op}` with {describe(arg)}")
    try:
        result = _compute(op, args)
    except OverflowError:
        raise OverflowError("the result is too large (beyond a 64-bit float, about 1.8e308)") from None
    problem = number_problem(result)
    if problem is not None:
        raise OverflowError(problem.replace("the number", "the result").replace("the integer", "the result"))
    return result


def _compute(op: str, args):
    if op == "neg":
        return -args[0]
    left, right = args
    if op == "+":
        return left + right
    if op == "-":
        return left - right
    if op == "*":
        return left * right
    if right == 0:
        raise ZeroDivisionError("division by zero")
    if isinstance(left, int) and isinstance(right, int) and left % right == 0:
        return left // right  # exact: integral results stay integers, so `hidden / 2` can be a number of units
    result = left / right
    return int(result) if isinstance(result, float) and result.is_integer() and isinstance(left, int) else result


def describe(value) -> str:
    """Plain words for a value's type, for messages."""
    if isinstance(value, bool):
        return f"the boolean `{str(value).lower()}`"
    if isinstance(value, int):
        return f"the integer {value}"
    if isinstance(value, float):
        return f"the number {value:g}"
    if isinstance(value, str):
        return f"the word `{value}`"
    if isinstance(value, (list, tuple)):
        return "a list"
    if isinstance(value, dict) and "kind" in value:
        return f"a call to `{value['kind']}(...)`"
    if value is None:
        return "`none`"
    return f"`{value}`"


# ---- argument types -------------------------------------------------------------------------


def _expr_or(value, handler):
    if isinstance(value, Expr):
        return value
    if isinstance(value, dict) and "op" in value:
        return Expr.model_validate(value)
    return handler(value)


def _dump_expr(value, handler):
    if isinstance(value, Expr):
        return value.as_data()
    return handler(value)


def _no_bool(value):
    if isinstance(value, bool):
        raise ValueError(f"expected a number, got {describe(value)}")
    return value


def _no_number(value):
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        raise ValueError(f"expected `true` or `false`, got {describe(value)}")
    if isinstance(value, str):
        raise ValueError(f"expected `true` or `false`, got {describe(value)}")
    return value


class Label:
    """Annotated metadata: how a type is described to people (`str(label)`, in docs and error
    messages) and, for an argument type made by `arg`, the type's pydantic schema, generated by the
    first field that uses it and shared by every other one. A few argument types serve ~400 fields;
    generating each field's schema anew (its validators inspected, its constraints applied) was most
    of the cost of building the specs. One object for both, since pydantic inspects each piece of a
    field's metadata in turn, at a cost (benchmarks/README.md)."""

    def __init__(self, text: str, annotated=None):
        self.text = text
        self.annotated = annotated
        self.schema = None

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return f"Label({self.text!r})"

    def __get_pydantic_core_schema__(self, source, handler):
        if self.annotated is None:
            return handler(source)  # a label only
        if self.schema is None:
            self.schema = handler.generate_schema(self.annotated)
        return self.schema


# Keras computes in 32-bit floats and takes 32-bit sizes: a number beyond these would become
# infinite, or fail, only in `fit`. Checked for every argument (the errors read as `validation._MESSAGES` says).
FLOAT32_MAX = 3.4028234663852886e38
INT32_MAX = 2**31 - 1


def _in_float32(value):
    if isinstance(value, float) and not abs(value) <= FLOAT32_MAX:
        raise PydanticCustomError("float32_range", "beyond float32")
    return value


def _in_int32(value):
    if isinstance(value, int) and not -INT32_MAX - 1 <= value <= INT32_MAX:
        raise PydanticCustomError("int32_range", "beyond int32")
    return value


def arg(base, label: str, *constraints):
    """An argument type: `base` with constraints, accepting parameter expressions, described as `label`."""
    before = [BeforeValidator(_no_bool)] if base in (int, float) else []
    if base is bool:
        before = [BeforeValidator(_no_number)]
    after = {int: [AfterValidator(_in_int32)], float: [AfterValidator(_in_float32)]}.get(base, [])
    validated = Annotated[base, *before, *constraints, *after, WrapValidator(_expr_or), WrapSerializer(_dump_expr)]
    return Annotated[base, Label(label, validated)]


Int = arg(int, "an integer")
PosInt = arg(int, "a positive integer", Field(gt=0))
NonNegInt = arg(int, "a non-negative integer", Field(ge=0))
Float = arg(float, "a number")
PosFloat = arg(float, "a positive number", Field(gt=0))
NonNegFloat = arg(float, "a non-negative number", Field(ge=0))
Rate = arg(float, "a number in [0, 1)", Field(ge=0, lt=1))
Bool = arg(bool, "`true` or `false`")
Name = arg(str, "a string")

IntOrPair = arg(
    Union[Annotated[int, Field(gt=0), AfterValidator(_in_int32)], tuple[Annotated[int, Field(gt=0), AfterValidator(_in_int32)], ...]],
    "a positive integer or a tuple of them",
)
IntTuple = arg(tuple[Annotated[int, Field(gt=0), AfterValidator(_in_int32)], ...], "a tuple of positive integers")
_Factor = Annotated[float, AfterValidator(_in_float32)]
FactorPair = arg(Union[_Factor, tuple[_Factor, _Factor]], "a number or a (low, high) pair")

Activation = arg(Literal[ACTIVATIONS], "an activation: " + ", ".join(ACTIVATIONS))


def _lower(value):
    return value.lower() if isinstance(value, str) else value


# Keras reads `padding` case-insensitively (`"SAME"` is `same`): so does the spec, which keeps it lower case.
Padding = arg(Literal["valid", "same"], "`valid` or `same`", BeforeValidator(_lower))
CausalPadding = arg(Literal["valid", "same", "causal"], "`valid`, `same` or `causal`", BeforeValidator(_lower))
FillMode = arg(Literal["reflect", "wrap", "constant", "nearest"], "`reflect`, `wrap`, `constant` or `nearest`")
Interpolation = arg(Literal["bilinear", "nearest"], "`bilinear` or `nearest`")


def _weight_array(value):
    """A literal array of weights: lists of numbers nested 1 to 4 deep, each level all lists or all
    numbers, as floats (float32 range: checked by the analysis, per entry). Checked a row at a time
    in C (`map`), not number by number: a 1000x1000 kernel is a million numbers, too many for a
    validator per number (timings in benchmarks/README.md)."""

    def floats(item, depth: int) -> list:
        if not isinstance(item, (list, tuple)) or depth > 4:
            raise ValueError("expected a literal array of numbers, nested at most 4 deep")
        kinds = set(map(type, item))
        if kinds <= {int, float}:
            return list(map(float, item))
        if kinds <= {list, tuple}:
            return [floats(row, depth + 1) for row in item]  # four levels at most
        raise ValueError("expected a literal array of numbers")

    return floats(value, 1)


# A literal array of numbers (a matrix for a 2-D kernel, nested deeper for channels): fixed weights.
WeightArray = Annotated[list, PlainValidator(_weight_array)]
Initializer = arg(
    Union[Literal[INITIALIZERS], WeightArray],
    "an initializer (" + ", ".join(INITIALIZERS) + ") or a literal array of weights",
)

LITERAL_WORDS = {"true": True, "false": False, "none": None}
