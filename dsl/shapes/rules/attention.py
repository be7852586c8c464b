"""Shape rules of the attention layers: `multi_head_attention` and `position_embedding`.

`attention` is the rule of multi-head attention as a function of its query, value and key shapes;
in a chain all three are the layer's input (self-attention), and a layer reading named points can
hand it others.
"""

from __future__ import annotations

from ..context import Context, Out, Problem, Tensor
from ..symbolic import Sym, known, prod
from ..text import shape_text
from .common import need_rank


def attention(layer, query: tuple, value: tuple, key: tuple | None, ctx: Context) -> Out:
    """MultiHeadAttention of a query (..., q) over a value (..., v) with a key (..., k) (default:
    the value): the output has the query's shape with its last axis `output_shape` (default q).
    Weights, as Keras's four projections: q*h*kd + k*h*kd + v*h*vd + h*vd*out, plus biases
    2*h*kd + h*vd + out, with h heads, kd = key_dim and vd = value_dim (default kd)."""
    key = value if key is None else key
    if tuple(value[:-1]) != tuple(key[:-1]):
        raise Problem("N312", f"the value {shape_text(value)} and the key {shape_text(key)} differ before their last axis",
                      help="Keras attends over the value's steps by the key's: give both the same steps")
    heads, key_dim = layer.num_heads, layer.key_dim
    value_dim = key_dim if layer.value_dim is None else layer.value_dim
    out = layer.output_shape if layer.output_shape is not None else query[-1]
    out = tuple(out) if isinstance(out, (tuple, list)) else (out,)
    weights = (query[-1] + key[-1]) * heads * key_dim + value[-1] * heads * value_dim + heads * value_dim * prod(out)
    biases = 2 * heads * key_dim + heads * value_dim + prod(out) if layer.use_bias else 0
    return Out(tuple(query[:-1]) + out, weights + biases, field=None)


def _self_attention(layer, x: Tensor | tuple, ctx: Context) -> Out:
    """In a chain, multi-head attention attends over its input: query = value = key = x, which needs
    positions to attend over, (steps, features) or more axes. With `value=` (and `key=`) it gets the
    tuple (query, value[, key]): cross-attention."""
    tensors = x if isinstance(x, tuple) else (x,)
    for tensor in tensors:
        if len(tensor.shape) < 2:
            need_rank(tensor, 2, ctx, "steps, features")
    query = tensors[0].shape
    value = tensors[1].shape if len(tensors) > 1 else query
    key = tensors[2].shape if len(tensors) > 2 else value
    return attention(layer, query, value, key, ctx)


def _position_embedding(layer, x: Tensor, ctx: Context) -> Out:
    """netdsl's PositionEmbedding: a learned (sequence_length, features) table, whose first `steps`
    rows are added to the input; shape kept, sequence_length * features weights. Longer inputs than
    `sequence_length` have no vector for their last positions."""
    need_rank(x, 2, ctx, "steps, features")
    steps, features = x.shape
    if isinstance(steps, Sym) and any("steps" in name for monomial in steps.terms for name in monomial):
        raise Problem(
            "N308", f"`position_embedding` needs a known number of steps (at most {layer.sequence_length}), "
            f"but gets {steps} {ctx.after}",
            help=f"give `text_vectorization` an `output_sequence_length=...` of at most {layer.sequence_length}, "
            "so that no text is longer than the positions it has vectors for",
        )
    if known(steps, layer.sequence_length) and steps > layer.sequence_length:
        raise Problem(
            "N314", f"`position_embedding` has vectors for {layer.sequence_length} positions, but its input has "
            f"{steps} steps {ctx.after}",
            help=f"give `sequence_length={steps}` (or more), or shorten the sequences before it",
            arg="sequence_length",
        )
    return Out(x.shape, layer.sequence_length * features, field=None)


RULES = {
    "multi_head_attention": _self_attention,
    "position_embedding": _position_embedding,
}
