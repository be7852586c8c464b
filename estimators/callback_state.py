"""The file's callbacks across a checkpoint: where early stopping and learning-rate reduction stood
when a fit ended, so that a fit continued from a checkpoint (`checkpoint.resume`, the rungs of
successive halving) goes on as one longer fit would.

A fit that ends with `early_stopping(restore_best_weights=true)` hands back its best epoch's weights
(Keras restores them when training ends), but one longer fit would go on from its last epoch's
weights, counting the epochs without improvement since its best one, and would restore the best
weights of all its epochs at its end; a stop already made ends it. `record` keeps that after every
fit (plain data, and the last and best weights only where they differ from the model's), `Carried`
puts it back when a continuation starts, and `stopped` tells a continuation that early stopping
ended the training already, so that it trains no more epochs. Learning-rate reduction likewise: its
counters and the rate it reduced to. Other callbacks keep no state between epochs.
"""

from __future__ import annotations

import keras
import numpy as np

__all__ = ["Carried", "LastWeights", "carried", "record", "stopped", "TRANSIENT"]

STATE = "_callback_state"  # plain data: one entry per callback of the file, and the learning rate
LAST, BEST = "_callback_last_weights", "_callback_best_weights"  # flat float64 arrays (exact for float32)
# Kept for a continuation only: never written with a saved model (`BaseNet.__getstate__`).
TRANSIENT = (STATE, LAST, BEST)

_EARLY = ("wait", "best", "best_epoch", "stopped_epoch")
_REDUCE = ("wait", "best", "cooldown_counter")


class LastWeights(keras.callbacks.Callback):
    """First of a fit's callbacks: the model's weights when training ends, before early stopping
    puts its best epoch's back (its `on_train_end` runs after this one's); only where one will."""

    weights = None

    def __init__(self, callbacks):
        super().__init__()
        self.needed = any(isinstance(c, keras.callbacks.EarlyStopping) and c.restore_best_weights for c in callbacks)

    def on_train_end(self, logs=None):
        if self.needed:
            self.weights = self.model.get_weights()


def record(estimator, callbacks, last: LastWeights, model) -> None:
    """Keep on `estimator` where `callbacks` (the file's, in its order) stood at the end of a fit."""
    entries, best = [], None
    for callback in callbacks:
        if isinstance(callback, keras.callbacks.EarlyStopping):
            entries.append({"kind": "early_stopping", **{name: _plain(getattr(callback, name)) for name in _EARLY}})
            if callback.restore_best_weights and callback.best_weights is not None:
                best = callback.best_weights
        elif isinstance(callback, keras.callbacks.ReduceLROnPlateau):
            entries.append({"kind": "reduce_lr_on_plateau", **{name: _plain(getattr(callback, name)) for name in _REDUCE}})
        else:
            entries.append(None)
    for name in (STATE, LAST, BEST):
        estimator.__dict__.pop(name, None)
    if not any(entries):
        return  # nothing that a continuation needs (and nothing copied: this runs after every fit)
    state = {"callbacks": entries, "shapes": [[list(w.shape), keras.backend.standardize_dtype(w.dtype)] for w in model.weights]}
    if any(entry and entry["kind"] == "reduce_lr_on_plateau" for entry in entries):
        state["learning_rate"] = float(keras.ops.convert_to_numpy(model.optimizer.learning_rate))
    setattr(estimator, STATE, state)
    now = model.get_weights() if last.weights is not None or best is not None else None
    for name, weights in ((LAST, last.weights), (BEST, best)):
        if weights is not None and not all(np.array_equal(a, b) for a, b in zip(weights, now)):
            setattr(estimator, name, np.concatenate([np.ravel(w).astype(np.float64) for w in weights]))


def carried(state) -> tuple | None:
    """(plain state, last weights, best weights) that a checkpoint (`checkpoint.Checkpoint`) holds
    of its fit's callbacks, or None where it holds none."""
    if state is None or not state.attributes.get(STATE):
        return None
    return state.attributes[STATE], state.arrays.get(LAST), state.arrays.get(BEST)


def stopped(state: dict) -> bool:
    """Whether early stopping ended the training that `state` comes from."""
    return any(entry and entry["kind"] == "early_stopping" and entry["stopped_epoch"] > 0 for entry in state["callbacks"])


class Carried(keras.callbacks.Callback):
    """Last of a continuation's callbacks: when training starts (after the others have reset
    themselves), it puts back where they stood, the last epoch's weights and the reduced rate."""

    def __init__(self, callbacks, state: dict, last, best):
        super().__init__()
        self.file_callbacks, self.state, self.last, self.best = list(callbacks), state, last, best

    def on_train_begin(self, logs=None):
        # Where not kept, the best weights are the model's now (restored when the fit ended).
        best = self._weights(self.best) if self.best is not None else self.model.get_weights()
        if self.last is not None:
            self.model.set_weights(self._weights(self.last))
        for callback, entry in zip(self.file_callbacks, self.state["callbacks"]):
            if entry is None:
                continue
            names = _EARLY if entry["kind"] == "early_stopping" else _REDUCE
            for name in names:
                setattr(callback, name, entry[name])
            if entry["kind"] == "early_stopping" and callback.restore_best_weights and entry["best"] is not None:
                callback.best_weights = best
        if "learning_rate" in self.state:
            self.model.optimizer.learning_rate = self.state["learning_rate"]

    def _weights(self, flat):
        if flat is None:
            return None
        weights, start = [], 0
        for shape, dtype in self.state["shapes"]:
            size = int(np.prod(shape))
            weights.append(np.asarray(flat[start:start + size]).reshape(shape).astype(dtype))
            start += size
        return weights


def _plain(value):
    """A callback's counter or monitored value as plain data (`best` is None before any epoch)."""
    if value is None:
        return None
    value = np.asarray(value).item()
    return float(value) if isinstance(value, float) else int(value)
