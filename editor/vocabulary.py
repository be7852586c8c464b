"""The words of the `.net` language that highlighting tells apart, by what they are: read from the
language's own tables (`netdsl.dsl.words`), so a new kind is highlighted without a list to keep.

Shared by the Pygments lexer (which reads it at its first use) and the TextMate grammar (written
from it by `python -m netdsl.editor.textmate`).
"""

from __future__ import annotations

import functools
import re

# The statement keywords of `grammar/net.lark` (`in` comes after a param's value or a loop's name).
KEYWORDS = ("net", "input", "output", "param", "in", "from", "repeat", "residual", "skip", "augment", "train")


@functools.cache
def tables() -> dict[str, frozenset[str]]:
    """`kinds` (every kind a call may name), `ranges` (a param's search ranges), `literals`
    (`true`, `false`, `none`), `data` (`n_features`...) and `values` (the words an argument or
    setting takes: `relu`, `same`, `categorical_crossentropy`). Imported here, when first asked:
    netdsl.dsl reads its specs (pydantic) but never TensorFlow."""
    from netdsl.dsl import kinds, ranges, values, words

    literals = frozenset(values.LITERAL_WORDS)
    data = frozenset(values.DATA_NAMES)
    return {
        "kinds": frozenset(words.CALLABLE_VALUES) | frozenset(kinds.LAYER_ALIASES),
        "ranges": frozenset(ranges.RANGE_ARGUMENTS) | frozenset(ranges.RANGE_ALIASES),
        "literals": literals,
        "data": data,
        "values": frozenset(words.KEYWORDS) - literals - data,
    }


def alternation(table: str) -> str:
    """`(?:max_pooling2d|...|l2)`: one table's words as a group for a regular expression, longest
    first, in an order that does not change from run to run (the grammar file is compared)."""
    words = sorted(tables()[table], key=lambda word: (-len(word), word))
    return "(?:" + "|".join(map(re.escape, words)) + ")"
