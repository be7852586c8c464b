"""The `.net` language: parse, validate and analyse network programs without importing TensorFlow.

    >>> from netdsl.dsl import loads
    >>> net = loads("net tiny\\ninput (4)\\ndense(3, activation=softmax)\\n")
    >>> net.layers[0].units
    3
"""

from .errors import Diagnostic, NetError, Span
from .loader import build as _build

__all__ = ["Diagnostic", "NetError", "Span", "load", "loads", "dumps"]


def loads(text: str, filename: str = "<string>"):
    """Parse and validate `.net` source text; raises `NetError` with every problem found."""
    return _build(text, filename)


def load(path):
    """Read and validate a `.net` file."""
    from pathlib import Path

    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise NetError([Diagnostic(f"cannot read the file: {error.strerror}")], "", str(path)) from None
    return _build(text, str(path))
