"""Fine-tuning: `pretrained(...)` takes a saved net's layers, `freeze` / `fine_tune` in `train`."""

import pickle
import subprocess
import sys

import numpy as np
import pytest
from sklearn.datasets import load_digits

from netdsl.dsl import NetError, analyse, dumps, load, loads
from netdsl.dsl import resolve
from netdsl.pipelines.cli import main

from conftest import DATA, ROOT, check_golden, user_error

FINETUNE = DATA / "finetune"
GOLDEN = sorted(p for p in FINETUNE.glob("*.net") if p.stem != "ok")

HEAD = """
dense(16, activation=relu, name="head")
dense(3, activation=softmax)
"""


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X.astype("float32"), y


@pytest.fixture(scope="module")
def bases(tmp_path_factory, digits):
    """A base trained briefly on the digits 0-4, saved as `.keras` and as a netdsl `.model`."""
    from netdsl.estimators import NetClassifier

    X, y = digits
    folder = tmp_path_factory.mktemp("bases")
    net = """
net base
input (8, 8, 1)
rescaling(1 / 16, name="scale")
conv2d(4, 3, activation=relu, name="conv_1")
batch_normalization(name="bn_1")
max_pooling2d(2, name="pool_1")
flatten(name="flat")
dense(5, activation=softmax, name="out")
augment {
    random_translation(0.1, 0.1)
}
train {
    epochs = 2
}
"""
    old = y < 5
    est = NetClassifier(net, random_state=0).fit(X[old][:300], y[old][:300])
    est.model_.save(folder / "base.keras")
    est.save(folder / "base.model")
    return folder


def write(folder, name, text):
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def few(digits, n=60):
    X, y = digits
    new = np.flatnonzero((y >= 5) & (y <= 7))
    return X[new[:n]], y[new[:n]], X[new[n:n + 200]], y[new[n:n + 200]]


# ---- static analysis --------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".keras", ".model"])
def test_base_layers_are_rows_with_their_names_and_the_base_input(bases, suffix):
    path = write(bases, "net.net", f'pretrained("base{suffix}", up_to="flat", trainable=false)\n{HEAD}')
    summary = analyse(load(path))
    assert summary.input_shape == (8, 8, 1)  # no `input`: the base's
    assert [(r.name, r.base, r.trainable) for r in summary.rows] == [
        ("scale", f"base{suffix}", False), ("conv_1", f"base{suffix}", False), ("bn_1", f"base{suffix}", False),
        ("pool_1", f"base{suffix}", False), ("flat", f"base{suffix}", False), ("head", None, True),
        ("dense", None, True),
    ]  # the base's augmentation layer is left out
    assert (summary.trainable_params, summary.non_trainable_params) == (16 * 36 + 16 + 16 * 3 + 3, 40 + 16)


def _weights(variables):
    return sum(int(np.prod(v.shape)) for v in variables)


@pytest.mark.parametrize("program", [
    f'pretrained("base.keras", up_to="flat", trainable=false)\n{HEAD}',
    f'pretrained("base.keras", up_to="flat")\n{HEAD}',
    f'pretrained("base.keras", up_to="flat")\n{HEAD}train {{\n    freeze = ["conv_*", "head"]\n}}\n',
    f'input (64)\nreshape((8, 8, 1))\npretrained("base.model")\n{HEAD}',
], ids=["frozen", "trainable", "freeze-patterns", "after-layers"])
def test_counts_and_names_equal_keras(bases, program):
    from netdsl.estimators.compile import build_model

    net = load(write(bases, "net.net", program))
    data = {"n_classes": 3, "n_features": 64}
    summary = analyse(net, data=data)
    model = build_model(resolve(net, data=data))
    layers = model.layers[1:]  # the input layer has no row
    assert [row.name for row in summary.rows] == [layer.name for layer in layers]
    for row, layer in zip(summary.rows, layers):
        assert row.trainable == layer.trainable, row.name
        assert row.params - row.non_trainable_params == _weights(layer.trainable_weights), row.name
    assert summary.total_params == model.count_params()
    assert summary.trainable_params == _weights(model.trainable_weights)
    assert summary.non_trainable_params == _weights(model.non_trainable_weights)


def test_the_example_counts_equal_keras(monkeypatch):
    from netdsl.estimators.compile import build_model

    net = load(ROOT / "examples" / "digits_finetune.net")
    summary, model = analyse(net), build_model(resolve(net))
    assert [row.name for row in summary.rows] == [layer.name for layer in model.layers[1:]]
    assert (summary.trainable_params, summary.non_trainable_params) == (
        _weights(model.trainable_weights), _weights(model.non_trainable_weights))
    assert summary.unfrozen == ("conv_1", "conv_2")


def test_named_layers_in_repeat_are_numbered():
    summary = analyse(loads("input (4)\nrepeat 2 {\n    dense(3, name=\"block\")\n}\ndense(3)\n"))
    assert [row.name for row in summary.rows] == ["block_1", "block_2", "dense"]


def test_unfreeze_round_trips_and_reads_patterns():
    net = loads('input (4)\ndense(3, trainable=false, name="a")\ntrain {\n    fine_tune = unfreeze("a", "b*", epochs=3)\n}\n')
    assert net.train.fine_tune.layers == ("a", "b*")
    assert loads(dumps(net)) == net
    assert 'unfreeze("a", "b*", epochs=3)' in dumps(net)


# ---- errors -----------------------------------------------------------------------------------


@pytest.mark.parametrize("path", GOLDEN, ids=lambda p: p.stem)
def test_golden_diagnostics(path, monkeypatch):
    monkeypatch.chdir(ROOT)
    relative = path.relative_to(ROOT)
    with user_error(NetError) as caught:
        analyse(load(relative))
    for diagnostic in caught.value.diagnostics:
        assert diagnostic.span is not None and diagnostic.help
    check_golden(path.with_suffix(".txt"), caught.value.render() + "\n")


def _error(folder, program) -> NetError:
    with user_error(NetError) as caught:
        analyse(load(write(folder, "bad.net", program)))
    return caught.value


def test_missing_base_is_located_at_the_path_with_a_close_name(bases):
    error = _error(bases, 'pretrained("bsae.keras")\ndense(3)\n')
    (diagnostic,) = error.diagnostics
    assert diagnostic.title == "no saved net at `bsae.keras`"
    assert (diagnostic.span.line, diagnostic.span.col) == (1, 12)
    assert diagnostic.help.startswith("did you mean `base.keras`? looked in ")


def test_a_folder_named_like_a_base_is_said_to_be_a_folder(tmp_path):
    # Its own name was offered as the close name: "no saved net at `dir.model`; did you mean `dir.model`?"
    (tmp_path / "dir.model").mkdir()
    (diagnostic,) = _error(tmp_path, 'pretrained("dir.model")\ndense(3)\n').diagnostics
    assert diagnostic.help.startswith("`dir.model` is a folder, not a saved net; looked in ")


def test_up_to_naming_no_layer_lists_the_layers(bases):
    (diagnostic,) = _error(bases, 'pretrained("base.model", up_to="conv1")\n').diagnostics
    assert diagnostic.title == "`base.model` has no layer `conv1`"
    assert diagnostic.help == "did you mean `conv_1`? its layers: scale, conv_1, bn_1, pool_1, flat, out"


def test_a_dense_base_layer_fed_another_width_is_an_error(bases):
    (diagnostic,) = _error(bases, 'input (8, 8, 1)\nconv2d(2, 3)\npretrained("base.keras", up_to="conv_1")\n').diagnostics
    assert diagnostic.title == "base layer `conv_1` (`conv2d`) was built for input (batch, 8, 8, 1), but gets (batch, 6, 6, 2) here"
    assert diagnostic.help.startswith("its 40 trained weights fit only that input (76 would be needed here)")


def test_unknown_keras_class_and_branches_are_located_errors(tmp_path):
    import keras

    inputs = keras.Input((6,), name="input")
    x = keras.layers.Dense(4, name="d1")(inputs)
    x = keras.layers.UnitNormalization(name="unit")(x)
    keras.Model(inputs, keras.layers.Dense(2, name="d2")(x)).save(tmp_path / "odd.keras")
    inputs = keras.Input((6,), name="input")
    a = keras.layers.Dense(6, name="a")(inputs)
    keras.Model(inputs, keras.layers.Add(name="skip")([a, inputs])).save(tmp_path / "branch.keras")

    (diagnostic,) = _error(tmp_path, 'pretrained("odd.keras")\n').diagnostics
    assert diagnostic.title == ("cannot take layer `unit` (Keras class `UnitNormalization`) from `odd.keras`: "
                                "netdsl has no layer kind for the Keras class `UnitNormalization`")
    assert diagnostic.help == 'take the layers before it with `up_to="d1"`'
    assert analyse(load(write(tmp_path, "ok.net", 'pretrained("odd.keras", up_to="d1")\n'))).total_params == 28
    (diagnostic,) = _error(tmp_path, 'pretrained("branch.keras")\n').diagnostics
    assert diagnostic.title == ("cannot take layer `skip` (Keras class `Add`) from `branch.keras`: "
                                "it reads `input` besides the output of the layer before it (`a`): the base is not a chain")
    assert diagnostic.help == 'take the layers before it with `up_to="a"`'


def test_duplicate_names_and_pretrained_misuse(bases):
    (diagnostic,) = _error(bases, 'input (4)\ndense(3, name="x")\ndense(3, name="x")\n').diagnostics
    assert (diagnostic.title, diagnostic.span.line) == ("a second layer named `x`", 3)
    assert diagnostic.help == "the first is on line 2; layer names must be unique in a file: rename one"
    (diagnostic,) = _error(bases, 'repeat 2 {\n    pretrained("base.keras")\n}\n').diagnostics
    assert diagnostic.title == "`pretrained` cannot be repeated"
    (diagnostic,) = _error(bases, 'pretrained("base.keras", name="b")\n').diagnostics
    assert diagnostic.title == "`pretrained` takes no `name`"


# ---- training ---------------------------------------------------------------------------------

TWO_STAGES = f"""
pretrained("base.keras", up_to="flat", trainable=false)
{HEAD}
train {{
    optimizer = adam(learning_rate=0.01)
    epochs = 6
    batch_size = 16
    fine_tune = unfreeze("conv_*", "bn_*", epochs=2, learning_rate=0.001)
}}
"""


def _base_weights(folder, name):
    import keras

    return [w.copy() for w in keras.models.load_model(folder / "base.keras").get_layer(name).get_weights()]


def test_frozen_weights_stay_in_stage_one_and_unfrozen_ones_change_in_stage_two(bases, digits):
    from netdsl.estimators import NetClassifier

    X, y, X_test, y_test = few(digits)
    conv, bn = _base_weights(bases, "conv_1"), _base_weights(bases, "bn_1")
    one_stage = write(bases, "one.net", TWO_STAGES.replace('    fine_tune = unfreeze("conv_*", "bn_*", epochs=2, learning_rate=0.001)\n', ""))
    first = NetClassifier(str(one_stage), random_state=0).fit(X, y)
    assert all(np.array_equal(a, b) for a, b in zip(first.model_.get_layer("conv_1").get_weights(), conv))
    assert not hasattr(first, "stage_epochs_")

    est = NetClassifier(str(write(bases, "two.net", TWO_STAGES)), random_state=0).fit(X, y)
    assert est.stage_epochs_ == (6, 2) and len(est.history_["loss"]) == 8
    assert not np.allclose(est.model_.get_layer("conv_1").get_weights()[0], conv[0])  # unfrozen in stage 2
    assert all(np.array_equal(a, b) for a, b in zip(est.model_.get_layer("bn_1").get_weights(), bn))  # stays frozen
    assert est.model_.get_layer("conv_1").trainable and not est.model_.get_layer("bn_1").trainable
    assert est.score(X_test, y_test) > 0.5  # three classes: chance is 1/3

    again = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(again.predict(X_test), est.predict(X_test))


def test_a_netdsl_model_file_is_a_base_too(bases, digits):
    from netdsl.estimators import NetClassifier

    X, y, X_test, y_test = few(digits)
    net = write(bases, "from_model.net", f'pretrained("base.model", up_to="flat")\n{HEAD}train {{\n    optimizer = adam(0.01)\n    epochs = 6\n}}\n')
    est = NetClassifier(str(net), random_state=0).fit(X, y)
    assert [layer.name for layer in est.model_.layers[1:3]] == ["scale", "conv_1"]
    assert est.score(X_test, y_test) > 0.5


def test_verbose_says_when_stage_two_starts(bases, digits, capsys):
    from netdsl.estimators import NetClassifier

    X, y, _, _ = few(digits, 30)
    NetClassifier(str(write(bases, "two.net", TWO_STAGES)), random_state=0, verbose=2).fit(X, y)
    out = capsys.readouterr().out
    assert "stage 2: unfroze 1 layer (conv_1), 40 more trainable weights; 2 epochs at learning rate 0.001" in out


# ---- the command line -------------------------------------------------------------------------


def test_show_marks_base_and_frozen_layers(monkeypatch, capsys):
    monkeypatch.chdir(ROOT)
    assert main(["show", "tests/data/finetune/ok.net"]) == 0
    out = capsys.readouterr().out
    assert "conv_1 (frozen) (from base.keras)" in out
    assert "head (frozen)" in out
    assert "total params: 699   trainable: 51   non-trainable: 648" in out
    assert "fine_tune (stage 2) unfreezes: conv_1, head   trainable then: 683" in out


def test_check_with_a_pretrained_layer_does_not_import_tensorflow(bases):
    net = write(bases, "check.net", f'pretrained("base.model", up_to="flat")\n{HEAD}')
    code = (
        "import sys\nfrom netdsl.pipelines.cli import main\n"
        f"assert main(['check', {str(net)!r}, 'tests/data/finetune/ok.net']) == 0\n"
        "print(' '.join(sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT).stdout
    assert not {m for m in out.split() if m.split(".")[0] in ("tensorflow", "keras")}
