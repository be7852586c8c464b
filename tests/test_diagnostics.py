"""Diagnostic codes: the catalogue (netdsl.dsl.codes) is complete and consistent, each entry's example
gets exactly its code, every diagnostic the project makes carries a code, docs/diagnostics.md is
current and `netdsl explain` prints each entry."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from netdsl.dsl import NetError, analyse, load, loads
from netdsl.dsl.codes import CODES, FAMILIES, STAGES, explain, lookup, suggest
from netdsl.dsl.codes.doc import markdown
from netdsl.dsl.errors import Diagnostic, NetdslError, Span

from conftest import DATA, EXAMPLES

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "diagnostics.md"
ENTRIES = [entry for _, entries in FAMILIES for entry in entries]
CHECKED = [entry for entry in ENTRIES if entry.stage == "check" and entry.example_language == "net"]
# The N codes whose minimal example cannot be checked from the program alone, and why: the stage
# says when they are found ("fit": with the data, or with a real saved net or vectors file).
NOT_CHECKED_HERE = {
    "N101": "the example is a missing file", "N102": "a 32 MiB file", "N103": "a file with a non-UTF-8 byte",
    "N104": "a file that cannot be written",
}


# ---- the catalogue ---------------------------------------------------------------------------


def test_codes_are_unique_and_well_formed():
    assert len(CODES) == len(ENTRIES), "two entries share a code"
    assert len({entry.name for entry in ENTRIES}) == len(ENTRIES), "two entries share a name"
    for entry in ENTRIES:
        assert re.fullmatch(r"[NCDESMVTP]\d{3}", entry.code), entry.code
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", entry.name), entry.name
        assert entry.stage in STAGES, entry.code
        assert entry.example_language in ("net", "console", "python"), entry.code
        assert (entry.summary[0].isupper() or entry.summary[0] == "`") and not entry.summary.endswith("."), f"{entry.code}: terse title"
        assert entry.meaning.endswith(".") and entry.fix.endswith((".", ")", "`")), entry.code
        assert entry.example, f"{entry.code} has no example"


def test_families_hold_their_codes():
    digit = {family: str(i + 1) for i, (family, _) in enumerate(FAMILIES[:-1])}
    for family, entries in FAMILIES[:-1]:
        for entry in entries:
            assert entry.code[0] == "N" and entry.code[1] == digit[family], (family, entry.code)
    assert all(entry.code[0] != "N" for entry in FAMILIES[-1][1])
    assert [entry.code for entry in ENTRIES if entry.code[0] == "N"] == sorted(c for c in CODES if c[0] == "N")


def test_every_program_code_has_a_checked_example_or_says_why_not():
    for entry in ENTRIES:
        if entry.code[0] != "N" or entry.stage != "check":
            continue
        assert entry in CHECKED or entry.code in NOT_CHECKED_HERE, f"{entry.code}: no example the tests check"


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> Path:
    """A folder with the files the N6xx examples name: the bases of tests/data/finetune and a file
    of 50-dimensional word vectors."""
    import shutil

    folder = tmp_path_factory.mktemp("examples")
    for base in (DATA / "finetune").glob("*.keras"):
        shutil.copy(base, folder / base.name)
    rows = [f"{word} " + " ".join(["0.1"] * 50) for word in ("the", "movie", "good")]
    (folder / "glove.6B.50d.txt").write_text("\n".join(rows) + "\n", encoding="utf-8")
    return folder


@pytest.mark.parametrize("entry", CHECKED, ids=lambda e: e.code)
def test_example_gets_exactly_its_code(entry, files):
    with pytest.raises(NetError) as caught:
        analyse(loads(entry.example, filename=str(files / "example.net")), params=entry.params or None)
    assert [d.code for d in caught.value.diagnostics] == [entry.code] * len(caught.value.diagnostics)


def test_fit_examples_get_their_codes():
    """The examples found when fitting, fitted on the data their last line describes."""
    import numpy as np

    from netdsl.estimators import NetClassifier, NetRegressor, NetTransformer, TrainingDiverged

    X, y = np.random.RandomState(0).rand(6, 4), np.array([0, 1, 2, 0, 1, 2])
    ids, targets = np.array([[1, 5, 50, 3]] * 6, dtype=float), np.linspace(0, 1, 6)
    fits = {
        "N701": lambda net: NetClassifier(net, epochs=1).fit(X, y),
        "N702": lambda net: NetRegressor(net, epochs=1).fit(ids, targets),
        "N703": lambda net: NetClassifier(net, epochs=1).fit(X, y),
        "N704": lambda net: NetTransformer(net).fit(X),
    }
    for code, fit in fits.items():
        with pytest.raises(NetError) as caught:
            fit(CODES[code].example)
        assert [d.code for d in caught.value.diagnostics] == [code]
    unscaled = np.random.RandomState(0).rand(32, 4) * 100
    with pytest.raises(TrainingDiverged) as diverged:
        NetRegressor(CODES["T101"].example, epochs=3, verbose=0).fit(unscaled, unscaled.sum(axis=1) * 1000)
    assert diverged.value.code == "T101"


def test_lookup_and_suggest():
    assert lookup("n201") is CODES["N201"] and lookup(" N201 ") is CODES["N201"]
    assert lookup("N999") is None
    assert suggest("N2O1") == "N201"  # a letter O for a zero
    assert suggest("unknown-argument") == "N204"
    assert suggest("unknown-argumnt") == "N204"
    assert suggest("N299") == "N209"
    assert suggest("banana") is None


@pytest.mark.parametrize("code", sorted(CODES))
def test_explain_prints_the_whole_entry(code):
    entry = CODES[code]
    text = explain(code.lower())
    assert text.startswith(f"{code} ({entry.name}): {entry.summary}\n")
    words = " ".join(text.split())
    assert entry.meaning in words and f"Fix: {entry.fix}" in words
    assert max(len(line) for line in text.splitlines() if not line.startswith("    ")) <= 100
    for line in entry.example.splitlines():
        assert line.strip() in text


def test_explain_of_an_unknown_code_is_a_key_error():
    with pytest.raises(KeyError):
        explain("N999")


# ---- every diagnostic carries a code ---------------------------------------------------------


def test_diagnostic_refuses_a_missing_or_unknown_code():
    with pytest.raises(ValueError, match="unknown diagnostic code 'N999' for 'a title'"):
        Diagnostic("a title", code="N999")
    with pytest.raises(TypeError, match="code"):
        Diagnostic("a title", Span(1, 1, 1, 2), help="fix it")  # noqa: the point of the test
    assert Diagnostic("a title", Span(1, 1, 1, 2), code="N201").render("x\n", "f.net").startswith("f.net:1:1: error[N201]: a title")
    assert Diagnostic("a title", code="N101").render("", "f.net") == "f.net: error[N101]: a title"


@pytest.mark.parametrize("path", sorted((DATA / "invalid").glob("*.net")), ids=lambda p: p.stem)
def test_golden_mistakes_carry_codes(path):
    with pytest.raises(NetError) as caught:
        analyse(loads(path.read_text(encoding="utf-8"), filename=path.name))
    for diagnostic in caught.value.diagnostics:
        assert diagnostic.code in CODES, f"{path.name}: no code for {diagnostic.title!r}"
    golden = path.with_suffix(".txt").read_text(encoding="utf-8")
    assert not re.search(r"(?m)^\S+: error: ", golden), f"{path.name}: a golden line without a code"


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_examples_check_clean(path):
    analyse(load(path))  # the examples get no diagnostic at all (a new one would need a code)


# Calls that make a diagnostic, and where their code goes: a keyword `code=` (Diagnostic, a
# source's `located`), or the first argument of the helpers that take the code first (the loader's
# `_problem`, the shape walk's `Problem` and `note`, `fail` and `problem` helpers): a literal code
# or a name passing one on (`error.code`).
_KEYWORD = {"Diagnostic", "located"}
_FIRST = {"_problem", "Problem", "note", "fail", "problem"}


def _call_name(call: ast.Call) -> str | None:
    func = call.func
    return func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else None


def _project_modules():
    for folder in ("dsl", "estimators", "pipelines"):
        yield from sorted((ROOT / folder).rglob("*.py"))


def _uncoded_calls(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    # Only the module's own helpers of those names (a `note` of another library is not one).
    defined = {node.name for node in ast.walk(tree) if isinstance(node, (ast.FunctionDef, ast.ClassDef))}
    defined |= {alias.asname or alias.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
                for alias in node.names if alias.name in ("Problem", "Diagnostic")}
    said = {alias.asname or alias.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
            and node.module == "netdsl.pipelines.commands.common" for alias in node.names}
    said |= {"error"} & defined if path.name == "common.py" else set()
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = _call_name(node)
        where = f"{path.relative_to(ROOT)}:{node.lineno}: {name}(...)"
        if name in _FIRST and (name in defined or name == "note"):
            first = node.args[0] if node.args else None
            literal = isinstance(first, ast.Constant) and isinstance(first.value, str)
            if not (literal and re.fullmatch(r"[NCDESMVTP]\d{3}", first.value)
                    or isinstance(first, (ast.Name, ast.Attribute, ast.Subscript))):
                found.append(f"{where} without a code as its first argument")
        elif name in _KEYWORD and not any(k.arg == "code" or k.arg is None for k in node.keywords):
            found.append(f"{where} without code=")
        elif name == "error" and "error" in said and not (
            any(k.arg == "code" for k in node.keywords) or node.args and isinstance(node.args[0], ast.Name)
        ):  # the command line's `netdsl: error[CODE]: ...`: a message with its code, or an error carrying one
            found.append(f"{where} says a message without code=")
    return found


def test_every_diagnostic_call_site_passes_a_code():
    uncoded = [line for path in _project_modules() for line in _uncoded_calls(path)]
    assert not uncoded, "diagnostics made without a code (see netdsl.dsl.codes):\n" + "\n".join(uncoded)


def test_every_literal_code_in_the_project_is_in_the_catalogue():
    for path in _project_modules():
        if "codes" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and re.fullmatch(r"[NCDESMVTP]\d{3}", node.value):
                assert node.value in CODES, f"{path.relative_to(ROOT)}:{node.lineno}: unknown code {node.value}"


def test_every_error_class_carries_a_code():
    """A class deriving from NetdslError (NetError excepted: it carries a code per diagnostic)
    sets `code`, or derives from a class that does."""
    classes: dict[str, tuple[list[str], str | None, str]] = {}
    for path in _project_modules():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef):
                bases = [b.id if isinstance(b, ast.Name) else getattr(b, "attr", "") for b in node.bases]
                code = next((s.value.value for s in node.body if isinstance(s, ast.Assign)
                             and any(getattr(t, "id", None) == "code" for t in s.targets)
                             and isinstance(s.value, ast.Constant)), None)
                classes[node.name] = (bases, code, str(path.relative_to(ROOT)))

    def family(name, seen=()):
        bases, code, _ = classes.get(name, ([], None, ""))
        if code is not None or name in seen:
            return code
        return next((c for b in bases if b in classes and (c := family(b, seen + (name,))) is not None), None)

    def is_error(name, seen=()):
        bases = classes.get(name, ([], None, ""))[0]
        return "NetdslError" in bases or any(is_error(b, seen + (name,)) for b in bases if b in classes and b not in seen)

    errors = [name for name in classes if is_error(name) and name != "NetError"]
    assert errors, "no error classes found"
    for name in errors:
        code = family(name)
        assert code in CODES, f"{name} ({classes[name][2]}) carries no code of the catalogue"
    assert NetdslError.code is None


# ---- docs/diagnostics.md ---------------------------------------------------------------------


def test_diagnostics_doc_is_current():
    current = DOC.read_text(encoding="utf-8") if DOC.exists() else ""
    assert current == markdown(), "docs/diagnostics.md is out of date: run `python scripts/gen_docs.py`"


def test_doc_lists_every_code():
    text = markdown()
    for code in CODES:
        assert f"\n### {code}\n" in text


# ---- `netdsl explain` ------------------------------------------------------------------------


@pytest.mark.parametrize("code", sorted(CODES))
def test_netdsl_explain_prints_each_entry(code, capsys):
    from netdsl.pipelines.cli import main

    assert main(["explain", code]) == 0
    assert capsys.readouterr().out == explain(code)


def test_netdsl_explain_takes_the_code_as_shown(capsys):
    from netdsl.pipelines.cli import main

    assert main(["explain", "error[n201]"]) == 0
    assert capsys.readouterr().out == explain("N201")


@pytest.mark.parametrize("word, line", [
    ("N2O1", "netdsl: error[C101]: unknown diagnostic code `N2O1`; did you mean `N201`? docs/diagnostics.md lists them all\n"),
    ("N999", "netdsl: error[C101]: unknown diagnostic code `N999`; docs/diagnostics.md lists them all\n"),
    ("banana", "netdsl: error[C101]: unknown diagnostic code `banana`; docs/diagnostics.md lists them all\n"),
])  # fmt: skip
def test_netdsl_explain_of_an_unknown_code(word, line, capsys):
    from netdsl.pipelines.cli import main

    assert main(["explain", word]) == 2
    captured = capsys.readouterr()
    assert (captured.out, captured.err) == ("", line)


def test_netdsl_explain_does_not_import_tensorflow():
    import subprocess
    import sys

    code = (
        "import sys; from netdsl.pipelines.cli import main; assert main(['explain', 'N301']) == 0; "
        "assert not [m for m in sys.modules if m.startswith(('tensorflow', 'keras', 'sklearn'))], 'heavy imports'"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("N301 (wrong-rank): ")


@pytest.mark.parametrize("argv, message", [
    (["check"], "the following arguments are required: FILE"),
    (["show", "x.net", "--features", "abc"], "argument --features: invalid int value: 'abc'"),
    (["--bogus"], "unrecognized arguments: --bogus"),
])
def test_usage_errors_carry_their_code(argv, message, capsys):
    from netdsl.pipelines.cli import main

    assert main(argv) == 2  # returned to a Python caller, not raised
    assert re.search(r"^netdsl( \w+)?: error\[C101\]: " + re.escape(message) + "$", capsys.readouterr().err, re.M)
