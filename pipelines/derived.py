"""Data sets derived from the built-in ones, for the nets with several inputs or outputs: each adds
columns that a CSV user would have computed, so the examples run on real data by name.

- `reviews_meta` (from `reviews`): X is a DataFrame, the snippet in `review` and five numbers about
  it (`meta_length` characters, `meta_words`, `meta_exclaims` `!`, `meta_questions` `?`,
  `meta_capitals` upper-case letters); y fresh/rotten. For `input review text` and `input meta (5)`.
- `digits_two_heads` (from `digits`): X the 64 pixels (0-16), y a DataFrame of two columns,
  `digit` (0-9) and `even` (1 for 0, 2, 4, 6, 8, else 0). For `output digit, even`.
- `digits_noisy` (from `digits`): X the pixels scaled to 0-1 plus Gaussian noise (standard
  deviation `NOISE`, a fixed seed, clipped to 0-1), y the clean scaled pixels, 64 columns each. For
  a denoising autoencoder; a regression of every pixel.

The functions here take and give plain arrays (`netdsl.pipelines.data.load_data` wraps them in a
`Dataset`). Nothing is downloaded; `reviews_meta` needs the `examples` extra as `reviews` does.
"""

from __future__ import annotations

__all__ = ["DERIVED", "NOISE", "NOISE_SEED", "TEXT_NUMBERS", "digit_heads", "noisy_pixels", "text_numbers"]

# name -> (the built-in set it comes from, its task, what it is)
DERIVED = {
    "reviews_meta": ("reviews", "classification", "the review snippets, each with 5 numbers about its text"),
    "digits_two_heads": ("digits", "classification", "the digits, labelled with the digit and whether it is even"),
    "digits_noisy": ("digits", "regression", "the digits with Gaussian noise added, to be cleaned"),
}
TEXT_NUMBERS = ("length", "words", "exclaims", "questions", "capitals")  # the `meta_*` columns, in order
NOISE = 0.25  # standard deviation of the noise on pixels scaled to 0-1
NOISE_SEED = 0  # the same noisy pixels on every load: held-out scores are comparable


def text_numbers(texts):
    """A DataFrame: `review` (the texts) and the `meta_*` counts of `TEXT_NUMBERS`, as floats."""
    import pandas as pd

    texts = [str(t) for t in texts]
    counts = {
        "length": [len(t) for t in texts],
        "words": [len(t.split()) for t in texts],
        "exclaims": [t.count("!") for t in texts],
        "questions": [t.count("?") for t in texts],
        "capitals": [sum(c.isupper() for c in t) for t in texts],
    }
    frame = pd.DataFrame({"review": pd.Series(texts, dtype=object)})
    for name in TEXT_NUMBERS:
        frame[f"meta_{name}"] = pd.Series(counts[name], dtype=float)
    return frame


def digit_heads(labels):
    """A DataFrame of the two labels of each digit: `digit` and `even` (1 or 0)."""
    import numpy as np
    import pandas as pd

    labels = np.asarray(labels).astype(int)
    return pd.DataFrame({"digit": labels, "even": (labels % 2 == 0).astype(int)})


def noisy_pixels(pixels, top: float = 16.0):
    """(noisy, clean): the pixels scaled to 0-1 (divided by `top`), and the same with Gaussian noise
    of standard deviation `NOISE` (seed `NOISE_SEED`), clipped to 0-1. Both float32 arrays of the
    input's shape."""
    import numpy as np

    clean = (np.asarray(pixels, dtype=np.float64) / top).astype(np.float32)
    noise = np.random.default_rng(NOISE_SEED).normal(0.0, NOISE, size=clean.shape)
    return np.clip(clean + noise, 0.0, 1.0).astype(np.float32), clean
