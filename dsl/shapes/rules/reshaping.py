"""Shape rules of the layers that rearrange values: `flatten`, `reshape` and `repeat_vector`."""

from __future__ import annotations

from ..context import KEEP, Context, Out, Problem, Tensor
from ..symbolic import known, prod
from ..text import shape_text
from .common import need_rank

def _flatten(layer, x: Tensor, ctx: Context) -> Out:
    """Everything but the batch axis in one: the product of the dimensions. Values are kept, so
    integer tokens stay tokens."""
    return Out((prod(x.shape),), field=None, dtype=KEEP)


def _reshape(layer, x: Tensor, ctx: Context) -> Out:
    """The same values in a new shape: the sizes must multiply to the input's; one -1 is inferred."""
    target = layer.target_shape
    if not isinstance(target, (tuple, list)) or not target or target.count(-1) > 1 or any(
        not known(d) or (d < 1 and d != -1) for d in target
    ):
        raise Problem(
            "N303", f"`target_shape` {target if not isinstance(target, (tuple, list)) else shape_text(target)} is not a shape",
            help="give positive sizes, with at most one -1 for the size to infer, e.g. `reshape((8, 8, 1))`",
            arg="target_shape",
        )
    target = tuple(target)
    total = prod(x.shape)
    size = prod(d for d in target if d != -1)
    if -1 in target:
        if known(total) and total % size:
            raise Problem(
                "N303", f"cannot reshape {shape_text(x.shape)} ({total} values) into {shape_text(target)}: "
                f"{total} is not a multiple of {size}",
                help="the sizes must multiply to the input's size", arg="target_shape",
            )
        fill = total // size if known(total) else total / size
        target = tuple(fill if d == -1 else d for d in target)
    elif known(total) and total != size:
        raise Problem(
            "N303", f"`reshape` to {shape_text(target)} needs {size} values, "
            f"but its input {shape_text(x.shape)} has {total}",
            help="the sizes must multiply to the input's size; write -1 for one of them to have it computed",
            arg="target_shape",
        )
    return Out(target, field=None, dtype=KEEP)


def _repeat_vector(layer, x: Tensor, ctx: Context) -> Out:
    """RepeatVector: one vector per sample, repeated `n` times: (features) -> (n, features)."""
    need_rank(x, 1, ctx, "features")
    return Out((layer.n,) + x.shape, field=None)


RULES = {
    "repeat_vector": _repeat_vector,
    "flatten": _flatten,
    "reshape": _reshape,
}
