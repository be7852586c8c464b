"""The results of a search as they come: one row per candidate, written to a CSV file as each chunk
of candidates finishes, a progress bar or callback, and the lock that keeps two searches from
writing one file. `netdsl.pipelines.search` uses them; importing this module is cheap (pandas,
rich and filelock load when a search writes)."""

from __future__ import annotations

import contextlib
import math
import os
import threading
from pathlib import Path
from typing import Any

from netdsl.pipelines.errors import SearchError

__all__ = ["Reporter", "candidate_row", "exception_text", "results_lock"]


class Reporter:
    """Writes rows to the CSV as chunks finish and drives the progress bar or callback."""

    def __init__(self, total: int, results_path, progress):
        self.total = total
        self.path = Path(results_path) if results_path is not None else None
        self.progress = progress
        self.rows: list[dict] = []
        self.columns: list[str] | None = None
        self._bar = None

    def __enter__(self):
        if self.path is not None:
            if self.path.parent != Path("."):
                self.path.parent.mkdir(parents=True, exist_ok=True)
            self._lock = results_lock(self.path)
            self._lock.__enter__()
        if self.progress is True:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self._bar = Progress(
                TextColumn("candidates"), BarColumn(bar_width=24), MofNCompleteColumn(), TimeElapsedColumn(),
                TextColumn("{task.fields[best]}"), console=Console(stderr=True), transient=False,
            )
            self._bar.start()
            self._task = self._bar.add_task("search", total=self.total, best="")
        return self

    def __exit__(self, *exc):
        if self._bar is not None:
            self._bar.stop()
            self._bar = None
        lock, self._lock = getattr(self, "_lock", None), None
        if lock is not None:
            lock.__exit__(*exc)
        return False

    def add(self, rows: list[dict]) -> None:
        if self.path is not None:
            # Every finished row so far, written whole and renamed over the file (dsl.files): a
            # failed write leaves the previous chunks' rows, and the columns stay aligned.
            import pandas as pd

            from netdsl.dsl.files import write_text

            columns = list(self.columns or [])
            columns += [key for row in rows for key in row if key not in columns]
            self.columns = columns
            frame = pd.DataFrame(self.rows + list(rows)).reindex(columns=self.columns)
            write_text(self.path, frame.to_csv(index=False, lineterminator="\n"))
        for row in rows:
            self.rows.append(row)
            if callable(self.progress):
                self.progress(len(self.rows), self.total, row)
        if self._bar is not None:
            scores = [r["mean_test_score"] for r in self.rows if isinstance(r.get("mean_test_score"), float)
                      and not math.isnan(r["mean_test_score"])]
            self._bar.update(self._task, advance=len(rows), best=f"best so far {max(scores):.4g}" if scores else "")


_HELD: dict = {}  # results files this process is writing: resolved path -> (thread id, lock, depth)
_HELD_GUARD = threading.Lock()


@contextlib.contextmanager
def results_lock(path):
    """Hold the lock of a search's results file (a hidden `.NAME.lock` file beside it, locked with
    the OS's file locks through `filelock`) for the block: a second search writing the same file,
    in another process or thread, is refused with a SearchError instead of mixing its rows in.
    Re-entrant in one thread (the command line takes it before loading the data, the search again)."""
    import filelock

    path = Path(path)
    key = os.path.abspath(path)
    me = threading.get_ident()
    with _HELD_GUARD:
        held = _HELD.get(key)
        if held is not None and held[0] == me:
            _HELD[key] = (me, held[1], held[2] + 1)
            lock = None
        elif held is not None:
            raise SearchError(_busy(path))
        else:
            lock = filelock.FileLock(str(path.with_name(f".{path.name}.lock")), timeout=0)
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                lock.acquire()
            except filelock.Timeout:
                raise SearchError(_busy(path)) from None
            except OSError as error:
                raise SearchError(f"cannot write the search results to `{path}`: {error.strerror or error}") from None
            _HELD[key] = (me, lock, 1)
    try:
        yield path
    finally:
        with _HELD_GUARD:
            owner, held_lock, depth = _HELD[key]
            if depth > 1:
                _HELD[key] = (owner, held_lock, depth - 1)
            else:
                del _HELD[key]
                held_lock.release()


def _busy(path: Path) -> str:
    return (
        f"another netdsl search is writing its results to `{path}`; wait for it to finish, "
        "or give this search another file (--out FILE.csv)"
    )


def candidate_row(results: dict, index: int, fold_errors: list, n_splits: int) -> dict:
    """One candidate's results as a flat row: its params, scores, times and the error of failed fits."""
    row: dict[str, Any] = {"candidate": index}
    for key, value in results["params"][index].items():
        row[f"param_{key}"] = value if isinstance(value, (int, float, str, bool)) or value is None else repr(value)
    # ranks change as candidates finish: rank the final results; scores first, then folds, then times
    keys = [k for k in results if k != "params" and not k.startswith(("param_", "rank_"))]
    keys.sort(key=lambda k: (0 if k.startswith(("mean_test", "std_test")) else 1 if k.startswith("split") else 2))
    for key in keys:
        try:
            row[key] = float(results[key][index])
        except (TypeError, ValueError):
            row[key] = results[key][index]
    failed = [e for e in fold_errors if e is not None]
    message = exception_text(failed[0]) if failed else ""
    if failed and len(failed) < n_splits:
        message = f"{len(failed)} of {n_splits} folds failed: {message}"
    row["error"] = message
    return row


def exception_text(traceback_text: str | None) -> str:
    """`Type: first line of the message` of the exception at the end of a formatted traceback."""
    if not traceback_text:
        return ""
    lines = traceback_text.rstrip().splitlines()
    frames = [i for i, line in enumerate(lines) if line.startswith('  File "')]
    rest = lines[frames[-1] + 1:] if frames else lines
    while rest and (rest[0].startswith(" ") or not rest[0].strip()):
        rest = rest[1:]  # the frame's source line and ^^^ markers
    if not rest:
        return lines[-1].strip()
    head = rest[0].strip()
    name, sep, message = head.partition(": ")
    if sep and " " not in name:
        head = f"{name.rsplit('.', 1)[-1]}: {message}"
    return head
