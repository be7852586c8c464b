"""One entry of the catalogue of diagnostic codes: what a code means, a minimal wrong example and
the fix, as `netdsl explain CODE` prints it and docs/diagnostics.md lists it."""

from __future__ import annotations

from dataclasses import dataclass, field

# Where a user meets a code: `netdsl check` (or `netdsl.dsl.analyse`) finds it in the program alone;
# `fit` finds it once the data is known; `run` is a mistake outside a `.net` program (data, files,
# an estimator's parameters), reported as `netdsl: error[D101]: ...`.
STAGES = ("check", "fit", "run")


@dataclass(frozen=True)
class Code:
    """A kind of diagnostic. `example` is a minimal `.net` program that gets exactly this code (the
    tests check it, with `params` set from outside when given) for stage `check`; for the other
    stages it shows how the mistake is met (a program, a command line or Python)."""

    code: str  # "N203": a letter (N: a .net program; C, D, S, M, V, T, P: the rest) and three digits
    name: str  # "unknown-argument": a short name, in words
    summary: str  # one line, in the words of the titles it covers
    meaning: str
    fix: str
    example: str | None = None
    stage: str = "check"
    params: dict = field(default_factory=dict)  # parameters the example is checked with
    example_language: str = "net"  # how the example is shown: `net`, `console` or `python`
