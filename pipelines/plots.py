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
| `search_report(search)` | mean CV score (± std) against each searched parameter; for a halving search, against the epochs of each rung, one line per candidate, the stopped ones marked |

Each returns a `matplotlib.figure.Figure` (made directly, never through pyplot's global state, so
figures are not kept alive by pyplot and several threads may draw at once) and, when `path` is
given, writes a PNG there at `DPI` dots per inch. The size of a figure depends only on what it
shows (the number of panels, filters or layers), never on the text in it, so the PNG is exactly
`fig.get_size_inches() * DPI` pixels.

`netdsl plot WHAT MODEL_OR_CSV` draws them from the command line (`netdsl.pipelines.commands.plot`);
what the pictures share is in `netdsl.pipelines.figures`, the search report in
`netdsl.pipelines.search_plot`. Nothing is imported at module level but the standard library and
those modules: TensorFlow, Keras, NumPy and matplotlib load only when a picture is drawn.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from netdsl.dsl.errors import InputError, ParameterError
from netdsl.pipelines.figures import (
    DPI,
    as_image,
    fitted_model,
    layer_kind,
    layers_text,
    net_name,
    new_figure,
    panel_grid,
    sample_batch,
    save,
    show_image,
)
from netdsl.pipelines.search_plot import search_report

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np
    from matplotlib.figure import Figure

__all__ = [
    "DPI",
    "confusion_matrix_plot",
    "conv_filters",
    "feature_maps",
    "saliency",
    "saliency_figure",
    "saliency_map",
    "search_report",
    "training_curves",
]

# Keras layer classes whose outputs are maps over the input's positions (what `feature_maps` draws).
_CONV = ("Conv1D", "Conv2D")
_POOL = ("MaxPooling1D", "MaxPooling2D", "AveragePooling1D", "AveragePooling2D")
# What Keras logs per epoch that is a setting, not a measure of training (ReduceLROnPlateau's rate).
_SETTINGS_LOGGED = ("learning_rate", "lr")


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
        raise ParameterError(
            f"training_curves needs a fitted netdsl estimator (with `history_`), a Keras History or a dict; "
            f"got {type(source).__name__}" + (" without a training history" if hasattr(source, "get_params") else "")
        )
    series = {str(k): [float(v) for v in values] for k, values in history.items() if len(values)}
    if not series:
        raise InputError("training_curves: the training history is empty (no epochs were run)")
    names = []  # metrics in order: loss first, then as the history lists them
    for key in sorted(series, key=lambda k: (k.removeprefix("val_") != "loss", list(series).index(k))):
        base = key.removeprefix("val_")
        if base not in names:
            names.append(base)
    best = getattr(source, "best_epoch_", None)
    rows, cols = panel_grid(len(names), 3)
    figure = new_figure(max(6.5, 4.75 * cols), 0.75 + 3.5 * rows)
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
    of = f" of {net_name(source)}" if getattr(source, "spec_", None) is not None else ""
    figure.suptitle(f"training curves{of} ({epochs} epoch{'s' * (epochs != 1)})", fontsize=13)
    save(figure, path)
    return figure


# ---- 2. convolution filters --------------------------------------------------------------------------


def _conv2d_layer(model, layer):
    convs = [item for item in model.layers if type(item).__name__ == "Conv2D"]
    if layer is None:
        if not convs:
            raise ParameterError(f"conv_filters: the model has no conv2d layer; its layers are: {layers_text(model)}")
        return convs[0]
    if not isinstance(layer, str):
        return layer
    found = next((item for item in model.layers if item.name == layer), None)
    if found is None:
        names = ", ".join(item.name for item in convs) or "none"
        raise ParameterError(f"conv_filters: the model has no layer named {layer!r}; its conv2d layers are: {names}")
    if type(found).__name__ != "Conv2D":
        names = ", ".join(item.name for item in convs) or "none"
        raise ParameterError(f"conv_filters: layer {layer!r} is a {layer_kind(found)} layer, not conv2d; its conv2d layers are: {names}")
    return found


def conv_filters(estimator, layer=None, path=None, channel=None) -> Figure:
    """The learned kernels of a conv2d layer (default: the first; `layer` = its name) as a grid of small
    images, one per filter, on one symmetric colour scale (blue negative, red positive). With several
    input channels a filter shows the mean over them, or input channel `channel` when given."""
    import numpy as np

    model = fitted_model(estimator, "conv_filters")
    conv = _conv2d_layer(model, layer)
    kernel = np.asarray(conv.kernel.numpy() if hasattr(conv.kernel, "numpy") else conv.kernel)  # (kh, kw, in, filters)
    kh, kw, n_in, n = kernel.shape
    if channel is None:
        images = kernel.mean(axis=2)
        which = "input channel 0" if n_in == 1 else f"mean over {n_in} input channels"
    else:
        if not 0 <= int(channel) < n_in:
            raise ParameterError(f"conv_filters: channel {channel} is out of range; {conv.name} has {n_in} input channel(s)")
        images = kernel[:, :, int(channel), :]
        which = f"input channel {int(channel)}"
    vmax = float(np.abs(images).max()) or 1.0
    rows, cols = panel_grid(n, 8)
    figure = new_figure(max(5.5, 1.0 + 1.25 * cols), max(3.0, 1.0 + 1.25 * rows))
    axes = figure.subplots(rows, cols, squeeze=False).ravel()
    for i, ax in enumerate(axes):
        if i >= n:
            ax.set_axis_off()
            continue
        image = show_image(ax, images[:, :, i], cmap="RdBu_r", vmin=-vmax, vmax=vmax)
        ax.set_title(f"#{i}", fontsize=9, pad=2)
    bar = figure.colorbar(image, ax=list(axes), shrink=0.9 if rows > 1 else 1.0, aspect=25 if rows > 1 else 10)
    bar.set_label("weight")
    figure.suptitle(
        f"{conv.name}: {n} filter{'s' * (n != 1)}, kernel {kh}\u00d7{kw} ({which})", fontsize=12
    )
    save(figure, path)
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
        raise ParameterError(f"feature_maps: max_maps must be a positive whole number, got {max_maps!r}")
    model = fitted_model(estimator, "feature_maps")
    layers = _map_layers(model)
    if not layers:
        raise ParameterError(
            f"feature_maps: the model has no convolution or pooling layer; its layers are: {layers_text(model)}"
        )
    x = sample_batch(estimator, sample, "feature_maps")
    inputs = model.inputs[0] if len(model.inputs) == 1 else model.inputs
    probe = keras.Model(inputs, [layer.output for layer in layers] + [model.outputs[0]])
    outputs = [np.asarray(out)[0] for out in probe(x, training=False)]
    maps, scores = outputs[:-1], outputs[-1]
    # As many columns as the widest layer shows (at least 4, so the title fits), maps from the left.
    cols = max(4, min(int(max_maps), max(int(out.shape[-1]) for out in maps)))
    figure = new_figure(1.5 + 1.3 * cols, 0.75 + 1.5 * (len(layers) + 1))
    # The input (and the class probabilities) on top, the layers below: two subfigures, laid out
    # apart, so the bar chart's labels do not shift the columns of maps.
    top, bottom = figure.subfigures(2, 1, height_ratios=[1, len(layers)])
    bars = getattr(estimator, "classes_", None) is not None and len(estimator.classes_) <= 30
    head = top.subplots(1, 2, width_ratios=[1, cols - 1.5]) if bars else [top.subplots(1, cols, squeeze=False)[0, 0]]
    if not bars:
        for ax in top.axes[1:]:
            ax.set_axis_off()
    show_image(head[0], as_image(x[0]), cmap="gray_r")
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
            image = show_image(ax, images[c], cmap="viridis", vmin=low, vmax=high)
            ax.set_title(f"ch {c}", fontsize=8, pad=2)
        more = f"\n{shown} of {channels} ch." if shown < channels else ""
        row[0].set_ylabel(f"{layer.name}\n{_dims(out.shape)}{more}", fontsize=9)
        bottom.colorbar(image, ax=list(row[:shown]), pad=0.01, fraction=min(0.25, 0.3 / shown), aspect=8)
    figure.suptitle(f"feature maps of {net_name(estimator)}{_prediction(estimator, scores)}", fontsize=12)
    save(figure, path)
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

    model = fitted_model(estimator, "saliency_map")
    classes = getattr(estimator, "classes_", None)
    if classes is None:
        raise ParameterError(f"saliency_map needs a classifier; got a {type(estimator).__name__}")
    x = tf.convert_to_tensor(sample_batch(estimator, sample, "saliency_map"))
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
                raise ParameterError(f"saliency_map: target {target!r} is not a class; the classes are {list(classes)}")
            index = int(found[0])
        score = probabilities[0, index]
    gradient = np.abs(np.asarray(tape.gradient(score, x))[0])
    array = gradient.max(axis=-1) if gradient.ndim == 3 else gradient
    return array, classes[index], float(score)


def saliency_map(estimator, sample, path=None, target=None) -> Figure:
    """The input image, the saliency (`saliency`) of the predicted class (or `target`), and the
    saliency over the input, side by side."""
    return saliency_figure(estimator, sample, path, target)[0]


def saliency_figure(estimator, sample, path=None, target=None):
    """(figure, class, probability): `saliency_map`'s figure with the class it shows and that class's
    probability (what `netdsl plot saliency` reports)."""
    import numpy as np

    array, label, probability = saliency(estimator, sample, target=target)
    x = sample_batch(estimator, sample, "saliency_map")[0]
    image = as_image(x)
    heat = as_image(array, reduce="max")
    figure = new_figure(12.0, 4.75)
    axes = figure.subplots(1, 3)
    show_image(axes[0], image, cmap="gray_r")
    axes[0].set_title("input")
    peak = float(heat.max()) or 1.0
    shown = show_image(axes[1], heat, cmap="Reds", vmin=0, vmax=peak)
    axes[1].set_title("saliency |\u2202p/\u2202x|")
    figure.colorbar(shown, ax=axes[1], fraction=0.046, pad=0.04)
    show_image(axes[2], image, cmap="gray_r", alpha=0.45)  # the input faint (dark ink on white) ...
    overlay = show_image(axes[2], heat, cmap="Reds", vmin=0, vmax=peak)  # ... under the saliency, opaque where it is high
    overlay.set_alpha(np.clip(heat / peak, 0, 1) * 0.9)
    axes[2].set_title("saliency over the input")
    what = "target" if target is not None else "predicted"
    figure.suptitle(
        f"saliency of {net_name(estimator)}: {what} class {label} (p = {probability:.2f})", fontsize=13
    )
    save(figure, path)
    return figure, label, probability


# ---- 5. confusion matrix ----------------------------------------------------------------------------


def confusion_matrix_plot(estimator, X, y, path=None, normalize=None, display_labels=None) -> Figure:
    """Counts of true (rows) against predicted (columns) classes on (X, y), with scikit-learn's
    `ConfusionMatrixDisplay`; `normalize` is "true", "pred", "all" or None (counts). Classes come from
    `classes_` (named by `display_labels` when given)."""
    import numpy as np
    from sklearn.metrics import ConfusionMatrixDisplay, accuracy_score

    fitted_model(estimator, "confusion_matrix_plot")
    classes = getattr(estimator, "classes_", None)
    if classes is None:
        raise ParameterError(f"confusion_matrix_plot needs a classifier; got a {type(estimator).__name__}")
    if getattr(estimator, "output_mode_", None) == "multilabel":
        raise ParameterError(
            "confusion_matrix_plot is for one label per sample; this model is multilabel: see "
            "sklearn.metrics.multilabel_confusion_matrix (one 2x2 matrix per label)"
        )
    if normalize not in (None, "true", "pred", "all"):
        raise ParameterError(f"normalize must be 'true', 'pred', 'all' or None; got {normalize!r}")
    y = np.asarray(y)
    predictions = estimator.predict(X)
    labels = [str(c) for c in classes] if display_labels is None else [str(c) for c in display_labels]
    if len(labels) != len(classes):
        raise ParameterError(f"display_labels names {len(labels)} classes, but the model has {len(classes)}")
    n = len(classes)
    figure = new_figure(7.5, 6.5)
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
        f"confusion matrix of {net_name(estimator)}: {len(y)} rows, accuracy {accuracy:.3f}"
        + (f"\n(normalized: {how})" if how else ""),
        fontsize=12,
    )
    save(figure, path)
    return figure
