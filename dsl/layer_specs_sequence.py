"""Specs of the sequence kinds: `repeat_vector`, `time_distributed`, `multi_head_attention` and
`position_embedding` (what encoders, decoders and small transformers are made of).

Keras 3's kinds (the snake_case class name, Keras's argument names, defaults and positional
order), except `position_embedding`: Keras 3 has no such layer, so netdsl provides it
(`netdsl.estimators.layers.PositionEmbedding`). Shape rules: `dsl/shapes/rules/attention.py`,
`dsl/shapes/rules/reshaping.py` (`repeat_vector`) and `dsl/shapes/rules/__init__.py`
(`time_distributed`, which runs the rule of the layer it wraps).
"""

from typing import Annotated, ClassVar, Literal, Union

from pydantic import BeforeValidator

from . import kinds
from .layer_specs import Layer, Regularizer
from .layer_specs_values import InitializerName
from .nodes import ByKind, call_or_bare
from .nodes import described as _d
from .values import Bool, Int, IntOrPair, Label, Name, PosInt, Rate

# Kinds `time_distributed` cannot wrap, and why (a merge cannot either: it reads named points).
NOT_WRAPPED = {
    "pretrained": "`pretrained` is the layers of a saved net, not one layer",
    "text_vectorization": "`text_vectorization` reads raw strings, which have no steps",
    "multi_head_attention": "`time_distributed` hands its layer one tensor, and `multi_head_attention` reads a "
    "query, a value and a key: it attends over the steps itself",
}


def wrappable(kind: str, cls) -> bool:
    """Whether `time_distributed` can wrap the kind: not one of `NOT_WRAPPED`, nor a merge (which
    names the points it reads, its `variadic` arguments)."""
    return kind not in NOT_WRAPPED and getattr(cls, "variadic", None) is None


class _WrappableLayer:
    """Annotated marker: the union of the kinds `time_distributed` wraps, told apart by `kind` (as
    `ByKind`), read from the registry when the spec is first built, after every module of layer
    kinds has registered: a kind added later can be wrapped without a list to keep."""

    def __get_pydantic_core_schema__(self, source, handler):
        members = tuple(cls for kind, cls in kinds.LAYERS.specs.items() if wrappable(kind, cls))
        return ByKind().__get_pydantic_core_schema__(Union[members], handler)


# A layer `time_distributed` wraps: a call, or a bare kind (`flatten`) read as the call without arguments.
WrappedLayer = Annotated[Layer, _WrappableLayer(), BeforeValidator(call_or_bare), Label("a layer: `dense(8)`, `flatten`, ...")]


@kinds.LAYERS.register("RepeatVector")
class RepeatVector(Layer):
    """Repeats a vector `n` times: (features) -> (n, features), e.g. an encoder's summary read by a
    decoder at every step."""

    kind: Literal["repeat_vector"] = "repeat_vector"
    positional: ClassVar = ("n",)
    n: PosInt = _d("How many times (the steps of the output).")


@kinds.LAYERS.register("TimeDistributed")
class TimeDistributed(Layer):
    """Applies one layer to every step of a sequence, with the same weights: (steps, ...) ->
    (steps, what the layer makes of each step), e.g. `time_distributed(dense(4))` or a
    `conv2d` over each frame of a video."""

    kind: Literal["time_distributed"] = "time_distributed"
    positional: ClassVar = ("layer",)
    layer: WrappedLayer = _d(
        "The layer applied at every step, e.g. `dense(8)` or `flatten` (any kind but `pretrained`, "
        "`text_vectorization`, `multi_head_attention` and the merges)."
    )


@kinds.LAYERS.register("MultiHeadAttention")
class MultiHeadAttention(Layer):
    """Multi-head attention, as in transformers. In a chain it is self-attention: the query, the
    value and the key are all the layer's input, (steps, features) -> (steps, features), or
    (steps, output_shape). `value=NAME` (and `key=NAME`) attend over another point: cross-attention."""

    kind: Literal["multi_head_attention"] = "multi_head_attention"
    positional: ClassVar = ("num_heads", "key_dim")
    points: ClassVar = ("value", "key")  # fields that name points the layer reads besides the flow (`dsl/graph.py`)
    num_heads: PosInt = _d("Number of attention heads.")
    key_dim: PosInt = _d("Size of each head's query and key.")
    value_dim: PosInt | None = _d("Size of each head's value; left out: `key_dim`.", None)
    dropout: Rate = _d("Dropout on the attention weights while training.", 0.0)
    use_bias: Bool = _d("Whether the projections add biases.", True)
    output_shape: IntOrPair | None = _d(
        "Size of the output's last axis (or axes); left out: the query's features.", None
    )
    kernel_initializer: InitializerName = _d("Initial projection kernels.", "glorot_uniform")
    bias_initializer: InitializerName = _d("Initial biases.", "zeros")
    kernel_regularizer: Regularizer | None = _d("Penalty on the projection kernels.", None)
    bias_regularizer: Regularizer | None = _d("Penalty on the biases.", None)
    seed: Int | None = _d("Random seed of the dropout.", None)
    value: Name | None = _d("A named point attended over (cross-attention: the query is the flow, the value "
                            "another branch, as a decoder reads its encoder); left out: the flow itself.", None)
    key: Name | None = _d("A named point to score the value's steps by; left out: the value.", None)


@kinds.LAYERS.register("PositionEmbedding", module="netdsl.estimators.layers")
class PositionEmbedding(Layer):
    """Adds a learned vector to each position of a sequence: (steps, features) -> the same shape,
    with `sequence_length * features` weights; it tells a `multi_head_attention` after it where
    each token is. netdsl's own layer (Keras 3 has none); like KerasHub's `PositionEmbedding`, it
    takes the longest sequence as `sequence_length` and reads the first positions of a shorter one,
    but it returns its input plus the vectors rather than the vectors alone."""

    kind: Literal["position_embedding"] = "position_embedding"
    positional: ClassVar = ("sequence_length",)
    sequence_length: PosInt = _d("The longest sequence: one learned vector per position.")
    initializer: InitializerName = _d("Initial vectors.", "glorot_uniform")
