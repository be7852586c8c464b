"""Resolved `.net` specs compiled to Keras 3 objects, through one explicit registry per family.

`build_model` makes a functional model: input(s) -> augment layers (Keras's random layers act only
while training) -> the layers in order, each called on the points it reads (`dsl/graph.py`). Literal weight arrays are assigned after the model is
built, broadcast to the kernel's real shape, so the model holds exactly those weights.
"""

from __future__ import annotations

import importlib
import warnings

import keras
import numpy as np

from netdsl.dsl import compat, kinds, specs
from netdsl.dsl.graph import wire
from netdsl.dsl.errors import InputError
from netdsl.dsl.train_specs import from_logits, loss_name
from netdsl.dsl.values import Expr

# kind -> Keras class name, per family: the registry `netdsl.dsl.kinds` (tests/test_kinds.py checks
# each name against the installed Keras and each spec kind against these tables).
LAYER_CLASSES = kinds.LAYERS.keras
OPTIMIZER_CLASSES = kinds.OPTIMIZERS.keras
CALLBACK_CLASSES = kinds.CALLBACKS.keras
REGULARIZER_CLASSES = kinds.REGULARIZERS.keras
METRIC_CLASSES = kinds.METRIC_CLASSES  # None: Keras's `compile` takes the metric's name itself
INITIALIZER_FIELDS = kinds.INITIALIZER_FIELDS


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
        if field in ("kind", "trainable", "embeddings", "inputs") or field in getattr(type(layer), "points", ()):
            # `embeddings`: a file, assigned after the build; `inputs` and `points`: what it is called on
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
        if value is None and field in ("name", "unroll"):
            continue  # Keras names it; `unroll` left out: build_model decides (_unroll_if_short)
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


def layer_class(kind: str) -> type:
    """The class that builds a layer kind: Keras's, or netdsl's own for a kind Keras lacks (in the
    module `kinds.LAYERS.modules` names, `netdsl.estimators.layers`)."""
    module = importlib.import_module(kinds.LAYERS.modules[kind]) if kind in kinds.LAYERS.modules else keras.layers
    return getattr(module, LAYER_CLASSES[kind])


def build_layer(layer: specs.Layer) -> keras.layers.Layer:
    """One Keras layer from its spec; `trainable=false` freezes it."""
    built = layer_class(layer.kind)(**layer_kwargs(layer))
    built.trainable = layer.trainable
    return built


MAX_UNROLLED_STEPS = 32  # recurrent layers over at most this many (known) time steps are unrolled


def build_model(net: specs.Net, text_samples=None, name: str | None = None, coverage: dict | None = None,
                analysis=None, vectorizers: dict | None = None) -> keras.Model:
    """The Keras model of a resolved net (every name bound). `text_samples` adapt the vocabulary of a
    `text_vectorization` layer (its vocabulary is learned from the training texts); an embedding
    with `embeddings=` then takes the file's vectors for its words, and `coverage` (when given)
    receives the report of each such layer, by its name in `netdsl show`. `analysis` is the net's
    static analysis (`analyse_resolved`), which names the layers; made here when not given.

    `vectorizers` ({text input name: its adapted `text_vectorization` layer, `text_vectorizers`}):
    the model on token ids instead, for the fast path: each text input becomes an input of what
    its layer makes (named as the input), so no vocabulary is inside the compiled model; `on_text`
    puts the layers in front again for the model the estimator keeps."""
    analysis = analysis if analysis is not None else _analysis(net)
    graph = wire(net)
    inputs = [_keras_input(declared, name, vectorizers) for declared, name in zip(net.all_inputs, graph.inputs)]
    made = {~k: x for k, x in enumerate(inputs)}  # point -> Keras tensor (graph.wire's points)
    built_layers = []
    vocabulary, pretrained = None, []
    step = 0
    for path, spec, layer in new_layers(net, analysis, graph):
        if path[0] == "augment":  # augmentation acts on the (first) input, only while training
            made[~0] = layer(made[~0])
            continue
        reads = [made[p] for p in graph.steps[step].inputs]
        step += 1
        if spec.kind == "pretrained":
            made[step - 1] = take_base_layers(net, path, spec, reads[0], layer)
            continue
        if spec.kind == "text_vectorization" and vectorizers is not None:  # the tokens are the input
            vocabulary = vectorizers[graph.inputs[~graph.steps[step - 1].inputs[0]]].get_vocabulary()
            made[step - 1] = reads[0]
            continue
        if spec.kind == "text_vectorization":
            if text_samples is None:
                raise ValueError("`text_vectorization` needs training texts to learn its vocabulary")
            adapt_vocabulary(spec, layer, _texts_read(text_samples, graph, step - 1))
            vocabulary = layer.get_vocabulary()
        elif getattr(spec, "embeddings", None) is not None:
            pretrained.append((path, spec, layer, vocabulary))
        if isinstance(spec, specs.Merge):
            made[step - 1] = layer(reads)
        else:
            _unroll_if_short(spec, layer, reads[0].shape)
            made[step - 1] = _call(spec, layer, *reads)
        built_layers.append((spec, layer))
    outputs = [made[p] for p in graph.outputs]
    model = keras.Model(inputs if len(inputs) > 1 else inputs[0], outputs if len(outputs) > 1 else outputs[0],
                        name=name or net.name)
    for spec, layer in built_layers:
        assign_literal_weights(spec, layer)
    shown = analysis.layer_names if pretrained else {}
    for path, spec, layer, words in pretrained:
        report = assign_pretrained_vectors(net, path, spec, layer, words)
        if coverage is not None:
            coverage[shown.get(path, layer.name)] = report
    return model


def adapt_vocabulary(spec: specs.Layer, layer, texts) -> None:
    """`layer` (a `text_vectorization`) adapted to `texts`. Texts without a word are the user's
    mistake (else a graph error at the first step). Checked by the vocabulary's size, which counts
    the special tokens (the mask token of `int` mode and the out-of-vocabulary token), not by the
    list of words, which is slow to make for a large vocabulary (benchmarks/README.md)."""
    layer.adapt(as_text(texts))
    if layer.vocabulary_size() <= (2 if spec.output_mode == "int" else 1):
        raise InputError(
            f"The training texts hold no word for `text_vectorization` to learn (its vocabulary is empty after "
            f"standardize={spec.standardize!r} and split={spec.split!r}); give texts with words in them."
        )


def text_vectorizers(net: specs.Net, analysis=None) -> dict:
    """{text input name: (its `text_vectorization` step's spec, a new layer for it)}, each named as
    `netdsl show` names it; made alone (they draw no seeds), for the fast path, which learns the
    vocabulary outside the compiled model (`build_model`'s `vectorizers`). `text_vectorization`
    reads a text input directly, one per input (`training_path.choose`)."""
    graph = wire(net)
    names = {row.path: row.name for row in (analysis if analysis is not None else _analysis(net)).rows}
    made = {}
    for step in graph.steps:
        if step.layer.kind == "text_vectorization":
            spec = step.layer.model_copy(update={"name": names[step.path]})
            made[graph.inputs[~step.inputs[0]]] = (spec, _located(net, step.path, spec))
    return made


def token_spec(layer) -> tuple:
    """(shape of one text's output, dtype) of a `text_vectorization` layer (after `adapt` unless
    its mode is `int`, where the vocabulary's size does not shape it)."""
    made = layer.compute_output_spec(keras.KerasTensor((None,), dtype="string"))
    return tuple(made.shape[1:]), made.dtype


def on_text(model: keras.Model, vectorizers: dict, net: specs.Net) -> keras.Model:
    """The model on raw strings whose part after the `text_vectorization` layers is `model` (built
    with `vectorizers`): those layers in front of the same layer objects (the weights are shared),
    so it is the model `build_model` makes without `vectorizers`, with the same names. A fitted
    estimator keeps it: it saves, loads and predicts from raw strings."""
    names = wire(net).inputs
    raw = [keras.Input(shape=(), dtype="string", name=name) if name in vectorizers
           else keras.Input(shape=tuple(tensor.shape[1:]), dtype=tensor.dtype, name=name)
           for name, tensor in zip(names, model.inputs)]
    tokens = [vectorizers[name](x) if name in vectorizers else x for name, x in zip(names, raw)]
    outputs = compat.call_graph(model, tokens)
    outputs = list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]
    return keras.Model(raw if len(raw) > 1 else raw[0], outputs if len(outputs) > 1 else outputs[0], name=model.name)


def _call(spec: specs.Layer, layer, x, *named):
    """A layer called on the point before it. `multi_head_attention` in a chain is self-attention:
    the point is its query, value and key; with `value=` (and `key=`) it attends over those points
    (`named`, in that order)."""
    if spec.kind == "multi_head_attention":
        value = named[0] if named else x
        return layer(x, value, key=named[1]) if len(named) > 1 else layer(x, value)
    return layer(x)


def _texts_read(text_samples, graph, step: int):
    """The training texts a `text_vectorization` step reads: all of them, or with several inputs
    (`text_samples` by input name) those of the input it reads."""
    if not isinstance(text_samples, dict):
        return text_samples
    point = graph.steps[step].inputs[0]
    if point >= 0:
        raise ValueError("`text_vectorization` reads a text input directly (`from NAME`, then the layer)")
    return text_samples[graph.inputs[~point]]


def _keras_input(declared: specs.Input | None, name: str, vectorizers: dict | None = None):
    """The Keras input of one declared input (None: omitted, `(n_features)` bound by `resolve`); a
    text input with a layer in `vectorizers` takes that layer's tokens (`build_model`)."""
    if declared is not None and declared.text and vectorizers is not None and name in vectorizers:
        shape, dtype = token_spec(vectorizers[name])
        return keras.Input(shape=shape, dtype=dtype, name=name)
    if declared is not None and declared.text:
        return keras.Input(shape=(), dtype="string", name=name)
    shape = declared.shape if declared is not None else None
    if shape is None or any(isinstance(d, Expr) for d in shape):
        raise ValueError("the input shape is not bound; bind `n_features` first")
    return keras.Input(shape=tuple(shape), name=name)


def new_layers(net: specs.Net, analysis=None, graph=None):
    """(source path, spec, new Keras layer) for the augmentation layers and then the layers, in the
    file's order: the one place layers are made, so that under a seed every build draws the same
    initial weights. Each layer is named and frozen as the net's static analysis lists it
    (`analysis`, made here when not given), so that a name means the same layer in `netdsl show`,
    in `freeze` / `unfreeze` and in `NetTransformer(layer=...)`. For `pretrained` the third item
    is the analysis rows (names, frozen state) its base layers take. `graph`: the net's wiring
    (`graph.wire`) when the caller has it already (`build_model`), so a build wires the net once."""
    rows = (analysis if analysis is not None else _analysis(net)).rows
    augment = iter([row for row in rows if row.path[0] == "augment"])
    for i, spec in enumerate(net.augment):
        path = ("augment", i, spec.kind)
        spec = spec.model_copy(update={"name": next(augment).name}) if "name" in type(spec).model_fields else spec
        yield path, spec, _located(net, path, spec)
    plan = iter([row for row in rows if row.path[0] != "augment"])
    steps = graph.steps if graph is not None else wire(net).steps  # `graph`: the caller's `wire(net)`
    for path, spec in ((step.path, step.layer) for step in steps):
        if spec.kind == "pretrained":
            yield path, spec, plan
            continue
        # Named and frozen as `netdsl show` gives them, not by Keras's process-wide counter (which
        # would name this net's first dense `dense_3` after other models, and a refit's otherwise).
        row = next(plan)
        spec = spec.model_copy(update={"name": row.name, "trainable": row.trainable})
        yield path, spec, _located(net, path, spec)


def _unroll_if_short(spec: specs.Layer, layer, input_shape) -> None:
    """A recurrent layer whose `unroll` is left out runs unrolled over a short, fixed number of time
    steps: the same arithmetic without a symbolic loop per step, which on small data is most of its
    cost (benchmarks/README.md has the measurement). `unroll=false` keeps the loop."""
    if isinstance(spec, specs.Bidirectional):
        spec, wrapped = spec.layer, [layer.forward_layer, layer.backward_layer]
    else:
        wrapped = [layer]
    steps = input_shape[1] if len(input_shape) > 2 else None
    if getattr(spec, "unroll", False) is not None or steps is None or steps > MAX_UNROLLED_STEPS:
        return
    for rnn in wrapped:
        if isinstance(rnn, keras.layers.RNN):
            rnn.unroll = True


def _analysis(net: specs.Net):
    """The static analysis of a resolved net (layers in order, a saved net's layers expanded, each
    named as `netdsl show` names it), for a build that was not handed one. Its `train` block is
    left to the estimator, which checks it with the settings it trains with."""
    from netdsl.dsl.shapes import analyse_resolved

    return analyse_resolved(net, training=False)


def take_base_layers(net: specs.Net, path: tuple, spec: specs.Layer, x, plan):
    """Calls the saved net's layer objects that `pretrained` takes on `x`, in order, so their trained
    weights are reused and they are layers of the new model under their own names. (A frozen
    `batch_normalization` runs in inference mode; `unfreeze` leaves it frozen.) The base is loaded
    in Keras's safe mode unless `trust=true`; a base Keras cannot load is an error located at
    `pretrained`."""
    import tempfile
    from pathlib import Path

    from netdsl.dsl.saved import SavedNetError, keras_bytes, open_base

    def problem(code, title, help):
        return net.source.located(title, path + ("path",), help=help, code=code)

    try:
        saved = open_base(spec.path, net.source.filename)
        data = keras_bytes(saved.path)
    except SavedNetError as error:
        raise problem(error.code, error.title, error.help) from None
    with tempfile.TemporaryDirectory() as folder:
        file = Path(folder) / "base.keras"
        file.write_bytes(data)
        try:
            for module in set(kinds.LAYERS.modules.values()):
                importlib.import_module(module)  # registers netdsl's own layer classes, which the base may hold
            base = keras.models.load_model(file, compile=False, safe_mode=not spec.trust)  # see dsl/saved.py
        except Exception as error:  # noqa: BLE001 - Keras raises many kinds for a damaged file
            reason = (str(error).strip().splitlines() or [""])[0][:300]
            raise problem("N601", f"Keras cannot load `{saved.path.name}` ({type(error).__name__}: {reason})",
                          "a damaged file, or one Keras 3 did not write; save the base again") from None
    names = {layer.name for layer in base.layers}
    for taken in saved.taken(spec.up_to):
        row = next(plan)
        if taken.name not in names:
            raise problem("N601", f"Keras loads `{saved.path.name}` without the layer `{taken.name}` its config names",
                          "a damaged file; save the base again")
        layer = base.get_layer(taken.name)
        layer.trainable = row.trainable
        x = _call(taken.spec, layer, x)
    return x


def unfreeze(model: keras.Model, names) -> int:
    """Makes the named layers trainable (the second stage of `fine_tune`); returns how many weights
    became trainable."""

    def count():
        return sum(int(np.prod(v.shape)) for v in model.trainable_weights)

    before = count()
    for name in names:
        model.get_layer(name).trainable = True
    return count() - before


def assign_pretrained_vectors(net: specs.Net, path: tuple, spec: specs.Layer, layer, vocabulary) -> dict:
    """The vectors of `spec.embeddings` for the learned `vocabulary`, set as the embedding's weights
    (random vectors for the words the file lacks: seeded by NumPy's global seed, which
    `random_state` sets); returns the coverage report. Problems are reported at `embeddings=`."""
    from netdsl.dsl.vectors import VectorsError, embedding_matrix, load_vectors, vectors_path, vocabulary_words

    def problem(code, title, help):
        return net.source.located(title, path + ("embeddings",), help=help, code=code)

    if vocabulary is None:
        raise problem("N612", "`embeddings=` needs a `text_vectorization` before this embedding",
                      "pretrained vectors are matched to the words of the vocabulary `text_vectorization` learns at fit")
    if len(vocabulary) > spec.input_dim:
        raise problem(
            "N311", f"the vocabulary learned has {len(vocabulary):,} entries, more than this embedding's input_dim ({spec.input_dim:,})",
            "set input_dim to the text_vectorization's max_tokens (or set max_tokens to at most input_dim)",
        )
    file = vectors_path(spec.embeddings, net.source.filename)
    try:
        vectors = load_vectors(file, vocabulary_words(vocabulary))
    except VectorsError as error:
        raise problem("N610", f"malformed vectors file `{spec.embeddings}`",
                      f"{error.where}: {error.message}; fix the file, or use another one") from None
    except OSError as error:
        raise problem("N610", f"cannot read the vectors file `{spec.embeddings}`", error.strerror or str(error)) from None
    if vectors.dim != spec.output_dim:  # checked before fitting too; the file may have changed since
        raise problem("N611", f"the vectors in `{file.name}` have {vectors.dim} dimensions, but this embedding's output_dim "
                      f"is {spec.output_dim}", f"set output_dim to {vectors.dim}, or use a file of "
                      f"{spec.output_dim}-dimensional vectors")
    rng = np.random.default_rng(np.random.randint(2**31 - 1))
    matrix, report = embedding_matrix(vocabulary, vectors, spec.input_dim, rng)
    if report["vocabulary"] and not report["found"]:
        raise problem(
            "N613", f"none of the {report['vocabulary']:,} words of the vocabulary is in `{file.name}`",
            f"the file begins with {', '.join(vectors.first_words)} (words are matched exactly, then ignoring "
            "case): is it for the texts' language?",
        )
    layer.embeddings.assign(matrix)
    return report


def _located(net: specs.Net, path: tuple, spec: specs.Layer) -> keras.layers.Layer:
    """`build_layer`, with anything Keras rejects reported at the layer's line."""
    try:
        return build_layer(spec)
    except (ValueError, TypeError) as error:
        message = str(error).strip().splitlines()[0]
        raise net.source.located(f"Keras rejects this `{spec.kind}` layer", path, help=message, code="N312") from None


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
        if kwargs.get("mode") == "auto":
            kwargs["mode"] = monitor_mode(kwargs["monitor"])
        built.append(getattr(keras.callbacks, CALLBACK_CLASSES[spec.kind])(**kwargs))
    return built


def monitor_mode(monitor: str) -> str:
    """`min` or `max` for a monitored value (`val_loss`, `accuracy`, `val_c_accuracy`: the metric of
    output `c`), `auto` for a name of no known metric. Keras's `auto` finds the direction of a
    model's own metric names only, and refuses one output's value of a net with several."""
    name = monitor.removeprefix("val_")
    if name == "loss" or name.endswith("_loss"):
        return "min"
    for metric in sorted(kinds.METRICS, key=len, reverse=True):
        if name == metric or name.endswith("_" + metric):
            return "max" if metric in kinds.RISING_METRICS else "min"
    return "auto"


def build_metrics(names, loss=None) -> list:
    """Keras metrics for `metrics` names: an object named as the metric where Keras's own name
    differs. With a `binary_crossentropy(from_logits=true)` loss the outputs are logits, so the
    metrics that threshold a probability at 0.5 threshold the logit at 0 (the same decision), and
    `auc` reads logits."""
    if from_logits(loss) and loss_name(loss) == "binary_crossentropy":
        return [_logit_metric(name) for name in names]
    return [getattr(keras.metrics, METRIC_CLASSES[name])(name=name) if METRIC_CLASSES.get(name) else name for name in names]


def _logit_metric(name: str):
    """A metric of sigmoid outputs, computed on their logits."""
    if name in ("accuracy", "binary_accuracy"):
        return keras.metrics.BinaryAccuracy(name=name, threshold=0.0)
    if name in ("precision", "recall"):
        return getattr(keras.metrics, METRIC_CLASSES[name])(name=name, thresholds=0.0)
    if name == "auc":
        return keras.metrics.AUC(name=name, from_logits=True)
    return getattr(keras.metrics, METRIC_CLASSES[name])(name=name) if METRIC_CLASSES.get(name) else name


def build_loss(loss):
    """The loss Keras compiles: its name, or for a cross-entropy of logits
    (`sparse_categorical_crossentropy(from_logits=true)`) the Keras loss built with `from_logits`."""
    if not from_logits(loss):
        return loss_name(loss)
    return getattr(keras.losses, kinds.LOSS_CLASSES[loss_name(loss)])(from_logits=True)


def as_text(samples):
    """Raw strings as a TensorFlow string tensor (what Keras's string input takes)."""
    import tensorflow as tf

    return tf.constant([str(s) for s in np.asarray(samples, dtype=object).ravel()], dtype=tf.string)
