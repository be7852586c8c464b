"""The per-layer shape rules, one module per layer family, and `apply`, which runs a layer's rule
after the checks every layer shares.

A rule is `(bound layer, input Tensor, Context) -> Out`: the output shape and weight count, with
soft problems noted on the context (`ctx.note`) and a `Problem` raised when the output is unknown.
To add a layer kind, write its rule in its family's module and list it in that module's `RULES`.
"""

from __future__ import annotations

import functools
from typing import Any, Callable

from ...values import FLOAT32_MAX
from ..context import Context, Out, Problem, Tensor
from ..symbolic import UNKNOWN, Sym, known
from ..text import shape_text
from . import augmentation, conv, dense, elementwise, embedding_text, merge, normalization, recurrent, reshaping
from . import attention, upsampling, wrappers

__all__ = ["LAYER_RULES", "apply"]

LAYER_RULES: dict[str, Callable[[Any, Tensor, Context], Out] | None] = {
    **dense.RULES,
    **conv.RULES,
    **reshaping.RULES,
    **elementwise.RULES,
    **augmentation.RULES,
    **normalization.RULES,
    **embedding_text.RULES,
    **recurrent.RULES,
    **merge.RULES,
    **upsampling.RULES,
    **attention.RULES,
    "time_distributed": None,  # runs the rule of the layer it wraps (`wrappers`): set below `apply`
    "pretrained": None,  # replaced by the saved net's layers before the walk (`pretrained.expand`)
}
"""Layer kind -> rule: (bound layer, input tensor, context) -> output. Every kind of `specs.LAYERS`."""


# Layers whose weights are sized by the input's last axis: Keras must know it when it builds them.
_SIZED_BY_LAST_AXIS = frozenset({
    "dense", "conv1d", "conv2d", "simple_rnn", "lstm", "gru", "bidirectional", "depthwise_conv2d", "separable_conv2d",
    "conv1d_transpose", "conv2d_transpose", "multi_head_attention", "position_embedding", "p_re_lu",
})
# Layers with an `activation` argument, whose softmax over one value is worth a note.
_WITH_ACTIVATION = frozenset({"dense", "conv1d", "conv2d", "activation", "depthwise_conv2d", "separable_conv2d",
                              "conv1d_transpose", "conv2d_transpose"})


def _of_steps(dim) -> bool:
    """Whether a size depends on `steps` (a text's token count without `output_sequence_length`),
    which no data-bound name gives before Keras builds the layers."""
    return isinstance(dim, Sym) and any("steps" in name for monomial in dim.terms for name in monomial)


def _beyond_float32(value, at=()) -> tuple | None:
    """The index path of the first number of a literal array that float32 cannot hold, or None."""
    if isinstance(value, (list, tuple)):
        if set(map(type, value)) <= {int, float} and max(map(abs, value), default=0) <= FLOAT32_MAX:
            return None  # a row in range, checked in C: a 1000x1000 kernel is a million numbers
        for i, item in enumerate(value):
            found = _beyond_float32(item, at + (i,))
            if found is not None:
                return found
        return None
    return at if isinstance(value, float) and not abs(value) <= FLOAT32_MAX else None


def apply(layer, x: Tensor | tuple[Tensor, ...], ctx: Context) -> Out:
    """One layer: the text check every layer but `text_vectorization` shares, then its rule (a
    merge's input is the tuple of tensors it reads)."""
    if isinstance(x, tuple):
        if any(t.dtype == "string" for t in x):
            raise Problem("N307", f"`{layer.kind}` cannot read raw text",
                          help="turn the text into numbers first (`text_vectorization`, `embedding`, a pooling)")
        return LAYER_RULES[layer.kind](layer, x, ctx)
    if x.dtype == "string" and layer.kind != "text_vectorization":
        raise Problem(
            "N307", f"`{layer.kind}` cannot read raw text",
            help="`input text` gives one string per sample: start the net with `text_vectorization(...)`, "
            "which turns the strings into tokens (then `embedding(...)` for vectors)",
        )
    for argument in ("kernel_initializer", "bias_initializer", "embeddings_initializer"):
        literal = getattr(layer, argument, None)
        where = _beyond_float32(literal)
        if where is not None:
            number = literal
            for i in where:
                number = number[i]
            ctx.note("N131", f"the literal `{argument}` holds {number:g} (at [{', '.join(str(i) for i in where)}]), beyond "
                     "float32's range (about ±3.4e38)",
                     help="Keras keeps weights as 32-bit floats: the number would become infinite", arg=(argument, *where))
    if layer.kind in _SIZED_BY_LAST_AXIS and x.shape and _of_steps(x.shape[-1]):
        raise Problem(
            "N308", f"`{layer.kind}` needs a known number of inputs, but gets {x.shape[-1]} {ctx.after}: the number of "
            "steps is known only once the texts are read",
            help="give `text_vectorization` an `output_sequence_length=...`, or pool over the steps "
            "(`global_average_pooling1d`) instead of `flatten`",
        )
    if layer.kind in _SIZED_BY_LAST_AXIS and x.shape and x.shape[-1] == UNKNOWN:
        raise Problem(
            "N308", f"`{layer.kind}` needs a known number of inputs, but gets `none` {ctx.after}: an axis of any "
            "length (`input (none, ...)`) reached the last axis",
            help="pool over the axis of any length (`global_average_pooling1d`, a recurrent layer) instead of "
            "`flatten`; only a layer's last axis sizes its weights",
        )
    out = LAYER_RULES[layer.kind](layer, x, ctx)
    if getattr(layer, "activation", None) == "softmax" and layer.kind in _WITH_ACTIVATION \
            and out.shape and known(out.shape[-1]) and out.shape[-1] == 1:
        ctx.note("N309", "`softmax` over a single value is always 1", arg="activation",
                 help="it normalises over the last axis, here of size 1, so nothing could be learned: use `sigmoid` "
                 "for one output in [0, 1] (two classes), or give one unit per class with `softmax`")
    if any(known(d) and d < 1 for d in out.shape):
        raise Problem(
            "N302", f"`{layer.kind}` would output a dimension of size 0: {shape_text(out.shape)} {ctx.after}",
            help="every dimension must be at least 1; use smaller windows or strides, or `padding=same`",
        )
    return out


LAYER_RULES["time_distributed"] = functools.partial(wrappers.time_distributed, apply=apply)
