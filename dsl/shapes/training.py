"""The `train` block against the net: metrics, losses, class weights, monitors and optimizer
arguments the net's output cannot have, and whether training fits in this machine's memory."""

from __future__ import annotations

from .. import specs
from ..errors import Diagnostic, did_you_mean
from ..kinds import REGRESSION_METRICS, SOFTMAX_LOSSES
from ..train_specs import from_logits, loss_name
from .symbolic import known, prod

__all__ = ["TOP_K", "output_activation", "output_task", "loss_problems", "metric_problems", "check_metrics",
           "check_training", "memory_limit", "check_memory"]

# Layers after which the outputs keep the values the layer before made (and so its activation).
_KEEPS_VALUES = frozenset({"dropout", "spatial_dropout1d", "spatial_dropout2d", "gaussian_noise", "flatten", "reshape"})
TOP_K = 5  # Keras's default `k` of top_k_categorical_accuracy, which a `.net` file cannot change


def output_activation(layers) -> str | None:
    """The activation that makes the net's outputs (`linear` for none), from its (bound) layers in
    order; None where it is not known statically (a recurrent or normalisation layer last)."""
    for layer in reversed(list(layers)):
        if layer.kind == "time_distributed":  # the layer it applies at every step makes the values
            layer = layer.layer
        if layer.kind in ("dense", "conv1d", "conv2d", "activation"):
            return layer.activation if isinstance(layer.activation, str) else "linear"
        if layer.kind not in _KEEPS_VALUES:
            return None
    return None


def _targets(task: str, loss: str | None) -> str:
    """What the targets look like for a task: `sparse` (one integer class per sample), `one_hot`,
    `same` (a 0/1 value per output unit) or `values` (regression)."""
    if task == "multiclass":
        if loss_name(loss) in (None, "sparse_categorical_crossentropy"):
            return "sparse"
        return "one_hot"  # categorical_crossentropy, or a softmax fitted to distributions: one value per class
    return {"binary": "same", "multilabel": "same"}.get(task, "values")


def _metric_problem(metric: str, targets: str, n_classes) -> tuple[str, str] | None:
    """(title, help) when Keras cannot compute `metric` on these targets (or it would mean nothing)."""
    labels = "this softmax classifier's targets are integer class labels"
    if metric == "sparse_categorical_accuracy" and targets == "one_hot":
        return (f"`{metric}` compares integer labels, but with this loss the targets are one value per class (one-hot)",
                "use `accuracy` (Keras matches it to the targets) or `categorical_accuracy`")
    if metric == "sparse_categorical_accuracy" and targets != "sparse":
        return f"`{metric}` needs a softmax over classes", "use `accuracy`, which Keras matches to the output"
    if metric in ("categorical_accuracy", "top_k_categorical_accuracy"):
        if targets == "sparse":
            return (f"`{metric}` needs one-hot targets, but {labels}",
                    "set `loss = categorical_crossentropy` in `train { }` (one-hot targets), or use `accuracy`")
        if targets != "one_hot":
            return f"`{metric}` needs a softmax over classes", "use `accuracy`, which Keras matches to the output"
        if metric == "top_k_categorical_accuracy" and known(n_classes) and n_classes <= TOP_K:
            return (f"`{metric}` counts a sample as right when its class is among the {TOP_K} most likely, but there "
                    f"are only {n_classes} classes: it would always be 1",
                    f"use `accuracy`; `{metric}` means something with more than {TOP_K} classes")
        return None
    if targets == "sparse" and metric != "accuracy":
        kind = "a regression metric" if metric in REGRESSION_METRICS else "computed per output unit"
        return (f"`{metric}` is {kind}: it compares each output with a target of the same shape, but {labels}",
                "use `accuracy`; or end the net with `dense(1, activation=sigmoid)` for two classes; or set "
                "`loss = categorical_crossentropy` (one-hot targets) to compute it over the classes' outputs")
    return None


def metric_problems(net: specs.Net, task: str, loss: str | None = None, n_classes=None) -> list[Diagnostic]:
    """The `metrics` of `net`'s `train` block that Keras cannot compute for `task` (`binary`,
    `multiclass`, `multilabel` or `regression`) trained with `loss` (the loss the estimator uses:
    for `multiclass`, none or `sparse_categorical_crossentropy` means integer labels, any other loss
    one value per class),
    each located at its entry in `metrics`. `analyse` calls it with the task the net's output says
    (the estimators analyse the net with the loss they train with)."""
    train = net.train
    if train is None:
        return []
    targets = _targets(task, loss)
    found = []
    for i, metric in enumerate(train.metrics):
        problem = _metric_problem(metric, targets, n_classes)
        if problem is not None:
            found.append(Diagnostic(problem[0], net.source.span(("train", "metrics", i)), help=problem[1], code="N401"))
    return found


def check_metrics(net: specs.Net, task: str, loss: str | None = None, n_classes=None) -> None:
    """`metric_problems`, raised as one `NetError` (nothing when there are none)."""
    problems = metric_problems(net, task, loss, n_classes)
    if problems:
        raise net.source.error(problems)


def output_task(activation: str | None, units, loss) -> str | None:
    """The task the net's output says: a softmax is `multiclass`, sigmoid units `binary` (one) or
    `multilabel`; outputs without activation trained with `from_logits=true` are the logits of the
    task the loss says. None where it is not known (a regression, or an activation not known)."""
    if from_logits(loss) and activation == "linear":
        activation = "softmax" if loss_name(loss) in SOFTMAX_LOSSES else "sigmoid"
    return {"softmax": "multiclass", "sigmoid": "binary" if units == 1 else "multilabel"}.get(activation)


def loss_problems(resolved: specs.Net, activation: str | None, span_of, problems: list,
                  where: tuple = ("train", "loss"), loss=None) -> None:
    """A loss the file writes that the net's last activation cannot have: a softmax cross-entropy
    after another activation (N402), or logits (`from_logits=true`) after a softmax or sigmoid,
    which would be applied twice (N408). Only a loss the file writes: an estimator's `loss`, put in
    the spec for the metrics, is checked by the estimator (the file's line would be the wrong place).
    `where` and `loss`: an output's own (`NAME.loss`, a net with several outputs)."""
    loss, loss_span = (resolved.train.loss if loss is None else loss), span_of(where)
    name = loss_name(loss)
    source_lines = resolved.source.text.splitlines()
    written = (loss_span is not None and loss_span.line <= len(source_lines)
               and source_lines[loss_span.line - 1][loss_span.col - 1:].startswith(str(name)))
    if not written or activation is None:
        return
    if from_logits(loss):
        if activation == "linear":
            return
        applied = "softmax" if name in SOFTMAX_LOSSES else "sigmoid"
        problems.append(Diagnostic(
            f"`from_logits=true` reads the outputs as logits, but the net ends in `{activation}`",
            span_of(where + (name, "from_logits")) or loss_span,
            help=f"the loss applies the {applied} itself: end with no activation (e.g. "
            f"`dense({'n_classes' if applied == 'softmax' else '1'})`), or drop `from_logits=true` to keep "
            f"`{activation}`" + (" (the outputs then must be probabilities)" if activation not in ("softmax", "sigmoid") else ""),
            code="N408",
        ))
    elif name in SOFTMAX_LOSSES and activation != "softmax":
        problems.append(Diagnostic(
            f"`{name}` needs a softmax over classes, but the net ends in `{activation}`",
            loss_span,
            help="end with `dense(n_classes, activation=softmax)`, or for one sigmoid unit (two classes) use "
            "`binary_crossentropy`" + (f"; if the outputs are logits, write `{name}(from_logits=true)`"
                                       if activation == "linear" else ""), code="N402",
        ))


def check_training(resolved: specs.Net, walked: list, span_of, problems: list) -> None:
    """What `fit` would refuse in the `train` block: metrics, a cross-entropy loss or a `class_weight`
    list the net's output cannot have, monitors of values the net does not report, and optimizer
    arguments Keras refuses together."""
    train = resolved.train
    if train is None:
        return
    if len(resolved.outputs) > 1:
        _check_heads(resolved, walked, span_of, problems)
        return
    activation = output_activation(bound for _, bound in walked)
    units = walked[-1][0].output_shape[-1] if walked and walked[-1][0].output_shape else None
    task = output_task(activation, units, train.loss)
    if task is not None:
        problems.extend(metric_problems(resolved, task, train.loss, units if task == "multiclass" else None))
    loss_problems(resolved, activation, span_of, problems)
    classes = units if task == "multiclass" else 2 if task == "binary" else None
    weights = train.class_weight
    if isinstance(weights, tuple) and known(classes) and len(weights) != classes:
        problems.append(Diagnostic(
            f"`class_weight` lists {len(weights)} weights, but the net's output has {classes} classes",
            span_of(("train", "class_weight")),
            help="give one weight per class, in the order of the sorted class labels, or `balanced`", code="N403",
        ))
    reported = ["loss", *train.metrics]
    for i, callback in enumerate(train.callbacks):
        watched = callback.monitor.removeprefix("val_")
        if watched in reported:
            continue
        where = span_of(("train", "callbacks", i, callback.kind, "monitor"))
        names = [f"`{name}`" for name in reported]
        offered = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
        offered += (f", and `val_{reported[0]}`" if len(names) == 1 else ", and their `val_` values") + \
            " on the validation data (with `validation_split`)"
        if watched in specs.METRICS:
            hint = f"add `{watched}` to `metrics = [...]` in `train {{ }}`; the net reports {offered}"
        else:
            close = did_you_mean(callback.monitor, reported + [f"val_{name}" for name in reported])
            hint = (close + " " if close else "") + f"the net reports {offered}"
        problems.append(Diagnostic(
            f"`{callback.kind}` monitors `{callback.monitor}`, which the net does not report", where, help=hint, code="N404",
        ))
    optimizer = train.optimizer
    if optimizer.clipnorm is not None and optimizer.clipvalue is not None:
        problems.append(Diagnostic(
            "`clipnorm` and `clipvalue` cannot both be set", span_of(("train", "optimizer", optimizer.kind, "clipvalue")),
            help="Keras clips gradients one way: keep one of the two", code="N312",
        ))


def _check_heads(resolved: specs.Net, walked: list, span_of, problems: list) -> None:
    """`check_training` for a net with several outputs: each output's metrics against its own
    output and loss (`NAME.metrics`, else the block's), and monitors of what Keras reports then
    (`loss`, `NAME_loss`, `NAME_METRIC`)."""
    train = resolved.train
    if train.class_weight is not None:  # `fit` refuses it (estimators/heads.py)
        problems.append(Diagnostic(
            "`class_weight` is for a net with one output; this one has several",
            span_of(("train", "class_weight")),
            help="remove it, and weigh the rows with `sample_weight` when fitting", code="N409",
        ))
    rows = {row.name: (row, bound) for row, bound in walked}
    reported = ["loss"]
    for name in resolved.outputs:
        own = train.outputs.get(name, specs.OutputTraining())
        loss = own.loss if own.loss is not None else train.loss
        metrics, where = (own.metrics, ("train", "outputs", name, "metrics")) if own.metrics is not None else (
            train.metrics, ("train", "metrics"))
        reported += [f"{name}_loss"] + [f"{name}_{metric}" for metric in metrics]
        if name not in rows:
            continue
        row, bound = rows[name]
        units = row.output_shape[-1] if row.output_shape else None
        activation = output_activation([bound])
        if loss is not None:
            own_loss = own.loss is not None
            loss_problems(resolved, activation, span_of, problems,
                          ("train", "outputs", name, "loss") if own_loss else ("train", "loss"), loss)
        task = output_task(activation, units, loss)
        if task is None:
            continue
        targets = _targets(task, loss)
        for i, metric in enumerate(metrics):
            problem = _metric_problem(metric, targets, units if task == "multiclass" else None)
            if problem is not None:
                problems.append(Diagnostic(f"output `{name}`: {problem[0]}", span_of(where + (i,)), help=problem[1],
                                           code="N401"))
    for i, callback in enumerate(train.callbacks):
        if callback.monitor.removeprefix("val_") not in reported:
            close = did_you_mean(callback.monitor, reported + [f"val_{name}" for name in reported])
            problems.append(Diagnostic(
                f"`{callback.kind}` monitors `{callback.monitor}`, which the net does not report",
                span_of(("train", "callbacks", i, callback.kind, "monitor")),
                help=(close + " " if close else "") + "a net with several outputs reports " +
                ", ".join(f"`{r}`" for r in reported) + " (and their `val_` values with `validation_split`)",
                code="N404",
            ))  # fmt: skip


def memory_limit() -> int | None:
    """This machine's memory in bytes (None where the system does not say): what a net must fit in."""
    import os

    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return None


def _optimizer_slots(optimizer) -> int:
    """Values the optimizer keeps per trained weight (Adam: two moment estimates)."""
    kind = optimizer.kind
    if kind in ("adam", "adamw"):
        return 2 + int(bool(optimizer.amsgrad))
    if kind == "sgd":
        return int(bool(optimizer.momentum))
    if kind == "rmsprop":
        return 1 + int(bool(optimizer.momentum)) + int(bool(optimizer.centered))
    return {"nadam": 2, "adagrad": 1, "adadelta": 2}.get(kind, 2)


def _bytes_text(size: float) -> str:
    for unit, scale in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6)):
        if size >= scale:
            return f"{size / scale:,.1f} {unit}"
    return f"{size / 1e3:,.1f} kB"


def check_memory(resolved: specs.Net, rows: list, problems: list, limit: int | None) -> None:
    """A net whose training cannot fit in this machine's memory is refused at the layer that takes
    the most: 4 bytes per weight (float32), times (2 + the optimizer's slots) for a trained one
    (its gradient and the optimizer's state), plus each layer's outputs for one batch, twice (kept
    for the backward pass, and their gradients). An estimate from below: Keras needs more.
    `limit`: the machine's memory in bytes (`memory_limit()`), None to check nothing."""
    if limit is None:
        return
    train = resolved.train or specs.Train()
    slots = _optimizer_slots(train.optimizer)
    batch = train.batch_size if known(train.batch_size) else 1
    needs = []
    for row in rows:
        if not known(row.params, row.non_trainable_params):
            continue
        trained = row.params - row.non_trainable_params
        weights = 4 * (trained * (2 + slots) + row.non_trainable_params)
        size = prod(row.output_shape)
        outputs = 4 * 2 * batch * size if known(size) else 0
        needs.append((weights + outputs, weights, outputs, trained, row))
    total = sum(need[0] for need in needs)
    if not needs or total <= limit:
        return
    most, weights, outputs, trained, row = max(needs, key=lambda need: need[0])
    what = f"`{row.kind}` needs" if most > limit else "the net needs"
    parts = []
    if weights:
        parts.append(f"{row.params:,} weights at 4 bytes" + (
            f", trained ones x{2 + slots} with their gradients and `{train.optimizer.kind}`'s state" if trained else ""))
    if outputs:
        parts.append(f"its outputs for a batch of {batch}, {_bytes_text(outputs)} with their gradients")
    problems.append(Diagnostic(
        f"{what} about {_bytes_text(total if most <= limit else most)} of memory to train, more than this "
        f"machine's {_bytes_text(limit)}", row.span,
        help=("this layer takes the most: " if most <= limit else "") + "; ".join(parts)
        + ": use fewer units or filters, a smaller input before it (pooling, strides), or a smaller `batch_size`",
        code="N313",
    ))
