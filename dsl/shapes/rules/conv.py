"""Shape rules of the window layers: convolutions (plain, depthwise and separable) and pooling (local
and global)."""

from __future__ import annotations

from ..context import Context, Out, Problem, Tensor
from ..symbolic import known, prod
from ..text import dims_text, shape_text, sizes_text
from .common import SPATIAL_RANK, array_shape, check_bias, grow, need_spatial, per_axis, slide

def _kernel_size(layer, rank: int, channels, ctx: Context) -> tuple:
    """`kernel_size`, or the leading axes of a literal kernel (see the package docstring)."""
    literal = array_shape(layer.kernel_initializer)
    if literal == "ragged":
        raise Problem("N306", "the literal kernel is not rectangular", help="every row must have the same length",
                       arg="kernel_initializer")
    from_literal = None
    if literal is not None:
        if not rank <= len(literal) <= rank + 2:
            example = "[1, 0, -1]" if rank == 1 else "[[1, 0], [0, -1]]"
            raise Problem(
                "N306", f"a literal kernel for `{ctx.kind}` has {rank} to {rank + 2} axes, got {len(literal)}",
                help=f"give one kernel such as `{example}`, used for every input channel and filter",
                arg="kernel_initializer",
            )
        from_literal = literal[:rank]
        extra, expected = literal[rank:], (channels, layer.filters)[: len(literal) - rank]
        if known(*expected) and tuple(extra) != tuple(expected):
            ctx.note(
                "N306", f"the literal kernel has shape {shape_text(literal)}, but after its {rank} spatial "
                f"ax{'es' if rank > 1 else 'is'} `{ctx.kind}` needs {shape_text(expected)} "
                "(input channels, filters)",
                help="give only the spatial kernel, used for every input channel and filter, or the whole kernel",
                arg="kernel_initializer",
            )
    if layer.kernel_size is None:
        if from_literal is None:
            raise Problem("N205", f"`{ctx.kind}` needs `kernel_size`",
                           help="give it, e.g. `kernel_size=3`, or a literal kernel as `kernel_initializer=[...]`")
        return tuple(from_literal)
    kernel = per_axis(layer.kernel_size, rank, "kernel_size", ctx)
    if from_literal is not None and tuple(from_literal) != kernel:
        ctx.note(
            "N306", f"kernel_size {sizes_text(kernel)} does not match the literal kernel's {dims_text(from_literal)}",
            help="drop `kernel_size`: the literal array gives it", arg="kernel_size",
        )
    return kernel


def _conv(layer, x: Tensor, ctx: Context) -> Out:
    """Conv1D/Conv2D: a window slid over the spatial axes; prod(kernel) * in * filters weights
    plus one bias per filter. `causal` (conv1d) pads on the left only: sized like `same`."""
    rank = SPATIAL_RANK[layer.kind]
    need_spatial(x, rank, ctx)
    channels = x.shape[-1]
    kernel = _kernel_size(layer, rank, channels, ctx)
    spatial, field = _window(layer, x, kernel, rank, ctx)
    check_bias(layer, layer.filters, ctx)
    params = prod(kernel) * channels * layer.filters + (layer.filters if layer.use_bias else 0)
    return Out(spatial + (layer.filters,), params, field=field)


def _window(layer, x: Tensor, kernel: tuple, rank: int, ctx: Context) -> tuple:
    """The spatial output size and receptive field of a convolution's window: its `strides`,
    `dilation_rate` and `padding` (which Keras's convolutions all read alike). Conv1D and Conv2D
    refuse strides and dilation both above 1; the depthwise and separable ones take them."""
    strides = per_axis(layer.strides, rank, "strides", ctx)
    dilation = per_axis(layer.dilation_rate, rank, "dilation_rate", ctx)
    if ctx.kind in ("conv1d", "conv2d") and known(*strides, *dilation) and max(strides) > 1 and max(dilation) > 1:
        ctx.note("N312", "`strides` above 1 cannot be combined with `dilation_rate` above 1",
                 help="Keras refuses the combination: use one or the other", arg="dilation_rate")
    windows = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))
    words = f"kernel_size {sizes_text(kernel)}"
    if windows != kernel:
        words += f" with dilation_rate {sizes_text(dilation)} spans {sizes_text(windows)}, which"
    return slide(x, windows, strides, layer.padding, ctx, words), grow(x.field, windows, strides)


def _depthwise(layer, x: Tensor, ctx: Context) -> Out:
    """DepthwiseConv2D: each input channel convolved on its own by `depth_multiplier` kernels
    (channels * depth_multiplier outputs); SeparableConv2D then mixes those into `filters` by a 1x1
    convolution. Weights: prod(kernel) * channels * depth_multiplier, plus channels * depth_multiplier
    * filters for the 1x1 step, plus one bias per output channel."""
    rank = SPATIAL_RANK[layer.kind]
    need_spatial(x, rank, ctx)
    channels = x.shape[-1]
    kernel = per_axis(layer.kernel_size, rank, "kernel_size", ctx)
    spatial, field = _window(layer, x, kernel, rank, ctx)
    depth = channels * layer.depth_multiplier
    outputs = layer.filters if layer.kind == "separable_conv2d" else depth
    params = prod(kernel) * depth + (depth * outputs if layer.kind == "separable_conv2d" else 0)
    return Out(spatial + (outputs,), params + (outputs if layer.use_bias else 0), field=field)


def _pool(layer, x: Tensor, ctx: Context) -> Out:
    """Max/average pooling: a window (default 2) slid with strides defaulting to the window;
    channels kept, no weights."""
    rank = SPATIAL_RANK[layer.kind]
    need_spatial(x, rank, ctx)
    size = per_axis(layer.pool_size, rank, "pool_size", ctx)
    strides = size if layer.strides is None else per_axis(layer.strides, rank, "strides", ctx)
    spatial = slide(x, size, strides, layer.padding, ctx, f"pool_size {sizes_text(size)}", layer.strides is not None)
    return Out(spatial + x.shape[-1:], field=grow(x.field, size, strides))


def _global_pool(layer, x: Tensor, ctx: Context) -> Out:
    """Pooling over all positions: (..., channels) -> (channels), or 1s in place with keepdims."""
    rank = SPATIAL_RANK[layer.kind]
    need_spatial(x, rank, ctx)
    shape = (1,) * rank + x.shape[-1:] if layer.keepdims else x.shape[-1:]
    return Out(shape, field=None)


RULES = {
    "conv1d": _conv,
    "conv2d": _conv,
    "depthwise_conv2d": _depthwise,
    "separable_conv2d": _depthwise,
    "max_pooling1d": _pool,
    "max_pooling2d": _pool,
    "average_pooling1d": _pool,
    "average_pooling2d": _pool,
    "global_average_pooling1d": _global_pool,
    "global_average_pooling2d": _global_pool,
    "global_max_pooling1d": _global_pool,
    "global_max_pooling2d": _global_pool,
}
