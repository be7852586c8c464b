"""Tables read from a CSV or Parquet file, bounded and checked: their size before they are parsed
(a small compressed file may unpack to gigabytes), and what their feature columns may hold:
numbers, or text that is one-hot encoded (or a net's `input text`). Other kinds are made numbers
where that is what they mean, and refused otherwise: encoded as their text they would mean
nothing to the net."""

from __future__ import annotations

import io
from pathlib import Path

from .errors import DataError

__all__ = ["check_parquet_size", "plain_columns", "table_text"]

# A DataFrame takes about ten times the bytes of the text it is parsed from: at most half the memory.
_TEXT_SHARE_OF_MEMORY = 20


def _text_limit() -> int | None:
    """The most bytes of table text read here: 1/20 of this machine's memory (None: not said)."""
    from netdsl.dsl.shapes import memory_limit  # through the package, where a test may replace it

    limit = memory_limit()
    return None if limit is None else limit // _TEXT_SHARE_OF_MEMORY


def table_text(path: Path, compression: str | None, source: str):
    """What pandas reads for the table at `path`, within `_text_limit`: the file itself (its size
    checked), or the text of a gzip, bzip2 or xz file, decompressed once here and counted as it
    comes, so that a small compressed file cannot unpack to gigabytes in memory. A zip is counted
    the same way, then read by pandas (which refuses one of several members)."""
    import bz2
    import gzip
    import lzma
    import zipfile

    limit = _text_limit()
    openers = {"gzip": gzip.open, "bzip2": bz2.open, "xz": lzma.open}
    if compression in openers:
        text = _read_within(openers[compression](path, "rb"), limit, source)
        return io.BytesIO(text)
    if limit is None:
        return path
    if compression == "zip":
        with zipfile.ZipFile(path) as archive:
            size = 0
            for info in archive.infolist():
                size += _read_within(archive.open(info), limit - size, source, keep=False)
    elif path.stat().st_size > limit:
        _too_large(source, limit)
    return path


def _read_within(stream, limit: int | None, source: str, keep: bool = True):
    """The bytes `stream` yields (without `keep`: how many), read 1 MiB at a time; DataError once
    past `limit`."""
    chunks, size = [], 0
    with stream:
        while chunk := stream.read(2**20):
            size += len(chunk)
            if limit is not None and size > limit:
                _too_large(source, limit)
            if keep:
                chunks.append(chunk)
    return b"".join(chunks) if keep else size


def _too_large(source: str, limit: int):
    raise DataError(
        f"`{source}` holds more than {limit / 2**20:,.0f} MiB of text (1/20 of this machine's "
        "memory: a parsed table takes ten times its text); use a smaller sample of the data"
    )


def check_parquet_size(path: Path, source: str) -> None:
    """Refuse a Parquet file whose footer says its table unpacks past `_text_limit` (its
    uncompressed bytes, or 8 bytes a value), before reading any of it. Unchecked without pyarrow."""
    limit = _text_limit()
    try:
        import pyarrow.parquet as pq
    except ImportError:
        return
    if limit is None:
        return
    try:
        meta = pq.ParquetFile(path).metadata
    except Exception:  # a damaged file: reading it says so
        return
    size = max(sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups)),
               8 * meta.num_rows * meta.num_columns)
    if size > limit:
        raise DataError(
            f"`{source}` unpacks to {size / 2**20:,.0f} MiB, more than {limit / 2**20:,.0f} MiB (1/20 of "
            "this machine's memory, as for CSV text); use a smaller sample of the data"
        )

# (what a column holds, advice) for each kind refused, and the test of a column's values
_REFUSED = (
    ("dates or durations", "turn them into numbers first (say, day of year, or seconds since a start)"),
    ("lists or records", "give each value its own column first"),
)


def plain_columns(features, source: str):
    """`features` (a DataFrame) with Decimal columns (Parquet's) as floats; DataError for a column
    of dates or durations, or of lists or records (Parquet's nested columns)."""
    import decimal

    import numpy as np
    import pandas as pd

    def first(column):
        values = features[column].dropna()
        return values.iloc[0] if len(values) else None

    tests = (
        lambda c: pd.api.types.is_datetime64_any_dtype(features[c]) or pd.api.types.is_timedelta64_dtype(features[c]),
        lambda c: features[c].dtype == object and isinstance(first(c), (list, tuple, dict, np.ndarray)),
    )
    for (kind, advice), test in zip(_REFUSED, tests):
        bad = [c for c in features.columns if test(c)]
        if bad:
            raise DataError(f"the feature column(s) {', '.join(f'`{c}`' for c in bad)} of `{source}` hold {kind}; {advice}")
    decimals = [c for c in features.columns if features[c].dtype == object and isinstance(first(c), decimal.Decimal)]
    return features.astype({c: float for c in decimals}) if decimals else features
