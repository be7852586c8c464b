"""Shape rules of the layers that act value by value and keep the shape: activation, rescaling,
dropout and noise."""

from __future__ import annotations

from ..context import Context, Out, Tensor
from .common import SPATIAL_RANK, need_spatial

def _same_shape(layer, x: Tensor, ctx: Context) -> Out:
    """Element-wise layers (dropout, activation, rescaling, noise): shape kept, no weights."""
    return Out(x.shape)


def _spatial_dropout(layer, x: Tensor, ctx: Context) -> Out:
    """Drops whole channels, so it needs the layout it drops them from (Keras's input_spec)."""
    rank = SPATIAL_RANK[layer.kind]
    need_spatial(x, rank, ctx)
    return Out(x.shape)


RULES = {
    "dropout": _same_shape,
    "activation": _same_shape,
    "rescaling": _same_shape,
    "gaussian_noise": _same_shape,
    "spatial_dropout1d": _spatial_dropout,
    "spatial_dropout2d": _spatial_dropout,
}
