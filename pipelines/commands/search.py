"""`netdsl search FILE --data ...`: cross-validate every combination of the file's `param NAME = V
in [...]` values (and --grid ones), rank them, refit the best and score it on held-out rows. The
search itself is `netdsl.pipelines.search.grid_search`; `--strategy random|halving` and `--resume`
run `netdsl.pipelines.tuning.tune`."""

from __future__ import annotations

import time
import warnings
from pathlib import Path

from netdsl.dsl import NetError, load
from netdsl.pipelines.commands.common import (
    add_estimator_arguments,
    add_training_data_arguments,
    choose_task,
    code_of,
    error,
    estimators,
    holdout_split,
    int_option,
    literal,
    make_estimator,
    print_scores,
    refuse_overwrite,
    save_model,
    set_params,
)
from netdsl.pipelines.commands.several import for_net, is_several, print_output_scores, target_columns
from netdsl.pipelines.composite import fitted_net, remember_columns
from netdsl.pipelines.data import load_data
from netdsl.pipelines.errors import SearchError

_folds = int_option(lambda value: value >= 2, "a number of cross-validation folds, 2 or more")
_jobs = int_option(lambda value: value >= 1 or value == -1, "a positive number of worker processes, or -1")
_whole = int_option(lambda value: value >= 1, "a positive whole number")
STRATEGIES = ("grid", "random", "halving")


def register(commands) -> None:
    search = commands.add_parser(
        "search",
        help="grid, random or successive-halving search of a .net file's params with cross-validation",
        description="Cross-validate every combination of the file's `param NAME = V in [...]` values "
        "(and --grid ones) on the data minus a held-out test split, rank them, refit the best on "
        "the training rows and score it on the held-out rows. Rows are written to --out as "
        "candidates finish.",
    )
    add_training_data_arguments(search)
    search.add_argument(
        "--grid", action="append", default=[], metavar="KEY=V1,V2",
        help="values to try for a file param or a setting such as epochs; adds to or replaces the "
        "file's `in [...]` values (repeat for more keys)",
    )
    search.add_argument("--cv", type=_folds, default=5, metavar="K", help="cross-validation folds (default 5)")
    search.add_argument(
        "--strategy", choices=STRATEGIES, default="grid",
        help="grid: every combination; random: --candidates draws from the space; halving: successive "
        "halving, the best 1/--factor of the candidates continue training to --factor times more epochs, "
        "rung after rung, up to the full epochs (default grid)",
    )  # fmt: skip
    search.add_argument("--candidates", type=_whole, metavar="N", help="how many candidates random and halving draw")
    search.add_argument("--min-epochs", type=_whole, metavar="E", help="halving: epochs of the first rung")
    search.add_argument("--factor", type=int, metavar="F", help="halving: keep 1/F of the candidates per rung, "
                        "F times the epochs (default 3)")
    search.add_argument(
        "--resume", type=Path, metavar="CSV",
        help="continue the search that wrote CSV (its --out): finished rows are kept, survivors go on "
        "from their saved checkpoints",
    )  # fmt: skip
    search.add_argument(
        "--jobs", type=_jobs, default=1, metavar="N",
        help="fits at once on this machine, in threads or worker processes (--workers; -1: one per core; default 1)",
    )  # fmt: skip
    search.add_argument(
        "--workers", choices=("threads", "processes"), default="threads",  # search_workers.WORKERS (not imported for --help)
        help="where the --jobs fits run: threads of this process (default; no workers to start, the fits "
        "train at once and build in turns, the same results) or worker processes",
    )  # fmt: skip
    search.add_argument(
        "--scheduler", metavar="ADDRESS",
        help="run the fits on a Dask cluster, e.g. tcp://HOST:8786 (`dask scheduler` there, `dask worker "
        "tcp://HOST:8786 --nthreads 1` on the workers, each with netdsl installed)",
    )  # fmt: skip
    add_estimator_arguments(search)
    search.add_argument(
        "--out", type=Path, metavar="CSV",
        help="write each candidate's results here as it finishes (default: search_results.csv; with "
        "--resume, the file resumed)",
    )  # fmt: skip
    search.add_argument("--save", type=Path, metavar="MODEL", help="write the refitted best model here")
    search.add_argument(
        "--plots", type=Path, metavar="DIR",
        help="write pictures of the best model here: training curves, conv filters (if any), search report",
    )  # fmt: skip
    search.add_argument("--quiet", action="store_true", help="no progress bar")
    search.set_defaults(run=run)


def parse_grid(items: list[str]) -> dict[str, list]:
    """`--grid KEY=V1,V2` options as a param_grid (values as `common.literal`: numbers, true/false or words)."""
    grid: dict[str, list] = {}
    for item in items:
        key, sep, text = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise SearchError(f"--grid takes KEY=V1,V2,..., got {item!r}")
        if key in grid:
            raise SearchError(f"--grid gives `{key}` twice; list all its values once: --grid {key}=V1,V2")
        values = [part.strip() for part in text.split(",")]
        if not any(values):
            raise SearchError(f"--grid {key}= has no values; give at least one: --grid {key}=V1,V2")
        if not all(values):
            raise SearchError(f"--grid {item!r} has an empty value; separate values by single commas")
        grid[key] = [literal(v) for v in values]
    return grid


def run(args) -> int:
    from netdsl.pipelines.search import full_grid, results_lock  # here: `netdsl check` need not import searches

    spec = load(args.file)  # a NetError is rendered by main, before any data or TensorFlow work
    try:
        extra = parse_grid(args.grid)
        params = set_params(args.set)
        _check_strategy(args)
        if args.strategy == "grid":
            full_grid(spec, extra)  # nothing to search: say so before loading anything
        _check_set(spec, params, extra)
        _check_outputs(args)
        for option, path in (("--out", args.out), ("--save", args.save)):
            refused = refuse_overwrite(option, path, {"the .net file": args.file, "the data file": args.data})
            if refused:
                return refused
        with results_lock(args.out):  # refuse a file another search is writing, before any work
            return _run_search(args, spec, extra, params)
    except SearchError as problem:
        return error(problem)


def _check_set(spec, params: dict, extra: dict) -> None:
    """Refuse, before any work, a `--set` that every candidate's fit would refuse (a name neither
    the file's params nor the estimator's settings know, a value that does not fit: as `check_grid`
    checks --grid) or that the search would ignore (a param it varies)."""
    from netdsl.dsl.errors import ParameterError
    from netdsl.pipelines.search import check_grid, search_space

    if not params:
        return
    varied = [name for name in params if name in extra or name in search_space(spec)]
    if varied:
        name, value = varied[0], params[varied[0]]
        raise SearchError(f"--set {name}={value} fixes `{name}`, which this search varies (the file's `in ...` or "
                          f"--grid): give one of them (to try {value} alone: --grid {name}={value})")
    net = estimators().NetClassifier(spec)
    try:
        net.set_params(**params)
    except ParameterError as problem:
        raise SearchError(f"--set: {problem}") from None
    check_grid({name: [value] for name, value in params.items()}, spec, net)


def _check_strategy(args) -> None:
    """Refuse settings that do not go together, before any work; --resume writes where it reads."""
    if args.factor is not None and args.factor < 2:
        raise SearchError(f"--factor must be 2 or more (each rung keeps 1/F of the candidates), got {args.factor}")
    if args.strategy != "halving" and (args.factor is not None or args.min_epochs is not None):
        raise SearchError("--factor and --min-epochs are for --strategy halving")
    if args.strategy == "grid" and args.candidates is not None:
        raise SearchError("--candidates is for --strategy random or halving; a grid tries every combination")
    if args.epochs is not None and args.min_epochs is not None and args.min_epochs > args.epochs:
        raise SearchError(f"--min-epochs {args.min_epochs} is above the full budget of {args.epochs} epochs")
    if args.resume is not None:
        if not args.resume.is_file():
            raise SearchError(f"--resume {args.resume}: no such results file to resume")
        if args.out is not None and args.out.resolve() != args.resume.resolve():
            raise SearchError(f"--resume {args.resume} continues that file: give no other --out ({args.out})")
        args.out = args.resume
    elif args.out is None:
        args.out = Path("search_results.csv")


def _check_outputs(args) -> None:
    """Refuse, before any work, output paths that cannot be written as asked: a folder where a file
    goes, a file where a folder goes (the output's or one above it), an input file."""
    if args.out.is_dir():
        raise SearchError(f"--out `{args.out}` is a folder; name a CSV file")
    if args.plots is not None and args.plots.exists() and not args.plots.is_dir():
        raise SearchError(f"--plots `{args.plots}` is a file; name a folder for the pictures (made if missing)")
    if args.save is not None and args.save.is_dir():
        raise SearchError(f"--save `{args.save}` is a folder; name a model file")
    for option, path in (("--out", args.out), ("--save", args.save), ("--plots", args.plots)):
        above = next((parent for parent in (path.parents if path is not None else ()) if parent.exists()), None)
        if above is not None and not above.is_dir():
            raise SearchError(f"{option} `{path}` is inside `{above}`, which is a file, not a folder; name another place")


def _cv(folds: int, task: str, windowed: bool, seed: int, several: bool = False):
    """The folds: in time order for a series, stratified for one classification output (scikit-learn
    stratifies one column of labels), else shuffled."""
    from sklearn.model_selection import KFold, StratifiedKFold, TimeSeriesSplit

    if windowed:
        return TimeSeriesSplit(folds), "time-ordered folds"
    if task == "classification" and not several:
        return StratifiedKFold(folds, shuffle=True, random_state=seed), "stratified folds"
    return KFold(folds, shuffle=True, random_state=seed), "shuffled folds"


def _run_search(args, spec, extra, params) -> int:
    from rich.console import Console

    from netdsl.pipelines.search import grid_search
    from netdsl.pipelines.search_workers import import_estimators, start_workers

    console = Console(soft_wrap=True)
    starting = start_workers(args.jobs, args.workers) if args.scheduler is None else None
    data = for_net(load_data(args.data, target=target_columns(args.target), window=args.window), spec)
    task, origin = choose_task(args.task, data, spec)
    X_train, X_test, y_train, y_test, how = holdout_split(data, task, args.test_size, args.seed, console)
    cv, folds = _cv(args.cv, task, data.windowed, args.seed, several=len(spec.outputs) > 1)
    console.print(f"net [bold]{spec.name}[/] on [bold]{data.name}[/]: {task} (from {origin})")
    console.print(f"{len(y_train)} rows to search on with {args.cv} {folds}; {how}")

    estimator = make_estimator(spec, args, task, data, params, console)
    n_jobs = None if args.scheduler is not None and args.jobs == 1 else args.jobs
    console.print(f"writing each candidate's results to {args.out} as it finishes")
    import_estimators()  # TensorFlow here too (for the refit), while the workers start
    if starting is not None:
        starting.join()
    started = time.perf_counter()
    tuned = args.strategy != "grid" or args.resume is not None
    if tuned and args.min_epochs is not None:
        from netdsl.pipelines.tuning import full_epochs

        full = full_epochs(estimator, spec)
        if args.min_epochs > full:
            raise SearchError(f"--min-epochs {args.min_epochs} is above the full budget of {full} epochs")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # failed fits are shown in the table, not as warnings
            if tuned:
                from netdsl.pipelines.tuning import tune

                search = tune(
                    spec, X_train, y_train, args.strategy, extra or None, n_candidates=args.candidates,
                    min_epochs=args.min_epochs, factor=args.factor or 3, cv=cv, scheduler=args.scheduler,
                    n_jobs=n_jobs, workers=args.workers, estimator=estimator, random_state=args.seed,
                    results_path=args.out, resume=args.resume, progress=not args.quiet,
                )
            else:
                search = grid_search(
                    spec, X_train, y_train, extra or None, cv=cv, scheduler=args.scheduler, n_jobs=n_jobs,
                    workers=args.workers, estimator=estimator, results_path=args.out, progress=not args.quiet,
                )
    except NetError:
        raise
    except (ValueError, TypeError, RuntimeError, OSError) as problem:
        return error(str(problem).strip().replace("\n", " "), code=code_of(problem, "D101"))
    seconds = time.perf_counter() - started
    remember_columns(search.best_estimator_, data)
    _print_outcome(console, search, task, seconds, len(y_train))
    if X_test is not None:
        predictions = search.best_estimator_.predict(X_test)
        if is_several(search.best_estimator_):
            print_output_scores(console, search.best_estimator_, y_test, predictions, "held out, best refitted")
        else:
            print_scores(console, task, y_test, predictions, data, "held out, best refitted", report=False)
    console.print(f"results of every candidate: {args.out}")
    if args.save is not None:
        where = save_model(search.best_estimator_, args.save)
        console.print(f"saved the best model to {where}")
    if args.plots is not None:
        try:
            for path in _write_plots(search, args.plots):
                console.print(f"picture: {path}")
        except OSError as problem:
            return error(f"cannot write the pictures to `{args.plots}`: {problem.strerror or problem}", code="D101")
    return 0


def _print_outcome(console, search, task: str, seconds: float, n_train: int) -> None:
    """The ranking of the candidates, the best one and the time the search took."""
    metric = "accuracy" if task == "classification" else "R²"
    _print_ranking(console, search, metric)
    best = _shown(search.best_params_, _prefix(search))
    console.print(f"best: [bold]{best}[/]   mean CV {metric}: [bold]{search.best_score_:.4f}[/]")
    if hasattr(search, "epoch_folds_"):  # tune: the rungs and the budget they spent
        if getattr(search, "resumed_", 0):
            console.print(f"resumed {search.resumed_} finished rows")
        for rung, (count, epochs) in enumerate(zip(search.n_candidates_, search.n_resources_)):
            console.print(f"rung {rung}: {count} candidate{'s' if count != 1 else ''} x {epochs} "
                          f"epoch{'s' if epochs != 1 else ''}")
        share = search.epoch_folds_ / search.grid_epoch_folds_ if search.grid_epoch_folds_ else 1.0
        console.print(f"epoch x fold budget: {search.epoch_folds_} of a full grid's {search.grid_epoch_folds_} "
                      f"({share:.0%}); {seconds:.1f} s, {search.where_}; best refitted on {n_train} rows in "
                      f"{search.refit_time_:.2f} s")
        return
    console.print(
        f"{len(search.search_rows_)} candidates x {search.n_splits_} folds in {seconds:.1f} s, {search.where_}; "
        f"best refitted on {n_train} rows in {search.refit_time_:.2f} s"
    )


def _write_plots(search, folder: Path) -> list[Path]:
    """The best model's training curves and (for a convnet) its learned filters, and the search report."""
    from netdsl.pipelines import plots

    folder.mkdir(parents=True, exist_ok=True)
    best = fitted_net(search.best_estimator_)
    written = [folder / "curves.png", folder / "search.png"]
    plots.training_curves(best, path=written[0])
    plots.search_report(search, path=written[1])
    if any(type(layer).__name__ == "Conv2D" for layer in best.model_.layers):
        written.append(folder / "filters.png")
        plots.conv_filters(best, path=written[-1])
    return written


def _prefix(search) -> str:
    """The net step's prefix of the params (`netclassifier__` when `--scale` puts a scaler first),
    which the table and the best line leave out: the searched names are the file's."""
    from netdsl.pipelines.search import net_step

    return net_step(search.best_estimator_)[0]


def _shown(params: dict, prefix: str) -> str:
    """`hidden=40, lr=0.008459`: the net step's params without its prefix, drawn floats to 4 digits."""
    return ", ".join(
        f"{k[len(prefix):] if prefix and k.startswith(prefix) else k}="
        f"{format(v, '.4g') if isinstance(v, float) else repr(v)}"
        for k, v in params.items()
    )


def _print_ranking(console, search, metric: str) -> None:
    import numpy as np
    from rich.table import Table

    results = search.cv_results_
    ranks = np.asarray(results["rank_test_score"])
    order = sorted(range(len(ranks)), key=lambda i: (ranks[i], i))
    if "iter" in results:  # tune: an entry per candidate and rung
        rows = {(row["candidate"], row["rung"]): row for row in search.search_rows_}
        keys = [(int(c), int(r)) for c, r in zip(results["candidate"], results["iter"])]
        rows = {i: rows.get(key, {}) for i, key in enumerate(keys)}
    else:
        rows = {row["candidate"]: row for row in search.search_rows_}
    prefix = _prefix(search)
    table = Table(title=f"candidates by mean CV {metric} ({search.n_splits_} folds)", title_justify="left")
    table.add_column("rank", justify="right")
    table.add_column("params")
    table.add_column(f"mean ± std {metric}", justify="right")
    table.add_column("mean fit time", justify="right")
    for i in order:
        params = _shown(results["params"][i], prefix)
        if "iter" in results and len(set(results["iter"])) > 1:  # halving: which rung, how many epochs
            epochs = results["n_resources"][i]
            params += f"  (rung {results['iter'][i]}, {epochs} epoch{'s' if epochs != 1 else ''})"
        mean, std = results["mean_test_score"][i], results["std_test_score"][i]
        problem = rows.get(i, {}).get("error", "")
        score = f"{mean:.4f} ± {std:.4f}" if np.isfinite(mean) else f"failed: {problem}" if problem else "failed"
        if problem and np.isfinite(mean):
            score += f" ({problem.split(':')[0]})"
        table.add_row(str(ranks[i]), params, score, f"{results['mean_fit_time'][i]:.2f} s")
    console.print(table)
