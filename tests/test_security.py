"""Reading a file never runs code from it: hostile model files and bases, each of which would create
a marker file if its code ran, are refused (or read as data only); every read of a zip is bounded."""

import hashlib
import io
import json
import os
import pickle
import struct
import subprocess
import sys
import zipfile
from pathlib import Path

import lark
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.datasets import load_iris

from netdsl.dsl import NetError, analyse, load, saved
from netdsl.pipelines.cli import main

from conftest import ROOT, user_error

NET = "net tiny\ndense(4, activation=relu, name=\"hidden\")\ndense(n_classes, activation=softmax)\ntrain {\n    epochs = 1\n}\n"


class Hostile:
    """Unpickling it creates the marker file (what an attacker's code would do)."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (Path.touch, (Path(self.marker),))


@pytest.fixture()
def marker(tmp_path):
    path = tmp_path / "code_ran"
    yield path
    assert not path.exists(), "code from the file ran"


@pytest.fixture()
def hostile_pickle(tmp_path, marker):
    path = tmp_path / "evil.model"
    path.write_bytes(pickle.dumps({"_model_keras_bytes": Hostile(marker)}))
    return path


@pytest.fixture(scope="module")
def iris():
    X, y = load_iris(return_X_y=True)
    return X.astype("float32"), y


@pytest.fixture(scope="module")
def fitted(iris):
    from netdsl.estimators import NetClassifier

    return NetClassifier(NET, random_state=0).fit(*iris)


def _net(folder, base_line, name="uses_base.net"):
    path = Path(folder) / name
    path.write_text(f"net uses_base\ninput (4)\n{base_line}\ndense(2, activation=softmax)\n", encoding="utf-8")
    return path


def _diagnostic(path):
    with user_error(NetError) as caught:
        analyse(load(path))
    (diagnostic,) = caught.value.diagnostics
    return diagnostic


# ---- pickles are never unpickled by default --------------------------------------------------------


def test_check_of_a_pickled_base_refuses_it_without_unpickling(tmp_path, hostile_pickle, marker, capsys):
    net = _net(tmp_path, 'pretrained("evil.model")')
    assert main(["check", str(net)]) == 1
    err = capsys.readouterr().err
    assert "`evil.model` is a pickle, not a saved Keras model or netdsl model" in err
    assert "uses_base.net:3:12" in err  # located at the path of `pretrained`
    assert "netdsl.estimators.load(path, trusted=True).save(path)" in err


def test_load_refuses_a_pickle_and_says_how_to_opt_in(hostile_pickle, marker):
    from netdsl.estimators import load as load_model
    from netdsl.estimators.persist import UnsafeModelFile

    with user_error(UnsafeModelFile, match=r"loading a pickle runs any code it holds.*trusted=True"):
        load_model(hostile_pickle)


def test_load_of_a_missing_file_is_a_netdsl_error_and_still_a_file_not_found(tmp_path):
    from netdsl.estimators import load as load_model

    with user_error(FileNotFoundError, match="No saved model at"):
        load_model(tmp_path / "nope.model")


def test_trusted_load_reads_a_joblib_model_as_before(iris, fitted, tmp_path):
    import joblib

    from netdsl.estimators import load as load_model

    joblib.dump(fitted, tmp_path / "old.joblib")  # what netdsl's `save` wrote before
    back = load_model(tmp_path / "old.joblib", trusted=True)
    np.testing.assert_array_equal(back.predict_proba(iris[0]), fitted.predict_proba(iris[0]))


@pytest.mark.parametrize("command", ["predict", "plot"])
def test_cli_refuses_a_pickled_model_without_running_it(tmp_path, hostile_pickle, marker, capsys, command):
    data = tmp_path / "rows.csv"
    data.write_text("a,b,c,d,y\n1,2,3,4,0\n")
    argv = (["predict", str(hostile_pickle), "--data", str(data)] if command == "predict"
            else ["plot", "curves", str(hostile_pickle), "--out", str(tmp_path / "c.png")])
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert f"cannot load a model from `{hostile_pickle}`: `{hostile_pickle}` is a pickle (joblib) file" in err
    assert "trusted=True" in err and "Traceback" not in err


# ---- netdsl's own model file ------------------------------------------------------------------------


def test_a_saved_model_is_a_zip_without_pickle_and_loads_back(iris, fitted, tmp_path):
    from netdsl.estimators import load as load_model

    path = fitted.save(tmp_path / "m.model")
    with zipfile.ZipFile(path) as archive:
        assert sorted(archive.namelist()) == ["estimator.skops", "netdsl.json", "nets/0.keras"]
        manifest = json.loads(archive.read("netdsl.json"))
    assert manifest["base"] == "nets/0.keras" and manifest["format"] == "netdsl-model"
    back = load_model(path)
    np.testing.assert_array_equal(back.predict_proba(iris[0]), fitted.predict_proba(iris[0]))
    assert back.spec_ == fitted.spec_ and back.history_ == fitted.history_
    np.testing.assert_array_equal(back.classes_, fitted.classes_)


def test_a_composite_with_an_encoder_and_scaler_saves_and_loads(iris, tmp_path):
    from sklearn.compose import TransformedTargetRegressor

    from netdsl.estimators import NetRegressor, load as load_model, save
    from netdsl.pipelines.composite import composed

    X, y = iris
    frame_X = np.column_stack([X, np.where(y == 0, "red", "blue").astype(object)])
    net = "net r\ndense(4, activation=relu)\ndense(1)\ntrain {\n    epochs = 1\n}\n"
    model = composed(NetRegressor(net, random_state=0), categorical=[4], scale=True).fit(frame_X, X[:, 0])
    assert isinstance(model, TransformedTargetRegressor)
    path = save(model, tmp_path / "pipe.model")
    back = load_model(path)
    np.testing.assert_allclose(back.predict(frame_X), model.predict(frame_X), rtol=1e-6)


def test_a_model_file_holding_another_type_is_refused_unbuilt(tmp_path, marker):
    import skops.io as sio

    from netdsl.estimators import load as load_model
    from netdsl.estimators.persist import UnsafeModelFile

    # A function skops would call on load, and an object of a type outside the allowlist.
    from sklearn.preprocessing import FunctionTransformer

    for i, payload in enumerate([FunctionTransformer(Path.touch, kw_args={}), Hostile(marker)]):
        path = tmp_path / f"forged{i}.model"
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("netdsl.json", json.dumps({"format": "netdsl-model", "version": 1, "base": None}))
            archive.writestr("estimator.skops", sio.dumps(payload))
        with user_error(UnsafeModelFile, match="holds objects of types netdsl does not load"):
            load_model(path)


def test_a_model_file_whose_net_has_a_lambda_is_refused(tmp_path, marker, fitted):
    import keras

    from netdsl.estimators import load as load_model

    path = fitted.save(tmp_path / "m.model")
    touch = str(marker)
    hostile = keras.Sequential([keras.Input((4,)), keras.layers.Lambda(lambda x: x + len(open(touch, "w").name) * 0)])
    hostile.save(tmp_path / "lambda.keras")
    marker.unlink(missing_ok=True)  # saving traced the function once; what counts is loading
    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    members["nets/0.keras"] = (tmp_path / "lambda.keras").read_bytes()
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    with user_error(ValueError, match=r"the saved net holds a `Lambda` layer \(`lambda`\), whose Python code would run"):
        load_model(path)


# ---- bases with Python code in them --------------------------------------------------------------


@pytest.fixture(scope="module")
def lambda_base(tmp_path_factory):
    """A `.keras` base whose Lambda layer (after `hidden`) would create a marker file when called."""
    import keras

    folder = tmp_path_factory.mktemp("lambda")
    touch = str(folder / "code_ran")
    model = keras.Sequential([
        keras.Input((4,)), keras.layers.Dense(3, name="hidden"),
        keras.layers.Lambda(lambda x: x + len(open(touch, "w").name) * 0, name="evil"),
    ])
    model.save(folder / "lambda.keras")
    os.remove(touch)  # building the model above called it
    return folder


def test_a_lambda_base_is_refused_at_pretrained_unless_trusted(lambda_base):
    diagnostic = _diagnostic(_net(lambda_base, 'pretrained("lambda.keras", up_to="hidden")'))
    assert diagnostic.title == ("`lambda.keras` holds a `Lambda` layer (`evil`), whose Python code would run "
                                "when the base is loaded")
    assert diagnostic.help == 'take it only from a file you trust, with `pretrained("lambda.keras", trust=true)`'
    assert (diagnostic.span.line, diagnostic.span.col) == (3, 12)
    trusted = _net(lambda_base, 'pretrained("lambda.keras", up_to="hidden", trust=true)', "trusted.net")
    assert analyse(load(trusted)).total_params == 15 + 8
    assert not (lambda_base / "code_ran").exists()


def test_fit_of_a_lambda_base_is_refused_without_running_it(lambda_base, iris):
    from netdsl.estimators import NetClassifier

    net = _net(lambda_base, 'pretrained("lambda.keras", up_to="hidden")', "fit.net")
    with user_error(NetError, match="holds a `Lambda` layer"):
        NetClassifier(str(net), epochs=1).fit(iris[0][40:60], iris[1][40:60])
    assert not (lambda_base / "code_ran").exists()


def test_a_layer_class_from_outside_keras_is_refused(tmp_path):
    config = {"class_name": "Sequential", "config": {"layers": [
        {"class_name": "InputLayer", "config": {"batch_shape": [None, 4], "name": "in"}},
        {"module": "os", "class_name": "system", "config": {"name": "evil"}, "name": "evil"},
    ]}}
    _keras_file(tmp_path / "custom.keras", json.dumps(config))
    diagnostic = _diagnostic(_net(tmp_path, 'pretrained("custom.keras")'))
    assert diagnostic.title.startswith("`custom.keras` holds an object of class `system` from the module `os`")


# ---- bounded reads -------------------------------------------------------------------------------


def _keras_file(path, config_text, compress=zipfile.ZIP_DEFLATED):
    with zipfile.ZipFile(path, "w", compression=compress) as archive:
        archive.writestr("config.json", config_text)
        archive.writestr("metadata.json", "{}")
    return path


def _peak_memory_of_reading(path) -> int:
    """The most memory Python held at once while the base at `path` was read (and refused)."""
    import tracemalloc

    tracemalloc.start()
    with user_error(saved.SavedNetError):
        saved.read(path)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


def test_a_zip_bomb_base_is_refused_with_little_memory(tmp_path):
    member = zipfile.ZipInfo("config.json")
    member.compress_type = zipfile.ZIP_DEFLATED
    with zipfile.ZipFile(tmp_path / "bomb.keras", "w") as archive:
        with archive.open(member, "w", force_zip64=True) as out:
            chunk = b" " * 2**20
            for _ in range(1024):  # 1 GiB of spaces, about 1 MB in the file
                out.write(chunk)
    assert (tmp_path / "bomb.keras").stat().st_size < 2 * 2**20
    diagnostic = _diagnostic(_net(tmp_path, 'pretrained("bomb.keras")'))
    peak = _peak_memory_of_reading(tmp_path / "bomb.keras")
    assert diagnostic.title.startswith("`bomb.keras`: its member `config.json` claims to expand from ")
    assert "1,073,741,824 bytes" in diagnostic.title and "zip bomb" in diagnostic.help
    assert peak < 2**20


def test_a_member_larger_than_it_claims_is_read_only_to_its_bound(tmp_path):
    """Sizes in a zip can lie: a member that claims 100 bytes but holds 200 MB is never read whole."""
    path = _keras_file(tmp_path / "liar.keras", " " * (200 * 2**20))
    data = bytearray(path.read_bytes())
    real = struct.pack("<I", 200 * 2**20)
    for signature, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        at = data.index(signature)
        assert data[at + offset:at + offset + 4] == real
        data[at + offset:at + offset + 4] = struct.pack("<I", 100)
    path.write_bytes(bytes(data))
    diagnostic = _diagnostic(_net(tmp_path, 'pretrained("liar.keras")'))
    peak = _peak_memory_of_reading(path)
    assert diagnostic.title.startswith("`liar.keras` is damaged: `config.json` cannot be read (BadZipFile: Bad CRC-32")
    assert peak < 2**20


# ---- odd config.json ------------------------------------------------------------------------------

ODD_CONFIGS = {
    "not JSON": ("{", "`odd.keras`'s config.json is not JSON"),
    "not UTF-8": (b"\xff\xfe", "`odd.keras`'s config.json is not JSON"),
    "a list": ("[1, 2]", "`odd.keras`'s config.json holds a list, not a Keras model's config"),
    "a number": ("3", "`odd.keras`'s config.json holds a int, not a Keras model's config"),
    "no class": ("{}", "`odd.keras` holds a `None` model, which netdsl cannot take layers from"),
    "layers not a list": ('{"class_name": "Sequential", "config": {"layers": 3}}',
                          "`odd.keras` holds a `Sequential` model"),
    "config a list": ('{"class_name": "Functional", "config": []}', "`odd.keras` holds a `Functional` model"),
    "a layer that is a string": ('{"class_name": "Sequential", "config": {"layers": ["dense"]}}',
                                 "`odd.keras`'s config.json lists a str as a layer"),
    "an input of no dimension": ('{"class_name": "Sequential", "config": {"layers": [{"class_name": "InputLayer", '
                                 '"config": {"batch_shape": [null]}}, {"class_name": "Dense", "config": {"units": "x"}}]}}',
                                 "cannot take layer `Dense` (Keras class `Dense`) from `odd.keras`"),
    "deeply nested": ('{"class_name": "Sequential", "config": {"layers": [' + "[" * 100_000 + "]" * 100_000 + "]}}",
                      "`odd.keras`'s config.json is not JSON"),
    "odd types inside": ('{"class_name": "Functional", "config": {"layers": [{"class_name": "Dense", "name": 3, '
                         '"config": {"units": "many"}, "build_config": [], "inbound_nodes": {"a": 1}}]}}',
                         "cannot take layer `3` (Keras class `Dense`) from `odd.keras`"),
}


@pytest.mark.parametrize("case", list(ODD_CONFIGS))
def test_an_odd_config_is_a_located_error(tmp_path, case):
    text, title = ODD_CONFIGS[case]
    _keras_file(tmp_path / "odd.keras", text)
    diagnostic = _diagnostic(_net(tmp_path, 'pretrained("odd.keras")'))
    assert diagnostic.title.startswith(title)
    assert diagnostic.span.line == 3


JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 5) | st.floats(allow_nan=False) | st.text(max_size=5)
    | st.sampled_from(["Dense", "InputLayer", "Sequential", "Functional", "__keras_tensor__", "Lambda"]),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
        st.sampled_from(["class_name", "config", "layers", "name", "units", "inbound_nodes", "args", "keras_history",
                         "build_config", "input_shape", "batch_shape", "module", "layer"]), inner, max_size=5),
    max_leaves=30,
)


SHAPE = JSON | st.lists(st.none() | st.integers(0, 9), max_size=4)
LAYER = st.fixed_dictionaries({
    "class_name": st.sampled_from(["Dense", "Conv2D", "Flatten", "Dropout", "InputLayer", "LSTM", "Bidirectional",
                                   "Embedding", "Reshape", "BatchNormalization", "MaxPooling2D", "Rescaling"]),
    "name": st.text(min_size=1, max_size=3),
    "config": st.dictionaries(
        st.sampled_from(["units", "filters", "kernel_size", "rate", "target_shape", "batch_shape", "layer", "input_dim",
                         "output_dim", "activation", "strides", "padding", "return_sequences", "pool_size", "axis"]),
        JSON | st.integers(0, 5) | st.lists(st.integers(0, 4), max_size=3), max_size=4),
    "build_config": st.fixed_dictionaries({"input_shape": SHAPE}),
})


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(kind=st.sampled_from(["Sequential", "Functional"]), batch_shape=SHAPE,
       layers=st.lists(LAYER | JSON, max_size=4), head=st.sampled_from(["dense(2)", "flatten\ndense(2)", ""]))
def test_fuzzed_configs_check_or_give_a_located_error(tmp_path, kind, batch_shape, layers, head):
    """What `check` does with a base: read its config, then analyse the net with its layers."""
    first = {"class_name": "InputLayer", "name": "in", "config": {"batch_shape": batch_shape}}
    config = {"class_name": kind, "config": {"layers": [first, *layers]}}
    _keras_file(tmp_path / "fuzz.keras", json.dumps(config), compress=zipfile.ZIP_STORED)
    saved._CACHE.clear()
    net = tmp_path / "fuzz.net"
    net.write_text(f'net fuzz\npretrained("fuzz.keras")\n{head}\n', encoding="utf-8")
    try:
        analyse(load(net))
    except NetError:
        pass


# ---- a base that is not a chain --------------------------------------------------------------------


def test_a_layer_reading_a_second_input_is_not_chained(tmp_path):
    import keras

    first, second = keras.Input((4,), name="first"), keras.Input((4,), name="second")
    a = keras.layers.Dense(4, name="a")(first)
    b = keras.layers.Dense(4, name="b")(second)  # reads the second input, not `a`
    keras.Model([first, second], [a, b]).save(tmp_path / "two_inputs.keras")
    diagnostic = _diagnostic(_net(tmp_path, 'pretrained("two_inputs.keras", up_to="b")'))
    assert diagnostic.title == ("cannot take layer `b` (Keras class `Dense`) from `two_inputs.keras`: it reads "
                                "`second`, not the output of the layer before it (`a`): the base is not a chain")
    assert diagnostic.help == 'take the layers before it with `up_to="a"`'


def test_a_layer_reading_another_tensor_as_a_keyword_is_not_chained(tmp_path):
    import keras

    inputs = keras.Input((5, 3), name="input")
    state = keras.layers.Dense(4, name="state")(keras.layers.Flatten(name="flat")(inputs))
    out = keras.layers.LSTM(4, name="rnn")(inputs, initial_state=[state, state])
    keras.Model(inputs, out).save(tmp_path / "kwargs.keras")
    base = saved.read(tmp_path / "kwargs.keras")
    assert [layer.name for layer in base.layers] == ["flat", "state", "rnn"]
    assert base.layers[2].problem == ("it reads `input` besides the output of the layer before it (`state`): "
                                      "the base is not a chain")


# ---- writes and the loaded estimator ----------------------------------------------------------------

LIMITED_SAVE = """
import pickle, resource, sys
est = pickle.loads(open(sys.argv[2], "rb").read())
resource.setrlimit(resource.RLIMIT_FSIZE, (1024, 1024))
est.save(sys.argv[1])
"""


def test_a_save_past_the_file_size_limit_keeps_the_old_model(fitted, tmp_path):
    target = fitted.save(tmp_path / "kept.model")
    before = target.read_bytes()
    (tmp_path / "est.pickle").write_bytes(pickle.dumps(fitted))
    done = subprocess.run([sys.executable, "-c", LIMITED_SAVE, str(target), str(tmp_path / "est.pickle")],
                          capture_output=True, text=True, cwd=ROOT)
    assert done.returncode != 0 and "File too large" in done.stderr
    assert target.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["est.pickle", "kept.model"]


def test_a_loaded_model_clones_and_refits_after_its_net_file_is_gone(iris, tmp_path):
    from sklearn.base import clone

    from netdsl.estimators import NetClassifier, load as load_model

    source = tmp_path / "tiny.net"
    source.write_text(NET)
    est = NetClassifier(str(source), random_state=0).fit(*iris)
    path = est.save(tmp_path / "tiny.model")
    assert load_model(path).get_params()["net"] == str(source)  # the file still holds its program
    source.unlink()
    loaded = load_model(path)
    assert loaded.get_params()["net"] == NET  # the program it was trained with travels with it
    refitted = clone(loaded).fit(*iris)
    assert refitted.net_source_ == NET and refitted.score(*iris) > 0
    source.write_text(NET.replace("dense(4,", "dense(5,"))  # another program under the old name
    assert load_model(path).get_params()["net"] == NET


def test_check_of_a_netdsl_model_base_imports_neither_tensorflow_nor_skops(fitted, tmp_path):
    fitted.save(tmp_path / "base.model")
    net = _net(tmp_path, 'pretrained("base.model", up_to="hidden")')
    code = (f"import sys\nfrom netdsl.pipelines.cli import main\nassert main(['check', {str(net)!r}]) == 0\n"
            "print(' '.join(sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT).stdout
    assert not {m for m in out.split() if m.split(".")[0] in ("tensorflow", "keras", "skops")}


def _with_members(zipped: bytes, members: dict) -> bytes:
    """The zip archive `zipped` with its `members` (name -> bytes) replaced."""
    with zipfile.ZipFile(io.BytesIO(zipped)) as archive:
        contents = {name: archive.read(name) for name in archive.namelist()}
    blob = io.BytesIO()
    with zipfile.ZipFile(blob, "w") as archive:
        for name, data in {**contents, **members}.items():
            archive.writestr(name, data)
    return blob.getvalue()


def _rewrite_member(path, member: str, **inner):
    """The model file at `path` with the members of its zip member `member` replaced (`inner`)."""
    with zipfile.ZipFile(path) as archive:
        zipped = archive.read(member)
    path.write_bytes(_with_members(path.read_bytes(), {member: _with_members(zipped, inner)}))
    return path


def _rewrite_net(path, change=None, **members):
    """The model file at `path` with its net's `.keras` members replaced (`members`: name -> bytes)
    and its config.json changed in place by `change(config)`."""
    if change is not None:
        with zipfile.ZipFile(path) as archive, zipfile.ZipFile(io.BytesIO(archive.read("nets/0.keras"))) as net:
            config = json.loads(net.read("config.json"))
        change(config)
        members = {"config.json": json.dumps(config).encode(), **members}
    return _rewrite_member(path, "nets/0.keras", **members)


def test_a_net_whose_config_asks_for_more_weights_than_the_file_holds_is_refused_unbuilt(fitted, tmp_path):
    """A few KB whose config.json says `units=10**6` (or 10**8: gigabytes): refused before Keras
    allocates the weights, by `load` and by `check` of a `pretrained` base."""
    from netdsl.estimators import load as load_model
    from netdsl.estimators.persist import ModelFileError

    def grow(config):
        hidden, head = config["config"]["layers"][1:3]
        hidden["config"]["units"] = 10**6
        head["build_config"]["input_shape"] = [None, 10**6]

    path = _rewrite_net(fitted.save(tmp_path / "big.model"), grow)
    assert path.stat().st_size < 100_000
    with user_error(ModelFileError, match=r"its config.json implies 8,000,003 weights, but `model.weights.h5` holds"):
        load_model(path)
    diagnostic = _diagnostic(_net(tmp_path, 'pretrained("big.model", up_to="hidden")'))
    assert diagnostic.title.startswith("`big.model`: its config.json implies 8,000,003 weights")


def test_a_model_file_keras_h5py_or_skops_cannot_read_is_a_model_file_error(fitted, tmp_path):
    """Their own errors (h5py's OSError, Keras's and skops's ValueError) become one ModelFileError
    line, never a traceback or a dump of arrays."""
    from netdsl.estimators import load as load_model
    from netdsl.estimators.persist import ModelFileError

    good = fitted.save(tmp_path / "good.model")
    with zipfile.ZipFile(good) as archive, zipfile.ZipFile(io.BytesIO(archive.read("nets/0.keras"))) as net:
        h5 = net.read("model.weights.h5")
    cut = _rewrite_net(fitted.save(tmp_path / "cut.model"), **{"model.weights.h5": h5[: len(h5) // 2]})
    listed = _rewrite_net(fitted.save(tmp_path / "listed.model"), **{"config.json": b"[1, 2]"})
    newer = fitted.save(tmp_path / "newer.model")
    with zipfile.ZipFile(newer) as archive, zipfile.ZipFile(io.BytesIO(archive.read("estimator.skops"))) as skops_zip:
        schema = json.loads(skops_zip.read("schema.json"))
    _rewrite_member(newer, "estimator.skops", **{"schema.json": json.dumps({**schema, "protocol": 999}).encode()})
    for path, said in [(cut, r"Keras cannot load the saved net \(OSError: "),
                       (listed, r"Keras cannot load the saved net \(ValueError: "),
                       (newer, r"`.*newer.model` is damaged \(ValueError: The file was saved with skops protocol 999")]:
        with user_error(ModelFileError, match=said) as caught:
            load_model(path)
        assert "\n" not in str(caught.value)


def _double(X):
    return X * 2


def test_save_refuses_what_load_would_not_build(fitted, iris, tmp_path):
    """A composite with a step of the user's own (here a function) cannot be loaded safely: `save`
    says so, before writing anything, and points to joblib with `trusted=True`."""
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    from netdsl.estimators import save

    model = make_pipeline(FunctionTransformer(_double), fitted)
    with user_error(TypeError, match=r"types netdsl does not load \([\w.]*test_security._double\).*trusted=True"):
        save(model, tmp_path / "custom.model")
    assert not any(tmp_path.iterdir())


def test_a_transformer_and_a_regressor_save_and_load(iris, tmp_path):
    from netdsl.estimators import NetRegressor, NetTransformer, load as load_model

    X, y = iris
    transformer = NetTransformer(NET, layer="hidden", random_state=0).fit(X, np.array(["a", "b", "c"])[y])
    back = load_model(transformer.save(tmp_path / "t.model"))
    np.testing.assert_array_equal(back.transform(X), transformer.transform(X))
    regressor = NetRegressor(NET.replace("n_classes, activation=softmax", "1"), random_state=0).fit(X, X[:, 0])
    back = load_model(regressor.save(tmp_path / "r.model"))
    np.testing.assert_array_equal(back.predict(X), regressor.predict(X))


def _damaged_base(folder, weights):
    """The fine-tuning example's base with `weights(its model.weights.h5)` in place of those, and a
    net using it."""
    with zipfile.ZipFile(ROOT / "tests" / "data" / "finetune" / "base.keras") as good:
        members = {name: good.read(name) for name in good.namelist()}
    members["model.weights.h5"] = weights(members["model.weights.h5"])
    with zipfile.ZipFile(folder / "damaged.keras", "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    net = folder / "uses.net"
    net.write_text('net uses\ninput (8, 8, 1)\npretrained("damaged.keras", up_to="flat")\ndense(2, activation=softmax)\n'
                   "train {\n    epochs = 1\n}\n")
    return net


def test_a_base_whose_weights_are_not_hdf5_is_refused_by_check(tmp_path):
    """Weights that are not HDF5 (as many bytes as the real ones): `check` says so at `pretrained`,
    without TensorFlow, rather than fit later."""
    diagnostic = _diagnostic(_damaged_base(tmp_path, lambda h5: b"x" * len(h5)))
    assert diagnostic.title == "`damaged.keras`: its `model.weights.h5` is not an HDF5 file"
    assert (diagnostic.span.line, diagnostic.span.col) == (3, 12)


def test_a_base_keras_cannot_load_is_an_error_located_at_pretrained(iris, tmp_path):
    """Its config reads well (check passes), its weights are damaged (cut short): fit says so at
    `pretrained`."""
    from netdsl.estimators import NetClassifier

    net = _damaged_base(tmp_path, lambda h5: h5[: len(h5) * 3 // 4])
    analyse(load(net))  # the static check reads the config and the weights' first bytes only
    X = np.random.default_rng(0).random((20, 64), dtype=np.float32)
    with user_error(NetError) as caught:
        NetClassifier(str(net)).fit(X, np.arange(20) % 2)
    (diagnostic,) = caught.value.diagnostics
    assert diagnostic.title.startswith("Keras cannot load `damaged.keras` (")
    assert (diagnostic.span.line, diagnostic.span.col) == (3, 12)


@pytest.mark.parametrize("schema", ["[" * 100_000, '{"__class__": "dict"}', "[1, 2]", "not json"])
def test_a_damaged_model_file_is_a_clear_error(tmp_path, schema):
    from netdsl.estimators import load as load_model

    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w") as skops_zip:
        skops_zip.writestr("schema.json", schema)
    path = tmp_path / "damaged.model"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("netdsl.json", json.dumps({"format": "netdsl-model", "version": 1, "base": None}))
        archive.writestr("estimator.skops", inner.getvalue())
    with user_error(ValueError, match="damaged|not a netdsl|does not hold"):
        load_model(path)


@pytest.mark.skipif(not hasattr(os, "getuid") or os.getuid() != 0, reason="making a folder another user owns needs root")
def test_a_parser_cache_in_a_folder_another_user_can_write_is_never_read(tmp_path, marker):
    # Lark reads its table cache with pickle. An attacker who made the cache folders first (shared
    # /tmp, or a cache home they can write) and left a hostile pickle under the expected name must
    # not run code in our `netdsl check`: such folders are not used (dsl/parser.py, `_private`).
    from netdsl.dsl import parser

    cache_home, tmp = tmp_path / "cache", tmp_path / "tmp"
    digest = hashlib.sha256((parser.grammar_text() + lark.__version__).encode()).hexdigest()[:16]
    for folder in (cache_home / "netdsl", tmp / f"netdsl-{os.getuid()}"):
        folder.mkdir(parents=True)
        # Lark's cache: a line, then pickles
        (folder / f"grammar-{digest}.lark-cache").write_bytes(b"x\n" + pickle.dumps(Hostile(marker)))
        os.chown(folder, 12345, 12345)  # another user's folder ...
        os.chmod(folder, 0o777)  # ... that anyone may write in
    code = "from netdsl.dsl import loads\nloads('net x\\ninput (2)\\ndense(1)\\n')"
    env = {**os.environ, "XDG_CACHE_HOME": str(cache_home), "TMPDIR": str(tmp)}
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, env=env)
    assert not marker.exists()


def test_our_own_cache_folder_made_under_a_permissive_umask_is_made_private(tmp_path):
    from netdsl.dsl import parser

    folder = tmp_path / "netdsl"
    folder.mkdir()
    os.chmod(folder, 0o777)
    assert parser._private(str(folder))
    assert folder.stat().st_mode & 0o777 == 0o700
