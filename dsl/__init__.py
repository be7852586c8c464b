"""The `.net` language: parse, validate and analyse network programs without importing TensorFlow.

    >>> from netdsl.dsl import loads, dumps
    >>> net = loads("net tiny\\ninput (4)\\ndense(3, activation=softmax)\\n")
    >>> net.layers[0].units
    3
    >>> loads(dumps(net)) == net
    True
"""

from pathlib import Path

from .errors import Diagnostic, NetError, Span

# Imported on first use, so `netdsl --help` and `import netdsl.dsl` stay cheap: the specs (pydantic
# models) and the parser are built only when a program is read.
_LAZY = {"flat_layers": "resolution", "parameter_values": "resolution", "resolve": "resolution"}


def __getattr__(name):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _build(text: str, filename: str):
    from .loader import build

    return build(text, filename)

__all__ = [
    "Diagnostic", "NetError", "Span", "load", "loads", "dumps", "resolve", "flat_layers",
    "parameter_values", "analyse", "format_source", "read_source",
]  # fmt: skip


def loads(text: str, filename: str = "<string>"):
    """Parse and validate `.net` source text; raises `NetError` with every problem found."""
    return _build(text, filename)


def load(path):
    """Read and validate a `.net` file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise NetError([Diagnostic(f"cannot read the file: {error.strerror}")], "", str(path)) from None
    return _build(text, str(path))


def read_source(net) -> tuple[str, str]:
    """(source text, file name) of a program given as a path to a `.net` file, its source text, or a
    `Net` spec: what the estimators and searches accept as `net`."""
    from . import specs

    if isinstance(net, specs.Net):
        return dumps(net), "<spec>"
    looks_like_path = isinstance(net, str) and "\n" not in net and (net.strip().endswith(".net") or Path(net).is_file())
    if isinstance(net, Path) or looks_like_path:
        path = Path(net)
        try:
            return path.read_text(encoding="utf-8"), str(path)
        except OSError as error:
            raise NetError([Diagnostic(f"cannot read the file: {error.strerror}")], "", str(path)) from None
    if isinstance(net, str):
        return net, "<string>"
    raise TypeError(f"`net` must be a path to a .net file, its source text or a Net spec, got {type(net).__name__}")


def dumps(net) -> str:
    """The program as canonical `.net` source (`loads(dumps(net)) == net`)."""
    from .dump import dumps as _dumps

    return _dumps(net)


def analyse(net, params=None, data=None):
    """Static shapes, parameter counts and receptive fields; raises `NetError` on shape errors."""
    from .shapes import analyse as _analyse

    return _analyse(net, params=params, data=data)


def format_source(text: str, filename: str = "<string>") -> str:
    """Canonical formatting of `.net` source, comments kept (what `netdsl fmt` writes)."""
    from .format import format_source as _format

    return _format(text, filename=filename)
