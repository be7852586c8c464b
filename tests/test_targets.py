"""Targets that are not a vector: image- and sequence-shaped targets for `NetRegressor`, one label
per time step for `NetClassifier`, and nets of logits (`from_logits=true`, no final softmax).
Tiny real fits on generated data (a few epochs, fixed seeds), each on the fast path."""

import numpy as np
import pytest
from sklearn.metrics import r2_score
from sklearn.model_selection import KFold, cross_val_score

from netdsl.dsl import NetError, analyse, dumps, loads
from netdsl.estimators import NetClassifier, NetRegressor, NetTransformer, load

from conftest import user_error

# An autoencoder of 8x8 images in dense layers and a reshape (no convolutions needed).
AUTOENCODER = """net autoencoder
input (64)
dense(16, activation=relu)
dense(64)
reshape((8, 8, 1))
train {
    optimizer = adam(learning_rate=0.01)
    epochs = 3
}
"""
STEPS = 6
# One label per step: a GRU's sequence, then a softmax over the classes at each step.
TAGGER = f"""net tagger
input ({STEPS}, 2)
gru(8, return_sequences=true)
dense(n_classes, activation=softmax)
train {{
    optimizer = adam(learning_rate=0.05)
    metrics = [accuracy]
    epochs = 3
}}
"""
LOGITS = """net logits
input (4)
dense(8, activation=relu)
dense(n_classes)
train {
    loss = sparse_categorical_crossentropy(from_logits=true)
    optimizer = adam(learning_rate=0.05)
    metrics = [accuracy]
    epochs = 3
}
"""


@pytest.fixture(scope="module")
def images():
    X = np.random.default_rng(0).normal(size=(48, 64)).astype("float32")
    return X, X.reshape(48, 8, 8, 1)  # the targets: the inputs themselves, as images


@pytest.fixture(scope="module")
def sequences():
    """(X, y): 2 features per step; a step's label is whether its first feature is positive."""
    X = np.random.default_rng(1).normal(size=(60, STEPS * 2)).astype("float32")
    return X, np.where(X.reshape(60, STEPS, 2)[:, :, 0] > 0, "up", "down")


# ---- NetRegressor: targets of any shape ------------------------------------------------------


def test_an_autoencoder_regresses_image_targets_in_their_shape(images):
    X, Y = images
    reg = NetRegressor(AUTOENCODER, random_state=0).fit(X, Y)
    assert reg.training_path_ == "fast" and reg.n_outputs_ == 1
    assert reg.history_["loss"][-1] < reg.history_["loss"][0]  # it learned
    predicted = reg.predict(X[:5])
    assert predicted.shape == (5, 8, 8, 1) and predicted.dtype == np.float64
    # score: R^2 averaged uniformly over every value of the image (scikit-learn's multi-output R^2, flattened)
    assert reg.score(X, Y) == pytest.approx(r2_score(Y.reshape(48, -1), reg.predict(X).reshape(48, -1)))
    assert reg.score(X, Y) > 0


def test_image_targets_may_be_flat_or_without_their_axes_of_size_1(images):
    """y flat (n, 64) or (n, 8, 8) for an output (8, 8, 1): the same fit, predictions in y's shape."""
    X, Y = images
    shaped = NetRegressor(AUTOENCODER, random_state=0).fit(X, Y).predict(X[:4])
    for y in (Y.reshape(48, 64), Y[..., 0]):
        reg = NetRegressor(AUTOENCODER, random_state=0).fit(X, y)
        predicted = reg.predict(X[:4])
        assert predicted.shape == (4,) + y.shape[1:]
        np.testing.assert_allclose(predicted.reshape(4, -1), shaped.reshape(4, -1), rtol=1e-5, atol=1e-6)
    assert reg.n_outputs_ == 8  # n_outputs: the length of y's last axis


def test_sequence_targets_of_vectors_bind_n_outputs_to_their_last_axis():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(40, 5 * 3)).astype("float32")
    Y = X.reshape(40, 5, 3)[:, :, :2] * 2  # (n, T, d): two values per step
    net = "input (5, 3)\ngru(8, return_sequences=true)\ndense(n_outputs)\ntrain {\n    epochs = 2\n}\n"
    reg = NetRegressor(net, random_state=0).fit(X, Y)
    assert reg.n_outputs_ == 2 and reg.spec_.layers[-1].units == 2
    assert reg.predict(X[:3]).shape == (3, 5, 2)


def test_sample_weights_weigh_each_sample_s_whole_target(images, sequences):
    """A weight per sample weighs all of its values (pixels, steps): weights of 0 for half the rows
    train nearly as that half alone would (the loss is a mean over all rows, which Adam nearly undoes)."""
    X, Y = images
    net = AUTOENCODER.replace("epochs = 3", "epochs = 3\n    batch_size = 48\n    shuffle = false")
    half = np.r_[np.ones(24), np.zeros(24)]
    weighted = NetRegressor(net, random_state=0).fit(X, Y, sample_weight=half).predict(X)
    alone = NetRegressor(net, random_state=0).fit(X[:24], Y[:24]).predict(X)
    every = NetRegressor(net, random_state=0).fit(X, Y).predict(X)
    assert np.abs(weighted - alone).mean() < np.abs(every - alone).mean() / 10
    X, y = sequences
    clf = NetClassifier(TAGGER, epochs=1, class_weight="balanced", random_state=0)
    assert clf.fit(X, y, sample_weight=np.linspace(0.5, 1.5, 60)).predict(X[:2]).shape == (2, STEPS)


def test_regressor_target_shape_mistakes_are_located(images):
    X, Y = images
    with user_error(NetError, match=r"(?s)error\[N703\].*the last layer outputs \(8, 8, 1\) per sample, but the targets "
                    r"have shape \(8, 8, 2\) per sample.*5 \| reshape.*y of shape \(n, 8, 8, 1\) or \(n, 64\)"):
        NetRegressor(AUTOENCODER).fit(X, np.concatenate([Y, Y], axis=-1))
    reg = NetRegressor(AUTOENCODER, epochs=1, warm_start=True).fit(X, Y)
    with user_error(ValueError, match=r"y has shape \(64,\) per sample, but the model was fitted with \(8, 8, 1\)"):
        reg.fit(X, Y.reshape(48, 64))
    with user_error(ValueError, match="y has 2 columns, but the model was fitted with 1"):  # as before
        NetRegressor("dense(1)\n", epochs=1, warm_start=True).fit(X, X[:, 0]).fit(X, X[:, :2])


def test_cross_validation_of_image_targets(images):
    X, Y = images
    reg = NetRegressor(AUTOENCODER, epochs=1, random_state=0)
    scores = cross_val_score(reg, X, Y, cv=KFold(2))  # the estimator's own score: R^2 of flattened values
    flat = cross_val_score(reg, X, Y.reshape(48, 64), cv=KFold(2), scoring="r2")  # scikit-learn's scorer: y flat
    np.testing.assert_allclose(scores, flat, rtol=1e-5)


def test_the_command_line_s_target_scaling_takes_image_targets(images):
    """`netdsl fit --scale` standardises the targets flat (a column per value), which the net fits
    flat: its predictions are then flat too, in y's units."""
    from netdsl.pipelines.composite import composed

    X, Y = images
    model = composed(NetRegressor(AUTOENCODER, random_state=0), scale=True).fit(X, Y * 10 + 5)
    predicted = model.predict(X)
    assert predicted.shape == (48, 64)
    assert r2_score((Y * 10 + 5).reshape(48, -1), predicted) > 0


# ---- NetClassifier: one label per time step --------------------------------------------------


def test_a_classifier_per_step_learns_string_labels_over_all_steps(sequences):
    X, y = sequences
    clf = NetClassifier(TAGGER, random_state=0).fit(X, y)
    assert clf.training_path_ == "fast" and clf.output_mode_ == "per_step"
    assert clf.classes_.tolist() == ["down", "up"]
    proba = clf.predict_proba(X[:4])
    assert proba.shape == (4, STEPS, 2) and proba.dtype == np.float64
    np.testing.assert_allclose(proba.sum(axis=-1), 1.0, rtol=0, atol=1e-12)
    predicted = clf.predict(X)
    assert predicted.shape == (60, STEPS) and set(np.unique(predicted)) <= {"down", "up"}
    assert clf.score(X, y) == pytest.approx(np.mean(predicted == y))  # accuracy over all steps
    assert clf.score(X, y) > 0.8  # chance is about 0.5
    weights = np.r_[np.ones(30), np.zeros(30)]
    assert clf.score(X, y, sample_weight=weights) == pytest.approx(np.mean(predicted[:30] == y[:30]))


def test_per_step_labels_of_0_and_1_are_not_a_multilabel_matrix(sequences):
    """A 0/1 matrix is per-step labels when the net outputs a sequence (a multilabel matrix when it
    outputs one vector per sample: tests/test_sklearn_users.py); class weights weigh each step."""
    X, y = sequences
    labels = (y == "up").astype(int)
    clf = NetClassifier(TAGGER, class_weight="balanced", random_state=0).fit(X, labels)
    assert clf.output_mode_ == "per_step" and clf.classes_.tolist() == [0, 1]
    assert clf.predict(X[:2]).shape == (2, STEPS) and clf.score(X, labels) > 0.8


def test_two_classes_per_step_may_be_one_sigmoid_unit_of_logits(sequences):
    X, y = sequences
    net = TAGGER.replace("dense(n_classes, activation=softmax)", "dense(1)").replace(
        "metrics = [accuracy]", "loss = binary_crossentropy(from_logits=true)\n    metrics = [accuracy]")
    clf = NetClassifier(net, random_state=0).fit(X, y)
    assert clf.output_mode_ == "per_step_binary" and clf.training_path_ == "fast"
    proba = clf.predict_proba(X[:3])
    assert proba.shape == (3, STEPS, 2) and np.all((proba > 0) & (proba < 1))
    np.testing.assert_allclose(proba.sum(axis=-1), 1.0, rtol=0, atol=1e-12)
    assert clf.predict(X[:3]).shape == (3, STEPS) and clf.score(X, y) > 0.8


def test_cross_validation_of_a_classifier_per_step(sequences):
    """(Its softmax in `time_distributed`, which applies a layer at every step, as `dense` does.)"""
    X, y = sequences
    net = TAGGER.replace("dense(n_classes, activation=softmax)", "time_distributed(dense(n_classes, activation=softmax))")
    scores = cross_val_score(NetClassifier(net, epochs=2, random_state=0), X, y, cv=2)
    assert scores.shape == (2,) and np.all(scores > 0.6)


def test_per_step_mistakes_are_located(sequences):
    X, y = sequences
    short = TAGGER.replace(f"input ({STEPS}, 2)", f"input ({STEPS // 2}, 4)")
    with user_error(NetError, match=r"(?s)error\[N703\].*outputs \(3, 2\) per sample, 3 steps, but y has 6 labels per "
                    r"sample \(one per step\).*4 \| dense\(n_classes"):
        NetClassifier(short).fit(X, y)
    sigmoid = TAGGER.replace("dense(n_classes, activation=softmax)", "dense(n_classes, activation=sigmoid)")
    with user_error(NetError, match=r"a classifier per step needs a `softmax` over the classes at each step"):
        NetClassifier(sigmoid).fit(X, y)
    with user_error(ValueError, match=r"'binary_crossentropy' does not fit a 2-class softmax per step"):
        NetClassifier(TAGGER, loss="binary_crossentropy").fit(X, y)
    clf = NetClassifier(TAGGER, epochs=1, warm_start=True).fit(X, y)
    with user_error(ValueError, match=r"as at the first fit \(one label per step, 6 per sample\)"):
        clf.fit(X, y[:, 0])
    with user_error(ValueError, match=r"y has 3 labels per sample, but the model was fitted with 6 \(one per step\)"):
        clf.fit(X, y[:, :3])


def test_a_transformer_learns_per_step_labels_and_shaped_numbers(sequences):
    """NetTransformer reads y as the classifier and the regressor do (`task="auto"`: shaped numbers
    are regressed, value by value)."""
    X, y = sequences
    net = TAGGER.replace("gru(8, return_sequences=true)", 'gru(8, return_sequences=true, name="steps")')
    t = NetTransformer(net, layer="steps", epochs=1, random_state=0).fit(X, y)
    assert (t.task_, t.output_mode_) == ("classification", "per_step") and t.transform(X[:2]).shape == (2, STEPS * 8)
    t = NetTransformer(f"input ({STEPS * 2})\ndense({STEPS * 2})\nreshape(({STEPS}, 2))\ntrain {{\n    epochs = 1\n}}\n",
                       random_state=0).fit(X, X.reshape(60, STEPS, 2))
    assert t.task_ == "regression" and t.transform(X[:2]).shape == (2, STEPS * 2)


# ---- logits: `from_logits=true` ----------------------------------------------------------------


def test_a_net_of_logits_gives_probabilities(tmp_path):
    rng = np.random.default_rng(3)
    X = rng.normal(size=(90, 4)).astype("float32")
    y = (X[:, 0] > 0).astype(int) + (X[:, 1] > 0)
    clf = NetClassifier(LOGITS, random_state=0).fit(X, y)
    assert clf.training_path_ == "fast" and clf.output_mode_ == "multiclass"
    logits = clf.model_.predict(X[:5], verbose=0).astype(np.float64)
    proba = clf.predict_proba(X[:5])
    assert proba.dtype == np.float64 and np.all(proba >= 0)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=0, atol=1e-12)
    expected = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)  # the softmax the net leaves out
    np.testing.assert_allclose(proba, expected, rtol=1e-5)
    assert clf.score(X, y) > 0.6  # chance is about 0.4
    assert cross_val_score(NetClassifier(LOGITS, epochs=1, random_state=0), X, y, cv=2).shape == (2,)
    loaded = load(clf.save(tmp_path / "logits.netdsl"))  # the model file keeps that its outputs are logits
    np.testing.assert_array_equal(loaded.predict_proba(X[:5]), proba)


def test_binary_logits_are_read_through_a_sigmoid_and_their_metrics_at_0():
    rng = np.random.default_rng(4)
    X = rng.normal(size=(80, 4)).astype("float32")
    y = X[:, 0] + X[:, 1] > 0
    net = LOGITS.replace("dense(n_classes)", "dense(1)").replace(
        "sparse_categorical_crossentropy(from_logits=true)", "binary_crossentropy(true)").replace(
        "[accuracy]", "[accuracy, precision, auc]")
    clf = NetClassifier(net, random_state=0).fit(X, y)
    assert clf.output_mode_ == "binary"
    proba = clf.predict_proba(X)
    logit = clf.model_.predict(X, verbose=0).astype(np.float64).ravel()
    np.testing.assert_allclose(proba[:, 1], 1 / (1 + np.exp(-logit)), rtol=1e-6)
    assert clf.score(X, y) > 0.75
    # The metrics threshold the logits at 0: the same decision as the probability at 0.5
    metrics = clf.model_.evaluate(X, y.astype("float32")[:, None], verbose=0, return_dict=True)
    assert metrics["accuracy"] == pytest.approx(np.mean((logit > 0) == y))
    assert metrics["precision"] == pytest.approx(np.mean(y[logit > 0]))


def test_the_estimator_s_loss_may_be_a_call_of_logits():
    rng = np.random.default_rng(5)
    X = rng.normal(size=(40, 4)).astype("float32")
    y = (X[:, 0] > 0).astype(int)
    logits = "logits", "sparse_categorical_crossentropy(from_logits=true)"
    clf = NetClassifier("dense(8, activation=relu)\ndense(n_classes)\n", loss=logits[1], epochs=1, random_state=0)
    np.testing.assert_allclose(clf.fit(X, y).predict_proba(X[:3]).sum(axis=1), 1.0, rtol=0, atol=1e-12)
    assert clf.get_params()["loss"] == logits[1]  # stored as given (clone)
    with user_error(NetError, match=r"(?s)error\[N408\]: the loss reads the outputs as logits .*ends in `softmax`"):
        NetClassifier("dense(n_classes, activation=softmax)\n", loss=logits[1], epochs=1).fit(X, y)
    with user_error(ValueError, match=r"Invalid loss 'mse\(from_logits=true\)': `mse` takes no arguments"):
        NetClassifier("dense(n_classes)\n", loss="mse(from_logits=true)").fit(X, y)


def test_logits_after_a_softmax_are_flagged_by_check():
    text = LOGITS.replace("dense(n_classes)", "dense(n_classes, activation=softmax)")
    with pytest.raises(NetError, match=r"(?s)error\[N408\].*reads the outputs as logits, but the net ends in `softmax`"):
        analyse(loads(text))
    wrapped = TAGGER.replace("metrics = [accuracy]", "loss = sparse_categorical_crossentropy(true)").replace(
        "dense(n_classes, activation=softmax)", "time_distributed(dense(n_classes, activation=softmax))")
    with pytest.raises(NetError, match=r"error\[N408\]"):  # the layer applied at every step ends in it
        analyse(loads(wrapped))
    # a softmax with the loss's plain form (or from_logits=false) is as it always was
    plain = text.replace("(from_logits=true)", "(from_logits=false)")
    assert loads(plain).train.loss == "sparse_categorical_crossentropy"
    analyse(loads(plain))


def test_a_loss_call_round_trips():
    net = loads(LOGITS)
    assert net.train.loss.kind == "sparse_categorical_crossentropy" and net.train.loss.from_logits
    assert "loss = sparse_categorical_crossentropy(from_logits=true)" in dumps(net)
    assert loads(dumps(net)) == net
    assert loads(LOGITS.replace("(from_logits=true)", "(true)")) == net  # positionally, as Keras takes it


# ---- the command line ---------------------------------------------------------------------------


def test_the_command_line_fits_shaped_targets_and_labels_per_step(tmp_path, capsys, sequences):
    """`netdsl fit` on a `.npz` of (n, T) labels or (n, T, d) numbers: held-out accuracy over all
    steps, R² over every value (with --scale too)."""
    from netdsl.pipelines.cli import main

    X, y = sequences
    np.savez(tmp_path / "tags.npz", X=X, y=(y == "up").astype(int) + (X.reshape(60, STEPS, 2)[:, :, 1] > 0))
    np.savez(tmp_path / "shaped.npz", X=X, y=X.reshape(60, STEPS, 2) * 3)
    (tmp_path / "tagger.net").write_text(TAGGER)
    (tmp_path / "shaped.net").write_text(f"input ({STEPS * 2})\ndense({STEPS * 2})\nreshape(({STEPS}, 2))\n")
    assert main(["fit", str(tmp_path / "tagger.net"), "--data", str(tmp_path / "tags.npz"), "--epochs", "1", "--quiet"]) == 0
    assert f"accuracy (held out, over all {STEPS} steps):" in capsys.readouterr().out
    for scale in ([], ["--scale"]):
        code = main(["fit", str(tmp_path / "shaped.net"), "--data", str(tmp_path / "shaped.npz"), "--epochs", "1", "--quiet",
                     *scale])
        assert code == 0 and "R² (held out):" in capsys.readouterr().out
