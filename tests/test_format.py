"""`netdsl fmt`: the examples are the house style, messy input converges to it, nothing is lost."""

from collections import Counter
from importlib import resources

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.lark import from_lark
from lark import Lark, Token, Tree

from netdsl.dsl import NetError, loads
from netdsl.dsl.format import format_source
from netdsl.dsl.parser import SyntaxProblem, matrix_parts, parse

from .conftest import EXAMPLES


def fmt(text: str) -> str:
    """Format, and check on the way that formatting the result changes nothing."""
    out = format_source(text)
    assert format_source(out) == out, "not idempotent"
    return out


def shape(text: str):
    """The parse tree as plain tuples: what the program says, without comments or layout."""

    def walk(node):
        if isinstance(node, Tree):
            return (str(node.data), *map(walk, node.children))
        if isinstance(node, Token) and node.type == "MATRIX":  # one token for a whole array: its numbers
            return (node.type, numbers(matrix_parts(node)))
        if isinstance(node, Token):
            return (node.type, str(node))
        return node

    def numbers(item):
        return tuple(map(numbers, item)) if isinstance(item, list) else item[0]

    return walk(parse(text)[0])


def comments(text: str) -> Counter:
    return Counter(comment.value.rstrip() for comment in parse(text)[1])


def lines(*rows: str) -> str:
    return "\n".join(rows) + "\n"


# -- the house style --------------------------------------------------------------------------


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_examples_are_formatted(path):
    text = path.read_text(encoding="utf-8")
    assert format_source(text) == text


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_messy_line_breaks_converge_to_the_example(path):
    text = path.read_text(encoding="utf-8")
    messy = "\n\n" + text.replace("\n\n", "\n\n\n\n").replace("\n", "\r\n").rstrip("\r\n")
    formatted = format_source(messy)
    assert formatted == text
    assert loads(formatted) == loads(messy)


def test_spacing_is_normalised():
    messy = lines(
        "net   tiny",
        "param  units=8 in[4,8 ,16,]",
        "input(4,)",
        "dense( units ,activation = relu )",
        "flatten()",
        "dense(3,activation=softmax,)",
        "train{loss=categorical_crossentropy",
        "  optimizer   =adam( learning_rate = 1e-3 )",
        "metrics=[ accuracy ]}",
    )
    expected = lines(
        "net tiny",
        "param units = 8 in [4, 8, 16]",
        "input (4)",
        "dense(units, activation=relu)",
        "flatten",
        "dense(3, activation=softmax)",
        "train {",
        "    loss = categorical_crossentropy",
        "    optimizer = adam(learning_rate=1e-3)",
        "    metrics = [accuracy]",
        "}",
    )
    assert fmt(messy) == expected
    assert loads(expected) == loads(messy)


def test_statement_across_lines_is_joined():
    messy = lines("net x", "input (8,", "   8, 1)", "conv2d(4,", "  kernel_size=3,", "  activation=relu", ")")
    assert fmt(messy) == lines("net x", "input (8, 8, 1)", "conv2d(4, kernel_size=3, activation=relu)")


def test_literals_are_kept_as_written():
    source = lines("param a = 1e-3", "param b = .5", "param c = 2.", 'param d = "it\'s"', "param e = 'say \"hi\"'")
    assert fmt(source) == source


@pytest.mark.parametrize(
    "source, expected",
    [
        ("(a + b) * 2", "(a + b) * 2"),
        ("a-(b-c)", "a - (b - c)"),
        ("a-b-c", "a - b - c"),
        ("a/(b*c)", "a / (b * c)"),
        ("-(a+b)", "-(a + b)"),
        ("- 1", "-1"),
        ("--1", "--1"),
        ("+1", "1"),
        ("2*-x", "2 * -x"),
        ("(a*b)+c", "(a * b) + c"),  # parentheses the author wrote stay
        ("((a+b))", "(a + b)"),
        ("f((x))", "f((x))"),
        ("(3,)", "(3,)"),
        ("( )", "()"),
        ("(1,2,)", "(1, 2)"),
        ("[ ]", "[]"),
        ("f( )", "f()"),
        ("[ [1,2] ]", "[[1, 2]]"),
    ],
)
def test_expressions(source, expected):
    assert fmt(f"param p = {source}\n") == f"param p = {expected}\n"
    assert shape(f"param p = {expected}\n") == shape(f"param p = {source}\n")


def test_inputs_and_bare_layers():
    source = lines("input (8, 8, 1)", "input (64)", "input ()", "input text", "flatten")
    assert fmt(source) == source
    assert fmt("input(64,)\n") == "input (64)\n"


def test_nested_blocks_are_indented():
    messy = "repeat 2 { dense(4)\nrepeat (n) {\ndropout(0.1) } }\naugment {random_flip(horizontal)}\n"
    assert fmt(messy) == lines(
        "repeat 2 {",
        "    dense(4)",
        "    repeat (n) {",
        "        dropout(0.1)",
        "    }",
        "}",
        "augment {",
        "    random_flip(horizontal)",
        "}",
    )


def test_empty_block_stays_on_one_line():
    assert fmt("augment {\n\n}") == "augment {}\n"


def test_blank_lines_collapse_and_vanish_at_the_edges():
    messy = "\n\n\nnet x\n\n\n\ninput (4)\ntrain {\n\n  epochs = 1\n\n\n  batch_size = 2\n\n}\n\n\n"
    assert fmt(messy) == lines("net x", "", "input (4)", "train {", "    epochs = 1", "", "    batch_size = 2", "}")


@pytest.mark.parametrize("ending", ["", "\n\n", "\r\n"])
def test_file_ends_with_one_newline(ending):
    assert fmt("net x\ninput (4)" + ending) == "net x\ninput (4)\n"


def test_empty_program():
    assert fmt("") == ""
    assert fmt("\n\n") == ""
    assert fmt("# only a comment") == "# only a comment\n"


# -- comments ---------------------------------------------------------------------------------


def test_full_line_comments_take_the_block_indentation():
    messy = lines(
        "  # about the net",
        "net x",
        "repeat 2 {",
        "# first",
        "dense(4)",
        "        # last in the block",
        "}",
        "   # the end",
    )
    assert fmt(messy) == lines(
        "# about the net",
        "net x",
        "repeat 2 {",
        "    # first",
        "    dense(4)",
        "    # last in the block",
        "}",
        "# the end",
    )


def test_blank_lines_around_comments_are_kept():
    source = lines("net x", "", "# a section", "", "input (4)", "", "# trailing section")
    assert fmt(source) == source


def test_trailing_comment_keeps_its_column_when_the_code_is_unchanged():
    source = lines("net x", "dense(4)            # aligned by hand", "dropout(0.5)   # also kept")
    assert fmt(source) == source


def test_aligned_trailing_comments_stay_aligned():
    messy = lines("param  a=1 in [1,2]     # grid", "param b = 2             # plain", "dense( 4 )  # alone")
    assert fmt(messy) == lines(
        "param a = 1 in [1, 2]   # grid", "param b = 2             # plain", "dense(4)  # alone"
    )


def test_trailing_comment_goes_two_spaces_after_reformatted_code():
    assert fmt("dense( 10 ,activation = softmax )   # out\n") == "dense(10, activation=softmax)  # out\n"
    assert fmt("dense(4,activation=relu) # tight\n") == "dense(4, activation=relu)  # tight\n"
    assert fmt("dense(4)# touching\n") == "dense(4)  # touching\n"
    assert fmt("dense(4) # one space\n") == "dense(4)  # one space\n"
    # a shared column that the reformatted code reaches gives way on that line only
    assert fmt("a(1,2) # x\nb(3)   # y\n") == "a(1, 2)  # x\nb(3)   # y\n"


def test_trailing_comments_on_braces():
    messy = "repeat 2 { # the body\n  dense(4) # a layer\n} # after the block\ntrain { epochs = 1 }  # one line\n"
    assert fmt(messy) == lines(
        "repeat 2 {  # the body",
        "    dense(4)  # a layer",
        "}  # after the block",
        "train {",
        "    epochs = 1",
        "}  # one line",
    )


def test_comments_inside_a_statement_move_before_it():
    messy = lines(
        "net x",
        "",
        "dense(4, # units",
        "  # the activation:",
        "  activation=relu) # trailing",
        "repeat (2 # inside the header",
        ") {",
        "  flatten",
        "}",
    )
    assert fmt(messy) == lines(
        "net x",
        "",
        "# units",
        "# the activation:",
        "dense(4, activation=relu)  # trailing",
        "# inside the header",
        "repeat (2) {",
        "    flatten",
        "}",
    )


def test_comment_text_and_crlf():
    assert fmt("net x   # trailing spaces   \r\n# own line\r\ninput (4)\r\n") == lines(
        "net x   # trailing spaces", "# own line", "input (4)"
    )


def test_hash_inside_a_string_is_not_a_comment():
    source = 'param s = "a # b"  # real\n'
    assert fmt(source) == source


# -- literal matrices -------------------------------------------------------------------------


def test_matrix_rows_are_aligned_under_the_bracket():
    messy = "conv2d(1,kernel_initializer=[[-1,-1,-1],[2,2,2],[-1,-1,-1]],use_bias=false)\n"
    assert fmt(messy) == lines(
        "conv2d(1, kernel_initializer=[[-1, -1, -1],",
        "                              [ 2,  2,  2],",
        "                              [-1, -1, -1]], use_bias=false)",
    )


def test_matrix_columns_have_their_own_widths_and_follow_the_indentation():
    messy = "train {\n  weights = [[1, 200], [30.5, -4], [1e-3, 5]]\n}\n"
    assert fmt(messy) == lines(
        "train {",
        "    weights = [[   1, 200],",
        "               [30.5,  -4],",
        "               [1e-3,   5]]",
        "}",
    )


def test_comments_between_matrix_rows_move_before_the_statement():
    messy = lines(
        "conv2d(1, kernel_initializer=[",
        "    [1, 0],  # top",
        "    # between",
        "    [0, 1]]) # after",
    )
    assert fmt(messy) == lines(
        "# top",
        "# between",
        "conv2d(1, kernel_initializer=[[1, 0],",
        "                              [0, 1]])  # after",
    )


@pytest.mark.parametrize("value", ["[[1, 2]]", "[[1, 2], [a, 3]]", "[[1, 2], 3]", "[[1, 2], []]", "[1, 2]"])
def test_not_a_matrix_stays_on_one_line(value):
    assert fmt(f"param p = {value}\n") == f"param p = {value}\n"


# -- errors -----------------------------------------------------------------------------------


def test_invalid_syntax_raises_net_error():
    with pytest.raises(NetError) as caught:
        format_source("net x\ndense(4\n", filename="bad.net")
    assert caught.value.filename == "bad.net"
    assert caught.value.diagnostics
    assert "bad.net:" in str(caught.value)


# -- properties -------------------------------------------------------------------------------

_NAMES = st.sampled_from(["a", "dense", "relu", "units", "x1", "same", "in_"])
_ATOMS = st.one_of(
    _NAMES,
    st.sampled_from(["0", "1", "2.5", "1e-3", ".5", "10.", "64"]),
    st.sampled_from(['"s"', "'x # y'", '""']),
)
_GAP = st.sampled_from(["", " ", "  ", "\t"])  # between tokens on one line
_INNER = st.sampled_from(["", " ", "\n", "\n    ", "  # inner\n ", "\n\n"])  # inside brackets


def _values(atoms):
    """Values as text, with the odd spacing, parentheses, signs and line breaks people write."""

    def grow(inner):
        pair = st.tuples(inner, _INNER, inner)
        items = st.lists(st.tuples(_INNER, inner), max_size=3).map(lambda xs: ",".join(g + v for g, v in xs))
        return st.one_of(
            st.tuples(inner, _GAP, st.sampled_from("+-*/"), _GAP, inner).map("".join),
            st.tuples(st.sampled_from("-+"), inner).map("".join),
            st.tuples(_INNER, inner, _INNER).map(lambda t: "(" + "".join(t) + ")"),
            items.map(lambda s: f"[{s}]"),
            pair.map(lambda t: f"({t[0]},{t[1]}{t[2]})"),
            inner.map(lambda v: f"({v},)"),
            st.tuples(_NAMES, items).map(lambda t: f"{t[0]}({t[1]})"),
            st.tuples(_NAMES, _NAMES, inner).map(lambda t: f"{t[0]}({t[1]}={t[2]})"),
        )

    rows = st.lists(st.lists(st.sampled_from(["1", "-2", "30", "0.5"]), min_size=2, max_size=2), min_size=2, max_size=3)
    matrices = rows.map(lambda rs: "[" + ",\n ".join("[" + ",".join(r) + "]" for r in rs) + "]")
    return st.one_of(st.recursive(atoms, grow, max_leaves=6), matrices)


_VALUES = _values(_ATOMS)
_ARGS = st.lists(st.one_of(_VALUES, st.tuples(_NAMES, _VALUES).map("=".join)), max_size=3).map(",".join)
_LAYERS = st.one_of(_NAMES, st.tuples(_NAMES, _ARGS).map(lambda t: f"{t[0]}({t[1]})"))
_COMMENT = st.sampled_from(["", "", " # note", "  #", "\t# tab"])
# The statements of a graph: `NAME = layer`, `from NAME`, merges (a layer of names, as `_LAYERS` makes).
_FLOW = st.one_of(
    _LAYERS,
    st.tuples(_NAMES, _GAP, _GAP, _LAYERS).map(lambda t: f"{t[0]}{t[1]}={t[2]}{t[3]}"),
    st.tuples(st.sampled_from([" ", "  ", "\t"]), _NAMES).map(lambda t: f"from{t[0]}{t[1]}"),
)


def _lines_of(statements, indent: str):
    return st.lists(st.tuples(st.sampled_from(["", indent, " "]), statements, _COMMENT), max_size=3).map(
        lambda rows: "\n".join(i + s + c for i, s, c in rows)
    )


def _blocks():
    body = st.deferred(lambda: st.one_of(_FLOW, repeat, residual))
    head = st.one_of(_VALUES, st.tuples(_NAMES, _GAP, _VALUES).map(lambda t: f"{t[0]} in{t[1]}[{t[2]}]"))
    repeat = st.tuples(head, _COMMENT, _lines_of(body, "  ")).map(lambda t: f"repeat {t[0]} {{{t[1]}\n{t[2]}\n}}")
    skip = st.tuples(_GAP, _COMMENT, _lines_of(body, "\t")).map(lambda t: f"{t[0]}skip {{{t[1]}\n{t[2]}\n}}")
    residual = st.tuples(_COMMENT, _lines_of(body, "    "), st.one_of(st.just(""), skip)).map(
        lambda t: f"residual {{{t[0]}\n{t[1]}\n}}{t[2]}"
    )
    settings_ = st.tuples(_NAMES, _GAP, _VALUES).map(lambda t: f"{t[0]}{t[1]}={t[2]}")
    augment = _lines_of(_LAYERS, "    ").map(lambda s: f"augment {{\n{s}\n}}")
    # `train { a = 1 }` on one line too, unless a comment would swallow the `}`.
    train = _lines_of(settings_, "\t").map(lambda s: "train {" + s + ("\n}" if "#" in s else "}"))
    return st.one_of(repeat, residual, augment, train)


_STATEMENTS = st.one_of(
    _NAMES.map(lambda n: f"net {n}"),
    st.lists(_VALUES, max_size=3).map(lambda vs: f"input ({','.join(vs)})"),
    _NAMES.map(lambda n: f"input {n}"),
    st.tuples(_NAMES, st.lists(_VALUES, max_size=3)).map(lambda t: f"input {t[0]}({','.join(t[1])})"),
    st.lists(_NAMES, min_size=1, max_size=3).map(lambda ns: "output " + " ,".join(ns)),
    st.tuples(_NAMES, _VALUES, st.lists(_ATOMS, max_size=3)).map(
        lambda t: f"param {t[0]} = {t[1]}" + (f" in [{', '.join(t[2])}]" if t[2] else "")
    ),
    _FLOW,
    _blocks(),
)
_SEPARATOR = st.sampled_from(["\n", "\n", "\n\n", "\n\n\n", "\n# own line\n", "\n   # indented\n\n"])


@st.composite
def programs(draw):
    parts = [draw(_SEPARATOR.filter(lambda s: "#" in s)) if draw(st.booleans()) else ""]
    for _ in range(draw(st.integers(0, 5))):
        parts.append(draw(_STATEMENTS) + draw(_COMMENT) + draw(_SEPARATOR))
    text = "".join(parts)
    if draw(st.booleans()):
        text = text.replace("\n", "\r\n")
    return text.rstrip("\n") if draw(st.booleans()) else text


def _check_round_trip(text: str) -> None:
    try:
        original = shape(text)
    except SyntaxProblem:
        return
    once = format_source(text)
    assert format_source(once) == once
    assert shape(once) == original
    assert comments(once) == comments(text)


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(programs())
def test_messy_programs_round_trip(text):
    _check_round_trip(text)


GRAMMAR = resources.files("netdsl.grammar").joinpath("net.lark").read_text(encoding="utf-8")
_EXPLICIT = {
    "NAME": _NAMES.map(lambda n: f" {n} "),
    "NUMBER": st.sampled_from(["0", "1", "0.5", "1e-3"]).map(lambda n: f" {n} "),
    "STRING": st.sampled_from(['"a"', "'b # c'"]),
    "COMMENT": st.sampled_from(["# c", "#"]),
    "_NL": st.sampled_from(["\n", "\r\n", " # nl\n"]),
    "_IN": st.just(" in "),
}


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(from_lark(Lark(GRAMMAR, parser="lalr"), explicit=_EXPLICIT))
def test_grammar_generated_programs_round_trip(text):
    _check_round_trip(text)
