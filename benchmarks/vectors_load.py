"""Loading word vectors: netdsl's streaming loader against what a user would write otherwise, on a
GloVe-format file generated here (nothing is downloaded).

    python -m benchmarks.vectors_load            # 400,000 words x 50 d (~170 MB), a 20,000-word vocabulary
    python -m benchmarks.vectors_load --quick    # 20,000 words x 50 d, a 1,000-word vocabulary

Each contender runs in a fresh process: the median of a few loads, then one more load under
tracemalloc for its peak memory (Python objects and NumPy arrays; pandas' parser buffers are not seen). Every contender ends
with the same thing, the (vocabulary, 50) rows of the words the file has, and must agree with netdsl.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

if __package__ in (None, ""):  # run as a file: python benchmarks/vectors_load.py
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    __package__ = "benchmarks"

from benchmarks.common import Table, Timer, in_fresh_process, median, ratio, script_main

DIM = 50
MISSING_SHARE = 0.1  # of the vocabulary: words the file does not have

# Real words first (frequent words lead real files), then made-up ones, then `w123456` fillers.
_SYLLABLES = ("ka", "to", "ri", "men", "sa", "lo", "ve", "dan", "pi", "qu", "bel", "or", "ix", "ne", "tu", "ar")


def _words(n: int) -> list[str]:
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    words = sorted(ENGLISH_STOP_WORDS) + [",", ".", "'s", "n't", "--", "movie", "film", "good", "bad"]
    seen = set(words)
    for a in _SYLLABLES:
        for b in _SYLLABLES:
            for c in _SYLLABLES:
                word = a + b + c
                if word not in seen:
                    seen.add(word)
                    words.append(word)
    words = words[:n]
    return words + [f"w{i}" for i in range(len(words), n)]


def write_glove(path: Path, n_words: int, seed: int = 0) -> list[str]:
    """A GloVe text file of `n_words` lines of DIM numbers like real vectors (`-0.38241`); the words."""
    import numpy as np

    rng = np.random.default_rng(seed)
    numbers = np.array([f"{x:.5f}" for x in rng.normal(0.0, 0.4, 1 << 16)], dtype=object)
    words = _words(n_words)
    with open(path, "w", encoding="utf-8") as out:
        for start in range(0, n_words, 10_000):
            block = numbers[rng.integers(0, len(numbers), size=(min(10_000, n_words - start), DIM))]
            out.write("".join(f"{word} {' '.join(row)}\n" for word, row in zip(words[start:], block)))
    return words


def vocabulary_for(words: list[str], size: int, seed: int = 0) -> list[str]:
    """What text_vectorization would learn: padding, [UNK], then `size` words, most of them in the
    file (the frequent ones more often), some not."""
    import numpy as np

    rng = np.random.default_rng(seed)
    n_missing = int(size * MISSING_SHARE)
    weights = 1.0 / np.arange(1, len(words) + 1) ** 0.5  # frequent words are likelier to be in the texts
    present = rng.choice(len(words), size=size - n_missing, replace=False, p=weights / weights.sum())
    chosen = [words[i] for i in sorted(present)] + [f"unseen{i}" for i in range(n_missing)]
    return ["", "[UNK]"] + chosen


# ---- the contenders: path, vocabulary -> (vocabulary positions found, their rows) -----------------


def netdsl_loader(path, vocabulary):
    from netdsl.dsl.vectors import load_vectors, vocabulary_words

    vectors = load_vectors(path, vocabulary_words(vocabulary))
    return vectors.index, vectors.rows


def dict_of_arrays(path, vocabulary):
    """keras.io's "Using pre-trained word embeddings": every line into a dict of arrays, then look up."""
    import numpy as np

    embeddings_index = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            word, coefs = line.split(maxsplit=1)
            embeddings_index[word] = np.fromstring(coefs, "f", sep=" ")
    found = [(i, embeddings_index[w]) for i, w in enumerate(vocabulary) if i >= 2 and w in embeddings_index]
    return np.array([i for i, _ in found]), np.stack([v for _, v in found])


def pandas_read_csv(path, vocabulary):
    """The whole file as a frame indexed by word (quoting=3: quotes are words), then the rows wanted."""
    import csv

    import numpy as np
    import pandas as pd

    frame = pd.read_csv(path, sep=" ", header=None, index_col=0, quoting=csv.QUOTE_NONE, keep_default_na=False,
                        na_filter=False, dtype={i: np.float32 for i in range(1, DIM + 1)}, engine="c")
    frame = frame[~frame.index.duplicated()]
    positions = np.array([i for i, w in enumerate(vocabulary) if i >= 2 and w in frame.index])
    return positions, frame.loc[[vocabulary[i] for i in positions]].to_numpy(np.float32)


def gensim_keyedvectors(path, vocabulary):
    """gensim's KeyedVectors.load_word2vec_format(no_header=True): every word, then look up."""
    import numpy as np
    from gensim.models import KeyedVectors

    vectors = KeyedVectors.load_word2vec_format(path, binary=False, no_header=True)
    positions = np.array([i for i, w in enumerate(vocabulary) if i >= 2 and w in vectors.key_to_index])
    return positions, np.stack([vectors[vocabulary[i]] for i in positions])


# name -> (loader, modules imported before the clock starts)
CONTENDERS = {
    "netdsl load_vectors (stream, vocabulary only)": (netdsl_loader, ("netdsl.dsl.vectors",)),
    "dict of every word's array (keras.io example)": (dict_of_arrays, ()),
    "pandas.read_csv(sep=' ', quoting=3)": (pandas_read_csv, ("pandas",)),
    "gensim KeyedVectors.load_word2vec_format": (gensim_keyedvectors, ("gensim.models",)),
}


def measure(name: str, path: str, vocabulary: list[str], runs: int) -> dict:
    """In a fresh process: import what the contender needs, time `runs` loads, then one more load
    under tracemalloc for its peak memory (Python objects and NumPy arrays; not timed, since
    tracing slows allocations down)."""
    import hashlib
    import importlib
    import tracemalloc

    import numpy as np

    loader, modules = CONTENDERS[name]
    for module in modules:
        importlib.import_module(module)
    times = []
    for _ in range(runs):
        with Timer() as t:
            positions, rows = loader(path, vocabulary)
        times.append(t.seconds)
        del positions, rows
    tracemalloc.start()
    positions, rows = loader(path, vocabulary)
    peak_mb = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    order = np.argsort(positions)
    digest = hashlib.sha1(np.ascontiguousarray(positions[order], dtype=np.int64).tobytes()
                          + np.ascontiguousarray(rows[order], dtype=np.float32).tobytes()).hexdigest()
    return {"seconds": times, "peak_mb": peak_mb, "found": len(order), "digest": digest}


def run(quick=False, runs=None):
    runs = runs or 3
    n_words, vocabulary_size = (20_000, 1_000) if quick else (400_000, 20_000)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"generated.{n_words // 1000}k.{DIM}d.txt"
        with Timer() as made:
            words = write_glove(path, n_words)
        vocabulary = vocabulary_for(words, vocabulary_size)
        size_mb = path.stat().st_size / 2**20
        results = {}
        for name in CONTENDERS:
            try:
                results[name] = in_fresh_process(measure, name, str(path), vocabulary, runs)
            except Exception as error:  # a contender that is not installed or fails is reported
                results[name] = {"error": f"{type(error).__name__}: {str(error).splitlines()[-1] if str(error) else ''}"}
    reference = results[next(iter(CONTENDERS))]
    table = Table(
        f"Loading {n_words:,} x {DIM}-d GloVe vectors ({size_mb:.0f} MB) for a {vocabulary_size:,}-word vocabulary "
        f"(median of {runs}, fresh process each)",
        ["loader", "median s", "netdsl is faster by", "peak memory MB", "words found", "same vectors"],
    )
    for name, result in results.items():
        if "error" in result:
            table.add(name, float("nan"), "n/a", float("nan"), "-", result["error"])
            continue
        seconds = median(result["seconds"])
        table.add(name, seconds, "-" if result is reference else ratio(seconds, median(reference["seconds"])),
                  result["peak_mb"], f"{result['found']:,}", "yes" if result["digest"] == reference["digest"] else "NO")
    table.notes.append(f"file generated in {made.seconds:.1f} s; {int(vocabulary_size * MISSING_SHARE):,} of the "
                       "vocabulary's words are not in it; the file is read from the OS cache (written just before)")
    table.notes.append("same vectors: the words found and their rows are identical to netdsl's")
    return [table]


def _arguments(p):
    p.add_argument("--runs", type=int, help="timed loads per contender (default 3)")


if __name__ == "__main__":
    script_main(run, __doc__.splitlines()[0], _arguments)
