"""Text nets and a two-stage `fine_tune` fit: the fast path against Keras's standard `fit`
(`NETDSL_FAST_PATH=0`, the path these nets trained on before), each in its own fresh process.

The examples as written (examples/reviews_bag.net, sentiment_lstm.net: the built-in `reviews` set,
12,808 texts; examples/digits_finetune.net on 50 digits 5-9 from examples/models/digits_0to4.keras),
fitted N times in a row under one seed: the first fit apart ("cold": tracing, first allocations),
the median of the others ("warm": what a grid's next candidate or fold pays), and the training
accuracy of the last fit (both paths train the same model; dropout and shuffling draw differently).

    python -m benchmarks.text_fits            # N = 2
    python -m benchmarks.text_fits --quick    # N = 2, 2000 texts
"""

from __future__ import annotations

import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a file: python benchmarks/text_fits.py
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    __package__ = "benchmarks"

from benchmarks.common import Table, Timer, median, ratio, script_main, try_in_fresh_process

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
NETS = ("reviews_bag", "sentiment_lstm", "digits_finetune")


def _data(net: str, rows: int | None):
    import numpy as np

    if net == "digits_finetune":
        from sklearn.datasets import load_digits

        X, y = load_digits(return_X_y=True)
        chosen = np.concatenate([np.flatnonzero(y == c)[:10] for c in range(5, 10)])
        return (X[chosen] / 16).astype("float32"), y[chosen]
    from netdsl.pipelines.data import load_data

    data = load_data("reviews")
    return data.X[:rows], data.y[:rows]


def fit_times(net: str, fast: bool, n_fits: int, rows: int | None) -> dict:
    """Seconds of each of `n_fits` fits in this (fresh) process, and the last fit's training accuracy."""
    import os

    os.environ["NETDSL_FAST_PATH"] = "1" if fast else "0"
    from netdsl.estimators import NetClassifier

    X, y = _data(net, rows)
    times = []
    for _ in range(n_fits):
        with Timer() as t:
            estimator = NetClassifier(str(EXAMPLES / f"{net}.net"), random_state=0).fit(X, y)
        times.append(t.seconds)
    return {"times": times, "accuracy": float(estimator.score(X, y)), "path": estimator.training_path_}


def run(quick: bool = False) -> list[Table]:
    n_fits, rows = (2, 2000) if quick else (2, None)
    table = Table(f"One fit of a text net or a fine_tune net, {n_fits} fits per process (seconds)",
                  ["net", "path", "cold fit", "warm fit (median)", "train accuracy", "warm: standard / fast"])
    for net in NETS:
        results = {}
        for fast in (False, True):
            result, error = try_in_fresh_process(fit_times, net, fast, n_fits, rows)
            results[fast] = result
            if result is None:
                table.add(net, "fast" if fast else "standard", error, "-", "-", "-")
                continue
            warm = median(result["times"][1:])
            slow = results[False]
            table.add(net, result["path"].split(":")[0], result["times"][0], warm, result["accuracy"],
                      ratio(median(slow["times"][1:]), warm) if fast and slow else "-")
            print(table.rows[-1], flush=True)  # as it goes: a full run takes minutes
    return [table]


if __name__ == "__main__":
    script_main(run, __doc__.splitlines()[0])
