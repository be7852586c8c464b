"""Nets with several inputs or outputs, and inputs of any length, as scikit-learn estimators:
X split per input, y per output, predictions and scores as scikit-learn's multi-output estimators
give them (estimators/several.py, estimators/heads.py). Real Keras training, a few epochs."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.metrics import accuracy_score, r2_score
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from netdsl.dsl import NetError, loads
from netdsl.dsl.errors import InputError, ParameterError
from netdsl.estimators import NetClassifier, NetRegressor, NetTransformer, load
from tests.conftest import user_error

TWO_INPUTS = """
net two_inputs
param width = 8 in [4, 8]
input pixels (16)
input meta (2)
from pixels
p = dense(width, activation=relu)
from meta
m = dense(4, activation=relu)
both = concatenate(p, m)
dense(3, activation=softmax)
train {
    epochs = 3
    batch_size = 16
}
"""

TWO_HEADS = """
net two_heads
input (16)
output kind, size
h = dense(16, activation=relu)
kind = dense(3, activation=softmax)
from h
size = dense(1)
train {
    epochs = 3
    batch_size = 16
    size.loss = mse
    size.loss_weight = 0.5
    kind.metrics = [accuracy]
}
"""

TEXT_AND_NUMBERS = """
net text_and_numbers
input review text
input meta (2)
from review
text_vectorization(max_tokens=50, output_sequence_length=6)
embedding(50, 4)
global_average_pooling1d
words = dense(4, activation=relu)
from meta
numbers = dense(4, activation=relu)
concatenate(words, numbers)
dense(1, activation=sigmoid)
train {
    epochs = 2
}
"""


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    pixels = rng.normal(size=(90, 16)).astype("float32")
    meta = rng.normal(size=(90, 2)).astype("float32")
    y = (pixels[:, 0] + meta[:, 0] > 0).astype(int) + (pixels[:, 1] > 1).astype(int)
    frame = pd.DataFrame(np.hstack([pixels, meta]), columns=[f"pixels_{i}" for i in range(16)] + ["meta_a", "meta_b"])
    return pixels, meta, y, frame


def test_several_inputs_take_a_frame_by_name_an_array_in_order_or_a_dict(data):
    pixels, meta, y, frame = data
    shuffled = frame[["meta_a", "meta_b"] + list(frame.columns[:16])]  # meta first: matched by name
    by_name = NetClassifier(TWO_INPUTS, random_state=0).fit(shuffled, y)
    in_order = NetClassifier(TWO_INPUTS, random_state=0).fit(np.hstack([pixels, meta]), y)
    as_dict = NetClassifier(TWO_INPUTS, random_state=0).fit({"pixels": pixels, "meta": meta}, y)
    expected = in_order.predict_proba(np.hstack([pixels, meta]))
    np.testing.assert_allclose(by_name.predict_proba(shuffled), expected, atol=1e-5)
    np.testing.assert_allclose(as_dict.predict_proba({"pixels": pixels, "meta": meta}), expected, atol=1e-5)
    assert by_name.n_features_in_ == 18 and list(by_name.feature_names_in_) == list(shuffled.columns)
    assert in_order.training_path_ == "fast"
    assert expected.dtype == np.float64 and np.allclose(expected.sum(axis=1), 1)


def test_several_inputs_work_in_cross_validation_grid_search_pipelines_and_pickles(data, tmp_path):
    pixels, meta, y, frame = data
    scores = cross_val_score(NetClassifier(TWO_INPUTS, random_state=0, epochs=1), frame, y, cv=3)
    assert scores.shape == (3,) and np.all((0 <= scores) & (scores <= 1))
    grid = GridSearchCV(NetClassifier(TWO_INPUTS, random_state=0, epochs=1), {"width": [4, 8]}, cv=2).fit(frame, y)
    assert grid.best_params_["width"] in (4, 8)
    scale = ColumnTransformer([("pixels", "passthrough", list(frame.columns[:16])), ("meta", StandardScaler(), ["meta_a", "meta_b"])],
                              verbose_feature_names_out=False).set_output(transform="pandas")
    pipe = make_pipeline(scale, NetClassifier(TWO_INPUTS, random_state=0)).fit(frame, y)
    assert pipe.predict(frame).shape == (90,)
    est = NetClassifier(TWO_INPUTS, random_state=0).fit(frame, y)
    again = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(again.predict(frame), est.predict(frame))
    path = est.save(tmp_path / "two.model")
    np.testing.assert_array_equal(load(path).predict(frame), est.predict(frame))


def test_text_and_numbers_in_one_frame():
    rng = np.random.default_rng(1)
    words = np.array(["good", "bad", "great", "awful", "fine", "meh"])
    texts = [" ".join(rng.choice(words, 4)) for _ in range(60)]
    y = np.array([int("good" in t or "great" in t) for t in texts])
    frame = pd.DataFrame({"review": texts, "meta_len": [len(t) / 20 for t in texts], "meta_noise": rng.normal(size=60)})
    est = NetClassifier(TEXT_AND_NUMBERS, random_state=0).fit(frame, y)
    proba = est.predict_proba(frame)
    assert proba.shape == (60, 2) and est.classes_.tolist() == [0, 1]
    assert est.training_path_ == "fast"


def test_two_heads_predict_each_and_score_as_multi_output_classifiers(data):
    pixels, _, y, _ = data
    size = pixels[:, 2] * 2
    labels = np.array(["a", "b", "c"])[y]
    frame = pd.DataFrame({"size": size, "kind": labels})  # matched by name, not by order
    est = NetClassifier(TWO_HEADS, random_state=0).fit(pixels, frame)
    assert est.outputs_ == ("kind", "size") and [h["task"] for h in est.heads_] == ["classification", "regression"]
    assert est.classes_[0].tolist() == ["a", "b", "c"]
    predicted = est.predict(pixels)
    assert predicted.shape == (90, 2) and predicted.dtype == object and set(predicted[:, 0]) <= {"a", "b", "c"}
    (proba,) = est.predict_proba(pixels)  # one array per classifying output
    assert proba.shape == (90, 3) and np.allclose(proba.sum(axis=1), 1)
    mixed = np.mean([accuracy_score(labels, predicted[:, 0]), r2_score(size, predicted[:, 1].astype(float))])
    assert est.score(pixels, frame) == pytest.approx(mixed)
    assert {"loss", "kind_loss", "size_loss", "kind_accuracy"} <= set(est.history_)


@pytest.mark.parametrize("monitor", ["val_kind_accuracy", "val_size_loss"])
def test_callbacks_may_monitor_one_output_of_several(data, monitor):
    # Keras's mode `auto` knows only a model's own metric names and refused these ("cannot
    # determine whether that metric should be maximized"); netdsl gives the direction.
    pixels, _, y, _ = data
    callbacks = f"callbacks = [early_stopping(monitor={monitor}, patience=1), reduce_lr_on_plateau(monitor={monitor})]"
    net = TWO_HEADS.replace("batch_size = 16", f"batch_size = 16\n    validation_split = 0.2\n    {callbacks}")
    loads(net)  # `check` accepts it, so `fit` must
    frame = pd.DataFrame({"kind": y, "size": pixels[:, 2]})
    est = NetClassifier(net, random_state=0, epochs=2).fit(pixels, frame)
    assert monitor in est.history_


def test_a_monitor_s_direction_follows_its_metric():
    from netdsl.estimators.compile import monitor_mode

    assert [monitor_mode(m) for m in ("val_loss", "c_loss", "val_c_accuracy", "auc", "val_r_mae", "r_r2_score", "odd")] == [
        "min", "min", "max", "max", "min", "max", "auto"]


def test_heads_that_all_classify_score_subset_accuracy(data):
    pixels, _, y, _ = data
    net = TWO_HEADS.replace("size = dense(1)", "size = dense(1, activation=sigmoid)").replace("size.loss = mse", "size.loss = binary_crossentropy")
    Y = np.column_stack([y, pixels[:, 3] > 0])
    est = NetClassifier(net, random_state=0).fit(pixels, Y)
    predicted = est.predict(pixels)
    assert est.score(pixels, Y) == pytest.approx(np.mean(np.all(predicted == Y, axis=1)))
    assert [len(c) for c in est.classes_] == [3, 2]


def test_heads_that_all_regress_score_r2_over_the_columns(data):
    pixels, _, _, _ = data
    net = TWO_HEADS.replace("kind = dense(3, activation=softmax)", "kind = dense(2)").replace("kind.metrics = [accuracy]", "")
    Y = np.column_stack([pixels[:, :2], pixels[:, 2]])  # kind: 2 columns, size: 1
    est = NetRegressor(net, random_state=0).fit(pixels, Y)
    predicted = est.predict(pixels)
    assert predicted.shape == (90, 3)
    assert est.score(pixels, Y) == pytest.approx(r2_score(Y, predicted))


def test_mistakes_with_several_inputs_and_outputs_are_clear(data):
    pixels, meta, y, frame = data
    with user_error(InputError, "X has 17 columns, but the net's inputs take 18"):
        NetClassifier(TWO_INPUTS).fit(np.hstack([pixels, meta[:, :1]]), y)
    with user_error(InputError, r"missing: \['meta'\]"):
        NetClassifier(TWO_INPUTS).fit({"pixels": pixels}, y)
    with user_error(InputError, "this net has 2 outputs"):
        NetClassifier(TWO_HEADS).fit(pixels, y)
    with user_error(InputError, "y has 3 columns, but the net's outputs take 2"):
        NetClassifier(TWO_HEADS).fit(pixels, np.column_stack([y, y, y]))
    with user_error(NetError, "output `kind` gives 3 classes, but y's column for it has 2 classes"):
        NetClassifier(TWO_HEADS).fit(pixels, np.column_stack([y > 0, pixels[:, 0]]))
    with user_error(ParameterError, "class_weight is not supported for a net with several outputs"):
        NetClassifier(TWO_HEADS, class_weight="balanced").fit(pixels, np.column_stack([y, pixels[:, 0]]))


def test_transformer_takes_any_named_point(data):
    pixels, meta, y, frame = data
    encoder = NetTransformer(TWO_INPUTS, layer="both", random_state=0).fit(frame, y)
    assert encoder.transform(frame).shape == (90, 8 + 4)


def test_an_input_of_any_length_fits_and_predicts_other_lengths():
    net = "input (none, 3)\nconv1d(4, 2, activation=relu)\nglobal_max_pooling1d\ndense(1)\ntrain {\n    epochs = 2\n}\n"
    rng = np.random.default_rng(2)
    X = rng.normal(size=(40, 6, 3)).astype("float32")
    est = NetRegressor(net, random_state=0).fit(X, X[:, :, 0].max(axis=1))
    assert est.training_path_ == "fast"
    longer = rng.normal(size=(5, 11, 3)).astype("float32")
    assert est.predict(longer).shape == (5,) and est.predict(X).shape == (40,)
    with user_error(NetError, "not a whole number of"):
        est.predict(rng.normal(size=(2, 10)))
    assert loads(net).input.shape == (None, 3)


def test_a_restarted_graph_starts_as_a_new_build_whatever_order_keras_lists_its_layers():
    """Keras lists this model's layers `na` before `nb` (by its inputs), the file makes `nb` first:
    the fast path's restart of a cached model matches layers by name, so the same seed gives the
    same model as a new build."""
    from netdsl.estimators import fast

    net = ("input a (6)\ninput b (3)\nfrom b\nnb = dense(5, activation=relu)\nfrom a\nna = dense(7, activation=relu)\n"
           "both = concatenate(na, nb)\ndense(2, activation=softmax)\ntrain {\n    epochs = 2\n}\n")
    rng = np.random.default_rng(3)
    X = rng.normal(size=(40, 9)).astype("float32")
    y = (X[:, 0] > 0).astype(int)
    fast.clear_cache()
    first = NetClassifier(net, random_state=3).fit(X, y)
    expected = first.predict_proba(X)
    assert [layer.name for layer in first.model_.layers][2:4] == ["na", "nb"]
    del first  # its model goes back to the cache, to be restarted
    import gc

    gc.collect()
    again = NetClassifier(net, random_state=3).fit(X, y)
    assert fast.cache_size() == 1
    np.testing.assert_array_equal(again.predict_proba(X), expected)
