"""Shape rules of the layers that act value by value and keep the shape: activation (and the
activation layers `re_lu`, `leaky_re_lu`, `p_re_lu`), rescaling, dropout and noise."""

from __future__ import annotations

from ..context import Context, Out, Problem, Tensor
from ..symbolic import UNKNOWN, Sym, known, prod
from ..text import batch_text
from .common import SPATIAL_RANK, need_spatial

def _same_shape(layer, x: Tensor, ctx: Context) -> Out:
    """Element-wise layers (dropout, activation, rescaling, noise): shape kept, no weights."""
    return Out(x.shape)


def _spatial_dropout(layer, x: Tensor, ctx: Context) -> Out:
    """Drops whole channels, so it needs the layout it drops them from (Keras's input_spec)."""
    rank = SPATIAL_RANK[layer.kind]
    need_spatial(x, rank, ctx)
    return Out(x.shape)


def _p_re_lu(layer, x: Tensor, ctx: Context) -> Out:
    """PReLU learns one slope per input value, except along `shared_axes` (counted with the batch
    axis as 0), which share one: Keras's weight shape is the input's with those axes set to 1."""
    shape = list(x.shape)
    shared = layer.shared_axes if isinstance(layer.shared_axes, (tuple, list)) else (
        () if layer.shared_axes is None else (layer.shared_axes,))
    for axis in shared:
        if not known(axis) or not 1 <= axis <= len(shape):
            raise Problem(
                "N304", f"`shared_axes` names axis {axis}, but the input {batch_text(x.shape)} has axes 1 to {len(shape)}",
                help="count the axes with the batch axis as 0: `(1, 2)` shares a slope over an image's height and width",
                arg="shared_axes",
            )
        shape[axis - 1] = 1
    unknown = [i for i, n in enumerate(shape, 1) if n == UNKNOWN or isinstance(n, Sym) and "steps" in str(n)]
    if unknown:
        raise Problem(
            "N308", f"`p_re_lu` learns a slope per value, but axis {unknown[0]} of its input {batch_text(x.shape)} "
            "has a length known only from the data",
            help=f"share a slope along it: `shared_axes={unknown[0]}` (or a tuple with it)", arg="shared_axes",
        )
    return Out(x.shape, prod(shape))


RULES = {
    "re_lu": _same_shape,
    "leaky_re_lu": _same_shape,
    "p_re_lu": _p_re_lu,
    "dropout": _same_shape,
    "activation": _same_shape,
    "rescaling": _same_shape,
    "gaussian_noise": _same_shape,
    "spatial_dropout1d": _spatial_dropout,
    "spatial_dropout2d": _spatial_dropout,
}
