"""Series end to end: `netdsl.pipelines.windows`, nets on its windows, `--window` and `--scale` in
the command line, and the packaged real series (`sunspots`, with the `examples` extra)."""

import importlib.util
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from conftest import EXAMPLES, user_error
from netdsl.pipelines import windows
from netdsl.pipelines import data as data_module
from netdsl.pipelines.cli import main
from netdsl.pipelines.data import DataError, load_data

SUNSPOTS_GRU = next(p for p in EXAMPLES if p.name == "sunspots_gru.net")
UP_DOWN = """net up_down
input (12, 1)
gru(8)
dense(1, activation=sigmoid)
train {
    loss = binary_crossentropy
    optimizer = adam(learning_rate=0.01)
    epochs = 3
    batch_size = 16
    metrics = [accuracy]
}
"""
TINY_SERIES = "net tiny_series\ninput (8, 1)\ngru(4)\ndense(1)\ntrain {\n    loss = mse\n    epochs = 2\n}\n"
has_statsmodels = importlib.util.find_spec("statsmodels") is not None


def _sine(n=300, noise=0.05, seed=0):
    rng = np.random.default_rng(seed)
    return np.sin(np.arange(n) / 6.0) + noise * rng.normal(size=n)


# ---- windows -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "container",
    [list, np.asarray, pd.Series, lambda v: pd.DataFrame({"value": v}), lambda v: np.asarray(v)[:, None]],
    ids=["list", "numpy", "series", "one-column frame", "column vector"],
)
def test_windows_from_every_container(container):
    values = [float(v) for v in range(10)]
    X, y = windows(container(values), 4)
    assert X.shape == (6, 4, 1) and y.shape == (6,)
    assert X.dtype == np.float64 and y.dtype == np.float64
    np.testing.assert_array_equal(X[0, :, 0], [0, 1, 2, 3])
    np.testing.assert_array_equal(X[-1, :, 0], [5, 6, 7, 8])
    np.testing.assert_array_equal(y, [4, 5, 6, 7, 8, 9])


def test_horizon_is_the_single_value_that_many_steps_after_the_window():
    X, y = windows(np.arange(10), 3, horizon=4)  # window [0, 1, 2] -> the value 4 steps after 2
    assert X.shape == (4, 3, 1)
    np.testing.assert_array_equal(X[:, -1, 0] + 4, y)
    np.testing.assert_array_equal(y, [6, 7, 8, 9])


def test_multivariate_series_gives_every_variable_at_the_target_step():
    frame = pd.DataFrame({"a": np.arange(8.0), "b": 10 + np.arange(8.0)})
    X, y = windows(frame, 3)
    assert X.shape == (5, 3, 2) and y.shape == (5, 2)
    np.testing.assert_array_equal(X[0], [[0, 10], [1, 11], [2, 12]])
    np.testing.assert_array_equal(y[0], [3, 13])


def test_windows_agree_with_load_data_window(tmp_path):
    values = _sine(50)
    path = tmp_path / "series.csv"
    pd.DataFrame({"value": values}).to_csv(path, index=False)
    data = load_data(str(path), window=7)
    X, y = windows(values, 7)
    np.testing.assert_allclose(data.X, X)
    np.testing.assert_allclose(data.y, y)


@pytest.mark.parametrize(
    "series, length, horizon, message",
    [
        ([1, 2, 3], 3, 1, r"the series has 3 values: too short for length=3 and horizon=1 \(it needs at least 4 values\); use a shorter window"),
        ([1, 2, 3, 4], 2, 3, r"too short for length=2 and horizon=3 \(it needs at least 5"),
        ([1.0, np.nan, 3.0, 4.0, 5.0], 2, 1, r"1 missing value\(s\) \(first at position 1\); fill them"),
        (pd.Series([1.0, 2.0, None, 4.0]), 1, 1, r"1 missing value\(s\) \(first at position 2\)"),
        (["1", "2", "3"], 1, 1, r"the series must be numbers, got an array of <U1 .*convert the values to numbers"),
        (pd.Series(["a", "b", "c"]), 1, 1, r"the series must be numbers, got values of type"),
        (pd.DataFrame({"v": [1, 2, 3], "name": list("abc")}), 1, 1, r"not numeric: column\(s\) name"),
        ([True, False, True], 1, 1, r"the series must be numbers"),
        ("12345", 2, 1, r"not a string"),
        (np.zeros((4, 2, 2)), 1, 1, r"must be 1-D \(or 2-D: time x variables\)"),
        ([1, 2, 3], 0, 1, r"`length` must be a positive whole number of time steps, got 0"),
        ([1, 2, 3], 2.0, 1, r"`length` must be a positive whole number"),
        ([1, 2, 3], 1, 0, r"`horizon` must be a positive whole number of time steps, got 0"),
    ],
)
def test_windows_mistakes(series, length, horizon, message):
    with user_error(DataError, match=message) as caught:
        windows(series, length, horizon=horizon)
    assert isinstance(caught.value, ValueError)


def test_windows_imports_no_tensorflow():
    code = "import sys; from netdsl.pipelines import windows; windows([1, 2, 3], 1); print('tensorflow' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


# ---- nets on windows -----------------------------------------------------------------------------


def test_net_regressor_forecasts_a_noisy_sine():
    from netdsl.estimators import NetRegressor

    X, y = windows(_sine(), 24)
    split = int(len(X) * 0.8)  # the last stretch is held out, in time order
    reg = NetRegressor(SUNSPOTS_GRU, epochs=5, random_state=0).fit(X[:split], y[:split])
    assert reg.predict(X[split:]).shape == (len(X) - split,)
    assert reg.history_["loss"][-1] < 0.5 * reg.history_["loss"][0]
    assert reg.score(X[split:], y[split:]) > 0.5  # untrained, or predicting the mean, gives about 0


def test_net_classifier_tells_whether_the_next_value_goes_up():
    from netdsl.estimators import NetClassifier

    X, next_value = windows(_sine(400), 12)
    direction = np.where(next_value > X[:, -1, 0], "up", "down")
    split = int(len(X) * 0.8)
    clf = NetClassifier(UP_DOWN, random_state=0).fit(X[:split], direction[:split])
    assert set(clf.classes_) == {"down", "up"}
    majority = max(np.mean(direction[split:] == "up"), np.mean(direction[split:] == "down"))
    assert clf.score(X[split:], direction[split:]) > max(0.75, majority + 0.1)


# ---- the command line ----------------------------------------------------------------------------


@pytest.mark.parametrize("header", [True, False], ids=["header", "no header"])
def test_cli_fit_on_a_one_column_series(tmp_path, capsys, header):
    net = tmp_path / "tiny_series.net"
    net.write_text(TINY_SERIES)
    series = tmp_path / "series.csv"
    pd.DataFrame({"value": np.sin(np.arange(120) / 6.0)}).to_csv(series, index=False, header=header)
    code = main(["fit", str(net), "--data", str(series), "--window", "8", "--quiet"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    # 120 values -> 112 windows: the first line is a value, not a header, when there is none
    assert "89 rows to train on; 23 rows held out (the last stretch of the series)" in captured.out
    assert "R² (held out):" in captured.out


def test_cli_scale_maps_predictions_back_to_the_series_units(tmp_path, capsys):
    net = tmp_path / "tiny_series.net"
    net.write_text(TINY_SERIES)
    series = tmp_path / "counts.csv"
    pd.DataFrame({"count": 500 + 100 * _sine(150)}).to_csv(series, index=False)
    model = tmp_path / "counts.model"
    code = main(["fit", str(net), "--data", str(series), "--window", "8", "--scale", "--save", str(model), "--quiet"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "scaled: features and targets standardised on the training rows" in captured.out
    assert "epochs run: 2" in captured.out

    out = tmp_path / "predictions.csv"
    code = main(["predict", str(model), "--data", str(series), "--window", "8", "--out", str(out)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    predictions = pd.read_csv(out)
    assert len(predictions) == 142
    # in counts (hundreds) again, not in standard units around 0
    assert 300 < predictions["prediction"].mean() < 700


def test_cli_scale_refuses_text(tmp_path, capsys):
    reviews = tmp_path / "reviews.csv"
    pd.DataFrame({"text": ["good film", "bad film"] * 10, "label": ["pos", "neg"] * 10}).to_csv(reviews, index=False)
    code = main(["fit", str(EXAMPLES[0].parent / "sentiment_lstm.net"), "--data", str(reviews), "--scale", "--quiet"])
    captured = capsys.readouterr()
    assert code == 1
    assert "--scale standardises numbers; the features of this data are not numeric" in captured.err


# ---- the packaged real series --------------------------------------------------------------------


@pytest.mark.skipif(not has_statsmodels, reason='needs the examples extra: pip install -e ".[examples]"')
def test_sunspots_is_the_yearly_series_from_statsmodels():
    data = load_data("sunspots", window=24)
    assert data.task == "regression" and data.windowed
    assert data.X.shape == (309 - 24, 24, 1)
    np.testing.assert_array_equal(data.X[0, :3, 0], [5.0, 11.0, 16.0])  # 1700, 1701, 1702
    assert data.feature_names[0] == "sunspots[t-24]"
    assert data.y.max() > 150  # counts in the hundreds: the reason for --scale
    with user_error(DataError, match=r"`sunspots` is a series .*--window 24"):
        load_data("sunspots")


@pytest.mark.skipif(not has_statsmodels, reason='needs the examples extra: pip install -e ".[examples]"')
def test_cli_fit_sunspots_scaled(capsys):
    code = main(["fit", str(SUNSPOTS_GRU), "--data", "sunspots", "--window", "24", "--scale", "--epochs", "2", "--quiet"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "net sunspots_gru on sunspots: regression (from the data)" in captured.out
    assert "228 rows to train on; 57 rows held out (the last stretch of the series)" in captured.out


def test_a_missing_package_names_the_examples_extra(monkeypatch):
    monkeypatch.setitem(data_module.PACKAGED, "sunspots", ("netdsl_no_such_package", "sunspots.csv", "a series"))
    with user_error(DataError, match=r'ships with the package netdsl_no_such_package, which is not installed .*pip install "netdsl\[examples\]"'):
        load_data("sunspots", window=24)
