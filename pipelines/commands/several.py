"""What `fit`, `search` and `predict` do for a net with several inputs or outputs.

- `--target` names one label column, or several for a net with several outputs: `--target
  digit,even` or `--target digit --target even` (the same). The columns become a DataFrame y that
  the estimator matches to the outputs by name (else takes in order); `target_columns` reads them.
- A table's string columns are one-hot encoded for a net with one input; for a net with several,
  a column named like a text input (`input review text`: the column `review`) is that input's
  text, never encoded (`for_net`).
- Scores are said per output (`print_output_scores`): accuracy for a classification output, R² and
  MAE for a regression one, and the share of rows with every output right when all classify.
- `predict` names its columns after the outputs (`prediction_digit`, `target_digit`, ...).

Importing this module is cheap, as `common.py`: NumPy and the estimators load inside the functions.
"""

from __future__ import annotations

from dataclasses import replace

from netdsl.pipelines.data import DataError

__all__ = ["TARGET_HELP", "for_net", "is_several", "output_columns", "print_output_scores", "target_columns"]

TARGET_HELP = (
    "label column of a CSV/Parquet file (default: the last column); for a net with several outputs, "
    "one column per output: --target digit,even or --target digit --target even"
)


def target_columns(values: list[str] | None) -> str | list[str] | None:
    """The `--target` options (repeatable, each a name or names separated by commas) as one name,
    a list of two or more, or None when none was given."""
    if not values:
        return None
    names = [name.strip() for value in values for name in value.split(",")]
    if not all(names):
        raise DataError(f"--target {','.join(values)} has an empty column name; separate names by single commas")
    if len(set(names)) != len(names):
        raise DataError(f"--target names a column twice ({', '.join(names)}); name each once")
    return names[0] if len(names) == 1 else names


def for_net(data, net):
    """`data` as the net takes it: for a net with several inputs, the columns named like its text
    inputs are not one-hot encoded (each is that input's text). A net with several outputs given
    one label column is refused here, with the option that fixes it (not as 65 features later)."""
    if len(net.outputs) > 1 and data.y is not None and getattr(data.y, "ndim", 2) == 1:
        names = ",".join(net.outputs)
        raise DataError(
            f"`{net.name}` has {len(net.outputs)} outputs ({', '.join(net.outputs)}) but the data has one label "
            f"column{f' (`{data.target}`)' if data.target else ''}: name a column for each, --target {names}"
        )
    texts = {i.name for i in net.inputs if i.text}
    if not texts or not data.categorical:
        return data
    left = [c for c in data.categorical if c not in texts]
    if left:
        raise DataError(
            f"the string column(s) {', '.join(f'`{c}`' for c in left)} feed no text input of `{net.name}` "
            f"(its text inputs: {', '.join(sorted(texts))}); a net with several inputs takes its strings "
            "as text inputs of the same names: drop those columns or turn them into numbers first"
        )
    return replace(data, categorical=[])


def is_several(model) -> bool:
    """Whether the fitted `model` (a net, or a composite around one) has several outputs."""
    from netdsl.pipelines.composite import fitted_net

    return bool(getattr(fitted_net(model), "heads_", None))


def output_columns(model) -> list[str]:
    """The column names of `predict`'s output for a net with several outputs: an output's name, or
    NAME_i for each value of an output with several."""
    from netdsl.pipelines.composite import fitted_net

    names = []
    for head in fitted_net(model).heads_:
        columns = int(head["columns"])
        names += [head["name"]] if columns == 1 else [f"{head['name']}_{i}" for i in range(columns)]
    return names


def _by_output(model, y_true, y_pred) -> list[tuple[dict, object, object]]:
    """(head, its true values, its predictions) for each output, y_true matched to the outputs by
    column name (else in order) as the estimator matches y."""
    import numpy as np

    from netdsl.estimators.several import Head, split_targets
    from netdsl.pipelines.composite import fitted_net

    heads = fitted_net(model).heads_
    plans = [Head(h["name"], h["task"], tuple(h["shape"]), None, columns=int(h["columns"])) for h in heads]
    truth = split_targets(y_true, plans)
    predicted = np.asarray(y_pred).reshape(len(y_pred), -1)
    parts, start = [], 0
    for head in heads:
        width = int(head["columns"])
        parts.append((head, np.asarray(truth[head["name"]]).reshape(len(predicted), -1), predicted[:, start:start + width]))
        start += width
    return parts


def print_output_scores(console, model, y_true, y_pred, where: str) -> None:
    """Each output's score (accuracy, or R² and MAE), and with every output classifying the share
    of rows whose outputs are all right (what `score` gives)."""
    import numpy as np
    from sklearn import metrics

    every = np.ones(len(y_pred), dtype=bool)
    classifying = True
    for head, want, got in _by_output(model, y_true, y_pred):
        if head["task"] == "classification":
            want, got = want[:, 0], got[:, 0]
            if got.dtype.kind in "biuf" and want.dtype.kind not in "biuf":
                got = got.astype(want.dtype)
            elif got.dtype.kind in "biuf":
                want = want.astype(got.dtype)
            every &= want == got
            console.print(f"{head['name']}: accuracy ({where}): [bold]{metrics.accuracy_score(want, got):.4f}[/]")
            continue
        classifying = False
        want, got = want.astype(float), got.astype(float)
        r2 = f"R² [bold]{metrics.r2_score(want, got):.4f}[/]   " if len(want) > 1 else ""
        console.print(f"{head['name']}: {r2}MAE ({where}): [bold]{metrics.mean_absolute_error(want, got):.4g}[/]")
    if classifying:
        console.print(f"every output right ({where}): [bold]{every.mean():.4f}[/]")
