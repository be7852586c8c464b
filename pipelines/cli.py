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

from netdsl.dsl import NetError, analyse, format_source, load, read_text
from netdsl.dsl.files import replace_atomically, write_text
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
        code = args.run(args)
        sys.stdout.flush()  # here, so that a closed pipe is met inside this `try`
        return code
    except NetError as error:
        print(error.render(), file=sys.stderr)
        return 1
    except DataError as error:
        return _error(str(error))
    except BrokenPipeError:
        # The reader of our output went away (`netdsl show f.net --json | head`): stop quietly.
        # Python's recipe (docs of `signal`, "Note on SIGPIPE"): point stdout at devnull so that the
        # interpreter's final flush does not fail again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
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
    show.add_argument("--set", action="append", default=[], metavar="NAME=VALUE", help=SET_HELP)
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
    add_estimator_arguments(fit)
    fit.add_argument("--batch-size", type=_positive_int, metavar="N", help="override the file's batch size")
    fit.add_argument("--learning-rate", type=float, metavar="LR", help="override the optimizer's learning rate")
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
    predict.add_argument(
        "--target", metavar="COL",
        help="label column of a CSV/Parquet file, to score against (default: the model's target column if the "
        "file has it; for a model not trained on a table, the last column)",
    )  # fmt: skip
    predict.add_argument(
        "--no-target", action="store_true",
        help="the file has no label column (a model trained on a table finds its own columns by name without it)",
    )  # fmt: skip
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


SET_HELP = "set a file param or an estimator setting such as epochs (repeatable)"


def add_estimator_arguments(parser: argparse.ArgumentParser) -> None:
    """The estimator options shared by `fit` and `search`: --set, --epochs, --scale."""
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE", help=SET_HELP)
    parser.add_argument("--epochs", type=_positive_int, metavar="N", help="override the file's epochs")
    parser.add_argument(
        "--scale", action="store_true",
        help="standardise the features, and a regression's targets, by the training rows' mean and "
        "standard deviation (predictions are mapped back); for series such as counts in the hundreds",
    )  # fmt: skip


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
        try:  # a file that cannot be read, is not UTF-8 or does not parse is reported; the others go on
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
        else:
            try:  # to a temporary file renamed over the old one: a failed write leaves it whole
                write_text(path, formatted)
            except OSError as error:
                print(f"{path}: error: cannot write the file: {error.strerror or error}; it is unchanged", file=sys.stderr)
                errors += 1
                continue
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
    Console(width=120, highlight=False).print(table)
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


def set_params(items: list[str]) -> dict:
    """`--set NAME=VALUE` options (of `show`, `fit` and `search`) as a dict; values as `_literal`."""
    params = {}
    for item in items:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise DataError(f"--set takes NAME=VALUE, got {item!r}")
        if key == "net":
            raise DataError("--set cannot set `net`: the .net file is the command's FILE argument")
        if key in params and params[key] != _literal(value.strip()):
            raise DataError(f"--set gives `{key}` twice ({params[key]!r} and {value.strip()!r}); give it once")
        params[key] = _literal(value.strip())
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
    return str(path) if path.suffix == ".net" else read_text(path)


def run_fit(args) -> int:
    from rich.console import Console

    console = Console(soft_wrap=True, highlight=False)  # long paths stay on one line; no quadratic highlighting
    net = load(args.file)  # a NetError here is rendered by main, before any data or TensorFlow work
    params = set_params(args.set)
    data = _load(args.data, args.target, args.window)
    if data.y is None:  # pragma: no cover - load_data always gives labels here
        raise DataError(f"`{args.data}` has no labels to fit")
    task, origin = _task(args, data, net)
    X_train, X_test, y_train, y_test, how = _split(args, data, task, console)
    console.print(f"net [bold]{net.name}[/] on [bold]{data.name}[/]: {task} (from {origin})")
    console.print(f"{len(y_train)} rows to train on; {how}")

    try:
        model = make_estimator(args, task, data, params, console, verbose=0 if args.quiet else 1)
        started = time.perf_counter()
        model.fit(X_train, y_train)
        seconds = time.perf_counter() - started
    except NetError:
        raise
    except (ValueError, TypeError, RuntimeError) as error:
        return _error(str(error))
    remember_columns(model, data)

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
        where = save_model(model, args.save)
        console.print(f"saved the fitted model to {where}")
    return 0


_SETTING_OPTIONS = ("epochs", "batch_size", "learning_rate")  # settings that also have their own option


def make_estimator(args, task: str, data, params: dict, console=None, verbose: int = 0):
    """The estimator that `fit` and `search` train: a NetClassifier or NetRegressor of FILE with the
    options' settings and `--set` values (a `--set` may name any file param or estimator setting),
    after a one-hot encoder of the data's string columns and, with --scale, a standardiser."""
    settings = {"verbose": verbose, "random_state": args.seed}
    for name in _SETTING_OPTIONS:
        value = getattr(args, name, None)
        if value is None:
            continue
        option = "--" + name.replace("_", "-")
        if name in params and params[name] != value:
            raise DataError(f"--set {name}={params[name]} and {option} {value} disagree; give one of them")
        settings[name] = value
    settings.update(params)
    if args.scale and getattr(data.X, "dtype", None) is not None and data.X.dtype.kind not in "biuf":
        raise DataError("--scale standardises numbers; the features of this data are not numeric (text?)")
    estimators = _estimators()
    cls = estimators.NetClassifier if task == "classification" else estimators.NetRegressor
    try:
        model = cls(_net_argument(args.file), **settings)
    except TypeError as error:  # pragma: no cover - the named settings are the estimator's own
        raise DataError(str(error)) from None
    if data.categorical and console is not None:
        console.print("one-hot encoded: " + ", ".join(data.categorical) + " (categories unseen in training: all zeros)")
    if args.scale and console is not None:
        console.print("scaled: features" + (" and targets" if task == "regression" else "") + " standardised on the training rows")
    return composed(model, categorical=data.categorical, scale=args.scale)


def composed(net_estimator, categorical=(), scale: bool = False):
    """`net_estimator` after what the command line puts before it: a one-hot encoder of the
    `categorical` columns (other columns passed through), and with `scale` the features
    standardised (shaped samples flattened first; the net reshapes them to its `input`) and, for a
    regressor, the targets too, mapped back at predict. The estimator itself when neither applies."""
    from sklearn.base import is_regressor
    from sklearn.compose import ColumnTransformer, TransformedTargetRegressor
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

    from netdsl.pipelines.series import flat_samples

    steps = []
    if categorical:
        encoder = OneHotEncoder(handle_unknown="ignore", sparse_output=False)
        steps.append(ColumnTransformer([("onehot", encoder, list(categorical))], remainder="passthrough", sparse_threshold=0))
    if scale:
        steps += [FunctionTransformer(flat_samples), StandardScaler()]
    if not steps:
        return net_estimator
    pipeline = make_pipeline(*steps, net_estimator)
    if not scale or not is_regressor(net_estimator):
        return pipeline
    return TransformedTargetRegressor(regressor=pipeline, transformer=StandardScaler())


def fitted_net(model):
    """The fitted netdsl estimator inside what `fit` trained (itself, or the net of `composed`)."""
    model = getattr(model, "regressor_", model)
    steps = getattr(model, "steps", None)
    return steps[-1][1] if steps else model


def before_net(model):
    """What a composite applies to X before its net (a fitted transformer), or None."""
    model = getattr(model, "regressor_", model)
    steps = getattr(model, "steps", None)
    return model[:-1] if steps and len(steps) > 1 else None


def remember_columns(model, data) -> None:
    """Record on the fitted `model` the table columns it was trained on (`feature_columns_`,
    `target_column_`, `categorical_columns_`, plain data saved with it), so that `predict` finds
    its features and labels by name."""
    if not data.table or data.windowed:
        return
    model.feature_columns_ = list(data.feature_names)
    model.target_column_ = data.target
    model.categorical_columns_ = list(data.categorical)


def known_columns(model) -> dict | None:
    """The table columns a model was trained on (see `remember_columns`), for `load_data(columns=)`."""
    features = getattr(model, "feature_columns_", None)
    if not features:
        return None
    return {
        "features": [str(c) for c in features],
        "target": getattr(model, "target_column_", None),
        "categorical": [str(c) for c in getattr(model, "categorical_columns_", None) or []],
    }


def save_model(model, path: Path) -> Path:
    """Write the fitted `model` (an estimator or a composite around one) to `path` as a netdsl model
    file (`netdsl.estimators.save`: the old file survives a failed write). A DataError says why not."""
    estimators = _estimators()
    try:
        return estimators.save(model, path) or path
    except OSError as error:
        raise DataError(f"cannot write the model to `{path}`: {error.strerror or error}; any old file there is unchanged") from None


def load_model(path: Path):
    """The model saved at `path`, or a DataError saying why not (never a traceback)."""
    if not path.is_file():
        what = "is a folder, not a model file" if path.is_dir() else "no such model file"
        raise DataError(f"{what}: `{path}`; write one with `netdsl fit FILE --data ... --save {path}`")
    estimators = _estimators()
    try:
        return estimators.load(path)
    except NetError:
        raise
    except ValueError as error:  # netdsl's reasons (a pickle refused, a damaged file), said as they are
        raise DataError(f"cannot load a model from `{path}`: {error}") from None
    except Exception as error:  # noqa: BLE001 - a file that is not a model raises many kinds
        raise DataError(
            f"cannot load a model from `{path}` ({type(error).__name__}: {error}); is it a file written by `netdsl fit --save`?"
        ) from None


def write_csv(frame, path: Path) -> None:
    """`frame.to_csv(path)`, written whole or not at all (the old file survives a failed write)."""
    try:
        with replace_atomically(path) as temporary:
            frame.to_csv(temporary, index=False)
    except OSError as error:
        raise DataError(f"cannot write `{path}`: {error.strerror or error}; any old file there is unchanged") from None


def run_predict(args) -> int:
    from rich.console import Console
    from sklearn.base import is_classifier

    console = Console(soft_wrap=True, highlight=False)  # long paths stay on one line; no quadratic highlighting
    model = load_model(args.model)
    columns = known_columns(model)
    has_target = not args.no_target
    data = _load(args.data, args.target, args.window, has_target=has_target, columns=columns)
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
        write_csv(frame, args.out)
        console.print(f"wrote {len(frame)} predictions to {args.out}")
    else:
        _print_frame(console, frame, args.rows, data)
    if data.y is not None:
        task = "classification" if is_classifier(model) else "regression"
        _print_scores(console, task, data.y, predictions, data, "on all rows", report=False)
    return 0


def _load(source, target, window, has_target=True, columns=None):
    from netdsl.pipelines.data import load_data

    return load_data(source, target=target, window=window, has_target=has_target, columns=columns)


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
