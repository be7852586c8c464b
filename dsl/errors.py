"""Located diagnostics: the one way a user's mistake in a `.net` file is reported.

Every problem becomes a `Diagnostic` (where, what, how to fix it); all problems of a file are raised
together as one `NetError`, rendered compiler-style with the source line and a caret. A program's
`Source` (its text, file name and the span of each part) makes a located error in one call.
Every error a user can meet derives from `NetdslError`, so a script can catch them all at once.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Span:
    """A region of a source file; lines and columns are 1-based, `end_col` is exclusive."""

    line: int
    col: int
    end_line: int
    end_col: int

    @classmethod
    def of(cls, item) -> "Span":
        """The span of a Lark token or tree (positions must have been propagated)."""
        meta = getattr(item, "meta", item)
        return cls(meta.line, meta.column, meta.end_line, meta.end_column)


@dataclass(frozen=True)
class Diagnostic:
    """One problem: a plain-words title, where it is, and a help line saying what to do."""

    title: str
    span: Span | None = None
    help: str | None = None
    # A second location worth showing, e.g. the opening bracket of an unclosed one.
    related: tuple[Span, str] | None = None
    # The stable code of this kind of problem (`N301`), explained by `netdsl explain`: required, and
    # one of the catalogue's (`netdsl.dsl.codes`), checked here so that a diagnostic without a code,
    # or with a mistyped one, fails where it is made.
    code: str = field(kw_only=True)

    def __post_init__(self):
        from .codes import CODES  # only when a diagnostic is made: `import netdsl.dsl` stays lean

        if self.code not in CODES:
            raise ValueError(f"unknown diagnostic code {self.code!r} for {self.title!r}: use one of netdsl.dsl.codes")

    @property
    def label(self) -> str:
        """`error[N301]`: how the first line of the diagnostic names it."""
        return f"error[{self.code}]"

    def render(self, source: str = "", filename: str = "<string>") -> str:
        return self._render(source.splitlines(), filename)

    def _render(self, lines: list[str], filename: str) -> str:
        if self.span is None:
            out = [f"{filename}: {self.label}: {self.title}"]
        else:
            out = [f"{filename}:{self.span.line}:{self.span.col}: {self.label}: {self.title}"]
            out += _excerpt(lines, self.span)
        if self.related is not None:
            span, note = self.related
            out.append(f"{filename}:{span.line}:{span.col}: note: {note}")
            out += _excerpt(lines, span)
        if self.help:
            out.append(f"  = help: {self.help}")
        return "\n".join(out)


# Longest source line shown in an excerpt: a longer one (a 3 MB matrix on one line) is cut to a
# window around the caret, so a message stays readable and cheap to print.
EXCERPT_WIDTH = 100


def _excerpt(lines: list[str], span: Span) -> list[str]:
    """The source line of `span` with carets under it (only its first line if it spans several)."""
    if not 1 <= span.line <= len(lines):
        return []
    text = lines[span.line - 1].rstrip("\n")
    end = span.end_col if span.end_line == span.line else len(text) + 1
    start = span.col - 1
    width = max(1, end - span.col)
    if len(text) > EXCERPT_WIDTH:
        left = max(0, min(start - 20, len(text) - EXCERPT_WIDTH))
        shown = text[left : left + EXCERPT_WIDTH]
        before = "..." if left else ""
        text = before + shown + ("..." if left + EXCERPT_WIDTH < len(text) else "")
        start = start - left + len(before)
        width = max(1, min(width, len(before) + len(shown) - start))
    gutter = f"{span.line:>4} | "
    return [gutter + text.translate(_SHOWN), " " * (len(gutter) - 2) + "| " + " " * start + "^" * width]


# Control characters of a source line as the excerpt shows them, one column each so the carets stay
# under their place: a tab as a space, any other (an escape sequence would recolour the terminal,
# a bare `\r` would move the cursor back over the line) as `?`.
_SHOWN = {c: "?" for c in [*range(32), *range(127, 160)]} | {9: " "}


class NetdslError(Exception):
    """The root of every error netdsl raises for a user's mistake (a program, data, a model file, a
    search): `except NetdslError` catches them all. Each subclass keeps its usual base as well
    (`ValueError`, `RuntimeError`), so existing `except ValueError` code still works.

    `code` is the diagnostic code of the class's kind of mistake (`D101`), shown by the command line
    as `netdsl: error[D101]: ...`; a `NetError` carries a code per diagnostic instead."""

    code: str | None = None


class InputError(NetdslError, ValueError):
    """X, y or weights an estimator or a step cannot take: the wrong shape or number of features,
    NaN, strings in a numeric column, labels it has not seen, too few classes."""

    code = "E101"


class InputTypeError(NetdslError, TypeError):
    """X, y or weights of a type an estimator or a step cannot take (a generator, a sparse matrix
    for a text net): an `InputError` whose usual base is `TypeError`."""

    code = "E101"


def as_input_error(error: Exception) -> Exception:
    """A library's error for the user's data (scikit-learn's `validate_data`, `check_array`,
    `check_consistent_length`, ...) as netdsl's `InputTypeError` or `InputError`, with the same
    message; one that is already netdsl's is returned as it is."""
    if isinstance(error, NetdslError):
        return error
    return InputTypeError(str(error)) if isinstance(error, TypeError) else InputError(str(error))


def user_data(check, *args, **kwargs):
    """`check(*args, **kwargs)` (a library's validation of X, y or weights), its error for the user's
    data raised as netdsl's `InputError` (or `InputTypeError`) with the same message."""
    try:
        return check(*args, **kwargs)
    except (TypeError, ValueError) as error:
        raise as_input_error(error) from error


class ParameterError(NetdslError, ValueError, TypeError):
    """A parameter given in Python (to an estimator, an augmentation step, a plot) of the wrong type or
    out of its range. A `ValueError` and a `TypeError`, as scikit-learn's `InvalidParameterError` is."""

    code = "P101"


class SourceMap(dict):
    """pydantic `loc` path (tuple) -> Span. Paths of bare words are also recorded in `.bare`."""

    def __init__(self):
        super().__init__()
        self.bare: set[tuple] = set()
        self.assigned: set[tuple] = set()  # paths of layers named as `NAME = layer(...)`
        self.keys_: dict[tuple, Span] = {}  # path -> span of an argument's name (`kernel_size` in `kernel_size=3`)

    def find(self, loc: tuple) -> tuple[tuple, Span | None]:
        """The longest recorded prefix of `loc`, and its span."""
        for cut in range(len(loc), -1, -1):
            if loc[:cut] in self:
                return loc[:cut], self[loc[:cut]]
        return (), None


@dataclass(frozen=True)
class Source:
    """Where a program came from: its text, its file name and the span of each of its parts (by
    spec path, such as `("layers", 2, "units")`). `net.source` gives a program's."""

    text: str = ""
    filename: str = "<string>"
    spans: SourceMap = field(default_factory=SourceMap)

    def span(self, path: tuple = ()) -> Span | None:
        """The span of `path`, or of its longest recorded prefix (None when nothing is recorded)."""
        return self.spans.find(tuple(path))[1]

    def error(self, problems: list[Diagnostic]) -> "NetError":
        """All of `problems`, as one error rendered against this source."""
        return NetError(list(problems), self.text, self.filename)

    def located(self, title: str, path: tuple = (), *, code: str, help: str | None = None,
                related: tuple[Span, str] | None = None) -> "NetError":
        """One problem at the part `path` of the program, as an error."""
        return self.error([Diagnostic(title, self.span(path), help=help, related=related, code=code)])


@dataclass
class NetError(NetdslError, ValueError):
    """Raised for any mistake in a `.net` program; `.diagnostics` holds every problem found."""

    diagnostics: list[Diagnostic]
    source: str = ""
    filename: str = "<string>"
    _text: str = field(init=False, repr=False, default="")

    def __post_init__(self):
        ValueError.__init__(self, self.render())

    def render(self) -> str:
        lines = self.source.splitlines()  # once, not per diagnostic: a file may have thousands
        parts = [d._render(lines, self.filename) for d in self.diagnostics]
        n = len(self.diagnostics)
        parts.append(f"{n} error{'s' if n != 1 else ''} in {self.filename}")
        return "\n\n".join(parts[:-1]) + "\n" + parts[-1]

    def __str__(self) -> str:
        return self.render()


def close_match(name: str, candidates) -> str | None:
    """The candidate a typo most likely meant, or None."""
    found = difflib.get_close_matches(name, sorted(set(candidates)), n=1, cutoff=0.6)
    return found[0] if found else None


def did_you_mean(name: str, candidates, what: str = "") -> str | None:
    match = close_match(name, candidates)
    if match is None:
        return None
    return f"did you mean {what + ' ' if what else ''}`{match}`?"


def error_reason(error: BaseException) -> str:
    """A library's exception (a damaged file's, say) told in one line: its message, or its type's
    name when it has none."""
    return " ".join(str(error).split()) or type(error).__name__
