"""The words of the language: every kind a call may name, and the bare words with a fixed meaning.

Read from the specs (`netdsl.dsl.specs`, whose kinds the registry `netdsl.dsl.kinds` lists), so a new
kind or a new allowed value of an argument is a word here without any list to keep.
"""

from __future__ import annotations

import typing
from typing import Literal

from . import kinds, specs
from .train_specs import LOSS_CALLS
from .values import DATA_NAMES, LITERAL_WORDS

# Every kind a call may name (`dense(...)`, `adam(...)`, `l2(...)`, `unfreeze(...)`), by kind.
CALLABLE_VALUES: dict[str, type] = {
    **specs.LAYERS,
    **specs.OPTIMIZERS,
    **specs.CALLBACKS,
    "unfreeze": specs.Unfreeze,
    **kinds.REGULARIZERS.specs,
    **LOSS_CALLS,  # `sparse_categorical_crossentropy(from_logits=true)`
}
# ... and `repeat`, the other node of a program with a `kind`.
KINDS = {**CALLABLE_VALUES, "repeat": specs.Repeat}


def literal_words(annotation) -> set[str]:
    """The words of every `Literal[...]` in a type (`padding`'s `valid` and `same`, the losses...)."""
    if typing.get_origin(annotation) is Literal:
        return {word for word in typing.get_args(annotation) if isinstance(word, str)}
    return set().union(*map(literal_words, typing.get_args(annotation)))


# Bare words with a fixed meaning; a `param` may not take one of these names: the allowed values of
# every argument and setting (read from the specs' types), `true`/`false`/`none`, the data-bound
# names, `text` (`input text`) and the values a monitor watches without a metric.
KEYWORDS = frozenset(
    {
        word
        for cls in (*KINDS.values(), specs.Train, specs.Input, specs.Param, specs.Net)
        for field, info in cls.model_fields.items()
        if field != "kind"
        for word in literal_words(info.annotation)
    }
    | set(LITERAL_WORDS)
    | set(DATA_NAMES)
    | {"text", "loss", "val_loss", "val_accuracy"}
)
