"""Grid search speed: `GridSearchCV(NetClassifier(...))` against scikeras, Keras's own
`keras.wrappers.SKLearnClassifier` and scikit-learn's `MLPClassifier`, on the 8x8 digits.

Four nets (benchmarks/nets/*.net and the same models in benchmarks/models.py): the 64-128-10 MLP,
the digits convnet, an LSTM over the 8 rows and a residual MLP (a graph: two `residual { }` blocks
of two dense layers, built by hand with Keras's functional API for the wrappers). Each grid is the net's size hyperparameter (2
values) x Adam's learning rate (4 values) = 8 candidates, 3-fold CV, 10 epochs, batch 32, refit of
the best; a fifth, `arch`, is the MLP with 4 widths (32, 64, 128, 256) x 2 learning rates, a new
architecture every other candidate; every contender gets the same X (pixels / 16, flat), the same candidates and n_jobs=1
(the `*_jobs` contenders, on request: n_jobs=2 on joblib's threads).
Each contender runs in a fresh process per repeat, contenders interleaved across repeats (the
order rotates). Reported: median wall time of `GridSearchCV.fit`, the best candidate's mean CV
accuracy and the mean over candidates, and how many times faster netdsl is.

    python -m benchmarks.grid_search            # full: 3 repeats
    python -m benchmarks.grid_search --quick    # 1 repeat, 2 candidates, 2 folds, 1 epoch, 600 rows
"""

from __future__ import annotations

import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a file: python benchmarks/grid_search.py
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    __package__ = "benchmarks"

from benchmarks.common import (
    NETS, Table, Timer, add_search_row, digits, fastest_sides, median, script_main, try_in_fresh_process,
)

# grid name -> (net file, name of its size hyperparameter, its values)
GRIDS = {
    "mlp": ("mlp.net", "units", [64, 128]),
    "cnn": ("cnn.net", "filters", [8, 16]),
    "lstm": ("lstm.net", "units", [16, 32]),
    "resmlp": ("resmlp.net", "units", [64, 128]),
    "arch": ("mlp.net", "units", [32, 64, 128, 256]),  # 4 architectures (issue 18: each one traced anew)
}
LEARNING_RATES = [0.0003, 0.001, 0.003, 0.01]
GRID_LEARNING_RATES = {"arch": [0.001, 0.003]}  # grids with other learning rates than LEARNING_RATES
MLP_GRIDS = ("mlp", "arch")  # the grids MLPClassifier runs too
BATCH_SIZE = 32
QUICK_ROWS = 600  # --quick searches the first 600 digits only
CONTENDERS = ("netdsl", "netdsl_tf_threads", "netdsl_jobs", "scikeras", "scikeras_1thread", "scikeras_jobs", "keras_sklearn",
              "sklearn_mlp")
DEFAULT_CONTENDERS = tuple(c for c in CONTENDERS if not c.endswith("_jobs"))  # the n_jobs=2 rows: on request
LABELS = {
    "netdsl": "netdsl NetClassifier",
    "netdsl_tf_threads": "netdsl, TensorFlow's defaults",
    "netdsl_jobs": "netdsl, n_jobs=2 on threads",
    "scikeras_jobs": "scikeras, n_jobs=2 on threads",
    "scikeras": "scikeras KerasClassifier",
    "scikeras_1thread": "scikeras, netdsl's TF settings",
    "keras_sklearn": "keras.wrappers.SKLearnClassifier",
    "sklearn_mlp": "sklearn MLPClassifier",
}
# netdsl's first fit sets TensorFlow's settings (netdsl/estimators/runtime.py): one thread per op on
# machines with at most 2 cores, oneDNN's kernels on x86-64, and oneDNN keeping the plans of
# convolutions' backward passes. These contenders show what the settings alone are worth: netdsl
# with TensorFlow's defaults (but oneDNN's kernels, which have no value meaning "TensorFlow's
# choice": set TF_ENABLE_ONEDNN_OPTS=0 yourself on a CPU where TensorFlow leaves them off), and
# scikeras with netdsl's settings.
THREADS = {
    "netdsl_tf_threads": {"TF_NUM_INTRAOP_THREADS": "0", "TF_MKL_OPTIMIZE_PRIMITIVE_MEMUSE": "true"},
    "scikeras_1thread": {"TF_NUM_INTRAOP_THREADS": "1", "TF_ENABLE_ONEDNN_OPTS": "1", "TF_MKL_OPTIMIZE_PRIMITIVE_MEMUSE": "false"},
}
SAME_AS = {"netdsl_tf_threads": "netdsl", "scikeras_1thread": "scikeras", "netdsl_jobs": "netdsl", "scikeras_jobs": "scikeras"}
# Contenders whose GridSearchCV fits 2 candidates at once in threads of its process (inside joblib's
# threading backend), as a user on 2 cores may: netdsl's fits then train at once
# (netdsl.estimators.seeding); Keras's `fit` in threads is scikeras's.
JOBS = {"netdsl_jobs": 2, "scikeras_jobs": 2}


def _keras_wrapper_model(X, y, builder, learning_rate, **size):
    """The model callable of `keras.wrappers.SKLearnClassifier`: it one-hot encodes y, hence
    categorical cross-entropy."""
    from benchmarks.models import BUILDERS, compiled

    return compiled(BUILDERS[builder](**size), learning_rate, loss="categorical_crossentropy")


def _search(contender: str, grid: str, sizes, learning_rates, epochs: int, fit_kwargs: dict):
    """(estimator, param_grid) of `contender` for `grid`: the same candidates for every contender."""
    contender = SAME_AS.get(contender, contender)
    net_file, size_name, _ = GRIDS[grid]
    if contender == "netdsl":
        from netdsl.estimators import NetClassifier

        estimator = NetClassifier(str(NETS / net_file), epochs=epochs, batch_size=BATCH_SIZE, verbose=0)
        return estimator, {size_name: sizes, "learning_rate": learning_rates}
    if contender == "scikeras":
        from scikeras.wrappers import KerasClassifier

        from benchmarks.models import BUILDERS

        estimator = KerasClassifier(
            model=BUILDERS[grid], loss="sparse_categorical_crossentropy", optimizer="adam",
            epochs=epochs, batch_size=BATCH_SIZE, verbose=0, **{f"model__{size_name}": sizes[0]},
        )  # fmt: skip
        return estimator, {f"model__{size_name}": sizes, "optimizer__learning_rate": learning_rates}
    if contender == "keras_sklearn":
        from keras.wrappers import SKLearnClassifier

        candidates = [
            {"builder": grid, size_name: size, "learning_rate": lr} for size in sizes for lr in learning_rates
        ]
        import keras

        # Its `predict` calls `model.predict(X)` with Keras's default progress bar; this is the
        # documented switch to silence it.
        keras.utils.disable_interactive_logging()
        estimator = SKLearnClassifier(model=_keras_wrapper_model, model_kwargs=candidates[0], fit_kwargs=fit_kwargs)
        return estimator, {"model_kwargs": candidates}
    if contender == "sklearn_mlp":
        if grid not in MLP_GRIDS:
            raise ValueError("MLPClassifier runs the MLP grids only")
        from sklearn.neural_network import MLPClassifier

        estimator = MLPClassifier(hidden_layer_sizes=(128,), solver="adam", batch_size=BATCH_SIZE, max_iter=epochs)
        return estimator, {"hidden_layer_sizes": [(s,) for s in sizes], "learning_rate_init": learning_rates}
    raise ValueError(f"unknown contender {contender!r}")


def _epochs_trained(estimator) -> int:
    """Epochs the refitted best estimator really trained: a check that every contender ran the grid's epochs."""
    if hasattr(estimator, "n_iter_"):  # MLPClassifier
        return int(estimator.n_iter_)
    history = getattr(estimator, "history_", None)
    history = getattr(history, "history", history)  # keras.callbacks.History or a dict of lists
    if isinstance(history, dict) and history:
        return len(next(iter(history.values())))
    return -1


def run_contender(contender: str, grids: dict, learning_rates, epochs: int, folds: int, n_rows=None) -> dict:
    """`contender`'s search of each grid ({grid: sizes}) in this (fresh) process, in turn:
    {grid: result or {"error": ...}}. `learning_rates`: a list for every grid or {grid: list}."""
    import os

    if contender in THREADS:  # read by TensorFlow when it starts (not yet: this is a fresh process)
        os.environ.update(THREADS[contender])
    results = {}
    for grid, sizes in grids.items():
        try:
            rates = learning_rates[grid] if isinstance(learning_rates, dict) else learning_rates
            results[grid] = _one_search(contender, grid, sizes, rates, epochs, folds, n_rows)
        except Exception as error:  # reported in the table; the other grids still run
            results[grid] = {"error": f"{type(error).__name__}: {error}"[:300]}
    return results


def _one_search(contender: str, grid: str, sizes, learning_rates, epochs: int, folds: int, n_rows=None) -> dict:
    """One grid search: wall time of `GridSearchCV.fit`, best and mean CV accuracy."""
    import numpy as np
    from sklearn.model_selection import GridSearchCV

    X, y = digits(n_rows)
    fit_kwargs = {"epochs": epochs, "batch_size": BATCH_SIZE, "verbose": 0}
    estimator, param_grid = _search(contender, grid, sizes, learning_rates, epochs, fit_kwargs)
    search = GridSearchCV(estimator, param_grid, cv=folds, n_jobs=JOBS.get(contender, 1), scoring="accuracy",
                          error_score="raise")
    # keras.wrappers.SKLearnClassifier's clone (keras 3.15) drops `fit_kwargs`, so every CV copy would
    # train 1 epoch with a progress bar: its fit settings go through GridSearchCV.fit as well.
    search_fit_kwargs = fit_kwargs if contender == "keras_sklearn" else {}
    if contender.startswith("netdsl"):  # as netdsl's first fit starts Keras (runtime.start_keras), not timed
        from netdsl.estimators import runtime

        runtime.start_keras()
    elif contender != "sklearn_mlp":
        import keras  # noqa: F401  Keras's import is not part of the timed search

    import contextlib

    import joblib

    threads = joblib.parallel_config(backend="threading") if contender in JOBS else contextlib.nullcontext()
    with Timer() as t, threads:
        search.fit(X, y, **search_fit_kwargs)
    scores = search.cv_results_["mean_test_score"]
    return {
        "seconds": t.seconds,
        "epochs_trained": _epochs_trained(search.best_estimator_),
        "best": float(np.nanmax(scores)),
        "mean": float(np.nanmean(scores)),
        "candidates": len(scores),
    }


def search_settings(quick: bool, epochs=None, folds=None):
    """(learning rates, epochs, folds, rows or None for all) of the full or the --quick grids."""
    epochs = epochs or (1 if quick else 10)
    folds = folds or (2 if quick else 3)
    return ([0.001, 0.003] if quick else LEARNING_RATES), epochs, folds, (QUICK_ROWS if quick else None)


def grid_learning_rates(grid: str, quick: bool = False) -> list:
    """The learning rates of `grid` (--quick: search_settings's two, for every grid)."""
    return search_settings(True)[0] if quick else GRID_LEARNING_RATES.get(grid, LEARNING_RATES)


def grid_sizes(grid: str, quick: bool) -> list:
    """The values of `grid`'s size hyperparameter: the largest only with --quick."""
    return GRIDS[grid][2][-1:] if quick else GRIDS[grid][2]


def run(quick=False, repeats=None, grids=",".join(GRIDS), contenders=None, epochs=None, folds=None):
    """All grids x contenders, interleaved; one table per grid."""
    repeats = repeats or (1 if quick else 3)
    _, epochs, folds, n_rows = search_settings(quick, epochs, folds)
    grid_names = [g.strip() for g in grids.split(",") if g.strip()]
    if contenders is None:  # --quick leaves out the thread-setting rows (two more TensorFlow processes)
        contenders = ",".join(c for c in DEFAULT_CONTENDERS if not (quick and c in THREADS))
    names = [c.strip() for c in contenders.split(",") if c.strip()]
    unknown = sorted(set(grid_names) - set(GRIDS)) + sorted(set(names) - set(CONTENDERS))
    if unknown:
        raise SystemExit(f"unknown grid or contender: {', '.join(unknown)} (grids: {', '.join(GRIDS)}; contenders: {', '.join(CONTENDERS)})")
    results = {(g, c): [] for g in grid_names for c in names}
    sizes = {grid: grid_sizes(grid, quick) for grid in grid_names}
    learning_rates = {grid: grid_learning_rates(grid, quick) for grid in grid_names}
    for repeat in range(repeats):
        order = names[repeat % len(names):] + names[: repeat % len(names)]
        # Full: a fresh process per grid and contender. Quick: one per contender for all its grids
        # (process start-up, TensorFlow's import above all, would otherwise take most of the time).
        batches = [[g] for g in grid_names] if not quick else [grid_names]
        for batch in batches:
            for contender in order:
                todo = {g: sizes[g] for g in batch if contender != "sklearn_mlp" or g in MLP_GRIDS}
                if not todo:
                    continue
                found, error = try_in_fresh_process(run_contender, contender, todo, learning_rates, epochs, folds, n_rows)
                for grid in todo:
                    result = (found or {}).get(grid) or {"error": error}
                    results[(grid, contender)].append(result)
                    shown = f"{result['seconds']:.1f} s" if "seconds" in result else result["error"]
                    print(f"  [{repeat + 1}/{repeats}] {grid:4} {LABELS[contender]:33} {shown}", file=sys.stderr, flush=True)

    tables = []
    for grid in grid_names:
        net_file, size_name, _ = GRIDS[grid]
        n_candidates = len(sizes[grid]) * len(learning_rates[grid])
        rows = f"{n_rows} rows" if n_rows else "1797 rows"
        table = Table(
            f"Grid search, {grid} ({n_candidates} candidates x {folds} folds, {epochs} epoch{'s' * (epochs != 1)}, batch {BATCH_SIZE}, {rows})",
            ["contender", "median s", "runs s", "best CV acc", "mean CV acc", "epochs run", "netdsl faster by"],
        )
        ours = median([r.get("seconds") for r in results.get((grid, "netdsl"), [])])
        for contender in names:
            runs = results.get((grid, contender), [])
            if not runs:
                continue
            add_search_row(table, LABELS[contender], runs, ours,
                           lambda done: done[0]["epochs_trained"] if done else "-", contender == "netdsl")
        compared = fastest_sides({c: results.get((grid, c), []) for c in names}, LABELS)  # with the n_jobs=2 rows
        table.notes += [compared] if compared else []
        table.notes.append(
            f"grid: {size_name} in {sizes[grid]} x learning_rate in {learning_rates[grid]}; "
            f"net benchmarks/nets/{net_file}; wall time of GridSearchCV.fit (refit included); "
            + ("one fresh process per contender for all grids (--quick)" if quick else "a fresh process per run")
        )
        tables.append(table)
    return tables


def _arguments(p):
    p.add_argument("--repeats", type=int, help="runs per contender (default 3, 1 with --quick)")
    p.add_argument("--grids", default=",".join(GRIDS), help="comma-separated: " + ", ".join(GRIDS))
    p.add_argument("--contenders", help="comma-separated: " + ", ".join(CONTENDERS) + " (default: all but the *_jobs rows; --quick: "
                   "no thread-setting rows either)")
    p.add_argument("--epochs", type=int, help="epochs per fit (default 10, 1 with --quick)")
    p.add_argument("--folds", type=int, help="CV folds (default 3, 2 with --quick)")


if __name__ == "__main__":
    script_main(run, __doc__.splitlines()[0], _arguments)
