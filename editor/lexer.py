"""A Pygments lexer for `.net` programs, registered as the `net` lexer (`pygmentize -l net x.net`,
```net blocks in Markdown and Sphinx).

It follows `grammar/net.lark`. The words with a meaning (layer and optimizer kinds, `relu`, `same`,
`true`) are read from the language's own tables (`netdsl.editor.vocabulary`) when the lexer is first
used, not when Pygments imports this module while looking through its plugins: listing Pygments'
lexers stays as quick as it was.
"""

from __future__ import annotations

import re

from pygments.lexer import Future, RegexLexer, bygroups, include
from pygments.token import Comment, Keyword, Name, Number, Operator, Punctuation, String, Whitespace

from .vocabulary import KEYWORDS, alternation

__all__ = ["NetLexer"]

_NAME = r"[A-Za-z_][A-Za-z0-9_]*"


class _Words(Future):
    """A pattern whose `{words}` is one of the language's tables, filled at the lexer's first use
    (Pygments compiles a lexer's rules then, calling `get`)."""

    def __init__(self, table: str, pattern: str):
        self.table = table
        self.pattern = pattern

    def get(self) -> str:
        return self.pattern.replace("{words}", alternation(self.table))


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
            (r"(input)([ \t]+)(" + _NAME + r")\b(?=[ \t]*[(A-Za-z_])", bygroups(Keyword, Whitespace, Name.Variable)),
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
            # a string left open ends with its line, as in the grammar (the parser reports it)
            (r'"(?:[^"\\\n]|\\.)*(?:"|$)', String.Double),
            (r"'(?:[^'\\\n]|\\.)*(?:'|$)", String.Single),
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
