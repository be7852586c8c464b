"""Pretrained word vectors (`embedding(..., embeddings="glove.6B.50d.txt")`): the two text formats,
read as a stream that keeps only the words of a vocabulary. Pure Python and NumPy: `netdsl check`
uses `sniff` to check a file statically, and fitting uses `load_vectors` once the vocabulary of the
`text_vectorization` layer is known.

Formats, told apart by the first line:

* word2vec text (also fastText's `.vec`): a header `COUNT DIM`, then `WORD V1 ... VDIM` per line;
* GloVe: no header, `WORD V1 ... VDIM` from the first line on (DIM is read from that line).

Either may be gzip-compressed. Loading is fast because it does as little as possible for the words
it skips: a line is split once at its first space, its number of values is checked by counting
spaces, and only the lines of vocabulary words have their numbers parsed. A word matches a
vocabulary entry exactly or, failing that, ignoring case (the exact match wins; among several
case variants the first in the file wins: files list frequent words first).
"""

from __future__ import annotations

import gzip
import io
import itertools
import os
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import NetdslError, error_reason

__all__ = [
    "VectorsError", "Vectors", "sniff", "load_vectors", "vectors_path", "static_problem", "embedding_matrix",
    "coverage_text",
]  # fmt: skip

_NOT_FROM_A_FILE = ("<string>", "<spec>")
# Word vectors have tens to a few thousand dimensions (GloVe and fastText: 50 to 300); more than this
# is not a vectors file, and lines are read with a bound so that such a file cannot fill the memory.
MAX_DIMENSIONS = 65_536
_BYTES_PER_NUMBER = 48  # a float's text is at most ~25 characters; room for odd spacing
_FLOAT32_MAX = float(np.finfo(np.float32).max)
# What a damaged or cut-short gzip stream raises while it is read (BadGzipFile is an OSError).
_DAMAGED = (EOFError, zlib.error, gzip.BadGzipFile)


class VectorsError(NetdslError, ValueError):
    """A problem with a word-vector file: where (`path`, 1-based `line`, or None) and what."""

    code = "V101"

    def __init__(self, path, line: int | None, message: str):
        self.path, self.line, self.message = Path(path), line, message
        super().__init__(f"{self.path.name}:{line}: {message}" if line is not None else f"{self.path.name}: {message}")

    @property
    def where(self) -> str:
        """`glove.txt:7` (or just the file name)."""
        return f"{self.path.name}:{self.line}" if self.line is not None else self.path.name


@dataclass
class Vectors:
    """What `load_vectors` found: `rows[k]` is the vector of `vocabulary[index[k]]`."""

    path: Path
    format: str  # "glove" or "word2vec"
    dim: int
    rows: np.ndarray  # (found, dim) float32
    index: np.ndarray  # (found,) positions in the vocabulary
    lines: int  # vectors in the file
    first_words: list[str]  # the file's first few words, for messages


def vectors_path(value: str, filename: str | None) -> Path:
    """Where `embeddings="..."` points: a relative path is read from the folder of the `.net` file
    (when the program came from a file), else from the current directory."""
    path = Path(os.path.expanduser(value))
    if path.is_absolute():
        return path
    if filename and filename not in _NOT_FROM_A_FILE:
        return Path(filename).parent / path
    return path


def _line_limit(dim: int) -> int:
    """The longest line (in bytes) a word and `dim` numbers can plausibly take."""
    return 4096 + (dim + 1) * _BYTES_PER_NUMBER


def _too_long(path: Path, number: int, line: bytes, limit: int) -> VectorsError:
    fields = len(line.split())
    return VectorsError(
        path, number,
        f"the line is longer than {limit:,} bytes ({fields:,} fields in its first {len(line):,} bytes); word vectors "
        f"have at most {MAX_DIMENSIONS:,} dimensions (GloVe and fastText: 50 to 300): is this a word-vector file?",
    )


def _damaged(path: Path, after: int, error: BaseException) -> VectorsError:
    reason = error_reason(error)
    where = f" after line {after:,}" if after else ""
    return VectorsError(path, None, f"the gzip stream is damaged or cut short{where} ({reason}); download or compress it again")


def _open(path: Path):
    """The file as a binary stream, decompressed if it is gzip."""
    with open(path, "rb") as probe:
        magic = probe.read(4)
    if magic[:2] == b"\x1f\x8b":
        return gzip.open(path, "rb")
    if magic == b"PK\x03\x04":
        raise VectorsError(path, None, "is a zip archive; unzip it and name the .txt or .vec file inside")
    return open(path, "rb")


def _is_number(text: bytes) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _header(first: bytes) -> tuple[int, int] | None:
    """(count, dim) if `first` is a word2vec header: two whole numbers."""
    fields = first.split()
    if len(fields) == 2 and all(f.isdigit() for f in fields):
        return int(fields[0]), int(fields[1])
    return None


def sniff(path) -> tuple[str, int]:
    """(format, dim) from the first lines only: cheap enough for `netdsl check`."""
    path = Path(path)
    limit = _line_limit(MAX_DIMENSIONS)
    try:
        with _open(path) as stream:
            first = stream.readline(limit)
            if len(first) == limit and not first.endswith(b"\n"):
                raise _too_long(path, 1, first, limit)
            second = stream.readline(limit)
    except _DAMAGED as error:
        raise _damaged(path, 0, error) from None
    first = first.removeprefix(b"\xef\xbb\xbf")
    if not first.strip():
        raise VectorsError(path, 1, "the file is empty" if not first else "the first line is blank; expected a word and its numbers")
    header = _header(first)
    if header is not None:
        dim = header[1]
        if b"\x00" in second or not _decodes(second):  # raw float32s after the word
            raise VectorsError(
                path, 2, "looks like the binary word2vec format; netdsl reads the text formats (GloVe, word2vec "
                "text, fastText .vec)",
            )
        if dim < 1:
            raise VectorsError(path, 1, f"the header says the vectors have {dim} dimensions")
        if dim > MAX_DIMENSIONS:
            raise VectorsError(
                path, 1, f"the header says the vectors have {dim:,} dimensions; word vectors have at most "
                f"{MAX_DIMENSIONS:,} (GloVe and fastText: 50 to 300): is this a word-vector file?",
            )
        return "word2vec", dim
    fields = first.split()
    if len(fields) < 2:
        raise VectorsError(path, 1, "expected a word and its numbers (GloVe) or a header `COUNT DIM` (word2vec), "
                           f"found {_shown(first)}")
    if len(fields) - 1 > MAX_DIMENSIONS:
        raise VectorsError(
            path, 1, f"the line holds {len(fields) - 1:,} numbers; word vectors have at most {MAX_DIMENSIONS:,} "
            "dimensions (GloVe and fastText: 50 to 300): is this a word-vector file?",
        )
    bad = next((f for f in fields[1:] if not _is_number(f)), None)
    if bad is not None:
        raise VectorsError(path, 1, f"`{_text(bad)}` is not a number (expected a word, then its vector)")
    return "glove", len(fields) - 1


def _decodes(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _text(data: bytes, limit: int = 40) -> str:
    text = data.decode("utf-8", "replace")
    return text if len(text) <= limit else text[:limit] + "..."


def _shown(line: bytes) -> str:
    return f"`{_text(line.strip())}`" if line.strip() else "a blank line"


def _fold(word: bytes) -> bytes:
    """The case-folded form used for matching (bytes.lower is enough for ASCII, and much cheaper)."""
    return word.lower() if word.isascii() else word.decode("utf-8", "replace").lower().encode("utf-8")


def load_vectors(path, vocabulary) -> Vectors:
    """The vectors of the `vocabulary` words found in the file at `path`, read as a stream.

    Every line's number of values is checked (by counting, without parsing numbers); the numbers of
    vocabulary words are parsed and must be finite. Raises `VectorsError` naming `file:line`.
    """
    path = Path(path)
    fmt, dim = sniff(path)
    exact: dict[bytes, int] = {}
    folded: dict[bytes, list[int]] = {}
    for position, word in enumerate(vocabulary):
        if not word:
            continue
        key = str(word).encode("utf-8")
        exact.setdefault(key, position)
        folded.setdefault(_fold(key), []).append(position)
    matched: dict[int, int] = {}  # vocabulary position -> row of `found` holding its vector
    by_case: set[int] = set()  # positions matched ignoring case (an exact match may replace them)
    found: list[tuple[int, bytes]] = []  # (line number, the line's numbers) of the lines kept
    expected_lines = None
    count = 0
    first_words: list[str] = []
    limit = _line_limit(dim)
    number = 0  # the last line read, for the message if the gzip stream breaks
    try:
        with _open(path) as stream:
            first = stream.readline(limit).removeprefix(b"\xef\xbb\xbf")
            rest = iter(lambda: stream.readline(limit), b"")  # bounded: a huge line cannot fill the memory
            if fmt == "word2vec":
                expected_lines = _header(first)[0]
                lines, start = rest, 2
            else:
                lines, start = itertools.chain([first], rest), 1
            for number, line in enumerate(lines, start):
                if len(line) == limit and not line.endswith(b"\n"):
                    raise _too_long(path, number, line, limit)
                line = line.rstrip()
                if line.count(b" ") == dim:  # the usual line: a word without spaces, single spaces
                    cut = line.index(b" ")
                    word, numbers = line[:cut], None
                elif not line:
                    continue
                else:  # tabs, runs of spaces, or a word with spaces in it (GloVe 840B has a few)
                    fields = line.split()
                    if len(fields) <= dim or (len(fields) > dim + 1 and _is_number(fields[-dim - 1])):
                        found_values = len(fields) - 1
                        raise VectorsError(
                            path, number,
                            f"expected a word and {dim} numbers, found {found_values} number{'s' if found_values != 1 else ''}"
                            + _dim_origin(fmt),
                        )
                    word, numbers = b" ".join(fields[: len(fields) - dim]), b" ".join(fields[len(fields) - dim :])
                count += 1
                if count <= 5:
                    first_words.append(_text(word, 20))
                targets = []
                position = exact.get(word)
                if position is not None and (position not in matched or position in by_case):
                    targets.append(position)  # an exact match: replaces a match ignoring case
                    by_case.discard(position)
                variants = folded.get(word.lower() if word.isascii() else _fold(word))
                if variants is not None:
                    others = [p for p in variants if p != position and p not in matched]
                    by_case.update(others)
                    targets += others
                if targets:
                    for target in targets:
                        matched[target] = len(found)
                    found.append((number, numbers if numbers is not None else line[cut + 1 :]))
    except _DAMAGED as error:
        raise _damaged(path, number, error) from None
    if expected_lines is not None and count != expected_lines:
        raise VectorsError(
            path, 1, f"the header announces {expected_lines:,} vectors, but the file has {count:,}"
            + ("; is it cut short?" if count < expected_lines else ""),
        )
    table = _parse(path, found, dim)
    index = np.fromiter(sorted(matched), dtype=np.int64, count=len(matched))
    rows = table[[matched[i] for i in index]] if len(index) else np.zeros((0, dim), dtype=np.float32)
    return Vectors(path, fmt, dim, rows, index, count, first_words)


def _dim_origin(fmt: str) -> str:
    return " (the dimension given by the header, line 1)" if fmt == "word2vec" else " (as on line 1)"


def _parse(path: Path, found: list[tuple[int, bytes]], dim: int) -> np.ndarray:
    """The numbers of the kept lines as one (lines, dim) float32 table, parsed in one go by NumPy's
    C reader; on a bad number, the line is found and named."""
    if not found:
        return np.zeros((0, dim), dtype=np.float32)
    try:
        table = np.loadtxt(io.BytesIO(b"\n".join(numbers for _, numbers in found)), dtype=np.float32,
                           delimiter=" ", ndmin=2, comments=None)
    except ValueError:
        table = None
    suspects = range(len(found)) if table is None else np.flatnonzero(~np.isfinite(table).all(axis=1))
    for row in suspects:
        number, numbers = found[row]
        for value in numbers.split(b" "):
            if not _is_number(value):
                raise VectorsError(path, number, f"`{_text(value)}` is not a number")
            if not np.isfinite(float(value)):
                raise VectorsError(path, number, f"`{_text(value)}` is not a finite number")
            if abs(float(value)) > _FLOAT32_MAX:  # finite as a Python float, infinite as float32
                raise VectorsError(
                    path, number, f"`{_text(value)}` is beyond the range of float32 (about ±3.4e38), the type of "
                    "an embedding's weights",
                )
    if table is None:  # numbers NumPy's reader refuses but Python reads (`1_0`): the slow way
        table = np.array([[float(v) for v in numbers.split(b" ")] for _, numbers in found], dtype=np.float32)
    return table


# ---- static checks (netdsl check / show, and fit before anything is trained) -------------------


def static_problem(value: str, filename: str | None, output_dim) -> tuple[str, str, str] | None:
    """(title, help, diagnostic code) of what is wrong with `embeddings=value` before reading the whole file: a
    missing or unreadable file, an unknown format, or vectors of another size than `output_dim`."""
    from .errors import close_match

    path = vectors_path(value, filename)
    base = ("the .net file's folder" if filename and filename not in _NOT_FROM_A_FILE
            else "the current directory (the program was not read from a file)")
    if not path.is_file():
        if path.is_dir():
            return f"`{value}` is a folder, not a vectors file", "name a word-vector file such as `glove.6B.50d.txt`", "N610"
        folder = path.parent
        if not folder.is_dir():
            return (f"vectors file `{value}` not found",
                    f"the folder `{folder}` does not exist (a relative path is read from {base})", "N610")
        names = sorted(p.name for p in folder.iterdir() if p.is_file())
        match = close_match(path.name, names)
        hint = f"did you mean `{match}`? " if match else ""
        return f"vectors file `{value}` not found", f"{hint}looked for `{path}` (a relative path is read from {base})", "N610"
    try:
        fmt, dim = sniff(path)
    except VectorsError as error:
        return f"cannot read the vectors file `{value}`", str(error), "N610"
    except OSError as error:
        return f"cannot read the vectors file `{value}`", error.strerror or str(error), "N610"
    if isinstance(output_dim, int) and dim != output_dim:
        what = "GloVe" if fmt == "glove" else "word2vec"
        return (
            f"the vectors in `{path.name}` have {dim} dimensions, but this embedding's output_dim is {output_dim}",
            f"set output_dim to {dim} (the {what} file's size), or use a file of {output_dim}-dimensional vectors",
            "N611",
        )
    return None


# ---- the embedding matrix (at fit, once text_vectorization has learned its vocabulary) ---------

SPECIAL_TOKENS = ("", "[UNK]")  # text_vectorization's padding (id 0) and out-of-vocabulary (id 1)
MISSING_SHOWN = 10


def vocabulary_words(vocabulary) -> list[str]:
    """The vocabulary with its special tokens blanked (`""`), so they are never looked up."""
    return ["" if position < 2 and word in SPECIAL_TOKENS else str(word) for position, word in enumerate(vocabulary)]


def embedding_matrix(vocabulary, vectors: Vectors, rows: int, rng: np.random.Generator) -> tuple[np.ndarray, dict]:
    """The (rows, dim) weights of an embedding for `vocabulary` (id -> word, most frequent first),
    and its coverage report. Found words take their vectors; the others (and `[UNK]`) random
    vectors of the same spread as the found ones; padding (id 0) zeros."""
    words = vocabulary_words(vocabulary)
    found = np.zeros(len(words), dtype=bool)
    found[vectors.index] = True
    spread = float(vectors.rows.std()) if vectors.rows.size else 0.0
    matrix = rng.normal(0.0, spread or 0.05, size=(rows, vectors.dim)).astype(np.float32)
    matrix[vectors.index] = vectors.rows
    if words and words[0] == "":
        matrix[0] = 0.0
    real = [position for position, word in enumerate(words) if word]
    missing = [words[position] for position in real if not found[position]]
    report = {
        "file": os.path.abspath(vectors.path),
        "format": vectors.format,
        "dim": vectors.dim,
        "vocabulary": len(real),
        "found": len(real) - len(missing),
        "coverage": (len(real) - len(missing)) / len(real) if real else 0.0,
        "missing": missing[:MISSING_SHOWN],
    }
    return matrix, report


def coverage_text(layer: str, report: dict) -> str:
    """`embedding: 8,412 of 9,998 words (84.1%) found in glove.6B.50d.txt; most frequent missing: ...`"""
    text = (f"{layer}: {report['found']:,} of {report['vocabulary']:,} words ({report['coverage']:.1%}) "
            f"found in {Path(report['file']).name}")
    if report["missing"]:
        return text + "; most frequent missing: " + ", ".join(report["missing"])
    return text + "; none missing"
