"""Every use netdsl makes of another library's private API (Keras, TensorFlow, scikit-learn,
joblib), each behind one small named function, so that a new version that removes one fails in
one place, loudly: tests/test_compat.py holds a test per function.

Nothing is imported at import time (`netdsl.dsl` never imports TensorFlow when it is imported):
each function imports what it uses.
"""

from __future__ import annotations

import contextlib


# --- Keras: seeds, variables ---------------------------------------------------------------------


def seed_maker():
    """Keras's `make_default_seed` (`keras.src.random.seed_generator`), the function that draws the
    seed of each new random initializer and generator state from Python's `random`; None if this
    Keras has none there (the fast path's weight plan is then not used)."""
    try:
        from keras.src.random.seed_generator import make_default_seed
    except ImportError:
        return None
    return make_default_seed


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
