"""A text net's grid search: `GridSearchCV(NetClassifier(nets/reviews_bag.net))` against scikeras's
`KerasClassifier` on the same Keras model, on the built-in `reviews` (12,808 Rotten Tomatoes
snippets labelled fresh or rotten; `netdsl.pipelines.data`, read from an installed package, nothing
downloaded).

The net: texts -> `text_vectorization` (20,000 tokens, 48 ids a text) -> embedding -> average ->
dropout -> a sigmoid (examples/reviews_bag.net without its validation split and early stopping,
so that both train the same epochs). The grid: the embedding's `width` (32, 64) x Adam's learning
rate (0.001, 0.003) = 4 candidates, 3-fold CV, 5 epochs, batch 32, refit of the best, n_jobs=1 (the
`*_jobs` contenders, on request: n_jobs=2 on joblib's threads).
scikeras accepts numeric X only (adriangb/scikeras#265), so its side is a scikit-learn pipeline:
`TextIds` (a Keras `TextVectorization` adapted to each training fold, `models.py`) in front of
`KerasClassifier(model=models.reviews_bag)`, the same layers after the vectorization. Each
contender runs in a fresh process per repeat, the order alternating. Reported: median wall time of
`GridSearchCV.fit`, the best and mean CV accuracy, the training path netdsl's refitted best took.

    python -m benchmarks.text_grid            # full: 3 repeats, all 12,808 reviews
    python -m benchmarks.text_grid --quick    # 1 repeat, 1 candidate, 2 folds, 1 epoch, 1,000 reviews
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a file: python benchmarks/text_grid.py
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    __package__ = "benchmarks"

from benchmarks.common import NETS, Table, Timer, add_search_row, fastest_sides, median, script_main, try_in_fresh_process

NET = NETS / "reviews_bag.net"
WIDTHS = [32, 64]
LEARNING_RATES = [0.001, 0.003]
EPOCHS = 5
BATCH_SIZE = 32
QUICK_ROWS = 1000
CONTENDERS = ("netdsl", "scikeras", "netdsl_jobs", "scikeras_jobs")
DEFAULT_CONTENDERS = ("netdsl", "scikeras")  # the n_jobs=2 rows: on request
LABELS = {"netdsl": "netdsl NetClassifier", "scikeras": "scikeras KerasClassifier (TextIds in front)",
          "netdsl_jobs": "netdsl, n_jobs=2 on threads", "scikeras_jobs": "scikeras, n_jobs=2 on threads"}
# Contenders whose GridSearchCV fits 2 candidates at once in threads of its process (inside joblib's
# threading backend): netdsl's fits then train at once (netdsl.estimators.seeding).
JOBS = {"netdsl_jobs": 2, "scikeras_jobs": 2}


def reviews(n_rows=None):
    """The built-in `reviews` as both contenders get them: X a 1-D array of texts, y "fresh"/"rotten"."""
    from netdsl.pipelines.data import load_data

    data = load_data("reviews")
    X, y = data.X, data.y
    if n_rows is not None:
        X, y = X[:n_rows], y[:n_rows]
    return X, y


def _search(contender: str, widths, learning_rates, epochs: int):
    """(estimator, param_grid) of `contender`: the same 4 candidates for both."""
    contender = contender.removesuffix("_jobs")
    if contender == "netdsl":
        from netdsl.estimators import NetClassifier

        estimator = NetClassifier(str(NET), epochs=epochs, batch_size=BATCH_SIZE, verbose=0)
        return estimator, {"width": widths, "learning_rate": learning_rates}
    if contender == "scikeras":
        from scikeras.wrappers import KerasClassifier
        from sklearn.pipeline import Pipeline

        from benchmarks.models import TextIds, reviews_bag

        model = KerasClassifier(
            model=reviews_bag, loss="binary_crossentropy", optimizer="adam",
            epochs=epochs, batch_size=BATCH_SIZE, verbose=0, model__width=widths[0],
        )  # fmt: skip
        estimator = Pipeline([("vectorize", TextIds()), ("net", model)])
        return estimator, {"net__model__width": widths, "net__optimizer__learning_rate": learning_rates}
    raise ValueError(f"unknown contender {contender!r}")


def run_contender(contender: str, widths, learning_rates, epochs: int, folds: int, n_rows=None) -> dict:
    """One grid search in this (fresh) process: wall time, best and mean CV accuracy."""
    if contender.startswith("netdsl"):  # as netdsl's first fit starts Keras (runtime.start_keras), not timed
        from netdsl.estimators import runtime

        runtime.start_keras()
    else:
        importlib.import_module("keras")  # Keras's import is not part of the timed search
    import numpy as np
    from sklearn.model_selection import GridSearchCV

    X, y = reviews(n_rows)
    estimator, param_grid = _search(contender, widths, learning_rates, epochs)
    search = GridSearchCV(estimator, param_grid, cv=folds, n_jobs=JOBS.get(contender, 1), scoring="accuracy",
                          error_score="raise")
    import contextlib

    import joblib

    threads = joblib.parallel_config(backend="threading") if contender in JOBS else contextlib.nullcontext()
    with Timer() as t, threads:
        search.fit(X, y)
    scores = search.cv_results_["mean_test_score"]
    return {
        "seconds": t.seconds,
        "best": float(np.nanmax(scores)),
        "mean": float(np.nanmean(scores)),
        "path": getattr(search.best_estimator_, "training_path_", "-").split(":")[0],  # "fast" or "standard: why"
        "candidates": len(scores),
    }


def run(quick=False, repeats=None, epochs=None, folds=None, contenders=",".join(DEFAULT_CONTENDERS)):
    repeats = repeats or (1 if quick else 3)
    epochs = epochs or (1 if quick else EPOCHS)
    folds = folds or (2 if quick else 3)
    widths, learning_rates = (WIDTHS[-1:], LEARNING_RATES[-1:]) if quick else (WIDTHS, LEARNING_RATES)
    n_rows = QUICK_ROWS if quick else None
    names = [c.strip() for c in contenders.split(",") if c.strip()]
    unknown = sorted(set(names) - set(CONTENDERS))
    if unknown:
        raise SystemExit(f"unknown contender: {', '.join(unknown)} (contenders: {', '.join(CONTENDERS)})")
    results = {c: [] for c in names}
    for repeat in range(repeats):
        order = names[repeat % len(names):] + names[: repeat % len(names)]
        for contender in order:
            found, error = try_in_fresh_process(run_contender, contender, widths, learning_rates, epochs, folds, n_rows)
            results[contender].append(found or {"error": error})
            shown = f"{found['seconds']:.1f} s" if found else error
            print(f"  [{repeat + 1}/{repeats}] {LABELS[contender]:45} {shown}", file=sys.stderr, flush=True)

    n_candidates = len(widths) * len(learning_rates)
    rows = f"{n_rows} reviews" if n_rows else "all 12,808 reviews"
    table = Table(
        f"Grid search, text net reviews_bag ({n_candidates} candidates x {folds} folds, {epochs} epoch{'s' * (epochs != 1)}, batch {BATCH_SIZE}, {rows})",
        ["contender", "median s", "runs s", "best CV acc", "mean CV acc", "training path", "netdsl faster by"],
    )
    ours = median([r.get("seconds") for r in results.get("netdsl", [])])
    for contender in names:
        ours_now = contender.startswith("netdsl")
        add_search_row(table, LABELS[contender], results[contender], ours,
                       lambda done: done[0]["path"] if done and ours_now else "-", ours_now)
    compared = fastest_sides(results, LABELS)  # with the n_jobs=2 rows
    table.notes += [compared] if compared else []
    table.notes.append(
        f"grid: width in {widths} x learning_rate in {learning_rates}; net benchmarks/nets/reviews_bag.net "
        "(scikeras: TextIds + models.reviews_bag); wall time of GridSearchCV.fit (refit included); a fresh process per run; "
        "training path: the one netdsl's refitted best took (`training_path_`)"
    )
    return [table]


def _arguments(p):
    p.add_argument("--repeats", type=int, help="runs per contender (default 3, 1 with --quick)")
    p.add_argument("--epochs", type=int, help=f"epochs per fit (default {EPOCHS}, 1 with --quick)")
    p.add_argument("--folds", type=int, help="CV folds (default 3, 2 with --quick)")
    p.add_argument("--contenders", default=",".join(DEFAULT_CONTENDERS),
                   help="comma-separated: " + ", ".join(CONTENDERS) + " (default: " + ",".join(DEFAULT_CONTENDERS) + ")")


if __name__ == "__main__":
    script_main(run, __doc__.splitlines()[0], _arguments)
