"""Every use netdsl makes of another library's private API (Keras, TensorFlow, scikit-learn,
joblib), each behind one small named function, so that a new version that removes or renames one
fails in one place, loudly: tests/test_compat.py holds a test per function.

Nothing is imported at import time (`netdsl.dsl` never imports TensorFlow when it is imported):
each function imports what it uses.
"""

from __future__ import annotations

import contextlib

# ---- Keras: seeds and variables -------------------------------------------------------------------


def seed_maker():
    """Keras's `make_default_seed` (`keras.src.random.seed_generator`): the function that draws the
    seed of each new random initializer and generator state from Python's `random`; None if this
    Keras has none there (the fast path then restarts a cached model by making its layers)."""
    try:
        from keras.src.random.seed_generator import make_default_seed
    except ImportError:
        return None
    return make_default_seed


def keras_random():
    """What Keras's `make_default_seed` draws from (`seed_generator.python_random`): Python's
    `random` module, or the private `random.Random` a seeded fit puts there (`seeding.fitting`).
    Both have `getstate`, `setstate` and `randint`."""
    from keras.src.random import seed_generator

    return seed_generator.python_random


def set_keras_random(generator) -> None:
    """Make Keras's `make_default_seed` draw from `generator` (see `keras_random`)."""
    from keras.src.random import seed_generator

    seed_generator.python_random = generator


def variable_initializer(variable):
    """The initializer a Keras variable was made with (`Variable._initializer`)."""
    return variable._initializer


@contextlib.contextmanager
def uninitialized_variables_kept():
    """Keras's global list of variables waiting to be initialized
    (`keras.src.backend.common.global_state`, "uninitialized_variables") is put back as it was on
    leaving: the variables made inside are never initialized later."""
    from keras.src.backend.common import global_state

    waiting = list(global_state.get_global_attribute("uninitialized_variables") or [])
    try:
        yield
    finally:
        global_state.set_global_attribute("uninitialized_variables", waiting)


@contextlib.contextmanager
def variables_read_from(variables, handles):
    """Keras variables (TensorFlow backend) that read and write `handles` (resource tensors of the
    graph being traced) instead of their own TensorFlow variables, inside: each one's `_value` is a
    variable over its handle, of the same rank and dtype, its dimensions left open."""
    from tensorflow.python.ops import resource_variable_ops

    kept = [variable._value for variable in variables]
    try:
        for variable, handle in zip(variables, handles):
            spec = resource_variable_ops.VariableSpec(shape=[None] * len(variable.shape), dtype=variable._value.dtype,
                                                      trainable=variable.trainable)
            variable._value = spec._from_components([handle])
        yield
    finally:
        for variable, value in zip(variables, kept):
            variable._value = value


@contextlib.contextmanager
def open_filters(model):
    """Inside, each `Conv1D` and `Conv2D` layer of `model` adds its bias as a vector of any length:
    Keras's convolution `call` (`BaseConv.call`) reshapes the bias to `(1, ..., 1, self.filters)`,
    the one size it reads from its layer, so `filters` is -1 ("as many as there are") while a
    family's shared function is traced (`estimators/shared_trace.py`)."""
    convolutions = [layer for layer in model.layers if type(layer).__name__ in ("Conv1D", "Conv2D")]
    kept = [layer.filters for layer in convolutions]
    try:
        for layer in convolutions:
            layer.filters = -1
        yield
    finally:
        for layer, filters in zip(convolutions, kept):
            layer.filters = filters


def keras_seed_state() -> dict:
    """Keras's global seed state, which `keras.utils.set_random_seed` sets: the seed it recorded
    (`rng_utils.GLOBAL_RANDOM_SEED`) and its global seed generator
    (`seed_generator.GLOBAL_SEED_GENERATOR`), by their names in `global_state`."""
    from keras.src.backend.common import global_state

    return {name: global_state.get_global_attribute(name) for name in _keras_seed_names()}


def set_keras_seed_state(state: dict) -> None:
    """Put back what `keras_seed_state` returned."""
    from keras.src.backend.common import global_state

    for name, value in state.items():
        global_state.set_global_attribute(name, value)


def reset_keras_seed(value: int) -> None:
    """What `keras.utils.set_random_seed` does besides seeding Python, NumPy and TensorFlow: record
    the seed and drop Keras's global seed generator (it is made again from Python's random)."""
    seed_name, generator_name = _keras_seed_names()
    set_keras_seed_state({seed_name: value, generator_name: None})


def _keras_seed_names() -> tuple[str, str]:
    from keras.src.random import seed_generator
    from keras.src.utils import rng_utils

    return rng_utils.GLOBAL_RANDOM_SEED, seed_generator.GLOBAL_SEED_GENERATOR


# ---- Keras: models and optimizers -----------------------------------------------------------------


def learning_rate_variable(optimizer):
    """The variable a Keras optimizer keeps its learning rate in (`_learning_rate`: a
    `keras.Variable`, or a schedule), or None."""
    return getattr(optimizer, "_learning_rate", None)


def adam_slots(optimizer, variable) -> tuple:
    """(first moment, second moment) variables of a built Keras `Adam` for `variable`
    (`_momentums`, `_velocities`, `_get_variable_index`)."""
    index = optimizer._get_variable_index(variable)
    return optimizer._momentums[index], optimizer._velocities[index]


def training_loss(model, x, y, y_pred, sample_weight):
    """The loss Keras's `train_step` minimises (the compiled loss plus the regularisation losses):
    `Model._compute_loss(..., training=True)`."""
    return model._compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight, training=True)


def loss_tracker(model):
    """The metric in which Keras's `train_step` averages the loss (`Model._loss_tracker`)."""
    return model._loss_tracker


def call_graph(model, inputs):
    """`model`'s graph of layers called again on the symbolic tensors `inputs` (in the order of
    `model.inputs`), the same layer objects, so the outputs join the graph `inputs` come from
    (`Function._run_through_graph`; calling `model` itself would nest it as one layer)."""
    return model._run_through_graph(inputs, operation_fn=lambda operation: operation)


# ---- TensorFlow -------------------------------------------------------------------------------------


def tensorflow_seed_state() -> tuple:
    """(TensorFlow's global seed, the state of the generator it derives op seeds from): the eager
    context's `_seed` and `_rng`, which `tf.random.set_seed` sets."""
    from tensorflow.python.eager import context

    ctx = context.context()
    rng = getattr(ctx, "_rng", None)
    return getattr(ctx, "_seed", None), None if rng is None else rng.getstate()


def set_tensorflow_seed_state(state: tuple) -> None:
    """Put back what `tensorflow_seed_state` returned (without `tf.random.set_seed`, which would
    also empty TensorFlow's caches of compiled functions when nothing changed)."""
    import random

    from tensorflow.python.eager import context

    ctx = context.context()
    seed, rng_state = state
    if getattr(ctx, "_seed", None) != seed or (rng_state is None) != (getattr(ctx, "_rng", None) is None):
        ctx._seed = seed
        ctx._rng = None if rng_state is None else random.Random()
    if rng_state is not None:
        ctx._rng.setstate(rng_state)


def op_determinism() -> bool:
    """Whether TensorFlow's op determinism is on (`tensorflow.python.framework.config`)."""
    from tensorflow.python.framework import config

    return config.is_op_determinism_enabled()


def set_op_determinism(enabled: bool) -> None:
    """Turn TensorFlow's op determinism on or off (only turning it on is public)."""
    from tensorflow.python.framework import config

    if enabled:
        config.enable_op_determinism()
    else:
        config.disable_op_determinism()


@contextlib.contextmanager
def function_call_options(executor_type: str, rewrites: bool, remapping: bool = True):
    """TensorFlow's options for the calls of compiled functions made inside, on this thread only
    (the eager context's `function_call_options`): the function executor `executor_type`, and
    grappler's graph rewrites on or off (`remapping`: its fusion of an op with the ones after it)."""
    import copy

    from tensorflow.core.protobuf import config_pb2, rewriter_config_pb2
    from tensorflow.python.eager import context

    options = context.context().function_call_options
    saved = copy.copy(options)
    config = config_pb2.ConfigProto.FromString(options.config_proto_serialized)
    config.graph_options.rewrite_options.disable_meta_optimizer = not rewrites
    if not remapping:
        config.graph_options.rewrite_options.remapping = rewriter_config_pb2.RewriterConfig.OFF
    options.config_proto_serialized = config
    options.executor_type = executor_type
    try:
        yield
    finally:
        context.context().function_call_options = saved


# ---- scikit-learn -----------------------------------------------------------------------------------


def check_sample_weight(sample_weight, X, ensure_non_negative: bool = False):
    """scikit-learn's validation of `sample_weight` (`sklearn.utils.validation._check_sample_weight`):
    an array of one float weight per row of X, or its `ValueError`."""
    from sklearn.utils.validation import _check_sample_weight

    return _check_sample_weight(sample_weight, X, ensure_non_negative=ensure_non_negative)


def param_names(estimator_class) -> list[str]:
    """The constructor parameters scikit-learn sees on an estimator class (`_get_param_names`)."""
    return estimator_class._get_param_names()


def parameter_constraints(estimator_class) -> dict:
    """An estimator class's parameter constraints (`_parameter_constraints`), which a subclass
    extends with its own."""
    return dict(estimator_class._parameter_constraints)


def interval(kind, left, right, closed: str):
    """A parameter constraint: a number of type `kind` in an interval
    (`sklearn.utils._param_validation.Interval`)."""
    from sklearn.utils._param_validation import Interval

    return Interval(kind, left, right, closed=closed)


# ---- joblib -----------------------------------------------------------------------------------------


def loky_backend_class():
    """joblib's loky backend class (`joblib._parallel_backends.LokyBackend`), to subclass: its
    `MAX_NUM_THREADS_VARS` are the variables that limit each worker's thread pools."""
    from joblib._parallel_backends import LokyBackend

    return LokyBackend
