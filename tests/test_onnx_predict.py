"""Predicting from a netdsl ONNX file without TensorFlow (issue 20): the stated text steps against
Keras's own `TextVectorization`, `OnnxModel` against the estimator it was exported from, and
`netdsl predict model.onnx` in a Python where importing TensorFlow fails."""

from __future__ import annotations

import json

import numpy as np
import pytest

from netdsl.pipelines.stated_steps import check_step, vectorize_text

# Texts as users have them: unicode letters (upper case outside ASCII too), punctuation inside and
# around words, non-ASCII punctuation, runs of spaces, tabs and newlines, no-break and ideographic
# spaces, emoji, empty and blank texts, words never seen in training.
TEXTS = [
    "The movie was GREAT!!!  Loved it.",
    "  leading and trailing spaces   ",
    "tabs\tand\nnewlines\r\nand\x0bvertical\x0cfeeds",
    "Don't stop -- it's well-known, e-mail me @ 10:30 (maybe).",
    "ÉCOLE école Straße STRASSE naïve NAÏVE İstanbul",
    "日本語のテキスト と English mixed",
    "emoji 🎬🍿 and «guillemets» — em dash … ellipsis",
    "no\u00a0break\u00a0space and ideographic\u3000space",
    "",
    "   ",
    "!!!???...",
    "$100.00 costs [a lot] {really} <tag> a|b a~b a^b a_b a`b a\\b",
    "unseen zyxwv qwerty words only",
    "great great great movie movie",
    "MiXeD CaSe WoRdS and ALL CAPS",
]
TRAIN = TEXTS[:8] + [
    "the movie was great and the actors were great",
    "a boring movie, i did not like it",
    "loved the music; hated the ending",
    "école naïve straße 日本語のテキスト",
]


def _reviews(n: int) -> list[str]:
    """The first `n` real review snippets when the examples extra is installed, else none."""
    try:
        from netdsl.pipelines.data import DataError, load_data

        return list(load_data("reviews").X[:n])
    except DataError:
        return []


def step_of(layer) -> dict:
    """The `netdsl.steps` entry of an adapted Keras `TextVectorization` (docs: /tmp onnx format)."""
    config = layer.get_config()
    idf = None
    if config["output_mode"] == "tf_idf":
        idf = [float(w) for w in np.asarray(layer._lookup_layer.idf_weights)]
    ngrams = config["ngrams"]
    return check_step({
        "kind": "text_vectorization", "input": "input", "column": None,
        "standardize": config["standardize"], "split": config["split"],
        "ngrams": list(ngrams) if isinstance(ngrams, (list, tuple)) else ngrams,
        "output_mode": config["output_mode"], "output_sequence_length": config["output_sequence_length"],
        "pad_to_max_tokens": config["pad_to_max_tokens"], "max_tokens": config["max_tokens"],
        "vocabulary": [str(t) for t in layer.get_vocabulary()], "idf_weights": idf,
    })


LAYERS = {
    "int": dict(output_mode="int"),
    "int_length": dict(output_mode="int", output_sequence_length=6),
    "int_long": dict(output_mode="int", output_sequence_length=40, max_tokens=30),
    "int_ngrams": dict(output_mode="int", ngrams=2, output_sequence_length=12),
    "int_lower": dict(output_mode="int", standardize="lower", output_sequence_length=10),
    "int_strip": dict(output_mode="int", standardize="strip_punctuation", output_sequence_length=10),
    "int_raw_characters": dict(output_mode="int", standardize=None, split="character", output_sequence_length=30),
    "multi_hot": dict(output_mode="multi_hot"),
    "multi_hot_ngrams": dict(output_mode="multi_hot", ngrams=(1, 3)),
    "count": dict(output_mode="count", max_tokens=25),
    "count_padded": dict(output_mode="count", max_tokens=200, pad_to_max_tokens=True),
    "tf_idf": dict(output_mode="tf_idf"),
    "tf_idf_padded": dict(output_mode="tf_idf", max_tokens=300, pad_to_max_tokens=True, ngrams=2),
}


@pytest.mark.parametrize("name", list(LAYERS))
def test_text_step_is_keras_text_vectorization(name):
    """The step's output equals the Keras layer's, value for value, on the same texts; its dtype is
    the layer's output spec (float32 but in `int` mode: called eagerly, multi_hot and count give
    int64 counts, which the graph after it reads as float32)."""
    import keras

    reviews = _reviews(300)
    layer = keras.layers.TextVectorization(**LAYERS[name])
    layer.adapt(np.asarray(TRAIN + reviews[:200], dtype=object))
    texts = np.asarray(TEXTS + reviews[200:], dtype=object)
    expected = keras.ops.convert_to_numpy(layer(texts))
    got = vectorize_text(texts, step_of(layer))
    assert got.dtype == layer.compute_output_spec(keras.KerasTensor((None,), dtype="string")).dtype
    assert got.shape == expected.shape, (got.shape, expected.shape)
    np.testing.assert_array_equal(got, expected.astype(got.dtype))
    assert got.any(), "the texts met no word of the vocabulary: the comparison would prove little"
    column = vectorize_text(texts[:, None], step_of(layer))  # one column of a table: the same rows
    np.testing.assert_array_equal(column, expected)


def test_text_step_one_token_a_text():
    """split=None: each whole text is one token (a label-like column); the mask `""` is 0."""
    import keras

    layer = keras.layers.TextVectorization(output_mode="int", split=None)
    layer.adapt(np.asarray(["red", "Green!", "blue sky", "red"], dtype=object))
    texts = np.asarray(["RED", "green", "", "blue sky", "purple"], dtype=object)
    expected = keras.ops.convert_to_numpy(layer(texts))
    got = vectorize_text(texts, step_of(layer))
    np.testing.assert_array_equal(got, expected)
    assert list(got) == [2, 3, 0, 4, 1]


def test_text_step_refuses_what_it_cannot_apply():
    from netdsl.pipelines.data import DataError

    good = {"kind": "text_vectorization", "standardize": None, "split": "whitespace", "ngrams": None,
            "output_mode": "int", "output_sequence_length": 3, "vocabulary": ["", "[UNK]", "a"]}
    assert check_step(good) is good
    with pytest.raises(DataError, match=r"cannot apply \('python_function'\)"):
        check_step({"kind": "python_function"})
    with pytest.raises(DataError, match=r"split='regex', output_sequence_length=-1"):
        check_step({**good, "split": "regex", "output_sequence_length": -1})
    with pytest.raises(DataError, match=r"vocabulary \(a list of strings with `\[UNK\]`\)"):
        check_step({**good, "vocabulary": ["", "a"]})
    with pytest.raises(DataError, match="a text input takes strings; got float nan"):
        vectorize_text(np.asarray(["a", float("nan")], dtype=object), good)


# ---- the runtime and `netdsl predict model.onnx` ------------------------------------------------

# Installed as `sitecustomize` in a child Python: importing any of these modules fails there, as
# where they are not installed (NETDSL_TEST_BLOCK names them), and each try is written to the file
# NETDSL_TEST_BLOCK_LOG (an import tried and caught would otherwise go unseen).
BLOCKER = '''
import os, sys


class _Blocked:
    names = set(os.environ.get("NETDSL_TEST_BLOCK", "").split(","))

    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in self.names:
            with open(os.environ["NETDSL_TEST_BLOCK_LOG"], "a") as log:  # tried, even where caught
                log.write(name + "\\n")
            raise ImportError(f"{name} is blocked in this test", name=name)
        return None


sys.meta_path.insert(0, _Blocked())
'''
NO_TENSORFLOW = "tensorflow,keras,tf2onnx,tensorboard"
WORDS_NET = """net words
input text
text_vectorization(max_tokens=100, output_sequence_length=8)
embedding(100, 8)
global_average_pooling1d
dense(n_classes, activation=softmax)
train {
    epochs = 3
}
"""
POSITIVE = ["great movie, loved it", "wonderful acting and a great story", "loved the music!", "a joy to watch",
            "brilliant, funny and warm"]
NEGATIVE = ["boring movie, hated it", "terrible acting and a dull story", "hated the ending!", "a waste of time",
            "awful, slow and cold"]


def _blocked_python(tmp_path, argv: list[str], blocked: str = NO_TENSORFLOW):
    """`python ARGV...` (completed) in a child whose imports of `blocked` modules fail."""
    import os
    import subprocess
    import sys

    site = tmp_path / "blocker"
    site.mkdir(exist_ok=True)
    (site / "sitecustomize.py").write_text(BLOCKER)
    env = {**os.environ, "NETDSL_TEST_BLOCK": blocked, "NETDSL_TEST_BLOCK_LOG": str(tmp_path / "blocked.log"),
           "PYTHONPATH": os.pathsep.join(filter(None, [str(site), os.environ.get("PYTHONPATH")]))}
    return subprocess.run([sys.executable, *argv], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """A classifier fitted on a CSV table with named columns and string labels (iris), and a text
    classifier, each exported to ONNX: (folder, {name: (estimator, onnx path, data)})."""
    pytest.importorskip("onnxruntime", reason='needs the onnx extra: pip install -e ".[onnx]"')
    import pandas as pd
    from sklearn.datasets import load_iris

    from netdsl.estimators import NetClassifier
    from netdsl.estimators.export import export
    from netdsl.pipelines.composite import remember_columns
    from netdsl.pipelines.data import load_data

    folder = tmp_path_factory.mktemp("onnx")
    iris = load_iris(as_frame=True)
    table = iris.frame.rename(columns=lambda c: c.replace(" (cm)", "").replace(" ", "_"))
    table["species"] = np.asarray(iris.target_names)[iris.target]
    table = table.drop(columns="target").sample(frac=1.0, random_state=0)
    table.to_csv(folder / "iris.csv", index=False)
    data = load_data(str(folder / "iris.csv"), target="species")
    (folder / "tiny.net").write_text("net tiny\ndense(16, activation=relu)\ndense(n_classes, activation=softmax)\n"
                                     "train {\n    epochs = 3\n}\n")
    table_model = NetClassifier(str(folder / "tiny.net"), random_state=0).fit(data.X, data.y)
    remember_columns(table_model, data)
    export(table_model, folder / "iris.onnx")

    texts = np.asarray(TEXTS + (POSITIVE + NEGATIVE) * 3, dtype=object)
    labels = np.asarray((["fresh", "rotten"] * 8)[: len(TEXTS)] + (["fresh"] * 5 + ["rotten"] * 5) * 3, dtype=object)
    table = pd.DataFrame({"text": texts, "label": labels})
    table[table["text"] != ""].to_csv(folder / "texts.csv", index=False)  # an empty field reads as missing
    (folder / "words.net").write_text(WORDS_NET)
    text_model = NetClassifier(str(folder / "words.net"), random_state=0).fit(texts, labels)
    export(text_model, folder / "words.onnx")
    return folder, {"iris": (table_model, folder / "iris.onnx", data), "words": (text_model, folder / "words.onnx", texts)}


def test_onnx_model_predicts_as_the_estimator(exported):
    """Labels equal, of the classes' type; probabilities within 1e-5, in class order."""
    from netdsl.pipelines.onnx_model import OnnxModel

    for name, (estimator, path, data) in exported[1].items():
        X = data.X if name == "iris" else data
        model = OnnxModel(path)
        np.testing.assert_array_equal(model.classes_, estimator.classes_)
        labels = model.predict(X)
        assert labels.dtype == estimator.predict(X).dtype == object
        np.testing.assert_array_equal(labels, estimator.predict(X))
        assert len(set(labels)) > 1, "one label for every row: the comparison would prove little"
        np.testing.assert_allclose(model.predict_proba(X), estimator.predict_proba(X), rtol=0, atol=1e-5)
        assert model.stated_steps == [] if name == "iris" else model.stated_steps[0]["kind"] == "text_vectorization"


def test_predict_onnx_without_tensorflow(exported, tmp_path):
    """`netdsl predict model.onnx` where TensorFlow cannot be imported: the estimator's labels, and
    (the runtime in the same Python) its probabilities within 1e-5."""
    import pandas as pd

    folder, models = exported
    blocked = _blocked_python(tmp_path, ["-c", "import tensorflow"])
    assert blocked.returncode != 0 and "tensorflow is blocked in this test" in blocked.stderr, blocked.stderr
    assert (tmp_path / "blocked.log").read_text() == "tensorflow\n"
    (tmp_path / "blocked.log").unlink()
    for name, csv, target in [("iris", "iris.csv", "species"), ("words", "texts.csv", "label")]:
        estimator, path, data = models[name]
        out = tmp_path / f"{name}.csv"
        done = _blocked_python(tmp_path, ["-m", "netdsl.pipelines.cli", "predict", str(path), "--data", str(folder / csv),
                                          "--target", target, "--out", str(out)])
        assert done.returncode == 0, done.stderr
        assert f"wrote {len(pd.read_csv(folder / csv))} predictions" in done.stdout and "accuracy" in done.stdout
        written = pd.read_csv(out, keep_default_na=False)
        X = data.X if name == "iris" else data[data != ""]
        assert list(written["prediction"]) == list(estimator.predict(X))
        code = ("import sys, numpy as np; from netdsl.pipelines.onnx_model import OnnxModel; import pandas as pd\n"
                f"frame = pd.read_csv(sys.argv[1], keep_default_na=False).drop(columns=[{target!r}])\n"
                "X = frame['text'].to_numpy(dtype=object) if 'text' in frame else frame\n"
                "np.save(sys.argv[2], OnnxModel(sys.argv[3]).predict_proba(X))\n"
                "assert not [m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras')]\n")
        done = _blocked_python(tmp_path, ["-c", code, str(folder / csv), str(tmp_path / "p.npy"), str(path)])
        assert done.returncode == 0, done.stderr
        np.testing.assert_allclose(np.load(tmp_path / "p.npy"), estimator.predict_proba(X), rtol=0, atol=1e-5)
    assert not (tmp_path / "blocked.log").exists(), (tmp_path / "blocked.log").read_text()  # not even tried


def _predict_error(capsys, *argv) -> str:
    """The one line `netdsl predict ARGV...` says on stderr, having failed with status 1."""
    from netdsl.pipelines.cli import main

    assert main(["predict", *map(str, argv)]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("netdsl: error[D101]: "), err
    return err


def _rewritten(source, target, **props):
    """The ONNX file `source` written to `target` with metadata `props` set (None: removed)."""
    import onnx

    model = onnx.load(str(source))
    kept = {p.key: p.value for p in model.metadata_props}
    kept.update(props)
    del model.metadata_props[:]
    onnx.helper.set_model_props(model, {k: v for k, v in kept.items() if v is not None})
    onnx.save(model, str(target))
    return target


def test_predict_onnx_refusals(exported, tmp_path, capsys):
    """Each problem is one located line, never an onnxruntime or protobuf traceback."""
    import pandas as pd

    folder, models = exported
    path = models["iris"][1]
    data = folder / "iris.csv"
    (tmp_path / "table.onnx").write_text(data.read_text())
    said = _predict_error(capsys, tmp_path / "table.onnx", "--data", data)
    assert "is not an ONNX model (damaged, or another kind of file)" in said
    (tmp_path / "cut.onnx").write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    assert "is not an ONNX model" in _predict_error(capsys, tmp_path / "cut.onnx", "--data", data)
    assert "no such model file" in _predict_error(capsys, tmp_path / "none.onnx", "--data", data)

    wrong = _rewritten(path, tmp_path / "wrong.onnx", **{"netdsl.inputs": '[{"name": "pixels", "columns": null}]'})
    assert "states the inputs pixels but its graph takes input" in _predict_error(capsys, wrong, "--data", data)
    newer = _rewritten(path, tmp_path / "newer.onnx", **{"netdsl.format_version": "2"})
    assert "version '2' of netdsl's ONNX format; this netdsl reads version 1: upgrade netdsl" in _predict_error(
        capsys, newer, "--data", data)

    pd.read_csv(data).drop(columns="petal_width").to_csv(tmp_path / "short.csv", index=False)
    assert "lacks the feature column `petal_width` the model was trained on" in _predict_error(
        capsys, path, "--data", tmp_path / "short.csv")
    assert "takes 4 values a row; the data has 64" in _predict_error(capsys, path, "--data", "digits")


def test_onnx_model_refuses_external_data(exported, tmp_path):
    """Tensors kept in another file (which onnxruntime would read from a path the file names)."""
    import onnx

    from netdsl.pipelines.data import DataError
    from netdsl.pipelines.onnx_model import OnnxModel

    model = onnx.load(str(exported[1]["iris"][1]))
    onnx.save_model(model, str(tmp_path / "split.onnx"), save_as_external_data=True, location="weights.bin",
                    size_threshold=0)
    assert (tmp_path / "weights.bin").stat().st_size > 0
    with pytest.raises(DataError, match="in another file \\(ONNX external data\\); netdsl reads one self-contained"):
        OnnxModel(tmp_path / "split.onnx")


def test_onnx_model_refuses_external_sparse_indices(tmp_path, monkeypatch):
    """A sparse tensor whose indices (not values) live in another file: refused before onnxruntime
    reads that file (which leaked its bytes in its error), as an initializer and as an attribute."""
    onnx = pytest.importorskip("onnx", reason='needs the onnx extra: pip install -e ".[onnx]"')
    pytest.importorskip("onnxruntime", reason='needs the onnx extra: pip install -e ".[onnx]"')
    from onnx import TensorProto, helper, numpy_helper

    from netdsl.pipelines.data import DataError
    from netdsl.pipelines.onnx_model import OnnxModel

    def sparse():
        indices = numpy_helper.from_array(np.array([0], np.int64), "")
        indices.data_location = TensorProto.EXTERNAL
        for key, value in (("location", "secret.txt"), ("length", "8")):
            entry = indices.external_data.add()
            entry.key, entry.value = key, value
        return helper.make_sparse_tensor(numpy_helper.from_array(np.array([1.0], np.float32), "S"), indices, [4])

    X = helper.make_tensor_value_info("X", TensorProto.FLOAT, [None, 4])
    Y = helper.make_tensor_value_info("Y", TensorProto.FLOAT, [None, 4])
    add = helper.make_node("Add", ["X", "S"], ["Y"])
    as_initializer = helper.make_graph([add], "g", [X], [Y])
    as_initializer.sparse_initializer.append(sparse())
    as_constant = helper.make_graph([helper.make_node("Constant", [], ["S"], sparse_value=sparse()), add], "g", [X], [Y])
    (tmp_path / "secret.txt").write_text("SECRET42")
    monkeypatch.chdir(tmp_path)
    for name, graph in [("initializer.onnx", as_initializer), ("constant.onnx", as_constant)]:
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
        model.ir_version = 8
        onnx.save(model, name)
        with pytest.raises(DataError, match="keeps the tensor `S` in another file") as refused:
            OnnxModel(name)
        assert "SECRET" not in str(refused.value)


def _small_classifier(path, **props):
    """A netdsl ONNX classifier file made without training (label = argmax of the 4 inputs), its
    metadata as `netdsl export` writes it, with `props` set (None: removed)."""
    onnx = pytest.importorskip("onnx", reason='needs the onnx extra: pip install -e ".[onnx]"')
    pytest.importorskip("onnxruntime", reason='needs the onnx extra: pip install -e ".[onnx]"')
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        [helper.make_node("Identity", ["input"], ["probabilities"]),
         helper.make_node("ArgMax", ["input"], ["label"], axis=1, keepdims=0)], "g",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [None, 4])],
        [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, [None, 4]),
         helper.make_tensor_value_info("label", TensorProto.INT64, [None])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    meta = {"netdsl.format": "netdsl-onnx", "netdsl.format_version": "1", "netdsl.task": "classifier",
            "netdsl.inputs": '[{"name": "input", "dtype": "float32", "shape": [4], "columns": ["a", "b", "c", "d"]}]',
            "netdsl.outputs": '[{"name": "probabilities", "meaning": "probabilities", "head": null}, '
                              '{"name": "label", "meaning": "label", "head": null}]',
            "netdsl.steps": "[]", "netdsl.target": '"label"', "netdsl.classes": '["w", "x", "y", "z"]', **props}
    helper.set_model_props(model, {k: v for k, v in meta.items() if v is not None})
    onnx.save(model, str(path))
    return path


TEXT_STEP = {"kind": "text_vectorization", "input": "input", "standardize": None, "split": "whitespace", "ngrams": None,
             "output_mode": "int", "output_sequence_length": None, "vocabulary": ["", "[UNK]", "a", "b"]}


@pytest.mark.parametrize("change, said", [
    ({"ngrams": 10**10}, "ngrams=10000000000 (widths from 1 to 32)"),
    ({"ngrams": [1] * 1000}, "ngrams=[1, 1, "),
    ({"output_mode": "multi_hot", "pad_to_max_tokens": True, "max_tokens": 10**12},
     "max_tokens=1000000000000 with pad_to_max_tokens (from the vocabulary's size, 4, to 1,048,576)"),
    ({"output_mode": "count", "pad_to_max_tokens": True, "max_tokens": 1}, "max_tokens=1 with pad_to_max_tokens"),
    ({"output_sequence_length": 10**12}, "output_sequence_length=1000000000000 (at most 1,048,576)"),
])
def test_onnx_model_refuses_a_text_step_beyond_bounds(tmp_path, change, said):
    """Steps that would hang (10**10 n-gram widths), allocate TiB for every row, or index past
    `max_tokens`: refused when the file is opened."""
    from netdsl.pipelines.data import DataError
    from netdsl.pipelines.onnx_model import OnnxModel

    path = _small_classifier(tmp_path / "step.onnx", **{"netdsl.steps": json.dumps([{**TEXT_STEP, **change}])})
    with pytest.raises(DataError, match="the model file's text_vectorization step has values netdsl cannot apply: ") as refused:
        OnnxModel(path)
    assert said in str(refused.value)


DAMAGED_METADATA = {  # metadata -> what the one error says
    "netdsl.inputs": ("[" * 200_000, "its metadata `netdsl.inputs` is not JSON"),
    "netdsl.classes": ("[" * 200_000, "its metadata `netdsl.classes` is not JSON"),
    "netdsl.format_version": ("\u00b2", "is in version '²' of netdsl's ONNX format"),
    "netdsl.steps": ("5", "its metadata `netdsl.steps` is not a list"),
    "netdsl.target": ('{"a": 1}', "its metadata `netdsl.target` is not a string or a list"),
}
DAMAGED_CLASSES = ['[["w", "x"], ["y"]]', '{"a": ["w"]}']
DAMAGED_OUTPUTS = ['[{"name": "label", "meaning": "label", "head": ["x"]}, '
                   '{"name": "probabilities", "meaning": "probabilities", "head": ["x"]}]',
                   '[{"name": ["label"], "meaning": "label", "head": null}]']


def test_onnx_model_refuses_damaged_metadata(tmp_path):
    """Metadata that is not what netdsl writes: one DataError each, never a traceback."""
    from netdsl.pipelines.data import DataError
    from netdsl.pipelines.onnx_model import OnnxModel

    cases = [({key: text}, said) for key, (text, said) in DAMAGED_METADATA.items()]
    cases += [({"netdsl.classes": text}, "its classes (`netdsl.classes`) are not a list of labels") for text in DAMAGED_CLASSES]
    cases += [({"netdsl.outputs": text}, "does not state its outputs (`netdsl.outputs`)") for text in DAMAGED_OUTPUTS]
    for i, (props, said) in enumerate(cases):
        with pytest.raises(DataError) as refused:
            OnnxModel(_small_classifier(tmp_path / f"{i}.onnx", **props))
        assert said in str(refused.value), props


def test_predict_onnx_says_labels_the_outputs_cannot_take(tmp_path, capsys):
    """A model with named outputs scored on one label column, a numeric one on text labels: one
    line, never the scorer's traceback."""
    csv = tmp_path / "rows.csv"
    csv.write_text("a,b,c,d,label\n1,2,3,4,w\n4,3,2,1,z\n")
    head = _small_classifier(tmp_path / "head.onnx", **{"netdsl.classes": '{"x": ["w", "x", "y", "z"]}',
                                                         "netdsl.outputs": '[{"name": "label", "meaning": "label", "head": "x"}]'})
    assert "this net has 1 outputs (x): y needs a column for each" in _predict_error(capsys, head, "--data", csv)
    numbers = _small_classifier(tmp_path / "numbers.onnx", **{"netdsl.classes": "[0, 1, 2, 3]"})
    assert "Mix of label input types" in _predict_error(capsys, numbers, "--data", csv)


def test_plain_onnx_model_runs(exported, tmp_path):
    """An ONNX file without netdsl's metadata runs too: its outputs as they are."""
    from netdsl.pipelines.onnx_model import OnnxModel

    estimator, path, data = exported[1]["iris"]
    plain = _rewritten(path, tmp_path / "plain.onnx", **{k: None for k in (
        "netdsl.format", "netdsl.format_version", "netdsl.task", "netdsl.inputs", "netdsl.outputs", "netdsl.classes",
        "netdsl.steps", "netdsl.net")})
    model = OnnxModel(plain)
    assert model.task is None and model.classes_ is None
    out = model.predict(data.X)
    assert set(out) == {"label", "probabilities"}
    np.testing.assert_allclose(out["probabilities"], estimator.predict_proba(data.X), rtol=0, atol=1e-5)
    assert out["label"].dtype == object and list(out["label"]) == list(estimator.predict(data.X))  # a string tensor


def test_predict_onnx_without_onnxruntime(exported, tmp_path):
    """Where onnxruntime is not installed: one line saying which extra to install."""
    folder, models = exported
    done = _blocked_python(tmp_path, ["-m", "netdsl.pipelines.cli", "predict", str(models["iris"][1]), "--data",
                                      str(folder / "iris.csv")], blocked=NO_TENSORFLOW + ",onnxruntime")
    assert done.returncode == 1
    assert done.stderr.strip() == ('netdsl: error[D101]: predicting from an ONNX file needs onnxruntime and onnx: '
                                   'pip install "netdsl[onnx]"'), done.stderr


HEADS_NET = """net heads
input image (8, 8, 1)
output digit, even
flatten
trunk = dense(16, activation=relu)
digit = dense(10, activation=softmax)
from trunk
even = dense(1, activation=sigmoid)
train {
    epochs = 1
    digit.loss = sparse_categorical_crossentropy
    even.loss = binary_crossentropy
}
"""
TWO_INPUTS_NET = """net two_inputs
input size (3)
input shape (2)
from size
a = dense(4, activation=relu)
from shape
b = dense(4, activation=relu)
concatenate(a, b)
dense(1)
train {
    epochs = 2
}
"""


def test_onnx_model_several_outputs_and_inputs(tmp_path):
    """Several outputs: the heads' labels side by side and a probability array per head; several
    inputs: a table's columns by input name, or an array's columns in the inputs' order."""
    pytest.importorskip("onnxruntime", reason='needs the onnx extra: pip install -e ".[onnx]"')
    import pandas as pd

    from netdsl.estimators import NetClassifier, NetRegressor
    from netdsl.pipelines.data import load_data
    from netdsl.pipelines.onnx_model import OnnxModel

    digits = load_data("digits_two_heads")
    X, y = digits.X[:300], digits.y[:300]
    (tmp_path / "heads.net").write_text(HEADS_NET)
    heads = NetClassifier(str(tmp_path / "heads.net"), random_state=0).fit(X, y)
    model = OnnxModel(heads.export(tmp_path / "heads.onnx"))
    assert [(h["name"], h["columns"]) for h in model.heads_] == [("digit", 1), ("even", 1)]
    np.testing.assert_array_equal(model.predict(X), heads.predict(X))  # 64 pixels a row, reshaped to (8, 8, 1)
    for got, want in zip(model.predict_proba(X), heads.predict_proba(X), strict=True):
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-5)

    rows = np.random.RandomState(0).rand(60, 5)
    table = pd.DataFrame(rows, columns=["size_0", "size_1", "size_2", "shape_0", "shape_1"])
    (tmp_path / "two.net").write_text(TWO_INPUTS_NET)
    regressor = NetRegressor(str(tmp_path / "two.net"), random_state=0).fit(table, rows @ [1, 2, 3, -1, -2])
    model = OnnxModel(regressor.export(tmp_path / "two.onnx"))
    want = regressor.predict(table)
    assert want.dtype == np.float64 and np.ptp(want) > 0
    np.testing.assert_allclose(model.predict(table[table.columns[::-1]]), want, rtol=0, atol=1e-5)  # by name
    np.testing.assert_allclose(model.predict(rows), want, rtol=0, atol=1e-5)  # in order
    np.testing.assert_allclose(model.predict({"size": rows[:, :3], "shape": rows[:, 3:]}), want, rtol=0, atol=1e-5)


def test_predict_onnx_finds_the_stated_target(exported, tmp_path, capsys):
    """A file that states its label column (`netdsl.target`) is scored on it without --target, as
    a saved model is; one that does not is scored only with --target."""
    import pandas as pd

    from netdsl.pipelines.cli import main

    folder, models = exported
    estimator, path, data = models["iris"]
    stated = _rewritten(path, tmp_path / "stated.onnx", **{"netdsl.target": '"species"'})
    unstated = _rewritten(path, tmp_path / "unstated.onnx", **{"netdsl.target": None})
    for model, scored in [(stated, True), (unstated, False)]:
        assert main(["predict", str(model), "--data", str(folder / "iris.csv"), "--out", str(tmp_path / "p.csv")]) == 0
        assert ("accuracy (on all rows)" in capsys.readouterr().out) is scored
        written = pd.read_csv(tmp_path / "p.csv")
        assert list(written.columns) == (["prediction", "target"] if scored else ["prediction"])
        assert list(written["prediction"]) == list(estimator.predict(data.X))


def test_predict_onnx_string_columns_and_scaling(tmp_path, capsys):
    """A table with a string column beside numbers, fitted as `netdsl fit --scale` fits it (a one-hot
    encoder and a scaler before the net): its strings go to the file's string input by name."""
    pytest.importorskip("onnxruntime", reason='needs the onnx extra: pip install -e ".[onnx]"')
    import pandas as pd

    from netdsl.estimators import NetClassifier, save
    from netdsl.pipelines.cli import main
    from netdsl.pipelines.composite import composed, remember_columns
    from netdsl.pipelines.data import load_data
    from netdsl.pipelines.onnx_model import OnnxModel

    rng = np.random.RandomState(0)
    color, x = rng.choice(["red", "green", "blue"], 120), rng.rand(120) * 100
    label = np.where((color == "red") | (x > 70), "yes", "no")
    pd.DataFrame({"x": x, "color": color, "z": rng.rand(120), "label": label}).to_csv(tmp_path / "t.csv", index=False)
    data = load_data(str(tmp_path / "t.csv"))
    assert data.categorical == ["color"]
    (tmp_path / "t.net").write_text("net t\ndense(8, activation=relu)\ndense(n_classes, activation=softmax)\n"
                                    "train {\n    epochs = 2\n}\n")
    model = composed(NetClassifier(str(tmp_path / "t.net"), random_state=0), categorical=data.categorical, scale=True)
    model.fit(data.X, data.y)
    remember_columns(model, data)
    save(model, tmp_path / "t.keras")
    assert main(["export", str(tmp_path / "t.keras"), "--out", str(tmp_path / "t.onnx")]) == 0
    onnx_model = OnnxModel(tmp_path / "t.onnx")
    assert onnx_model.categorical_columns_ == ["color"] and onnx_model.target_column_ == "label"
    capsys.readouterr()
    table = pd.read_csv(tmp_path / "t.csv")[["label", "color", "z", "x"]]  # columns in another order
    table.to_csv(tmp_path / "shuffled.csv", index=False)
    assert main(["predict", str(tmp_path / "t.onnx"), "--data", str(tmp_path / "shuffled.csv"),
                 "--out", str(tmp_path / "p.csv")]) == 0
    assert "accuracy (on all rows)" in capsys.readouterr().out
    predicted = list(pd.read_csv(tmp_path / "p.csv")["prediction"])
    assert predicted == list(model.predict(data.X)) and set(predicted) == {"yes", "no"}
