"""The one place where netdsl touches process-wide random state, and only for the length of a fit.

Keras draws the seeds of new layers' initializers and random generators from Python's global
`random`; Keras's standard `fit` shuffles with TensorFlow's global seed. So a fit with
`random_state` sets Python's, NumPy's and Keras's global seeds (and TensorFlow's, on Keras's
standard path) and turns TensorFlow's op determinism on, inside `fitting(seed)` only: when the
block ends, every one of them is as the caller left it, so the user's own random sequences go on
as if netdsl had not run, and their unseeded models do not meet "Random ops require a seed".

Every fit (seeded or not) holds `_LOCK` through its seeding and build: an unseeded fit in another
thread would otherwise draw from (and shift) a seeded fit's stream, and two seeded fits would
interleave their draws. The fast path's epochs draw nothing from the global state (their shuffles
and dropout take explicit seeds, their weights start as built), so they run outside the lock
(`training_apart`): fits in threads seed and build one after another and train at once, and the
same seed gives the same model however they are scheduled (tests/test_side_effects.py). Before it
lets the lock go, a seeded fit puts the caller's random state back, so what others draw meanwhile
is the caller's stream, as if the fit had ended; it takes its own state up again after. Op
determinism stays on while any seeded fit is open (`_Open`) and is put back when the last ends. A
fit on Keras's standard path (whose `fit` shuffles with TensorFlow's global seed) trains under the
lock and starts only when no fit trains apart. Another library drawing from Python's global
`random` in another thread while a seeded fit runs (a Dask worker's event loop does) cannot shift
the fit's layer seeds: during a seeded fit, Keras draws them from a generator of the fit's own
(`compat.set_keras_random`), seeded alike, so they are the numbers the global one would give.
"""

from __future__ import annotations

import contextlib
import random
import threading

import numpy as np

from netdsl.dsl import compat

_LOCK = threading.RLock()
_CHANGED = threading.Condition(_LOCK)  # notified when a fit's epochs outside the lock end
_FIT = threading.local()  # .fit: this thread's open fit (`_Fit`), if any


class _Open:
    """Process-wide: the seeded fits open (begun, not ended), the op determinism the first of them
    found (put back when the last ends), and the fits whose epochs run outside the lock now."""

    seeded = 0
    determinism = False
    apart = 0


class _Fit:
    """This thread's open fit: whether seeded, the caller's random state it saved, and how deep
    fits nest in it (its epochs go outside the lock only at its own level, depth 1)."""

    def __init__(self, seeded: bool, apart: bool):
        self.seeded, self.apart, self.saved, self.depth = seeded, apart, None, 1


def _saved() -> dict:
    """The random state `seed` changes (not op determinism: `_Open`), to put back afterwards."""
    return {
        "python": random.getstate(),
        "numpy": np.random.get_state(),
        "keras": compat.keras_seed_state(),
        "tensorflow": compat.tensorflow_seed_state(),
        "draws": compat.keras_random(),
    }


def _restore(saved: dict) -> None:
    random.setstate(saved["python"])
    np.random.set_state(saved["numpy"])
    compat.set_keras_seed_state(saved["keras"])
    compat.set_tensorflow_seed_state(saved["tensorflow"])
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
def fitting(seeded: bool, apart: bool = False):
    """The block of one fit: netdsl's fits seed and build one at a time (`_LOCK`); for a `seeded`
    one, the global random state and TensorFlow's op determinism are as before once it ends
    (whatever `seed` set; determinism once no seeded fit is open). An unseeded fit draws from the
    global state as any Keras code does, and leaves it advanced: put back, the next unseeded fit
    would draw the same. `apart`: the fit may train outside the lock (`training_apart`, the fast
    path); a fit that may not waits until no fit trains apart. The process is set up for
    TensorFlow and Keras is imported first (`runtime.start_keras`), in case nothing before has."""
    from .runtime import start_keras

    start_keras()
    with _LOCK:
        fit = getattr(_FIT, "fit", None)
        nested = fit is not None  # one estimator fitting another: inside the outer fit's block
        if nested:
            fit.depth += 1
        else:
            while not apart and _Open.apart:
                _CHANGED.wait()
            fit = _FIT.fit = _Fit(seeded, apart)
        saved = None
        if seeded:
            saved = _saved()
            if not _Open.seeded:
                _Open.determinism = compat.op_determinism()
            _Open.seeded += 1
            if not nested:
                fit.saved = saved
        try:
            yield
        finally:
            if nested:
                fit.depth -= 1
            else:
                _FIT.fit = None
                saved = fit.saved  # the caller's, as it stands after any epochs apart
            if seeded:
                _restore(saved)
                _Open.seeded -= 1
                if not _Open.seeded:
                    compat.set_op_determinism(_Open.determinism)


@contextlib.contextmanager
def training_apart():
    """The fast path's epochs, outside `_LOCK` when called at a fit's own level (`fitting` with
    `apart`): other fits seed, build and train meanwhile. Nothing inside may draw from the global
    random state: what others draw meanwhile is the caller's stream (put back here, as at the
    fit's end), and the fit's own is taken up again after. Elsewhere, under the lock as before."""
    fit = getattr(_FIT, "fit", None)
    if fit is None or not fit.apart or fit.depth != 1:
        yield
        return
    own = None
    if fit.seeded:
        own = _saved()
        _restore(fit.saved)
    _Open.apart += 1
    _LOCK.release()
    try:
        yield
    finally:
        _LOCK.acquire()
        _Open.apart -= 1
        _CHANGED.notify_all()
        if fit.seeded:
            fit.saved = _saved()  # the caller's stream, as others left it
            _restore(own)


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
