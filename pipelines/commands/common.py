"""What the command modules share: options, `--set` values, the task and the held-out split, the
estimator a command trains, models read and written, scores printed and errors said.

Importing this module is cheap (no NumPy, scikit-learn or TensorFlow): every command module
imports it when `netdsl` starts. Whatever is heavy is imported inside the function that needs it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from netdsl.dsl import NetError
from netdsl.pipelines.commands.several import TARGET_HELP
from netdsl.pipelines.composite import check_categories, composed
from netdsl.pipelines.data import BUILTINS, DataError

__all__ = [
    "DATA_HELP", "SET_HELP", "add_estimator_arguments", "add_training_data_arguments",
    "PYTHON_CODES", "choose_task", "code_of", "error", "estimators", "fraction", "holdout_split", "int_option", "literal", "load_model",
    "make_estimator", "positive_int", "print_scores", "refuse_overwrite", "save_model", "set_params", "write_csv",
]  # fmt: skip

DATA_HELP = f"a built-in data set ({', '.join(BUILTINS)}) or a .csv, .tsv, .parquet or .npz file"
SET_HELP = "set a file param or an estimator setting such as epochs (repeatable)"


# The codes of a mistake made in Python (P101: a parameter, E101: X or y given to an estimator or a
# step). At the command line the same mistake comes from the files and options given: a command says
# its own code for it (D101), as it did before these codes existed.
PYTHON_CODES = frozenset({"P101", "E101"})


def code_of(problem: BaseException, default: str | None = None) -> str | None:
    """The code a command says for `problem`: its own (`DataError.code`, one of netdsl.dsl.codes), or
    `default` for an error without one (another library's) or with one of `PYTHON_CODES`."""
    own = getattr(problem, "code", None)
    if own is None or (own in PYTHON_CODES and default is not None):
        return default
    return own


def error(problem, code: str | None = None) -> int:
    """Say `netdsl: error[CODE]: MESSAGE` on stderr; the exit status of a command that failed (1).
    `problem` is the message, or an error whose message and code are said (`code_of`); `code` is said
    for a message, or for an error without a code of its own or with one of `PYTHON_CODES`."""
    if isinstance(problem, BaseException):
        code = code_of(problem, code)
        problem = str(problem)
    print(f"netdsl: error{f'[{code}]' if code else ''}: {problem}", file=sys.stderr)
    return 1


# ---- options -------------------------------------------------------------------------------------


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


positive_int = int_option(lambda value: value >= 1, "a positive whole number")


def fraction(text: str) -> float:
    """An argparse `type` for a held-out fraction, 0 <= F < 1."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a fraction such as 0.2, got {text!r}") from None
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"expected a fraction with 0 <= F < 1, got {text!r}")
    return value


def add_training_data_arguments(parser: argparse.ArgumentParser) -> None:
    """FILE and the data options shared by the commands that train (`fit`, `search`)."""
    parser.add_argument("file", type=Path, metavar="FILE", help="the .net program")
    parser.add_argument("--data", required=True, metavar="NAME_OR_PATH", help=DATA_HELP)
    parser.add_argument("--target", action="append", metavar="COL", help=TARGET_HELP)
    parser.add_argument("--window", type=positive_int, metavar="N", help="forecast a series: X = N previous values, y = the next")
    parser.add_argument(
        "--task", choices=("auto", "classification", "regression"), default="auto",
        help="auto (default): from the data, else from the file's loss",
    )  # fmt: skip
    parser.add_argument("--test-size", type=fraction, default=0.2, metavar="F", help="held-out fraction, 0 <= F < 1 (default 0.2)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the splits and of training (default 0)")


def add_estimator_arguments(parser: argparse.ArgumentParser) -> None:
    """The estimator options shared by `fit` and `search`: --set, --epochs, --scale."""
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE", help=SET_HELP)
    parser.add_argument("--epochs", type=positive_int, metavar="N", help="override the file's epochs")
    parser.add_argument(
        "--scale", action="store_true",
        help="standardise the features, and a regression's targets, by the training rows' mean and "
        "standard deviation (predictions are mapped back); for series such as counts in the hundreds",
    )  # fmt: skip


# ---- values -----------------------------------------------------------------------------------------


def literal(text: str):
    """A value given on the command line (`--set`, `--grid`): a number, true/false, or a word."""
    lowered = text.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def set_params(items: list[str]) -> dict:
    """`--set NAME=VALUE` options (of `show`, `fit` and `search`) as a dict, values as `literal`;
    the one parser of `--set`: a DataError (`netdsl: error[D101]: ...`, exit 1) says what is wrong."""
    params = {}
    for item in items:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise DataError(f"--set takes NAME=VALUE, got {item!r}")
        if key == "net":
            raise DataError("--set cannot set `net`: the .net file is the command's FILE argument")
        if key in params and params[key] != literal(value.strip()):
            raise DataError(f"--set gives `{key}` twice ({params[key]!r} and {value.strip()!r}); give it once")
        params[key] = literal(value.strip())
    return params


# ---- the task and the split ---------------------------------------------------------------------------


def choose_task(requested: str, data, net) -> tuple[str, str]:
    """(task, where it came from): `requested` (--task) unless "auto", else the data, else the file's
    loss (a classifier's loss, `netdsl.dsl.kinds.CLASSIFICATION_LOSSES`, means classification)."""
    from netdsl.dsl.kinds import CLASSIFICATION_LOSSES
    from netdsl.dsl.train_specs import loss_name

    if requested != "auto":
        return requested, "--task"
    if data.task is not None:
        return data.task, "the data"
    loss = loss_name(net.train.loss) if net.train is not None else None
    if loss in CLASSIFICATION_LOSSES:
        return "classification", f"the loss {loss}"
    return "regression", f"the loss {loss}" if loss else "the default"


def holdout_split(data, task: str, test_size: float, seed: int, console):
    """(X_train, X_test, y_train, y_test, how): `test_size` of the rows held out (None when it is 0),
    stratified for classification (at random, with a note on `console`, when a class is too small),
    the last stretch of a series; `how` says which, in words. A DataError when it cannot be done."""
    from sklearn.model_selection import train_test_split

    if test_size == 0:
        return data.X, None, data.y, None, "no held-out split: trained on every row"
    if data.windowed:  # a series: test on its last stretch, never on values from the past of the training ones
        X_train, X_test, y_train, y_test = train_test_split(data.X, data.y, test_size=test_size, shuffle=False)
        return X_train, X_test, y_train, y_test, f"{len(y_test)} rows held out (the last stretch of the series)"
    stratify = data.y if task == "classification" else None
    try:
        parts = train_test_split(data.X, data.y, test_size=test_size, random_state=seed, stratify=stratify)
        how = "stratified" if stratify is not None else "random"
    except ValueError as problem:
        if stratify is None:
            raise DataError(f"cannot hold out {test_size:g} of {data.n_samples} rows: {problem}") from None
        console.print(f"[yellow]note:[/] cannot stratify the split ({problem}); splitting at random")
        try:
            parts = train_test_split(data.X, data.y, test_size=test_size, random_state=seed)
        except ValueError as problem:
            raise DataError(f"cannot hold out {test_size:g} of {data.n_samples} rows: {problem}") from None
        how = "random"
    X_train, X_test, y_train, y_test = parts
    return X_train, X_test, y_train, y_test, f"{len(y_test)} rows held out ({how}, seed {seed})"


# ---- the estimator and models ---------------------------------------------------------------------


def estimators():
    """`netdsl.estimators`, imported on demand, with the process set up for training first
    (`netdsl.estimators.runtime.configure_process`: TensorFlow's logging, threads) before anything
    imports TensorFlow."""
    from netdsl.estimators import runtime

    runtime.configure_process()
    import netdsl.estimators as module

    return module


_SETTING_OPTIONS = ("epochs", "batch_size", "learning_rate")  # settings that also have their own option


def make_estimator(net, args, task: str, data, params: dict, console=None, verbose: int = 0):
    """The estimator that `fit` and `search` train: a NetClassifier or NetRegressor of `net` (what
    the estimators take as `net`) with the options' settings and `--set` values (a `--set` may name
    any file param or estimator setting), after a one-hot encoder of the data's string columns and,
    with --scale, a standardiser (`netdsl.pipelines.composite.composed`)."""
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
    module = estimators()
    cls = module.NetClassifier if task == "classification" else module.NetRegressor
    try:
        model = cls(net, **settings)
    except TypeError as problem:  # pragma: no cover - the named settings are the estimator's own
        raise DataError(str(problem)) from None
    if data.categorical:  # the one-hot step's memory grows as rows x distinct values (an id column)
        check_categories(data.X, data.categorical, args.data)
    if data.categorical and console is not None:
        console.print("one-hot encoded: " + ", ".join(data.categorical) + " (categories unseen in training: all zeros)")
    if args.scale and console is not None:
        console.print("scaled: features" + (" and targets" if task == "regression" else "") + " standardised on the training rows")
    return composed(model, categorical=data.categorical, scale=args.scale)


def refuse_overwrite(option: str, out: Path | None, inputs: dict) -> int | None:
    """One C101 line and exit status 1 when `out` (what `option` writes) is one of the files the
    command reads (`inputs`: what each is called, its path), which writing would destroy; else None."""
    if out is None:
        return None
    for what, path in inputs.items():
        if path is not None and Path(path).is_file() and Path(path).resolve() == Path(out).resolve():  # (not `digits`)
            return error(f"{option} `{out}` is {what} itself; name another file", code="C101")
    return None


def save_model(model, path: Path) -> Path:
    """Write the fitted `model` (an estimator or a composite around one) to `path` as a netdsl model
    file (`netdsl.estimators.save`: the old file survives a failed write). A DataError says why not."""
    try:
        return estimators().save(model, path) or path
    except OSError as problem:
        raise DataError(f"cannot write the model to `{path}`: {problem.strerror or problem}; any old file there is unchanged") from None


def load_model(path: Path):
    """The model saved at `path`, or a DataError saying why not (never a traceback)."""
    if not path.is_file():
        what = "is a folder, not a model file" if path.is_dir() else "no such model file"
        raise DataError(f"{what}: `{path}`; write one with `netdsl fit FILE --data ... --save {path}`")
    if path.suffix == ".net":
        raise DataError(f"`{path}` is a program, not a fitted model: fit it first, "
                        f"`netdsl fit {path} --data ... --save {path.with_suffix('.model').name}`, and give that")
    module = estimators()
    try:
        return module.load(path)
    except NetError:
        raise
    except ValueError as problem:  # netdsl's reasons (a pickle refused, a damaged file), said as they are
        raise DataError(f"cannot load a model from `{path}`: {problem}") from None
    except Exception as problem:  # noqa: BLE001 - a file that is not a model raises many kinds
        raise DataError(
            f"cannot load a model from `{path}` ({type(problem).__name__}: {problem}); is it a file written by `netdsl fit --save`?"
        ) from None


def write_csv(frame, path: Path) -> None:
    """`frame.to_csv(path)`, written whole or not at all (the old file survives a failed write)."""
    from netdsl.dsl.files import replace_atomically

    try:
        with replace_atomically(path) as temporary:
            frame.to_csv(temporary, index=False)
    except OSError as problem:
        raise DataError(f"cannot write `{path}`: {problem.strerror or problem}; any old file there is unchanged") from None


# ---- scores ------------------------------------------------------------------------------------------


def print_scores(console, task, y_true, y_pred, data, where: str, report: bool = True, per_step=None) -> None:
    """Accuracy (and with `report` a table per class) or R² and MAE (MAE alone for one row).
    `per_step`: the labels are one per time step (y of shape (n, T)), whose accuracy is over all
    steps, as `NetClassifier.score` gives it; None: read from y (a matrix of labels but 0/1)."""
    import numpy as np
    from sklearn import metrics
    from sklearn.utils.multiclass import type_of_target

    if task == "classification" and np.ndim(y_true) == 2 and (
            per_step or (per_step is None and type_of_target(np.asarray(y_true)) == "multiclass-multioutput")):
        right = np.mean(np.asarray(y_true) == np.asarray(y_pred).reshape(np.shape(y_true)))
        console.print(f"accuracy ({where}, over all {np.shape(y_true)[1]} steps): [bold]{right:.4f}[/]")
        return
    if task == "classification":
        console.print(f"accuracy ({where}): [bold]{metrics.accuracy_score(y_true, y_pred):.4f}[/]")
        if report:
            _print_report(console, y_true, y_pred, data)
        return
    y_true, y_pred = np.asarray(y_true, dtype=float), np.asarray(y_pred, dtype=float).reshape(np.shape(y_true))
    if y_true.ndim > 2:  # image- or sequence-shaped targets: every value an output (as NetRegressor.score)
        y_true, y_pred = y_true.reshape(len(y_true), -1), y_pred.reshape(len(y_pred), -1)
    if len(y_true) < 2:
        console.print(f"MAE ({where}): [bold]{metrics.mean_absolute_error(y_true, y_pred):.4g}[/]")
        return
    # Several values a row (an autoencoder's pixels): R² is the mean of each column's, which a nearly
    # constant column (a corner pixel) drags far below zero; the mean squared error is said too.
    several = y_true.ndim == 2 and y_true.shape[1] > 1
    console.print(
        f"R² ({where}): [bold]{metrics.r2_score(y_true, y_pred):.4f}[/]   "
        f"MAE: [bold]{metrics.mean_absolute_error(y_true, y_pred):.4g}[/]"
        + (f"   MSE: [bold]{metrics.mean_squared_error(y_true, y_pred):.4g}[/]" if several else "")
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
