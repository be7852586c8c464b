"""Static shape inference (`netdsl.dsl.shapes`): checked against Keras 3 itself, plus receptive
fields, symbolic sizes, located shape errors, and that the module does not import TensorFlow."""

from __future__ import annotations

import doctest
import inspect
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from netdsl.dsl import NetError, kinds, load, loads, specs
from netdsl.dsl import flat_layers, resolve
from netdsl.dsl.shapes import LAYER_RULES, Sym, analyse, analyse_resolved, layer_names
from netdsl.dsl.graph import wire
from netdsl.dsl.graph_specs import Merge

EXAMPLES = sorted((Path(__file__).resolve().parent.parent / "examples").glob("*.net"))
TEXTS = ["a good film", "a bad film", "the best story ever told", "not good at all", "fine"]


# ---- building the same model with Keras ------------------------------------------------------


@pytest.fixture(scope="module")
def keras():
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    return pytest.importorskip("keras")


# Spec class name -> Keras class name where they differ.
KERAS_CLASS = {"ActivationLayer": "Activation"}


def keras_layer(keras, layer):
    kwargs = layer.model_dump(exclude={"kind"})
    trainable = kwargs.pop("trainable")  # Keras 3.15's SpatialDropout1D/2D do not take it
    kwargs.pop("embeddings", None)  # a word-vector file read at fit, not a Keras argument
    kwargs.pop("inputs", None)  # a merge's points, wired by `keras_model`
    for field in getattr(type(layer), "points", ()):  # `value=`: a point attention reads, not an argument
        kwargs.pop(field)
    if layer.kind in ("bidirectional", "time_distributed"):
        kwargs["layer"] = keras_layer(keras, layer.layer)
    for key, value in kwargs.items():
        if key.endswith("_regularizer") and isinstance(value, dict):  # l2(0.001): keras.regularizers.L2(0.001)
            kwargs[key] = getattr(keras.regularizers, kinds.REGULARIZERS.keras[value.pop("kind")])(**value)
    for key in ("kernel_initializer", "bias_initializer"):
        value = kwargs.get(key)
        if isinstance(value, list):  # a literal array: its spatial axes are the kernel size
            if key == "kernel_initializer" and kwargs.get("kernel_size") is None:
                kwargs["kernel_size"] = np.shape(value)[: 2 if layer.kind == "conv2d" else 1]
            kwargs[key] = "zeros"  # only shapes are compared here
    built = keras_class(keras, type(layer))(**kwargs)
    built.trainable = trainable
    return built


def keras_class(keras, spec_class):
    """Keras's class of a spec, or netdsl's own for a kind Keras lacks (`position_embedding`)."""
    if spec_class.__name__ == "PositionEmbedding":
        from netdsl.estimators.layers import PositionEmbedding

        return PositionEmbedding
    return getattr(keras.layers, KERAS_CLASS.get(spec_class.__name__, spec_class.__name__))


def keras_model(keras, net, params=None, data=None):
    """The net as a Keras functional model (augmentation first), and its layers in row order."""
    keras.backend.clear_session()  # generated names start again, as in a fresh process
    resolved = resolve(net, params, data)
    graph = wire(resolved)  # a step reads its points: a step's index, or ~k for input k
    inputs = [keras_input(keras, declared, data) for declared in resolved.all_inputs]
    x, layers = list(inputs), []
    for layer in resolved.augment:
        layers.append(keras_layer(keras, layer))
        x[0] = layers[-1](x[0])
    points = []
    for step in graph.steps:
        built = keras_layer(keras, step.layer)
        if step.layer.kind == "text_vectorization":
            built.adapt(TEXTS)
        read = [points[i] if i >= 0 else x[~i] for i in step.inputs]
        if step.layer.kind == "multi_head_attention":
            read = read * 2  # self-attention
        points.append(built(read) if isinstance(step.layer, Merge) else built(*read))
        layers.append(built)
    outputs = [points[i] if i >= 0 else x[~i] for i in graph.outputs]
    return keras.Model(inputs if len(inputs) > 1 else inputs[0], outputs if len(outputs) > 1 else outputs[0]), layers


def keras_input(keras, declared, data):
    """The Keras input of one declared input (None: a net without `input`, the data's features)."""
    if declared is None:
        return keras.Input(shape=(data["n_features"],))
    if declared.text:
        return keras.Input(shape=(), dtype="string")
    return keras.Input(shape=declared.shape)


def weights(variables) -> int:
    return sum(int(np.prod(v.shape)) for v in variables)


def assert_same_as_keras(keras, net, params=None, data=None):
    summary = analyse(net, params, data)
    model, layers = keras_model(keras, net, params, data)
    # What only fitting decides: the vocabulary `adapt` found; an unfixed length is Keras's None.
    known = {"vocabulary_size": layer.vocabulary_size() for layer in layers if hasattr(layer, "vocabulary_size")}

    def concrete(value):
        value = value.subs(known) if isinstance(value, Sym) else value
        return None if isinstance(value, Sym) else value

    def shape(values):
        return tuple(concrete(d) for d in values)

    assert len(summary.rows) == len(layers)
    for row, layer in zip(summary.rows, layers):
        assert shape(row.output_shape) == tuple(layer.output.shape[1:]), row
        assert concrete(row.params) == layer.count_params(), row
        assert concrete(row.params - row.non_trainable_params) == weights(layer.trainable_weights), row
        assert concrete(row.non_trainable_params) == weights(layer.non_trainable_weights), row
        assert row.name == layer.name, row
    assert concrete(summary.total_params) == model.count_params()
    assert concrete(summary.trainable_params) == weights(model.trainable_weights)
    assert concrete(summary.non_trainable_params) == weights(model.non_trainable_weights)
    if isinstance(model.output, list):  # several outputs, in `output`'s order
        assert [shape(v) for v in summary.outputs.values()] == [tuple(o.shape[1:]) for o in model.output]
    else:
        assert shape(summary.output_shape) == tuple(model.output.shape[1:])
    return summary


# Small programs that use every layer kind between them, in many of their settings.
PROGRAMS = {
    "conv2d": """
        input (8, 8, 1)
        conv2d(4, 3, activation=relu)
        max_pooling2d
        conv2d(8, (3, 2), strides=2, padding=same, use_bias=false)
        average_pooling2d(2, strides=1, padding=same)
        batch_normalization
        spatial_dropout2d(0.1)
        global_average_pooling2d(keepdims=true)
        flatten
        dense(3, activation=softmax)
    """,
    "conv2d_strides_pools": """
        input (13, 11, 2)
        conv2d(3, (5, 3), strides=(2, 1))
        max_pooling2d((2, 3), strides=1)
        average_pooling2d(3, strides=2, padding=same)
        global_max_pooling2d
    """,
    "conv1d": """
        input (20, 3)
        conv1d(4, 3, padding=causal, dilation_rate=2)
        conv1d(4, 3, strides=2)
        max_pooling1d(2)
        average_pooling1d(3, strides=1, padding=same)
        spatial_dropout1d(0.2)
        global_max_pooling1d(keepdims=true)
        reshape((4,))
        dense(2)
    """,
    "conv1d_same_causal_strides": """
        input (31, 2)
        conv1d(6, 5, padding=same, strides=3)
        conv1d(2, 2, padding=causal, strides=2)
        average_pooling1d
        global_average_pooling1d(keepdims=false)
        dense(1)
    """,
    "images": """
        input (16, 16, 3)
        rescaling(1 / 255)
        conv2d(4, 3, dilation_rate=2)
        global_max_pooling2d
        activation(relu)
        dropout(0.5)
        gaussian_noise(0.1)
        dense(2, activation=softmax)
        augment {
            random_flip(horizontal)
            random_rotation(0.1)
            random_translation(0.1, 0.1)
            random_zoom(0.1)
            random_contrast(0.2)
            gaussian_noise(0.05)
        }
    """,
    "recurrent": """
        input (10, 4)
        bidirectional(lstm(8, return_sequences=true))
        gru(6, return_sequences=true, reset_after=false)
        bidirectional(gru(5, return_sequences=true), merge_mode=sum)
        simple_rnn(7, return_sequences=true, use_bias=false)
        bidirectional(simple_rnn(3), merge_mode=ave)
        dense(2)
    """,
    "recurrent_frozen": """
        input (12, 3)
        lstm(4, return_sequences=true, trainable=false)
        layer_normalization
        bidirectional(gru(3, return_sequences=true, trainable=false))
        bidirectional(simple_rnn(2, return_sequences=true), trainable=false)
        gru(5)
        dense(2)
    """,
    "text_embedding": """
        input text
        text_vectorization(max_tokens=50, output_sequence_length=8)
        embedding(50, 4, mask_zero=true)
        bidirectional(gru(3), merge_mode=concat)
        dense(1, activation=sigmoid)
    """,
    "text_unfixed_length": """
        input text
        text_vectorization(max_tokens=30)
        embedding(30, 4)
        conv1d(2, 1)
        global_average_pooling1d
        dense(1)
    """,
    "text_multi_hot": """
        input text
        text_vectorization(max_tokens=40, output_mode=multi_hot)
        dense(2)
    """,
    "text_count": """
        input text
        text_vectorization(20, output_mode=count, ngrams=2)
        dense(2)
    """,
    "reshape": """
        input (64)
        reshape((8, 8, 1))
        conv2d(2, 3)
        reshape((-1, 2))
        lstm(3)
    """,
    "normalization": """
        input (6, 5)
        batch_normalization(axis=1, trainable=false)
        batch_normalization(center=false)
        batch_normalization(scale=false, center=false, momentum=0.9)
        layer_normalization(axis=1, scale=false)
        layer_normalization(axis=-1)
        flatten
        dense(3, use_bias=false, trainable=false)
    """,
    "dense_rank3": """
        input (5, 7)
        dense(3)
        dense(2, name=head)
    """,
    "repeat_names": """
        param width = 4
        input (4)
        repeat 3 {
            dense(width)
            repeat 2 { dropout(0.1) }
        }
        dense(2, name=out)
    """,
    "embedding_on_ids": """
        input (10)
        embedding(100, 8)
        flatten
        dense(1)
    """,
    "depthwise_separable": """
        input (9, 9, 3)
        depthwise_conv2d(3, depth_multiplier=2, padding=same, activation=relu)
        separable_conv2d(8, 3, strides=2, use_bias=false)
        separable_conv2d(4, (3, 1), depth_multiplier=3, dilation_rate=(1, 2))
        depthwise_conv2d((2, 1), strides=(1, 2), use_bias=false)
        global_average_pooling2d
        dense(2)
    """,
    "depthwise_strided_dilated": """
        input (9, 9, 2)
        depthwise_conv2d(3, strides=2, dilation_rate=2)
        separable_conv2d(2, 2, strides=2, dilation_rate=(1, 2))
    """,
    "conv2d_transpose": """
        input (5, 5, 2)
        conv2d_transpose(4, 3, strides=2)
        conv2d_transpose(3, (3, 2), strides=(2, 3), padding=same, output_padding=(1, 0))
        conv2d_transpose(2, 3, dilation_rate=2, use_bias=false)
        conv2d_transpose(2, 4, strides=2, output_padding=1)
        up_sampling2d((2, 1))
        up_sampling2d(interpolation=bilinear)
        p_re_lu(shared_axes=(1, 2))
    """,
    "conv1d_transpose": """
        input (7, 3)
        conv1d_transpose(4, 3, strides=2)
        conv1d_transpose(2, 4, strides=3, padding=same)
        conv1d_transpose(2, 3, strides=2, padding=same, output_padding=1)
        up_sampling1d(3)
        re_lu(6, 0.1, 0.5)
        leaky_re_lu
        leaky_re_lu(0.2)
        p_re_lu
        flatten
        repeat_vector(2)
    """,
    "time_distributed": """
        input (6)
        repeat_vector(4)
        time_distributed(dense(3))
        lstm(5, return_sequences=true)
        time_distributed(dense(2, activation=softmax), name=per_step)
        time_distributed(batch_normalization)
        dense(2, name=dense_out)
    """,
    "time_distributed_frames": """
        input (3, 8, 8, 1)
        time_distributed(conv2d(2, 3, activation=relu))
        time_distributed(max_pooling2d)
        time_distributed(time_distributed(dense(2)))
        time_distributed(flatten)
        gru(4)
        dense(1)
    """,
    "transformer": """
        input (8)
        embedding(20, 16)
        position_embedding(10)
        multi_head_attention(2, 8, dropout=0.1)
        layer_normalization
        multi_head_attention(4, 4, value_dim=3, use_bias=false, output_shape=6)
        multi_head_attention(1, 2, output_shape=(2, 3))
        reshape((8, 6))
        time_distributed(dense(4))
        global_average_pooling1d
        dense(2)
    """,
    "transformer_text": """
        input text
        text_vectorization(max_tokens=30, output_sequence_length=6)
        embedding(30, 8, mask_zero=true)
        position_embedding(6)
        multi_head_attention(2, 4)
        global_average_pooling1d
        dense(1, activation=sigmoid)
    """,
    "edge_literal_conv1d": """
        input (9, 2)
        conv1d(3, kernel_initializer=[1, 0, -1])
        conv1d(1, kernel_initializer=[[1, 0, -1], [2, 0, -2]], use_bias=false)
    """,
}


def program(text: str):
    return loads("\n".join(line.strip() for line in text.strip().splitlines()) + "\n")


def test_every_layer_kind_has_a_rule_and_a_keras_check():
    assert set(LAYER_RULES) == set(specs.LAYERS)
    used = {layer.kind for text in PROGRAMS.values() for layer in _all_layers(resolve(program(text)))}
    checked_elsewhere = {"pretrained"}  # needs a saved net: tests/test_finetune.py compares it with Keras
    # The merges and `identity` read named points: tests/test_graphs.py builds each with Keras's functional API.
    checked_elsewhere |= {"add", "subtract", "multiply", "average", "maximum", "minimum", "concatenate", "dot", "identity"}
    assert used == set(specs.LAYERS) - checked_elsewhere, set(specs.LAYERS) - used


def test_every_spec_layer_kind_has_a_shape_rule():
    """A kind added to `specs.LAYERS` needs a rule in its family's module (listed in its `RULES`)."""
    missing = sorted(kind for kind in specs.LAYERS if kind != "pretrained" and not callable(LAYER_RULES.get(kind)))
    assert missing == [], f"layer kinds without a shape rule in netdsl.dsl.shapes.rules: {missing}"
    assert "pretrained" in LAYER_RULES  # no rule of its own: the saved net's layers replace it before the walk
    assert sorted(set(LAYER_RULES) - set(specs.LAYERS)) == []


def test_an_analysis_of_a_resolved_net_is_the_analysis_of_the_net(monkeypatch):
    """`analyse_resolved` takes a net `resolve` bound once (no second validation); its summary
    carries the names the built layers take and the net it analysed."""
    import netdsl.dsl.shapes.walk as walk

    net = program("param hidden = 8\ndense(hidden)\ndropout(0.1)\ndense(n_classes, activation=softmax)")
    data = {"n_features": 64, "n_classes": 10}
    summary = analyse(net, {"hidden": 16}, data)
    resolved = resolve(net, {"hidden": 16}, data)
    monkeypatch.setattr(walk, "resolve", lambda *args: pytest.fail("resolved again"))
    again = analyse_resolved(resolved, data)
    assert again.to_dict() == summary.to_dict()
    assert summary.total_params == 64 * 16 + 16 + 16 * 10 + 10
    assert again.net is resolved
    monkeypatch.undo()
    assert again.layer_names == layer_names(net, data=data) == {
        ("layers", 0, "dense"): "dense", ("layers", 1, "dropout"): "dropout", ("layers", 2, "dense"): "dense_1"}


def test_one_analysis_lists_the_layers_once(monkeypatch):
    import netdsl.dsl.graph as graph

    calls = []
    wire = graph.wire

    def counted(net, span_of=None):
        calls.append(net)
        return wire(net, span_of)

    monkeypatch.setattr(graph, "wire", counted)
    analyse(program("input (8, 8, 1)\nrepeat 2 { conv2d(4, 3) }\nflatten\ndense(n_classes)"))
    assert len(calls) == 1


def _all_layers(net):
    for layer in list(net.augment) + [layer for _, layer in flat_layers(net)]:
        yield layer
        while layer.kind in ("bidirectional", "time_distributed"):
            layer = layer.layer
            yield layer


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_examples_match_keras(keras, path):
    if "pretrained(" in path.read_text(encoding="utf-8"):
        pytest.skip("takes a saved net's layers: tests/test_finetune.py compares it with Keras")
    assert_same_as_keras(keras, load(path))


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_programs_match_keras(keras, name):
    assert_same_as_keras(keras, program(PROGRAMS[name]))


def test_parameter_overrides_match_keras(keras):
    net = load(EXAMPLES[[p.stem for p in EXAMPLES].index("digits_cnn")])
    summary = assert_same_as_keras(keras, net, params={"depth": 2, "filters": 8})
    assert [row.kind for row in summary.rows].count("conv2d") == 2


def test_bound_data_names_match_keras(keras):
    net = program("dense(64, activation=relu)\ndense(n_classes * 2)\ndense(n_outputs)")
    assert_same_as_keras(keras, net, data={"n_features": 20, "n_classes": 3, "n_outputs": 2})


def test_spec_defaults_are_keras_defaults(keras):
    """Every spec default equals Keras's, apart from the language's deliberate choices."""
    deliberate = {("conv1d", "kernel_size"), ("conv2d", "kernel_size"),  # may come from a literal kernel
                  ("average_pooling1d", "pool_size"), ("average_pooling2d", "pool_size"),  # 2, like max pooling
                  *((kind, "unroll") for kind in ("simple_rnn", "lstm", "gru")),  # left out: netdsl decides (<= 32 steps)
                  ("p_re_lu", "alpha_initializer")}  # Keras writes `Zeros`: the same initializer, spelt as the others
    for kind, cls in specs.LAYERS.items():
        if kind == "pretrained":  # the layers of a saved net, not one Keras layer
            continue
        keras_cls = keras_class(keras, cls)
        signature = inspect.signature(keras_cls.__init__).parameters
        assert tuple(signature)[1 : 1 + len(cls.positional)] == cls.positional, kind
        for field, info in cls.model_fields.items():
            if field in ("kind", "name", "trainable", "inputs") or (kind, field) in deliberate or info.is_required() \
                    or field in getattr(cls, "points", ()):  # points it is called on, not arguments
                continue
            if (kind, field) == ("embedding", "embeddings"):  # a word-vector file read at fit, not Keras's
                continue
            ours, theirs = info.default, signature[field].default
            if isinstance(theirs, tuple) and isinstance(ours, int):
                theirs = theirs[0] if len(set(theirs)) == 1 else theirs
            assert ours == theirs, (kind, field, ours, theirs)


# ---- summary contents ------------------------------------------------------------------------


def test_summary_rows_spans_and_dict():
    summary = analyse(load(EXAMPLES[[p.stem for p in EXAMPLES].index("digits_cnn")]))
    kinds = [row.kind for row in summary.rows]
    assert kinds == ["random_rotation", "random_translation", "conv2d", "max_pooling2d", "flatten", "dense",
                     "dropout", "dense"]
    assert [row.span.line for row in summary.rows] == [22, 23, 13, 14, 16, 17, 18, 19]
    assert summary.rows[2].path == ("layers", 0, "repeat", "body", 0, "conv2d")
    assert [row.name for row in summary.rows][-3:] == ["dense", "dropout", "dense_1"]
    data = summary.to_dict()
    assert data["input_shape"] == [8, 8, 1] and data["output_shape"] == [10]
    assert data["rows"][3]["output_shape"] == [4, 4, 16]
    assert data["rows"][3]["receptive_field"] == [4, 4]
    assert data["rows"][2]["span"] == {"line": 13, "col": 5, "end_line": 13, "end_col": 66}
    assert data["total_params"] == 160 + 256 * 64 + 64 + 650


def test_summary_to_dict_is_json():
    summary = analyse(program(PROGRAMS["text_multi_hot"]))
    data = json.loads(json.dumps(summary.to_dict()))
    assert data["rows"][0]["output_shape"] == ["vocabulary_size"]  # as long as the vocabulary `adapt` finds
    assert data["rows"][1]["params"] == "2*vocabulary_size + 2"
    assert data["input_shape"] == [] and data["rows"][0]["receptive_field"] is None


def test_docstring_example():
    import netdsl.dsl.shapes

    assert doctest.testmod(netdsl.dsl.shapes).failed == 0


def test_frozen_literal_kernel():
    summary = analyse(load(EXAMPLES[[p.stem for p in EXAMPLES].index("edge_detector")]))
    conv = summary.rows[0]
    assert conv.output_shape == (5, 5, 1) and conv.params == 9 and not conv.trainable
    assert (summary.trainable_params, summary.non_trainable_params) == (0, 9)


def test_literal_kernel_is_used_for_every_channel_and_filter():
    summary = analyse(program("input (6, 6, 3)\nconv2d(4, kernel_initializer=[[1, 0], [0, 1]])"))
    assert summary.rows[0].output_shape == (5, 5, 4)
    assert summary.rows[0].params == 2 * 2 * 3 * 4 + 4


# ---- receptive fields ------------------------------------------------------------------------


def fields(text: str):
    return [row.receptive_field for row in analyse(program(text)).rows]


def test_receptive_field_conv_then_pool():
    assert fields("input (8, 8, 1)\nconv2d(2, 3)\nmax_pooling2d(2)") == [(3, 3), (4, 4)]


def test_receptive_field_two_blocks():
    text = "input (28, 28, 1)\nrepeat 2 {\nconv2d(2, 3)\nmax_pooling2d(2)\n}\nflatten\ndense(3)"
    assert fields(text) == [(3, 3), (4, 4), (8, 8), (10, 10), None, None]


def test_receptive_field_dilation_and_strides():
    assert fields("input (32, 1)\nconv1d(2, 3, dilation_rate=2)\nconv1d(2, 3, dilation_rate=4)") == [(5,), (13,)]
    assert fields("input (16, 16, 1)\nconv2d(2, 3, strides=2)\nconv2d(2, 3)") == [(3, 3), (7, 7)]
    assert fields("input (16, 16, 1)\nconv2d(2, (3, 1), padding=same)\naverage_pooling2d(2, strides=1)") == [
        (3, 1), (4, 2)
    ]


def test_receptive_field_carried_and_ended():
    text = """
        input (8, 8, 1)
        dropout(0.1)
        conv2d(2, 3)
        batch_normalization
        dense(4)
        global_average_pooling2d(keepdims=true)
        flatten
    """
    assert fields(text) == [None, (3, 3), (3, 3), (3, 3), None, None]


# ---- symbolic sizes --------------------------------------------------------------------------


def test_symbolic_sizes_without_data():
    summary = analyse(program("dense(64)\ndense(n_classes)"))
    n_features, n_classes = Sym("n_features"), Sym("n_classes")
    assert summary.input_shape == (n_features,)
    assert summary.rows[0].output_shape == (64,)
    assert summary.rows[0].params == 64 * n_features + 64
    assert summary.rows[1].output_shape == (n_classes,)
    assert str(summary.rows[1].params) == "65*n_classes"
    assert str(summary.total_params) == "65*n_classes + 64*n_features + 64"
    data = summary.to_dict()
    assert data["input_shape"] == ["n_features"] and data["output_shape"] == ["n_classes"]
    assert data["rows"][0]["params"] == "64*n_features + 64"
    assert data["total_params"] == "65*n_classes + 64*n_features + 64"


def test_symbolic_sizes_bound_by_data():
    summary = analyse(program("dense(64)\ndense(n_classes)"), data={"n_features": 64, "n_classes": 10})
    assert summary.input_shape == (64,) and summary.output_shape == (10,)
    assert [row.params for row in summary.rows] == [64 * 64 + 64, 65 * 10]
    assert summary.total_params == 4810 and summary.to_dict()["total_params"] == 4810


def test_symbolic_windows_and_text_lengths():
    summary = analyse(program("input (n_features, 1)\nconv1d(4, 3)\nconv1d(4, 3, strides=2)\nflatten"))
    assert str(summary.rows[0].output_shape[0]) == "n_features - 2"
    assert str(summary.rows[1].output_shape[0]) == "(n_features - 5) // 2 + 1"
    assert str(summary.rows[2].output_shape[0]) == "4*((n_features - 5) // 2) + 4"
    text = analyse(program("input text\ntext_vectorization(max_tokens=100)\nembedding(100, 8)\nlstm(4)"))
    assert text.to_dict()["rows"][1]["output_shape"] == ["steps", 8]
    assert text.output_shape == (4,)


def test_sym_arithmetic():
    n = Sym("n_features")
    assert str(n) == "n_features" and repr(n) == "Sym('n_features')"
    assert n - n == 0 and (n + 1) - n == 1
    assert str(2 - n) == "-n_features + 2"
    assert str(n * n * 3 + n) == "3*n_features*n_features + n_features"
    assert (4 * n + 8) / 4 == n + 2
    assert str(n // 2) == "n_features // 2" and str(n / 2) == "n_features / 2"
    assert (2 * n + 1) // 2 == n
    assert str((n + 1) * Sym("n_classes")) == "n_classes*n_features + n_classes"
    assert hash(n + 1) == hash(1 + n)


# ---- shape errors ----------------------------------------------------------------------------


def error_of(text: str, **kwargs) -> str:
    with pytest.raises(NetError) as caught:
        analyse(program(text), **kwargs)
    return str(caught.value)


def test_kernel_larger_than_its_input():
    text = error_of("input (8, 8, 1)\nconv2d(4, 3)\nmax_pooling2d(2)\nconv2d(4, 5)")
    assert "<string>:4:1: error[N302]: kernel_size 5 is larger than the input's 3x3 (after layer 2)" in text
    assert "layer 2 (`max_pooling2d`, line 3) outputs (3, 3, 4)" in text
    assert "padding=same" in text and "1 error in <string>" in text


def test_dilated_kernel_larger_than_its_input():
    text = error_of("input (4, 2)\nconv1d(2, 3, dilation_rate=2)")
    assert "<string>:2:1: error[N302]: kernel_size 3 with dilation_rate 2 spans 5, which is larger than the input's 4 (from `input`)" in text


def test_dimension_reaching_zero():
    text = error_of("input (4, 4, 1)\nmax_pooling2d\nmax_pooling2d\nmax_pooling2d")
    assert "<string>:4:1: error[N302]: pool_size 2 is larger than the input's 1x1 (after layer 2)" in text
    assert "the output would have size 0" in text


def test_too_deep_after_a_parameter_override():
    net = load(EXAMPLES[[p.stem for p in EXAMPLES].index("digits_cnn")])
    with pytest.raises(NetError) as caught:
        analyse(net, params={"depth": 4})
    text = str(caught.value)
    assert "digits_cnn.net:14:5: error[N302]: pool_size 2 is larger than the input's 1x1 (after layer 7)" in text


def test_conv2d_fed_a_vector():
    text = error_of("input (64)\nconv2d(8, 3)")
    assert "<string>:2:1: error[N301]: `conv2d` needs a 4-D input (batch, height, width, channels), got a 2-D tensor (batch, 64)" in text
    assert "declare `input (8, 8, 1)` or add `reshape((8, 8, 1))` before it" in text
    assert "<string>:1:1: note: the input is declared here" in text


def test_pooling2d_fed_the_wrong_rank():
    text = error_of("input (8, 8, 1)\nflatten\nmax_pooling2d")
    assert "<string>:3:1: error[N301]: `max_pooling2d` needs a 4-D input (batch, height, width, channels), got a 2-D tensor (batch, 64)" in text
    assert "add `reshape((8, 8, 1))` before it" in text and "declare `input" not in text
    text = error_of("input (28, 28)\nconv2d(4, 3)")
    assert "got a 3-D tensor (batch, 28, 28)" in text and "it needs a channels axis: declare `input (28, 28, 1)`" in text


def test_recurrent_fed_a_2d_tensor():
    text = error_of("input (24)\nlstm(8)")
    assert "<string>:2:1: error[N301]: `lstm` needs a 3-D input (batch, steps, features), got a 2-D tensor (batch, 24)" in text
    assert "a 2-D tensor (batch, features) has no steps axis: declare `input (steps, features)`" in text
    assert "`input (24, 1)`" in text and "`reshape((24, 1))`" in text
    assert "`bidirectional` needs a 3-D input" in error_of("input (5)\nbidirectional(gru(2))")
    assert "`simple_rnn` needs a 3-D input" in error_of("dense(3)\nsimple_rnn(2)")


def test_conv1d_fed_a_2d_tensor():
    text = error_of("input (10, 3)\nflatten\nconv1d(4, 3)")
    assert "<string>:3:1: error[N301]: `conv1d` needs a 3-D input (batch, steps, channels), got a 2-D tensor (batch, 30)" in text
    assert "reshape((30, 1))" in text


def test_embedding_after_floats():
    text = error_of("input (10)\ndense(4)\nembedding(10, 3)")
    assert "<string>:3:1: error[N310]: `embedding` needs integer tokens, but layer 1 (`dense`, line 2) outputs floats" in text
    text = error_of("input text\ntext_vectorization(max_tokens=10, output_mode=multi_hot)\nembedding(10, 3)")
    assert "layer 1 (`text_vectorization` with output_mode=multi_hot, line 2) outputs floats" in text
    assert "output_mode=int" in text
    # flatten and reshape keep tokens tokens
    analyse(program("input text\ntext_vectorization(max_tokens=10, output_sequence_length=4)\nreshape((2, 2))\nflatten\nembedding(10, 3)"))


def test_dense_on_text():
    text = error_of("input text\ndense(3)")
    assert "<string>:2:1: error[N307]: `dense` cannot read raw text" in text
    assert "start the net with `text_vectorization(...)`" in text


def test_reshape_sizes():
    text = error_of("input (8, 8)\nreshape((5, 5))")
    assert "<string>:2:9: error[N303]: `reshape` to (5, 5) needs 25 values, but its input (8, 8) has 64" in text
    text = error_of("input (8, 8)\nreshape((-1, 5))")
    assert "cannot reshape (8, 8) (64 values) into (-1, 5): 64 is not a multiple of 5" in text
    assert "is not a shape" in error_of("input (8, 8)\nreshape((-1, -1))")


def test_text_vectorization_placement():
    text = error_of("input text\ntext_vectorization(max_tokens=10)\ntext_vectorization(max_tokens=10)")
    assert "<string>:3:1: error[N307]: `text_vectorization` must be the first layer" in text
    assert "layer 1 (`text_vectorization`, line 2)" in text
    text = error_of("input (4)\ntext_vectorization")
    assert "<string>:2:1: error[N307]: `text_vectorization` needs `input text`" in text


def test_augmentation_needs_images():
    text = error_of("input (64)\ndense(2)\naugment {\nrandom_flip\nrandom_zoom(0.1)\ngaussian_noise(0.1)\n}")
    assert "<string>:4:1: error[N301]: `random_flip` needs a 4-D input (batch, height, width, channels), got a 2-D tensor (batch, 64)" in text
    assert "<string>:5:1: error[N301]: `random_zoom` needs a 4-D input" in text
    assert "2 errors in <string>" in text


def test_all_problems_reported_together():
    text = error_of("""
        input (10)
        dense(4)
        embedding(10, 3)
        conv2d(2, 3)
        augment {
            random_contrast(0.1)
        }
    """)
    assert "`random_contrast` needs a 4-D input" in text
    assert "`embedding` needs integer tokens" in text
    assert "`conv2d` needs a 4-D input" in text and "3 errors" in text
    assert text.index("`embedding` needs") < text.index("`conv2d` needs") < text.index("`random_contrast` needs")


def test_other_static_problems():
    text = error_of("input (9, 9, 1)\nconv2d(2, 3, strides=2, dilation_rate=2)")
    assert "`strides` above 1 cannot be combined with `dilation_rate` above 1" in text
    text = error_of("input (9, 9, 1)\nconv2d(2)")
    assert "`conv2d` needs `kernel_size`" in text
    text = error_of("input (9, 9, 1)\nconv2d(2, 3, kernel_initializer=[[1, 0], [0, 1]])")
    assert "<string>:2:11: error[N306]: kernel_size 3 does not match the literal kernel's 2x2" in text
    text = error_of("input (9, 9, 2)\nconv2d(2, kernel_initializer=[[[1], [0]], [[0], [1]]])")
    assert "the literal kernel has shape (2, 2, 1), but after its 2 spatial axes `conv2d` needs (2)" in text
    text = error_of("input (5)\nbatch_normalization(axis=0)")
    assert "<string>:2:26: error[N304]: `axis=0` is the batch axis" in text
    assert "`axis=3` is out of range for a 2-D tensor (batch, 5)" in error_of("input (5)\nlayer_normalization(axis=3)")
    assert "`kernel_size` (3, 3, 3) has 3 numbers" in error_of("input (9, 9, 1)\nconv2d(2, (3, 3, 3))")
    text = error_of("input (3)\ndense(2, kernel_initializer=[[1, 2], [3, 4]])")
    assert "the literal kernel has shape (2, 2), but `dense` maps 3 inputs to 2 units" in text


# ---- no TensorFlow in the language package ---------------------------------------------------


def test_shapes_does_not_import_tensorflow():
    code = (
        "import netdsl.dsl.shapes, sys; "
        "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules, "
        "[m for m in sys.modules if m.startswith(('tensorflow', 'keras'))]"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize("kind, shape, kernel, axes", [
    ("conv1d", "(8, 1)", "(3, 3)", "1 spatial axis"),
    ("conv2d", "(8, 8, 1)", "(3, 3, 3)", "2 spatial axes"),
])
def test_a_per_axis_argument_of_the_wrong_length_counts_the_axes_in_words(kind, shape, kernel, axes):
    from netdsl.dsl import NetError, analyse, loads

    with pytest.raises(NetError) as raised:
        analyse(loads(f"net t\ninput {shape}\n{kind}(4, kernel_size={kernel})\n"))
    assert raised.value.diagnostics[0].title.endswith(f"`{kind}` has {axes}")
    assert raised.value.diagnostics[0].code == "N305"


def test_receptive_fields_go_on_through_up_sampling():
    """Measured with Keras (the extent of the input pixels with a non-zero gradient, largest over the
    output positions) for this stack on 16x16: 8 after the second conv, 8 after up-sampling, then
    10 and 12: a step after up-sampling is half a step of the input further on."""
    net = program("input (16, 16, 1)\nconv2d(1, 3, padding=same)\nmax_pooling2d(2)\nconv2d(1, 3, padding=same)\n"
                  "up_sampling2d(2)\nconv2d(1, 3, padding=same)\nconv2d(1, 3, padding=same)")
    assert [row.receptive_field for row in analyse(net).rows] == [(3, 3), (4, 4), (8, 8), (8, 8), (10, 10), (12, 12)]
