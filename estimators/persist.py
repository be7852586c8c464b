"""netdsl's model file, safe to open: what `est.save(path)`, `save(model, path)` and `netdsl fit
--save` write, and what `load(path)` reads.

A model file is a zip of three kinds of members:

- `netdsl.json`: the manifest (`dsl.saved.model_manifest`, which defines it, so that `pretrained`
  reads a model file's net without the estimators): the format's name and version, and the
  `.keras` member of each net inside (`base`: the one `pretrained("model.model")` takes, the last);
- `estimator.skops`: the estimator, or the scikit-learn composite around it (the pipeline of
  `--scale`, a target transformer, an encoder of string columns), in skops's format
  (https://skops.readthedocs.io): plain data, NumPy arrays, and objects of the types on an
  allowlist: `TRUSTED` and the scikit-learn and NumPy types skops itself trusts. What the file
  says about its types is never taken on trust;
- `nets/0.keras`, ...: each net's Keras model, loaded with Keras's `safe_mode=True` (no Python
  code from a config).

So loading runs no code from the file, and every read is bounded (`dsl/saved.py`). A pickle
(a joblib file, as netdsl wrote before) runs any code it holds when it is loaded: `load` refuses
one unless told `trusted=True`.
"""

from __future__ import annotations

import contextvars
import json
import os
import tempfile
import zipfile
from pathlib import Path

from netdsl.dsl import files, saved
from netdsl.dsl.errors import NetdslError, ParameterError

VERSION = saved.MODEL_VERSION  # the model-file format (its manifest: `saved.model_manifest`)
ESTIMATOR = "estimator.skops"
# The types a model file may hold besides those skops trusts (scikit-learn's estimators, NumPy's
# arrays and scalars, Python's plain data): netdsl's estimators and the functions its pipelines use.
TRUSTED = (
    "netdsl.estimators.classifier.NetClassifier",
    "netdsl.estimators.regressor.NetRegressor",
    "netdsl.estimators.transformer.NetTransformer",
    "netdsl.pipelines.series.flat_samples",
)  # fmt: skip

# While a model file is written: id(Keras model) -> (member, bytes, model) of each net met so far
# (the model kept so that its id stays its own); while one is read:
# the function that reads a net's member. Outside them (pickle, deepcopy) a net's state holds its
# `.keras` bytes, as before.
_WRITING: contextvars.ContextVar[dict | None] = contextvars.ContextVar("netdsl_writing", default=None)
_READING: contextvars.ContextVar = contextvars.ContextVar("netdsl_reading", default=None)


class UnsafeModelFile(NetdslError, ValueError):
    """A model file whose loading would run code from it (a pickle), refused unless trusted."""

    code = "M101"


class ModelFileError(NetdslError, ValueError):
    """A file given to `load` that is not a netdsl model file netdsl reads, or is damaged (the code
    the command line gives it too: the file cannot be used)."""

    code = "D101"


class NoModelFile(NetdslError, FileNotFoundError):
    """`load` was given a path where there is no file."""

    code = "D101"


def pickle_refusal(path: Path) -> UnsafeModelFile:
    return UnsafeModelFile(
        f"`{path}` is a pickle (joblib) file, not a netdsl model file: loading a pickle runs any code it "
        "holds. If you trust who wrote it, load it with `netdsl.estimators.load(path, trusted=True)` "
        "and save it again with `.save(path)`, which writes the safe format."
    )


# ---- the estimator's state (BaseNet.__getstate__ / __setstate__) ---------------------------------


def state_to_write(state: dict, model) -> dict:
    """A fitted estimator's state, `model_` left out: in a model file, its net is a member of its
    own and its spec is `.net` text (skops holds plain data); for pickle, the `.keras` bytes."""
    nets = _WRITING.get()
    if nets is None:
        if model is not None:
            state["_model_keras_bytes"] = model_bytes(model)
        return state
    from netdsl.dsl import dumps, specs

    if model is not None:  # skops asks twice (through __reduce__ first): one member a model
        if id(model) not in nets:
            nets[id(model)] = (f"nets/{len(nets)}.keras", model_bytes(model), model)
        state["_model_member"] = nets[id(model)][0]
    if isinstance(state.get("spec_"), specs.Net):
        state["_spec_source"] = dumps(state.pop("spec_"))
    if isinstance(state.get("net"), Path):
        state["net"] = str(state["net"])
    elif isinstance(state.get("net"), specs.Net):
        state["net"] = dumps(state["net"])
    return state


def state_read(state: dict):
    """(state, Keras model or None) from what `state_to_write` gave, in either form. The `net` of a
    loaded estimator becomes the program's saved text where its path no longer holds that program
    (the file is gone or changed): a loaded estimator can be cloned and refitted anywhere."""
    data = state.pop("_model_keras_bytes", None)
    member = state.pop("_model_member", None)
    source = state.pop("_spec_source", None)
    if member is not None:
        read = _READING.get()
        if read is None:
            raise ValueError("a netdsl model's net is read only by `netdsl.estimators.load`")
        data = read(member)
    if source is not None:
        from netdsl.dsl import loads

        state["spec_"] = loads(source, filename="<the saved model's net>")
    if isinstance(state.get("net_source_"), str) and state.get("net") is not None:
        state["net"] = _self_contained(state["net"], state["net_source_"])
    return state, (model_from_bytes(data) if data is not None else None)


def _self_contained(net, source: str):
    """`net` if it is the program's text, or the path of a file that holds it; else the text."""
    from netdsl.dsl import NetError, read_source

    if net == source:
        return net
    try:
        if Path(net).is_file() and read_source(net)[0] == source:  # a regular file only (no FIFO)
            return net
    except (NetError, TypeError, ValueError, OSError):
        pass
    return source


def model_bytes(model) -> bytes:
    """A Keras model as the bytes of its `.keras` zip."""
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "model.keras")
        model.save(path)
        return Path(path).read_bytes()


def model_from_bytes(data: bytes, what: str = "the saved net"):
    """A Keras model from its `.keras` bytes, in Keras's safe mode, after the zip's sizes are checked."""
    import io

    from .runtime import start_keras

    start_keras()  # the process set up for TensorFlow, then Keras imported (see runtime.py)
    import keras

    from . import layers  # noqa: F401 - registers netdsl's own layer classes, which the model may hold
    from . import seeding

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            saved.check_sizes(archive, Path(what))
            config = json.loads(saved.read_member(archive, "config.json", saved.MAX_CONFIG_BYTES, Path(what)))
            saved.check_weights(archive, config, Path(what))  # before Keras allocates what the config says
    except (zipfile.BadZipFile, ValueError, RecursionError) as error:
        raise ModelFileError(f"{what} is not a Keras model ({type(error).__name__}: {error})") from None
    except saved.SavedNetError as error:
        raise ModelFileError(f"{error.title}; {error.help}") from None
    unsafe = saved.unsafe_content(config)
    if unsafe:  # Keras's safe mode refuses some of these; netdsl never writes any
        raise UnsafeModelFile(f"{what} holds {unsafe}, whose Python code would run if it were loaded; "
                              "netdsl never writes one, so the file is not as netdsl saved it")
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "model.keras")
        Path(path).write_bytes(data)
        try:
            with seeding.drawing_apart():  # the caller's `random` goes on as if nothing was loaded
                return keras.models.load_model(path, compile=True, safe_mode=True)
        except Exception as error:  # noqa: BLE001 - Keras and h5py raise many kinds for a damaged file
            reason = (str(error).strip().splitlines() or [""])[0][:300]  # Keras's may go on with whole arrays
            raise ModelFileError(f"Keras cannot load {what} ({type(error).__name__}: {reason}); "
                                 "the file is damaged: save the model again") from None


# ---- files ----------------------------------------------------------------------------------------


def save(model, path) -> Path:
    """Write a fitted netdsl estimator, or a scikit-learn composite holding one, as a model file
    (replacing `path` only once it is complete)."""
    import skops.io as sio

    path = Path(path)
    nets: dict = {}
    token = _WRITING.set(nets)
    try:
        data = sio.dumps(model, compression=zipfile.ZIP_DEFLATED)
    finally:
        _WRITING.reset(token)
    untrusted = sorted(set(sio.get_untrusted_types(data=data)) - set(TRUSTED))
    if untrusted:
        raise ParameterError(
            f"Cannot save this {type(model).__name__} as a netdsl model file: it holds objects of "
            f"types netdsl does not load ({', '.join(untrusted)}). Save it with joblib.dump instead "
            "and load it with `netdsl.estimators.load(path, trusted=True)`."
        )
    nets = list(nets.values())
    manifest = saved.model_manifest(f"{type(model).__module__}.{type(model).__qualname__}",
                                    [member for member, _, _ in nets])
    with files.replace_atomically(path) as temporary:
        with zipfile.ZipFile(temporary, "w") as archive:
            archive.writestr(saved.MANIFEST, json.dumps(manifest, indent=1), compress_type=zipfile.ZIP_DEFLATED)
            archive.writestr(ESTIMATOR, data)  # stored: already compressed inside
            for member, blob, _ in nets:
                archive.writestr(member, blob)  # stored, so `pretrained` reads its config in place
    return path


def load(path, trusted: bool = False):
    """The estimator (or composite) in a model file. A pickle (joblib) file is refused unless
    `trusted=True`: loading one runs any code it holds."""
    path = Path(path)
    if not path.is_file():
        raise NoModelFile(f"No saved model at {path}")
    if saved.is_pickle(path) or not zipfile.is_zipfile(path):  # a pickle may end with a zip it holds
        if trusted:
            import joblib

            return joblib.load(path)
        if saved.is_pickle(path):
            raise pickle_refusal(path)
        raise ModelFileError(f"`{path}` is not a netdsl model file (written by `est.save(path)` or `netdsl fit --save`)")
    try:
        return _load_zip(path)
    except saved.SavedNetError as error:
        raise ModelFileError(f"{error.title}; {error.help}") from None


def _load_zip(path: Path):
    import io

    import skops.io as sio
    from skops.io.exceptions import UntrustedTypesFoundException

    with saved.open_zip(path, "netdsl model file") as archive:
        names = archive.namelist()
        if saved.MANIFEST not in names:
            if "config.json" in names:
                raise ModelFileError(f"`{path}` is a Keras model file, not a netdsl model file; take its layers "
                                 "with `pretrained(...)` in a .net file, or load it with keras.models.load_model")
            raise ModelFileError(f"`{path}` is not a netdsl model file (no `{saved.MANIFEST}` inside)")
        version = saved.manifest_version(saved.read_manifest(archive, path))
        if version is None or version > VERSION:
            raise ModelFileError(f"`{path}` is not a netdsl model file of a version this netdsl reads "
                             f"(version {VERSION}); save it again with this netdsl")
        data = saved.read_member(archive, ESTIMATOR, saved.MAX_MODEL_BYTES, path)
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as inner:
                saved.check_sizes(inner, path)
        except zipfile.BadZipFile:
            raise ModelFileError(f"`{path}` is damaged: its `{ESTIMATOR}` is not a zip; save the model again") from None

        def read_net(member: str) -> bytes:
            if not (isinstance(member, str) and member.startswith("nets/") and member.endswith(".keras")):
                raise ModelFileError(f"`{path}` is damaged: a net is stored as {member!r}")
            return saved.read_member(archive, member, saved.MAX_MODEL_BYTES, path)

        token = _READING.set(read_net)
        try:
            model = sio.loads(data, trusted=list(TRUSTED))
        except UntrustedTypesFoundException as error:
            raise UnsafeModelFile(
                f"`{path}` holds objects of types netdsl does not load ({error}); it was not written by "
                "netdsl. If you trust who wrote it, load it with skops yourself"
            ) from None
        except NetdslError:
            raise  # netdsl's own reasons (a net Keras cannot load, a member refused), said as they are
        except (KeyError, TypeError, ValueError, AttributeError, IndexError, RecursionError, NotImplementedError,
                UnicodeDecodeError, zipfile.BadZipFile) as error:  # ValueError: skops's (a protocol it lacks)
            raise ModelFileError(f"`{path}` is damaged ({type(error).__name__}: {error}); save the model again") from None
        finally:
            _READING.reset(token)
    return model
