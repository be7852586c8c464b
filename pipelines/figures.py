"""What the pictures of `netdsl.pipelines.plots` share: figures made without pyplot and written
as PNGs whole or not at all, panels laid out in a grid, and the checks and samples of a fitted
estimator. Nothing is imported at module level but the standard library."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

from netdsl.dsl.errors import InputError, ParameterError
from netdsl.pipelines.composite import fitted_net

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np
    from matplotlib.figure import Figure

__all__ = [
    "DPI", "as_image", "fitted_model", "layer_kind", "layers_text", "net_name", "new_figure", "panel_grid", "sample_batch",
    "save", "show_image",
]  # fmt: skip

DPI = 100  # every size below is a whole number of quarter inches, so the PNGs are whole pixels


# ---- figures -------------------------------------------------------------------------------------


def new_figure(width: float, height: float) -> Figure:
    """A figure with the Agg canvas, laid out so labels never overlap (constrained layout)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(_quarter(width), _quarter(height)), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def _quarter(inches: float) -> float:
    return round(inches * 4) / 4


# Formats `save` writes by the path's suffix (PNG otherwise), and the metadata each leaves out: a
# date, which would make the same picture a different file.
_FORMATS = {".png": {}, ".svg": {"Date": None}, ".pdf": {"CreationDate": None}}


def save(figure: Figure, path, dpi: int = DPI) -> None:
    """Write the picture (a PNG; SVG or PDF where `path` ends so) to a temporary file beside `path`,
    renamed over it when complete (dsl.files): a failed write leaves the old picture whole."""
    from matplotlib import rc_context

    from netdsl.dsl.files import replace_atomically

    if path is None:
        return
    path = Path(path)
    if path.parent and not path.parent.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
    suffix = path.suffix.lower() if path.suffix.lower() in _FORMATS else ".png"
    with replace_atomically(path, suffix=suffix) as temporary, rc_context({"svg.hashsalt": "netdsl"}):
        figure.savefig(temporary, dpi=dpi, format=suffix[1:], facecolor="white", metadata=_FORMATS[suffix])


def panel_grid(n: int, max_cols: int) -> tuple[int, int]:
    """(rows, columns) of panels: as many columns as fit, evened out over the rows (4 panels: 2x2)."""
    cols = max(1, min(n, max_cols))
    rows = math.ceil(n / cols)
    return rows, math.ceil(n / rows)


# ---- fitted estimators: checks and samples ---------------------------------------------------------


def fitted_model(estimator, what: str):
    """The estimator's Keras model (of the net inside a composite, such as `netdsl fit --scale`
    saves), or a clear error."""
    model = getattr(fitted_net(estimator), "model_", None)
    if model is None:
        from sklearn.exceptions import NotFittedError

        raise NotFittedError(
            f"{what} needs a fitted netdsl estimator; got {type(estimator).__name__} without `model_` (call fit first)"
        )
    return model


def layer_kind(layer) -> str:
    """The `.net` kind of a Keras layer (`conv2d`), or its class name for layers the language lacks."""
    from netdsl.estimators.compile import LAYER_CLASSES

    name = type(layer).__name__
    return next((kind for kind, cls in LAYER_CLASSES.items() if cls == name), name)


def layers_text(model) -> str:
    """The model's layers as `name (kind), ...`, for messages that name a layer that is not there."""
    layers = [layer for layer in model.layers if type(layer).__name__ != "InputLayer"]
    return ", ".join(f"{layer.name} ({layer_kind(layer)})" for layer in layers) or "none"


def net_name(estimator) -> str:
    """The name of the net a fitted estimator (or a composite around one) was built from."""
    spec = getattr(fitted_net(estimator), "spec_", None)
    return getattr(spec, "name", None) or type(estimator).__name__


def _input_shape(estimator, what: str) -> tuple[int, ...]:
    model = fitted_model(estimator, what)
    spec = getattr(estimator, "spec_", None)
    if spec is not None and spec.input is not None and spec.input.text:
        raise ParameterError(f"{what} needs a net with numeric input (an image or a row of numbers); this one takes text")
    return tuple(int(d) for d in model.inputs[0].shape[1:])


def sample_batch(estimator, sample, what: str) -> np.ndarray:
    """One sample as a batch of one in the net's input shape: a flat row or an already shaped image."""
    import numpy as np

    from netdsl.dsl.shapes.text import tuple_text

    shape = _input_shape(estimator, what)
    size = int(np.prod(shape))
    try:
        x = np.asarray(sample, dtype=np.float32)
    except (TypeError, ValueError):
        raise InputError(f"{what} takes one sample of numbers; got {type(sample).__name__}") from None
    if x.size != size:
        raise InputError(
            f"{what} takes one sample: the net's input {tuple_text(shape)} has {size} values, "
            f"but the sample has shape {tuple_text(x.shape)} ({x.size} values); pass a single row such as X[0]"
        )
    if not np.all(np.isfinite(x)):
        raise InputError(f"{what}: the sample holds NaN or infinite values")
    return x.reshape((1,) + shape)


def as_image(array: np.ndarray, reduce: str = "first") -> np.ndarray:
    """A sample-shaped array as a 2-D picture: images lose their channel axis (channel 0, or the max
    over channels with reduce="max"); a sequence (steps, features) is turned so time runs left to
    right; a flat row of a square number of values becomes a square; any other flat row a strip."""
    import numpy as np

    array = np.asarray(array)
    if array.ndim == 3:
        return array.max(axis=-1) if reduce == "max" else array[..., 0]
    if array.ndim == 2:
        return array.T
    side = math.isqrt(array.size)
    if side * side == array.size and side > 1:
        return array.reshape(side, side)
    return array.reshape(1, -1)


def show_image(ax, image, **kwargs):
    """imshow with no ticks; strips (one row) are stretched to the axes."""
    aspect = "auto" if min(image.shape) == 1 or max(image.shape) > 8 * min(image.shape) else "equal"
    im = ax.imshow(image, interpolation="nearest", aspect=aspect, **kwargs)
    ax.set_xticks([])
    ax.set_yticks([])
    return im
