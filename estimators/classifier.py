"""`NetClassifier`: a `.net` program as a scikit-learn classifier."""

from __future__ import annotations

import numpy as np
from sklearn.base import ClassifierMixin
from sklearn.utils.multiclass import check_classification_targets

from .base import BaseNet

_BINARY_LOSSES = ("binary_crossentropy",)
_MULTI_LOSSES = ("categorical_crossentropy", "sparse_categorical_crossentropy")


class NetClassifier(ClassifierMixin, BaseNet):
    """A neural network classifier written in a `.net` file.

    Parameters
    ----------
    net : str or path
        A path to a `.net` file, or its source text.
    epochs, batch_size, optimizer, learning_rate, loss, validation_split : optional
        Override the file's `train` block (None: as the file says).
    verbose : int, default=0
        0 silent, 1 a progress bar over epochs, 2 a line per epoch.
    random_state : int, optional
        Seeds Python, NumPy and Keras and makes TensorFlow deterministic: two fits agree.
    warm_start : bool, default=False
        Continue training the fitted model on the next `fit` (same architecture) instead of
        starting again.
    class_weight : "balanced", dict or None
        Weights per class label; overrides the file's `class_weight`.
    **params
        The file's `param`s, by name.

    The last layer must fit the task: `dense(n_classes, activation=softmax)` (or a fixed number of
    units equal to the number of classes), or `dense(1, activation=sigmoid)` for two classes.
    Labels may be strings, integers or booleans.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> X, y = load_iris(return_X_y=True)
    >>> net = "dense(16, activation=relu)\\ndense(n_classes, activation=softmax)\\n"
    >>> clf = NetClassifier(net, epochs=2, learning_rate=0.05, random_state=0).fit(X, y)
    >>> clf.predict(X[:3]).shape
    (3,)
    """

    def _y_validation(self):
        return {"y_numeric": False}

    def _stratify(self):
        return True

    def _targets(self, y, spec, reset, classes=None):
        if y is None:
            raise ValueError("NetClassifier needs targets y to fit.")
        check_classification_targets(y)
        y = np.asarray(y)
        if reset:
            labels = np.unique(y) if classes is None else np.unique(np.asarray(classes))
            if len(labels) < 2:
                raise ValueError(
                    f"NetClassifier needs samples of at least 2 classes to fit; the data has 1 class: {labels.tolist()[0]!r}."
                )
            self.classes_ = labels
        unseen = np.setdiff1d(y, self.classes_)
        if len(unseen):
            raise ValueError(
                f"y contains labels not seen at the first fit: {unseen[:5].tolist()}; "
                f"the classes are {self.classes_.tolist()}."
            )
        encoded = np.searchsorted(self.classes_, y)
        n = len(self.classes_)
        return encoded, {"n_classes": n, "n_outputs": n}

    def _check_output(self, summary, resolved):
        n = len(self.classes_)
        out = tuple(summary.output_shape)
        path, layer, span = self._last_layer(resolved)
        activation = getattr(layer, "activation", None)
        if out == (1,) and n == 2:
            if activation != "sigmoid":
                raise self._net_error(
                    resolved, "a single output unit for two classes needs `activation=sigmoid`", span,
                    "end the net with `dense(1, activation=sigmoid)`, or use `dense(n_classes, activation=softmax)`",
                )
            return "binary"
        if out == (n,):
            if activation != "softmax":
                raise self._net_error(
                    resolved, f"the last layer of a classifier must end in `softmax` (it has `{activation}`)", span,
                    "write `activation=softmax` on the last layer, e.g. `dense(n_classes, activation=softmax)`",
                )
            return "multiclass"
        shown = ", ".join(str(d) for d in out)
        raise self._net_error(
            resolved, f"the last layer outputs ({shown}) per sample, but the data has {n} classes", span,
            f"end the net with `dense(n_classes, activation=softmax)` (here {n} units)"
            + (" or `dense(1, activation=sigmoid)`" if n == 2 else ""),
        )

    def _loss_and_targets(self, targets, settings, mode, resolved):
        loss = settings["loss"]
        if mode == "binary":
            if loss not in (None,) + _BINARY_LOSSES:
                raise ValueError(f"Loss {loss!r} does not fit one sigmoid unit for two classes; use binary_crossentropy.")
            return "binary_crossentropy", targets.astype("float32").reshape(-1, 1)
        if loss == "categorical_crossentropy":
            return loss, np.eye(len(self.classes_), dtype="float32")[targets]
        if loss in (None, "sparse_categorical_crossentropy"):
            return "sparse_categorical_crossentropy", targets
        raise ValueError(
            f"Loss {loss!r} does not fit a {len(self.classes_)}-class softmax; "
            "use categorical_crossentropy or sparse_categorical_crossentropy."
        )

    def _class_weights(self, targets, settings):
        weight = self.class_weight if self.class_weight is not None else settings["class_weight"]
        if weight is None:
            return None
        n = len(self.classes_)
        if isinstance(weight, str):
            if weight != "balanced":
                raise ValueError(f"class_weight must be 'balanced', a dict or a list; got {weight!r}.")
            from sklearn.utils.class_weight import compute_class_weight

            present = np.unique(targets)
            values = compute_class_weight("balanced", classes=present, y=targets)
            return {int(c): float(w) for c, w in zip(present, values)}
        if isinstance(weight, dict):
            unknown = [k for k in weight if k not in self.classes_]
            if unknown:
                raise ValueError(f"class_weight names labels that are not classes: {unknown}; classes: {list(self.classes_)}.")
            return {int(np.searchsorted(self.classes_, k)): float(w) for k, w in weight.items()}
        weight = list(weight)
        if len(weight) != n:
            raise ValueError(f"class_weight lists {len(weight)} weights, but there are {n} classes.")
        return {i: float(w) for i, w in enumerate(weight)}

    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """One epoch on (X, y), continuing from the current weights (built on the first call;
        pass every class in `classes` then if a batch may lack some)."""
        self._fit(X, y, sample_weight=sample_weight, classes=classes, incremental=True)
        return self

    def predict_proba(self, X):
        """Class probabilities, columns in the order of `classes_`."""
        out = self._raw_outputs(X).astype(np.float64)
        if self.output_mode_ == "binary":
            p = out.reshape(-1)
            return np.column_stack([1 - p, p])
        return out

    def predict(self, X):
        proba = self.predict_proba(X)  # checks that the estimator is fitted
        return self.classes_[np.argmax(proba, axis=1)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = True
        return tags
