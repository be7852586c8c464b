"""The picture of a search: mean CV score against each searched parameter (`search_report`), from a
fitted search, its `cv_results_`, or a table or CSV file of them. Exported by
`netdsl.pipelines.plots` with the other pictures."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

from netdsl.dsl.errors import InputError, ParameterError
from netdsl.pipelines.errors import MissingFileError
from netdsl.pipelines.figures import new_figure, panel_grid, save

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

__all__ = ["search_report"]


# ---- 6. search report --------------------------------------------------------------------------------


def _search_table(source):
    """(candidates, score name): each candidate as (params dict, mean score, std or NaN)."""
    import numpy as np
    import pandas as pd

    if isinstance(source, (str, Path)):
        path = Path(source)
        if not path.is_file():
            raise MissingFileError(f"no such search results file: `{path}`")
        from netdsl.pipelines.data import read_table

        source = read_table(path, str(path))  # a DataError (a ValueError) says what is wrong with the file
    if hasattr(source, "cv_results_"):
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
    scores = [c for c in frame.columns if str(c).startswith("mean_test_")]
    score = "mean_test_score" if "mean_test_score" in frame.columns else (scores[0] if scores else None)
    if score is None:
        raise InputError(
            "search results need a `mean_test_score` column (as in cv_results_); the columns are: "
            + ", ".join(map(str, frame.columns))
        )
    std = "std_test_" + score.removeprefix("mean_test_")
    if params is None:
        columns = [c for c in frame.columns if str(c).startswith("param_")]
        if columns:
            params = [
                {c.removeprefix("param_"): _plain(v) for c, v in row.items() if not _missing(v)}
                for row in frame[columns].to_dict("records")
            ]
        elif "params" in frame.columns and all(isinstance(v, dict) for v in frame["params"]):
            params = list(frame["params"])
        else:
            raise InputError(
                "search results need `param_*` columns (one per searched parameter); the columns are: "
                + ", ".join(map(str, frame.columns))
            )
    means = pd.to_numeric(frame[score], errors="coerce").to_numpy(dtype=float)
    stds = pd.to_numeric(frame[std], errors="coerce").to_numpy(dtype=float) if std in frame.columns else np.full(len(frame), np.nan)
    rows = [(p, m, s) for p, m, s in zip(params, means, stds) if np.isfinite(m)]
    if not rows:
        raise InputError("search results hold no candidate with a finite mean test score (did every fit fail?)")
    name = score.removeprefix("mean_test_")
    return rows, ("" if name == "score" else name), len(params) - len(rows)


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
    `cv_results_`, or a DataFrame or CSV file of them (`param_*`, `mean_test_score`, `std_test_score`)."""
    import numpy as np

    rows, metric, failed = _search_table(search_or_results)
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
