"""A cold first fit: a fresh Python that imports netdsl and fits the 64-128-10 MLP on the digits
(10 epochs, batch 32), against a fresh Python that imports Keras and builds, compiles and fits the
same model by hand, and against `netdsl fit` on the command line: what a user pays every time a
script or the command starts.

Each run is a new interpreter (`python -c`), the contenders in turns (the order alternates), with
Python's bytecode caches in place (written by an untimed first run of each; PYTHONDONTWRITEBYTECODE
is unset for these runs, as in `startup.py`). Reported per contender: the wall time from the
process's start to the end of its fit (for the command: to `main()`'s return, its report printed),
to the end of the process (its shutdown included), and the CPU time (user + system) of the whole
process; medians, and the fastest run.

    python -m benchmarks.cold_fit            # median of 5 runs per contender
    python -m benchmarks.cold_fit --quick    # median of 2
    python -m benchmarks.cold_fit --baseline /tmp/oldsite   # and another netdsl's two rows

`--baseline SITE`: a folder holding another netdsl (`pip install --no-deps --target SITE ...`, as
for `startup.py`), run with PYTHONPATH=SITE in the same turns.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a file: python benchmarks/cold_fit.py
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    __package__ = "benchmarks"

from benchmarks.common import NETS, ROOT, Table, median, ratio, script_main

EPOCHS = 10

# Each contender's whole program: it prints, tagged, the wall clock when its fit (or command) returned.
_NETDSL = f"""
import sys, time
from netdsl.estimators import NetClassifier
from benchmarks.common import digits
X, y = digits()
NetClassifier({str(NETS / "mlp.net")!r}, epochs={EPOCHS}, batch_size=32, verbose=0).fit(X, y)
print("DONE:" + repr(time.time()), file=sys.stderr)
"""
_KERAS = f"""
import sys, time
import keras
from benchmarks.common import digits
from benchmarks.models import compiled, mlp
X, y = digits()
model = compiled(mlp(128), 0.001)
model.fit(X, y, epochs={EPOCHS}, batch_size=32, verbose=0)
print("DONE:" + repr(time.time()), file=sys.stderr)
"""
_COMMAND = """
import sys, time
from netdsl.pipelines.cli import main
code = main()
print("DONE:" + repr(time.time()), file=sys.stderr)
sys.exit(code)
"""
CONTENDERS = {
    "netdsl NetClassifier.fit (Python)": (_NETDSL, []),
    "Keras build + compile + model.fit (Python)": (_KERAS, []),
    "netdsl fit (command line)": (_COMMAND, ["fit", str(NETS / "mlp.net"), "--data", "digits", "--quiet"]),
}
_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def _once(code: str, args: list[str], site: str | None = None) -> dict:
    """One fresh `python -c code args` (with PYTHONPATH=site): wall to its DONE line and to its
    end, CPU, exit status."""
    env = dict(_ENV, PYTHONPATH=site) if site else _ENV
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.time()
    done = subprocess.run([sys.executable, "-c", code, *args], cwd=ROOT, env=env, capture_output=True, text=True)
    ended = time.time()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    marks = [float(line[5:]) for line in done.stderr.splitlines() if line.startswith("DONE:")]
    return {"result": (marks[0] - started) if marks else float("nan"), "wall": ended - started,
            "cpu": after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime,
            "status": done.returncode, "stderr": done.stderr[-500:]}  # fmt: skip


def run(quick=False, runs=None, baseline=None):
    runs = runs or (2 if quick else 5)
    contenders = {label: (code, args, None) for label, (code, args) in CONTENDERS.items()}
    if baseline:
        for label, (code, args) in list(CONTENDERS.items()):
            if label.startswith("netdsl"):
                contenders[f"{label}, baseline {baseline}"] = (code, args, baseline)
    results: dict[str, list[dict]] = {label: [] for label in contenders}
    for label, contender in contenders.items():
        first = _once(*contender)  # bytecode caches and the OS's file cache, not counted
        if first["status"] != 0:
            print(f"  {label} failed: {first['stderr']}", file=sys.stderr)
    labels = list(contenders)
    for i in range(runs):
        for label in labels if i % 2 == 0 else labels[::-1]:
            results[label].append(_once(*contenders[label]))
            print(f"  {label}: {json.dumps({k: round(v, 2) for k, v in results[label][-1].items() if k != 'stderr'})}",
                  file=sys.stderr, flush=True)
    ours = median([r["wall"] for r in results[labels[0]]])
    table = Table(
        f"A cold first fit: a fresh process, MLP 64-128-10 on digits, {EPOCHS} epochs (median of {runs})",
        ["contender", "to the fit's end s", "to the process's end s", "min s", "CPU s", "exit status",
         "netdsl (Python) faster by"],
    )  # fmt: skip
    for label, done in results.items():
        walls = [r["wall"] for r in done]
        table.add(label, median([r["result"] for r in done]), median(walls), min(walls),
                  median([r["cpu"] for r in done]), ",".join(sorted({str(r["status"]) for r in done})),
                  "-" if label == labels[0] else ratio(median(walls), ours))  # fmt: skip
    netdsl = shutil.which("netdsl")
    table.notes.append("each run a new interpreter, the contenders in turns; imports included (netdsl imports "
                       "scikit-learn, pandas and pydantic; both Python contenders load the digits with scikit-learn); "
                       "the command line trains on 80% of the rows (20% held out), predicts them and prints its report; "
                       f"ratio on the time to the process's end; netdsl = {netdsl or 'python -m netdsl.pipelines.cli'}")
    return [table]


def _arguments(p):
    p.add_argument("--runs", type=int, help="runs per contender (default 5, 2 with --quick)")
    p.add_argument("--baseline", metavar="SITE", help="also run netdsl's rows with PYTHONPATH=SITE (another netdsl)")


if __name__ == "__main__":
    script_main(run, __doc__.splitlines()[0], _arguments)
