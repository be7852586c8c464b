"""Training checkpoints: a fitted estimator's whole training state as NumPy arrays and plain data,
and a new estimator continuing from one for more epochs.

    state = checkpoint.capture(estimator)                  # after a fit of E1 epochs
    checkpoint.save(state, "state.npz"); state = checkpoint.load("state.npz")
    more = clone(estimator).set_params(epochs=E2)
    checkpoint.resume(more, state, X, y)                   # trains E2 more epochs

A `Checkpoint` holds every variable of the model (weights, statistics, the random generators'
states, so that dropout goes on drawing where it stopped), the optimizer's variables (its step
count and moments; not its learning rate, which the continuing estimator sets, as a warm start
does), `history_` and the other fitted attributes, and the graph it belongs to. It is plain data:
a search sends it to a worker with a task and gets the next one back with the result
(`netdsl.pipelines.tune`), and `save`/`load` write it as an `.npz` file read with
`allow_pickle=False`, so loading one runs no code from the file.

Why not pickle the estimator: a pickled estimator carries its model as a `.keras` zip, and the
unpickled model trains on Keras's standard path. `resume` instead borrows the fast path's cached
compiled model for the graph (`training_path.fast_model`; one is built only when none is cached)
and sets its variables, so a continuation neither rebuilds nor traces again.

Exactness: on the fast path, epoch e's mini-batch order is drawn from (random_state, e), the
continuing fit's first epoch is numbered after the checkpoint's (`history_`), and every variable
that the next epoch reads is restored; so E1 epochs, a checkpoint and E2 more give the weights of
one fit of E1 + E2 epochs under the same `random_state` (tests/test_tune.py); the file's callbacks
go on too, early stopping's counts, best weights and a stop already made, and learning-rate
reduction's (`callback_state.py`, tests/test_checkpoint_continuations.py). Without a
`random_state` each fit draws its own shuffling seed, and a continuation is merely a continuation.
"""

from __future__ import annotations

import json
import os
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from netdsl.dsl.errors import ParameterError

__all__ = ["Checkpoint", "capture", "load", "resume", "save"]

FORMAT = "netdsl-checkpoint"
VERSION = 1
# Fitted attributes a fit makes again (or that hold live objects): never part of a checkpoint.
_SKIPPED = {"model_", "_fast_entry", "spec_", "_continuing", "_checkpoint", "_stage_one", "embedding_coverage_", "training_path_",
            "feature_model_"}


@dataclass
class Checkpoint:
    """A fitted estimator's training state (see the module docstring). `model` and `optimizer`:
    the variables' values in the model's order (`variables.layer_variables`) and the optimizer's
    (without its learning rate); `attributes`: the fitted attributes as plain data (arrays
    apart, in `arrays`); `architecture`: what decides the graph (a continuation must match it);
    `vocabularies`: a digest of each `text_vectorization`'s vocabulary (a continuation's texts must
    give the same, which each fit learns again: see `vocabulary_digests`)."""

    architecture: str
    model: list = field(default_factory=list)
    optimizer: list = field(default_factory=list)
    attributes: dict = field(default_factory=dict)
    arrays: dict = field(default_factory=dict)
    vocabularies: dict = field(default_factory=dict)

    @property
    def epochs(self) -> int:
        """Epochs trained so far."""
        return len(self.attributes.get("history_", {}).get("loss", []))


def _optimizer_variables(model) -> list:
    from netdsl.dsl import compat

    optimizer = model.optimizer
    rate = compat.learning_rate_variable(optimizer)
    return [v for v in optimizer.variables if v is not rate]


def _plain(value, name: str):
    """`value` as JSON data (tuples tagged, to come back as tuples); ValueError when it is not."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value)
    if isinstance(value, tuple):
        return {"__tuple__": [_plain(v, name) for v in value]}
    if isinstance(value, list):
        return [_plain(v, name) for v in value]
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {k: _plain(v, name) for k, v in value.items()}
    raise ValueError(f"the fitted attribute {name} ({type(value).__name__}) is not plain data")


def _unplain(value):
    if isinstance(value, list):
        return [_unplain(v) for v in value]
    if isinstance(value, dict):
        if set(value) == {"__tuple__"}:
            return tuple(_unplain(v) for v in value["__tuple__"])
        return {k: _unplain(v) for k, v in value.items()}
    return value


def capture(estimator) -> Checkpoint:
    """The training state of a fitted netdsl estimator (its variables' values are copied)."""
    model = getattr(estimator, "model_", None)
    if model is None:
        raise ParameterError(f"{type(estimator).__name__} is not fitted: there is no training state to capture.")
    attributes, arrays = {}, {}
    params = set(estimator.get_params(deep=False))
    for name, value in vars(estimator).items():
        if name in params or name in _SKIPPED or not name.endswith("_") and not name.startswith("_"):
            continue
        if isinstance(value, np.ndarray):
            arrays[name] = value
            continue
        try:
            attributes[name] = _plain(value, name)
        except ValueError:
            if name.endswith("_") and not name.startswith("_"):
                raise ParameterError(f"cannot capture {type(estimator).__name__}'s state: the fitted attribute "
                                     f"{name} is not plain data") from None
    stage_one = getattr(estimator, "_stage_one", None)
    if stage_one is not None:  # two stages (`fine_tune`): a continuation goes on from the first one's end
        state = _at_stage_one_end(estimator, stage_one, attributes, arrays)
    else:
        state = Checkpoint(estimator._architecture, *_values(model), attributes, arrays)
    state.vocabularies = vocabulary_digests(model.layers)
    return state


def vocabulary_digests(layers) -> dict:
    """layer name -> a digest of its vocabulary, for each `text_vectorization` among `layers`. A
    text net learns its vocabulary from the training texts at every fit, a continuation too: the
    same texts give the same vocabulary, other texts another, which the checkpoint's embedding
    rows would then be read against: `model_for` refuses that."""
    import hashlib

    import keras

    return {layer.name: hashlib.sha256("\n".join(layer.get_vocabulary()).encode()).hexdigest()[:16]
            for layer in layers if isinstance(layer, keras.layers.TextVectorization)}


def _values(model) -> tuple[list, list]:
    """Copies of the values of `model`'s variables and of its optimizer's (none if not built)."""
    from . import variables

    model_values = [np.array(v.numpy(), copy=True) for v in variables.layer_variables(model)]
    optimizer = getattr(model, "optimizer", None)
    optimizer_values = ([np.array(v.numpy(), copy=True) for v in _optimizer_variables(model)]
                        if optimizer is not None and getattr(optimizer, "built", False) else [])
    return model_values, optimizer_values


# The fitted attributes a two-stage fit keeps as they were at its first stage's end (`BaseNet._keep`).
STAGE_ONE_ATTRIBUTES = ("history_", "n_iter_", "best_epoch_")


def stage_one_end(estimator, model) -> dict:
    """What a checkpoint of a two-stage fit holds of its first stage's end, taken before the second
    starts (`BaseNet._run`): the variables, the optimizer's, and where the callbacks stood; `_keep`
    adds the fitted attributes as they were then. One fit of more first-stage epochs would go on
    from there and then run its second stage, so a continuation does the same."""
    from .callback_state import TRANSIENT

    model_values, optimizer_values = _values(model)
    return {"model": model_values, "optimizer": optimizer_values,
            "callbacks": {name: getattr(estimator, name) for name in TRANSIENT if hasattr(estimator, name)}}


def _at_stage_one_end(estimator, stage_one: dict, attributes: dict, arrays: dict) -> Checkpoint:
    from .callback_state import TRANSIENT

    for name in ("best_epoch_", *TRANSIENT):
        attributes.pop(name, None)
        arrays.pop(name, None)
    for name, value in [*stage_one["callbacks"].items(),
                        *((n, stage_one[n]) for n in STAGE_ONE_ATTRIBUTES if n in stage_one)]:
        if isinstance(value, np.ndarray):
            arrays[name] = value
        else:
            attributes[name] = _plain(value, name)
    attributes.pop("stage_epochs_", None)
    return Checkpoint(estimator._architecture, stage_one["model"], stage_one["optimizer"], attributes, arrays)


def resume(estimator, state: Checkpoint, X, y=None, sample_weight=None):
    """Continue `state` with `estimator` (unfitted, or fitted: its fitted state is replaced), the
    estimator that made it with the same parameters but `epochs`: trains `epochs` more epochs on
    (X, y), as a warm start of the original would, and returns the estimator."""
    for name in [n for n in vars(estimator) if n.endswith("_") and not n.startswith("__")] + ["_fast_entry"]:
        estimator.__dict__.pop(name, None)  # whatever it was fitted to before
    for name, value in state.attributes.items():
        setattr(estimator, name, _unplain(value))
    for name, value in state.arrays.items():
        setattr(estimator, name, value)
    estimator._checkpoint = state
    try:
        estimator.fit(X, y, sample_weight=sample_weight)
    finally:
        estimator.__dict__.pop("_checkpoint", None)
    return estimator


def model_for(estimator, state: Checkpoint, plan, architecture: str, train_x) -> tuple:
    """(model, fast-path entry or None) for `BaseNet._model_for`: the graph's model with the
    checkpoint's values (the fast path's cached one when it has one, else a new build)."""
    from . import fast, training_path, variables

    if state.architecture != architecture:
        raise ParameterError(
            f"this checkpoint was made by another net than {type(estimator).__name__}'s now (its layers, "
            "inputs or frozen layers differ): continue a checkpoint with the parameters that made it, "
            "epochs aside"
        )
    text_samples = train_x if estimator._is_text(plan.spec) else None
    text_samples = text_samples.parts if hasattr(text_samples, "parts") else text_samples  # by input name
    if estimator.training_path_ == "fast":  # a text net learns its vocabulary from the same texts again
        # Not restarted from initial weights: every variable is the checkpoint's below.
        entry, model = training_path.fast_model(estimator, plan.resolved, architecture, plan.settings, plan.loss,
                                                plan.y_fit, analysis=plan.analysis, texts=text_samples, restart=False)
    else:
        entry, model = None, estimator._build(plan.resolved, text_samples=text_samples, analysis=plan.analysis)
        estimator._compile(model, plan.settings, plan.loss, plan.settings["metrics"])
    try:
        _check_vocabularies(state, entry, model)
        _assign(variables.layer_variables(model), state.model, "model")
        if state.optimizer:
            model.optimizer.build(model.trainable_variables)
            _assign(_optimizer_variables(model), state.optimizer, "optimizer")
        elif entry is not None:  # a cached model's optimizer state from an earlier fit: zeroed, as a new one's
            variables.zero_optimizer(model.optimizer)
    except BaseException:
        if entry is not None:
            fast.release(entry, kept=False)
        raise
    return model, entry


def _check_vocabularies(state: Checkpoint, entry, model) -> None:
    from . import training_path

    shared = training_path._SHARED.get(entry) if entry is not None else None
    layers = list(shared.vectorizers.values()) if shared is not None and shared.vectorizers else model.layers
    now = vocabulary_digests(layers)
    changed = sorted(name for name in state.vocabularies if now.get(name, state.vocabularies[name]) != state.vocabularies[name])
    if changed:
        raise ParameterError(
            f"the texts given to continue this checkpoint give another vocabulary than the texts its fit "
            f"learned from (text_vectorization {', '.join(changed)}), so its embeddings would be read against "
            "other words: continue a text net's checkpoint on the texts it was trained on"
        )


def _assign(variables, values, what: str) -> None:
    if len(variables) != len(values) or any(tuple(v.shape) != np.shape(a) for v, a in zip(variables, values)):
        raise ParameterError(f"this checkpoint's {what} variables do not match the model's: it was made by another net")
    from .variables import assign

    assign(variables, values)


# ---- files ----------------------------------------------------------------------------------------


def save(state: Checkpoint, path) -> Path:
    """Write `state` as an `.npz` file (a temporary file beside it, then renamed over it)."""
    path = Path(path)
    meta = {"format": FORMAT, "version": VERSION, "architecture": state.architecture,
            "attributes": state.attributes, "arrays": {}, "vocabularies": state.vocabularies}
    members = {}
    for i, value in enumerate(state.model):
        members[f"model_{i}"] = value
    for i, value in enumerate(state.optimizer):
        members[f"optimizer_{i}"] = value
    for name, value in state.arrays.items():
        if value.dtype == object:  # strings (feature names): as text, object again when read
            meta["arrays"][name] = "object"
            value = value.astype(str)
        members[f"attr_{name}"] = value
    meta["counts"] = [len(state.model), len(state.optimizer)]
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(temporary, "wb") as handle:
            np.savez(handle, meta=np.array(json.dumps(meta)), **members)
        os.replace(temporary, path)
    finally:
        if temporary.exists():
            temporary.unlink()
    return path


def load(path) -> Checkpoint:
    """A checkpoint written by `save`, read with `allow_pickle=False` (no code runs from the file)
    and bounded: only the members `save` writes, checked before any is read (`_check_members`)."""
    try:
        with np.load(path, allow_pickle=False) as data:
            _check_members(data.zip)
            meta = json.loads(str(data["meta"]))
            if meta.get("format") != FORMAT or meta.get("version") != VERSION:
                raise ValueError("not a netdsl checkpoint of this version")
            n_model, n_optimizer = meta["counts"]
            numbered = {key for key in data.files if key.startswith(("model_", "optimizer_"))}
            if numbered != {f"model_{i}" for i in range(n_model)} | {f"optimizer_{i}" for i in range(n_optimizer)}:
                raise ValueError("its variables are not the ones its metadata counts")
            unknown = [name for name in meta["attributes"] if not _fitted_name(name)]
            if unknown:
                raise ValueError(f"it holds the attribute {unknown[0]!r}, which no checkpoint has")
            model = [data[f"model_{i}"] for i in range(n_model)]
            optimizer = [data[f"optimizer_{i}"] for i in range(n_optimizer)]
            arrays = {}
            for key in data.files:
                if key.startswith("attr_"):
                    name = key[len("attr_"):]
                    value = data[key]
                    arrays[name] = value.astype(object) if meta["arrays"].get(name) == "object" else value
    except (OSError, ValueError, KeyError, TypeError, AttributeError, zipfile.BadZipFile) as error:
        raise ParameterError(f"cannot read the checkpoint {path}: {error}") from None
    return Checkpoint(meta["architecture"], model, optimizer, meta["attributes"], arrays, meta.get("vocabularies", {}))


def _fitted_name(name) -> bool:
    """Whether a checkpoint can hold the fitted attribute `name`: what `capture` takes (a name
    ending or starting in `_`, not one a fit makes again), never a dunder, which `resume` would
    set on the estimator."""
    return (isinstance(name, str) and name.isidentifier() and not name.startswith("__") and name not in _SKIPPED
            and (name.endswith("_") or name.startswith("_")))


def _check_members(archive) -> None:
    """ValueError unless every member of the archive is one `save` writes (`meta`, `model_<i>`,
    `optimizer_<i>`, `attr_<fitted attribute>`), stored uncompressed as `np.savez` stores it (so
    it unpacks to no more than it takes in the file: no zip bomb), and all of them fit in memory."""
    from netdsl.dsl.files import unpacked_size_problem

    for info in archive.infolist():
        name = info.filename.removesuffix(".npy")
        kind, _, rest = name.partition("_")
        known = (name == "meta" or kind in ("model", "optimizer") and rest.isdigit() and rest.isascii()
                 or kind == "attr" and _fitted_name(rest))
        if not info.filename.endswith(".npy") or not known:
            raise ValueError(f"it holds `{info.filename}`, which no checkpoint has")
        if info.compress_type != zipfile.ZIP_STORED or info.compress_size != info.file_size:
            raise ValueError(f"`{info.filename}` is compressed ({info.compress_size:,} bytes that unpack to "
                             f"{info.file_size:,}), and a checkpoint's members are stored as written")
    problem = unpacked_size_problem(archive, [info.filename for info in archive.infolist()])
    if problem is not None:
        raise ValueError(f"its arrays {problem}")
