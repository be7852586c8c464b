"""A saved Keras model read as netdsl's parts, without TensorFlow: what `netdsl import` writes out.

The `.keras` zip's `config.json` is read as JSON within the size bounds of `dsl/saved.py` (nothing
in the file is run; a netdsl model file gives the `.keras` zip its manifest names). Each layer's
config becomes the data of a netdsl layer spec by inverting the compiler's one mapping
(`estimators/compile.py` `layer_kwargs`: a spec's fields are the Keras constructor's arguments,
`kinds.LAYERS` the class of each kind), plus the few values Keras fills in itself (`(3, 3)` for
`3`, `linear` for no activation, a pooling's strides for none, `(-a, a)` for a factor `a`), so a
netdsl model comes back as it was written. The `compile_config` gives the `train { }` settings
netdsl has (dsl/keras_training.py). A Keras class netdsl has no kind for (a `Lambda`, a custom class) is refused, named.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError

from . import kinds, specs
from .errors import NetdslError, close_match
from .keras_layers import KERAS_LAYERS
from .keras_training import plain, train_settings
from .saved import MAX_CONFIG_BYTES, SavedNetError, check_sizes, keras_bytes, read_member

__all__ = ["KerasImportError", "ImportedLayer", "ImportedModel", "read_model", "model_from_config", "canonical_data"]

KERAS_KINDS = {keras_class: kind for kind, keras_class in kinds.LAYERS.keras.items()}
KERAS_CLASS_KINDS = {keras_class: kind for kind, keras_class in KERAS_LAYERS.items()}  # every Keras layer's kind name
REGULARIZER_KINDS = {keras_class: kind for kind, keras_class in kinds.REGULARIZERS.keras.items()}
# The initializer names whose Keras class is not their name in CamelCase.
_INITIALIZER_CLASSES = {"uniform": "RandomUniform"}
# Arguments a kind's spec does not have, with the value netdsl's build leaves them at: another value
# makes another model, which the `.net` source could not say (refused, named).
_FIXED = {"data_format": "channels_last", "groups": 1, "return_state": False, "stateful": False,
          "activity_regularizer": None, "kernel_constraint": None, "bias_constraint": None,
          "recurrent_constraint": None, "embeddings_constraint": None, "sparse": False, "ragged": False,
          "noise_shape": None, "renorm": False, "lora_rank": None}
# The arguments the compiler does not pass from a spec (`layer_kwargs`): they are not in a config.
_NOT_ARGUMENTS = ("kind", "name", "trainable", "embeddings", "inputs")


class KerasImportError(NetdslError, ValueError):
    """A Keras model that cannot be written as a `.net` program: the message names the layer and
    why, `help` what to do."""

    code = "M102"

    def __init__(self, title: str, help: str | None = None):
        super().__init__(f"{title}; {help}" if help else title)
        self.title, self.help = title, help


@dataclass
class ImportedLayer:
    """One layer: its Keras name, the spec data of its kind (no name, no `trainable`), the points it
    reads in order (layer or input names), and whether its weights train."""

    name: str
    data: dict
    reads: tuple[str, ...]
    trainable: bool = True


@dataclass
class ImportedModel:
    """A model as netdsl's parts: inputs (name -> one sample's shape, None for text), layers in the
    file's order, the outputs' names, and the `train` settings (spec data) the file holds."""

    name: str
    inputs: dict[str, tuple | None]
    layers: list[ImportedLayer]
    outputs: list[str]
    train: dict = field(default_factory=dict)


# ---- the file ---------------------------------------------------------------------------------


def read_model(path) -> ImportedModel:
    """The model of a `.keras` file or a netdsl model file (`netdsl fit --save`)."""
    path = Path(path)
    try:
        data = keras_bytes(path)  # bounded: the file itself, or the `.keras` member a manifest names
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            check_sizes(archive, path)
            text = read_member(archive, "config.json", MAX_CONFIG_BYTES, path)
    except zipfile.BadZipFile as error:
        raise KerasImportError(f"`{path.name}` is not a Keras model ({error})",
                               "give a `.keras` file or a model saved with `netdsl fit --save`") from None
    except SavedNetError as error:
        raise KerasImportError(error.title, error.help) from None
    try:
        config = json.loads(text.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        raise KerasImportError(f"`{path.name}`'s config.json is not JSON ({error})",
                               "a damaged file, or not one written by Keras 3; save the model again") from None
    try:
        return model_from_config(config)
    except KerasImportError:
        raise
    except (TypeError, KeyError, AttributeError, ValueError, IndexError, RecursionError) as error:
        raise KerasImportError(f"`{path.name}`'s config.json is not a Keras model's config ({type(error).__name__}: "
                               f"{error})", "a damaged file, or not one written by Keras 3; save the model again") from None


def model_from_config(config: dict) -> ImportedModel:
    """A Keras model's config (`config.json`) as netdsl's parts."""
    model_class = config.get("class_name") if isinstance(config, dict) else None
    inner = config.get("config") if isinstance(config, dict) else None
    if model_class not in ("Functional", "Sequential", "Model") or not isinstance(inner, dict) \
            or not isinstance(inner.get("layers"), list):
        raise KerasImportError(f"the file holds a `{model_class}` model, not a Sequential or functional one",
                               "netdsl imports Sequential and functional Keras models")
    entries = [entry for entry in inner["layers"] if isinstance(entry, dict)]
    if model_class == "Sequential":
        inputs, layers, outputs = _sequential(entries, inner)
    else:
        inputs, layers, outputs = _functional(entries, inner)
    return ImportedModel(str(inner.get("name") or "imported"), inputs, layers, outputs,
                         train_settings(config.get("compile_config") or {}, outputs))


def _sequential(entries: list, inner: dict):
    shape = _shape(inner.get("build_input_shape"))
    layers, previous = [], "input"
    for entry in entries:
        if entry.get("class_name") == "InputLayer":
            shape = _input_shape(entry)
            continue
        layer = _layer(entry, (previous,))
        layers.append(layer)
        previous = layer.name
    if not layers:
        raise KerasImportError("the model has no layers", "save a model with at least one layer")
    return {"input": shape}, layers, [previous]


def _functional(entries: list, inner: dict):
    inputs = {str(e["name"]): _input_shape(e) for e in entries if e.get("class_name") == "InputLayer"}
    reads = {str(e["name"]): _tensor_reads(e) for e in entries if e.get("class_name") != "InputLayer"}
    arg_sources = {source for args, _ in reads.values() for source in args}
    masks = {e["name"] for e in entries if _is_mask(e) and e["name"] not in arg_sources}
    layers = [_layer(e, reads[str(e["name"])][0] + reads[str(e["name"])][1]) for e in entries
              if e.get("class_name") != "InputLayer" and e["name"] not in masks]
    order = [str(item[0]) for item in _ends(inner.get("input_layers"))]
    inputs = {name: inputs[name] for name in order if name in inputs} or inputs
    outputs = [str(item[0]) for item in _ends(inner.get("output_layers"))]
    if not outputs or not inputs:
        raise KerasImportError(f"the model has no {'outputs' if inputs else 'inputs'}",
                               "a damaged file, or not one written by Keras 3; save the model again")
    return inputs, layers, outputs


def _ends(value) -> list:
    """`input_layers` / `output_layers`: one `[name, node, tensor]` or a list of them."""
    if isinstance(value, list) and value and isinstance(value[0], str):
        return [value]
    return [item for item in value or [] if isinstance(item, list) and item]


def _is_mask(entry: dict) -> bool:
    """The `NotEqual` operation an `embedding(mask_zero=true)` adds for its mask (read only as a mask)."""
    return entry.get("class_name") == "NotEqual" and str(entry.get("module", "")).startswith("keras.src.ops")


def _tensor_reads(entry: dict) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(the layers whose outputs a layer's call takes as arguments, in order; those it takes as
    keyword arguments other than `mask`, which netdsl's layers make themselves)."""
    nodes = entry.get("inbound_nodes") or []
    name = entry.get("name")
    if len(nodes) > 1:
        raise KerasImportError(f"the layer `{name}` is called {len(nodes)} times (a shared layer)",
                               "netdsl has no shared layers: each layer of a `.net` program is called once")
    if not nodes:
        return (), ()
    node = nodes[0]
    args = _tensors(node.get("args", []) if isinstance(node, dict) else node)
    kwargs = node.get("kwargs", {}) if isinstance(node, dict) else {}
    keyword = _tensors([value for key, value in kwargs.items() if key != "mask"])
    return tuple(args), tuple(keyword)


def _tensors(value) -> list[str]:
    found = []
    if isinstance(value, dict) and value.get("class_name") == "__keras_tensor__":
        history = (value.get("config") or {}).get("keras_history") or []
        if history[1:] not in ([0, 0], []):
            raise KerasImportError(f"a layer reads output {history[2]} of `{history[0]}`'s call {history[1]}",
                                   "netdsl's layers each have one output, called once")
        return [str(history[0])]
    if isinstance(value, dict):
        for item in value.values():
            found += _tensors(item)
    elif isinstance(value, list):
        for item in value:
            found += _tensors(item)
    return found


def _input_shape(entry: dict) -> tuple | None:
    config = entry.get("config") or {}
    batch = config.get("batch_shape") or config.get("batch_input_shape")
    if config.get("dtype") == "string" or batch == [None]:
        return None  # raw strings: `input text`
    shape = _shape(batch)
    if shape is None or not all(d is None or (type(d) is int and d > 0) for d in shape):
        raise KerasImportError(f"the input `{entry.get('name')}` has no shape netdsl can write ({batch})",
                               "netdsl inputs have a fixed number of axes")
    return shape


def _shape(value) -> tuple | None:
    if not isinstance(value, list) or len(value) < 2:
        return None
    return tuple(value[1:])


# ---- layers -----------------------------------------------------------------------------------


def _layer(entry: dict, reads: tuple[str, ...]) -> ImportedLayer:
    name = str(entry.get("name") or (entry.get("config") or {}).get("name"))
    config = entry.get("config") or {}
    kind = _kind(entry, name)
    data = spec_data(kind, config, name)
    try:  # checked here, so that a value netdsl's kind cannot take is told with the layer's name
        specs.LAYERS[kind].model_validate(data)
    except ValidationError as error:
        first = error.errors(include_url=False)[0]
        where = ".".join(str(p) for p in first["loc"]) or "arguments"
        raise KerasImportError(f"the layer `{name}` (`{kind}`): netdsl's `{kind}` cannot take its `{where}` "
                               f"({first['msg']})", "netdsl's kinds take the values docs/language.md lists") from None
    return ImportedLayer(name, data, reads, config.get("trainable", True) is not False)


def _kind(entry: dict, name: str) -> str:
    """The netdsl kind of a layer's Keras class; `KerasImportError` (naming the layer, and the
    closest kind) for a class netdsl has none for, or one from outside Keras and netdsl."""
    keras_class, module = str(entry.get("class_name")), str(entry.get("module") or "")
    kind = KERAS_KINDS.get(keras_class)
    own = kinds.LAYERS.modules.get(kind) if kind else None
    if kind is not None and (module == own or (own is None and module.split(".")[0] == "keras")):
        return kind
    title = f"the layer `{name}` (`{keras_class}`" + (f" from `{module}`" if module and not module.startswith("keras") else "") \
        + ") has no netdsl layer kind"
    if keras_class in ("Functional", "Sequential", "Model"):
        raise KerasImportError(title.replace("layer kind", "layer kind (a model used as a layer)"),
                               "save the inner model on its own and take its layers with "
                               "`pretrained(\"inner.keras\")`, which keeps their trained weights")
    if keras_class == "Lambda":
        raise KerasImportError(title, "a `Lambda` layer is Python code, which a `.net` program cannot hold: "
                               "rewrite it with netdsl's layer kinds (docs/language.md lists them)")
    snake = KERAS_CLASS_KINDS.get(keras_class) or re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", keras_class).lower()
    near = close_match(snake, [k for k in kinds.LAYERS.specs if k != "pretrained"])
    help = f"the closest netdsl kind is `{near}`; " if near else ""
    raise KerasImportError(title, help + "the layer kinds netdsl has are listed in docs/language.md")


def spec_data(kind: str, config: dict, name: str) -> dict:
    """The spec data of a layer of `kind` from its Keras config: the inverse of the compiler's
    `layer_kwargs` (each spec field is the Keras argument of that name)."""
    cls = specs.LAYERS[kind]
    for key, value in _FIXED.items():
        if key in config and config[key] != value and key not in cls.model_fields:
            raise KerasImportError(f"the layer `{name}` (`{kind}`) has {key}={json.dumps(config[key])}",
                                   f"netdsl's `{kind}` has no `{key}` (it builds {key}={json.dumps(value)})")
    data = {"kind": kind}
    for field_name, info in cls.model_fields.items():
        if field_name in _NOT_ARGUMENTS or field_name in getattr(cls, "points", ()) or field_name not in config:
            continue
        value = config[field_name]
        if field_name.endswith("_initializer") or field_name == "initializer":
            value = _initializer(value, info.default)
        elif field_name.endswith("_regularizer"):
            value = _regularizer(value, name)
        elif field_name == "layer" and isinstance(value, dict):  # bidirectional(lstm(...)), time_distributed
            inner = {"class_name": value.get("class_name"), "module": value.get("module")}
            value = spec_data(_kind(inner, name), value.get("config") or {}, name)
        elif isinstance(value, dict):  # an object netdsl's argument does not take (a custom activation)
            raise KerasImportError(f"the layer `{name}` (`{kind}`): its `{field_name}` is a `{value.get('class_name')}` "
                                   "object, which netdsl cannot write",
                                   f"netdsl's `{field_name}` takes the values docs/language.md lists")
        data[field_name] = plain(value)
    return canonical_data(data)


def canonical_data(data: dict) -> dict:
    """Layer spec data in the one form the importer writes, whatever spelling made it: the values
    Keras fills in taken back to what a person writes (`(3, 3)` -> `3`, `linear` -> no activation,
    a pooling's strides equal to its window -> none, a factor `(-a, a)` -> `a`, `unroll`, which the
    build decides, left out), and float32 values at their shortest decimal (`0.003`)."""
    cls = specs.LAYERS[data["kind"]]
    out = {}
    literal = data.get("kernel_initializer")
    if data.get("kernel_size") is None and isinstance(literal, (list, tuple)):  # its size is the array's
        size = (len(literal), len(literal[0])) if data["kind"] == "conv2d" else (len(literal),)
        data = {**data, "kernel_size": size}
    for key, value in data.items():
        info = cls.model_fields.get(key)
        default = info.default if info is not None else None
        if isinstance(value, tuple) and value and len(set(value)) == 1 and isinstance(value[0], int) \
                and key in ("kernel_size", "strides", "pool_size", "dilation_rate", "size", "output_padding"):
            value = value[0]
        if key == "output_shape" and isinstance(value, tuple) and len(value) == 1:
            value = value[0]
        if key.endswith("factor") and isinstance(value, tuple) and len(value) == 2 and value[0] == -value[1]:
            value = abs(value[1])
        if key == "activation" and value == "linear" and default is None:
            value = None
        if key == "unroll":
            continue
        if key in kinds.INITIALIZER_FIELDS and isinstance(value, (list, tuple)):
            value = "zeros"  # a literal array is assigned after the build: Keras's config says `zeros`
        if isinstance(value, dict) and "kind" in value and value["kind"] in specs.LAYERS:
            value = canonical_data(value)
        out[key] = value
    if "strides" in out and out.get("strides") == out.get("pool_size", object()):
        out["strides"] = None
    return {k: v for k, v in out.items() if k == "kind" or cls.model_fields[k].default != v or cls.model_fields[k].is_required()}


def _initializer(value, default):
    """An initializer's netdsl name: the spec's default when Keras's class is the default's, else
    the name of the class (its own settings, a seed, are not kept: the weights are trained)."""
    if isinstance(value, str) or value is None:
        return value if value is not None else default
    keras_class = str(value.get("class_name"))
    if isinstance(default, str) and _INITIALIZER_CLASSES.get(default, _camel(default)) == keras_class:
        return default
    snake = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", keras_class).lower()
    return snake if snake in kinds.INITIALIZERS else default


def _camel(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_"))


def _regularizer(value, name: str):
    if value is None:
        return None
    kind = REGULARIZER_KINDS.get(str(value.get("class_name")))
    if kind is None:
        raise KerasImportError(f"the layer `{name}` has a `{value.get('class_name')}` regularizer",
                               "netdsl's regularizers are " + ", ".join(f"`{k}`" for k in kinds.REGULARIZERS.specs))
    fields = kinds.REGULARIZERS.specs[kind].model_fields
    return {"kind": kind, **{k: plain(v) for k, v in (value.get("config") or {}).items() if k in fields}}
