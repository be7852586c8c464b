"""A saved net's layers read as specs, without TensorFlow: what `pretrained(...)` takes.

A `.keras` file is a zip holding `config.json` (the architecture) beside the weights; a model saved
by netdsl (`netdsl fit --save`, `est.save()`) is a joblib pickle of the estimator whose state holds
that zip as `_model_keras_bytes`. It is read with an unpickler that puts a plain state holder in
place of the estimator classes, so reading it imports neither the estimators nor Keras.

Each Keras layer config becomes the spec of its kind (through `specs.LAYER_CLASSES` reversed),
keeping only the arguments the spec knows (initializers and regularizers are left out: the weights
are the base's). A layer that cannot be read is recorded with the reason, and is an error only if
`pretrained` takes it. Results are cached by (path, modification time).
"""

from __future__ import annotations

import io
import json
import pickle
import zipfile
from dataclasses import dataclass
from pathlib import Path

from pydantic import TypeAdapter, ValidationError

from . import specs

KERAS_KINDS = {keras_class: kind for kind, keras_class in specs.LAYER_CLASSES.items()}
SUFFIXES = (".keras", ".model", ".joblib", ".pkl")  # files offered as close matches


class SavedNetError(Exception):
    """A saved net that cannot be used: `title` and `help` become a located diagnostic."""

    def __init__(self, title: str, help: str | None = None):
        super().__init__(title)
        self.title, self.help = title, help


@dataclass(frozen=True)
class BaseLayer:
    """One layer of a saved net: its name and Keras class, its spec (None where `problem` says why
    it cannot be read), the input shape it was built for (no batch axis), and whether `pretrained`
    leaves it out (augmentation layers)."""

    name: str
    keras_class: str
    spec: specs.Layer | None
    built_for: tuple | None
    skipped: bool = False
    problem: str | None = None


@dataclass(frozen=True)
class SavedNet:
    path: Path
    input_shape: tuple | None
    layers: tuple[BaseLayer, ...]  # in order, the input layer left out

    def taken(self, up_to: str | None) -> list[BaseLayer]:
        """The layers `pretrained(up_to=...)` takes: up to `up_to` inclusive, augmentation left out."""
        names = [layer.name for layer in self.layers]
        end = len(names) if up_to is None else names.index(up_to) + 1
        return [layer for layer in self.layers[:end] if not layer.skipped]

    @property
    def names(self) -> list[str]:
        return [layer.name for layer in self.layers if not layer.skipped]


def locate(path_text: str, net_filename: str | None) -> Path | None:
    """The file a `pretrained` path names: relative to the `.net` file's folder, else the current
    folder; None if neither has it."""
    path = Path(path_text).expanduser()
    for candidate in _candidates(path, net_filename):
        if candidate.is_file():
            return candidate
    return None


def _candidates(path: Path, net_filename: str | None) -> list[Path]:
    if path.is_absolute():
        return [path]
    out = []
    if net_filename and not net_filename.startswith("<"):
        out.append(Path(net_filename).parent / path)
    out.append(path)
    return out


def missing_help(path_text: str, net_filename: str | None) -> str:
    """Where a missing base was looked for, and a close file name if one is near."""
    from .errors import close_match

    path = Path(path_text).expanduser()
    places = []
    for place in _candidates(path, net_filename):
        if all(place.parent.resolve() != seen.parent.resolve() for seen in places):
            places.append(place)
    near = []
    for place in places:
        folder = place.parent
        if folder.is_dir():
            near += [str(Path(path_text).parent / f.name) if Path(path_text).parent != Path(".") else f.name
                     for f in folder.iterdir() if f.suffix in SUFFIXES]
    match = close_match(path_text, near)
    where = " and ".join(f"`{p.parent}/`" if str(p.parent) != "." else "the current folder" for p in places)
    near = sorted(set(near))
    hint = f"did you mean `{match}`? " if match else ""
    return (f"{hint}looked in {where}; give a `.keras` file or a model saved with `netdsl fit --save`, "
            "relative to the .net file's folder")


_CACHE: dict[tuple[str, int], SavedNet] = {}


def read(path: Path) -> SavedNet:
    """The saved net at `path` (an existing file); raises `SavedNetError` if it is not one."""
    path = Path(path)
    key = (str(path.resolve()), path.stat().st_mtime_ns)
    if key not in _CACHE:
        if len(_CACHE) > 16:
            _CACHE.clear()
        _CACHE[key] = _parse(path, json.loads(_config_text(keras_bytes(path), path)))
    return _CACHE[key]


def keras_bytes(path: Path) -> bytes:
    """The `.keras` zip of a saved net: the file itself, or the bytes inside a netdsl model."""
    data = Path(path).read_bytes()
    if zipfile.is_zipfile(io.BytesIO(data)):
        return data
    state = _estimator_state(path)
    inner = state.get("_model_keras_bytes") if isinstance(state, dict) else None
    if not isinstance(inner, bytes):
        raise SavedNetError(
            f"`{path.name}` holds no fitted netdsl model",
            help="give a `.keras` file or a model saved with `netdsl fit --save` (a fitted estimator)",
        )
    return inner


def _config_text(data: bytes, path: Path) -> str:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return archive.read("config.json").decode("utf-8")
    except (zipfile.BadZipFile, KeyError):
        raise SavedNetError(f"`{path.name}` is not a saved Keras model (no config.json inside)",
                            help="give a `.keras` file written by Keras 3 or netdsl") from None


class _State:
    """Stands in for a pickled estimator: keeps its state, needs none of its code."""

    def __setstate__(self, state):
        self.state = state


def _estimator_state(path: Path) -> dict:
    """The state of a pickled netdsl estimator, read without importing the estimators or Keras."""
    try:
        from joblib.numpy_pickle import NumpyUnpickler, _validate_fileobject_and_memmap
    except ImportError:  # pragma: no cover - joblib's internals moved
        NumpyUnpickler = _validate_fileobject_and_memmap = None

    class Unpickler(NumpyUnpickler or pickle.Unpickler):
        def find_class(self, module, name):
            if module.split(".")[0] in ("keras", "tensorflow") or module.startswith("netdsl.estimators"):
                return _State
            return super().find_class(module, name)

    try:
        with open(path, "rb") as handle:
            if NumpyUnpickler is None:  # pragma: no cover
                loaded = Unpickler(handle).load()
            else:
                with _validate_fileobject_and_memmap(handle, str(path), None) as (stream, _):
                    loaded = Unpickler(str(path), stream, True).load()
    except Exception as error:  # a file that is not a pickle raises many kinds
        raise SavedNetError(
            f"cannot read `{path.name}` as a saved net ({type(error).__name__})",
            help="give a `.keras` file or a model saved with `netdsl fit --save`",
        ) from None
    return getattr(loaded, "state", None) or {}


def _parse(path: Path, config: dict) -> SavedNet:
    model_class = config.get("class_name")
    inner = config.get("config") or {}
    if model_class not in ("Functional", "Sequential", "Model") or not isinstance(inner.get("layers"), list):
        raise SavedNetError(
            f"`{path.name}` holds a `{model_class}` model, which netdsl cannot take layers from",
            help="save a Sequential or functional model (a chain of layers)",
        )
    input_shape = None
    layers: list[BaseLayer] = []
    previous = None
    for entry in inner["layers"]:
        keras_class = entry.get("class_name", "?")
        layer_config = entry.get("config") or {}
        name = entry.get("name") or layer_config.get("name") or keras_class
        if keras_class == "InputLayer":
            shape = layer_config.get("batch_shape") or layer_config.get("batch_input_shape")
            if shape is not None and input_shape is None and not layers:
                input_shape = tuple(shape[1:])
            previous = name
            continue
        built = (entry.get("build_config") or {}).get("input_shape")
        built_for = _shape(built)
        problem = None
        if model_class != "Sequential" and not _follows(entry, previous):
            problem = "it does not take exactly the previous layer's output (not a chain)"
        spec, why = _spec(keras_class, layer_config)
        problem = problem or why
        kind = KERAS_KINDS.get(keras_class)
        layers.append(BaseLayer(name, keras_class, spec, built_for, kind in specs.AUGMENTATION_KINDS, problem))
        previous = name
    if input_shape is None:
        input_shape = _shape(inner.get("build_input_shape")) or next(
            (layer.built_for for layer in layers if layer.built_for is not None), None)
    return SavedNet(path, input_shape, tuple(layers))


def _shape(value) -> tuple | None:
    if not isinstance(value, (list, tuple)) or not value or isinstance(value[0], (list, dict)):
        return None
    return tuple(value[1:])


def _follows(entry: dict, previous: str | None) -> bool:
    nodes = entry.get("inbound_nodes") or []
    if len(nodes) != 1 or previous is None:
        return False
    sources = set()

    def walk(value):
        if isinstance(value, dict):
            if value.get("class_name") == "__keras_tensor__":
                sources.add(value["config"]["keras_history"][0])
            else:
                for item in value.values():
                    walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(nodes[0].get("args", []))
    return sources == {previous}


def _spec(keras_class: str, config: dict) -> tuple[specs.Layer | None, str | None]:
    kind = KERAS_KINDS.get(keras_class)
    if kind is None:
        return None, f"netdsl has no layer kind for the Keras class `{keras_class}`"
    try:
        return TypeAdapter(specs.LayerSpec).validate_python(_spec_data(kind, config)), None
    except (ValidationError, ValueError, TypeError) as error:
        first = error.errors(include_url=False)[0] if isinstance(error, ValidationError) else {"loc": (), "msg": str(error)}
        where = ".".join(str(p) for p in first["loc"][1:])
        return None, f"its `{where}` cannot be read ({first['msg']})"


def _spec_data(kind: str, config: dict) -> dict:
    """Spec data from a Keras layer config: the arguments the spec knows, plain values only."""
    cls = specs.LAYERS[kind]
    data = {"kind": kind}
    for field in cls.model_fields:
        if field == "kind" or field not in config:
            continue
        value = config[field]
        if field == "layer" and isinstance(value, dict):  # bidirectional's recurrent layer
            inner_kind = KERAS_KINDS.get(value.get("class_name"))
            if inner_kind is None:
                raise ValueError(f"netdsl has no layer kind for the Keras class `{value.get('class_name')}`")
            value = _spec_data(inner_kind, value.get("config") or {})
        elif isinstance(value, dict):
            continue  # initializers, regularizers, constraints: the trained weights are what count
        elif field == "axis" and isinstance(value, list) and len(value) == 1:
            value = value[0]
        elif isinstance(value, list):
            value = _tuples(value)
        data[field] = value
    return data


def _tuples(value):
    return tuple(_tuples(v) for v in value) if isinstance(value, list) else value


def open_base(path_text: str, net_filename: str | None) -> SavedNet:
    """The saved net a `pretrained` path names (see `locate`); `SavedNetError` if it is missing or
    not a saved net."""
    path = locate(path_text, net_filename)
    if path is None:
        raise SavedNetError(f"no saved net at `{path_text}`", help=missing_help(path_text, net_filename))
    return read(path)
