"""The `netdsl` command line.

`check`, `fmt` and `show` only need `netdsl.dsl`, so they start instantly: nothing here imports
TensorFlow at module level; commands that train import it when they run.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from netdsl.dsl import NetError, analyse, format_source, load


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    try:
        return args.run(args)
    except NetError as error:
        print(error.render(), file=sys.stderr)
        return 1
    except KeyboardInterrupt:  # pragma: no cover - interactive
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="netdsl",
        description="Declarative neural networks: check, format and inspect .net files.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    check = commands.add_parser("check", help="validate .net files (syntax, names, types, shapes)")
    check.add_argument("files", nargs="+", type=Path, metavar="FILE")
    check.set_defaults(run=run_check)

    fmt = commands.add_parser("fmt", help="rewrite .net files in canonical form (comments kept)")
    fmt.add_argument("files", nargs="+", type=Path, metavar="FILE")
    fmt.add_argument("--check", action="store_true", help="change nothing; exit 1 if a file is not formatted")
    fmt.set_defaults(run=run_fmt)

    show = commands.add_parser("show", help="table of layers: output shapes, parameters, receptive fields")
    show.add_argument("file", type=Path, metavar="FILE")
    show.add_argument("--features", type=int, help="bind n_features")
    show.add_argument("--classes", type=int, help="bind n_classes")
    show.add_argument("--outputs", type=int, help="bind n_outputs")
    show.add_argument("--set", action="append", default=[], metavar="NAME=VALUE", help="set a param (repeatable)")
    show.add_argument("--json", action="store_true", help="machine-readable output")
    show.set_defaults(run=run_show)
    return parser


def run_check(args) -> int:
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


def run_fmt(args) -> int:
    unformatted = errors = 0
    for path in args.files:
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as error:
            print(f"{path}: error: cannot read the file: {error.strerror}", file=sys.stderr)
            errors += 1
            continue
        formatted = format_source(text, filename=str(path))
        if formatted == text:
            continue
        unformatted += 1
        if args.check:
            print(f"{path}: would reformat")
        else:
            path.write_text(formatted, encoding="utf-8")
            print(f"{path}: reformatted")
    return 1 if errors or (args.check and unformatted) else 0


def _literal(text: str):
    """A `--set` value: a number, true/false, or a word."""
    lowered = text.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def run_show(args) -> int:
    net = load(args.file)
    data = {
        name: value
        for name, value in (("n_features", args.features), ("n_classes", args.classes), ("n_outputs", args.outputs))
        if value is not None
    }
    params = {}
    for item in args.set:
        key, sep, value = item.partition("=")
        if not sep:
            print(f"netdsl show: --set takes NAME=VALUE, got {item!r}", file=sys.stderr)
            return 2
        params[key.strip()] = _literal(value.strip())
    summary = analyse(net, params=params or None, data=data or None)
    if args.json:
        print(json.dumps(summary.to_dict(), indent=2))
        return 0
    _print_summary(net, summary)
    return 0


def _print_summary(net, summary) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"net {net.name}", title_justify="left")
    table.add_column("#", justify="right", style="dim")
    table.add_column("layer")
    table.add_column("output shape")
    table.add_column("params", justify="right")
    table.add_column("receptive field")
    table.add_column("line", justify="right", style="dim")
    input_shape = "(batch) strings" if net.input is not None and net.input.text else _shape(summary.input_shape)
    table.add_row("", "input", input_shape, "", "", "")
    for i, row in enumerate(summary.rows, 1):
        name = row.name + ("" if row.trainable else " (frozen)")
        if row.path and row.path[0] == "augment":
            name += " (augment)"
        field = "x".join(str(d) for d in row.receptive_field) if row.receptive_field else ""
        table.add_row(str(i), name, _shape(row.output_shape), _count(row.params), field, str(row.span.line) if row.span else "")
    Console(width=120).print(table)
    print(
        f"total params: {_count(summary.total_params)}   trainable: {_count(summary.trainable_params)}   "
        f"non-trainable: {_count(summary.non_trainable_params)}"
    )


def _shape(shape) -> str:
    return "(" + ", ".join(["batch"] + [str(d) for d in shape]) + ")"


def _count(n) -> str:
    return f"{n:,}" if isinstance(n, int) else str(n)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
