"""Start-up: cold `netdsl --help` and `netdsl check examples/*.net`, each in a fresh process, with
`python -c pass` for reference, and whether each imported TensorFlow; where a cold check's time goes,
step by step; and, with `--baseline SITE`, this checkout's check against another netdsl's.

"Cold" is a new process with Python's bytecode caches in place, as any installation has them: the
commands run without PYTHONDONTWRITEBYTECODE (which some machines set: every run would then compile
netdsl's modules again, about 0.05 s), so the untimed first run writes the caches.

    python -m benchmarks.startup                      # median of 15 (the keras reference: of 5)
    python -m benchmarks.startup --quick              # median of 3
    python -m benchmarks.startup --baseline /tmp/oldsite

`--baseline SITE`: a folder holding another netdsl, installed without dependencies, e.g. the
commit before a change: `git clone . /tmp/old && git -C /tmp/old checkout COMMIT &&
pip install --no-deps --target /tmp/oldsite /tmp/old`. Both run the same command line in turns
(`python -c "...main()" check examples/*.net`, the baseline with PYTHONPATH=SITE), so a busy
machine slows both alike.
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

if __package__ in (None, ""):  # run as a file: python benchmarks/startup.py
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    __package__ = "benchmarks"

from benchmarks.common import ROOT, Table, Timer, median, script_main

# Runs `netdsl ARGS` in this interpreter, then says whether TensorFlow or Keras got imported.
_PROBE = """
import sys
from netdsl.pipelines.cli import main
try:
    main(sys.argv[1:])
finally:
    print("IMPORTED:" + ",".join(m for m in ("tensorflow", "keras") if m in sys.modules), file=sys.stderr)
"""

# `netdsl ARGS` as the console script runs it (`main()` reads sys.argv), with two times on stderr:
# import and run, and the wall clock when `main` returned (the rest of the process is its shutdown).
_TIMED = """
import json, sys, time
start = time.perf_counter()
from netdsl.pipelines.cli import main
code = main()
print("TIMES:" + json.dumps([time.perf_counter() - start, time.time()]), file=sys.stderr)
sys.exit(code)
"""

# The steps of a cold `check`, one by one (the same work as `netdsl check FILES`, timed apart).
_STEPS = """
import gc, json, sys, time
marks = [time.perf_counter()]
from netdsl.pipelines import cli
cli._start_program(); cli._settle("check")  # as the program starts `check`: lark imported, no plugin scan
from pydantic import BaseModel
class _First(BaseModel):  # pydantic's first model class: its submodules
    x: int
import argparse
marks.append(time.perf_counter())
import netdsl.dsl.loader, netdsl.dsl.shapes
marks.append(time.perf_counter())
from netdsl.dsl import analyse, load
nets = [load(path) for path in sys.argv[1:]]
marks.append(time.perf_counter())
for net in nets:
    analyse(net)
marks.append(time.perf_counter())
gc.freeze()  # as `main()` does
print("STEPS:" + json.dumps([[b - a for a, b in zip(marks, marks[1:])], time.time()]), file=sys.stderr)
"""
STEP_NAMES = (
    "the program's start (cli), pydantic (and a first model class) and lark imported",
    "netdsl's modules imported (the spec classes made)",
    "load: parse and validate (the parser and the kinds' validators built)",
    "analyse",
)


def _netdsl() -> list[str]:
    """The `netdsl` console script of this interpreter's install, as pip writes it beside `python`;
    else the first on PATH. Not PATH's first: a version manager's shim (pyenv's is a bash script that
    finds the version, ~0.1 s on this machine) would be timed as netdsl's start-up."""
    own = os.path.join(os.path.dirname(sys.executable), "netdsl")
    found = own if os.access(own, os.X_OK) else shutil.which("netdsl")
    return [found] if found else [sys.executable, "-m", "netdsl.pipelines.cli"]


_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def _wall(command: list[str]) -> tuple[float, int]:
    """(seconds, exit status) of one run."""
    with Timer() as t:
        done = subprocess.run(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False,
                              env=_ENV)
    return t.seconds, done.returncode


def _timed(code: str, args: list[str], site: str | None = None) -> dict:
    """One fresh process of `python -c code args`: wall and CPU seconds, exit status, and what it
    printed after its tag (`TIMES:`, `STEPS:`) with the seconds from then to the process's end."""
    env = dict(_ENV, PYTHONPATH=site) if site else _ENV
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", code, *args], cwd=ROOT, env=env, capture_output=True, text=True)
    wall, ended = time.perf_counter() - start, time.time()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    run = {"wall": wall, "cpu": after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime,
           "status": done.returncode, "stderr": done.stderr}
    for line in done.stderr.splitlines():
        if line.startswith(("TIMES:", "STEPS:")):
            run["values"], returned = json.loads(line.split(":", 1)[1])
            run["shutdown"] = ended - returned
    return run


def _imports(args: list[str]) -> str:
    done = subprocess.run([sys.executable, "-c", _PROBE, *args], cwd=ROOT, capture_output=True, text=True)
    for line in done.stderr.splitlines():
        if line.startswith("IMPORTED:"):
            return line.removeprefix("IMPORTED:") or "no"
    return "?"


def _examples() -> list[str]:
    return sorted(str(p.relative_to(ROOT)) for p in (ROOT / "examples").glob("*.net"))


def commands(runs: int, quick: bool) -> Table:
    """Each command in fresh processes: median and fastest wall time, and what it imported."""
    examples = _examples()
    rows = [
        ("python -c pass", [sys.executable, "-c", "pass"], None, runs),
        ("netdsl --help", _netdsl() + ["--help"], ["--help"], runs),
        ("netdsl check examples/digits_cnn.net (one file)", _netdsl() + ["check", "examples/digits_cnn.net"],
         ["check", "examples/digits_cnn.net"], runs),
        ("netdsl check examples/*.net", _netdsl() + ["check", *examples], ["check", *examples], runs),
    ]
    if not quick:
        rows.append(("python -c 'import keras' (reference)", [sys.executable, "-c", "import keras"], None, min(runs, 5)))
    table = Table(
        f"Start-up (fresh process each, median of {runs})",
        ["command", "median s", "min s", "exit status", "imports TensorFlow/Keras"],
    )
    for label, command, probe_args, n in rows:
        _wall(command)  # once to warm the OS file cache and write the bytecode caches, not counted
        times, statuses = zip(*(_wall(command) for _ in range(n)))
        status = ",".join(sorted({str(s) for s in statuses}))
        table.add(label, median(times), min(times), status, _imports(probe_args) if probe_args is not None else "-")
    table.notes.append(f"netdsl = {' '.join(_netdsl())}; examples: {len(examples)} files; bytecode caches written by an untimed first run"
                       + (" (this machine sets PYTHONDONTWRITEBYTECODE; unset for these runs)" if "PYTHONDONTWRITEBYTECODE" in os.environ else "")
                       + (f"; the keras reference: median of {min(runs, 5)}" if not quick else ""))
    return table


def steps(runs: int) -> Table:
    """Where a cold check of the examples goes, step by step: medians over fresh processes."""
    examples = _examples()
    _timed(_STEPS, examples)  # caches written, not counted
    done = [_timed(_STEPS, examples) for _ in range(runs)]
    failed = [run["stderr"][-300:] for run in done if "values" not in run]
    if failed:
        raise RuntimeError(f"the steps of a check failed: {failed[0]}")
    table = Table(f"Where a cold check's time goes (this checkout, fresh process each, median of {runs})", ["step", "median s"])
    table.add("python's own start-up (`python -c pass`, for reference)", median([_wall([sys.executable, "-c", "pass"])[0] for _ in range(runs)]))
    for i, name in enumerate(STEP_NAMES):
        table.add(name, median([run["values"][i] for run in done]))
    table.add("the interpreter's shutdown", median([run["shutdown"] for run in done]))
    table.add("whole process", median([run["wall"] for run in done]))
    table.notes.append(f"the {len(examples)} examples, loaded and analysed as `netdsl check` does; each step's time "
                       "includes the imports it is the first to need")
    return table


def _in_turns(code: str, args: list[str], baseline: str, runs: int, tagged: bool = False) -> dict[str, list[dict]]:
    """`runs` fresh processes of `python -c code args` for the netdsl in `baseline` and for this
    checkout, in turns (which goes first alternates), after one untimed run of each that writes the
    bytecode caches and must succeed (and print its tag, if `tagged`): `_timed`'s results by side,
    the baseline first."""
    sides = {f"baseline ({baseline})": baseline, "this checkout": None}
    for label, site in sides.items():
        first = _timed(code, args, site)
        if first["status"] != 0 or (tagged and "values" not in first):
            raise RuntimeError(f"{label}: check failed: {first['stderr'][-300:]}")
    results: dict[str, list[dict]] = {label: [] for label in sides}
    for i in range(runs):
        for label, site in (list(sides.items()) if i % 2 == 0 else list(sides.items())[::-1]):
            results[label].append(_timed(code, args, site))
    return results


def against(baseline: str, runs: int) -> Table:
    """`netdsl check examples/*.net`, the netdsl in `baseline` and this checkout in turns."""
    results = _in_turns(_TIMED, ["check", *_examples()], baseline, runs, tagged=True)
    table = Table(
        f"netdsl check examples/*.net, against a baseline (fresh processes in turns, median of {runs})",
        ["netdsl", "wall median s", "wall min s", "CPU median s", "import and run median s", "shutdown median s", "exit status"],
    )
    for label, done in results.items():
        table.add(label, median([r["wall"] for r in done]), min(r["wall"] for r in done), median([r["cpu"] for r in done]),
                  median([r.get("values", float("nan")) for r in done]), median([r.get("shutdown", float("nan")) for r in done]),
                  ",".join(sorted({str(r["status"]) for r in done})))
    table.notes.append("import and run: from before `from netdsl.pipelines.cli import main` to `main()`'s return; "
                       "shutdown: from then to the end of the process; CPU: user + system")
    return table


# `netdsl ARGS` exactly as its console script runs it (`program()`: the program's own settings, and a
# light command's process ended at once), for the in-turns comparison of both netdsls.
_PROGRAM = "import sys\nfrom netdsl.pipelines.cli import program\nsys.argv = ['netdsl', *sys.argv[1:]]\nprogram()"


def against_program(baseline: str, runs: int) -> Table:
    """`netdsl check` of one file and of the examples as the `netdsl` program runs it, the netdsl in
    `baseline` and this checkout in turns (which goes first alternates), with the median of the
    paired differences: the settings only the program makes (`cli._start_program`, `_settle`) show
    here and not in `against`, which calls `main()` as a Python caller does."""
    table = Table(
        f"netdsl check as the program runs it, against a baseline (fresh processes in turns, median of {runs})",
        ["files", "netdsl", "wall median s", "wall min s", "CPU median s", "saved, paired median ms", "exit status"],
    )
    for files, args in (("one (digits_cnn.net)", ["check", "examples/digits_cnn.net"]),
                        (f"{len(_examples())} examples", ["check", *_examples()])):
        done = _in_turns(_PROGRAM, args, baseline, runs)
        (old, new) = done.values()
        saved = median([(a["wall"] - b["wall"]) * 1000 for a, b in zip(old, new)])
        for label, results in done.items():
            table.add(files, label, median([r["wall"] for r in results]), min(r["wall"] for r in results),
                      median([r["cpu"] for r in results]), saved if results is new else "-",
                      ",".join(sorted({str(r["status"]) for r in results})))
    table.notes.append("saved: the baseline's wall time minus this checkout's, run by run, median")
    return table


def run(quick=False, runs=None, baseline=None):
    runs = runs or (3 if quick else 15)
    tables = [commands(runs, quick), steps(runs)]
    if baseline:
        tables += [against(baseline, runs), against_program(baseline, runs)]
    tables[-1].notes.append(f"load average at the end: {os.getloadavg()[0]:.1f}")
    return tables


def _arguments(p):
    p.add_argument("--runs", type=int, help="timed runs per command (default 15, 3 with --quick)")
    p.add_argument("--baseline", metavar="SITE", help="also time `check` against the netdsl installed in SITE (see the docstring)")


if __name__ == "__main__":
    script_main(run, __doc__.splitlines()[0], _arguments)
