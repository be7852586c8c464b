"""`netdsl fit` and `netdsl predict`, end to end: these really train (tiny nets, two epochs).

The error paths that stop before training (unknown data, bad options) never import TensorFlow.
"""

import argparse
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from netdsl.dsl import loads
from netdsl.pipelines.cli import main
from netdsl.pipelines.commands.common import choose_task
from netdsl.pipelines.data import load_data

from conftest import TINY

TINY_REGRESSION = "net tiny_regression\ndense(16, activation=relu)\ndense(1)\ntrain {\n    epochs = 2\n}\n"
TINY_SERIES = "net tiny_series\ninput (8, 1)\ngru(4)\ndense(1)\ntrain {\n    loss = mse\n    epochs = 2\n}\n"


def _flowers_csv(path, n=90):
    rng = np.random.default_rng(0)
    species = np.array(["setosa", "versicolor", "virginica"])[np.arange(n) % 3]
    frame = pd.DataFrame(
        {"length": rng.normal(size=n) + (species == "virginica"), "width": rng.normal(size=n), "species": species}
    )
    frame.to_csv(path, index=False)
    return path


# ---- training runs -------------------------------------------------------------------------------


def test_fit_save_then_predict_on_iris(tiny, tmp_path, capsys):
    model = tmp_path / "iris.model"
    code = main(["fit", str(tiny), "--data", "iris", "--epochs", "2", "--save", str(model), "--quiet"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    out = captured.out
    assert "classification (from the data)" in out
    assert "120 rows to train on; 30 rows held out (stratified, seed 0)" in out
    assert "accuracy (held out):" in out
    for name in ("setosa", "versicolor", "virginica", "macro avg"):
        assert name in out  # the per-class report
    assert "epochs run: 2" in out
    assert "fit time:" in out
    assert f"saved the fitted model to {model}" in out
    assert model.is_file()

    predictions = tmp_path / "predictions.csv"
    code = main(["predict", str(model), "--data", "iris", "--out", str(predictions)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert f"wrote 150 predictions to {predictions}" in captured.out
    assert "accuracy (on all rows):" in captured.out
    frame = pd.read_csv(predictions)
    assert list(frame.columns) == ["prediction", "target"]
    assert len(frame) == 150
    assert set(frame["prediction"]) <= {0, 1, 2}
    assert (frame["target"].to_numpy() == load_data("iris").y).all()

    # without --out: the first rows, then the score
    assert main(["predict", str(model), "--data", "iris", "--rows", "5"]) == 0
    out = capsys.readouterr().out
    assert "prediction" in out and "145 more rows" in out and "accuracy (on all rows):" in out


def test_regression_on_diabetes(tmp_path, capsys):
    net = tmp_path / "tiny_regression.net"
    net.write_text(TINY_REGRESSION)
    code = main(["fit", str(net), "--data", "diabetes", "--epochs", "2", "--quiet", "--seed", "1"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    out = captured.out
    assert "regression (from the data)" in out
    assert "89 rows held out (random, seed 1)" in out
    assert "R² (held out):" in out and "MAE:" in out
    assert "accuracy" not in out
    assert "epochs run: 2" in out


def test_csv_with_string_labels(tiny, tmp_path, capsys):
    data = _flowers_csv(tmp_path / "flowers.csv")
    model = tmp_path / "flowers.model"
    code = main(["fit", str(tiny), "--data", str(data), "--target", "species", "--save", str(model)])  # with progress
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "net tiny on flowers: classification (from the data)" in captured.out
    assert "virginica" in captured.out
    assert "epochs run: 2" in captured.out  # the file's epochs

    out_csv = tmp_path / "out.csv"
    assert main(["predict", str(model), "--data", str(data), "--out", str(out_csv)]) == 0
    assert "accuracy (on all rows):" in capsys.readouterr().out
    frame = pd.read_csv(out_csv)
    assert set(frame["prediction"]) <= {"setosa", "versicolor", "virginica"}
    assert list(frame["target"][:3]) == ["setosa", "versicolor", "virginica"]

    # a file of features only
    features = tmp_path / "features.csv"
    pd.read_csv(data).drop(columns=["species"]).to_csv(features, index=False)
    assert main(["predict", str(model), "--data", str(features), "--no-target", "--out", str(out_csv)]) == 0
    assert "accuracy" not in capsys.readouterr().out
    assert list(pd.read_csv(out_csv).columns) == ["prediction"]


def test_series_window(tmp_path, capsys):
    net = tmp_path / "tiny_series.net"
    net.write_text(TINY_SERIES)
    series = tmp_path / "series.csv"
    pd.DataFrame({"value": np.sin(np.arange(120) / 6.0)}).to_csv(series, index=False)
    code = main(["fit", str(net), "--data", str(series), "--window", "8", "--quiet"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "regression (from the data)" in captured.out
    assert "23 rows held out (the last stretch of the series)" in captured.out
    assert "R² (held out):" in captured.out


def test_set_params_and_no_held_out_split(tmp_path, capsys):
    net = tmp_path / "wide.net"
    net.write_text(TINY.replace("net tiny\n", "net wide\nparam hidden = 8\n").replace("dense(16", "dense(hidden"))
    code = main(["fit", str(net), "--data", "iris", "--set", "hidden=4", "--test-size", "0", "--quiet", "--epochs", "1"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "no held-out split: trained on every row" in captured.out
    assert "accuracy" not in captured.out
    assert "epochs run: 1" in captured.out


def test_predict_with_the_wrong_number_of_features(tiny, tmp_path, capsys):
    model = tmp_path / "iris.model"
    assert main(["fit", str(tiny), "--data", "iris", "--epochs", "1", "--quiet", "--save", str(model)]) == 0
    capsys.readouterr()
    assert main(["predict", str(model), "--data", "wine"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("netdsl: error[D101]: ")
    assert "Traceback" not in err


# ---- errors (no training) ------------------------------------------------------------------------


def test_unknown_dataset_name(tiny, capsys):
    assert main(["fit", str(tiny), "--data", "irsi"]) == 1
    err = capsys.readouterr().err
    assert "netdsl: error[D101]: unknown data set `irsi`: did you mean `iris`?" in err
    assert "Traceback" not in err


def test_unknown_target_column(tiny, tmp_path, capsys):
    data = _flowers_csv(tmp_path / "flowers.csv")
    assert main(["fit", str(tiny), "--data", str(data), "--target", "specis"]) == 1
    err = capsys.readouterr().err
    assert "netdsl: error[D101]: no column `specis`" in err and "did you mean `species`?" in err


def test_missing_data_file(tiny, tmp_path, capsys):
    assert main(["fit", str(tiny), "--data", str(tmp_path / "nope.csv")]) == 1
    assert "netdsl: error[D101]: no such data file:" in capsys.readouterr().err


def test_broken_net_file_is_rendered_before_loading_data(tmp_path, capsys):
    net = tmp_path / "broken.net"
    net.write_text("net broken\ndens(3)\n")
    assert main(["fit", str(net), "--data", "iris"]) == 1
    assert "error[N201]: unknown layer kind `dens`" in capsys.readouterr().err


def test_bad_set_option(tiny, capsys):
    assert main(["fit", str(tiny), "--data", "iris", "--set", "hidden"]) == 1
    assert "netdsl: error[D101]: --set takes NAME=VALUE, got 'hidden'" in capsys.readouterr().err


def test_bad_test_size(tiny, capsys):
    assert main(["fit", str(tiny), "--data", "iris", "--test-size", "1.5"]) == 2  # returned to a Python caller
    assert "0 <= F < 1" in capsys.readouterr().err


def test_predict_missing_model(tmp_path, capsys):
    assert main(["predict", str(tmp_path / "nope.model"), "--data", "iris"]) == 1
    assert "netdsl: error[D101]: no such model file:" in capsys.readouterr().err


def test_predict_a_file_that_is_not_a_model(tmp_path, capsys):
    fake = tmp_path / "fake.model"
    fake.write_text("not a model")
    assert main(["predict", str(fake), "--data", "iris"]) == 1
    err = capsys.readouterr().err
    assert "netdsl: error[D101]: cannot load a model from" in err and "Traceback" not in err


# ---- the task rule -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("flag", "data_task", "loss", "expected"),
    [
        ("regression", "classification", None, ("regression", "--task")),
        ("auto", "regression", "categorical_crossentropy", ("regression", "the data")),
        ("auto", None, "binary_crossentropy", ("classification", "the loss binary_crossentropy")),
        ("auto", None, "mse", ("regression", "the loss mse")),
        ("auto", None, None, ("regression", "the default")),
    ],
)
def test_task_rule(flag, data_task, loss, expected):
    train = f"train {{\n    loss = {loss}\n}}\n" if loss else ""
    net = loads(f"net t\ndense(1)\n{train}")
    data = argparse.Namespace(task=data_task)
    assert choose_task(flag, data, net) == expected


def test_netdsl_fit_reads_and_validates_the_file_once(tmp_path, monkeypatch, capsys):
    # the command parses FILE and hands the estimator that spec: no second read, no second validation
    import builtins
    import io

    from netdsl.dsl import specs

    net = tmp_path / "counted_cli.net"  # a new file name: no earlier parse is reused
    net.write_text(TINY)
    seen = {"reads": 0, "validations": 0}
    real_open, real_validate = builtins.open, specs.Net.model_validate.__func__

    def counted_open(file, *args, **kwargs):
        if isinstance(file, (str, Path)) and Path(file).resolve() == net.resolve():
            seen["reads"] += 1
        return real_open(file, *args, **kwargs)

    def counted_validate(cls, *args, **kwargs):
        seen["validations"] += cls is specs.Net
        return real_validate(cls, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", counted_open)
    monkeypatch.setattr(io, "open", counted_open)
    monkeypatch.setattr(specs.Net, "model_validate", classmethod(counted_validate))
    assert main(["fit", str(net), "--data", "iris", "--epochs", "1", "--quiet", "--test-size", "0"]) == 0
    assert (seen["reads"], seen["validations"]) == (1, 1), "(reads of the file, validations of the program)"
