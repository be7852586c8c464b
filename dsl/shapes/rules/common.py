"""Checks and arithmetic several layer families share: the rank a layer needs (and advice to reach
it), an `axis` argument, per-axis arguments, sliding windows, receptive fields, literal arrays."""

from __future__ import annotations

import math

from ..context import Context, Problem, Tensor
from ..symbolic import known
from ..text import batch_text, dims_text, shape_text, sizes_text, tuple_text

# Gates per recurrent kind (the weights are counted in `recurrent`; the rank advice needs the kinds).
GATES = {"simple_rnn": 1, "lstm": 4, "gru": 3}

SPATIAL_RANK = {
    "conv1d": 1, "conv2d": 2, "max_pooling1d": 1, "max_pooling2d": 2, "average_pooling1d": 1,
    "average_pooling2d": 2, "global_average_pooling1d": 1, "global_average_pooling2d": 2,
    "global_max_pooling1d": 1, "global_max_pooling2d": 2, "spatial_dropout1d": 1, "spatial_dropout2d": 2,
    "depthwise_conv2d": 2, "separable_conv2d": 2, "conv1d_transpose": 1, "conv2d_transpose": 2,
    "up_sampling1d": 1, "up_sampling2d": 2,
}  # fmt: skip


def need_rank(x: Tensor, rank: int, ctx: Context, layout: str):
    """Keras layers with an `input_spec` take exactly one rank; say what would make it fit."""
    if len(x.shape) == rank:
        return
    got = len(x.shape)
    problem = Problem(
        "N301", f"`{ctx.kind}` needs a {rank + 1}-D input (batch, {layout}), got a {got + 1}-D tensor {batch_text(x.shape)}",
        help=_rank_help(x.shape, rank, ctx),
    )
    problem.about_input = ctx.from_input
    raise problem


def need_spatial(x: Tensor, rank: int, ctx: Context):
    """`need_rank` for a layer with `rank` spatial axes and a channels axis."""
    need_rank(x, rank + 1, ctx, "height, width, channels" if rank == 2 else "steps, channels")


def _rank_help(shape: tuple, rank: int, ctx: Context) -> str:
    def fixes(target):
        concrete = tuple(d if known(d) else -1 for d in target)
        if list(concrete).count(-1) > 1:
            concrete = None
        options = []
        if ctx.from_input:
            options.append(f"declare `input {shape_text(target)}`")
        if concrete is not None:
            options.append(f"add `reshape({tuple_text(concrete)})` before it")
        return " or ".join(options) if options else "reshape it first"

    got = len(shape)
    inner = getattr(ctx.previous, "layer", ctx.previous)  # `bidirectional` wraps its recurrent layer
    if rank == 2 and got == 1 and inner is not None and inner.kind in GATES and not inner.return_sequences:
        to = "it" if inner is ctx.previous else f"the `{inner.kind}(...)` it wraps"
        return (f"{ctx.source} outputs only its last step: add `return_sequences=true` to {to}, so that it "
                "outputs every step for this layer to read")
    if rank == 1:
        return ("it reads one vector per sample: add `flatten` before it, or a pooling layer such as "
                "`global_average_pooling1d`")
    if rank == 3:
        if got == 1:
            n = shape[0]
            root = math.isqrt(n) if known(n) else None
            if root is not None and root * root == n:
                return f"if the {n} features are {root}x{root} pixels, " + fixes((root, root, 1))
            return (
                "an image is (height, width, channels) per sample: declare the input as one, "
                "e.g. `input (8, 8, 1)`, or add `reshape((height, width, channels))` before it"
            )
        if got == 2:
            return "it needs a channels axis: " + fixes(shape + (1,))
        return "an image is (height, width, channels) per sample; `reshape(...)` to that before it"
    if got == 1:
        n = shape[0]
        reshape = f"`reshape(({n if known(n) else -1}, 1))`"
        if ctx.from_input:
            return (
                "a 2-D tensor (batch, features) has no steps axis: declare `input (steps, features)`, "
                f"e.g. `input ({n}, 1)` for {n} steps of one feature, or add {reshape} before it"
            )
        return f"a 2-D tensor (batch, features) has no steps axis: add {reshape} before it, for {n} steps of one feature"
    if got == 3 and known(*shape):
        h, w, c = shape
        return f"to read an image row by row, add `reshape(({h}, {w * c}))` before it (or `flatten` it for `dense`)"
    return "a sequence is (steps, features) per sample; `reshape(...)` to that before it"


def axis_size(axis, x: Tensor, ctx: Context):
    """Keras counts `axis` over the shape *with* the batch axis (-1: the last, 0: the batch)."""
    full = (None,) + tuple(x.shape)
    if not known(axis) or not -len(full) <= axis < len(full):
        raise Problem(
            "N304", f"`axis={axis}` is out of range for a {len(full)}-D tensor {batch_text(x.shape)}",
            help="give an axis between 1 and the last (-1, the default, normalises the features)",
            arg="axis",
        )
    if full[axis] is None:
        raise Problem(
            "N304", f"`axis={axis}` is the batch axis", help="normalise the features axis: `axis=-1` (the default)", arg="axis"
        )
    return full[axis]


def per_axis(value, rank: int, what: str, ctx: Context) -> tuple:
    """Keras's `standardize_tuple`: one number for every axis, or exactly one per axis."""
    if not isinstance(value, (tuple, list)):
        return (value,) * rank
    if len(value) == rank:
        return tuple(value)
    raise Problem(
        "N305", f"`{what}` {shape_text(value)} has {len(value)} numbers, but `{ctx.kind}` has {rank} spatial ax"
        + ("es" if rank > 1 else "is"),
        help=f"give one number, or {rank}",
        arg=what,
    )


def slide(x: Tensor, windows, strides, padding: str, ctx: Context, words: str, given_strides: bool = True) -> tuple:
    """Output size of a sliding window per spatial axis (Keras's `compute_conv_output_shape`):
    valid: floor((n - window) / stride) + 1; same and causal: ceil(n / stride)."""
    dims = x.shape[:-1]
    if given_strides and any(known(n, stride) and stride > n for n, stride in zip(dims, strides)):
        ctx.note("N302", f"`strides` {sizes_text(strides)} step past the input's {dims_text(dims)} {ctx.after}",
                 help="a step longer than the input reads only its first window, and TensorFlow may crash on it: "
                 f"use strides of at most {sizes_text(dims)}, for the same output", arg="strides")
    out = []
    for n, window, stride in zip(dims, windows, strides):
        if padding == "valid":
            if known(n, window) and window > n:
                before = "" if ctx.from_input else f"{ctx.source} outputs {shape_text(x.shape)}; "
                raise Problem(
                    "N302", f"{words} is larger than the input's {dims_text(dims)} {ctx.after}",
                    help=f"{before}the output would have size 0: use a smaller window, `padding=same`, "
                    "or fewer pooling or strided layers before it",
                )
            out.append((n - window) // stride + 1)
        else:
            out.append((n - 1) // stride + 1)
    return tuple(out)


def grow(field, windows, strides):
    """Receptive field after a window layer: size += (window - 1) * jump; jump *= stride. After an
    up-sampling a jump is a fraction of a pixel (`Fraction`): the window's steps then cover at most
    the next whole number of the input's."""
    if field is None or len(field) != len(windows):
        field = ((1, 1),) * len(windows)
    return tuple((size + _whole((w - 1) * jump), jump * s) for (size, jump), w, s in zip(field, windows, strides))


def _whole(span):
    from fractions import Fraction

    if isinstance(span, Fraction):
        return span.numerator // span.denominator + (span.numerator % span.denominator > 0)
    return span


def array_shape(value):
    """Shape of a literal nested list, "ragged" if not rectangular, None if not a list."""
    if not isinstance(value, (list, tuple)):
        return None
    if not value or not isinstance(value[0], (list, tuple)):
        # `map(type, ...)` runs in C: a row of a 1000x1000 kernel is a thousand numbers.
        return "ragged" if not set(map(type, value)).isdisjoint((list, tuple)) else (len(value),)
    inner = [array_shape(v) for v in value]
    if any(s == "ragged" or s != inner[0] for s in inner):
        return "ragged"
    return (len(value),) + inner[0]


def check_bias(layer, size, ctx: Context):
    shape = array_shape(getattr(layer, "bias_initializer", None))
    if shape is not None and known(size) and shape != (size,):
        ctx.note(
            "N306", f"the literal bias has shape {shape_text(shape) if shape != 'ragged' else '(ragged)'}, "
            f"but `{ctx.kind}` has {size} outputs",
            help=f"give one number per output ({size})",
            arg="bias_initializer",
        )
