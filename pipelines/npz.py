"""`.npz` archives of arrays (`X` and `y`) read safely: no pickled objects ever loaded, the unpacked
size checked against this machine's memory before anything is read, every problem a `DataError`
that names the file. `netdsl.pipelines.data.load_data` wraps the arrays in a `Dataset`."""

from __future__ import annotations

from pathlib import Path

from netdsl.dsl.errors import error_reason

from .errors import DataError

__all__ = ["check_unpacked_size", "read_npz"]


def check_unpacked_size(archive, members: list[str], source: str) -> None:
    """Refuse arrays whose unpacked size exceeds this machine's memory before reading any of them
    (`netdsl.dsl.files.unpacked_size_problem`)."""
    from netdsl.dsl.files import unpacked_size_problem

    problem = unpacked_size_problem(archive, members)
    if problem is not None:
        raise DataError(f"the arrays of `{source}` {problem}; use a smaller sample of the data")


def read_npz(path: Path, source: str, has_target: bool) -> tuple:
    """(X, y) of the .npz archive at `path` (y None without `has_target`), checked: both arrays
    present, no pickled objects, no NaN, one label per sample; every problem a DataError."""
    import zipfile

    import numpy as np

    try:  # allow_pickle=False: an object array (a pickle) in the file is refused, never run
        archive = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as error:
        raise DataError(f"cannot read `{source}` as an .npz archive of arrays ({error_reason(error)}); save it with np.savez") from None
    if not hasattr(archive, "files"):
        raise DataError(f"`{source}` holds a single array, not an .npz archive; save it with np.savez(path, X=X, y=y)")
    with archive:
        keys = list(archive.files)
        needed = ["X", "y"] if has_target else ["X"]
        absent = [k for k in needed if k not in keys]
        if absent:
            names = " and ".join(f"`{k}`" for k in absent)
            raise DataError(
                f"`{source}` has no array named {names} (it has: {', '.join(keys) or 'no arrays'}); "
                f"save the features as `X` and the labels as `y`: np.savez(path, X=X, y=y)"
            )
        check_unpacked_size(archive.zip, [f"{k}.npy" for k in needed], source)
        try:
            X = archive["X"]
            y = archive["y"] if has_target else None
        except ValueError as error:  # object arrays need pickle, which we never load
            if "pickle" in str(error):
                raise DataError(
                    f"the arrays of `{source}` hold Python objects, which are read by unpickling (running "
                    "code from the file), which netdsl never does; save plain numeric or string arrays"
                ) from None
            raise DataError(f"cannot read the arrays of `{source}` ({error_reason(error)}); is the file cut short?") from None
        except (OSError, EOFError, zipfile.BadZipFile) as error:  # a damaged member (CRC, truncated)
            raise DataError(f"cannot read the arrays of `{source}` ({error_reason(error)}); is the file cut short?") from None
    if X.ndim == 0:
        raise DataError(f"the array `X` of `{source}` is a single value; it needs one row per sample")
    _check_features(X, source)
    if X.dtype.kind in "fc" and np.isnan(X).any():
        raise DataError(f"the array `X` of `{source}` has {int(np.isnan(X).sum())} missing (NaN) value(s); drop or fill them first")
    if y is not None:
        if y.ndim == 0 or len(y) != len(X):
            raise DataError(
                f"`X` and `y` of `{source}` disagree: {len(X)} samples in `X` but "
                f"{'a single value' if y.ndim == 0 else len(y)} in `y`; they need one label per sample"
            )
        if y.dtype.kind in "fc" and np.isnan(y).any():
            rows = np.flatnonzero(np.isnan(y).reshape(len(y), -1).any(axis=1))
            raise DataError(
                f"the target `y` of `{source}` has {len(rows)} missing (NaN) value(s) "
                f"(first in sample {rows[0]}); drop or fill those samples first"
            )
        if y.ndim == 2 and y.shape[1] == 1:  # one label a row: 1-D, as every later step expects
            y = y.ravel()
    return X, y


def _check_features(X, source: str) -> None:
    """Refuse feature arrays no net reads: structured records, complex numbers, a single number
    per sample (1-D; an array of texts stays, for an `input text` net)."""
    if X.dtype.names is not None:
        raise DataError(f"the array `X` of `{source}` is a structured array (named fields); save a plain 2-D array of numbers")
    if X.dtype.kind == "c":
        raise DataError(f"the array `X` of `{source}` holds complex numbers; save their real and imaginary parts as columns")
    if X.ndim == 1 and X.dtype.kind in "biuf":
        raise DataError(f"the array `X` of `{source}` is 1-D; save one row per sample, shape (n, features): X.reshape(-1, 1)")
