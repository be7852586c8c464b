"""`netdsl explain CODE`: what a diagnostic code means, a minimal wrong example and the fix (as
`rustc --explain` does); the entries are netdsl.dsl.codes', listed in docs/diagnostics.md."""

from __future__ import annotations

import sys


def register(commands) -> None:
    explain = commands.add_parser(
        "explain", help="explain a diagnostic code (error[N201] -> `netdsl explain N201`)",
        description="Print what a diagnostic code means, a minimal example that gets it and the fix.",
    )
    explain.add_argument("code", metavar="CODE", help="a code such as N201 (docs/diagnostics.md lists them all)")
    explain.set_defaults(run=run)


def run(args) -> int:
    from netdsl.dsl.codes import explain, lookup, suggest

    code = args.code.strip().removeprefix("error[").removesuffix("]")
    if lookup(code) is None:
        close = suggest(code)
        hint = f"did you mean `{close}`? " if close else ""
        print(f"netdsl: error[C101]: unknown diagnostic code `{args.code}`; {hint}docs/diagnostics.md lists them all",
              file=sys.stderr)
        return 2
    sys.stdout.write(explain(code))
    return 0
