"""The fast training path (estimators/fast.py): same meaning as Keras's `fit`, one compiled model
per graph reused across fits, a bounded cache, and a visible fallback."""

import gc
import logging
import subprocess
import sys

import numpy as np
import pytest
from keras.src.backend.common import global_state as keras_global_state
from sklearn.datasets import load_digits

from netdsl.estimators import NetClassifier, NetRegressor, adam_update, executors, fast, variables

from conftest import in_two_threads, user_error

MLP = """net mlp
param hidden = 32
param activation = relu
dense(hidden, activation=activation)
dense(10, activation=softmax)
train {
    loss = sparse_categorical_crossentropy
    optimizer = adam(learning_rate=0.01)
    epochs = 3
    batch_size = 32
    metrics = [accuracy]
}
"""

UNSHUFFLED = MLP.replace("batch_size = 32", "batch_size = 32\n    shuffle = false")


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return (X[:400] / 16).astype("float32"), y[:400]


@pytest.fixture(autouse=True)
def fresh_cache(fresh_fast_cache):
    """Every test here starts on the fast path with an empty model cache (conftest)."""


def in_fresh_python(script: str, timeout: int = 300) -> subprocess.CompletedProcess:
    """Run `script` in a new interpreter: for what TensorFlow reads once at start-up, and for what
    could hang (a hang must fail the test, not stop the suite)."""
    return subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=timeout)


def fit_both(monkeypatch, make, X, y, **fit_kwargs):
    """The same estimator fitted on the fast path and on Keras's standard path."""
    quick = make().fit(X, y, **fit_kwargs)
    monkeypatch.setenv("NETDSL_FAST_PATH", "0")
    standard = make().fit(X, y, **fit_kwargs)
    monkeypatch.delenv("NETDSL_FAST_PATH")
    assert quick.training_path_ == "fast"
    assert standard.training_path_.startswith("standard")
    return quick, standard


def test_fast_and_standard_paths_train_the_same_model(monkeypatch, digits):
    # Same seed and no shuffling: the same initial weights and batches, so the same model.
    X, y = digits
    quick, standard = fit_both(monkeypatch, lambda: NetClassifier(UNSHUFFLED, random_state=0), X, y)
    np.testing.assert_allclose(quick.predict_proba(X), standard.predict_proba(X), atol=2e-4)
    assert quick.history_.keys() == standard.history_.keys() == {"loss", "accuracy"}
    np.testing.assert_allclose(quick.history_["loss"], standard.history_["loss"], rtol=1e-3)


def test_sample_and_class_weights_mean_the_same_on_both_paths(monkeypatch, digits):
    X, y = digits
    weights = np.where(y < 5, 1.0, 0.2)
    quick, standard = fit_both(
        monkeypatch, lambda: NetClassifier(UNSHUFFLED, random_state=0, class_weight="balanced"), X, y,
        sample_weight=weights,
    )
    np.testing.assert_allclose(quick.predict_proba(X), standard.predict_proba(X), atol=2e-4)
    unweighted = NetClassifier(UNSHUFFLED, random_state=0).fit(X, y)
    assert not np.allclose(unweighted.predict_proba(X), quick.predict_proba(X), atol=1e-3)


RESTARTED_NETS = {
    "convnet, augmentation, dropout": """net c
input (8, 8, 1)
conv2d(4, kernel_size=3, padding=same, activation=relu)
batch_normalization
max_pooling2d(2)
flatten
dropout(0.2)
dense(10, activation=softmax)
augment {
    random_translation(0.1, 0.1)
}
""",
    "lstm and literal weights": """net r
input (8, 8)
lstm(6)
dense(3, activation=relu, kernel_initializer=[[0.1, -0.2, 0.3], [0.2, 0.1, 0.0], [0.0, 0.3, -0.1], [0.1, 0.1, 0.1], [-0.3, 0.2, 0.1], [0.2, -0.1, 0.3]], bias_initializer=[0.5, 0.0, -0.5])
dense(10, activation=softmax)
""",
    "attention, position embedding, activation layers": """net t
input (8, 8)
position_embedding(8)
multi_head_attention(2, 4, dropout=0.1)
p_re_lu
time_distributed(dense(4))
leaky_re_lu(0.1)
flatten
dense(10, activation=softmax)
""",
    "depthwise, separable and transposed conv2d": """net u
input (8, 8, 1)
depthwise_conv2d(3, depth_multiplier=2, padding=same)
separable_conv2d(4, 3, strides=2, activation=relu)
conv2d_transpose(3, 3, strides=2, padding=same)
up_sampling2d
re_lu(6)
global_average_pooling2d
dropout(0.1)
dense(10, activation=softmax)
""",
}
TRAIN = """train {
    loss = sparse_categorical_crossentropy
    optimizer = adam(learning_rate=0.01)
    epochs = 2
    batch_size = 32
    shuffle = false
}
"""


@pytest.mark.parametrize("name", RESTARTED_NETS)
def test_a_cached_model_restarts_as_a_new_build_would(monkeypatch, digits, name):
    # The second fit reuses the first's compiled model and gives it new layers' initial weights
    # (estimators/weight_plan.py:fresh_weights): they must be the ones a new build under the same seed
    # gets, so it trains exactly like the standard path's new model.
    X, y = digits
    net = RESTARTED_NETS[name] + TRAIN
    shape = (-1, 8, 8, 1) if "conv2d" in net else (-1, 8, 8)
    X = X.reshape(shape)
    NetClassifier(net, random_state=7).fit(X, y)
    gc.collect()
    quick, standard = fit_both(monkeypatch, lambda: NetClassifier(net, random_state=0), X, y)
    (entry,) = [e for entries in fast._CACHE.values() for e in entries]
    assert entry.uses == 2 and entry.model is quick.model_  # the reused model, not a new one
    np.testing.assert_allclose(quick.predict_proba(X), standard.predict_proba(X), atol=2e-4)
    # The new layers' variables were never created: none is left waiting for Keras to create it.
    assert not keras_global_state.get_global_attribute("uninitialized_variables")


@pytest.mark.parametrize("name", RESTARTED_NETS)
def test_a_weight_plan_gives_what_making_the_layers_gives(digits, name):
    # weight_plan.WeightPlan restarts a cached model without making layers: under any seed it must draw
    # the same seeds from Python's random (leaving the same state) and give the same values as
    # fresh_weights, which makes them (initializers, generator states, literal weights, zeros).
    import random

    import keras

    from netdsl.estimators import weight_plan

    X, y = digits
    net = RESTARTED_NETS[name] + TRAIN
    X = X.reshape((-1, 8, 8, 1) if "conv2d" in net else (-1, 8, 8))
    est = NetClassifier(net, random_state=7).fit(X[:64], y[:64])
    plan = weight_plan.learn_weight_plan(est.spec_, est.model_)
    assert isinstance(plan, weight_plan.WeightPlan)
    kinds = {source[0] for source in plan.sources}
    assert kinds == {"initializer", "generator", "fixed"}  # dropout's and the LSTM's generators, zero biases
    for seed in (0, 1, 2):
        keras.utils.set_random_seed(seed)
        made, after_making = weight_plan.fresh_weights(est.spec_, est.model_), random.getstate()
        keras.utils.set_random_seed(seed)
        planned = plan.values()
        assert random.getstate() == after_making
        assert len(planned) == len(made) == len(variables.layer_variables(est.model_))
        for value, expected in zip(planned, made):
            np.testing.assert_array_equal(np.asarray(value), np.asarray(expected))


def test_a_value_a_weight_plan_cannot_explain_leaves_the_restarts_making_layers(monkeypatch, digits):
    # A variable whose initial value comes from the seed some other way (here: Python's random at
    # build time) is not "fixed", though one restart alone could not tell: learning checks the plan
    # on two restarts, finds it wrong, and restarts keep making the layers, as new builds do.
    import random

    import keras

    from netdsl.estimators import weight_plan

    dense_build = keras.layers.Dense.build

    def build_with_a_drawn_variable(layer, input_shape):
        dense_build(layer, input_shape)
        drawn = random.random()
        layer.drawn = layer.add_weight(shape=(2,), initializer=keras.initializers.Constant(drawn), trainable=False)

    monkeypatch.setattr(keras.layers.Dense, "build", build_with_a_drawn_variable)
    X, y = digits
    est = NetClassifier(UNSHUFFLED, random_state=7).fit(X, y)
    assert weight_plan.learn_weight_plan(est.spec_, est.model_) is None
    del est
    gc.collect()
    quick, standard = fit_both(monkeypatch, lambda: NetClassifier(UNSHUFFLED, random_state=0), X, y)
    (entry,) = [e for entries in fast._CACHE.values() for e in entries]
    assert entry.uses == 2 and entry.weight_plan is False
    for layer in ("dense", "dense_1"):
        np.testing.assert_array_equal(layer_drawn(quick, layer), layer_drawn(standard, layer))
    np.testing.assert_allclose(quick.predict_proba(X), standard.predict_proba(X), atol=2e-4)


def layer_drawn(est, position):
    dense = [layer for layer in est.model_.layers if hasattr(layer, "drawn")]
    return dense[("dense", "dense_1").index(position)].drawn.numpy()


def test_a_restart_that_cannot_defer_a_variable_builds_the_net_whole(monkeypatch, digits):
    # A layer that makes a variable from a fixed value cannot be made without creating it
    # (weight_plan.py:_deferred_variables refuses it): the restart then builds the net whole, from the
    # seed's start, and still starts as a new build would.
    import keras

    from netdsl.estimators import weight_plan

    dense_build = keras.layers.Dense.build

    def build_with_a_fixed_variable(layer, input_shape):
        dense_build(layer, input_shape)
        layer.fixed = keras.Variable(np.zeros(2, dtype="float32"), trainable=False)

    monkeypatch.setattr(keras.layers.Dense, "build", build_with_a_fixed_variable)
    original, restarts = weight_plan.fresh_weights, []

    def spied(net, model, *analysis):
        restarts.append(original(net, model, *analysis))
        return restarts[-1]

    monkeypatch.setattr(weight_plan, "fresh_weights", spied)
    X, y = digits
    NetClassifier(UNSHUFFLED, random_state=7).fit(X, y)
    gc.collect()
    quick, standard = fit_both(monkeypatch, lambda: NetClassifier(UNSHUFFLED, random_state=0), X, y)
    assert restarts == [None]  # the restart was tried, and built whole
    (entry,) = [e for entries in fast._CACHE.values() for e in entries]
    assert entry.uses == 2 and entry.model is quick.model_  # the reused model, not a new one
    np.testing.assert_allclose(quick.predict_proba(X), standard.predict_proba(X), atol=2e-4)


@pytest.mark.parametrize(
    "optimizer, fused",
    [
        ("adam(learning_rate=0.01, beta_1=0.8, epsilon=0.001)", True),
        ("adam(learning_rate=0.01, amsgrad=true)", False),
        ("adamw(learning_rate=0.01)", False),
        ("sgd(0.05, momentum=0.9)", False),
    ],
)
def test_every_optimizer_takes_the_same_steps_on_both_paths(monkeypatch, digits, optimizer, fused):
    # Plain Adam runs TensorFlow's fused kernel (adam_update.fused_adam_step), the rest Keras's own update;
    # with a weight penalty both must still step exactly as model.fit does.
    X, y = digits
    net = UNSHUFFLED.replace("adam(learning_rate=0.01)", optimizer).replace(
        "dense(hidden, activation=activation)", "dense(hidden, activation=activation, kernel_regularizer=l2(0.01))")
    quick, standard = fit_both(monkeypatch, lambda: NetClassifier(net, random_state=0), X, y)
    assert adam_update.plain_adam(quick.model_) is fused
    np.testing.assert_allclose(quick.predict_proba(X), standard.predict_proba(X), atol=2e-4)
    np.testing.assert_allclose(quick.history_["loss"], standard.history_["loss"], rtol=1e-3)
    assert int(quick.model_.optimizer.iterations) == int(standard.model_.optimizer.iterations) == 3 * 13


def test_shuffled_training_with_validation_and_dropout_lands_in_the_same_band(monkeypatch, digits):
    X, y = digits
    net = MLP.replace("dense(10", "dropout(0.2)\ndense(10").replace("epochs = 3", "epochs = 8\n    validation_split = 0.2")
    quick, standard = fit_both(monkeypatch, lambda: NetClassifier(net, random_state=1), X, y)
    assert set(quick.history_) == set(standard.history_) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert quick.history_["val_accuracy"][-1] > 0.85 and standard.history_["val_accuracy"][-1] > 0.85
    assert abs(quick.score(X, y) - standard.score(X, y)) < 0.05


def test_early_stopping_restores_the_best_weights(digits):
    X, y = digits
    net = MLP.replace("epochs = 3", "epochs = 60\n    validation_split = 0.25").replace(
        "metrics = [accuracy]",
        "metrics = [accuracy]\n    callbacks = [early_stopping(monitor=val_loss, patience=2, restore_best_weights=true)]",
    ).replace("learning_rate=0.01", "learning_rate=0.05")
    est = NetClassifier(net, random_state=0).fit(X, y)
    assert est.training_path_ == "fast"
    assert len(est.history_["loss"]) < 60 and est.best_epoch_ < len(est.history_["loss"])
    _, val = est._split(len(X), 0.25, np.searchsorted(est.classes_, y))
    loss = est.model_.evaluate(X[val], y[val], verbose=0)[0]
    assert loss == pytest.approx(min(est.history_["val_loss"]), rel=1e-4)


def test_reduce_lr_on_plateau_changes_the_learning_rate(digits):
    X, y = digits
    net = MLP.replace("epochs = 3", "epochs = 6").replace(
        "metrics = [accuracy]",
        "metrics = [accuracy]\n    callbacks = [reduce_lr_on_plateau(monitor=loss, factor=0.5, patience=0, min_delta=10)]",
    )
    est = NetClassifier(net, random_state=0).fit(X, y)
    assert est.training_path_ == "fast"
    assert float(est.model_.optimizer.learning_rate) < 0.01 / 4


def test_one_compiled_model_serves_many_fits_without_retracing(digits):
    X, y = digits
    traces = []
    for n, batch_size in ((200, 32), (300, 16), (400, 50)):
        NetClassifier(MLP, batch_size=batch_size, random_state=0).fit(X[:n], y[:n])
        gc.collect()
        (entry,) = [e for entries in fast._CACHE.values() for e in entries]
        (epoch,) = entry.functions.values()
        traces.append(epoch.experimental_get_tracing_count())
    assert fast.cache_size() == 1 and entry.uses == 3
    # Traced once, at the first fit (the metrics' variables are built before), then never again.
    assert traces == [1, 1, 1]


def test_a_fitted_estimator_keeps_its_model(digits):
    X, y = digits
    first = NetClassifier(MLP, random_state=0).fit(X, y)
    before = first.predict_proba(X)
    second = NetClassifier(MLP, random_state=1).fit(X[::-1], y[::-1])
    assert second.model_ is not first.model_
    np.testing.assert_array_equal(first.predict_proba(X), before)
    assert fast.cache_size() == 2


def test_a_search_keeps_more_models_while_it_runs(monkeypatch, digits):
    X, y = digits
    monkeypatch.setattr(fast, "MAX_MODELS", 2)
    with fast.keeping(3):
        for hidden in (4, 5, 6, 7):
            NetClassifier(MLP, hidden=hidden, epochs=1, random_state=0).fit(X[:100], y[:100])
            gc.collect()
        assert fast.cache_size() == 3
    assert fast.cache_size() == 2  # trimmed on leaving
    with fast.keeping(3, trim=False):
        NetClassifier(MLP, hidden=8, epochs=1, random_state=0).fit(X[:100], y[:100])
        gc.collect()
    assert fast.cache_size() == 3  # until the next model made outside
    NetClassifier(MLP, hidden=9, epochs=1, random_state=0).fit(X[:100], y[:100])
    gc.collect()
    assert fast.cache_size() == 2


def test_random_state_makes_fits_repeatable(digits):
    X, y = digits
    a = NetClassifier(MLP, random_state=3).fit(X, y).predict_proba(X)
    gc.collect()
    b = NetClassifier(MLP, random_state=3).fit(X, y).predict_proba(X)
    c = NetClassifier(MLP, random_state=4).fit(X, y).predict_proba(X)
    np.testing.assert_allclose(a, b, atol=1e-6)
    assert not np.allclose(a, c, atol=1e-3)


def test_nets_with_different_graphs_never_share_a_model(digits):
    X, y = digits
    relu = NetClassifier(MLP, activation="relu", random_state=0).fit(X, y)
    tanh = NetClassifier(MLP, activation="tanh", random_state=0).fit(X, y)
    wide = NetClassifier(MLP, hidden=48, random_state=0).fit(X, y)
    sgd = NetClassifier(MLP, optimizer="sgd", random_state=0).fit(X, y)
    models = {id(e.model_) for e in (relu, tanh, wide, sgd)}
    assert len(models) == 4 and fast.cache_size() == 4
    assert tanh.model_.layers[1].activation.__name__ == "tanh"
    assert type(sgd.model_.optimizer).__name__ == "SGD"


def test_the_learning_rate_is_set_for_each_fit(digits):
    X, y = digits
    NetClassifier(MLP, learning_rate=0.1, random_state=0).fit(X, y)
    gc.collect()
    est = NetClassifier(MLP, learning_rate=0.002, random_state=0).fit(X, y)
    assert fast.cache_size() == 1
    assert float(est.model_.optimizer.learning_rate) == pytest.approx(0.002)


def test_the_cache_is_bounded(monkeypatch, digits):
    X, y = digits
    monkeypatch.setattr(fast, "MAX_MODELS", 2)
    for hidden in (4, 5, 6, 7):
        NetClassifier(MLP, hidden=hidden, epochs=1, random_state=0).fit(X[:100], y[:100])
        gc.collect()
    assert fast.cache_size() == 2


def test_warm_start_continues_on_the_same_model(digits):
    X, y = digits
    est = NetClassifier(MLP, warm_start=True, random_state=0).fit(X, y)
    model, loss = est.model_, est.history_["loss"][-1]
    est.fit(X, y)
    assert est.model_ is model and len(est.history_["loss"]) == 6
    assert est.history_["loss"][-1] < loss


def test_partial_fit_runs_on_the_fast_path(digits):
    X, y = digits
    est = NetClassifier(MLP, random_state=0)
    for _ in range(3):
        est.partial_fit(X, y, classes=np.arange(10))
    assert est.training_path_ == "fast" and len(est.history_["loss"]) == 3
    assert est.history_["loss"][-1] < est.history_["loss"][0]


def test_regression_on_the_fast_path():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3)).astype("float32")
    y = X @ np.array([1.0, -2.0, 0.5])
    net = "net lin\ndense(1)\ntrain {\n    loss = mse\n    optimizer = adam(learning_rate=0.05)\n    epochs = 20\n}\n"
    est = NetRegressor(net, random_state=0).fit(X, y)
    assert est.training_path_ == "fast" and est.score(X, y) > 0.95


def test_predict_runs_in_one_traced_call(digits):
    X, y = digits
    est = NetClassifier(MLP, random_state=0).fit(X, y)
    for n in (400, 300, 100, 399):
        est.predict(X[:n])
    assert fast.traced_predict(est.model_).experimental_get_tracing_count() <= 2
    assert not any(name.startswith("_netdsl") for name in vars(est.model_))  # nothing set on the Keras model


def test_the_fallback_to_keras_fit_is_visible(monkeypatch, caplog, digits):
    X, y = digits
    monkeypatch.setenv("NETDSL_FAST_PATH", "0")
    with caplog.at_level(logging.INFO, logger="netdsl"):
        est = NetClassifier(MLP, epochs=1).fit(X, y)
    assert est.training_path_ == "standard: the fast path is turned off (NETDSL_FAST_PATH=0)"
    assert "training on Keras's standard path: the fast path is turned off" in caplog.text
    assert fast.cache_size() == 0


def test_text_nets_fall_back_and_say_why(caplog, capsys):
    texts = ["good fine great", "bad awful poor"] * 10
    labels = [1, 0] * 10
    net = """net words
input text
text_vectorization(max_tokens=20)
embedding(20, 4)
global_average_pooling1d
dense(1, activation=sigmoid)
train {
    loss = binary_crossentropy
    epochs = 1
}
"""
    with caplog.at_level(logging.INFO, logger="netdsl"):
        est = NetClassifier(net, verbose=2).fit(texts, labels)
    reason = "`text_vectorization` without `output_sequence_length` pads each batch to its own longest text"
    assert est.training_path_ == f"standard: {reason}"
    assert reason in caplog.text and reason in capsys.readouterr().out


def test_a_failed_fit_leaves_the_cache_usable(digits):
    X, y = digits
    with user_error(Exception, match="loss became"):
        NetClassifier(MLP, learning_rate=1e12, epochs=2, random_state=0).fit(X * 1e6, y)
    gc.collect()
    est = NetClassifier(MLP, random_state=0).fit(X, y)
    assert fast.cache_size() == 1 and est.score(X, y) > 0.8


def test_a_base_saved_again_is_another_graph(tmp_path, digits):
    import os

    import keras

    X, y = digits
    base = tmp_path / "base.keras"
    net = tmp_path / "head.net"
    net.write_text(
        'net head\ninput (64)\npretrained("base.keras", trainable=false)\ndense(10, activation=softmax)\n'
        "train {\n    loss = sparse_categorical_crossentropy\n    epochs = 1\n}\n"
    )
    for width in (8, 12):
        keras.Sequential([keras.Input((64,)), keras.layers.Dense(width, activation="relu", name="hidden")]).save(base)
        os.utime(base, ns=(width * 10**9, width * 10**9))  # a new modification time, even within a second
        est = NetClassifier(str(net), random_state=0).fit(X, y)
        assert est.training_path_ == "fast" and est.model_.get_layer("hidden").units == width
        del est
        gc.collect()
    assert fast.cache_size() == 2


def test_many_models_do_not_warn_about_retracing(caplog, digits):
    # Each model's functions are traced once on purpose; TensorFlow's "frequent retracing" notice
    # (it counts traces of the same Python function across models) must not reach users.
    X, y = digits
    with caplog.at_level(logging.WARNING):
        kept = [NetClassifier(MLP, hidden=4 + i, epochs=1, random_state=0).fit(X[:64], y[:64]) for i in range(7)]
        for est in kept:
            est.predict(X[:10])
    assert "retracing" not in caplog.text


def test_one_thread_per_op_on_small_machines_unless_the_user_chose():
    # netdsl/estimators/runtime.py: TF_NUM_INTRAOP_THREADS=1 on machines with at most 2 cores, set
    # before TensorFlow starts its thread pools; a value the user set stays.
    script = """
import os
from netdsl.estimators.runtime import configure_process
os.environ.pop("TF_NUM_INTRAOP_THREADS", None)
os.cpu_count = lambda: 8
configure_process()
print(os.environ.get("TF_NUM_INTRAOP_THREADS"))
os.cpu_count = lambda: 2
print(configure_process().get("TF_NUM_INTRAOP_THREADS"), os.environ.get("TF_NUM_INTRAOP_THREADS"))
os.environ["TF_NUM_INTRAOP_THREADS"] = "3"
print(configure_process().get("TF_NUM_INTRAOP_THREADS"), os.environ.get("TF_NUM_INTRAOP_THREADS"))
"""
    done = in_fresh_python(script)
    assert done.stdout.split() == ["None", "1", "1", "None", "3"], done.stderr[-2000:]


def test_onednn_keeps_backward_plans_unless_the_user_chose():
    # netdsl/estimators/runtime.py: TF_MKL_OPTIMIZE_PRIMITIVE_MEMUSE=false (oneDNN keeps the plans
    # of convolutions' backward passes); a value the user set stays.
    script = """
import os
from netdsl.estimators.runtime import configure_process
os.environ.pop("TF_MKL_OPTIMIZE_PRIMITIVE_MEMUSE", None)
configure_process()
print(os.environ.get("TF_MKL_OPTIMIZE_PRIMITIVE_MEMUSE"))
os.environ["TF_MKL_OPTIMIZE_PRIMITIVE_MEMUSE"] = "true"
configure_process()
print(os.environ.get("TF_MKL_OPTIMIZE_PRIMITIVE_MEMUSE"))
"""
    done = in_fresh_python(script)
    assert done.stdout.split() == ["false", "true"], done.stderr[-2000:]


def test_short_recurrent_layers_run_unrolled_unless_the_file_says_unroll_false():
    from netdsl.dsl import loads, resolve
    from netdsl.estimators.compile import build_model

    def unrolled(source):
        model = build_model(resolve(loads(source), {}, {}))
        rnns = []
        for layer in model.layers:
            rnns += [layer.forward_layer, layer.backward_layer] if hasattr(layer, "forward_layer") else [layer]
        return [bool(layer.unroll) for layer in rnns if hasattr(layer, "unroll")]

    steps8 = "net n\ninput (8, 3)\n{}\ndense(2)\n"
    assert unrolled(steps8.format("lstm(4)")) == [True]
    assert unrolled(steps8.format("bidirectional(gru(4))")) == [True, True]
    assert unrolled(steps8.format("lstm(4, unroll=false)")) == [False]  # as the file says
    assert unrolled(steps8.format("bidirectional(gru(4, unroll=false))")) == [False, False]
    assert unrolled("net n\ninput (33, 3)\nsimple_rnn(4)\ndense(2)\n") == [False]  # too long
    assert unrolled("net n\ninput (33, 3)\nsimple_rnn(4, unroll=true)\ndense(2)\n") == [True]


def test_a_reused_model_with_a_saved_base_starts_as_a_new_build(tmp_path, digits):
    # A net whose layers cannot be made anew alone (a `pretrained` base) is built whole instead; the
    # layers made before the base (here an augmentation layer) must not have used up the seed's
    # draws, or the second fit would start from other weights than the first.
    import keras

    X, y = digits
    keras.Sequential([keras.Input((64,)), keras.layers.Dense(8, activation="relu", name="hidden")]).save(tmp_path / "base.keras")
    net = tmp_path / "head.net"
    net.write_text(
        'net head\ninput (64)\npretrained("base.keras", trainable=false)\ndense(10, activation=softmax)\n'
        "augment {\n    gaussian_noise(0.1)\n}\n"
        "train {\n    loss = sparse_categorical_crossentropy\n    epochs = 1\n    shuffle = false\n}\n"
    )
    first = NetClassifier(str(net), random_state=0).fit(X, y).predict_proba(X)
    gc.collect()
    second = NetClassifier(str(net), random_state=0).fit(X, y)
    (entry,) = [e for entries in fast._CACHE.values() for e in entries]
    assert entry.uses == 2 and entry.model is second.model_
    np.testing.assert_allclose(second.predict_proba(X), first, atol=1e-6)


CONVNET = """net convnet
input (8, 8, 1)
conv2d(4, kernel_size=3, padding=same, activation=relu)
flatten
dense(10, activation=softmax)
train {
    loss = sparse_categorical_crossentropy
    epochs = 1
}
"""

LSTM = """net lstm
input (8, 8)
lstm(8)
dense(10, activation=softmax)
train {
    loss = sparse_categorical_crossentropy
    optimizer = adam(learning_rate=0.01)
    epochs = 2
    batch_size = 32
}
"""


def _entry_of(estimator):
    return next(e for entries in fast._CACHE.values() for e in entries if e.model is estimator.model_)


def test_small_nets_train_on_the_single_threaded_executor_and_others_on_the_default(monkeypatch, digits):
    # executors.choose: every weight tensor at most 2-D and under 2**16 numbers -> single-threaded.
    X, y = digits
    monkeypatch.delenv("NETDSL_EXECUTOR", raising=False)
    small = NetClassifier(MLP, epochs=1, random_state=0).fit(X, y)
    wide = NetClassifier(MLP, hidden=1024, epochs=1, random_state=0).fit(X, y)  # a 64x1024 kernel: 65,536
    convnet = NetClassifier(CONVNET, random_state=0).fit(X.reshape(-1, 8, 8, 1), y)
    assert _entry_of(small).executor == executors.SINGLE_THREADED
    assert _entry_of(wide).executor == ""
    assert _entry_of(convnet).executor == ""
    fast.clear_cache()
    monkeypatch.setenv("NETDSL_EXECUTOR", "default")
    assert _entry_of(NetClassifier(MLP, epochs=1).fit(X, y)).executor == ""
    monkeypatch.setenv("NETDSL_EXECUTOR", "single")
    assert _entry_of(NetClassifier(CONVNET).fit(X.reshape(-1, 8, 8, 1), y)).executor == executors.SINGLE_THREADED


def test_one_inter_op_thread_keeps_the_default_executor():
    # With one inter-op thread the single-threaded executor would wait forever for a graph loop's
    # body (joblib's workers run with TF_NUM_INTEROP_THREADS=1): the fit must finish, on the default.
    script = """
import os
os.environ["TF_NUM_INTEROP_THREADS"] = "1"
os.environ["NETDSL_EXECUTOR"] = "single"
import numpy as np
from netdsl.estimators import NetClassifier, fast
X = np.random.RandomState(0).rand(64, 4).astype("float32")
est = NetClassifier("net t\\ndense(3, activation=softmax)\\ntrain {\\n loss = sparse_categorical_crossentropy\\n epochs = 2\\n}\\n")
est.fit(X, np.arange(64) % 3)
print([e.executor for entries in fast._CACHE.values() for e in entries], len(est.history_["loss"]))
"""
    done = in_fresh_python(script, timeout=240)
    assert done.stdout.split() == ["['']", "2"], done.stderr[-2000:]


def test_fits_in_several_threads_at_once_finish():
    # Two single-threaded-executor calls with a branch at once can hold every inter-op thread and
    # wait forever; the fits' epochs have none and run at once (executors._BRANCH_SLOT). (In a
    # subprocess: a hang must fail the test, not stop the suite.)
    script = """
import os, threading, time
import numpy as np
from netdsl.estimators import NetClassifier, fast
from sklearn.datasets import load_digits
X, y = load_digits(return_X_y=True)
X = (X[:600] / 16).astype("float32")
y = y[:600]
net = "net t\\ndense(32, activation=relu)\\ndense(10, activation=softmax)\\ntrain {\\n loss = sparse_categorical_crossentropy\\n epochs = 3\\n}\\n"
done = []
def work(i):
    for k in range(3):
        NetClassifier(net, random_state=i).fit(X, y)
    done.append(i)
threads = [threading.Thread(target=work, args=(i,), daemon=True) for i in range(3)]
for t in threads:
    t.start()
deadline = time.monotonic() + 120
for t in threads:
    t.join(timeout=max(0.0, deadline - time.monotonic()))
print(sorted(done), sorted({e.executor for entries in fast._CACHE.values() for e in entries}), flush=True)
os._exit(0)  # threads still waiting inside TensorFlow would hold the interpreter's exit
"""
    done = in_fresh_python(script)
    assert done.stdout.split("]")[0] == "[0, 1, 2", done.stdout + done.stderr[-2000:]
    assert "SINGLE_THREADED_EXECUTOR" in done.stdout  # the rule still chose it for this net


def test_small_nets_in_two_threads_run_their_epochs_on_the_single_threaded_executor_at_once(monkeypatch, digits):
    # Their epoch function has no branch, so no call waits for another's turn: each thread's first
    # epoch call waits inside `executors.call` for the other's (with calls taking turns, the second
    # could not get in and the barrier would time out). Each fit gives what it gives alone.
    import threading

    X, y = digits
    monkeypatch.delenv("NETDSL_EXECUTOR", raising=False)
    fast.clear_cache()
    runs = [(0, 32), (1, 64), (2, 32), (0, 64)]  # (seed, hidden), in two threads

    def fitted(seed, hidden):
        return NetClassifier(MLP, hidden=hidden, random_state=seed).fit(X, y).predict_proba(X)

    alone = [fitted(*run) for run in runs]
    assert {entry.executor for entries in fast._CACHE.values() for entry in entries} == {executors.SINGLE_THREADED}
    met, seen, called = threading.Barrier(2, timeout=60), set(), executors._traced_quietly

    def watched(function, *args):
        name = threading.current_thread().name
        if name not in seen:
            seen.add(name)
            met.wait()  # each thread's first call of a traced function: both inside at once
        return called(function, *args)

    monkeypatch.setattr(executors, "_traced_quietly", watched)
    together = in_two_threads(fitted, runs)
    assert len(seen) == 2
    for i, expected in enumerate(alone):
        np.testing.assert_array_equal(together[i], expected)


def test_calls_with_a_branch_take_turns_on_the_single_threaded_executor():
    # A `tf.cond` there runs on an inter-op thread while its caller waits: two such calls at once
    # held both inter-op threads and hung (TF_NUM_INTEROP_THREADS=2, as on a 2-core machine).
    # `executors.call` finds the branch and runs them one at a time; a loop alone has none.
    script = """
import os, threading, time
os.environ["TF_NUM_INTEROP_THREADS"] = "2"
from netdsl.estimators import executors, runtime
runtime.start_keras()
import tensorflow as tf
w = tf.Variable(tf.ones((8, 8)))
def looped(x):
    return tf.while_loop(lambda i, x: i < 20, lambda i, x: (i + 1, tf.matmul(x, w) * 0.5), (0, x))[1]
branchy = tf.function(lambda x: looped(tf.cond(tf.reduce_sum(x) > 0, lambda: x * 2.0, lambda: x)), autograph=False)
loop = tf.function(looped, autograph=False)
x = tf.ones((8, 8))
executors.call(executors.SINGLE_THREADED, branchy, x)  # made once, as a search's first fit makes its functions
print(executors.has_branch(branchy, x), executors.has_branch(loop, x), flush=True)
done = []
def work(i):
    for _ in range(30):
        executors.call(executors.SINGLE_THREADED, branchy, x)
    done.append(i)
threads = [threading.Thread(target=work, args=(i,), daemon=True) for i in range(2)]
for t in threads:
    t.start()
deadline = time.monotonic() + 60
for t in threads:
    t.join(timeout=max(0.0, deadline - time.monotonic()))
print(sorted(done), flush=True)
os._exit(0)  # threads still waiting inside TensorFlow would hold the interpreter's exit
"""
    done = in_fresh_python(script, timeout=240)
    assert done.stdout.split("\n")[:2] == ["True False", "[0, 1]"], done.stdout + done.stderr[-2000:]


@pytest.mark.parametrize("validation_split", [0.2, 0.0], ids=["validation", "none"])
@pytest.mark.parametrize("net, shape", [(MLP, (-1, 64)), (LSTM, (-1, 8, 8))], ids=["mlp", "lstm"])
def test_both_executors_train_the_same_model(monkeypatch, digits, net, shape, validation_split):
    # The same ops in the same order of dependencies: the same weights, loss and metrics. On both
    # executors a fit with nothing to do between epochs is one call (all its epochs).
    X, y = digits
    X = X.reshape(shape)
    fitted, used, calls = {}, {}, {}
    called = executors._traced_quietly
    for executor in ("single", "default"):
        monkeypatch.setenv("NETDSL_EXECUTOR", executor)
        fast.clear_cache()
        counted = []
        monkeypatch.setattr(executors, "_traced_quietly", lambda *args: counted.append(1) or called(*args))
        fitted[executor] = NetClassifier(net, random_state=3, validation_split=validation_split).fit(X, y)
        used[executor], calls[executor] = _entry_of(fitted[executor]).executor, len(counted)
    assert used == {"single": executors.SINGLE_THREADED, "default": ""}
    epochs = len(fitted["default"].history_["loss"])
    assert epochs >= 2
    assert calls == ({"single": 2 * epochs, "default": 2 * epochs} if validation_split else {"single": 1, "default": 1})
    np.testing.assert_allclose(fitted["single"].predict_proba(X), fitted["default"].predict_proba(X), atol=1e-5)
    for name, values in fitted["default"].history_.items():
        np.testing.assert_allclose(fitted["single"].history_[name], values, rtol=1e-5, err_msg=name)


def test_a_graph_the_single_threaded_executor_refuses_falls_back_visibly(monkeypatch, caplog, digits):
    # A function first run on the default executor has its control flow lowered to nodes that the
    # single-threaded one refuses (TensorFlow's own check, before any op runs): the fit goes on with
    # the default executor, says so, and trains as it would have. (The validation's function is the
    # one refused: the epochs run as another function on each executor, `fast._epoch_function`.)
    X, y = digits
    monkeypatch.setenv("NETDSL_EXECUTOR", "default")
    refused, twin = (NetClassifier(MLP, random_state=0, warm_start=True, validation_split=0.2).fit(X, y)
                     for _ in range(2))
    entry = _entry_of(refused)
    entry.executor = executors.SINGLE_THREADED
    with caplog.at_level(logging.INFO, logger="netdsl"):
        refused.fit(X, y)
    assert "single-threaded one refused its graph" in caplog.text
    assert entry.executor == ""
    twin.fit(X, y)
    assert len(refused.history_["loss"]) == 6
    np.testing.assert_allclose(refused.predict_proba(X), twin.predict_proba(X), atol=1e-6)


def test_one_call_of_many_epochs_stops_after_the_first_whose_loss_is_not_finite(monkeypatch, digits):
    # As the epochs called one by one do (fast.train), so that a diverging fit stops and says so.
    X, y = digits
    losses = {}
    for executor in ("default", "single"):
        monkeypatch.setenv("NETDSL_EXECUTOR", executor)
        fast.clear_cache()
        entry = _entry_of(NetClassifier(MLP, optimizer="sgd", epochs=1, random_state=0).fit(X, y))
        variables.set_learning_rate(entry.model, 1e12)
        losses[executor] = fast.train(entry, X * 1e6, y, epochs=6, batch_size=32, shuffle=True, seed=0)["loss"]
    loss = losses["default"]
    assert len(loss) < 6 and not np.isfinite(loss[-1]) and np.isfinite(loss[:-1]).all()
    assert len(losses["single"]) == len(loss)


def test_the_call_options_do_not_leak_to_the_users_functions(monkeypatch, digits):
    # The executor and the grappler switch are set for netdsl's own calls only (and this thread).
    import tensorflow as tf
    from tensorflow.python.eager import context

    X, y = digits
    monkeypatch.setenv("NETDSL_EXECUTOR", "single")
    before = context.context().function_call_options
    before = (before.executor_type, before.config_proto_serialized)
    NetClassifier(MLP, epochs=1, validation_split=0.2).fit(X, y).predict(X)
    after = context.context().function_call_options
    assert (after.executor_type, after.config_proto_serialized) == before
    assert float(tf.function(lambda v: tf.reduce_sum(v))(tf.ones(3))) == 3.0


def test_seeded_fits_leave_tensorflows_compiled_functions_alone(monkeypatch, digits):
    # Setting TensorFlow's global seed empties its caches, so every compiled function would be built
    # again at each seeded fit; the fast path seeds Python, NumPy and Keras only, and fits repeat.
    import tensorflow as tf

    X, y = digits
    seeds_set = []
    set_seed = tf.random.set_seed
    monkeypatch.setattr(tf.random, "set_seed", lambda seed: (seeds_set.append(seed), set_seed(seed))[1])
    first, other, again = (NetClassifier(MLP, random_state=seed).fit(X, y) for seed in (7, 8, 7))
    assert seeds_set == []
    np.testing.assert_array_equal(first.predict_proba(X), again.predict_proba(X))
    assert not np.allclose(first.predict_proba(X), other.predict_proba(X), atol=1e-3)
    monkeypatch.setenv("NETDSL_FAST_PATH", "0")  # Keras's fit draws tf.data's seeds from TensorFlow's
    NetClassifier(MLP, random_state=7).fit(X, y)
    assert seeds_set == [7]


def assert_rows_independent(predict, X, rng, tries=25):
    """Every row's output the same to the bit whatever the other rows of the call and their order."""
    full = predict(X)
    for _ in range(tries):
        order = rng.permutation(len(X))
        np.testing.assert_array_equal(predict(X[order]), full[order])
        subset = rng.choice(len(X), size=int(rng.integers(1, len(X))), replace=False)
        np.testing.assert_array_equal(predict(X[subset]), full[subset])
    for row in rng.choice(len(X), size=5, replace=False):
        np.testing.assert_array_equal(predict(X[row : row + 1]), full[row : row + 1])


@pytest.mark.parametrize("path", ["fast", "standard"])
@pytest.mark.parametrize("net, shape", [(MLP, (-1, 64)), (CONVNET, (-1, 8, 8, 1)), (LSTM, (-1, 8, 8))],
                         ids=["mlp", "convnet", "lstm"])
def test_a_rows_prediction_depends_on_that_row_alone(monkeypatch, digits, net, shape, path):
    # A CPU's kernels choose their blocking by the number of rows: 20 rows or 1 row gave another
    # last bit than 600 on AMD EPYC (scikit-learn's sample order and subset invariance checks
    # failed). Every row is computed in a chunk of the same size. 300 rows: across two chunks.
    X, y = digits
    X = X[:300]
    if path == "standard":
        monkeypatch.setenv("NETDSL_FAST_PATH", "0")
    est = NetClassifier(net, epochs=1, random_state=0).fit(X, y[:300])
    assert est.training_path_.startswith(path)
    rng = np.random.default_rng(0)
    assert_rows_independent(est.predict_proba, X, rng)
    flat = NetRegressor(net.replace("dense(10, activation=softmax)", "dense(1)").replace(
        "sparse_categorical_crossentropy", "mse"), epochs=1, random_state=0).fit(X, y[:300].astype(float))
    assert_rows_independent(flat.predict, X, rng)


def test_a_rows_prediction_depends_on_that_row_alone_with_avx2_kernels():
    # (An MLP, a convnet and an LSTM; the 20 rows of 3 features that scikit-learn's checks use.)
    # oneDNN's AVX2 kernels (an AMD EPYC without AVX-512) are the ones that gave 1 ulp between
    # orders of the same 20 rows; `ONEDNN_MAX_CPU_ISA` makes this CPU use them (read at start-up).
    script = f"""
import numpy as np
from sklearn.datasets import load_digits
from netdsl.estimators import NetClassifier, NetRegressor, NetTransformer
MLP = {MLP!r}
X, y = load_digits(return_X_y=True)
X = (X[:300] / 16).astype("float32")
rng = np.random.default_rng(0)
small = X[:20, :3]
for est, method, data in (
    (NetClassifier(MLP, epochs=1, random_state=0).fit(X, y[:300]), "predict_proba", X),
    (NetClassifier("dense(32, activation=relu)\\ndense(n_classes, activation=softmax)\\n", epochs=1, random_state=0)
     .fit(small, y[:20] % 3), "predict_proba", small),
    (NetRegressor("dense(32, activation=relu)\\ndense(1)\\n", epochs=1, random_state=0).fit(small, y[:20]), "predict", small),
    (NetTransformer("dense(4, activation=tanh)\\n", random_state=0).fit(small), "transform", small),
    (NetClassifier({CONVNET!r}, random_state=0).fit(X.reshape(-1, 8, 8, 1), y[:300]), "predict_proba", X[:60]),
    (NetClassifier({LSTM!r}, epochs=1, random_state=0).fit(X.reshape(-1, 8, 8), y[:300]), "predict_proba", X[:60]),
):
    predict = getattr(est, method)
    full = predict(data)
    for _ in range(30):
        order = rng.permutation(len(data))
        assert np.array_equal(predict(data[order]), full[order]), (method, "order")
    for row in range(len(small)):
        assert np.array_equal(predict(data[row : row + 1]), full[row : row + 1]), (method, "row")
print("independent")
"""
    import os

    flags = open("/proc/cpuinfo").read() if os.path.exists("/proc/cpuinfo") else ""
    if " avx2" not in flags:
        pytest.skip("this CPU has no AVX2")
    env = dict(os.environ, ONEDNN_MAX_CPU_ISA="AVX2")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300, env=env)
    assert done.stdout.split()[-1:] == ["independent"], done.stderr[-3000:]
