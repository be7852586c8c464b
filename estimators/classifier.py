"""`NetClassifier`: a `.net` program as a scikit-learn classifier."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import ClassifierMixin
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import column_or_1d

from netdsl.dsl.errors import InputError, ParameterError
from netdsl.dsl.kinds import SIGMOID_LOSSES, SOFTMAX_LOSSES
from netdsl.dsl.train_specs import from_logits, loss_name

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
        per_step = kind in ("multiclass-multioutput", "multilabel-indicator") and reads_per_step(self, spec, reset)
        if reset:
            self._per_step = per_step
        if per_step:
            return step_targets(self, y, reset, classes)
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
        elif multilabel != getattr(self, "_multilabel", False) or (multilabel and y.shape[1] != len(self.classes_)) \
                or getattr(self, "_per_step", False):
            was = (f"one label per step, {self._steps} per sample" if getattr(self, "_per_step", False)
                   else f"a multilabel matrix of {len(self.classes_)} labels" if self._multilabel else "one label per sample")
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
        if getattr(self, "heads_", None):  # several outputs: y is by output, held out at random
            return False
        return not self._multilabel and not getattr(self, "_per_step", False)

    def _check_output(self, summary, resolved):
        n = len(self.classes_)
        out = tuple(summary.output_shape)
        path, layer = self._last_layer(resolved)
        activation = _activation_of(layer)
        logits = from_logits(summary.net.train.loss) if summary.net is not None and summary.net.train else False
        if logits and activation in ("softmax", "sigmoid"):  # the estimator's `loss` (`check` finds the file's)
            raise resolved.source.located(
                f"the loss reads the outputs as logits (`from_logits=true`), but the last layer ends in `{activation}`",
                path, help="the loss applies it itself: drop the last layer's activation, or give the loss without "
                "`from_logits=true`", code="N408",
            )
        if logits and activation in (None, "linear"):
            # Logits (`from_logits=true`): the loss applies the softmax or sigmoid, the net ends without it.
            activation = "softmax" if loss_name(summary.net.train.loss) in SOFTMAX_LOSSES else "sigmoid"
        if getattr(self, "_per_step", False):
            return check_steps(self, out, activation, path, resolved)
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
        """(the loss Keras trains with, y as it takes it): a name, or for logits the file's call
        (`sparse_categorical_crossentropy(from_logits=true)`), which `compile.build_loss` builds."""
        loss = settings["loss"]
        name = loss_name(loss)
        if mode in ("binary", "multilabel", "per_step_binary"):
            if name not in (None,) + SIGMOID_LOSSES:
                what = {"binary": "one sigmoid unit for two classes", "multilabel": "a multilabel target (sigmoid units)",
                        "per_step_binary": "one sigmoid unit per step for two classes"}[mode]
                raise ParameterError(f"Loss {name!r} does not fit {what}; use binary_crossentropy.")
            y = targets.astype("float32")
            y = y[..., None] if mode == "per_step_binary" else y.reshape(len(y), -1)  # the output's shape
            return loss if from_logits(loss) else "binary_crossentropy", y
        if name == "categorical_crossentropy":
            return loss, np.eye(len(self.classes_), dtype="float32")[targets]  # one-hot (per step: (n, T, n_classes))
        if name in (None, "sparse_categorical_crossentropy"):
            return loss if from_logits(loss) else "sparse_categorical_crossentropy", targets
        per = " per step" if mode == "per_step" else ""
        raise ParameterError(
            f"Loss {name!r} does not fit a {len(self.classes_)}-class softmax{per}; "
            "use categorical_crossentropy or sparse_categorical_crossentropy."
        )


def _activation_of(layer):
    """The activation that makes a layer's outputs: its own, or that of the layer it applies at
    every step (`time_distributed(dense(n_classes, activation=softmax))`)."""
    if getattr(layer, "kind", None) == "time_distributed":
        layer = layer.layer
    return getattr(layer, "activation", None)


def reads_per_step(estimator, spec, reset: bool) -> bool:
    """Whether a label matrix y (n, T) is one label per step of a sequence (the net outputs
    (T, n_classes): a softmax per step) rather than a multilabel 0/1 matrix or a
    multiclass-multioutput one (the net outputs a vector per sample). Decided by the rank of the
    net's output at the first fit (later fits read y as it did).

    Why a second analysis: y's reading binds `n_classes` (2 classes per step, or T labels), which
    the fit's analysis of the bound net needs; the output's rank does not depend on it, so the
    unbound net is analysed once more here, only for a label matrix."""
    if not reset:
        return bool(getattr(estimator, "_per_step", False))
    from netdsl.dsl.errors import NetdslError
    from netdsl.dsl.shapes import analyse

    try:
        summary = analyse(spec, estimator._param_values(spec), training=False)
    except NetdslError:
        return False  # the fit's own analysis reports the problem, at its place
    return len(summary.output_shape) >= 2


def step_targets(estimator, y, reset: bool, classes=None):
    """One label per step, y of shape (n, T): labels encoded over all steps (strings too), as
    class indices of the same shape. Fitted: `classes_`, `_steps` (T)."""
    name = type(estimator).__name__
    if reset:
        estimator._multilabel = False
        labels = np.unique(y) if classes is None else np.unique(np.asarray(classes))
        if len(labels) < 2:
            raise InputError(f"{name} needs at least 2 classes to fit; every step of y has the label {labels.tolist()[0]!r}.")
        estimator.classes_, estimator._steps = labels, y.shape[1]
    elif y.shape[1] != estimator._steps:
        raise InputError(f"y has {y.shape[1]} labels per sample, but the model was fitted with {estimator._steps} (one per step).")
    unseen = np.setdiff1d(y, estimator.classes_)
    if len(unseen):
        raise InputError(
            f"y contains labels not seen at the first fit: {unseen[:5].tolist()}; the classes are {estimator.classes_.tolist()}."
        )
    n = len(estimator.classes_)
    return np.searchsorted(estimator.classes_, y), {"n_classes": n, "n_outputs": n}


def check_steps(estimator, out: tuple, activation, path, resolved) -> str:
    """A net that classifies each step must output (T, n_classes), a softmax over the classes at
    each of y's T steps: `"per_step"`, or a located error saying what differs."""
    n, steps = len(estimator.classes_), estimator._steps
    shown = ", ".join(str(d) for d in out)
    if len(out) == 2 and out == (steps, n) and activation == "softmax":
        return "per_step"
    if n == 2 and out == (steps, 1) and activation == "sigmoid":
        return "per_step_binary"  # one sigmoid unit per step, for two classes
    if len(out) != 2:
        title = f"the last layer outputs ({shown}) per sample, but y has one label per step ({steps} steps)"
    elif out[0] != steps:
        title = f"the last layer outputs ({shown}) per sample, {out[0]} steps, but y has {steps} labels per sample (one per step)"
    elif out[1] not in (n, 1) or (out[1] == 1 and n != 2):
        title = f"the last layer outputs ({shown}) per sample, {out[1]} values per step, but the data has {n} classes"
    elif out[1] == 1:
        title = f"one unit per step for two classes needs `activation=sigmoid` (the last layer has {_shown(activation)})"
    else:
        title = f"a classifier per step needs a `softmax` over the classes at each step (the last layer has {_shown(activation)})"
    raise resolved.source.located(
        title, path, code="N703",
        help=f"end with a sequence of class scores, (steps, n_classes) = ({steps}, {n}): e.g. `gru(16, "
        "return_sequences=true)` then `dense(n_classes, activation=softmax)`, applied at each step"
        + (", or `dense(1, activation=sigmoid)` for two classes" if n == 2 else ""),
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
    (multiclass-multioutput) is not supported, unless it is one label per time step (below).

    One label per time step (sequence tagging): y of shape (n_samples, n_steps), for a net whose
    output is (n_steps, n_classes), a softmax over the classes at each step (e.g. `gru(16,
    return_sequences=true)` then `dense(n_classes, activation=softmax)`; for two classes also
    `dense(1, activation=sigmoid)` at each step). Whether a label matrix is
    that or a multilabel matrix is read from the net's output: a sequence per sample, or one
    vector. The labels (strings too) are encoded over all steps; `predict` gives (n_samples,
    n_steps) labels, `predict_proba` (n_samples, n_steps, n_classes) probabilities (float64, each
    step's summing to 1), and `score` the accuracy over all steps (each step of each sample counts
    once). `class_weight` weighs each step by its class.

    A net may end without its softmax (or sigmoid) and train on logits: `loss =
    sparse_categorical_crossentropy(from_logits=true)` (or `categorical_crossentropy`,
    `binary_crossentropy`) in its `train` block. `predict_proba` then applies the softmax or
    sigmoid, so it still gives probabilities; with `binary_crossentropy(from_logits=true)` the
    metrics that threshold probabilities (`accuracy`, `precision`, `recall`, `auc`) read the logits.

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
    outputs_ : tuple of str
        The names of the outputs, in `output`'s order; set only for a net with several outputs
        (`estimators/several.py` says how y, `predict` and `score` go then).
    heads_ : list of dict
        Each of those outputs as fitted: its name, task (`"classification"` or `"regression"`),
        shape, y columns and class labels.
    output_mode_ : str
        How the outputs are read: `"binary"` (one sigmoid unit), `"multiclass"` (softmax),
        `"multilabel"` (a sigmoid unit per label), `"per_step"` (a softmax at each time step) or
        `"per_step_binary"` (a sigmoid unit at each time step, for two classes);
        with `from_logits=true`, of the logits before them.

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
            values = compute_class_weight("balanced", classes=present, y=np.ravel(targets))  # per step: every step
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
        probability, as MLPClassifier gives them; rows need not sum to 1). One label per step:
        shape (n_samples, n_steps, n_classes). A net of logits (`from_logits=true`) has its softmax
        or sigmoid applied here, in float64. Several outputs: a list, one array per classification
        output (`estimators/several.py`)."""
        if getattr(self, "heads_", None):
            return self._predict_proba_heads(X)
        out = self._raw_outputs(X).astype(np.float64)
        logits = getattr(self, "_from_logits", False)
        if self.output_mode_ in ("multilabel", "binary", "per_step_binary"):
            if logits:
                from scipy.special import expit

                out = expit(out)
            if self.output_mode_ == "multilabel":
                return out
            p = out[..., 0]  # (n,), or (n, n_steps): the second class's probability
            return np.stack([1 - p, p], axis=-1)
        if logits:
            out = np.exp(out - out.max(axis=-1, keepdims=True))
        # A float32 softmax sums to 1 only within ~1e-7, and log_loss warns about it: normalised in float64.
        return out / out.sum(axis=-1, keepdims=True)

    def predict(self, X):
        """The class of each sample (of each step, (n_samples, n_steps), with one label per step;
        the 0/1 matrix for a multilabel target; with several outputs, (n_samples, n_columns))."""
        if getattr(self, "heads_", None):
            return self._predict_heads(X)
        proba = self.predict_proba(X)  # checks that the estimator is fitted
        if self.output_mode_ == "multilabel":
            return (proba > 0.5).astype(np.int64)  # the 0/1 matrix, as MLPClassifier predicts it
        return self.classes_[np.argmax(proba, axis=-1)]

    def score(self, X, y, sample_weight=None):
        """The mean accuracy of `predict(X)`, as `ClassifierMixin.score` gives it (the subset
        accuracy for a multilabel target). With one label per step, the accuracy over all steps:
        every step of every sample counts once (`sample_weight` weighs each sample's steps). Several
        outputs: see `estimators/several.py` (subset accuracy when every output classifies)."""
        if getattr(self, "heads_", None):
            return self._score_heads(X, y, sample_weight)
        if not getattr(self, "_per_step", False):
            try:
                return super().score(X, y, sample_weight=sample_weight)
            except ValueError as error:  # scikit-learn's, comparing `"1"` with `1`
                if "Mix of label input types" not in str(error) or isinstance(error, InputError):
                    raise
                shown = ", ".join(repr(c.item() if hasattr(c, "item") else c) for c in self.classes_[:3]) + (", ..." if len(self.classes_) > 3 else "")
                raise InputError(f"y's labels are not of the type of the classes this classifier learned ({shown}): "
                                 "strings against numbers; give y as fit was given it") from None
        predicted = self.predict(X)
        y = np.asarray(y)
        if y.shape != predicted.shape:
            raise InputError(f"y has shape {y.shape}; this classifier predicts one label per step, {predicted.shape}.")
        return float(np.average(np.mean(predicted == y, axis=1), weights=sample_weight))

    def _keep(self, plan, outcome, text):
        super()._keep(plan, outcome, text)
        self._from_logits = from_logits(plan.loss)  # predict_proba applies the softmax or sigmoid

    def _default_task(self) -> str:
        return "classification"  # an output without a loss of its own, of a net with several

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = True
        tags.classifier_tags.multi_label = True  # with a net that ends in sigmoid units
        return tags
