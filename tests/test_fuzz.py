"""Grammar fuzzing: any program the grammar can generate either loads or raises NetError."""

from importlib import resources

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.lark import from_lark
from lark import Lark

from netdsl.dsl import NetError, analyse, loads

GRAMMAR = resources.files("netdsl.grammar").joinpath("net.lark").read_text(encoding="utf-8")
# The generator does not insert ignored whitespace, so give tokens their own separators.
NAMES = st.sampled_from(
    ["dense", "conv2d", "lstm", "relu", "same", "units", "filters", "hidden", "n_classes", "n_features",
     "true", "none", "text", "adam", "x", "kernel_size", "epochs", "early_stopping", "max_pooling2d",
     "input", "add", "concatenate", "dot", "identity", "h"]  # the points and merges of graphs
).map(lambda name: f" {name} ")  # fmt: skip
EXPLICIT = {
    "NAME": NAMES,
    "NUMBER": st.sampled_from(["0", "1", "3", "64", "0.5", "1e-3", "2.0"]).map(lambda n: f" {n} "),
    "STRING": st.sampled_from(['"a"', "'same'", '""']),
    "_NL": st.just("\n"),
    "_IN": st.just(" in "),
}


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(from_lark(Lark(GRAMMAR, parser="lalr"), explicit=EXPLICIT))
def test_generated_programs_load_or_raise_net_error(program):
    try:
        net = loads(program)
    except NetError as error:
        assert error.diagnostics
        return
    try:
        analyse(net)
    except NetError as error:
        assert error.diagnostics


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="net dense()[]{},=+-*/#\"'\n0123456789._abcx", max_size=60))
def test_arbitrary_text_loads_or_raises_net_error(text):
    try:
        loads(text)
    except NetError as error:
        assert error.diagnostics
