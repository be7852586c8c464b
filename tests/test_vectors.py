"""Pretrained word vectors (`embedding(..., embeddings="...")`): the GloVe and word2vec text formats
read as a stream, matched to the learned vocabulary, the coverage report, the errors (located at
`embeddings=`), and real fits where the frozen vectors are exactly the file's. Every vector file is
written by the test."""

import gzip
import pickle
import subprocess
import sys

import numpy as np
import pytest

from conftest import ROOT, user_error
from netdsl.dsl import NetError, analyse, dumps, loads
from netdsl.dsl.vectors import (
    VectorsError,
    coverage_text,
    embedding_matrix,
    load_vectors,
    sniff,
    vocabulary_words,
)
from netdsl.pipelines.cli import main

VECTORS = {  # word -> 4-d vector, in file order (frequent words first, as in real files)
    "the": [0.1, 0.2, 0.3, 0.4],
    "good": [1.0, 1.5, -1.0, 0.25],
    "bad": [-1.0, -1.5, 1.0, -0.25],
    "movie": [0.5, -0.5, 0.5, -0.5],
    "Plot": [2.0, 2.0, 2.0, 2.0],
    "plot": [3.0, 3.0, 3.0, 3.0],
    "Actors": [4.0, 4.0, 4.0, 4.0],
    "film": [0.0, 0.25, 0.5, 0.75],
}


def f32(word) -> list:
    """The vector of `word` as the file's numbers read into float32."""
    return np.array(VECTORS[word], dtype=np.float32).tolist()


def _lines(vectors=VECTORS):
    return [f"{word} {' '.join(repr(v) for v in vector)}" for word, vector in vectors.items()]


def write_glove(path, vectors=VECTORS):
    path.write_text("\n".join(_lines(vectors)) + "\n", encoding="utf-8")
    return path


def write_word2vec(path, vectors=VECTORS):
    """word2vec text, as fastText writes `.vec` files: a header, a space at the end of each line."""
    dim = len(next(iter(vectors.values())))
    path.write_text(f"{len(vectors)} {dim}\n" + "".join(line + " \n" for line in _lines(vectors)), encoding="utf-8")
    return path


def text_net(embedding_args: str, input_dim: int = 40) -> str:
    return (
        "net reviews\n\ninput text\n\n"
        f"text_vectorization(max_tokens={input_dim}, output_sequence_length=6)\n"
        f"embedding({input_dim}, 4, {embedding_args})\n"
        "global_average_pooling1d\n"
        "dense(2, activation=softmax)\n"
    )


# ---- the file formats ----------------------------------------------------------------------------


def test_format_detection(tmp_path):
    assert sniff(write_glove(tmp_path / "glove.txt")) == ("glove", 4)
    assert sniff(write_word2vec(tmp_path / "vectors.vec")) == ("word2vec", 4)
    packed = tmp_path / "glove.txt.gz"
    packed.write_bytes(gzip.compress((tmp_path / "glove.txt").read_bytes()))
    assert sniff(packed) == ("glove", 4)
    assert load_vectors(packed, ["good"]).rows.tolist() == [f32("good")]


@pytest.mark.parametrize("writer", [write_glove, write_word2vec])
def test_only_the_vocabulary_words_are_kept(tmp_path, writer):
    vectors = load_vectors(writer(tmp_path / "vectors.txt"), ["", "", "movie", "unknown", "good"])
    assert vectors.lines == len(VECTORS)
    assert vectors.index.tolist() == [2, 4]
    assert vectors.rows.dtype == np.float32
    np.testing.assert_array_equal(vectors.rows, np.array([VECTORS["movie"], VECTORS["good"]], dtype=np.float32))


def test_exact_match_first_then_ignoring_case(tmp_path):
    path = write_glove(tmp_path / "glove.txt")
    vocabulary = ["", "", "plot", "Plot", "actors", "FILM", "The"]
    vectors = load_vectors(path, vocabulary)
    found = dict(zip(vectors.index.tolist(), vectors.rows.tolist()))
    assert found[2] == f32("plot")  # exact, although `Plot` comes first in the file
    assert found[3] == f32("Plot")  # exact
    assert found[4] == f32("Actors")  # only a case variant is in the file
    assert found[5] == f32("film")
    assert found[6] == f32("the")


def test_a_word_with_spaces_and_tab_separated_lines(tmp_path):
    path = tmp_path / "glove.txt"
    path.write_text("the 1 2\n. . . 3 4\nmovie\t5\t6\n", encoding="utf-8")
    vectors = load_vectors(path, ["", "", ". . .", "movie"])
    assert vectors.index.tolist() == [2, 3]
    assert vectors.rows.tolist() == [[3.0, 4.0], [5.0, 6.0]]


@pytest.mark.parametrize(
    "content, vocabulary, message",
    [
        ("the 1 2\ngood 1\n", ["the"], "bad.txt:2: expected a word and 2 numbers, found 1 number (as on line 1)"),
        ("the 1 2\ngood 1 2 3\n", ["the"], "bad.txt:2: expected a word and 2 numbers, found 3 numbers (as on line 1)"),
        ("the 1 2\ngood 1 2x\n", ["good"], "bad.txt:2: `2x` is not a number"),
        ("the 1 2\ngood 1 nan\n", ["good"], "bad.txt:2: `nan` is not a finite number"),
        ("the 1 2\ngood 1 1e39\n", ["good"],
         "bad.txt:2: `1e39` is beyond the range of float32 (about ±3.4e38), the type of an embedding's weights"),
        ("3 2\nthe 1 2\ngood 1\n", ["the"],
         "bad.txt:3: expected a word and 2 numbers, found 1 number (the dimension given by the header, line 1)"),
        ("3 2\nthe 1 2\ngood 1 2\n", ["the"], "bad.txt:1: the header announces 3 vectors, but the file has 2; is it cut short?"),
        ("", ["the"], "bad.txt:1: the file is empty"),
        ("the\n", ["the"], "bad.txt:1: expected a word and its numbers (GloVe) or a header `COUNT DIM` (word2vec), found `the`"),
        ("the one two\n", ["the"], "bad.txt:1: `one` is not a number (expected a word, then its vector)"),
    ],
)
def test_malformed_files_name_the_line(tmp_path, content, vocabulary, message):
    path = tmp_path / "bad.txt"
    path.write_text(content, encoding="utf-8")
    with user_error(VectorsError) as caught:
        load_vectors(path, vocabulary)
    assert str(caught.value) == message


def _gzip_lines(n: int = 3000) -> bytes:
    return gzip.compress("".join(f"w{i} 0.5 0.25 -1 2\n" for i in range(n)).encode())


def test_a_cut_short_gzip_file_is_named_not_a_traceback(tmp_path):
    data = _gzip_lines()
    path = tmp_path / "cut.txt.gz"
    path.write_bytes(data[: len(data) // 2])
    assert sniff(path) == ("glove", 4)  # the first lines are whole
    with user_error(VectorsError, match=r"^cut\.txt\.gz: the gzip stream is damaged or cut short after line [\d,]+ "
                       r"\(Compressed file ended before the end-of-stream marker was reached\); download or compress it again$"):
        load_vectors(path, ["w1"])


def test_a_damaged_gzip_file_is_reported_by_check(tmp_path, capsys):
    data = bytearray(_gzip_lines())
    data[3] = 0xFF  # header flags: every optional field, read past the end of the data
    data[10:] = b"\xff" * (len(data) - 10)
    (tmp_path / "glove.txt.gz").write_bytes(bytes(data))
    with user_error(VectorsError, match="the gzip stream is damaged or cut short"):
        load_vectors(tmp_path / "glove.txt.gz", ["w1"])
    net = tmp_path / "reviews.net"
    net.write_text(text_net('embeddings="glove.txt.gz"'), encoding="utf-8")
    assert main(["check", str(net)]) == 1
    err = capsys.readouterr().err
    assert f"{net}:6:29: error[N610]: cannot read the vectors file `glove.txt.gz`" in err
    assert "glove.txt.gz: the gzip stream is damaged or cut short" in err and "Traceback" not in err


def test_a_line_of_ten_million_numbers_is_not_read_as_half_a_million_dimensions(tmp_path, capsys):
    path = tmp_path / "huge.txt"
    path.write_bytes(b"the " + b"1 " * 10_000_000 + b"\n")
    message = r"^huge\.txt:1: the line is longer than 3,149,872 bytes .*word vectors have at most 65,536 dimensions"
    with user_error(VectorsError, match=message):
        sniff(path)
    with user_error(VectorsError, match=message):
        load_vectors(path, ["the"])
    net = tmp_path / "reviews.net"
    net.write_text(text_net('embeddings="huge.txt"'), encoding="utf-8")
    assert main(["check", str(net)]) == 1
    err = capsys.readouterr().err
    assert "at most 65,536 dimensions" in err and "524,286" not in err and "set output_dim" not in err


def test_a_header_of_ten_million_dimensions_is_refused(tmp_path):
    path = tmp_path / "huge.vec"
    path.write_text("2 10000000\nthe 1\n")
    with user_error(VectorsError, match="the header says the vectors have 10,000,000 dimensions; word vectors have at most 65,536"):
        sniff(path)


def test_binary_word2vec_is_recognised(tmp_path):
    path = tmp_path / "vectors.bin"
    path.write_bytes(b"2 4\nthe " + np.arange(4, dtype=np.float32).tobytes() + b"good " + bytes(16))
    with user_error(VectorsError, match=r"^vectors.bin:2: looks like the binary word2vec format; netdsl reads "
                       r"the text formats \(GloVe, word2vec text, fastText .vec\)$"):
        sniff(path)


def test_numbers_of_skipped_words_are_not_parsed(tmp_path):
    """Only the vocabulary's lines have their numbers parsed: that is what makes loading fast."""
    path = tmp_path / "glove.txt"
    path.write_text("the 1 2\nodd 1 x\n", encoding="utf-8")
    assert load_vectors(path, ["the"]).rows.tolist() == [[1.0, 2.0]]


# ---- the matrix and the coverage report ----------------------------------------------------------


def test_coverage_numbers_and_the_most_frequent_missing_words(tmp_path):
    path = write_glove(tmp_path / "glove.txt")
    vocabulary = ["", "[UNK]", "the", "zebra", "good", "qwerty", "movie", "a", "b", "c", "d", "e", "f", "g", "h", "i", "j"]
    vectors = load_vectors(path, vocabulary_words(vocabulary))
    matrix, report = embedding_matrix(vocabulary, vectors, rows=20, rng=np.random.default_rng(0))
    assert report == {
        "file": str(path),
        "format": "glove",
        "dim": 4,
        "vocabulary": 15,
        "found": 3,
        "coverage": 3 / 15,
        "missing": ["zebra", "qwerty", "a", "b", "c", "d", "e", "f", "g", "h"],  # vocabulary order: most frequent first
    }
    assert matrix.shape == (20, 4) and matrix.dtype == np.float32
    np.testing.assert_array_equal(matrix[0], 0.0)  # padding
    np.testing.assert_array_equal(matrix[[2, 4, 6]], np.array([VECTORS["the"], VECTORS["good"], VECTORS["movie"]], np.float32))
    others = matrix[[1, 3, 5] + list(range(7, 20))]
    assert np.all(others != 0) and 0.2 < others.std() < 2.5 * vectors.rows.std()  # random, like the file's scale
    assert coverage_text("embedding", report) == (
        "embedding: 3 of 15 words (20.0%) found in glove.txt; most frequent missing: zebra, qwerty, a, b, c, d, e, f, g, h"
    )


def test_coverage_text_when_every_word_is_found():
    report = {"file": "/x/glove.6B.50d.txt", "vocabulary": 9998, "found": 9998, "coverage": 1.0, "missing": []}
    assert coverage_text("words", report) == "words: 9,998 of 9,998 words (100.0%) found in glove.6B.50d.txt; none missing"


# ---- errors before any training: netdsl check / show, and fit --------------------------------------


def _error(text, filename):
    with user_error(NetError) as caught:
        analyse(loads(text, filename=str(filename)))
    return caught.value.render()


def test_missing_file_with_a_close_name(tmp_path):
    (tmp_path / "vectors").mkdir()
    write_glove(tmp_path / "vectors" / "glove.4d.txt")
    net = tmp_path / "reviews.net"
    rendered = _error(text_net('embeddings="vectors/glove.4.txt"'), net)
    assert rendered == (
        f"{net}:6:29: error[N610]: vectors file `vectors/glove.4.txt` not found\n"
        '   6 | embedding(40, 4, embeddings="vectors/glove.4.txt")\n'
        "     | " + " " * 28 + "^" * 21 + "\n"
        f"  = help: did you mean `glove.4d.txt`? looked for `{tmp_path / 'vectors' / 'glove.4.txt'}` "
        "(a relative path is read from the .net file's folder)\n"
        f"1 error in {net}"
    )


def test_missing_folder_and_a_program_not_read_from_a_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with user_error(NetError) as caught:
        analyse(loads(text_net('embeddings="nowhere/glove.txt"')))
    (diagnostic,) = caught.value.diagnostics
    assert diagnostic.title == "vectors file `nowhere/glove.txt` not found"
    assert diagnostic.help == (
        "the folder `nowhere` does not exist (a relative path is read from the current directory "
        "(the program was not read from a file))"
    )
    write_glove(tmp_path / "glove.txt")
    analyse(loads(text_net('embeddings="glove.txt"')))  # found from the current directory


def test_dimension_mismatch(tmp_path):
    write_glove(tmp_path / "glove.txt")
    net = tmp_path / "reviews.net"
    text = text_net('embeddings="glove.txt"').replace("embedding(40, 4,", "embedding(40, 50,")
    rendered = _error(text, net)
    assert rendered.splitlines()[0] == (
        f"{net}:6:30: error[N611]: the vectors in `glove.txt` have 4 dimensions, but this embedding's output_dim is 50"
    )
    assert rendered.splitlines()[3] == (
        "  = help: set output_dim to 4 (the GloVe file's size), or use a file of 50-dimensional vectors"
    )


def test_embeddings_need_a_text_vectorization(tmp_path):
    write_glove(tmp_path / "glove.txt")
    net = tmp_path / "ids.net"
    text = "input (6)\nembedding(40, 4, embeddings=\"glove.txt\")\nflatten\ndense(1)\n"
    rendered = _error(text, net)
    assert rendered == (
        f"{net}:2:29: error[N612]: `embeddings=` needs a `text_vectorization` before this embedding\n"
        '   2 | embedding(40, 4, embeddings="glove.txt")\n'
        "     | " + " " * 28 + "^" * 11 + "\n"
        "  = help: pretrained vectors are matched to the words of the vocabulary `text_vectorization` learns at fit; "
        "on other integer ids they would mean nothing: read `input text` with `text_vectorization(...)` first, "
        "or drop `embeddings=`\n"
        f"1 error in {net}"
    )


def test_netdsl_check_reports_a_missing_vectors_file(tmp_path, capsys):
    net = tmp_path / "reviews.net"
    net.write_text(text_net('embeddings="glove.6B.4d.txt"'), encoding="utf-8")
    assert main(["check", str(net)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"{net}:6:29: error[N610]: vectors file `glove.6B.4d.txt` not found\n")
    assert f"looked for `{tmp_path / 'glove.6B.4d.txt'}`" in err
    write_glove(tmp_path / "glove.6B.4d.txt")
    assert main(["check", str(net)]) == 0
    assert capsys.readouterr().out == f"{net}: ok\n"


def test_the_vectors_code_does_not_import_tensorflow(tmp_path):
    write_glove(tmp_path / "glove.txt")
    (tmp_path / "reviews.net").write_text(text_net('embeddings="glove.txt", trainable=false'), encoding="utf-8")
    code = (
        "import sys\nfrom netdsl.dsl import analyse, load\nfrom netdsl.dsl.vectors import load_vectors\n"
        f"analyse(load({str(tmp_path / 'reviews.net')!r}))\n"
        f"print(load_vectors({str(tmp_path / 'glove.txt')!r}, ['good']).rows.shape)\n"
        "print(' '.join(sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT).stdout
    shape, modules = out.splitlines()
    assert shape == "(1, 4)"
    assert "netdsl.dsl.vectors" in modules.split()
    assert not {m for m in modules.split() if m.split(".")[0] in ("tensorflow", "keras")}


def test_the_spec_keeps_the_path_as_written():
    net = loads(text_net('embeddings="vectors/glove.txt", trainable=false'))
    embedding = net.layers[1]
    assert embedding.embeddings == "vectors/glove.txt" and embedding.trainable is False
    assert 'embeddings="vectors/glove.txt"' in dumps(net) and loads(dumps(net)) == net


# ---- real fits ----------------------------------------------------------------------------------------

TEXTS = ["good movie", "good plot", "bad movie", "bad plot", "the good film", "the bad film", "good zebra zebra", "bad qwerty"] * 4
LABELS = [1 if "good" in t else 0 for t in TEXTS]


def _classifier(tmp_path, embedding_args, **kwargs):
    from netdsl.estimators import NetClassifier

    write_glove(tmp_path / "glove.txt")
    net = tmp_path / "reviews.net"
    net.write_text(text_net(embedding_args), encoding="utf-8")
    return NetClassifier(str(net), random_state=0, **kwargs)


def _embedding_and_vocabulary(estimator):
    import keras

    layers = estimator.model_.layers
    vectorizer = next(l for l in layers if isinstance(l, keras.layers.TextVectorization))
    embedding = next(l for l in layers if isinstance(l, keras.layers.Embedding))
    return np.asarray(embedding.get_weights()[0]), [str(w) for w in vectorizer.get_vocabulary()]


def test_frozen_embedding_holds_the_files_vectors_after_fitting(tmp_path, capsys):
    clf = _classifier(tmp_path, 'embeddings="glove.txt", trainable=false', epochs=3, learning_rate=0.1, verbose=2)
    clf.fit(TEXTS, LABELS)
    weights, vocabulary = _embedding_and_vocabulary(clf)
    for word in ("the", "good", "bad", "movie", "plot", "film"):
        np.testing.assert_array_equal(weights[vocabulary.index(word)], np.array(VECTORS[word], dtype=np.float32))
    np.testing.assert_array_equal(weights[0], 0.0)
    report = clf.embedding_coverage_["embedding"]
    assert (report["vocabulary"], report["found"], report["missing"]) == (8, 6, ["zebra", "qwerty"])  # zebra is the more frequent
    assert report["file"] == str(tmp_path / "glove.txt") and report["format"] == "glove"
    out = capsys.readouterr().out
    assert "embedding: 6 of 8 words (75.0%) found in glove.txt; most frequent missing: zebra, qwerty\n" in out
    assert out.index("found in glove.txt") < out.index("epoch 1/3")  # logged before training
    assert clf.history_["loss"][-1] < clf.history_["loss"][0]  # the rest of the net trained

    copy = pickle.loads(pickle.dumps(clf))
    assert copy.embedding_coverage_ == clf.embedding_coverage_
    np.testing.assert_array_equal(_embedding_and_vocabulary(copy)[0], weights)
    np.testing.assert_array_equal(copy.predict_proba(TEXTS[:8]), clf.predict_proba(TEXTS[:8]))


def test_trainable_embedding_starts_from_the_file_and_moves(tmp_path):
    clf = _classifier(tmp_path, 'embeddings="glove.txt"', epochs=2, learning_rate=0.001)
    clf.fit(TEXTS, LABELS)
    weights, vocabulary = _embedding_and_vocabulary(clf)
    moved = np.abs(weights[vocabulary.index("good")] - np.array(VECTORS["good"], dtype=np.float32))
    assert 0 < moved.max() < 0.1  # it started at the file's vector and two small steps moved it


def test_a_malformed_line_stops_fit_before_training(tmp_path):
    clf = _classifier(tmp_path, 'embeddings="glove.txt"', epochs=1)
    lines = _lines()
    lines[2] = "bad -1.0 oops 1.0 -0.25"
    (tmp_path / "glove.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    with user_error(NetError) as caught:
        clf.fit(TEXTS, LABELS)
    net = tmp_path / "reviews.net"
    assert caught.value.render() == (
        f"{net}:6:29: error[N610]: malformed vectors file `glove.txt`\n"
        '   6 | embedding(40, 4, embeddings="glove.txt")\n'
        "     | " + " " * 28 + "^" * 11 + "\n"
        "  = help: glove.txt:3: `oops` is not a number; fix the file, or use another one\n"
        f"1 error in {net}"
    )
    assert not hasattr(clf, "model_") and not hasattr(clf, "history_")


def test_a_vector_beyond_float32_stops_fit_before_training(tmp_path):
    clf = _classifier(tmp_path, 'embeddings="glove.txt"', epochs=1)
    lines = _lines()
    lines[1] = "good 1.0 1e39 -1.0 0.25"  # finite as a Python float, infinite as float32
    (tmp_path / "glove.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    with user_error(NetError) as caught:
        clf.fit(TEXTS, LABELS)
    assert "glove.txt:2: `1e39` is beyond the range of float32" in caught.value.render()
    assert not hasattr(clf, "model_")


def test_a_vocabulary_larger_than_input_dim_is_reported(tmp_path):
    clf = _classifier(tmp_path, 'embeddings="glove.txt"', epochs=1)
    (tmp_path / "reviews.net").write_text(
        text_net('embeddings="glove.txt"').replace("embedding(40,", "embedding(5,"), encoding="utf-8")
    with user_error(NetError) as caught:
        clf.fit(TEXTS, LABELS)
    (diagnostic,) = caught.value.diagnostics
    # Found before any training now: max_tokens=40 lets text_vectorization make more tokens than 5 (the
    # analysis; the vocabulary's own size is checked again once learned).
    assert diagnostic.title == "`embedding` looks up 5 tokens, but `text_vectorization` makes up to 40 (`max_tokens=40`)"
    assert diagnostic.span.line == 6


def test_netdsl_fit_prints_the_coverage(tmp_path, capsys):
    import pandas as pd

    write_glove(tmp_path / "glove.txt")
    net = tmp_path / "reviews.net"
    net.write_text(text_net('embeddings="glove.txt", trainable=false'), encoding="utf-8")
    data = tmp_path / "reviews.csv"
    pd.DataFrame({"text": TEXTS, "label": ["pos" if y else "neg" for y in LABELS]}).to_csv(data, index=False)
    assert main(["fit", str(net), "--data", str(data), "--test-size", "0", "--epochs", "1", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "embedding: 6 of 8 words (75.0%) found in glove.txt; most frequent missing: zebra, qwerty\n" in out


def test_no_word_found_is_an_error(tmp_path):
    clf = _classifier(tmp_path, 'embeddings="glove.txt"', epochs=1)
    write_glove(tmp_path / "glove.txt", {"le": [0.1] * 4, "la": [0.2] * 4, "les": [0.3] * 4})
    with user_error(NetError) as caught:
        clf.fit(TEXTS, LABELS)
    (diagnostic,) = caught.value.diagnostics
    assert diagnostic.title == "none of the 8 words of the vocabulary is in `glove.txt`"
    assert diagnostic.help == (
        "the file begins with le, la, les (words are matched exactly, then ignoring case): is it for the texts' language?"
    )
