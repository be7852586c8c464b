"""The rungs of `netdsl.pipelines.tuning.tune`: the tasks (one candidate, fold and rung each), the
rows and checkpoints they give back (to the results file and its `.states` folder), survivors
chosen rung by rung, and a stopped search read back for resume. See `tuning`'s docstring."""

from __future__ import annotations

import hashlib
import json
import math
import time
import traceback
from pathlib import Path
from typing import Any

from netdsl.pipelines.errors import SearchError
from netdsl.pipelines.search import net_step
from netdsl.pipelines.search_results import Reporter, exception_text

__all__ = ["Rungs", "check_halvable", "fingerprint", "run_task", "states_folder", "stored_seed"]


# ---- one task -----------------------------------------------------------------------------------------------


def run_task(estimator, params: dict, X, y, train, test, scorer, epochs, state, keep_state: bool, error_score,
             models: int = 0):
    """Train one candidate on one fold to `epochs` epochs in all (from `state` when given; None:
    the candidate's own epochs) and score it: a dict with its `score`, `fit_time`, `score_time`,
    `epochs` (trained in all), `trained` (by this task), `state` (the new checkpoint, when
    `keep_state`) and `error` (a formatted traceback, or None). Runs in a worker, whose fast path
    keeps up to `models` compiled models (the search's candidates: `fast.keeping`)."""
    from netdsl.estimators import fast

    with fast.keeping(models, trim=False):
        return _task(estimator, params, X, y, train, test, scorer, epochs, state, keep_state, error_score)


def _task(estimator, params: dict, X, y, train, test, scorer, epochs, state, keep_state: bool, error_score):
    from sklearn.base import clone
    from sklearn.utils import _safe_indexing

    from netdsl.estimators import checkpoint

    started = time.perf_counter()
    before = state.epochs if state is not None else 0
    result = {"score": error_score, "fit_time": 0.0, "score_time": 0.0, "epochs": before, "trained": 0, "state": None,
              "error": None}
    prefix, _ = net_step(estimator)
    try:
        model = clone(estimator).set_params(**params)
        if epochs is not None:
            model.set_params(**{prefix + "epochs": epochs - before})
        X_train, y_train = _safe_indexing(X, train), _safe_indexing(y, train)
        if state is None:
            model.fit(X_train, y_train)
        else:
            _resume(model, state, X_train, y_train)
        net = net_step(model)[1]
        result["fit_time"] = time.perf_counter() - started
        result["epochs"] = int(getattr(net, "n_iter_", 0))
        result["trained"] = result["epochs"] - before
        started = time.perf_counter()
        score = scorer(model, _safe_indexing(X, test), _safe_indexing(y, test))
        result["score_time"] = time.perf_counter() - started
        result["score"] = float(score)
        if keep_state:
            result["state"] = checkpoint.capture(net)
    except Exception:
        if error_score == "raise":
            raise
        result["error"] = traceback.format_exc()
        result["fit_time"] = result["fit_time"] or time.perf_counter() - started
    return result


def _resume(model, state, X, y) -> None:
    """Continue `state` with `model`: a netdsl estimator, or a pipeline ending in one (its other
    steps are fitted again, which is cheap and gives the same transform)."""
    from sklearn.pipeline import Pipeline

    from netdsl.estimators import checkpoint

    prefix, net = net_step(model)
    if net is model:
        checkpoint.resume(model, state, X, y)
        return
    head = model[:-1]
    checkpoint.resume(net, state, head.fit_transform(X, y) if isinstance(model, Pipeline) else X, y)


def check_halvable(estimator, space: dict) -> None:
    """SearchError unless halving can continue `estimator` and `epochs` is not searched."""
    from sklearn.pipeline import Pipeline

    prefix, net = net_step(estimator)
    if net is None or (net is not estimator and not (isinstance(estimator, Pipeline) and estimator.steps[-1][1] is net)):
        raise SearchError(
            "halving continues a netdsl estimator's training between rungs: give a NetClassifier or "
            "NetRegressor, or a pipeline whose last step is one"
        )
    if any(key.rsplit("__", 1)[-1] == "epochs" for key in space):
        raise SearchError("halving spends epochs as its resource: `epochs` cannot be a searched key "
                          "(the full budget is the net's or the estimator's epochs)")


# ---- the files of a resumable search ---------------------------------------------------------------------


def fingerprint(spec_text: str, space: dict, settings: dict, cv, X, y) -> dict:
    import joblib
    import numpy as np

    return {
        "net": hashlib.sha256(spec_text.encode()).hexdigest(),
        "space": repr(sorted((k, repr(v) if hasattr(v, "rvs") else v) for k, v in space.items())),
        **{k: repr(v) for k, v in settings.items()},
        "cv": repr(cv),
        "data": f"{np.shape(X)} {np.shape(y)} {joblib.hash((X, y))}",
    }


def states_folder(path: Path) -> Path:
    return path.with_name(path.name + ".states")


def state_file(folder: Path, candidate: int, rung: int, fold: int) -> Path:
    return folder / f"c{candidate}_r{rung}_f{fold}.npz"


def stored_seed(path) -> int | None:
    """The seed that the resumable search at `path` drew (its fingerprint's), so that a search run
    without a random_state can be resumed; None when unreadable (`read_resumed` says why)."""
    try:
        return int(json.loads((states_folder(Path(path)) / "search.json").read_text())["seed"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def read_resumed(path: Path, fingerprint: dict, n_candidates: int) -> list[dict]:
    """The rows of the search at `path` (a SearchError for another search's file, or a cell that is
    not what the search wrote: `_resumed_row`)."""
    import pandas as pd

    folder = states_folder(path)
    try:
        kept = json.loads((folder / "search.json").read_text())
    except (OSError, ValueError):
        raise SearchError(f"cannot resume from {path}: its search's fingerprint ({folder / 'search.json'}) is missing; "
                          "it was not written by this version's tune/--strategy, or the folder was removed") from None
    changed = [k for k in sorted(set(kept) | set(fingerprint)) if kept.get(k) != fingerprint.get(k)]
    if changed:
        raise SearchError(f"cannot resume from {path}: it holds another search (different {', '.join(changed)}); "
                          "run this search with another --out file, or resume it with the same settings")
    try:
        frame = pd.read_csv(path, keep_default_na=True)
    except (OSError, ValueError) as error:
        raise SearchError(f"cannot read the results to resume from {path}: {error}") from None
    missing = {"candidate", "rung", "epochs", "mean_test_score", "status"} - set(frame.columns)
    if missing:
        raise SearchError(f"cannot resume from {path}: it lacks the columns {', '.join(sorted(missing))}")
    return [_resumed_row(record, line, path, n_candidates) for line, record in enumerate(frame.to_dict("records"), 2)]


_SCORES = ("mean_test_score", "std_test_score", "mean_fit_time", "std_fit_time", "mean_score_time", "std_score_time")


def _resumed_row(record: dict, line: int, path: Path, n_candidates: int) -> dict:
    """The row read back from `line` of the results file, its numbers checked (a hand-edited cell
    is a SearchError naming the file, line and column, never a bare ValueError later)."""
    def number(column, whole=False, low=None, high=None, what="a number"):
        try:
            value = float(record[column])
        except (TypeError, ValueError):
            value = math.nan if whole else None
        if value is None or whole and not (value.is_integer() and (low is None or value >= low)
                                           and (high is None or value <= high)):
            cell = record[column]
            shown = "nothing" if isinstance(cell, float) and math.isnan(cell) else repr(cell)
            raise SearchError(f"cannot resume from {path}: line {line}, column `{column}` holds {shown}, not {what}; "
                              "fix the cell as the search wrote it, or run the search again without resume")
        return int(value) if whole else value

    row = {k: (None if isinstance(v, float) and math.isnan(v) and k.startswith("param_") else v)
           for k, v in record.items()}
    row["candidate"] = number("candidate", True, 0, n_candidates - 1, f"one of this search's candidates, 0 to {n_candidates - 1}")
    row["rung"] = number("rung", True, 0, what="a rung, a whole number from 0")
    row["epochs"] = number("epochs", True, 1, what="a number of epochs, a whole number from 1")
    for column in [c for c in record if c in _SCORES or c.startswith("split") and c.endswith("_test_score")]:
        row[column] = number(column)
    row["status"] = "" if not isinstance(row["status"], str) else row["status"]
    row["error"] = "" if not isinstance(row.get("error"), str) else row["error"]
    return row


# ---- the rungs ------------------------------------------------------------------------------------------------


class Rungs:
    """The rungs: tasks out, rows and checkpoints back (and to disk), survivors chosen."""

    def __init__(self, estimator, candidates, X, y, splits, scorer, error_score, path, progress, max_epochs,
                 epochs_key):
        self.max_epochs, self.epochs_key = max_epochs, epochs_key
        self.fingerprint: dict = {}  # of the search, when it has a results file (`fingerprint`)
        self.estimator, self.candidates, self.X, self.y = estimator, candidates, X, y
        self.splits, self.scorer, self.error_score = splits, scorer, error_score
        self.path, self.progress = path, progress
        self.folder = states_folder(path) if path is not None else None
        self.rows: list[dict] = []
        self.resumed = 0
        self.epoch_folds = 0
        self.done: dict[tuple[int, int], dict] = {}  # (candidate, rung) -> row read back

    def prepare(self, resuming: bool) -> None:
        """The states folder and fingerprint: checked and read back when resuming, else anew."""
        if resuming:
            for row in read_resumed(self.path, self.fingerprint, len(self.candidates)):
                self.done[(row["candidate"], row["rung"])] = row
            return
        if self.folder.exists():
            for old in self.folder.glob("*.npz"):
                old.unlink()
        self.folder.mkdir(parents=True, exist_ok=True)
        from netdsl.dsl.files import write_text

        write_text(self.folder / "search.json", json.dumps(self.fingerprint, indent=1, sort_keys=True) + "\n")

    def tidy(self) -> None:
        for old in self.folder.glob("*.npz"):
            old.unlink()

    def run(self, counts, rung_epochs, n_jobs) -> list[dict]:
        """Every rung; the entries of `cv_results_` (one per candidate and rung)."""
        alive = list(range(len(self.candidates)))
        states: dict[int, list] = {}
        entries = []
        last = len(counts) - 1
        total = sum(counts)
        with Reporter(total, self.path, self.progress) as reporter:
            resumed = [row for key, row in sorted(self.done.items(), key=lambda kv: (kv[0][1], kv[0][0]))]
            if resumed:
                reporter.rows = list(resumed)
                reporter.columns = list(resumed[0])
                self.resumed = len(resumed)
            self.rows = reporter.rows
            for rung, epochs in enumerate(rung_epochs):
                keep_state = rung < last
                outcome = self._rung(rung, epochs, alive, states, keep_state, reporter, n_jobs)
                entries.extend(outcome)
                scored = [(e["candidate"], e["mean_test_score"], e["failed"]) for e in outcome]
                if rung < last:
                    ranked = sorted((c for c, s, f in scored if not f and not math.isnan(s)),
                                    key=lambda c: (-next(s for cc, s, _ in scored if cc == c), c))
                    survivors = sorted(ranked[: counts[rung + 1]])
                else:
                    survivors = []
                failed_all = all(f for _, _, f in scored)
                for entry in outcome:
                    row = entry["row"]
                    row["status"] = ("failed" if entry["failed"] else "final" if rung == last
                                     else "promoted" if entry["candidate"] in survivors else "stopped")
                reporter.add([])  # the statuses, written
                if failed_all:
                    first = next((e["row"]["error"] for e in outcome if e["row"]["error"]), "")
                    where = f"; their rows are in {self.path}" if self.path is not None else ""
                    raise SearchError(
                        f"every fit of all {len(outcome)} candidates of rung {rung} failed (first error: {first}){where}",
                        finished=len(self.rows), total=total, rows=self.rows, results_path=self.path,
                    )
                if self.folder is not None:  # the checkpoints no rung will continue
                    for candidate in alive:
                        for fold in range(len(self.splits)):
                            state_file(self.folder, candidate, rung - 1, fold).unlink(missing_ok=True)
                            if candidate not in survivors:
                                state_file(self.folder, candidate, rung, fold).unlink(missing_ok=True)
                for candidate in list(states):
                    if candidate not in survivors:
                        del states[candidate]
                alive = survivors
                if not alive:
                    break
        return entries

    def _rung(self, rung, epochs, alive, states, keep_state, reporter, n_jobs) -> list[dict]:
        """Run (or read back) the candidates `alive` at this rung; an entry per candidate, in order."""
        from joblib import Parallel, delayed

        n = len(self.splits)
        todo = [c for c in alive if (c, rung) not in self.done]
        for candidate in todo:
            if rung and candidate not in states:  # resumed: its checkpoints of the rung before, from disk
                from netdsl.estimators import checkpoint

                try:
                    states[candidate] = [checkpoint.load(state_file(self.folder, candidate, rung - 1, fold))
                                         for fold in range(n)]
                except Exception as error:
                    raise SearchError(f"cannot resume candidate {candidate} at rung {rung}: its checkpoints are "
                                      f"missing or unreadable ({error}); run the search again without resume") from None
        tasks = [
            delayed(run_task)(
                self.estimator, self.candidates[c], self.X, self.y, train, test, self.scorer, epochs,
                states[c][fold] if states.get(c) else None, keep_state, self.error_score, len(self.candidates),
            )
            for c in todo for fold, (train, test) in enumerate(self.splits)
        ]
        outputs = Parallel(n_jobs=n_jobs, return_as="generator")(tasks) if tasks else iter(())
        entries = {}
        for c in alive:
            if (c, rung) in self.done:
                entries[c] = self._entry_from_row(c, rung, self.done[(c, rung)])
        for c in todo:
            folds = [next(outputs) for _ in range(n)]
            for fold, result in enumerate(folds):
                self.epoch_folds += result["trained"]
                if result["state"] is not None and self.folder is not None:
                    from netdsl.estimators import checkpoint

                    checkpoint.save(result["state"], state_file(self.folder, c, rung, fold))
            if keep_state:
                states[c] = [r["state"] for r in folds]
            entry = self._entry(c, rung, epochs, folds)
            entries[c] = entry
            reporter.add([entry["row"]])
        return [entries[c] for c in alive]

    def _row(self, c, rung, epochs) -> dict:
        row: dict[str, Any] = {"candidate": c, "rung": rung, "epochs": epochs}
        for key, value in self.candidates[c].items():
            row[f"param_{key}"] = value if isinstance(value, (int, float, str, bool)) or value is None else repr(value)
        return row

    def _entry(self, c, rung, epochs, folds) -> dict:
        import numpy as np

        scores = np.array([r["score"] for r in folds], dtype=float)
        fit_times = np.array([r["fit_time"] for r in folds])
        score_times = np.array([r["score_time"] for r in folds])
        errors = [r["error"] for r in folds if r["error"] is not None]
        row = self._row(c, rung, epochs if epochs is not None else self.candidates[c].get(self.epochs_key, self.max_epochs))
        row["mean_test_score"], row["std_test_score"] = float(np.mean(scores)), float(np.std(scores))
        for k, score in enumerate(scores):
            row[f"split{k}_test_score"] = float(score)
        row["mean_fit_time"], row["std_fit_time"] = float(fit_times.mean()), float(fit_times.std())
        row["mean_score_time"], row["std_score_time"] = float(score_times.mean()), float(score_times.std())
        row["status"] = ""
        message = exception_text(errors[0]) if errors else ""
        if errors and len(errors) < len(folds):
            message = f"{len(errors)} of {len(folds)} folds failed: {message}"
        row["error"] = message
        return {"candidate": c, "rung": rung, "row": row, "mean_test_score": row["mean_test_score"], "failed": bool(errors)}

    def _entry_from_row(self, c, rung, row) -> dict:
        return {"candidate": c, "rung": rung, "row": row, "mean_test_score": float(row["mean_test_score"]),
                "failed": row["status"] == "failed" or bool(row.get("error"))}


