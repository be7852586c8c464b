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
in threads of it (`n_jobs`), in loky worker processes (`n_jobs` with `workers="processes"`) or on
a Dask cluster (`scheduler`), as in
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

import contextlib
import math
import numbers
import time
from pathlib import Path
from typing import Any, Callable

from netdsl.dsl import read_source
from netdsl.pipelines.errors import SearchError
from netdsl.pipelines.search import (
    check_grid, default_estimator, full_grid, net_step, plain_value, read_net, remote_net, with_seed,
)
from netdsl.pipelines.search_results import results_lock
from netdsl.pipelines.search_workers import backend, worker_died
from netdsl.pipelines.tuning_rungs import Rungs, check_halvable, fingerprint, stored_seed

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
    possible = 1 + int(math.floor(math.log(max_epochs // min_epochs, factor) + 1e-9))
    rungs = max(1, min(required, possible))
    epochs = [min(min_epochs * factor**i, max_epochs) for i in range(rungs)]
    epochs[-1] = max_epochs
    counts = [n_candidates]
    for _ in range(1, rungs):
        counts.append(math.ceil(counts[-1] / factor))
    return counts, epochs


# ---- one task ---------------------------------------------------------------------------------------------


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
        return [{k: plain_value(v) for k, v in c.items()} for c in ParameterGrid(space)]
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
    return [{k: plain_value(v) for k, v in c.items()} for c in drawn]


def full_epochs(estimator, spec) -> int:
    """The full budget: the estimator's `epochs`, else the file's."""
    prefix, net = net_step(estimator)
    return int(net._settings(spec)["epochs"])


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
    workers: str = "threads",
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

    net, X, y, param_grid, cv, scheduler, n_jobs, workers, estimator, progress: as for `grid_search`
    (`param_grid`'s entries may be lists or scipy distributions). `strategy`: "grid", "random" or
    "halving". `n_candidates`: how many random and halving draw (random's default 10; halving over
    lists only: the whole grid). `min_epochs`, `factor`: halving's first rung (default as
    scikit-learn's "exhaust") and the factor by which epochs grow and candidates shrink (>= 2).
    `random_state`: the draws' seed, and the training's for an estimator without its own (with
    `resume` and no `random_state`: the seed the resumed search drew).
    `results_path`: the CSV of rows (its `.states` folder beside it); `resume=PATH` continues the
    search that wrote PATH. `scoring`, `refit`, `error_score`: as scikit-learn's searches (one metric)."""
    from sklearn.base import clone, is_classifier
    from sklearn.metrics import check_scoring
    from sklearn.model_selection import check_cv

    from netdsl.estimators import fast

    results_path = _checked_settings(strategy, n_candidates, min_epochs, factor, scoring, results_path, resume)
    spec = read_net(net)
    estimator = estimator if estimator is not None else default_estimator(net, y)
    prefix, net_estimator = net_step(estimator)
    if net_estimator is None:
        raise SearchError("the estimator must be a netdsl estimator or a pipeline with one as a step")
    space = check_grid(full_grid(spec, param_grid, sampled=strategy != "grid"), spec, estimator)
    if strategy == "halving":
        check_halvable(estimator, space)
    own = sorted((k, repr(v)) for k, v in estimator.get_params(deep=False).items() if k != "net")  # as given
    estimator, seed = _seeded(estimator, random_state, resume)
    candidates = _candidates(space, strategy, n_candidates, seed)
    max_epochs = full_epochs(estimator, spec)
    halving = strategy == "halving"
    counts, rung_epochs = schedule(len(candidates), max_epochs, min_epochs, factor) if halving else ([len(candidates)], [None])
    folds = check_cv(cv, y, classifier=is_classifier(estimator))
    splits = list(folds.split(X, y))
    scorer = check_scoring(estimator, scoring=scoring)
    path = Path(results_path) if results_path is not None else None
    rungs = Rungs(remote_net(estimator) if scheduler is not None else estimator, candidates, X, y, splits, scorer,
                  error_score, path, progress, max_epochs, prefix + "epochs")
    if path is not None:
        text = read_source(net_estimator.net)[0] if net_estimator.net is not None else repr(spec)
        settings = {"strategy": strategy, "n_candidates": n_candidates, "min_epochs": min_epochs, "factor": factor,
                    "seed": seed, "scoring": scoring, "error_score": error_score, "estimator": own}
        rungs.fingerprint = fingerprint(text, space, settings, folds, X, y)
    search = NetSearch()
    with fast.keeping(len(candidates)):  # the rungs come back to the candidates' graphs, the refit to the best's
        search.where_, entries = _run(rungs, path, resume is not None, (scheduler, n_jobs, workers), counts, rung_epochs)
        search.search_rows_, search.resumed_, search.epoch_folds_ = rungs.rows, rungs.resumed, rungs.epoch_folds
        search.grid_epoch_folds_ = len(splits) * sum(int(c.get(prefix + "epochs", max_epochs)) for c in candidates)
        _schedule_attributes(search, counts, rung_epochs if halving else [max_epochs], factor, len(candidates))
        search.n_splits_, search.scorer_ = len(splits), scorer
        _results(search, entries, candidates)
        if refit:
            started = time.perf_counter()
            search.best_estimator_ = clone(estimator).set_params(**search.best_params_).fit(X, y)
            search.refit_time_ = time.perf_counter() - started
    return search


def _seeded(estimator, random_state, resume=None) -> tuple:
    """(estimator, seed): one seed for every fit of the search (the module docstring says why), set
    on the estimator unless it has its own `random_state`; without a `random_state`, a resumed
    search's is the seed it drew (else it could never be resumed)."""
    import numpy as np

    from netdsl.estimators.seeding import as_int

    if random_state is None and resume is not None:
        random_state = stored_seed(resume)
    seed = as_int(random_state) if random_state is not None else int(np.random.SeedSequence().generate_state(1)[0] >> 1)
    return with_seed(estimator, seed), seed


def _checked_settings(strategy, n_candidates, min_epochs, factor, scoring, results_path, resume):
    """SearchError for settings that do not go together; the results path (resume's, when given)."""
    if strategy not in STRATEGIES:
        raise SearchError(f"unknown strategy {strategy!r}: choose one of {', '.join(STRATEGIES)}")
    if strategy != "halving" and (min_epochs is not None or factor != 3):
        raise SearchError(f"min_epochs and factor are settings of halving, not of a {strategy} search")
    if strategy == "grid" and n_candidates is not None:
        raise SearchError("a grid tries every combination: n_candidates (--candidates) is for random and halving")
    for name, value in (("n_candidates", n_candidates), ("min_epochs", min_epochs), ("factor", factor)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, numbers.Integral)):
            raise SearchError(f"{name} must be a whole number, got {value!r}")
    if isinstance(scoring, (list, tuple, set, dict)):
        raise SearchError("tune ranks candidates by one score: give scoring one metric")
    if resume is None:
        return results_path
    if results_path is not None and Path(results_path).resolve() != Path(resume).resolve():
        raise SearchError(f"resume={resume} continues that file: give no other results_path ({results_path})")
    if not Path(resume).is_file():
        raise SearchError(f"nothing to resume: {resume} does not exist")
    return resume


def _run(rungs, path, resuming: bool, parallel: tuple, counts, rung_epochs) -> tuple[str, list]:
    """Every rung, under the results lock and the workers' backend (`parallel`: scheduler, n_jobs,
    workers): (where the tasks ran, in words; the entries)."""
    n_jobs = parallel[1]
    with (results_lock(path) if path is not None else contextlib.nullcontext()):
        if path is not None:
            rungs.prepare(resuming)
        with backend(*parallel) as where:
            try:
                entries = rungs.run(counts, rung_epochs, n_jobs)
            except Exception as error:
                if not worker_died(error):
                    raise
                raise SearchError(
                    f"the search stopped: a worker process died ({type(error).__name__}); {len(rungs.rows)} rows finished"
                    + (f"; resume it with resume={path} (--resume {path})" if path is not None else ""),
                    finished=len(rungs.rows), total=sum(counts), rows=rungs.rows, results_path=path,
                ) from error
        if path is not None:
            rungs.tidy()
    return where, entries


def _schedule_attributes(search, counts, resources, factor, n_candidates) -> None:
    """scikit-learn's halving attributes: n_candidates_, n_resources_, n_iterations_, ..."""
    search.n_candidates_, search.n_resources_, search.factor = counts, resources, factor
    search.n_iterations_ = len(counts)
    search.min_resources_, search.max_resources_ = resources[0], resources[-1]
    search.n_required_iterations_ = 1 + int(math.floor(math.log(max(n_candidates, 1), factor) + 1e-9)) if len(counts) > 1 else 1
    search.n_possible_iterations_ = (1 + int(math.floor(math.log(resources[-1] // resources[0], factor) + 1e-9))
                                     if len(counts) > 1 else 1)


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
