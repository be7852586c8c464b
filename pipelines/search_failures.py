"""Failed fits of a chunked search, told apart by candidate, without changing scikit-learn.

`GridSearchCV` keeps no fit's error in `cv_results_`: it reports failed fits in one
`FitFailedWarning` (or, when every fit it was given failed, a `ValueError`) whose message holds
each distinct error. A chunked search needs each candidate's errors (its row says why it failed)
and must go on past a chunk whose fits all failed (for scikit-learn that chunk is a whole search).
So, while it searches, its estimator is wrapped in a `FitGuard`:

- a fit that raises raises `FitFailed` instead, whose message names the candidate (its searched
  parameters) and holds the original error, so that `evaluate_chunk` reads each candidate's
  errors from scikit-learn's report (caught with `warnings.catch_warnings`, for this chunk only);
- a fit on no rows fits nothing, and scoring it fails, which gives `error_score`: a chunk whose
  fits all failed is evaluated once more on folds with no training rows (`NoTraining`), so that
  its candidates take their place in `cv_results_` (with `error_score`) without fitting again.

The guard is the searched estimator to scikit-learn in every other way: the same parameters
(`get_params`, `set_params`), tags and methods. Importing this module is cheap: scikit-learn and
NumPy load when a search runs.
"""

from __future__ import annotations

import json
import os
import re
import traceback
import warnings

from netdsl.pipelines.search_results import exception_text

__all__ = ["FitFailed", "FitGuard", "NoTraining", "evaluate_chunk"]

_MARKER = "netdsl-failed-fit:"


class FitFailed(Exception):
    """A candidate's fit failed during a search; the message is for `evaluate_chunk` to read and its
    cause is the estimator's own error."""


def _identity(params: dict, keys) -> str:
    """A candidate, as a string both the guard (in a worker) and the search can make."""
    return repr(sorted((key, repr(params.get(key))) for key in keys))


def _rows(X) -> int:
    shape = getattr(X, "shape", None)
    return int(shape[0]) if shape is not None and len(shape) else len(X)


class FitGuard:
    """`estimator` as a chunked search fits it (see the module docstring); `keys` are the searched
    parameters, which name a candidate in its errors."""

    def __init__(self, estimator, keys=()):
        self.estimator = estimator
        self.keys = tuple(keys)

    def get_params(self, deep=True):
        return self.estimator.get_params(deep=deep)

    def set_params(self, **params):
        self.estimator.set_params(**params)
        return self

    def __sklearn_clone__(self):
        from sklearn.base import clone

        return FitGuard(clone(self.estimator), self.keys)

    def __sklearn_tags__(self):
        return self.estimator.__sklearn_tags__()

    def __getattr__(self, name):  # predict, score, classes_, ...: the estimator's own
        if name.startswith("__") or name in ("estimator", "keys"):
            raise AttributeError(name)
        return getattr(self.estimator, name)

    def fit(self, X, y=None, **params):
        if _rows(X) == 0:  # a fold of `NoTraining`: nothing to fit; scoring fails (not fitted)
            return self
        try:
            self.estimator.fit(X, y, **params)
        except Exception as error:
            failure = {
                "candidate": _identity(self.estimator.get_params(deep=True), self.keys),
                "fit": os.urandom(6).hex(),  # every failed fit once in scikit-learn's report
                "error": traceback.format_exc(),
            }
            raise FitFailed(_MARKER + json.dumps(failure)) from error
        return self


class NoTraining:
    """The folds of the splitter `cv` with their test rows and no training rows."""

    def __init__(self, cv):
        self.cv = cv

    def get_n_splits(self, X=None, y=None, groups=None, **params):
        return self.cv.get_n_splits(X, y, groups, **params)

    def split(self, X, y=None, groups=None, **params):
        import numpy as np

        for _, test in self.cv.split(X, y, groups, **params):
            yield np.array([], dtype=int), test


def _failures(text: str) -> list[dict]:
    """The failed fits (candidate, error) that a report of scikit-learn's names, in its order."""
    found = []
    for match in re.finditer(re.escape(_MARKER) + r"(\{.*\})", text):
        try:
            found.append(json.loads(match.group(1)))
        except ValueError:  # pragma: no cover - the guard writes one JSON object per line
            continue
    return found


def evaluate_chunk(evaluate_candidates, chunk: list[dict], cv, n_splits: int, error_score):
    """Evaluate `chunk` (scikit-learn's `evaluate_candidates`, with `cv` for a chunk whose fits all
    failed); returns (results, errors), errors[i] being the formatted errors of the failed fits of
    candidate i, first fold first. Warns (FitFailedWarning) when a fit failed; passes on every other
    warning."""
    from sklearn.exceptions import FitFailedWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            results = evaluate_candidates(chunk)
            failed = [f for w in caught if issubclass(w.category, FitFailedWarning) for f in _failures(str(w.message))]
        except ValueError as error:  # every fit failed: scikit-learn did not keep the chunk's results
            failed = _failures(str(error))
            if len(failed) != len(chunk) * n_splits:
                raise
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # "Scoring failed": that is the point of NoTraining
                results = evaluate_candidates(chunk, cv=NoTraining(cv))
    for warning in caught:
        if not issubclass(warning.category, FitFailedWarning):
            warnings.warn_explicit(warning.message, warning.category, warning.filename, warning.lineno)
    keys = sorted({key for candidate in chunk for key in candidate})
    errors = [[f["error"] for f in failed if f["candidate"] == _identity(candidate, keys)] for candidate in chunk]
    if failed:
        warnings.warn(
            f"{len(failed)} of {len(chunk) * n_splits} fits of this chunk of candidates failed; their scores "
            f"are set to {error_score}. First error: {exception_text(failed[0]['error'])}",
            FitFailedWarning,
            stacklevel=2,
        )
    return results, errors
