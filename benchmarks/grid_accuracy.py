"""Grid search accuracy under fixed seeds: is netdsl's CV accuracy no worse than the Keras wrappers'?

grid_search.py runs unseeded searches (three each), so its accuracy columns move by about 0.01
between runs on the LSTM grid, whose mean over candidates includes slow learning rates that are
far from converged after 10 epochs. Here each contender runs the same grid (grid_search.py's
candidates, folds and epochs) once per seed, each in a fresh process that first calls
`keras.utils.set_random_seed(seed)`, the one switch that seeds Python, NumPy and TensorFlow for
every contender alike. Reported per contender: the mean CV accuracy over candidates for each seed,
its median, and the median of the best candidate's. Not part of `python -m benchmarks`: it times
nothing, and five seeds of the Keras wrappers take about 12 minutes on 2 cores.

    python -m benchmarks.grid_accuracy                   # the LSTM grid, 5 seeds, netdsl against both Keras wrappers
    python -m benchmarks.grid_accuracy --grid cnn --seeds 3
    python -m benchmarks.grid_accuracy --quick           # 1 seed, 2 candidates, 2 folds, 1 epoch, 600 rows
"""

from __future__ import annotations

import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a file: python benchmarks/grid_accuracy.py
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    __package__ = "benchmarks"

from benchmarks import grid_search
from benchmarks.common import Table, median, script_main, try_in_fresh_process

CONTENDERS = ("netdsl", "scikeras", "keras_sklearn")


def seeded_search(contender: str, seed: int, grid: str, sizes, learning_rates, epochs: int, folds: int, n_rows=None) -> dict:
    """grid_search's search of `grid` by `contender`, in this (fresh) process, after seeding everything with `seed`."""
    import keras

    keras.utils.set_random_seed(seed)
    return grid_search._one_search(contender, grid, sizes, learning_rates, epochs, folds, n_rows)


def run(quick=False, grid="lstm", seeds=None):
    """Each contender's search of `grid` under seeds 0..seeds-1, contenders interleaved per seed."""
    if grid not in grid_search.GRIDS:
        raise SystemExit(f"unknown grid {grid!r} (grids: {', '.join(grid_search.GRIDS)})")
    seeds = seeds or (1 if quick else 5)
    _, epochs, folds, n_rows = grid_search.search_settings(quick)
    learning_rates = grid_search.grid_learning_rates(grid, quick)
    sizes = grid_search.grid_sizes(grid, quick)
    results = {contender: [] for contender in CONTENDERS}
    for seed in range(seeds):
        for contender in CONTENDERS:
            found, error = try_in_fresh_process(seeded_search, contender, seed, grid, sizes, learning_rates, epochs, folds, n_rows)
            results[contender].append(found or {"error": error})
            shown = f"best {found['best']:.4f}, mean {found['mean']:.4f}" if found else error
            print(f"  seed {seed} {grid_search.LABELS[contender]:33} {shown}", file=sys.stderr, flush=True)

    n_candidates = len(sizes) * len(learning_rates)
    table = Table(
        f"CV accuracy under fixed seeds, {grid} ({n_candidates} candidates x {folds} folds, {epochs} epoch{'s' * (epochs != 1)}, seeds 0..{seeds - 1})",
        ["contender", "mean CV acc per seed", "median of mean", "median of best"],
    )
    for contender, runs in results.items():
        done = [r for r in runs if "mean" in r]
        table.add(
            grid_search.LABELS[contender],
            " ".join(f"{r['mean']:.3f}" for r in done) or "-",
            f"{median([r['mean'] for r in done]):.3f}",
            f"{median([r['best'] for r in done]):.3f}",
        )
        errors = [r["error"] for r in runs if "error" in r]
        if errors:
            table.notes.append(f"{grid_search.LABELS[contender]} failed: {errors[0]}")
    table.notes.append("keras.utils.set_random_seed(seed) in a fresh process per contender and seed; grid_search.py's candidates")
    return [table]


def _arguments(p):
    p.add_argument("--grid", default="lstm", help="one of: " + ", ".join(grid_search.GRIDS))
    p.add_argument("--seeds", type=int, help="seeds 0..N-1 (default 5, 1 with --quick)")


if __name__ == "__main__":
    script_main(run, __doc__.splitlines()[0], _arguments)
