"""Resolved `.net` specs compiled to Keras 3 objects, through one explicit registry per family.

`build_model` makes a functional model: input -> augment layers (Keras's random layers act only
while training) -> the layers in order. Literal weight arrays are assigned after the model is
built, broadcast to the kernel's real shape, so the model holds exactly those weights.
"""

from __future__ import annotations

import warnings

import keras
import numpy as np

from netdsl.dsl import flat_layers, specs
from netdsl.dsl.values import Expr

# kind -> Keras layer class name (the registry of every layer kind the language accepts).
LAYER_CLASSES: dict[str, str] = {
    "dense": "Dense",
    "conv1d": "Conv1D",
    "conv2d": "Conv2D",
    "max_pooling1d": "MaxPooling1D",
    "max_pooling2d": "MaxPooling2D",
    "average_pooling1d": "AveragePooling1D",
    "average_pooling2d": "AveragePooling2D",
    "global_average_pooling1d": "GlobalAveragePooling1D",
    "global_average_pooling2d": "GlobalAveragePooling2D",
    "global_max_pooling1d": "GlobalMaxPooling1D",
    "global_max_pooling2d": "GlobalMaxPooling2D",
    "flatten": "Flatten",
    "dropout": "Dropout",
    "spatial_dropout1d": "SpatialDropout1D",
    "spatial_dropout2d": "SpatialDropout2D",
    "batch_normalization": "BatchNormalization",
    "layer_normalization": "LayerNormalization",
    "activation": "Activation",
    "reshape": "Reshape",
    "rescaling": "Rescaling",
    "embedding": "Embedding",
    "simple_rnn": "SimpleRNN",
    "lstm": "LSTM",
    "gru": "GRU",
    "bidirectional": "Bidirectional",
    "text_vectorization": "TextVectorization",
    "random_flip": "RandomFlip",
    "random_rotation": "RandomRotation",
    "random_translation": "RandomTranslation",
    "random_zoom": "RandomZoom",
    "random_contrast": "RandomContrast",
    "gaussian_noise": "GaussianNoise",
}
assert set(LAYER_CLASSES) == set(specs.LAYERS), "every layer kind needs a Keras class"

OPTIMIZER_CLASSES = {
    "adam": "Adam", "adamw": "AdamW", "nadam": "Nadam", "sgd": "SGD",
    "rmsprop": "RMSprop", "adagrad": "Adagrad", "adadelta": "Adadelta",
}  # fmt: skip
CALLBACK_CLASSES = {"early_stopping": "EarlyStopping", "reduce_lr_on_plateau": "ReduceLROnPlateau"}
REGULARIZER_CLASSES = {"l1": "L1", "l2": "L2", "l1_l2": "L1L2"}
METRIC_ALIASES = {
    "auc": lambda: keras.metrics.AUC(name="auc"),
    "precision": lambda: keras.metrics.Precision(name="precision"),
    "recall": lambda: keras.metrics.Recall(name="recall"),
    "rmse": lambda: keras.metrics.RootMeanSquaredError(name="rmse"),
    "root_mean_squared_error": lambda: keras.metrics.RootMeanSquaredError(name="root_mean_squared_error"),
    "r2_score": lambda: keras.metrics.R2Score(name="r2_score"),
}
INITIALIZER_FIELDS = ("kernel_initializer", "bias_initializer", "embeddings_initializer")


def _check_bound(node) -> None:
    for field in type(node).model_fields:
        value = getattr(node, field)
        if isinstance(value, Expr):
            raise ValueError(f"`{field}` is still symbolic ({value}); bind the data-bound names first")


def layer_kwargs(layer: specs.Layer) -> dict:
    """Keras constructor arguments for a layer spec (literal arrays become zeros, assigned later)."""
    _check_bound(layer)
    kwargs = {}
    for field in type(layer).model_fields:
        if field in ("kind", "trainable"):
            continue
        value = getattr(layer, field)
        if field in INITIALIZER_FIELDS and isinstance(value, list):
            value = "zeros"
        elif field.endswith("_regularizer") and value is not None:
            value = _regularizer(value)
        elif field == "layer":  # bidirectional(lstm(...))
            value = build_layer(value)
        elif field == "kernel_size" and value is None:
            value = _literal_kernel_size(layer)
        elif field == "target_shape":
            value = tuple(value)
        if value is None and field == "name":
            continue  # Keras names it
        kwargs[field] = value
    return kwargs


def _literal_kernel_size(layer):
    literal = np.asarray(getattr(layer, "kernel_initializer"), dtype="float32")
    if not isinstance(layer.kernel_initializer, list):
        raise ValueError(f"`{layer.kind}` needs `kernel_size` (or a literal kernel_initializer)")
    return tuple(literal.shape[:2]) if layer.kind == "conv2d" else literal.shape[0]


def _regularizer(spec) -> keras.regularizers.Regularizer:
    cls = getattr(keras.regularizers, REGULARIZER_CLASSES[spec.kind])
    return cls(**{f: getattr(spec, f) for f in type(spec).model_fields if f != "kind"})


def build_layer(layer: specs.Layer) -> keras.layers.Layer:
    """One Keras layer from its spec; `trainable=false` freezes it."""
    cls = getattr(keras.layers, LAYER_CLASSES[layer.kind])
    built = cls(**layer_kwargs(layer))
    built.trainable = layer.trainable
    return built


def build_model(net: specs.Net, text_samples=None, name: str | None = None) -> keras.Model:
    """The Keras model of a resolved net (every name bound). `text_samples` adapt the vocabulary of a
    `text_vectorization` layer (its vocabulary is learned from the training texts)."""
    if net.input is not None and net.input.text:
        inputs = keras.Input(shape=(), dtype="string", name="text")
    else:
        shape = net.input.shape if net.input is not None else None
        if shape is None or any(isinstance(d, Expr) for d in shape):
            raise ValueError("the input shape is not bound; bind `n_features` first")
        inputs = keras.Input(shape=tuple(shape), name="input")
    x = inputs
    for i, spec in enumerate(net.augment):
        x = _located(net, ("augment", i, spec.kind), spec)(x)
    built_layers = []
    for path, spec in flat_layers(net):
        layer = _located(net, path, spec)
        if spec.kind == "text_vectorization":
            if text_samples is None:
                raise ValueError("`text_vectorization` needs training texts to learn its vocabulary")
            layer.adapt(as_text(text_samples))
        x = layer(x)
        built_layers.append((spec, layer))
    model = keras.Model(inputs, x, name=name or net.name)
    for spec, layer in built_layers:
        assign_literal_weights(spec, layer)
    return model


def _located(net: specs.Net, path: tuple, spec: specs.Layer) -> keras.layers.Layer:
    """`build_layer`, with anything Keras rejects reported at the layer's line."""
    try:
        return build_layer(spec)
    except (ValueError, TypeError) as error:
        from netdsl.dsl import Diagnostic, NetError

        spans = net._spans.get("spans")
        span = spans.find(path)[1] if spans is not None else None
        message = str(error).strip().splitlines()[0]
        raise NetError(
            [Diagnostic(f"Keras rejects this `{spec.kind}` layer", span, help=message)],
            net._spans.get("source", ""), net._spans.get("filename", "<string>"),
        ) from None


def assign_literal_weights(spec: specs.Layer, layer: keras.layers.Layer) -> None:
    """Literal `kernel_initializer` / `bias_initializer` arrays become exactly the layer's weights:
    a matrix for a conv2d is used for every (input channel, filter) pair."""
    for field, attribute in (("kernel_initializer", "kernel"), ("bias_initializer", "bias"), ("embeddings_initializer", "embeddings")):
        literal = getattr(spec, field, None)
        variable = getattr(layer, attribute, None)
        if not isinstance(literal, list) or variable is None:
            continue
        array = np.asarray(literal, dtype="float32")
        target = tuple(variable.shape)
        while array.ndim < len(target):
            array = array[..., None]
        try:
            value = np.broadcast_to(array, target)
        except ValueError:
            raise ValueError(
                f"the literal `{field}` of `{spec.kind}` has shape {np.asarray(literal).shape}, "
                f"which does not fit the layer's {attribute} of shape {target}"
            ) from None
        variable.assign(value)


def build_optimizer(spec, learning_rate: float | None = None) -> keras.optimizers.Optimizer:
    """The optimizer of the `train` block; an estimator's `learning_rate` overrides the file's."""
    kwargs = {f: getattr(spec, f) for f in type(spec).model_fields if f != "kind"}
    kwargs = {k: v for k, v in kwargs.items() if v is not None}
    if learning_rate is not None:
        kwargs["learning_rate"] = learning_rate
    return getattr(keras.optimizers, OPTIMIZER_CLASSES[spec.kind])(**kwargs)


def build_callbacks(callbacks, has_validation: bool) -> list[keras.callbacks.Callback]:
    """Callbacks of the `train` block. Without validation data a `val_*` monitor cannot work: it
    then watches the training value instead, and says so."""
    built = []
    for spec in callbacks:
        kwargs = {f: getattr(spec, f) for f in type(spec).model_fields if f != "kind"}
        if kwargs.get("monitor", "").startswith("val_") and not has_validation:
            warnings.warn(
                f"{spec.kind} monitors `{kwargs['monitor']}` but there is no validation data "
                f"(validation_split = 0); it monitors `{kwargs['monitor'][4:]}` instead",
                UserWarning,
                stacklevel=3,
            )
            kwargs["monitor"] = kwargs["monitor"][4:]
        built.append(getattr(keras.callbacks, CALLBACK_CLASSES[spec.kind])(**kwargs))
    return built


def build_metrics(names) -> list:
    return [METRIC_ALIASES[name]() if name in METRIC_ALIASES else name for name in names]


def as_text(samples):
    """Raw strings as a TensorFlow string tensor (what Keras's string input takes)."""
    import tensorflow as tf

    return tf.constant([str(s) for s in np.asarray(samples, dtype=object).ravel()], dtype=tf.string)
