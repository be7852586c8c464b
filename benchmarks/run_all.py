"""Every benchmark in turn, each table printed as it is done; `--markdown PATH` writes them all as
Markdown (for benchmarks/README.md).

    python -m benchmarks --quick                       # about 2 minutes on 2 cores
    python -m benchmarks --markdown full-run.md        # the full run (tens of minutes)
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a file: python benchmarks/run_all.py
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    __package__ = "benchmarks"

from benchmarks.common import Timer, machine, parser

# The training-speed benchmarks, cheapest first so that a quick look gets the most tables soonest
# (`steps`: what each optimisation of the fast path buys). Each module has `run(quick) -> [Table]`.
NAMES = ("startup", "single_fit", "cold_fit", "predict", "memory", "steps", "jobs", "grid_search", "text_grid")
BENCHMARKS = {
    name: importlib.import_module(f"benchmarks.{name}")
    for name in NAMES
    if importlib.util.find_spec(f"benchmarks.{name}") is not None
}


def main(argv=None):
    p = parser("Run every benchmark; print the tables, optionally write them as Markdown.")
    p.prog = "python -m benchmarks"
    p.add_argument("--only", help="comma-separated subset of: " + ", ".join(BENCHMARKS))
    args = p.parse_args(argv)
    names = [n.strip() for n in args.only.split(",")] if args.only else list(BENCHMARKS)
    unknown = sorted(set(names) - set(BENCHMARKS))
    if unknown:
        p.error(f"unknown benchmark(s) {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}")
    command = "python -m benchmarks" + (" " + " ".join(sys.argv[1:] if argv is None else argv)).rstrip()
    print(f"{command}\nMachine: {machine()}", flush=True)
    sections, started = [], time.strftime("%Y-%m-%d %H:%M")
    with Timer() as total:
        for name in names:
            print(f"\n--- {name} ---", file=sys.stderr, flush=True)
            with Timer() as t:
                tables = BENCHMARKS[name].run(quick=args.quick)
            for table in tables:
                print()
                print(table.text(), flush=True)
            print(f"({name}: {t.seconds:.0f} s)", flush=True)
            sections.append((name, t.seconds, tables))
    print(f"\nTotal: {total.seconds:.0f} s", flush=True)
    if args.markdown:
        lines = [
            f"Run {started} with `{command}` ({total.seconds:.0f} s in all).",
            "",
            f"Machine: {machine()}.",
            "",
        ]
        for name, seconds, tables in sections:
            for table in tables:
                lines += [table.markdown(), ""]
            lines += [f"({name}: {seconds:.0f} s)", ""]
        Path(args.markdown).write_text("\n".join(lines))
        print(f"Markdown written to {args.markdown}")


if __name__ == "__main__":
    main()
