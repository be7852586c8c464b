"""`netdsl predict MODEL --data ...`: apply a saved model to data, print or write the predictions
and, when the data has labels, score them. A MODEL ending in `.onnx` (`netdsl export --format
onnx`) runs with onnxruntime (`netdsl.pipelines.onnx_model`): nothing on that path imports
TensorFlow, which need not be installed."""

from __future__ import annotations

from pathlib import Path

from netdsl.dsl import NetError
from netdsl.pipelines.commands.common import (
    DATA_HELP,
    error,
    load_model,
    positive_int,
    print_scores,
    refuse_overwrite,
    write_csv,
)
from netdsl.pipelines.commands.several import is_several, output_columns, print_output_scores, target_columns
from netdsl.pipelines.composite import known_columns
from netdsl.pipelines.data import load_data


def register(commands) -> None:
    predict = commands.add_parser(
        "predict",
        help="apply a saved model to data",
        description="Predict every row of the data with a model saved by `netdsl fit --save`.",
    )
    predict.add_argument(
        "model", type=Path, metavar="MODEL",
        help="a model written by `netdsl fit --save`, or an ONNX file written by `netdsl export` (runs without TensorFlow)",
    )  # fmt: skip
    predict.add_argument("--data", required=True, metavar="NAME_OR_PATH", help=DATA_HELP)
    predict.add_argument(
        "--target", action="append", metavar="COL",
        help="label column of a CSV/Parquet file, to score against (default: the model's target column if the "
        "file has it; for a model not trained on a table, the last column); several for a net with several "
        "outputs: --target digit,even",
    )  # fmt: skip
    predict.add_argument(
        "--no-target", action="store_true",
        help="the file has no label column (a model trained on a table finds its own columns by name without it)",
    )  # fmt: skip
    predict.add_argument("--window", type=positive_int, metavar="N", help="as given to `fit` for a series")
    predict.add_argument("--out", type=Path, metavar="CSV", help="write the predictions (and true targets) to this CSV file")
    predict.add_argument("--rows", type=positive_int, default=10, metavar="N", help="rows to print without --out (default 10)")
    predict.set_defaults(run=run)


def run(args) -> int:
    from rich.console import Console
    from sklearn.base import is_classifier

    refused = refuse_overwrite("--out", args.out, {"the model file": args.model, "the data file": args.data})
    if refused:
        return refused
    console = Console(soft_wrap=True, highlight=False)  # long paths stay on one line; no quadratic highlighting
    onnx = args.model.suffix.lower() == ".onnx"
    model = _onnx_model(args.model) if onnx else load_model(args.model)
    data = load_data(
        args.data, target=target_columns(args.target), window=args.window, has_target=not args.no_target, columns=known_columns(model)
    )
    try:
        predictions = model.transform(data.X) if onnx and model.task == "transformer" else model.predict(data.X)
    except NetError:
        raise
    except ValueError as problem:
        return error(problem, code="D101")

    import numpy as np
    import pandas as pd

    several = is_several(model)
    names = output_columns(model) if several else None
    if isinstance(predictions, dict):  # a plain ONNX model with several outputs: each by its name
        frame = pd.DataFrame({k: v for name, values in predictions.items()
                              for k, v in _columns(name, np.asarray(values)).items()})
    else:
        frame = pd.DataFrame(_columns("prediction", np.asarray(predictions), names))
    if data.y is not None:
        truth = data.y
        if names is not None and hasattr(truth, "columns") and set(names) <= {str(c) for c in truth.columns}:
            truth = truth[names]  # --target even,digit: the columns in the outputs' order, as predicted
        frame = frame.join(pd.DataFrame(_columns("target", np.asarray(truth), names)))
    if args.out is not None:
        write_csv(frame, args.out)
        console.print(f"wrote {len(frame)} predictions to {args.out}")
    else:
        _print_frame(console, frame, args.rows, data)
    try:
        if data.y is not None and several:
            print_output_scores(console, model, data.y, predictions, "on all rows")
        elif data.y is not None and not (onnx and model.task in (None, "transformer")):  # a plain model's: unknown
            task = "classification" if (model.task == "classifier" if onnx else is_classifier(model)) else "regression"
            print_scores(console, task, data.y, predictions, data, "on all rows", report=False)
    except ValueError as problem:  # labels the scores cannot take: one column for several outputs, text for numbers
        return error(problem, code="D101")
    return 0


def _onnx_model(path: Path):
    """The ONNX file at `path` opened with onnxruntime (a DataError says why it cannot be)."""
    from netdsl.pipelines.onnx_model import OnnxModel

    return OnnxModel(path)


def _columns(name: str, values, outputs: list[str] | None = None) -> dict:
    """Columns NAME, or NAME_i for several values a row; NAME_OUTPUT for a net with several outputs
    (`outputs`: the name of each column, `several.output_columns`)."""
    flat = values.reshape(len(values), -1)
    if outputs is not None and len(outputs) == flat.shape[1]:
        return {f"{name}_{output}": flat[:, i] for i, output in enumerate(outputs)}
    if values.ndim == 2 and values.shape[1] == 1:
        values = values[:, 0]
    if values.ndim == 1:
        return {name: values}
    return {f"{name}_{i}": flat[:, i] for i in range(flat.shape[1])}


_MAX_COLUMNS = 10  # printed; --out writes every column


def _print_frame(console, frame, rows: int, data) -> None:
    from rich.table import Table

    table = Table(title=f"predictions on {data.name}", title_justify="left")
    table.add_column("row", justify="right", style="dim")
    shown = frame.iloc[:, :_MAX_COLUMNS]  # an image a row (an autoencoder's 64 pixels) would not fit
    for column in shown.columns:
        table.add_column(str(column), justify="right")
    for index, row in shown.head(rows).iterrows():
        table.add_row(str(index), *(_cell(v) for v in row))
    console.print(table)
    if frame.shape[1] > _MAX_COLUMNS:
        console.print(f"... {frame.shape[1] - _MAX_COLUMNS} more columns (write them all with --out FILE.csv)")
    if len(frame) > rows:
        console.print(f"... {len(frame) - rows} more rows (write them all with --out FILE.csv)")


def _cell(value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)
