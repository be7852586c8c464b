"""The one place where netdsl touches process-wide random state, and only for the length of a fit.

Keras draws the seeds of new layers' initializers and random generators from Python's global
`random`; Keras's standard `fit` shuffles with TensorFlow's global seed. So a fit with
`random_state` sets Python's, NumPy's and Keras's global seeds (and TensorFlow's, on Keras's
standard path) and turns TensorFlow's op determinism on, inside `fitting(seed)` only: when the
block ends, every one of them is as the caller left it, so the user's own random sequences go on
as if netdsl had not run, and their unseeded models do not meet "Random ops require a seed".

Every fit (seeded or not) holds `_LOCK` through its seeding, build and training: an unseeded fit
in another thread would otherwise draw from (and shift) a seeded fit's stream, and two seeded
fits would interleave their draws. Fits in threads therefore run one after another, and the same
seed gives the same model however they are scheduled. Another library drawing from Python's
global `random` in another thread while a seeded fit runs (a Dask worker's event loop does) cannot
shift the fit's layer seeds: during a seeded fit, Keras draws them from a generator of the fit's
own (`compat.set_keras_random`), seeded alike, so they are the numbers the global one would give.
"""

from __future__ import annotations

import contextlib
import random
import threading

import numpy as np

from netdsl.dsl import compat

_LOCK = threading.RLock()


def _saved() -> dict:
    """Everything `seed` changes, to put back afterwards."""
    return {
        "python": random.getstate(),
        "numpy": np.random.get_state(),
        "keras": compat.keras_seed_state(),
        "tensorflow": compat.tensorflow_seed_state(),
        "determinism": compat.op_determinism(),
        "draws": compat.keras_random(),
    }


def _restore(saved: dict) -> None:
    random.setstate(saved["python"])
    np.random.set_state(saved["numpy"])
    compat.set_keras_seed_state(saved["keras"])
    compat.set_tensorflow_seed_state(saved["tensorflow"])
    compat.set_op_determinism(saved["determinism"])
    compat.set_keras_random(saved["draws"])


def as_int(random_state) -> int:
    """An int seed from scikit-learn's `random_state` (an int, or a RandomState to draw one from)."""
    from sklearn.utils import check_random_state

    if isinstance(random_state, (int, np.integer)) and not isinstance(random_state, bool):
        return int(random_state)
    return int(check_random_state(random_state).randint(2**31 - 1))


def seed(value: int, tensorflow: bool = True) -> None:
    """Seed Python, NumPy and Keras (and TensorFlow's global seed if `tensorflow`) and make
    TensorFlow's ops deterministic; only inside `fitting`, which puts everything back.

    Without `tensorflow` (the fast path), TensorFlow's global seed is left alone: the fast path's
    randomness is Keras's (seeded from Python's) and its own explicit seeds, and setting that seed
    empties TensorFlow's caches, so every compiled function would be built again at each seeded fit
    (benchmarks/README.md says what that costs)."""
    import keras
    import tensorflow as tf

    if not tensorflow and _reset_keras_seed(value):
        random.seed(value)
        np.random.seed(value)
    else:
        keras.utils.set_random_seed(value)
    # Keras draws each new layer's seeds from Python's `random` (`make_default_seed`), which other
    # threads of the process may draw from too (a Dask worker's event loop does: dask.sizeof,
    # distributed's comm), shifting the fit's seeds: the fit's draws come from its own generator,
    # seeded alike, so they are the same numbers, whatever other threads do.
    compat.set_keras_random(random.Random(value))
    tf.config.experimental.enable_op_determinism()


def _reset_keras_seed(value: int) -> bool:
    """What `keras.utils.set_random_seed` does besides seeding Python, NumPy and TensorFlow
    (`compat.reset_keras_seed`). False if this Keras keeps its seed state elsewhere (then the
    caller seeds the whole way)."""
    try:
        compat.reset_keras_seed(value)
    except ImportError:
        return False
    return True


@contextlib.contextmanager
def fitting(seeded: bool):
    """The block of one fit: netdsl's fits run one at a time (`_LOCK`); for a `seeded` one, the
    global random state and TensorFlow's op determinism are as before once it ends (whatever
    `seed` set). An unseeded fit draws from the global state as any Keras code does, and leaves
    it advanced: put back, the next unseeded fit would draw the same. The process is set up for
    TensorFlow and Keras is imported first (`runtime.start_keras`), in case nothing before has."""
    from .runtime import start_keras

    start_keras()
    with _LOCK:
        if not seeded:
            yield
            return
        saved = _saved()
        try:
            yield
        finally:
            _restore(saved)


@contextlib.contextmanager
def drawing_apart():
    """A block in which Keras draws new layers' seeds from a throwaway generator, not from Python's
    `random`: rebuilding a saved model (`load`, a copy, an unpickled estimator) makes initializers
    whose values the file's weights then replace, and must not move the caller's random stream.
    Held under `_LOCK`, so no fit draws meanwhile."""
    with _LOCK:
        saved = compat.keras_random()
        compat.set_keras_random(random.Random())
        try:
            yield
        finally:
            compat.set_keras_random(saved)
