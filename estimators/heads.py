"""The estimator's side of a net with several outputs ("heads"): targets encoded per head, the
model compiled with a loss, weight and metrics per head, and predictions, probabilities and
scores as scikit-learn's multi-output estimators give them (`estimators/several.py` says how).

The fitted heads are kept as plain data (`heads_`: one dict per output, in `output`'s order),
so a model file stores them as it stores the rest of the estimator.
"""

from __future__ import annotations

import numpy as np

from netdsl.dsl.errors import InputError, ParameterError

from .several import Head, Rows, plan_heads, split_targets

__all__ = ["HeadsMixin", "is_heads"]


def is_heads(loss) -> bool:
    """Whether a fit's `loss` is the heads of a net with several outputs."""
    return isinstance(loss, list) and bool(loss) and isinstance(loss[0], Head)


class HeadsMixin:
    """Several outputs: what `BaseNet._plan`, `_compile` and the predictions call for them."""

    def _default_task(self) -> str:
        return "regression"

    def _fit_heads(self, y, resolved, analysis, reset: bool):
        """(heads, targets as the losses take them (`Rows` by output name)); records `heads_`,
        `outputs_` and, for classification heads, `classes_` (a list, one array per head)."""
        from sklearn.utils.multiclass import check_classification_targets

        if self.class_weight is not None or getattr(resolved.train, "class_weight", None) is not None:
            raise ParameterError("class_weight is not supported for a net with several outputs; give sample_weight")
        heads = plan_heads(resolved, analysis, self._default_task())
        parts = split_targets(y, heads)
        fitted = {h["name"]: h for h in getattr(self, "heads_", [])} if not reset else {}
        encoded = {}
        for head in heads:
            values = parts[head.name]
            if head.task == "classification":
                labels = values.reshape(len(values), -1)
                if labels.shape[1] != 1:
                    raise InputError(f"output `{head.name}` classifies: y needs one column of labels for it, "
                                     f"not {labels.shape[1]}")
                labels = labels[:, 0]
                try:
                    check_classification_targets(labels)
                except ValueError as error:
                    raise InputError(f"output `{head.name}`: {error} (its loss, {_loss_text(head.loss)}, classifies; "
                                     f"give it a regression loss such as `{head.name}.loss = mse` to regress)") from error
                known = fitted.get(head.name, {}).get("classes")
                head.classes = np.unique(labels) if known is None else np.asarray(known)
                encoded[head.name] = self._head_labels(head, labels, resolved)
            else:
                numbers = np.asarray(values, dtype=np.float32).reshape((len(values),) + head.shape)
                encoded[head.name] = numbers
        self.heads_ = [_plain(head) for head in heads]
        self.outputs_ = tuple(head.name for head in heads)
        classes = [head.classes for head in heads if head.task == "classification"]
        if classes:
            self.classes_ = classes
        elif hasattr(self, "classes_"):
            del self.classes_
        return heads, Rows(encoded)

    def _head_labels(self, head: Head, labels, resolved):
        """A classification head's labels as its loss takes them, after checking the output's size."""
        n = len(head.classes)
        units = head.shape[-1] if head.shape else 1
        if head.binary and n > 2 or not head.binary and units != n:
            want = "2 classes (one unit with `sigmoid`)" if head.binary else f"{units} classes"
            raise resolved.source.located(
                f"output `{head.name}` gives {want}, but y's column for it has {n} classes", _path_of(resolved, head.name),
                help=f"give the output {n} units with `softmax` (or 1 with `sigmoid` for two classes)", code="N703",
            )
        index = np.searchsorted(head.classes, labels)
        if head.binary:
            return index.astype(np.float32).reshape(-1, 1)
        if head.one_hot:
            return np.eye(n, dtype=np.float32)[index]
        return index.astype(np.int32)

    def _compile_heads(self, model, settings, heads: list[Head]):
        from .compile import build_loss, build_metrics, build_optimizer

        model.compile(
            optimizer=build_optimizer(settings["optimizer"], settings["learning_rate"]),
            loss={h.name: build_loss(h.loss) for h in heads},
            loss_weights={h.name: float(h.loss_weight) for h in heads},
            metrics={h.name: build_metrics(list(h.metrics), h.loss) for h in heads},
        )

    # ---- after fitting ----------------------------------------------------------------------

    def _head_outputs(self, X) -> list[np.ndarray]:
        outputs = self._raw_outputs(X)
        return list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]

    def _head_probabilities(self, head: dict, output) -> np.ndarray:
        """A classification head's class probabilities (float64, rows summing to 1)."""
        values = np.asarray(output, dtype=np.float64).reshape(len(output), -1)
        if head["from_logits"]:
            values = 1 / (1 + np.exp(-values)) if head["binary"] else _softmax(values)
        if head["binary"]:
            values = np.hstack([1 - values, values])
        return values / values.sum(axis=1, keepdims=True)

    def _head_predictions(self, X) -> list[np.ndarray]:
        """Each head's predictions, (n_samples, its columns): labels, or values (float64)."""
        columns = []
        for head, output in zip(self.heads_, self._head_outputs(X)):
            if head["task"] == "classification":
                index = self._head_probabilities(head, output).argmax(axis=1)
                columns.append(np.asarray(head["classes"])[index].reshape(-1, 1))
            else:
                columns.append(np.asarray(output, dtype=np.float64).reshape(len(output), -1))
        return columns

    def _predict_heads(self, X) -> np.ndarray:
        """(n_samples, n_columns): each head's labels or values, in order."""
        columns = self._head_predictions(X)
        if any(c.dtype.kind not in "biuf" for c in columns):
            return np.hstack([c.astype(object) for c in columns])
        return np.hstack(columns)

    def _predict_proba_heads(self, X) -> list[np.ndarray]:
        """One array of class probabilities per classification head (scikit-learn's multi-output)."""
        heads = [h for h in self.heads_ if h["task"] == "classification"]
        if not heads:
            raise AttributeError("predict_proba: this net has no classification output")
        outputs = [o for h, o in zip(self.heads_, self._head_outputs(X)) if h["task"] == "classification"]
        return [self._head_probabilities(h, o) for h, o in zip(heads, outputs)]

    def _score_heads(self, X, y, sample_weight=None) -> float:
        """Subset accuracy (all heads classify), R² over the columns (all regress), else the mean of
        the heads' own scores (see `estimators/several.py`)."""
        from sklearn.metrics import accuracy_score, r2_score

        predicted = self._head_predictions(X)
        heads = [Head(h["name"], h["task"], tuple(h["shape"]), None, columns=h["columns"]) for h in self.heads_]
        truth = split_targets(y, heads)
        tasks = {h.task for h in heads}
        scores, correct = [], np.ones(len(predicted[0]), dtype=bool)
        for head, got in zip(heads, predicted):
            want = np.asarray(truth[head.name]).reshape(len(got), -1)
            if head.task == "classification":
                labels = want[:, 0].astype(got.dtype) if got.dtype.kind in "biuf" else want[:, 0]
                correct &= labels == got[:, 0]
                scores.append(accuracy_score(labels, got[:, 0], sample_weight=sample_weight))
            else:
                scores.append(r2_score(want.astype(float), got, sample_weight=sample_weight))
        if tasks == {"classification"}:
            return float(np.average(correct, weights=sample_weight))
        if tasks == {"regression"}:
            want = np.hstack([np.asarray(truth[h.name], dtype=float).reshape(len(correct), -1) for h in heads])
            return float(r2_score(want, np.hstack(predicted), sample_weight=sample_weight))
        return float(np.mean(scores))


def _plain(head: Head) -> dict:
    """A fitted head as plain data (what a model file stores)."""
    from netdsl.dsl.train_specs import from_logits, loss_name

    return {
        "name": head.name, "task": head.task, "shape": list(head.shape), "columns": head.columns,
        "classes": head.classes, "binary": head.binary, "from_logits": from_logits(head.loss),
        "loss": loss_name(head.loss),
    }


def _loss_text(loss) -> str:
    from netdsl.dsl.train_specs import loss_name

    return f"`{loss_name(loss)}`"


def _softmax(values: np.ndarray) -> np.ndarray:
    shifted = np.exp(values - values.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


def _path_of(resolved, name: str) -> tuple:
    """The source path of the layer named `name` (an output), for a located error."""
    from netdsl.dsl.graph import wire

    for step in wire(resolved).steps:
        if step.layer.name == name:
            return step.path + ("name",)
    return ("outputs",)
