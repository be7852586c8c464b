"""Predicting from a netdsl ONNX file without TensorFlow (issue 20): the stated text steps against
Keras's own `TextVectorization`, `OnnxModel` against the estimator it was exported from, and
`netdsl predict model.onnx` in a Python where importing TensorFlow fails."""

from __future__ import annotations

import numpy as np
import pytest

from netdsl.pipelines.stated_steps import check_step, vectorize_text

# Texts as users have them: unicode letters (upper case outside ASCII too), punctuation inside and
# around words, non-ASCII punctuation, runs of spaces, tabs and newlines, no-break and ideographic
# spaces, emoji, empty and blank texts, words never seen in training.
TEXTS = [
    "The movie was GREAT!!!  Loved it.",
    "  leading and trailing spaces   ",
    "tabs\tand\nnewlines\r\nand\x0bvertical\x0cfeeds",
    "Don't stop -- it's well-known, e-mail me @ 10:30 (maybe).",
    "ÉCOLE école Straße STRASSE naïve NAÏVE İstanbul",
    "日本語のテキスト と English mixed",
    "emoji 🎬🍿 and «guillemets» — em dash … ellipsis",
    "no\u00a0break\u00a0space and ideographic\u3000space",
    "",
    "   ",
    "!!!???...",
    "$100.00 costs [a lot] {really} <tag> a|b a~b a^b a_b a`b a\\b",
    "unseen zyxwv qwerty words only",
    "great great great movie movie",
    "MiXeD CaSe WoRdS and ALL CAPS",
]
TRAIN = TEXTS[:8] + [
    "the movie was great and the actors were great",
    "a boring movie, i did not like it",
    "loved the music; hated the ending",
    "école naïve straße 日本語のテキスト",
]


def _reviews(n: int) -> list[str]:
    """The first `n` real review snippets when the examples extra is installed, else none."""
    try:
        from netdsl.pipelines.data import DataError, load_data

        return list(load_data("reviews").X[:n])
    except DataError:
        return []


def step_of(layer) -> dict:
    """The `netdsl.steps` entry of an adapted Keras `TextVectorization` (docs: /tmp onnx format)."""
    config = layer.get_config()
    idf = None
    if config["output_mode"] == "tf_idf":
        idf = [float(w) for w in np.asarray(layer._lookup_layer.idf_weights)]
    ngrams = config["ngrams"]
    return check_step({
        "kind": "text_vectorization", "input": "input", "column": None,
        "standardize": config["standardize"], "split": config["split"],
        "ngrams": list(ngrams) if isinstance(ngrams, (list, tuple)) else ngrams,
        "output_mode": config["output_mode"], "output_sequence_length": config["output_sequence_length"],
        "pad_to_max_tokens": config["pad_to_max_tokens"], "max_tokens": config["max_tokens"],
        "vocabulary": [str(t) for t in layer.get_vocabulary()], "idf_weights": idf,
    })


LAYERS = {
    "int": dict(output_mode="int"),
    "int_length": dict(output_mode="int", output_sequence_length=6),
    "int_long": dict(output_mode="int", output_sequence_length=40, max_tokens=30),
    "int_ngrams": dict(output_mode="int", ngrams=2, output_sequence_length=12),
    "int_lower": dict(output_mode="int", standardize="lower", output_sequence_length=10),
    "int_strip": dict(output_mode="int", standardize="strip_punctuation", output_sequence_length=10),
    "int_raw_characters": dict(output_mode="int", standardize=None, split="character", output_sequence_length=30),
    "multi_hot": dict(output_mode="multi_hot"),
    "multi_hot_ngrams": dict(output_mode="multi_hot", ngrams=(1, 3)),
    "count": dict(output_mode="count", max_tokens=25),
    "count_padded": dict(output_mode="count", max_tokens=200, pad_to_max_tokens=True),
    "tf_idf": dict(output_mode="tf_idf"),
    "tf_idf_padded": dict(output_mode="tf_idf", max_tokens=300, pad_to_max_tokens=True, ngrams=2),
}


@pytest.mark.parametrize("name", list(LAYERS))
def test_text_step_is_keras_text_vectorization(name):
    """The step's output equals the Keras layer's, value for value, on the same texts; its dtype is
    the layer's output spec (float32 but in `int` mode: called eagerly, multi_hot and count give
    int64 counts, which the graph after it reads as float32)."""
    import keras

    reviews = _reviews(300)
    layer = keras.layers.TextVectorization(**LAYERS[name])
    layer.adapt(np.asarray(TRAIN + reviews[:200], dtype=object))
    texts = np.asarray(TEXTS + reviews[200:], dtype=object)
    expected = keras.ops.convert_to_numpy(layer(texts))
    got = vectorize_text(texts, step_of(layer))
    assert got.dtype == layer.compute_output_spec(keras.KerasTensor((None,), dtype="string")).dtype
    assert got.shape == expected.shape, (got.shape, expected.shape)
    np.testing.assert_array_equal(got, expected.astype(got.dtype))
    assert got.any(), "the texts met no word of the vocabulary: the comparison would prove little"
    column = vectorize_text(texts[:, None], step_of(layer))  # one column of a table: the same rows
    np.testing.assert_array_equal(column, expected)


def test_text_step_one_token_a_text():
    """split=None: each whole text is one token (a label-like column); the mask `""` is 0."""
    import keras

    layer = keras.layers.TextVectorization(output_mode="int", split=None)
    layer.adapt(np.asarray(["red", "Green!", "blue sky", "red"], dtype=object))
    texts = np.asarray(["RED", "green", "", "blue sky", "purple"], dtype=object)
    expected = keras.ops.convert_to_numpy(layer(texts))
    got = vectorize_text(texts, step_of(layer))
    np.testing.assert_array_equal(got, expected)
    assert list(got) == [2, 3, 0, 4, 1]


def test_text_step_refuses_what_it_cannot_apply():
    from netdsl.pipelines.data import DataError

    good = {"kind": "text_vectorization", "standardize": None, "split": "whitespace", "ngrams": None,
            "output_mode": "int", "output_sequence_length": 3, "vocabulary": ["", "[UNK]", "a"]}
    assert check_step(good) is good
    with pytest.raises(DataError, match=r"cannot apply \('python_function'\)"):
        check_step({"kind": "python_function"})
    with pytest.raises(DataError, match=r"split='regex', output_sequence_length=-1"):
        check_step({**good, "split": "regex", "output_sequence_length": -1})
    with pytest.raises(DataError, match=r"vocabulary \(a list of strings with `\[UNK\]`\)"):
        check_step({**good, "vocabulary": ["", "a"]})
    with pytest.raises(DataError, match="a text input takes strings; got float nan"):
        vectorize_text(np.asarray(["a", float("nan")], dtype=object), good)
