"""docs/diagnostics.md, written from the catalogue (scripts/gen_docs.py)."""

from __future__ import annotations

from . import FAMILIES, Code

_FOUND = {
    "check": "Found by `netdsl check`.",
    "fit": "Found when fitting: it needs the data, or a file the program names.",
    "run": "Met outside a `.net` program.",
}


def markdown() -> str:
    """The whole page: an index of the codes by family, then each code's entry."""
    out = [
        "# Diagnostic codes",
        "",
        "<!-- Generated from netdsl.dsl.codes by `python scripts/gen_docs.py`: do not edit. -->",
        "",
        "Every problem netdsl reports carries a stable code in its first line, as rustc and ruff do:",
        "",
        "```console",
        "$ netdsl check demo.net",
        "demo.net:3:1: error[N201]: unknown layer kind `dens`",
        "   3 | dens(8)",
        "     | ^^^^",
        "  = help: did you mean `dense`?",
        "1 error in demo.net",
        "```",
        "",
        "`netdsl explain N201` prints a code's entry. `N` codes are mistakes in a `.net` program (located",
        "at the line that has them); the others are mistakes met outside one (command-line options,",
        "data, a search, a model file, word vectors, training, an estimator's parameters), shown as",
        "`netdsl: error[D101]: ...`.",
        "A code never changes meaning; one code covers one kind of mistake, whatever its exact words.",
        "",
    ]
    for family, entries in FAMILIES:
        out += [f"- [{family}](#{_anchor(family)}): " + ", ".join(f"[{e.code}](#{e.code.lower()})" for e in entries)]
    out.append("")
    for family, entries in FAMILIES:
        out += [f"## {family}", "", "| Code | Name | Summary |", "| --- | --- | --- |"]
        out += [f"| [{e.code}](#{e.code.lower()}) | `{e.name}` | {e.summary} |" for e in entries]
        out.append("")
        for entry in entries:
            out += _entry(entry)
    return "\n".join(out).rstrip("\n") + "\n"


def _entry(entry: Code) -> list[str]:
    out = [f"### {entry.code}", "", f"**{entry.summary}** (`{entry.name}`)", "", entry.meaning, "", _FOUND[entry.stage], ""]
    if entry.example is not None:
        if entry.example_language == "net":
            lead = "A minimal program that gets it"
            if entry.params:
                lead += " (with " + ", ".join(f"`--set {k}={v}`" for k, v in entry.params.items()) + ")"
        else:
            lead = "How it is met"
        out += [lead + ":", "", f"```{entry.example_language}", entry.example.rstrip("\n"), "```", ""]
    out += [f"**Fix:** {entry.fix}", ""]
    return out


def _anchor(title: str) -> str:
    """GitHub's anchor of a heading."""
    return "".join(c for c in title.lower().replace(" ", "-") if c.isalnum() or c == "-")
