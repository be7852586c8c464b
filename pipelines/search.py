"""Grid searches over a `.net` file's parameters, on one machine or a Dask cluster.

    >>> search_space("examples/digits_cnn.net")
    {'filters': [8, 16, 32], 'depth': [1, 2]}

`grid_search(net, X, y)` runs scikit-learn's `GridSearchCV` over the file's own space (every
`param NAME = V in [V1, ...]`), with `param_grid` entries added or overriding it, and returns the
fitted search (`best_estimator_`, `best_params_`, `cv_results_`):

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
  with a SearchError rather than mixing its rows in. A candidate whose fit raises gets `error_score` (NaN by default, with a warning) and its
  row keeps the error message; a chunk whose fits all fail does not stop the search (scikit-learn
  would raise there, since for it that chunk is the whole search): only a search where every fit
  failed raises. Both need the fits' errors, which `cv_results_` drops: on first use this module
  wraps scikit-learn's private `_warn_or_raise_about_fit_failures` so that it hands them over while
  a chunked search evaluates a chunk in this thread (any other search, nested ones included, sees
  the function unchanged; a scikit-learn without it gives rows without messages). The CSV is
  started afresh by each search. If a worker process dies, `SearchError` says how many candidates
  finished and where their rows are.
- **Parallel on one machine: `n_jobs`.** Candidate fits run in worker processes started by joblib's
  loky backend. Loky never forks the running interpreter: it starts a fresh Python (fork + exec,
  start method "loky"), so TensorFlow, already imported here, is not inherited half-initialised
  (forking after TensorFlow is imported deadlocks). Each worker gets one thread
  (`OMP_NUM_THREADS`, `TF_NUM_INTRAOP_THREADS` and `TF_NUM_INTEROP_THREADS` set to 1 in its
  environment), so N workers use N cores without oversubscription. Workers stay up between chunks
  and, for five minutes, between searches. Scripts that call `grid_search(..., n_jobs=N)` must
  guard their entry point (`if __name__ == "__main__":`), since the workers import the main
  module; the `netdsl` console script is safe.
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

Importing this module is cheap (no TensorFlow, Keras, Dask or scikit-learn): the command line
imports it for every command.
"""

from __future__ import annotations

import contextlib
import math
import os
import sys
import threading
import time
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from netdsl.dsl import NetError, load, loads, read_source
from netdsl.dsl.errors import NetdslError, did_you_mean

if TYPE_CHECKING:
    from netdsl.dsl import specs

__all__ = ["ChunkedGridSearchCV", "SearchError", "grid_search", "register", "search_space"]


class SearchError(NetdslError, ValueError):
    """A search that cannot start (bad grid) or that stopped (a worker died, every fit failed).

    When it stopped, `finished` and `total` count candidates, `rows` holds the finished ones'
    results and `results_path` is where they were written (None if nowhere)."""

    def __init__(self, message: str, *, finished: int = 0, total: int = 0, rows=(), results_path=None):
        super().__init__(message)
        self.finished = finished
        self.total = total
        self.rows = list(rows)
        self.results_path = results_path


# ---- the space ------------------------------------------------------------------------------------


def _spec(net) -> specs.Net:
    """The validated program of `net`: a Net spec, a path to a `.net` file, or source text."""
    from netdsl.dsl import specs

    if isinstance(net, specs.Net):
        return net
    text, filename = read_source(net)
    return loads(text, filename=filename)


def search_space(net) -> dict[str, list]:
    """The file's search space as a `param_grid`: every `param NAME = V in [V1, ...]`, in file order."""
    return {p.name: list(p.values) for p in _spec(net).params if p.values}


def _plain(value):
    """NumPy scalars as Python ones (the specs take `int`, not `np.int64`)."""
    item = getattr(value, "item", None)
    if item is not None and type(value).__module__ == "numpy" and getattr(value, "ndim", 1) == 0:
        return item()
    return value


def _values(key: str, values) -> list:
    if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
        raise SearchError(f"the grid entry `{key}` must be a list of values to try, got {values!r}; write [{values!r}]")
    values = [_plain(v) for v in values]
    if not values:
        raise SearchError(f"the grid entry `{key}` has no values to try; give it at least one")
    return values


def _grid(spec: specs.Net, param_grid) -> dict[str, list]:
    """The file's space with `param_grid`'s entries added or overriding it."""
    grid = {key: _values(key, values) for key, values in search_space(spec).items()}
    if param_grid is not None:
        if not hasattr(param_grid, "items"):
            raise SearchError(
                f"param_grid must be a dict of name -> list of values, got {type(param_grid).__name__}"
            )
        for key, values in param_grid.items():
            grid[str(key)] = _values(str(key), values)
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


def _default_estimator(net, y):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from netdsl.estimators import NetClassifier, NetRegressor

    return (NetClassifier if _is_classification(y) else NetRegressor)(net, verbose=0)


def _is_net(estimator) -> bool:
    base = sys.modules.get("netdsl.estimators.base")  # imported already if `estimator` is one
    return base is not None and isinstance(estimator, base.BaseNet)


def _net_step(estimator) -> tuple[str, Any]:
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


def _check_grid(grid: dict, spec: specs.Net, estimator) -> dict:
    from netdsl.dsl import resolve

    """The grid with keys as the estimator takes them, each key and value checked; SearchError otherwise."""
    from sklearn.base import clone

    prefix, net_estimator = _net_step(estimator)
    names = set(estimator.get_params(deep=True))
    file_params = list(spec.param_defaults)
    settings = sorted(set(net_estimator._get_param_names()) - {"net"}) if net_estimator is not None else []
    checked = {}
    for key, values in grid.items():
        local = key[len(prefix):] if prefix and key.startswith(prefix) else key
        if net_estimator is not None and local in file_params:
            for value in values:
                try:
                    resolve(spec, {local: value})
                except NetError as error:
                    raise SearchError(f"the value {value!r} of `{local}` does not fit the net: {_diagnostic(error)}") from None
            checked[prefix + local] = values
        elif net_estimator is not None and local in settings:
            for value in values:
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

# While a ChunkedGridSearchCV evaluates a chunk in this thread: the search, the number of fits, and
# (filled in by the hook) each fit's error.
_LOCAL = threading.local()
_HOOK_LOCK = threading.Lock()


def _install_fit_failure_hook() -> bool:
    """Wrap scikit-learn's check of failed fits, so that while a chunked search runs in this thread
    it (1) records each fit's error (cv_results_ keeps none) and (2) warns instead of raising when
    every fit of one chunk failed. Any other search sees the function unchanged."""
    try:
        from sklearn.model_selection import _search
        from sklearn.exceptions import FitFailedWarning
    except ImportError:  # pragma: no cover
        return False
    with _HOOK_LOCK:
        original = getattr(_search, "_warn_or_raise_about_fit_failures", None)
        if original is None:  # pragma: no cover - a scikit-learn without it: no error messages
            return False
        if getattr(original, "_netdsl_hook", False):
            return True

        def hook(results, error_score):
            sink = getattr(_LOCAL, "fit_errors", None)
            if sink is None or not _called_by(sink["search"], results, sink["expected"]):
                return original(results, error_score)  # any other search, a nested one included
            errors = [r.get("fit_error") if isinstance(r, dict) else None for r in results]
            sink["errors"] = errors
            if errors and all(e is not None for e in errors):
                first = _exception_text(errors[0])
                warnings.warn(
                    f"{len(errors)} fits of this chunk of candidates failed; their scores are set to "
                    f"{error_score}. First error: {first}",
                    FitFailedWarning,
                    stacklevel=2,
                )
                return None
            return original(results, error_score)

        hook._netdsl_hook = True
        hook.__wrapped__ = original
        _search._warn_or_raise_about_fit_failures = hook
    return True


def _called_by(search, results, expected: int) -> bool:
    """Whether the check of failed fits was called by `search`'s own evaluation of a chunk (not by a
    search nested in its estimator, fitted in this thread)."""
    try:
        caller = sys._getframe(2).f_locals.get("self")  # evaluate_candidates, a closure over the search
    except (AttributeError, ValueError):  # pragma: no cover - not CPython
        caller = None
    if caller is not None:
        return caller is search
    return len(results) == expected


def _exception_text(traceback_text: str | None) -> str:
    """`Type: first line of the message` of the exception at the end of a formatted traceback."""
    if not traceback_text:
        return ""
    lines = traceback_text.rstrip().splitlines()
    frames = [i for i, line in enumerate(lines) if line.startswith('  File "')]
    rest = lines[frames[-1] + 1:] if frames else lines
    while rest and (rest[0].startswith(" ") or not rest[0].strip()):
        rest = rest[1:]  # the frame's source line and ^^^ markers
    if not rest:
        return lines[-1].strip()
    head = rest[0].strip()
    name, sep, message = head.partition(": ")
    if sep and " " not in name:
        head = f"{name.rsplit('.', 1)[-1]}: {message}"
    return head


def _workers(n_jobs) -> int:
    import joblib

    try:
        return max(1, int(joblib.effective_n_jobs(n_jobs)))
    except Exception:  # pragma: no cover - a backend that cannot tell
        return 1


class _Reporter:
    """Writes rows to the CSV as chunks finish and drives the progress bar or callback."""

    def __init__(self, total: int, results_path, progress):
        self.total = total
        self.path = Path(results_path) if results_path is not None else None
        self.progress = progress
        self.rows: list[dict] = []
        self.columns: list[str] | None = None
        self._bar = None

    def __enter__(self):
        if self.path is not None:
            if self.path.parent != Path("."):
                self.path.parent.mkdir(parents=True, exist_ok=True)
            self._lock = results_lock(self.path)
            self._lock.__enter__()
        if self.progress is True:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self._bar = Progress(
                TextColumn("candidates"), BarColumn(bar_width=24), MofNCompleteColumn(), TimeElapsedColumn(),
                TextColumn("{task.fields[best]}"), console=Console(stderr=True), transient=False,
            )
            self._bar.start()
            self._task = self._bar.add_task("search", total=self.total, best="")
        return self

    def __exit__(self, *exc):
        if self._bar is not None:
            self._bar.stop()
            self._bar = None
        lock, self._lock = getattr(self, "_lock", None), None
        if lock is not None:
            lock.__exit__(*exc)
        return False

    def add(self, rows: list[dict]) -> None:
        if self.path is not None:
            # Every finished row so far, written whole and renamed over the file (dsl.files): a
            # failed write leaves the previous chunks' rows, and the columns stay aligned.
            import pandas as pd

            from netdsl.dsl.files import write_text

            columns = list(self.columns or [])
            columns += [key for row in rows for key in row if key not in columns]
            self.columns = columns
            frame = pd.DataFrame(self.rows + list(rows)).reindex(columns=self.columns)
            write_text(self.path, frame.to_csv(index=False, lineterminator="\n"))
        for row in rows:
            self.rows.append(row)
            if callable(self.progress):
                self.progress(len(self.rows), self.total, row)
        if self._bar is not None:
            scores = [r["mean_test_score"] for r in self.rows if isinstance(r.get("mean_test_score"), float)
                      and not math.isnan(r["mean_test_score"])]
            self._bar.update(self._task, advance=len(rows), best=f"best so far {max(scores):.4g}" if scores else "")


_HELD: dict = {}  # results files this process is writing: resolved path -> (thread id, lock, depth)
_HELD_GUARD = threading.Lock()


@contextlib.contextmanager
def results_lock(path):
    """Hold the lock of a search's results file (a hidden `.NAME.lock` file beside it, locked with
    the OS's file locks through `filelock`) for the block: a second search writing the same file,
    in another process or thread, is refused with a SearchError instead of mixing its rows in.
    Re-entrant in one thread (the command line takes it before loading the data, the search again)."""
    import filelock

    path = Path(path)
    key = os.path.abspath(path)
    me = threading.get_ident()
    with _HELD_GUARD:
        held = _HELD.get(key)
        if held is not None and held[0] == me:
            _HELD[key] = (me, held[1], held[2] + 1)
            lock = None
        elif held is not None:
            raise SearchError(_busy(path))
        else:
            lock = filelock.FileLock(str(path.with_name(f".{path.name}.lock")), timeout=0)
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                lock.acquire()
            except filelock.Timeout:
                raise SearchError(_busy(path)) from None
            except OSError as error:
                raise SearchError(f"cannot write the search results to `{path}`: {error.strerror or error}") from None
            _HELD[key] = (me, lock, 1)
    try:
        yield path
    finally:
        with _HELD_GUARD:
            owner, held_lock, depth = _HELD[key]
            if depth > 1:
                _HELD[key] = (owner, held_lock, depth - 1)
            else:
                del _HELD[key]
                held_lock.release()


def _busy(path: Path) -> str:
    return (
        f"another netdsl search is writing its results to `{path}`; wait for it to finish, "
        "or give this search another file (--out FILE.csv)"
    )


def _row(results: dict, index: int, fold_errors: list, n_splits: int) -> dict:
    """One candidate's results as a flat row: its params, scores, times and the error of failed fits."""
    row: dict[str, Any] = {"candidate": index}
    for key, value in results["params"][index].items():
        row[f"param_{key}"] = value if isinstance(value, (int, float, str, bool)) or value is None else repr(value)
    # ranks change as candidates finish: rank the final results; scores first, then folds, then times
    keys = [k for k in results if k != "params" and not k.startswith(("param_", "rank_"))]
    keys.sort(key=lambda k: (0 if k.startswith(("mean_test", "std_test")) else 1 if k.startswith("split") else 2))
    for key in keys:
        try:
            row[key] = float(results[key][index])
        except (TypeError, ValueError):
            row[key] = results[key][index]
    failed = [e for e in fold_errors if e is not None]
    message = _exception_text(failed[0]) if failed else ""
    if failed and len(failed) < n_splits:
        message = f"{len(failed)} of {n_splits} folds failed: {message}"
    row["error"] = message
    return row


_SEARCH_CLASS = None


def _search_class():
    """`ChunkedGridSearchCV`, defined on first use so that importing this module stays cheap."""
    global _SEARCH_CLASS
    if _SEARCH_CLASS is not None:
        return _SEARCH_CLASS
    from numbers import Integral

    import numpy as np
    from sklearn.model_selection import GridSearchCV, ParameterGrid
    from sklearn.utils._param_validation import Interval

    class ChunkedGridSearchCV(GridSearchCV):
        """`GridSearchCV` that evaluates candidates in chunks and reports each chunk as it finishes.

        Parameters beyond GridSearchCV's: `results_path` (a CSV file, rewritten from the first
        chunk on, then appended to), `progress` (True: a rich bar on stderr; a callable:
        `progress(done, total, row)` per finished candidate) and `chunk_size` (candidates per chunk;
        default: the number of parallel workers, 1 when sequential).

        After `fit`, `search_rows_` holds the rows in the order they finished. A progress callback
        is not pickled (scikit-learn sends the search object with every fit to the workers)."""

        _parameter_constraints: dict = {
            **GridSearchCV._parameter_constraints,
            "results_path": [str, os.PathLike, None],
            "progress": ["boolean", callable, None],
            "chunk_size": [Interval(Integral, 1, None, closed="left"), None],
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

        def _run_search(self, evaluate_candidates):
            candidates = list(ParameterGrid(self.param_grid))
            total = len(candidates)
            size = self.chunk_size or _workers(self.n_jobs)
            self.search_rows_ = []
            self.n_candidates_ = total
            all_failed = 0
            _install_fit_failure_hook()
            reporter = _Reporter(total, self.results_path, self.progress)
            with reporter:
                for start in range(0, total, size):
                    chunk = candidates[start:start + size]
                    n = self.n_splits_
                    sink = {"search": self, "expected": len(chunk) * n, "errors": []}
                    outer = getattr(_LOCAL, "fit_errors", None)
                    _LOCAL.fit_errors = sink
                    try:
                        results = evaluate_candidates(chunk)
                    finally:
                        _LOCAL.fit_errors = outer
                    errors = sink["errors"]
                    if len(errors) != len(chunk) * n:
                        errors = [None] * (len(chunk) * n)
                    rows = [_row(results, start + i, errors[i * n:(i + 1) * n], n) for i in range(len(chunk))]
                    all_failed += sum(all(e is not None for e in errors[i * n:(i + 1) * n]) for i in range(len(chunk)))
                    self.search_rows_.extend(rows)
                    reporter.add(rows)
            if total and all_failed == total:  # as GridSearchCV does when every fit failed
                where = f"; their rows are in {self.results_path}" if self.results_path is not None else ""
                raise SearchError(
                    f"every fit of all {total} candidates failed (first error: {self.search_rows_[0]['error']}){where}",
                    finished=total, total=total, rows=self.search_rows_, results_path=self.results_path,
                )

    ChunkedGridSearchCV.__module__ = __name__
    ChunkedGridSearchCV.__qualname__ = "ChunkedGridSearchCV"
    _SEARCH_CLASS = ChunkedGridSearchCV
    return ChunkedGridSearchCV


def __getattr__(name):  # PEP 562: `from netdsl.pipelines.search import ChunkedGridSearchCV` (and pickling)
    if name == "ChunkedGridSearchCV":
        return _search_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# ---- where the fits run ---------------------------------------------------------------------------


def _one_thread_loky():
    """joblib's loky backend, with TensorFlow's thread pools also limited in the workers."""
    from joblib._parallel_backends import LokyBackend

    class OneThreadLoky(LokyBackend):
        MAX_NUM_THREADS_VARS = list(LokyBackend.MAX_NUM_THREADS_VARS) + [
            "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS",
        ]

    return OneThreadLoky()


@contextlib.contextmanager
def _backend(scheduler, n_jobs):
    """The joblib backend of the candidate fits: Dask for a scheduler, loky (one thread per worker)
    for n_jobs other than 1, else whatever joblib is configured with (sequential by default)."""
    import joblib

    if scheduler is not None:
        import distributed

        if isinstance(scheduler, distributed.Client):
            client, own = scheduler, False
        else:
            try:
                client, own = distributed.Client(scheduler, set_as_default=False), True
            except (OSError, TimeoutError, ValueError) as error:
                raise SearchError(f"cannot connect to the Dask scheduler at {scheduler}: {error}") from None
        try:
            with joblib.parallel_config(backend="dask", client=client):
                yield f"on the Dask cluster at {scheduler if isinstance(scheduler, str) else client.scheduler.address}"
        finally:
            if own:
                client.close()
        return
    if n_jobs is not None and n_jobs != 1:
        with joblib.parallel_config(backend=_one_thread_loky(), inner_max_num_threads=1):
            yield f"on {joblib.effective_n_jobs(n_jobs)} local worker processes"
        return
    yield "in this process"


def start_workers(n_jobs) -> threading.Thread | None:
    """Start the local worker processes of a search with `n_jobs`, and TensorFlow in each, now, in a
    background thread, so that they start while this process loads its data and imports TensorFlow
    itself rather than after (a worker takes seconds to start, mostly importing TensorFlow). Join
    the thread before the search: the search then finds the workers up (loky reuses them). None
    when the fits would run in this process."""
    if n_jobs is None or n_jobs == 1:
        return None

    def start() -> None:
        import joblib

        try:
            with _backend(None, n_jobs):
                joblib.Parallel(n_jobs=n_jobs)(joblib.delayed(_import_estimators)() for _ in range(_workers(n_jobs)))
        except Exception:  # noqa: BLE001 - the search itself reports what is wrong with the workers
            pass

    thread = threading.Thread(target=start, name="netdsl-start-workers", daemon=True)
    thread.start()
    return thread


def _import_estimators() -> int:
    import netdsl.estimators.compile  # noqa: F401  (imports Keras and TensorFlow: netdsl.estimators alone does not)

    return os.getpid()


_WORKER_DEATHS = {
    "TerminatedWorkerError", "BrokenProcessPool", "BrokenExecutor", "KilledWorker", "CommClosedError",
    "FutureCancelledError",
}  # fmt: skip


def _worker_died(error: BaseException) -> bool:
    return any(cls.__name__ in _WORKER_DEATHS for cls in type(error).__mro__)


def _remote_net(estimator):
    """The estimator with its `net` as source text, which travels with it to other machines."""
    from sklearn.base import clone

    prefix, net_estimator = _net_step(estimator)
    if net_estimator is None or net_estimator.net is None:
        return estimator
    text, _ = read_source(net_estimator.net)
    return clone(estimator).set_params(**{prefix + "net": text})


def grid_search(
    net,
    X,
    y,
    param_grid: dict | None = None,
    cv=5,
    scheduler=None,
    n_jobs: int | None = None,
    *,
    estimator=None,
    results_path=None,
    progress: bool | Callable | None = None,
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
    n_jobs
        Candidate fits in parallel worker processes on this machine (-1: one per core). With a
        scheduler, at most this many fits at a time (default: all the cluster's threads).
    estimator
        The estimator to search (default: `NetClassifier(net)` or `NetRegressor(net)`): a netdsl
        estimator with your settings, or a pipeline with one as a step (plain file-param keys
        are then prefixed with the step's name).
    results_path
        A CSV file that receives each candidate's row as its chunk finishes.
    progress
        True: a progress bar on stderr; a callable: `progress(done, total, row)` per candidate.
    **search_kwargs
        Passed to GridSearchCV: `scoring`, `refit`, `error_score`, `return_train_score`, ...

    Raises `SearchError` before any training for a bad grid, and when a worker process dies (its
    message says how many candidates finished and where their results are).
    """
    spec = _spec(net)
    grid = _grid(spec, param_grid)
    if estimator is None:
        estimator = _default_estimator(net, y)
    checked = _check_grid(grid, spec, estimator)
    if scheduler is not None:
        estimator = _remote_net(estimator)
    search = _search_class()(
        estimator, checked, cv=cv, n_jobs=n_jobs, results_path=results_path, progress=progress, **search_kwargs
    )
    with _backend(scheduler, n_jobs) as where:
        try:
            search.fit(X, y)
        except Exception as error:
            if not _worker_died(error):
                raise
            rows = list(getattr(search, "search_rows_", []))
            total = getattr(search, "n_candidates_", 0)
            kept = (
                f"their results are in {results_path}" if results_path is not None and rows
                else "pass results_path (--out) to keep results as they finish" if results_path is None
                else "no results were written"
            )
            detail = str(error).strip().splitlines()[0] if str(error).strip() else ""
            raise SearchError(
                f"the search stopped: a worker process died ({type(error).__name__}"
                + (f": {detail}" if detail else "") + f"); {len(rows)} of {total} candidates finished; {kept}",
                finished=len(rows), total=total, rows=rows, results_path=results_path,
            ) from error
    search.where_ = where  # where the fits ran, in words
    return search


# ---- the command line: `netdsl search` -------------------------------------------------------------------


def register(commands) -> None:
    """Add `netdsl search` to the command line's subparsers."""
    from netdsl.pipelines.cli import add_estimator_arguments, add_training_data_arguments

    search = commands.add_parser(
        "search",
        help="grid search of a .net file's params with cross-validation",
        description="Cross-validate every combination of the file's `param NAME = V in [...]` values "
        "(and --grid ones) on the data minus a held-out test split, rank them, refit the best on "
        "the training rows and score it on the held-out rows. Rows are written to --out as "
        "candidates finish.",
    )
    add_training_data_arguments(search)
    search.add_argument(
        "--grid", action="append", default=[], metavar="KEY=V1,V2",
        help="values to try for a file param or a setting such as epochs; adds to or replaces the "
        "file's `in [...]` values (repeat for more keys)",
    )
    search.add_argument("--cv", type=_folds, default=5, metavar="K", help="cross-validation folds (default 5)")
    search.add_argument(
        "--jobs", type=_jobs, default=1, metavar="N",
        help="fits in parallel worker processes on this machine, one thread each (-1: one per core; default 1)",
    )  # fmt: skip
    search.add_argument(
        "--scheduler", metavar="ADDRESS",
        help="run the fits on a Dask cluster, e.g. tcp://HOST:8786 (`dask scheduler` there, `dask worker "
        "tcp://HOST:8786 --nthreads 1` on the workers, each with netdsl installed)",
    )  # fmt: skip
    add_estimator_arguments(search)
    search.add_argument(
        "--out", type=Path, default=Path("search_results.csv"), metavar="CSV",
        help="write each candidate's results here as it finishes (default: search_results.csv)",
    )  # fmt: skip
    search.add_argument("--save", type=Path, metavar="MODEL", help="write the refitted best model here")
    search.add_argument(
        "--plots", type=Path, metavar="DIR",
        help="write pictures of the best model here: training curves, conv filters (if any), search report",
    )  # fmt: skip
    search.add_argument("--quiet", action="store_true", help="no progress bar")
    search.set_defaults(run=run_search)


def _folds(text: str) -> int:
    from netdsl.pipelines.cli import int_option

    return int_option(lambda value: value >= 2, "a number of cross-validation folds, 2 or more")(text)


def _jobs(text: str) -> int:
    from netdsl.pipelines.cli import int_option

    return int_option(lambda value: value >= 1 or value == -1, "a positive number of worker processes, or -1")(text)


def parse_grid(items: list[str]) -> dict[str, list]:
    """`--grid KEY=V1,V2` options as a param_grid (values are numbers, true/false or words)."""
    from netdsl.pipelines.cli import _literal

    grid: dict[str, list] = {}
    for item in items:
        key, sep, text = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise SearchError(f"--grid takes KEY=V1,V2,..., got {item!r}")
        if key in grid:
            raise SearchError(f"--grid gives `{key}` twice; list all its values once: --grid {key}=V1,V2")
        values = [part.strip() for part in text.split(",")]
        if not any(values):
            raise SearchError(f"--grid {key}= has no values; give at least one: --grid {key}=V1,V2")
        if not all(values):
            raise SearchError(f"--grid {item!r} has an empty value; separate values by single commas")
        grid[key] = [_literal(v) for v in values]
    return grid


def _cv(folds: int, task: str, windowed: bool, seed: int):
    from sklearn.model_selection import KFold, StratifiedKFold, TimeSeriesSplit

    if windowed:
        return TimeSeriesSplit(folds), "time-ordered folds"
    if task == "classification":
        return StratifiedKFold(folds, shuffle=True, random_state=seed), "stratified folds"
    return KFold(folds, shuffle=True, random_state=seed), "shuffled folds"


def run_search(args) -> int:
    from netdsl.pipelines import cli

    spec = load(args.file)  # a NetError is rendered by main, before any data or TensorFlow work
    try:
        extra = parse_grid(args.grid)
        _grid(spec, extra)  # nothing to search: say so before loading anything
        _check_outputs(args)
        with results_lock(args.out):  # refuse a file another search is writing, before any work
            return _run_search(args, spec, extra)
    except SearchError as error:
        return cli._error(str(error))


def _check_outputs(args) -> None:
    """Refuse, before any work, output paths that cannot be written as asked."""
    if args.out.is_dir():
        raise SearchError(f"--out `{args.out}` is a folder; name a CSV file")
    if args.plots is not None and args.plots.exists() and not args.plots.is_dir():
        raise SearchError(f"--plots `{args.plots}` is a file; name a folder for the pictures (made if missing)")
    if args.save is not None and args.save.is_dir():
        raise SearchError(f"--save `{args.save}` is a folder; name a model file")


def _run_search(args, spec, extra) -> int:
    from rich.console import Console

    from netdsl.pipelines import cli

    console = Console(soft_wrap=True)
    params = cli.set_params(args.set)
    starting = start_workers(args.jobs) if args.scheduler is None else None
    data = cli._load(args.data, args.target, args.window)
    task, origin = cli._task(args, data, spec)
    X_train, X_test, y_train, y_test, how = cli._split(args, data, task, console)
    cv, folds = _cv(args.cv, task, data.windowed, args.seed)
    console.print(f"net [bold]{spec.name}[/] on [bold]{data.name}[/]: {task} (from {origin})")
    console.print(f"{len(y_train)} rows to search on with {args.cv} {folds}; {how}")

    estimator = cli.make_estimator(args, task, data, params, console)
    n_jobs = None if args.scheduler is not None and args.jobs == 1 else args.jobs
    console.print(f"writing each candidate's results to {args.out} as it finishes")
    _import_estimators()  # TensorFlow here too (for the refit), while the workers start
    if starting is not None:
        starting.join()
    started = time.perf_counter()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # failed fits are shown in the table, not as warnings
            search = grid_search(
                spec, X_train, y_train, extra or None, cv=cv, scheduler=args.scheduler, n_jobs=n_jobs,
                estimator=estimator, results_path=args.out, progress=not args.quiet,
            )
    except NetError:
        raise
    except (ValueError, TypeError, RuntimeError, OSError) as error:
        return cli._error(str(error).strip().replace("\n", " "))
    seconds = time.perf_counter() - started
    cli.remember_columns(search.best_estimator_, data)
    metric = "accuracy" if task == "classification" else "R²"
    _print_ranking(console, search, metric)
    best = ", ".join(f"{k}={v!r}" for k, v in search.best_params_.items())
    console.print(f"best: [bold]{best}[/]   mean CV {metric}: [bold]{search.best_score_:.4f}[/]")
    console.print(
        f"{len(search.search_rows_)} candidates x {search.n_splits_} folds in {seconds:.1f} s, {search.where_}; "
        f"best refitted on {len(y_train)} rows in {search.refit_time_:.1f} s"
    )
    if X_test is not None:
        predictions = search.best_estimator_.predict(X_test)
        cli._print_scores(console, task, y_test, predictions, data, "held out, best refitted", report=False)
    console.print(f"results of every candidate: {args.out}")
    if args.save is not None:
        where = cli.save_model(search.best_estimator_, args.save)
        console.print(f"saved the best model to {where}")
    if args.plots is not None:
        try:
            for path in _write_plots(search, args.plots):
                console.print(f"picture: {path}")
        except OSError as error:
            return cli._error(f"cannot write the pictures to `{args.plots}`: {error.strerror or error}")
    return 0


def _write_plots(search, folder: Path) -> list[Path]:
    """The best model's training curves and (for a convnet) its learned filters, and the search report."""
    from netdsl.pipelines import plots
    from netdsl.pipelines.cli import fitted_net

    folder.mkdir(parents=True, exist_ok=True)
    best = fitted_net(search.best_estimator_)
    written = [folder / "curves.png", folder / "search.png"]
    plots.training_curves(best, path=written[0])
    plots.search_report(search, path=written[1])
    if any(type(layer).__name__ == "Conv2D" for layer in best.model_.layers):
        written.append(folder / "filters.png")
        plots.conv_filters(best, path=written[-1])
    return written


def _print_ranking(console, search, metric: str) -> None:
    import numpy as np
    from rich.table import Table

    results = search.cv_results_
    ranks = np.asarray(results["rank_test_score"])
    order = sorted(range(len(ranks)), key=lambda i: (ranks[i], i))
    rows = {row["candidate"]: row for row in search.search_rows_}
    table = Table(title=f"candidates by mean CV {metric} ({search.n_splits_} folds)", title_justify="left")
    table.add_column("rank", justify="right")
    table.add_column("params")
    table.add_column(f"mean ± std {metric}", justify="right")
    table.add_column("mean fit time", justify="right")
    for i in order:
        params = ", ".join(f"{k}={v!r}" for k, v in results["params"][i].items())
        mean, std = results["mean_test_score"][i], results["std_test_score"][i]
        error = rows.get(i, {}).get("error", "")
        score = f"{mean:.4f} ± {std:.4f}" if np.isfinite(mean) else f"failed: {error}" if error else "failed"
        if error and np.isfinite(mean):
            score += f" ({error.split(':')[0]})"
        table.add_row(str(ranks[i]), params, score, f"{results['mean_fit_time'][i]:.2f} s")
    console.print(table)
