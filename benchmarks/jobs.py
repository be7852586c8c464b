"""Parallel search: `netdsl search --jobs 1` against `--jobs N` on the same grid.

Runs the command line as a user would (fresh process each, data `digits`, the convnet of
benchmarks/nets/cnn.net, filters x learning rate = 16 candidates, 3 folds, 30 epochs: enough work
that each worker's one-time cost, importing TensorFlow and tracing its model, is paid back) and
reports the whole command's wall time and the search's own time as the command prints it (the
candidate fits, workers' start included; no data loading or refit), with the speed-up of N workers
over 1.

    python -m benchmarks.jobs              # N = the number of CPUs
    python -m benchmarks.jobs --jobs 4
    python -m benchmarks.jobs --quick      # 2 candidates, 2 folds, 1 epoch (start-up dominates)
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

if __package__ in (None, ""):  # run as a file: python benchmarks/jobs.py
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    __package__ = "benchmarks"

from benchmarks.common import NETS, ROOT, Table, Timer, median, ratio, script_main

_SEARCH_SECONDS = re.compile(r"x \d+ folds in ([\d.]+) s")


def _command(jobs: int, quick: bool, out: Path) -> list[str]:
    netdsl = shutil.which("netdsl")
    base = [netdsl] if netdsl else [sys.executable, "-m", "netdsl.pipelines.cli"]
    grid = ["--grid", "learning_rate=0.001,0.003", "--grid", "filters=8"] if quick else [
        "--grid", "learning_rate=0.0003,0.001,0.003,0.01", "--grid", "filters=8,12,16,24"
    ]  # fmt: skip
    return base + [
        "search", str(NETS / "cnn.net"), "--data", "digits", *grid,
        "--cv", "2" if quick else "3", "--epochs", "1" if quick else "30",
        "--jobs", str(jobs), "--quiet", "--out", str(out),
    ]  # fmt: skip


def _run_search(jobs: int, quick: bool) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        command = _command(jobs, quick, Path(tmp) / "results.csv")
        with Timer() as t:
            done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, env={**os.environ, "COLUMNS": "200"})
    found = _SEARCH_SECONDS.search(done.stdout)
    if done.returncode != 0 or not found:
        tail = (done.stderr.strip() or done.stdout.strip()).splitlines()[-1:] or ["no output"]
        return {"error": f"exit status {done.returncode}: {tail[0][:300]}", "command": command}
    return {"wall": t.seconds, "search": float(found.group(1)), "command": command}


def run(quick=False, jobs=None, repeats=None):
    jobs = jobs or os.cpu_count() or 2
    repeats = repeats or 1
    results = {1: [], jobs: []}
    for _ in range(repeats):
        for n in (1, jobs):  # interleaved
            results[n].append(_run_search(n, quick))
            shown = f"{results[n][-1]['wall']:.1f} s" if "wall" in results[n][-1] else results[n][-1]["error"]
            print(f"  --jobs {n}: {shown}", file=sys.stderr, flush=True)
    candidates, folds, epochs = (2, 2, 1) if quick else (16, 3, 30)
    table = Table(
        f"netdsl search --jobs 1 vs --jobs {jobs} (convnet, {candidates} candidates x {folds} folds, {epochs} epoch{'s' * (epochs != 1)})",
        ["command", "command wall s", "search s (as printed)", "speed-up (search)", "speed-up (wall)"],
    )
    base_search = median([r.get("search") for r in results[1]])
    base_wall = median([r.get("wall") for r in results[1]])
    for n in (1, jobs):
        search = median([r.get("search") for r in results[n]])
        wall = median([r.get("wall") for r in results[n]])
        table.add(f"--jobs {n}", wall, search, ratio(base_search, search), ratio(base_wall, wall))
        table.notes += [f"--jobs {n} failed: {r['error']}" for r in results[n] if "error" in r]
    command = results[jobs][0]["command"]
    shown = command[command.index("search"):-1] + ["results.csv"]
    shown[1] = str(Path(shown[1]).relative_to(ROOT))
    table.notes.append(f"{os.cpu_count()} CPUs; median of {repeats} run(s); command: `netdsl {' '.join(shown)}`")
    return [table]


def _arguments(p):
    p.add_argument("--jobs", type=int, help="worker processes to compare with 1 (default: the number of CPUs)")
    p.add_argument("--repeats", type=int, help="runs of each (default 1)")


if __name__ == "__main__":
    script_main(run, __doc__.splitlines()[0], _arguments)
