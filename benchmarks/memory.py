"""Memory: the process's resident memory (RSS, psutil) over consecutive fits of the same net.

A fresh estimator (or a freshly built and compiled Keras model, for comparison) is fitted N times
in a row in one fresh process, as a grid search does; the growth per fit is the slope of a
straight line through the RSS after fits 10..N (the first fits warm caches and are left out).

    python -m benchmarks.memory            # 50 fits of 1 epoch
    python -m benchmarks.memory --quick    # 10 fits on 300 rows, slope over fits 4..10
"""

from __future__ import annotations

import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a file: python benchmarks/memory.py
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    __package__ = "benchmarks"

from benchmarks.common import NETS, Table, Timer, digits, script_main, try_in_fresh_process

MB = 1024 * 1024
SKIP = 10  # fits before the slope is measured (4 with --quick)
QUICK_ROWS = 300


def rss_over_fits(contender: str, n_fits: int, epochs: int, n_rows=None) -> dict:
    """RSS in MB before the first fit and after each fit, in this (fresh) process."""
    import gc

    import psutil

    process = psutil.Process()
    X, y = digits(n_rows)
    if contender == "netdsl":
        from netdsl.estimators import NetClassifier
    else:
        from benchmarks.models import compiled, mlp
    gc.collect()
    before = process.memory_info().rss / MB
    after = []
    with Timer() as t:
        for _ in range(n_fits):
            if contender == "netdsl":
                NetClassifier(str(NETS / "mlp.net"), epochs=epochs, verbose=0).fit(X, y)
            else:
                compiled(mlp(128)).fit(X, y, epochs=epochs, batch_size=32, verbose=0)
            gc.collect()
            after.append(process.memory_info().rss / MB)
    return {"before": before, "after": after, "seconds": t.seconds}


def slope(values) -> float:
    """MB per fit: least-squares slope of `values` against fit number."""
    import numpy as np

    if len(values) < 2:
        return float("nan")
    return float(np.polyfit(np.arange(len(values)), np.asarray(values), 1)[0])


def run(quick=False, fits=None, epochs=1):
    n_fits = fits or (10 if quick else 50)
    skip = min(4 if quick else SKIP, n_fits - 1)
    n_rows = QUICK_ROWS if quick else None
    table = Table(
        f"Memory: RSS over {n_fits} consecutive fits of the MLP ({epochs} epoch{'s' if epochs != 1 else ''} each, "
        f"{n_rows or 1797} rows)",
        ["contender", "RSS before MB", "after fit 1 MB", f"after fit {n_fits} MB", f"MB per fit (fits {skip}..{n_fits})", "s per fit"],
    )
    labels = {"netdsl": "netdsl NetClassifier(...).fit", "keras": "Keras build + compile + fit"}
    for contender in ("netdsl", "keras"):
        r, error = try_in_fresh_process(rss_over_fits, contender, n_fits, epochs, n_rows)
        if error:
            table.notes.append(f"{labels[contender]} failed: {error}")
            continue
        print(f"  {contender}: {r['before']:.0f} MB -> {r['after'][-1]:.0f} MB", file=sys.stderr, flush=True)
        table.add(
            labels[contender], r["before"], r["after"][0], r["after"][-1],
            f"{slope(r['after'][skip - 1:]):.3f}", r["seconds"] / n_fits,
        )  # fmt: skip
    table.notes.append("a new estimator / model per fit, nothing kept; gc.collect() before each reading; fresh process per contender")
    return [table]


def _arguments(p):
    p.add_argument("--fits", type=int, help="consecutive fits (default 50, 10 with --quick)")
    p.add_argument("--epochs", type=int, default=1, help="epochs per fit (default 1)")


if __name__ == "__main__":
    script_main(run, __doc__.splitlines()[0], _arguments)
