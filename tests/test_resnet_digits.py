"""examples/resnet_digits.net end to end: its wiring as `show` tells it, then a few epochs from
Python (NetClassifier) and from the command line (`netdsl fit` and a tiny `netdsl search` on the
digits). The other example tests (golden spec, fmt, check, shapes against Keras) take it from the
examples folder like every example."""

import json

import pandas as pd
from sklearn.datasets import load_digits

from netdsl.estimators import NetClassifier
from netdsl.pipelines.cli import main

from conftest import ROOT

RESNET = ROOT / "examples" / "resnet_digits.net"


def _show(capsys, *options) -> dict:
    assert main(["show", str(RESNET), "--json", *options]) == 0
    return json.loads(capsys.readouterr().out)


def test_show_wires_the_residual_blocks_and_the_projected_skip(capsys):
    summary = _show(capsys)
    adds = [row for row in summary["rows"] if row["kind"] == "add"]
    # the block at 8x8 adds its two convolutions to the stem; the downsampling one adds the 1x1 skip
    assert [row["inputs"] for row in adds] == [["conv2d_2", "conv2d"], ["conv2d_4", "conv2d_5"]]
    assert [row["output_shape"] for row in adds] == [[8, 8, 16], [4, 4, 32]]
    assert summary["output_shape"] == [10] and summary["total_params"] == 19_562
    deeper = _show(capsys, "--set", "blocks=2", "--set", "width=8")
    assert sum(row["kind"] == "add" for row in deeper["rows"]) == 3


def test_learns_from_flat_rows():
    X, y = load_digits(return_X_y=True)
    X, y = X[:400], y[:400]
    clf = NetClassifier(RESNET, epochs=8, random_state=0).fit(X[:300], y[:300])
    assert clf.model_.input_shape == (None, 8, 8, 1)  # flat (n, 64) rows reshaped to `input (8, 8, 1)`
    assert clf.score(X[300:], y[300:]) > 0.4  # chance is 0.1; 0.65-0.83 under seeds 0-3
    assert clf.predict_proba(X[300:305]).shape == (5, 10)


def test_fit_and_search_from_the_command_line(tmp_path, capsys):
    assert main(["fit", str(RESNET), "--data", "digits", "--epochs", "2", "--set", "width=8", "--quiet"]) == 0
    assert "accuracy (held out):" in capsys.readouterr().out
    results = tmp_path / "results.csv"
    code = main(["search", str(RESNET), "--data", "digits", "--grid", "width=8", "--cv", "2", "--epochs", "1",
                 "--quiet", "--out", str(results)])  # fmt: skip
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "accuracy (held out, best refitted):" in captured.out
    rows = pd.read_csv(results)
    assert sorted(rows["param_blocks"]) == [1, 2] and set(rows["param_width"]) == {8}  # file's and --grid's
