"""What the benchmark scripts share: the data, fresh processes, medians, tables, the command line.

Nothing here imports TensorFlow or Keras: the parent process of every benchmark stays light and
each measurement that needs TensorFlow runs in a fresh `spawn` process (`in_fresh_process`), so
one contender's TensorFlow state (graphs, caches, threads) never helps or hinders another's.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import platform
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NETS = Path(__file__).resolve().parent / "nets"

# Set before anything imports TensorFlow, here and (inherited) in every spawned child.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")


def digits(n_rows: int | None = None):
    """scikit-learn's 8x8 digits as every contender gets them: X = pixels / 16 (float32, flat 64), y = int labels."""
    import numpy as np
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    X = (X / 16.0).astype(np.float32)
    y = y.astype(np.int64)
    if n_rows is not None:
        X, y = X[:n_rows], y[:n_rows]
    return X, y


def quiet_tensorflow():
    """Silence TensorFlow's and Keras's start-up chatter and warnings in a benchmark child."""
    import logging
    import warnings

    warnings.filterwarnings("ignore")
    logging.getLogger("tensorflow").setLevel(logging.ERROR)
    logging.getLogger("absl").setLevel(logging.ERROR)


def _call(function, args, kwargs):
    quiet_tensorflow()
    try:
        return function(*args, **kwargs)
    finally:
        if "joblib.externals.loky" in sys.modules:  # a search's worker processes, kept for reuse (300 s idle):
            from joblib.externals.loky import get_reusable_executor  # this process would wait for them at its exit

            get_reusable_executor().shutdown(wait=True, kill_workers=True)


def in_fresh_process(function, *args, **kwargs):
    """`function(*args, **kwargs)` in a new Python started with `spawn` (no state shared with this
    one or with earlier measurements); returns its result. `function` must be importable. The
    process is not a daemon (a `multiprocessing.Pool`'s are), so a contender's own worker
    processes start in it: joblib runs a daemon's `n_jobs=2` search in one process."""
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as executor:
        return executor.submit(_call, function, args, kwargs).result()


def try_in_fresh_process(function, *args, **kwargs):
    """(result, None) or (None, "ErrorType: message"): a contender that fails is reported, not fatal."""
    try:
        return in_fresh_process(function, *args, **kwargs), None
    except Exception as error:
        message = str(error).strip().splitlines()
        return None, f"{type(error).__name__}: {message[-1] if message else ''}"[:300]


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else float("nan")


def call_times(call, calls: int, warm_up: int = 3) -> tuple[float, list[float]]:
    """(ms of the first call, [ms of each of `calls` timed calls]): the first call, then `warm_up` - 1
    untimed ones, then the timed ones."""
    with Timer() as first:
        call()
    for _ in range(warm_up - 1):
        call()
    times = []
    for _ in range(calls):
        with Timer() as t:
            call()
        times.append(t.seconds * 1000)
    return first.seconds * 1000, times


class Timer:
    """`with Timer() as t: ...; t.seconds`"""

    def __enter__(self):
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.start


@dataclass
class Table:
    """A result table: printed as aligned text, written as Markdown."""

    title: str
    columns: list[str]
    rows: list[list] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, *cells):
        self.rows.append(list(cells))

    def _cells(self):
        return [[_fmt(c) for c in row] for row in self.rows]

    @staticmethod
    def _numeric_column(cells, i) -> bool:
        """Right-aligned: numbers (and ratios), with blanks ("-", "n/a") allowed."""
        column = [row[i] for row in cells if row[i] not in ("-", "n/a", "")]
        return bool(column) and all(_numeric(c) for c in column)

    def text(self) -> str:
        cells = self._cells()
        widths = [max(len(str(h)), *(len(r[i]) for r in cells)) if cells else len(str(h)) for i, h in enumerate(self.columns)]
        line = "  ".join(h.ljust(w) for h, w in zip(self.columns, widths))
        out = [self.title, "=" * len(self.title), line, "  ".join("-" * w for w in widths)]
        for row in cells:
            out.append("  ".join(c.rjust(w) if _numeric(c) else c.ljust(w) for c, w in zip(row, widths)))
        out += [f"  {note}" for note in self.notes]
        return "\n".join(out)

    def markdown(self) -> str:
        cells = self._cells()
        out = [f"### {self.title}", "", "| " + " | ".join(self.columns) + " |"]
        out.append("|" + "|".join(" ---: " if self._numeric_column(cells, i) else " --- " for i in range(len(self.columns))) + "|")
        out += ["| " + " | ".join(row) + " |" for row in cells]
        if self.notes:
            out.append("")
            out += [f"- {note}" for note in self.notes]
        return "\n".join(out)


def _fmt(cell) -> str:
    if isinstance(cell, float):
        if cell != cell:
            return "n/a"
        if abs(cell) >= 100:
            return f"{cell:.0f}"
        if abs(cell) >= 10:
            return f"{cell:.1f}"
        if abs(cell) >= 0.1:
            return f"{cell:.2f}"
        return f"{cell:.3f}"
    return str(cell)


def _numeric(text: str) -> bool:
    text = text.rstrip("x%")
    try:
        float(text)
    except ValueError:
        return False
    return True


def ratio(slow: float, fast: float) -> str:
    """How many times faster `fast` is than `slow`, as text ("12.3x")."""
    if not fast or fast != fast or slow != slow:
        return "n/a"
    return f"{slow / fast:.1f}x" if slow / fast < 100 else f"{slow / fast:.0f}x"


def fastest_sides(runs: dict, labels: dict) -> str | None:
    """The note comparing netdsl and scikeras each at its fastest setting: of each side's n_jobs=1
    contender (`netdsl`, `scikeras`) and its n_jobs=2 one (`netdsl_jobs`, `scikeras_jobs`), the
    lower median seconds. `runs`: contender -> its runs. None unless a `_jobs` contender ran and
    both sides have a time."""
    fastest = {}
    for side in ("netdsl", "scikeras"):
        timed = [(median([r.get("seconds") for r in runs[c]]), labels[c]) for c in (side, f"{side}_jobs") if runs.get(c)]
        timed = [t for t in timed if t[0] == t[0]]  # not NaN (no finished run)
        if timed:
            fastest[side] = min(timed)
    if not any(c.endswith("_jobs") and done for c, done in runs.items()) or len(fastest) < 2:
        return None
    (ours, ours_how), (theirs, theirs_how) = fastest["netdsl"], fastest["scikeras"]
    return f"each at its fastest: {ours_how} {ours:.2f} s, {theirs_how} {theirs:.1f} s: netdsl {theirs / ours:.1f}x faster"


def add_search_row(table: Table, label: str, runs: list[dict], ours, detail, is_ours: bool) -> None:
    """One contender's row of a grid-search table: the median and every run's seconds, the medians of
    the best and mean CV accuracy, `detail(done)` (a column of the script's own, from the finished
    runs), and how much faster netdsl was; the first failed run's error becomes a note."""
    done = [r for r in runs if "seconds" in r]
    errors = [r["error"] for r in runs if "error" in r]
    seconds = median([r["seconds"] for r in done])
    table.add(
        label,
        seconds,
        " ".join(f"{r['seconds']:.1f}" for r in done) or "-",
        median([r["best"] for r in done]),
        median([r["mean"] for r in done]),
        detail(done),
        "-" if is_ours else ratio(seconds, ours),
    )
    if errors:
        table.notes.append(f"{label} failed: {errors[0]}")


def machine() -> str:
    """One line on where the numbers come from."""
    import importlib.metadata as md

    def version(name):
        try:
            return md.version(name)
        except md.PackageNotFoundError:
            return "-"

    load = ""
    if hasattr(os, "getloadavg"):
        load = f", load average {os.getloadavg()[0]:.1f}"
    return (
        f"{platform.machine()} ({cpu_model()}), {os.cpu_count()} CPUs{load}; Python {platform.python_version()}, "
        f"tensorflow {version('tensorflow') if version('tensorflow') != '-' else version('tensorflow-cpu')}, "
        f"keras {version('keras')}, scikit-learn {version('scikit-learn')}, scikeras {version('scikeras')}, "
        f"netdsl {version('netdsl')}"
    )


def cpu_model() -> str:
    """The CPU's model name (Linux's /proc/cpuinfo): the ratios move with it (the digits-convnet
    grid was 12.2x scikeras on the machine of 2026-12-02 and 6.5x on an AMD EPYC the day after,
    benchmarks/README.md)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "CPU model unknown"


def parser(description: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--quick", action="store_true", help="a small version that finishes in seconds (numbers are rough)")
    p.add_argument("--markdown", metavar="PATH", help="also write the tables as Markdown to PATH")
    return p


def report(tables: list[Table], markdown_path: str | None = None, *, heading: str | None = None, seconds=None):
    """Print the tables; write them as Markdown to `markdown_path` when given."""
    for table in tables:
        print()
        print(table.text())
    if seconds is not None:
        print(f"\n({seconds:.0f} s)")
    if markdown_path:
        parts = [heading] if heading else []
        parts += [f"Machine: {machine()}.", ""]
        parts += [t.markdown() + "\n" for t in tables]
        Path(markdown_path).write_text("\n".join(parts))
        print(f"Markdown tables written to {markdown_path}")


def script_main(run, description: str, extra_args=None):
    """The command line of one benchmark script: `run(quick=..., **extra) -> list[Table]`."""
    p = parser(description)
    if extra_args:
        extra_args(p)
    args = vars(p.parse_args())
    markdown_path = args.pop("markdown")
    with Timer() as t:
        tables = run(**args)
    command = "python -m benchmarks." + Path(sys.argv[0]).stem + (" " + " ".join(sys.argv[1:]) if sys.argv[1:] else "")
    report(tables, markdown_path, heading=f"`{command}`", seconds=t.seconds)
    return tables
