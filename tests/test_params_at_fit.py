"""A `param` works at fit in every place the language takes one, with its default and with the value
an estimator parameter gives it (`docs/language.md`: layers, `repeat`, `input`, `augment`, and in
`train { }` the settings, the optimizer's and the callbacks' arguments, the class weights)."""

import pytest

from netdsl.estimators import NetClassifier

from conftest import user_error


def net(head: str, body: str = "dense(n_classes, activation=softmax)", train: str = "epochs = 2") -> str:
    return f"{head}\n{body}\ntrain {{\n    {train}\n}}\n"


def fitted(source, X, y, **params):
    return NetClassifier(source, random_state=0, **params).fit(X, y)


def test_in_the_optimizers_arguments(iris):
    # As docs/language.md shows it; it checked clean, then Keras refused the unresolved name at fit.
    source = net("param lr = 0.01", train="optimizer = adam(learning_rate=lr)\n    epochs = 2")
    assert float(fitted(source, *iris).model_.optimizer.learning_rate) == pytest.approx(0.01)
    assert float(fitted(source, *iris, lr=0.05).model_.optimizer.learning_rate) == pytest.approx(0.05)


@pytest.mark.parametrize("path", ["fast", "standard"])
def test_in_the_training_settings(monkeypatch, iris, path):
    if path == "standard":
        monkeypatch.setenv("NETDSL_FAST_PATH", "0")
    source = net("param e = 2\nparam b = 16\nparam v = 0.2",
                 train="epochs = e\n    batch_size = b\n    validation_split = v")
    est = fitted(source, *iris)
    assert est.n_iter_ == 2 and "val_loss" in est.history_
    est = fitted(source, *iris, e=3, v=0.0)
    assert est.n_iter_ == 3 and "val_loss" not in est.history_
    with user_error(ValueError, match="invalid value for `batch_size`"):
        fitted(source, *iris, b=0)


def test_in_a_callbacks_arguments(iris):
    # With min_delta out of reach no epoch after the first improves: training stops after patience + 1.
    source = net("param p = 1", train="epochs = 10\n    callbacks = [early_stopping(monitor=loss, min_delta=100, patience=p)]")
    assert fitted(source, *iris).n_iter_ == 2
    assert fitted(source, *iris, p=3).n_iter_ == 4


def test_in_the_class_weights(iris):
    source = net("param c = 2.0", train="epochs = 1\n    class_weight = [c, 1.0, 1.0]")
    fitted(source, *iris)
    with user_error(ValueError, match="invalid value for `class_weight`"):  # located at the file's line
        fitted(source, *iris, c=-1.0)


def test_in_a_layer_repeat_input_and_augment(iris):
    source = net("param u = 5\nparam k = 2\nparam w = 4\nparam s = 0.1\ninput (w,)\naugment {\n    gaussian_noise(s)\n}",
                 body="repeat k {\n    dense(u, activation=relu)\n}\ndense(n_classes, activation=softmax)")
    for values, (units, count, noise) in (({}, (5, 2, 0.1)), ({"u": 7, "k": 3, "s": 0.3}, (7, 3, 0.3))):
        model = fitted(source, *iris, **values).model_
        hidden = [layer for layer in model.layers if type(layer).__name__ == "Dense"][:-1]
        assert [layer.units for layer in hidden] == [units] * count
        assert [layer.stddev for layer in model.layers if type(layer).__name__ == "GaussianNoise"] == [noise]
    with user_error(Exception, match="features per sample"):
        fitted(source, *iris, w=5)
