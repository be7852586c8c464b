"""The fast training path: one compiled Keras model per graph, reused across fits, and every epoch
run as one call of a traced TensorFlow function.

Why: on small data nearly all of `model.fit`'s time is glue, not arithmetic: a new `tf.data`
pipeline per epoch, a Python round trip per batch, and tracing the training step again for every
new model (and again for a short last batch). A grid search builds a new model per candidate and
fold, so it pays the tracing every time, and the traced graphs are never freed.

Here a fit (1) takes a compiled model from a small cache keyed by everything that shapes the graph
(the layers, the input shape, loss, metrics, optimizer kind and its settings except the learning
rate), (2) gives it the initial weights a fresh build would have under the same seed, and fresh
optimizer state, (3) runs each epoch (shuffle, all mini-batches, Keras's own `train_step`, so the
loss, regularisation, sample weights and metrics mean exactly what they mean in `model.fit`; plain
Adam's update by TensorFlow's fused kernel, `adam_update.fused_adam_step`) inside one `tf.function` traced
without autograph, and (4) evaluates the validation data and calls the Keras callbacks (early
stopping, learning-rate reduction, progress) between epochs, as `model.fit` does. On both executors
used (below), a fit with nothing to do between epochs runs all its epochs in one call (`_epoch_function`).

Small nets run their epochs on TensorFlow's single-threaded function executor (`executors.choose`): it
runs a graph's ops one after another on the calling thread, without the default executor's
per-op hand-offs between threads, which are most of a small op's cost.

A cached model is lent to one estimator at a time: it stays with the estimator as `model_` (or a model sharing its
layers, `training_path`) until that estimator is garbage (or is refitted with another model), so a fitted estimator's
model is never changed behind its back. The cache holds at most `MAX_MODELS` models (more inside `keeping`).
`NETDSL_FAST_PATH=0` turns the fast path off (for comparisons). Nets with several inputs or outputs run the same way,
their data as structures of tensors by name (`_rows`, `_take`). A model's variables: `variables.py`.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import weakref
from collections import OrderedDict
from dataclasses import dataclass, field

import numpy as np

from . import executors, seeding, shared_trace
from .adam_update import fused_adam_step, plain_adam

logger = logging.getLogger("netdsl")

MAX_MODELS = 8  # compiled models kept for reuse (each holds its traced functions)
MAX_SEARCH_MODELS = 32  # at most this many inside `keeping` (a search's graphs)
PREDICT_CHUNK = 256  # rows per model call when predicting: every call computes this many (`predict`)
EVALUATE_CHUNK = 8192  # rows per step when evaluating validation data


@dataclass(eq=False)
class _Entry:
    """A compiled model and its traced functions; `lent_to` is the estimator using it, if any."""

    model: object
    functions: dict = field(default_factory=dict)  # traced epoch/evaluate functions by signature
    lent_to: object = None  # weakref to the estimator
    busy: bool = False
    uses: int = field(default=0)
    executor: str = ""  # TensorFlow's function executor for the epochs ("" is its default), `executors.choose`
    weight_plan: object = None  # its restarts' weight_plan.WeightPlan; False where it has none; None: not learned yet
    shared: list = field(default_factory=list)  # models sharing its layers, lent with it (`training_path`)

    def free(self) -> bool:
        if self.busy:
            return False
        owner = self.lent_to() if self.lent_to is not None else None
        return owner is None or all(getattr(owner, "model_", None) is not m for m in [self.model, *self.shared])


_CACHE: OrderedDict[str, list[_Entry]] = OrderedDict()
_LOCK = threading.Lock()
_KEPT: list[int] = []  # the limits `keeping` blocks set, while they run



def enabled() -> bool:
    return os.environ.get("NETDSL_FAST_PATH", "1").strip().lower() not in ("0", "false", "no", "off")


def cache_size() -> int:
    """How many compiled models the cache holds now."""
    with _LOCK:
        return sum(len(entries) for entries in _CACHE.values())


def clear_cache() -> None:
    with _LOCK:
        _CACHE.clear()
    shared_trace.clear()


@contextlib.contextmanager
def keeping(models: int, trim: bool = True):
    """Inside, the cache holds up to `models` models (at most `MAX_SEARCH_MODELS`): a search's rungs find their
    graphs traced. Trimmed back on leaving with `trim` (without: a worker's task; at the next model made outside)."""
    limit = max(MAX_MODELS, min(int(models), MAX_SEARCH_MODELS))
    with _LOCK:
        _KEPT.append(limit)
    try:
        yield
    finally:
        with _LOCK:
            _KEPT.remove(limit)
            if trim:
                _evict()


def acquire(key: str, owner, make_model) -> tuple[_Entry, bool]:
    """A free compiled model for `key` (lent to `owner` until released), and whether it was reused.
    `make_model()` builds and compiles a new one when none is free."""
    with _LOCK:
        entries = _CACHE.get(key, [])
        for entry in entries:
            if entry.free():
                entry.busy = True
                entry.lent_to = weakref.ref(owner)
                _CACHE.move_to_end(key)
                return entry, True
    entry = _Entry(make_model(), lent_to=weakref.ref(owner), busy=True)
    with _LOCK:
        _CACHE.setdefault(key, []).append(entry)
        _CACHE.move_to_end(key)
        _evict()
    return entry, False


def borrow(entry: _Entry) -> bool:
    """Take back the model an estimator holds, to continue training it (warm start)."""
    with _LOCK:
        if entry.busy:
            return False
        entry.busy = True
        return True


def release(entry: _Entry, kept: bool) -> None:
    """End a fit: the model stays lent to its estimator if `kept`, else it is free again."""
    with _LOCK:
        entry.busy = False
        entry.uses += 1
        if not kept:
            entry.lent_to = None


def _evict() -> None:
    """Drop the least recently used free models beyond the limit (lent ones stay with their estimators)."""
    limit = max([MAX_MODELS, *_KEPT])
    total = sum(len(entries) for entries in _CACHE.values())
    for key in list(_CACHE):
        if total <= limit:
            return
        entries = _CACHE[key]
        for entry in [e for e in entries if not e.busy]:
            if total <= limit:
                break
            entries.remove(entry)
            total -= 1
        if not entries:
            del _CACHE[key]


def _signature(*tensors) -> tuple:
    """Generic shapes (any number of rows): one trace serves every data size and batch size. A
    tensor may be a structure of them (the inputs of a net with several, by name; its outputs)."""
    import tensorflow as tf

    generic = lambda t: tf.TensorSpec((None,) + tuple(t.shape[1:]), t.dtype)  # noqa: E731
    return tuple(None if t is None else tf.nest.map_structure(generic, t) for t in tensors)


def _rows(x):
    """The number of rows of a tensor, or of a structure of tensors (`_take` picks rows of each)."""
    import tensorflow as tf

    return tf.shape(tf.nest.flatten(x)[0])[0]


def _take(x, index):
    import tensorflow as tf

    return tf.nest.map_structure(lambda t: tf.gather(t, index), x)


def _traced(entry: _Entry, kind: str, make, *tensors):
    """The traced function `kind` of this model for these tensors' dtypes and trailing shapes."""
    import tensorflow as tf

    shapes = tuple(None if t is None else tf.nest.map_structure(lambda v: (v.dtype.name, tuple(v.shape[1:])), t) for t in tensors)
    key = (kind, repr(shapes))
    function = entry.functions.get(key)
    if function is None:
        signature = _signature(*tensors)
        shared = plain_adam(entry.model) and shared_trace.function(entry, key, make, signature, executors.options(entry.executor))
        function = shared or make(entry.model, signature)
        entry.functions[key] = function
    return function


def _epoch_function(model, signature, several: bool = False):
    """One epoch of shuffled mini-batches through Keras's own `train_step` (or the same step with a
    fused Adam update, `adam_update.fused_adam_step`), as one graph; its metrics (Keras's `logs`).

    With `several`, the graph runs `count` epochs from `first` (epoch e shuffled under the seed
    (seed, e), as the epochs one by one are) and stops after an epoch whose loss is not finite; it
    returns how many ran and each metric per epoch. A fit with no callback to call between epochs
    is then one call instead of one per epoch (benchmarks/README.md). Not on the single-threaded
    executor for a graph with a branch (`executors.has_branch`; none of netdsl's nets has one): a
    branch inside graph loops there held an inter-op thread for each loop level, and with a
    recurrent layer's own loop as the third level a fit waited forever on 2 cores."""
    import tensorflow as tf

    model.optimizer.build(model.trainable_variables)
    train_step = fused_adam_step(model) if plain_adam(model) else model.train_step

    def epoch(x, y, seed, batch_size, shuffle, sample_weight=None):
        for metric in model.metrics:
            metric.reset_state()
        n = _rows(x)
        # Chosen without a branch (`tf.cond`), which would make calls on the single-threaded executor take turns
        # (`executors._BRANCH_SLOT`): a fit without shuffling draws the order too, and leaves it.
        order = tf.where(shuffle, tf.argsort(tf.random.stateless_uniform([n], seed=seed)), tf.range(n))
        steps = (n + batch_size - 1) // batch_size

        def one_step(step):
            index = order[step * batch_size : tf.minimum((step + 1) * batch_size, n)]
            batch = (_take(x, index), _take(y, index))
            if sample_weight is not None:
                batch = batch + (tf.gather(sample_weight, index),)
            train_step(batch)
            return (step + 1,)

        tf.while_loop(lambda step: step < steps, one_step, (tf.constant(0),))
        return model.get_metrics_result()

    def epochs(x, y, seed, first, count, batch_size, shuffle, sample_weight=None):
        shapes = model.get_metrics_result()  # the metrics' names, dtypes and shapes
        logs = {name: tf.TensorArray(value.dtype, size=count, element_shape=value.shape) for name, value in shapes.items()}

        def one_epoch(done, finite, logs):
            seed_of_epoch = tf.stack([seed, tf.cast(first + done, tf.int64)])
            results = epoch(x, y, seed_of_epoch, batch_size, shuffle, sample_weight)
            logs = {name: logs[name].write(done, results[name]) for name in logs}
            return done + 1, tf.reduce_all(tf.math.is_finite(results["loss"])), logs

        done, _, logs = tf.while_loop(
            lambda done, finite, logs: tf.logical_and(done < count, finite), one_epoch,
            (tf.constant(0), tf.constant(True), logs),
        )
        return done, {name: values.stack() for name, values in logs.items()}

    scalar = (tf.TensorSpec((), tf.int32), tf.TensorSpec((), tf.bool))
    if several:
        run, seeds = epochs, (tf.TensorSpec((), tf.int64), tf.TensorSpec((), tf.int32), tf.TensorSpec((), tf.int32))
    else:
        run, seeds = epoch, (tf.TensorSpec((2,), tf.int64),)
    weights = () if signature[2] is None else signature[2:]
    return tf.function(lambda *args: run(*args), input_signature=signature[:2] + seeds + scalar + weights, autograph=False)


def _evaluate_function(model, signature):
    """Loss and metrics on held-out data, in large chunks (the same numbers as `model.evaluate`)."""
    import tensorflow as tf

    def evaluate(x, y, sample_weight):
        for metric in model.metrics:
            metric.reset_state()
        n = _rows(x)

        def one_chunk(start):
            stop = tf.minimum(start + EVALUATE_CHUNK, n)
            batch = (_take(x, tf.range(start, stop)), _take(y, tf.range(start, stop)))
            if sample_weight is not None:
                batch = batch + (sample_weight[start:stop],)
            model.test_step(batch)
            return (stop,)

        tf.while_loop(lambda start: start < n, one_chunk, (tf.constant(0),))
        return model.get_metrics_result()

    if signature[2] is not None:
        return tf.function(evaluate, input_signature=signature, autograph=False)
    return tf.function(lambda x, y: evaluate(x, y, None), input_signature=signature[:2], autograph=False)


def train(entry: _Entry, x, y, *, epochs: int, batch_size: int, shuffle: bool, seed: int,
          sample_weight=None, validation=None, callbacks=(), initial_epoch: int = 0) -> dict:
    """Train `entry.model` for `epochs` epochs; returns the history (as `model.fit`'s `history`)."""
    import tensorflow as tf

    model = entry.model
    x = tf.nest.map_structure(tf.convert_to_tensor, x)  # several inputs or outputs: by name
    y = tf.nest.map_structure(tf.convert_to_tensor, y)
    weights = None if sample_weight is None else tf.convert_to_tensor(np.asarray(sample_weight, dtype="float32"))
    if not entry.functions:
        entry.executor = executors.choose(model)
        # Build the loss's and metrics' variables now, eagerly, on one row: a function that creates
        # variables while it is traced is traced twice (the second trace costs as much as the first).
        one = (_take(x, [0]), _take(y, [0])) + (() if weights is None else (weights[:1],))
        model.test_step(one)
    run = _traced(entry, "epochs", lambda m, sig: _epoch_function(m, sig, several=True), x, y, weights)
    with executors.options(entry.executor)():  # many epochs per call, unless a branch forbids (`_epoch_function`)
        several = entry.executor != executors.SINGLE_THREADED or not executors.has_branch(run)
    if not several:
        run = _traced(entry, "epoch", _epoch_function, x, y, weights)
    checks = None  # (the traced evaluation, its arguments), with validation data
    if validation is not None:
        val_x, val_y = (tf.nest.map_structure(tf.convert_to_tensor, part) for part in validation[:2])
        val_w = None if len(validation) < 3 else tf.convert_to_tensor(np.asarray(validation[2], dtype="float32"))
        checks = (_traced(entry, "evaluate", _evaluate_function, val_x, val_y, val_w),
                  (val_x, val_y) + (() if val_w is None else (val_w,)))
    for function in (run, checks[0]) if checks else (run,):  # traced here, under the fit's lock
        if hasattr(function, "get_concrete_function"):
            with executors.options(entry.executor)():
                function.get_concrete_function()
    with seeding.training_apart():  # the epochs draw nothing global: other fits go on meanwhile
        return _epochs(entry, run, checks, several, (x, y, weights), epochs, batch_size, shuffle, seed, callbacks,
                       initial_epoch)


def _epochs(entry, run, checks, several, data, epochs, batch_size, shuffle, seed, callbacks, initial_epoch) -> dict:
    """`train`'s epochs, once its functions are traced: the history."""
    import keras
    import tensorflow as tf

    model, (x, y, weights) = entry.model, data
    callback_list = keras.callbacks.CallbackList(list(callbacks), model=model, epochs=epochs, verbose=0)
    history: dict[str, list[float]] = {}
    model.stop_training = False
    callback_list.on_train_begin()
    batch = tf.constant(int(batch_size), dtype=tf.int32)
    shuffling = tf.constant(bool(shuffle))
    weighted = () if weights is None else (weights,)

    def run_epochs(first: int, count: int) -> dict:
        """Epochs first.. (count of them, one unless `several`) in one call: each metric per epoch."""
        if several:
            (done, logs), entry.executor = executors.call(entry.executor, run, x, y, tf.constant(int(seed), tf.int64),
                                                 tf.constant(first), tf.constant(count), batch, shuffling, *weighted)
            return {name: [float(value) for value in values.numpy()[: int(done)]] for name, values in logs.items()}
        logs, entry.executor = executors.call(entry.executor, run, x, y, tf.constant([seed, first], dtype=tf.int64), batch,
                                     shuffling, *weighted)
        return {name: [float(value)] for name, value in logs.items()}

    # TerminateOnNaN acts on batches, which this path does not report: a non-finite loss ends training here.
    if several and checks is None and all(isinstance(c, keras.callbacks.TerminateOnNaN) for c in callbacks):
        history = run_epochs(initial_epoch, epochs)
        callback_list.on_train_end()
        return history
    for epoch in range(initial_epoch, initial_epoch + epochs):
        callback_list.on_epoch_begin(epoch)
        logs = {name: values[0] for name, values in run_epochs(epoch, 1).items()}
        if checks is not None and np.isfinite(logs.get("loss", 0.0)):
            val_logs, entry.executor = executors.call(entry.executor, checks[0], *checks[1])
            logs.update({f"val_{name}": float(value) for name, value in val_logs.items()})
        callback_list.on_epoch_end(epoch, logs)
        for name, value in logs.items():
            history.setdefault(name, []).append(value)
        if model.stop_training or not np.isfinite(logs.get("loss", 0.0)):
            break
    callback_list.on_train_end()
    return history


def predict(model, x) -> np.ndarray | list:
    """`model(x)` in inference mode, traced once per model (on the single-threaded executor for
    small nets, as their epochs), every row computed in a chunk of exactly PREDICT_CHUNK rows.
    `x` is an array, or a dict by input name (several inputs); a model with several outputs gives
    a list of arrays, in its outputs' order.

    Why fixed chunks: a CPU's matrix kernels pick their blocking, vector tails and threading by
    the number of rows, so the same row can come out 1 ulp apart in a batch of 1, of 20 or of 600
    (seen on AMD EPYC with AVX2, and in small batches with AVX-512). Padded to one size, every call
    runs the same kernels on the same shapes, and a row's output depends on that row alone (tests:
    tests/test_fast.py, every permutation and subset on each of the CPU's instruction sets)."""
    import tensorflow as tf

    padded = tf.nest.map_structure(_padded, x)
    (signature,) = _signature(padded)
    with _LOCK:
        predictor = _PREDICTORS.get(model)
    if predictor is None or predictor.signature not in (None, signature):
        predictor = _predictor(model, signature)  # a shared one is traced here: not under the lock
        with _LOCK:
            _PREDICTORS[model] = predictor
    n = len(tf.nest.flatten(x)[0])
    output, predictor.executor = executors.call(predictor.executor, predictor.function, padded)
    if isinstance(output, (list, tuple)):  # several outputs: one array each, in the model's order
        return [np.asarray(o)[:n] for o in output]
    return np.asarray(output)[:n]


def _padded(part):
    """One input's rows with padding rows after them, up to a whole number of chunks."""
    import tensorflow as tf

    part = part.numpy() if isinstance(part, tf.Tensor) else np.asarray(part)
    n = len(part)
    chunks = max(1, -(-n // PREDICT_CHUNK))
    if chunks * PREDICT_CHUNK != n:
        shape = (chunks * PREDICT_CHUNK - n,) + part.shape[1:]
        padding = np.full(shape, b"", dtype=object) if part.dtype == object else np.zeros(shape, dtype=part.dtype)
        part = np.concatenate([part, padding]) if n else padding
    return tf.convert_to_tensor(part)


def _predictor(model, signature):
    """A new `_Predictor` for `model`: its family's shared trace for inputs of `signature`
    (`shared_trace.predict_function`: nets alike but for their widths, one per executor), else its
    own `tf.function`, traced at the first call."""
    import tensorflow as tf

    executor = executors.choose(model)
    shared = shared_trace.predict_function(model, lambda m: _chunked(weakref.ref(m)), (signature,), executor,
                                           executors.options(executor))
    if shared is not None:
        return _Predictor(shared, executor, signature)
    return _Predictor(tf.function(_chunked(weakref.ref(model)), reduce_retracing=True, autograph=False), executor)


@dataclass(eq=False)
class _Predictor:
    """A model's traced `predict` function and the executor it runs on (`predict`); a shared
    function takes only inputs of its `signature` (an own one: any)."""

    function: object
    executor: str
    signature: object = None


# Keras model -> its _Predictor, kept only as long as the model (whose functions reach it only
# weakly), so that netdsl sets no attribute on the user's Keras models.
_PREDICTORS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def traced_predict(model, forget: bool = False):
    """The traced function `predict` made for `model`, or None before its first prediction; with
    `forget`, dropped (it holds what it was traced with: a text model's vocabulary)."""
    predictor = _PREDICTORS.pop(model, None) if forget else _PREDICTORS.get(model)
    return None if predictor is None else predictor.function


def _chunked(model_ref):
    """The model `model_ref` refers to, applied to each PREDICT_CHUNK rows of its input in turn, in
    one graph."""
    import tensorflow as tf

    model = model_ref()
    several = len(model.outputs) > 1
    shapes = [((PREDICT_CHUNK,) + tuple(o.shape[1:]), o.dtype) for o in model.outputs]

    def in_chunks(t):
        return tf.reshape(t, tf.concat([[-1, PREDICT_CHUNK], tf.shape(t)[1:]], axis=0))

    def run(x):
        chunks = tf.nest.map_structure(in_chunks, x)  # a dict by input name for several inputs
        count = tf.shape(tf.nest.flatten(chunks)[0])[0]

        def one_chunk(i, outputs):
            out = model_ref()(tf.nest.map_structure(lambda c: c[i], chunks), training=False)
            out = list(out) if several else [out]
            return i + 1, tuple(array.write(i, o) for array, o in zip(outputs, out))

        outputs = tuple(tf.TensorArray(dtype, size=count, element_shape=shape) for shape, dtype in shapes)
        _, outputs = tf.while_loop(lambda i, _: i < count, one_chunk, (tf.constant(0), outputs))
        stacked = [o.stack() for o in outputs]
        flat = [tf.reshape(o, tf.concat([[-1], tf.shape(o)[2:]], axis=0)) for o in stacked]
        return flat if several else flat[0]

    return run
