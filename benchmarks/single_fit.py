"""One fit: `NetClassifier.fit` against plain Keras (`model.fit` of the same model, built and compiled
fresh each time) on the whole digits set: the 64-128-10 MLP, 10 epochs, batch 32, Adam.

Each contender runs in its own fresh process and fits N times in a row; the first fit is reported
apart ("cold": graph tracing, first allocations), the median of fits 2..N is the "warm" time.

    python -m benchmarks.single_fit            # N = 6
    python -m benchmarks.single_fit --quick    # N = 2, 5 epochs
"""

from __future__ import annotations

import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a file: python benchmarks/single_fit.py
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    __package__ = "benchmarks"

from benchmarks.common import NETS, Table, Timer, digits, median, ratio, script_main, try_in_fresh_process

EPOCHS = 10
BATCH_SIZE = 32


def fit_times(contender: str, n_fits: int, epochs: int = EPOCHS) -> dict:
    """Seconds of each of `n_fits` fits in this (fresh) process, and the last fit's training accuracy."""
    import numpy as np

    X, y = digits()
    times, accuracy = [], float("nan")
    for _ in range(n_fits):
        if contender == "netdsl":
            from netdsl.estimators import NetClassifier

            with Timer() as t:
                estimator = NetClassifier(str(NETS / "mlp.net"), epochs=epochs, batch_size=BATCH_SIZE, verbose=0)
                estimator.fit(X, y)
            accuracy = float(np.mean(estimator.predict(X) == y))
        elif contender == "keras":
            from benchmarks.models import compiled, mlp

            with Timer() as t:
                model = compiled(mlp(128), 0.001)
                model.fit(X, y, epochs=epochs, batch_size=BATCH_SIZE, verbose=0)
            accuracy = float(np.mean(model.predict(X, verbose=0).argmax(axis=1) == y))
        else:
            raise ValueError(f"unknown contender {contender!r}")
        times.append(t.seconds)
    return {"times": times, "accuracy": accuracy}


def run(quick=False, fits=None, epochs=None):
    n_fits = fits or (2 if quick else 6)
    epochs = epochs or (5 if quick else EPOCHS)
    results, errors = {}, {}
    for contender in ("netdsl", "keras"):
        result, errors[contender] = try_in_fresh_process(fit_times, contender, n_fits, epochs)
        results[contender] = result or {"times": [float("nan")] * 2, "accuracy": float("nan")}
        print(f"  {contender}: " + " ".join(f"{s:.2f}" for s in results[contender]["times"]), file=sys.stderr, flush=True)
    ours_warm = median(results["netdsl"]["times"][1:])
    ours_cold = results["netdsl"]["times"][0]
    table = Table(
        f"One fit: MLP 64-128-10 on digits (1797 rows), {epochs} epochs, batch {BATCH_SIZE}",
        ["contender", "cold s (fit 1)", f"warm s (median of fits 2..{n_fits})", "train acc", "netdsl faster by (warm)", "(cold)"],
    )
    labels = {"netdsl": "netdsl NetClassifier.fit", "keras": "Keras build + compile + model.fit"}
    for contender, result in results.items():
        warm, cold = median(result["times"][1:]), result["times"][0]
        table.add(
            labels[contender], cold, warm, result["accuracy"],
            "-" if contender == "netdsl" else ratio(warm, ours_warm),
            "-" if contender == "netdsl" else ratio(cold, ours_cold),
        )  # fmt: skip
    table.notes += [f"{labels[c]} failed: {e}" for c, e in errors.items() if e]
    table.notes.append("each contender in its own fresh process; Keras model: benchmarks/models.py:mlp, Adam(0.001), sparse CE")
    return [table]


def _arguments(p):
    p.add_argument("--fits", type=int, help="fits per contender (default 6, 2 with --quick)")
    p.add_argument("--epochs", type=int, help=f"epochs per fit (default {EPOCHS}, 5 with --quick)")


if __name__ == "__main__":
    script_main(run, __doc__.splitlines()[0], _arguments)
