"""What the walk and the layer rules share: the tensor that flows between layers, a rule's result,
the problem that ends the walk, and what a rule knows besides its layer and input."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["KEEP", "Tensor", "Out", "Problem", "Context"]

KEEP = "keep"  # in `Out`: the output keeps the input's dtype / receptive field


@dataclass(frozen=True)
class Tensor:
    """What flows between layers: one sample's shape, what its values are, the receptive field."""

    shape: tuple
    # "string" (raw text), "tokens" (ints from text_vectorization), "raw" (the numeric input,
    # possibly integer ids) or "float" (anything a layer computed).
    dtype: str
    field: tuple | None = None  # ((size, jump), ...) per spatial axis
    made_by: str = "the input"  # who produced it, for messages
    vocabulary: Any = None  # "tokens": text_vectorization's `max_tokens` (the ids are below it), None if unbounded


@dataclass
class Out:
    """A rule's result: the output shape and weights; `frozen` weights are never trained."""

    shape: tuple
    params: Any = 0
    frozen: Any = 0
    field: Any = KEEP
    dtype: str | None = None  # None: floats made by this layer; KEEP: the input's


class Problem(Exception):
    """A shape problem that leaves the output unknown: ends the walk."""

    def __init__(self, code: str, title: str, help: str | None = None, arg: str | None = None):
        super().__init__(title)
        self.code, self.title, self.help, self.arg = code, title, help, arg  # code: netdsl.dsl.codes
        self.about_input = False  # the input's declaration is worth showing next to it


@dataclass
class Context:
    """What a rule knows besides the layer and its input, and where it records soft problems."""

    kind: str
    after: str  # "(after layer 2)" or "(from `input`)"
    source: str  # "layer 2 (`max_pooling2d`, line 14)" or "the input"
    from_input: bool
    text_input: bool
    notes: list = field(default_factory=list)
    filename: str = "<string>"  # of the `.net` file: relative paths (`embeddings=`) are read from its folder
    previous: Any = None  # the layer that made the input (None: the input itself), for advice
    branches: tuple = ()  # each point the layer reads, in words (`a` (layer 2, `dense`, line 3)), for merges

    def note(self, code: str, title: str, help: str | None = None, arg: str | tuple | None = None):
        """A problem (of kind `code`) after which the output shape is still known: reported, and the
        walk goes on."""
        self.notes.append(Problem(code, title, help, arg))
