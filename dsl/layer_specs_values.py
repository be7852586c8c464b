"""Argument types of the layer kinds in `layer_specs_conv`, `layer_specs_activation` and
`layer_specs_sequence` that `dsl/values.py` lacks (kept here, beside the kinds that use them)."""

from typing import Annotated, Literal, Union

from pydantic import Field

from .kinds import INITIALIZERS
from .values import arg

# An initializer by name only: these kinds take no literal arrays of weights (`dsl/values.py`'s
# `Initializer` takes them for `dense`, `conv1d`, `conv2d` and `embedding`).
InitializerName = arg(Literal[INITIALIZERS], "an initializer: " + ", ".join(INITIALIZERS))

_NonNeg = Annotated[int, Field(ge=0, le=2**31 - 1)]
# `output_padding` of a transposed convolution: 0 is a size (nothing added), unlike a stride.
OutputPadding = arg(Union[_NonNeg, tuple[_NonNeg, ...]], "a non-negative integer or a tuple of them")
