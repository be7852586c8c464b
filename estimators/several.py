"""Nets with several inputs or several outputs: X split per input, y per output ("head").

Several inputs. X may be
- a dict of arrays, one per input name (`{"image": images, "meta": numbers}`);
- a pandas DataFrame: an input takes the column of its name (a text input, or a numeric input of
  size 1), or the columns whose names start with its name and `_` or `.` (`meta_length`,
  `meta_words`), in the frame's order; if no column name matches an input, the columns are taken
  in order as for an array;
- a 2-D array (or anything scikit-learn reads as one): the columns in the order of the `input`
  statements, each input taking as many as one sample has values (a text input: one column).
So `cross_val_score`, `GridSearchCV` and a `Pipeline` with a `ColumnTransformer` before the net work
as with one input: scikit-learn sees one table. The validated X is a `Rows`: the arrays by input,
indexable by rows like one array.

Several outputs. y is a DataFrame (columns matched to outputs by name, as above), a 2-D array (the
columns in `output`'s order) or a dict. Each output is a head with its own task: a classification
head (its loss a cross-entropy; `NetClassifier`'s default) takes one column of labels, a regression
head (`NetRegressor`'s default, or any other loss) as many columns as its output has values.
`predict` gives (n_samples, n_columns), the heads' columns in order (labels for classification
heads; an object array when labels are not numbers); `predict_proba` a list with one array per
classification head; `score` is scikit-learn's multi-output convention: subset accuracy when
every head classifies (as `MultiOutputClassifier`), R² averaged over the columns when every head
regresses, and the mean of the heads' scores (accuracy, R²) when they are mixed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from netdsl.dsl import specs
from netdsl.dsl.errors import InputError

__all__ = ["Rows", "several_inputs", "several_outputs", "split_inputs", "input_sizes", "Head", "plan_heads", "split_targets"]


def several_inputs(spec: specs.Net) -> bool:
    return len(spec.inputs) > 1


def several_outputs(spec: specs.Net) -> bool:
    return len(spec.outputs) > 1


class Rows:
    """Arrays of the same rows, by name (X of a net with several inputs): indexed by rows as one
    array (`X[train_index]`), `len` its rows; `parts` the plain dict Keras takes."""

    def __init__(self, parts: dict):
        self.parts = parts

    def __len__(self) -> int:
        return len(next(iter(self.parts.values())))

    def __getitem__(self, index):
        return Rows({name: part[index] for name, part in self.parts.items()})

    @property
    def shape(self) -> tuple:
        """(rows, columns in all), as scikit-learn's checks ask of X."""
        return (len(self), sum(1 if part.ndim == 1 else int(np.prod(part.shape[1:])) for part in self.parts.values()))


def input_sizes(spec: specs.Net) -> dict[str, int | None]:
    """Input name -> the columns one sample takes (None: a text input, one column of strings)."""
    return {i.name: None if i.text else int(np.prod(i.shape)) for i in spec.inputs}


def split_inputs(X, spec: specs.Net) -> tuple[dict, list | None]:
    """X as {input name: its part}, and the column names used (None for arrays)."""
    sizes = input_sizes(spec)
    if isinstance(X, dict):
        missing = [name for name in sizes if name not in X]
        extra = [name for name in X if name not in sizes]
        if missing or extra:
            raise InputError(f"X is a dict with the keys {sorted(map(str, X))}, but the net's inputs are "
                             f"{list(sizes)}" + (f" (missing: {missing})" if missing else "")
                             + (f" (unknown: {extra})" if extra else ""))
        return {name: X[name] for name in sizes}, None
    if hasattr(X, "columns") and hasattr(X, "iloc"):
        return _split_frame(X, sizes), [str(c) for c in X.columns]
    array = np.asarray(X) if not hasattr(X, "toarray") else X.toarray()
    if array.ndim != 2:
        raise InputError(f"X must be a table (2-D: one row per sample) or a dict of arrays for a net with the inputs "
                         f"{list(sizes)}; got an array of shape {array.shape}")
    return _split_columns(array, sizes, range(array.shape[1])), None


def _split_columns(table, sizes: dict, columns, data: str = "X", parts: str = "inputs") -> dict:
    """The columns in the order of the inputs (or outputs), each taking its size."""
    widths = {name: 1 if size is None else size for name, size in sizes.items()}
    total = sum(widths.values())
    columns = list(columns)
    if len(columns) != total:
        listing = ", ".join(f"{name} {width}" for name, width in widths.items())
        raise InputError(f"{data} has {len(columns)} columns, but the net's {parts} take {total} ({listing}, in that order)")
    out, start = {}, 0
    for name, width in widths.items():
        chosen = columns[start:start + width]
        out[name] = table.iloc[:, chosen] if hasattr(table, "iloc") else table[:, chosen]
        start += width
    return out


def _split_frame(frame, sizes: dict, data: str = "X", parts: str = "inputs") -> dict:
    """A DataFrame's columns by name (`meta` or `meta_*` / `meta.*`), else in order (`data`, `parts`:
    what the messages call the table and its parts: X and the inputs, y and the outputs)."""
    names = [str(c) for c in frame.columns]
    chosen = {}
    for name, size in sizes.items():
        if name in names and (size in (None, 1)):
            chosen[name] = [names.index(name)]
        else:
            prefixed = [j for j, c in enumerate(names) if c.startswith((f"{name}_", f"{name}."))]
            if prefixed:
                chosen[name] = prefixed
    if not chosen:
        return _split_columns(frame, sizes, range(frame.shape[1]), data, parts)
    unmatched = [name for name in sizes if name not in chosen]
    if unmatched:
        one = parts[:-1]
        raise InputError(f"{data}'s columns name the {parts} {sorted(chosen)}, but none is named for {unmatched}: name "
                         f"a column `NAME` (one value, or text) or `NAME_...` for each {one}, or give the columns in "
                         f"the order of the {parts} without their names")
    out = {}
    for name, index in chosen.items():
        width = 1 if sizes[name] is None else sizes[name]
        if len(index) != width:
            raise InputError(f"{parts[:-1]} `{name}` takes {width} values per sample, but {data} has {len(index)} "
                             f"columns for it "
                             f"({', '.join(names[j] for j in index[:5])}{', ...' if len(index) > 5 else ''})")
        out[name] = frame.iloc[:, index]
    return out


# ---- heads: the outputs of a net with several ------------------------------------------------


@dataclass
class Head:
    """One output as fitted: its name, task, output shape, loss, columns of y, and its classes."""

    name: str
    task: str  # "classification" or "regression"
    shape: tuple
    loss: object  # a loss name or spec
    loss_weight: float = 1.0
    metrics: tuple = ()
    classes: np.ndarray | None = None
    one_hot: bool = False  # categorical_crossentropy: the targets one-hot
    columns: int = field(default=1)

    @property
    def binary(self) -> bool:
        return self.task == "classification" and self.shape[-1:] == (1,)


def plan_heads(resolved: specs.Net, analysis, default_task: str) -> list[Head]:
    """The heads of `resolved`, from its outputs' shapes (`analysis`) and the `train` block: an
    output's own loss, else the block's, else the estimator's task (`default_task`)."""
    from netdsl.dsl.train_specs import loss_name

    train = resolved.train or specs.Train()
    heads = []
    for name in resolved.outputs:
        own = train.outputs.get(name, specs.OutputTraining())
        loss = own.loss if own.loss is not None else train.loss
        shape = tuple(analysis.outputs[name])
        task = default_task if loss is None else (
            "classification" if "crossentropy" in loss_name(loss) else "regression")
        if loss is None:
            loss = "mse" if task == "regression" else (
                "binary_crossentropy" if shape[-1:] == (1,) else "sparse_categorical_crossentropy")
        metrics = own.metrics if own.metrics is not None else tuple(train.metrics)
        columns = 1 if task == "classification" else int(np.prod(shape))
        heads.append(Head(name, task, shape, loss, own.loss_weight, metrics, None,
                          loss_name(loss) == "categorical_crossentropy", columns))
    return heads


def split_targets(y, heads: list[Head]) -> dict:
    """y as {output name: its columns}: a dict, a DataFrame (by name, else in order) or a 2-D array."""
    names = [h.name for h in heads]
    widths = {h.name: h.columns for h in heads}
    if isinstance(y, dict):
        missing = [name for name in names if name not in y]
        if missing:
            raise InputError(f"y is a dict without the outputs {missing}; the net's outputs: {names}")
        return {name: np.asarray(y[name]) for name in names}
    if hasattr(y, "columns") and hasattr(y, "iloc"):
        sizes = {h.name: h.columns if h.task == "regression" and h.columns > 1 else 1 for h in heads}
        parts = _split_frame(y, sizes, "y", "outputs")
        return {name: np.asarray(part) for name, part in parts.items()}
    array = np.asarray(y, dtype=object) if not hasattr(y, "shape") else np.asarray(y)
    if array.ndim == 1:
        raise InputError(f"this net has {len(heads)} outputs ({', '.join(names)}): y needs a column for each "
                         f"(a 2-D array, a DataFrame or a dict), not one value per sample")
    array = array.reshape(len(array), -1)
    total = sum(widths.values())
    if array.shape[1] != total:
        parts = ", ".join(f"{name} {width}" for name, width in widths.items())
        raise InputError(f"y has {array.shape[1]} columns, but the net's outputs take {total} ({parts}, in that order)")
    out, start = {}, 0
    for name in names:
        out[name] = array[:, start:start + widths[name]]
        start += widths[name]
    return out
