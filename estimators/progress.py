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
                TextColumn("epochs"), BarColumn(bar_width=20), MofNCompleteColumn(), TimeElapsedColumn(),
                TextColumn("{task.fields[metrics]}"), transient=False,
            )
            self._progress.start()
            self._task = self._progress.add_task("fit", total=self.epochs, metrics="")

    def on_epoch_end(self, epoch, logs=None):
        shown = [k for k in ("loss", "accuracy", "val_loss", "val_accuracy") if k in (logs or {})]
        shown = shown or [k for k in (logs or {}) if k != "learning_rate"][:4]
        text = "  ".join(f"{k} {logs[k]:.3f}" for k in shown)
        if self._progress is not None:
            self._progress.update(self._task, advance=1, metrics=text)
        else:
            print(f"epoch {epoch + 1}/{self.epochs}  {text}", flush=True)

    def on_train_end(self, logs=None):
        if self._progress is not None:
            self._progress.update(self._task, total=self._progress.tasks[0].completed)
            self._progress.stop()
            self._progress = None
