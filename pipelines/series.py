"""Forecasting samples from a series: windows of past values and the value to predict.

`windows` is the one place that cuts a series into samples; `load_data(..., window=N)` and the
command line's `--window N` use it with `horizon=1`. NumPy and pandas load on first use and
TensorFlow never: `netdsl.pipelines.windows` is cheap to import.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .errors import DataError

if TYPE_CHECKING:
    import numpy as np

__all__ = ["flat_samples", "windows"]


def windows(series, length: int, horizon: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Cut a series into forecasting samples: each window of `length` consecutive values, and the
    single value `horizon` steps after the window's last one.

    `horizon=1` (the default) predicts the next value, as `--window N` does; `horizon=3` the value
    three steps after the window (not the next three values). Windows overlap and move by one
    step, in time order, so a series of `T` values gives `T - length - horizon + 1` samples.

    - `series`: a list, 1-D NumPy array, pandas Series or one-column DataFrame of numbers; or a
      2-D array or DataFrame of shape (T, k) for a multivariate series.
    - Returns `(X, y)` as float arrays: X of shape (n, length, 1), or (n, length, k); y of shape
      (n,), or (n, k) for a multivariate series (every variable at the target step, a multi-output
      regression: end the net with `dense(n_outputs)`).

    A sample's target is never inside its window, so no value leaks from the future; for a
    held-out score split the samples in time order (the last ones as the test set).

    >>> X, y = windows([1, 2, 3, 4, 5], length=3)
    >>> X.shape, X[:, :, 0].tolist(), y.tolist()
    ((2, 3, 1), [[1.0, 2.0, 3.0], [2.0, 3.0, 4.0]], [4.0, 5.0])
    >>> X, y = windows([1, 2, 3, 4, 5], length=2, horizon=2)   # [1, 2] -> 4, [2, 3] -> 5
    >>> X[:, :, 0].tolist(), y.tolist()
    ([[1.0, 2.0], [2.0, 3.0]], [4.0, 5.0])
    >>> windows([1, 2, 3], length=3)
    Traceback (most recent call last):
    ...
    netdsl.pipelines.errors.DataError: the series has 3 values: too short for length=3 and horizon=1 (it needs at least 4 values); use a shorter window

    Mistakes (a series too short, missing values, text, a length or horizon below 1) raise
    `DataError`, a `ValueError` that says what to do.
    """
    for name, value in (("length", length), ("horizon", horizon)):
        if not _whole(value) or value < 1:
            raise DataError(f"`{name}` must be a positive whole number of time steps, got {value!r}")
    values = _as_values(series)
    return make_windows(values, int(length), int(horizon), what="the series", length_name="length")


def make_windows(values: np.ndarray, length: int, horizon: int, *, what: str, length_name: str):
    """`windows` on checked float values of shape (T,) or (T, k); `what` names the series in errors."""
    import numpy as np

    missing = np.isnan(values).any(axis=1) if values.ndim == 2 else np.isnan(values)
    if missing.any():
        first = int(np.flatnonzero(missing)[0])
        raise DataError(
            f"{what} has {int(missing.sum())} missing value(s) (first at position {first}); "
            "fill them (say, by interpolation) or drop them first"
        )
    count = len(values) - length - horizon + 1
    if count < 1:
        detail = f"{length_name}={length}" + (f" and horizon={horizon}" if length_name == "length" or horizon != 1 else "")
        raise DataError(
            f"{what} has {len(values)} values: too short for {detail} "
            f"(it needs at least {length + horizon} values); use a shorter window"
        )
    single = values.ndim == 1
    table = values[:, np.newaxis] if single else values
    # (T - length + 1, k, length) views -> (n, length, k) copies
    cut = np.lib.stride_tricks.sliding_window_view(table, length, axis=0)[:count]
    X = np.ascontiguousarray(np.moveaxis(cut, -1, 1), dtype=float)
    y = table[length + horizon - 1 : length + horizon - 1 + count].astype(float)
    return X, (y[:, 0] if single else y)


def flat_samples(X):
    """Samples as flat rows, (n, ...) -> (n, features): windows before a `StandardScaler`. A net
    reshapes flat rows back to its `input` shape, so a pipeline can scale and then fit."""
    import numpy as np

    X = np.asarray(X)
    return X.reshape(len(X), -1) if X.ndim > 2 else X


def _whole(value) -> bool:
    import numbers

    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _as_values(series) -> np.ndarray:
    """Float values of shape (T,) or (T, k) from the accepted containers, or a DataError."""
    import numpy as np
    import pandas as pd

    if isinstance(series, pd.DataFrame):
        text = [str(c) for c in series.columns if not _numeric(series[c])]
        if text:
            raise DataError(f"the series must be numbers; not numeric: column(s) {', '.join(text)}; convert or drop them")
        values = series.to_numpy(dtype=float, na_value=np.nan)
        return values[:, 0] if values.shape[1] == 1 else values
    if isinstance(series, pd.Series):
        if not _numeric(series):
            raise DataError(f"the series must be numbers, got values of type {series.dtype}; convert them first")
        return series.to_numpy(dtype=float, na_value=np.nan)
    if isinstance(series, (str, bytes)):
        raise DataError("the series must be a sequence of numbers, not a string")
    array = np.asarray(series)
    if array.dtype.kind not in "iuf":
        raise DataError(
            f"the series must be numbers, got an array of {array.dtype} (such as {array.ravel()[:1].tolist()}); "
            "convert the values to numbers first"
        )
    if array.ndim == 0:
        raise DataError("the series is a single number; give a list or 1-D array of values in time order")
    if array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    if array.ndim > 2:
        raise DataError(f"the series must be 1-D (or 2-D: time x variables), got an array of shape {array.shape}")
    return array.astype(float)


def _numeric(column) -> bool:
    import pandas as pd

    return pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column)
