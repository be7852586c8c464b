"""Shapes and sizes as the messages write them."""

from __future__ import annotations

__all__ = ["shape_text", "tuple_text", "batch_text", "sizes_text", "dims_text"]


def shape_text(shape) -> str:
    """A shape as `.net` source writes it: `(8, 8, 1)`, `(64)`."""
    return "(" + ", ".join(str(d) for d in shape) + ")"


def tuple_text(shape) -> str:
    """A tuple literal: `(64, 1)`, `(64,)`."""
    return "(" + ", ".join(str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"


def batch_text(shape) -> str:
    """A shape with the batch axis first: `(batch, 8, 8, 1)`."""
    return "(" + ", ".join(["batch"] + [str(d) for d in shape]) + ")"


def sizes_text(values) -> str:
    """`3` for (3, 3), else `(3, 5)`."""
    values = tuple(values)
    return str(values[0]) if len(set(values)) == 1 else shape_text(values)


def dims_text(dims) -> str:
    """`8x8`."""
    return "x".join(str(d) for d in dims)
