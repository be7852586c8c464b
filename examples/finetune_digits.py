"""Fine-tuning a saved net on scikit-learn's 8x8 digits (nothing is downloaded).

1. `digits_base.net` is trained on the digits 0-4 and saved as `models/digits_0to4.keras`.
2. `digits_finetune.net` takes its convolution blocks (frozen) with a new dense head, and learns
   the digits 5-9 from a few labelled images per class; held-out accuracy on the other images of
   5-9 after stage 1 (base frozen, only the head learns) and after stage 2 (`conv_*` unfrozen at a
   tenth of the learning rate), next to two baselines on the same few labels: the same
   architecture trained from scratch, and a logistic regression on the pixels.

    python examples/finetune_digits.py              # trains the base only if the file is missing
    python examples/finetune_digits.py --retrain    # trains and saves the base again

Stage 1's score comes from a second fit of the same file without `fine_tune` (same seed, same
data, so the same first stage).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402

from netdsl.dsl import dumps, load  # noqa: E402
from netdsl.estimators import NetClassifier  # noqa: E402

HERE = Path(__file__).resolve().parent
BASE = HERE / "models" / "digits_0to4.keras"
SEED = 0
LABELS_PER_CLASS = (5, 10, 20)


def few_labels(X, y, per_class: int, seed: int):
    """`per_class` training images of each class; every other image is held out."""
    rng = np.random.default_rng(seed)
    chosen = np.concatenate([rng.choice(np.flatnonzero(y == c), per_class, replace=False) for c in np.unique(y)])
    held_out = np.setdiff1d(np.arange(len(y)), chosen)
    return X[chosen], y[chosen], X[held_out], y[held_out]


def train_base(X, y) -> float:
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, random_state=SEED, stratify=y)
    base = NetClassifier(str(HERE / "digits_base.net"), random_state=SEED).fit(X_train, y_train)
    BASE.parent.mkdir(exist_ok=True)
    import keras

    from netdsl.dsl.files import replace_atomically

    with replace_atomically(BASE) as written:  # a failed write leaves the old base whole
        keras.Model(base.model_.inputs, base.model_.outputs).save(written)  # uncompiled: no optimizer state
    return base.score(X_test, y_test)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--retrain", action="store_true", help="train and save the base again")
    args = parser.parse_args()
    os.chdir(HERE)  # the stage-1 variant below is source text: its base path is read from here

    X, y = load_digits(return_X_y=True)
    old, new = y < 5, y >= 5
    if args.retrain or not BASE.exists():
        print(f"base (digits 0-4, {old.sum()} images): held-out accuracy {train_base(X[old], y[old]):.3f}; saved {BASE.relative_to(HERE)}")

    finetune = load(HERE / "digits_finetune.net")
    stage_one = dumps(finetune.model_copy(update={"train": finetune.train.model_copy(update={"fine_tune": None})}))
    stages = finetune.train.epochs + finetune.train.fine_tune.epochs

    print()
    print(f"digits 5-9 ({new.sum()} images): trained on n labelled images per class, tested on all the others")
    header = ("labels/class", "logistic reg.", "CNN from scratch", "stage 1 (frozen)", "stage 2 (unfrozen)")
    print(" | ".join(header))
    print(" | ".join("-" * len(h) for h in header))
    for per_class in LABELS_PER_CLASS:
        X_train, y_train, X_test, y_test = few_labels(X[new], y[new], per_class, SEED)
        logistic = LogisticRegression(max_iter=5000).fit(X_train / 16, y_train).score(X_test / 16, y_test)
        scratch = NetClassifier(str(HERE / "digits_base.net"), epochs=stages, batch_size=16, random_state=SEED)
        scratch = scratch.fit(X_train, y_train).score(X_test, y_test)
        frozen = NetClassifier(stage_one, random_state=SEED).fit(X_train, y_train).score(X_test, y_test)
        tuned = NetClassifier(str(HERE / "digits_finetune.net"), random_state=SEED).fit(X_train, y_train)
        assert tuned.stage_epochs_ == (finetune.train.epochs, finetune.train.fine_tune.epochs)
        unfrozen = tuned.score(X_test, y_test)
        cells = (str(per_class), f"{logistic:.3f}", f"{scratch:.3f}", f"{frozen:.3f}", f"{unfrozen:.3f}")
        print(" | ".join(c.rjust(len(h)) for c, h in zip(cells, header)))


if __name__ == "__main__":
    main()
