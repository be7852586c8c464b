"""A Pygments lexer for `.net` programs, registered as the `net` lexer (`pygmentize -l net x.net`,
```net blocks in Markdown and Sphinx).

It follows `grammar/net.lark`. The words with a meaning (layer and optimizer kinds, `relu`, `same`,
`true`) are read from the language's own tables (`netdsl.dsl.words`) when the lexer is first used,
not when Pygments imports this module while looking through its plugins, so a new kind is
highlighted without a list to keep here and listing Pygments' lexers stays as quick as it was.
"""

from __future__ import annotations

import functools
import re

from pygments.lexer import Future, RegexLexer, bygroups, include
from pygments.token import Comment, Keyword, Name, Number, Operator, Punctuation, String, Whitespace

__all__ = ["NetLexer"]

# The statement keywords of `grammar/net.lark` (`in` comes after a param's value or a loop's name).
KEYWORDS = ("net", "input", "output", "param", "in", "from", "repeat", "residual", "skip", "augment", "train")
_NAME = r"[A-Za-z_][A-Za-z0-9_]*"


@functools.cache
def _tables() -> dict[str, frozenset[str]]:
    """The language's words by what they are. Imported here, at first use: netdsl.dsl reads its
    specs (pydantic) but never TensorFlow."""
    from netdsl.dsl import kinds, ranges, values, words

    literals = frozenset(values.LITERAL_WORDS)
    data = frozenset(values.DATA_NAMES)
    return {
        # every kind a call may name, and the other spellings the loader takes for some
        "kinds": frozenset(words.CALLABLE_VALUES) | frozenset(kinds.LAYER_ALIASES),
        "ranges": frozenset(ranges.RANGE_ARGUMENTS) | frozenset(ranges.RANGE_ALIASES),
        "literals": literals,
        "data": data,
        # the values an argument or setting takes (`relu`, `same`, `categorical_crossentropy`)
        "values": frozenset(words.KEYWORDS) - literals - data,
    }


class _Words(Future):
    """A pattern whose `{words}` is one of the language's tables, filled at the lexer's first use
    (Pygments compiles a lexer's rules then, calling `get`)."""

    def __init__(self, table: str, pattern: str):
        self.table = table
        self.pattern = pattern

    def get(self) -> str:
        words = sorted(_tables()[self.table], key=lambda word: (-len(word), word))
        return self.pattern.replace("{words}", "(?:" + "|".join(map(re.escape, words)) + ")")


class NetLexer(RegexLexer):
    """The `.net` language of netdsl: a neural network, its tunable params and its training."""

    name = "netdsl"
    aliases = ["net", "netdsl"]
    filenames = ["*.net"]
    mimetypes = ["text/x-netdsl"]
    flags = re.MULTILINE

    tokens = {
        "root": [
            include("line"),
            # a layer alone on its line (`flatten`), and `NAME = layer`, which names its point
            (_Words("kinds", r"^([ \t\f]*)({words})\b(?![ \t]*[=.(])"), bygroups(Whitespace, Name.Builtin)),
            (r"^([ \t\f]*)(" + _NAME + r")([ \t\f]*)(=)", bygroups(Whitespace, Name.Variable, Whitespace, Operator)),
            (r"[ \t\f]+", Whitespace),
            (r"(train)(\s*)(\{)", bygroups(Keyword, Whitespace, Punctuation), "train"),
            (r"(param)(\s+)(" + _NAME + ")", bygroups(Keyword, Whitespace, Name.Variable)),
            (r"(net)(\s+)(" + _NAME + ")", bygroups(Keyword, Whitespace, Name.Class)),
            # `input image (8, 8, 1)`, `input words text`: the input's name
            (r"(input)([ \t]+)(" + _NAME + r")(?=[ \t]*[(A-Za-z_])", bygroups(Keyword, Whitespace, Name.Variable)),
            include("expression"),
        ],
        "train": [
            include("line"),
            # `epochs = 30`; one output's own: `digit.loss = mse`
            (r"^([ \t\f]*)(?:(" + _NAME + r")(\.))?(" + _NAME + r")([ \t\f]*)(=)",
             bygroups(Whitespace, Name.Variable, Punctuation, Name.Attribute, Whitespace, Operator)),
            (r"[ \t\f]+", Whitespace),
            (r"\}", Punctuation, "#pop"),
            include("expression"),
        ],
        "arguments": [
            # inside () and [] newlines do not end the statement
            (r"\s+", Whitespace),
            (r"#.*$", Comment.Single),
            (r"[)\]]", Punctuation, "#pop"),
            (r"(" + _NAME + r")(\s*)(=)", bygroups(Name.Attribute, Whitespace, Operator)),
            include("expression"),
        ],
        "line": [
            # up to the end of a line only, so that the rules for a statement's first word find it
            # at `^` (they take its indent themselves)
            (r"\s*\n", Whitespace),
            (r"#.*$", Comment.Single),
        ],
        "expression": [
            (r"[(\[]", Punctuation, "arguments"),
            (r'"(?:[^"\\\n]|\\.)*"', String.Double),
            (r"'(?:[^'\\\n]|\\.)*'", String.Single),
            (r"(?:\d+\.\d*|\.\d+)(?:[eE][+-]?\d+)?|\d+[eE][+-]?\d+", Number.Float),
            (r"\d+", Number.Integer),
            (r"(?:" + "|".join(KEYWORDS) + r")\b", Keyword),
            (_Words("kinds", r"({words})(\s*)(\()"), bygroups(Name.Builtin, Whitespace, Punctuation), "arguments"),
            (_Words("ranges", r"({words})(\s*)(\()"), bygroups(Name.Builtin, Whitespace, Punctuation), "arguments"),
            (r"(" + _NAME + r")(\s*)(\()", bygroups(Name.Function, Whitespace, Punctuation), "arguments"),
            (_Words("literals", r"{words}\b"), Keyword.Constant),
            (_Words("data", r"{words}\b"), Name.Builtin.Pseudo),
            (_Words("values", r"{words}\b"), Name.Constant),
            (_Words("kinds", r"{words}\b"), Name.Builtin),  # `optimizer = adam`
            (_NAME, Name),
            (r"[=+\-*/]", Operator),
            (r"[.,{}]", Punctuation),
            (r"[)\]]", Punctuation),  # one too many: the parser reports it, the lexer goes on
        ],
    }
