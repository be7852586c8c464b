"""The catalogue of diagnostic codes: each kind of mistake a user can meet has a stable code, shown in
its first line (`file:3:1: error[N201]: unknown layer kind `dens``), explained by `netdsl explain CODE`
and listed in docs/diagnostics.md (generated from here by scripts/gen_docs.py).

Codes never change meaning and are never reused. `N1xx` reading and syntax, `N2xx` statements, kinds,
arguments and names, `N3xx` shapes, `N4xx` training settings, `N5xx` parameters and expressions,
`N6xx` saved nets and word vectors, `N7xx` the net against the data, `N8xx` graphs; `C`, `D`, `S`, `M`, `V`, `T`
and `P` the mistakes outside a program (command-line options, data, search, model files, vectors,
training, parameters).

To add a diagnostic: pick the entry whose kind of mistake it is, or add an entry (with a minimal wrong
example the tests check) to the family's module, and pass `code=` where the diagnostic is made.
"""

from __future__ import annotations

from . import data, files, graph, names, other, params, reading, shapes, training
from .base import STAGES, Code

FAMILIES = (
    ("Reading and syntax", reading.CODES),
    ("Statements, kinds, arguments and names", names.CODES),
    ("Shapes", shapes.CODES),
    ("Training settings", training.CODES),
    ("Parameters and expressions", params.CODES),
    ("Saved nets and word vectors", files.CODES),
    ("The net against the data", data.CODES),
    ("Graphs: named points, merges, inputs and outputs", graph.CODES),
    ("Outside a program", other.CODES),
)
CODES: dict[str, Code] = {entry.code: entry for _, entries in FAMILIES for entry in entries}

__all__ = ["CODES", "Code", "FAMILIES", "STAGES", "explain", "lookup", "suggest"]


def lookup(code: str) -> Code | None:
    """The entry of `code` (any case: `n201` is `N201`), or None."""
    return CODES.get(code.strip().upper())


def suggest(word: str) -> str | None:
    """The code `word` most likely meant (a code with one character wrong, or a code's name), or None."""
    import difflib
    import re

    word = word.strip()
    code = word.upper()
    if re.fullmatch(r"[A-Z][0-9OIL]{3}", code):
        code = code[0] + code[1:].translate(str.maketrans("OIL", "011"))  # a letter typed for a digit
        if code in CODES:
            return code
        near = sorted(c for c in CODES if sum(a != b for a, b in zip(c, code)) == 1)
        if near:
            return near[0]
    by_name = {entry.name: entry.code for entry in CODES.values()}
    found = difflib.get_close_matches(word.lower(), list(by_name), n=1, cutoff=0.6)
    return by_name[found[0]] if found else None


WIDTH = 100  # columns of `netdsl explain`'s text (the examples are shown as they are)
_WHEN = {
    "check": "found by `netdsl check` (and `netdsl.dsl.analyse`)",
    "fit": "found when fitting, once the data (or a file the program names) is known",
    "run": "met outside a `.net` program",
}


def explain(code: str) -> str:
    """The entry of `code` as plain text, for `netdsl explain` (KeyError if there is none)."""
    entry = lookup(code)
    if entry is None:
        raise KeyError(code)
    import textwrap

    lines = [f"{entry.code} ({entry.name}): {entry.summary}", "", textwrap.fill(entry.meaning, WIDTH), "",
             f"It is {_WHEN[entry.stage]}."]
    if entry.example is not None:
        what = {"net": "A minimal program that gets it", "console": "How it is met", "python": "How it is met"}
        set_from = f" (with {_params_text(entry.params)})" if entry.params else ""
        lines += ["", f"{what[entry.example_language]}{set_from}:", ""]
        lines += ["    " + line if line else "" for line in entry.example.rstrip("\n").splitlines()]
    lines += ["", textwrap.fill(f"Fix: {entry.fix}", WIDTH)]
    return "\n".join(lines) + "\n"


def _params_text(params: dict) -> str:
    return ", ".join(f"`--set {name}={value}`" for name, value in params.items())
