"""`netdsl fit FILE --data ...`: train a .net file on data, score it on a held-out split, optionally
save it. TensorFlow is imported (through `netdsl.estimators`) only when the command runs."""

from __future__ import annotations

import time
from pathlib import Path

from netdsl.dsl import NetError, load
from netdsl.pipelines.commands.common import (
    add_estimator_arguments,
    add_training_data_arguments,
    choose_task,
    error,
    holdout_split,
    make_estimator,
    positive_int,
    print_scores,
    refuse_overwrite,
    save_model,
    set_params,
)
from netdsl.pipelines.commands.several import for_net, is_several, print_output_scores, target_columns
from netdsl.pipelines.composite import fitted_net, remember_columns
from netdsl.pipelines.data import DataError, load_data


def register(commands) -> None:
    fit = commands.add_parser(
        "fit",
        help="train a .net file on data, score it on a held-out split, optionally save it",
        description="Train FILE on the data, holding out a test split (stratified for classification), "
        "and report the held-out score, the epochs run and the fit time.",
    )
    add_training_data_arguments(fit)
    add_estimator_arguments(fit)
    fit.add_argument("--batch-size", type=positive_int, metavar="N", help="override the file's batch size")
    fit.add_argument("--learning-rate", type=float, metavar="LR", help="override the optimizer's learning rate")
    fit.add_argument("--save", type=Path, metavar="MODEL", help="write the fitted model here")
    fit.add_argument("--quiet", action="store_true", help="no progress bar")
    fit.set_defaults(run=run)


def run(args) -> int:
    from rich.console import Console

    refused = refuse_overwrite("--save", args.save, {"the .net file": args.file, "the data file": args.data})
    if refused:
        return refused
    console = Console(soft_wrap=True, highlight=False)  # long paths stay on one line; no quadratic highlighting
    # Read and validated once: the estimator is given this spec (its errors still point into FILE).
    net = load(args.file)  # a NetError here is rendered by main, before any data or TensorFlow work
    params = set_params(args.set)
    data = for_net(load_data(args.data, target=target_columns(args.target), window=args.window), net)
    if data.y is None:  # pragma: no cover - load_data always gives labels here
        raise DataError(f"`{args.data}` has no labels to fit")
    task, origin = choose_task(args.task, data, net)
    X_train, X_test, y_train, y_test, how = holdout_split(data, task, args.test_size, args.seed, console)
    console.print(f"net [bold]{net.name}[/] on [bold]{data.name}[/]: {task} (from {origin})")
    console.print(f"{len(y_train)} rows to train on; {how}")

    try:
        model = make_estimator(net, args, task, data, params, console, verbose=0 if args.quiet else 1)
        started = time.perf_counter()
        model.fit(X_train, y_train)
        seconds = time.perf_counter() - started
    except NetError:
        raise
    except (ValueError, TypeError, RuntimeError) as problem:
        return error(problem, code="D101")
    remember_columns(model, data)

    if X_test is not None:
        try:
            predictions = model.predict(X_test)
        except NetError:
            raise
        except ValueError as problem:
            return error(problem, code="D101")
        if is_several(model):
            print_output_scores(console, model, y_test, predictions, "held out")
        else:
            per_step = str(getattr(fitted_net(model), "output_mode_", "")).startswith("per_step")
            print_scores(console, task, y_test, predictions, data, "held out", per_step=per_step)
    _print_training(console, fitted_net(model), args.quiet)
    console.print(f"fit time: {seconds:.2f} s")
    if args.save is not None:
        where = save_model(model, args.save)
        console.print(f"saved the fitted model to {where}")
    return 0


def _print_training(console, net_model, quiet: bool) -> None:
    """Epochs run and the best epoch; with --quiet also the embeddings' coverage (logged otherwise)."""
    history = getattr(net_model, "history_", None) or {}
    epochs = len(history.get("loss", []))
    best = getattr(net_model, "best_epoch_", None)
    console.print(f"epochs run: {epochs}" + (f"   best epoch: {best}" if best is not None else ""))
    if quiet:  # otherwise the estimator logged it (verbose) before training started
        from netdsl.dsl.vectors import coverage_text

        for layer, report in (getattr(net_model, "embedding_coverage_", None) or {}).items():
            console.print(coverage_text(layer, report), markup=False, highlight=False)
