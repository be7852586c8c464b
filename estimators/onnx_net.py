"""A fitted net's part of its ONNX file (`export.py`): the Keras model as predict runs it (augmentation
left out, each `text_vectorization` cut off and stated as a step), through Keras's own ONNX export,
and the nodes that turn its outputs into what `predict` gives. `ExportRefused` (M103) says what
cannot be exported: the layer, and why."""

from __future__ import annotations

import contextlib
import tempfile
from pathlib import Path

import numpy as np

from netdsl.dsl.errors import NetdslError

__all__ = ["ExportRefused", "inference_model", "keras_graph", "output_nodes", "input_columns", "classes_metadata"]


class ExportRefused(NetdslError, ValueError):
    """A model that cannot be written as an ONNX file: the message names the layer (or step) and why."""

    code = "M103"


def _is_augmentation(layer) -> bool:
    """Keras's random image layers (`augment { }`): identity at predict time."""
    return type(layer).__name__.startswith("Random") and type(layer).__module__.startswith("keras.")


def inference_model(net, columns=None):
    """(the Keras model `predict` runs, rebuilt on the same layer objects without augmentation layers
    and with each `text_vectorization`'s output as an input; {graph input name: its stated step}).
    Inputs are named as in the file: `input` for a net with one, else the net's input names.
    `columns`: the table's, when known."""
    import keras

    from .compile import token_spec

    model = getattr(net, "feature_model_", None)  # a NetTransformer's (up to its `layer`)
    model = model if model is not None else net.model_
    several = len(model.inputs) > 1
    names = [x.name if several else "input" for x in model.inputs]
    vectorizers = {}  # id(original input) -> its text_vectorization layer
    for layer in model.layers:
        if isinstance(layer, keras.layers.TextVectorization):
            fed = _input_of(layer)
            if not any(fed is x for x in model.inputs):
                raise ExportRefused(f"cannot export layer `{layer.name}` (text_vectorization): it does not read an "
                                    "input directly, so it cannot be a step before the graph")
            if id(fed) in vectorizers:
                raise ExportRefused(
                    f"cannot export layer `{layer.name}` (text_vectorization): the input `{fed.name}` is read by two "
                    f"text_vectorization layers (`{vectorizers[id(fed)].name}` too), and a step before the graph turns "
                    "one input's texts one way; give each its own input (the column twice)")
            vectorizers[id(fed)] = layer
    replacements, stated = [], {}
    columns = input_columns(net, columns)
    for x, name in zip(model.inputs, names):
        layer = vectorizers.get(id(x))
        if layer is None:
            replacements.append(keras.Input(shape=tuple(x.shape[1:]), dtype=x.dtype, name=name))
            continue
        shape, dtype = token_spec(layer)
        replacements.append(keras.Input(shape=shape, dtype=dtype, name=name))
        stated[name] = _text_step(layer, name, columns.get(x.name if several else "input"))

    def call(layer, *args, **kwargs):
        if isinstance(layer, keras.layers.TextVectorization) or _is_augmentation(layer):
            return args[0]  # the tokens are the input; augmentation is identity at predict time
        return layer(*args, **kwargs)

    listed = isinstance(model.input, (list, tuple))  # a model built on [input] takes a list of one
    rebuilt = keras.models.clone_model(model, input_tensors=replacements if listed else replacements[0],
                                       clone_function=lambda layer: layer, call_function=call)
    zeros = [np.zeros((1,) + tuple(1 if d is None else d for d in x.shape[1:]), dtype=x.dtype) for x in rebuilt.inputs]
    rebuilt(zeros if listed else zeros[0])  # Keras exports a model that was called
    return rebuilt, stated


def _input_of(layer):
    try:
        return layer.input
    except (AttributeError, ValueError):
        return None


def _text_step(layer, name: str, column) -> dict:
    """A `text_vectorization` layer as a step the runtime applies before the graph (`netdsl.steps`)."""
    config = layer.get_config()
    for setting in ("standardize", "split"):
        if config[setting] is not None and not isinstance(config[setting], str):
            raise ExportRefused(f"cannot export layer `{layer.name}` (text_vectorization): its `{setting}` is Python "
                                "code, which a step cannot state")
    idf = None
    if config["output_mode"] == "tf_idf":
        weights = getattr(getattr(layer, "_lookup_layer", None), "idf_weights", None)
        if weights is None:
            raise ExportRefused(f"cannot export layer `{layer.name}` (text_vectorization): its tf_idf weights "
                                "cannot be read")
        idf = [float(w) for w in np.asarray(weights)]
    ngrams = config["ngrams"]
    return {
        "kind": "text_vectorization", "input": name, "column": column,
        "standardize": config["standardize"], "split": config["split"],
        "ngrams": list(ngrams) if isinstance(ngrams, (list, tuple)) else ngrams,
        "output_mode": config["output_mode"], "output_sequence_length": config["output_sequence_length"],
        "pad_to_max_tokens": bool(config["pad_to_max_tokens"]), "max_tokens": config["max_tokens"],
        "vocabulary": [str(word) for word in layer.get_vocabulary()], "idf_weights": idf,
    }


def input_columns(net, columns) -> dict:
    """{the net's input name (`input` for one): the table's columns it takes, or None (in order)}."""
    from .several import several_inputs, split_inputs

    spec = net.spec_
    if columns is None:
        names = getattr(net, "feature_names_in_", None)
        columns = [str(c) for c in names] if names is not None else None
    if not several_inputs(spec):
        return {"input": columns}
    if columns is None:
        return {i.name: None for i in spec.inputs}
    import pandas as pd

    try:
        parts, _ = split_inputs(pd.DataFrame(columns=columns), spec)
    except NetdslError:
        return {i.name: None for i in spec.inputs}
    return {name: [str(c) for c in part.columns] for name, part in parts.items()}


# ---- the Keras graph --------------------------------------------------------------------------


def keras_graph(keras_model, stated: dict):
    """The ONNX graph of `keras_model` (Keras's export, tf2onnx), its names prefixed `net/`; its numeric
    inputs `net/<name>`, those fed by a stated step `<name>`, its outputs `net/out0`, `net/out1`, ..."""
    import onnx

    from . import onnx_parts

    with tempfile.TemporaryDirectory(prefix="netdsl-export-") as folder, _exporting():
        path = Path(folder) / "net.onnx"
        try:
            keras_model.export(str(path), format="onnx", verbose=False, opset_version=onnx_parts.OPSET)
        except Exception as error:  # tf2onnx's own errors have no common base
            raise ExportRefused(f"Keras's ONNX export (tf2onnx) failed for this net: {_one_line(error)}") from error
        graph = onnx.load(str(path))
    _refuse_unknown_ops(graph, keras_model)
    _renumbered(graph.graph, {})
    _constants_in_order(graph.graph)
    graph.graph.doc_string = ""  # tf2onnx names the traced function there, numbered by the process
    graph = onnx.compose.add_prefix(graph, "net/")
    for x, value in zip(keras_model.inputs, list(graph.graph.input)):
        _rename(graph, value.name, x.name if x.name in stated else f"net/{x.name}")
    for i, value in enumerate(list(graph.graph.output)):
        _rename(graph, value.name, f"net/out{i}")
    return onnx_parts.same_versions(graph)


@contextlib.contextmanager
def _exporting():
    """What Keras's export changes in the process, for the length of the export only: tf2onnx still
    reads `np.object`, which NumPy 2 removed, so Keras sets it for good (once, `patch_tf2onnx`); here it
    is there while exporting and gone after, as it was. TensorFlow's logger says only errors meanwhile
    (saving the traced function warns about the vocabulary tables it leaves out, which the export
    states as a step). And what tf2onnx and TensorFlow's saving change on the way, put back after:
    tf2onnx's import sets `TF_CPP_MIN_LOG_LEVEL=3` over the user's value, and saving sets the level
    of absl's logger."""
    import logging
    import os

    added = "object" not in np.__dict__
    if added:
        np.object = object
    loggers = [logging.getLogger(name) for name in ("tensorflow", "absl")]
    levels = [logger.level for logger in loggers]
    log_level = os.environ.get("TF_CPP_MIN_LOG_LEVEL")
    loggers[0].setLevel(logging.ERROR)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels):
            logger.setLevel(level)
        if log_level is None:
            os.environ.pop("TF_CPP_MIN_LOG_LEVEL", None)
        else:
            os.environ["TF_CPP_MIN_LOG_LEVEL"] = log_level
        if added:
            del np.object


def _renumbered(graph, numbers: dict) -> None:
    """tf2onnx numbers the names it makes (`BiasAdd__41`, the free axis `unk__12`) from a counter of
    the process: renumbered here in the order they appear, so that a model exports to the same bytes
    every time."""
    import re

    def name(text: str) -> str:
        return re.sub(r"__(\d+)", lambda found: f"__{numbers.setdefault(found.group(1), len(numbers))}", text)

    for node in graph.node:
        node.name = name(node.name)
        node.input[:] = [name(x) for x in node.input]
        node.output[:] = [name(x) for x in node.output]
        for attribute in node.attribute:
            for body in ([attribute.g] if attribute.HasField("g") else []) + list(attribute.graphs):
                _renumbered(body, numbers)
    for tensor in graph.initializer:
        tensor.name = name(tensor.name)
    for value in list(graph.input) + list(graph.output) + list(graph.value_info):
        value.name = name(value.name)
        for dim in value.type.tensor_type.shape.dim:
            if dim.HasField("dim_param"):
                dim.dim_param = name(dim.dim_param)


def _constants_in_order(graph) -> None:
    """The graph's constants named `const0`, `const1`, ... in the order the nodes first read them, and
    stored in that order: tf2onnx keeps one of equal constants under either's name, as its counter
    sorts them."""
    import onnx

    first = {}
    for node in _nodes(graph):
        for name in node.input:
            first.setdefault(name, len(first))
    constants = []
    for tensor in sorted(graph.initializer, key=lambda tensor: first.get(tensor.name, len(first))):
        constants.append(onnx.TensorProto())
        constants[-1].CopyFrom(tensor)
    renamed = {tensor.name: f"const{i}" for i, tensor in enumerate(constants)}
    del graph.initializer[:]
    for tensor in constants:
        tensor.name = renamed[tensor.name]
        graph.initializer.append(tensor)
    for node in _nodes(graph):  # a loop's body reads the constants around it by name too
        node.input[:] = [renamed.get(name, name) for name in node.input]


def _nodes(graph):
    """The graph's nodes, and those of the graphs inside them (a loop's body), in order."""
    for node in graph.node:
        yield node
        for attribute in node.attribute:
            for body in ([attribute.g] if attribute.HasField("g") else []) + list(attribute.graphs):
                yield from _nodes(body)


def _one_line(error: BaseException) -> str:
    text = " ".join(str(error).split())
    return (text[:300] + "...") if len(text) > 300 else (text or type(error).__name__)


def _refuse_unknown_ops(graph, keras_model) -> None:
    """A TensorFlow op tf2onnx could not convert is left in the graph as itself: onnxruntime would refuse
    the file. Say which layer made it."""
    import onnx

    for node in graph.graph.node:
        if node.domain in ("", "ai.onnx", "ai.onnx.ml") and onnx.defs.has(node.op_type, node.domain):
            continue
        layer = _layer_of(node.name, keras_model)
        where = f"layer `{layer.name}` ({type(layer).__name__})" if layer is not None else "this net"
        raise ExportRefused(f"cannot export {where}: its TensorFlow op `{node.op_type}` has no ONNX equivalent")


def _layer_of(node_name: str, keras_model):
    import re

    scopes = [re.sub(r"_\d+$", "", part) for part in node_name.split("/")]
    for layer in keras_model.layers:
        if layer.name in scopes or re.sub(r"_\d+$", "", layer.name) in scopes[1:]:
            return layer
    return None


def _rename(model, old: str, new: str) -> None:
    graph = model.graph
    for value in list(graph.input) + list(graph.output) + list(graph.value_info):
        if value.name == old:
            value.name = new
    for node in graph.node:
        node.input[:] = [new if name == old else name for name in node.input]
        node.output[:] = [new if name == old else name for name in node.output]


# ---- what predict makes of the outputs ---------------------------------------------------------


def output_nodes(net, keras_model, target) -> tuple[list, list, list, list]:
    """(nodes, initializers, graph outputs, `netdsl.outputs`) after the Keras graph's outputs."""
    from . import onnx_parts

    nodes, initializers, outputs, meanings = [], [], [], []

    def add(made, head):
        nodes.extend(made[0])
        initializers.extend(made[1])
        outputs.extend(made[2])
        for name, _, _ in made[2]:
            meanings.append({"name": name, "meaning": name.rsplit(".", 1)[-1], "head": head})

    ranks = [len(x.shape) for x in keras_model.outputs]
    heads = getattr(net, "heads_", None)
    if heads:
        for i, head in enumerate(heads):
            if head["task"] == "classification":
                add(onnx_parts.head_nodes(f"net/out{i}", f"{head['name']}.", "binary" if head["binary"] else "multiclass",
                                          bool(head["from_logits"]), head["classes"], ranks[i]), head["name"])
            else:
                add(onnx_parts.regression_nodes(f"net/out{i}", f"{head['name']}.prediction", (int(head["columns"]),)),
                    head["name"])
        return nodes, initializers, outputs, meanings
    kind = type(net).__name__
    if kind == "NetClassifier":
        add(onnx_parts.head_nodes("net/out0", "", net.output_mode_, bool(getattr(net, "_from_logits", False)),
                                  net.classes_, ranks[0]), None)
    elif kind == "NetRegressor":
        shape = getattr(net, "_y_shape", None)
        shape = tuple(shape) if shape is not None else (() if net._y_1d else (int(net.n_outputs_),))
        add(onnx_parts.regression_nodes("net/out0", "prediction", shape, *(target or (None, None))), None)
    else:
        add(onnx_parts.flat_output("net/out0", "output"), None)
    return nodes, initializers, outputs, meanings


def classes_metadata(net):
    """`netdsl.classes`: the classes (by head for a net with several outputs), or None."""
    heads = getattr(net, "heads_", None)
    if heads:
        found = {h["name"]: np.asarray(h["classes"]).tolist() for h in heads if h["task"] == "classification"}
        return found or None
    classes = getattr(net, "classes_", None)
    return np.asarray(classes).tolist() if classes is not None and type(net).__name__ == "NetClassifier" else None
