"""What each optimisation of the fast training path buys, one step at a time.

The same job as a grid search's inner loop: fit the 64-128-10 MLP on 1,200 digits (10 epochs,
batch 32, Adam), then predict 600 rows; repeated, in one fresh process per step:

  A. Keras as usual: a new model per fit, `model.fit`, `model.predict` (the standard path).
  B. + one compiled model reused across fits (weights and optimizer state reset): no tracing per fit.
  C. + each epoch one call of a traced function (the training step in a graph loop traced without
     autograph, Adam's update by TensorFlow's fused kernel; no `tf.data`, no Python per batch):
     netdsl's `fast.train`.
  D. + predict in one traced call (`fast.predict`) instead of `model.predict`.
  E. + one thread per TensorFlow op (`TF_NUM_INTRAOP_THREADS=1`, netdsl's default on machines with
     at most 2 cores); A-D run with TensorFlow's default (every core per op).
  F. + the epochs on TensorFlow's single-threaded executor without grappler's rewrites (netdsl's
     choice for small nets, `executors.choose`); A-E run on the default executor.
  G. The whole estimator: `NetClassifier(...).fit(X, y).predict(X_test)` (spec, validation,
     seeds, the cache) as a user runs it, with netdsl's thread setting for this machine.

    python -m benchmarks.steps            # 8 rounds per step
    python -m benchmarks.steps --quick    # 3 rounds
"""

from __future__ import annotations

import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a file: python benchmarks/steps.py
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    __package__ = "benchmarks"

from benchmarks.common import NETS, Table, Timer, digits, median, ratio, script_main, try_in_fresh_process

EPOCHS = 10
BATCH_SIZE = 32
STEPS = {
    "A": "Keras: new model, model.fit, model.predict",
    "B": "+ one compiled model reused (reset between fits)",
    "C": "+ each epoch one traced call (fast.train)",
    "D": "+ predict in one traced call (fast.predict)",
    "E": "+ one thread per op (TF_NUM_INTRAOP_THREADS=1)",
    "F": "+ single-threaded executor, no grappler (small nets)",
    "G": "NetClassifier fit + predict (all of it)",
}
THREADS = {"A": "0", "B": "0", "C": "0", "D": "0", "E": "1", "F": "1"}  # "0": TensorFlow's default; G: netdsl's
EXECUTOR = {"A": "default", "B": "default", "C": "default", "D": "default", "E": "default", "F": "single"}


def run_step(step: str, rounds: int) -> dict:
    """Seconds of fit and of predict per round (first round = cold, reported apart)."""
    import os

    import numpy as np

    if step in THREADS:  # before TensorFlow starts its thread pools (this is a fresh process)
        os.environ["TF_NUM_INTRAOP_THREADS"] = THREADS[step]
        os.environ["NETDSL_EXECUTOR"] = EXECUTOR[step]
    else:  # G: netdsl's own choice
        os.environ.pop("NETDSL_EXECUTOR", None)
    X, y = digits()
    X_fit, y_fit, X_test = X[:1200], y[:1200], X[1200:1800]
    fits, predicts, accuracy = [], [], float("nan")
    model = entry = None
    for round_ in range(rounds):
        if step == "G":
            from netdsl.estimators import NetClassifier

            with Timer() as fit_time:
                estimator = NetClassifier(str(NETS / "mlp.net"), epochs=EPOCHS, batch_size=BATCH_SIZE, random_state=round_)
                estimator.fit(X_fit, y_fit)
            with Timer() as predict_time:
                predicted = estimator.predict(X_test)
            del estimator
        else:
            import keras

            from benchmarks.models import compiled, mlp
            from netdsl.estimators import fast, variables

            with Timer() as fit_time:
                keras.utils.set_random_seed(round_)
                if step == "A" or model is None:
                    model = compiled(mlp(128), 0.001)
                    entry = fast._Entry(model)
                else:
                    variables.reset(model, [variable.value for variable in variables.layer_variables(mlp(128))])
                if step in ("A", "B"):
                    model.fit(X_fit, y_fit, epochs=EPOCHS, batch_size=BATCH_SIZE, verbose=0)
                else:
                    fast.train(entry, X_fit, y_fit, epochs=EPOCHS, batch_size=BATCH_SIZE, shuffle=True, seed=round_)
            with Timer() as predict_time:
                if step in ("D", "E", "F"):
                    predicted = fast.predict(model, X_test).argmax(axis=1)
                else:
                    predicted = model.predict(X_test, verbose=0).argmax(axis=1)
        fits.append(fit_time.seconds)
        predicts.append(predict_time.seconds)
        accuracy = float(np.mean(predicted == y[1200:1800]))
    return {"fits": fits, "predicts": predicts, "accuracy": accuracy}


def run_steps(steps: str, rounds: int) -> dict:
    """`run_step` for each of `steps` in turn, in this process: {step: result}."""
    return {step: run_step(step, rounds) for step in steps}


def run(quick: bool = False) -> list[Table]:
    rounds = 2 if quick else 8
    table = Table(
        f"Per step: one fit (1,200 digits, {EPOCHS} epochs, batch {BATCH_SIZE}) + predict 600 rows, median of rounds 2..{rounds}",
        ["step", "what", "fit (warm)", "predict (warm)", "fit + predict", "vs A", "first round", "accuracy"],
    )
    # Full: a fresh process per step. Quick: A-D share one and E-G another (TensorFlow's import
    # would otherwise take most of the time; the numbers are rough then).
    groups = ["ABCD", "EFG"] if quick else list(STEPS)
    results = {}
    for group in groups:
        found, error = try_in_fresh_process(run_steps, group, rounds)
        results.update(found or {step: error for step in group})
    baseline = None
    for step, what in STEPS.items():
        result = results[step]
        if not isinstance(result, dict):
            table.add(step, what, result, "", "", "", "", "")
            continue
        fit, predict = median(result["fits"][1:]), median(result["predicts"][1:])
        total = fit + predict
        baseline = baseline or total
        first = result["fits"][0] + result["predicts"][0]
        table.add(step, what, f"{fit:.3f} s", f"{predict * 1000:.1f} ms", f"{total:.3f} s", ratio(baseline, total),
                  f"{first:.2f} s", f"{result['accuracy']:.3f}")
    table.notes.append(
        "A-D share one process and E-G another (--quick)" if quick else
        "each step in its own fresh process; 'first round' includes tracing (and, for A, every round does)")
    return [table]


if __name__ == "__main__":
    script_main(run, __doc__.splitlines()[0])
