"""Training a built model: the seeds, the validation hold-out, the epochs (on the fast path or with
Keras's `fit`), a diverging loss stopped with a clear error, the second stage of `fine_tune`, and
`history_` recorded across fits.

`TrainingMixin` holds the estimator's side (it reads `random_state`, `verbose` and the fit's
`_continuing`, and sets `history_`, `n_iter_`, `best_epoch_`); the functions are the plain parts.
"""

from __future__ import annotations

import numpy as np

from netdsl.dsl.errors import NetdslError, ParameterError

from . import fast, seeding
from .several import Rows

__all__ = [
    "TrainingDiverged", "TrainingMixin", "checked_class_weight", "class_weight_per_sample", "weights_for_loss", "snapshot",
    "put_back",
]  # fmt: skip


class TrainingDiverged(NetdslError, RuntimeError):
    """Training produced a NaN or infinite loss; the estimator is left as it was before `fit`."""

    code = "T101"


class TrainingMixin:
    """Seeding, the validation split and the training loop of a fit."""

    def _seed(self, keep_compiled: bool = False):
        """Seed Python, NumPy and Keras (and TensorFlow's global seed unless `keep_compiled`, the fast
        path) and make TensorFlow's ops deterministic, when random_state is set; only inside
        `seeding.fitting`, which puts it all back (`seeding.seed` says why the fast path keeps
        TensorFlow's global seed)."""
        if self.random_state is not None:
            seeding.seed(seeding.as_int(self.random_state), tensorflow=not keep_compiled)

    def _shuffle_seed(self) -> int:
        """The seed of the fast path's mini-batch order: `random_state`'s, or a new one."""
        return seeding.as_int(self.random_state)

    def _train(self, model, X, y, settings, sample_weight=None, class_weight=None, validation=None, epochs=None,
               entry=None, carry=True):
        """Trains with the file's callbacks (on the fast path when `entry` is given, else with Keras's
        fit); stops with a clear error if the loss diverges. Continuing a checkpoint, the callbacks
        go on from where they stood (`callback_state`), unless not `carry` (a second stage's start anew)."""
        from types import SimpleNamespace

        import keras

        from . import callback_state
        from .compile import build_callbacks
        from .progress import EpochProgress

        callbacks = build_callbacks(settings["callbacks"], has_validation=validation is not None)
        carried = callback_state.carried(getattr(self, "_checkpoint", None)) if carry else None
        if carried is not None and callback_state.stopped(carried[0]):
            return SimpleNamespace(history={}), None  # early stopping ended this training: no more epochs
        last = callback_state.LastWeights(callbacks)  # listed only where needed: with no callback to run between
        # epochs, the fast path runs them all in one call
        watch = [keras.callbacks.TerminateOnNaN()]
        if self.verbose:
            watch.append(EpochProgress(epochs or settings["epochs"], style="bar" if self.verbose == 1 else "lines"))
        sample_weight = weights_for_loss(y, sample_weight)
        if validation is not None and len(validation) > 2:
            validation = validation[:2] + (weights_for_loss(validation[1], validation[2]),)
        if class_weight is not None:  # one weight per sample, as Keras does it (and with sample weights too)
            per_class = class_weight_per_sample(y, class_weight)  # (n,), or (n, T) with one label per step
            sample_weight = per_class if sample_weight is None else sample_weight * per_class
        y = y.parts if isinstance(y, Rows) else y  # several outputs: by name, as Keras takes them
        if validation is not None and isinstance(validation[1], Rows):
            validation = (validation[0], validation[1].parts) + tuple(validation[2:])
        if carried is not None:
            watch.insert(0, callback_state.Carried(callbacks, *carried))  # after the file's own reset themselves
        if entry is not None:
            history = SimpleNamespace(history=fast.train(
                entry, X, y,
                epochs=epochs or settings["epochs"],
                batch_size=settings["batch_size"],
                shuffle=settings["shuffle"],
                seed=self._shuffle_seed(),
                sample_weight=sample_weight,
                validation=validation,
                callbacks=([last] if last.needed else []) + callbacks + watch,
                # epochs numbered on from the fitted ones (each epoch's shuffle is drawn from its number);
                # a second stage's from 0, as in every fit that runs one
                initial_epoch=len(getattr(self, "history_", {}).get("loss", [])) if self._continuing and carry else 0,
            ))
        else:
            history = model.fit(
                X,
                y,
                sample_weight=sample_weight,
                validation_data=validation,
                epochs=epochs or settings["epochs"],
                batch_size=settings["batch_size"],
                shuffle=settings["shuffle"],
                callbacks=([last] if last.needed else []) + callbacks + watch,
                verbose=0,
            )
        _refuse_divergence(history.history.get("loss", []), settings)
        callback_state.record(self, callbacks, last, model)
        stopper = next((c for c in callbacks if isinstance(c, keras.callbacks.EarlyStopping)), None)
        return history, stopper

    def _record(self, history, stopper, settings):
        new = {k: [float(v) for v in values] for k, values in history.history.items()}
        if getattr(self, "history_", None) is not None and self._continuing:
            self.history_ = {k: self.history_.get(k, []) + new.get(k, []) for k in set(self.history_) | set(new)}
        else:
            self.history_ = new
        self.n_iter_ = len(self.history_.get("loss", []))
        if stopper is not None and stopper.stopped_epoch > 0 and getattr(stopper, "best_epoch", None) is not None:
            self.best_epoch_ = int(stopper.best_epoch) + 1  # 1-based, as epochs are counted in logs
        elif hasattr(self, "best_epoch_") and not self._continuing:
            del self.best_epoch_

    def _second_stage(self, model, entry, stage, names, settings, loss, X, y, **fit_args):
        """`fine_tune = unfreeze(...)`: the layers `names` (as the static analysis matched them)
        become trainable, and training goes on `stage.epochs` epochs with the same optimizer kind at
        the stage's learning rate (default: a tenth of the first stage's), a new optimizer state and
        callbacks anew: (history, early stopper, the model trained, its fast-path entry or None). On
        the fast path (`entry`) the stage has its own compiled model over the same layers
        (`training_path.second_stage`); on Keras's path the model is compiled again."""
        from . import training_path
        from .compile import unfreeze

        rate = stage.learning_rate or (settings["learning_rate"] or settings["optimizer"].learning_rate) / 10
        settings = dict(settings, learning_rate=rate, epochs=stage.epochs)
        if entry is None:
            weights = unfreeze(model, names)
            self._compile(model, settings, loss, settings["metrics"])
        else:
            before = sum(int(np.prod(v.shape)) for v in entry.model.trainable_weights)
            entry = training_path.second_stage(self, entry, names, settings, loss)
            model = entry.model
            weights = sum(int(np.prod(v.shape)) for v in model.trainable_weights) - before
        if self.verbose:
            print(f"stage 2: unfroze {len(names)} layer{'s' if len(names) != 1 else ''} ({', '.join(names)}), "
                  f"{weights:,} more trainable weights; {stage.epochs} epochs at learning rate {rate:g}", flush=True)
        try:
            history, stopper = self._train(model, X, y, settings, epochs=stage.epochs, entry=entry, carry=False, **fit_args)
        finally:
            if entry is not None:
                fast.release(entry, kept=True)
        return history, stopper, model, entry

    def _split(self, n: int, fraction: float, targets, origin=None):
        """A shuffled hold-out for validation (stratified for classifiers where every class can be).
        With augmented rows (`origin`), only original rows are held out, and the copies made from a
        held-out row are dropped from training."""
        from sklearn.model_selection import train_test_split

        if origin is not None:
            origin = np.asarray(origin)
            originals = np.flatnonzero(origin == np.arange(n))
            sub_targets = None if targets is None else np.asarray(targets)[originals]
            kept, held = self._split(len(originals), fraction, sub_targets)
            val = originals[held]
            train = np.flatnonzero(~np.isin(origin, val))
            return train, val
        index = np.arange(n)
        n_val = max(1, int(round(n * fraction)))
        if n - n_val < 1:
            raise ParameterError(f"validation_split={fraction} leaves no samples to train on ({n} samples).")
        stratify = None
        if self._stratify() and targets is not None:
            counts = np.bincount(targets)
            if counts.min() >= 2 and n_val >= len(counts):
                stratify = targets
        seed = self.random_state if isinstance(self.random_state, (int, np.integer)) else 0
        train, val = train_test_split(index, test_size=n_val, random_state=seed, stratify=stratify)
        return np.sort(train), np.sort(val)

    def _stratify(self) -> bool:
        return False


def _refuse_divergence(losses, settings) -> None:
    if any(not np.isfinite(v) for v in losses):
        epoch = next(i for i, v in enumerate(losses) if not np.isfinite(v)) + 1
        lr = settings["learning_rate"] or settings["optimizer"].learning_rate
        raise TrainingDiverged(
            f"Training stopped at epoch {epoch}: the loss became {losses[epoch - 1]}. "
            f"The model is not usable. Try a lower learning rate (now {lr:g}), scaling the inputs "
            "(e.g. StandardScaler), or checking the targets for extreme values."
        )


def checked_class_weight(weights):
    """Class weights (class index -> weight), refused unless each is finite and not negative."""
    if weights is not None:
        bad = {k: w for k, w in weights.items() if not (np.isfinite(w) and w >= 0)}
        if bad:
            index, value = next(iter(bad.items()))
            raise ParameterError(
                f"class_weight must be finite and non-negative; got {value!r} for class index {index} "
                "(a negative weight makes the loss negative)."
            )
    return weights


def weights_for_loss(y, sample_weight):
    """Sample weights shaped to broadcast over the loss's values: a loss of targets with more axes
    per sample (a sequence, an image; one label per step) has a value per step or pixel, (n, T)
    or (n, 8, 8), which Keras multiplies by the weights of shape (n,) only when the last axis is 1.
    Integer targets are class indices (a value per index); others lose their last axis to the loss."""
    if sample_weight is None or not isinstance(y, np.ndarray):  # several outputs: Keras's own per output
        return sample_weight
    rank = y.ndim if np.issubdtype(y.dtype, np.integer) else y.ndim - 1
    sample_weight = np.asarray(sample_weight)
    return sample_weight.reshape((len(sample_weight),) + (1,) * (rank - 1)) if rank > 1 and sample_weight.ndim == 1 else sample_weight


def class_weight_per_sample(y, class_weight: dict) -> np.ndarray:
    """Keras's reading of `class_weight`: the class of each target row (argmax of one-hot rows).
    Integer targets of shape (n, T), one class index per step, give a weight per step (n, T)."""
    y = np.asarray(y)
    if y.ndim > 1 and not np.issubdtype(y.dtype, np.integer):
        y = np.argmax(y, axis=-1) if y.shape[-1] != 1 else y[..., 0]
    labels = np.round(y).astype(int)
    return np.vectorize(lambda label: class_weight.get(int(label), 1.0), otypes=["float32"])(labels)


def snapshot(model) -> list:
    """(variable, value) for each of `model`'s variables and its optimizer's, for `put_back`."""
    variables = list(model.variables)
    optimizer = getattr(model, "optimizer", None)
    if optimizer is not None and getattr(optimizer, "built", False):
        variables += list(optimizer.variables)
    return [(variable, np.array(variable.numpy(), copy=True)) for variable in variables]


def put_back(kept: list) -> None:
    """The values `snapshot` took, assigned back (a failed refit leaves the model as it was)."""
    for variable, value in kept:
        variable.assign(value)
