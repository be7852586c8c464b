"""Successive halving against the exhaustive grid: `tune(strategy="halving")` on a digits-convnet
space of 48 candidates, 3 folds, up to 30 epochs, against netdsl's own grid over the same space,
scikit-learn's `HalvingGridSearchCV` over `NetClassifier` and scikeras's `GridSearchCV`.

The space is the file's own (`benchmarks/nets/cnn_space.net`: filters 4/8/16/32 x dense width
32/64/128 x learning rate 0.0003/0.001/0.003/0.01 = 48 candidates; `--space 144`:
`cnn_space_144.net`, the same 12 architectures with 12 learning rates from 0.0002 to 0.01, so
that only the epochs grow with the candidates, not the traces). Every contender searches it
with 3-fold CV on the 1,797 digits, refits its best on all of them, n_jobs=1 (`--jobs N` for every
search, `--scikeras-jobs M` for scikeras's apart, `--workers threads|processes` for where netdsl's
run; the labels say so), each in a fresh process, once:

- netdsl's grid: `tune(strategy="grid")`: 48 x 3 x 30 epochs (`--contenders grid_search,...`: also
  by `grid_search`, the GridSearchCV that came before tune).
- netdsl's halving: `tune(strategy="halving", factor=F, min_epochs=M)` for each of SCHEDULES;
  each rung's survivors continue from where they stopped. Its budget is counted from its results:
  the sum over rungs of survivors x folds x the epochs added at that rung. Its pick is looked up in
  the grid's results (the same seed and folds): the pick's full-budget mean CV accuracy against
  the grid's best.
- scikit-learn's `HalvingGridSearchCV(NetClassifier(...), resource="epochs")` with each
  schedule's factor and minimum (its own rungs: max_resources=30, which it may not reach),
  retraining each survivor from scratch at every rung.
- scikeras: 48 x 3 x 30 epochs would take most of an hour here, so it searches a sample of
  SCIKERAS_SAMPLE candidates spread over the space (every filter count and width, all 3 folds, 30
  epochs, no refit) and its time for all 48 is extrapolated per candidate (stated in the table).

`--replay` adds what every schedule (factor 2-6, first rung 1-3 epochs) would pick: each
candidate is trained on each fold once, by warm starts, and scored after every epoch count a
schedule stops at; a schedule's picks are then replayed from those scores (the same continuation
as tune's rungs: the measured runs' picks are checked against their replays).

    python -m benchmarks.halving                # full (about 5 minutes on 2 quiet cores)
    python -m benchmarks.halving --replay       # and the replayed schedules (about 5 minutes more)
    python -m benchmarks.halving --space 144    # the 144-candidate space (about 20 minutes on 2 AMD EPYC cores)
    python -m benchmarks.halving --quick        # 4 candidates, 2 folds, up to 4 epochs, 600 rows
    python -m benchmarks.halving --space 144 --schedules 3:1 --jobs 2 --scikeras-jobs 1   # both cores, each its fastest way
"""

from __future__ import annotations

import importlib
import math
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a file: python benchmarks/halving.py
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    __package__ = "benchmarks"

from benchmarks.common import NETS, Table, Timer, digits, ratio, script_main, try_in_fresh_process

# The searched spaces, each the file's own: 48 candidates (the goal's least), and the same 12
# architectures with 12 learning rates (144): `--space`.
SPACES = {48: NETS / "cnn_space.net", 144: NETS / "cnn_space_144.net"}
NET = SPACES[48]
FOLDS = 3
MAX_EPOCHS = 30  # the file's `epochs`
# The halvings (factor, first rung's epochs) run by default. `tune` schedules as scikit-learn's
# HalvingGridSearchCV does (as many rungs as both needed and possible), the last at 30 epochs; on
# 48 candidates only a first rung of 1 epoch keeps the budget under 20% of the grid's: factor 3
# gives rungs of 48, 16, 6, 2 candidates at 1, 3, 9, 30 epochs (474 epochs x folds, 11.0%; tune's
# default, scikit-learn's "exhaust"), factor 6 gives 48 and 8 at 1 and 30 (840, 19.4%); from 2
# epochs there is room for 3 rungs only (factor 3: 2, 6, 30 epochs, 21.1%). Factor 3 was chosen
# by the budget alone; factor 6 after `--replay` showed that factor 3's 1-3-9 epoch rungs drop
# the best candidate (a learning rate of 0.003 is still behind 0.01 then), so its row is a
# result on this space, not a choice made blind.
SCHEDULES = [(3, 1), (6, 1)]
SEED = 0
BATCH_SIZE = 32
# (filters, width, learning rate) of the candidates scikeras searches: each filter count and width
# at least once, the learning rates in turn.
SCIKERAS_SAMPLE = [(4, 32, 0.0003), (4, 128, 0.001), (8, 64, 0.003), (16, 32, 0.01), (16, 128, 0.0003), (32, 64, 0.001)]
# --quick: a small space overriding the file's, a few rows, epochs and folds.
QUICK = {"space": {"filters": [8, 16], "width": [32], "lr": [0.001, 0.003]}, "epochs": 4, "schedules": [(2, 1)],
         "folds": 2, "rows": 600, "scikeras": [(8, 32, 0.001)]}  # fmt: skip
CONTENDERS = ("grid", "grid_search", "halving", "sklearn_halving", "scikeras")
DEFAULT_CONTENDERS = ("grid", "halving", "sklearn_halving", "scikeras")  # grid_search: a second grid, on request
LABELS = {
    "grid": "netdsl tune(strategy=\"grid\")",
    "grid_search": "netdsl grid_search (GridSearchCV)",
    "halving": "netdsl tune(strategy=\"halving\")",
    "sklearn_halving": "sklearn HalvingGridSearchCV(NetClassifier)",
    "scikeras": "scikeras GridSearchCV (extrapolated)",
}


def schedule(n_candidates: int, min_epochs: int, factor: int, max_epochs: int) -> list[tuple[int, int]]:
    """(candidates, epochs) of each rung of `tune`'s successive halving (its own `schedule`)."""
    from netdsl.pipelines.tuning import schedule as rungs

    counts, epochs = rungs(n_candidates, max_epochs, min_epochs, factor)
    return list(zip(counts, epochs))


def budget(rungs, folds: int, continued: bool) -> int:
    """Epochs x folds trained by `rungs`: survivors continue (the epochs each rung adds) or retrain
    from scratch (all the rung's epochs)."""
    total, before = 0, 0
    for n, epochs in rungs:
        total += n * folds * (epochs - (before if continued else 0))
        before = epochs
    return total


def _space(quick: bool, net=NET) -> dict:
    from netdsl.pipelines.search import search_space

    space = search_space(str(net))
    if quick:
        space.update(QUICK["space"])
    return space


def _key(params: dict) -> tuple:
    """A candidate's identity across searches: its file params (not `epochs`), rounded."""
    return tuple(sorted((k, round(float(v), 12)) for k, v in params.items() if k != "epochs"))


def _where_time_went(search, folds: int, seconds: float) -> dict:
    """Seconds in the tasks' fits and scoring (from cv_results_), in the refit, and the rest."""
    results = search.cv_results_
    fits = float(sum(results["mean_fit_time"])) * folds
    scoring = float(sum(results["mean_score_time"])) * folds
    refit = float(getattr(search, "refit_time_", 0.0))
    return {"fits": fits, "scoring": scoring, "refit": refit, "rest": seconds - fits - scoring - refit}


def _estimator(epochs: int, net=NET):
    from netdsl.estimators import NetClassifier

    return NetClassifier(str(net), epochs=epochs, batch_size=BATCH_SIZE, random_state=SEED, verbose=0)


def _start_keras():
    """Keras started as netdsl's first fit starts it (`runtime.start_keras`), before the timed
    search: the others import Keras before theirs (as grid_search.py does)."""
    from netdsl.estimators import runtime

    runtime.start_keras()


def run_grid(epochs: int, folds: int, n_rows, quick: bool, older: bool = False, net=NET, n_jobs: int = 1,
             workers: str = "threads") -> dict:
    """netdsl's exhaustive grid over the file's space: every candidate's mean CV accuracy
    (`older`: by `grid_search`, the GridSearchCV that came before `tune`)."""
    from netdsl.pipelines import grid_search, tune

    X, y = digits(n_rows)
    _start_keras()

    with Timer() as t:
        if not older:
            search = tune(str(net), X, y, strategy="grid", param_grid=QUICK["space"] if quick else None, cv=folds,
                          n_jobs=n_jobs, workers=workers, estimator=_estimator(epochs, net), random_state=SEED)  # fmt: skip
            how = 'tune(strategy="grid")'
        else:
            search = grid_search(str(net), X, y, QUICK["space"] if quick else None, cv=folds, n_jobs=n_jobs, workers=workers,
                                 estimator=_estimator(epochs, net))
            how = "grid_search"
    results = search.cv_results_
    scores = {_key(p): float(s) for p, s in zip(results["params"], results["mean_test_score"])}
    return {
        "seconds": t.seconds,
        "how": how,
        "scores": scores,
        "best_params": _key(search.best_params_),
        "best": float(search.best_score_),
        "budget": len(scores) * folds * epochs,
        "candidates": len(scores),
        "time": _where_time_went(search, folds, t.seconds),
        "where": getattr(search, "where_", None),
        "n_jobs": n_jobs,
    }


def run_halving(epochs: int, folds: int, n_rows, quick: bool, min_epochs: int, factor: int, net=NET, n_jobs: int = 1,
                workers: str = "threads") -> dict:
    """netdsl's successive halving: its pick, its rungs, the epochs it really trained."""
    from netdsl.pipelines import tune

    X, y = digits(n_rows)
    _start_keras()

    with Timer() as t:
        search = tune(str(net), X, y, strategy="halving", param_grid=QUICK["space"] if quick else None, cv=folds,
                      n_jobs=n_jobs, workers=workers, estimator=_estimator(epochs, net), random_state=SEED, min_epochs=min_epochs,
                      factor=factor)  # fmt: skip
    results = search.cv_results_
    reached: dict[tuple, int] = {}  # candidate -> epochs trained so far
    trained, rungs = 0, {}
    for params, rung, n_epochs in sorted(zip(results["params"], results["iter"], results["n_resources"]), key=lambda r: r[1]):
        key = _key(params)
        trained += folds * (int(n_epochs) - reached.get(key, 0))
        reached[key] = int(n_epochs)
        rungs.setdefault(int(rung), [0, int(n_epochs)])[0] += 1
    return {
        "seconds": t.seconds,
        "best_params": _key(search.best_params_),
        "best": float(search.best_score_),
        "budget": trained,
        "rungs": [tuple(rungs[i]) for i in sorted(rungs)],
        "candidates": len(reached),
        "counted_by_tune": getattr(search, "epoch_folds_", None),
        "time": _where_time_went(search, folds, t.seconds),
        "where": getattr(search, "where_", None),
        "n_jobs": n_jobs,
    }


def run_sklearn_halving(epochs: int, folds: int, n_rows, quick: bool, min_epochs: int, factor: int, net=NET,
                        n_jobs: int = 1) -> dict:
    """scikit-learn's HalvingGridSearchCV over NetClassifier, the resource epochs (from scratch each rung)."""
    importlib.import_module("sklearn.experimental.enable_halving_search_cv")  # scikit-learn's switch for it
    from sklearn.model_selection import HalvingGridSearchCV

    X, y = digits(n_rows)
    _start_keras()

    search = HalvingGridSearchCV(
        _estimator(epochs, net), _space(quick, net), factor=factor, resource="epochs", min_resources=min_epochs,
        max_resources=epochs, cv=folds, scoring="accuracy", n_jobs=n_jobs, random_state=SEED,
        return_train_score=False, error_score="raise",
    )  # fmt: skip
    with Timer() as t:
        search.fit(X, y)
    rungs = list(zip(search.n_candidates_, search.n_resources_))
    return {
        "seconds": t.seconds,
        "best_params": _key(search.best_params_),
        "best": float(search.best_score_),
        "budget": budget(rungs, folds, continued=False),
        "rungs": rungs,
        "candidates": int(search.n_candidates_[0]),
        "time": _where_time_went(search, folds, t.seconds),
        "n_jobs": n_jobs,
    }


def run_scikeras(epochs: int, folds: int, n_rows, sample, n_jobs: int = 1) -> dict:
    """scikeras's GridSearchCV over `sample` (filters, width, learning rate): time per candidate."""
    from scikeras.wrappers import KerasClassifier
    from sklearn.model_selection import GridSearchCV

    from benchmarks.models import cnn

    X, y = digits(n_rows)
    importlib.import_module("keras")  # not part of the timed search
    estimator = KerasClassifier(
        model=cnn, loss="sparse_categorical_crossentropy", optimizer="adam", epochs=epochs,
        batch_size=BATCH_SIZE, verbose=0, model__filters=16, model__width=64,
    )  # fmt: skip
    grid = [{"model__filters": [f], "model__width": [w], "optimizer__learning_rate": [lr]} for f, w, lr in sample]
    search = GridSearchCV(estimator, grid, cv=folds, n_jobs=n_jobs, scoring="accuracy", refit=False, error_score="raise")
    with Timer() as t:
        search.fit(X, y)
    return {"seconds": t.seconds, "per_candidate": t.seconds / len(sample), "sampled": len(sample)}


def run_curves(epochs: int, folds: int, n_rows, quick: bool, stops, net=NET) -> list[dict]:
    """Every candidate's test accuracy on every fold after each of `stops` epochs, trained as
    warm starts of one estimator per candidate and fold (what a rung's continuation does): the
    data to replay any schedule (`replay`)."""
    from sklearn.model_selection import ParameterGrid, check_cv

    from netdsl.estimators import NetClassifier

    X, y = digits(n_rows)
    splits = list(check_cv(folds, y, classifier=True).split(X, y))
    curves = []
    for params in ParameterGrid(_space(quick, net)):  # tune's order of the candidates
        per_fold = []
        for train, test in splits:
            estimator = NetClassifier(str(net), batch_size=BATCH_SIZE, random_state=SEED, verbose=0, warm_start=True, **params)
            done, scores = 0, {}
            for stop in stops:
                estimator.set_params(epochs=stop - done).fit(X[train], y[train])
                done, scores[stop] = stop, float(estimator.score(X[test], y[test]))
            per_fold.append(scores)
        curves.append({"params": _key(params), "scores": {stop: sum(f[stop] for f in per_fold) / len(per_fold) for stop in stops}})
    return curves


def replay(curves: list[dict], rungs) -> int:
    """The index of the candidate that successive halving with `rungs` picks, from `curves`: at
    each rung the best by mean CV accuracy go on, ties to the earlier candidate (as `tune`)."""
    alive = list(range(len(curves)))
    for i, (_, epochs) in enumerate(rungs):
        ranked = sorted(alive, key=lambda c: (-curves[c]["scores"][epochs], c))
        if i + 1 < len(rungs):
            alive = sorted(ranked[: rungs[i + 1][0]])
    return ranked[0]


def _acc(value: float) -> str:
    """Accuracies to 4 decimals (the goal is a gap of 0.005)."""
    return "n/a" if value != value else f"{value:.4f}"


def _params_text(key) -> str:
    return ", ".join(f"{k}={v:g}" for k, v in key) if key else "-"


def _schedules(text: str | None, quick: bool) -> list[tuple[int, int]]:
    if not text:
        return QUICK["schedules"] if quick else SCHEDULES
    try:
        return [tuple(int(n) for n in part.split(":")) for part in text.split(",") if part.strip()]
    except ValueError:
        raise SystemExit(f"--schedules takes FACTOR:MIN_EPOCHS pairs, comma-separated (3:1,6:1), got {text!r}") from None


def _halving_label(factor: int, min_epochs: int) -> str:
    return f"netdsl tune halving, factor {factor} from {min_epochs} epoch{'s' * (min_epochs != 1)}"


def run(quick=False, schedules=None, contenders=",".join(DEFAULT_CONTENDERS), replay_schedules=False, space=48,
        jobs=1, scikeras_jobs=None, workers="threads"):
    net = SPACES[space]
    scikeras_jobs = jobs if scikeras_jobs is None else scikeras_jobs
    epochs = QUICK["epochs"] if quick else MAX_EPOCHS
    folds = QUICK["folds"] if quick else FOLDS
    n_rows = QUICK["rows"] if quick else None
    sample = QUICK["scikeras"] if quick else SCIKERAS_SAMPLE
    schedules = _schedules(schedules, quick)
    names = [c.strip() for c in contenders.split(",") if c.strip()]
    unknown = sorted(set(names) - set(CONTENDERS))
    if unknown:
        raise SystemExit(f"unknown contender: {', '.join(unknown)} (contenders: {', '.join(CONTENDERS)})")
    calls = []  # (label, kind, call)
    for name in names:
        if name == "grid":
            calls.append((LABELS[name], name, (run_grid, epochs, folds, n_rows, quick)))
        elif name == "grid_search":
            calls.append((LABELS[name], name, (run_grid, epochs, folds, n_rows, quick, True)))
        elif name == "halving":
            for factor, min_epochs in schedules:
                calls.append((_halving_label(factor, min_epochs), name, (run_halving, epochs, folds, n_rows, quick, min_epochs, factor)))
        elif name == "sklearn_halving":
            for factor, min_epochs in schedules:
                calls.append((f"{LABELS[name]}, factor {factor} from {min_epochs}", name,
                              (run_sklearn_halving, epochs, folds, n_rows, quick, min_epochs, factor)))  # fmt: skip
        else:
            calls.append((LABELS[name], name, (run_scikeras, epochs, folds, n_rows, sample)))
    found = []
    for label, kind, call in calls:
        n_jobs = scikeras_jobs if kind == "scikeras" else jobs
        ours = kind in ("grid", "grid_search", "halving")  # netdsl's searches: on `workers`
        label = label if n_jobs == 1 else f"{label}, n_jobs={n_jobs}" + (f" ({workers})" if ours else "")
        extra = {} if kind == "scikeras" else {"net": net, **({"workers": workers} if ours else {})}
        result, error = try_in_fresh_process(*call, n_jobs=n_jobs, **extra)
        found.append((label, kind, call, result or {"error": error}))
        shown = f"{result['seconds']:.1f} s" if result else error
        print(f"  {label:60} {shown}", file=sys.stderr, flush=True)

    n_candidates = math.prod(_space_sizes(quick, net))
    grid_budget = n_candidates * folds * epochs
    grids = {kind: r for _, kind, _, r in found if kind in ("grid", "grid_search") and "seconds" in r}
    grid = grids.get("grid", grids.get("grid_search", {}))  # the scores every pick is looked up in
    scores = grid.get("scores", {})
    grid_best = grid.get("best", float("nan"))
    scikeras = next((r for _, kind, _, r in found if kind == "scikeras"), {})
    scikeras_seconds = scikeras.get("per_candidate", float("nan")) * n_candidates
    sklearn = {(call[-1], call[-2]): r for _, kind, call, r in found if kind == "sklearn_halving"}  # (factor, min) -> result

    rows = f"{n_rows} rows" if n_rows else "1797 rows"
    table = Table(
        f"Successive halving, digits convnet space ({n_candidates} candidates x {folds} folds, up to {epochs} epochs, {rows})",
        ["contender", "wall s", "epochs x folds", "of the grid's", "best candidate", "its CV acc", "its CV acc at full budget", "gap to the grid's best"],
    )
    goals = Table("Goals (issue 18): successive halving", ["goal", "measured", "met"])
    for label, kind, call, r in found:
        if "error" in r:
            table.add(label, "-", "-", "-", "-", "-", "-", "-")
            table.notes.append(f"{label} failed: {r['error']}")
            continue
        if kind == "scikeras":
            table.add(label, scikeras_seconds, grid_budget, "100%", "-", "-", "-", "-")
            table.notes.append(
                f"scikeras: searched {r['sampled']} of the {n_candidates} candidates "
                f"({'; '.join(f'filters={f}, width={w}, lr={lr:g}' for f, w, lr in sample)}), {folds} folds, {epochs} epochs, "
                f"no refit, in {r['seconds']:.1f} s = {r['per_candidate']:.1f} s a candidate; its row is that x {n_candidates}: "
                "extrapolated, not measured"
            )
            continue
        full = scores.get(r["best_params"], float("nan"))
        table.add(label, r["seconds"], r["budget"], f"{100 * r['budget'] / grid_budget:.1f}%", _params_text(r["best_params"]),
                  _acc(r["best"]), _acc(full), _acc(grid_best - full))  # fmt: skip
        if "time" in r:
            spent = r["time"]
            where = f", the fits {r['where']}" if r.get("where") else ""
            if r.get("n_jobs", 1) == 1:
                rest = f", {spent['rest']:.1f} s the rest (the search's own work)"
            else:  # the tasks' times are summed over the workers: they ran at once
                rest = " (the tasks' times summed over the workers, which ran at once)"
            table.notes.append(f"{label}: {spent['fits']:.1f} s in the fits{where}, {spent['scoring']:.1f} s scoring, "
                               f"{spent['refit']:.1f} s refitting{rest}")  # fmt: skip
        if kind == "sklearn_halving":
            table.notes.append(f"HalvingGridSearchCV's rungs (candidates, epochs): {r['rungs']} (max_resources={epochs}), each from scratch")
        if kind != "halving":
            continue
        min_epochs, factor = call[-2], call[-1]
        planned = schedule(n_candidates, min_epochs, factor, epochs)
        table.notes.append(
            f"{label}: rungs (candidates, epochs) {r['rungs']} (planned {planned}); {r['budget']} epochs x folds counted "
            f"from its results ({r.get('counted_by_tune')} by tune's `epoch_folds_`), {budget(planned, folds, False)} "
            "had each rung started from scratch"
        )
        name = f"factor {factor} from {min_epochs}"
        if scores:
            goals.add(f"{name}: within 0.005 of the grid's best CV accuracy", f"{full:.4f} against {grid_best:.4f} (gap {grid_best - full:.4f})", _yes(grid_best - full <= 0.005))
        share = r["budget"] / grid_budget
        goals.add(f"{name}: at most 20% of the grid's epochs x folds", f"{r['budget']} of {grid_budget} ({100 * share:.1f}%)", _yes(share <= 0.2))
        for grid_kind, grid_run in grids.items():
            goals.add(f"{name}: at least 5x less wall time than netdsl's grid ({grid_run['how']})",
                      f"{grid_run['seconds']:.1f} s against {r['seconds']:.1f} s: {ratio(grid_run['seconds'], r['seconds'])}",
                      _yes(grid_run["seconds"] / r["seconds"] >= 5))  # fmt: skip
        if "per_candidate" in scikeras:
            goals.add(f"{name}: at least 50x scikeras's GridSearchCV (extrapolated)", f"{scikeras_seconds:.0f} s against {r['seconds']:.1f} s: {ratio(scikeras_seconds, r['seconds'])}",
                      _yes(scikeras_seconds / r["seconds"] >= 50))  # fmt: skip
        theirs = sklearn.get((factor, min_epochs), {})
        if "seconds" in theirs:
            goals.add(f"{name}: against HalvingGridSearchCV(NetClassifier) with the same factor and minimum (no goal)",
                      f"{theirs['seconds']:.1f} s against {r['seconds']:.1f} s: {ratio(theirs['seconds'], r['seconds'])}", "-")  # fmt: skip
    table.notes.append(
        "\"its CV acc at full budget\": the candidate's mean CV accuracy in netdsl's grid "
        f"({grid.get('how', '-')}, {epochs} epochs, the same seed {SEED} and folds); wall times include the refit of the best "
        "(scikeras: none)"
    )
    tables = [table, goals]
    if replay_schedules:
        tables.append(_replay_table(epochs, folds, n_rows, quick, n_candidates, found, net))
    return tables


def _replay_table(epochs, folds, n_rows, quick, n_candidates, found, net=NET) -> Table:
    """Every schedule of factor 2-6 from 1-3 epochs replayed from the candidates' curves."""
    options = [(f, m) for f in range(2, 7) for m in range(1, 4) if m <= epochs]
    plans = {option: schedule(n_candidates, option[1], option[0], epochs) for option in options}
    stops = sorted({e for rungs in plans.values() for _, e in rungs})
    with Timer() as t:
        curves, error = try_in_fresh_process(run_curves, epochs, folds, n_rows, quick, stops, net=net)
    table = Table(
        "Successive halving replayed: every factor and first rung, from each candidate's CV accuracy after each rung's epochs",
        ["factor", "first rung", "rungs (candidates@epochs)", "epochs x folds", "of the grid's", "pick", "its CV acc at full budget", "gap to the best"],
    )
    if curves is None:
        table.notes.append(f"the curves failed: {error}")
        return table
    full = [c["scores"][epochs] for c in curves]
    best = max(full)
    for (factor, min_epochs), rungs in plans.items():
        pick = replay(curves, rungs)
        spent = budget(rungs, folds, True)
        table.add(factor, min_epochs, " ".join(f"{n}@{e}" for n, e in rungs), spent, f"{100 * spent / (n_candidates * folds * epochs):.1f}%",
                  _params_text(curves[pick]["params"]), _acc(full[pick]), _acc(best - full[pick]))  # fmt: skip
    measured = {(call[-1], call[-2]): r for _, kind, call, r in found if kind == "halving" and "best_params" in r}
    agree = [f"factor {f} from {m}: " + ("the same pick" if r["best_params"] == curves[replay(curves, plans[(f, m)])]["params"] else "another pick")
             for (f, m), r in measured.items() if (f, m) in plans]  # fmt: skip
    table.notes.append(
        f"curves: each candidate trained on each fold by warm starts, scored after {stops} epochs ({t.seconds:.0f} s); "
        f"the best at full budget {best:.4f}, {sum(s >= best - 0.005 for s in full)} candidate(s) within 0.005 of it"
        + ("; against the measured runs above: " + ", ".join(agree) if agree else "")
    )
    return table


def _yes(ok: bool) -> str:
    return "yes" if ok else "**no**"


def _space_sizes(quick: bool, net=NET):
    """How many values each entry of the searched space has (the parent never imports TensorFlow;
    netdsl.pipelines.search does not either)."""
    return [len(values) for values in _space(quick, net).values()]


def _arguments(p):
    p.add_argument("--schedules", help="the halvings to run, FACTOR:MIN_EPOCHS comma-separated (default "
                   + ",".join(f"{f}:{m}" for f, m in SCHEDULES) + "; --quick " + ",".join(f"{f}:{m}" for f, m in QUICK["schedules"])
                   + "); HalvingGridSearchCV runs each too")  # fmt: skip
    p.add_argument("--contenders", default=",".join(DEFAULT_CONTENDERS),
                   help="comma-separated: " + ", ".join(CONTENDERS) + " (default: all but grid_search; none: --contenders= --replay)")
    p.add_argument("--space", type=int, choices=sorted(SPACES), default=48,
                   help="the searched space: 48 candidates (nets/cnn_space.net) or 144, the same 12 architectures with 12 learning rates "
                   "(nets/cnn_space_144.net)")
    p.add_argument("--replay", dest="replay_schedules", action="store_true",
                   help="also replay every schedule (factor 2-6 from 1-3 epochs) from each candidate's curve (5-10 minutes more)")
    p.add_argument("--jobs", type=int, default=1,
                   help="n_jobs of every search (default 1): netdsl's on --workers")
    p.add_argument("--workers", choices=("threads", "processes"), default="threads",
                   help="where netdsl's searches run their --jobs fits: threads of the process (default) or worker processes")
    p.add_argument("--scikeras-jobs", type=int, dest="scikeras_jobs",
                   help="scikeras's n_jobs apart (default: --jobs): on 2 cores its fits already use both through TensorFlow's threads")


if __name__ == "__main__":
    script_main(run, __doc__.splitlines()[0], _arguments)
