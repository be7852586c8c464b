"""`netdsl.pipelines.plots` and `netdsl plot`: every picture is drawn from one small fitted convnet
(two epochs on 300 digits), written as a PNG of the documented size, and checked where cheap.

The PNGs are exactly `figsize * DPI` pixels (sizes are whole quarter inches, never bbox "tight"),
so each test states the figure size it expects.
"""

import re
import subprocess
import sys
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure
from matplotlib.image import imread
from sklearn.datasets import load_digits
from sklearn.exceptions import NotFittedError

from netdsl.pipelines import plots
from netdsl.pipelines.cli import main

from conftest import ROOT, user_error

CNN = ROOT / "examples" / "digits_cnn.net"
MLP = "net mlp\nparam hidden = 8 in [8, 16]\ndense(hidden, activation=relu)\ndense(n_classes, activation=softmax)\n"


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X / 16.0, y


@pytest.fixture(scope="module")
def cnn(digits):
    from netdsl.estimators import NetClassifier

    X, y = digits
    return NetClassifier(str(CNN), epochs=2, random_state=0).fit(X[:300], y[:300])  # validation_split 0.1 from the file


@pytest.fixture(scope="module")
def saved(cnn, tmp_path_factory):
    return cnn.save(tmp_path_factory.mktemp("model") / "cnn.model")


@pytest.fixture(scope="module")
def results():
    """A hand-made cv_results_ table: two numeric parameters and a categorical one."""
    rows = []
    for filters in (8, 16, 32):
        for learning_rate in (1e-4, 1e-3, 1e-2):
            for optimizer in ("adam", "sgd"):
                score = 0.6 + filters / 200 - abs(np.log10(learning_rate) + 3) / 10 + (optimizer == "adam") / 20
                rows.append({"param_filters": filters, "param_learning_rate": learning_rate, "param_optimizer": optimizer,
                             "mean_test_score": score, "std_test_score": 0.02})  # fmt: skip
    return pd.DataFrame(rows)


def _png(path, figure, size):
    """The file is a non-empty PNG of figsize `size` (inches) at plots.DPI, and `figure` is a Figure."""
    assert isinstance(figure, Figure)
    assert tuple(figure.get_size_inches()) == size
    assert path.is_file() and path.stat().st_size > 0
    width, height = size
    assert imread(path).shape == (int(height * plots.DPI), int(width * plots.DPI), 4)


def _images(figure):
    return [ax for ax in figure.axes if ax.images]


# ---- import cost ---------------------------------------------------------------------------------


def test_importing_plots_loads_nothing_heavy():
    out = subprocess.run(
        [sys.executable, "-c", "import netdsl.pipelines.plots, sys; print(' '.join(sys.modules))"],
        capture_output=True, text=True, check=True, cwd=ROOT,
    ).stdout.split()  # fmt: skip
    assert "netdsl.pipelines.plots" in out
    assert not {m for m in out if m.split(".")[0] in ("tensorflow", "keras", "matplotlib", "numpy", "pandas")}


# ---- 1. training curves ----------------------------------------------------------------------------


def test_training_curves(cnn, tmp_path):
    path = tmp_path / "curves.png"
    figure = plots.training_curves(cnn, path=path)
    _png(path, figure, (9.5, 4.25))  # two panels: loss, accuracy
    panels = [ax for ax in figure.axes if ax.get_visible()]
    assert [ax.get_title() for ax in panels] == ["loss", "accuracy"]
    for ax in panels:  # a line per series: training and validation, two epochs each
        assert [line.get_label() for line in ax.get_lines()] == ["training", "validation"]
        assert all(len(line.get_xdata()) == 2 for line in ax.get_lines())


def test_training_curves_mark_the_best_epoch(tmp_path):
    history = {"loss": [1.0, 0.5, 0.4, 0.3, 0.2], "val_loss": [1.1, 0.7, 0.6, 0.65, 0.7], "learning_rate": [0.01] * 5}
    figure = plots.training_curves(SimpleNamespace(history_=history, best_epoch_=3), path=tmp_path / "best.png")
    _png(tmp_path / "best.png", figure, (9.5, 4.25))
    for ax in [ax for ax in figure.axes if ax.get_visible()]:
        (marker,) = [line for line in ax.get_lines() if line.get_gid() == "best_epoch"]
        assert list(marker.get_xdata()) == [3, 3]
    with user_error(ValueError, match="history is empty"):
        plots.training_curves({"loss": []})


# ---- 2. filters ------------------------------------------------------------------------------------


def test_conv_filters(cnn, tmp_path):
    path = tmp_path / "filters.png"
    figure = plots.conv_filters(cnn, path=path)
    _png(path, figure, (11.0, 3.5))  # 16 filters in 2 rows of 8
    images = _images(figure)
    assert len(images) == 16  # one image axes per filter
    low, high = images[0].images[0].get_clim()
    assert low == -high > -np.inf and all(ax.images[0].get_clim() == (low, high) for ax in images)  # shared, symmetric
    assert images[0].images[0].get_array().shape == (3, 3)
    conv = cnn.model_.layers[3].name
    assert conv in figure.get_suptitle() and "3\u00d73" in figure.get_suptitle()
    assert len(_images(plots.conv_filters(cnn, layer=conv))) == 16
    with user_error(ValueError, match="not conv2d; its conv2d layers are"):
        plots.conv_filters(cnn, layer=cnn.model_.layers[-1].name)


# ---- 3. feature maps -------------------------------------------------------------------------------


def test_feature_maps(cnn, digits, tmp_path):
    X, _ = digits
    path = tmp_path / "maps.png"
    figure = plots.feature_maps(cnn, X[0], path=path)
    _png(path, figure, (12.0, 5.25))  # the input and two layers (conv2d, max_pooling2d), 8 maps each
    images = _images(figure)
    assert len(images) == 1 + 8 + 8
    assert images[0].images[0].get_array().shape == (8, 8)  # the input
    assert {ax.images[0].get_array().shape for ax in images[1:]} == {(8, 8), (4, 4)}
    small = plots.feature_maps(cnn, X[0].reshape(8, 8), max_maps=3)  # an image works as well as a flat row
    assert len(_images(small)) == 1 + 3 + 3
    assert tuple(small.get_size_inches()) == (6.75, 5.25)  # four columns at least, so the title fits
    with user_error(ValueError, match="takes one sample"):
        plots.feature_maps(cnn, X[:2])


# ---- 4. saliency -----------------------------------------------------------------------------------


def test_saliency_map(cnn, digits, tmp_path):
    X, _ = digits
    array, label, probability = plots.saliency(cnn, X[0])
    assert array.shape == (8, 8)  # the input image's shape (max over its one channel)
    assert np.all(array >= 0) and array.max() > 0
    assert label == cnn.predict(X[:1])[0]
    assert probability == pytest.approx(cnn.predict_proba(X[:1]).max(), abs=1e-5)
    path = tmp_path / "saliency.png"
    figure = plots.saliency_map(cnn, X[0], path=path, target=3)
    _png(path, figure, (12.0, 4.75))
    assert len(_images(figure)) == 3  # input, saliency, overlay
    assert "target class 3" in figure.get_suptitle()
    with user_error(ValueError, match="not a class"):
        plots.saliency(cnn, X[0], target=42)


# ---- 5. confusion matrix ---------------------------------------------------------------------------


def test_confusion_matrix_plot(cnn, digits, tmp_path):
    X, y = digits
    path = tmp_path / "confusion.png"
    figure = plots.confusion_matrix_plot(cnn, X[300:500], y[300:500], path=path)
    _png(path, figure, (7.5, 6.5))
    counts = figure.axes[0].images[0].get_array()
    assert counts.shape == (10, 10) and counts.sum() == 200
    assert [t.get_text() for t in figure.axes[0].get_xticklabels()] == [str(c) for c in cnn.classes_]
    rates = plots.confusion_matrix_plot(cnn, X[300:500], y[300:500], normalize="true").axes[0].images[0].get_array()
    assert np.allclose(rates.sum(axis=1), 1)


# ---- 6. search report ------------------------------------------------------------------------------


def test_search_report_from_a_frame_and_a_csv(results, tmp_path):
    path = tmp_path / "search.png"
    figure = plots.search_report(results, path=path)
    _png(path, figure, (14.25, 5.0))  # three parameters side by side
    panels = [ax for ax in figure.axes if ax.get_visible()]
    assert [ax.get_xlabel() for ax in panels] == ["filters", "learning_rate", "optimizer"]
    assert panels[1].get_xscale() == "log"  # 1e-4 .. 1e-2
    assert [t.get_text() for t in panels[2].get_xticklabels()] == ["adam", "sgd"]
    assert "filters=32, learning_rate=0.001, optimizer=adam" in figure.get_suptitle()
    results.to_csv(tmp_path / "results.csv", index=False)
    again = plots.search_report(tmp_path / "results.csv")
    assert again.get_suptitle() == figure.get_suptitle()
    with user_error(ValueError, match="param_"):
        plots.search_report(results.drop(columns=["param_filters", "param_learning_rate", "param_optimizer"]))
    with user_error(FileNotFoundError, match="no such search results file"):  # a DataError too
        plots.search_report(tmp_path / "missing.csv")


def test_search_report_from_a_fitted_grid_search(digits, tmp_path):
    from sklearn.model_selection import GridSearchCV

    from netdsl.estimators import NetClassifier

    X, y = digits
    search = GridSearchCV(NetClassifier(MLP, epochs=1, random_state=0), {"hidden": [8, 16]}, cv=2, refit=False)
    search.fit(X[:200], y[:200])
    path = tmp_path / "grid.png"
    figure = plots.search_report(search, path=path)
    _png(path, figure, (6.5, 5.0))
    (panel,) = [ax for ax in figure.axes if ax.get_visible()]
    assert panel.get_xlabel() == "hidden"
    assert [t.get_text() for t in panel.get_xticklabels()] == ["8", "16"]


def test_unfitted_estimators_are_refused():
    from netdsl.estimators import NetClassifier

    with pytest.raises(NotFittedError):
        plots.conv_filters(NetClassifier(str(CNN)))
    with user_error(ValueError, match="without a training history"):
        plots.training_curves(NetClassifier(str(CNN)))


# ---- 7. the command line ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("what", "extra", "size", "said"),
    [
        ("curves", [], (9.5, 4.25), "wrote the training curves of"),
        ("filters", [], (11.0, 3.5), "wrote the filters of"),
        ("saliency", ["--data", "digits", "--sample", "3"], (12.0, 4.75), "wrote the saliency of row 3 of digits, label 3"),
        ("confusion", ["--data", "digits", "--test-size", "0.2"], (7.5, 6.5), "360 rows held out (stratified, seed 0)"),
    ],
)  # fmt: skip
def test_cli_plot(saved, tmp_path, capsys, what, extra, size, said):
    out = tmp_path / f"{what}.png"
    code = main(["plot", what, str(saved), *extra, "--out", str(out)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert said in captured.out and captured.out.strip().endswith(f"to {out}")
    assert imread(out).shape == (int(size[1] * plots.DPI), int(size[0] * plots.DPI), 4)


def test_cli_plot_search(results, tmp_path, capsys):
    results.to_csv(tmp_path / "results.csv", index=False)
    out = tmp_path / "search.png"
    assert main(["plot", "search", str(tmp_path / "results.csv"), "--out", str(out)]) == 0
    assert f"to {out}" in capsys.readouterr().out
    assert imread(out).shape == (500, 1425, 4)


@pytest.fixture(scope="module")
def regressor(tmp_path_factory):
    from netdsl.estimators import NetRegressor

    X = np.random.default_rng(0).normal(size=(40, 3))
    model = NetRegressor("net tiny\ndense(4, activation=relu)\ndense(1)\n", epochs=1, random_state=0).fit(X, X.sum(axis=1))
    return model.save(tmp_path_factory.mktemp("regressor") / "tiny.model")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["curves", "missing.model"], "no such model file: `missing.model`"),
        (["maps", "{model}", "--data", "digits", "--sample", "1797"], "--sample 1797 is out of range: `digits` has 1797 rows (0 to 1796)"),
        (["maps", "{model}"], "`netdsl plot maps` needs --data"),
        (["filters", "{model}", "--layer", "nope"], "no layer named 'nope'; its conv2d layers are: conv2d"),
        (["filters", "{regressor}"], "no conv2d layer; its layers are: dense"),
        (["saliency", "{regressor}", "--data", "diabetes"], "needs a classifier; `{regressor}` holds a NetRegressor"),
        (["search", "missing.csv"], "no such search results file: `missing.csv`"),
    ],
)  # fmt: skip
def test_cli_plot_errors(saved, regressor, capsys, args, message):
    names = {"model": str(saved), "regressor": str(regressor)}
    args = [a.format(**names) for a in args]
    assert main(["plot", *args]) == 1
    err = capsys.readouterr().err
    assert re.match(r"netdsl: error\[(C|D)101\]: ", err) and message.format(**names) in err
    assert "Traceback" not in err
