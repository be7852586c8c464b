"""`netdsl fmt [--check] FILE...`: rewrite .net files in canonical form, comments kept.

A file that cannot be read, is not UTF-8, does not parse or cannot be written is reported and
the others are still formatted; the exit status is then 1.
"""

from __future__ import annotations

import sys
from pathlib import Path

from netdsl.dsl import NetError, format_source, read_text
from netdsl.dsl.files import write_text


def register(commands) -> None:
    fmt = commands.add_parser("fmt", help="rewrite .net files in canonical form (comments kept)")
    fmt.add_argument("files", nargs="+", type=Path, metavar="FILE")
    fmt.add_argument("--check", action="store_true", help="change nothing; exit 1 if a file is not formatted")
    fmt.set_defaults(run=run)


def run(args) -> int:
    unformatted = errors = 0
    for path in args.files:
        try:
            formatted = format_source(text := read_text(path), filename=str(path))
        except NetError as error:
            print(error.render(), file=sys.stderr)
            errors += 1
            continue
        if formatted == text:
            continue
        unformatted += 1
        if args.check:
            print(f"{path}: would reformat")
            continue
        try:  # to a temporary file renamed over the old one: a failed write leaves it whole
            write_text(path, formatted)
        except OSError as error:
            print(f"{path}: error[N104]: cannot write the file: {error.strerror or error}; it is unchanged", file=sys.stderr)
            errors += 1
            continue
        print(f"{path}: reformatted")
    return 1 if errors or (args.check and unformatted) else 0
