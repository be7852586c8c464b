"""The TextMate grammar of `.net` (`editor/vscode/syntaxes/net.tmLanguage.json`, scope
`source.netdsl`), written from the rules below and the language's own words, so it cannot drift
from the kinds the language has:

    python -m netdsl.editor.textmate            # writes the grammar
    python -m netdsl.editor.textmate --check    # exits 1 if the file is not what it would write

It follows `grammar/net.lark` and tells apart the same things as the Pygments lexer
(`netdsl.editor.lexer`): keywords, kinds, keyword arguments, settings, values, numbers, strings,
comments; `( )`, `[ ]` and `{ }` are regions, so an editor matches brackets and folds blocks.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from .vocabulary import KEYWORDS, alternation

PATH = Path(__file__).resolve().parent / "vscode" / "syntaxes" / "net.tmLanguage.json"
_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
_DECLARATIONS = ("net", "input", "output", "param")
_BLOCKS = tuple(word for word in KEYWORDS if word not in (*_DECLARATIONS, "from", "in"))  # repeat ... train


def _words(words) -> str:
    return r"\b(?:" + "|".join(words) + r")\b"


def _brackets(name: str, opening: str, closing: str) -> dict:
    """A region from `opening` to `closing` that may span lines, with keyword arguments inside."""
    return {
        "name": f"meta.{name}.netdsl",
        "begin": "\\" + opening,
        "beginCaptures": {"0": {"name": f"punctuation.section.{name}.begin.netdsl"}},
        "end": "\\" + closing,
        "endCaptures": {"0": {"name": f"punctuation.section.{name}.end.netdsl"}},
        "patterns": [{"include": "#comment"}, {"include": "#keyword-argument"}, {"include": "#expression"}],
    }


def _statements() -> dict:
    """The rules for the first words of a statement, and for blocks (`repeat n { }`, `train { }`)."""
    kinds = alternation("kinds")
    return {
        "declaration": {
            "patterns": [
                {"match": rf"\b(net)\s+({_NAME})",
                 "captures": {"1": {"name": "keyword.other.declaration.netdsl"}, "2": {"name": "entity.name.type.net.netdsl"}}},
                {"match": rf"\b(param)\s+({_NAME})",
                 "captures": {"1": {"name": "keyword.other.declaration.netdsl"}, "2": {"name": "variable.parameter.param.netdsl"}}},
                # `input image (8, 8, 1)`, `input words text`: the input's name
                {"match": rf"\b(input)[ \t]+({_NAME})\b(?=[ \t]*[(A-Za-z_])",
                 "captures": {"1": {"name": "keyword.other.declaration.netdsl"}, "2": {"name": "variable.other.definition.netdsl"}}},
            ]
        },
        # a layer alone on its line (`flatten`), and `NAME = layer`, which names its point
        "layer-line": {
            "patterns": [
                {"match": rf"^\s*({kinds})\b(?![ \t]*[=.(])", "captures": {"1": {"name": "support.function.kind.netdsl"}}},
                {"match": rf"^\s*({_NAME})\s*(=)",
                 "captures": {"1": {"name": "variable.other.definition.netdsl"}, "2": {"name": "keyword.operator.assignment.netdsl"}}},
            ]
        },
        "train-block": {
            "name": "meta.block.train.netdsl",
            "begin": r"\b(train)\s*(\{)",
            "beginCaptures": {"1": {"name": "keyword.control.block.netdsl"}, "2": {"name": "punctuation.section.block.begin.netdsl"}},
            "end": r"\}",
            "endCaptures": {"0": {"name": "punctuation.section.block.end.netdsl"}},
            "patterns": [
                {"include": "#comment"},
                # `epochs = 30`; one output's own: `digit.loss = mse`
                {"match": rf"^\s*(?:({_NAME})(\.))?({_NAME})\s*(=)",
                 "captures": {"1": {"name": "variable.other.object.netdsl"}, "2": {"name": "punctuation.accessor.netdsl"},
                              "3": {"name": "variable.other.property.setting.netdsl"}, "4": {"name": "keyword.operator.assignment.netdsl"}}},
                {"include": "#expression"},
            ],
        },
        "block": {
            "name": "meta.block.netdsl",
            "begin": r"\{",
            "beginCaptures": {"0": {"name": "punctuation.section.block.begin.netdsl"}},
            "end": r"\}",
            "endCaptures": {"0": {"name": "punctuation.section.block.end.netdsl"}},
            "patterns": [{"include": "#statement"}],
        },
        "statement": {
            "patterns": [
                {"include": "#comment"},
                {"include": "#train-block"},
                {"include": "#declaration"},
                {"include": "#layer-line"},
                {"include": "#block"},
                {"include": "#expression"},
            ]
        },
    }


def _expressions() -> dict:
    """The rules inside a statement: values, calls, brackets, operators."""
    return {
        "comment": {
            "match": r"(#).*$",
            "name": "comment.line.number-sign.netdsl",
            "captures": {"1": {"name": "punctuation.definition.comment.netdsl"}},
        },
        "string": {
            "patterns": [
                {"name": f"string.quoted.{kind}.netdsl", "begin": quote, "end": f"{quote}|$",
                 "beginCaptures": {"0": {"name": "punctuation.definition.string.begin.netdsl"}},
                 "endCaptures": {"0": {"name": "punctuation.definition.string.end.netdsl"}},
                 "patterns": [{"match": r"\\.", "name": "constant.character.escape.netdsl"}]}
                for kind, quote in (("double", '"'), ("single", "'"))
            ]
        },
        "number": {
            "patterns": [
                {"match": r"(?<![\w.])(?:(?:\d+\.\d*|\.\d+)(?:[eE][+-]?\d+)?|\d+[eE][+-]?\d+)", "name": "constant.numeric.float.netdsl"},
                {"match": r"(?<![\w.])\d+", "name": "constant.numeric.integer.netdsl"},
            ]
        },
        "keyword-argument": {
            "match": rf"\b({_NAME})\s*(=)",
            "captures": {"1": {"name": "variable.parameter.argument.netdsl"}, "2": {"name": "keyword.operator.assignment.netdsl"}},
        },
        "expression": {
            "patterns": [
                {"include": "#comment"},
                {"include": "#string"},
                {"include": "#number"},
                {"match": _words(_DECLARATIONS), "name": "keyword.other.declaration.netdsl"},
                {"match": _words(_BLOCKS), "name": "keyword.control.block.netdsl"},
                {"match": r"\bfrom\b", "name": "keyword.control.from.netdsl"},
                {"match": r"\bin\b", "name": "keyword.operator.in.netdsl"},
                {"match": rf"\b({alternation('kinds')}|{alternation('ranges')})\s*(?=\()", "captures": {"1": {"name": "support.function.kind.netdsl"}}},
                {"match": rf"\b({_NAME})\s*(?=\()", "captures": {"1": {"name": "entity.name.function.netdsl"}}},
                {"match": rf"\b{alternation('literals')}\b", "name": "constant.language.netdsl"},
                {"match": rf"\b{alternation('data')}\b", "name": "variable.language.data.netdsl"},
                {"match": rf"\b{alternation('values')}\b", "name": "constant.other.value.netdsl"},
                {"match": rf"\b{alternation('kinds')}\b", "name": "support.function.kind.netdsl"},  # `optimizer = adam`
                {"match": rf"\b{_NAME}\b", "name": "variable.other.netdsl"},
                _brackets("parens", "(", ")"),
                _brackets("brackets", "[", "]"),
                {"match": r"[+\-*/]", "name": "keyword.operator.arithmetic.netdsl"},
                {"match": "=", "name": "keyword.operator.assignment.netdsl"},
                {"match": ",", "name": "punctuation.separator.comma.netdsl"},
                {"match": r"\.", "name": "punctuation.accessor.netdsl"},
                {"match": r"[)\]}]", "name": "invalid.illegal.unmatched.netdsl"},
            ]
        },
    }


def grammar() -> dict:
    """The grammar, as the JSON object an editor reads."""
    return {
        "name": "netdsl",
        "scopeName": "source.netdsl",
        "fileTypes": ["net"],
        "comment": "Written by `python -m netdsl.editor.textmate` (netdsl/editor/textmate.py): edit that, not this file.",
        "patterns": [{"include": "#statement"}],
        "repository": {**_statements(), **_expressions()},
    }


def text() -> str:
    return json.dumps(grammar(), indent=2) + "\n"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv == ["--check"]:
        current = PATH.read_text(encoding="utf-8") if PATH.exists() else ""
        if current != text():
            print(f"{PATH} is not current: run `python -m netdsl.editor.textmate`", file=sys.stderr)
            return 1
        return 0
    PATH.write_text(text(), encoding="utf-8")
    print(f"wrote {PATH}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
