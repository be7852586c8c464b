"""The language server's latency (issue 19): `netdsl lsp` started as an editor starts it (a new
Python running `-m netdsl.pipelines.cli lsp`, over stdio) and driven by a real LSP client (pygls's),
on a 200-line program; wall clock from the client's side, in milliseconds.

- diagnostics: from sending a `didChange` (a one-character edit; edits alternate, so the text really
  changes each time) to receiving the `publishDiagnostics` of that version; on the clean file, on
  edits that put an error in and take it out again, and on a variant of the file with 3 mistakes;
- hover on layer kinds, params and arguments spread over the file, request to response; also a
  hover sent right after an edit (the time from the `didChange` to the hover's answer);
- inlay hints for the whole file, completion (kinds, arguments, settings, values), document symbols;
- cold: a fresh server per sample, the first diagnostics after `didOpen` (pydantic's validators
  built, the grammar loaded) and the time to `initialize`'s answer; with `netdsl check FILE` in a
  fresh process for comparison. Not in the warm rows;
- where a change's time goes: `document.read` (all the server does on a change) step by step in
  this process, and what the garbage collector's full passes cost meanwhile.

The goal (issue 19): diagnostics and hover within 100 ms at the 95th percentile.

    python -m benchmarks.lsp_latency                   # 200 samples per warm row, 10 cold servers
    python -m benchmarks.lsp_latency --quick           # 20 samples, 2 cold servers
    python -m benchmarks.lsp_latency --write FILE.net  # also write the 200-line program

Nothing here imports TensorFlow; the server must not either (its tests check).
"""

from __future__ import annotations

import asyncio
import math
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a file: python benchmarks/lsp_latency.py
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    __package__ = "benchmarks"

from lsprotocol import types as lsp  # noqa: E402
from pygls.lsp.client import LanguageClient  # noqa: E402

from benchmarks.common import ROOT, Table, median, script_main  # noqa: E402

SERVER = [sys.executable, "-m", "netdsl.pipelines.cli", "lsp"]
CHECK = [sys.executable, "-m", "netdsl.pipelines.cli", "check"]
GOAL_MS = 100.0
LINES = 200
# As the startup benchmark: bytecode caches written once, then read, as any installation has them.
_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


# -- the program -------------------------------------------------------------------------------

_HEAD = """\
# A deep convnet for 32x32 colour images, written to time the language server (issue 19):
# stages of convolutions with batch normalization, residual blocks repeated `depth` times,
# two dense heads joined by name, augmentation and a full train block.
net latency_200

param width = 16 in [8, 16, 32]             # filters of the first stage
param depth = 2 in range(1, 4)              # residual blocks per stage
param hidden = 128 in range(64, 257, 64)
param rate = 0.3 in uniform(0.1, 0.5)
param lr = 0.001 in loguniform(0.0001, 0.01)
param momentum = 0.99 in [0.9, 0.99]

input (32, 32, 3)

rescaling(1 / 255)"""

_TAIL = """
# the head: two views of the same features, joined by name
features = global_average_pooling2d
wide = dense(hidden, activation=relu)
from features
narrow = dense(hidden / 2, activation=tanh)
both = concatenate(wide, narrow)
batch_normalization
dropout(rate)
dense(hidden / 2, activation=relu)
dense(n_classes, activation=softmax)

augment {
    random_flip(horizontal)
    random_rotation(0.05)
    random_translation(0.1, 0.1)
    gaussian_noise(0.01)
}

train {
    loss = categorical_crossentropy
    optimizer = adam(learning_rate=lr)
    epochs = 30
    batch_size = 64
    validation_split = 0.1
    callbacks = [early_stopping(monitor=val_loss, patience=5, restore_best_weights=true),
                 reduce_lr_on_plateau(factor=0.5, patience=2)]
    metrics = [accuracy]
}"""


def _stage(i: int, filters: str, pool: bool) -> list[str]:
    """One stage of the convnet: a convolution, `depth` residual blocks, two more convolutions, and
    (but for the last stage) pooling to half the size and dropout."""
    lines = [
        "",
        f"# stage {i + 1}: {filters} filters" + (", then half the size" if pool else ""),
        f"conv2d({filters}, kernel_size=3, padding=same)",
        "batch_normalization(momentum=momentum)",
        "activation(relu)",
        "repeat depth {",
        "    residual {",
        f"        conv2d({filters}, kernel_size=3, padding=same, activation=relu)",
        "        batch_normalization",
        f"        conv2d({filters}, kernel_size=3, padding=same)",
        "        batch_normalization",
        "    }",
        "    activation(relu)",
        "}",
        f"conv2d({filters}, kernel_size=1, padding=same, activation=relu)",
        f"conv2d({filters}, kernel_size=3, padding=same, activation=relu)",
        "batch_normalization",
    ]
    if pool:
        lines += ["max_pooling2d(2)", f"dropout(rate / {5 - i})"]
    return lines


def program(lines: int = LINES) -> str:
    """The benchmark's program, exactly `lines` long: params with lists and ranges, five stages
    (32x32 down to 2x2) of conv2d/batch_normalization/max_pooling2d/dropout around `repeat depth {
    residual { ... } }`, the last stage made deeper until the file has its length, two dense heads
    joined by name (`from`, `concatenate`), augment, and train with two callbacks. `netdsl check` clean."""
    head, tail = _HEAD.splitlines(), _TAIL.splitlines()
    body = [line for i in range(5) for line in _stage(i, "width" if i == 0 else f"width * {2 ** i}", pool=i < 4)]
    extra = lines - len(head) - len(body) - len(tail)
    if extra < 0:
        raise ValueError(f"the program needs at least {lines - extra} lines, not {lines}")
    filler = ["# deeper: more 3x3 convolutions at the smallest size"] if extra % 2 else []
    while len(filler) < extra:
        filler += ["conv2d(width * 16, kernel_size=3, padding=same, activation=relu)", "batch_normalization(momentum=momentum)"]
    return "\n".join(head + body + filler + tail) + "\n"


# Three mistakes that `check` reports (an argument, a layer kind and a setting misspelt), each
# with a "did you mean"; the file still parses, so every feature has its tokens.
MISTAKES = [("conv2d(width * 2, kernel_size=1", "conv2d(width * 2, kernel_sise=1"),
            ("wide = dense(", "wide = dnese("), ("    optimizer = adam", "    optimizr = adam")]


def with_mistakes(text: str) -> str:
    for right, wrong in MISTAKES:
        if right not in text:
            raise ValueError(f"the program has no `{right}` to misspell")
        text = text.replace(right, wrong, 1)
    return text


# -- where to edit, hover and complete ---------------------------------------------------------

# One-character edits that keep the program valid (a digit up by one and back), spread over the file.
VALID_EDITS = ["rescaling(1 / 255)", "dropout(rate / 5)", "dropout(rate / 2)", "epochs = 30", "patience=5", "batch_size = 64"]
# One-character edits that make a mistake: a misspelt kind, argument and value, on every stage.
ERROR_EDITS = [("conv2d(width, kernel_size=3, padding=same)", "conv2d", "x"),
               ("conv2d(width * 4, kernel_size=1", "kernel_size", "x"),
               ("conv2d(width * 16, kernel_size=3, padding=same, activation=relu)", "relu", "x"),
               ("dense(n_classes", "dense", "x")]

KINDS = r"\b(?:conv2d|batch_normalization|max_pooling2d|dropout|dense|activation|concatenate|global_average_pooling2d|rescaling)\b"
PARAMS = r"\b(?:width|depth|hidden|rate|lr|momentum)\b(?!\s*=)"
ARGUMENTS = r"\b(?:kernel_size|padding|activation|momentum|learning_rate|patience|monitor|factor)(?==)"


def _position(text: str, offset: int) -> lsp.Position:
    line = text.count("\n", 0, offset)
    return lsp.Position(line, offset - (text.rfind("\n", 0, offset) + 1))


def edit_sites(text: str, sites: list[str]) -> list[tuple[lsp.Position, str, str]]:
    """For each site, where its last digit is, the digit and the one to put instead."""
    found = []
    for site in sites:
        start = text.index(site)
        offset = start + max(i for i, c in enumerate(site) if c.isdigit())
        digit = text[offset]
        found.append((_position(text, offset), digit, str(int(digit) + 1) if digit != "9" else "8"))
    return found


def error_sites(text: str) -> list[tuple[lsp.Position, str, str]]:
    """For each error edit, the position of the second character of its word, that character and `x`."""
    found = []
    for site, word, wrong in ERROR_EDITS:
        offset = text.index(site) + site.index(word) + 1
        found.append((_position(text, offset), text[offset], wrong))
    return found


def spread(text: str, pattern: str, count: int, inside: int = 2) -> list[lsp.Position]:
    """`count` matches of `pattern` evenly spread over the file (comments left out), each at its
    `inside`-th character (inside the word, as a mouse or a cursor is)."""
    hits = []
    for match in re.finditer(pattern, text):
        line_start = text.rfind("\n", 0, match.start()) + 1
        if "#" not in text[line_start:match.start()]:
            hits.append(_position(text, match.start() + min(inside, len(match.group()) - 1)))
    step = max(1, len(hits) // count)
    return hits[::step][:count]


def percentile(values: list[float], q: float) -> float:
    """The nearest-rank percentile: the smallest value with at least q% of the values at or below it."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


# -- the client --------------------------------------------------------------------------------

class Session:
    """One server started as an editor starts it, with a pygls client that notes when each
    version's diagnostics arrive."""

    def __init__(self):
        self.client = LanguageClient("netdsl-latency", "1")
        self.waiting: dict[tuple[str, int], asyncio.Future] = {}
        self.versions: dict[str, int] = {}
        self.texts: dict[str, str] = {}

        @self.client.feature(lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        def _diagnostics(params: lsp.PublishDiagnosticsParams):
            now = time.perf_counter()
            future = self.waiting.pop((params.uri, params.version), None)
            if future is not None and not future.done():
                future.set_result((now, params.diagnostics))

    async def start(self) -> float:
        """Start the server and initialize it; the seconds from the process's start to the answer."""
        started = time.perf_counter()
        await self.client.start_io(*SERVER, cwd=str(ROOT), env=_ENV)
        await self.client.initialize_async(lsp.InitializeParams(
            capabilities=lsp.ClientCapabilities(), initialization_options={"inlayHints": True}))
        answered = time.perf_counter()
        self.client.initialized(lsp.InitializedParams())
        return answered - started

    def _expect(self, uri: str, version: int) -> asyncio.Future:
        future = asyncio.get_running_loop().create_future()
        self.waiting[(uri, version)] = future
        return future

    async def open(self, path: Path, text: str) -> tuple[float, list]:
        """Open `text` as `path`; the seconds to its first diagnostics, and them."""
        uri = path.as_uri()
        self.versions[uri], self.texts[uri] = 1, text
        expected = self._expect(uri, 1)
        sent = time.perf_counter()
        self.client.text_document_did_open(lsp.DidOpenTextDocumentParams(
            lsp.TextDocumentItem(uri=uri, language_id="netdsl", version=1, text=text)))
        arrived, diagnostics = await asyncio.wait_for(expected, 60)
        return arrived - sent, diagnostics

    def change(self, uri: str, position: lsp.Position, character: str) -> asyncio.Future:
        """Replace the character at `position` (an incremental change, as editors send); the future
        of that version's diagnostics (arrival time, diagnostics)."""
        self.versions[uri] += 1
        version = self.versions[uri]
        expected = self._expect(uri, version)
        end = lsp.Position(position.line, position.character + 1)
        self.client.text_document_did_change(lsp.DidChangeTextDocumentParams(
            lsp.VersionedTextDocumentIdentifier(uri=uri, version=version),
            [lsp.TextDocumentContentChangePartial(range=lsp.Range(position, end), text=character)]))
        return expected

    async def stop(self) -> None:
        await self.client.shutdown_async(None)
        self.client.exit(None)
        await self.client.stop()


async def _diagnostics_after(session: Session, uri: str, position, character) -> tuple[float, list]:
    sent = time.perf_counter()
    arrived, diagnostics = await asyncio.wait_for(session.change(uri, position, character), 60)
    return (arrived - sent) * 1000, diagnostics


async def diagnostics_rows(session: Session, uri: str, broken_uri: str, text: str, samples: int) -> dict:
    """The warm diagnostics rows: valid edits (each edit and its undo), errors put in and taken out,
    and valid edits on the file with mistakes. Each version's diagnostics are checked."""
    rows = {"clean": [], "error in": [], "error out": [], "mistakes": []}
    valid, wrong = edit_sites(text, VALID_EDITS), error_sites(text)
    for i in range(samples):
        position, digit, other = valid[(i // 2) % len(valid)]
        took, found = await _diagnostics_after(session, uri, position, other if i % 2 == 0 else digit)
        _expect_count(found, 0, "a valid edit")
        rows["clean"].append(took)
    for i in range(samples):
        position, right, mistake = wrong[i % len(wrong)]
        took, found = await _diagnostics_after(session, uri, position, mistake)
        _expect_count(found, 1, "a one-character mistake")
        rows["error in"].append(took)
        took, found = await _diagnostics_after(session, uri, position, right)
        _expect_count(found, 0, "the mistake taken out")
        rows["error out"].append(took)
    for i in range(samples):
        position, digit, other = valid[(i // 2) % len(valid)]
        took, found = await _diagnostics_after(session, broken_uri, position, other if i % 2 == 0 else digit)
        _expect_count(found, len(MISTAKES), "the file with mistakes")
        rows["mistakes"].append(took)
    return rows


def _expect_count(diagnostics: list, count: int, what: str) -> None:
    if len(diagnostics) != count:
        raise RuntimeError(f"{what}: {len(diagnostics)} diagnostics, expected {count}: "
                           f"{[d.message.splitlines()[0] for d in diagnostics]}")


async def _timed(request) -> tuple[float, object]:
    sent = time.perf_counter()
    answer = await request
    return (time.perf_counter() - sent) * 1000, answer


async def request_rows(session: Session, uri: str, text: str, samples: int) -> dict:
    """Hover (layer kinds, params, arguments), inlay hints, completion and document symbols, each
    `samples` times, request to response; every hover must find something."""
    doc = lsp.TextDocumentIdentifier(uri=uri)
    targets = {what: spread(text, pattern, 50) for what, pattern in
               (("kinds", KINDS), ("params", PARAMS), ("arguments", ARGUMENTS))}
    rows = {f"hover, {what}": [] for what in targets}
    for i in range(3 * samples):  # the three in turns, `samples` each
        what = list(targets)[i % 3]
        place = targets[what][(i // 3) % len(targets[what])]
        took, hover = await _timed(session.client.text_document_hover_async(lsp.HoverParams(doc, place)))
        if hover is None:
            raise RuntimeError(f"no hover at {place} ({what})")
        rows[f"hover, {what}"].append(took)
    whole = lsp.Range(lsp.Position(0, 0), lsp.Position(text.count("\n") + 1, 0))
    rows["inlay hints"] = [(await _timed(session.client.text_document_inlay_hint_async(lsp.InlayHintParams(doc, whole))))[0]
                           for _ in range(samples)]
    completions = [p for pattern in (KINDS, ARGUMENTS, r"\b(?:epochs|metrics|loss)\b", r"\b(?:relu|same|softmax)\b")
                   for p in spread(text, pattern, max(1, samples // 8))]
    rows["completion"] = []
    for i in range(samples):
        took, found = await _timed(session.client.text_document_completion_async(
            lsp.CompletionParams(doc, completions[i % len(completions)])))
        if not found or not found.items:
            raise RuntimeError(f"no completion at {completions[i % len(completions)]}")
        rows["completion"].append(took)
    rows["document symbols"] = [(await _timed(session.client.text_document_document_symbol_async(
        lsp.DocumentSymbolParams(doc))))[0] for _ in range(samples)]
    return rows


async def hover_after_edit(session: Session, uri: str, text: str, samples: int) -> list[float]:
    """A hover sent right after an edit, as when the mouse rests while typing: from the `didChange`
    to the hover's answer (the server reads the new text first)."""
    valid, places = edit_sites(text, VALID_EDITS), spread(text, KINDS, 50)
    doc, took = lsp.TextDocumentIdentifier(uri=uri), []
    for i in range(samples):
        position, digit, other = valid[(i // 2) % len(valid)]
        sent = time.perf_counter()
        diagnostics = session.change(uri, position, other if i % 2 == 0 else digit)
        hover = await session.client.text_document_hover_async(lsp.HoverParams(doc, places[i % len(places)]))
        took.append((time.perf_counter() - sent) * 1000)
        if hover is None:
            raise RuntimeError("no hover after an edit")
        await asyncio.wait_for(diagnostics, 60)
    return took


async def warm(folder: Path, samples: int) -> dict:
    text = program()
    clean, broken = folder / "latency_200.net", folder / "latency_200_mistakes.net"
    session = Session()
    await session.start()
    try:
        _, found = await session.open(clean, text)
        _expect_count(found, 0, "the program")
        _, found = await session.open(broken, with_mistakes(text))
        _expect_count(found, len(MISTAKES), "the program with mistakes")
        for _ in range(5):  # warm-up, not counted: the first hovers, completions and edits
            await request_rows(session, clean.as_uri(), text, 3)
        rows = await diagnostics_rows(session, clean.as_uri(), broken.as_uri(), text, samples)
        rows.update(await request_rows(session, clean.as_uri(), text, samples))
        rows["hover after an edit"] = await hover_after_edit(session, clean.as_uri(), text, samples)
    finally:
        await session.stop()
    return rows


async def cold(folder: Path, runs: int) -> dict:
    """A fresh server per run: the time to `initialize`'s answer, and to the first diagnostics."""
    text, path = program(), folder / "latency_200.net"
    rows = {"initialize": [], "first diagnostics": []}
    for _ in range(runs + 1):  # the first writes the bytecode caches: not counted
        session = Session()
        try:
            started = await session.start()
            opened, found = await session.open(path, text)
            _expect_count(found, 0, "the program, cold")
        finally:
            await session.stop()
        rows["initialize"].append(started * 1000)
        rows["first diagnostics"].append(opened * 1000)
    return {name: values[1:] for name, values in rows.items()}


def check_times(path: Path, runs: int) -> list[float]:
    """`netdsl check FILE` in a fresh process (what a user runs without the server), in ms."""
    took = []
    for _ in range(runs + 1):
        started = time.perf_counter()
        done = subprocess.run(CHECK + [str(path)], cwd=ROOT, env=_ENV, capture_output=True, text=True)
        took.append((time.perf_counter() - started) * 1000)
        if done.returncode != 0:
            raise RuntimeError(f"netdsl check failed: {done.stdout[-300:]}{done.stderr[-300:]}")
    return took[1:]


WARM_ROWS = [  # (label, key, goal applies)
    ("diagnostics, a valid one-character edit", "clean", True),
    ("diagnostics, an edit that makes a mistake", "error in", True),
    ("diagnostics, an edit that undoes it", "error out", True),
    (f"diagnostics, the file with {len(MISTAKES)} mistakes, a valid edit", "mistakes", True),
    ("hover, layer kinds", "hover, kinds", True),
    ("hover, params", "hover, params", True),
    ("hover, arguments", "hover, arguments", True),
    ("hover, all three", "hover, all", True),
    ("hover sent right after an edit (from the didChange)", "hover after an edit", True),
    ("inlay hints, the whole file", "inlay hints", False),
    ("completion (kinds, arguments, settings, values)", "completion", False),
    ("document symbols", "document symbols", False),
]


def _row(table: Table, label: str, values: list[float], goal: bool) -> None:
    p95 = percentile(values, 95)
    table.add(label, len(values), median(values), p95, max(values), f"{GOAL_MS:.0f}" if goal else "-",
              ("yes" if p95 <= GOAL_MS else "no") if goal else "-")


def tables(rows: dict, cold_rows: dict, check: list[float], load: tuple[float, float]) -> list[Table]:
    columns = ["request", "n", "median ms", "p95 ms", "max ms", "goal p95 ms", "met"]
    hot = Table(f"netdsl lsp, warm: a {LINES}-line program, from the client's side", columns)
    rows = dict(rows, **{"hover, all": rows["hover, kinds"] + rows["hover, params"] + rows["hover, arguments"]})
    for label, key, goal in WARM_ROWS:
        _row(hot, label, rows[key], goal)
    hot.notes += [
        "p95: the nearest-rank 95th percentile; one server for every warm row, after an uncounted warm-up",
        "diagnostics: from sending the didChange (one character, incremental) to the publishDiagnostics of that "
        "version; every version's diagnostics checked (0, 1, or the file's mistakes)",
        f"load average before and after: {load[0]:.2f} and {load[1]:.2f}",
    ]
    first = Table("netdsl lsp, cold: a fresh server per run (not in the goal)", columns[:5])
    both = [a + b for a, b in zip(cold_rows["initialize"], cold_rows["first diagnostics"])]
    for label, values in (("server start to initialize's answer", cold_rows["initialize"]),
                          ("didOpen to the first diagnostics", cold_rows["first diagnostics"]),
                          ("both: start to the first diagnostics", both),
                          (f"`netdsl check` on the {LINES}-line file, a fresh process (for comparison)", check)):
        first.add(label, len(values), median(values), percentile(values, 95), max(values))
    first.notes += [
        "the first run of each writes Python's bytecode caches and is not counted",
        f"a warm server's diagnostics after a valid edit against `netdsl check` in a fresh process: "
        f"{median(check) / median(rows['clean']):.1f}x faster (medians)",
    ]
    return [hot, first]


def where_the_time_goes(runs: int) -> Table:
    """What the server does on each change, `document.read`, step by step in this process (the
    same code, no protocol): each step timed alone over `runs` reads of the program as the warm
    diagnostics rows edit it, and the collector's full (generation 2) passes during those reads."""
    import gc

    from netdsl.dsl import analyse
    from netdsl.dsl.loader import build
    from netdsl.dsl.parser import parse
    from netdsl.editor import document

    text = program()
    position, digit, other = edit_sites(text, VALID_EDITS)[3]
    lines = text.splitlines(keepends=True)
    texts = [text, "".join(lines[:position.line] + [lines[position.line].replace(digit, other, 1)] + lines[position.line + 1:])]
    steps = {"tokenize (the editor's own tokens)": lambda t: document.tokenize(t),
             "tokenize + symbols (names and their uses)": lambda t: document.symbols(document.tokenize(t)),
             "parse (Lark, LALR)": lambda t: parse(t),
             "loads: parse + the specs + pydantic's validation": lambda t: build(t),
             "loads + analyse (shapes and counts)": lambda t: analyse(build(t)),
             "document.read: all of the above": lambda t: document.read(t)}
    took = {name: [] for name in steps}
    for i in range(runs + 2):  # two uncounted
        for name, step in steps.items():
            started = time.perf_counter()
            step(texts[i % 2])
            took[name].append((time.perf_counter() - started) * 1000)
    collections, started = [], [0.0]

    def note(phase, info):
        if info["generation"] == 2:
            if phase == "start":
                started[0] = time.perf_counter()
            else:
                collections.append((time.perf_counter() - started[0]) * 1000)

    gc.callbacks.append(note)
    try:
        for i in range(runs):
            document.read(texts[i % 2])
    finally:
        gc.callbacks.remove(note)
    table = Table(f"Where a change's time goes: document.read of the {LINES}-line program, in this process", ["step", "n", "median ms"])
    table.rows = [[name, runs, median(values[2:])] for name, values in took.items()]
    table.add(f"full garbage collections (generation 2) in {runs} reads", len(collections), median(collections))
    table.notes.append("each step timed alone, twice uncounted first; the garbage collections: during plain reads, after the steps")
    return table


def run(quick=False, samples=None, cold_runs=None, write=None):
    samples = samples or (20 if quick else 200)
    cold_runs = cold_runs or (2 if quick else 10)
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        (folder / "latency_200.net").write_text(program())
        rows = asyncio.run(warm(folder, samples))
        cold_rows = asyncio.run(cold(folder, cold_runs))
        check = check_times(folder / "latency_200.net", cold_runs)
    if write:
        Path(write).write_text(program())
    found = tables(rows, cold_rows, check, (load_before, os.getloadavg()[0]))
    return found + [where_the_time_goes(samples)]


def _arguments(p):
    p.add_argument("--samples", type=int, help="samples per warm row (default 200, 20 with --quick)")
    p.add_argument("--cold-runs", type=int, dest="cold_runs", help="fresh servers for the cold rows (default 10, 2 with --quick)")
    p.add_argument("--write", metavar="FILE", help="also write the 200-line program to FILE")


if __name__ == "__main__":
    script_main(run, __doc__.splitlines()[0], _arguments)
