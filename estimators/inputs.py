"""The data as a net takes it: X validated and shaped to the program's `input`, with clear errors
for what a net cannot take (dates, strings in a numeric net, one-pass iterators, values beyond
float32, token ids an embedding does not have).

`InputsMixin` holds the estimator's side (it records `n_features_in_` and `feature_names_in_`, as
scikit-learn's `validate_data` does); the functions are the checks themselves.
"""

from __future__ import annotations

import numpy as np
from sklearn.utils.validation import validate_data

from netdsl.dsl import specs
from netdsl.dsl.errors import InputError, InputTypeError, as_input_error, user_data
from netdsl.dsl.shapes.text import shape_text

from .several import Rows, input_sizes, several_inputs, several_outputs, split_inputs

__all__ = [
    "InputsMixin", "is_text", "refuse_iterator", "refuse_time_columns", "explain_non_numeric", "is_number",
    "as_float32", "as_texts", "short", "end_layer", "token_id_problem", "rows_origin", "user_data", "flat_targets",
]  # fmt: skip


def is_text(spec: specs.Net) -> bool:
    """Whether the net reads raw strings (`input text`)."""
    return spec.input is not None and bool(spec.input.text)


class InputsMixin:
    """X validated at fit and at predict, and reshaped to the program's `input`."""

    def _is_text(self, spec) -> bool:
        """Whether the net reads raw strings (one of several inputs, too)."""
        return is_text(spec) or any(i.text for i in spec.inputs)

    def _validate_X(self, X, spec, reset: bool, y=None, **kwargs):
        """Validated inputs: numbers as float32 of shape (n, n_features) (shaped arrays flattened),
        or a 1-D array of strings for `input text`."""
        refuse_iterator(X, "X")
        if y is not None:
            refuse_iterator(y, "y")
        if several_inputs(spec) or (y is not None and several_outputs(spec)):
            return self._validate_several(X, spec, reset, y)
        if is_text(spec):
            texts = as_texts(X)
            if reset:
                self.n_features_in_ = 1
                if hasattr(X, "columns"):
                    self.feature_names_in_ = np.asarray(list(X.columns), dtype=object)
            if y is not None:
                from sklearn.utils.validation import check_consistent_length

                user_data(check_consistent_length, texts, y)
            return texts, y
        if isinstance(X, np.ndarray) and X.ndim > 2:
            X = X.reshape(len(X), -1)
        refuse_time_columns(X)
        y, y_shape = flat_targets(y)
        # float64 data is kept as it is until its range is checked: a value beyond float32's would
        # otherwise become infinity, reported as "contains infinity" though the data has none.
        # Sparse X (a OneHotEncoder's, a ColumnTransformer's output) is accepted and made dense: the
        # net computes on dense arrays.
        try:
            if y is None and not reset and _any_length(spec):  # the length may differ from the fit's
                from sklearn.utils.validation import check_array

                X = check_array(X, dtype=[np.float32, np.float64], ensure_min_samples=1, accept_sparse=True)
            elif y is None:
                X = validate_data(self, X, reset=reset, dtype=[np.float32, np.float64], ensure_min_samples=1,
                                  accept_sparse=True)
            else:
                X, y = validate_data(self, X, y, reset=reset, dtype=[np.float32, np.float64], accept_sparse=True,
                                     **kwargs)
        except (TypeError, ValueError) as error:
            explain_non_numeric(X, error)
            raise as_input_error(error) from error
        if hasattr(X, "toarray"):
            X = _dense(X)
        if y_shape is not None:
            y = np.asarray(y).reshape(y_shape)
        return as_float32(X, getattr(self, "feature_names_in_", None)), y

    def _validate_several(self, X, spec, reset: bool, y=None):
        """X of a net with several inputs (a `Rows` by input), or X and y of one with several outputs
        (y split per output later, once the outputs' shapes are known): see `several.py`."""
        from sklearn.utils.validation import check_consistent_length

        if not several_inputs(spec):
            X, _ = self._validate_X(X, spec.model_copy(update={"outputs": ()}), reset)
            user_data(check_consistent_length, X, _rows_of(y))
            return X, y
        parts, names = split_inputs(X, spec)
        sizes = input_sizes(spec)
        rows = Rows({name: _validated_part(part, sizes[name], name) for name, part in parts.items()})
        if y is not None:
            user_data(check_consistent_length, *rows.parts.values(), _rows_of(y))
        else:
            user_data(check_consistent_length, *rows.parts.values())
        if reset:
            self.n_features_in_ = rows.shape[1]
            if names is not None:
                self.feature_names_in_ = np.asarray(names, dtype=object)
            elif hasattr(self, "feature_names_in_"):
                del self.feature_names_in_
        elif rows.shape[1] != self.n_features_in_:
            raise InputError(f"X has {rows.shape[1]} features, but {type(self).__name__} is expecting "
                             f"{self.n_features_in_} features as input.")
        if len(rows) < 1:
            raise InputError("Found array with 0 sample(s) while a minimum of 1 is required.")
        return rows, y

    def _shape_any_length(self, X, spec, shape: tuple):
        """Rows reshaped to an input with an axis of any length: its length is the row's width over
        the other axes' sizes (sequences of 70 steps of 7 values: rows of 490)."""
        per_step = int(np.prod([d for d in shape if d is not None]))
        if X.shape[1] % per_step or not X.shape[1]:
            raise spec.source.located(
                f"the data has {X.shape[1]} values per sample, which is not a whole number of "
                f"{shape_text(tuple('none' if d is None else d for d in shape))} (a multiple of {per_step})",
                ("input",), help=f"give each sample a multiple of {per_step} values, or an array shaped "
                "(samples, ...) as the input", code="N701",
            )
        return X.reshape((len(X),) + tuple(-1 if d is None else d for d in shape))

    def _data_names(self, spec, X) -> dict:
        """The data-bound names X gives: `n_features` (none for a text net, or one with several inputs)."""
        return {"n_features": int(X.shape[1])} if not is_text(spec) and not several_inputs(spec) else {}

    def _shape_inputs(self, X, spec):
        """Flat rows reshaped to the file's `input` shape, or a clear error naming the `input` line
        (with several inputs, each input's: a dict by input name)."""
        if isinstance(X, Rows):
            return {i.name: _shaped_part(X.parts[i.name], i) for i in spec.inputs}
        if is_text(spec):
            from .compile import as_text

            return as_text(X)
        shape = tuple(spec.input.shape) if spec.input is not None else (X.shape[1],)
        if None in shape:  # an axis of any length (`input (none, 7)`): found from the row's width
            return self._shape_any_length(X, spec, shape)
        size = int(np.prod(shape))
        if X.shape[1] != size:
            dims = "x".join(str(d) for d in shape)
            raise spec.source.located(
                f"the data has {X.shape[1]} features per sample, but `input {shape_text(shape)}` takes {size}"
                + (f" ({dims})" if len(shape) > 1 else ""),
                ("input",),
                help=f"the samples must have {size} values to be reshaped to {shape_text(shape)}; "
                "change `input`, or leave it out to take the data's width (n_features)", code="N701",
            )
        problem = token_id_problem(X, spec)
        if problem is not None:
            title, path, help = problem
            raise spec.source.located(title, path, help=help, code="N702")
        return X.reshape((len(X),) + shape)


def _validated_part(part, size: int | None, name: str):
    """One input's part: strings (a text input) as a 1-D object array, numbers as float32 (n, size)."""
    from sklearn.utils.validation import check_array

    if size is None:
        return as_texts(part)
    values = np.asarray(part) if not hasattr(part, "iloc") else part
    if isinstance(values, np.ndarray) and values.ndim > 2:
        values = values.reshape(len(values), -1)
    try:
        values = check_array(values, dtype=[np.float32, np.float64], ensure_2d=False)
    except (TypeError, ValueError) as error:
        raise as_input_error(type(error)(f"input `{name}`: {error}")) from error
    values = values.reshape(len(values), -1)
    if values.shape[1] != size:
        raise InputError(f"input `{name}` takes {size} values per sample, but X gives {values.shape[1]}")
    return as_float32(values, None)


def _any_length(spec: specs.Net) -> bool:
    """Whether the net's input has an axis of any length (`input (none, 7)`)."""
    return spec.input is not None and spec.input.shape is not None and None in spec.input.shape


def _rows_of(y):
    """Something with y's number of rows, for the length check (a dict of columns: its first)."""
    return next(iter(y.values())) if isinstance(y, dict) else y


def _shaped_part(part, declared: specs.Input):
    """One input's validated part as the model takes it: strings as a string tensor, numbers in
    the input's shape."""
    if declared.text:
        from .compile import as_text

        return as_text(part)
    return part.reshape((len(part),) + tuple(declared.shape))


def flat_targets(y) -> tuple:
    """(y, None), or for targets with several axes per sample (a sequence of vectors, an image:
    (n, T, d), (n, 8, 8, 1)) y as one row per sample and its shape, to give back after scikit-learn's
    validation (which takes at most 2-D targets)."""
    if hasattr(y, "iloc"):
        return _plain_labels(y), None
    if y is None or hasattr(y, "toarray"):
        return y, None
    try:
        array = np.asarray(y)
    except ValueError:  # ragged lists: scikit-learn's validation says so
        return y, None
    if array.ndim <= 2:
        return y, None
    return array.reshape(len(array), -1), array.shape


def _plain_labels(y):
    """A pandas Series of a nullable dtype (`boolean`, `Int64`) without missing values as NumPy's own
    (bool, int64): scikit-learn's validation makes it float64, so `classes_` and the predictions
    came back as 0.0 and 1.0 for labels `False` and `True`."""
    if getattr(y, "ndim", 0) != 1:
        return y
    missing = np.flatnonzero(y.isna().to_numpy())
    if len(missing):  # (a `string` column's pd.NA reached scikit-learn as "boolean value of NA is ambiguous")
        raise InputError(f"Input y contains missing values ({len(missing):,}, the first in row {missing[0]}); drop "
                         "those samples or give them a label or target.")
    numpy_dtype = getattr(y.dtype, "numpy_dtype", None)  # pandas's masked dtypes have one
    if numpy_dtype is None or numpy_dtype.kind not in "biu":
        return y
    return y.to_numpy(dtype=numpy_dtype)


def _dense(X):
    """A sparse X made dense, as the net computes on dense arrays; InputError first where that
    would not fit in this machine's memory (a wide one-hot or text matrix)."""
    from netdsl.dsl.shapes import memory_limit

    limit, size = memory_limit(), X.shape[0] * X.shape[1] * X.dtype.itemsize
    if limit is not None and size > limit:
        raise InputError(
            f"X is sparse, {X.shape[0]:,} x {X.shape[1]:,}: made dense, as the net computes on it, it takes "
            f"{size / 2**30:,.1f} GiB, more than this machine's memory ({limit / 2**30:,.1f} GiB); reduce its "
            "columns first (scikit-learn's SelectKBest or TruncatedSVD)"
        )
    return X.toarray()


def end_layer(net: specs.Net, last: bool = False) -> tuple | None:
    """(source path, spec) of the net's first layer (its last with `last`), as `flat_layers` would
    list it, found without unrolling every `repeat` block; None for a net without layers."""
    return _end_layer(net.layers, ("layers",), last)


def _end_layer(items, prefix: tuple, last: bool) -> tuple | None:
    order = reversed(list(enumerate(items))) if last else enumerate(items)
    for i, item in order:
        path = prefix + (i, item.kind)
        if not isinstance(item, specs.Repeat):
            return path, item
        found = _end_layer(item.body, path + ("body",), last) if item.count else None
        if found is not None:
            return found
    return None


def token_id_problem(X, spec: specs.Net) -> tuple | None:
    """(title, source path, help) when data fed straight to an `embedding` is not whole token ids
    in [0, input_dim): TensorFlow would stop the fit or the prediction with an unlocated
    "indices[0,0] = 12 is not in [0, 10)"."""
    first = end_layer(spec)
    if first is None or first[1].kind != "embedding" or X.size == 0:
        return None
    path, layer = first
    low, high = float(X.min()), float(X.max())
    whole = bool(np.all(X == np.floor(X)))
    if whole and low >= 0 and high < layer.input_dim:
        return None
    ids = f"ids 0 to {layer.input_dim - 1}"
    if not whole:
        title, help = (f"the data fed to `embedding` holds values that are not whole numbers, but it looks up "
                       f"token {ids}", "give integer token ids, or raw strings with `input text` and "
                       "`text_vectorization` before the embedding")
    elif low < 0:
        title, help = (f"the data fed to `embedding` holds negative token ids (down to {low:g}), but it looks "
                       f"up token {ids}", "token ids count from 0")
    else:
        title, help = (f"the data fed to `embedding` holds token ids up to {high:g}, but `input_dim` "
                       f"{layer.input_dim} takes token {ids}",
                       f"set `input_dim` to at least {int(high) + 1} (the largest id + 1)")
    return title, path, help


def rows_origin(X):
    """The `origin_` of rows made by an augmentation step (each row's original), or None.
    Chains (a copy of a copy) are followed to the first original."""
    origin = getattr(X, "origin_", None) if isinstance(X, np.ndarray) else None
    if origin is None:
        return None
    origin = np.asarray(origin, dtype=np.int64)
    if origin.shape != (len(X),) or origin.min(initial=0) < 0 or origin.max(initial=0) >= len(X):
        raise InputError("The rows' `origin_` must give, for each row, the index of the row it was made from.")
    while True:
        followed = origin[origin]
        if np.array_equal(followed, origin):
            return origin
        origin = followed


def refuse_iterator(data, name: str) -> None:
    """A generator or other one-pass iterator is not array-like (scikit-learn refuses it too)."""
    if not hasattr(data, "__len__") and not hasattr(data, "__array__") and hasattr(data, "__next__"):
        raise InputTypeError(
            f"Expected array-like {name} (a NumPy array, a list, a pandas frame or series); got a "
            f"{type(data).__name__}, which can be read only once. Make it a list or array first, e.g. "
            f"np.array(list({name}))."
        )


def refuse_time_columns(X) -> None:
    """Dates, times and durations are not numbers to a net (NumPy would turn them into nanoseconds)."""
    dtypes = getattr(X, "dtypes", None)
    if dtypes is None or not hasattr(X, "columns"):
        dtypes = {"0": getattr(X, "dtype", None)} if getattr(X, "dtype", None) is not None else {}
    import pandas as pd

    for column, dtype in dict(dtypes).items():
        timelike = dtype is not None and (
            pd.api.types.is_datetime64_any_dtype(dtype) or pd.api.types.is_timedelta64_dtype(dtype)
            or isinstance(dtype, pd.PeriodDtype)
        )
        if timelike:
            where = f"Column {column!r}" if hasattr(X, "columns") else "X"
            raise InputError(
                f"{where} holds dates or times ({dtype}); a net takes numbers. Convert it first: for "
                "example to seconds (`(col - col.min()).dt.total_seconds()`) or to its parts "
                "(`col.dt.dayofweek`, `col.dt.month`, `col.dt.hour`)."
            )


def explain_non_numeric(X, error) -> None:
    """Raise a clear error naming the first column of strings or categories (a user's table not yet
    encoded), or return to let `error` stand."""
    import pandas as pd

    frame = X if hasattr(X, "columns") else None
    if frame is None:
        try:
            array = np.asarray(X, dtype=object)
        except (TypeError, ValueError):
            return
        if array.ndim == 1 and len(array) and all(isinstance(v, str) for v in array):
            raise InputError(
                f"X is a list of strings (such as {short(array[0])!r}), but this net takes rows of numbers; a net "
                "that reads raw texts starts with `input text` (then `text_vectorization`)."
            ) from error
        if array.ndim != 2:
            return
        frame = pd.DataFrame(array)
    for column in frame.columns:
        values = frame[column]
        try:
            np.asarray(values, dtype=np.float64)
        except (TypeError, ValueError):
            bad = next((v for v in values if not is_number(v)), None)
            dtype = values.dtype
            if bad is None or not (isinstance(bad, (str, bytes)) or isinstance(dtype, pd.CategoricalDtype)):
                continue  # other objects (complex numbers, dicts): scikit-learn's own message says it
            what = "categories" if isinstance(dtype, pd.CategoricalDtype) else f"{type(bad).__name__} values"
            where = f"Column {column!r}" if hasattr(X, "columns") else f"Column {column} of X"
            raise InputError(
                f"{where} holds {what} such as {bad!r}; a net takes numbers. Encode it first, e.g. "
                "with OneHotEncoder (or OrdinalEncoder) in a ColumnTransformer before the net."
            ) from error


def is_number(value) -> bool:
    """Whether `float(value)` works (a number, or a string that reads as one)."""
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return True


def as_float32(X, names=None) -> np.ndarray:
    """Validated float data as float32 (what the net computes in), refusing values float32 cannot hold."""
    if X.dtype == np.float32:
        return X
    limit = np.finfo(np.float32).max
    if X.size and (X.max() > limit or X.min() < -limit):  # no temporary copy of X on the way
        row, column = np.argwhere(np.abs(X) > limit)[0]
        name = f"{names[column]!r}" if names is not None and len(names) == X.shape[1] else str(column)
        raise InputError(
            f"Input X holds values beyond float32's range (about ±3.4e38), such as {X[row, column]:g} in column "
            f"{name}; the net computes in float32. Scale the features first (e.g. StandardScaler, or a log)."
        )
    return X.astype(np.float32)


def as_texts(X) -> np.ndarray:
    """A list, 1-D array, Series or one-column frame of strings -> 1-D object array of str."""
    if hasattr(X, "iloc") and getattr(X, "ndim", 1) == 2:
        if X.shape[1] != 1:
            raise InputError(f"A text net takes one column of strings; got {X.shape[1]} columns.")
        X = X.iloc[:, 0]
    if isinstance(X, str):
        raise InputError(f"A text net takes a list of strings, one per sample; got one string. Pass [{short(X)!r}].")
    if hasattr(X, "toarray"):
        raise InputTypeError("A text net takes a list of strings; got a sparse matrix (a net over numbers takes those).")
    array = np.asarray(X, dtype=object)
    if array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    if array.ndim != 1:
        raise InputError(f"A text net takes a list or 1-D array of strings; got an array of shape {array.shape}.")
    if len(array) == 0:
        raise InputError("Found array with 0 sample(s) while a minimum of 1 is required.")
    index = next((i for i, v in enumerate(array) if not isinstance(v, str)), None)
    if index is not None:
        bad = array[index]
        raise InputError(f"A text net takes strings; got {type(bad).__name__} values such as {bad!r}.")
    return array


def short(text: str) -> str:
    """`text`, cut to 40 characters for a message."""
    return text if len(text) <= 40 else text[:37] + "..."
