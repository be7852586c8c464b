"""What a table's feature columns may hold, read from a CSV or Parquet file: numbers, or text that
is one-hot encoded (or a net's `input text`). Other kinds are made numbers where that is what they
mean, and refused otherwise: encoded as their text they would mean nothing to the net."""

from __future__ import annotations

from .errors import DataError

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
