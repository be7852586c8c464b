"""`NetRegressor`: a `.net` program as a scikit-learn regressor."""

from __future__ import annotations

import numpy as np
from sklearn.base import RegressorMixin

from netdsl.dsl.errors import InputError, ParameterError
from netdsl.dsl.kinds import CROSSENTROPY_LOSSES
from netdsl.dsl.train_specs import loss_name

from .base import BaseNet
from .inputs import is_number


class ValueTargets:
    """Targets that are numbers to regress (one column, or several): shared by `NetRegressor` and
    `NetTransformer(task="regression")`. Binds `n_outputs`; fitted: `n_outputs_`."""

    def _targets(self, y, spec, reset, classes=None):
        if y is None:
            raise InputError(f"{type(self).__name__} needs targets y to fit.")
        if getattr(self, "class_weight", None) is not None:
            raise ParameterError(f"class_weight is for classifiers; {type(self).__name__} takes sample_weight instead.")
        y = np.asarray(y)
        if y.dtype.kind in "mM":  # NumPy would make them nanoseconds
            raise InputError(
                f"{type(self).__name__} regresses numbers; y holds dates or times ({y.dtype}). Convert them "
                "first, e.g. to seconds from a start (`(y - y.min()).dt.total_seconds()`)."
            )
        if y.dtype.kind not in "biuf":
            try:
                y = y.astype("float64")
            except (TypeError, ValueError):
                example = next((v for v in y.ravel() if not is_number(v)), y.ravel()[0])
                example = example.item() if isinstance(example, np.generic) else example
                raise InputError(
                    f"{type(self).__name__} regresses numeric targets; y holds {type(example).__name__} values "
                    f"such as {example!r}" + (f"; {self._classification_hint()}" if self._classification_hint() else "") + "."
                ) from None
        if not np.all(np.isfinite(y)):
            raise InputError("Input y contains NaN or infinity.")
        too_large = np.abs(y) > np.finfo(np.float32).max
        if too_large.any():
            raise InputError(
                f"Input y holds values beyond float32's range (about ±3.4e38), such as {y[too_large].ravel()[0]:g}; "
                "the net computes in float32. Scale the targets (e.g. TransformedTargetRegressor with a "
                "StandardScaler, or a log) so that they fit."
            )
        y = y.astype("float32")
        shape = y.shape[1:]  # per sample: () for one number, (k,) for k columns, (T, d), (8, 8, 1)...
        n_outputs = shape[-1] if shape else 1
        if reset:
            self.n_outputs_ = n_outputs
            self._y_shape = shape
            self._y_1d = y.ndim == 1
        elif shape != _fitted_shape(self):
            was = _fitted_shape(self)
            raise InputError(
                f"y has {n_outputs} columns, but the model was fitted with {self.n_outputs_}." if len(shape) <= 1 >= len(was)
                else f"y has shape {shape} per sample, but the model was fitted with {was}."
            )
        return y, {"n_outputs": n_outputs}

    def _classification_hint(self) -> str:
        """What to do if y were meant as class labels (NetTransformer's `task`)."""
        return ""

    def _check_output(self, summary, resolved):
        """The net's output must be y's shape per sample, up to axes of size 1 (an output (8, 8, 1)
        takes y of shape (n, 8, 8)), or y may be flat, one column per output value in row-major (C)
        order (an output (8, 8, 1) takes y of shape (n, 64): scikit-learn's scalers and scorers
        take 2-D targets). `_out_shape` records the output's shape, which the targets are fitted in."""
        out = tuple(summary.output_shape)
        shape = _fitted_shape(self)
        unbound = [str(d) for d in out if not isinstance(d, int)]
        if not unbound and _fits(shape, out):
            self._out_shape = out
            return "regression"
        path, _ = self._last_layer(resolved)
        shown = ", ".join(str(d) for d in out)
        hint = f"; {self._classification_hint()}" if self._classification_hint() else ""
        if len(shape) <= 1 and len(out) <= 1 or unbound:
            columns = f"{self.n_outputs_} column{'s' if self.n_outputs_ != 1 else ''}"
            raise resolved.source.located(
                f"the last layer outputs ({shown}) per sample, but the targets have {columns}" if not unbound
                else f"`{unbound[0]}` is not bound: the targets are numbers to regress ({columns}), which bind `n_outputs`",
                path, help=f"end the net with `dense({self.n_outputs_})` or `dense(n_outputs)` (no activation)" + hint,
                code="N703",
            )
        flat = int(np.prod(out))
        raise resolved.source.located(
            f"the last layer outputs ({shown}) per sample, but the targets have shape ({', '.join(map(str, shape))}) per sample",
            path, help=f"the net's output must have y's shape per sample (axes of size 1 aside), or y may be flat: "
            f"here y of shape (n, {shown}) or (n, {flat}); `n_outputs` is the length of y's last axis" + hint, code="N703",
        )

    def _loss_and_targets(self, targets, settings, mode, resolved):
        loss = settings["loss"] or "mse"
        if loss_name(loss) in CROSSENTROPY_LOSSES:
            raise ParameterError(f"Loss {loss_name(loss)!r} is for classification; {type(self).__name__} regresses: take e.g. mse, mae or huber.")
        return loss, targets.reshape((len(targets),) + self._out_shape)  # y in the output's shape


def _fitted_shape(estimator) -> tuple:
    """y's shape per sample at the first fit (a model saved before targets could have more axes
    knows only whether y was 1-D)."""
    shape = getattr(estimator, "_y_shape", None)
    if shape is None:
        shape = () if estimator._y_1d else (estimator.n_outputs_,)
    return tuple(shape)


def _fits(shape: tuple, out: tuple) -> bool:
    """Whether targets of `shape` per sample are the outputs `out`: the same axes but those of size
    1, or flat (one column per output value)."""
    def squeezed(dims):
        return tuple(d for d in dims if d != 1)

    return squeezed(shape) == squeezed(out) or (len(shape) == 1 and shape[0] == int(np.prod(out)))


class NetRegressor(RegressorMixin, ValueTargets, BaseNet):
    """A neural network regressor written in a `.net` file.

    Parameters are those of `NetClassifier` (without the class weights). Targets may have one
    column (predictions are then 1-D) or several; `n_outputs` is bound to their number, so a file
    can end with `dense(n_outputs)`.

    Targets may also have more axes per sample, as the net's output has them: a sequence of values
    (n, T) or of vectors (n, T, d) after a recurrent layer with `return_sequences=true`, an image
    (n, 8, 8, 1) for an autoencoder. y's shape per sample must be the output's, axes of size 1
    aside ((n, 8, 8) fits an output (8, 8, 1)), or y may be flat, one column per output value in
    row-major (C) order ((n, 64) fits an output (8, 8, 1)), which is what scikit-learn's target
    scalers (`TransformedTargetRegressor`) and scorers take. `n_outputs` is the length of y's last
    axis. `predict` gives y's shape as fitted, and `score` is R^2 as scikit-learn's `r2_score`
    gives it for several outputs: the uniform average of each output value's R^2, over y flattened
    to one row per sample (the same number for shaped or flat y).

    Attributes
    ----------
    n_outputs_ : int
        The number of target columns at fit (the length of y's last axis; 1 for 1-D y).
    model_ : keras.Model
        The trained Keras model (its layers named as `netdsl show` names them).
    spec_ : netdsl.dsl.specs.Net
        The program as fitted: its `param`s and the data-bound names (`n_features`,
        `n_classes`, `n_outputs`) bound.
    net_source_ : str
        The program's source text, which a saved model keeps.
    history_ : dict of str to list of float
        The loss and each metric per epoch (`val_*` ones with a validation split), going on
        across warm starts, `partial_fit` and the two stages of `fine_tune`.
    n_iter_ : int
        The number of epochs trained, in all (the length of `history_["loss"]`).
    best_epoch_ : int
        The epoch (1-based) whose weights `early_stopping` kept; set only where it stopped training.
    stage_epochs_ : tuple of (int, int)
        The epochs of each stage of `fine_tune`; set only for a net with `fine_tune`.
    training_path_ : str
        `"fast"`, or `"standard: <why>"`: the path the last fit trained on.
    embedding_coverage_ : dict
        For each `embedding` with `embeddings=`, by layer name, how much of the learned vocabulary
        the vectors file covers; empty without one.
    n_features_in_ : int
        The number of features of X at fit (1 for a net with `input text`).
    feature_names_in_ : ndarray of shape (n_features_in_,)
        The column names of X at fit; set only when X has string column names.
    outputs_ : tuple of str
        The names of the outputs, in `output`'s order; set only for a net with several outputs
        (`estimators/several.py` says how y, `predict` and `score` go then).
    heads_ : list of dict
        Each of those outputs as fitted: its name, task (`"classification"` or `"regression"`),
        shape, y columns and class labels.
    output_mode_ : str
        `"regression"`.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.linspace(0, 1, 40).reshape(-1, 1); y = 2 * X.ravel()
    >>> reg = NetRegressor("dense(8, activation=relu)\\ndense(n_outputs)\\n", epochs=2, random_state=0)
    >>> reg.fit(X, y).predict(X[:2]).shape
    (2,)
    """

    def _y_validation(self):
        return {"y_numeric": True, "multi_output": True}

    def partial_fit(self, X, y, sample_weight=None):
        """One epoch on (X, y), continuing from the current weights (built on the first call)."""
        self._fit(X, y, sample_weight=sample_weight, incremental=True)
        return self

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags

    def predict(self, X):
        """Predictions in y's shape at fit: (n_samples,) for 1-D y, (n_samples, n_outputs) for
        columns, (n_samples, ...) for targets with more axes (as given: flat or shaped); with several
        outputs, (n_samples, n_columns) (`estimators/several.py`)."""
        if getattr(self, "heads_", None):
            return self._predict_heads(X)
        out = self._raw_outputs(X).astype(np.float64)  # scikit-learn's regressors predict float64
        return out.reshape((len(out),) + _fitted_shape(self))

    def score(self, X, y, sample_weight=None):
        """The coefficient of determination R^2 of `predict(X)`, as `RegressorMixin.score` and
        scikit-learn's `r2_score` give it: for several outputs, the uniform average of each output's
        R^2; for targets with more axes per sample ((n, T, d), (n, 8, 8, 1)) each value is one output,
        flattened. (scikit-learn's scorers take at most 2-D targets: with `scoring="r2"`, give y flat.)"""
        from sklearn.metrics import r2_score

        if getattr(self, "heads_", None):
            return self._score_heads(X, y, sample_weight)
        predicted = self.predict(X)
        y = np.asarray(y)
        if y.ndim > 2 or predicted.ndim > 2:
            y, predicted = y.reshape(len(y), -1), predicted.reshape(len(predicted), -1)
        return float(r2_score(y, predicted, sample_weight=sample_weight))
