"""A netdsl ONNX file (`netdsl export --format onnx`) opened for prediction with onnxruntime alone:
no TensorFlow, no Keras, and no netdsl module that imports them.

    >>> model = OnnxModel("model.onnx")                      # doctest: +SKIP
    >>> model.predict(X), model.predict_proba(X)             # doctest: +SKIP

The file's contract is its metadata (`netdsl.*`, written by `netdsl.estimators.export`): the task,
the graph's inputs (with the table columns each takes) and outputs (labels, probabilities, values,
per head), the classes, and the steps netdsl applies before the graph (`stated_steps`: a text
input's `text_vectorization`). `predict` and `predict_proba` return what the estimator that was
exported returns: labels as its `classes_` (of their type), probabilities in class order, and for a
net with several outputs the heads' columns side by side and one probability array per classifying
head (`estimators/several.py`). A plain ONNX model (no `netdsl.format`) with one input runs too:
`predict` gives its outputs as they are.

Opening a file runs nothing from it: the bytes are read within a bound, parsed as protobuf, and a
model whose tensors live in other files (external data, which onnxruntime would read from paths the
file names) is refused; onnxruntime then runs standard operators only (no custom-op library is
registered). Every problem is a `DataError` that says what to do, never an onnxruntime traceback.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from .errors import DataError
from .stated_steps import check_step, vectorize_text

__all__ = ["FORMAT", "FORMAT_VERSION", "INSTALL_HELP", "MAX_ONNX_BYTES", "OnnxModel"]

FORMAT = "netdsl-onnx"
FORMAT_VERSION = 1
TASKS = ("classifier", "regressor", "transformer")
MEANINGS = ("label", "probabilities", "prediction", "output")
# One ONNX file holds at most 2 GiB (protobuf's limit); a larger model keeps its tensors in other
# files, which netdsl refuses (above). A bound on what is read whatever the file claims.
MAX_ONNX_BYTES = 2 * 2**30
INSTALL_HELP = 'predicting from an ONNX file needs onnxruntime and onnx: pip install "netdsl[onnx]"'
_NUMPY_TYPES = {"tensor(float)": np.float32, "tensor(double)": np.float64, "tensor(int64)": np.int64,
                "tensor(int32)": np.int32, "tensor(bool)": np.bool_, "tensor(string)": object}  # fmt: skip


class OnnxModel:
    """The model of the ONNX file at `path`, checked and ready to run (a DataError if it cannot be).

    Attributes: `path`; `task` ("classifier", "regressor", "transformer", or None for a plain ONNX
    model); `inputs`, `outputs` and `stated_steps` (`netdsl.steps`) as the metadata states them;
    `classes_` (a classifier with one output); `heads_` (several outputs: name, task, shape and
    columns of each, as the estimator's); `feature_columns_`, `target_column_` and
    `categorical_columns_` (the table columns the model was fitted on, as a saved model remembers
    them, or None); `net_source` (the `.net` program, or None).
    """

    def __init__(self, path):
        self.path = Path(path)
        onnx, ort = _runtime()
        proto = _parse(self.path, onnx)
        self._session = _session(self.path, proto, ort)
        graph_inputs = {i.name: i for i in self._session.get_inputs()}
        graph_outputs = {o.name: o for o in self._session.get_outputs()}
        meta = {p.key: p.value for p in proto.metadata_props}
        self.net_source = meta.get("netdsl.net")
        if "netdsl.format" not in meta:
            self._plain(graph_inputs, graph_outputs)
            return
        self.task = _task(meta, self.path)
        self.inputs = _declared_inputs(meta, graph_inputs, self.path)
        self.outputs = _declared_outputs(meta, graph_outputs, self.task, self.path)
        self.stated_steps = [check_step(step) for step in _json(meta, "netdsl.steps", self.path, [], (list,))]
        for step in self.stated_steps:
            if step.get("input") not in graph_inputs:
                raise DataError(f"`{self.path}`: a stated step feeds `{step.get('input')}`, which is no input of the "
                                f"graph ({', '.join(graph_inputs)}); export the model again")
        self._classes = _json(meta, "netdsl.classes", self.path, None, (list, dict))
        self._graph_outputs = graph_outputs
        self.heads_ = self._heads() if any(o.get("head") for o in self.outputs) else None
        self.classes_ = self._classes_of(None) if self.task == "classifier" and not self.heads_ else None
        columns = [i.get("columns") for i in self.inputs]
        self.feature_columns_ = [c for cs in columns for c in cs] if all(columns) else None
        target = _json(meta, "netdsl.target", self.path, None, (str, list))
        self.target_column_ = target[0] if isinstance(target, list) and len(target) == 1 else target
        stated = {step["input"] for step in self.stated_steps}
        self.categorical_columns_ = [c for i in self.inputs if i.get("dtype") == "string" and i["name"] not in stated
                                     for c in i.get("columns") or []]

    def _plain(self, graph_inputs: dict, graph_outputs: dict) -> None:
        if len(graph_inputs) != 1:
            raise DataError(f"`{self.path}` is not a netdsl ONNX file (no `netdsl.format` in its metadata) and has "
                            f"{len(graph_inputs)} inputs; netdsl runs a plain ONNX model with one input only: "
                            "export the model with `netdsl export MODEL --format onnx`")
        (name,) = graph_inputs
        self.task, self.stated_steps, self.heads_, self.classes_ = None, [], None, None
        self.inputs = [{"name": name, "shape": None, "columns": None}]
        self.outputs = [{"name": o, "meaning": "output", "head": None} for o in graph_outputs]
        self._graph_outputs, self._classes = graph_outputs, None
        self.feature_columns_ = self.target_column_ = None
        self.categorical_columns_ = []

    # ---- predicting ---------------------------------------------------------------------------

    def run(self, X) -> dict:
        """{graph output name: its array} for the rows of `X` (what `predict` reads from)."""
        feeds = self._feeds(X)
        try:
            values = self._session.run(None, feeds)
        except Exception as problem:  # noqa: BLE001 - onnxruntime's own kinds (Fail, InvalidArgument)
            raise DataError(f"onnxruntime cannot run `{self.path}` on this data: {_first_line(problem)}") from None
        return dict(zip([o.name for o in self._session.get_outputs()], values))

    def predict(self, X):
        """Labels (a classifier, as `classes_`), values (a regressor, float64), or for several outputs
        (n_samples, n_columns) with each head's columns in order; a plain model's output as it is
        (a dict by name when it has several)."""
        out = self.run(X)
        if self.task is None:
            return next(iter(out.values())) if len(out) == 1 else out
        if self.task == "transformer":
            raise DataError(f"`{self.path}` holds a transformer: it gives features (`transform`), not predictions")
        if self.heads_:
            columns = [self._head_values(head, out).reshape(len(next(iter(out.values()))), -1) for head in self.heads_]
            if any(c.dtype.kind not in "biuf" for c in columns):
                return np.hstack([c.astype(object) for c in columns])
            return np.hstack(columns)
        return self._head_values({"name": None, "task": _head_task(self.task)}, out)

    def predict_proba(self, X):
        """Class probabilities (float64), columns in `classes_` order; several outputs: a list with
        one array per classifying head."""
        if self.task != "classifier" and not (self.heads_ and any(h["task"] == "classification" for h in self.heads_)):
            raise DataError(f"`{self.path}` holds no classifier: it has no class probabilities")
        out = self.run(X)
        if self.heads_:
            return [out[self._output(h["name"], "probabilities")].astype(np.float64)
                    for h in self.heads_ if h["task"] == "classification"]
        return out[self._output(None, "probabilities")].astype(np.float64)

    def transform(self, X) -> np.ndarray:
        """A transformer's features, one flat row per sample (as `NetTransformer.transform`)."""
        if self.task != "transformer":
            raise DataError(f"`{self.path}` holds a {self.task or 'plain model'}, not a transformer")
        values = self.run(X)[self._output(None, "output")]
        return values.reshape(len(values), -1)

    def _head_values(self, head: dict, out: dict) -> np.ndarray:
        if head["task"] == "classification":
            return _as_classes(out[self._output(head["name"], "label")], self._classes_of(head["name"]))
        return out[self._output(head["name"], "prediction")].astype(np.float64)

    def _output(self, head: str | None, meaning: str) -> str:
        for output in self.outputs:
            if output.get("head") == head and output["meaning"] == meaning:
                return output["name"]
        raise DataError(f"`{self.path}` has no `{meaning}` output{f' for `{head}`' if head else ''}; export the model again")

    def _classes_of(self, head: str | None):
        classes = self._classes.get(head) if isinstance(self._classes, dict) and head else self._classes
        if classes is None:
            return None
        if not (isinstance(classes, list) and all(isinstance(c, (str, int, float)) for c in classes)):
            raise DataError(f"`{self.path}`: its classes (`netdsl.classes`{f', of `{head}`' if head else ''}) are not "
                            "a list of labels; the file is damaged: export the model again")
        classes = np.asarray(classes)
        return classes.astype(object) if classes.dtype.kind == "U" else classes  # strings: object, as fit makes them

    def _heads(self) -> list[dict]:
        """Each output head as the estimator's `heads_` lists it: name, task, shape and the columns
        `predict` gives it (from the graph's output shape)."""
        heads = []
        for output in self.outputs:
            name = output.get("head")
            if not name or any(h["name"] == name for h in heads) or output["meaning"] == "probabilities":
                continue
            task = "classification" if output["meaning"] == "label" else "regression"
            shape = tuple(d if isinstance(d, int) else 1 for d in (self._graph_outputs[output["name"]].shape or [])[1:])
            heads.append({"name": name, "task": task, "shape": shape, "columns": int(np.prod(shape)) if shape else 1})
        return heads

    # ---- the inputs ---------------------------------------------------------------------------

    def _feeds(self, X) -> dict:
        """{graph input name: array}: `X` split per input, stated steps applied, cast and shaped."""
        parts = self._split(X)
        steps = {step["input"]: step for step in self.stated_steps}
        session_inputs = {i.name: i for i in self._session.get_inputs()}
        feeds = {}
        for declared in self.inputs:
            name, values = declared["name"], parts[declared["name"]]
            if name in steps:
                feeds[name] = vectorize_text(values, steps[name])
                continue
            feeds[name] = _shaped(values, session_inputs[name], declared, self.path)
        return feeds

    def _split(self, X) -> dict:
        """{input name: its rows}: a dict by name, a DataFrame by the columns each input takes (in
        order for a single input without stated columns), an array whole or, for several inputs,
        cut in the inputs' order."""
        names = [i["name"] for i in self.inputs]
        if isinstance(X, dict):
            missing = [n for n in names if n not in X]
            if missing:
                raise DataError(f"X lacks the input{'s' if len(missing) > 1 else ''} {', '.join(map(repr, missing))} "
                                f"of `{self.path}` (its inputs: {', '.join(names)})")
            return {n: X[n] for n in names}
        if hasattr(X, "columns") and hasattr(X, "iloc"):
            return {i["name"]: self._columns_of(X, i) for i in self.inputs}
        if len(names) == 1:
            return {names[0]: X}
        return _cut(X, self.inputs, {step["input"] for step in self.stated_steps})

    def _columns_of(self, frame, declared: dict):
        wanted = declared.get("columns")
        if wanted is None:
            if len(self.inputs) > 1:
                raise DataError(f"`{self.path}` does not state the columns of its input `{declared['name']}`; "
                                "give X as a dict of arrays by input name")
            return frame.to_numpy()
        absent = [c for c in wanted if c not in frame.columns]
        if absent:
            raise DataError(f"the data lacks the column{'s' if len(absent) > 1 else ''} "
                            f"{', '.join(f'`{c}`' for c in absent)} that `{declared['name']}` of `{self.path}` takes; "
                            f"its columns are: {', '.join(map(str, frame.columns))}")
        return frame[wanted].to_numpy()


def _runtime():
    """(onnx, onnxruntime), imported now: the `onnx` extra, never a dependency of the core install."""
    try:
        import onnx
        import onnxruntime
    except ImportError:
        raise DataError(INSTALL_HELP) from None
    return onnx, onnxruntime


def _parse(path: Path, onnx):
    """The ModelProto in `path`, read within `MAX_ONNX_BYTES`, with all its tensors inside it."""
    if not path.is_file():
        what = "is a folder, not a model file" if path.is_dir() else "no such model file"
        raise DataError(f"{what}: `{path}`; write one with `netdsl export MODEL --format onnx --out {path}`")
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_ONNX_BYTES + 1)
    except OSError as problem:
        raise DataError(f"cannot read `{path}`: {problem.strerror or problem}") from None
    if len(data) > MAX_ONNX_BYTES:
        raise DataError(f"`{path}` is larger than an ONNX file can be ({MAX_ONNX_BYTES:,} bytes); not a model netdsl reads")
    try:
        proto = onnx.ModelProto.FromString(data)
    except Exception:  # noqa: BLE001 - protobuf's DecodeError, or a RuntimeWarning-turned-error
        proto = None
    if proto is None or not proto.HasField("graph") or not proto.ir_version:
        raise DataError(f"`{path}` is not an ONNX model (damaged, or another kind of file); "
                        "give a file written by `netdsl export MODEL --format onnx`")
    external = _external_tensor(proto, onnx)
    if external:
        raise DataError(f"`{path}` keeps the tensor `{external}` in another file (ONNX external data); netdsl reads "
                        "one self-contained ONNX file only: export the model again")
    return proto


def _external_tensor(proto, onnx) -> str | None:
    """The name of a tensor anywhere in the model stored outside the file, or None."""
    external = onnx.TensorProto.EXTERNAL
    graphs = [proto.graph, *(g for info in proto.training_info for g in (info.initialization, info.algorithm))]
    nodes = [node for function in proto.functions for node in function.node]
    while graphs or nodes:
        if graphs:
            graph = graphs.pop()
            name = _external_in(graph.initializer, graph.sparse_initializer, external)
            if name is not None:
                return name or "(unnamed)"
            nodes.extend(graph.node)
            continue
        for attribute in nodes.pop().attribute:
            name = _external_in([attribute.t, *attribute.tensors], [attribute.sparse_tensor, *attribute.sparse_tensors],
                                external)
            if name is not None:
                return name or attribute.name
            graphs.extend([attribute.g, *attribute.graphs] if attribute.HasField("g") else attribute.graphs)
    return None


def _external_in(tensors, sparse_tensors, external) -> str | None:
    """The name of the first of `tensors` or `sparse_tensors` kept outside the file, or None: a
    sparse tensor's indices count as much as its values (onnxruntime reads both)."""
    for tensor in tensors:
        if tensor.data_location == external:
            return tensor.name
    for sparse in sparse_tensors:
        if external in (sparse.values.data_location, sparse.indices.data_location):
            return sparse.values.name
    return None


def _session(path: Path, proto, ort):
    options = ort.SessionOptions()
    options.log_severity_level = 3  # this session's warnings only; nothing process-wide is changed
    try:
        return ort.InferenceSession(proto.SerializeToString(), options, providers=["CPUExecutionProvider"])
    except Exception as problem:  # noqa: BLE001 - onnxruntime raises its own kinds (Fail, InvalidGraph)
        raise DataError(f"onnxruntime cannot load `{path}`: {_first_line(problem)}") from None


_KIND_NAMES = {list: "a list", dict: "an object", str: "a string"}


def _json(meta: dict, key: str, path: Path, default, kinds: tuple = (object,)):
    """The metadata `key` read as JSON (`default` where it is absent), one of the types `kinds`."""
    if key not in meta:
        return default
    try:
        value = json.loads(meta[key])
    except (ValueError, RecursionError):  # RecursionError: nested deeper than the parser goes
        raise DataError(f"`{path}`: its metadata `{key}` is not JSON; the file is damaged: export the model again") from None
    if not isinstance(value, kinds):
        raise DataError(f"`{path}`: its metadata `{key}` is not {' or '.join(_KIND_NAMES[k] for k in kinds)}; "
                        "the file is damaged: export the model again")
    return value


def _task(meta: dict, path: Path) -> str:
    if meta.get("netdsl.format") != FORMAT:
        raise DataError(f"`{path}` states the format {meta.get('netdsl.format')!r}, not {FORMAT!r}")
    version = meta.get("netdsl.format_version", "")
    if not (version.isdecimal() and len(version) < 10) or int(version) > FORMAT_VERSION:
        raise DataError(f"`{path}` is in version {version!r} of netdsl's ONNX format; this netdsl reads version "
                        f"{FORMAT_VERSION}: upgrade netdsl")
    task = meta.get("netdsl.task")
    if task not in TASKS:
        raise DataError(f"`{path}` states the task {task!r}; netdsl knows {', '.join(TASKS)}")
    return task


def _declared_inputs(meta: dict, graph_inputs: dict, path: Path) -> list[dict]:
    inputs = _json(meta, "netdsl.inputs", path, None)
    if not isinstance(inputs, list) or not all(isinstance(i, dict) and isinstance(i.get("name"), str) for i in inputs):
        raise DataError(f"`{path}` does not state its inputs (`netdsl.inputs`); export the model again")
    for declared in inputs:
        columns = declared.get("columns")
        if columns is not None and not (isinstance(columns, list) and all(isinstance(c, str) for c in columns)):
            raise DataError(f"`{path}`: the columns of the input `{declared['name']}` are not a list of names")
    stated = [i["name"] for i in inputs]
    if sorted(stated) != sorted(graph_inputs):
        raise DataError(f"`{path}` states the inputs {', '.join(stated) or 'none'} but its graph takes "
                        f"{', '.join(graph_inputs) or 'none'}; the file was changed after export: export it again")
    return inputs


# What `predict` reads, by task, for a net with one output (`<head>.` before each with several).
_NEEDED = {"classifier": ("label", "probabilities"), "regressor": ("prediction",), "transformer": ("output",)}


def _declared_outputs(meta: dict, graph_outputs: dict, task: str, path: Path) -> list[dict]:
    outputs = _json(meta, "netdsl.outputs", path, None)
    if not isinstance(outputs, list) or not all(isinstance(o, dict) and o.get("meaning") in MEANINGS and isinstance(
            o.get("name"), str) and isinstance(o.get("head"), (str, type(None))) for o in outputs):
        raise DataError(f"`{path}` does not state its outputs (`netdsl.outputs`); export the model again")
    unknown = [str(o.get("name")) for o in outputs if o.get("name") not in graph_outputs]
    if unknown:
        raise DataError(f"`{path}` states the output{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}, which its "
                        f"graph lacks (it gives {', '.join(graph_outputs)}); export the model again")
    meanings = {o["meaning"] for o in outputs}
    lacking = [m for m in _NEEDED[task] if m not in meanings]
    if lacking and not any(o.get("head") for o in outputs):
        raise DataError(f"`{path}` holds a {task} without a `{lacking[0]}` output; export the model again")
    return outputs


def _head_task(task: str) -> str:
    return "classification" if task == "classifier" else "regression"


def _as_classes(labels, classes) -> np.ndarray:
    """The graph's labels as values of `classes` (an int64 or string tensor becomes the classes'
    own type: ints, floats, booleans, or strings in an object array as the estimator's)."""
    labels = np.asarray(labels)
    if classes is None:
        return labels
    if classes.dtype.kind in "OU":
        return labels.astype(str).astype(classes.dtype)
    if labels.dtype.kind in "OSU":  # numeric classes given by their text
        by_text = {str(c): c for c in classes.tolist()}
        values = [by_text.get(str(label), label) for label in labels.ravel()]
        return np.asarray(values, dtype=classes.dtype).reshape(labels.shape)
    return labels.astype(classes.dtype)


def _shaped(values, graph_input, declared: dict, path: Path) -> np.ndarray:
    """Rows as the graph input takes them: its dtype (numbers, or strings for an encoder of string
    columns), and flat rows reshaped to its shape (a 64-column table for an (8, 8, 1) image input)."""
    dtype = _NUMPY_TYPES.get(graph_input.type, np.float32)
    try:
        array = np.asarray(values, dtype=dtype) if dtype is not object else np.asarray(values).astype(str)
    except (TypeError, ValueError):
        raise DataError(f"the input `{declared['name']}` of `{path}` takes numbers; the data holds other values "
                        "(text or dates): give numeric columns") from None
    want = [d if isinstance(d, int) else None for d in (graph_input.shape or [])[1:]]
    if array.ndim == 1 and want == [1]:  # one column
        array = array.reshape(-1, 1)
    have = list(array.shape[1:])
    if len(want) == len(have) and all(w is None or w == h for w, h in zip(want, have)):
        return array
    if None not in want and int(np.prod(want)) == int(np.prod(have)):
        return array.reshape((len(array), *want))
    size = "x".join(str(w) for w in want) if None not in want else str(want)
    raise DataError(f"the input `{declared['name']}` of `{path}` takes {size} values a row; the data has "
                    f"{int(np.prod(have)) if have else 1}: give the features the model was fitted on")


def _cut(X, inputs: list[dict], text: set) -> dict:
    """An array's columns cut per input in the inputs' order (a text input: one column)."""
    array = np.asarray(X, dtype=object if text else None)
    if array.ndim != 2:
        raise DataError(f"a model with several inputs takes a 2-D table or a dict by input name; got shape {array.shape}")
    parts, start = {}, 0
    for declared in inputs:
        width = 1 if declared["name"] in text else int(np.prod([d or 1 for d in declared.get("shape") or [1]]))
        parts[declared["name"]] = array[:, start:start + width] if width > 1 else array[:, start]
        start += width
    if start != array.shape[1]:
        raise DataError(f"the data has {array.shape[1]} columns; the model's inputs take {start} "
                        f"({', '.join(i['name'] for i in inputs)})")
    return parts


def _first_line(problem: BaseException) -> str:
    text = str(problem).strip()
    return text.splitlines()[0] if text else type(problem).__name__
