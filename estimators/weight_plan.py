"""How the fast path restarts a cached model: the initial values a new build of the net would give
its variables under the current seed (`fresh_weights`, which makes the layers anew, and
`WeightPlan`, which computes the same values without making layers once it has been learned).

Both are used by `fast_model.fast_model` only; why they pay off is in benchmarks/README.md.
"""

from __future__ import annotations

import contextlib
import copy
import random

import keras
import numpy as np

from netdsl.dsl import specs

from .compile import assign_literal_weights, new_layers

MAX_DRAWS = 256  # seeds a restart may draw for `learn_weight_plan` to learn it


def fresh_weights(net: specs.Net, model: keras.Model, analysis=None) -> list | None:
    """The initial values that `build_model(net)` would give `model`'s variables under the current
    seed, layer by layer in order (`variables.layer_variables`): how the fast path restarts a cached
    model. The layers are made anew in the same order (so they draw the same seeds) and built to
    the cached model's shapes inside `_deferred_variables`, which keeps each variable's initializer
    instead of creating it in TensorFlow. None where the net takes weights from files (a saved net,
    word vectors), learns a vocabulary or builds a variable from a fixed value. (`WeightPlan` gives
    the same values without making layers, once learned.) `analysis`: the net's static analysis,
    which names the layers (`compile.new_layers`)."""
    made = _made_anew(net, model, analysis)
    return None if made is None else _initial_values(made)


def _build_like(layer, spec, target) -> None:
    """Builds a new layer as calling it where `target` was called builds it: a merge on the list of
    its inputs' shapes, `multi_head_attention` on its query's and value's (self-attention: the same
    point twice), any other layer on its input's shape."""
    inputs = target.input
    if not isinstance(inputs, (list, tuple)):
        layer.build(inputs.shape)
    elif spec.kind == "multi_head_attention":
        layer.build(*(tensor.shape for tensor in inputs))
    else:
        layer.build([tensor.shape for tensor in inputs])


def _made_anew(net: specs.Net, model: keras.Model, analysis=None) -> list | None:
    """`fresh_weights`'s new layers' variables, each with the literal value assigned to it (None for
    those that keep their initializer); None where a restart must build the net whole."""
    # By name: a graph's model lists its layers in an order of its own (a branch's layers may come
    # after another's), while layers are made in the file's order (their seeds are drawn so).
    order = [layer.name for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)]
    targets = {layer.name: layer for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)}
    made = {}
    try:
        with _deferred_variables() as scope:
            for _, spec, layer in new_layers(net, analysis):
                if spec.kind == "text_vectorization" and spec.name not in targets:
                    continue  # a text net's compiled model reads its tokens (`training_path`): no weights
                if spec.kind == "pretrained" or getattr(spec, "embeddings", None) is not None:
                    return None  # (for `pretrained`, `layer` is the rows of the base's layers)
                target = targets.get(layer.name)
                if target is None:
                    return None
                if target.weights:
                    _build_like(layer, spec, target)  # as calling it in a new model would, before the next layer is made
                if len(layer.variables) != len(target.variables):
                    return None
                assign_literal_weights(spec, layer)  # recorded by the scope, read below
                made[layer.name] = layer.variables
            if set(made) != set(order):
                return None
            return [(variable, scope.get_current_value(variable)) for name in order for variable in made[name]]
    except ValueError:  # a variable made from a fixed value, which the scope refuses: build it whole
        return None


def _initial_values(made: list) -> list:
    """The values of `_made_anew`'s variables: the literal assigned, else the initializer's."""
    from netdsl.dsl import compat

    return [value if value is not None else compat.variable_initializer(variable)(variable.shape, dtype=variable.dtype)
            for variable, value in made]


class WeightPlan:
    """How a cached model's initial values follow from the seeds its layers draw when made anew:
    `fresh_weights`'s values without making the layers, learned from two restarts by
    `learn_weight_plan`.

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
        self._last: tuple = ((), [])  # (seeds, values) of the last call: a search's restarts draw the same seeds

    def values(self, seeds: list | None = None) -> list:
        """The initial values under the current seed (consuming its draws), or under `seeds`. The
        values are the same objects as the last call's when the seeds are (they are only read)."""
        from netdsl.dsl import compat

        if seeds is None:
            make_default_seed = compat.seed_maker()
            seeds = [make_default_seed() for _ in range(self.draws)]
        if self._last[0] == tuple(seeds):
            return list(self._last[1])
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
        self._last = (tuple(seeds), values)
        return list(values)


def learn_weight_plan(net: specs.Net, model: keras.Model, analysis=None) -> WeightPlan | None:
    """`model`'s `WeightPlan`, learned from two restarts made the standard way (`fresh_weights`):
    the first tells which draw each variable takes, and the plan must give both restarts' values
    exactly, so a value that depends on the draws in any other way is never taken for fixed. None
    where the restarts do not fit that pattern (they then make their layers). Python's and NumPy's
    random states are left as they were."""
    from netdsl.dsl import compat

    make_default_seed = compat.seed_maker()
    if make_default_seed is None:  # a Keras that draws its seeds elsewhere: restarts make their layers
        return None
    draws = compat.keras_random()  # Python's `random`, or a seeded fit's own generator (`seeding.seed`)
    start, python_start, numpy_start = draws.getstate(), random.getstate(), np.random.get_state()
    try:
        first = _drawn_restart(net, model, make_default_seed, analysis)
        second = _drawn_restart(net, model, make_default_seed, analysis)
        numpy_kept = _same_numpy_state(numpy_start, np.random.get_state())
    finally:
        random.setstate(python_start)  # what a layer may draw itself
        draws.setstate(start)
        np.random.set_state(numpy_start)
    if first is None or second is None or not numpy_kept:
        return None
    (made, values, seeds), (_, values_again, seeds_again) = first, second
    if len(set(seeds)) != len(seeds):
        return None  # two equal seeds: which draw a variable takes is ambiguous
    plan = WeightPlan(len(seeds), [_source(variable, assigned, value, seeds)
                                   for (variable, assigned), value in zip(made, values)])
    for restart, given in ((values, seeds), (values_again, seeds_again)):
        planned = plan.values(given)
        if not all(_identical(a, b) for a, b in zip(planned, restart)):
            return None
    return plan


def _source(variable, assigned, value, seeds: list) -> tuple:
    """Where a variable's initial value comes from (`WeightPlan.sources`)."""
    from netdsl.dsl import compat

    initializer = compat.variable_initializer(variable)
    seed = getattr(initializer, "seed", None)
    array = np.asarray(value)
    if assigned is None and isinstance(seed, int) and seed in seeds:
        return ("initializer", (initializer, tuple(variable.shape), variable.dtype), seeds.index(seed))
    if assigned is None and array.shape == (2,) and array[1] == 0 and int(array[0]) in seeds:
        return ("generator", array.dtype, seeds.index(int(array[0])))
    return ("fixed", value)


def _drawn_restart(net: specs.Net, model: keras.Model, make_default_seed, analysis=None):
    """One standard restart (`fresh_weights`): the variables made, their values, and the seeds it
    drew from Python's `random` (found by replaying `make_default_seed` from the state before until
    the state after is reached); None where there is no such restart or the replay fails."""
    from netdsl.dsl import compat

    draws = compat.keras_random()
    before = draws.getstate()
    made = _made_anew(net, model, analysis)
    if made is None:
        return None
    values = _initial_values(made)
    after = draws.getstate()
    draws.setstate(before)
    seeds = []
    while draws.getstate() != after:
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
    from netdsl.dsl import compat

    with compat.uninitialized_variables_kept():
        with keras.StatelessScope(initialize_variables=False) as scope:
            yield scope
