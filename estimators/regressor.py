"""`NetRegressor`: a `.net` program as a scikit-learn regressor."""

from __future__ import annotations

import numpy as np
from sklearn.base import RegressorMixin

from netdsl.dsl.errors import InputError, ParameterError
from netdsl.dsl.kinds import CROSSENTROPY_LOSSES

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
        n_outputs = 1 if y.ndim == 1 else y.shape[1]
        if reset:
            self.n_outputs_ = n_outputs
            self._y_1d = y.ndim == 1
        elif n_outputs != self.n_outputs_:
            raise InputError(f"y has {n_outputs} columns, but the model was fitted with {self.n_outputs_}.")
        return y.reshape(len(y), n_outputs), {"n_outputs": n_outputs}

    def _classification_hint(self) -> str:
        """What to do if y were meant as class labels (NetTransformer's `task`)."""
        return ""

    def _check_output(self, summary, resolved):
        out = tuple(summary.output_shape)
        if out != (self.n_outputs_,):
            path, _ = self._last_layer(resolved)
            shown = ", ".join(str(d) for d in out)
            columns = f"{self.n_outputs_} column{'s' if self.n_outputs_ != 1 else ''}"
            unbound = [str(d) for d in out if not isinstance(d, int)]
            raise resolved.source.located(
                f"the last layer outputs ({shown}) per sample, but the targets have {columns}" if not unbound
                else f"`{unbound[0]}` is not bound: the targets are numbers to regress ({columns}), which bind `n_outputs`",
                path,
                help=f"end the net with `dense({self.n_outputs_})` or `dense(n_outputs)` (no activation)"
                + (f"; {self._classification_hint()}" if self._classification_hint() else ""), code="N703",
            )
        return "regression"

    def _loss_and_targets(self, targets, settings, mode, resolved):
        loss = settings["loss"] or "mse"
        if loss in CROSSENTROPY_LOSSES:
            raise ParameterError(f"Loss {loss!r} is for classification; {type(self).__name__} regresses: take e.g. mse, mae or huber.")
        return loss, targets


class NetRegressor(RegressorMixin, ValueTargets, BaseNet):
    """A neural network regressor written in a `.net` file.

    Parameters are those of `NetClassifier` (without the class weights). Targets may have one
    column (predictions are then 1-D) or several; `n_outputs` is bound to their number, so a file
    can end with `dense(n_outputs)`.

    Attributes
    ----------
    n_outputs_ : int
        The number of target columns at fit.
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
        out = self._raw_outputs(X).astype(np.float64)  # scikit-learn's regressors predict float64
        return out.reshape(-1) if self._y_1d else out
