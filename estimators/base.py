"""The shared base of the netdsl estimators: a `.net` program as a scikit-learn estimator.

`__init__` only stores; `fit` reads the program, validates parameters and data, binds the
data-bound names (`n_features`, `n_classes`, `n_outputs`), analyses the bound net, builds the
Keras model from that analysis and trains it: each of these once per fit (`BaseNet.fit` lists the
order). The concerns live in their own modules, mixed into `BaseNet`: `params` (the estimator's
settings and the file's `param`s), `inputs` (X as the net takes it), `training` (the training loop
and `history_`), `training_path` (the fast path or Keras's), `compile` (specs to Keras objects).

Training runs on the fast path (`fast.py`: a compiled model reused across fits of the same graph,
each epoch one traced call; text nets and two-stage schedules too, `training_path.py`) unless the
net needs something only Keras's `fit` does; `training_path_` says which path ran and why.

Every mistake a user can make raises a `netdsl.dsl.NetdslError` with a code: X, y or weights the
estimator cannot take raise `InputError` (a `ValueError`) or `InputTypeError` (a `TypeError`), E101,
with scikit-learn's own message where its validation found the problem; an estimator setting of the
wrong type or range raises `ParameterError` (both), P101; a mistake in the program or against it, a
located `NetError`; a model file `load` cannot read, `persist.ModelFileError`. `predict` before `fit`
raises scikit-learn's `NotFittedError`, as every scikit-learn estimator does.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from netdsl.dsl import dumps, resolve, specs
from netdsl.dsl.errors import InputError
from netdsl.dsl.shapes import Summary, analyse_resolved

from . import fast, runtime, seeding, training_path, variables
from .inputs import InputsMixin, end_layer, refuse_iterator, rows_origin, user_data
from .heads import HeadsMixin, is_heads
from .params import ParamsMixin
from .several import Rows, several_outputs
from .training import TrainingDiverged, TrainingMixin, checked_class_weight, put_back, snapshot

__all__ = ["BaseNet", "FitPlan", "TrainingDiverged"]


@dataclass
class FitPlan:
    """What one fit decided before training (`BaseNet._plan`), handed down to the steps after it."""

    spec: specs.Net  # the program as read
    resolved: specs.Net  # its `param`s and data-bound names bound
    analysis: Summary  # of `resolved`: shapes and the layer names the model is built with
    settings: dict  # training settings (`ParamsMixin._settings` of `resolved`)
    X: Any  # validated inputs
    targets: Any  # y as the task reads it (class indices, or numbers)
    y_fit: Any  # the targets as the loss takes them
    loss: str
    mode: str  # the output mode (`binary`, `multiclass`, `multilabel`, `regression`)
    sample_weight: Any
    class_weight: dict | None
    origin: Any  # each row's original under augmentation, or None


class BaseNet(ParamsMixin, InputsMixin, TrainingMixin, HeadsMixin, BaseEstimator):
    """Common machinery; use `NetClassifier`, `NetRegressor` or `NetTransformer`."""

    def __init__(
        self,
        net=None,
        *,
        epochs=None,
        batch_size=None,
        optimizer=None,
        learning_rate=None,
        loss=None,
        validation_split=None,
        verbose=0,
        random_state=None,
        warm_start=False,
        class_weight=None,
        **params,
    ):
        self.net = net
        self.epochs = epochs
        self.batch_size = batch_size
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.loss = loss
        self.validation_split = validation_split
        self.verbose = verbose
        self.random_state = random_state
        self.warm_start = warm_start
        self.class_weight = class_weight
        for name, value in params.items():  # the file's `param`s; checked against the file in fit
            setattr(self, name, value)

    # ---- tags (the data's checks: inputs.py) ------------------------------------------------

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True  # made dense in `_validate_X`
        return tags

    # ---- fitting ---------------------------------------------------------------------------

    def _build(self, resolved: specs.Net, text_samples=None, analysis: Summary | None = None, vectorizers=None):
        """The Keras model, its layers named and frozen as `analysis` (of `resolved`) lists them;
        `embedding_coverage_` records how much of the vocabulary each `embeddings=` file covers
        (logged when verbose, before training starts). `vectorizers`: the model on token ids
        (`compile.build_model`)."""
        from .compile import build_model

        coverage: dict = {}
        model = build_model(resolved, text_samples=text_samples, coverage=coverage, analysis=analysis,
                            vectorizers=vectorizers)
        self.embedding_coverage_ = coverage
        if self.verbose:
            from netdsl.dsl.vectors import coverage_text

            for layer, report in coverage.items():
                print(coverage_text(layer, report), flush=True)
        return model

    def _compile(self, model, settings, loss, metrics):
        from .compile import build_loss, build_metrics, build_optimizer

        if is_heads(loss):  # several outputs: a loss, weight and metrics per output
            self._compile_heads(model, settings, loss)
            return

        model.compile(
            optimizer=build_optimizer(settings["optimizer"], settings["learning_rate"]),
            loss=build_loss(loss),
            metrics=build_metrics(metrics, loss),
        )

    def fit(self, X, y=None, sample_weight=None):
        """Train the net on (X, y); see the class docstring for what X and y may be.

        Each step runs once per fit, in this order: the process is set up for training
        (`runtime`); the program is read and validated (a `.net` file is read once; a `Net` spec
        is used as it is); the estimator's own settings are checked; X and y are validated, and
        give the data-bound names (`n_features`, `n_classes`, `n_outputs`); the file's `param`s
        and those names are bound (`resolve`); the bound net is analysed (`analyse_resolved`:
        shapes, layer names, metrics against the task); one sample is checked against `input`
        and the last layer against the targets; the path is chosen (`training_path_`); then,
        under the fit's seed, the validation rows are held out, the Keras model is built from the
        analysis (or the fitted one goes on, or the fast path restarts a cached one) and trained,
        in two stages with `fine_tune`.
        """
        self._fit(X, y, sample_weight=sample_weight)
        return self

    def _fit(self, X, y, sample_weight=None, classes=None, incremental=False, program=None):
        """`fit` (see there), and `partial_fit` with `incremental`; `program`: `_program()`'s
        result when the caller has read it already."""
        runtime.configure_process()  # before Keras and TensorFlow start (see runtime.py)
        spec, text = program or self._program()
        self._continuing = hasattr(self, "model_") and (bool(self.warm_start) or incremental)
        self._continuing = self._continuing or getattr(self, "_checkpoint", None) is not None  # checkpoint.resume
        plan = self._plan(spec, X, y, sample_weight, classes)
        self.training_path_ = training_path.choose(plan.resolved, type(self).__name__, self.verbose)
        # seeded and built one fit at a time, the fast path's epochs apart; global state put back
        with seeding.fitting(seeded=self.random_state is not None, apart=self.training_path_ == "fast"):
            self._seed(keep_compiled=self.training_path_ == "fast")
            outcome = self._run(plan, incremental)
        self._keep(plan, outcome, text)
        return self

    def _plan(self, spec, X, y, sample_weight, classes) -> FitPlan:
        """What the fit decides before training, each part computed once (see `fit`)."""
        self._settings(spec)  # the estimator's settings checked first; the file's once resolved below
        # Rows made by an augmentation step carry the index of the row they were made from, so
        # validation holds out originals only, and never trains on copies of a validation row.
        origin = rows_origin(X)
        if y is None and self.__sklearn_tags__().target_tags.required:
            raise InputError(f"This {type(self).__name__} estimator requires y to be passed, but the target y is None.")
        heads = several_outputs(spec)  # y is split per output, after the analysis gives their shapes
        X, y = self._validate_X(X, spec, reset=not self._continuing, y=y, **({} if heads else self._y_validation()))
        targets, data = self._targets(y, spec, reset=not self._continuing, classes=classes) if not heads else (None, {})
        data.update(self._data_names(spec, X))
        resolved = resolve(spec, self._param_values(spec), data)
        settings = self._settings(resolved)  # the `train` block with the params' values (`adam(learning_rate=lr)`)
        analysis = analyse_resolved(_trained_with(resolved, settings["loss"]), data)  # metrics vs task, as fitted
        self._shape_inputs(X[:1], resolved)  # the data must fit `input` (say which line)
        if heads:
            loss, y_fit = self._fit_heads(y, resolved, analysis, reset=not self._continuing)
            mode = "multioutput"
        else:
            mode = self._check_output(analysis, resolved)
            loss, y_fit = self._loss_and_targets(targets, settings, mode, resolved)
        sample_weight = self._sample_weights(sample_weight, X, spec, origin)
        class_weight = checked_class_weight(self._class_weights(targets, settings)) if not heads else None
        return FitPlan(spec, resolved, analysis, settings, X, targets, y_fit, loss, mode, sample_weight,
                       class_weight, origin)

    def _sample_weights(self, sample_weight, X, spec, origin):
        """`sample_weight` checked (one per row, or one per original row under augmentation)."""
        if sample_weight is None:
            return None
        from netdsl.dsl import compat

        refuse_iterator(sample_weight, "sample_weight")
        if origin is not None and len(sample_weight) == int((origin == np.arange(len(origin))).sum()):
            sample_weight = np.asarray(sample_weight)[origin]  # weights given for the originals
        # A negative weight makes the loss negative (training then maximises that sample's error).
        return user_data(compat.check_sample_weight, sample_weight,
                         X if not self._is_text(spec) else np.empty((len(X), 1)), ensure_non_negative=True)

    def _run(self, plan: FitPlan, incremental: bool) -> dict:
        """Inside `seeding.fitting`: the validation hold-out, the model, and training (both stages)."""
        settings, X, y_fit, weights = plan.settings, plan.X, plan.y_fit, plan.sample_weight
        validation, val_index = None, None
        fit_index = np.arange(len(X))
        if settings["validation_split"] > 0 and not incremental:
            fit_index, val_index = self._split(len(X), settings["validation_split"], plan.targets, plan.origin)
        train_x = X[fit_index]
        model, entry, architecture = self._model_for(plan, train_x)
        if val_index is not None:  # inputs as the model trained takes them (a text net's fast path: tokens)
            val_x = training_path.model_inputs(entry, self._shape_inputs(X[val_index], plan.resolved))
            validation = (val_x, y_fit[val_index]) if weights is None else (val_x, y_fit[val_index], weights[val_index])
        if incremental:
            settings = dict(settings, callbacks=())
        train_inputs = training_path.model_inputs(entry, self._shape_inputs(train_x, plan.resolved))
        fit_args = dict(sample_weight=None if weights is None else weights[fit_index],
                        class_weight=plan.class_weight, validation=validation)
        history, stopper = self._first_stage(model, entry, train_inputs, y_fit[fit_index], settings,
                                             epochs=1 if incremental else None, **fit_args)
        stage_two = stage_one = None
        # The second stage runs after the first of every fit but a warm start's or `partial_fit`'s
        # (they go on training the fitted model); a checkpoint's continuation goes on with the first
        # stage, from where it ended, and then runs the second, as one longer fit would.
        if getattr(plan.resolved.train, "fine_tune", None) is not None and not incremental and (
                not self._continuing or getattr(self, "_checkpoint", None) is not None):
            from .checkpoint import stage_one_end

            stage_one = stage_one_end(self, model)
            *stage_two, model, entry = self._second_stage(model, entry, plan.resolved.train.fine_tune,
                                                          plan.analysis.unfrozen, settings, plan.loss, train_inputs,
                                                          y_fit[fit_index], **fit_args)
        return dict(model=model, entry=entry, architecture=architecture, history=history, stopper=stopper,
                    stage_two=stage_two, stage_one=stage_one, settings=settings)

    def _model_for(self, plan: FitPlan, train_x) -> tuple:
        """(model, fast-path entry or None, architecture): the fitted model going on (warm start,
        same graph), a cached one on the fast path, or a new build from the fit's analysis."""
        settings = plan.settings
        architecture = _architecture(plan.resolved)
        if getattr(self, "_checkpoint", None) is not None:  # checkpoint.resume: its values in the graph's model
            from .checkpoint import model_for

            return (*model_for(self, self._checkpoint, plan, architecture, train_x), architecture)
        if self._continuing and getattr(self, "_architecture", None) == architecture:
            model = self.model_
            entry = getattr(self, "_fast_entry", None) if self.training_path_ == "fast" else None
            if entry is not None and (training_path.kept_model(entry) is not model or not fast.borrow(entry)):
                entry = None
            # The learning rate as set now (as MLPClassifier's warm start takes learning_rate_init).
            variables.set_learning_rate(model, settings["learning_rate"] or settings["optimizer"].learning_rate)
            return model, entry, architecture
        self._continuing = False
        text_samples = train_x if self._is_text(plan.spec) else None
        text_samples = text_samples.parts if isinstance(text_samples, Rows) else text_samples  # by input name
        if self.training_path_ == "fast":
            entry, model = training_path.fast_model(self, plan.resolved, architecture, settings, plan.loss, plan.y_fit,
                                                    analysis=plan.analysis, texts=text_samples)
            return model, entry, architecture
        model = self._build(plan.resolved, text_samples=text_samples, analysis=plan.analysis)
        self._compile(model, settings, plan.loss, settings["metrics"])
        return model, None, architecture

    def _first_stage(self, model, entry, X, y, settings, **train_args):
        """`_train`, leaving a refitted model as it was if training fails, and the fast path's
        model handed back to its cache either way."""
        kept = snapshot(model) if self._continuing else None
        try:
            result = self._train(model, X, y, settings, entry=entry, **train_args)
        except BaseException:
            if kept is not None:  # a failed refit leaves the fitted model as it was (weights, optimizer)
                put_back(kept)
            if entry is not None:
                fast.release(entry, kept=training_path.kept_model(entry) is getattr(self, "model_", None))
            raise
        if entry is not None:
            fast.release(entry, kept=True)
        return result

    def _keep(self, plan: FitPlan, outcome: dict, text: str | None) -> None:
        """The fitted attributes, from the plan and what training gave."""
        self._fast_entry = outcome["entry"]
        self.model_ = outcome["model"]
        self._architecture = outcome["architecture"]
        self.spec_ = plan.resolved
        self.net_source_ = text if text is not None else dumps(self.net)
        self.output_mode_ = plan.mode
        history, stage_two, settings = outcome["history"], outcome["stage_two"], outcome["settings"]
        self._record(history, outcome["stopper"], settings)
        self.__dict__.pop("_stage_one", None)
        if stage_two is not None:  # history_ goes on through the second stage
            first = self.n_iter_  # the first stage's epochs (a continuation's: the checkpoint's too)
            from .checkpoint import STAGE_ONE_ATTRIBUTES

            self._stage_one = dict(outcome["stage_one"], **{
                name: copy.deepcopy(getattr(self, name)) for name in STAGE_ONE_ATTRIBUTES if hasattr(self, name)})
            self._continuing = True
            self._record(*stage_two, settings)
            self.stage_epochs_ = (first, len(stage_two[0].history.get("loss", [])))
        elif hasattr(self, "stage_epochs_") and not self._continuing:
            del self.stage_epochs_

    def _y_validation(self) -> dict:
        return {}

    def _class_weights(self, targets, settings):
        return None

    def _targets(self, y, spec, reset, classes=None):
        raise NotImplementedError

    def _check_output(self, summary, resolved):
        raise NotImplementedError

    def _loss_and_targets(self, targets, settings, mode, resolved):
        raise NotImplementedError

    def _last_layer(self, resolved) -> tuple:
        """(source path, spec) of the net's last layer; ((), None) for a net without layers."""
        return end_layer(resolved, last=True) or ((), None)

    def _raw_outputs(self, X):
        """The model's outputs for X (validated like at fit), in one large batch per call."""
        check_is_fitted(self, "model_")
        X, _ = self._validate_X(X, self.spec_, reset=False)
        inputs = self._shape_inputs(X, self.spec_)
        return fast.predict(*training_path.predicting(getattr(self, "_fast_entry", None), self.model_, inputs))

    # ---- persistence -----------------------------------------------------------------------

    def __getstate__(self):
        from . import persist

        state = self.__dict__.copy()
        state.pop("_fast_entry", None)
        state.pop("_stage_one", None)  # kept for a checkpoint (`checkpoint.stage_one_end`), never saved
        if "_callback_state" in state:  # kept for a checkpoint, never saved (a fit imported Keras already)
            from .callback_state import TRANSIENT

            for name in TRANSIENT:
                state.pop(name, None)
        return persist.state_to_write(state, state.pop("model_", None))

    def __setstate__(self, state):
        from . import persist

        state, model = persist.state_read(dict(state))
        self.__dict__.update(state)
        if model is not None:
            self.model_ = model

    def save(self, path) -> Path:
        """Write the fitted estimator (its Keras model and its `.net` program inside) to `path` as a
        netdsl model file: safe to open (no pickle), read back with `netdsl.estimators.load`."""
        from . import persist

        check_is_fitted(self, "model_")
        return persist.save(self, path)

    def export(self, path) -> Path:
        """Write the fitted estimator as one ONNX file at `path`, which onnxruntime runs without
        TensorFlow (`netdsl.estimators.export`; needs the `onnx` extra). A net that cannot be one ONNX
        graph raises `ExportRefused` (M103), naming the layer."""
        from . import export

        check_is_fitted(self, "model_")
        return export.export(self, path)

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "model_")


def _architecture(resolved: specs.Net) -> str:
    """What decides the graph: everything but the training settings."""
    data = resolved.model_dump(mode="json", exclude={"train", "params"})
    data["freeze"] = list(resolved.train.freeze) if resolved.train is not None else []  # what is trained
    return repr(data)


def _trained_with(spec: specs.Net, loss) -> specs.Net:
    """`spec` as this fit trains it: the estimator's `loss` (when set) in its `train` block, so that
    `analyse` checks the metrics against the targets this loss makes (`categorical_crossentropy`:
    one-hot, so `top_k_categorical_accuracy` can be computed), and the classifier reads logits
    (`from_logits=true`) from it, for a file without a `train` block too."""
    if loss is None or (spec.train is not None and loss == spec.train.loss):
        return spec
    return spec.model_copy(update={"train": (spec.train or specs.Train()).model_copy(update={"loss": loss})})
