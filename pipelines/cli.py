"""The `netdsl` command line.

`check`, `fmt` and `show` only need `netdsl.dsl`, so they start instantly: nothing here imports
TensorFlow at module level; commands that train (`fit`, `predict`) import `netdsl.estimators` when
they run.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import os
import sys
import time
from pathlib import Path

from netdsl.dsl import NetError, analyse, format_source, load
from netdsl.pipelines.data import BUILTINS, DataError


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    # A command of this module's own (`netdsl check ...`) is parsed by its own subparser alone, so the
    # extension modules need not be imported (and compiled) for it.
    parser = _parser(extensions=not argv or argv[0] not in _OWN_COMMANDS)
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    try:
        return args.run(args)
    except NetError as error:
        print(error.render(), file=sys.stderr)
        return 1
    except DataError as error:
        return _error(str(error))
    except KeyboardInterrupt:  # pragma: no cover - interactive
        return 130


_OWN_COMMANDS = ("check", "fmt", "show", "fit", "predict")


def _parser(extensions: bool = True) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="netdsl",
        description="Declarative neural networks: check, format, inspect, fit and apply .net files.",
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

    data_help = f"a built-in data set ({', '.join(BUILTINS)}) or a .csv, .tsv, .parquet or .npz file"
    fit = commands.add_parser(
        "fit",
        help="train a .net file on data, score it on a held-out split, optionally save it",
        description="Train FILE on the data, holding out a test split (stratified for classification), "
        "and report the held-out score, the epochs run and the fit time.",
    )
    add_training_data_arguments(fit)
    fit.add_argument("--set", action="append", default=[], metavar="NAME=VALUE", help="set a param (repeatable)")
    fit.add_argument("--epochs", type=_positive_int, metavar="N", help="override the file's epochs")
    fit.add_argument("--batch-size", type=_positive_int, metavar="N", help="override the file's batch size")
    fit.add_argument("--learning-rate", type=float, metavar="LR", help="override the optimizer's learning rate")
    fit.add_argument(
        "--scale", action="store_true",
        help="standardise the features, and a regression's targets, by the training rows' mean and "
        "standard deviation (predictions are mapped back); for series such as counts in the hundreds",
    )  # fmt: skip
    fit.add_argument("--save", type=Path, metavar="MODEL", help="write the fitted model here")
    fit.add_argument("--quiet", action="store_true", help="no progress bar")
    fit.set_defaults(run=run_fit)

    predict = commands.add_parser(
        "predict",
        help="apply a saved model to data",
        description="Predict every row of the data with a model saved by `netdsl fit --save`.",
    )
    predict.add_argument("model", type=Path, metavar="MODEL", help="a model written by `netdsl fit --save`")
    predict.add_argument("--data", required=True, metavar="NAME_OR_PATH", help=data_help)
    predict.add_argument("--target", metavar="COL", help="label column of a CSV/Parquet file (default: the last column)")
    predict.add_argument("--no-target", action="store_true", help="the file has no label column: every column is a feature")
    predict.add_argument("--window", type=_positive_int, metavar="N", help="as given to `fit` for a series")
    predict.add_argument("--out", type=Path, metavar="CSV", help="write the predictions (and true targets) to this CSV file")
    predict.add_argument("--rows", type=_positive_int, default=10, metavar="N", help="rows to print without --out (default 10)")
    predict.set_defaults(run=run_predict)
    for module in _EXTENSIONS if extensions else ():  # commands defined beside the workflows they run
        importlib.import_module(module).register(commands)
    return parser


# Modules that add a subcommand through `register(commands)`; none may import TensorFlow at import time.
_EXTENSIONS = [
    name
    for name in ("netdsl.pipelines.search", "netdsl.pipelines.plots")
    if importlib.util.find_spec(name) is not None
]


def add_training_data_arguments(parser: argparse.ArgumentParser) -> None:
    """FILE and the data options shared by the commands that train (`fit`, `search`)."""
    parser.add_argument("file", type=Path, metavar="FILE", help="the .net program")
    parser.add_argument(
        "--data", required=True, metavar="NAME_OR_PATH",
        help=f"a built-in data set ({', '.join(BUILTINS)}) or a .csv, .tsv, .parquet or .npz file",
    )  # fmt: skip
    parser.add_argument("--target", metavar="COL", help="label column of a CSV/Parquet file (default: the last column)")
    parser.add_argument("--window", type=_positive_int, metavar="N", help="forecast a series: X = N previous values, y = the next")
    parser.add_argument(
        "--task", choices=("auto", "classification", "regression"), default="auto",
        help="auto (default): from the data, else from the file's loss",
    )  # fmt: skip
    parser.add_argument("--test-size", type=_fraction, default=0.2, metavar="F", help="held-out fraction, 0 <= F < 1 (default 0.2)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the splits and of training (default 0)")


def int_option(allowed, expected: str):
    """An argparse `type` for a whole number that `allowed(value)` accepts, saying what was `expected`."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}") from None
        if not allowed(value):
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}")
        return value

    return parse


_positive_int = int_option(lambda value: value >= 1, "a positive whole number")


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a fraction such as 0.2, got {text!r}") from None
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"expected a fraction with 0 <= F < 1, got {text!r}")
    return value


def _error(message: str) -> int:
    print(f"netdsl: error: {message}", file=sys.stderr)
    return 1


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
        if row.base is not None:
            name += f" (from {row.base})"
        field = "x".join(str(d) for d in row.receptive_field) if row.receptive_field else ""
        table.add_row(str(i), name, _shape(row.output_shape), _count(row.params), field, str(row.span.line) if row.span else "")
    Console(width=120).print(table)
    print(
        f"total params: {_count(summary.total_params)}   trainable: {_count(summary.trainable_params)}   "
        f"non-trainable: {_count(summary.non_trainable_params)}"
    )
    if summary.unfrozen:
        print(f"fine_tune (stage 2) unfreezes: {', '.join(summary.unfrozen)}   "
              f"trainable then: {_count(summary.fine_tune_trainable_params)}")


def _shape(shape) -> str:
    return "(" + ", ".join(["batch"] + [str(d) for d in shape]) + ")"


def _count(n) -> str:
    return f"{n:,}" if isinstance(n, int) else str(n)


# ---- fit and predict (these import TensorFlow, through netdsl.estimators, when they run) --------

CROSSENTROPY = ("crossentropy", "hinge")  # losses of classifiers; anything else means regression


def _estimators():
    """`netdsl.estimators`, imported on demand with TensorFlow's C++ start-up chatter turned down."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import netdsl.estimators as estimators

    return estimators


def _set_params(items: list[str]) -> dict:
    params = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise DataError(f"--set takes NAME=VALUE, got {item!r}")
        params[key.strip()] = _literal(value.strip())
    return params


def _task(args, data, net) -> tuple[str, str]:
    """(task, where it came from): --task, else the data, else the file's loss."""
    if args.task != "auto":
        return args.task, "--task"
    if data.task is not None:
        return data.task, "the data"
    loss = net.train.loss if net.train is not None else None
    if loss is not None and any(word in loss for word in CROSSENTROPY):
        return "classification", f"the loss {loss}"
    return "regression", f"the loss {loss}" if loss else "the default"


def _split(args, data, task, console):
    """Train and test arrays (the test ones None when --test-size is 0)."""
    from sklearn.model_selection import train_test_split

    if args.test_size == 0:
        return data.X, None, data.y, None, "no held-out split: trained on every row"
    if data.windowed:  # a series: test on its last stretch, never on values from the past of the training ones
        X_train, X_test, y_train, y_test = train_test_split(data.X, data.y, test_size=args.test_size, shuffle=False)
        return X_train, X_test, y_train, y_test, f"{len(y_test)} rows held out (the last stretch of the series)"
    stratify = data.y if task == "classification" else None
    try:
        parts = train_test_split(data.X, data.y, test_size=args.test_size, random_state=args.seed, stratify=stratify)
        how = "stratified" if stratify is not None else "random"
    except ValueError as error:
        if stratify is None:
            raise DataError(f"cannot hold out {args.test_size:g} of {data.n_samples} rows: {error}") from None
        console.print(f"[yellow]note:[/] cannot stratify the split ({error}); splitting at random")
        try:
            parts = train_test_split(data.X, data.y, test_size=args.test_size, random_state=args.seed)
        except ValueError as error:
            raise DataError(f"cannot hold out {args.test_size:g} of {data.n_samples} rows: {error}") from None
        how = "random"
    X_train, X_test, y_train, y_test = parts
    return X_train, X_test, y_train, y_test, f"{len(y_test)} rows held out ({how}, seed {args.seed})"


def _net_argument(path: Path) -> str:
    """What the estimators take as `net`: the path of a `.net` file, else the source text itself."""
    return str(path) if path.suffix == ".net" else path.read_text(encoding="utf-8")


def run_fit(args) -> int:
    from rich.console import Console

    console = Console(soft_wrap=True)  # long paths stay on one line
    net = load(args.file)  # a NetError here is rendered by main, before any data or TensorFlow work
    params = _set_params(args.set)
    data = _load(args.data, args.target, args.window)
    if data.y is None:  # pragma: no cover - load_data always gives labels here
        raise DataError(f"`{args.data}` has no labels to fit")
    task, origin = _task(args, data, net)
    X_train, X_test, y_train, y_test, how = _split(args, data, task, console)
    console.print(f"net [bold]{net.name}[/] on [bold]{data.name}[/]: {task} (from {origin})")
    console.print(f"{len(y_train)} rows to train on; {how}")

    if args.scale and getattr(data.X, "dtype", None) is not None and data.X.dtype.kind not in "biuf":
        raise DataError("--scale standardises numbers; the features of this data are not numeric (text?)")

    estimators = _estimators()
    cls = estimators.NetClassifier if task == "classification" else estimators.NetRegressor
    try:
        model = cls(
            _net_argument(args.file), epochs=args.epochs, batch_size=args.batch_size, learning_rate=args.learning_rate,
            verbose=0 if args.quiet else 1, random_state=args.seed, **params
        )
        if args.scale:
            model = scaled(model)
            console.print("scaled: features" + (" and targets" if task == "regression" else "") + " standardised on the training rows")
        started = time.perf_counter()
        model.fit(X_train, y_train)
        seconds = time.perf_counter() - started
    except NetError:
        raise
    except (ValueError, TypeError, RuntimeError) as error:
        return _error(str(error))

    if X_test is not None:
        try:
            predictions = model.predict(X_test)
        except NetError:
            raise
        except ValueError as error:
            return _error(str(error))
        _print_scores(console, task, y_test, predictions, data, "held out")
    net_model = fitted_net(model)
    history = getattr(net_model, "history_", None) or {}
    epochs = len(history.get("loss", []))
    best = getattr(net_model, "best_epoch_", None)
    console.print(f"epochs run: {epochs}" + (f"   best epoch: {best}" if best is not None else ""))
    if args.quiet:  # otherwise the estimator logged it (verbose) before training started
        from netdsl.dsl.vectors import coverage_text

        for layer, report in (getattr(net_model, "embedding_coverage_", None) or {}).items():
            console.print(coverage_text(layer, report), markup=False, highlight=False)
    console.print(f"fit time: {seconds:.2f} s")
    if args.save is not None:
        try:
            if hasattr(model, "save"):
                where = model.save(args.save) or args.save
            else:  # the pipeline of --scale
                import joblib

                joblib.dump(model, args.save)
                where = args.save
        except OSError as error:
            return _error(f"cannot write the model to `{args.save}`: {error.strerror or error}")
        console.print(f"saved the fitted model to {where}")
    return 0


def scaled(net_estimator):
    """The estimator behind `--scale`: features standardised (shaped samples flattened first; the
    net reshapes them to its `input`), and for a regressor the targets too, mapped back at predict."""
    from sklearn.base import is_regressor
    from sklearn.compose import TransformedTargetRegressor
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer, StandardScaler

    from netdsl.pipelines.series import flat_samples

    pipeline = make_pipeline(FunctionTransformer(flat_samples), StandardScaler(), net_estimator)
    if not is_regressor(net_estimator):
        return pipeline
    return TransformedTargetRegressor(regressor=pipeline, transformer=StandardScaler())


def fitted_net(model):
    """The fitted netdsl estimator inside what `fit` trained (itself, or the net of `scaled`)."""
    model = getattr(model, "regressor_", model)
    steps = getattr(model, "steps", None)
    return steps[-1][1] if steps else model


def run_predict(args) -> int:
    from rich.console import Console
    from sklearn.base import is_classifier

    console = Console(soft_wrap=True)  # long paths stay on one line
    if not args.model.is_file():
        return _error(f"no such model file: `{args.model}`; write one with `netdsl fit FILE --data ... --save {args.model}`")
    data = _load(args.data, args.target, args.window, has_target=not args.no_target)
    estimators = _estimators()
    try:
        model = estimators.load(args.model)
    except NetError:
        raise
    except Exception as error:  # joblib/pickle raise many kinds for a file that is not a model
        return _error(f"cannot load a model from `{args.model}` ({type(error).__name__}: {error}); is it a file written by `netdsl fit --save`?")
    try:
        predictions = model.predict(data.X)
    except NetError:
        raise
    except ValueError as error:
        return _error(str(error))

    import numpy as np
    import pandas as pd

    frame = pd.DataFrame(_columns("prediction", np.asarray(predictions)))
    if data.y is not None:
        frame = frame.join(pd.DataFrame(_columns("target", np.asarray(data.y))))
    if args.out is not None:
        try:
            frame.to_csv(args.out, index=False)
        except OSError as error:
            return _error(f"cannot write `{args.out}`: {error.strerror or error}")
        console.print(f"wrote {len(frame)} predictions to {args.out}")
    else:
        _print_frame(console, frame, args.rows, data)
    if data.y is not None:
        task = "classification" if is_classifier(model) else "regression"
        _print_scores(console, task, data.y, predictions, data, "on all rows", report=False)
    return 0


def _load(source, target, window, has_target=True):
    from netdsl.pipelines.data import load_data

    return load_data(source, target=target, window=window, has_target=has_target)


def _columns(name: str, values) -> dict:
    if values.ndim == 2 and values.shape[1] == 1:
        values = values[:, 0]
    if values.ndim == 1:
        return {name: values}
    flat = values.reshape(len(values), -1)
    return {f"{name}_{i}": flat[:, i] for i in range(flat.shape[1])}


def _print_frame(console, frame, rows: int, data) -> None:
    from rich.table import Table

    table = Table(title=f"predictions on {data.name}", title_justify="left")
    table.add_column("row", justify="right", style="dim")
    for column in frame.columns:
        table.add_column(str(column), justify="right")
    for index, row in frame.head(rows).iterrows():
        table.add_row(str(index), *(_cell(v) for v in row))
    console.print(table)
    if len(frame) > rows:
        console.print(f"... {len(frame) - rows} more rows (write them all with --out FILE.csv)")


def _cell(value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _print_scores(console, task, y_true, y_pred, data, where: str, report: bool = True) -> None:
    import numpy as np
    from sklearn import metrics

    if task == "classification":
        console.print(f"accuracy ({where}): [bold]{metrics.accuracy_score(y_true, y_pred):.4f}[/]")
        if report:
            _print_report(console, y_true, y_pred, data)
        return
    y_true, y_pred = np.asarray(y_true, dtype=float), np.asarray(y_pred, dtype=float).reshape(np.shape(y_true))
    if len(y_true) < 2:
        console.print(f"MAE ({where}): [bold]{metrics.mean_absolute_error(y_true, y_pred):.4g}[/]")
        return
    console.print(
        f"R² ({where}): [bold]{metrics.r2_score(y_true, y_pred):.4f}[/]   "
        f"MAE: [bold]{metrics.mean_absolute_error(y_true, y_pred):.4g}[/]"
    )


def _print_report(console, y_true, y_pred, data) -> None:
    import numpy as np
    from rich.table import Table
    from sklearn.metrics import classification_report

    labels = np.unique(np.concatenate([np.asarray(y_true), np.asarray(y_pred)]))
    names = [data.label_name(label) for label in labels]
    report = classification_report(
        y_true, y_pred, labels=labels, target_names=names, output_dict=True, zero_division=0
    )
    table = Table(title="per class (held out)", title_justify="left")
    table.add_column("class")
    for column in ("precision", "recall", "f1-score", "support"):
        table.add_column(column, justify="right")
    for name in names:
        row = report[name]
        table.add_row(name, f"{row['precision']:.3f}", f"{row['recall']:.3f}", f"{row['f1-score']:.3f}", str(int(row["support"])))
    table.add_section()
    for name in ("macro avg", "weighted avg"):
        row = report[name]
        table.add_row(name, f"{row['precision']:.3f}", f"{row['recall']:.3f}", f"{row['f1-score']:.3f}", str(int(row["support"])))
    console.print(table)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
