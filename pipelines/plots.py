"""Pictures of fitted nets and of searches, as matplotlib figures and PNG files.

    >>> from netdsl.pipelines import plots
    >>> fig = plots.training_curves(clf, path="curves.png")          # doctest: +SKIP

| function | draws |
| --- | --- |
| `training_curves(est)` | loss and each metric per epoch, training and `val_*`, the best epoch marked |
| `conv_filters(est, layer=None)` | the kernels of a `conv2d` layer, one small image per filter |
| `feature_maps(est, sample)` | the input and the output of every conv and pooling layer for one sample |
| `saliency_map(est, sample, target=None)` | abs. gradient of a class's probability with respect to the input |
| `confusion_matrix_plot(est, X, y)` | true against predicted classes (scikit-learn's `ConfusionMatrixDisplay`) |
| `search_report(search)` | mean CV score (± std) against each searched parameter |

Each returns a `matplotlib.figure.Figure` (made directly, never through pyplot's global state, so
figures are not kept alive by pyplot and several threads may draw at once) and, when `path` is
given, writes a PNG there at `DPI` dots per inch. The size of a figure depends only on what it
shows (the number of panels, filters or layers), never on the text in it, so the PNG is exactly
`fig.get_size_inches() * DPI` pixels.

`netdsl plot WHAT MODEL_OR_CSV` draws them from the command line (`register` adds the command).

Nothing is imported at module level but the standard library: the command line imports this module
for every command, and TensorFlow, Keras, NumPy and matplotlib load only when a picture is drawn.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np
    from matplotlib.figure import Figure

__all__ = [
    "DPI",
    "WHATS",
    "confusion_matrix_plot",
    "conv_filters",
    "feature_maps",
    "register",
    "saliency",
    "saliency_map",
    "search_report",
    "training_curves",
]

DPI = 100  # every size below is a whole number of quarter inches, so the PNGs are whole pixels

# Keras layer classes whose outputs are maps over the input's positions (what `feature_maps` draws).
_CONV = ("Conv1D", "Conv2D")
_POOL = ("MaxPooling1D", "MaxPooling2D", "AveragePooling1D", "AveragePooling2D")
# What Keras logs per epoch that is a setting, not a measure of training (ReduceLROnPlateau's rate).
_SETTINGS_LOGGED = ("learning_rate", "lr")


# ---- figures -------------------------------------------------------------------------------------


def _figure(width: float, height: float) -> Figure:
    """A figure with the Agg canvas, laid out so labels never overlap (constrained layout)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(_quarter(width), _quarter(height)), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def _quarter(inches: float) -> float:
    return round(inches * 4) / 4


def _save(figure: Figure, path) -> None:
    """Write the PNG to a temporary file beside `path`, renamed over it when complete (dsl.files):
    a failed write leaves the old picture whole."""
    from netdsl.dsl.files import replace_atomically

    if path is None:
        return
    path = Path(path)
    if path.parent and not path.parent.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
    with replace_atomically(path, suffix=".png") as temporary:
        figure.savefig(temporary, dpi=DPI, format="png", facecolor="white")


def _grid(n: int, max_cols: int) -> tuple[int, int]:
    """(rows, columns) of panels: as many columns as fit, evened out over the rows (4 panels: 2x2)."""
    cols = max(1, min(n, max_cols))
    rows = math.ceil(n / cols)
    return rows, math.ceil(n / rows)


# ---- fitted estimators: checks and samples ---------------------------------------------------------


def _fitted(estimator, what: str):
    """The estimator's Keras model (of the net inside a composite, such as `netdsl fit --scale`
    saves), or a clear error."""
    from netdsl.pipelines.cli import fitted_net

    model = getattr(fitted_net(estimator), "model_", None)
    if model is None:
        from sklearn.exceptions import NotFittedError

        raise NotFittedError(
            f"{what} needs a fitted netdsl estimator; got {type(estimator).__name__} without `model_` (call fit first)"
        )
    return model


def _kind(layer) -> str:
    """The `.net` kind of a Keras layer (`conv2d`), or its class name for layers the language lacks."""
    from netdsl.estimators.compile import LAYER_CLASSES

    name = type(layer).__name__
    return next((kind for kind, cls in LAYER_CLASSES.items() if cls == name), name)


def _layers_text(model) -> str:
    layers = [layer for layer in model.layers if type(layer).__name__ != "InputLayer"]
    return ", ".join(f"{layer.name} ({_kind(layer)})" for layer in layers) or "none"


def _net_name(estimator) -> str:
    from netdsl.pipelines.cli import fitted_net

    spec = getattr(fitted_net(estimator), "spec_", None)
    return getattr(spec, "name", None) or type(estimator).__name__


def _input_shape(estimator, what: str) -> tuple[int, ...]:
    model = _fitted(estimator, what)
    spec = getattr(estimator, "spec_", None)
    if spec is not None and spec.input is not None and spec.input.text:
        raise ValueError(f"{what} needs a net with numeric input (an image or a row of numbers); this one takes text")
    return tuple(int(d) for d in model.inputs[0].shape[1:])


def _sample(estimator, sample, what: str) -> np.ndarray:
    """One sample as a batch of one in the net's input shape: a flat row or an already shaped image."""
    import numpy as np

    shape = _input_shape(estimator, what)
    size = int(np.prod(shape))
    try:
        x = np.asarray(sample, dtype=np.float32)
    except (TypeError, ValueError):
        raise ValueError(f"{what} takes one sample of numbers; got {type(sample).__name__}") from None
    if x.size != size:
        raise ValueError(
            f"{what} takes one sample: the net's input {_shape_text(shape)} has {size} values, "
            f"but the sample has shape {_shape_text(x.shape)} ({x.size} values); pass a single row such as X[0]"
        )
    if not np.all(np.isfinite(x)):
        raise ValueError(f"{what}: the sample holds NaN or infinite values")
    return x.reshape((1,) + shape)


def _shape_text(shape) -> str:
    return "(" + ", ".join(str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"


def _as_image(array: np.ndarray, reduce: str = "first") -> np.ndarray:
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


def _show(ax, image, **kwargs):
    """imshow with no ticks; strips (one row) are stretched to the axes."""
    aspect = "auto" if min(image.shape) == 1 or max(image.shape) > 8 * min(image.shape) else "equal"
    im = ax.imshow(image, interpolation="nearest", aspect=aspect, **kwargs)
    ax.set_xticks([])
    ax.set_yticks([])
    return im


# ---- 1. training curves ----------------------------------------------------------------------------


def training_curves(estimator_or_history, path=None) -> Figure:
    """Loss and each metric per epoch, training and validation (`val_*`) on the same axes, one panel
    per metric, from `history_` (or a Keras `History`, or a dict of lists); the best epoch
    (`best_epoch_`, 1-based, set when early stopping stopped training) is marked."""
    from matplotlib.ticker import MaxNLocator

    source = estimator_or_history
    history = getattr(source, "history_", None)
    if history is None and isinstance(getattr(source, "history", None), dict):  # a Keras History
        history = source.history
    if history is None and isinstance(source, dict):
        history = source
    if history is None:
        raise ValueError(
            f"training_curves needs a fitted netdsl estimator (with `history_`), a Keras History or a dict; "
            f"got {type(source).__name__}" + (" without a training history" if hasattr(source, "get_params") else "")
        )
    series = {str(k): [float(v) for v in values] for k, values in history.items() if len(values)}
    if not series:
        raise ValueError("training_curves: the training history is empty (no epochs were run)")
    names = []  # metrics in order: loss first, then as the history lists them
    for key in sorted(series, key=lambda k: (k.removeprefix("val_") != "loss", list(series).index(k))):
        base = key.removeprefix("val_")
        if base not in names:
            names.append(base)
    best = getattr(source, "best_epoch_", None)
    rows, cols = _grid(len(names), 3)
    figure = _figure(max(6.5, 4.75 * cols), 0.75 + 3.5 * rows)
    axes = figure.subplots(rows, cols, squeeze=False).ravel()
    for ax, name in zip(axes, names):
        for key, label, style in ((name, "training", dict(color="C0", ls="-")),
                                  (f"val_{name}", "validation", dict(color="C1", ls="--"))):  # fmt: skip
            if key in series:
                values = series[key]
                epochs = range(1, len(values) + 1)
                if name in _SETTINGS_LOGGED:
                    label = name.replace("_", " ")
                ax.plot(epochs, values, marker="o" if len(values) <= 40 else None, ms=3.5, lw=1.8, label=label, **style)
        if best is not None:
            ax.axvline(best, color="0.35", ls=":", lw=1.5, label=f"best epoch ({best})", gid="best_epoch")
        ax.set_title(name.replace("_", " "))
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=9)
    for ax in axes[len(names):]:
        ax.set_visible(False)
    epochs = max(len(v) for v in series.values())
    of = f" of {_net_name(source)}" if getattr(source, "spec_", None) is not None else ""
    figure.suptitle(f"training curves{of} ({epochs} epoch{'s' * (epochs != 1)})", fontsize=13)
    _save(figure, path)
    return figure


# ---- 2. convolution filters --------------------------------------------------------------------------


def _conv2d_layer(model, layer):
    convs = [item for item in model.layers if type(item).__name__ == "Conv2D"]
    if layer is None:
        if not convs:
            raise ValueError(f"conv_filters: the model has no conv2d layer; its layers are: {_layers_text(model)}")
        return convs[0]
    if not isinstance(layer, str):
        return layer
    found = next((item for item in model.layers if item.name == layer), None)
    if found is None:
        names = ", ".join(item.name for item in convs) or "none"
        raise ValueError(f"conv_filters: the model has no layer named {layer!r}; its conv2d layers are: {names}")
    if type(found).__name__ != "Conv2D":
        names = ", ".join(item.name for item in convs) or "none"
        raise ValueError(f"conv_filters: layer {layer!r} is a {_kind(found)} layer, not conv2d; its conv2d layers are: {names}")
    return found


def conv_filters(estimator, layer=None, path=None, channel=None) -> Figure:
    """The learned kernels of a conv2d layer (default: the first; `layer` = its name) as a grid of small
    images, one per filter, on one symmetric colour scale (blue negative, red positive). With several
    input channels a filter shows the mean over them, or input channel `channel` when given."""
    import numpy as np

    model = _fitted(estimator, "conv_filters")
    conv = _conv2d_layer(model, layer)
    kernel = np.asarray(conv.kernel.numpy() if hasattr(conv.kernel, "numpy") else conv.kernel)  # (kh, kw, in, filters)
    kh, kw, n_in, n = kernel.shape
    if channel is None:
        images = kernel.mean(axis=2)
        which = "input channel 0" if n_in == 1 else f"mean over {n_in} input channels"
    else:
        if not 0 <= int(channel) < n_in:
            raise ValueError(f"conv_filters: channel {channel} is out of range; {conv.name} has {n_in} input channel(s)")
        images = kernel[:, :, int(channel), :]
        which = f"input channel {int(channel)}"
    vmax = float(np.abs(images).max()) or 1.0
    rows, cols = _grid(n, 8)
    figure = _figure(max(5.5, 1.0 + 1.25 * cols), max(3.0, 1.0 + 1.25 * rows))
    axes = figure.subplots(rows, cols, squeeze=False).ravel()
    for i, ax in enumerate(axes):
        if i >= n:
            ax.set_axis_off()
            continue
        image = _show(ax, images[:, :, i], cmap="RdBu_r", vmin=-vmax, vmax=vmax)
        ax.set_title(f"#{i}", fontsize=9, pad=2)
    bar = figure.colorbar(image, ax=list(axes), shrink=0.9 if rows > 1 else 1.0, aspect=25 if rows > 1 else 10)
    bar.set_label("weight")
    figure.suptitle(
        f"{conv.name}: {n} filter{'s' * (n != 1)}, kernel {kh}\u00d7{kw} ({which})", fontsize=12
    )
    _save(figure, path)
    return figure


# ---- 3. feature maps ------------------------------------------------------------------------------


def _map_layers(model):
    return [
        layer for layer in model.layers
        if type(layer).__name__ in _CONV + _POOL and len(layer.output.shape) in (3, 4)
    ]  # fmt: skip


def feature_maps(estimator, sample, path=None, max_maps=8) -> Figure:
    """For one sample (a flat row or an image), the output of every conv and pooling layer, one row
    per layer with up to `max_maps` channels (colour scale shared along a row), under the input.
    The model runs with training=False, so augmentation and dropout are inactive."""
    import keras
    import numpy as np

    if isinstance(max_maps, bool) or not isinstance(max_maps, (int, np.integer)) or max_maps < 1:
        raise ValueError(f"feature_maps: max_maps must be a positive whole number, got {max_maps!r}")
    model = _fitted(estimator, "feature_maps")
    layers = _map_layers(model)
    if not layers:
        raise ValueError(
            f"feature_maps: the model has no convolution or pooling layer; its layers are: {_layers_text(model)}"
        )
    x = _sample(estimator, sample, "feature_maps")
    inputs = model.inputs[0] if len(model.inputs) == 1 else model.inputs
    probe = keras.Model(inputs, [layer.output for layer in layers] + [model.outputs[0]])
    outputs = [np.asarray(out)[0] for out in probe(x, training=False)]
    maps, scores = outputs[:-1], outputs[-1]
    # As many columns as the widest layer shows (at least 4, so the title fits), maps from the left.
    cols = max(4, min(int(max_maps), max(int(out.shape[-1]) for out in maps)))
    figure = _figure(1.5 + 1.3 * cols, 0.75 + 1.5 * (len(layers) + 1))
    # The input (and the class probabilities) on top, the layers below: two subfigures, laid out
    # apart, so the bar chart's labels do not shift the columns of maps.
    top, bottom = figure.subfigures(2, 1, height_ratios=[1, len(layers)])
    bars = getattr(estimator, "classes_", None) is not None and len(estimator.classes_) <= 30
    head = top.subplots(1, 2, width_ratios=[1, cols - 1.5]) if bars else [top.subplots(1, cols, squeeze=False)[0, 0]]
    if not bars:
        for ax in top.axes[1:]:
            ax.set_axis_off()
    _show(head[0], _as_image(x[0]), cmap="gray_r")
    head[0].set_ylabel(f"input\n{_dims(x.shape[1:])}", fontsize=9)
    if bars:
        _probabilities(head[1], estimator, scores)
    axes = bottom.subplots(len(layers), cols, squeeze=False)
    for row, (layer, out) in zip(axes, zip(layers, maps)):
        channels = out.shape[-1]
        shown = min(channels, int(max_maps))
        images = [out[..., c] if out.ndim == 3 else out[:, c].reshape(1, -1) for c in range(shown)]
        low = float(min(image.min() for image in images))
        high = float(max(image.max() for image in images))
        if high <= low:
            high = low + 1.0
        for c, ax in enumerate(row):
            if c >= shown:
                ax.set_axis_off()
                continue
            image = _show(ax, images[c], cmap="viridis", vmin=low, vmax=high)
            ax.set_title(f"ch {c}", fontsize=8, pad=2)
        more = f"\n{shown} of {channels} ch." if shown < channels else ""
        row[0].set_ylabel(f"{layer.name}\n{_dims(out.shape)}{more}", fontsize=9)
        bottom.colorbar(image, ax=list(row[:shown]), pad=0.01, fraction=min(0.25, 0.3 / shown), aspect=8)
    figure.suptitle(f"feature maps of {_net_name(estimator)}{_prediction(estimator, scores)}", fontsize=12)
    _save(figure, path)
    return figure


def _probabilities(ax, estimator, scores) -> None:
    """A classifier's class probabilities as bars, the predicted class in red."""
    import numpy as np

    scores = np.asarray(scores, dtype=float).ravel()
    if getattr(estimator, "output_mode_", None) == "binary":
        scores = np.array([1 - scores[0], scores[0]])
    colors = ["C3" if i == int(np.argmax(scores)) else "C0" for i in range(len(scores))]
    ax.bar(range(len(scores)), scores, color=colors)
    labels = [str(c) for c in estimator.classes_]
    ax.set_xticks(range(len(scores)), labels, fontsize=8, rotation=30 if max(map(len, labels)) > 4 else 0)
    ax.set_ylim(0, 1)
    ax.set_ylabel("probability", fontsize=9)
    ax.tick_params(axis="y", labelsize=8)
    ax.set_title("class probabilities", fontsize=9, pad=2)
    ax.grid(True, axis="y", alpha=0.3)


def _dims(shape) -> str:
    return "\u00d7".join(str(int(d)) for d in shape)


def _prediction(estimator, scores) -> str:
    """': predicted 3 (p = 0.91)' for a classifier, ': output 0.42' for a single-output regressor."""
    import numpy as np

    scores = np.asarray(scores, dtype=float).ravel()
    classes = getattr(estimator, "classes_", None)
    if classes is not None:
        if getattr(estimator, "output_mode_", None) == "binary":
            p1 = float(scores[0])
            index, p = (1, p1) if p1 >= 0.5 else (0, 1 - p1)
        else:
            index = int(np.argmax(scores))
            p = float(scores[index])
        return f": predicted {classes[index]} (p = {p:.2f})"
    if scores.size == 1:
        return f": output {scores[0]:.4g}"
    return ""


# ---- 4. saliency ------------------------------------------------------------------------------------


def saliency(estimator, sample, target=None) -> tuple[np.ndarray, object, float]:
    """(map, class, probability): the absolute gradient of the probability of the predicted class (or
    of the class `target`, a label of `classes_`) with respect to each input value, computed with
    training=False; for an image the map is the max over its channels, so it has the image's height
    and width."""
    import numpy as np
    import tensorflow as tf

    model = _fitted(estimator, "saliency_map")
    classes = getattr(estimator, "classes_", None)
    if classes is None:
        raise ValueError(f"saliency_map needs a classifier; got a {type(estimator).__name__}")
    x = tf.convert_to_tensor(_sample(estimator, sample, "saliency_map"))
    binary = getattr(estimator, "output_mode_", None) == "binary"
    with tf.GradientTape() as tape:
        tape.watch(x)
        out = model(x, training=False)
        probabilities = tf.concat([1 - out, out], axis=-1) if binary else out
        if target is None:
            index = int(tf.argmax(probabilities[0]))
        else:
            found = np.flatnonzero(np.asarray(classes) == target)
            if not len(found):
                raise ValueError(f"saliency_map: target {target!r} is not a class; the classes are {list(classes)}")
            index = int(found[0])
        score = probabilities[0, index]
    gradient = np.abs(np.asarray(tape.gradient(score, x))[0])
    array = gradient.max(axis=-1) if gradient.ndim == 3 else gradient
    return array, classes[index], float(score)


def saliency_map(estimator, sample, path=None, target=None) -> Figure:
    """The input image, the saliency (`saliency`) of the predicted class (or `target`), and the
    saliency over the input, side by side."""
    return _saliency_figure(estimator, sample, path, target)[0]


def _saliency_figure(estimator, sample, path, target):
    import numpy as np

    array, label, probability = saliency(estimator, sample, target=target)
    x = _sample(estimator, sample, "saliency_map")[0]
    image = _as_image(x)
    heat = _as_image(array, reduce="max")
    figure = _figure(12.0, 4.75)
    axes = figure.subplots(1, 3)
    _show(axes[0], image, cmap="gray_r")
    axes[0].set_title("input")
    peak = float(heat.max()) or 1.0
    shown = _show(axes[1], heat, cmap="Reds", vmin=0, vmax=peak)
    axes[1].set_title("saliency |\u2202p/\u2202x|")
    figure.colorbar(shown, ax=axes[1], fraction=0.046, pad=0.04)
    _show(axes[2], image, cmap="gray_r", alpha=0.45)  # the input faint (dark ink on white) ...
    overlay = _show(axes[2], heat, cmap="Reds", vmin=0, vmax=peak)  # ... under the saliency, opaque where it is high
    overlay.set_alpha(np.clip(heat / peak, 0, 1) * 0.9)
    axes[2].set_title("saliency over the input")
    what = "target" if target is not None else "predicted"
    figure.suptitle(
        f"saliency of {_net_name(estimator)}: {what} class {label} (p = {probability:.2f})", fontsize=13
    )
    _save(figure, path)
    return figure, label, probability


# ---- 5. confusion matrix ----------------------------------------------------------------------------


def confusion_matrix_plot(estimator, X, y, path=None, normalize=None, display_labels=None) -> Figure:
    """Counts of true (rows) against predicted (columns) classes on (X, y), with scikit-learn's
    `ConfusionMatrixDisplay`; `normalize` is "true", "pred", "all" or None (counts). Classes come from
    `classes_` (named by `display_labels` when given)."""
    import numpy as np
    from sklearn.metrics import ConfusionMatrixDisplay, accuracy_score

    _fitted(estimator, "confusion_matrix_plot")
    classes = getattr(estimator, "classes_", None)
    if classes is None:
        raise ValueError(f"confusion_matrix_plot needs a classifier; got a {type(estimator).__name__}")
    if getattr(estimator, "output_mode_", None) == "multilabel":
        raise ValueError(
            "confusion_matrix_plot is for one label per sample; this model is multilabel: see "
            "sklearn.metrics.multilabel_confusion_matrix (one 2x2 matrix per label)"
        )
    if normalize not in (None, "true", "pred", "all"):
        raise ValueError(f"normalize must be 'true', 'pred', 'all' or None; got {normalize!r}")
    y = np.asarray(y)
    predictions = estimator.predict(X)
    labels = [str(c) for c in classes] if display_labels is None else [str(c) for c in display_labels]
    if len(labels) != len(classes):
        raise ValueError(f"display_labels names {len(labels)} classes, but the model has {len(classes)}")
    n = len(classes)
    figure = _figure(7.5, 6.5)
    ax = figure.subplots()
    longest = max(len(label) for label in labels)
    ConfusionMatrixDisplay.from_predictions(
        y, predictions, labels=classes, display_labels=labels, normalize=normalize, ax=ax, cmap="Blues",
        include_values=n <= 20, values_format=".2f" if normalize else "d",
        xticks_rotation=45 if longest > 3 and n > 4 else "horizontal",
        text_kw={"fontsize": 14 if n <= 4 else 10 if n <= 10 else 7}, im_kw={"vmin": 0},
    )  # fmt: skip
    ax.set_xlabel("predicted label")
    ax.set_ylabel("true label")
    how = {"true": "rows sum to 1", "pred": "columns sum to 1", "all": "all cells sum to 1"}.get(normalize)
    accuracy = accuracy_score(y, predictions)
    figure.suptitle(
        f"confusion matrix of {_net_name(estimator)}: {len(y)} rows, accuracy {accuracy:.3f}"
        + (f"\n(normalized: {how})" if how else ""),
        fontsize=12,
    )
    _save(figure, path)
    return figure


# ---- 6. search report --------------------------------------------------------------------------------


def _search_table(source):
    """(candidates, score name): each candidate as (params dict, mean score, std or NaN)."""
    import numpy as np
    import pandas as pd

    if isinstance(source, (str, Path)):
        path = Path(source)
        if not path.is_file():
            raise FileNotFoundError(f"no such search results file: `{path}`")
        from netdsl.pipelines.data import read_table

        source = read_table(path, str(path))  # a DataError (a ValueError) says what is wrong with the file
    if hasattr(source, "cv_results_"):
        source = source.cv_results_
    elif hasattr(source, "get_params") and not isinstance(source, (dict, pd.DataFrame)):
        raise ValueError(f"search_report needs a fitted search (with `cv_results_`); got {type(source).__name__}")
    if isinstance(source, dict):
        frame = pd.DataFrame({k: list(v) for k, v in source.items() if k != "params"})
        params = list(source.get("params", [])) or None
    elif isinstance(source, pd.DataFrame):
        frame = source
        params = None
    else:
        raise ValueError(
            f"search_report takes a fitted GridSearchCV/RandomizedSearchCV, its cv_results_, a DataFrame or a CSV path; "
            f"got {type(source).__name__}"
        )
    scores = [c for c in frame.columns if str(c).startswith("mean_test_")]
    score = "mean_test_score" if "mean_test_score" in frame.columns else (scores[0] if scores else None)
    if score is None:
        raise ValueError(
            "search results need a `mean_test_score` column (as in cv_results_); the columns are: "
            + ", ".join(map(str, frame.columns))
        )
    std = "std_test_" + score.removeprefix("mean_test_")
    if params is None:
        columns = [c for c in frame.columns if str(c).startswith("param_")]
        if columns:
            params = [
                {c.removeprefix("param_"): _plain(v) for c, v in row.items() if not _missing(v)}
                for row in frame[columns].to_dict("records")
            ]
        elif "params" in frame.columns and all(isinstance(v, dict) for v in frame["params"]):
            params = list(frame["params"])
        else:
            raise ValueError(
                "search results need `param_*` columns (one per searched parameter); the columns are: "
                + ", ".join(map(str, frame.columns))
            )
    means = pd.to_numeric(frame[score], errors="coerce").to_numpy(dtype=float)
    stds = pd.to_numeric(frame[std], errors="coerce").to_numpy(dtype=float) if std in frame.columns else np.full(len(frame), np.nan)
    rows = [(p, m, s) for p, m, s in zip(params, means, stds) if np.isfinite(m)]
    if not rows:
        raise ValueError("search results hold no candidate with a finite mean test score (did every fit fail?)")
    name = score.removeprefix("mean_test_")
    return rows, ("" if name == "score" else name), len(params) - len(rows)


def _missing(value) -> bool:
    """An empty cell: NaN (pandas), None, or a masked entry of cv_results_."""
    import numpy as np

    return value is None or value is np.ma.masked or (isinstance(value, float) and math.isnan(value))


def _plain(value):
    """NumPy scalars as Python values."""
    item = getattr(value, "item", None)
    return item() if callable(item) and getattr(value, "ndim", 1) == 0 else value


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _key(value):
    try:
        hash(value)
        return value
    except TypeError:
        return repr(value)


def search_report(search_or_results, path=None) -> Figure:
    """Mean CV score against each searched parameter, one panel per parameter: for each value the best
    mean score over the other parameters, ± its std as error bars, every candidate as a faint point,
    and the best candidate as a star. Takes a fitted GridSearchCV/RandomizedSearchCV, its
    `cv_results_`, or a DataFrame or CSV file of them (`param_*`, `mean_test_score`, `std_test_score`)."""
    import numpy as np

    rows, metric, failed = _search_table(search_or_results)
    names = []
    for params, _, _ in rows:
        names.extend(name for name in params if name not in names)
    if not names:
        raise ValueError("search_report: the results name no searched parameter")
    # A parameter held at one value was set, not searched: no panel for it (unless nothing varied).
    varied = [n for n in names if len({repr(p.get(n)) for p, _, _ in rows}) > 1]
    names = varied or names
    best_params, best_mean, best_std = max(rows, key=lambda row: row[1])
    panels, cols = _grid(len(names), 3)
    figure = _figure(max(6.5, 4.75 * cols), 1.5 + 3.5 * panels)
    axes = figure.subplots(panels, cols, squeeze=False).ravel()
    for ax, name in zip(axes, names):
        having = [(params[name], mean, std) for params, mean, std in rows if name in params]
        values = list(dict.fromkeys(_key(v) for v, _, _ in having))
        numeric = all(_is_number(v) for v in values)
        if numeric:
            values.sort()
            x_of = {v: float(v) for v in values}
        else:
            values.sort(key=str)
            x_of = {v: float(i) for i, v in enumerate(values)}
        xs = np.array([x_of[_key(v)] for v, _, _ in having])
        ys = np.array([mean for _, mean, _ in having])
        ax.scatter(xs, ys, s=22, color="0.55", alpha=0.45, zorder=2, label="each candidate")
        best_x, best_y, best_err = [], [], []
        for value in values:
            group = [(mean, std) for v, mean, std in having if _key(v) == value]
            mean, std = max(group, key=lambda item: item[0])
            best_x.append(x_of[value])
            best_y.append(mean)
            best_err.append(0.0 if not np.isfinite(std) else std)
        ax.errorbar(best_x, best_y, yerr=best_err, fmt="o-" if numeric and len(values) > 1 else "o", color="C0",
                    lw=1.8, ms=6, capsize=4, zorder=3, label="best over the other parameters \u00b1 std")  # fmt: skip
        if name in best_params:
            ax.plot([x_of[_key(best_params[name])]], [best_mean], marker="*", ms=16, color="C3", ls="none",
                    zorder=4, label="best candidate")  # fmt: skip
        if numeric:
            positive = [v for v in values if v > 0]
            if len(positive) == len(values) and len(values) > 2 and max(values) / min(values) >= 20:
                ax.set_xscale("log")
            ax.set_xticks([x_of[v] for v in values], [f"{v:g}" for v in values])
            ax.minorticks_off()
            if len(values) == 1:
                ax.set_xlim(best_x[0] - 1, best_x[0] + 1)
        else:
            labels = [str(v) for v in values]
            ax.set_xticks(range(len(values)), labels, rotation=30 if max(map(len, labels)) > 6 else 0)
            ax.set_xlim(-0.5, len(values) - 0.5)
        ax.set_xlabel(name)
        ax.set_ylabel(f"mean CV {metric or 'score'}")
        ax.grid(True, alpha=0.3)
    for ax in axes[len(names):]:
        ax.set_visible(False)
    handles, labels = axes[0].get_legend_handles_labels()
    figure.legend(handles, labels, loc="outside lower center", ncols=3, fontsize=9, frameon=False)
    shown = ", ".join(f"{k}={v}" for k, v in best_params.items())
    spread = f" \u00b1 {best_std:.3f}" if np.isfinite(best_std) else ""
    title = f"search: {len(rows)} candidates" + (f" ({failed} failed)" if failed else "")
    width = figure.get_size_inches()[0]
    figure.suptitle(_wrap(f"{title}; best {best_mean:.3f}{spread} with {shown}", int(width * 10)), fontsize=12)
    _save(figure, path)
    return figure


def _wrap(text: str, width: int) -> str:
    import textwrap

    return "\n".join(textwrap.wrap(text, width, break_long_words=False)) or text


# ---- 7. the command line: `netdsl plot` -------------------------------------------------------------

WHATS = ("curves", "filters", "maps", "saliency", "confusion", "search")
_NEEDS_DATA = ("maps", "saliency", "confusion")


def register(commands) -> None:
    """Add `netdsl plot WHAT MODEL_OR_CSV ...` to the command line's subparsers."""
    plot = commands.add_parser(
        "plot",
        help="draw a picture of a saved model or of search results as a PNG",
        description=(
            "Draw a picture as a PNG. WHAT is curves (loss and metrics per epoch), filters (the kernels of a "
            "conv2d layer), maps (the feature maps of row --sample of --data), saliency (which input values "
            "the predicted class of row --sample depends on), confusion (true against predicted classes on "
            "--data: every row, or with --test-size the rows `netdsl fit` held out with the same --test-size "
            "and --seed) or search (mean CV score against each parameter, from a results CSV)."
        ),
    )
    plot.add_argument("what", choices=WHATS, metavar="WHAT", help=", ".join(WHATS))
    plot.add_argument("source", type=Path, metavar="MODEL_OR_CSV",
                      help="a model written by `netdsl fit --save` (a search: a CSV of cv_results_)")  # fmt: skip
    plot.add_argument("--data", metavar="NAME_OR_PATH", help="maps, saliency, confusion: a built-in data set or a data file")
    plot.add_argument("--target", metavar="COL", help="label column of a CSV/Parquet --data file (default: the last column)")
    plot.add_argument("--sample", type=int, default=0, metavar="I", help="maps, saliency: the row of --data to show (default 0)")
    plot.add_argument("--layer", metavar="NAME", help="filters: the conv2d layer (default: the first)")
    plot.add_argument("--normalize", choices=("true", "pred", "all"), help="confusion: normalize over true/predicted labels or all")
    plot.add_argument("--test-size", type=float, default=0.0, metavar="F",
                      help="confusion: only the rows `netdsl fit --test-size F --seed N` held out (default 0: every row)")  # fmt: skip
    plot.add_argument("--seed", type=int, default=0, help="confusion with --test-size: the seed given to `netdsl fit` (default 0)")
    plot.add_argument("--out", type=Path, metavar="FILE.png", help="where to write the PNG (default: MODEL_WHAT.png here)")
    plot.set_defaults(run=run_plot)


def run_plot(args) -> int:
    """`netdsl plot`: every mistake is one `netdsl: error: ...` line and exit status 1."""
    from netdsl.dsl import NetError
    from netdsl.pipelines.cli import _error
    from netdsl.pipelines.data import DataError

    try:
        return _run_plot(args)
    except (NetError, DataError):
        raise  # rendered by the command line's main
    except (ValueError, TypeError, KeyError, IndexError, OSError, ImportError, RuntimeError) as error:
        return _error(str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__)


def _run_plot(args) -> int:
    import matplotlib

    from netdsl.pipelines.cli import _error, _load, before_net, fitted_net, known_columns, load_model

    if "matplotlib.pyplot" not in sys.modules:  # pyplot (imported by ConfusionMatrixDisplay) must never open a window
        matplotlib.use("Agg")
    what, source = args.what, args.source
    if args.layer is not None and what != "filters":
        return _error(f"--layer applies to `netdsl plot filters`, not `{what}`")
    if args.data is not None and what not in _NEEDS_DATA:
        return _error(f"--data applies to maps, saliency and confusion, not `{what}`")
    if args.data is None and what in _NEEDS_DATA:
        return _error(f"`netdsl plot {what}` needs --data NAME_OR_PATH (the rows to {'predict' if what == 'confusion' else 'pick --sample from'})")
    if not 0 <= args.test_size < 1:
        return _error(f"--test-size must be a fraction with 0 <= F < 1, got {args.test_size:g}")
    if what == "search" and not source.is_file():
        return _error(f"no such search results file: `{source}`" + (" (it is a folder)" if source.is_dir() else ""))
    out = args.out if args.out is not None else Path(f"{source.stem}_{what}.png")
    if out.suffix.lower() != ".png":
        return _error(f"--out must name a .png file, got `{out}`")

    if what == "search":
        search_report(source, path=out)
        print(f"wrote the search report of {source} to {out}")
        return 0

    model = load_model(source)
    net = fitted_net(model)  # the net itself, or the one inside a composite (`fit --scale`, one-hot)
    from sklearn.base import is_classifier

    kind = type(net).__name__
    if what in ("saliency", "confusion") and not is_classifier(model):
        return _error(f"`netdsl plot {what}` needs a classifier; `{source}` holds a {kind} (net {_net_name(model)})")
    if what == "curves":
        if not getattr(net, "history_", None):
            return _error(f"`{source}` holds a {kind} that was never trained (no training history), so it has no curves")
        training_curves(net, path=out)
        print(f"wrote the training curves of {source} to {out}")
        return 0
    if what == "filters":
        conv_filters(net, layer=args.layer, path=out)
        print(f"wrote the filters of {source} to {out}")
        return 0

    data = _load(args.data, args.target, None, columns=known_columns(model))
    if what == "confusion":
        X, y, where = data.X, data.y, f"all {data.n_samples} rows of {data.name}"
        if args.test_size > 0:
            import argparse

            from rich.console import Console

            from netdsl.pipelines.cli import _split

            split = argparse.Namespace(test_size=args.test_size, seed=args.seed)
            _, X, _, y, how = _split(split, data, "classification", Console(stderr=True))
            where = f"{data.name}: {how}"
        names = [data.label_name(c) for c in model.classes_] if data.target_names is not None else None
        confusion_matrix_plot(model, X, y, path=out, normalize=args.normalize, display_labels=names)
        print(f"wrote the confusion matrix of {source} on {where} to {out}")
        return 0

    n = data.n_samples
    if not 0 <= args.sample < n:
        return _error(f"--sample {args.sample} is out of range: `{data.name}` has {n} rows (0 to {n - 1})")
    row = data.X[args.sample : args.sample + 1]
    preprocess = before_net(model)  # what the composite does to a row before its net
    row = (preprocess.transform(row) if preprocess is not None else row)[0]
    label = f", label {data.label_name(data.y[args.sample])}" if data.y is not None else ""
    if what == "maps":
        feature_maps(net, row, path=out)
        print(f"wrote the feature maps of row {args.sample} of {data.name}{label} to {out}")
    else:
        _, predicted, probability = _saliency_figure(net, row, out, None)
        print(
            f"wrote the saliency of row {args.sample} of {data.name}{label} "
            f"(predicted {predicted}, p = {probability:.2f}) to {out}"
        )
    return 0
