"""The shared base of the netdsl estimators: a `.net` program as a scikit-learn estimator.

Parameters, in order of precedence: an estimator parameter (not None) > the `.net` file (its
`train` block and `param` defaults) > the built-in default. Every `param` of the file is an
estimator parameter under its own name (`get_params()` lists it with its current value), so
`GridSearchCV(est, {"filters": [8, 16]})` works with plain keys.

`__init__` only stores; `fit` reads the file, validates parameters and data, binds the data-bound
names (`n_features`, `n_classes`, `n_outputs`), builds the Keras model and trains it.

Training runs on the fast path (`fast.py`: a compiled model reused across fits of the same graph,
each epoch one traced call) unless the net needs something only Keras's `fit` does (a text
vocabulary learned per fit, a two-stage schedule); `training_path_` says which path ran and why.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from netdsl.dsl import Diagnostic, NetError, analyse, flat_layers, loads, read_source, resolve, specs
from netdsl.dsl.errors import NetdslError, did_you_mean
from netdsl.dsl.values import Expr

from . import fast, runtime, seeding, training_path
from .inputs import InputsMixin, refuse_iterator, rows_origin

# Training settings that are estimator parameters; None means "as the file says".
SETTINGS = (
    "epochs", "batch_size", "optimizer", "learning_rate", "loss", "validation_split",
    "verbose", "random_state", "warm_start", "class_weight",
)  # fmt: skip
DEFAULT_EPOCHS = 10
DEFAULT_BATCH_SIZE = 32


class TrainingDiverged(NetdslError, RuntimeError):
    """Training produced a NaN or infinite loss; the estimator is left as it was before `fit`."""


_SPEC_CACHE: dict[tuple[str, str], specs.Net] = {}


def parse_net(net) -> specs.Net:
    """The validated spec of `net` (cached by source text, since get_params needs it often)."""
    text, filename = read_source(net)
    key = (text, filename)
    if key not in _SPEC_CACHE:
        if len(_SPEC_CACHE) > 64:
            _SPEC_CACHE.clear()
        _SPEC_CACHE[key] = loads(text, filename=filename)
    return _SPEC_CACHE[key]


class BaseNet(InputsMixin, BaseEstimator):
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

    # ---- parameters: the file's `param`s are estimator parameters ---------------------------

    def _own_names(self) -> set[str]:
        return set(self._get_param_names())

    def _file_params_set(self) -> dict:
        """File parameters given to this estimator (constructor or set_params)."""
        own = self._own_names()
        return {k: v for k, v in vars(self).items() if k not in own and not k.startswith("_") and not k.endswith("_")}

    def _file_params(self) -> dict:
        try:
            return parse_net(self.net).param_defaults if self.net is not None else {}
        except (NetError, TypeError, ValueError):
            return {}

    def _net_readable(self) -> bool:
        try:
            parse_net(self.net)
        except (NetError, TypeError, ValueError):
            return False
        return True

    def get_params(self, deep=True):
        params = super().get_params(deep=False)
        values = dict(self._file_params())
        values.update(self._file_params_set())
        params.update(values)
        return params

    def set_params(self, **params):
        if "net" in params:
            self.net = params.pop("net")
        own = self._own_names()
        file_params = self._file_params()
        readable = self._net_readable()
        for key, value in params.items():
            if key in own or key in file_params or not readable:
                # While `net` cannot be read, names are checked at fit, where its error is reported.
                setattr(self, key, value)
            else:
                names = sorted(file_params)
                hint = did_you_mean(key, list(file_params) + list(own))
                raise ValueError(
                    f"Invalid parameter {key!r} for estimator {type(self).__name__}. "
                    + (f"{hint[0].upper()}{hint[1:]} " if hint else "")
                    + f"The .net file's parameters are: {', '.join(names) if names else 'none'}; "
                    f"the estimator's settings are: {', '.join(sorted(own))}."
                )
        return self

    # ---- settings ------------------------------------------------------------------------------

    def _settings(self, spec: specs.Net) -> dict:
        """Training settings: estimator parameter > `train` block > default."""
        train = spec.train or specs.Train()
        epochs = self.epochs if self.epochs is not None else (train.epochs if spec.train else DEFAULT_EPOCHS)
        batch_size = self.batch_size if self.batch_size is not None else train.batch_size
        validation_split = self.validation_split if self.validation_split is not None else train.validation_split
        optimizer = train.optimizer
        if self.optimizer is not None:
            optimizer = _optimizer_spec(self.optimizer)
        for name, value, check in (
            ("epochs", epochs, lambda v: isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v >= 1),
            ("batch_size", batch_size, lambda v: isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v >= 1),
            ("validation_split", validation_split, lambda v: isinstance(v, (int, float)) and 0 <= v < 1),
        ):
            if isinstance(value, Expr):
                continue  # a param's name in the file: checked once resolved
            if not check(value):
                words = {"epochs": "an int in the range [1, inf)", "batch_size": "an int in the range [1, inf)",
                         "validation_split": "a float in the range [0, 1)"}[name]
                raise ValueError(f"The '{name}' parameter of {type(self).__name__} must be {words}. Got {value!r} instead.")
        if self.learning_rate is not None and not (isinstance(self.learning_rate, (int, float)) and self.learning_rate > 0):
            raise ValueError(
                f"The 'learning_rate' parameter of {type(self).__name__} must be a float in the range (0, inf). "
                f"Got {self.learning_rate!r} instead."
            )
        loss = self.loss if self.loss is not None else train.loss
        if loss is not None and loss not in specs.LOSSES:
            hint = did_you_mean(str(loss), specs.LOSSES)
            raise ValueError(f"Unknown loss {loss!r}. " + (hint or "Expected one of: " + ", ".join(specs.LOSSES)))
        return {
            "epochs": epochs if isinstance(epochs, Expr) else int(epochs),
            "batch_size": batch_size if isinstance(batch_size, Expr) else int(batch_size),
            "validation_split": validation_split if isinstance(validation_split, Expr) else float(validation_split),
            "optimizer": optimizer,
            "learning_rate": self.learning_rate,
            "loss": loss,
            "metrics": train.metrics,
            "callbacks": train.callbacks,
            "class_weight": train.class_weight,
            "shuffle": train.shuffle,
        }

    def _spec(self) -> specs.Net:
        if self.net is None:
            raise ValueError(f"{type(self).__name__} needs a .net program: pass a path or the source text as `net`")
        spec = parse_net(self.net)
        unknown = set(self._file_params_set()) - set(spec.param_defaults)
        if unknown:
            names = sorted(spec.param_defaults)
            key = sorted(unknown)[0]
            hint = did_you_mean(key, names)
            raise ValueError(
                f"Unknown parameter {key!r} for the .net file {spec.name!r}. "
                + (f"{hint[0].upper()}{hint[1:]} " if hint else "")
                + f"Its parameters are: {', '.join(names) if names else 'none'}."
            )
        return spec

    # ---- data: see inputs.py --------------------------------------------------------------

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True  # made dense in `_validate_X`
        return tags

    # ---- fitting ---------------------------------------------------------------------------

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

    def _build(self, resolved: specs.Net, text_samples=None):
        """The Keras model; `embedding_coverage_` records how much of the vocabulary each
        `embeddings=` file covers (logged when verbose, before training starts)."""
        from .compile import build_model

        coverage: dict = {}
        model = build_model(resolved, text_samples=text_samples, coverage=coverage)
        self.embedding_coverage_ = coverage
        if self.verbose:
            from netdsl.dsl.vectors import coverage_text

            for layer, report in coverage.items():
                print(coverage_text(layer, report), flush=True)
        return model

    def _compile(self, model, settings, loss, metrics):
        from .compile import build_metrics, build_optimizer

        model.compile(
            optimizer=build_optimizer(settings["optimizer"], settings["learning_rate"]),
            loss=loss,
            metrics=build_metrics(metrics),
        )

    def _train(self, model, X, y, settings, sample_weight=None, class_weight=None, validation=None, epochs=None,
               entry=None):
        """Trains with the file's callbacks (on the fast path when `entry` is given, else with Keras's
        fit); stops with a clear error if the loss diverges."""
        import keras

        from .compile import build_callbacks
        from .progress import EpochProgress

        callbacks = build_callbacks(settings["callbacks"], has_validation=validation is not None)
        watch = [keras.callbacks.TerminateOnNaN()]
        if self.verbose:
            watch.append(EpochProgress(epochs or settings["epochs"], style="bar" if self.verbose == 1 else "lines"))
        if class_weight is not None:  # one weight per sample, as Keras does it (and with sample weights too)
            per_class = _class_weight_per_sample(y, class_weight)
            sample_weight = per_class if sample_weight is None else np.asarray(sample_weight) * per_class
        if entry is not None:
            from types import SimpleNamespace

            history = SimpleNamespace(history=fast.train(
                entry, X, y,
                epochs=epochs or settings["epochs"],
                batch_size=settings["batch_size"],
                shuffle=settings["shuffle"],
                seed=self._shuffle_seed(),
                sample_weight=sample_weight,
                validation=validation,
                callbacks=callbacks + watch,
                initial_epoch=len(getattr(self, "history_", {}).get("loss", [])) if self._continuing else 0,
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
                callbacks=callbacks + watch,
                verbose=0,
            )
        losses = history.history.get("loss", [])
        if any(not np.isfinite(v) for v in losses):
            epoch = next(i for i, v in enumerate(losses) if not np.isfinite(v)) + 1
            lr = settings["learning_rate"] or settings["optimizer"].learning_rate
            raise TrainingDiverged(
                f"Training stopped at epoch {epoch}: the loss became {losses[epoch - 1]}. "
                f"The model is not usable. Try a lower learning rate (now {lr:g}), scaling the inputs "
                "(e.g. StandardScaler), or checking the targets for extreme values."
            )
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

    def fit(self, X, y=None, sample_weight=None):
        """Train the net on (X, y); see the class docstring for what X and y may be."""
        self._fit(X, y, sample_weight=sample_weight)
        return self

    def _fit(self, X, y, sample_weight=None, classes=None, incremental=False):
        runtime.configure_process()  # before Keras and TensorFlow start (see runtime.py)
        spec = self._spec()
        settings = self._settings(spec)  # the estimator's settings checked first; the file's once resolved below
        # Rows made by an augmentation step carry the index of the row they were made from, so
        # validation holds out originals only, and never trains on copies of a validation row.
        origin = rows_origin(X)
        self._continuing = hasattr(self, "model_") and (bool(self.warm_start) or incremental)
        if y is None and self.__sklearn_tags__().target_tags.required:
            raise ValueError(f"This {type(self).__name__} estimator requires y to be passed, but the target y is None.")
        X, y = self._validate_X(X, spec, reset=not self._continuing, y=y, **self._y_validation())
        targets, data = self._targets(y, spec, reset=not self._continuing, classes=classes)
        data.update(self._data_names(spec, X))
        params = {k: v for k, v in self.get_params().items() if k in spec.param_defaults}
        resolved = resolve(spec, params, data)
        settings = self._settings(resolved)  # the `train` block with the params' values (`adam(learning_rate=lr)`)
        summary = analyse(_trained_with(spec, settings["loss"]), params, data)  # metrics vs task, as fitted
        self._shape_inputs(_take(X, slice(0, 1)), resolved)  # the data must fit `input` (say which line)
        mode = self._check_output(summary, resolved)
        loss, y_fit = self._loss_and_targets(targets, settings, mode, resolved)
        inputs = X
        if sample_weight is not None:
            from sklearn.utils.validation import _check_sample_weight

            refuse_iterator(sample_weight, "sample_weight")
            if origin is not None and len(sample_weight) == int((origin == np.arange(len(origin))).sum()):
                sample_weight = np.asarray(sample_weight)[origin]  # weights given for the originals

            # A negative weight makes the loss negative (training then maximises that sample's error).
            sample_weight = _check_sample_weight(sample_weight, X if not self._is_text(spec) else np.empty((len(X), 1)),
                                                 ensure_non_negative=True)
        class_weight = _checked_class_weight(self._class_weights(targets, settings))
        self.training_path_ = training_path.choose(resolved, type(self).__name__, self.verbose)
        with seeding.fitting(seeded=self.random_state is not None):  # one fit at a time; global state put back
            self._seed(keep_compiled=self.training_path_ == "fast")
            validation = None
            fit_index = np.arange(len(inputs))
            if settings["validation_split"] > 0 and not incremental:
                fit_index, val_index = self._split(len(inputs), settings["validation_split"], targets, origin)
                val_x = self._shape_inputs(_take(inputs, val_index), resolved)
                validation = (val_x, y_fit[val_index]) if sample_weight is None else (
                    val_x, y_fit[val_index], sample_weight[val_index])
            train_x = _take(inputs, fit_index)
            architecture = _architecture(resolved)
            entry = None
            if self._continuing and getattr(self, "_architecture", None) == architecture:
                model = self.model_
                entry = getattr(self, "_fast_entry", None) if self.training_path_ == "fast" else None
                if entry is not None and (entry.model is not model or not fast.borrow(entry)):
                    entry = None
                # The learning rate as set now (as MLPClassifier's warm start takes learning_rate_init).
                fast.set_learning_rate(model, settings["learning_rate"] or settings["optimizer"].learning_rate)
            else:
                self._continuing = False
                if self.training_path_ == "fast":
                    entry, model = training_path.fast_model(self, resolved, architecture, settings, loss, y_fit)
                else:
                    model = self._build(resolved, text_samples=train_x if self._is_text(spec) else None)
                    self._compile(model, settings, loss, settings["metrics"])
            if incremental:
                settings = dict(settings, callbacks=())
            train_inputs = self._shape_inputs(train_x, resolved)
            train_weights = None if sample_weight is None else sample_weight[fit_index]
            kept = _snapshot(model) if self._continuing else None
            try:
                history, stopper = self._train(
                    model,
                    train_inputs,
                    y_fit[fit_index],
                    settings,
                    sample_weight=train_weights,
                    class_weight=class_weight,
                    validation=validation,
                    epochs=1 if incremental else None,
                    entry=entry,
                )
            except BaseException:
                if kept is not None:  # a failed refit leaves the fitted model as it was (weights, optimizer)
                    _put_back(kept)
                if entry is not None:
                    fast.release(entry, kept=entry.model is getattr(self, "model_", None))
                raise
            if entry is not None:
                fast.release(entry, kept=True)
            stage_two = None
            if getattr(resolved.train, "fine_tune", None) is not None and not incremental and not self._continuing:
                stage_two = self._second_stage(
                    model, resolved.train.fine_tune, summary.unfrozen, settings, loss,
                    train_inputs, y_fit[fit_index], sample_weight=train_weights,
                    class_weight=class_weight, validation=validation,
                )
        self._fast_entry = entry
        self.model_ = model
        self._architecture = architecture
        self.spec_ = resolved
        self.net_source_ = read_source(self.net)[0]
        self.output_mode_ = mode
        self._record(history, stopper, settings)
        if stage_two is not None:  # history_ goes on through the second stage
            first = len(history.history.get("loss", []))
            self._continuing = True
            self._record(*stage_two, settings)
            self.stage_epochs_ = (first, len(stage_two[0].history.get("loss", [])))
        elif hasattr(self, "stage_epochs_") and not self._continuing:
            del self.stage_epochs_
        return self

    def _second_stage(self, model, stage, names, settings, loss, X, y, **fit_args):
        """`fine_tune = unfreeze(...)`: the layers `names` (as the static analysis matched them)
        become trainable, and training goes on `stage.epochs` epochs with the same optimizer kind at
        the stage's learning rate (default: a tenth of the first stage's), callbacks anew."""
        from .compile import unfreeze

        weights = unfreeze(model, names)
        rate = stage.learning_rate or (settings["learning_rate"] or settings["optimizer"].learning_rate) / 10
        settings = dict(settings, learning_rate=rate, epochs=stage.epochs)
        if self.verbose:
            print(f"stage 2: unfroze {len(names)} layer{'s' if len(names) != 1 else ''} ({', '.join(names)}), "
                  f"{weights:,} more trainable weights; {stage.epochs} epochs at learning rate {rate:g}", flush=True)
        self._compile(model, settings, loss, settings["metrics"])
        return self._train(model, X, y, settings, epochs=stage.epochs, **fit_args)

    def _y_validation(self) -> dict:
        return {}

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
            raise ValueError(f"validation_split={fraction} leaves no samples to train on ({n} samples).")
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

    def _class_weights(self, targets, settings):
        return None

    def _targets(self, y, spec, reset, classes=None):
        raise NotImplementedError

    def _check_output(self, summary, resolved):
        raise NotImplementedError

    def _loss_and_targets(self, targets, settings, mode, resolved):
        raise NotImplementedError

    def _last_layer(self, resolved):
        """(path, spec, source span) of the net's last layer."""
        layers = flat_layers(resolved)
        if not layers:
            return None, None, None
        path, layer = layers[-1]
        return path, layer, resolved.source.span(path)

    def _net_error(self, resolved, title, span, help) -> NetError:
        return resolved.source.error([Diagnostic(title, span, help=help)])

    def _raw_outputs(self, X):
        """The model's outputs for X (validated like at fit), in one large batch per call."""
        check_is_fitted(self, "model_")
        X, _ = self._validate_X(X, self.spec_, reset=False)
        inputs = self._shape_inputs(X, self.spec_)
        return fast.predict(self.model_, inputs)

    # ---- persistence -----------------------------------------------------------------------

    def __getstate__(self):
        from . import persist

        state = self.__dict__.copy()
        state.pop("_fast_entry", None)
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

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "model_")


def _checked_class_weight(weights):
    """Class weights (class index -> weight), refused unless each is finite and not negative."""
    if weights is not None:
        bad = {k: w for k, w in weights.items() if not (np.isfinite(w) and w >= 0)}
        if bad:
            index, value = next(iter(bad.items()))
            raise ValueError(
                f"class_weight must be finite and non-negative; got {value!r} for class index {index} "
                "(a negative weight makes the loss negative)."
            )
    return weights


def _snapshot(model) -> list:
    """(variable, value) for each of `model`'s variables and its optimizer's, for `_put_back`."""
    variables = list(model.variables)
    optimizer = getattr(model, "optimizer", None)
    if optimizer is not None and getattr(optimizer, "built", False):
        variables += list(optimizer.variables)
    return [(variable, np.array(variable.numpy(), copy=True)) for variable in variables]


def _put_back(snapshot: list) -> None:
    for variable, value in snapshot:
        variable.assign(value)


def _class_weight_per_sample(y, class_weight: dict) -> np.ndarray:
    """Keras's reading of `class_weight`: the class of each target row (argmax of one-hot rows)."""
    y = np.asarray(y)
    if y.ndim > 1:
        y = np.argmax(y, axis=-1) if y.shape[-1] != 1 else y[..., 0]
    labels = np.round(y).astype(int)
    return np.array([class_weight.get(int(label), 1.0) for label in labels], dtype="float32")


def _take(X, index):
    return X[index]


def _architecture(resolved: specs.Net) -> str:
    """What decides the graph: everything but the training settings."""
    data = resolved.model_dump(mode="json", exclude={"train", "params"})
    data["freeze"] = list(resolved.train.freeze) if resolved.train is not None else []  # what is trained
    return repr(data)


def _trained_with(spec: specs.Net, loss) -> specs.Net:
    """`spec` as this fit trains it: the estimator's `loss` (when set) in its `train` block, so that
    `analyse` checks the metrics against the targets this loss makes (`categorical_crossentropy`:
    one-hot, so `top_k_categorical_accuracy` can be computed)."""
    if spec.train is None or loss is None or loss == spec.train.loss:
        return spec
    return spec.model_copy(update={"train": spec.train.model_copy(update={"loss": loss})})


def _optimizer_spec(value):
    """An estimator's `optimizer`: a name (`"sgd"`) or `.net` call text (`"sgd(momentum=0.9)"`)."""
    if isinstance(value, specs.Node):
        return value
    if not isinstance(value, str):
        raise ValueError(f"`optimizer` must be a name such as 'adam' or a call such as 'sgd(momentum=0.9)'; got {value!r}")
    try:
        net = loads(f"train {{\n    optimizer = {value}\n}}\n", filename="<optimizer>")
    except NetError as error:
        raise ValueError(f"Invalid optimizer {value!r}: {error.diagnostics[0].title}; {error.diagnostics[0].help}") from None
    return net.train.optimizer
