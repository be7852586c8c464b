"""The picture of `denoise_digits.net` at work: held-out digits with noise added, the net's output,
and the clean digits, one row each (docs/denoise_digits.png in the README).

    python examples/denoise_picture.py                 # writes docs/denoise_digits.png
    python examples/denoise_picture.py out.png 8       # another path, 8 digits

The data is `--data digits_noisy` (netdsl.pipelines.derived: pixels scaled to 0-1, Gaussian noise
of standard deviation 0.25, fixed seed); the split is `netdsl fit`'s (seed 0, 20% held out), and
the net is trained as written on the other 80%. The title of each row says its mean squared error
against the clean pixels.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

EXAMPLES = Path(__file__).resolve().parent
PICTURE = EXAMPLES.parent / "docs" / "denoise_digits.png"
SEED = 0


def denoised_digits(epochs: int | None = None):
    """(noisy, denoised, clean) held-out digits, each (n, 8, 8), from the net fitted on the rest."""
    from sklearn.model_selection import train_test_split

    from netdsl.estimators import NetRegressor
    from netdsl.pipelines.data import load_data

    data = load_data("digits_noisy")
    X_train, X_test, y_train, y_test = train_test_split(data.X, data.y, test_size=0.2, random_state=SEED)
    settings = {"epochs": epochs} if epochs is not None else {}
    net = NetRegressor(EXAMPLES / "denoise_digits.net", random_state=SEED, **settings).fit(X_train, y_train)
    denoised = np.clip(net.predict(X_test), 0, 1)
    return tuple(np.asarray(a, dtype=float).reshape(-1, 8, 8) for a in (X_test, denoised, y_test))


def picture(noisy, denoised, clean, path=None, count: int = 10):
    """A figure of three rows (noisy, denoised, clean) of the first `count` digits; written to `path`."""
    from netdsl.pipelines import figures

    count = min(count, len(clean))
    figure = figures.new_figure(count * 0.9, 3 * 1.2)
    rows = [("noisy input", noisy), ("denoised by the net", denoised), ("clean (the target)", clean)]
    for band, (title, images) in zip(figure.subfigures(3, 1), rows):
        mse = float(np.mean((images - clean) ** 2))
        band.suptitle(title + (f": MSE {mse:.4f} over all held-out digits" if mse else ""), x=0.01, ha="left", fontsize=9)
        for ax, image in zip(band.subplots(1, count, squeeze=False)[0], images):
            ax.imshow(image, cmap="gray_r", vmin=0, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
    if path is not None:
        figures.save(figure, path)
    return figure


def main(argv=None) -> int:
    args = sys.argv[1:] if argv is None else argv
    path = Path(args[0]) if args else PICTURE
    count = int(args[1]) if len(args) > 1 else 10
    noisy, denoised, clean = denoised_digits()
    picture(noisy, denoised, clean, path, count)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
