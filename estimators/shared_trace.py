"""One traced epoch function for the nets of a search that differ only in their layers' widths
(a dense layer's `units`, a convolution's `filters`): the first such model's epoch is traced once
with every variable it touches passed as an argument, and each other width runs that same function
on its own variables.

Why: a search over widths builds a new architecture every few candidates, and on the fast path
each new architecture paid a Python trace of Keras's training step and TensorFlow's instantiation
of the traced function (graph passes, kernels): about 0.15-0.2 s of CPU for an MLP, about 0.5 s for
the digits convnet, more than its epochs (benchmarks/README.md, "The convnet grid and the
architecture grid", "One trace for a convnet's filters").

How: the traced function takes the model's variables (weights, random-generator states), its
optimizer's (step count, learning rate, moments) and its metrics' as one vector of resource
handles, the first of them the optimizer's step count, the same scalar for every width. While
tracing, the first model's Keras variables read and write the handles of that vector (shapes
left open), so the graph holds no variable of its own (checked: it captures none, else the model
traces its own function as before). Handles passed one by one would not do: TensorFlow
instantiates a function again for every new set of their shapes, which costs about as much as the
trace saved; in one vector only the first handle's shape counts, and it never changes.

The evaluation of validation data between epochs (`fast._evaluate_function`) and `predict`
(`fast.predict`) share the same way: the family's first model traces each once (`function`,
`predict_function`), and every other width runs it on its own variables (a new width's first
prediction cost about 40 ms of tracing before).

Only where that is safe by construction: every layer one whose `call` reads no size of its own
(`SHARED_KINDS`: dense, dropout, activation, 1-D and 2-D convolutions, poolings, up-sampling,
flatten, reshape, and the augmentation layers, which act on the input; a convolution reshapes its
bias to its `filters`, which is left open while tracing, `compat.open_filters`), Adam's fused update (`adam_update.fused_adam_step`: no optimizer that
reads a variable's shape), and nets alike in everything but the widths (`family`: the cache key
with the widths left out) with the same outputs. Each executor has its own shared functions (small
nets run on the single-threaded one, convnets on TensorFlow's default, `executors.choose`). The same
operations run as in the model's own trace; the numbers agree to float rounding (about 1e-7: the
kernels see shapes known only at run time), not bit for bit.
"""

from __future__ import annotations

import functools
import threading
import weakref
from collections import OrderedDict

from netdsl.dsl import compat, kinds

MAX_FAMILIES = 16  # shared functions kept, a family's epoch and predict (each keeps the model it was traced with)
# The layer kinds a family may have: their `call` reads no size of their own (a convolution's `filters` is left
# open while tracing, `compat.open_filters`); augmentation layers act on the input, the same in every width.
SHARED_KINDS = frozenset({
    "dense", "dropout", "activation", "conv1d", "conv2d", "flatten", "reshape", "rescaling",
    "max_pooling1d", "max_pooling2d", "average_pooling1d", "average_pooling2d",
    "global_average_pooling1d", "global_average_pooling2d", "global_max_pooling1d", "global_max_pooling2d",
    "up_sampling1d", "up_sampling2d", "gaussian_noise", "add",
    "random_flip", "random_rotation", "random_translation", "random_zoom", "random_contrast",
})  # fmt: skip
# Statements that hold layers: `repeat N { ... }` makes none of its own, `residual { ... }` an `add`.
BLOCKS = frozenset({"repeat", "residual"})
WIDTHS = {("dense", "units"), ("conv1d", "filters"), ("conv2d", "filters")}  # (kind, argument) left out of a family

_FAMILIES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # a cache entry's model -> its family key
_FUNCTIONS: OrderedDict = OrderedDict()  # (family, function key, variables' kinds) -> concrete function, or None
_LOCK = threading.Lock()


def family(spec_data: dict, rest: tuple) -> str | None:
    """The family of a net whose resolved spec dumps to `spec_data` (`model_dump(mode="json")`),
    `rest` the other parts of its cache key: the key with every width (`WIDTHS`) left out; None
    unless every layer is of a kind in `SHARED_KINDS` (inside `BLOCKS` or not)."""
    found = set()  # the kinds named

    def erased(value):
        if isinstance(value, dict):
            if "kind" in value:
                found.add(value["kind"])
            return {k: erased(v) for k, v in value.items() if (value.get("kind"), k) not in WIDTHS}
        if isinstance(value, list):
            return [erased(v) for v in value]
        return value

    data = erased(spec_data)
    if not found or not found <= SHARED_KINDS | BLOCKS:
        return None
    return repr((data, rest))


def set_family(entry, key: str | None) -> None:
    """`entry`'s family (from `family`), or None for none."""
    if key is not None:
        _FAMILIES[entry.model] = key


def function(entry, key: tuple, make, signature, options):
    """The family's traced function `key` applied to `entry`'s variables (a callable taking the
    arguments of `make(model, signature)`'s function), or None where the entry has no family or
    sharing is not safe (`make` then traces the model's own). The caller (`fast._traced`) asks
    only for a model updated by Adam's fused kernel, and gives the executor's tracing `options` (a
    context manager); shared are its epochs (`key[0]`: "epochs", or "epoch" for a graph with a
    branch on the single-threaded executor) and its evaluation of validation data ("evaluate")."""
    model = entry.model
    name = _FAMILIES.get(model)
    if key[0] not in ("epoch", "epochs", "evaluate") or not _shareable(model, name):
        return None

    def trace(variables):
        inner = make(model, signature)
        return _trace(model, variables, inner.python_function, tuple(inner.input_signature), options)

    model.optimizer.build(model.trainable_variables)
    return _applied(model, name, key, _state(model), trace)


def predict_function(model, make, signature: tuple, executor: str, options):
    """The family's traced `predict` applied to `model`'s variables (a callable taking the padded
    inputs), or None where `model` is no family's (then `fast.predict` traces the model's own).
    `make(model)` gives the Python function to trace (`fast._chunked`), `signature` its inputs'
    specs; `executor` is the one it runs on (each has its own), `options` its tracing options."""
    name = _FAMILIES.get(model)
    if not _shareable(model, name) or model.optimizer is None:
        return None
    # The optimizer's step count first (a scalar in every width: see the module's docstring), then
    # the variables a prediction reads; the optimizer's own are left alone.
    variables = [model.optimizer.iterations, *model.variables]
    return _applied(model, name, ("predict", repr(signature), executor), variables,
                    lambda variables: _trace(model, variables, make(model), signature, options))


def _shareable(model, name) -> bool:
    """Whether `model` belongs to the family `name` and has only layers whose `call` reads no size."""
    return name is not None and all(type(layer).__name__ in _keras_layers() for layer in model.layers)


@functools.cache
def _keras_layers() -> frozenset:
    """The Keras classes of a family's layers (`SHARED_KINDS`, by the kinds registry), once."""
    return frozenset({"InputLayer", *(kinds.LAYERS.keras[kind] for kind in SHARED_KINDS)})


def _applied(model, name, key: tuple, variables: list, trace):
    """The family `name`'s function `key` (traced once by `trace(variables)`, or None where it cannot
    be shared) on `model`'s `variables`, or None."""
    outputs = [(tuple(o.shape[1:]), str(o.dtype)) for o in model.outputs]
    shared_key = (name, key, repr(outputs), tuple((str(v.dtype), len(v.shape)) for v in variables))
    with _LOCK:
        known = shared_key in _FUNCTIONS
        shared = _FUNCTIONS.get(shared_key)
        if known:
            _FUNCTIONS.move_to_end(shared_key)
    if not known:
        shared = trace(variables)
        with _LOCK:
            _FUNCTIONS[shared_key] = shared
            while len(_FUNCTIONS) > MAX_FAMILIES:
                _FUNCTIONS.popitem(last=False)
    if shared is None:
        return None
    import tensorflow as tf

    return _Applied(shared, tf.stack([variable.value.handle for variable in variables]))


class _Applied:
    """A family's traced function on one model's variables (their handles, in the order it was traced with)."""

    def __init__(self, traced, handles):
        self.traced, self.handles = traced, handles

    def __call__(self, *args):
        return self.traced.concrete(*args, self.handles)

    @property
    def graph(self):
        """The traced graph (`executors.has_branch` reads it)."""
        return self.traced.concrete.graph

    def experimental_get_tracing_count(self) -> int:
        """How many times the family's function was traced (as a `tf.function` says it)."""
        return self.traced.function.experimental_get_tracing_count()


class _Traced:
    """A family's `tf.function` and its one concrete function."""

    def __init__(self, function, concrete):
        self.function, self.concrete = function, concrete


def clear() -> None:
    with _LOCK:
        _FUNCTIONS.clear()


def _state(model) -> list:
    """Every variable a training step of `model` reads or writes, the optimizer's step count first:
    the model's, its optimizer's and its metrics' (each once, in a fixed order)."""
    first = model.optimizer.iterations
    seen, found = {id(first)}, [first]
    for group in [model.variables, model.optimizer.variables, *(metric.variables for metric in model.metrics)]:
        for variable in group:
            if id(variable) not in seen:
                seen.add(id(variable))
                found.append(variable)
    return found


def _trace(model, variables: list, python_function, signature: tuple, options):
    """`python_function` (taking arguments of `signature`) traced with `model`'s `variables` read
    from a vector of handles (its last argument) and its convolutions' `filters` left open, or None
    where the graph still captures a variable."""
    import tensorflow as tf

    count = len(variables)

    def run(*args):
        handles = tf.unstack(args[-1], num=count)
        with compat.variables_read_from(variables, handles):
            return python_function(*args[:-1])

    spec = tuple(signature) + (tf.TensorSpec((count,), tf.resource),)
    traced = tf.function(run, input_signature=spec, autograph=False)
    with options(), compat.open_filters(model):  # traced for its executor (loops and conditionals kept whole for the single-threaded one)
        concrete = traced.get_concrete_function()
    if any(captured.dtype == tf.resource for captured in concrete.captured_inputs):
        return None
    return _Traced(traced, concrete)
