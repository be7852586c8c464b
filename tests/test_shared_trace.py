"""One traced epoch for nets that differ only in their dense layers' widths
(estimators/shared_trace.py): shared where safe, the same model trained, never shared elsewhere."""

import gc

import numpy as np
import pytest
from sklearn.datasets import load_digits

from netdsl.estimators import NetClassifier, fast, shared_trace

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


def test_widths_share_one_traced_epoch(digits):
    X, y = digits
    fitted = [NetClassifier(MLP, units=units, random_state=0).fit(X, y) for units in (8, 16, 32)]
    if any(entry.executor != fast.SINGLE_THREADED for entry in entries()):
        pytest.skip("the nets run on TensorFlow's default executor here (one inter-op thread)")
    assert len(entries()) == 3  # three models (each kept by its estimator), one traced epoch
    assert len(shared_trace._FUNCTIONS) == 1
    (shared,) = shared_trace._FUNCTIONS.values()
    assert shared is not None and shared.function.experimental_get_tracing_count() == 1
    assert all(est.score(X, y) > 0.5 for est in fitted)  # each learned, on its own variables


def test_widths_share_one_traced_predict(monkeypatch, digits):
    X, y = digits
    fitted = [NetClassifier(MLP, units=units, random_state=0).fit(X, y) for units in (8, 16, 32)]
    if any(entry.executor != fast.SINGLE_THREADED for entry in entries()):
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


def test_other_nets_trace_their_own_epoch(digits):
    X, y = digits
    conv = MLP.replace("param units = 16 in [8, 16, 32]\n", "param units = 16 in [8, 16, 32]\nreshape((8, 8, 1))\n"
                       "conv2d(4, kernel_size=3)\nflatten\n")
    sgd = MLP.replace("adam(learning_rate=0.01)", "sgd(learning_rate=0.01)")
    for net in (conv, sgd):
        NetClassifier(net, units=8, random_state=0).fit(X, y)
        NetClassifier(net, units=16, random_state=0).fit(X, y)
    assert all(shared is None for shared in shared_trace._FUNCTIONS.values())  # sgd: tried, refused
    assert shared_trace.family({"layers": [{"kind": "conv2d", "filters": 4}]}, ()) is None
    one = shared_trace.family({"layers": [{"kind": "dense", "units": 8}, {"kind": "dropout", "rate": 0.1}]}, ())
    assert one == shared_trace.family({"layers": [{"kind": "dense", "units": 64}, {"kind": "dropout", "rate": 0.1}]}, ())
    assert one != shared_trace.family({"layers": [{"kind": "dense", "units": 8}, {"kind": "dropout", "rate": 0.2}]}, ())
