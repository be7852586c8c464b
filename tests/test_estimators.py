"""The estimators on real (tiny) data: every example trains, the sklearn contract holds, and
mistakes give clear errors. Training is kept to a few epochs on small sets with fixed seeds."""

import pickle
import re

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone, is_classifier
from sklearn.datasets import load_digits
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV, RandomizedSearchCV, cross_val_score
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from netdsl.dsl import NetError
from netdsl.estimators import NetClassifier, NetRegressor, NetTransformer, TrainingDiverged, load

from conftest import ROOT, user_error

EXAMPLES = ROOT / "examples"
MLP = "net mlp\nparam hidden = 16 in [8, 16]\ndense(hidden, activation=relu)\ndense(n_classes, activation=softmax)\n"


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X[:400] / 16.0, y[:400]


def _fit_mlp(X, y, **kwargs):
    kwargs.setdefault("epochs", 3)
    kwargs.setdefault("learning_rate", 0.05)
    kwargs.setdefault("random_state", 0)
    return NetClassifier(MLP, **kwargs).fit(X, y)


# ---- every example builds, trains and predicts ---------------------------------------------


def test_digits_cnn_learns_from_flat_rows(digits):
    X, y = digits
    clf = NetClassifier(EXAMPLES / "digits_cnn.net", epochs=3, random_state=0).fit(X[:300], y[:300])
    assert clf.model_.input_shape == (None, 8, 8, 1)  # flat (n, 64) rows reshaped to `input (8, 8, 1)`
    assert clf.score(X[300:], y[300:]) > 0.3  # chance is 0.1
    assert clf.predict_proba(X[300:305]).shape == (5, 10)
    assert set(clf.history_) >= {"loss", "val_loss", "accuracy", "val_accuracy"}
    # already-shaped images are accepted too
    assert (clf.predict(X[300:].reshape(-1, 8, 8, 1)) == clf.predict(X[300:])).all()


def test_digits_mlp(digits):
    X, y = digits
    clf = NetClassifier(EXAMPLES / "digits_mlp.net", epochs=3, random_state=0).fit(X[:300], y[:300])
    assert clf.score(X[300:], y[300:]) > 0.5


def test_sunspots_gru_regresses_windows_of_a_series():
    t = np.arange(400, dtype="float32")
    series = np.sin(t / 8)
    X = np.stack([series[i : i + 24] for i in range(len(series) - 24)])
    y = series[24:]
    reg = NetRegressor(EXAMPLES / "sunspots_gru.net", epochs=3, random_state=0).fit(X, y)
    pred = reg.predict(X)
    assert pred.shape == y.shape
    assert reg.score(X, y) > 0.0  # better than predicting the mean
    assert reg.history_["loss"][-1] < reg.history_["loss"][0]


def _texts(n=200, seed=0, length=60, signal=12):
    """Reviews of `length` words, `signal` of them telling the sentiment (long enough that the
    example's LSTM, which reads 60 tokens, sees words near the end)."""
    rng = np.random.default_rng(seed)
    good = ["great", "good", "wonderful", "loved", "excellent"]
    bad = ["awful", "bad", "boring", "hated", "terrible"]
    filler = ["the", "movie", "film", "was", "plot", "actors", "really"]
    texts, labels = [], []
    for i in range(n):
        positive = i % 2 == 0
        words = list(rng.choice(filler, length - signal)) + list(rng.choice(good if positive else bad, signal))
        rng.shuffle(words)
        texts.append(" ".join(words))
        labels.append("pos" if positive else "neg")
    return texts, np.array(labels)


def test_sentiment_lstm_on_raw_text():
    texts, labels = _texts()
    clf = NetClassifier(EXAMPLES / "sentiment_lstm.net", epochs=3, random_state=0).fit(texts, labels)
    assert clf.output_mode_ == "binary"
    assert set(clf.classes_) == {"neg", "pos"}
    assert clf.score(texts, labels) > 0.8
    assert (clf.predict(pd.Series(texts)) == clf.predict(np.array(texts, dtype=object))).all()
    restored = pickle.loads(pickle.dumps(clf))  # the learned vocabulary survives pickling
    np.testing.assert_allclose(restored.predict_proba(texts), clf.predict_proba(texts), rtol=1e-6)


# ---- fixed weights: the worked check --------------------------------------------------------

EDGE = np.array([[-1, -1, -1], [2, 2, 2], [-1, -1, -1]], dtype="float64")


def _conv_valid(image, kernel):
    k = kernel.shape[0]
    n = image.shape[0] - k + 1
    return np.array([[np.sum(image[i : i + k, j : j + k] * kernel) for j in range(n)] for i in range(n)])


def _max_pool(image, size=2):
    n = image.shape[0] // size
    return image[: n * size, : n * size].reshape(n, size, n, size).max(axis=(1, 3))


def test_edge_detector_equals_hand_computation():
    image = np.zeros((7, 7))
    image[3:, :] = 1  # a horizontal edge
    image[1, 2] = 1
    expected = _max_pool(np.maximum(_conv_valid(image, EDGE), 0))
    t = NetTransformer(EXAMPLES / "edge_detector.net").fit(image.reshape(1, -1))
    assert t.model_.layers[1].trainable is False
    out = t.transform(image.reshape(1, -1)).reshape(expected.shape)
    np.testing.assert_array_equal(out, expected)
    assert expected.max() > 0  # the check would be empty on a blank image


def test_box_blur_with_same_padding():
    net = "input (5, 5, 1)\nconv2d(1, kernel_initializer=[[1, 1, 1], [1, 1, 1], [1, 1, 1]], use_bias=false, padding=same)\n"
    image = np.arange(25, dtype="float64").reshape(5, 5)
    padded = np.pad(image, 1)
    expected = _conv_valid(padded, np.ones((3, 3)))
    out = NetTransformer(net).fit(image.reshape(1, -1)).transform(image.reshape(1, -1)).reshape(5, 5)
    np.testing.assert_allclose(out, expected, rtol=1e-6)


def test_trainable_false_freezes_literal_weights(iris):
    X, y = iris
    net = (
        "input (4)\ndense(4, kernel_initializer=[[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]], "
        "use_bias=false, trainable=false, name=\"fixed\")\ndense(n_classes, activation=softmax)\n"
    )
    clf = NetClassifier(net, epochs=2, random_state=0).fit(X, y)
    np.testing.assert_array_equal(clf.model_.get_layer("fixed").get_weights()[0], np.eye(4))


def test_augment_block_acts_only_while_training(iris):
    X, y = iris
    net = "dense(8, activation=relu)\ndense(n_classes, activation=softmax)\naugment {\n    gaussian_noise(1.0)\n}\n"
    clf = NetClassifier(net, epochs=1, random_state=0).fit(X, y)
    np.testing.assert_array_equal(clf.predict_proba(X), clf.predict_proba(X))
    inputs = X[:8]
    trained = np.asarray(clf.model_(inputs, training=True))
    assert not np.allclose(trained, np.asarray(clf.model_(inputs, training=False)))


# ---- parameters -------------------------------------------------------------------------------


def test_file_params_are_estimator_params():
    clf = NetClassifier(EXAMPLES / "digits_cnn.net", epochs=2)
    params = clf.get_params()
    assert {"filters": 16, "depth": 1, "hidden": 64, "rate": 0.25}.items() <= params.items()
    assert params["epochs"] == 2 and params["net"] == EXAMPLES / "digits_cnn.net"
    clf.set_params(filters=8, depth=2)
    assert clf.get_params()["filters"] == 8
    copy = clone(clf)
    assert copy.get_params()["filters"] == 8 and copy.get_params()["depth"] == 2


def test_unknown_param_names_the_file_params():
    clf = NetClassifier(EXAMPLES / "digits_cnn.net")
    with user_error(ValueError, match="Did you mean `filters`.*parameters are: depth, filters, hidden, rate"):
        clf.set_params(filterz=3)
    with user_error(ValueError, match="Unknown parameter 'hiden'.*Did you mean `hidden`"):
        NetClassifier(EXAMPLES / "digits_cnn.net", hiden=3).fit(np.zeros((4, 64)), [0, 1, 0, 1])


def test_param_override_reaches_the_model(iris):
    X, y = iris
    clf = _fit_mlp(X, y, hidden=8, epochs=1)
    assert clf.model_.layers[1].units == 8


def test_precedence_estimator_over_file_over_default(iris):
    X, y = iris
    net = MLP + "train {\n    epochs = 2\n    batch_size = 50\n}\n"
    assert len(NetClassifier(net, random_state=0).fit(X, y).history_["loss"]) == 2  # the file
    assert len(NetClassifier(net, epochs=1, random_state=0).fit(X, y).history_["loss"]) == 1  # the estimator
    assert len(NetClassifier(MLP, random_state=0).fit(X, y).history_["loss"]) == 10  # the default


def test_grid_search_over_file_params(iris):
    X, y = iris
    search = GridSearchCV(
        NetClassifier(MLP, epochs=2, learning_rate=0.05, random_state=0),
        {"hidden": [4, 8], "epochs": [1, 2]},
        cv=2,
    ).fit(X, y)
    assert set(search.cv_results_["param_hidden"]) == {4, 8}
    assert search.best_estimator_.model_.layers[1].units == search.best_params_["hidden"]
    assert search.best_score_ > 0.4


def test_search_inside_a_pipeline_and_randomized(iris):
    X, y = iris
    pipe = Pipeline([("scale", StandardScaler()), ("net", NetClassifier(MLP, epochs=1, random_state=0))])
    search = GridSearchCV(pipe, {"net__hidden": [4, 8]}, cv=2).fit(X, y)
    assert search.best_params_["net__hidden"] in (4, 8)
    random_search = RandomizedSearchCV(
        NetClassifier(MLP, epochs=1, random_state=0), {"hidden": [4, 8, 12]}, n_iter=2, cv=2, random_state=0
    ).fit(X, y)
    assert len(random_search.cv_results_["params"]) == 2


def test_is_classifier_and_cross_validation_is_stratified(iris):
    from sklearn.model_selection import StratifiedKFold, check_cv

    X, y = iris
    clf = NetClassifier(MLP, epochs=3, learning_rate=0.05, random_state=0)
    assert is_classifier(clf)
    assert isinstance(check_cv(3, y, classifier=is_classifier(clf)), StratifiedKFold)
    order = np.argsort(y)  # sorted labels: unstratified 3-fold CV would test each fold on an unseen class
    scores = cross_val_score(clf, X[order], y[order], cv=3)
    assert min(scores) > 0.5, scores


def test_make_pipeline_with_scaler(digits):
    X, y = digits
    pipe = make_pipeline(StandardScaler(), NetClassifier(EXAMPLES / "digits_mlp.net", epochs=2, random_state=0))
    assert pipe.fit(X[:300], y[:300]).score(X[300:], y[300:]) > 0.5


# ---- labels, weights and data in --------------------------------------------------------------


@pytest.mark.parametrize("labels", [["setosa", "versicolor", "virginica"], [10, 20, 30]])
def test_string_and_integer_labels(iris, labels):
    X, y = iris
    named = np.array(labels)[y]
    clf = _fit_mlp(X, named)
    assert list(clf.classes_) == sorted(labels)
    assert set(clf.predict(X)) <= set(labels)


def test_boolean_labels_with_one_sigmoid_unit(iris):
    X, y = iris
    net = "dense(8, activation=relu)\ndense(1, activation=sigmoid)\n"
    clf = NetClassifier(net, epochs=3, learning_rate=0.05, random_state=0).fit(X, y == 0)
    assert clf.output_mode_ == "binary"
    assert clf.predict(X).dtype == bool
    proba = clf.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=1e-5)
    assert clf.score(X, y == 0) > 0.7


def test_categorical_crossentropy_uses_one_hot_targets(iris):
    X, y = iris
    net = MLP + "train {\n    loss = categorical_crossentropy\n    metrics = [accuracy]\n}\n"
    clf = NetClassifier(net, epochs=3, learning_rate=0.05, random_state=0).fit(X, y)
    assert clf.score(X, y) > 0.6


def test_sample_weight_and_balanced_class_weight(iris):
    X, y = iris
    weights = np.where(y == 0, 5.0, 1.0)
    assert _fit_mlp(X, y, epochs=1).fit(X, y, sample_weight=weights).score(X, y) > 0
    net = MLP + "train {\n    class_weight = balanced\n}\n"
    keep = np.r_[np.arange(50), np.arange(50, 60), np.arange(100, 150)]  # unbalanced
    assert NetClassifier(net, epochs=2, random_state=0).fit(X[keep], y[keep]).score(X, y) > 0.3
    with user_error(ValueError, match="class_weight lists 2 weights, but there are 3 classes"):
        _fit_mlp(X, y, class_weight=[1.0, 2.0])


def test_dataframe_feature_names_are_checked(iris):
    X, y = iris
    frame = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    clf = _fit_mlp(frame, pd.Series(y), epochs=1)
    assert list(clf.feature_names_in_) == ["a", "b", "c", "d"]
    with user_error(ValueError, match="feature names"):
        clf.predict(frame.rename(columns={"a": "z"}))


# ---- mistakes ---------------------------------------------------------------------------------


def test_nan_in_input(iris):
    X, y = iris
    bad = X.copy()
    bad[0, 0] = np.nan
    with user_error(ValueError, match="NaN"):
        _fit_mlp(bad, y)


def test_wrong_number_of_features_at_predict(iris):
    X, y = iris
    clf = _fit_mlp(X, y, epochs=1)
    with user_error(ValueError, match="X has 3 features, but NetClassifier is expecting 4 features"):
        clf.predict(X[:, :3])


def test_data_that_does_not_fit_the_input_shape_names_the_line(iris):
    X, y = iris
    with user_error(NetError) as caught:
        NetClassifier(EXAMPLES / "digits_cnn.net", epochs=1).fit(X, y)
    text = str(caught.value)
    assert re.search(r"digits_cnn.net:10:1: error\[N701\]: the data has 4 features per sample, "
                     r"but `input \(8, 8, 1\)` takes 64", text)


def test_single_class_and_unseen_labels(iris):
    X, y = iris
    with user_error(ValueError, match="at least 2 classes.*1 class"):
        _fit_mlp(X[:50], y[:50])
    clf = _fit_mlp(X[:100], y[:100], epochs=1)
    with user_error(ValueError, match=r"labels not seen at the first fit: \[2\]"):
        clf.partial_fit(X[100:], y[100:])


def test_predict_before_fit():
    with pytest.raises(NotFittedError):
        NetClassifier(MLP).predict(np.zeros((2, 4)))


def test_last_layer_that_does_not_fit_the_task_names_the_line(iris):
    X, y = iris
    net = "net wrong\ndense(8, activation=relu)\ndense(10, activation=softmax)\n"
    with user_error(NetError) as caught:
        NetClassifier(net, epochs=1).fit(X, y)
    text = str(caught.value)
    assert re.search(r"<string>:3:1: error\[N703\]: the last layer outputs \(10\) per sample, but the data has 3 "
                     r"classes", text)
    assert "dense(n_classes, activation=softmax)" in text


def test_nan_loss_stops_training_with_a_clear_message(iris):
    X, y = iris
    with user_error(TrainingDiverged, match="the loss became nan.*lower learning rate"):
        NetRegressor("dense(n_outputs)\n", epochs=5, learning_rate=1e30, optimizer="sgd", random_state=0).fit(X * 1e10, y)
    clf = NetRegressor("dense(n_outputs)\n", epochs=1)
    with user_error(TrainingDiverged):
        clf.fit(X, np.full(len(X), 1e38))
    assert not hasattr(clf, "model_")  # nothing half-fitted is left behind


def test_invalid_settings_are_clear(iris):
    X, y = iris
    with user_error(ValueError, match="The 'epochs' parameter of NetClassifier must be an int in the range"):
        NetClassifier(MLP, epochs=0).fit(X, y)
    with user_error(ValueError, match="Unknown loss 'mse2'"):
        NetClassifier(MLP, loss="mse2").fit(X, y)
    with user_error(TypeError, match="`net` must be a path to a .net file, its source text or a Net spec, got int"):
        NetClassifier(123).fit(X, y)
    with user_error(ValueError, match="needs a .net program"):
        NetClassifier(None).fit(X, y)


# ---- reproducibility, persistence, continued training ----------------------------------------


def test_random_state_makes_fits_reproducible(iris):
    X, y = iris
    first = _fit_mlp(X, y).predict_proba(X)
    second = _fit_mlp(X, y).predict_proba(X)
    np.testing.assert_array_equal(first, second)


def test_pickle_joblib_and_save_round_trip(iris, tmp_path):
    X, y = iris
    source = tmp_path / "mlp.net"
    source.write_text(MLP)
    clf = _fit_mlp(X, y, epochs=1)
    clf.set_params(net=str(source))
    clf = NetClassifier(str(source), epochs=1, random_state=0).fit(X, y)
    expected = clf.predict_proba(X)
    path = clf.save(tmp_path / "model.joblib")
    source.unlink()  # the model does not depend on the file still existing
    restored = load(path)
    np.testing.assert_array_equal(restored.predict_proba(X), expected)
    assert restored.net_source_ == MLP
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(clf)).predict_proba(X), expected)


def test_warm_start_and_partial_fit_continue_training(iris):
    X, y = iris
    clf = _fit_mlp(X, y, epochs=2, warm_start=True)
    weights = clf.model_.get_weights()[0].copy()
    model = clf.model_
    clf.fit(X, y)
    assert clf.model_ is model and len(clf.history_["loss"]) == 4
    assert not np.array_equal(weights, clf.model_.get_weights()[0])
    cold = _fit_mlp(X, y, epochs=2)
    first_model = cold.model_
    cold.fit(X, y)
    assert cold.model_ is not first_model and len(cold.history_["loss"]) == 2
    inc = NetClassifier(MLP, learning_rate=0.05, random_state=0)
    for _ in range(3):
        inc.partial_fit(X, y, classes=[0, 1, 2])
    assert len(inc.history_["loss"]) == 3
    assert inc.history_["loss"][-1] < inc.history_["loss"][0]


def test_early_stopping_records_best_epoch(iris):
    X, y = iris
    net = MLP + "train {\n    validation_split = 0.3\n    callbacks = [early_stopping(patience=1, restore_best_weights=true)]\n}\n"
    clf = NetClassifier(net, epochs=60, learning_rate=0.2, random_state=0).fit(X, y)
    assert clf.n_iter_ < 60
    assert 1 <= clf.best_epoch_ <= clf.n_iter_


def test_transformer_named_layer_features(iris):
    X, y = iris
    net = "dense(6, activation=relu, name=\"hidden\")\ndense(n_classes, activation=softmax)\ntrain {\n    epochs = 1\n}\n"
    t = NetTransformer(net, layer="hidden", random_state=0).fit(X, y)  # learns iris's classes (task="auto")
    assert t.transform(X).shape == (150, 6)
    assert list(t.get_feature_names_out())[:2] == ["nettransformer0", "nettransformer1"]
    with user_error(ValueError, match="no layer named 'hiden'.*Did you mean `hidden`"):
        NetTransformer(net, layer="hiden").fit(X, y)


# ---- documentation -----------------------------------------------------------------------


def _documented_attributes(cls) -> set:
    """The names of the numpydoc `Attributes` section of `cls`'s docstring."""
    import re

    section = cls.__doc__.split("Attributes\n    ----------\n", 1)[1].split("\n\n", 1)[0]
    return set(re.findall(r"^    (\w+_) :", section, flags=re.MULTILINE))


@pytest.mark.parametrize("make", [
    lambda: NetClassifier(MLP, epochs=2, random_state=0, validation_split=0.2),
    lambda: NetRegressor("dense(8, activation=relu)\ndense(n_outputs)\n", epochs=2, random_state=0),
    lambda: NetTransformer(MLP + "train {\n    epochs = 2\n}\n", random_state=0),
    lambda: NetTransformer("dense(4)\n"),
], ids=["classifier", "regressor", "trained-transformer", "transformer"])
def test_every_fitted_attribute_is_documented(iris, make):
    X, y = iris
    estimator = make()
    frame = pd.DataFrame(X, columns=["a", "b", "c", "d"])  # feature_names_in_ too
    estimator.fit(frame, y.astype(float) if isinstance(estimator, NetRegressor) else y)
    fitted = {name for name in vars(estimator) if name.endswith("_") and not name.startswith("_")}
    assert fitted <= _documented_attributes(type(estimator))
