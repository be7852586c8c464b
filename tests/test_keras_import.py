"""`netdsl import`: saved Keras models written as `.net` programs (dsl/keras_config.py,
dsl/keras_import.py, pipelines/commands/import_model.py).

The round trip, for every example: `.net` -> fit (1 epoch, a few rows of its own kind of data) ->
the fitted estimator's Keras model (`model_`) saved as `.keras` -> `import` -> `.net`. "The same
program" means, exactly (`canonical_program`, compared as text):

- the example with its `param`s at the values the fit used (their defaults, or those the test
  sets), the layers its wiring makes in its order (`repeat` unrolled; `residual { } skip { }`
  kept, as is any `add(block end, skip end)` a block would make), each layer's arguments as the
  spec holds them, layer names written where netdsl's automatic name would differ or a statement
  names the point;
- `augment { }` as written (the random layers are in the Keras model);
- the `train` block reduced to what a Keras file holds: the optimizer with its arguments (the
  learning rate of the last stage: `fine_tune`'s where there is one), the loss (the estimator's
  default where the file leaves it to the task), the metrics, and each output's loss, weight and
  metrics. Epochs, batch size, validation split, callbacks, class weights, `freeze` and
  `fine_tune` are settings of a fit, not of the model, and cannot come back; nor can comments
  or `param` declarations with their search ranges;
- layers whose weights the fitted model keeps fixed (`trainable=false`, weights held by the
  file: the edge detector's literal kernel) as `pretrained("<the .keras file>", up_to=...,
  trainable=false)`; after `fine_tune` the unfrozen layers are plain layers again.

Both sides are written by the same writer (`dumps`), from different sources: the Keras config
on one side, the example's own specs on the other. The parameter counts are compared too: the
imported program's (netdsl's analysis, no TensorFlow), the Keras model's `count_params()` and the
example's own.
"""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from netdsl.dsl import analyse, format_source, load, loads
from netdsl.dsl.keras_import import KerasImportError, canonical_program, import_keras
from netdsl.pipelines.cli import main
from tests.conftest import EXAMPLES, ROOT, user_error

VOCABULARY = {"vocabulary": 50}  # the text examples' `param`, small for a fast fit
DIGIT_LOSS = "sparse_categorical_crossentropy"  # a classifier's loss for integer labels (the file says none)


def _digits(n=60):
    from sklearn.datasets import load_digits

    digits = load_digits()
    return digits.data[:n], digits.target[:n]


def _texts():
    return ["a fine film!", "dull and long", "great fun!!", "awful, why?"] * 5, ["fresh", "rotten"] * 10


def _data(name):
    """(estimator class name, X, y, the file params the fit sets, the loss the estimator chooses)."""
    X, y = _digits()
    if name in ("digits_mlp", "digits_cnn", "resnet_digits"):
        return "NetClassifier", X, y, {}, None
    if name in ("digits_base", "digits_finetune"):
        return "NetClassifier", X, y % 5, {}, DIGIT_LOSS
    if name == "denoise_digits":
        return "NetRegressor", X / 16, X / 16, {}, None
    if name == "edge_detector":
        return "NetTransformer", np.zeros((1, 49)), None, {}, None
    if name == "two_heads":
        import pandas as pd

        return "NetClassifier", X, pd.DataFrame({"digit": y, "even": (y % 2 == 0).astype(int)}), {}, None
    if name in ("reviews_bag", "sentiment_lstm"):
        return ("NetClassifier", *_texts(), VOCABULARY, None)
    if name == "reviews_meta":
        from netdsl.pipelines.derived import text_numbers

        texts, labels = _texts()
        return "NetClassifier", text_numbers(texts), labels, VOCABULARY, None
    if name == "sunspots_gru":
        series = np.sin(np.arange(60) / 8)
        return "NetRegressor", np.stack([series[i : i + 24] for i in range(30)]), series[24:54], {}, None
    raise KeyError(name)


NAMES = [path.stem for path in EXAMPLES]


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    """name -> (the saved `.keras` file, the Keras model, the params set, the default loss), each
    example fitted once (1 epoch) when a test first asks for it."""
    import netdsl.estimators as estimators

    folder, made = tmp_path_factory.mktemp("imported"), {}

    def get(name):
        if name not in made:
            kind, X, y, params, loss = _data(name)
            estimator = getattr(estimators, kind)(str(ROOT / "examples" / f"{name}.net"), epochs=1, random_state=0,
                                                  **params)
            estimator.fit(X) if y is None else estimator.fit(X, y)
            path = folder / f"{name}.keras"
            estimator.model_.save(path)
            made[name] = (path, estimator.model_, params, loss)
        return made[name]

    return get


def test_every_example_has_its_fit():
    for name in NAMES:
        assert _data(name)


@pytest.mark.parametrize("name", NAMES)
def test_round_trip(name, fitted):
    path, model, params, loss = fitted(name)
    imported = import_keras(path)
    assert imported == canonical_program(ROOT / "examples" / f"{name}.net", str(path), params=params, loss=loss)
    assert format_source(imported) == imported  # already as `netdsl fmt` prints it
    summary = analyse(loads(imported))
    trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    assert summary.total_params == model.count_params() == analyse(load(ROOT / "examples" / f"{name}.net"), params).total_params
    assert summary.trainable_params == trainable


def test_what_the_examples_import_as(fitted):
    """A few in full: a chain, a graph with two outputs, fixed weights."""
    path = fitted("digits_mlp")[0]
    assert import_keras(path) == (
        "net digits_mlp\n\ninput (64)\n\ndense(512, activation=relu)\ndense(10, activation=softmax)\n\n"
        "train {\n    loss = categorical_crossentropy\n    optimizer = sgd(learning_rate=0.05)\n"
        "    metrics = [accuracy]\n}\n"
    )
    text = import_keras(fitted("two_heads")[0])
    assert "input image (8, 8, 1)\noutput digit, even\n" in text
    assert "trunk = dense(64, activation=relu)\ndigit = dense(10, activation=softmax)\nfrom trunk\neven = " in text
    assert "    even.loss_weight = 0.5\n" in text
    edge = fitted("edge_detector")[0]
    assert import_keras(edge, base_path="edge.keras") == (
        'net edge_detector\n\npretrained("edge.keras", trainable=false, up_to="conv2d")\nmax_pooling2d\n')
    resnet = import_keras(fitted("resnet_digits")[0])  # its `add`s are `residual` blocks again
    assert ("activation(relu)\nresidual {\n    conv2d(32, kernel_size=3, strides=2, padding=same, activation=relu)\n"
            "    conv2d(32, kernel_size=3, padding=same)\n} skip {\n    conv2d(32, kernel_size=1, strides=2, padding=same)\n"
            "}\nactivation(relu)\n") in resnet and "add(" not in resnet
    assert "augment {\n    random_translation(0.1, 0.1)\n}" in resnet


def test_a_netdsl_model_file_imports_as_its_keras_model(tmp_path):
    from netdsl.estimators import NetClassifier

    X, y = _digits()
    clf = NetClassifier(str(ROOT / "examples" / "digits_mlp.net"), epochs=1, random_state=0).fit(X, y)
    clf.save(tmp_path / "mlp.model")
    clf.model_.save(tmp_path / "mlp.keras")
    assert import_keras(tmp_path / "mlp.model", base_path="x") == import_keras(tmp_path / "mlp.keras", base_path="x")


# ---- models built in Keras ---------------------------------------------------------------------------


def _save(model, path):
    model.save(path)
    return path


def test_a_functional_model_with_a_branch_and_a_merge(tmp_path):
    import keras

    x = keras.Input((6,), name="features")
    left = keras.layers.Dense(8, activation="relu", name="left")(x)
    right = keras.layers.Dense(8, activation="tanh", name="right")(x)
    both = keras.layers.Add(name="both")([left, right])
    joined = keras.layers.Concatenate(name="joined")([both, x])
    out = keras.layers.Dense(3, activation="softmax", name="out")(keras.layers.Dropout(0.1, name="drop")(joined))
    path = _save(keras.Model(x, out, name="branchy"), tmp_path / "branchy.keras")
    text = import_keras(path)
    assert text == (
        "net branchy\n\ninput features (6)\n\nleft = dense(8, activation=relu)\nfrom features\n"
        "right = dense(8, activation=tanh)\nboth = add(left, right)\njoined = concatenate(both, features)\n"
        "drop = dropout(0.1)\nout = dense(3, activation=softmax)\n"
    )
    assert analyse(loads(text)).total_params == keras.Model(x, out).count_params() == 157


def test_a_residual_connection_is_a_residual_block_where_one_can_say_it(tmp_path):
    import keras

    def model(block_first):
        x = keras.Input((8,), name="input")
        h = keras.layers.Dense(8, name="dense")(x)
        block = keras.layers.Dense(8, name="dense_2")(keras.layers.Dense(8, name="dense_1")(h))
        added = keras.layers.Add(name="add")([block, h] if block_first else [h, block])
        return keras.Model(x, keras.layers.Dense(2, name="dense_3")(added), name="res")

    text = import_keras(_save(model(True), tmp_path / "res.keras"))
    assert text == "net res\n\ninput (8)\n\ndense(8)\nresidual {\n    dense(8)\n    dense(8)\n}\ndense(2)\n"
    assert analyse(loads(text)).total_params == model(True).count_params() == 3 * 72 + 18
    text = import_keras(_save(model(False), tmp_path / "added.keras"))  # `add(x, block)`: not what a block makes
    assert "dense = dense(8)\ndense(8)\ndense_2 = dense(8)\nadd(dense, dense_2)\n" in text


def test_a_sequential_model_with_training_settings(tmp_path):
    import keras

    model = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Conv2D(4, 3, padding="same", activation="relu"),
                              keras.layers.MaxPooling2D(), keras.layers.Flatten(),
                              keras.layers.Dense(2, kernel_regularizer=keras.regularizers.L2(0.001))], name="seq")
    model.compile(optimizer=keras.optimizers.RMSprop(0.01),
                  loss=keras.losses.BinaryCrossentropy(from_logits=True), metrics=["acc"])
    text = import_keras(_save(model, tmp_path / "seq.keras"))
    assert "dense(2, kernel_regularizer=l2(l2=0.001))" in text
    assert "loss = binary_crossentropy(from_logits=true)\n    optimizer = rmsprop(learning_rate=0.01)\n" in text
    assert "metrics = [accuracy]" in text
    assert analyse(loads(text)).total_params == model.count_params()


def test_fixed_weights_become_a_pretrained_reference(tmp_path):
    import keras

    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(5, name="a"), keras.layers.Dense(6, name="b"),
                              keras.layers.Dense(2, name="c")], name="frozen")
    model.get_layer("a").trainable = model.get_layer("b").trainable = False
    path = _save(model, tmp_path / "frozen.keras")
    text = import_keras(path, base_path="frozen.keras")
    assert 'pretrained("frozen.keras", trainable=false, up_to="b")\nc = dense(2)\n' in text
    program = tmp_path / "frozen.net"
    program.write_text(text)
    summary = analyse(load(program))
    assert (summary.total_params, summary.non_trainable_params) == (model.count_params(), 25 + 36)

    model.get_layer("a").trainable = True  # only `b` fixed: `a` is taken, and trains
    text = import_keras(_save(model, tmp_path / "mixed.keras"), base_path="mixed.keras")
    assert 'pretrained("mixed.keras", up_to="b")' in text and '    freeze = ["b"]\n' in text
    program.write_text(text)
    summary = analyse(load(program))
    assert (summary.trainable_params, summary.non_trainable_params) == (25 + 14, 36)

    for layer in model.layers:  # all fixed: the program is the reference alone
        layer.trainable = False
    text = import_keras(_save(model, tmp_path / "all.keras"), base_path="all.keras")
    assert text == 'net frozen\n\npretrained("all.keras", trainable=false, up_to="c")\n'
    program.write_text(text)
    assert analyse(load(program)).non_trainable_params == model.count_params() == 25 + 36 + 14


def test_fixed_weights_outside_the_first_chain_are_refused(tmp_path):
    import keras

    x = keras.Input((4,))
    a, b = keras.layers.Dense(3, name="a")(x), keras.layers.Dense(3, name="b")
    b.trainable = False
    model = keras.Model(x, keras.layers.Add(name="sum")([a, b(x)]))
    with user_error(KerasImportError, match=r"end at `b`, but the layers up to it are not a chain"):
        import_keras(_save(model, tmp_path / "m.keras"))


def test_unknown_layers_are_named(tmp_path, capsys):
    import keras

    model = keras.Sequential([keras.Input((4,)), keras.layers.Lambda(lambda t: t * 2, name="double"),
                              keras.layers.Dense(1)])
    path = _save(model, tmp_path / "lambda.keras")
    with user_error(KerasImportError, match=r"the layer `double` \(`Lambda`\) has no netdsl layer kind; a `Lambda`"):
        import_keras(path)
    assert main(["import", str(path)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("netdsl: error[M102]: the layer `double` (`Lambda`) has no netdsl layer kind") and "\n" == err[-1]

    model = keras.Sequential([keras.Input((4, 4, 4, 1)), keras.layers.MaxPooling3D(name="pool3")])
    with user_error(KerasImportError, match=r"the layer `pool3` \(`MaxPooling3D`\) has no netdsl layer kind; "
                                            r"the closest netdsl kind is `max_pooling2d`"):
        import_keras(_save(model, tmp_path / "pool3.keras"))

    inner = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)], name="inner")
    x = keras.Input((4,))
    with user_error(KerasImportError, match=r"the layer `inner` \(`Sequential`\) has no netdsl layer kind \(a model used "
                                            r"as a layer\); save the inner model on its own and take its layers with "
                                            r"`pretrained\("):
        import_keras(_save(keras.Model(x, keras.layers.Dense(2)(inner(x))), tmp_path / "nested.keras"))


def test_an_argument_netdsl_cannot_say_is_refused(tmp_path):
    import keras

    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation=keras.layers.LeakyReLU(0.1), name="d")])
    with user_error(KerasImportError, match=r"the layer `d` \(`dense`\): its `activation` is a `LeakyReLU` object, which "
                                            r"netdsl cannot write"):
        import_keras(_save(model, tmp_path / "activation.keras"))
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dropout(0.5, noise_shape=(None, 1), name="drop")])
    with user_error(KerasImportError, match=r"the layer `drop` \(`dropout`\) has noise_shape="):
        import_keras(_save(model, tmp_path / "noise.keras"))

    model = keras.Sequential([keras.Input((8, 8, 4)), keras.layers.Conv2D(4, 3, groups=2, name="grouped")])
    with user_error(KerasImportError, match=r"the layer `grouped` \(`conv2d`\) has groups=2"):
        import_keras(_save(model, tmp_path / "groups.keras"))


def test_files_that_are_not_models(tmp_path):
    text = tmp_path / "notes.keras"
    text.write_text("not a zip")
    with user_error(KerasImportError, match="is not a saved Keras model or netdsl model"):
        import_keras(text)
    empty = tmp_path / "empty.keras"
    with zipfile.ZipFile(empty, "w") as archive:
        archive.writestr("metadata.json", "{}")
    with user_error(KerasImportError, match="has no `config.json` inside"):
        import_keras(empty)


# ---- the command -------------------------------------------------------------------------------------


def test_out_is_written_whole_and_names_the_model_from_its_folder(fitted, tmp_path, capsys, monkeypatch):
    path = fitted("edge_detector")[0]
    out = tmp_path / "programs" / "edge.net"
    out.parent.mkdir()
    assert main(["import", str(tmp_path / "none.keras")]) == 1
    assert capsys.readouterr().err == f"netdsl: error[D101]: no model file `{tmp_path / 'none.keras'}`\n"
    assert main(["import", str(path), "--out", str(path)]) == 1  # never over the model itself
    assert "is the model file itself" in capsys.readouterr().err and zipfile.is_zipfile(path)
    assert main(["import", str(path)]) == 0
    printed = capsys.readouterr().out
    assert f'pretrained("{path}"' in printed
    assert main(["import", str(path), "--out", str(out)]) == 0
    relative = f"../../{path.parent.name}/{path.name}"  # both under pytest's base temporary folder
    assert out.read_text() == printed.replace(str(path), relative)
    assert analyse(load(out)).total_params == 9  # `pretrained` finds the model from the .net file's folder
    assert [p.name for p in out.parent.iterdir()] == ["edge.net"]  # no temporary file left

    import netdsl.dsl.files as files

    def fail(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(files.os, "replace", fail)
    assert main(["import", str(fitted("digits_mlp")[0]), "--out", str(out)]) == 1
    assert "netdsl: error[D101]: cannot write" in capsys.readouterr().err
    assert out.read_text() == printed.replace(str(path), relative)  # the old program, whole
    assert [p.name for p in out.parent.iterdir()] == ["edge.net"]


def test_import_never_loads_tensorflow(fitted):
    path = fitted("reviews_meta")[0]
    code = (
        "import sys\n"
        "sys.modules['tensorflow'] = sys.modules['keras'] = None\n"  # importing either raises
        "from netdsl.pipelines.cli import main\n"
        f"sys.exit(main(['import', {str(path)!r}]))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "concatenate(words, numbers)" in done.stdout


# ---- the test programs: more kinds, built (not fitted) -------------------------------------------------

BUILT = ["expressions", "graph_merges", "graph_repeat_names", "graph_repeat_param_list", "graph_two_towers",
         "layer_kinds", "param_ranges", "recurrent", "text", "text_vectors"]


@pytest.mark.parametrize("name", BUILT)
def test_built_programs_round_trip(name, tmp_path):
    """The valid test programs (every layer kind's arguments, merges, `repeat` names, two towers,
    recurrent wrappers, fixed embeddings) as `build_model` makes them (no `train` block: the model
    is not compiled), imported back."""
    from netdsl.dsl.resolution import resolve
    from netdsl.estimators.compile import build_model

    data = {"n_classes": 3, "n_features": 4, "n_outputs": 1}
    net = load(ROOT / "tests" / "data" / "valid" / f"{name}.net")
    model = build_model(resolve(net, None, data), text_samples=["the good film", "the bad film", "good fun"])
    path = _save(model, tmp_path / f"{name}.keras")
    imported = import_keras(path)
    assert imported == canonical_program(net.model_copy(update={"train": None}), str(path), data=data)
    assert analyse(loads(imported)).total_params == model.count_params()


# ---- odd files: a clear error, never another exception -----------------------------------------------

JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 5) | st.floats(allow_nan=False) | st.text(max_size=5)
    | st.sampled_from(["Dense", "InputLayer", "Functional", "__keras_tensor__", "Lambda", "Adam", "mse"]),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
        st.sampled_from(["class_name", "config", "layers", "name", "units", "inbound_nodes", "args", "kwargs",
                         "keras_history", "batch_shape", "module", "layer", "optimizer", "loss", "metrics"]),
        inner, max_size=5),
    max_leaves=20,
)
TENSOR = st.builds(lambda name, node: {"class_name": "__keras_tensor__", "config": {"keras_history": [name, node, 0]}},
                   st.sampled_from(["in", "a", "b", 3]), st.integers(0, 1))
LAYER = st.fixed_dictionaries({
    "class_name": st.sampled_from(["Dense", "Conv2D", "Flatten", "LSTM", "Bidirectional", "Add", "Embedding",
                                   "Reshape", "MaxPooling2D", "NotEqual", "InputLayer"]),
    "module": st.sampled_from(["keras.layers", "keras.src.ops.numpy", "elsewhere"]),
    "name": st.sampled_from(["a", "b", "in", "input"]),
    "config": st.dictionaries(st.sampled_from(["units", "filters", "kernel_size", "target_shape", "layer", "input_dim",
                                               "output_dim", "activation", "trainable", "kernel_initializer",
                                               "kernel_regularizer", "groups"]),
                              JSON | st.integers(0, 5) | st.lists(st.integers(0, 4), max_size=3), max_size=4),
    "inbound_nodes": st.lists(st.fixed_dictionaries({"args": st.lists(TENSOR | JSON, max_size=3)}), max_size=2) | JSON,
})


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(kind=st.sampled_from(["Sequential", "Functional"]), batch_shape=JSON | st.lists(st.none() | st.integers(0, 9), max_size=4),
       layers=st.lists(LAYER | JSON, max_size=4), outputs=JSON | st.sampled_from([[["a", 0, 0]], [["b", 0, 0], ["a", 0, 0]]]),
       compile_config=JSON)
def test_fuzzed_configs_import_or_give_a_clear_error(tmp_path, kind, batch_shape, layers, outputs, compile_config):
    first = {"class_name": "InputLayer", "name": "in", "config": {"batch_shape": batch_shape}}
    config = {"class_name": kind, "config": {"layers": [first, *layers], "input_layers": [["in", 0, 0]],
                                             "output_layers": outputs}, "compile_config": compile_config}
    path = tmp_path / "fuzz.keras"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("config.json", json.dumps(config))
    try:
        loads(import_keras(path))  # what it writes reads back
    except KerasImportError as error:
        assert error.code == "M102" and str(error)
