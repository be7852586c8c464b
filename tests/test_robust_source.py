"""Hostile or odd `.net` sources: every one gives a located `NetError`, never a traceback, a hang or
a memory blow-up (issue 15). The exact messages of the common cases are golden files in
`tests/data/invalid/`; these tests cover what a golden file cannot hold (bytes that are not UTF-8,
programs of 100,000 characters) and the bounds themselves."""

import re

import pytest

from netdsl.dsl import NetError, analyse, dumps, format_source, load, loads, read_text
from netdsl.pipelines.cli import main


def error_of(text: str) -> NetError:
    with pytest.raises(NetError) as caught:
        analyse(loads(text))
    error = caught.value
    for diagnostic in error.diagnostics:
        assert diagnostic.span is not None, diagnostic.title
    return error


def only(error: NetError):
    assert len(error.diagnostics) == 1, error.render()
    return error.diagnostics[0]


# ---- files that are not UTF-8 ---------------------------------------------------------------


LATIN_1 = b'net a\ninput (4)\ndense(4, name="caf\xe9")\n'


def test_load_of_a_file_that_is_not_utf8_points_at_the_first_bad_byte(tmp_path):
    path = tmp_path / "latin.net"
    path.write_bytes(LATIN_1)
    with pytest.raises(NetError) as caught:
        load(path)
    diagnostic = only(caught.value)
    assert (diagnostic.span.line, diagnostic.span.col) == (3, 19)
    assert diagnostic.title == "the file is not UTF-8 text (byte e9)"
    assert 'dense(4, name="caf\ufffd")' in caught.value.render()


@pytest.mark.parametrize("command", [["check"], ["fmt"], ["fmt", "--check"]])
def test_check_and_fmt_of_a_file_that_is_not_utf8_exit_1_with_a_located_message(tmp_path, capsys, command):
    path = tmp_path / "latin.net"
    path.write_bytes(LATIN_1)
    assert main([*command, str(path)]) == 1
    err = capsys.readouterr().err
    assert f"{path}:3:19: error[N103]: the file is not UTF-8 text" in err
    assert "Traceback" not in err and "UnicodeDecodeError" not in err
    assert path.read_bytes() == LATIN_1  # fmt changed nothing


def test_fmt_goes_on_after_a_file_it_cannot_format(tmp_path, capsys):
    bad, good = tmp_path / "bad.net", tmp_path / "good.net"
    bad.write_bytes(LATIN_1)
    good.write_text("net  good\n", encoding="utf-8")
    assert main(["fmt", str(bad), str(good)]) == 1
    assert good.read_text(encoding="utf-8") == "net good\n"


def test_a_utf8_byte_order_mark_is_accepted(tmp_path):
    path = tmp_path / "bom.net"
    path.write_bytes(b"\xef\xbb\xbfnet bom\ninput (4)\ndense(2)\n")
    assert load(path).name == "bom"


def test_a_file_too_large_for_a_program_is_refused_without_reading_it_all(tmp_path, monkeypatch):
    import netdsl.dsl as dsl

    monkeypatch.setattr(dsl, "MAX_SOURCE_BYTES", 100)
    path = tmp_path / "big.net"
    path.write_text("net big\n" + "# padding\n" * 20, encoding="utf-8")
    with pytest.raises(NetError, match="larger than"):
        read_text(path)


# ---- string escapes ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "escape, help",
    [
        ("\\x", "`\\x` takes exactly 2 hexadecimal digits"),
        ("\\u12", "`\\u` takes exactly 4 hexadecimal digits"),
        ("\\N{NOT A NAME}", "there is no Unicode character named `NOT A NAME`"),
        ("\\N", "`\\N` takes a character name in braces, e.g. `\\N{BULLET}`"),
        ("\\U00110000", "`\\U00110000` is not a Unicode character"),
        ("\\ud800", "`\\ud800` is not a Unicode character"),
    ],
)
def test_a_bad_string_escape_is_located_at_the_escape(escape, help):
    diagnostic = only(error_of(f'net a\ninput (4)\ndense(4, name="ab{escape}")\n'))
    assert diagnostic.title == f"invalid escape `{escape}` in a string"
    assert diagnostic.help == help
    assert (diagnostic.span.line, diagnostic.span.col, diagnostic.span.end_col) == (3, 18, 18 + len(escape))


def test_good_escapes_still_decode():
    net = loads('net a\ninput (4)\ndense(4, name="a\\x41\\u00e9\\N{BULLET}\\t\\\\d")\n')
    assert net.layers[0].name == "aA\u00e9\u2022\t\\d"


# ---- arithmetic ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "source, line, title",
    [
        ("param z = 0\ninput (4)\ndense(8 / z)", 3, "cannot compute `8 / z`: division by zero"),
        ("param z = 0\nparam w = 8 / z\ninput (4)\ndense(w)", 2, "cannot compute `8 / z`: division by zero"),
        ("input (4)\ndense(8 / 0)", 2, "division by zero"),
        ("param h = 3000000000\nparam g = h * h * h\ninput (4)\ndense(g)", 2,
         "cannot compute `h * h * h`: the result is too large (at most 9,223,372,036,854,775,807, what 64 bits hold)"),
        ("param h = 1e300\ninput (4)\ndropout(h * h)", 3,
         "cannot compute `h * h`: the result is too large (beyond a 64-bit float, about 1.8e308)"),
        ("input (4)\ndense(4, kernel_initializer=[[1e999]])", 2, "number too large"),
        ("input (4)\ndense(" + "9" * 5000 + ")", 2, "number too large"),
        ('param s = "x"\nparam t = s * 2\ninput (4)\ndense(4)', 2, "cannot compute `s * 2`: cannot compute `*` with the word `x`"),
    ],
    ids=["div-zero", "param-div-zero", "literal-div-zero", "int-overflow", "float-overflow", "inf-literal",
         "5000-digits", "word-times-two"],
)  # fmt: skip
def test_arithmetic_that_cannot_be_done_is_a_located_error(source, line, title):
    diagnostic = only(error_of("net a\n" + source + "\n"))
    assert diagnostic.title == title
    assert diagnostic.span.line == line + 1


# ---- parameters used before they are declared -----------------------------------------------------


def test_a_parameter_defined_by_itself_is_located():
    diagnostic = only(error_of("net a\nparam a = a + 1\ninput (4)\ndense(a)\n"))
    assert diagnostic.title == "parameter `a` is used before it is declared"
    assert (diagnostic.span.line, diagnostic.span.col) == (2, 11)
    assert diagnostic.help == "a parameter's value cannot use the parameter itself"


def test_a_parameter_used_before_it_is_declared_is_located():
    diagnostic = only(error_of("net a\nparam b = 2 * c\nparam c = 2\ninput (4)\ndense(b)\n"))
    assert diagnostic.title == "parameter `c` is used before it is declared"
    assert (diagnostic.span.line, diagnostic.span.col) == (2, 15)
    assert "declared on line 3" in diagnostic.help


def test_a_layer_may_use_a_parameter_declared_below_it():
    assert loads("net a\ninput (4)\ndense(h)\nparam h = 3\n").layers[0].units.name == "h"


# ---- deep and large programs --------------------------------------------------------------------


@pytest.mark.parametrize(
    "source, title",
    [
        ("input (4)\ndense(" + "+".join(["1"] * 50_000) + ")", "expression nested more than 100 deep"),
        ("input (4)\ndense(" + "-" * 20_000 + "4)", "expression nested more than 100 deep"),
        ("input (4)\ndense(4, kernel_initializer=" + "[" * 3000 + "]" * 3000 + ")", "values nested more than 100 deep"),
        ("input (4)\n" + "repeat 1 {\n" * 2000 + "dense(4)\n" + "}\n" * 2000, "blocks (`repeat`, `residual`) nested more than 100 deep"),
        ("input (4)\n" + "residual {\n" * 200 + "dense(4)\n" + "}\n" * 200, "blocks (`repeat`, `residual`) nested more than 100 deep"),
    ],
    ids=["sum-50000-terms", "20000-signs", "lists-3000-deep", "repeat-2000-deep", "residual-200-deep"],
)
def test_deep_programs_are_refused_at_the_bound_not_with_recursion_error(source, title):
    text = "net deep\n" + source + "\n"
    assert only(error_of(text)).title == title
    if "blocks" in title:  # fmt reads programs through the same parser
        with pytest.raises(NetError, match=re.escape(title)):
            format_source(text)


def test_a_program_of_too_many_lines_is_refused_before_it_is_parsed():
    # 300,000 lines of `dense(2)` (2.7 MB) took Lark 21 s and 1.1 GB to build before any bound.
    (diagnostic,) = error_of("net long\ninput (3)\n" + "dense(2)\n" * 300_000).diagnostics
    assert (diagnostic.code, diagnostic.span.line, diagnostic.title) == ("N115", 50_001, "the program is longer than 50,000 lines")


def test_a_control_character_is_named_not_printed():
    # An escape sequence in the file recoloured the terminal; a bare `\r` moved the cursor back.
    error = error_of("net a\ninput (3)\ndense(2) \x1b[31mRED\n")
    assert error.diagnostics[0].title == "unexpected character `\\x1b` (U+001B)"
    assert "\x1b" not in error.render() and "dense(2) ?[31mRED" in error.render()


DEPTH = 100  # netdsl.dsl.parser.MAX_NESTING
AT_THE_BOUND = {
    "sum": "param h = 1\ninput (4)\ndense(" + "+".join(["h"] * DEPTH) + ")",
    "signs": "param h = 1\ninput (4)\ndense(" + "-" * DEPTH + "h)",
    "repeat": "input (4)\n" + "repeat 1 {\n" * DEPTH + "dense(4)\n" + "}\n" * DEPTH,
    "param": "param h = " + "+".join(["1"] * DEPTH) + "\nparam g = " + "+".join(["h"] * DEPTH) + "\ninput (4)\ndense(g)",
}


@pytest.mark.parametrize("name", AT_THE_BOUND)
def test_programs_at_the_nesting_bound_work_with_room_to_spare_on_the_stack(name):
    """Everything a program goes through (load, analyse, dumps, fmt) at MAX_NESTING fits in half
    of Python's default recursion limit, so a caller deep in its own stack is still safe."""
    import sys

    from netdsl.dsl import parser

    assert parser.MAX_NESTING == DEPTH
    text = "net bound\n" + AT_THE_BOUND[name] + "\n"
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(500)  # restored below; this test only
    try:
        net = loads(text)
        analyse(net)
        assert loads(dumps(net)) == net
        assert format_source(format_source(text)) == format_source(text)
    finally:
        sys.setrecursionlimit(limit)


def test_a_repeat_of_a_billion_layers_is_refused_without_unrolling_it():
    diagnostic = only(error_of("net huge\ninput (4)\nrepeat 1000000000 {\n    dense(4)\n}\n"))
    assert diagnostic.title == "too many layers: more than 2,000 once `repeat` blocks are unrolled"
    assert diagnostic.span.line == 3


def test_a_repeat_count_set_from_outside_is_bounded_too():
    from netdsl.dsl import resolve

    net = loads("net huge\nparam depth = 2\ninput (4)\nrepeat depth {\n    repeat depth {\n        dense(4)\n    }\n}\n")
    with pytest.raises(NetError, match="this `repeat` makes 100,000,000 layers") as caught:
        resolve(net, {"depth": 10_000})
    assert only(caught.value).span.line == 4


def test_two_thousand_layers_check_and_one_more_is_refused():
    # Keras fits 2,000 dense layers; at 4,000 its recursive graph map stops fit with a
    # RecursionError (10,000 took a minute to get there), which `check` must say first.
    two_thousand = "net deep\ninput (4)\n" + "dense(4)\n" * 2_000
    summary = analyse(loads(two_thousand))
    assert len(summary.rows) == 2_000
    diagnostic = only(error_of(two_thousand + "dense(4)\n"))
    assert diagnostic.span.line == 2_003 and "more than 2,000" in diagnostic.title
    assert only(error_of("net deep\ninput (4)\n" + "dense(4)\n" * 10_000)).span.line == 2_003


def test_a_name_of_200000_letters_is_refused_quickly(tmp_path, capsys):
    path = tmp_path / "long.net"
    path.write_text("net " + "a" * 200_000 + "\ninput (4)\ndense(2)\n", encoding="utf-8")
    assert main(["show", str(path)]) == 1
    err = capsys.readouterr().err
    assert "name too long (200,000 characters)" in err
    assert max(len(line) for line in err.splitlines()) < 200  # the excerpt is cut, not 200,000 columns


def test_show_prints_a_very_long_layer_name(tmp_path, capsys):
    """A layer name has no length bound (it is a string): `show`'s table prints it. (rich's
    highlighter, quadratic in a word's length, is off in every console the CLI prints with.)"""
    path = tmp_path / "long.net"
    path.write_text(f'net long\ninput (4)\ndense(2, name="{"b" * 100_000}")\n', encoding="utf-8")
    assert main(["show", str(path)]) == 0
    assert "bbbb" in capsys.readouterr().out


# ---- messages that misled --------------------------------------------------------------------------


def test_two_settings_on_one_line_say_one_setting_per_line():
    diagnostic = only(error_of("net a\ninput (4)\ndense(2)\ntrain {\n    optimizer = adam(learning_rate=0.01)  epochs = 10\n}\n"))
    assert diagnostic.help == "expected the end of the line: write one setting per line"


def test_one_axis_of_any_length_is_read_and_two_are_refused():
    assert loads("net a\ninput (none, 7)\ngru(4)\ndense(2)\n").input.shape == (None, 7)
    diagnostic = only(error_of("net a\ninput (none, none, 7)\ngru(4)\ndense(2)\n"))
    assert diagnostic.title == "at most one axis of an input may be `none`"
    assert diagnostic.code == "N213" and (diagnostic.span.line, diagnostic.span.col) == (2, 14)


# ---- large literal arrays ----------------------------------------------------------------------------


def test_a_literal_array_means_the_same_as_one_written_item_by_item():
    """An array of numbers is lexed as one MATRIX token; a comment inside makes it a `list` of
    `list`s instead: both read the same."""
    whole = "net a\ninput (2)\ndense(2, kernel_initializer=[[.5, +1], [- 2, 3e0,],])\n"
    items = "net a\ninput (2)\ndense(2, kernel_initializer=[[.5, +1],  # a comment\n [- 2, 3e0,],])\n"
    from netdsl.dsl.parser import parse

    assert "MATRIX" in str(parse(whole)[0]) and "MATRIX" not in str(parse(items)[0])
    assert loads(whole) == loads(items)
    assert loads(whole).layers[0].kernel_initializer == [[0.5, 1.0], [-2.0, 3.0]]
    assert format_source(whole) == "net a\ninput (2)\ndense(2, kernel_initializer=[[.5,   1],\n                             [-2, 3e0]])\n"


@pytest.mark.parametrize(
    "array, col, title",
    [
        ("[[1 2], [3, 4]]", 33, "unexpected `2` in an array of numbers"),
        ("[[1, 2], [3, 4,,]]", 44, "unexpected `,` in an array of numbers"),
        ("[[,]]", 31, "unexpected `,` in an array of numbers"),
        ("[[1, 2], [3, 1e999]]", 42, "number too large"),
    ],
)
def test_a_malformed_literal_array_is_located_at_the_bad_part(array, col, title):
    diagnostic = only(error_of(f"net a\ninput (2)\ndense(2, kernel_initializer={array})\n"))
    assert (diagnostic.title, diagnostic.span.line, diagnostic.span.col) == (title, 3, col)


def test_a_1000_by_1000_literal_kernel_checks_and_formats(tmp_path, capsys):
    """75 s and 1.3 GB before: the array was two million Lark tokens and a million pydantic calls."""
    import random

    rng = random.Random(0)
    rows = ["[" + ", ".join(str(rng.choice([0, 1, -1, 2.5])) for _ in range(1000)) + "]" for _ in range(1000)]
    path = tmp_path / "kernel.net"
    path.write_text("net big\ninput (1000)\ndense(1000, kernel_initializer=[" + ",\n".join(rows) + "])\n", encoding="utf-8")
    assert main(["check", str(path)]) == 0
    assert main(["fmt", str(path)]) == 0
    assert main(["fmt", "--check", str(path)]) == 0  # idempotent
    kernel = load(path).layers[0].kernel_initializer
    assert len(kernel) == 1000 and {len(row) for row in kernel} == {1000}


def test_a_huge_array_that_cannot_be_one_token_is_refused_early():
    """A name inside makes a 3 MB array two million tokens: refused at MAX_STATEMENT_TOKENS."""
    array = ", ".join(["[1, 2, x]"] * 60_000)
    diagnostic = only(error_of(f"net a\ninput (4)\ndense(4, kernel_initializer=[{array}])\n"))
    assert diagnostic.title == "statement too long: more than 200,000 tokens"
    assert diagnostic.span.line == 3


@pytest.mark.parametrize("array", ["[[1, [2]], [3, 4]]", "[[[[1]]]]", "[[[[[1]]]]]", "[[], []]", "[[1, 2], [3]]"])
def test_an_array_lexed_whole_reads_as_the_same_array_written_with_a_comment(array):
    """With a comment inside, an array is parsed item by item (the `list` rules): the same result,
    or the same problem, either way."""
    whole = f"net a\ninput (2)\ndense(2, kernel_initializer={array})\n"
    items = f"net a\ninput (2)\ndense(2, kernel_initializer={array[:-1]}  # comment\n])\n"

    def outcome(text):
        try:
            return loads(text).layers[0].kernel_initializer
        except NetError as error:
            return [d.title for d in error.diagnostics]

    assert outcome(whole) == outcome(items)
    assert format_source(format_source(whole)) == format_source(whole)


def test_dumps_writes_a_large_whole_number_in_a_kernel_so_that_it_reads_back():
    """`1e20` is a whole number, but written as an integer it is 21 digits, beyond 64 bits."""
    net = loads("net a\ninput (2)\ndense(2, kernel_initializer=[[1e20, 2], [3.5, -4]])\n")
    assert "1e+20" in dumps(net)
    assert loads(dumps(net)) == net


def test_thousands_of_diagnostics_render_in_linear_time():
    """Each diagnostic split the whole source into lines again: 9,000 errors took 18 s to print."""
    from netdsl.dsl import Diagnostic, Span

    class Source(str):
        splits = 0

        def splitlines(self, *args):
            Source.splits += 1
            return super().splitlines(*args)

    source = Source("dense(0)\n" * 1000)
    error = NetError([Diagnostic("bad", Span(i, 1, i, 9), help="fix it", code="N209") for i in range(1, 1001)], source, "x.net")
    assert error.render().count("error[N209]: bad") == 1000
    assert Source.splits <= 2  # once when the error is made, once for this render


@pytest.mark.parametrize("separator", ["\x0c", "\x1c", "\u2028", "\x0b"])
def test_an_unclosed_call_at_the_end_is_located_on_lark_s_line_after_an_odd_separator(separator):
    """Lark counts lines at `\\n` only; `str.splitlines` also splits at these, and the end of the
    file was once put on a line past the last (the language server then pointed at nothing)."""
    text = f"net a\ninput (4)\n# a comment{separator}with a separator\ndense(4"
    diagnostic = only(error_of(text))
    assert (diagnostic.span.line, diagnostic.span.col) == (4, 8), diagnostic
