"""Specs of the statements that shape the flow: `repeat`, `residual`, `from`, and the merge layers.

A `.net` body is a flow: each layer reads the point before it. These statements are what makes it
more than a chain. `x = dense(8)` names a layer's point (its `name`); `from x` goes on from a named
point; a merge (`add(a, b)`) reads the points it names; `residual { }` adds a block's output to its
input. `dsl/graph.py` turns a body into the wired steps the analysis and the compiler walk.

The flow statement union (`FLOW_TYPES`) is made from the layer registry when this module is
imported, so every layer spec module is imported before it (`dsl/specs.py` does).
"""

from typing import Annotated, Any, ClassVar, Literal, Union

from pydantic import model_validator

from . import kinds
from .layer_specs import Layer
from .nodes import ByKind, Node
from .nodes import described as _d
from .values import Bool, Expr, Int, Name, NonNegInt

# ---- merges -----------------------------------------------------------------------------------


class Merge(Layer):
    """A layer that reads several named points (`add(a, b)`), not the point before it."""

    variadic: ClassVar = "inputs"  # positional arguments are the points merged, in order
    inputs: tuple[Name, ...] = _d("The named points merged, in order (two or more).", ())


@kinds.LAYERS.register("Add")
class Add(Merge):
    """The sum of its inputs, element by element (a residual connection: `add(x, block)`)."""

    kind: Literal["add"] = "add"


@kinds.LAYERS.register("Subtract")
class Subtract(Merge):
    """The first input minus the second (exactly two)."""

    kind: Literal["subtract"] = "subtract"


@kinds.LAYERS.register("Multiply")
class Multiply(Merge):
    """The product of its inputs, element by element (gating: `multiply(x, gate)`)."""

    kind: Literal["multiply"] = "multiply"


@kinds.LAYERS.register("Average")
class Average(Merge):
    """The mean of its inputs, element by element."""

    kind: Literal["average"] = "average"


@kinds.LAYERS.register("Maximum")
class Maximum(Merge):
    """The largest of its inputs, element by element."""

    kind: Literal["maximum"] = "maximum"


@kinds.LAYERS.register("Minimum")
class Minimum(Merge):
    """The smallest of its inputs, element by element."""

    kind: Literal["minimum"] = "minimum"


@kinds.LAYERS.register("Concatenate")
class Concatenate(Merge):
    """Its inputs joined along one axis (the others must agree): branches side by side."""

    kind: Literal["concatenate"] = "concatenate"
    axis: Int = _d("The axis joined along (-1: the last, features or channels).", -1)


@kinds.LAYERS.register("Dot")
class Dot(Merge):
    """The dot product of two inputs along the given axes (a similarity of two encodings)."""

    kind: Literal["dot"] = "dot"
    axes: Int | tuple[Int, Int] = _d("The axis of each input summed over (one number: the same for both).")
    normalize: Bool = _d("`true`: L2-normalize both first, so the result is a cosine similarity.", False)


@kinds.LAYERS.register("Identity")
class Identity(Layer):
    """Its input unchanged: a name for a point (`block_input = identity`)."""

    kind: Literal["identity"] = "identity"


MERGE_KINDS = frozenset(cls.model_fields["kind"].default for cls in (Add, Subtract, Multiply, Average, Maximum,
                                                                     Minimum, Concatenate, Dot))

# ---- flow statements --------------------------------------------------------------------------


class From(Node):
    """`from NAME`: the layers below read the point `NAME` (an input or a named layer), not the one
    before them."""

    kind: Literal["from"] = "from"
    point: Name = _d("The named point the flow goes on from.")


# Every layer kind registered so far (the layer spec modules are imported before this one), then
# the blocks; a block's body holds the same statements.
FLOW_TYPES: tuple = tuple(kinds.LAYERS.specs.values()) + ("Repeat", "Residual", From)
FlowStatement = Annotated[Union[FLOW_TYPES], ByKind()]


class Repeat(Node):
    """`repeat N { ... }`: the body's statements N times in a row (N may be a `param`);
    `repeat NAME in [V1, V2, ...] { ... }`: once per value, with `NAME` bound to it in the body."""

    kind: Literal["repeat"] = "repeat"
    count: NonNegInt | None = _d("How many times (for `repeat N`).", None)
    variable: Name | None = _d("The name bound to each value in turn (for `repeat NAME in [...]`).", None)
    values: tuple[Any, ...] | Expr | None = _d("The values `variable` takes, in order (a list, or a `param` whose "
                                               "value is one).", None)
    body: tuple[FlowStatement, ...] = _d("The repeated statements.")

    @model_validator(mode="after")
    def _count_or_values(self):
        if (self.count is None) == (self.values is None):
            raise ValueError("a `repeat` takes a count or `NAME in [values]`")
        return self

    @property
    def times(self):
        """How many copies of the body (the count, or the number of values)."""
        if self.values is None or isinstance(self.values, Expr):  # (an `Expr`: unknown until resolved)
            return self.count if self.values is None else self.values
        return len(self.values)


class Residual(Node):
    """`residual { ... }`: the block's output added to its input, as in a ResNet block;
    `residual { ... } skip { ... }`: the input goes through the `skip` layers first (a 1x1 strided
    convolution where the block changes the shape)."""

    kind: Literal["residual"] = "residual"
    body: tuple[FlowStatement, ...] = _d("The block's statements.")
    skip: tuple[FlowStatement, ...] = _d("The skip path's statements; empty: the input as it is.", ())
