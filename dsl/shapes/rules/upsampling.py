"""Shape rules of the layers that grow the spatial axes: transposed convolutions (`conv1d_transpose`,
`conv2d_transpose`) and up-sampling (`up_sampling1d`, `up_sampling2d`)."""

from __future__ import annotations

from fractions import Fraction

from ..context import Context, Out, Tensor
from ..symbolic import known, prod
from ..text import sizes_text
from .common import SPATIAL_RANK, need_rank, need_spatial, per_axis


def _transposed_length(n, kernel: int, stride: int, padding: str, output_padding, dilation: int):
    """One axis of a transposed convolution's output, as Keras computes it
    (`backend_utils._get_output_shape_given_tf_padding`): with the dilated kernel k, `valid` gives
    (n - 1) * s + max(k, s), `same` gives n * s; a given output_padding p: (n - 1) * s + k + p
    (`valid`) or (n - 1) * s + k % 2 + p (`same`)."""
    kernel = (kernel - 1) * dilation + 1
    if padding == "valid":
        extra = max(kernel, stride) - kernel if output_padding is None else output_padding
        return (n - 1) * stride + kernel + extra
    if output_padding is None:
        return n * stride
    return (n - 1) * stride + kernel % 2 + output_padding


def _conv_transpose(layer, x: Tensor, ctx: Context) -> Out:
    """Conv1DTranspose/Conv2DTranspose: each input position spreads a kernel over the output, which
    grows by `strides`; prod(kernel) * channels * filters weights plus one bias per filter."""
    rank = SPATIAL_RANK[layer.kind]
    need_spatial(x, rank, ctx)
    channels = x.shape[-1]
    kernel = per_axis(layer.kernel_size, rank, "kernel_size", ctx)
    strides = per_axis(layer.strides, rank, "strides", ctx)
    dilation = per_axis(layer.dilation_rate, rank, "dilation_rate", ctx)
    padding = (None,) * rank if layer.output_padding is None else per_axis(layer.output_padding, rank, "output_padding", ctx)
    if known(*strides, *dilation) and max(strides) > 1 and max(dilation) > 1:
        ctx.note("N312", "`strides` above 1 cannot be combined with `dilation_rate` above 1",
                 help="Keras refuses the combination: use one or the other", arg="dilation_rate")
    if any(p is not None and known(p, s) and p >= s for p, s in zip(padding, strides)):
        ctx.note("N312", f"`output_padding` {sizes_text(padding)} must be below `strides` {sizes_text(strides)}, axis by axis",
                 help="Keras refuses a padding as large as the stride: give smaller numbers, or leave it out",
                 arg="output_padding")
    spatial = tuple(_transposed_length(n, k, s, layer.padding, p, d)
                    for n, k, s, p, d in zip(x.shape[:-1], kernel, strides, padding, dilation))
    params = prod(kernel) * channels * layer.filters + (layer.filters if layer.use_bias else 0)
    return Out(spatial + (layer.filters,), params, field=None)


def _up_sampling(layer, x: Tensor, ctx: Context) -> Out:
    """UpSampling1D/2D: each step (pixel) repeated `size` times per axis; channels kept, no weights."""
    rank = SPATIAL_RANK[layer.kind]
    if rank == 1:
        need_rank(x, 2, ctx, "steps, features")
    else:
        need_spatial(x, rank, ctx)
    size = per_axis(layer.size, rank, "size", ctx)
    # Each step is repeated: a step sees what the step it copies saw, and the next step is 1/size
    # of a step of the input further on (`common.grow`).
    field = None if x.field is None or not all(known(s) for s in size) else tuple(
        (seen, Fraction(jump) / s) for (seen, jump), s in zip(x.field, size))
    return Out(tuple(n * s for n, s in zip(x.shape[:-1], size)) + x.shape[-1:], field=field)


RULES = {
    "conv1d_transpose": _conv_transpose,
    "conv2d_transpose": _conv_transpose,
    "up_sampling1d": _up_sampling,
    "up_sampling2d": _up_sampling,
}
