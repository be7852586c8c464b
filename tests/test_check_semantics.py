"""`check` refuses, located, what `fit` would refuse (issue 15): monitors, layer names, numbers
beyond Keras's types, metrics against the output, memory, Keras's unsupported layers, Keras's other
spellings; and the forms it accepts really fit (tiny real fits)."""

from __future__ import annotations

import os
import re
import warnings

import numpy as np
import pytest
from sklearn.datasets import load_iris

from netdsl.dsl import NetError, analyse, dumps, format_source, loads, shapes
from netdsl.dsl.keras_layers import KERAS_LAYERS
from netdsl.dsl.shapes import check_metrics, layer_names, metric_problems


def error_of(text: str) -> NetError:
    with pytest.raises(NetError) as caught:
        analyse(loads(text, "t.net"))
    return caught.value


@pytest.fixture(scope="module")
def iris():
    X, y = load_iris(return_X_y=True)
    rows = np.random.default_rng(0).permutation(len(y))[:90]
    return X[rows].astype("float32"), y[rows]


# ---- Keras's layers, unsupported ones named as such ---------------------------------------------


def test_keras_layer_table_matches_the_installed_keras():
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    keras = pytest.importorskip("keras")
    from keras.src.utils.naming import to_snake_case

    installed = {}
    for name in sorted(dir(keras.layers)):
        value = getattr(keras.layers, name)
        if isinstance(value, type) and issubclass(value, keras.layers.Layer):
            installed.setdefault(to_snake_case(name), name)
    assert KERAS_LAYERS == installed, (
        "dsl/keras_layers.py is not Keras's list of layers: regenerate KERAS_LAYERS from keras.layers "
        "(snake_case name -> class name, as this test builds it)"
    )


@pytest.mark.parametrize("word, title, help", [
    ("conv3d", "`conv3d` is a Keras layer netdsl does not support yet",
     "the supported layer kinds are listed in docs/language.md"),
    ("Conv3D", "`Conv3D` (`conv3d`) is a Keras layer netdsl does not support yet",
     "the supported layer kinds are listed in docs/language.md"),
    ("UpSampling2D", "unknown layer kind `UpSampling2D`",
     "layer kinds are Keras's class names in snake case: write `up_sampling2d`"),
    ("leaky_rleu", "unknown layer kind `leaky_rleu`", "did you mean `leaky_re_lu`?"),
    ("Dense", "unknown layer kind `Dense`", "layer kinds are Keras's class names in snake case: write `dense`"),
    ("dens", "unknown layer kind `dens`", "did you mean `dense`?"),
    ("frobnicate", "unknown layer kind `frobnicate`", "netdsl's layer kinds are listed in docs/language.md"),
])  # fmt: skip
def test_unknown_layer_kinds_are_told_apart(word, title, help):
    error = pytest.raises(NetError, loads, f"input (8, 8, 1)\n{word}(2)\n").value
    (diagnostic,) = error.diagnostics
    assert (diagnostic.title, diagnostic.help, diagnostic.span.line) == (title, help, 2)


# ---- Keras's other spellings ------------------------------------------------------------------


def test_padding_is_read_in_any_case_and_written_in_lower_case():
    text = 'input (8, 8, 1)\nconv2d(2, 3, padding="SAME")\nmax_pooling2d(padding=Valid)\nconv2d(2, 3, padding=same)\n'
    net = loads(text)
    assert [layer.padding for layer in net.layers] == ["same", "valid", "same"]
    assert "padding=same" in dumps(net) and "SAME" not in dumps(net)
    assert format_source(text).splitlines()[1:3] == ['conv2d(2, 3, padding="same")', "max_pooling2d(padding=valid)"]
    param = "param pad = same\ninput (8, 8, 1)\nconv2d(2, 3, padding=pad)\n"
    assert format_source(param) == param  # a param's name is not a padding word: kept as written


def test_keras_metric_names_are_read_as_netdsls():
    net = loads(
        "input (4)\ndense(3, activation=softmax)\ntrain {\n    validation_split = 0.2\n    metrics = [acc, ACCURACY]\n"
        "    callbacks = [early_stopping(monitor=val_acc)]\n}\n"
    )
    assert net.train.metrics == ("accuracy", "accuracy")
    assert net.train.callbacks[0].monitor == "val_accuracy"
    assert "metrics = [accuracy, accuracy]" in dumps(net)
    regression = loads("input (4)\ndense(1)\ntrain {\n    metrics = [MSE, MeanAbsoluteError, R2Score]\n}\n")
    assert regression.train.metrics == ("mse", "mean_absolute_error", "r2_score")


def test_class_weight_in_a_net_with_several_outputs_is_refused_by_check():
    # `fit` refuses it (estimators/heads.py); check said "ok" before.
    error = error_of("input (4)\noutput a, b\nh = dense(8)\na = dense(3, activation=softmax)\nfrom h\nb = dense(1)\n"
                     "train {\n    class_weight = balanced\n    a.loss = sparse_categorical_crossentropy\n    b.loss = mse\n}\n")
    (diagnostic,) = error.diagnostics
    assert diagnostic.code == "N409" and (diagnostic.span.line, diagnostic.span.col) == (8, 20)


# ---- monitors -----------------------------------------------------------------------------------


def test_a_monitor_must_be_a_value_the_net_reports():
    error = error_of("input (4)\ndense(3, activation=softmax)\ntrain {\n    callbacks = [early_stopping(monitor=val_accuracy)]\n}\n")
    (diagnostic,) = error.diagnostics
    assert diagnostic.title == "`early_stopping` monitors `val_accuracy`, which the net does not report"
    assert (diagnostic.span.line, diagnostic.span.col) == (4, 41)
    assert diagnostic.help.startswith("add `accuracy` to `metrics = [...]` in `train { }`")
    # The default monitor (`val_loss`) and a metric that is reported are fine, with or without validation.
    analyse(loads("input (4)\ndense(1, activation=sigmoid)\ntrain {\n    metrics = [auc]\n"
                  "    callbacks = [early_stopping(patience=1), reduce_lr_on_plateau(monitor=auc)]\n}\n"))


# ---- layer names --------------------------------------------------------------------------------


@pytest.mark.parametrize("name, title", [
    ('"层"', 'layer name "层" holds `层`, which TensorFlow refuses in names'),
    ('"a\\nb"', 'layer name "a\\nb" holds `\\n`, which TensorFlow refuses in names'),
    ('"a/b"', 'layer name "a/b" holds `/`, which TensorFlow refuses in names'),
    ('"a\\\\b"', 'layer name "a\\\\b" holds `\\\\`, which TensorFlow refuses in names'),
    ('"input"', "a layer named `input`, the name of the net's input"),
    ('""', "empty layer name"),
])  # fmt: skip
def test_layer_names_keras_cannot_build_are_refused(name, title):
    (diagnostic,) = error_of(f"input (4)\ndense(3, name={name})\n").diagnostics
    assert diagnostic.title == title
    assert (diagnostic.span.line, diagnostic.span.col) == (2, 15)


def test_automatic_names_skip_the_names_the_file_gives():
    net = loads('input (4)\ndense(4, name="dense_1")\ndense(4)\ndense(4)\ndense(3, activation=softmax)\n')
    assert list(layer_names(net).values()) == ["dense_1", "dense", "dense_2", "dense_3"]


def test_the_built_model_names_its_layers_as_show_does(iris):
    from netdsl.estimators import NetClassifier

    import keras

    X, y = iris
    net = 'input (4)\ndense(4, name="dense_1")\ndense(4)\ndense(n_classes, activation=softmax, name="ok-1.5>x")\n'
    names = list(layer_names(loads(net)).values())
    keras.layers.Dense(1), keras.layers.Dense(1)  # Keras's automatic names have moved on in this process
    for _ in range(2):  # the second estimator of the process too
        model = NetClassifier(net, epochs=1, random_state=0).fit(X, y).model_
        assert [layer.name for layer in model.layers[1:]] == names == ["dense_1", "dense", "ok-1.5>x"]


# ---- metrics against the task -------------------------------------------------------------------

SOFTMAX = "input (4)\ndense(3, activation=softmax)\ntrain {\n    %s\n}\n"


def test_metrics_the_output_cannot_have_are_refused_at_their_entry():
    error = error_of(SOFTMAX % "metrics = [accuracy, precision, top_k_categorical_accuracy]")
    assert [(d.span.line, d.span.col) for d in error.diagnostics] == [(4, 26), (4, 37)]
    assert error.diagnostics[1].help == "set `loss = categorical_crossentropy` in `train { }` (one-hot targets), or use `accuracy`"
    # One-hot targets: precision is then computed over the classes' outputs; top-5 of 3 classes is always right.
    (diagnostic,) = error_of(SOFTMAX % "loss = categorical_crossentropy\n    metrics = [precision, top_k_categorical_accuracy]").diagnostics
    assert diagnostic.title.startswith("`top_k_categorical_accuracy` counts a sample as right when its class is among the 5")
    analyse(loads(SOFTMAX % "loss = categorical_crossentropy\n    metrics = [precision, recall, auc, categorical_accuracy]"))
    analyse(loads("input (4)\ndense(1, activation=sigmoid)\ntrain {\n    metrics = [precision, recall, auc, binary_accuracy]\n}\n"))
    (diagnostic,) = error_of("input (4)\ndense(1, activation=sigmoid)\ntrain {\n    metrics = [categorical_accuracy]\n}\n").diagnostics
    assert diagnostic.title == "`categorical_accuracy` needs a softmax over classes"


def test_check_metrics_is_what_fit_calls_with_the_task_it_found():
    net = loads("input (4)\ndense(n_classes, activation=softmax)\ntrain {\n    metrics = [accuracy, top_k_categorical_accuracy]\n}\n")
    (problem,) = metric_problems(net, "multiclass", loss=None, n_classes=8)
    assert "needs one-hot targets" in problem.title and (problem.span.line, problem.span.col) == (4, 26)
    check_metrics(net, "multiclass", loss="categorical_crossentropy", n_classes=8)  # nothing to say
    with pytest.raises(NetError, match="there are only 4 classes"):
        check_metrics(net, "multiclass", loss="categorical_crossentropy", n_classes=4)
    with pytest.raises(NetError, match="`top_k_categorical_accuracy` needs a softmax over classes"):
        check_metrics(net, "binary")
    assert [p.title for p in metric_problems(net, "regression")] == ["`top_k_categorical_accuracy` needs a softmax over classes"]


# ---- memory ---------------------------------------------------------------------------------------


def test_a_net_that_cannot_fit_in_memory_is_refused_at_its_largest_layer(monkeypatch):
    monkeypatch.setattr(shapes, "memory_limit", lambda: 1_000_000_000)
    (diagnostic,) = error_of("input (1000)\ndense(100000)\ndense(1)\n").diagnostics
    assert diagnostic.title == "`dense` needs about 1.6 GB of memory to train, more than this machine's 1.0 GB"
    assert diagnostic.span.line == 2
    assert diagnostic.help.startswith(
        "100,100,000 weights at 4 bytes, trained ones x4 with their gradients and `adam`'s state; its outputs for a batch of 32")
    # Several layers that fit one by one but not together: located at the largest.
    (diagnostic,) = error_of("input (20000)\ndense(2000)\ndense(15000)\n").diagnostics
    assert diagnostic.title == "the net needs about 1.1 GB of memory to train, more than this machine's 1.0 GB"
    assert diagnostic.span.line == 2
    assert diagnostic.help.startswith("this layer takes the most: 40,002,000 weights")
    # Frozen weights need no gradient and no optimizer state: 400 MB then fits.
    analyse(loads("input (1000)\ndense(100000, trainable=false)\ndense(1)\n"))
    # A size bound from the data is checked when it is known (in fit), at the same line.
    net = loads("dense(100000)\ndense(1)\n")
    analyse(net)
    with pytest.raises(NetError, match="more than this machine's 1.0 GB"):
        analyse(net, data={"n_features": 1000})
    monkeypatch.setattr(shapes, "memory_limit", lambda: None)  # a system that does not say: not checked
    analyse(loads("input (1000)\ndense(100000)\n"))


def test_the_memory_bound_is_this_machines():
    assert shapes.memory_limit() > 10**8
    # The issue's `dense(10**12)`: beyond 32 bits; two billion units on 1000 inputs: 32 TB of weights and state to train.
    (diagnostic,) = error_of("input (1000)\ndense(2000000000)\n").diagnostics
    assert re.fullmatch(r"`dense` needs about 32\.5 TB of memory to train, more than this machine's [\d.,]+ [GT]B",
                        diagnostic.title), diagnostic.title


# ---- the accepted forms fit ---------------------------------------------------------------------


def test_keras_spellings_and_checked_metrics_fit(iris):
    from netdsl.estimators import NetClassifier

    X, y = iris
    net = (
        'input (4)\nreshape((2, 2, 1))\nconv2d(4, 2, padding="SAME", name="conv-1")\nflatten\n'
        "dense(n_classes, activation=softmax)\n"
        "train {\n    epochs = 2\n    validation_split = 0.2\n    metrics = [acc]\n"
        "    callbacks = [early_stopping(monitor=val_acc, patience=5)]\n}\n"
    )
    clf = NetClassifier(net, random_state=0).fit(X, y)
    assert {"accuracy", "val_accuracy"} <= set(clf.history_)
    assert clf.model_.get_layer("conv-1").padding == "same"
    one_hot = SOFTMAX.replace("dense(3", "dense(n_classes") % (
        "epochs = 2\n    loss = categorical_crossentropy\n    metrics = [precision, recall, auc, categorical_accuracy]")
    assert {"precision", "recall", "auc", "categorical_accuracy"} <= set(NetClassifier(one_hot, random_state=0).fit(X, y).history_)
    binary = "input (4)\ndense(1, activation=sigmoid)\ntrain {\n    epochs = 2\n    metrics = [precision, recall, binary_accuracy]\n}\n"
    assert "precision" in NetClassifier(binary, random_state=0).fit(X, y > 0).history_


def test_a_val_monitor_without_validation_watches_the_training_value(iris):
    from netdsl.estimators import NetClassifier

    X, y = iris
    net = SOFTMAX.replace("dense(3", "dense(n_classes") % (
        "epochs = 3\n    metrics = [accuracy]\n    callbacks = [early_stopping(monitor=val_accuracy, patience=5)]")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        clf = NetClassifier(net, random_state=0).fit(X, y)
    assert len(clf.history_["loss"]) == 3
    assert any("it monitors `accuracy` instead" in str(w.message) for w in caught)


def test_fit_refuses_a_metric_the_data_task_cannot_have_at_its_line(iris):
    from netdsl.estimators import NetClassifier

    X, y = iris
    net = SOFTMAX.replace("dense(3", "dense(n_classes") % "epochs = 1\n    metrics = [recall]"
    with pytest.raises(NetError) as caught:
        NetClassifier(net).fit(X, y)
    assert [(d.span.line, d.span.col) for d in caught.value.diagnostics] == [(5, 16)]


def test_fit_refuses_a_class_weight_list_of_the_wrong_length_at_its_line(iris):
    from netdsl.estimators import NetClassifier

    X, y = iris
    net = SOFTMAX.replace("dense(3", "dense(n_classes") % "epochs = 1\n    class_weight = [1, 2]"
    analyse(loads(net))  # the number of classes is known only from the data
    with pytest.raises(NetError) as caught:
        NetClassifier(net).fit(X, y)
    (diagnostic,) = caught.value.diagnostics
    assert diagnostic.title == "`class_weight` lists 2 weights, but the net's output has 3 classes"
    assert (diagnostic.span.line, diagnostic.span.col) == (5, 20)


@pytest.mark.parametrize("params, help", [
    ({"scale": float("inf")}, "must be finite and at most 3.4e38 in size (Keras computes in 32-bit floats), got the number inf"),
    ({"scale": float("nan")}, "must be finite and at most 3.4e38 in size (Keras computes in 32-bit floats), got the number nan"),
    ({"units": 2**40}, "must be at most 2,147,483,647 in size (Keras's sizes and counts are 32-bit integers), "
                       "got the integer 1099511627776"),
])  # fmt: skip
def test_parameters_set_from_outside_are_bounded_like_literals(params, help):
    net = loads("param scale = 1.0\nparam units = 4\ninput (4)\nrescaling(scale)\ndense(units)\n")
    with pytest.raises(NetError) as caught:
        analyse(net, params=params)
    (diagnostic,) = caught.value.diagnostics
    assert diagnostic.help.startswith(help) and diagnostic.span.line == (5 if "units" in params else 4)
