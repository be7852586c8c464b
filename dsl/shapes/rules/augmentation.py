"""Shape rules of the image augmentation layers (the `augment { }` block): the shape is kept; the
input must be an image and the factors in Keras's ranges."""

from __future__ import annotations

from ..context import Context, Out, Tensor
from ..text import shape_text
from .common import need_rank

def _image(layer, x: Tensor, ctx: Context) -> Out:
    """Image augmentation (flip, rotation, translation, zoom, contrast) keeps the shape, but only
    means something on images (height, width, channels)."""
    need_rank(x, 3, ctx, "height, width, channels")
    for argument, (low, high, low_open) in _FACTOR_RANGES.get(layer.kind, {}).items():
        _check_factor(getattr(layer, argument), argument, low, high, low_open, ctx)
    return Out(x.shape)


# Keras's ranges of the augmentation factors (fraction of a turn, of the size, of the contrast):
# kind -> field -> (low, high, whether `low` itself is refused).
_FACTOR_RANGES = {
    "random_rotation": {"factor": (-1, 1, False)},
    "random_contrast": {"factor": (0, 1, False)},
    "random_translation": {"height_factor": (-1, 1, False), "width_factor": (-1, 1, False)},
    "random_zoom": {"height_factor": (-1, 1, True), "width_factor": (-1, 1, True)},
}


def _check_factor(value, field: str, low, high, low_open: bool, ctx: Context) -> None:
    """A factor (or a (low, high) pair) outside what Keras takes for `field`, as Keras checks it."""
    if value is None:
        return
    numbers = list(value) if isinstance(value, (tuple, list)) else [value]
    if not all(isinstance(n, (int, float)) for n in numbers):
        return
    if isinstance(value, (tuple, list)) and ctx.kind in ("random_rotation", "random_contrast"):
        bad = len(numbers) == 2 and (numbers[0] > high or numbers[1] < low)  # Keras's check of a pair
    else:
        bad = any(n > high or n < low or (low_open and n == low) for n in numbers)
    if bad:
        interval = f"{'(' if low_open else '['}{low}, {high}]"
        ctx.note("N209", f"`{field}` of `{ctx.kind}` must be in {interval}, got {shape_text([format(n, 'g') for n in numbers]) if len(numbers) > 1 else format(numbers[0], 'g')}",
                 help=f"Keras takes a number in {interval}, or a (low, high) pair of them", arg=field)


RULES = {
    "random_flip": _image,
    "random_rotation": _image,
    "random_translation": _image,
    "random_zoom": _image,
    "random_contrast": _image,
}
