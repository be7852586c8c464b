"""A saved net's layers read as specs, without TensorFlow: what `pretrained(...)` takes.

A `.keras` file is a zip holding `config.json` (the architecture) beside the weights; a model saved
by netdsl (`netdsl fit --save`, `est.save()`) is a zip whose `netdsl.json` names the `.keras` zip
of its net (estimators/persist.py writes it). Only `config.json` is read here, as JSON, within a
size bound: nothing in the file is run, and a pickle (a legacy joblib model) is refused, never
unpickled. A base whose loading would run Python code (a `Lambda` layer, a Python function in a
config, a layer class from outside Keras) is marked `unsafe`: `pretrained` refuses it unless
`trust=true`.

Each Keras layer config becomes the spec of its kind (through `specs.LAYER_CLASSES` reversed),
keeping only the arguments the spec knows (initializers and regularizers are left out: the weights
are the base's). A layer that cannot be read is recorded with the reason, and is an error only if
`pretrained` takes it. Results are cached by (path, modification time).
"""

from __future__ import annotations

import functools
import json
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

from pydantic import TypeAdapter, ValidationError

from . import kinds, specs
from .errors import NetdslError

KERAS_KINDS = {keras_class: kind for kind, keras_class in specs.LAYER_CLASSES.items()}
SUFFIXES = (".keras", ".model", ".joblib", ".pkl")  # files offered as close matches


class SavedNetError(NetdslError):
    """A saved net that cannot be used: `title` and `help` become a located diagnostic."""

    code = "N601"

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
    unsafe: str | None = None  # what in the file would run Python code when Keras loads it

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
                     for f in folder.iterdir() if f.suffix in SUFFIXES and f.is_file()]
    match = close_match(path_text, near)
    where = " and ".join(f"`{p.parent}/`" if str(p.parent) != "." else "the current folder" for p in places)
    near = sorted(set(near))
    hint = f"did you mean `{match}`? " if match else ""
    if any(place.is_dir() for place in places):
        hint = f"`{path_text}` is a folder, not a saved net; " + hint
    return (f"{hint}looked in {where}; give a `.keras` file or a model saved with `netdsl fit --save`, "
            "relative to the .net file's folder")


# Bounds on what is read from a user's zip: a member is refused if it claims to expand past
# MAX_MEMBER_BYTES and more than MAX_RATIO times its compressed size (a zip bomb: a 1 MB file whose
# config.json is 1 GB), and every read stops at its bound whatever the member claims.
MAX_CONFIG_BYTES = 64 * 2**20  # a Keras config.json: about 1 KB a layer
MAX_MEMBER_BYTES = 64 * 2**20
MAX_MODEL_BYTES = 16 * 2**30  # the `.keras` zip inside a netdsl model: read whole, to load it
MAX_RATIO = 100  # deflate reaches about 1,000:1 on repeated bytes; weights compress far less
MANIFEST = "netdsl.json"  # a netdsl model file's manifest (`model_manifest`)
MODEL_FORMAT = "netdsl-model"
MODEL_VERSION = 1
PICKLE_HELP = (
    "a pickle (joblib) file runs any code it holds when it is loaded, so netdsl never reads one "
    "as a base; if you trust who wrote it, save it again in netdsl's format: "
    "`netdsl.estimators.load(path, trusted=True).save(path)`"
)


def open_zip(path: Path, what: str) -> zipfile.ZipFile:
    """The zip at `path`, each member's claimed size checked against the bounds above. A pickle is
    refused first: one that holds a zip (a `.keras` model) ends as a zip does."""
    if is_pickle(path):
        raise SavedNetError(f"`{Path(path).name}` is a pickle, not a {what}", help=PICKLE_HELP)
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as error:
        raise SavedNetError(f"`{Path(path).name}` is not a {what} ({_reason(error)})",
                            help="give a `.keras` file or a model saved with `netdsl fit --save`") from None
    try:
        check_sizes(archive, Path(path))
    except SavedNetError:
        archive.close()
        raise
    return archive


def check_sizes(archive: zipfile.ZipFile, path: Path) -> None:
    """Refuse a zip with a member that claims to expand past the bounds (a zip bomb)."""
    for info in archive.infolist():
        if info.file_size > MAX_MEMBER_BYTES and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise SavedNetError(
                f"`{path.name}`: its member `{info.filename}` claims to expand "
                f"from {info.compress_size:,} to {info.file_size:,} bytes",
                help="a zip bomb, or a damaged file; netdsl reads no such member",
            )


def read_member(archive: zipfile.ZipFile, name: str, limit: int, path: Path, head: int | None = None) -> bytes:
    """The bytes of one member, read at most `limit` of them (sizes in the zip can lie); with `head`,
    its first `head` bytes only."""
    try:
        info = archive.getinfo(name)
        if info.file_size > limit:
            raise SavedNetError(f"`{path.name}`: `{name}` is {info.file_size:,} bytes, more than netdsl reads "
                                f"({limit:,})", help="a damaged or hostile file; save the model again")
        with archive.open(info) as member:  # read no more than it claims (and refuse more below)
            data = member.read(info.file_size + 1 if head is None else head)
    except KeyError:
        raise SavedNetError(f"`{path.name}` has no `{name}` inside",
                            help="give a `.keras` file written by Keras 3, or a model saved with `netdsl fit --save`") from None
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError, NotImplementedError, RuntimeError) as error:
        raise SavedNetError(f"`{path.name}` is damaged: `{name}` cannot be read ({_reason(error)})",
                            help="save the model again") from None
    if len(data) > info.file_size:
        raise SavedNetError(f"`{path.name}`: `{name}` is larger than it claims ({info.file_size:,} bytes)",
                            help="a damaged or hostile file; save the model again")
    return data


def is_pickle(path: Path) -> bool:
    """Whether the file starts as a pickle does (protocol 2 and later, or joblib's compressed forms)."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(2)
    except OSError:
        return False
    return head[:1] == b"\x80" or head in (b"\x1f\x8b", b"x\x9c", b"x\x01", b"x\xda", b"BZ", b"\xfd7")


def _reason(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__


_CACHE: dict[tuple[str, int], SavedNet] = {}


def read(path: Path) -> SavedNet:
    """The saved net at `path` (an existing file); raises `SavedNetError` if it is not one."""
    path = Path(path)
    key = (str(path.resolve()), path.stat().st_mtime_ns)
    if key not in _CACHE:
        if len(_CACHE) > 16:
            _CACHE.clear()
        _CACHE[key] = _read(path)
    return _CACHE[key]


def _read(path: Path) -> SavedNet:
    with open_zip(path, "saved Keras model or netdsl model") as archive:
        if MANIFEST in archive.namelist():
            try:  # the net's `.keras` zip, stored uncompressed inside: read in place
                keras_zip = zipfile.ZipFile(archive.open(_model_member(archive, path)))
            except (zipfile.BadZipFile, zlib.error, OSError, EOFError, NotImplementedError, RuntimeError) as error:
                raise SavedNetError(f"`{path.name}` is damaged: its net cannot be read ({_reason(error)})",
                                    help="save the model again") from None
            with keras_zip:
                check_sizes(keras_zip, path)
                return _from_config(keras_zip, path)
        return _from_config(archive, path)


def _from_config(archive: zipfile.ZipFile, path: Path) -> SavedNet:
    text = read_member(archive, "config.json", MAX_CONFIG_BYTES, path)
    try:
        config = json.loads(text.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        raise SavedNetError(f"`{path.name}`'s config.json is not JSON ({_reason(error)})",
                            help="a damaged file, or not one written by Keras 3; save the base again") from None
    try:
        saved = _parse(path, config)
    except SavedNetError:
        raise
    except (TypeError, KeyError, AttributeError, ValueError, IndexError, RecursionError) as error:
        raise SavedNetError(f"`{path.name}`'s config.json is not a Keras model's config ({_reason(error)})",
                            help="a damaged file, or not one written by Keras 3; save the base again") from None
    check_weights(archive, config, path)
    return saved


# ---- the weights beside the config -----------------------------------------------------------------

WEIGHTS = "model.weights.h5"  # a `.keras` zip's weights, beside its config.json
HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"  # the first 8 bytes of an HDF5 file as h5py (Keras) writes it
# The fewest bytes a weight takes in WEIGHTS: Keras's int4 quantization packs two weights a byte.
_MIN_WEIGHT_BYTES = 0.5


def check_weights(archive: zipfile.ZipFile, config, path: Path) -> None:
    """Refuse a `.keras` zip whose config.json implies more weights than its weights member can hold
    (Keras would allocate them all before finding out: a 26 KB file asking for gigabytes), or whose
    weights are not HDF5 (Keras would fail only when a fit loads them; `check` says so now)."""
    try:
        info = archive.getinfo(WEIGHTS)
    except KeyError:
        info = None
    stored = info.file_size if info is not None else 0
    implied = implied_weights(config)
    if implied * _MIN_WEIGHT_BYTES > stored:
        raise SavedNetError(f"`{path.name}`: its config.json implies {implied:,} weights, but `{WEIGHTS}` holds "
                            f"{stored:,} bytes", help="a damaged or hostile file; save the model again")
    if info is not None and read_member(archive, WEIGHTS, MAX_MODEL_BYTES, path, head=8) != HDF5_SIGNATURE:
        raise SavedNetError(f"`{path.name}`: its `{WEIGHTS}` is not an HDF5 file",
                            help="a damaged file; save the model again")


def implied_weights(config) -> int:
    """The weights of the layers a Keras config describes, each sized as netdsl's shape rules size
    it for the input its `build_config` names (what Keras builds it for); a layer netdsl cannot
    size counts none. Nested models are walked too, without recursion."""
    from .shapes.context import Context, Tensor
    from .shapes.rules import apply

    total, stack = 0, [config]
    while stack:
        value = stack.pop()
        if isinstance(value, list):
            stack.extend(value)
            continue
        if not isinstance(value, dict):
            continue
        keras_class, built = value.get("class_name"), value.get("build_config")
        if not (isinstance(keras_class, str) and keras_class in KERAS_KINDS) or not isinstance(built, dict) \
                or not isinstance(value.get("config"), dict):
            stack.extend(value.values())
            continue
        try:
            spec, shape = _spec(keras_class, value["config"])[0], _shape(built.get("input_shape"))
            params = apply(spec, Tensor(shape, "float"), Context(spec.kind, "", "", False, False)).params
        except Exception:  # noqa: BLE001 - an estimate: a layer the rules cannot size counts none
            continue
        total += params if isinstance(params, int) and params > 0 else 0
    return total


# ---- netdsl's model file --------------------------------------------------------------------------
# A model file (estimators/persist.py writes and loads it) is a zip whose member MANIFEST is the
# JSON object `model_manifest` makes. Its format is defined here, beside the reader that
# `pretrained` and `check` use, so that reading a model file's net needs neither the estimators
# nor TensorFlow.


def model_manifest(estimator: str, nets: list[str]) -> dict:
    """The manifest of a model file: `format` (MODEL_FORMAT) and `version` (MODEL_VERSION); the
    `estimator`'s class (module and name); `nets`, the `.keras` members holding each net's Keras
    model (`nets/0.keras`, ...); and `base`, the one `pretrained("model.model")` takes (the last),
    or None."""
    return {"format": MODEL_FORMAT, "version": MODEL_VERSION, "estimator": estimator, "nets": list(nets),
            "base": nets[-1] if nets else None}


def read_manifest(archive: zipfile.ZipFile, path: Path) -> dict | None:
    """A model file's manifest as written (not checked further), or None where it is not a JSON
    object; `SavedNetError` where it cannot be read (missing, too large, damaged)."""
    try:
        manifest = json.loads(read_member(archive, MANIFEST, 2**20, path).decode("utf-8"))
    except (ValueError, RecursionError):
        return None
    return manifest if isinstance(manifest, dict) else None


def manifest_version(manifest: dict | None) -> int | None:
    """The model-file version a manifest claims, or None if it is not one of netdsl's format."""
    if not isinstance(manifest, dict) or manifest.get("format") != MODEL_FORMAT:
        return None
    version = manifest.get("version")
    return version if isinstance(version, int) else None


def _model_member(archive: zipfile.ZipFile, path: Path) -> str:
    """The `.keras` member a netdsl model's manifest names as its net (`base`)."""
    name = (read_manifest(archive, path) or {}).get("base")
    if not (isinstance(name, str) and name in archive.namelist()):
        raise SavedNetError(f"`{path.name}` has a damaged `{MANIFEST}`", help="save the model again")
    return name


def keras_bytes(path: Path) -> bytes:
    """The `.keras` zip of a saved net: the file itself, or the one inside a netdsl model (bounded reads)."""
    path = Path(path)
    with open_zip(path, "saved Keras model or netdsl model") as archive:
        if MANIFEST not in archive.namelist():
            return path.read_bytes()
        return read_member(archive, _model_member(archive, path), MAX_MODEL_BYTES, path)


# netdsl's own layer classes (`position_embedding`), which a model netdsl saved may hold: code of
# netdsl's, registered with Keras, not code from the file.
_OWN_LAYERS = frozenset((module, kinds.LAYERS.keras[kind]) for kind, module in kinds.LAYERS.modules.items())


def unsafe_content(config) -> str | None:
    """What in a Keras config would run Python code when Keras loads it, or None: a `Lambda` layer,
    a Python function (`__lambda__`), an object of a class from outside Keras."""
    stack = [config]
    while stack:
        value = stack.pop()
        if isinstance(value, list):
            stack.extend(value)
        elif isinstance(value, dict):
            kind, module = value.get("class_name"), value.get("module")
            if kind == "Lambda":
                return f"a `Lambda` layer (`{value.get('name') or (value.get('config') or {}).get('name')}`)"
            if kind == "__lambda__":
                return "a Python function (`__lambda__`)"
            if isinstance(module, str) and module.split(".")[0] != "keras" and module != "builtins" \
                    and (module, kind) not in _OWN_LAYERS:
                return f"an object of class `{kind}` from the module `{module}`"
            stack.extend(value.values())
    return None


def _parse(path: Path, config) -> SavedNet:
    if not isinstance(config, dict):
        raise SavedNetError(f"`{path.name}`'s config.json holds a {type(config).__name__}, not a Keras model's config",
                            help="a damaged file, or not one written by Keras 3; save the base again")
    model_class = config.get("class_name")
    inner = config.get("config") or {}
    if model_class not in ("Functional", "Sequential", "Model") or not isinstance(inner, dict) or not isinstance(inner.get("layers"), list):
        raise SavedNetError(
            f"`{path.name}` holds a `{model_class}` model, which netdsl cannot take layers from",
            help="save a Sequential or functional model (a chain of layers)",
        )
    input_shape = None
    layers: list[BaseLayer] = []
    previous = None  # the layer (or, at first, the model's input) the next layer must read
    for entry in inner["layers"]:
        if not isinstance(entry, dict):
            raise SavedNetError(f"`{path.name}`'s config.json lists a {type(entry).__name__} as a layer",
                                help="a damaged file, or not one written by Keras 3; save the base again")
        keras_class = str(entry.get("class_name", "?"))
        layer_config = entry.get("config") or {}
        if not isinstance(layer_config, dict):
            layer_config = {}
        name = str(entry.get("name") or layer_config.get("name") or keras_class)
        if keras_class == "InputLayer":
            shape = layer_config.get("batch_shape") or layer_config.get("batch_input_shape")
            if previous is None and not layers:
                input_shape = _shape(shape)
                previous = name
            continue
        built = (entry.get("build_config") or {}).get("input_shape") if isinstance(entry.get("build_config"), dict) else None
        built_for = _shape(built)
        problem = None
        if model_class != "Sequential":
            read_from = _reads(entry)
            if read_from != [(previous, 0, 0)] and not _self_attention(keras_class, read_from, previous):
                problem = _not_chained(read_from, previous)
        spec, why = (None, None) if problem else _spec(keras_class, layer_config)  # no spec for a broken chain
        problem = problem or why
        kind = KERAS_KINDS.get(keras_class)
        layers.append(BaseLayer(name, keras_class, spec, built_for, kind in specs.AUGMENTATION_KINDS, problem))
        previous = name
    if input_shape is None:
        input_shape = _shape(inner.get("build_input_shape")) or next(
            (layer.built_for for layer in layers if layer.built_for is not None), None)
    return SavedNet(path, input_shape, tuple(layers), unsafe_content(config))


def _shape(value) -> tuple | None:
    """A batch shape without its batch axis; None unless it is a list of whole numbers and nulls,
    at least one beside the batch axis."""
    if not isinstance(value, (list, tuple)) or len(value) < 2:  # a batch axis and at least one more
        return None
    if not all(d is None or (isinstance(d, int) and not isinstance(d, bool) and d >= 0) for d in value):
        return None
    return tuple(value[1:])


def _self_attention(keras_class: str, read_from: list[tuple], previous: str | None) -> bool:
    """`MultiHeadAttention` called on the layer before it as its query and value (and key): in a
    chain, the self-attention `multi_head_attention` is."""
    return keras_class == "MultiHeadAttention" and len(read_from) in (2, 3) and set(read_from) == {(previous, 0, 0)}


def _not_chained(read_from: list[tuple], previous: str | None) -> str:
    """Why a layer that does not read exactly the previous layer's output breaks the chain."""
    others = sorted({str(source[0]) for source in read_from if source[:1] != (previous,)})
    named = " and ".join(f"`{name}`" for name in others)
    if not read_from:
        how = "it reads no layer's output"
    elif not others:
        how = f"it reads the layer before it (`{previous}`) more than once, or another of its outputs"
    elif len(others) < len({str(source[0]) for source in read_from}):
        how = f"it reads {named} besides the output of the layer before it (`{previous}`)"
    else:
        how = f"it reads {named}, not the output of the layer before it (`{previous}`)"
    return how + ": the base is not a chain"


def _reads(entry: dict) -> list[tuple]:
    """The (layer, node, tensor) each tensor a functional layer's call takes comes from, in its
    arguments and keyword arguments; a layer called more than once reads from every call."""
    nodes = entry.get("inbound_nodes") or []
    sources = []
    stack = list(nodes) if isinstance(nodes, list) else [nodes]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            if value.get("class_name") == "__keras_tensor__":
                history = (value.get("config") or {}).get("keras_history")
                sources.append(tuple(history) if isinstance(history, list) else (str(history),))
            else:
                stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
    return sources


def _spec(keras_class: str, config: dict) -> tuple[specs.Layer | None, str | None]:
    kind = KERAS_KINDS.get(keras_class)
    if kind is None:
        return None, f"netdsl has no layer kind for the Keras class `{keras_class}`"
    try:
        return _layer_adapter().validate_python(_spec_data(kind, config)), None
    except (ValidationError, ValueError, TypeError) as error:
        first = error.errors(include_url=False)[0] if isinstance(error, ValidationError) else {"loc": (), "msg": str(error)}
        where = ".".join(str(p) for p in first["loc"][1:])
        return None, f"its `{where}` cannot be read ({first['msg']})"


@functools.cache
def _layer_adapter() -> TypeAdapter:
    """The validator of any layer spec (`specs.LayerSpec`: every kind of every module of layer
    specs), built once, not once per layer of every saved net read."""
    return TypeAdapter(specs.LayerSpec)


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
