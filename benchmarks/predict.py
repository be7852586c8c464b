"""Predict: one call on 600 rows once warm, `NetClassifier.predict` against Keras's `model.predict`.

Each contender fits the MLP once (2 epochs) in a fresh process, predicts 3 times to warm up, then
times 20 calls on the first 600 rows of digits; reported: the first call and the median of 20.

    python -m benchmarks.predict
    python -m benchmarks.predict --quick    # fit 1 epoch, 10 timed calls
"""

from __future__ import annotations

import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a file: python benchmarks/predict.py
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    __package__ = "benchmarks"

from benchmarks.common import NETS, Table, call_times, digits, median, script_main, try_in_fresh_process

ROWS = 600
WARM_UP = 3


def predict_times(contender: str, calls: int, epochs: int = 2) -> dict:
    """{variant: (first call ms, [ms of each timed call])} in this (fresh) process."""
    X, y = digits()
    rows = X[:ROWS]
    if contender == "netdsl":
        from netdsl.estimators import NetClassifier

        estimator = NetClassifier(str(NETS / "mlp.net"), epochs=epochs, verbose=0).fit(X, y)
        variants = {
            "netdsl NetClassifier.predict": lambda: estimator.predict(rows),
            "netdsl NetClassifier.predict_proba": lambda: estimator.predict_proba(rows),
        }
    else:
        from benchmarks.models import compiled, mlp

        model = compiled(mlp(128))
        model.fit(X, y, epochs=epochs, batch_size=32, verbose=0)
        variants = {
            "Keras model.predict (default batch 32)": lambda: model.predict(rows, verbose=0),
            f"Keras model.predict(batch_size={ROWS})": lambda: model.predict(rows, batch_size=ROWS, verbose=0),
            "Keras model.predict_on_batch": lambda: model.predict_on_batch(rows),
        }
    out = {}
    for name, call in variants.items():
        out[name] = call_times(call, calls, WARM_UP)
    return out


def run(quick=False, calls=None):
    calls = calls or (10 if quick else 20)
    table = Table(
        f"Predict on {ROWS} rows (MLP 64-128-10)",
        ["call", "first call ms", f"warm ms (median of {calls})", "min ms"],
    )
    for contender in ("netdsl", "keras"):
        result, error = try_in_fresh_process(predict_times, contender, calls, 1 if quick else 2)
        if error:
            table.notes.append(f"{contender} failed: {error}")
        for name, (first, times) in (result or {}).items():
            table.add(name, first, median(times), min(times))
    table.notes.append(f"first call = the first after fit; {WARM_UP} calls in all before the timed ones; fresh process per library")
    return [table]


def _arguments(p):
    p.add_argument("--calls", type=int, help="timed calls (default 20, 10 with --quick)")


if __name__ == "__main__":
    script_main(run, __doc__.splitlines()[0], _arguments)
