"""Searches that spend their budget well: grid, random and successive halving with cross-validation,
where a survivor's next rung continues its weights and optimizer state; resumable, and the same
results on one process, several or a Dask cluster.

    search = tune("examples/digits_cnn.net", X, y, strategy="halving", cv=3, random_state=0,
                  results_path="halving.csv")
    search.best_params_, search.best_score_, search.n_candidates_, search.n_resources_

**Candidates.** `grid`: every combination of the file's space (`search_space`) with `param_grid`'s
entries added or overriding it (scikit-learn's `ParameterGrid`). `random`: `n_candidates` draws
(`ParameterSampler` under `random_state`) from that space, whose entries may be lists or scipy
distributions. `halving`: the grid when every entry is a list and `n_candidates` is not given,
else `n_candidates` draws.

**Successive halving** (`strategy="halving"`); the resource is epochs. Rung i trains each of its
n_i candidates on every fold to r_i = min_epochs * factor**i epochs, continuing from where the
candidate stopped at rung i-1 (its checkpoint: `netdsl.estimators.checkpoint`; nothing is trained
twice), scores it on the fold's test rows, and promotes the best ceil(n_i / factor) by mean CV
score to rung i+1. Ties are broken by the candidate's index (its place in the grid or in the
draws: the earlier wins). A candidate with a failed fold scores `error_score` there and is never
promoted. The last rung trains to exactly the full budget E (the estimator's `epochs`, else the
file's). The schedule is scikit-learn's `HalvingGridSearchCV._run_search`'s: as many rungs as
both needed (1 + floor(log_factor(n_candidates))) and possible (1 + floor(log_factor(E /
min_epochs))); by default min_epochs is chosen as its `min_resources="exhaust"` chooses it (E //
factor**(rungs - 1)). Where it differs: the last rung is always at E (scikit-learn may stop below
max_resources), survivors continue instead of being refitted from scratch, `epochs` cannot be a
searched key, and ties are broken by index rather than by NumPy's sort. Grid and random are the
one-rung case of the same engine.

**Tasks.** One task is (candidate, fold, rung): it receives the candidate's checkpoint from the
rung before (or none), trains the extra epochs, scores the test rows and returns the scores,
times, the new checkpoint and any error. Checkpoints travel with the tasks and their results
(plain arrays), so a Dask cluster needs no shared disk. Tasks run through joblib: in this process,
in loky worker processes (`n_jobs`) or on a Dask cluster (`scheduler`), as in
`netdsl.pipelines.search` (whose module docstring says how to set a cluster up); they are sent
candidate by candidate, so a worker mostly continues a graph it has compiled already.

**Determinism.** Every task's estimator trains under one seed: its own `random_state`, else the
search's `random_state`, else one drawn once per search; so a task's result depends only on
(candidate, fold, checkpoint, seed), never on where or when it ran, and the ranking and scores
are the same for n_jobs=1, n_jobs=N and a cluster (tests/test_tune.py).

**Results and resume.** `results_path` (CSV) gets one row per candidate and rung as candidates
finish: `candidate`, `rung`, `epochs`, `param_<name>`, `mean_test_score`, `std_test_score`,
`split<k>_test_score`, `mean_fit_time`, `mean_score_time`, `status` (`promoted`, `stopped`,
`final`, `failed`; empty while its rung runs) and `error`, written to a temporary file and renamed
over it, under the results lock (`search_results.results_lock`). Beside it, the folder
`PATH.states/` holds the search's fingerprint (`search.json`: the net's source, the space, the
strategy and its settings, the folds, the seeds, the data's shape and digest) and the survivors'
checkpoints (`.npz`, read with `allow_pickle=False`), written as tasks finish; the checkpoints
are removed when the search ends. `resume=PATH` reads the finished rows back, does not run them
again, continues the survivors from their checkpoints and refuses a file written by another
search. The final ranking and scores equal an uninterrupted run's.

Importing this module is cheap (no TensorFlow, Keras, Dask or scikit-learn).
"""

from __future__ import annotations

import hashlib
import json
import math
import time
import traceback
from pathlib import Path
from typing import Any, Callable

from netdsl.dsl import read_source
from netdsl.pipelines.errors import SearchError
from netdsl.pipelines.search import (
    _check_grid, _default_estimator, _net_step, _plain, _remote_net, _spec, search_space,
)
from netdsl.pipelines.search_results import Reporter, exception_text, results_lock
from netdsl.pipelines.search_workers import backend, worker_died

__all__ = ["STRATEGIES", "NetSearch", "schedule", "tune"]

STRATEGIES = ("grid", "random", "halving")
STATUSES = ("promoted", "stopped", "final", "failed")


# ---- the schedule --------------------------------------------------------------------------------------


def schedule(n_candidates: int, max_epochs: int, min_epochs: int | None, factor: int) -> tuple[list[int], list[int]]:
    """(candidates per rung, epochs per rung) of successive halving; see the module docstring."""
    if factor < 2:
        raise SearchError(f"factor must be an integer of 2 or more (the share of candidates kept is 1/factor), got {factor}")
    if min_epochs is not None and not 1 <= min_epochs <= max_epochs:
        raise SearchError(
            f"min_epochs must be between 1 and the full budget of {max_epochs} epochs, got {min_epochs}"
        )
    required = 1 + int(math.floor(math.log(n_candidates, factor) + 1e-9)) if n_candidates > 0 else 1
    if min_epochs is None:  # scikit-learn's "exhaust": the last rung can reach the full budget
        min_epochs = max(1, max_epochs // factor ** (required - 1))
    possible = 1 + int(math.floor(math.log(max_epochs / min_epochs, factor) + 1e-9))
    rungs = max(1, min(required, possible))
    epochs = [min(min_epochs * factor**i, max_epochs) for i in range(rungs)]
    epochs[-1] = max_epochs
    counts = [n_candidates]
    for _ in range(1, rungs):
        counts.append(math.ceil(counts[-1] / factor))
    return counts, epochs


# ---- one task ---------------------------------------------------------------------------------------------


def _run_task(estimator, params: dict, X, y, train, test, scorer, epochs, state, keep_state: bool, error_score):
    """Train one candidate on one fold to `epochs` epochs in all (from `state` when given; None:
    the candidate's own epochs) and score it: a dict with its `score`, `fit_time`, `score_time`,
    `epochs` (trained in all), `trained` (by this task), `state` (the new checkpoint, when
    `keep_state`) and `error` (a formatted traceback, or None). Runs in a worker."""
    from sklearn.base import clone
    from sklearn.utils import _safe_indexing

    from netdsl.estimators import checkpoint

    started = time.perf_counter()
    before = state.epochs if state is not None else 0
    result = {"score": error_score, "fit_time": 0.0, "score_time": 0.0, "epochs": before, "trained": 0, "state": None,
              "error": None}
    prefix, _ = _net_step(estimator)
    try:
        model = clone(estimator).set_params(**params)
        if epochs is not None:
            model.set_params(**{prefix + "epochs": epochs - before})
        X_train, y_train = _safe_indexing(X, train), _safe_indexing(y, train)
        if state is None:
            model.fit(X_train, y_train)
        else:
            _resume(model, state, X_train, y_train)
        net = _net_step(model)[1]
        result["fit_time"] = time.perf_counter() - started
        result["epochs"] = int(getattr(net, "n_iter_", 0))
        result["trained"] = result["epochs"] - before
        started = time.perf_counter()
        score = scorer(model, _safe_indexing(X, test), _safe_indexing(y, test))
        result["score_time"] = time.perf_counter() - started
        result["score"] = float(score)
        if keep_state:
            result["state"] = checkpoint.capture(net)
    except Exception:
        if error_score == "raise":
            raise
        result["error"] = traceback.format_exc()
        result["fit_time"] = result["fit_time"] or time.perf_counter() - started
    return result


def _resume(model, state, X, y) -> None:
    """Continue `state` with `model`: a netdsl estimator, or a pipeline ending in one (its other
    steps are fitted again, which is cheap and gives the same transform)."""
    from sklearn.pipeline import Pipeline

    from netdsl.estimators import checkpoint

    prefix, net = _net_step(model)
    if net is model:
        checkpoint.resume(model, state, X, y)
        return
    head = model[:-1]
    checkpoint.resume(net, state, head.fit_transform(X, y) if isinstance(model, Pipeline) else X, y)


def _halvable(estimator) -> None:
    from sklearn.pipeline import Pipeline

    prefix, net = _net_step(estimator)
    if net is None or (net is not estimator and not (isinstance(estimator, Pipeline) and estimator.steps[-1][1] is net)):
        raise SearchError(
            "halving continues a netdsl estimator's training between rungs: give a NetClassifier or "
            "NetRegressor, or a pipeline whose last step is one"
        )


# ---- the search -------------------------------------------------------------------------------------------


class NetSearch:
    """The outcome of `tune`: scikit-learn's search attributes, and predictions by the refitted best.

    best_params_, best_score_, best_index_, best_estimator_ (refit on all the data at the full
    budget), refit_time_, cv_results_ (as scikit-learn's halving searches write it: one entry per
    candidate and rung, with `iter` and `n_resources`; rank 1 is the best entry of the last rung),
    n_candidates_ and n_resources_ (per rung), n_iterations_, n_required_iterations_,
    n_possible_iterations_, min_resources_, max_resources_, factor, n_splits_, scorer_,
    search_rows_ (the CSV's rows), epoch_folds_ (epochs trained, summed over tasks: the budget
    used) and grid_epoch_folds_ (what training every candidate to the full budget on every fold
    costs), resumed_ (rows read back from a resumed search), where_ (where the tasks ran)."""

    multimetric_ = False

    def _best(self):
        from sklearn.utils.validation import check_is_fitted

        check_is_fitted(self, "best_estimator_")
        return self.best_estimator_

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "cv_results_")

    def predict(self, X):
        return self._best().predict(X)

    def predict_proba(self, X):
        return self._best().predict_proba(X)

    def score(self, X, y):
        return self.scorer_(self._best(), X, y)

    @property
    def classes_(self):
        return self._best().classes_


def _space(spec, param_grid) -> dict:
    """The file's space with `param_grid`'s entries added or overriding it (lists or distributions)."""
    from netdsl.pipelines.search import _values

    if param_grid is not None and not hasattr(param_grid, "items"):
        raise SearchError(f"param_grid must be a dict of name -> values, got {type(param_grid).__name__}")
    space = {}
    for key, values in list(search_space(spec).items()) + list((param_grid or {}).items()):
        space[str(key)] = values if hasattr(values, "rvs") else _values(str(key), values)
    if not space:
        raise SearchError(
            f"nothing to search: the net `{spec.name}` declares no values to try (`param NAME = V in [V1, V2]`) "
            "and no grid was given (param_grid, or --grid NAME=V1,V2)"
        )
    return space


def _candidates(space: dict, strategy: str, n_candidates, random_state) -> list[dict]:
    from sklearn.model_selection import ParameterGrid, ParameterSampler

    listed = all(not hasattr(values, "rvs") for values in space.values())
    if strategy == "grid" or (strategy == "halving" and listed and n_candidates is None):
        if not listed:
            ranged = ", ".join(key for key, values in space.items() if hasattr(values, "rvs"))
            raise SearchError(f"a grid takes lists of values; {ranged} is a range: use --strategy random or halving "
                              "with --candidates N")
        if n_candidates is not None:
            raise SearchError("a grid tries every combination: n_candidates (--candidates) is for random and halving")
        return [{k: _plain(v) for k, v in c.items()} for c in ParameterGrid(space)]
    if n_candidates is None:
        n_candidates = 10 if strategy == "random" else None
        if n_candidates is None:
            raise SearchError("halving over ranges needs n_candidates (--candidates N): how many to draw")
    if int(n_candidates) < 1:
        raise SearchError(f"n_candidates must be 1 or more, got {n_candidates}")
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # fewer combinations than asked: all of them
        drawn = list(ParameterSampler(space, int(n_candidates), random_state=random_state))
    return [{k: _plain(v) for k, v in c.items()} for c in drawn]


def _full_epochs(estimator, spec) -> int:
    prefix, net = _net_step(estimator)
    return int(net._settings(spec)["epochs"])


def _fingerprint(spec_text: str, space: dict, settings: dict, cv, X, y) -> dict:
    import joblib
    import numpy as np

    return {
        "net": hashlib.sha256(spec_text.encode()).hexdigest(),
        "space": repr(sorted((k, repr(v) if hasattr(v, "rvs") else v) for k, v in space.items())),
        **{k: repr(v) for k, v in settings.items()},
        "cv": repr(cv),
        "data": f"{np.shape(X)} {np.shape(y)} {joblib.hash((X, y))}",
    }


def _states_folder(path: Path) -> Path:
    return path.with_name(path.name + ".states")


def _state_file(folder: Path, candidate: int, rung: int, fold: int) -> Path:
    return folder / f"c{candidate}_r{rung}_f{fold}.npz"


def _read_resumed(path: Path, fingerprint: dict) -> list[dict]:
    """The rows of the search at `path` (a SearchError for another search's file)."""
    import pandas as pd

    folder = _states_folder(path)
    try:
        kept = json.loads((folder / "search.json").read_text())
    except (OSError, ValueError):
        raise SearchError(f"cannot resume from {path}: its search's fingerprint ({folder / 'search.json'}) is missing; "
                          "it was not written by this version's tune/--strategy, or the folder was removed") from None
    changed = [k for k in sorted(set(kept) | set(fingerprint)) if kept.get(k) != fingerprint.get(k)]
    if changed:
        raise SearchError(f"cannot resume from {path}: it holds another search (different {', '.join(changed)}); "
                          "run this search with another --out file, or resume it with the same settings")
    try:
        frame = pd.read_csv(path, keep_default_na=True)
    except (OSError, ValueError) as error:
        raise SearchError(f"cannot read the results to resume from {path}: {error}") from None
    missing = {"candidate", "rung", "mean_test_score", "status"} - set(frame.columns)
    if missing:
        raise SearchError(f"cannot resume from {path}: it lacks the columns {', '.join(sorted(missing))}")
    rows = []
    for record in frame.to_dict("records"):
        row = {k: (None if isinstance(v, float) and math.isnan(v) and k.startswith("param_") else v)
               for k, v in record.items()}
        row["candidate"], row["rung"] = int(row["candidate"]), int(row["rung"])
        row["status"] = "" if not isinstance(row["status"], str) else row["status"]
        row["error"] = "" if not isinstance(row.get("error"), str) else row["error"]
        rows.append(row)
    return rows


def tune(
    net,
    X,
    y,
    strategy: str = "grid",
    param_grid: dict | None = None,
    *,
    n_candidates: int | None = None,
    min_epochs: int | None = None,
    factor: int = 3,
    cv=5,
    scheduler=None,
    n_jobs: int | None = None,
    estimator=None,
    random_state=None,
    results_path=None,
    resume=None,
    progress: bool | Callable | None = None,
    scoring=None,
    refit: bool = True,
    error_score=float("nan"),
) -> NetSearch:
    """Search the `.net` file's space with cross-validation (see the module docstring); returns a
    fitted `NetSearch`.

    net, X, y, param_grid, cv, scheduler, n_jobs, estimator, progress
        As for `netdsl.pipelines.search.grid_search`; `param_grid`'s entries may be lists or scipy
        distributions (random and halving draw from them).
    strategy
        `"grid"`, `"random"` or `"halving"`.
    n_candidates
        How many candidates random and halving draw (random's default: 10; halving over lists
        only: the whole grid).
    min_epochs, factor
        Halving: the first rung's epochs (default: as scikit-learn's `"exhaust"`) and the factor by
        which epochs grow and candidates shrink from rung to rung (2 or more; default 3).
    random_state
        Seeds the draws and, for every estimator without its own `random_state`, the training.
    results_path, resume
        A CSV file for the rows (and its `.states` folder beside it); `resume=PATH` continues the
        search that wrote PATH (the same as results_path, which it implies).
    scoring, refit, error_score
        As scikit-learn's searches take them (one metric); refit=False keeps no best_estimator_.
    """
    import numpy as np
    from sklearn.base import clone, is_classifier
    from sklearn.metrics import check_scoring
    from sklearn.model_selection import check_cv

    from netdsl.estimators.seeding import as_int

    if strategy not in STRATEGIES:
        raise SearchError(f"unknown strategy {strategy!r}: choose one of {', '.join(STRATEGIES)}")
    if resume is not None:
        if results_path is not None and Path(results_path).resolve() != Path(resume).resolve():
            raise SearchError(f"resume={resume} continues that file: give no other results_path ({results_path})")
        results_path = resume
        if not Path(resume).is_file():
            raise SearchError(f"nothing to resume: {resume} does not exist")
    if strategy != "halving" and (min_epochs is not None or factor != 3):
        raise SearchError(f"min_epochs and factor are settings of halving, not of a {strategy} search")
    if strategy == "grid" and n_candidates is not None:
        raise SearchError("a grid tries every combination: n_candidates (--candidates) is for random and halving")
    if isinstance(scoring, (list, tuple, set, dict)):
        raise SearchError("tune ranks candidates by one score: give scoring one metric")
    spec = _spec(net)
    space = _space(spec, param_grid)
    if estimator is None:
        estimator = _default_estimator(net, y)
    prefix, net_estimator = _net_step(estimator)
    if net_estimator is None:
        raise SearchError("the estimator must be a netdsl estimator or a pipeline with one as a step")
    # every key as the estimator takes it, checked (a range by one value drawn from it)
    sampled = {k: v if not hasattr(v, "rvs") else [_plain(v.rvs(random_state=0))] for k, v in space.items()}
    space = dict(zip(_check_grid(sampled, spec, estimator), space.values()))
    if strategy == "halving":
        _halvable(estimator)
        if any(key.rsplit("__", 1)[-1] == "epochs" for key in space):
            raise SearchError("halving spends epochs as its resource: `epochs` cannot be a searched key "
                              "(the full budget is the net's or the estimator's epochs)")
    seed = as_int(random_state) if random_state is not None else int(np.random.SeedSequence().generate_state(1)[0] >> 1)
    if getattr(net_estimator, "random_state", None) is None:
        estimator = clone(estimator).set_params(**{prefix + "random_state": seed})
    candidates = _candidates(space, strategy, n_candidates, seed)
    max_epochs = _full_epochs(estimator, spec)
    if strategy == "halving":
        counts, rung_epochs = schedule(len(candidates), max_epochs, min_epochs, factor)
    else:
        counts, rung_epochs = [len(candidates)], [None]
    folds = check_cv(cv, y, classifier=is_classifier(estimator))
    splits = list(folds.split(X, y))
    scorer = check_scoring(estimator, scoring=scoring)
    remote = _remote_net(estimator) if scheduler is not None else estimator
    text, _ = read_source(net_estimator.net) if net_estimator.net is not None else (repr(spec), None)
    settings = {"strategy": strategy, "n_candidates": n_candidates, "min_epochs": min_epochs, "factor": factor,
                "seed": seed, "scoring": scoring, "error_score": error_score,
                "estimator": sorted((k, repr(v)) for k, v in estimator.get_params(deep=False).items() if k != "net")}
    fingerprint = _fingerprint(text, space, settings, folds, X, y) if results_path is not None else None

    search = NetSearch()
    search.n_splits_, search.scorer_, search.factor = len(splits), scorer, factor
    search.n_candidates_, search.n_resources_ = counts, rung_epochs if strategy == "halving" else [max_epochs]
    search.n_iterations_ = len(counts)
    if strategy == "halving":
        search.n_required_iterations_ = 1 + int(math.floor(math.log(len(candidates), factor) + 1e-9))
        search.min_resources_, search.max_resources_ = rung_epochs[0], max_epochs
        search.n_possible_iterations_ = 1 + int(math.floor(math.log(max_epochs / rung_epochs[0], factor) + 1e-9))
    else:
        search.n_required_iterations_ = search.n_possible_iterations_ = 1
        search.min_resources_ = search.max_resources_ = max_epochs
    path = Path(results_path) if results_path is not None else None
    engine = _Engine(remote, candidates, X, y, splits, scorer, error_score, path, progress, strategy, max_epochs,
                     prefix + "epochs")
    with (results_lock(path) if path is not None else _nothing()):
        if path is not None:
            engine.prepare(fingerprint, resume is not None)
        with backend(scheduler, n_jobs) as where:
            try:
                entries = engine.run(counts, rung_epochs, n_jobs)
            except Exception as error:
                if not worker_died(error):
                    raise
                raise SearchError(
                    f"the search stopped: a worker process died ({type(error).__name__}); {len(engine.rows)} rows finished"
                    + (f"; resume it with resume={path} (--resume {path})" if path is not None else ""),
                    finished=len(engine.rows), total=sum(counts), rows=engine.rows, results_path=path,
                ) from error
        if path is not None:
            engine.tidy()
    search.where_ = where
    search.search_rows_ = engine.rows
    search.resumed_ = engine.resumed
    search.epoch_folds_ = engine.epoch_folds
    search.grid_epoch_folds_ = len(candidates) * max_epochs * len(splits) if strategy == "halving" else sum(
        int(c.get(prefix + "epochs", max_epochs)) for c in candidates) * len(splits)
    _results(search, entries, candidates)
    if refit:
        started = time.perf_counter()
        best = clone(estimator).set_params(**search.best_params_)
        best.fit(X, y)
        search.refit_time_ = time.perf_counter() - started
        search.best_estimator_ = best
    return search


class _nothing:
    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False


class _Engine:
    """The rungs: tasks out, rows and checkpoints back (and to disk), survivors chosen."""

    def __init__(self, estimator, candidates, X, y, splits, scorer, error_score, path, progress, strategy,
                 max_epochs, epochs_key):
        self.max_epochs, self.epochs_key = max_epochs, epochs_key
        self.estimator, self.candidates, self.X, self.y = estimator, candidates, X, y
        self.splits, self.scorer, self.error_score = splits, scorer, error_score
        self.path, self.progress, self.strategy = path, progress, strategy
        self.folder = _states_folder(path) if path is not None else None
        self.rows: list[dict] = []
        self.resumed = 0
        self.epoch_folds = 0
        self.done: dict[tuple[int, int], dict] = {}  # (candidate, rung) -> row read back

    def prepare(self, fingerprint: dict, resuming: bool) -> None:
        """The states folder and fingerprint: checked and read back when resuming, else anew."""
        if resuming:
            for row in _read_resumed(self.path, fingerprint):
                self.done[(row["candidate"], row["rung"])] = row
            return
        if self.folder.exists():
            for old in self.folder.glob("*.npz"):
                old.unlink()
        self.folder.mkdir(parents=True, exist_ok=True)
        from netdsl.dsl.files import write_text

        write_text(self.folder / "search.json", json.dumps(fingerprint, indent=1, sort_keys=True) + "\n")

    def tidy(self) -> None:
        for old in self.folder.glob("*.npz"):
            old.unlink()

    def run(self, counts, rung_epochs, n_jobs) -> list[dict]:
        """Every rung; the entries of `cv_results_` (one per candidate and rung)."""
        alive = list(range(len(self.candidates)))
        states: dict[int, list] = {}
        entries = []
        last = len(counts) - 1
        total = sum(counts)
        with Reporter(total, self.path, self.progress) as reporter:
            resumed = [row for key, row in sorted(self.done.items(), key=lambda kv: (kv[0][1], kv[0][0]))]
            if resumed:
                reporter.rows = list(resumed)
                reporter.columns = list(resumed[0])
                self.resumed = len(resumed)
            self.rows = reporter.rows
            for rung, epochs in enumerate(rung_epochs):
                keep_state = rung < last
                previous = rung_epochs[rung - 1] if rung else 0
                outcome = self._rung(rung, epochs, previous, alive, states, keep_state, reporter, n_jobs)
                entries.extend(outcome)
                scored = [(e["candidate"], e["mean_test_score"], e["failed"]) for e in outcome]
                if rung < last:
                    ranked = sorted((c for c, s, f in scored if not f and not math.isnan(s)),
                                    key=lambda c: (-next(s for cc, s, _ in scored if cc == c), c))
                    survivors = sorted(ranked[: counts[rung + 1]])
                else:
                    survivors = []
                failed_all = all(f for _, _, f in scored)
                for entry in outcome:
                    row = entry["row"]
                    row["status"] = ("failed" if entry["failed"] else "final" if rung == last
                                     else "promoted" if entry["candidate"] in survivors else "stopped")
                reporter.add([])  # the statuses, written
                if failed_all:
                    first = next((e["row"]["error"] for e in outcome if e["row"]["error"]), "")
                    where = f"; their rows are in {self.path}" if self.path is not None else ""
                    raise SearchError(
                        f"every fit of all {len(outcome)} candidates of rung {rung} failed (first error: {first}){where}",
                        finished=len(self.rows), total=total, rows=self.rows, results_path=self.path,
                    )
                if self.folder is not None:  # the checkpoints no rung will continue
                    for candidate in alive:
                        for fold in range(len(self.splits)):
                            _state_file(self.folder, candidate, rung - 1, fold).unlink(missing_ok=True)
                            if candidate not in survivors:
                                _state_file(self.folder, candidate, rung, fold).unlink(missing_ok=True)
                for candidate in list(states):
                    if candidate not in survivors:
                        del states[candidate]
                alive = survivors
                if not alive:
                    break
        return entries

    def _rung(self, rung, epochs, previous, alive, states, keep_state, reporter, n_jobs) -> list[dict]:
        """Run (or read back) the candidates `alive` at this rung; an entry per candidate, in order."""
        from joblib import Parallel, delayed

        n = len(self.splits)
        todo = [c for c in alive if (c, rung) not in self.done]
        results: dict[int, list] = {}
        for candidate in todo:
            if rung and candidate not in states:  # resumed: its checkpoints of the rung before, from disk
                from netdsl.estimators import checkpoint

                try:
                    states[candidate] = [checkpoint.load(_state_file(self.folder, candidate, rung - 1, fold))
                                         for fold in range(n)]
                except Exception as error:
                    raise SearchError(f"cannot resume candidate {candidate} at rung {rung}: its checkpoints are "
                                      f"missing or unreadable ({error}); run the search again without resume") from None
        tasks = [
            delayed(_run_task)(
                self.estimator, self.candidates[c], self.X, self.y, train, test, self.scorer,
                epochs,
                states[c][fold] if states.get(c) else None, keep_state, self.error_score,
            )
            for c in todo for fold, (train, test) in enumerate(self.splits)
        ]
        outputs = Parallel(n_jobs=n_jobs, return_as="generator")(tasks) if tasks else iter(())
        entries = {}
        for c in alive:
            if (c, rung) in self.done:
                entries[c] = self._entry_from_row(c, rung, self.done[(c, rung)])
        for c in todo:
            folds = [next(outputs) for _ in range(n)]
            for fold, result in enumerate(folds):
                self.epoch_folds += result["trained"]
                if result["state"] is not None and self.folder is not None:
                    from netdsl.estimators import checkpoint

                    checkpoint.save(result["state"], _state_file(self.folder, c, rung, fold))
            results[c] = folds
            if keep_state:
                states[c] = [r["state"] for r in folds]
            entry = self._entry(c, rung, epochs, folds)
            entries[c] = entry
            reporter.add([entry["row"]])
        return [entries[c] for c in alive]

    def _row(self, c, rung, epochs) -> dict:
        row: dict[str, Any] = {"candidate": c, "rung": rung, "epochs": epochs}
        for key, value in self.candidates[c].items():
            row[f"param_{key}"] = value if isinstance(value, (int, float, str, bool)) or value is None else repr(value)
        return row

    def _entry(self, c, rung, epochs, folds) -> dict:
        import numpy as np

        scores = np.array([r["score"] for r in folds], dtype=float)
        fit_times = np.array([r["fit_time"] for r in folds])
        score_times = np.array([r["score_time"] for r in folds])
        errors = [r["error"] for r in folds if r["error"] is not None]
        row = self._row(c, rung, epochs if epochs is not None else self.candidates[c].get(self.epochs_key, self.max_epochs))
        row["mean_test_score"], row["std_test_score"] = float(np.mean(scores)), float(np.std(scores))
        for k, score in enumerate(scores):
            row[f"split{k}_test_score"] = float(score)
        row["mean_fit_time"], row["std_fit_time"] = float(fit_times.mean()), float(fit_times.std())
        row["mean_score_time"], row["std_score_time"] = float(score_times.mean()), float(score_times.std())
        row["status"] = ""
        message = exception_text(errors[0]) if errors else ""
        if errors and len(errors) < len(folds):
            message = f"{len(errors)} of {len(folds)} folds failed: {message}"
        row["error"] = message
        return {"candidate": c, "rung": rung, "row": row, "mean_test_score": row["mean_test_score"], "failed": bool(errors)}

    def _entry_from_row(self, c, rung, row) -> dict:
        return {"candidate": c, "rung": rung, "row": row, "mean_test_score": float(row["mean_test_score"]),
                "failed": row["status"] == "failed" or bool(row.get("error"))}


def _results(search: NetSearch, entries: list[dict], candidates: list[dict]) -> None:
    """cv_results_ and the best_* attributes from the entries (rung by rung)."""
    import numpy as np

    n = len(entries)
    results: dict[str, Any] = {
        "iter": np.array([e["rung"] for e in entries]),
        "n_resources": np.array([int(e["row"]["epochs"]) for e in entries]),
        "params": [candidates[e["candidate"]] for e in entries],
        "candidate": np.array([e["candidate"] for e in entries]),
    }
    keys = sorted({k for c in candidates for k in c})
    for key in keys:
        column = np.ma.MaskedArray(np.empty(n, dtype=object), mask=True)
        for i, e in enumerate(entries):
            if key in candidates[e["candidate"]]:
                column[i] = candidates[e["candidate"]][key]
        results[f"param_{key}"] = column
    for k in range(search.n_splits_):
        results[f"split{k}_test_score"] = np.array([float(e["row"].get(f"split{k}_test_score", np.nan)) for e in entries])
    for name in ("mean_test_score", "std_test_score", "mean_fit_time", "std_fit_time", "mean_score_time", "std_score_time"):
        results[name] = np.array([float(e["row"].get(name, np.nan)) for e in entries])
    last = max(e["rung"] for e in entries)
    scores = results["mean_test_score"]
    order = sorted(range(n), key=lambda i: (-entries[i]["rung"], entries[i]["failed"] or math.isnan(scores[i]),
                                            -scores[i] if not math.isnan(scores[i]) else 0.0, entries[i]["candidate"]))
    ranks = np.empty(n, dtype=np.int32)
    ranks[order] = np.arange(1, n + 1)
    results["rank_test_score"] = ranks
    search.cv_results_ = results
    best = order[0]
    if entries[best]["failed"] or math.isnan(scores[best]) or entries[best]["rung"] != last:
        raise SearchError("every candidate of the last rung failed: there is no best candidate",
                          finished=len(search.search_rows_), total=len(search.search_rows_), rows=search.search_rows_,
                          results_path=None)
    search.best_index_ = int(best)
    search.best_params_ = dict(candidates[entries[best]["candidate"]])
    search.best_score_ = float(scores[best])
