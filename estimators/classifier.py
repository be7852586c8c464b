"""`NetClassifier`: a `.net` program as a scikit-learn classifier."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import ClassifierMixin
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import column_or_1d

from netdsl.dsl.errors import InputError, ParameterError
from netdsl.dsl.kinds import SIGMOID_LOSSES

from .base import BaseNet
from .inputs import user_data


def _shown(activation) -> str:
    return "no activation" if activation in (None, "linear") else f"`{activation}`"


class LabelTargets:
    """Targets that are class labels, as scikit-learn's classifiers take them: one label per sample
    (strings, integers or booleans), or a multilabel 0/1 matrix (one column per label). Shared by
    `NetClassifier` and `NetTransformer(task="classification")`.

    Fitted: `classes_` (the labels; for a multilabel matrix its column indices, as MLPClassifier
    has them) and `_multilabel`. Binds `n_classes` and `n_outputs` (both the number of classes, or
    of labels)."""

    def _targets(self, y, spec, reset, classes=None):
        if y is None:
            raise InputError(f"{type(self).__name__} needs targets y to fit.")
        if hasattr(y, "toarray"):
            y = y.toarray()  # a sparse multilabel matrix, as scikit-learn's multilabel classifiers take it
        y = np.asarray(y)
        if y.dtype == object and any(v is None or v is pd.NA for v in y.ravel()):
            raise InputError("Input y contains missing labels (None); drop those samples or give them a label.")
        user_data(check_classification_targets, y)
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)  # a column vector: one label per sample
        kind = type_of_target(y)
        if kind == "multiclass-multioutput":
            shown = np.unique(y.astype(str))[:5].tolist()
            raise InputError(
                f"{type(self).__name__} takes one label per sample or a multilabel 0/1 matrix; y is a matrix of "
                f"{y.shape[1]} columns of labels (such as {shown}), that is multiclass-multioutput, which is not "
                "supported. Fit one estimator per column (sklearn.multioutput.MultiOutputClassifier), or encode "
                "each column's classes as 0/1 columns (MultiLabelBinarizer)."
            )
        multilabel = kind == "multilabel-indicator"
        if multilabel and not np.isin(np.unique(y), (0, 1)).all():  # type_of_target also passes -1/1, 0/2
            raise InputError(
                f"A multilabel target is a 0/1 matrix (1: the sample has the label); y holds "
                f"{np.unique(y).tolist()}. Write it as 0/1 (e.g. y == 1)."
            )
        if reset:
            self._multilabel = multilabel
            if multilabel:
                labels = np.arange(y.shape[1])
            else:
                labels = np.unique(y) if classes is None else np.unique(np.asarray(classes))
                if len(labels) < 2:
                    raise InputError(
                        f"{type(self).__name__} needs samples of at least 2 classes to fit; the data has 1 class: "
                        f"{labels.tolist()[0]!r}."
                    )
            self.classes_ = labels
        elif multilabel != getattr(self, "_multilabel", False) or (multilabel and y.shape[1] != len(self.classes_)):
            was = f"a multilabel matrix of {len(self.classes_)} labels" if self._multilabel else "one label per sample"
            raise InputError(f"y must be as at the first fit ({was}); got {kind} targets of shape {y.shape}.")
        n = len(self.classes_)
        if multilabel:
            return y.astype("float32"), {"n_classes": n, "n_outputs": n}
        unseen = np.setdiff1d(y, self.classes_)
        if len(unseen):
            raise InputError(
                f"y contains labels not seen at the first fit: {unseen[:5].tolist()}; "
                f"the classes are {self.classes_.tolist()}."
            )
        return np.searchsorted(self.classes_, y), {"n_classes": n, "n_outputs": n}

    def _stratify(self):
        return not self._multilabel

    def _check_output(self, summary, resolved):
        n = len(self.classes_)
        out = tuple(summary.output_shape)
        path, layer = self._last_layer(resolved)
        activation = getattr(layer, "activation", None)
        if self._multilabel:
            if out == (n,) and activation == "sigmoid":
                return "multilabel"
            shown = ", ".join(str(d) for d in out)
            title = (
                f"the last layer outputs ({shown}) per sample, but the targets have {n} labels" if out != (n,)
                else f"a multilabel target needs `sigmoid` units, one per label (the last layer has {_shown(activation)})"
            )
            raise resolved.source.located(
                title, path,
                help=f"end the net with `dense(n_outputs, activation=sigmoid)` (here {n} units): each label is a yes/no "
                "of its own" + (", which a softmax cannot give (its outputs compete)" if activation == "softmax" else ""),
                code="N703",
            )
        if out == (1,) and n == 2:
            if activation != "sigmoid":
                raise resolved.source.located(
                    "a single output unit for two classes needs `activation=sigmoid`", path,
                    help="end the net with `dense(1, activation=sigmoid)`, or use `dense(n_classes, activation=softmax)`", code="N703",
                )
            return "binary"
        if out == (n,):
            if activation != "softmax":
                raise resolved.source.located(
                    f"the last layer of a classifier must end in `softmax` (it has {_shown(activation)})", path,
                    help="write `activation=softmax` on the last layer, e.g. `dense(n_classes, activation=softmax)`"
                    + self._regression_hint(), code="N703",
                )
            return "multiclass"
        shown = ", ".join(str(d) for d in out)
        raise resolved.source.located(
            f"the last layer outputs ({shown}) per sample, but the data has {n} classes", path,
            help=f"end the net with `dense(n_classes, activation=softmax)` (here {n} units)"
            + (" or `dense(1, activation=sigmoid)`" if n == 2 else "") + self._regression_hint(), code="N703",
        )

    def _regression_hint(self) -> str:
        return ""

    def _loss_and_targets(self, targets, settings, mode, resolved):
        loss = settings["loss"]
        if mode in ("binary", "multilabel"):
            if loss not in (None,) + SIGMOID_LOSSES:
                what = "one sigmoid unit for two classes" if mode == "binary" else "a multilabel target (sigmoid units)"
                raise ParameterError(f"Loss {loss!r} does not fit {what}; use binary_crossentropy.")
            return "binary_crossentropy", targets.astype("float32").reshape(len(targets), -1)
        if loss == "categorical_crossentropy":
            return loss, np.eye(len(self.classes_), dtype="float32")[targets]
        if loss in (None, "sparse_categorical_crossentropy"):
            return "sparse_categorical_crossentropy", targets
        raise ParameterError(
            f"Loss {loss!r} does not fit a {len(self.classes_)}-class softmax; "
            "use categorical_crossentropy or sparse_categorical_crossentropy."
        )


class NetClassifier(ClassifierMixin, LabelTargets, BaseNet):
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
        Seeds Python, NumPy and Keras and makes TensorFlow deterministic for the fit (all put back
        after it): two fits agree.
    warm_start : bool, default=False
        Continue training the fitted model on the next `fit` (same architecture) instead of
        starting again.
    class_weight : "balanced", dict or None
        Weights per class label; overrides the file's `class_weight`.
    **params
        The file's `param`s, by name.

    The last layer must fit the task: `dense(n_classes, activation=softmax)` (or a fixed number of
    units equal to the number of classes), or `dense(1, activation=sigmoid)` for two classes.
    Labels may be strings, integers or booleans. A multilabel target (a 0/1 matrix, one column per
    label, as scikit-learn's multilabel classifiers take it) needs `dense(n_outputs,
    activation=sigmoid)` and `binary_crossentropy`: `predict` gives the 0/1 matrix, `predict_proba`
    each label's probability, `score` the subset accuracy. A matrix of other labels
    (multiclass-multioutput) is not supported.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The class labels, sorted (for a multilabel target: the column indices).
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
        How the outputs are read: `"binary"` (one sigmoid unit), `"multiclass"` (softmax) or
        `"multilabel"` (a sigmoid unit per label).

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
        return {"y_numeric": False, "multi_output": True}  # a multilabel y is a matrix

    def _class_weights(self, targets, settings):
        weight = self.class_weight if self.class_weight is not None else settings["class_weight"]
        if weight is None:
            return None
        if self._multilabel:
            raise ParameterError(
                "class_weight weighs the classes of one label per sample; for a multilabel target, "
                "pass sample_weight instead."
            )
        n = len(self.classes_)
        if isinstance(weight, str):
            if weight != "balanced":
                raise ParameterError(f"class_weight must be 'balanced', a dict or a list; got {weight!r}.")
            from sklearn.utils.class_weight import compute_class_weight

            present = np.unique(targets)
            values = compute_class_weight("balanced", classes=present, y=targets)
            return {int(c): float(w) for c, w in zip(present, values)}
        if isinstance(weight, dict):
            unknown = [k for k in weight if k not in self.classes_]
            if unknown:
                raise ParameterError(f"class_weight names labels that are not classes: {unknown}; classes: {list(self.classes_)}.")
            return {int(np.searchsorted(self.classes_, k)): float(w) for k, w in weight.items()}
        weight = list(weight)
        if len(weight) != n:
            raise ParameterError(f"class_weight lists {len(weight)} weights, but there are {n} classes.")
        return {i: float(w) for i, w in enumerate(weight)}

    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """One epoch on (X, y), continuing from the current weights (built on the first call;
        pass every class in `classes` then if a batch may lack some)."""
        self._fit(X, y, sample_weight=sample_weight, classes=classes, incremental=True)
        return self

    def predict_proba(self, X):
        """Class probabilities, columns in the order of `classes_` (multilabel: each label's
        probability, as MLPClassifier gives them; rows need not sum to 1)."""
        out = self._raw_outputs(X).astype(np.float64)
        if self.output_mode_ == "multilabel":
            return out
        if self.output_mode_ == "binary":
            p = out.reshape(-1)
            return np.column_stack([1 - p, p])
        # A float32 softmax sums to 1 only within ~1e-7, and log_loss warns about it: normalised in float64.
        return out / out.sum(axis=1, keepdims=True)

    def predict(self, X):
        proba = self.predict_proba(X)  # checks that the estimator is fitted
        if self.output_mode_ == "multilabel":
            return (proba > 0.5).astype(np.int64)  # the 0/1 matrix, as MLPClassifier predicts it
        return self.classes_[np.argmax(proba, axis=1)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = True
        tags.classifier_tags.multi_label = True  # with a net that ends in sigmoid units
        return tags
