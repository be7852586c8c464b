"""`netdsl check FILE...`: validate .net files (syntax, names, types, shapes); every file is reported."""

from __future__ import annotations

import sys
from pathlib import Path

from netdsl.dsl import NetError, analyse, load


def register(commands) -> None:
    check = commands.add_parser("check", help="validate .net files (syntax, names, types, shapes)")
    check.add_argument("files", nargs="+", type=Path, metavar="FILE")
    check.set_defaults(run=run)


def run(args) -> int:
    failed = 0
    for path in args.files:
        try:
            analyse(load(path))
        except NetError as error:
            failed += 1
            print(error.render(), file=sys.stderr)
            continue
        print(f"{path}: ok")
    return 1 if failed else 0
