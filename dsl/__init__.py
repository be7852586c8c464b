"""The `.net` language: parse, validate and analyse network programs without importing TensorFlow.

    >>> from netdsl.dsl import loads, dumps
    >>> net = loads("net tiny\\ninput (4)\\ndense(3, activation=softmax)\\n")
    >>> net.layers[0].units
    3
    >>> loads(dumps(net)) == net
    True
"""

from pathlib import Path

from .errors import Diagnostic, NetdslError, NetError, Source, Span

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
    "Diagnostic", "NetdslError", "NetError", "Source", "Span", "load", "loads", "dumps", "resolve", "flat_layers",
    "parameter_values", "analyse", "format_source", "read_source", "read_text",
]  # fmt: skip


def loads(text: str, filename: str = "<string>"):
    """Parse and validate `.net` source text; raises `NetError` with every problem found."""
    return _build(text, filename)


def load(path):
    """Read and validate a `.net` file."""
    return _build(read_text(path), str(path))


# Largest `.net` file read: far above any program (a 1000x1000 literal kernel is 3 MB), and a bound
# on what `check` of a wrongly named file (a data set, `/dev/zero`) reads into memory.
MAX_SOURCE_BYTES = 32 * 1024 * 1024


def read_text(path) -> str:
    """The text of a `.net` file (UTF-8, a leading byte-order mark dropped); `NetError` if it cannot
    be read, is too large, or is not UTF-8 (located at the first bad byte)."""
    path = Path(path)
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_SOURCE_BYTES + 1)
    except OSError as error:
        raise NetError([Diagnostic(f"cannot read the file: {error.strerror}", code="N101")], "", str(path)) from None
    if len(data) > MAX_SOURCE_BYTES:
        raise NetError(
            [Diagnostic(f"the file is larger than {MAX_SOURCE_BYTES // 2**20} MiB",
                        help="a .net program is a short text file; is this the right file?", code="N102")],
            "", str(path),
        )  # fmt: skip
    data = data.removeprefix(b"\xef\xbb\xbf")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        line_start = data.rfind(b"\n", 0, error.start) + 1
        line = data.count(b"\n", 0, error.start) + 1
        col = len(data[line_start : error.start].decode("utf-8", "replace")) + 1
        bad = data[error.start : error.end].hex(" ")
        problem = Diagnostic(
            f"the file is not UTF-8 text (byte {bad})", Span(line, col, line, col + 1),
            help="save the file as UTF-8 (a .net file is UTF-8 text)", code="N103",
        )  # fmt: skip
        raise NetError([problem], data.decode("utf-8", "replace"), str(path)) from None


def read_source(net) -> tuple[str, str]:
    """(source text, file name) of a program given as a path to a `.net` file, its source text, or a
    `Net` spec: what the estimators and searches accept as `net`."""
    from . import specs

    if isinstance(net, specs.Net):
        return dumps(net), "<spec>"
    looks_like_path = isinstance(net, str) and "\n" not in net and (net.strip().endswith(".net") or Path(net).is_file())
    if isinstance(net, Path) or looks_like_path:
        return read_text(net), str(net)
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
