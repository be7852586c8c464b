"""Start-up: cold `netdsl --help` and `netdsl check examples/*.net`, each in a fresh process
(median of 5), with `python -c pass` for reference; and whether each imported TensorFlow.

"Cold" is a new process with Python's bytecode caches in place, as any installation has them: the
commands run without PYTHONDONTWRITEBYTECODE (which some machines set: every run would then compile
netdsl's modules again, about 0.05 s), so the untimed first run writes the caches.

    python -m benchmarks.startup
    python -m benchmarks.startup --quick    # median of 3
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
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


def _netdsl() -> list[str]:
    found = shutil.which("netdsl")
    return [found] if found else [sys.executable, "-m", "netdsl.pipelines.cli"]


def _wall(command: list[str]) -> tuple[float, int]:
    """(seconds, exit status) of one run."""
    with Timer() as t:
        done = subprocess.run(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False,
                              env=_ENV)
    return t.seconds, done.returncode


_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def _imports(args: list[str]) -> str:
    done = subprocess.run([sys.executable, "-c", _PROBE, *args], cwd=ROOT, capture_output=True, text=True)
    for line in done.stderr.splitlines():
        if line.startswith("IMPORTED:"):
            return line.removeprefix("IMPORTED:") or "no"
    return "?"


def run(quick=False, runs=None):
    runs = runs or (3 if quick else 5)
    examples = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "examples").glob("*.net"))
    commands = [
        ("python -c pass", [sys.executable, "-c", "pass"], None),
        ("netdsl --help", _netdsl() + ["--help"], ["--help"]),
        ("netdsl check examples/*.net", _netdsl() + ["check", *examples], ["check", *examples]),
    ]
    if not quick:
        commands.append(("python -c 'import keras' (reference)", [sys.executable, "-c", "import keras"], None))
    table = Table(
        f"Start-up (fresh process each, median of {runs})",
        ["command", "median s", "min s", "exit status", "imports TensorFlow/Keras"],
    )
    for label, command, probe_args in commands:
        _wall(command)  # once to warm the OS file cache, not counted
        times, statuses = zip(*(_wall(command) for _ in range(runs)))
        status = ",".join(sorted({str(s) for s in statuses}))
        table.add(label, median(times), min(times), status, _imports(probe_args) if probe_args is not None else "-")
    table.notes.append(f"netdsl = {' '.join(_netdsl())}; examples: {len(examples)} files; bytecode caches written by an untimed first run"
                       + (" (this machine sets PYTHONDONTWRITEBYTECODE; unset for these runs)" if "PYTHONDONTWRITEBYTECODE" in os.environ else ""))
    return [table]


def _arguments(p):
    p.add_argument("--runs", type=int, help="timed runs per command (default 5, 3 with --quick)")


if __name__ == "__main__":
    script_main(run, __doc__.splitlines()[0], _arguments)
