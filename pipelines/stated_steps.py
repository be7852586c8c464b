"""The steps a netdsl ONNX file states (its `netdsl.steps` metadata) instead of holding them as ONNX
operators, applied in NumPy before the graph runs: what `keras.layers.TextVectorization` does to raw
strings (a regex standardization and a split have no ONNX operator that matches TensorFlow's).

Each step reproduces the Keras layer exactly (tests/test_onnx_predict.py compares them on the same
texts), with TensorFlow's own string ops as the reference:

- `lower` is `tf.strings.lower` without an encoding: ASCII letters only (`É` stays `É`);
- `strip_punctuation` removes the characters of Keras's regex, `string.punctuation`;
- the `whitespace` split is `tf.strings.split`: runs of ASCII whitespace (space, \\t, \\n, \\v, \\f,
  \\r) separate tokens, so a no-break space or U+3000 stays inside a token; `character` splits code
  points;
- `ngrams` are `tf.strings.ngrams` with `separator=" "`: all n-grams of each width in turn (an int n
  means the widths 1..n, as the layer's argument);
- the lookup is the layer's `StringLookup`: `vocabulary` is `layer.get_vocabulary()`; a token outside
  it takes the index of `[UNK]`; the mask token `""` is 0 in `int` mode and counts for nothing in
  the others;
- `int` pads with 0 and cuts to `output_sequence_length` (without one, to the longest text given);
  `multi_hot`, `count` and `tf_idf` give float32 rows of `max_tokens` (with `pad_to_max_tokens`)
  or vocabulary-size columns.

Nothing here imports TensorFlow or Keras.
"""

from __future__ import annotations

import re

import numpy as np

from .errors import DataError

__all__ = ["check_step", "vectorize_text"]

# keras/src/layers/preprocessing/text_vectorization.py (`_preprocess`), as RE2 reads it: `,-\.` is
# the range from `,` to `.`, so the class is exactly `string.punctuation`.
PUNCTUATION = re.compile(r'[!"#$%&()\*\+,-\./:;<=>?@\[\\\]^_`{|}~\']')
ASCII_WHITESPACE = re.compile(r"[ \t\n\v\f\r]+")
ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
OOV_TOKEN = "[UNK]"
MASK_TOKEN = ""

STANDARDIZE = (None, "lower_and_strip_punctuation", "lower", "strip_punctuation")
SPLIT = (None, "whitespace", "character")
OUTPUT_MODES = ("int", "multi_hot", "count", "tf_idf")
# Bounds on what a file's step may ask for, far beyond any text model's: each n-gram width is a pass
# over every text's tokens, and a row is `max_tokens` floats (multi_hot, count, tf_idf, padded) or
# `output_sequence_length` ids (int), allocated for every row before the graph runs.
MAX_NGRAM = 32
MAX_WIDTH = 2**20


def check_step(step) -> dict:
    """`step` (one entry of `netdsl.steps`) if netdsl can apply it, else a DataError naming what is
    wrong: a file's metadata is read as data, never trusted."""
    if not isinstance(step, dict) or step.get("kind") != "text_vectorization":
        kind = step.get("kind") if isinstance(step, dict) else type(step).__name__
        raise DataError(f"the model file states a step netdsl cannot apply ({kind!r}); "
                        "export it again with this version of netdsl")
    problems = []
    if step.get("standardize") not in STANDARDIZE:
        problems.append(f"standardize={step.get('standardize')!r}")
    if step.get("split") not in SPLIT:
        problems.append(f"split={step.get('split')!r}")
    if step.get("output_mode") not in OUTPUT_MODES:
        problems.append(f"output_mode={step.get('output_mode')!r}")
    if not _widths_ok(step.get("ngrams")):
        problems.append(f"ngrams={step.get('ngrams')!r} (widths from 1 to {MAX_NGRAM})")
    vocabulary = step.get("vocabulary")
    if not isinstance(vocabulary, list) or not all(isinstance(t, str) for t in vocabulary) or OOV_TOKEN not in vocabulary:
        problems.append("vocabulary (a list of strings with `[UNK]`)")
    length = step.get("output_sequence_length")
    if length is not None and not (type(length) is int and 0 <= length <= MAX_WIDTH):
        problems.append(f"output_sequence_length={length!r} (at most {MAX_WIDTH:,})")
    tokens = step.get("max_tokens")
    size = len(vocabulary) if isinstance(vocabulary, list) else 0
    if step.get("pad_to_max_tokens") and not (type(tokens) is int and max(size, 1) <= tokens <= MAX_WIDTH):
        problems.append(f"max_tokens={tokens!r} with pad_to_max_tokens "
                        f"(from the vocabulary's size, {size:,}, to {MAX_WIDTH:,})")
    if step.get("output_mode") == "tf_idf":
        weights = step.get("idf_weights")
        if not isinstance(weights, list) or not all(isinstance(w, (int, float)) for w in weights):
            problems.append("idf_weights (a list of numbers, for tf_idf)")
    if problems:
        raise DataError(f"the model file's text_vectorization step has values netdsl cannot apply: "
                        f"{', '.join(problems)}; export it again with this version of netdsl")
    return step


def _widths_ok(ngrams) -> bool:
    if ngrams is None:
        return True
    widths = [ngrams] if type(ngrams) is int else ngrams
    return (isinstance(widths, list) and 1 <= len(widths) <= MAX_NGRAM
            and all(type(n) is int and 1 <= n <= MAX_NGRAM for n in widths))


def vectorize_text(texts, step: dict) -> np.ndarray:
    """The output of the Keras `TextVectorization` layer that `step` states, for `texts` (strings,
    shape (n,) or (n, 1)): int64 (n, length) in `int` mode, float32 (n, depth) otherwise."""
    texts = np.asarray(texts, dtype=object)
    column = texts.ndim == 2
    if texts.ndim == 2 and texts.shape[1] == 1:
        texts = texts[:, 0]
    if texts.ndim != 1:
        raise DataError(f"a text input takes one string per row; got an array of shape {texts.shape}")
    not_text = [t for t in texts if not isinstance(t, str)]
    if not_text:
        raise DataError(f"a text input takes strings; got {type(not_text[0]).__name__} {not_text[0]!r}")
    rows = [_tokens(text, step) for text in texts]
    vocabulary = step["vocabulary"]
    index = {token: i for i, token in enumerate(vocabulary)}
    oov = index[OOV_TOKEN]
    one_id = step.get("split") is None and not column and step.get("output_sequence_length") is None
    if step["output_mode"] == "int" and one_id:  # (n,) texts, each one token: (n,) ids, as the layer gives
        return np.asarray([index.get(row[0], oov) if row else 0 for row in rows], dtype=np.int64).reshape(len(rows))
    if step["output_mode"] == "int":
        return _sequences([[index.get(token, oov) for token in row] for row in rows], step.get("output_sequence_length"))
    depth = step["max_tokens"] if step.get("pad_to_max_tokens") else len(vocabulary)
    counts = np.zeros((len(rows), depth), dtype=np.float32)
    for i, row in enumerate(rows):
        ids = [index.get(token, oov) for token in row if token != MASK_TOKEN]  # the mask counts for nothing
        np.add.at(counts[i], ids, 1)
    if step["output_mode"] == "multi_hot":
        return np.minimum(counts, 1)
    if step["output_mode"] == "tf_idf":
        weights = np.zeros(depth, dtype=np.float32)
        given = np.asarray(step["idf_weights"], dtype=np.float32)[:depth]
        weights[: len(given)] = given
        return counts * weights
    return counts


def _tokens(text: str, step: dict) -> list[str]:
    """One text's tokens: standardized, split, and made into n-grams as the layer does."""
    if step.get("standardize") in ("lower", "lower_and_strip_punctuation"):
        text = text.translate(ASCII_LOWER)
    if step.get("standardize") in ("strip_punctuation", "lower_and_strip_punctuation"):
        text = PUNCTUATION.sub("", text)
    split = step.get("split")
    if split == "whitespace":
        tokens = [t for t in ASCII_WHITESPACE.split(text) if t]
    elif split == "character":
        tokens = list(text)
    else:
        tokens = [text]
    ngrams = step.get("ngrams")
    if ngrams is None:
        return tokens
    widths = range(1, ngrams + 1) if type(ngrams) is int else ngrams
    return [" ".join(tokens[i:i + n]) for n in widths for i in range(len(tokens) - n + 1)]


def _sequences(rows: list[list[int]], length: int | None) -> np.ndarray:
    """The rows of token ids padded with 0 and cut to `length` (None: the longest row's)."""
    width = max((len(row) for row in rows), default=0) if length is None else length
    out = np.zeros((len(rows), width), dtype=np.int64)
    for i, row in enumerate(rows):
        row = row[:width]
        out[i, : len(row)] = row
    return out
