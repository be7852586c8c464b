"""The layer kinds of decoders, mobile convnets and small transformers (`dsl/layer_specs_conv.py`,
`layer_specs_activation.py`, `layer_specs_sequence.py`, `estimators/layers.py`): located errors for
what Keras would refuse or what cannot fit, a real fit with several of them, and a saved model
holding netdsl's own `PositionEmbedding`, loaded back in Keras's safe mode.

Their shapes and weight counts are compared with Keras's in `tests/test_shapes.py` (`PROGRAMS`),
their restarts on the fast path in `tests/test_fast.py` (`RESTARTED_NETS`).
"""

from __future__ import annotations

import os
import sys

import numpy as np
import pytest

from netdsl.dsl import NetError, analyse, loads

# ---- located errors, without TensorFlow ------------------------------------------------------


def diagnostics_of(text: str) -> list[str]:
    """`LINE:COL CODE title` of each problem `check` finds in a program."""
    with pytest.raises(NetError) as caught:
        analyse(loads("net t\n" + text.strip() + "\n"))
    return [f"{d.span.line}:{d.span.col} {d.code} {d.title}" for d in caught.value.diagnostics]


@pytest.mark.parametrize("text, expected", [
    ("input (6, 4)\nposition_embedding(4)",
     "3:20 N314 `position_embedding` has vectors for 4 positions, but its input has 6 steps (from `input`)"),
    ("input text\ntext_vectorization(max_tokens=20)\nembedding(20, 4)\nposition_embedding(8)",
     "5:1 N308 `position_embedding` needs a known number of steps (at most 8), but gets steps (after layer 2)"),
    ("input (6)\nposition_embedding(6)",
     "3:1 N301 `position_embedding` needs a 3-D input (batch, steps, features), got a 2-D tensor (batch, 6)"),
    ("input (6)\nmulti_head_attention(2, 4)",
     "3:1 N301 `multi_head_attention` needs a 3-D input (batch, steps, features), got a 2-D tensor (batch, 6)"),
    ("input (6, 4)\nrepeat_vector(3)",
     "3:1 N301 `repeat_vector` needs a 2-D input (batch, features), got a 3-D tensor (batch, 6, 4)"),
    ("input (6)\ntime_distributed(dense(2))",
     "3:1 N301 `time_distributed` needs a 3-D input (batch, steps, ...), got a 2-D tensor (batch, 6)"),
    ("input (6, 4)\ntime_distributed(conv2d(2, 3))",
     "3:18 N301 `conv2d` needs a 4-D input (batch, height, width, channels), got a 2-D tensor (batch, 4), in "
     "`time_distributed`, which hands it one step at a time"),
    ("input (6, 4)\ntime_distributed(dense(2, kernel_initializer=[[1, 2]]))",
     "3:46 N306 the literal kernel has shape (1, 2), but `dense` maps 4 inputs to 2 units, in `time_distributed`, "
     "which hands it one step at a time"),
    ("input (4, 4, 2)\nconv2d_transpose(2, 3, strides=2, output_padding=2)",
     "3:50 N312 `output_padding` 2 must be below `strides` 2, axis by axis"),
    ("input (4, 2)\nconv1d_transpose(2, 3, strides=2, dilation_rate=2)",
     "3:49 N312 `strides` above 1 cannot be combined with `dilation_rate` above 1"),
    ("input (3, 3, 1)\ndepthwise_conv2d(5)",
     "3:1 N302 kernel_size 5 is larger than the input's 3x3 (from `input`)"),
    ("input (8, 8, 1)\nseparable_conv2d(4, (3, 3, 3))",
     "3:21 N305 `kernel_size` (3, 3, 3) has 3 numbers, but `separable_conv2d` has 2 spatial axes"),
    ("input (6, 4)\nup_sampling2d",
     "3:1 N301 `up_sampling2d` needs a 4-D input (batch, height, width, channels), got a 3-D tensor (batch, 6, 4)"),
    ("input (6, 4)\np_re_lu(shared_axes=(1, 3))",
     "3:21 N304 `shared_axes` names axis 3, but the input (batch, 6, 4) has axes 1 to 2"),
    ("input (none, 4)\np_re_lu",
     "3:1 N308 `p_re_lu` learns a slope per value, but axis 1 of its input (batch, none, 4) has a length known only "
     "from the data"),
    ("input (6, 4)\ntime_distributed(multi_head_attention(2, 4))",
     "3:18 N203 `time_distributed` cannot wrap `multi_head_attention`"),
    ("input (6, 4)\ntime_distributed(text_vectorization)", "3:18 N203 `time_distributed` cannot wrap `text_vectorization`"),
    ("input (6, 4)\ntime_distributed(dens(3))", "3:18 N203 unknown layer kind `dens`"),
    ("input (6, 4)\ntime_distributed(3)", "3:18 N209 invalid value for `layer`"),
    ("input (6, 4)\nre_lu(-1)", "3:7 N209 invalid value for `max_value`"),
    ("input (6, 4)\nleaky_re_lu(negative_slope=-0.1)", "3:28 N209 invalid value for `negative_slope`"),
    ("input (6, 4)\nup_sampling1d((2, 2))", "3:15 N209 invalid value for `size`"),
    ("input (6, 4)\nmulti_head_attention(2)", "3:1 N205 `multi_head_attention` needs `key_dim`"),
    ("input (6, 4)\nleaky_relu(-0.1)", "3:12 N209 invalid value for `negative_slope`"),
])  # fmt: skip
def test_mistakes_are_located_with_their_code(text, expected):
    assert expected in diagnostics_of(text)


def test_the_activation_functions_names_are_read_as_their_layers_kinds():
    """Keras's snake case of `LeakyReLU` is `leaky_re_lu` (as its automatic layer names), the kind;
    the activation function's spelling, `leaky_relu` (`prelu`), is read as that kind: `fmt` keeps
    what was written, `dumps` writes the kind, and a mistake in its arguments is located."""
    from netdsl.dsl import dumps, format_source

    text = "input (4)\nleaky_relu(0.1)\nprelu\n"
    net = loads(text)
    assert [layer.kind for layer in net.layers] == ["leaky_re_lu", "p_re_lu"] and net.layers[0].negative_slope == 0.1
    assert format_source(text) == text and "leaky_re_lu(negative_slope=0.1)" in dumps(net)
    with pytest.raises(NetError) as caught:
        loads("input (4)\nleaky_relu(slope=0.1)\n")
    (diagnostic,) = caught.value.diagnostics
    assert diagnostic.code == "N204" and (diagnostic.span.line, diagnostic.span.col) == (2, 12)


def test_the_wrapped_layers_names_are_used_up_as_keras_uses_them():
    summary = analyse(loads("input (3, 2, 4)\ntime_distributed(time_distributed(dense(2)))\ndense(2)\ntime_distributed(dense(2))\n"))
    # Keras makes dense, time_distributed, time_distributed_1 for the first line: the row is the outer one.
    assert [row.name for row in summary.rows] == ["time_distributed_1", "dense_1", "time_distributed_2"]


def test_attention_counts_weights_from_the_query_value_and_key_shapes():
    """`attention.attention` is written for a query, value and key of their own shapes (the form a
    layer reading named points needs): a cross-attention's count, checked by hand against Keras's
    four projections."""
    from types import SimpleNamespace

    from netdsl.dsl.shapes.context import Context, Problem
    from netdsl.dsl.shapes.rules.attention import attention

    layer = SimpleNamespace(num_heads=2, key_dim=3, value_dim=None, output_shape=None, use_bias=True)
    ctx = Context("multi_head_attention", "(after layer 1)", "layer 1", False, False)
    out = attention(layer, (5, 8), (7, 4), (7, 6), ctx)
    # query 8*2*3, key 6*2*3, value 4*2*3, output 2*3*8; biases 2*3 + 2*3 + 2*3 + 8
    assert out.shape == (5, 8) and out.params == 48 + 36 + 24 + 48 + 6 + 6 + 6 + 8
    with pytest.raises(Problem, match="differ before their last axis"):
        attention(layer, (5, 8), (7, 4), (6, 4), ctx)


# ---- with TensorFlow -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def keras():
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    return pytest.importorskip("keras")


TRANSFORMER = """net tiny_transformer
input (8)
embedding(20, 8)
position_embedding(8)
multi_head_attention(2, 4)
leaky_re_lu(0.1)
time_distributed(dense(8, activation=relu))
global_average_pooling1d
dense(2, activation=softmax)
train {
    optimizer = adam(learning_rate=0.02)
    epochs = 20
    batch_size = 16
}
"""


def token_task():
    """Sequences of 8 tokens in 1..19; the class says whether the first half sums to more."""
    rng = np.random.default_rng(0)
    X = rng.integers(1, 20, size=(96, 8))
    return X, (X[:, :4].sum(1) > X[:, 4:].sum(1)).astype(int)


def test_the_valid_program_of_every_new_kind_matches_keras(keras):
    """tests/data/valid/layer_kinds.net (each kind with arguments; its spec and round trip are golden)
    against the model built by hand with Keras's functional API, as tests/test_shapes.py builds it."""
    from conftest import DATA
    from test_shapes import assert_same_as_keras

    from netdsl.dsl import load

    summary = assert_same_as_keras(keras, load(DATA / "valid" / "layer_kinds.net"), data={"n_classes": 3})
    assert summary.total_params == 2754 + 5 * 3


def test_a_small_transformer_learns_and_its_saved_model_loads_safely(keras, tmp_path):
    from netdsl.estimators import NetClassifier, load

    X, y = token_task()
    est = NetClassifier(TRANSFORMER, random_state=0).fit(X, y)
    assert est.history_["loss"][-1] < 0.5 * est.history_["loss"][0]
    assert est.score(X, y) >= 0.85  # chance is about 0.5: attention over positions did learn the rule
    assert [layer.name for layer in est.model_.layers][1:5] == ["embedding", "position_embedding",
                                                              "multi_head_attention", "leaky_re_lu"]
    path = est.save(tmp_path / "transformer.model")
    again = load(path)
    np.testing.assert_allclose(again.predict_proba(X), est.predict_proba(X), atol=1e-6)


def test_position_embedding_adds_the_first_vectors_to_shorter_inputs(keras):
    from netdsl.estimators.layers import PositionEmbedding

    layer = PositionEmbedding(5, initializer="ones")
    x = np.arange(12, dtype="float32").reshape(2, 3, 2)
    np.testing.assert_allclose(np.asarray(layer(x)), x + 1)
    assert layer.count_params() == 5 * 2
    clone = PositionEmbedding.from_config(layer.get_config())
    assert (clone.sequence_length, clone.get_config()["initializer"]) == (5, layer.get_config()["initializer"])
    with pytest.raises(ValueError, match="Received: sequence_length=0"):
        PositionEmbedding(0)


def test_a_keras_base_with_these_kinds_is_taken_by_pretrained(keras, tmp_path):
    """A `.keras` file holding them (self-attention on the layer before it, netdsl's
    `PositionEmbedding`, a wrapped layer) is a chain `pretrained` takes, with Keras's shapes and
    counts; `PositionEmbedding` is netdsl's code, not the file's: the file loads in safe mode."""
    from netdsl.dsl import saved
    from netdsl.estimators.layers import PositionEmbedding

    inputs = keras.Input((6, 4))
    x = keras.layers.MultiHeadAttention(2, 3, name="attention")(inputs, inputs)
    x = PositionEmbedding(6, name="positions")(x)
    x = keras.layers.TimeDistributed(keras.layers.Dense(2), name="per_step")(x)
    x = keras.layers.Conv1DTranspose(3, 3, strides=2, name="up")(x)
    x = keras.layers.LeakyReLU(name="leaky")(x)
    base = keras.Model(inputs, x)
    file = tmp_path / "base.keras"
    base.save(file)
    read = saved.read(file)
    assert read.unsafe is None and all(layer.problem is None for layer in read.layers)
    assert [layer.spec.kind for layer in read.layers] == [
        "multi_head_attention", "position_embedding", "time_distributed", "conv1d_transpose", "leaky_re_lu"]
    summary = analyse(loads(f'net t\ninput (6, 4)\npretrained("{file}")\n'))
    assert [(row.name, row.output_shape, row.params) for row in summary.rows] == [
        (layer.name, tuple(layer.output.shape[1:]), layer.count_params()) for layer in base.layers[1:]]
    assert keras.models.load_model(file, safe_mode=True).get_layer("positions").sequence_length == 6


def test_a_decoder_of_transposed_convolutions_fits_on_both_paths(keras, monkeypatch):
    """An autoencoder: separable and depthwise convolutions down, a transposed convolution and
    up-sampling back to the image; the fast path and Keras's `fit` train the same model."""
    from sklearn.datasets import load_digits

    from netdsl.estimators import NetRegressor

    X, _ = load_digits(return_X_y=True)
    X = (X[:120] / 16).astype("float32").reshape(-1, 8, 8, 1)
    net = """net decoder
input (8, 8, 1)
separable_conv2d(8, 3, padding=same, activation=relu)
depthwise_conv2d(3, strides=2, padding=same)
p_re_lu(shared_axes=(1, 2))
conv2d_transpose(4, 3, strides=2, padding=same)
re_lu(6)
up_sampling2d(1)
conv2d(1, 1)
train {
    loss = mse
    optimizer = adam(learning_rate=0.01)
    epochs = 3
    batch_size = 32
    shuffle = false
}
"""
    fitted = []
    for fast in ("1", "0"):
        monkeypatch.setenv("NETDSL_FAST_PATH", fast)
        fitted.append(NetRegressor(net, random_state=0).fit(X, X.reshape(len(X), -1)))
    quick, standard = fitted
    assert quick.training_path_ == "fast" and standard.training_path_.startswith("standard")
    assert quick.history_["loss"][-1] < quick.history_["loss"][0]
    np.testing.assert_allclose(quick.predict(X), standard.predict(X), atol=1e-4)


def test_the_language_package_does_not_import_tensorflow_for_these_kinds():
    import subprocess

    code = ("import sys; from netdsl.dsl import analyse, loads; analyse(loads('input (4, 4)\\n"
            "multi_head_attention(2, 2)\\nposition_embedding(4)\\ntime_distributed(dense(2))\\n')); "
            "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)
