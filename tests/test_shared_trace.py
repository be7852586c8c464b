"""One traced epoch for nets that differ only in their widths (dense layers' units, convolutions'
filters; estimators/shared_trace.py): shared where safe, the same model trained, never shared
elsewhere."""

import gc

import numpy as np
import pytest
from sklearn.datasets import load_digits

from netdsl.estimators import NetClassifier, executors, fast, shared_trace

MLP = """net mlp
param units = 16 in [8, 16, 32]
dense(units, activation=relu)
dropout(0.1)
dense(10, activation=softmax)
train {
    optimizer = adam(learning_rate=0.01)
    epochs = 3
    batch_size = 32
    metrics = [accuracy]
}
"""


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return (X[:400] / 16).astype("float32"), y[:400]


@pytest.fixture(autouse=True)
def fresh_cache(fresh_fast_cache):
    """Every test here starts on the fast path with an empty model cache (conftest)."""


def entries() -> list:
    return [entry for listed in fast._CACHE.values() for entry in listed]


def fitted_on_its_own_traces(monkeypatch, net: str, X, y, **params) -> NetClassifier:
    """The same fit with no family's function: the cache emptied, sharing off from here on."""
    fast.clear_cache()
    gc.collect()
    monkeypatch.setattr(shared_trace, "function", lambda *args: None)
    monkeypatch.setattr(shared_trace, "predict_function", lambda *args: None)
    return NetClassifier(net, **params).fit(X, y)


def test_widths_share_one_traced_epoch(digits):
    X, y = digits
    fitted = [NetClassifier(MLP, units=units, random_state=0).fit(X, y) for units in (8, 16, 32)]
    if any(entry.executor != executors.SINGLE_THREADED for entry in entries()):
        pytest.skip("the nets run on TensorFlow's default executor here (one inter-op thread)")
    assert len(entries()) == 3  # three models (each kept by its estimator), one traced epoch
    assert len(shared_trace._FUNCTIONS) == 1
    (shared,) = shared_trace._FUNCTIONS.values()
    assert shared is not None and shared.function.experimental_get_tracing_count() == 1
    assert all(est.score(X, y) > 0.5 for est in fitted)  # each learned, on its own variables


def test_widths_share_one_traced_predict(monkeypatch, digits):
    X, y = digits
    fitted = [NetClassifier(MLP, units=units, random_state=0).fit(X, y) for units in (8, 16, 32)]
    if any(entry.executor != executors.SINGLE_THREADED for entry in entries()):
        pytest.skip("the nets run on TensorFlow's default executor here (one inter-op thread)")
    shared_probabilities = [est.predict_proba(X) for est in fitted]
    predicts = [traced for key, traced in shared_trace._FUNCTIONS.items() if key[1][0] == "predict"]
    assert len(predicts) == 1 and predicts[0].function.experimental_get_tracing_count() == 1
    assert all(fast.traced_predict(est.model_).traced is predicts[0] for est in fitted)
    assert all(np.all(p[:20] != q[:20]) for p, q in zip(shared_probabilities, shared_probabilities[1:]))  # own weights
    monkeypatch.setattr(shared_trace, "predict_function", lambda *args: None)
    for est, shared in zip(fitted, shared_probabilities):
        fast.traced_predict(est.model_, forget=True)
        own = est.predict_proba(X)  # the width's own trace on the same weights: float rounding apart
        assert not hasattr(fast.traced_predict(est.model_), "traced")
        np.testing.assert_allclose(own, shared, atol=1e-6)


def test_a_shared_epoch_trains_each_width_as_its_own_trace_does(monkeypatch, digits):
    X, y = digits
    keep = NetClassifier(MLP, units=8, random_state=0).fit(X, y)  # traces the family's epoch
    shared = NetClassifier(MLP, units=32, random_state=3).fit(X, y)
    assert len(entries()) == 2 and keep.model_ is not shared.model_
    fast.clear_cache()
    gc.collect()
    monkeypatch.setattr(shared_trace, "function", lambda *args: None)
    own = NetClassifier(MLP, units=32, random_state=3).fit(X, y)
    # The same operations; the matrix kernels see the widths only at run time: float rounding apart.
    np.testing.assert_allclose(shared.predict_proba(X), own.predict_proba(X), atol=1e-5)
    np.testing.assert_allclose(shared.history_["loss"], own.history_["loss"], rtol=1e-5)
    np.testing.assert_allclose(shared.history_["accuracy"], own.history_["accuracy"], atol=1e-6)


CNN = """net cnn
param filters = 4 in [4, 6]
input (64)
reshape((8, 8, 1))
conv2d(filters, kernel_size=3, padding=same, activation=relu)
max_pooling2d(2)
conv2d(5, kernel_size=1, activation=relu)
flatten
dense(16, activation=relu)
dropout(0.25)
dense(10, activation=softmax)
train {
    optimizer = adam(learning_rate=0.01)
    epochs = 2
    batch_size = 32
}
"""


def test_a_convnets_filters_share_one_traced_epoch_and_predict_and_train_as_their_own(monkeypatch, digits):
    X, y = digits
    keep = NetClassifier(CNN, filters=4, random_state=0).fit(X, y)  # traces the family's epoch
    shared = NetClassifier(CNN, filters=6, random_state=3).fit(X, y)
    shared_probabilities = shared.predict_proba(X)
    assert np.all(keep.predict_proba(X)[:20] != shared_probabilities[:20])  # each on its own weights
    assert len(entries()) == 2 and keep.model_ is not shared.model_
    kinds = sorted(key[1][0] for key, traced in shared_trace._FUNCTIONS.items() if traced is not None)
    assert kinds == ["epochs", "predict"]
    assert all(traced.function.experimental_get_tracing_count() == 1 for traced in shared_trace._FUNCTIONS.values())
    assert fast.traced_predict(shared.model_).traced is fast.traced_predict(keep.model_).traced
    own = fitted_on_its_own_traces(monkeypatch, CNN, X, y, filters=6, random_state=3)
    assert not shared_trace._FUNCTIONS
    # The same operations; the kernels see the filters only at run time: float rounding apart.
    np.testing.assert_allclose(shared_probabilities, own.predict_proba(X), atol=1e-5)
    np.testing.assert_allclose(shared.history_["loss"], own.history_["loss"], rtol=1e-5)


AUGMENTED = """net augmented
param filters = 4 in [4, 6]
input (8, 8, 1)
repeat 2 {
    conv2d(filters, kernel_size=3, padding=same, activation=relu)
}
residual {
    conv2d(filters, kernel_size=3, padding=same)
}
max_pooling2d(2)
flatten
dense(10, activation=softmax)
augment {
    random_rotation(0.05)
    random_translation(0.1, 0.1)
}
train {
    optimizer = adam(learning_rate=0.01)
    epochs = 2
    batch_size = 32
    validation_split = 0.2
    callbacks = [early_stopping(monitor=val_loss, patience=1)]
}
"""


def test_augmented_repeated_residual_convnets_share_their_epoch_and_validation_and_train_as_their_own(monkeypatch, digits):
    X, y = digits
    X = X.reshape(-1, 8, 8, 1)
    NetClassifier(AUGMENTED, filters=4, random_state=0).fit(X, y)  # traces the family's functions
    shared = NetClassifier(AUGMENTED, filters=6, random_state=3).fit(X, y)
    shared_probabilities = shared.predict_proba(X)
    kinds = sorted(key[1][0] for key, traced in shared_trace._FUNCTIONS.items() if traced is not None)
    assert kinds == ["epochs", "evaluate", "predict"]
    assert entries()[0].executor in (executors.UNFUSED, executors.SINGLE_THREADED)  # a residual block's `add`: no fusions
    own = fitted_on_its_own_traces(monkeypatch, AUGMENTED, X, y, filters=6, random_state=3)
    assert set(own.history_) == {"loss", "val_loss"}
    for name in own.history_:  # the same augmented batches, the same validation
        np.testing.assert_allclose(shared.history_[name], own.history_[name], rtol=1e-5)
    np.testing.assert_allclose(shared_probabilities, own.predict_proba(X), atol=1e-5)


def test_a_widths_numbers_do_not_depend_on_which_width_traced_the_family(digits):
    """The shared graph has every width's shapes left open, so it is the same graph whichever width
    traced it: a search gives the same numbers in any order of its fits, hence on any number of
    worker processes (`tune`'s determinism)."""
    X, y = digits

    def fitted_in_order(order):
        fast.clear_cache()
        gc.collect()
        fitted = {filters: NetClassifier(CNN, filters=filters, random_state=3).fit(X, y) for filters in order}
        epochs = [traced for key, traced in shared_trace._FUNCTIONS.items() if key[1][0] in ("epoch", "epochs")]
        assert len(epochs) == 1 and epochs[0] is not None  # both widths ran the one shared function
        return {filters: (est.predict_proba(X), est.history_["loss"]) for filters, est in fitted.items()}

    first, second = fitted_in_order([4, 6]), fitted_in_order([6, 4])
    for filters in (4, 6):
        np.testing.assert_array_equal(first[filters][0], second[filters][0])
        assert first[filters][1] == second[filters][1]


def test_other_nets_trace_their_own_epoch(digits):
    X, y = digits
    normalized = MLP.replace("dropout(0.1)\n", "batch_normalization\n")
    sgd = MLP.replace("adam(learning_rate=0.01)", "sgd(learning_rate=0.01)")
    for net in (normalized, sgd):
        NetClassifier(net, units=8, random_state=0).fit(X, y)
        NetClassifier(net, units=16, random_state=0).fit(X, y)
    assert all(shared is None for shared in shared_trace._FUNCTIONS.values())  # sgd: tried, refused
    assert shared_trace.family({"layers": [{"kind": "batch_normalization"}, {"kind": "dense", "units": 4}]}, ()) is None
    conv = shared_trace.family({"layers": [{"kind": "conv2d", "filters": 4, "kernel_size": 3}]}, ())
    assert conv == shared_trace.family({"layers": [{"kind": "conv2d", "filters": 8, "kernel_size": 3}]}, ())
    assert conv != shared_trace.family({"layers": [{"kind": "conv2d", "filters": 4, "kernel_size": 5}]}, ())
    one = shared_trace.family({"layers": [{"kind": "dense", "units": 8}, {"kind": "dropout", "rate": 0.1}]}, ())
    assert one == shared_trace.family({"layers": [{"kind": "dense", "units": 64}, {"kind": "dropout", "rate": 0.1}]}, ())
    assert one != shared_trace.family({"layers": [{"kind": "dense", "units": 8}, {"kind": "dropout", "rate": 0.2}]}, ())
