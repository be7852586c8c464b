"""The errors of the workflows, in a module of their own so that the modules that raise them need
not import each other: `data` and `series` (which cuts windows for `data`) raise `DataError`, the
search and its results and workers modules `SearchError`, the picture of a search `MissingFileError`
for a results file that is not there."""

from __future__ import annotations

from netdsl.dsl.errors import NetdslError

__all__ = ["DataError", "MissingFileError", "SearchError"]


class DataError(NetdslError, ValueError):
    """Data that cannot be used as given; the message says what to do instead."""

    code = "D101"


class MissingFileError(DataError, FileNotFoundError):
    """A file named by the user that is not there: a `DataError` that is still the
    `FileNotFoundError` it was before every netdsl error had a common root."""


class SearchError(NetdslError, ValueError):
    """A search that cannot start (bad grid) or that stopped (a worker died, every fit failed).

    When it stopped, `finished` and `total` count candidates, `rows` holds the finished ones'
    results and `results_path` is where they were written (None if nowhere)."""

    code = "S101"

    def __init__(self, message: str, *, finished: int = 0, total: int = 0, rows=(), results_path=None):
        super().__init__(message)
        self.finished = finished
        self.total = total
        self.rows = list(rows)
        self.results_path = results_path
