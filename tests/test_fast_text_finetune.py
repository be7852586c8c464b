"""Text nets and two-stage `fine_tune` on the fast path (estimators/training_path.py): the same
models as Keras's standard path, each stage traced once per graph, the vocabulary learned per fit
outside the compiled model, and fitted models that save, load and predict as before."""

import gc
import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_digits

from netdsl.estimators import NetClassifier, fast, load

WORDS = """net words
param width = 8
input text
text_vectorization(max_tokens=30, output_sequence_length=6)
embedding(30, width, mask_zero=true)
global_average_pooling1d
dense(1, activation=sigmoid)
train {
    loss = binary_crossentropy
    optimizer = adam(learning_rate=0.05)
    epochs = 2
    batch_size = 16
    shuffle = false
    metrics = [accuracy]
}
"""

WORDS_AND_NUMBERS = """net words_and_numbers
input review text
input meta (2)
from review
text_vectorization(max_tokens=30, output_sequence_length=5)
embedding(30, 6)
words = global_average_pooling1d
from meta
numbers = dense(4, activation=relu)
concatenate(words, numbers)
dense(1, activation=sigmoid)
train {
    loss = binary_crossentropy
    optimizer = adam(learning_rate=0.02)
    epochs = 2
    batch_size = 16
    shuffle = false
    validation_split = 0.2
}
"""

TWO_STAGES = """net two_stages
dense(16, activation=relu, trainable=false, name="base")
dense(10, activation=softmax, name="head")
train {
    loss = sparse_categorical_crossentropy
    optimizer = adam(learning_rate=0.01)
    epochs = 2
    batch_size = 32
    shuffle = false
    metrics = [accuracy]
    fine_tune = unfreeze("base", epochs=2, learning_rate=0.002)
}
"""


@pytest.fixture(autouse=True)
def fresh_cache(fresh_fast_cache):
    """Every test here starts on the fast path with an empty model cache (conftest)."""


def reviews(n: int, seed: int, words=("good", "great", "fine", "bad", "awful", "poor", "plot", "actor", "film")):
    rng = np.random.default_rng(seed)
    texts = np.array([" ".join(rng.choice(list(words), rng.integers(2, 8))) for _ in range(n)], dtype=object)
    labels = np.array([int(any(w in ("good", "great", "fine", "nice", "lovely") for w in t.split())) for t in texts])
    return texts, labels


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return (X[:300] / 16).astype("float32"), y[:300]


def fit_both(monkeypatch, make, X, y):
    quick = make().fit(X, y)
    monkeypatch.setenv("NETDSL_FAST_PATH", "0")
    standard = make().fit(X, y)
    monkeypatch.delenv("NETDSL_FAST_PATH")
    assert quick.training_path_ == "fast"
    assert standard.training_path_.startswith("standard")
    return quick, standard


def tracings(entry) -> int:
    return sum(function.experimental_get_tracing_count() for function in entry.functions.values())


def test_a_text_net_trains_the_same_model_on_both_paths(monkeypatch, tmp_path):
    X, y = reviews(120, 0)
    quick, standard = fit_both(monkeypatch, lambda: NetClassifier(WORDS, random_state=0), X, y)
    assert quick.model_.get_layer("text_vectorization").get_vocabulary() == \
        standard.model_.get_layer("text_vectorization").get_vocabulary()
    assert [layer.name for layer in quick.model_.layers] == [layer.name for layer in standard.model_.layers]
    np.testing.assert_allclose(quick.history_["loss"], standard.history_["loss"], rtol=1e-3)
    np.testing.assert_allclose(quick.predict_proba(X), standard.predict_proba(X), atol=2e-4)
    assert quick.history_["loss"][-1] < quick.history_["loss"][0] and quick.score(X, y) > 0.8
    # The model kept reads raw strings: Keras's own predict, a pickle and a model file give the same.
    strings = quick._shape_inputs(X, quick.spec_)
    np.testing.assert_array_equal(fast.predict(quick.model_, strings)[:, 0], quick.predict_proba(X)[:, 1])
    np.testing.assert_allclose(quick.model_.predict(strings, verbose=0)[:, 0], quick.predict_proba(X)[:, 1], atol=1e-6)
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(quick)).predict_proba(X), quick.predict_proba(X))
    path = quick.save(tmp_path / "words.model")
    np.testing.assert_array_equal(load(path).predict_proba(X), quick.predict_proba(X))


def test_text_and_numbers_train_the_same_model_on_both_paths(monkeypatch):
    texts, y = reviews(100, 1)
    rng = np.random.default_rng(2)
    frame = pd.DataFrame({"review": texts, "meta_a": rng.normal(size=100), "meta_b": [len(t) / 20 for t in texts]})
    quick, standard = fit_both(monkeypatch, lambda: NetClassifier(WORDS_AND_NUMBERS, random_state=0), frame, y)
    assert set(quick.history_) == set(standard.history_) == {"loss", "val_loss"}
    np.testing.assert_allclose(quick.history_["val_loss"], standard.history_["val_loss"], rtol=1e-3)
    np.testing.assert_allclose(quick.predict_proba(frame), standard.predict_proba(frame), atol=2e-4)


def test_each_fit_learns_its_vocabulary_on_one_compiled_model_traced_once():
    (X1, y1), (X2, y2) = reviews(80, 3), reviews(80, 4, words=("nice", "lovely", "dull", "boring", "scene", "cast"))
    first = NetClassifier(WORDS, random_state=0).fit(X1, y1)
    before = first.predict_proba(X1)
    second = NetClassifier(WORDS, random_state=0).fit(X2, y2)  # another vocabulary, another compiled model
    np.testing.assert_array_equal(first.predict_proba(X1), before)  # a fitted estimator's model is its own
    entry = first._fast_entry
    del first
    gc.collect()
    third = NetClassifier(WORDS, random_state=0).fit(X2, y2)  # takes the first's compiled model
    assert third._fast_entry is entry and fast.cache_size() == 2
    assert "nice" in third.model_.get_layer("text_vectorization").get_vocabulary()
    np.testing.assert_array_equal(third.predict_proba(X2), second.predict_proba(X2))  # as a new build
    third.predict(X2[:7])
    assert tracings(entry) == 1 and fast.traced_predict(entry.model).experimental_get_tracing_count() == 1


def test_text_nets_the_fast_path_cannot_honour_say_why():
    X, y = reviews(40, 5)
    any_length = WORDS.replace(", output_sequence_length=6", "")
    est = NetClassifier(any_length, epochs=1).fit(X, y)
    assert est.training_path_ == ("standard: `text_vectorization` without `output_sequence_length` pads each batch "
                                  "to its own longest text")


def test_a_two_stage_schedule_trains_the_same_model_on_both_paths(monkeypatch, digits):
    X, y = digits
    quick, standard = fit_both(monkeypatch, lambda: NetClassifier(TWO_STAGES, random_state=0), X, y)
    assert quick.stage_epochs_ == standard.stage_epochs_ == (2, 2)
    np.testing.assert_allclose(quick.history_["loss"], standard.history_["loss"], rtol=1e-3)
    np.testing.assert_allclose(quick.predict_proba(X), standard.predict_proba(X), atol=2e-4)
    # Stage two starts a new optimizer, as recompiling does: its step count is stage two's alone.
    steps = 2 * int(np.ceil(len(X) / 32))
    assert int(quick.model_.optimizer.iterations) == int(standard.model_.optimizer.iterations) == steps
    assert quick.model_.get_layer("base").trainable and float(quick.model_.optimizer.learning_rate) == \
        pytest.approx(0.002)
    assert quick.history_["loss"][-1] < quick.history_["loss"][0]


def test_each_stage_is_traced_once_and_a_restart_freezes_the_first_stage_again(digits):
    X, y = digits
    first = NetClassifier(TWO_STAGES, random_state=0).fit(X, y)
    expected = first.predict_proba(X)
    stage = first._fast_entry
    del first
    gc.collect()
    again = NetClassifier(TWO_STAGES, random_state=0).fit(X, y)
    assert again._fast_entry is stage and fast.cache_size() == 1
    np.testing.assert_array_equal(again.predict_proba(X), expected)  # stage one trained the head alone again
    (base,) = [entry for entries in fast._CACHE.values() for entry in entries]
    assert tracings(base) == 1 and tracings(stage) == 1
    del again
    gc.collect()
    one_stage = TWO_STAGES.replace('    fine_tune = unfreeze("base", epochs=2, learning_rate=0.002)\n', "")
    reused = NetClassifier(one_stage, random_state=0).fit(X, y)  # the same graph: the cached model, frozen as built
    assert reused._fast_entry is base and not reused.model_.get_layer("base").trainable
    fast.clear_cache()
    np.testing.assert_array_equal(reused.predict_proba(X), NetClassifier(one_stage, random_state=0).fit(X, y).predict_proba(X))
