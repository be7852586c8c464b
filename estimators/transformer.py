"""`NetTransformer`: the output of a net, or of one of its layers, as features for the next step."""

from __future__ import annotations

import numpy as np
from sklearn.base import ClassNamePrefixFeaturesOutMixin, TransformerMixin

from netdsl.dsl.errors import ParameterError

from .base import BaseNet
from .classifier import LabelTargets
from .inputs import user_data
from .regressor import ValueTargets

TASKS = ("auto", "classification", "regression")


class NetTransformer(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseNet):
    """Features computed by a `.net` program.

    A net with no `train` block (fixed weights, like `examples/edge_detector.net`) needs no
    training: `fit(X)` only builds it. A net with a `train` block is trained on `fit(X, y)`, and
    then used as a feature extractor. `layer` names the layer whose output is returned (its `name=`
    in the file, or the name `netdsl show` gives it, such as `dense_1`); by default the net's output. Outputs
    are flattened to one row per sample.

    `task` says how the net learns y: `"classification"` (y holds class labels, or a multilabel
    0/1 matrix, as for `NetClassifier`: the net ends in `softmax` or `sigmoid`, `classes_` is
    learned), `"regression"` (y holds numbers, as for `NetRegressor`), or `"auto"` (the default):
    as scikit-learn's `type_of_target` reads y, continuous numbers are regressed and anything else
    (strings, booleans, integers, integral floats) is taken as class labels. `task_` records it.

    Attributes
    ----------
    feature_model_ : keras.Model
        The model from the input to the layer `layer` (or the whole model), which `transform` runs.
    task_ : str
        `"classification"` or `"regression"`: how y was learned; set only when the net was trained.
    classes_ : ndarray of shape (n_classes,)
        The class labels, when trained with `task_ == "classification"`.
    n_outputs_ : int
        The number of target columns, when trained with `task_ == "regression"`.
    model_ : keras.Model
        The trained Keras model (its layers named as `netdsl show` names them).
    spec_ : netdsl.dsl.specs.Net
        The program as fitted: its `param`s and the data-bound names (`n_features`,
        `n_classes`, `n_outputs`) bound.
    net_source_ : str
        The program's source text, which a saved model keeps.
    history_ : dict of str to list of float
        The loss and each metric per epoch (`val_*` ones with a validation split), going on
        across warm starts and the two stages of `fine_tune`; empty when nothing was trained.
    n_iter_ : int
        The number of epochs trained, in all (the length of `history_["loss"]`); set only when
        trained.
    best_epoch_ : int
        The epoch (1-based) whose weights `early_stopping` kept; set only where it stopped training.
    stage_epochs_ : tuple of (int, int)
        The epochs of each stage of `fine_tune`; set only for a net with `fine_tune`.
    training_path_ : str
        `"fast"`, or `"standard: <why>"`: the path the last fit trained on; set only when trained.
    embedding_coverage_ : dict
        For each `embedding` with `embeddings=`, by layer name, how much of the learned vocabulary
        the vectors file covers; empty without one.
    n_features_in_ : int
        The number of features of X at fit (1 for a net with `input text`).
    feature_names_in_ : ndarray of shape (n_features_in_,)
        The column names of X at fit; set only when X has string column names.
    output_mode_ : str
        How the trained net's outputs were read (as `NetClassifier`'s or `NetRegressor`'s), or
        `"features"` when nothing was trained.

    Examples
    --------
    >>> import numpy as np
    >>> t = NetTransformer("examples/edge_detector.net").fit(np.zeros((2, 49)))
    >>> t.transform(np.ones((2, 49))).shape
    (2, 4)
    """

    def __init__(
        self,
        net=None,
        *,
        layer=None,
        task="auto",
        epochs=None,
        batch_size=None,
        optimizer=None,
        learning_rate=None,
        loss=None,
        validation_split=None,
        verbose=0,
        random_state=None,
        warm_start=False,
        **params,
    ):
        self.layer = layer
        self.task = task
        super().__init__(
            net, epochs=epochs, batch_size=batch_size, optimizer=optimizer, learning_rate=learning_rate,
            loss=loss, validation_split=validation_split, verbose=verbose, random_state=random_state,
            warm_start=warm_start, **params,
        )
        del self.class_weight

    def fit(self, X, y=None, sample_weight=None):
        """Train the net on (X, y) when it has a `train` block and y is given (as `NetClassifier` or
        `NetRegressor` would, see `BaseNet.fit`); else only build it: the program read and
        validated, X validated, the names bound (`resolve`), the bound net analysed, the model built
        from that analysis, each once."""
        program = self._program()
        if program[0].train is not None and y is not None:
            self._fit(X, y, sample_weight=sample_weight, program=program)
            return self
        self._fit_untrained(X, program, sample_weight)
        return self

    def _fit_untrained(self, X, program, sample_weight=None):
        from netdsl.dsl import compat, dumps, resolve
        from netdsl.dsl.shapes import analyse_resolved

        from . import runtime, seeding

        runtime.configure_process()  # before Keras and TensorFlow start (see runtime.py)
        spec, text = program
        X, _ = self._validate_X(X, spec, reset=True)
        if sample_weight is not None:  # nothing is trained, but a bad weight is still a mistake
            compat.check_sample_weight(sample_weight, X if X.ndim == 2 else np.empty((len(X), 1)), ensure_non_negative=True)
        data = self._data_names(spec, X)
        resolved = resolve(spec, self._param_values(spec), data)
        summary = analyse_resolved(resolved, data)
        self._refuse_unbound(summary, resolved)
        with seeding.fitting(seeded=self.random_state is not None, apart=True):  # put back after; trains nothing
            self._seed()
            self.model_ = self._build(resolved, text_samples=X if self._is_text(spec) else None, analysis=summary)
        self.spec_ = resolved
        self.net_source_ = text if text is not None else dumps(self.net)
        self.output_mode_ = "features"
        self.history_ = {}
        self._setup_output()

    def _refuse_unbound(self, summary, resolved):
        """Without y, `n_classes` and `n_outputs` are not bound: say so at the first layer that uses them."""
        for row in summary.rows:
            names = sorted({str(d) for d in row.output_shape if not isinstance(d, (int, np.integer))})
            if names:
                raise resolved.source.located(
                    f"`{names[0]}` is bound from y, but `fit` got no y", row.path,
                    help="pass the targets, `fit(X, y)` (the `train` block then trains the net on them), or write a number"
                    if resolved.train is not None else "write a number: a net without a `train` block is not fitted to y",
                    code="N704",
                )

    # y, when given with a train block: class labels or numbers, as `task` says
    def _y_validation(self):
        return {"y_numeric": False, "multi_output": True}

    def _learner(self):
        return LabelTargets if self.task_ == "classification" else ValueTargets

    def _targets(self, y, spec, reset, classes=None):
        if reset:
            if self.task not in TASKS:
                raise ParameterError(
                    f"The 'task' parameter of NetTransformer must be a str among {list(TASKS)}. Got {self.task!r} instead."
                )
            if self.task != "auto":
                self.task_ = self.task
            else:
                from sklearn.utils.multiclass import type_of_target

                flat = np.asarray(y).reshape(len(y), -1) if np.ndim(y) > 2 else y  # image- or sequence-shaped: by value
                continuous = user_data(type_of_target, flat) in ("continuous", "continuous-multioutput")
                self.task_ = "regression" if continuous else "classification"
        return self._learner()._targets(self, y, spec, reset, classes)

    def _stratify(self):
        return self.task_ == "classification" and LabelTargets._stratify(self)

    def _check_output(self, summary, resolved):
        return self._learner()._check_output(self, summary, resolved)

    def _loss_and_targets(self, targets, settings, mode, resolved):
        return self._learner()._loss_and_targets(self, targets, settings, mode, resolved)

    def _regression_hint(self):
        if self.task != "auto":
            return ""
        return "; or, to regress y (read as class labels), pass task=\"regression\""

    def _classification_hint(self):
        if self.task == "regression":
            return "pass task=\"classification\" to learn y as class labels"
        return "y was read as continuous numbers (task=\"auto\"); pass task=\"classification\" if they are class labels"

    def _fit(self, *args, **kwargs):
        super()._fit(*args, **kwargs)
        self._setup_output()
        return self

    def _setup_output(self):
        """The sub-model from the input to the requested layer; `_n_features_out` for feature names."""
        import keras

        model = self.model_
        if self.layer is not None:
            names = [layer.name for layer in model.layers]
            if self.layer not in names:
                from netdsl.dsl.errors import did_you_mean

                hint = did_you_mean(str(self.layer), names)
                raise ParameterError(
                    f"The net has no layer named {self.layer!r}. " + (f"{hint[0].upper()}{hint[1:]} " if hint else "")
                    + f"Its layers: {', '.join(names)}."
                )
            model = keras.Model(model.inputs, _output_in(model, model.get_layer(self.layer)))
        self.feature_model_ = model
        shape = model.output_shape[1:]
        self._n_features_out = int(np.prod(shape)) if shape else 1

    def transform(self, X):
        from sklearn.utils.validation import check_is_fitted

        check_is_fitted(self, "model_")
        X, _ = self._validate_X(X, self.spec_, reset=False)
        inputs = self._shape_inputs(X, self.spec_)
        from . import fast

        out = fast.predict(self.feature_model_, inputs)  # a row's features do not depend on the other rows
        return out.reshape(len(out), -1)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float32"]  # Keras computes in float32
        return tags

    def __getstate__(self):
        state = super().__getstate__()
        state.pop("feature_model_", None)
        return state

    def __setstate__(self, state):
        super().__setstate__(state)
        if hasattr(self, "model_"):
            self._setup_output()


def _output_in(model, layer):
    """The layer's output in `model`'s own graph. `layer.output` is its first call's, and a layer of a
    text net is called in a second graph too (the one trained from the vectorizer's tokens): a
    sub-model on that output would hold both graphs' inputs, both named after the net's input."""
    stack, seen = list(model.outputs), set()
    while stack:
        tensor = stack.pop()
        operation, node_index, _ = tensor._keras_history
        node = operation._inbound_nodes[node_index]
        if operation is layer:
            return node.outputs
        for source in node.input_tensors:
            if id(source) not in seen:
                seen.add(id(source))
                stack.append(source)
    return layer.output
