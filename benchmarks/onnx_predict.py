"""Predicting from an exported ONNX file (issue 20) against the saved model it came from.

Two nets of the examples (the digits MLP and convnet), each fitted once for 2 epochs on digits,
saved with `est.save` and exported with `est.export`. Then:

- warm, in one process: `est.predict` against `OnnxModel(path).predict` on all 1,797 rows and on
  one row (3 calls to warm up, then the median of 20);
- cold, a fresh process per run: `netdsl predict MODEL --data digits`, the saved model against the
  `.onnx` file (median of 5), and whether the run imported TensorFlow.

    python -m benchmarks.onnx_predict
    python -m benchmarks.onnx_predict --quick    # 1 epoch, 5 timed calls, 2 cold runs
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

if __package__ in (None, ""):  # run as a file: python benchmarks/onnx_predict.py
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    __package__ = "benchmarks"

from benchmarks.common import ROOT, Table, Timer, call_times, digits, median, ratio, script_main

NETS = ("digits_mlp", "digits_cnn")
WARM_UP = 3

# `netdsl ARGS` in this interpreter, then whether TensorFlow got imported (on stderr).
_PROBE = """
import sys
from netdsl.pipelines.cli import main
try:
    main(sys.argv[1:])
finally:
    print("TENSORFLOW:" + str("tensorflow" in sys.modules), file=sys.stderr)
"""


def _fitted(name: str, folder: Path, epochs: int) -> tuple:
    """(estimator, saved model path, ONNX path) of the example `name`."""
    from netdsl.estimators import NetClassifier

    X, y = digits()
    estimator = NetClassifier(str(ROOT / "examples" / f"{name}.net"), epochs=epochs, random_state=0, verbose=0)
    estimator.fit(X, y)
    return estimator, estimator.save(folder / f"{name}.model"), estimator.export(folder / f"{name}.onnx")


def _milliseconds(call, calls: int) -> tuple[float, float]:
    """(first call, median of `calls` after the warm-up) in ms."""
    first, times = call_times(call, calls, WARM_UP)
    return first, median(times)


def _cold(path: Path) -> tuple[float, bool]:
    """Seconds of one `netdsl predict PATH --data digits` in a fresh process, and whether it imported
    TensorFlow."""
    command = [sys.executable, "-c", _PROBE, "predict", str(path), "--data", "digits"]
    with Timer() as t:
        done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, check=True)
    return t.seconds, "TENSORFLOW:True" in done.stderr


def run(quick: bool = False) -> list[Table]:
    from netdsl.pipelines.onnx_model import OnnxModel

    epochs, calls, cold_runs = (1, 5, 2) if quick else (2, 20, 5)
    X, _ = digits()
    warm = Table("Predict, warm (digits, median after 3 calls to warm up)",
                 ["net", "rows", "est.predict first ms", "est.predict ms", "OnnxModel first ms", "OnnxModel ms",
                  "ONNX faster by", "labels equal"])
    cold = Table("netdsl predict MODEL --data digits, cold (fresh process each)",
                 ["net", "model file s", "imports TensorFlow", ".onnx file s", "imports TensorFlow ", "ONNX faster by"])
    with tempfile.TemporaryDirectory(prefix="netdsl-onnx-bench-") as folder:
        for name in NETS:
            estimator, saved, exported = _fitted(name, Path(folder), epochs)
            onnx_model = OnnxModel(exported)
            for rows in (X, X[:1]):
                keras_first, keras_ms = _milliseconds(lambda: estimator.predict(rows), calls)
                onnx_first, onnx_ms = _milliseconds(lambda: onnx_model.predict(rows), calls)
                same = bool((estimator.predict(rows) == onnx_model.predict(rows)).all())
                warm.add(name, len(rows), keras_first, keras_ms, onnx_first, onnx_ms, ratio(keras_ms, onnx_ms), same)
            model_runs = [_cold(saved) for _ in range(cold_runs)]
            onnx_runs = [_cold(exported) for _ in range(cold_runs)]
            model_s, onnx_s = median([s for s, _ in model_runs]), median([s for s, _ in onnx_runs])
            cold.add(name, model_s, any(tf for _, tf in model_runs), onnx_s, any(tf for _, tf in onnx_runs),
                     ratio(model_s, onnx_s))
    warm.notes.append(f"each net fitted {epochs} epoch(s) on the 1,797 digits, saved (est.save) and exported "
                      f"(est.export); median of {calls} timed calls")
    cold.notes.append(f"median of {cold_runs} runs each; the whole process: start, reading the model, loading "
                      "digits, predicting, printing the accuracy")
    return [warm, cold]


if __name__ == "__main__":
    script_main(run, __doc__.splitlines()[0])
