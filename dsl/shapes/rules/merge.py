"""Shape rules of the merges (`add`, `subtract`, `multiply`, `average`, `maximum`, `minimum`,
`concatenate`, `dot`) and of `identity`. A merge's rule gets the tuple of tensors it reads; a
mismatch names both branches and their shapes (`ctx.branches`), as Keras's build would refuse it."""

from __future__ import annotations

from ..context import Context, Out, Problem, Tensor
from ..symbolic import known
from ..text import batch_text


def _mismatch(layer, xs: tuple[Tensor, ...], ctx: Context, i: int, j: int, why: str, help: str) -> Problem:
    branches = ctx.branches or tuple(f"input {k + 1}" for k in range(len(xs)))
    return Problem(
        "N805", f"`{layer.kind}` cannot merge {branches[i]} {batch_text(xs[i].shape)} with {branches[j]} "
        f"{batch_text(xs[j].shape)}: {why}", help=help, arg="inputs",
    )


def _broadcast(a: tuple, b: tuple):
    """Keras's element-wise merge shape of two shapes (aligned from the right, a size 1 stretches), or
    None where they do not fit."""
    if len(a) < len(b):
        a, b = b, a
    out = list(a[: len(a) - len(b)])
    for x, y in zip(a[len(a) - len(b):], b):
        if known(x) and known(y) and x != y and 1 not in (x, y):
            return None
        if not known(x) or not known(y):
            if x != y and not (known(x) and x == 1) and not (known(y) and y == 1):
                return None  # two different unknown sizes (`n_features` and `n_classes`): not provably equal
        out.append(y if known(x) and x == 1 else x)
    return tuple(out)


def _elementwise(layer, xs: tuple[Tensor, ...], ctx: Context) -> Out:
    """Same shapes (or sizes of 1 that stretch, as Keras broadcasts): the merged shape, no weights."""
    shape = xs[0].shape
    for j in range(1, len(xs)):
        merged = _broadcast(shape, xs[j].shape)
        if merged is None:
            raise _mismatch(layer, xs, ctx, 0, j, "element-wise merges need equal shapes",
                            "bring one branch to the other's shape (a `dense` to its width, a 1x1 `conv2d` to its "
                            "channels, a pooling to its size), or join them with `concatenate`")
        shape = merged
    return Out(shape, field=_widest_field(xs))


def _concatenate(layer, xs: tuple[Tensor, ...], ctx: Context) -> Out:
    """Equal ranks, and equal sizes but along `axis`, which adds up."""
    rank = len(xs[0].shape)
    axis = layer.axis
    if axis == 0 or not -rank <= axis <= rank:
        raise Problem("N805", f"`concatenate` cannot join along axis {axis} of {batch_text(xs[0].shape)}",
                      help=f"axis 0 is the batch; give 1 to {rank}, or -1 for the last (features, channels)", arg="axis")
    at = axis - 1 if axis > 0 else rank + axis
    total = xs[0].shape[at]
    for j in range(1, len(xs)):
        other = xs[j].shape
        if len(other) != rank or any(a != b for k, (a, b) in enumerate(zip(xs[0].shape, other)) if k != at):
            raise _mismatch(layer, xs, ctx, 0, j, f"all axes but the joined one (axis {axis}) must be equal",
                            "flatten or pool the branches to the same rank first, or join along another `axis`")
        total = total + other[at]
    shape = list(xs[0].shape)
    shape[at] = total
    return Out(tuple(shape), field=_widest_field(xs))


def _dot(layer, xs: tuple[Tensor, ...], ctx: Context) -> Out:
    """Keras's `Dot`: sums the product over one axis of each input (counted with the batch as 0)."""
    a, b = xs[0].shape, xs[1].shape
    axes = layer.axes if isinstance(layer.axes, (tuple, list)) else (layer.axes, layer.axes)
    at = []
    for shape, axis in zip((a, b), axes):
        rank = len(shape) + 1
        k = axis if axis >= 0 else rank + axis
        if not 1 <= k < rank:
            raise Problem("N805", f"`dot` has no axis {axis} in {batch_text(shape)}",
                          help="count the axes with the batch as 0: `axes=1` for vectors", arg="axes")
        at.append(k - 1)
    if known(a[at[0]]) and known(b[at[1]]) and a[at[0]] != b[at[1]] or (not known(a[at[0]]) and a[at[0]] != b[at[1]]):
        raise _mismatch(layer, xs, ctx, 0, 1, f"the summed axes have sizes {a[at[0]]} and {b[at[1]]}",
                        "both inputs need the same size along the axes summed over (`axes=...`)")
    shape = tuple(d for k, d in enumerate(a) if k != at[0]) + tuple(d for k, d in enumerate(b) if k != at[1])
    return Out(shape or (1,), field=None)


def _identity(layer, x: Tensor, ctx: Context) -> Out:
    return Out(x.shape)


def _widest_field(xs: tuple[Tensor, ...]):
    """The receptive field of a merge: per axis, the widest of its inputs' (None if one has none)."""
    fields = [x.field for x in xs]
    if any(f is None for f in fields) or len({len(f) for f in fields}) != 1:
        return None
    widest = []
    for per_axis in zip(*fields):
        sizes = [size for size, _ in per_axis]
        if not all(known(s) for s in sizes):
            return None
        widest.append(max(per_axis, key=lambda p: p[0]))
    return tuple(widest)


RULES = {
    "add": _elementwise,
    "subtract": _elementwise,
    "multiply": _elementwise,
    "average": _elementwise,
    "maximum": _elementwise,
    "minimum": _elementwise,
    "concatenate": _concatenate,
    "dot": _dot,
    "identity": _identity,
}
