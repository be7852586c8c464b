"""`GridSearchCV(NetClassifier(...), n_jobs=N)` against `n_jobs=1`, in Python, as a user calls it.

Contenders: scikit-learn's `GridSearchCV` with `n_jobs=1` and `n_jobs=N` (joblib's loky workers
as they come, or its threads inside `joblib.parallel_config(backend="threading")`), and netdsl's
`grid_search(..., n_jobs=N)` on threads (its default) and on worker processes (the same loky
workers with one TensorFlow thread each). Each runs in a new interpreter (a subprocess: loky's
workers cannot be started from a daemonic pool process) that imports netdsl, then runs the same
search twice in a row and times each: the first search pays for starting the workers (each
imports TensorFlow and traces its models), the second finds them warm (joblib's loky executor
keeps its workers between calls for 300 s of idleness, and each worker keeps netdsl's compiled
models; with n_jobs=1 the compiled models are this process's). Two grids: a small one (the
workers' start dominates) and a larger one (the fits dominate). Medians over repeats, contenders
interleaved. Data: digits; net: benchmarks/nets/mlp.net (the 64-128-10 MLP).

    python -m benchmarks.grid_jobs                 # 3 repeats, both grids
    python -m benchmarks.grid_jobs --quick         # 1 repeat, the small grid only
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a file: python benchmarks/grid_jobs.py
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    __package__ = "benchmarks"

from benchmarks.common import NETS, ROOT, Table, Timer, median, ratio, script_main

# name -> (learning rates, units, folds, epochs, rows): candidates = len(rates) x len(units)
GRIDS = {
    "small": ((0.001, 0.003), (64, 128), 3, 3, 600),
    "large": ((0.0003, 0.001, 0.003, 0.01), (64, 128), 3, 10, 1797),
}


def child(how: str, n_jobs: int, grid: str, searches: int) -> dict:
    """In the new interpreter: seconds to import netdsl's estimators, and each search's seconds.
    `how`: "GridSearchCV" (scikit-learn's, as a user calls it), "GridSearchCV threads" (inside
    joblib's threading backend), "grid_search" (netdsl's, on threads) or "grid_search processes"
    (netdsl's on worker processes with one TensorFlow thread each)."""
    import contextlib

    import joblib

    with Timer() as imported:
        from sklearn.model_selection import GridSearchCV

        from netdsl.estimators import NetClassifier
        from netdsl.pipelines.search import grid_search
    from benchmarks.common import digits

    rates, units, folds, epochs, rows = GRIDS[grid]
    X, y = digits(rows)
    space = {"learning_rate": list(rates), "units": list(units)}
    times = []
    for _ in range(searches):
        estimator = NetClassifier(NETS / "mlp.net", epochs=epochs)
        threads = joblib.parallel_config(backend="threading") if how == "GridSearchCV threads" else contextlib.nullcontext()
        with Timer() as t, threads:
            if how.startswith("grid_search"):
                grid_search(NETS / "mlp.net", X, y, space, cv=folds, n_jobs=n_jobs, estimator=estimator, refit=False,
                            workers="processes" if how.endswith("processes") else "threads")
            else:
                GridSearchCV(estimator, space, cv=folds, n_jobs=n_jobs, refit=False).fit(X, y)
        times.append(t.seconds)
    return {"import": imported.seconds, "searches": times}


def _run_child(how: str, n_jobs: int, grid: str, searches: int) -> dict:
    arguments = json.dumps({"how": how, "n_jobs": n_jobs, "grid": grid, "searches": searches})
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.grid_jobs", "--child", arguments],
        cwd=ROOT, capture_output=True, text=True, env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        tail = (done.stderr.strip() or "no output").splitlines()[-1]
        return {"error": f"exit status {done.returncode}: {tail[:300]}"}
    return json.loads(lines[-1])


def run(quick=False, jobs=None, repeats=None):
    jobs = jobs or 2
    repeats = repeats or (1 if quick else 3)
    tables = []
    for grid in ("small",) if quick else ("small", "large"):
        rates, units, folds, epochs, rows = GRIDS[grid]
        contenders = [("GridSearchCV", 1), ("GridSearchCV", jobs), ("GridSearchCV threads", jobs), ("grid_search", jobs),
                      ("grid_search processes", jobs)]
        results = {c: [] for c in contenders}
        for _ in range(repeats):
            for how, n in contenders:  # interleaved
                results[how, n].append(_run_child(how, n, grid, searches=2))
                shown = results[how, n][-1].get("searches") or results[how, n][-1]["error"]
                print(f"  {grid}, {how}(n_jobs={n}): {shown}", file=sys.stderr, flush=True)
        table = Table(
            f"GridSearchCV(NetClassifier(mlp.net), n_jobs=1 vs {jobs}): {len(rates) * len(units)} candidates x "
            f"{folds} folds, {epochs} epochs, {rows} rows",
            ["search", "1st search s (workers start)", "2nd search s (warm workers)", "speed-up 1st", "speed-up 2nd"],
        )
        firsts = {c: median([r["searches"][0] for r in results[c] if "searches" in r]) for c in contenders}
        seconds = {c: median([r["searches"][1] for r in results[c] if "searches" in r]) for c in contenders}
        base = contenders[0]
        for c in contenders:
            table.add(f"{c[0]}(n_jobs={c[1]})", firsts[c], seconds[c], ratio(firsts[base], firsts[c]),
                      ratio(seconds[base], seconds[c]))
            table.notes += [f"{c[0]}(n_jobs={c[1]}) failed: {r['error']}" for r in results[c] if "error" in r]
        imports = median([r["import"] for c in contenders for r in results[c] if "import" in r])
        table.notes.append(
            f"{os.cpu_count()} CPUs; medians of {repeats} fresh interpreter(s) each; importing netdsl (TensorFlow) "
            f"took {imports:.1f} s in each, not counted; refit=False; grid_search is "
            "netdsl.pipelines.search.grid_search (on threads unless \"processes\")"
        )
        tables.append(table)
    return tables


def _arguments(p):
    p.add_argument("--jobs", type=int, help="workers to compare with 1 (default 2)")
    p.add_argument("--repeats", type=int, help="fresh interpreters per contender (default 3; 1 with --quick)")


if __name__ == "__main__":
    if "--child" in sys.argv:
        settings = json.loads(sys.argv[sys.argv.index("--child") + 1])
        print(json.dumps(child(**settings)), flush=True)
    else:
        script_main(run, __doc__.splitlines()[0], _arguments)
