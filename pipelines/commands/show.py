"""`netdsl show FILE`: the table of layers (output shapes, parameters, receptive fields), or --json."""

from __future__ import annotations

import json
from pathlib import Path

from netdsl.dsl import analyse, load
from netdsl.pipelines.commands.common import SET_HELP, set_params


def register(commands) -> None:
    show = commands.add_parser("show", help="table of layers: output shapes, parameters, receptive fields")
    show.add_argument("file", type=Path, metavar="FILE")
    show.add_argument("--features", type=int, help="bind n_features")
    show.add_argument("--classes", type=int, help="bind n_classes")
    show.add_argument("--outputs", type=int, help="bind n_outputs")
    show.add_argument("--set", action="append", default=[], metavar="NAME=VALUE", help=SET_HELP)
    show.add_argument("--json", action="store_true", help="machine-readable output")
    show.set_defaults(run=run)


def run(args) -> int:
    net = load(args.file)
    data = {
        name: value
        for name, value in (("n_features", args.features), ("n_classes", args.classes), ("n_outputs", args.outputs))
        if value is not None
    }
    params = set_params(args.set)
    summary = analyse(net, params=params or None, data=data or None)
    if args.json:
        print(json.dumps(summary.to_dict(), indent=2))
        return 0
    _print_summary(net, summary)
    return 0


def _print_summary(net, summary) -> None:
    from rich.console import Console
    from rich.table import Table

    from netdsl.dsl.shapes.text import batch_text, dims_text  # loaded already, by the analysis shown

    graph = _is_graph(summary)
    table = Table(title=f"net {net.name}", title_justify="left")
    table.add_column("#", justify="right", style="dim")
    table.add_column("layer")
    if graph:
        table.add_column("reads")
    table.add_column("output shape")
    table.add_column("params", justify="right")
    table.add_column("receptive field")
    table.add_column("line", justify="right", style="dim")
    for declared, (name, shape) in zip(net.all_inputs, summary.inputs.items()):
        text = "(batch) strings" if declared is not None and declared.text else batch_text(shape)
        table.add_row("", name, *([""] if graph else []), text, "", "", "")
    for i, row in enumerate(summary.rows, 1):
        name = row.name + ("" if row.trainable else " (frozen)")
        if row.path and row.path[0] == "augment":
            name += " (augment)"
        if row.base is not None:
            name += f" (from {row.base})"
        field = dims_text(row.receptive_field) if row.receptive_field else ""
        reads = [", ".join(row.inputs)] if graph else []
        table.add_row(str(i), name, *reads, batch_text(row.output_shape), _count(row.params), field,
                      str(row.span.line) if row.span else "")
    Console(width=120, highlight=False).print(table)
    print(
        f"total params: {_count(summary.total_params)}   trainable: {_count(summary.trainable_params)}   "
        f"non-trainable: {_count(summary.non_trainable_params)}"
    )
    if len(summary.outputs) > 1 or net.outputs:
        print("outputs: " + ", ".join(f"{name} {batch_text(shape)}" for name, shape in summary.outputs.items()))
    if summary.unfrozen:
        print(f"fine_tune (stage 2) unfreezes: {', '.join(summary.unfrozen)}   "
              f"trainable then: {_count(summary.fine_tune_trainable_params)}")


def _is_graph(summary) -> bool:
    """Whether the net is more than a chain (several inputs, or a layer that reads another point than
    the one before it): then the table says what each layer reads."""
    if len(summary.inputs) > 1 or len(summary.outputs) > 1:
        return True
    previous = next(iter(summary.inputs), None)
    for row in summary.rows:
        if not row.inputs:
            continue  # augmentation
        if row.inputs != (previous,):
            return True
        previous = row.name
    return False


def _count(n) -> str:
    return f"{n:,}" if isinstance(n, int) else str(n)
