"""The small ONNX graphs `export.py` puts around a net's Keras graph, made with `onnx.helper`: in
front, the scikit-learn steps (through sklearn-onnx) and the rows of a table reshaped to each of the
net's inputs; behind, what `predict` makes of the net's outputs (class labels and probabilities, a
target transformer's inverse). Each is a whole `ModelProto` of the Keras graph's opset, so that
`onnx.compose.merge_models` joins them (`export.join`)."""

from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

__all__ = ["OPSET", "ML_OPSET", "graph_model", "reshaped_inputs", "sklearn_front", "classes_tensor", "head_nodes",
           "regression_nodes", "flat_output", "same_versions", "DTYPES"]

OPSET = 17  # of the whole file: tf2onnx writes the Keras graph in it, the other parts are made in it
ML_OPSET = 3  # ai.onnx.ml, sklearn-onnx's scalers and encoders
IR_VERSION = 8  # the IR version of opset 17
# The ONNX element types netdsl's files use, by the names `netdsl.inputs` gives them.
DTYPES = {"float32": TensorProto.FLOAT, "float64": TensorProto.DOUBLE, "int64": TensorProto.INT64,
          "string": TensorProto.STRING, "bool": TensorProto.BOOL}  # fmt: skip


def graph_model(nodes, inputs, outputs, initializers=(), name: str = "part") -> onnx.ModelProto:
    """A model of `nodes`; `inputs` and `outputs` as (name, dtype name, shape with None for free axes)."""
    def value(name, dtype, shape):
        return helper.make_tensor_value_info(name, DTYPES[dtype], list(shape) if shape is not None else None)

    graph = helper.make_graph(list(nodes), name, [value(*i) for i in inputs], [value(*o) for o in outputs],
                              initializer=list(initializers))
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET),
                                                    helper.make_opsetid("ai.onnx.ml", ML_OPSET)])
    model.ir_version = IR_VERSION
    return model


def _constant(name: str, values, dtype=None) -> onnx.TensorProto:
    return numpy_helper.from_array(np.asarray(values, dtype=dtype), name)


def reshaped_inputs(rows: list[tuple[str, int | None]], parts: list[tuple[str, tuple]], source: str | None):
    """A model that takes the net's inputs as rows of a table and gives them in the shapes the Keras
    graph takes. `parts`: (name, shape without the batch axis, None for an axis of any length) per
    numeric input. With `source` (the scikit-learn steps' output, one float table), the inputs are its
    columns in order, `rows` giving each one's width; else each input is its own graph input."""
    nodes, initializers, inputs = [], [], []
    if source is not None:
        total = sum(width for _, width in rows)
        inputs.append((source, "float32", (None, total)))
        start = 0
        for name, width in rows:
            bounds = [_constant(f"{name}.from", [start], np.int64), _constant(f"{name}.to", [start + width], np.int64),
                      _constant(f"{name}.axis", [1], np.int64)]
            initializers += bounds
            nodes.append(helper.make_node("Slice", [source] + [b.name for b in bounds], [f"{name}.rows"]))
            start += width
    else:
        inputs += [(name, "float32", (None, width)) for name, width in rows]
    outputs = []
    for name, shape in parts:
        flat = f"{name}.rows" if source is not None else name
        target = [0] + [-1 if d is None else int(d) for d in shape]
        initializers.append(_constant(f"{name}.shape", target, np.int64))
        nodes.append(helper.make_node("Reshape", [flat, f"{name}.shape"], [f"{name}.shaped"]))
        outputs.append((f"{name}.shaped", "float32", (None, *shape)))
    return graph_model(nodes, inputs, outputs, initializers, "inputs")


def sklearn_front(steps: list, width: int, encoder=None, numeric: int = 0, categorical: int = 0) -> onnx.ModelProto:
    """The scikit-learn steps before the net, through sklearn-onnx: graph inputs `input` (float32, the
    numeric columns) and, with `encoder` (the fitted OneHotEncoder of a ColumnTransformer),
    `categorical` (strings); its output `features` (float32 (N, columns the net takes)). `width`: the
    columns the steps after the encoder take."""
    from skl2onnx import convert_sklearn
    from skl2onnx.common.data_types import FloatTensorType, StringTensorType
    from sklearn.pipeline import make_pipeline

    opsets = {"": OPSET, "ai.onnx.ml": ML_OPSET}
    parts = []
    if encoder is not None:
        encoded = convert_sklearn(encoder, initial_types=[("categorical", StringTensorType([None, categorical]))],
                                  target_opset=opsets, final_types=[("encoded", FloatTensorType([None, None]))])
        joined = [helper.make_node("Cast", ["encoded"], ["encoded.float"], to=TensorProto.FLOAT)]
        joined.append(helper.make_node("Concat", ["encoded.float"] + (["input"] if numeric else []), ["table"], axis=1))
        inputs = [("encoded", "float32", (None, None))] + ([("input", "float32", (None, numeric))] if numeric else [])
        parts.append((encoded, graph_model(joined, inputs, [("table", "float32", (None, width))], name="table")))
    if steps:
        scaled = convert_sklearn(make_pipeline(*steps), initial_types=[("table", FloatTensorType([None, width]))],
                                 target_opset=opsets, final_types=[("features", FloatTensorType([None, None]))])
    else:
        scaled = graph_model([helper.make_node("Identity", ["table"], ["features"])], [("table", "float32", (None, width))],
                             [("features", "float32", (None, width))], name="features")
    if encoder is None:
        return _renamed_input(same_versions(scaled), "table", "input")
    model = same_versions(parts[0][0])
    model = onnx.compose.merge_models(model, parts[0][1], io_map=[("encoded", "encoded")], prefix1="encoder/")
    model = _renamed_input(model, "encoder/categorical", "categorical")  # skl2onnx's names kept apart
    return onnx.compose.merge_models(model, same_versions(scaled), io_map=[("table", "table")])


def same_versions(model: onnx.ModelProto) -> onnx.ModelProto:
    """`model` with the opsets and IR version of the other parts (merge_models asks for the same)."""
    del model.opset_import[:]
    model.opset_import.extend([helper.make_opsetid("", OPSET), helper.make_opsetid("ai.onnx.ml", ML_OPSET)])
    model.ir_version = IR_VERSION
    return model


def _renamed_input(model: onnx.ModelProto, old: str, new: str) -> onnx.ModelProto:
    for value in model.graph.input:
        if value.name == old:
            value.name = new
    for node in model.graph.node:
        node.input[:] = [new if name == old else name for name in node.input]
    return model


def classes_tensor(classes, name: str) -> tuple[onnx.TensorProto, str]:
    """The class labels as a constant, and the dtype name of the `label` output."""
    classes = np.asarray(classes)
    if classes.dtype.kind in "iu":
        return _constant(name, classes, np.int64), "int64"
    if classes.dtype.kind == "b":
        return _constant(name, classes, np.bool_), "bool"
    if classes.dtype.kind == "f":
        return _constant(name, classes, np.float64), "float64"
    return _constant(name, np.asarray([str(c) for c in classes], dtype=object)), "string"


def head_nodes(raw: str, prefix: str, mode: str, logits: bool, classes, rank: int = 2) -> tuple[list, list, list]:
    """(nodes, initializers, outputs) of a classification output `raw`: `{prefix}probabilities`
    (float32, in `classes` order) and `{prefix}label`, as `NetClassifier.predict_proba` and
    `predict` give them (`mode`: the estimator's `output_mode_`; `rank`: `raw`'s axes, the batch's too)."""
    free = (None,) * rank
    probabilities, label = f"{prefix}probabilities", f"{prefix}label"
    nodes, initializers = [], []
    sigmoid = mode in ("binary", "multilabel", "per_step_binary")
    if logits:
        nodes.append(helper.make_node("Sigmoid" if sigmoid else "Softmax", [raw], [f"{prefix}squashed"],
                                      **({} if sigmoid else {"axis": -1})))
        raw = f"{prefix}squashed"
    if mode == "multilabel":
        nodes.append(helper.make_node("Identity", [raw], [probabilities]))
        initializers.append(_constant(f"{prefix}half", 0.5, np.float32))
        nodes.append(helper.make_node("Greater", [raw, f"{prefix}half"], [f"{prefix}chosen"]))
        nodes.append(helper.make_node("Cast", [f"{prefix}chosen"], [label], to=TensorProto.INT64))
        return nodes, initializers, [(probabilities, "float32", free), (label, "int64", free)]
    if sigmoid:  # one unit: the second class's probability
        initializers.append(_constant(f"{prefix}one", 1.0, np.float32))
        nodes.append(helper.make_node("Sub", [f"{prefix}one", raw], [f"{prefix}first"]))
        nodes.append(helper.make_node("Concat", [f"{prefix}first", raw], [probabilities], axis=-1))
    else:  # a softmax sums to 1 only within float32's rounding: normalised, as predict_proba does
        initializers.append(_constant(f"{prefix}last", [-1], np.int64))
        nodes.append(helper.make_node("ReduceSum", [raw, f"{prefix}last"], [f"{prefix}sum"], keepdims=1))
        nodes.append(helper.make_node("Div", [raw, f"{prefix}sum"], [probabilities]))
    tensor, dtype = classes_tensor(classes, f"{prefix}classes")
    initializers.append(tensor)
    nodes.append(helper.make_node("ArgMax", [probabilities], [f"{prefix}index"], axis=-1, keepdims=0))
    nodes.append(helper.make_node("Gather", [f"{prefix}classes", f"{prefix}index"], [label], axis=0))
    return nodes, initializers, [(probabilities, "float32", free), (label, dtype, free[1:])]


def regression_nodes(raw: str, name: str, shape: tuple, scale=None, offset=None) -> tuple[list, list, list]:
    """(nodes, initializers, outputs) of a regression output `raw` as `predict` gives it: float64 of
    shape (N,) + `shape`; with `scale` and `offset` (a target scaler's), each column mapped back
    (`z * scale + offset`, in float64, on the rows flattened)."""
    nodes = [helper.make_node("Cast", [raw], [f"{name}.double"], to=TensorProto.DOUBLE)]
    initializers = [_constant(f"{name}.shape", [0] + [int(d) for d in shape] if shape else [-1], np.int64)]
    current = f"{name}.double"
    if scale is not None:
        initializers += [_constant(f"{name}.flat", [0, -1], np.int64), _constant(f"{name}.scale", scale, np.float64),
                         _constant(f"{name}.offset", offset, np.float64)]
        nodes.append(helper.make_node("Reshape", [current, f"{name}.flat"], [f"{name}.rows"]))
        nodes.append(helper.make_node("Mul", [f"{name}.rows", f"{name}.scale"], [f"{name}.scaled"]))
        nodes.append(helper.make_node("Add", [f"{name}.scaled", f"{name}.offset"], [f"{name}.mapped"]))
        current = f"{name}.mapped"
    nodes.append(helper.make_node("Reshape", [current, f"{name}.shape"], [name]))
    return nodes, initializers, [(name, "float64", (None, *shape))]


def flat_output(raw: str, name: str) -> tuple[list, list, list]:
    """(nodes, initializers, outputs) of a transformer's output: one row of float32 per sample."""
    shape = _constant(f"{name}.flat", [0, -1], np.int64)
    return [helper.make_node("Reshape", [raw, shape.name], [name])], [shape], [(name, "float32", (None, None))]
