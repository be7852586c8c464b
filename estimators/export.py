"""Export a fitted netdsl estimator, or the scikit-learn composite around one (`netdsl fit --save`'s
`--scale` pipeline, a target transformer, an encoder of string columns), as one ONNX file that
onnxruntime runs without TensorFlow (issue 20; the file's contract: `netdsl.onnx` metadata below).

The file is one graph: the scikit-learn steps through sklearn-onnx, the rows reshaped to the net's
inputs, the Keras model through Keras's own export (tf2onnx), then what `predict` makes of its
outputs (class labels by ArgMax + Gather on the classes, probabilities, a target scaler's inverse),
joined with `onnx.compose`. At predict time augmentation layers are identity: they are left out.
A `text_vectorization` (its regex standardisation and splitting are no ONNX ops) is *stated* in the
metadata (`netdsl.steps`: its settings and vocabulary) and applied by netdsl's runtime before the
graph, whose input is then the layer's output. What cannot be exported is refused with
`ExportRefused` (M103), naming the layer and why.

metadata_props: `netdsl.format` ("netdsl-onnx"), `netdsl.format_version` ("1"), `netdsl.task`,
`netdsl.inputs`, `netdsl.outputs`, `netdsl.classes` (classifiers), `netdsl.steps` (JSON) and
`netdsl.net` (the `.net` source).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from netdsl.dsl import files

from .onnx_net import ExportRefused

__all__ = ["ExportRefused", "FORMAT", "FORMAT_VERSION", "export"]

FORMAT, FORMAT_VERSION = "netdsl-onnx", "1"


@dataclass
class Parts:
    """What a fitted model is made of, as the export reads it."""

    net: object  # the fitted netdsl estimator
    steps: list = field(default_factory=list)  # the fitted scikit-learn transformers before it
    encoder: object = None  # a ColumnTransformer's OneHotEncoder (the string columns), first
    categorical: list = field(default_factory=list)  # the columns it encodes
    numeric: list | None = None  # the other columns (passed through after the encoded ones)
    target: tuple | None = None  # (scale, offset) of a target scaler, mapped back at predict
    columns: list | None = None  # the table's columns the model was fitted on, when known
    target_column: object = None  # the table's label column(s), as `netdsl fit` remembers them


def export(model, path) -> Path:
    """Write the fitted `model` (a netdsl estimator, or a scikit-learn composite holding one) to `path`
    as one ONNX file (replacing `path` only once it is complete). Raises `ExportRefused` for what ONNX
    cannot hold."""
    path = Path(path)
    _check_installed()
    parts = _parts(model)
    proto = _onnx_model(parts)
    with files.replace_atomically(path) as temporary:
        temporary.write_bytes(proto.SerializeToString())
    return path


INSTALL_HELP = 'exporting to ONNX needs onnx, skl2onnx and tf2onnx: pip install "netdsl[onnx]"'


def _check_installed() -> None:
    import importlib.util

    missing = [name for name in ("onnx", "skl2onnx", "tf2onnx") if importlib.util.find_spec(name) is None]
    if missing:
        raise ModuleNotFoundError(f"{INSTALL_HELP} ({', '.join(missing)} not installed)")


# ---- the model taken apart --------------------------------------------------------------------


def _parts(model) -> Parts:
    from sklearn.utils.validation import check_is_fitted

    target = None
    if hasattr(model, "regressor_") and hasattr(model, "transformer_"):  # a TransformedTargetRegressor
        target = _target_scaler(model.transformer_)
        outer, model = model, model.regressor_
    else:
        outer = model
    model_columns, target_column = getattr(outer, "feature_columns_", None), getattr(outer, "target_column_", None)
    steps = [step for _, step in getattr(model, "steps", [])] or [model]
    net = steps[-1]
    if not any(kind.__name__ == "BaseNet" for kind in type(net).__mro__):  # (base.py imports this module)
        raise ExportRefused(f"cannot export a {type(net).__name__}: the export takes a fitted netdsl estimator "
                            "(NetClassifier, NetRegressor, NetTransformer) or a scikit-learn pipeline ending in one")
    check_is_fitted(net, "model_")
    columns = model_columns or _names(getattr(steps[0], "feature_names_in_", None))
    parts = Parts(net, target=target, columns=columns, target_column=target_column)
    for index, step in enumerate(steps[:-1]):
        if type(step).__name__ == "ColumnTransformer":
            if index:
                raise ExportRefused("cannot export a ColumnTransformer after another step (netdsl exports the one "
                                    "`netdsl fit` puts first, a one-hot encoder of string columns)")
            _read_column_transformer(step, parts)
        elif not _flat_rows(step):  # reshaping to flat rows: the rows of a table are flat already
            parts.steps.append(step)
    if (parts.steps or parts.encoder is not None) and net._is_text(net.spec_):
        raise ExportRefused("cannot export a text net inside a scikit-learn pipeline: its texts reach the net "
                            "through the steps before it; export the net alone")
    return parts


def _names(names) -> list | None:
    return [str(n) for n in names] if names is not None else None


def _flat_rows(step) -> bool:
    """Whether `step` is `--scale`'s FunctionTransformer(flat_samples) (or an identity one)."""
    func = getattr(step, "func", "other")
    return type(step).__name__ == "FunctionTransformer" and (func is None or getattr(func, "__name__", "") == "flat_samples")


def _read_column_transformer(step, parts: Parts) -> None:
    """The encoder of string columns that `netdsl fit` puts first: one OneHotEncoder of named columns,
    the others passed through."""
    named = [(name, fitted, columns) for name, fitted, columns in step.transformers_ if name != "remainder"]
    remainder = [columns for name, fitted, columns in step.transformers_ if name == "remainder"]
    if len(named) != 1 or type(named[0][1]).__name__ != "OneHotEncoder" or step.remainder not in ("passthrough", "drop"):
        raise ExportRefused("cannot export this ColumnTransformer: netdsl exports one OneHotEncoder of string "
                            "columns with the other columns passed through (as `netdsl fit` makes it)")
    names = _names(getattr(step, "feature_names_in_", None)) or [str(i) for i in range(step.n_features_in_)]
    if not all(np.asarray(values).dtype.kind in "OUS" for values in named[0][1].categories_):
        raise ExportRefused("cannot export this OneHotEncoder: its categories are not strings (netdsl exports the "
                            "encoder of string columns `netdsl fit` makes)")
    parts.encoder = named[0][1]
    parts.categorical = [names[c] if isinstance(c, (int, np.integer)) else str(c) for c in named[0][2]]
    rest = remainder[0] if remainder and step.remainder == "passthrough" else []
    parts.numeric = [names[c] if isinstance(c, (int, np.integer)) else str(c) for c in rest]


def _target_scaler(transformer) -> tuple:
    """(scale, offset) of a target transformer made of a StandardScaler (after flat rows, as `--scale`
    makes it): the inverse is `z * scale + offset`."""
    steps = [step for _, step in getattr(transformer, "steps", [])] or [transformer]
    steps = [step for step in steps if not _flat_rows(step)]
    if len(steps) != 1 or type(steps[0]).__name__ not in ("StandardScaler", "MinMaxScaler"):
        raise ExportRefused(f"cannot export the target transformer {type(transformer).__name__}: netdsl exports a "
                            "StandardScaler or MinMaxScaler of the targets (as `--scale` makes it)")
    scaler = steps[0]
    if type(scaler).__name__ == "MinMaxScaler":
        return 1 / np.asarray(scaler.scale_, dtype=np.float64), -np.asarray(scaler.min_) / np.asarray(scaler.scale_)
    scale = scaler.scale_ if scaler.scale_ is not None else np.ones(scaler.n_features_in_)
    offset = scaler.mean_ if scaler.mean_ is not None else np.zeros(scaler.n_features_in_)
    return np.asarray(scale, dtype=np.float64), np.asarray(offset, dtype=np.float64)


# ---- the whole file -----------------------------------------------------------------------------


def _onnx_model(parts: Parts):
    """The file's model: the front (scikit-learn steps, rows reshaped), the Keras graph, the outputs."""
    import onnx

    from . import onnx_net, onnx_parts

    net = parts.net
    keras_model, stated = onnx_net.inference_model(net, parts.columns)
    graph = onnx_net.keras_graph(keras_model, stated)
    front, inputs = _front(parts, keras_model, stated)
    numeric = [x.name for x in keras_model.inputs if x.name not in stated]
    model = graph if not numeric else onnx.compose.merge_models(
        front, graph, io_map=[(f"{name}.shaped", f"net/{name}") for name in numeric])
    nodes, initializers, outputs, meanings = onnx_net.output_nodes(net, keras_model, parts.target)
    raw = [f"net/out{i}" for i in range(len(keras_model.outputs))]
    shapes = [(name, "float32", (None, *x.shape[1:])) for name, x in zip(raw, keras_model.outputs)]
    back = onnx_parts.graph_model(nodes, shapes,
                                  outputs, initializers, "outputs")
    model = onnx.compose.merge_models(model, back, io_map=[(name, name) for name in raw])
    model.graph.name = str(net.spec_.name or "net")
    # Said once for the whole graph: the merged parts' own names (sklearn-onnx's are random) would make
    # two exports of one model differ.
    model.graph.doc_string = "netdsl's export of a fitted net: see the model's metadata_props"
    model.producer_name, model.producer_version = "netdsl", _version()
    _metadata(model, parts, inputs, meanings, stated)
    onnx.checker.check_model(model)
    return model


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("netdsl")
    except PackageNotFoundError:
        return "unknown"


def _front(parts: Parts, keras_model, stated: dict):
    """(the model from the graph's inputs to the Keras graph's numeric inputs, the graph's inputs as
    `netdsl.inputs` lists them). Inputs fed by a stated step go straight to the Keras graph."""
    from . import onnx_net, onnx_parts

    shapes = {x.name: tuple(x.shape[1:]) for x in keras_model.inputs}
    numeric = [x.name for x in keras_model.inputs if x.name not in stated]
    reshapes = [(name, shapes[name]) for name in numeric]
    widths = [(name, _width(shapes[name])) for name in numeric]
    if not parts.steps and parts.encoder is None:
        columns = onnx_net.input_columns(parts.net, parts.columns)
        inputs = [_input(x.name, _dtype(x.dtype), list(x.shape[1:]), columns.get(x.name)) if x.name in stated
                  else _input(x.name, "float32", [_width(shapes[x.name])], columns.get(x.name)) for x in keras_model.inputs]
        return onnx_parts.reshaped_inputs(widths, reshapes, None), inputs
    table = int(parts.steps[0].n_features_in_) if parts.steps else int(parts.net.n_features_in_)
    try:
        front = onnx_parts.sklearn_front(parts.steps, table, parts.encoder, len(parts.numeric or ()),
                                         len(parts.categorical))
    except Exception as error:  # sklearn-onnx's errors for a step it has no converter for have no common base
        steps = ", ".join(type(step).__name__ for step in [parts.encoder, *parts.steps] if step is not None)
        raise ExportRefused(f"cannot export the scikit-learn steps before the net ({steps}): sklearn-onnx "
                            f"cannot convert them ({' '.join(str(error).split())[:300]})") from error
    front = _join(front, widths, reshapes)
    inputs = []
    if parts.encoder is None:
        inputs.append(_input("input", "float32", [table], parts.columns))
    else:
        if parts.numeric:
            inputs.append(_input("input", "float32", [len(parts.numeric)], parts.numeric))
        inputs.append(_input("categorical", "string", [len(parts.categorical)], parts.categorical))
    return front, inputs


def _join(front, widths, reshapes):
    """The scikit-learn steps' output (`features`) cut into the net's inputs and reshaped."""
    import onnx

    from . import onnx_parts

    return onnx.compose.merge_models(front, onnx_parts.reshaped_inputs(widths, reshapes, "features"),
                                     io_map=[("features", "features")])


def _dtype(dtype) -> str:
    return "int64" if "int" in str(dtype) else "float32"


def _width(shape: tuple) -> int | None:
    return None if None in shape else int(np.prod(shape))


def _input(name: str, dtype: str, shape: list, columns) -> dict:
    return {"name": name, "dtype": dtype, "shape": [None if d is None else int(d) for d in shape], "columns": columns}


def _metadata(model, parts: Parts, inputs: list, outputs: list, stated: dict) -> None:
    from .onnx_net import classes_metadata

    net = parts.net
    task = {"NetClassifier": "classifier", "NetRegressor": "regressor"}.get(type(net).__name__, "transformer")
    props = {"netdsl.format": FORMAT, "netdsl.format_version": FORMAT_VERSION, "netdsl.task": task,
             "netdsl.inputs": json.dumps(inputs), "netdsl.outputs": json.dumps(outputs),
             "netdsl.steps": json.dumps(list(stated.values())), "netdsl.net": net.net_source_}
    if parts.target_column is not None:
        props["netdsl.target"] = json.dumps(parts.target_column, default=str)
    classes = classes_metadata(net)
    if classes is not None:
        props["netdsl.classes"] = json.dumps(classes)
    for key, value in props.items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
