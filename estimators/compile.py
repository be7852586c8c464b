"""Resolved `.net` specs compiled to Keras 3 objects, through one explicit registry per family.

`build_model` makes a functional model: input -> augment layers (Keras's random layers act only
while training) -> the layers in order. Literal weight arrays are assigned after the model is
built, broadcast to the kernel's real shape, so the model holds exactly those weights.
"""

from __future__ import annotations

import contextlib
import copy
import warnings

import keras
import numpy as np

from netdsl.dsl import flat_layers, specs
from netdsl.dsl.values import Expr

# kind -> Keras layer class name: one table for building specs and reading saved layers back.
LAYER_CLASSES = specs.LAYER_CLASSES

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
        if field in ("kind", "trainable", "embeddings"):  # `embeddings`: a file, assigned after the build
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


def build_layer(layer: specs.Layer) -> keras.layers.Layer:
    """One Keras layer from its spec; `trainable=false` freezes it."""
    cls = getattr(keras.layers, LAYER_CLASSES[layer.kind])
    built = cls(**layer_kwargs(layer))
    built.trainable = layer.trainable
    return built


MAX_UNROLLED_STEPS = 32  # recurrent layers over at most this many (known) time steps are unrolled


def build_model(net: specs.Net, text_samples=None, name: str | None = None, coverage: dict | None = None) -> keras.Model:
    """The Keras model of a resolved net (every name bound). `text_samples` adapt the vocabulary of a
    `text_vectorization` layer (its vocabulary is learned from the training texts); an embedding
    with `embeddings=` then takes the file's vectors for its words, and `coverage` (when given)
    receives the report of each such layer, by its name in `netdsl show`."""
    if net.input is not None and net.input.text:
        inputs = keras.Input(shape=(), dtype="string", name="text")
    else:
        shape = net.input.shape if net.input is not None else None
        if shape is None or any(isinstance(d, Expr) for d in shape):
            raise ValueError("the input shape is not bound; bind `n_features` first")
        inputs = keras.Input(shape=tuple(shape), name="input")
    x = inputs
    built_layers = []
    vocabulary, pretrained = None, []
    for path, spec, layer in _new_layers(net):
        if spec.kind == "pretrained":
            x = take_base_layers(net, path, spec, x, layer)
            continue
        if spec.kind == "text_vectorization":
            if text_samples is None:
                raise ValueError("`text_vectorization` needs training texts to learn its vocabulary")
            layer.adapt(as_text(text_samples))
            vocabulary = layer.get_vocabulary()
            if not layer.get_vocabulary(include_special_tokens=False):  # else a graph error at the first step
                raise ValueError(
                    f"The training texts hold no word for `text_vectorization` to learn (its vocabulary is empty after "
                    f"standardize={spec.standardize!r} and split={spec.split!r}); give texts with words in them."
                )
        elif getattr(spec, "embeddings", None) is not None:
            pretrained.append((path, spec, layer, vocabulary))
        _unroll_if_short(spec, layer, x.shape)
        x = layer(x)
        built_layers.append((spec, layer))
    model = keras.Model(inputs, x, name=name or net.name)
    for spec, layer in built_layers:
        assign_literal_weights(spec, layer)
    shown = _shown_names(net) if pretrained else {}
    for path, spec, layer, words in pretrained:
        report = assign_pretrained_vectors(net, path, spec, layer, words)
        if coverage is not None:
            coverage[shown.get(path, layer.name)] = report
    return model


def _new_layers(net: specs.Net):
    """(source path, spec, new Keras layer) for the augmentation layers and then the layers, in the
    file's order: the one place layers are made, so that under a seed every build draws the same
    initial weights. For `pretrained` the third item is the analysis rows (names, frozen state)
    its base layers take."""
    rows = _analysis_rows(net)
    augment = iter([row for row in rows if row.path[0] == "augment"])
    for i, spec in enumerate(net.augment):
        path = ("augment", i, spec.kind)
        spec = spec.model_copy(update={"name": next(augment).name}) if "name" in type(spec).model_fields else spec
        yield path, spec, _located(net, path, spec)
    plan = iter([row for row in rows if row.path[0] != "augment"])
    for path, spec in flat_layers(net):
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
    cost (measured: an LSTM over 8 steps trains about 1.7x faster per epoch). `unroll=false` keeps
    the loop."""
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


def fresh_weights(net: specs.Net, model: keras.Model) -> list | None:
    """The initial values that `build_model(net)` would give `model`'s variables under the current
    seed, layer by layer in order (`fast.layer_variables`): how the fast path restarts a cached
    model. The layers are made anew in the same order (so they draw the same seeds) and built to
    the cached model's shapes inside `_deferred_variables`, which keeps each variable's initializer
    instead of creating it in TensorFlow: a restart of the digits convnet (these values and
    `fast.reset`) takes 8.5 ms instead of 16.5 (medians of 20). None where the net takes weights
    from files (a saved net, word vectors), learns a vocabulary or builds a variable from a fixed
    value. (`WeightPlan` gives the same values without making layers, once learned.)"""
    made = _made_anew(net, model)
    return None if made is None else _initial_values(made)


def _made_anew(net: specs.Net, model: keras.Model) -> list | None:
    """`fresh_weights`'s new layers' variables, each with the literal value assigned to it (None for
    those that keep their initializer); None where a restart must build the net whole."""
    if net.input is not None and net.input.text:
        return None
    targets = iter([layer for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)])
    made = []
    try:
        with _deferred_variables() as scope:
            for _, spec, layer in _new_layers(net):
                target = next(targets, None)
                if spec.kind == "pretrained" or getattr(spec, "embeddings", None) is not None or target is None:
                    return None
                if target.weights:
                    layer.build(target.input.shape)  # as calling it in a new model would, before the next layer is made
                if len(layer.variables) != len(target.variables):
                    return None
                assign_literal_weights(spec, layer)  # recorded by the scope, read below
                made.extend(layer.variables)
            if next(targets, None) is not None:
                return None
            return [(variable, scope.get_current_value(variable)) for variable in made]
    except ValueError:  # a variable made from a fixed value, which the scope refuses: build it whole
        return None


def _initial_values(made: list) -> list:
    """The values of `_made_anew`'s variables: the literal assigned, else the initializer's."""
    return [value if value is not None else variable._initializer(variable.shape, dtype=variable.dtype)
            for variable, value in made]


class WeightPlan:
    """How a cached model's initial values follow from the seeds its layers draw when made anew:
    `fresh_weights`'s values without making the layers (1.1 ms instead of 6.2 for the digits
    convnet, medians of 20), learned from two restarts by `learn_weight_plan`.

    Keras gives each new random initializer and random-generator state a seed drawn from Python's
    `random` (`make_default_seed`), and nothing else: a variable's initial value is its
    initializer's with that seed, the generator state `[seed, 0]`, or the same every time (zeros,
    ones, a literal array). `values()` makes the same draws, in the same order, and computes only
    the values."""

    def __init__(self, draws: int, sources: list):
        self.draws = draws  # seeds a restart draws from Python's `random`
        # per variable: ("initializer", (initializer, shape, dtype), i), ("generator", dtype, i) or
        # ("fixed", value), where i is the index of its seed among the draws
        self.sources = sources

    def values(self, seeds: list | None = None) -> list:
        """The initial values under the current seed (consuming its draws), or under `seeds`."""
        from keras.src.random.seed_generator import make_default_seed

        if seeds is None:
            seeds = [make_default_seed() for _ in range(self.draws)]
        values = []
        for kind, held, *index in self.sources:
            if kind == "initializer":
                initializer, (shape, dtype) = copy.copy(held[0]), held[1:]
                initializer.seed = seeds[index[0]]
                values.append(initializer(shape, dtype=dtype))
            elif kind == "generator":
                values.append(np.array([seeds[index[0]], 0], dtype=held))
            else:
                values.append(held)
        return values


MAX_DRAWS = 256  # seeds a restart may draw for `learn_weight_plan` to learn it


def learn_weight_plan(net: specs.Net, model: keras.Model) -> WeightPlan | None:
    """`model`'s `WeightPlan`, learned from two restarts made the standard way (`fresh_weights`):
    the first tells which draw each variable takes, and the plan must give both restarts' values
    exactly, so a value that depends on the draws in any other way is never taken for fixed. None
    where the restarts do not fit that pattern (they then make their layers). Python's and NumPy's
    random states are left as they were."""
    import random

    try:
        from keras.src.random.seed_generator import make_default_seed  # where Keras draws its seeds
    except ImportError:  # a Keras that draws them elsewhere: restarts make their layers
        return None
    start, numpy_start = random.getstate(), np.random.get_state()
    try:
        first, second = _drawn_restart(net, model, make_default_seed), _drawn_restart(net, model, make_default_seed)
        numpy_kept = _same_numpy_state(numpy_start, np.random.get_state())
    finally:
        random.setstate(start)
        np.random.set_state(numpy_start)
    if first is None or second is None or not numpy_kept:
        return None
    (made, values, seeds), (_, values_again, seeds_again) = first, second
    if len(set(seeds)) != len(seeds):
        return None  # two equal seeds: which draw a variable takes is ambiguous
    sources = []
    for (variable, assigned), value in zip(made, values):
        initializer = variable._initializer
        seed = getattr(initializer, "seed", None)
        array = np.asarray(value)
        if assigned is None and isinstance(seed, int) and seed in seeds:
            held = (initializer, tuple(variable.shape), variable.dtype)
            sources.append(("initializer", held, seeds.index(seed)))
        elif assigned is None and array.shape == (2,) and array[1] == 0 and int(array[0]) in seeds:
            sources.append(("generator", array.dtype, seeds.index(int(array[0]))))
        else:
            sources.append(("fixed", value))
    plan = WeightPlan(len(seeds), sources)
    for restart, given in ((values, seeds), (values_again, seeds_again)):
        planned = plan.values(given)
        if not all(_identical(a, b) for a, b in zip(planned, restart)):
            return None
    return plan


def _drawn_restart(net: specs.Net, model: keras.Model, make_default_seed):
    """One standard restart (`fresh_weights`): the variables made, their values, and the seeds it
    drew from Python's `random` (found by replaying `make_default_seed` from the state before until
    the state after is reached); None where there is no such restart or the replay fails."""
    import random

    before = random.getstate()
    made = _made_anew(net, model)
    if made is None:
        return None
    values = _initial_values(made)
    after = random.getstate()
    random.setstate(before)
    seeds = []
    while random.getstate() != after:
        if len(seeds) == MAX_DRAWS:
            return None
        seeds.append(make_default_seed())
    return made, values, seeds


def _same_numpy_state(a, b) -> bool:
    return all(np.array_equal(x, y) for x, y in zip(a, b))


def _identical(a, b) -> bool:
    a, b = np.asarray(a), np.asarray(b)
    return a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b)


@contextlib.contextmanager
def _deferred_variables():
    """Keras's stateless scope, in which a new variable keeps its initializer and is not created in
    TensorFlow (and an `assign` is recorded by the scope); the variables made inside are never
    initialized later: Keras's list of variables waiting for that is left as it was."""
    from keras.src.backend.common import global_state

    waiting = list(global_state.get_global_attribute("uninitialized_variables") or [])
    try:
        with keras.StatelessScope(initialize_variables=False) as scope:
            yield scope
    finally:
        global_state.set_global_attribute("uninitialized_variables", waiting)


def _shown_names(net: specs.Net) -> dict:
    """Source path -> the layer's name as `netdsl show` gives it (`embedding`, `embedding_1`, ... in
    the file's order), which, unlike Keras's automatic names, does not depend on earlier models."""
    from netdsl.dsl.shapes import layer_names

    return layer_names(net)


def _analysis_rows(net: specs.Net) -> list:
    """The rows of the net's static analysis (layers in order, a saved net's layers expanded): the
    built layers take their names and frozen state, so that a name means the same layer in
    `netdsl show`, in `freeze` / `unfreeze` and in `NetTransformer(layer=...)`."""
    from netdsl.dsl.shapes import analyse

    return list(analyse(net, training=False).rows)  # the train block: checked by the estimator, with its settings


def take_base_layers(net: specs.Net, path: tuple, spec: specs.Layer, x, plan):
    """Calls the saved net's layer objects that `pretrained` takes on `x`, in order, so their trained
    weights are reused and they are layers of the new model under their own names. (A frozen
    `batch_normalization` runs in inference mode; `unfreeze` leaves it frozen.) The base is loaded
    in Keras's safe mode unless `trust=true`; a base Keras cannot load is an error located at
    `pretrained`."""
    import tempfile
    from pathlib import Path

    from netdsl.dsl.saved import SavedNetError, keras_bytes, open_base

    def problem(title, help):
        return net.source.located(title, path + ("path",), help=help)

    try:
        saved = open_base(spec.path, net.source.filename)
        data = keras_bytes(saved.path)
    except SavedNetError as error:
        raise problem(error.title, error.help) from None
    with tempfile.TemporaryDirectory() as folder:
        file = Path(folder) / "base.keras"
        file.write_bytes(data)
        try:
            base = keras.models.load_model(file, compile=False, safe_mode=not spec.trust)  # see dsl/saved.py
        except Exception as error:  # noqa: BLE001 - Keras raises many kinds for a damaged file
            reason = (str(error).strip().splitlines() or [""])[0][:300]
            raise problem(f"Keras cannot load `{saved.path.name}` ({type(error).__name__}: {reason})",
                          "a damaged file, or one Keras 3 did not write; save the base again") from None
    names = {layer.name for layer in base.layers}
    for taken in saved.taken(spec.up_to):
        row = next(plan)
        if taken.name not in names:
            raise problem(f"Keras loads `{saved.path.name}` without the layer `{taken.name}` its config names",
                          "a damaged file; save the base again")
        layer = base.get_layer(taken.name)
        layer.trainable = row.trainable
        x = layer(x)
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

    def problem(title, help):
        return net.source.located(title, path + ("embeddings",), help=help)

    if vocabulary is None:
        raise problem("`embeddings=` needs a `text_vectorization` before this embedding",
                      "pretrained vectors are matched to the words of the vocabulary `text_vectorization` learns at fit")
    if len(vocabulary) > spec.input_dim:
        raise problem(
            f"the vocabulary learned has {len(vocabulary):,} entries, more than this embedding's input_dim ({spec.input_dim:,})",
            "set input_dim to the text_vectorization's max_tokens (or set max_tokens to at most input_dim)",
        )
    file = vectors_path(spec.embeddings, net.source.filename)
    try:
        vectors = load_vectors(file, vocabulary_words(vocabulary))
    except VectorsError as error:
        raise problem(f"malformed vectors file `{spec.embeddings}`",
                      f"{error.where}: {error.message}; fix the file, or use another one") from None
    except OSError as error:
        raise problem(f"cannot read the vectors file `{spec.embeddings}`", error.strerror or str(error)) from None
    if vectors.dim != spec.output_dim:  # checked before fitting too; the file may have changed since
        raise problem(f"the vectors in `{file.name}` have {vectors.dim} dimensions, but this embedding's output_dim "
                      f"is {spec.output_dim}", f"set output_dim to {vectors.dim}, or use a file of "
                      f"{spec.output_dim}-dimensional vectors")
    rng = np.random.default_rng(np.random.randint(2**31 - 1))
    matrix, report = embedding_matrix(vocabulary, vectors, spec.input_dim, rng)
    if report["vocabulary"] and not report["found"]:
        raise problem(
            f"none of the {report['vocabulary']:,} words of the vocabulary is in `{file.name}`",
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
        raise net.source.located(f"Keras rejects this `{spec.kind}` layer", path, help=message) from None


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
