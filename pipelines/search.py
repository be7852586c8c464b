"""Grid searches over a `.net` file's parameters, on one machine or a Dask cluster.

    >>> search_space("examples/digits_cnn.net")
    {'filters': [8, 16, 32], 'depth': [1, 2]}

`grid_search(net, X, y)` runs scikit-learn's `GridSearchCV` over the file's own space (every
`param NAME = V in [V1, ...]`, and the integers of `in range(a, b)`; a continuous `in uniform(a, b)`
or `loguniform(a, b)` is refused unless `param_grid` gives that param a list), with `param_grid`
entries added or overriding it, and returns the fitted search (`best_estimator_`, `best_params_`,
`cv_results_`):

    search = grid_search("examples/digits_cnn.net", X, y, {"epochs": [10, 20]}, cv=3, n_jobs=4,
                         results_path="search_results.csv", progress=True)

What it adds to `GridSearchCV`:

- **Mistakes before training.** A grid key that is neither a file param nor an estimator setting
  (with a close match and the file's params listed), an empty grid or an empty list of values, and
  a value the net cannot take (each value is checked with `netdsl.dsl.resolve`, each setting with
  the estimator's own checks) raise `SearchError` before any fit starts.
- **Results are not lost.** Candidates are evaluated in chunks (as many as there are parallel
  workers, one when sequential). After each chunk the rows so far (params, mean/std/per-fold test
  scores, fit times, the error of a failed fit) are written to `results_path` (CSV, written to a
  temporary file and renamed over it, so a failed write keeps the previous chunks' rows), a
  progress bar advances (`progress=True`, rich, on stderr) or `progress(done, total, row)` is
  called. While a search writes `results_path` it holds a lock on it (a hidden `.NAME.lock` file
  beside it, through `filelock`): a second search given the same file, in any process, is refused
  with a SearchError rather than mixing its rows in. A candidate whose fit raises gets
  `error_score` (NaN by default, with a FitFailedWarning) and its row keeps the error message; a
  chunk whose fits all fail does not stop the search (scikit-learn would raise there, since for it
  that chunk is the whole search): only a search where every fit failed raises. Both need the
  fits' errors, which `cv_results_` drops: while it searches, the estimator is wrapped so that its
  failed fits name their candidate in scikit-learn's report of them, which is read for each chunk
  (`netdsl.pipelines.search_failures`; scikit-learn itself is not changed). The CSV is
  started afresh by each search. If a worker process dies, `SearchError` says how many candidates
  finished and where their rows are.
- **Parallel on one machine: `n_jobs`.** Candidate fits run in threads of this process by default
  (`workers="threads"`): netdsl's fits seed and build one at a time and run their epochs at once
  (`netdsl.estimators.seeding`), each with the numbers it gives alone; no workers to start, the
  data not copied. With `workers="processes"` they run in worker processes started by joblib's
  loky backend: better for nets on Keras's standard path (which train one at a time among
  threads), and a crash in one fit leaves the others. Loky never forks the running
  interpreter: it starts a fresh Python (fork + exec, start method "loky"), so TensorFlow, already
  imported here, is not inherited half-initialised (forking after TensorFlow is imported
  deadlocks). Each worker gets one thread (`OMP_NUM_THREADS`, `TF_NUM_INTRAOP_THREADS` and
  `TF_NUM_INTEROP_THREADS` set to 1 in its environment), so N workers use N cores without
  oversubscription. Workers stay up between chunks and, for five minutes, between searches.
  Scripts that call `grid_search(..., n_jobs=N, workers="processes")` must guard their entry point
  (`if __name__ == "__main__":`), since the workers import the main module; the `netdsl` console
  script is safe.
- **Beyond one machine: `scheduler`.** An address (`"tcp://10.0.0.5:8786"`) or a
  `distributed.Client` sends the candidate fits to a Dask cluster through joblib's Dask backend;
  the refit of the best candidate runs here. To set up a cluster:

      dask scheduler                                   # on one host; it listens on tcp://HOST:8786
      dask worker tcp://HOST:8786 --nthreads 1         # on each other host (several per host is fine)
      netdsl search net.net --data digits --scheduler tcp://HOST:8786
      # or, in Python: grid_search(net, X, y, scheduler="tcp://HOST:8786")

  Every worker needs netdsl (and TensorFlow) installed, in versions matching this machine's. The
  `.net` program travels as source text, so the file need not exist on the workers; the data is
  sent from here. `--nthreads 1` gives one fit per worker process, each free to use the host's
  cores; start one worker per core instead with `--nworkers N --nthreads 1` if you prefer.

The command `netdsl search` is `netdsl.pipelines.commands.search`; the rows and the results file
are kept by `netdsl.pipelines.search_results`, the workers started by
`netdsl.pipelines.search_workers`. Importing this module is cheap (no TensorFlow, Keras, Dask or
scikit-learn): `netdsl --help` imports it.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Any, Callable

from netdsl.dsl import NetError, compat, loads, read_source
from netdsl.dsl.errors import did_you_mean
from netdsl.pipelines.errors import SearchError
from netdsl.pipelines.search_failures import FitFailed, FitGuard, evaluate_chunk
from netdsl.pipelines.search_results import Reporter, candidate_row, results_lock
from netdsl.pipelines.search_workers import backend, effective_workers, worker_died

if TYPE_CHECKING:
    from netdsl.dsl import specs

__all__ = [
    "ChunkedGridSearchCV", "SearchError", "distribution_text", "full_grid", "grid_search", "results_lock", "search_space",
]


# ---- the space ------------------------------------------------------------------------------------


def read_net(net) -> specs.Net:
    """The validated program of `net`: a Net spec, a path to a `.net` file, or source text."""
    from netdsl.dsl import specs

    if isinstance(net, specs.Net):
        return net
    text, filename = read_source(net)
    return loads(text, filename=filename)


MAX_LISTED = 1_000_000  # integers of one `range` param that a search lists (as a list, like Python's)


def search_space(net) -> dict[str, Any]:
    """The file's search space, in file order: a list for `in [V1, ...]` and for `in range(a, b)`
    (its integers: `range(1, 5)` is `[1, 2, 3, 4]`, the end excluded as in Python), a scipy.stats
    distribution for `in uniform(a, b)` (`uniform(loc=a, scale=b - a)`) and `in loguniform(a, b)`.
    It is a `param_grid` when every entry is a list, and always `param_distributions` of
    `RandomizedSearchCV` and `HalvingRandomSearchCV`, which take it as it is."""
    space = {}
    for param in read_net(net).params:
        span = param.range
        if span is not None and span.kind == "range" and len(range(span.low, span.high, span.step or 1)) > MAX_LISTED:
            raise SearchError(
                f"`{param.name}` in range({span.low}, {span.high}{f', {span.step}' if span.step else ''}) holds "
                f"{len(range(span.low, span.high, span.step or 1)):,} integers, more than a search lists "
                f"({MAX_LISTED:,}); give it a larger step or narrower bounds"
            )
        found = param.space
        if isinstance(found, list):
            if found:
                space[param.name] = found
        elif found is not None:
            space[param.name] = _distribution(found)
    return space


def _distribution(found: specs.ParamRange):
    """The scipy.stats distribution of a continuous range (scipy is imported only for one)."""
    from scipy import stats

    if found.kind == "loguniform":
        return stats.loguniform(found.low, found.high)
    return stats.uniform(loc=found.low, scale=found.high - found.low)


def _is_distribution(values) -> bool:
    return hasattr(values, "rvs")


def distribution_text(values) -> str:
    """A scipy distribution in the words of a `.net` file: `loguniform(0.0001, 0.1)`."""
    low, high = (plain_value(bound) for bound in values.support())
    name = getattr(getattr(values, "dist", None), "name", type(values).__name__)
    name = "loguniform" if name == "reciprocal" else name
    return f"{name}({low:g}, {high:g})" if isinstance(low, float) else f"{name}({low}, {high})"


def plain_value(value):
    """NumPy scalars as Python ones (the specs take `int`, not `np.int64`)."""
    item = getattr(value, "item", None)
    if item is not None and type(value).__module__ == "numpy" and getattr(value, "ndim", 1) == 0:
        return item()
    return value


def _values(key: str, values, sampled: bool = False):
    if sampled and _is_distribution(values):
        return values
    if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
        raise SearchError(f"the grid entry `{key}` must be a list of values to try, got {values!r}; write [{values!r}]")
    values = [plain_value(v) for v in values]
    if not values:
        raise SearchError(f"the grid entry `{key}` has no values to try; give it at least one")
    return values


def full_grid(spec: specs.Net, param_grid, *, sampled: bool = False) -> dict[str, Any]:
    """The file's space with `param_grid`'s entries added or overriding it; a SearchError when it is
    empty or an entry is not a non-empty list of values. `sampled`: the candidates are drawn (a
    random or halving search), so a continuous range stays a distribution; for a grid (the default)
    one that `param_grid` does not override is refused: a grid cannot try every number."""
    given = param_grid if hasattr(param_grid, "keys") else {}
    grid = {}
    for key, values in search_space(spec).items():
        if key in given:
            grid[key] = None  # overridden below, in the file's order
            continue
        if _is_distribution(values) and not sampled:
            raise SearchError(
                f"`{key}` is drawn from {distribution_text(values)}, a continuous range: a grid cannot try "
                f"every value. Search it with `--strategy random` or `--strategy halving` (in Python, "
                f"strategy=\"random\" or \"halving\"), or give `{key}` a list of values to try (`--grid "
                f"{key}=V1,V2`, param_grid={{\"{key}\": [...]}}, or `in [V1, V2]` in the file)"
            )
        grid[key] = _values(key, values, sampled)
    if param_grid is not None:
        if not hasattr(param_grid, "items"):
            raise SearchError(
                f"param_grid must be a dict of name -> list of values, got {type(param_grid).__name__}"
            )
        for key, values in param_grid.items():
            grid[str(key)] = _values(str(key), values, sampled)
    if not grid:
        raise SearchError(
            f"nothing to search: the net `{spec.name}` declares no values to try (`param NAME = V in [V1, V2]`) "
            "and no grid was given (param_grid, or --grid NAME=V1,V2)"
        )
    return grid


# ---- the estimator and checks of the grid -----------------------------------------------------------


def _is_classification(y) -> bool:
    """Classes per scikit-learn's `type_of_target` (binary, multiclass); floats that are whole numbers
    count as classes only if `netdsl.pipelines.data.infer_task` agrees (so a count with hundreds of
    values is a quantity)."""
    import numpy as np
    from sklearn.utils.multiclass import type_of_target

    from netdsl.pipelines.data import infer_task

    kind = type_of_target(y)
    if kind not in ("binary", "multiclass"):
        return False
    if np.asarray(y).dtype.kind == "f":
        return infer_task(y) == "classification"
    return True


def default_estimator(net, y):
    from netdsl.estimators import NetClassifier, NetRegressor

    return (NetClassifier if _is_classification(y) else NetRegressor)(net, verbose=0)


def _is_net(estimator) -> bool:
    base = sys.modules.get("netdsl.estimators.base")  # imported already if `estimator` is one
    return base is not None and isinstance(estimator, base.BaseNet)


def net_step(estimator) -> tuple[str, Any]:
    """(prefix of its parameters, the netdsl estimator): ("", est) for a netdsl estimator itself,
    ("net__", step) for a pipeline step named `net`; ("", None) when there is none."""
    if _is_net(estimator):
        return "", estimator
    found = [(key, value) for key, value in estimator.get_params(deep=True).items() if _is_net(value)]
    if len(found) == 1:
        return found[0][0] + "__", found[0][1]
    return "", None


def _diagnostic(error: NetError) -> str:
    first = error.diagnostics[0]
    help = (first.help or "").split(" (with parameters set to")[0]
    where = f" (line {first.span.line})" if getattr(first, "span", None) is not None else ""
    return f"{first.title}{where}" + (f": {help}" if help else "")


def _values_to_check(values) -> list:
    """The values of a grid entry to check before training: a list's all; for a distribution, one
    draw (seeded: almost surely not a whole number, as a search's draws) and its lowest and highest."""
    if not _is_distribution(values):
        return values
    low, high = values.support()
    return [float(values.rvs(random_state=0)), float(low), float(high)]


def check_grid(grid: dict, spec: specs.Net, estimator) -> dict:
    """The grid with keys as the estimator takes them, each key and value checked; SearchError otherwise."""
    from sklearn.base import clone

    from netdsl.dsl import resolve

    prefix, net_estimator = net_step(estimator)
    names = set(estimator.get_params(deep=True))
    file_params = list(spec.param_defaults)
    settings = sorted(set(compat.param_names(type(net_estimator))) - {"net"}) if net_estimator is not None else []
    checked = {}
    for key, values in grid.items():
        local = key[len(prefix):] if prefix and key.startswith(prefix) else key
        if net_estimator is not None and local in file_params:
            drawn = _is_distribution(values)
            for value in _values_to_check(values):
                try:
                    resolve(spec, {local: value})
                except NetError as error:
                    what = f"`{local}`, drawn from {distribution_text(values)}," if drawn else f"`{local}`"
                    hint = (" (a continuous range gives any number; for integers write `in range(low, high)`)"
                            if drawn and isinstance(value, float) else "")
                    raise SearchError(f"the value {value!r} of {what} does not fit the net: {_diagnostic(error)}{hint}") from None
            checked[prefix + local] = values
        elif net_estimator is not None and local in settings:
            for value in _values_to_check(values):
                try:
                    clone(net_estimator).set_params(**{local: value})._settings(spec)
                except (ValueError, TypeError) as error:
                    raise SearchError(f"the value {value!r} of the setting `{local}` is not valid: {error}") from None
            checked[prefix + local] = values
        elif key in names and key != "net":
            checked[key] = values  # another parameter of a pipeline
        else:
            hint = did_you_mean(local, file_params + settings)
            raise SearchError(
                f"unknown grid key `{key}`" + (f": {hint}" if hint else ".")
                + f" The net `{spec.name}` has the params: {', '.join(file_params) or 'none'}; "
                f"the estimator's settings are: {', '.join(settings) or 'none'}"
            )
    return checked


# ---- the search ----------------------------------------------------------------------------------------

_SEARCH_CLASS = None


def _search_class():
    """`ChunkedGridSearchCV`, defined on first use so that importing this module stays cheap."""
    global _SEARCH_CLASS
    if _SEARCH_CLASS is not None:
        return _SEARCH_CLASS
    from numbers import Integral

    import numpy as np
    from sklearn.model_selection import GridSearchCV

    class ChunkedGridSearchCV(GridSearchCV):
        """`GridSearchCV` that evaluates candidates in chunks and reports each chunk as it finishes.

        Parameters beyond GridSearchCV's: `results_path` (a CSV file, rewritten from the first
        chunk on, then appended to), `progress` (True: a rich bar on stderr; a callable:
        `progress(done, total, row)` per finished candidate) and `chunk_size` (candidates per chunk;
        default: the number of parallel workers, 1 when sequential).

        After `fit`, `search_rows_` holds the rows in the order they finished, each with the error
        of its candidate's failed fits (the estimator is wrapped while it searches to tell them
        apart: `netdsl.pipelines.search_failures`). A progress callback is not pickled
        (scikit-learn sends the search object with every fit to the workers)."""

        _parameter_constraints: dict = {
            **compat.parameter_constraints(GridSearchCV),
            "results_path": [str, os.PathLike, None],
            "progress": ["boolean", callable, None],
            "chunk_size": [compat.interval(Integral, 1, None, closed="left"), None],
        }

        def __init__(
            self,
            estimator,
            param_grid,
            *,
            scoring=None,
            n_jobs=None,
            refit=True,
            cv=None,
            verbose=0,
            pre_dispatch="2*n_jobs",
            error_score=np.nan,
            return_train_score=False,
            results_path=None,
            progress=None,
            chunk_size=None,
        ):
            super().__init__(
                estimator, param_grid, scoring=scoring, n_jobs=n_jobs, refit=refit, cv=cv, verbose=verbose,
                pre_dispatch=pre_dispatch, error_score=error_score, return_train_score=return_train_score,
            )
            self.results_path = results_path
            self.progress = progress
            self.chunk_size = chunk_size

        def __getstate__(self):
            # scikit-learn sends the search itself (`caller`) with every fit to the workers: a
            # progress callback (often a closure over a console) stays here
            state = super().__getstate__()
            if callable(state.get("progress")):
                state["progress"] = None
            return state

        def fit(self, X, y=None, **params):
            return _fit_guarded(self, super().fit, X, y, params)

        def _run_search(self, evaluate_candidates):
            _run_chunks(self, evaluate_candidates)

    ChunkedGridSearchCV.__module__ = __name__
    ChunkedGridSearchCV.__qualname__ = "ChunkedGridSearchCV"
    _SEARCH_CLASS = ChunkedGridSearchCV
    return ChunkedGridSearchCV


def _run_chunks(search, evaluate_candidates) -> None:
    """`ChunkedGridSearchCV._run_search`: the candidates chunk by chunk, each chunk's rows reported
    as it finishes; a SearchError when every fit of every candidate failed."""
    from sklearn.model_selection import ParameterGrid

    candidates = list(ParameterGrid(search.param_grid))
    total = len(candidates)
    size = search.chunk_size or effective_workers(search.n_jobs)
    search.search_rows_ = []
    search.n_candidates_ = total
    all_failed = 0
    n = search.n_splits_
    with Reporter(total, search.results_path, search.progress) as reporter:
        for start in range(0, total, size):
            chunk = candidates[start:start + size]
            if search.error_score == "raise":  # a failed fit stops the search: there are no errors to keep
                results, errors = evaluate_candidates(chunk), [[] for _ in chunk]
            else:
                results, errors = evaluate_chunk(evaluate_candidates, chunk, search._folds, n, search.error_score)
            rows = [candidate_row(results, start + i, errors[i], n) for i in range(len(chunk))]
            all_failed += sum(len(failed) == n for failed in errors)
            search.search_rows_.extend(rows)
            reporter.add(rows)
    if total and all_failed == total:  # as GridSearchCV does when every fit failed
        where = f"; their rows are in {search.results_path}" if search.results_path is not None else ""
        raise SearchError(
            f"every fit of all {total} candidates failed (first error: {search.search_rows_[0]['error']}){where}",
            finished=total, total=total, rows=search.search_rows_, results_path=search.results_path,
        )


def _fit_guarded(search, fit, X, y, params):
    """`GridSearchCV.fit` (`fit`) with the estimator in a `FitGuard` while it searches (see
    `netdsl.pipelines.search_failures`); the refitted best estimator is the estimator itself, and
    an error of the refit is the estimator's own."""
    from sklearn.base import is_classifier
    from sklearn.model_selection import ParameterGrid, check_cv

    estimator = search.estimator
    search._folds = check_cv(search.cv, y, classifier=is_classifier(estimator))
    if search.error_score == "raise":
        return fit(X, y, **params)
    keys = sorted({key for candidate in ParameterGrid(search.param_grid) for key in candidate})
    search.estimator = FitGuard(estimator, keys)
    try:
        fit(X, y, **params)
    except FitFailed as failed:  # the refit of the best candidate
        raise failed.__cause__ from None
    finally:
        search.estimator = estimator
    if isinstance(getattr(search, "best_estimator_", None), FitGuard):
        search.best_estimator_ = search.best_estimator_.estimator
    return search


def __getattr__(name):  # PEP 562: `from netdsl.pipelines.search import ChunkedGridSearchCV` (and pickling)
    if name == "ChunkedGridSearchCV":
        return _search_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def remote_net(estimator):
    """The estimator with its `net` as source text, which travels with it to other machines."""
    from sklearn.base import clone

    prefix, net_estimator = net_step(estimator)
    if net_estimator is None or net_estimator.net is None:
        return estimator
    text, _ = read_source(net_estimator.net)
    return clone(estimator).set_params(**{prefix + "net": text})


def with_seed(estimator, random_state):
    """`estimator` with `random_state` for its fits (on its net step), unless it has its own (or
    none is given)."""
    prefix, net_estimator = net_step(estimator)
    if random_state is None or getattr(net_estimator, "random_state", None) is not None:
        return estimator
    from sklearn.base import clone

    return clone(estimator).set_params(**{prefix + "random_state": random_state})


def grid_search(
    net,
    X,
    y,
    param_grid: dict | None = None,
    cv=5,
    scheduler=None,
    n_jobs: int | None = None,
    *,
    workers: str = "threads",
    estimator=None,
    results_path=None,
    progress: bool | Callable | None = None,
    random_state=None,
    **search_kwargs,
):
    """Search the `.net` file's space with cross-validation; returns the fitted `ChunkedGridSearchCV`.

    net
        A path to a `.net` file, its source text, or a `netdsl.dsl` Net spec.
    X, y
        The data; `y` decides the default estimator: `NetClassifier` for class labels (per
        scikit-learn's `type_of_target`), else `NetRegressor`.
    param_grid
        Entries added to, or overriding, the file's space: file params or estimator settings
        (`{"epochs": [10, 20], "filters": [8, 64]}`).
    cv
        Folds (an int; stratified for classifiers) or any scikit-learn splitter.
    scheduler
        A Dask scheduler address (`"tcp://HOST:8786"`) or a `distributed.Client`: the fits run on
        that cluster (see the module docstring for setting one up).
    n_jobs, workers
        Candidate fits at once on this machine (-1: one per core), in threads of this process
        (`workers="threads"`) or worker processes (`"processes"`; the module docstring says which
        when). With a scheduler, at most this many fits at a time (default: all the cluster's threads).
    estimator
        The estimator to search (default: `NetClassifier(net)` or `NetRegressor(net)`): a netdsl
        estimator with your settings, or a pipeline with one as a step (plain file-param keys
        are then prefixed with the step's name).
    results_path
        A CSV file that receives each candidate's row as its chunk finishes.
    progress
        True: a progress bar on stderr; a callable: `progress(done, total, row)` per candidate.
    random_state
        The seed of every candidate's fit, for an estimator without its own (as `tune`'s).
    **search_kwargs
        Passed to GridSearchCV: `scoring`, `refit`, `error_score`, `return_train_score`, ...

    Raises `SearchError` before any training for a bad grid, and when a worker process dies (its
    message says how many candidates finished and where their results are).
    """
    spec = read_net(net)
    grid = full_grid(spec, param_grid)
    estimator = with_seed(estimator if estimator is not None else default_estimator(net, y), random_state)
    checked = check_grid(grid, spec, estimator)
    if scheduler is not None:
        estimator = remote_net(estimator)
    search = _search_class()(
        estimator, checked, cv=cv, n_jobs=n_jobs, results_path=results_path, progress=progress, **search_kwargs
    )
    with backend(scheduler, n_jobs, workers) as where:
        try:
            search.fit(X, y)
        except Exception as error:
            if not worker_died(error):
                raise
            rows = list(getattr(search, "search_rows_", []))
            total = getattr(search, "n_candidates_", 0)
            kept = (f"their results are in {results_path}" if results_path is not None and rows
                    else "pass results_path (--out) to keep results as they finish" if results_path is None
                    else "no results were written")
            detail = str(error).strip().splitlines()[0] if str(error).strip() else ""
            raise SearchError(
                f"the search stopped: a worker process died ({type(error).__name__}"
                + (f": {detail}" if detail else "") + f"); {len(rows)} of {total} candidates finished; {kept}",
                finished=len(rows), total=total, rows=rows, results_path=results_path,
            ) from error
    search.where_ = where  # where the fits ran, in words
    return search
