"""The picture of a search (`search_report`), from a fitted search, its `cv_results_`, or a table or
CSV file of them: mean CV score against each searched parameter; for a search in rungs (successive
halving: a results CSV with `candidate`, `rung` and `epochs` columns, or scikit-learn's halving
`cv_results_` with `iter` and `n_resources`), mean CV score against the epochs (resources) spent, one
line per candidate across its rungs. Exported by `netdsl.pipelines.plots` with the other pictures."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

from netdsl.dsl.errors import InputError, ParameterError
from netdsl.pipelines.errors import DataError, MissingFileError
from netdsl.pipelines.figures import new_figure, panel_grid, save

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

__all__ = ["search_report"]


# ---- 6. search report --------------------------------------------------------------------------------


def _results(source):
    """(table, params or None, resource name or None): the results as a DataFrame, with the `params`
    dicts of a `cv_results_` and the resource a fitted halving search spent (its `resource`)."""
    import pandas as pd

    resource = None
    if isinstance(source, (str, Path)):
        path = Path(source)
        if not path.is_file():
            raise MissingFileError(f"no such search results file: `{path}`")
        from netdsl.pipelines.data import read_table

        source = read_table(path, str(path))  # a DataError (a ValueError) says what is wrong with the file
    rows = getattr(source, "search_rows_", None)
    if hasattr(source, "cv_results_") and rows and all("rung" in row and "candidate" in row for row in rows):
        source = pd.DataFrame(rows)  # netdsl's `tune`: the rows of its results CSV, with each one's status
    elif hasattr(source, "cv_results_"):
        resource = getattr(source, "resource", None)  # scikit-learn's halving searches: "n_samples", ...
        source = source.cv_results_
    elif hasattr(source, "get_params") and not isinstance(source, (dict, pd.DataFrame)):
        raise ParameterError(f"search_report needs a fitted search (with `cv_results_`); got {type(source).__name__}")
    if isinstance(source, dict):
        frame = pd.DataFrame({k: list(v) for k, v in source.items() if k != "params"})
        params = list(source.get("params", [])) or None
    elif isinstance(source, pd.DataFrame):
        frame = source
        params = None
    else:
        raise ParameterError(
            f"search_report takes a fitted GridSearchCV/RandomizedSearchCV, its cv_results_, a DataFrame or a CSV path; "
            f"got {type(source).__name__}"
        )
    return frame, params, resource if isinstance(resource, str) else None


def _search_table(frame, params):
    """(candidates, score name, failed): each candidate as (params dict, mean score, std or NaN)."""
    import numpy as np
    import pandas as pd

    scores = [c for c in frame.columns if str(c).startswith("mean_test_")]
    score = "mean_test_score" if "mean_test_score" in frame.columns else (scores[0] if scores else None)
    if score is None:
        raise InputError(
            "search results need a `mean_test_score` column (as in cv_results_); the columns are: "
            + ", ".join(map(str, frame.columns))
        )
    std = "std_test_" + score.removeprefix("mean_test_")
    params = _row_params(frame, params)
    means = pd.to_numeric(frame[score], errors="coerce").to_numpy(dtype=float)
    stds = pd.to_numeric(frame[std], errors="coerce").to_numpy(dtype=float) if std in frame.columns else np.full(len(frame), np.nan)
    rows = [(p, m, s) for p, m, s in zip(params, means, stds) if np.isfinite(m)]
    if not rows:
        raise InputError("search results hold no candidate with a finite mean test score (did every fit fail?)")
    name = score.removeprefix("mean_test_")
    return rows, ("" if name == "score" else name), len(params) - len(rows)


def _row_params(frame, params) -> list[dict]:
    """Each row's searched parameters: `params` when given (a `cv_results_`), else the `param_*`
    columns (empty cells left out)."""
    if params is not None:
        return params
    columns = [c for c in frame.columns if str(c).startswith("param_")]
    if columns:
        return [
            {c.removeprefix("param_"): _plain(v) for c, v in row.items() if not _missing(v)}
            for row in frame[columns].to_dict("records")
        ]
    if "params" in frame.columns and all(isinstance(v, dict) for v in frame["params"]):
        return list(frame["params"])
    raise InputError(
        "search results need `param_*` columns (one per searched parameter); the columns are: "
        + ", ".join(map(str, frame.columns))
    )


def _rung_columns(frame) -> tuple[str, str] | None:
    """(rung column, resource column) of a search in rungs, or None: netdsl's results CSV (`rung`,
    `epochs`) or scikit-learn's halving `cv_results_` (`iter`, `n_resources`); a search of one rung
    (a grid or random search) is drawn as one."""
    for rung, resource in (("rung", "epochs"), ("iter", "n_resources")):
        if rung in frame.columns and resource in frame.columns and frame[rung].nunique(dropna=True) > 1:
            return rung, resource
    return None


def _missing(value) -> bool:
    """An empty cell: NaN (pandas), None, or a masked entry of cv_results_."""
    import numpy as np

    return value is None or value is np.ma.masked or (isinstance(value, float) and math.isnan(value))


def _plain(value):
    """NumPy scalars as Python values."""
    item = getattr(value, "item", None)
    return item() if callable(item) and getattr(value, "ndim", 1) == 0 else value


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _key(value):
    try:
        hash(value)
        return value
    except TypeError:
        return repr(value)


def search_report(search_or_results, path=None) -> Figure:
    """Mean CV score against each searched parameter, one panel per parameter: for each value the best
    mean score over the other parameters, ± its std as error bars, every candidate as a faint point,
    and the best candidate as a star. Takes a fitted GridSearchCV/RandomizedSearchCV, its
    `cv_results_`, or a DataFrame or CSV file of them (`param_*`, `mean_test_score`, `std_test_score`).

    A search in rungs (a halving search's results CSV, with `candidate`, `rung`, `epochs` and `status`;
    a fitted HalvingGridSearchCV/HalvingRandomSearchCV or its `cv_results_`, with `iter` and
    `n_resources`) is drawn as its rungs instead: mean CV score against the epochs (resources) each
    rung had trained, one line per candidate across the rungs it ran, a stopped candidate's line
    ending with a cross where it was stopped, the finalists' lines in colour, the best candidate's
    thick with a star, and above each rung how many candidates it evaluated."""
    frame, params, resource = _results(search_or_results)
    columns = _rung_columns(frame)
    rows, metric, failed = _search_table(frame, params)
    if columns is not None:
        return _rungs_report(frame, _row_params(frame, params), metric, columns, resource, path)
    return _grid_report(rows, metric, failed, path)


def _grid_report(rows, metric, failed, path) -> Figure:
    """`search_report` of a search in one round (see there), from `_search_table`'s rows."""
    import numpy as np

    names = []
    for params, _, _ in rows:
        names.extend(name for name in params if name not in names)
    if not names:
        raise InputError("search_report: the results name no searched parameter")
    # A parameter held at one value was set, not searched: no panel for it (unless nothing varied).
    varied = [n for n in names if len({repr(p.get(n)) for p, _, _ in rows}) > 1]
    names = varied or names
    best_params, best_mean, best_std = max(rows, key=lambda row: row[1])
    panels, cols = panel_grid(len(names), 3)
    figure = new_figure(max(6.5, 4.75 * cols), 1.5 + 3.5 * panels)
    axes = figure.subplots(panels, cols, squeeze=False).ravel()
    for ax, name in zip(axes, names):
        having = [(params[name], mean, std) for params, mean, std in rows if name in params]
        values = list(dict.fromkeys(_key(v) for v, _, _ in having))
        numeric = all(_is_number(v) for v in values)
        if numeric:
            values.sort()
            x_of = {v: float(v) for v in values}
        else:
            values.sort(key=str)
            x_of = {v: float(i) for i, v in enumerate(values)}
        xs = np.array([x_of[_key(v)] for v, _, _ in having])
        ys = np.array([mean for _, mean, _ in having])
        ax.scatter(xs, ys, s=22, color="0.55", alpha=0.45, zorder=2, label="each candidate")
        best_x, best_y, best_err = [], [], []
        for value in values:
            group = [(mean, std) for v, mean, std in having if _key(v) == value]
            mean, std = max(group, key=lambda item: item[0])
            best_x.append(x_of[value])
            best_y.append(mean)
            best_err.append(0.0 if not np.isfinite(std) else std)
        ax.errorbar(best_x, best_y, yerr=best_err, fmt="o-" if numeric and len(values) > 1 else "o", color="C0",
                    lw=1.8, ms=6, capsize=4, zorder=3, label="best over the other parameters \u00b1 std")  # fmt: skip
        if name in best_params:
            ax.plot([x_of[_key(best_params[name])]], [best_mean], marker="*", ms=16, color="C3", ls="none",
                    zorder=4, label="best candidate")  # fmt: skip
        if numeric:
            positive = [v for v in values if v > 0]
            if len(positive) == len(values) and len(values) > 2 and max(values) / min(values) >= 20:
                ax.set_xscale("log")
            ax.set_xticks([x_of[v] for v in values], [f"{v:g}" for v in values])
            ax.minorticks_off()
            if len(values) == 1:
                ax.set_xlim(best_x[0] - 1, best_x[0] + 1)
        else:
            labels = [str(v) for v in values]
            ax.set_xticks(range(len(values)), labels, rotation=30 if max(map(len, labels)) > 6 else 0)
            ax.set_xlim(-0.5, len(values) - 0.5)
        ax.set_xlabel(name)
        ax.set_ylabel(f"mean CV {metric or 'score'}")
        ax.grid(True, alpha=0.3)
    for ax in axes[len(names):]:
        ax.set_visible(False)
    handles, labels = axes[0].get_legend_handles_labels()
    figure.legend(handles, labels, loc="outside lower center", ncols=3, fontsize=9, frameon=False)
    shown = ", ".join(f"{k}={v}" for k, v in best_params.items())
    spread = f" \u00b1 {best_std:.3f}" if np.isfinite(best_std) else ""
    title = f"search: {len(rows)} candidates" + (f" ({failed} failed)" if failed else "")
    width = figure.get_size_inches()[0]
    figure.suptitle(_wrap(f"{title}; best {best_mean:.3f}{spread} with {shown}", int(width * 10)), fontsize=12)
    save(figure, path)
    return figure


def _wrap(text: str, width: int) -> str:
    import textwrap

    return "\n".join(textwrap.wrap(text, width, break_long_words=False)) or text


# ---- a search in rungs --------------------------------------------------------------------------------


def _traces(frame, params, metric, columns):
    """Each candidate's path through the rungs and how it ended: ({candidate: [(rung, resource, mean
    score, frame row), ...] by rung}, {candidate: `stopped`, `final`, `failed` or `promoted` (a search
    stopped midway)}), from the results' `status` where they have one."""
    import numpy as np
    import pandas as pd

    rung_column, resource_column = columns
    rungs = pd.to_numeric(frame[rung_column], errors="coerce").to_numpy(dtype=float)
    bad = np.flatnonzero(~np.isfinite(rungs) | (rungs < 0) | (rungs != np.round(rungs)))
    if len(bad):  # a hand-edited cell: the rungs could not be told apart or ordered
        raise DataError(f"the search results' `{rung_column}` column holds {frame[rung_column].iloc[bad[0]]!r} in row "
                        f"{bad[0] + 1} (line {bad[0] + 2} of a CSV), not a rung (0, 1, 2, ...); fix or drop that row")
    spent = pd.to_numeric(frame[resource_column], errors="coerce").to_numpy(dtype=float)
    means = pd.to_numeric(frame["mean_test_" + (metric or "score")], errors="coerce").to_numpy(dtype=float)
    if "candidate" in frame.columns:
        candidate = pd.to_numeric(frame["candidate"], errors="coerce").to_numpy()
    else:  # scikit-learn's halving: a candidate is its parameters, listed again at each rung it reached
        first: dict[str, int] = {}
        candidate = np.array([first.setdefault(repr(sorted(p.items(), key=str)), len(first)) for p in params])
    traces: dict = {}
    for i in range(len(frame)):
        traces.setdefault(candidate[i], []).append((rungs[i], spent[i], means[i], i))
    last_rung = np.nanmax(rungs)
    ended = {}
    for c, trace in traces.items():
        trace.sort()
        rung, _, mean, row = trace[-1]
        if "status" in frame.columns:
            ended[c] = str(frame["status"].iloc[row])
        else:
            ended[c] = "failed" if not np.isfinite(mean) else "final" if rung == last_rung else "stopped"
    return traces, ended


def _best(traces) -> tuple:
    """(candidate, its last frame row): the best mean score of the last rung any candidate reached,
    ties to the first candidate, as the halving search picks it."""
    import numpy as np

    top = max(trace[-1][0] for trace in traces.values())
    reached = [(c, t[-1]) for c, t in traces.items() if t[-1][0] == top and np.isfinite(t[-1][2])]
    best, (_, _, _, row) = max(reached, key=lambda item: (item[1][2], -item[0]))
    return best, row


def _rungs_report(frame, params, metric, columns, resource, path) -> Figure:
    """`search_report` of a search in rungs (see there); `params` holds each row's parameters."""
    import numpy as np
    import pandas as pd
    from matplotlib.lines import Line2D

    traces, ended = _traces(frame, params, metric, columns)
    best, best_row = _best(traces)
    figure = new_figure(9.5, 6)
    ax = figure.subplots()
    endings = {how: list(ended.values()).count(how) for how in ("stopped", "final", "failed")}
    for c, trace in traces.items():
        points = [(x, y) for _, x, y, _ in trace if np.isfinite(y) and np.isfinite(x)]
        how = ended[c]
        if not points:
            continue
        xs, ys = zip(*points)
        if c == best:
            style = dict(color="C3", lw=2.6, alpha=1.0, zorder=5)
        elif how == "final":
            style = dict(color="C0", lw=1.5, alpha=0.85, zorder=4)
        else:
            style = dict(color="0.45", lw=1.0, alpha=0.45, zorder=3)
        (line,) = ax.plot(xs, ys, "-", marker="o", ms=3.5, **style)
        line.set_gid(f"candidate {c}")
        if c == best:
            ax.plot(xs[-1:], ys[-1:], marker="*", ms=17, color="C3", ls="none", zorder=6, gid="best")
        elif how == "stopped":
            ax.plot(xs[-1:], ys[-1:], marker="x", ms=7, mew=1.8, color="C1", ls="none", alpha=0.9, zorder=4,
                    gid="stopped")  # fmt: skip
        elif how == "final":
            ax.plot(xs[-1:], ys[-1:], marker="o", ms=7, color="C0", ls="none", zorder=4, gid="final")

    # the rungs: their resources as ticks, each with how many candidates it evaluated
    ran = [(r, x) for trace in traces.values() for r, x, _, _ in trace if np.isfinite(r) and np.isfinite(x)]
    counts = [(r, x, ran.count((r, x))) for r, x in sorted(set(ran))]
    positions = sorted({x for _, x, _ in counts})
    if len(positions) > 2 and min(positions) > 0 and max(positions) / min(positions) >= 8:
        ax.set_xscale("log")
    ax.set_xticks([x for _, x, _ in counts], [f"{x:g}\nrung {int(r)}: {n} candidate{'' if n == 1 else 's'}" for r, x, n in counts])
    ax.minorticks_off()
    spent_name = "epochs trained" if columns[1] == "epochs" else resource or "resources"
    ax.set_xlabel(f"{spent_name} (each rung's budget)")
    ax.set_ylabel(f"mean CV {metric or 'score'}")
    ax.grid(True, alpha=0.3)
    handles = [
        Line2D([], [], color="0.45", lw=1.0, marker="o", ms=3.5, alpha=0.6, label="a candidate across its rungs"),
        Line2D([], [], color="C1", marker="x", ms=7, mew=1.8, ls="none", label=f"stopped ({endings['stopped']})"),
        Line2D([], [], color="C0", lw=1.5, marker="o", ms=7, label=f"last rung ({endings.get('final', 0)})"),
        Line2D([], [], color="C3", lw=2.6, marker="*", ms=14, label="best candidate"),
    ]
    figure.legend(handles=handles, loc="outside lower center", ncols=4, fontsize=9, frameon=False)

    per_rung = " \u2192 ".join(str(n) for _, _, n in counts)
    shown = ", ".join(f"{k.rsplit('__', 1)[-1]}={_short(v)}" for k, v in params[best_row].items())  # a pipeline step's prefix dropped
    std = "std_test_" + (metric or "score")
    spread = float(pd.to_numeric(frame[std], errors="coerce").iloc[best_row]) if std in frame.columns else float("nan")
    spread = f" \u00b1 {spread:.3f}" if np.isfinite(spread) else ""
    failed = endings.get("failed", 0)
    title = (f"search in {len(counts)} rungs: {len(traces)} candidates ({per_rung})" + (f", {failed} failed" if failed else "")
             + f"; best {traces[best][-1][2]:.3f}{spread} with {shown}")
    figure.suptitle(_wrap(title, int(figure.get_size_inches()[0] * 10)), fontsize=12)
    save(figure, path)
    return figure


def _short(value) -> str:
    """A parameter's value for a title: floats to 4 significant digits (a drawn 0.0031622776 is 0.003162)."""
    return f"{value:.4g}" if isinstance(value, float) else str(value)

