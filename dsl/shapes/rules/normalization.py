"""Shape rules of the normalisation layers: shape kept, weights per entry of `axis`."""

from __future__ import annotations

from ..context import Context, Out, Tensor
from .common import axis_size

def _batch_norm(layer, x: Tensor, ctx: Context) -> Out:
    """Per channel of `axis`: gamma and beta (if scale/center) are trained; the moving mean and
    variance are not (2*C non-trainable weights, even when the layer is trainable)."""
    channels = axis_size(layer.axis, x, ctx)
    learned = (int(bool(layer.center)) + int(bool(layer.scale))) * channels
    return Out(x.shape, learned + 2 * channels, frozen=2 * channels)


def _layer_norm(layer, x: Tensor, ctx: Context) -> Out:
    """Per entry of `axis`: gamma and beta (if scale/center), all trained."""
    channels = axis_size(layer.axis, x, ctx)
    return Out(x.shape, (int(bool(layer.center)) + int(bool(layer.scale))) * channels)


RULES = {
    "batch_normalization": _batch_norm,
    "layer_normalization": _layer_norm,
}
