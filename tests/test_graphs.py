"""Graphs (named points, `from`, merges, `identity`, `residual`, `repeat NAME in`, several inputs and
outputs) held to Keras: each construct written as a `.net` and by hand with Keras's functional API,
and `netdsl show`'s rows, the totals and the model netdsl builds compared with the hand-built one."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from netdsl.dsl import analyse, dumps, loads, resolve
from netdsl.dsl.format import format_source

TEXTS = {"words": ["a good film", "a bad film", "the best story ever told", "not good at all", "fine"]}


@pytest.fixture(scope="module")
def keras():
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    return pytest.importorskip("keras")


# ---- the constructs, each as a `.net` and as the same net built by hand -------------------------
#
# A builder gets `keras` and returns the functional model whose layers carry the names `netdsl
# show` gives them (a given name, or Keras's generated `dense`, `dense_1`, ... in row order).


def _dense_branches(keras, x, widths, names):
    return [keras.layers.Dense(w, name=n)(x) for w, n in zip(widths, names)]


def _named_point_and_from(keras):
    L = keras.layers
    x = keras.Input((4,), name="input")
    h = L.Dense(8, activation="relu", name="h")(x)
    a = L.Dense(3, activation="softmax", name="a")(h)
    b = L.Dense(1, name="b")(h)
    return keras.Model(x, [a, b])


def _from_input(keras):
    L = keras.layers
    x = keras.Input((4,), name="input")
    a, b = _dense_branches(keras, x, (8, 5), ("a", "b"))
    joined = L.Concatenate(name="concatenate")([a, b])
    return keras.Model(x, L.Dense(1, name="dense")(joined))


def _merge(kind: str, points: int):
    """`kind` over `points` dense branches of one input: the `.net` and its builder."""
    names = "abc"[:points]
    text = "\n".join(
        [f"net merge_{kind}", "input (6)"]
        + [f"{'from input' + chr(10) if i else ''}{n} = dense(4)" for i, n in enumerate(names)]
        + [f"{kind}({', '.join(names)})", "dense(1)"]
    ) + "\n"

    def build(keras):
        x = keras.Input((6,), name="input")
        branches = _dense_branches(keras, x, (4,) * points, names)
        merged = getattr(keras.layers, kind.capitalize())(name=kind)(branches)
        return keras.Model(x, keras.layers.Dense(1, name="dense")(merged))

    return text, build


def _concatenate_last_axis(keras):
    L = keras.layers
    x = keras.Input((5, 6), name="input")
    a, b = _dense_branches(keras, x, (4, 3), ("a", "b"))
    joined = L.Concatenate(name="joined")([a, b])
    return keras.Model(x, L.Dense(1, name="dense")(L.Flatten(name="flatten")(joined)))


def _concatenate_steps(keras):
    L = keras.layers
    x = keras.Input((5, 6), name="input")
    a, b = _dense_branches(keras, x, (4, 4), ("a", "b"))
    joined = L.Concatenate(axis=1, name="joined")([a, b])
    return keras.Model(x, L.Dense(1, name="dense")(L.Flatten(name="flatten")(joined)))


def _dot_vectors(keras):
    L = keras.layers
    a, b = keras.Input((4,), name="a"), keras.Input((3,), name="b")
    x, y = L.Dense(6, name="x")(a), L.Dense(6, name="y")(b)
    similarity = L.Dot(axes=1, normalize=True, name="similarity")([x, y])
    return keras.Model([a, b], L.Dense(1, name="dense")(similarity))


def _dot_pair(keras):
    L = keras.layers
    x = keras.Input((5, 4), name="input")
    q, k = _dense_branches(keras, x, (6, 6), ("q", "k"))
    scores = L.Dot(axes=(2, 2), name="dot")([q, k])
    return keras.Model(x, L.Dense(1, name="dense")(L.Flatten(name="flatten")(scores)))


def _dot_pair_mixed(keras):
    L = keras.layers
    p, q = keras.Input((5, 6), name="p"), keras.Input((7, 3), name="q")
    a = L.Identity(name="a")(p)
    b = L.Dense(5, name="b")(q)
    scores = L.Dot(axes=(1, 2), name="dot")([a, b])
    return keras.Model([p, q], L.Dense(1, name="dense")(L.Flatten(name="flatten")(scores)))


def _identity(keras):
    L = keras.layers
    x = keras.Input((4,), name="input")
    start = L.Identity(name="start")(x)
    h = L.Dense(4, name="h")(start)
    added = L.Add(name="add")([start, h])
    return keras.Model(x, L.Dense(1, name="dense")(added))


def _residual(keras):
    L = keras.layers
    x = keras.Input((8, 8, 1), name="input")
    stem = L.Conv2D(4, 3, padding="same", activation="relu", name="conv2d")(x)
    block = L.Conv2D(4, 3, padding="same", activation="relu", name="conv2d_1")(stem)
    block = L.Conv2D(4, 3, padding="same", name="conv2d_2")(block)
    added = L.Add(name="add")([block, stem])
    pooled = L.GlobalAveragePooling2D(name="global_average_pooling2d")(added)
    return keras.Model(x, L.Dense(3, activation="softmax", name="dense")(pooled))


def _residual_skip(keras):
    L = keras.layers
    x = keras.Input((8, 8, 1), name="input")
    stem = L.Conv2D(4, 3, padding="same", name="stem")(x)
    block = L.Conv2D(8, 3, strides=2, padding="same", activation="relu", name="conv2d")(stem)
    block = L.Conv2D(8, 3, padding="same", name="conv2d_1")(block)
    skip = L.Conv2D(8, 1, strides=2, padding="same", name="conv2d_2")(stem)
    added = L.Add(name="add")([block, skip])
    return keras.Model(x, L.Dense(1, name="dense")(L.Flatten(name="flatten")(added)))


def _residual_in_repeat(keras):
    L = keras.layers
    x = keras.Input((8,), name="input")
    y = x
    for copy in (1, 2):  # named layers inside `repeat`: NAME_1, NAME_2; the name reads the latest copy
        h = L.Dense(8, activation="relu", name=f"h_{copy}")(y)
        g = L.Dense(8, name=f"g_{copy}")(h)
        y = L.Add(name=("add", "add_1")[copy - 1])([h, g])
    for dense, add in (("dense", "add_2"), ("dense_1", "add_3")):
        y = L.Add(name=add)([L.Dense(8, activation="relu", name=dense)(y), y])
    return keras.Model(x, L.Dense(1, name="dense_2")(y))


def _repeat_values(keras):
    L = keras.layers
    x = keras.Input((8, 8, 1), name="input")
    y = x
    for i, filters in enumerate((4, 8)):
        y = L.Conv2D(filters, 3, padding="same", name=("conv2d", "conv2d_1")[i])(y)
        y = L.Dense(2 * filters, name=("dense", "dense_1")[i])(y)
    return keras.Model(x, L.Dense(1, name="dense_2")(L.GlobalMaxPooling2D(name="global_max_pooling2d")(y)))


def _repeat_param_values(keras):
    L = keras.layers
    x = keras.Input((6,), name="input")
    y = x
    for i, units in enumerate((8, 16)):
        y = L.Dense(units, name=f"layer_{i + 1}")(y)
    return keras.Model(x, L.Dense(1, name="dense")(y))


def _text_and_numbers(keras):
    L = keras.layers
    words, stats = keras.Input((), dtype="string", name="words"), keras.Input((3,), name="stats")
    vectorize = L.TextVectorization(max_tokens=50, output_sequence_length=6, name="text_vectorization")
    vectorize.adapt(TEXTS["words"])
    t = L.Embedding(50, 4, name="embedding")(vectorize(words))
    t = L.Dense(4, name="t")(L.GlobalAveragePooling1D(name="global_average_pooling1d")(t))
    s = L.Dense(4, name="s")(stats)
    joined = L.Concatenate(name="concatenate")([t, s])
    return keras.Model([words, stats], L.Dense(1, activation="sigmoid", name="score")(joined))


def _two_towers(keras):
    L = keras.layers
    image, meta = keras.Input((8, 8, 1), name="image"), keras.Input((3,), name="meta")
    x = L.Conv2D(8, 3, padding="same", activation="relu", name="x")(image)
    block = L.Conv2D(8, 3, padding="same", activation="relu", name="conv2d")(x)
    block = L.Conv2D(8, 3, padding="same", name="conv2d_1")(block)
    y = L.Add(name="add")([block, x])
    block = L.Conv2D(16, 3, strides=2, padding="same", name="conv2d_2")(y)
    skip = L.Conv2D(16, 1, strides=2, padding="same", name="conv2d_3")(y)
    y = L.Add(name="add_1")([block, skip])
    y = L.Conv2D(8, 3, padding="same", name="conv2d_4")(y)
    y = L.Conv2D(16, 3, padding="same", name="conv2d_5")(y)
    flat = L.Flatten(name="flat")(y)
    m = L.Dense(4, name="m")(meta)
    h = L.Concatenate(name="h")([flat, m])
    digit = L.Dense(10, activation="softmax", name="digit")(h)
    even = L.Dense(1, activation="sigmoid", name="even")(h)
    return keras.Model([image, meta], [digit, even])


def _broadcast_rank(keras):
    L = keras.layers
    x = keras.Input((5, 3), name="input")
    seq = L.Dense(8, name="seq")(x)
    v = L.Dense(8, name="v")(L.Flatten(name="flatten")(x))
    added = L.Add(name="add")([seq, v])  # (5, 8) + (8): the vector added at every step
    return keras.Model(x, L.Dense(1, name="dense")(L.Flatten(name="flatten_1")(added)))


def _broadcast_gate(keras):
    L = keras.layers
    x = keras.Input((5, 3), name="input")
    seq = L.Dense(8, name="seq")(x)
    gate = L.Dense(1, activation="sigmoid", name="gate")(x)
    gated = L.Multiply(name="multiply")([seq, gate])  # (5, 8) * (5, 1): one weight per step
    return keras.Model(x, L.Dense(1, name="dense")(L.Flatten(name="flatten")(gated)))


def _cross_attention(keras):
    L = keras.layers
    source, target = keras.Input((6, 8), name="source"), keras.Input((5, 8), name="target")
    encoded = L.MultiHeadAttention(2, 4, name="encoded")(source, source)
    attended = L.MultiHeadAttention(2, 4, name="attended")(target, encoded)
    keyed = L.MultiHeadAttention(2, 4, output_shape=3, name="keyed")(attended, encoded, key=source)
    return keras.Model([source, target], L.Dense(4, name="out")(keyed))


def _lines(*rows: str) -> str:
    return "\n".join(rows) + "\n"


CASES = {
    "cross_attention": (_lines(
        "net cross", "input source (6, 8)", "input target (5, 8)", "from source", "encoded = multi_head_attention(2, 4)",
        "from target", "attended = multi_head_attention(2, 4, value=encoded)",
        "keyed = multi_head_attention(2, 4, value=encoded, key=source, output_shape=3)", "out = dense(4)",
    ), _cross_attention),
    "named_point_and_from": (_lines(
        "net points", "input (4)", "output a, b", "h = dense(8, activation=relu)", "a = dense(3, activation=softmax)",
        "from h", "b = dense(1)",
    ), _named_point_and_from),
    "from_input": (_lines(
        "net from_input", "input (4)", "a = dense(8)", "from input", "b = dense(5)", "concatenate(a, b)", "dense(1)",
    ), _from_input),
    **{f"merge_{kind}": _merge(kind, 2 if kind == "subtract" else 3)
       for kind in ("add", "subtract", "multiply", "average", "maximum", "minimum", "concatenate")},
    "concatenate_last_axis": (_lines(
        "net join", "input (5, 6)", "a = dense(4)", "from input", "b = dense(3)", "joined = concatenate(a, b, axis=-1)",
        "flatten", "dense(1)",
    ), _concatenate_last_axis),
    "concatenate_steps": (_lines(
        "net join", "input (5, 6)", "a = dense(4)", "from input", "b = dense(4)", "joined = concatenate(a, b, axis=1)",
        "flatten", "dense(1)",
    ), _concatenate_steps),
    "dot_vectors_normalized": (_lines(
        "net similar", "input a (4)", "input b (3)", "from a", "x = dense(6)", "from b", "y = dense(6)",
        "similarity = dot(x, y, axes=1, normalize=true)", "dense(1)",
    ), _dot_vectors),
    "dot_axes_pair": (_lines(
        "net scores", "input (5, 4)", "q = dense(6)", "from input", "k = dense(6)", "dot(q, k, axes=(2, 2))",
        "flatten", "dense(1)",
    ), _dot_pair),
    "dot_axes_mixed": (_lines(
        "net scores", "input p (5, 6)", "input q (7, 3)", "from p", "a = identity", "from q", "b = dense(5)",
        "dot(a, b, axes=(1, 2))", "flatten", "dense(1)",
    ), _dot_pair_mixed),
    "identity": (_lines(
        "net ident", "input (4)", "start = identity", "h = dense(4)", "add(start, h)", "dense(1)",
    ), _identity),
    "residual": (_lines(
        "net res", "input (8, 8, 1)", "conv2d(4, 3, padding=same, activation=relu)", "residual {",
        "    conv2d(4, 3, padding=same, activation=relu)", "    conv2d(4, 3, padding=same)", "}",
        "global_average_pooling2d", "dense(3, activation=softmax)",
    ), _residual),
    "residual_skip": (_lines(
        "net res", "input (8, 8, 1)", "stem = conv2d(4, 3, padding=same)", "residual {",
        "    conv2d(8, 3, strides=2, padding=same, activation=relu)", "    conv2d(8, 3, padding=same)", "} skip {",
        "    conv2d(8, 1, strides=2, padding=same)", "}", "flatten", "dense(1)",
    ), _residual_skip),
    "residual_in_repeat": (_lines(
        "net deep", "input (8)", "repeat 2 {", "    h = dense(8, activation=relu)", "    g = dense(8)", "    add(h, g)",
        "}", "repeat 2 {", "    residual {", "        dense(8, activation=relu)", "    }", "}", "dense(1)",
    ), _residual_in_repeat),
    "repeat_values": (_lines(
        "net widen", "input (8, 8, 1)", "repeat f in [4, 8] {", "    conv2d(f, 3, padding=same)", "    dense(2 * f)",
        "}", "global_max_pooling2d", "dense(1)",
    ), _repeat_values),
    "repeat_param_values": (_lines(
        "net widen", "param width = 8 in [4, 8]", "input (6)", "repeat units in [width, 2 * width] {",
        "    layer = dense(units)", "}", "dense(1)",
    ), _repeat_param_values),
    "repeat_param_list": (_lines(
        "net widen", "param widths = [8, 16]", "input (6)", "repeat units in widths {",
        "    layer = dense(units)", "}", "dense(1)",
    ), _repeat_param_values),
    "text_and_numbers": (_lines(
        "net review", "input words text", "input stats (3)", "output score", "from words",
        "text_vectorization(max_tokens=50, output_sequence_length=6)", "embedding(50, 4)", "global_average_pooling1d",
        "t = dense(4)", "from stats", "s = dense(4)", "concatenate(t, s)", "score = dense(1, activation=sigmoid)",
    ), _text_and_numbers),
    "two_towers": (_lines(
        "net two_towers", "input image (8, 8, 1)", "input meta (3)", "output digit, even", "from image",
        "x = conv2d(8, 3, padding=same, activation=relu)", "residual {",
        "    conv2d(8, 3, padding=same, activation=relu)", "    conv2d(8, 3, padding=same)", "}", "residual {",
        "    conv2d(16, 3, strides=2, padding=same)", "} skip {", "    conv2d(16, 1, strides=2, padding=same)", "}",
        "repeat f in [8, 16] {", "    conv2d(f, 3, padding=same)", "}", "flat = flatten", "from meta", "m = dense(4)",
        "h = concatenate(flat, m)", "digit = dense(10, activation=softmax)", "from h",
        "even = dense(1, activation=sigmoid)",
    ), _two_towers),
    "broadcast_rank": (_lines(
        "net spread", "input (5, 3)", "seq = dense(8)", "from input", "flatten", "v = dense(8)", "add(seq, v)", "flatten",
        "dense(1)",
    ), _broadcast_rank),
    "broadcast_gate": (_lines(
        "net gated", "input (5, 3)", "seq = dense(8)", "from input", "gate = dense(1, activation=sigmoid)",
        "multiply(seq, gate)", "flatten", "dense(1)",
    ), _broadcast_gate),
}  # fmt: skip


def _weights(variables) -> int:
    return sum(int(np.prod(v.shape)) for v in variables)


def _inbound(model) -> dict[str, tuple[str, ...]]:
    """Each layer's name -> the names of the layers it reads, in order (from the model's config,
    Keras's public record of the connections)."""

    def history(value):
        if isinstance(value, dict) and "keras_history" in value.get("config", {}):
            yield value["config"]["keras_history"][0]
        elif isinstance(value, dict):
            for item in value.values():
                yield from history(item)
        elif isinstance(value, (list, tuple)):
            for item in value:
                yield from history(item)

    return {layer["name"]: tuple(history(layer["inbound_nodes"])) for layer in model.get_config()["layers"]}


def _layers(model) -> dict[str, tuple]:
    """Each layer's name -> its class, output shape (no batch), weights (all, trainable), inputs."""
    inbound = _inbound(model)
    return {
        layer.name: (type(layer).__name__, tuple(layer.output.shape[1:]), layer.count_params(),
                     _weights(layer.trainable_weights), inbound[layer.name])
        for layer in model.layers
    }  # fmt: skip


@pytest.mark.parametrize("name", CASES)
def test_graph_is_the_net_keras_builds_by_hand(keras, name):
    text, builder = CASES[name]
    net = loads(text)
    summary = analyse(net)
    expected = builder(keras)  # (every layer named: no need to restart Keras's generated names)
    layers = _layers(expected)
    inputs = {layer.name for layer in expected.layers if type(layer).__name__ == "InputLayer"}

    # `netdsl show`: one row per layer, each as Keras has it: shape, weights, the points it reads.
    assert sorted(row.name for row in summary.rows) == sorted(n for n in layers if n not in inputs)
    for row in summary.rows:
        kind, shape, params, trainable, reads = layers[row.name]
        if kind == "MultiHeadAttention" and len(reads) == 2 and reads[0] == reads[1]:
            reads = reads[:1]  # self-attention: Keras's call (x, x) reads one point
        assert (row.output_shape, row.params, row.params - row.non_trainable_params, row.inputs) == (
            shape, params, trainable, reads), row.name
    assert summary.total_params == expected.count_params()
    assert summary.trainable_params == _weights(expected.trainable_weights)
    assert summary.inputs == {x.name.split(":")[0]: tuple(x.shape[1:]) for x in expected.inputs}
    outputs = expected.get_config()["output_layers"]  # [name, node, index] each, or one of them alone
    outputs = [name for name, _, _ in (outputs if isinstance(outputs[0], list) else [outputs])]
    assert summary.outputs == {name: tuple(y.shape[1:]) for name, y in zip(outputs, expected.outputs)}

    # The model netdsl builds: the same layers, wired the same way, inputs and outputs in order.
    from netdsl.estimators.compile import build_model

    built = build_model(resolve(net), text_samples=TEXTS if "text" in name else None)
    assert _layers(built) == layers
    assert [x.name for x in built.inputs] == [x.name for x in expected.inputs]
    assert [y.shape for y in built.outputs] == [y.shape for y in expected.outputs]
    assert built.count_params() == expected.count_params()


# ---- the text: fmt and dumps --------------------------------------------------------------------


@pytest.mark.parametrize("name", CASES)
def test_graph_programs_are_formatted_and_read_back_from_dumps(name):
    text = CASES[name][0]
    assert format_source(text) == text  # the programs above are in the house style
    net = loads(text)
    assert loads(dumps(net)) == net
    assert dumps(loads(dumps(net))) == dumps(net)


MESSY = _lines(
    "# top",
    "net   towers   # after net",
    "input image(8,8,1)   # image input",
    "input  meta ( 3, )",
    "output digit ,even,   # outputs",
    "# before from",
    "from   image # trailing from",
    "x=conv2d( 8,3,padding=same ) # named",
    "residual{ # opens residual",
    "# first in block",
    "conv2d(8,",
    "  # inside a call",
    "  3, padding=same)",
    "}skip{   # skip opens",
    "   conv2d(8,1)   # in skip",
    "  # last in skip",
    "}   # after skip",
    "repeat f in[4,",
    "   # inside the values",
    "   8]{ # repeat opens",
    "      y=conv2d(f,3,padding=same)",
    "}",
    "flat=flatten",
    "from meta",
    "m = dense( 4 )",
    "h=concatenate( flat,m, axis = -1 )   # merge",
    "digit=dense(10,activation=softmax)",
    "from h",
    "even = dense(1,activation=sigmoid)",
    "# the end",
)


def test_fmt_of_a_graph_keeps_every_comment_where_it_belongs():
    formatted = format_source(MESSY)
    assert formatted == _lines(
        "# top",
        "net towers  # after net",
        "input image (8, 8, 1)  # image input",
        "input meta (3)",
        "output digit, even  # outputs",
        "# before from",
        "from image  # trailing from",
        "x = conv2d(8, 3, padding=same)  # named",
        "residual {  # opens residual",
        "    # first in block",
        "    # inside a call",  # a comment inside a statement moves before it
        "    conv2d(8, 3, padding=same)",
        "} skip {  # skip opens",
        "    conv2d(8, 1)  # in skip",
        "    # last in skip",
        "}   # after skip",  # the code unchanged: the comment keeps its column
        "# inside the values",
        "repeat f in [4, 8] {  # repeat opens",
        "    y = conv2d(f, 3, padding=same)",
        "}",
        "flat = flatten",
        "from meta",
        "m = dense(4)",
        "h = concatenate(flat, m, axis=-1)  # merge",
        "digit = dense(10, activation=softmax)",
        "from h",
        "even = dense(1, activation=sigmoid)",
        "# the end",
    )
    assert format_source(formatted) == formatted
    assert sorted(line.split("#", 1)[1] for line in MESSY.splitlines() if "#" in line) == sorted(
        line.split("#", 1)[1].rstrip() for line in formatted.splitlines() if "#" in line)
    assert loads(formatted) == loads(MESSY)
    assert loads(dumps(loads(MESSY))) == loads(MESSY)


# ---- netdsl show ---------------------------------------------------------------------------------


def test_show_of_a_graph_says_what_each_layer_reads_and_the_outputs(tmp_path, capsys):
    from netdsl.pipelines.cli import main

    path = tmp_path / "two_towers.net"
    path.write_text(CASES["two_towers"][0])
    assert main(["show", str(path), "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["inputs"] == {"image": [8, 8, 1], "meta": [3]}
    assert shown["outputs"] == {"digit": [10], "even": [1]}
    reads = {row["name"]: row["inputs"] for row in shown["rows"]}
    assert reads["x"] == ["image"] and reads["m"] == ["meta"]
    assert reads["add"] == ["conv2d_1", "x"] and reads["add_1"] == ["conv2d_2", "conv2d_3"]
    assert reads["h"] == ["flat", "m"] and reads["digit"] == reads["even"] == ["h"]
    assert shown["total_params"] == 7775

    assert main(["show", str(path)]) == 0
    table = capsys.readouterr().out
    assert "reads" in table and "conv2d_2, conv2d_3" in table
    assert "outputs: digit (batch, 10), even (batch, 1)" in table


def test_show_json_of_a_chain_has_one_input_and_one_output(tmp_path, capsys):
    from netdsl.pipelines.cli import main

    path = tmp_path / "chain.net"
    path.write_text("net chain\ninput (4)\ndense(8)\ndense(1)\n")
    assert main(["show", str(path), "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["inputs"] == {"input": [4]} and shown["outputs"] == {"dense_1": [1]}
    assert [row["inputs"] for row in shown["rows"]] == [["input"], ["dense"]]
    assert main(["show", str(path)]) == 0
    table = capsys.readouterr().out
    assert "reads" not in table and "outputs:" not in table


# ---- the analysis of graphs, without Keras --------------------------------------------------------


def test_repeat_over_param_values_follows_the_value_set_from_outside():
    net = loads(CASES["repeat_param_values"][0])
    assert [row.output_shape for row in analyse(net).rows] == [(8,), (16,), (1,)]
    assert [(row.name, row.output_shape) for row in analyse(net, {"width": 4}).rows] == [
        ("layer_1", (4,)), ("layer_2", (8,)), ("dense", (1,))]


def test_wire_gives_each_step_the_points_it_reads():
    from netdsl.dsl.graph import wire

    graph = wire(loads(CASES["text_and_numbers"][0]))
    assert graph.inputs == ("words", "stats") and not graph.problems
    assert [step.inputs for step in graph.steps] == [(~0,), (0,), (1,), (2,), (~1,), (3, 4), (5,)]
    assert graph.outputs == (6,) and graph.output_names == ("score",) and not graph.is_chain
    assert wire(loads("net chain\ninput (4)\ndense(8)\ndense(1)\n")).is_chain
    assert not wire(loads(CASES["residual"][0])).is_chain


# Each is refused by Keras too, but for axis 0, which Keras takes (it joins the samples of a batch).
MERGE_MISTAKES = {
    "concatenate_batch_axis": ("a = dense(4)\nfrom input\nb = dense(4)\nconcatenate(a, b, axis=0)",
                               (6, 24), "`concatenate` cannot join along axis 0 of (batch, 5, 4)"),
    "concatenate_past_the_last_axis": ("a = dense(4)\nfrom input\nb = dense(4)\nconcatenate(a, b, axis=3)",
                                       (6, 24), "`concatenate` cannot join along axis 3 of (batch, 5, 4)"),
    "dot_axis_past_the_last": ("a = dense(4)\nfrom input\nb = dense(4)\ndot(a, b, axes=3)",
                               (6, 16), "`dot` has no axis 3 in (batch, 5, 4)"),
    "dot_sizes": ("a = dense(4)\nfrom input\nb = dense(3)\ndot(a, b, axes=(2, 2))", (6, 5),
                  "`dot` cannot merge `a` (layer 1, `dense`, line 3) (batch, 5, 4) with `b` (layer 2, `dense`, line 5) "
                  "(batch, 5, 3): the summed axes have sizes 4 and 3"),
    "elementwise_sizes": ("a = dense(4)\nfrom input\nb = dense(3)\nmultiply(a, b)", (6, 10),
                          "`multiply` cannot merge `a` (layer 1, `dense`, line 3) (batch, 5, 4) with `b` (layer 2, "
                          "`dense`, line 5) (batch, 5, 3): element-wise merges need equal shapes"),
    "elementwise_rank_not_aligned": ("a = dense(4)\nfrom input\nflatten\nb = dense(5)\nadd(a, b)", (7, 5),
                                     "`add` cannot merge `a` (layer 1, `dense`, line 3) (batch, 5, 4) with `b` (layer "
                                     "3, `dense`, line 6) (batch, 5): element-wise merges need equal shapes"),
}  # fmt: skip


@pytest.mark.parametrize("name", MERGE_MISTAKES)
def test_a_merge_of_shapes_that_do_not_fit_is_a_located_n805(name):
    from netdsl.dsl import NetError

    body, (line, col), title = MERGE_MISTAKES[name]
    with pytest.raises(NetError) as caught:
        analyse(loads(f"net m\ninput (5, 6)\n{body}\nflatten\ndense(1)\n"))
    [diagnostic] = caught.value.diagnostics
    assert (diagnostic.code, diagnostic.span.line, diagnostic.span.col, diagnostic.title) == ("N805", line, col, title)


def test_a_repeat_inside_repeat_reads_the_outer_name_in_its_values_and_count():
    nested = "net n\ninput (4)\nrepeat f in [2, 3] {\n    repeat g in [f, 2 * f] {\n        dense(g * f)\n    }\n}\ndense(1)\n"
    assert [row.output_shape for row in analyse(loads(nested)).rows] == [(4,), (8,), (9,), (18,), (1,)]
    counted = "net n\ninput (4)\nrepeat n in [1, 2] {\n    repeat n {\n        h = dense(n)\n    }\n}\ndense(1)\n"
    assert [(row.name, row.output_shape) for row in analyse(loads(counted)).rows] == [
        ("h_1", (1,)), ("h_2", (2,)), ("h_3", (2,)), ("dense", (1,))]


@pytest.mark.parametrize("body, where, title", [
    ("repeat n in [1.5] {\n    repeat n {\n        dense(4)\n    }\n}", (4, 12), "invalid value for `count`"),
    ("repeat n in [1000000000] {\n    repeat n {\n        dense(4)\n    }\n}", (4, 5),
     "too many layers: more than 2,000 once `repeat` blocks are unrolled"),
    ("repeat a in [2, 0] {\n    dense(4 / a)\n}", (4, 11), "cannot compute `4 / a`: division by zero"),
    ("repeat a in [relu] {\n    dense(4 * a)\n}", (4, 11), "cannot compute `4 * a`: cannot compute `*` with the word `relu`"),
    ("repeat f in [2] {\n    repeat g in [f / 0] {\n        dense(g)\n    }\n}", (4, 18),
     "cannot compute `f / 0`: division by zero"),
    ("repeat 2000 {\n    repeat 2000 {\n        repeat 2000 {\n            from input\n        }\n    }\n}", (5, 9),
     "too many layers: more than 2,000 once `repeat` blocks are unrolled"),
])  # fmt: skip
def test_what_a_repeat_name_sets_is_checked_located_and_bounded(body, where, title):
    import time

    from netdsl.dsl import NetError

    start = time.perf_counter()
    with pytest.raises(NetError) as caught:
        analyse(loads(f"net n\ninput (4)\n{body}\ndense(1)\n"))
    assert time.perf_counter() - start < 5, "unrolled too far before stopping"
    [diagnostic] = caught.value.diagnostics
    assert ((diagnostic.span.line, diagnostic.span.col), diagnostic.title) == (where, title)


def test_repeat_over_a_param_holding_a_list_follows_its_value():
    net = loads(CASES["repeat_param_list"][0])
    assert loads("param widths = [8, 16] in [[8], [8, 16]]\n").params[0].values == ([8], [8, 16])  # one token
    assert [row.output_shape for row in analyse(net).rows] == [(8,), (16,), (1,)]
    assert [row.output_shape for row in analyse(net, {"widths": [4, 4, 2]}).rows] == [(4,), (4,), (2,), (1,)]
    assert [row.output_shape for row in analyse(net, {"widths": [8]}).rows] == [(8,), (1,)]


def test_the_keras_cases_cover_every_merge_and_identity():
    """tests/test_shapes.py leaves these kinds to this file: each is in a case built with Keras."""
    from netdsl.dsl.resolution import flat_layers

    used = {layer.kind for text, _ in CASES.values() for _, layer in flat_layers(resolve(loads(text)))}
    assert {"add", "subtract", "multiply", "average", "maximum", "minimum", "concatenate", "dot", "identity"} <= used


# ---- random graphs: netdsl and Keras agree on what fits and on every shape ------------------------

_RANDOM_LAYERS = ["dense({u})", "flatten", "conv1d({u}, 2, padding=same)", "global_average_pooling1d", "reshape((1, {u}))",
                  "max_pooling1d(2)", "identity", "repeat_vector(3)"]
_RANDOM_MERGES = {"add": [""], "subtract": [""], "multiply": [""], "maximum": [""], "concatenate": ["", ", axis=1", ", axis=2"],
                  "dot": [", axes=1", ", axes=-1", ", axes=(2, 1)", ", axes=2, normalize=true"]}


def _random_graph(rng) -> str:
    """A small graph of named points: layers, `from`, `residual`, and merges of two points."""
    lines, names = ["net r", f"input ({rng.choice([4, 6])}, {rng.choice([1, 3])})"], ["input"]
    for i in range(rng.randint(2, 7)):
        r = rng.random()
        if r < 0.3 and len(names) >= 2:
            kind = rng.choice(sorted(_RANDOM_MERGES))
            lines.append(f"p{i} = {kind}({', '.join(rng.sample(names, 2))}{rng.choice(_RANDOM_MERGES[kind])})")
        elif r < 0.4:
            lines.append(f"from {rng.choice(names)}")
            continue
        elif r < 0.5:
            lines += ["residual {", "    " + rng.choice(_RANDOM_LAYERS).format(u=rng.choice([1, 3])), "}"]
            continue
        else:
            lines.append(f"p{i} = " + rng.choice(_RANDOM_LAYERS).format(u=rng.choice([1, 2, 3])))
        names.append(f"p{i}")
    return "\n".join(lines + ["dense(1)"]) + "\n"


def _keras_of_steps(keras, net):
    """The wired steps built with Keras's classes, straight from the specs (None where Keras refuses)."""
    from netdsl.dsl.graph import wire

    made = {~0: keras.Input(tuple(net.input.shape))}
    for i, step in enumerate(wire(net).steps):
        spec = step.layer
        layer = getattr(keras.layers, type(spec).__name__)(**spec.model_dump(exclude={"kind", "name", "inputs", "trainable"}))
        reads = [made[p] for p in step.inputs]
        try:
            made[i] = layer(reads) if hasattr(spec, "inputs") else layer(reads[0])
        except ValueError:
            return None
    return made


def test_random_graphs_fit_together_in_netdsl_exactly_when_they_do_in_keras(keras):
    import random

    from netdsl.dsl import NetError

    rng, agreed = random.Random(17), {"built": 0, "refused": 0}
    for _ in range(150):
        text = _random_graph(rng)
        try:
            summary = analyse(loads(text))
        except NetError as error:
            if [d.code for d in error.diagnostics] == ["N805"]:  # a merge that does not fit: Keras refuses it too
                assert _keras_of_steps(keras, resolve(loads(text))) is None, text
                agreed["refused"] += 1
            continue
        made = _keras_of_steps(keras, resolve(loads(text)))
        assert made is not None, text
        assert [row.output_shape for row in summary.rows] == [tuple(made[i].shape[1:]) for i in range(len(summary.rows))], text
        agreed["built"] += 1
    assert agreed["built"] >= 30 and agreed["refused"] >= 8, agreed


@pytest.mark.parametrize("body, where, code, title", [
    ("multi_head_attention(2, 4, key=input)", (3, 32), "N804", "`multi_head_attention` takes `key=` with `value=`"),
    ("multi_head_attention(2, 4, value=encoder)", (3, 34), "N802", "unknown point `encoder`"),
    # One mistake, one error: after an unknown `from`, no second "which input?" (N808) below it.
    ("from dense\ndense(4)", (3, 6), "N802", "unknown point `dense`"),
    # Keras makes a node per point read: `fit` of a 90,000-point merge ran for minutes in gigabytes.
    ("h = dense(4)\nadd(" + ", ".join(["h"] * 2001) + ")", (4, 5), "N804", "`add` merges at most 2,000 named points, not 2,001"),
])  # fmt: skip
def test_cross_attention_mistakes_are_located(body, where, code, title):
    from netdsl.dsl import NetError

    with pytest.raises(NetError) as caught:
        analyse(loads(f"net a\ninput (5, 8)\n{body}\nflatten\ndense(1)\n"))
    [diagnostic] = caught.value.diagnostics
    assert (diagnostic.code, (diagnostic.span.line, diagnostic.span.col), diagnostic.title) == (code, where, title)


def test_cross_attention_trains_on_the_fast_path():
    import numpy as np

    from netdsl.estimators import NetRegressor

    net = _lines("net cross", "input source (6, 4)", "input target (3, 4)", "from source", "encoded = dense(4)",
                 "from target", "multi_head_attention(2, 4, value=encoded)", "global_average_pooling1d", "dense(1)",
                 "train {", "    epochs = 2", "}")
    rng = np.random.default_rng(0)
    X = rng.normal(size=(32, 36)).astype("float32")  # source's 24 values, then target's 12
    est = NetRegressor(net, random_state=0).fit(X, X[:, 0])
    assert est.training_path_ == "fast" and est.predict(X).shape == (32,)


def test_each_outputs_train_settings_are_checked_against_that_output():
    from netdsl.dsl import NetError

    text = _lines("net heads", "input (16)", "output kind, yes", "h = dense(8)", "kind = dense(3, activation=softmax)",
                  "from h", "yes = dense(1, activation=sigmoid)", "train {",
                  "    kind.loss = sparse_categorical_crossentropy(from_logits=true)",
                  "    yes.loss = categorical_crossentropy", "    kind.metrics = [categorical_accuracy]",
                  "    callbacks = [early_stopping(monitor=val_kind_acc)]", "}")
    with pytest.raises(NetError) as caught:
        analyse(loads(text))
    found = [(d.code, d.span.line, d.span.col) for d in caught.value.diagnostics]
    assert found == [("N408", 9, 61), ("N402", 10, 16), ("N401", 11, 21), ("N404", 12, 41)]
    assert "did you mean `val_kind_loss`?" in caught.value.diagnostics[-1].help
