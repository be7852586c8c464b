"""`netdsl plot search` and `plots.search_report` of a search in rungs (successive halving): mean CV
score against the epochs each rung had trained, one line per candidate across its rungs, the stopped
ones marked where they stopped, the best highlighted, the candidates per rung on the axis. From a
results CSV (netdsl's halving columns), scikit-learn's halving `cv_results_`, and a real `tune` run."""

import importlib

import numpy as np
import pandas as pd
import pytest
from matplotlib.image import imread

from netdsl.pipelines import plots
from netdsl.pipelines.cli import main

# Nine candidates, three rungs (1, 3 and 9 epochs, factor 3): candidate c scores 0.5 + 0.04 c - 0.3 / (epochs + 1);
# candidate 0 fails; rung 0 keeps 6, 7, 8, rung 1 keeps 8, which ends the search.
QUALITY = {c: 0.5 + 0.04 * c for c in range(9)}
RUNGS = [(0, 1, range(9), {6, 7, 8}), (1, 3, (6, 7, 8), {8}), (2, 9, (8,), set())]


def _rows():
    rows = []
    for rung, epochs, alive, kept in RUNGS:
        for c in alive:
            score = np.nan if c == 0 else round(QUALITY[c] - 0.3 / (epochs + 1), 6)
            status = "failed" if c == 0 else "final" if rung == 2 else "promoted" if c in kept else "stopped"
            rows.append({
                "candidate": c, "rung": rung, "epochs": epochs, "param_lr": [0.001, 0.01, 0.1][c % 3],
                "param_width": [8, 16, 32][c // 3], "mean_test_score": score, "std_test_score": 0.01,
                "split0_test_score": score, "split1_test_score": score, "mean_fit_time": 0.1, "status": status,
                "error": "ValueError: boom" if c == 0 else "",
            })  # fmt: skip
    return pd.DataFrame(rows)


def _by_gid(ax, gid):
    return [line for line in ax.lines if line.get_gid() == gid]


def _candidate_lines(ax):
    return {int(line.get_gid().split()[1]): line for line in ax.lines if (line.get_gid() or "").startswith("candidate ")}


def test_the_rungs_of_a_halving_csv(tmp_path):
    csv = tmp_path / "results.csv"
    _rows().to_csv(csv, index=False)
    png = tmp_path / "rungs.png"
    figure = plots.search_report(csv, path=png)
    assert imread(png).shape == (600, 950, 4)  # a real PNG of the figure's size (9.5 x 6 inches)
    (ax,) = figure.axes
    lines = _candidate_lines(ax)
    assert sorted(lines) == list(range(1, 9))  # one line per candidate; the failed one has no score to draw
    best = lines[8]
    assert list(best.get_xdata()) == [1, 3, 9] and best.get_color() == "C3" and best.get_linewidth() > 2
    np.testing.assert_allclose(best.get_ydata(), [0.82 - 0.15, 0.82 - 0.075, 0.82 - 0.03])
    assert list(lines[7].get_xdata()) == [1, 3] and list(lines[1].get_xdata()) == [1]  # stopped at rungs 1 and 0
    stopped = sorted((float(line.get_xdata()[0]), round(float(line.get_ydata()[0]), 6)) for line in _by_gid(ax, "stopped"))
    assert stopped == sorted([(1.0, round(QUALITY[c] - 0.15, 6)) for c in range(1, 6)] + [(3.0, 0.705), (3.0, 0.665)])
    (star,) = _by_gid(ax, "best")
    assert (float(star.get_xdata()[0]), float(star.get_ydata()[0])) == (9.0, pytest.approx(0.79))
    assert [t.get_text() for t in ax.get_xticklabels()] == [
        "1\nrung 0: 9 candidates", "3\nrung 1: 3 candidates", "9\nrung 2: 1 candidate"]
    assert ax.get_xscale() == "log"  # rungs grow by a factor: evenly spaced
    assert ax.get_xlabel() == "epochs trained (each rung's budget)" and ax.get_ylabel() == "mean CV score"
    title = figure._suptitle.get_text().replace("\n", " ")
    assert "9 candidates (9 \u2192 3 \u2192 1), 1 failed; best 0.790 \u00b1 0.010 with lr=0.1, width=32" in title
    legend = [t.get_text() for t in figure.legends[0].get_texts()]
    assert legend == ["a candidate across its rungs", "stopped (7)", "last rung (1)", "best candidate"]


def test_netdsl_plot_search_draws_the_rungs(tmp_path, capsys):
    csv = tmp_path / "results.csv"
    _rows().to_csv(csv, index=False)
    out = tmp_path / "search.png"
    assert main(["plot", "search", str(csv), "--out", str(out)]) == 0
    assert f"to {out}" in capsys.readouterr().out
    assert imread(out).shape == (600, 950, 4)


def test_netdsl_plot_search_says_which_rung_cell_is_not_a_rung(tmp_path, capsys):
    csv = tmp_path / "results.csv"
    _rows().astype({"rung": object}).assign(rung=lambda f: f["rung"].where(f.index != 2, "x")).to_csv(csv, index=False)
    assert main(["plot", "search", str(csv), "--out", str(tmp_path / "search.png")]) == 1
    err = capsys.readouterr().err
    assert err == ("netdsl: error[D101]: the search results' `rung` column holds 'x' in row 3 (line 4 of a CSV), "
                   "not a rung (0, 1, 2, ...); fix or drop that row\n")
    assert not (tmp_path / "search.png").exists()


def test_a_one_rung_csv_keeps_the_grid_picture(tmp_path):
    grid = _rows().query("rung == 0").assign(status="final")  # a grid search's rows: all at rung 0
    figure = plots.search_report(grid)
    assert [ax.get_xlabel() for ax in figure.axes if ax.get_visible()] == ["lr", "width"]
    assert not any(_candidate_lines(ax) for ax in figure.axes)


def test_the_rungs_of_scikit_learns_halving_search():
    from sklearn.datasets import load_iris
    importlib.import_module("sklearn.experimental.enable_halving_search_cv")  # scikit-learn's switch for them
    from sklearn.model_selection import HalvingGridSearchCV
    from sklearn.tree import DecisionTreeClassifier

    X, y = load_iris(return_X_y=True)
    search = HalvingGridSearchCV(DecisionTreeClassifier(random_state=0), {"max_depth": [1, 2, 3, 4, 5, 6]}, factor=2,
                                 min_resources=30, cv=2, random_state=0).fit(X, y)
    for source in (search, search.cv_results_, pd.DataFrame(search.cv_results_)):
        (ax,) = plots.search_report(source).axes
        assert len(_candidate_lines(ax)) == 6  # a candidate is its params, found again at each rung
        assert [t.get_text().split("\n")[1] for t in ax.get_xticklabels()] == [
            f"rung {i}: {n} candidates" for i, n in enumerate(search.n_candidates_)]
        (star,) = _by_gid(ax, "best")
        assert float(star.get_xdata()[0]) == search.n_resources_[-1]
        assert float(star.get_ydata()[0]) == pytest.approx(search.best_score_)
    assert plots.search_report(search).axes[0].get_xlabel() == "n_samples (each rung's budget)"


def test_the_rungs_of_a_real_halving_tune(iris, tmp_path):
    tuning = pytest.importorskip("netdsl.pipelines.tuning")
    X, y = iris
    net = ("net tiny\nparam hidden = 8 in [2, 4, 8, 16]\ndense(hidden, activation=relu)\n"
           "dense(n_classes, activation=softmax)\ntrain {\n    epochs = 2\n}\n")
    csv = tmp_path / "results.csv"
    search = tuning.tune(net, X, y, "halving", min_epochs=1, factor=2, cv=2, random_state=0, results_path=csv, refit=False)
    rows = pd.read_csv(csv)
    assert set(rows["status"]) <= {"promoted", "stopped", "final", "failed"} and rows["rung"].nunique() > 1
    for source in (csv, search):
        (ax,) = plots.search_report(source, path=tmp_path / "rungs.png").axes
        assert sorted(_candidate_lines(ax)) == sorted(rows["candidate"].unique())
        assert [t.get_text() for t in ax.get_xticklabels()] == [
            f"{e}\nrung {i}: {n} candidate{'' if n == 1 else 's'}"
            for i, (e, n) in enumerate(zip(search.n_resources_, search.n_candidates_))]
        (star,) = _by_gid(ax, "best")
        assert float(star.get_xdata()[0]) == search.n_resources_[-1]
        assert float(star.get_ydata()[0]) == pytest.approx(search.best_score_)
        assert len(_by_gid(ax, "stopped")) == (rows["status"] == "stopped").sum()
    assert imread(tmp_path / "rungs.png").shape == (600, 950, 4)
