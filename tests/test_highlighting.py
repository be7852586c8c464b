"""Highlighting `.net` everywhere: the Pygments lexer (`pygmentize -l net`, ```net blocks) and the
TextMate grammar of the VS Code extension, run on every example, every valid program of the
golden tests and every ```net block of the README and docs/.

The grammar is run by babi's TextMate engine (a `test` extra, on oniguruma like VS Code's own):
a region (a bracket, a block, a string) still open at the end of a file, or text that no rule
scoped, is a failure.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from pygments.lexers import get_lexer_by_name, get_lexer_for_filename
from pygments.token import Comment, Error, Keyword, Name, Number, String

from netdsl.dsl import words
from netdsl.editor import textmate
from netdsl.editor.lexer import NetLexer

ROOT = Path(__file__).resolve().parents[1]
PROGRAMS = sorted([*ROOT.glob("examples/*.net"), *ROOT.glob("tests/data/valid/*.net")])
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BLOCKS = {
    f"{path.name}-{number}": block
    for path in DOCUMENTS
    for number, block in enumerate(re.findall(r"^```net\n(.*?)^```", path.read_text(encoding="utf-8"), flags=re.M | re.S))
}
TWO_HEADS = (ROOT / "examples" / "two_heads.net").read_text(encoding="utf-8")
SAMPLE = """net sample   # a comment
param units = 8 in [4, 8]
input words text
text_vectorization(max_tokens=100, split="whitespace")
embedding(100, 8)
flatten
repeat 2 {
    hidden = dense(units, activation=relu)
}
train {
    optimizer = adam(learning_rate=1e-3)
    callbacks = [early_stopping(restore_best_weights=true)]
}
"""


def _pairs(text: str) -> list[tuple[object, str]]:
    return [(token, value) for token, value in NetLexer().get_tokens(text) if value.strip()]


def test_lexer_found_by_name_and_file_name():
    """The entry point in pyproject.toml registers it: what `pygmentize -l net` and Markdown
    renderers look up."""
    assert isinstance(get_lexer_by_name("net"), NetLexer)
    assert isinstance(get_lexer_by_name("netdsl"), NetLexer)
    assert isinstance(get_lexer_for_filename("model.net"), NetLexer)


def test_pygmentize_highlights_an_example():
    result = subprocess.run(
        [sys.executable, "-m", "pygments", "-l", "net", "-f", "html", str(ROOT / "examples" / "digits_cnn.net")],
        capture_output=True, text=True, check=True,
    )
    assert '<span class="nb">conv2d</span>' in result.stdout  # a kind, as a builtin
    assert '<span class="k">repeat</span>' in result.stdout
    assert 'class="err"' not in result.stdout


@pytest.mark.parametrize("path", PROGRAMS, ids=lambda path: f"{path.parent.name}/{path.name}")
def test_lexer_has_no_error_token_in_a_program(path):
    errors = [value for token, value in NetLexer().get_tokens(path.read_text(encoding="utf-8")) if token in Error]
    assert errors == []


@pytest.mark.parametrize("block", BLOCKS.values(), ids=BLOCKS.keys())
def test_lexer_has_no_error_token_in_a_net_block_of_the_docs(block):
    """Even the wrong programs of docs/diagnostics.md lex: the parser, not the lexer, reports them."""
    assert [value for token, value in NetLexer().get_tokens(block) if token in Error] == []


def test_docs_have_net_blocks():
    assert len(BLOCKS) > 50 and any(name.startswith("README") for name in BLOCKS)


def test_lexer_tells_the_words_apart():
    pairs = _pairs(SAMPLE)
    expected = [
        (Keyword, "net"), (Name.Class, "sample"), (Comment.Single, "# a comment"),
        (Keyword, "param"), (Name.Variable, "units"), (Keyword, "in"), (Number.Integer, "4"),
        (Keyword, "input"), (Name.Variable, "words"), (Name.Constant, "text"),
        (Name.Builtin, "text_vectorization"), (Name.Attribute, "max_tokens"), (String.Double, '"whitespace"'),
        (Name.Builtin, "embedding"), (Name.Builtin, "flatten"), (Keyword, "repeat"),
        (Name.Variable, "hidden"), (Name.Builtin, "dense"), (Name, "units"), (Name.Attribute, "activation"),
        (Name.Constant, "relu"), (Keyword, "train"), (Name.Attribute, "optimizer"), (Name.Builtin, "adam"),
        (Number.Float, "1e-3"), (Name.Attribute, "callbacks"), (Name.Builtin, "early_stopping"),
        (Keyword.Constant, "true"),
    ]
    missing = [pair for pair in expected if pair not in pairs]
    assert missing == []


def test_lexer_reads_settings_of_one_output():
    pairs = _pairs(TWO_HEADS)
    assert (Name.Variable, "digit") in pairs and (Name.Attribute, "loss_weight") in pairs
    assert (Name.Constant, "sparse_categorical_crossentropy") in pairs


@pytest.mark.parametrize("kind", sorted(words.CALLABLE_VALUES))
def test_lexer_knows_every_kind(kind):
    """Read from the language's registry, so a new kind needs no change here."""
    assert _pairs(f"{kind}(1)")[0] == (Name.Builtin, kind)


def test_lexer_import_reads_no_specs():
    """Pygments imports every plugin's module when it looks a lexer up: the specs (pydantic) are
    read only when a NetLexer is made, and TensorFlow never."""
    code = (
        "import sys, netdsl.editor.lexer as lexer\n"
        "assert 'netdsl.dsl.specs' not in sys.modules\n"
        "list(lexer.NetLexer().get_tokens('dense(3)'))\n"
        "assert 'netdsl.dsl.specs' in sys.modules and 'tensorflow' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# The TextMate grammar.


def test_grammar_file_is_current():
    """The file is written by `python -m netdsl.editor.textmate` from the language's words."""
    assert textmate.PATH.read_text(encoding="utf-8") == textmate.text(), "run `python -m netdsl.editor.textmate`"


def test_vscode_extension_names_the_grammar():
    package = json.loads((ROOT / "editor" / "vscode" / "package.json").read_text(encoding="utf-8"))
    (contribution,) = package["contributes"]["grammars"]
    assert contribution["scopeName"] == textmate.grammar()["scopeName"] == "source.netdsl"
    assert (ROOT / "editor" / "vscode" / contribution["path"]).resolve() == textmate.PATH


@pytest.fixture(scope="module")
def tokenize(tmp_path_factory):
    """`tokenize(text)`: each line's (text, scopes) and the scopes still open at the end."""
    if sys.version_info < (3, 11):
        pytest.skip("babi, the TextMate engine of the tests, needs Python 3.11")
    from babi.highlight import Grammars, highlight_line

    folder = tmp_path_factory.mktemp("grammars")
    (folder / "source.netdsl.json").write_text(textmate.PATH.read_text(encoding="utf-8"), encoding="utf-8")  # as VS Code reads it
    compiler = Grammars(str(folder)).compiler_for_scope("source.netdsl")

    def run(text: str):
        state, lines = compiler.root_state, []
        for number, line in enumerate(text.split("\n")):
            state, regions = highlight_line(compiler, state, line + "\n", number == 0)
            lines.append([((line + "\n")[region.start:region.end], region.scope) for region in regions])
        return lines, [entry.scope for entry in state.entries[1:]]

    return run


def _problems(text: str, tokenize) -> list[str]:
    """Text that no rule gave a scope of its own (only `source.netdsl` and `meta.*` regions), text
    scoped `invalid`, and regions still open at the end."""
    lines, still_open = tokenize(text)
    problems = [
        f"line {number}: {piece!r} {scopes}"
        for number, regions in enumerate(lines, 1)
        for piece, scopes in regions
        if piece.strip()
        and (all(scope == "source.netdsl" or scope.startswith("meta.") for scope in scopes)
             or any(scope.startswith("invalid") for scope in scopes))
    ]
    return problems + [f"open at the end: {scopes[-1]}" for scopes in still_open]


@pytest.mark.parametrize("path", PROGRAMS, ids=lambda path: f"{path.parent.name}/{path.name}")
def test_grammar_tokenizes_a_program(path, tokenize):
    assert _problems(path.read_text(encoding="utf-8"), tokenize) == []


@pytest.mark.parametrize(
    "text, problem",
    [
        ("dense(3,\n", "open at the end: meta.parens.netdsl"),
        ("repeat 2 {\n    dense(3)\n", "open at the end: meta.block.netdsl"),
        ("train {\n    epochs = 3\n", "open at the end: meta.block.train.netdsl"),
        ("dense(3) @ 2\n", "line 1: ' @ ' ('source.netdsl',)"),
        ("dense(3))\n", "line 1: ')' ('source.netdsl', 'invalid.illegal.unmatched.netdsl')"),
    ],
)
def test_grammar_check_finds_what_is_left_open_or_unscoped(text, problem, tokenize):
    """The check above can fail: on broken text it reports the region left open or the text."""
    assert any(found.startswith(problem) for found in _problems(text, tokenize)), _problems(text, tokenize)


def test_grammar_scopes(tokenize):
    lines, still_open = tokenize(SAMPLE)
    scoped = {piece.strip(): scopes[-1] for regions in lines for piece, scopes in regions if piece.strip()}
    assert still_open == []
    assert scoped["net"] == "keyword.other.declaration.netdsl"
    assert scoped["sample"] == "entity.name.type.net.netdsl"
    assert scoped["a comment"] == "comment.line.number-sign.netdsl"
    assert scoped["#"] == "punctuation.definition.comment.netdsl"
    assert scoped["in"] == "keyword.operator.in.netdsl"
    assert scoped["text"] == "constant.other.value.netdsl"
    assert scoped["text_vectorization"] == scoped["flatten"] == scoped["adam"] == "support.function.kind.netdsl"
    assert scoped["max_tokens"] == "variable.parameter.argument.netdsl"
    assert scoped["whitespace"] == "string.quoted.double.netdsl"
    assert scoped["repeat"] == "keyword.control.block.netdsl"
    assert scoped["hidden"] == "variable.other.definition.netdsl"
    assert scoped["optimizer"] == "variable.other.property.setting.netdsl"
    assert scoped["1e-3"] == "constant.numeric.float.netdsl"
    assert scoped["true"] == "constant.language.netdsl"
    assert scoped["{"] == "punctuation.section.block.begin.netdsl"
