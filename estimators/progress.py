"""Epoch progress for `verbose=1` (a rich progress bar) and `verbose=2` (one line per epoch),
instead of Keras's line noise."""

from __future__ import annotations

import keras


class EpochProgress(keras.callbacks.Callback):
    def __init__(self, epochs: int, style: str = "bar"):
        super().__init__()
        self.epochs = epochs
        self.style = style
        self._progress = None

    def on_train_begin(self, logs=None):
        if self.style == "bar":
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self._progress = Progress(
                TextColumn("epochs"), BarColumn(bar_width=12), MofNCompleteColumn(), TimeElapsedColumn(),
                TextColumn("{task.fields[metrics]}"), transient=False,
            )
            self._progress.start()
            self._task = self._progress.add_task("fit", total=self.epochs, metrics="")

    def on_epoch_end(self, epoch, logs=None):
        text = _metrics_text(logs or {})
        if self._progress is not None:
            self._progress.update(self._task, advance=1, metrics=text)
        else:
            print(f"epoch {epoch + 1}/{self.epochs}  {text}", flush=True)

    def on_train_end(self, logs=None):
        if self._progress is not None:
            self._progress.update(self._task, total=self._progress.tasks[0].completed)
            self._progress.stop()
            self._progress = None


_SHORT = {"accuracy": "acc", "sparse_categorical_accuracy": "acc", "categorical_accuracy": "acc"}


def _metrics_text(logs: dict) -> str:
    """`loss 0.199/0.078  acc 0.930/0.972` (training/validation): short enough for an 80-column line."""
    names = [k for k in logs if not k.startswith("val_") and k != "learning_rate"]
    names = (["loss"] if "loss" in names else []) + [k for k in names if k != "loss"][:1]
    parts = []
    for name in names:
        text = f"{_SHORT.get(name, name)} {logs[name]:.3f}"
        if f"val_{name}" in logs:
            text += f"/{logs[f'val_{name}']:.3f}"
        parts.append(text)
    return "  ".join(parts) + ("  (train/val)" if any(k.startswith("val_") for k in logs) else "")
