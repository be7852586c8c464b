"""docs/language.md is generated from the specs: it must be current, complete, and its examples valid."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from netdsl.dsl import load, loads, specs
from netdsl.dsl.words import KEYWORDS
from netdsl.dsl.reference import COMMON_ARGUMENTS, render

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "language.md"
EXAMPLES = sorted((ROOT / "examples").glob("*.net"))


@pytest.fixture(scope="module")
def doc() -> str:
    return render()


def _section(doc: str, kind: str) -> str:
    """The text of the section headed `` `kind` `` (up to the next heading of any level)."""
    match = re.search(rf"^#+ `{re.escape(kind)}`\n(.*?)(?=^#)", doc, flags=re.M | re.S)
    assert match, f"no section for `{kind}` in docs/language.md"
    return match.group(1)


def test_language_doc_is_current(doc):
    current = DOC.read_text(encoding="utf-8") if DOC.exists() else ""
    assert current == doc, "docs/language.md is out of date: run `python scripts/gen_docs.py`"


def test_render_is_deterministic(doc):
    assert render() == doc
    # Also across processes with different hash seeds (sets of keywords must be sorted, not iterated).
    code = "import sys; from netdsl.dsl.reference import render; sys.stdout.buffer.write(render().encode('utf-8'))"
    for seed in ("1", "2"):
        env = dict(os.environ, PYTHONHASHSEED=seed)
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, check=True, cwd=ROOT)
        assert out.stdout.decode("utf-8") == doc


@pytest.mark.parametrize("kind", list(specs.LAYERS))
def test_every_layer_and_argument_is_documented(doc, kind):
    cls = specs.LAYERS[kind]
    section = _section(doc, kind)
    assert f"`{kind}(" in section or f"`{kind}`" in section
    for name in cls.model_fields:
        if name == "kind":
            continue
        if name in COMMON_ARGUMENTS:
            assert f"| `{name}` |" in doc, f"common argument `{name}` is not documented"
        else:
            assert f"| `{name}` |" in section, f"argument `{name}` of `{kind}` is not documented"


@pytest.mark.parametrize(
    "cls", [*specs.OPTIMIZERS.values(), *specs.CALLBACKS.values(), specs.L1, specs.L2, specs.L1L2]
)
def test_every_optimizer_callback_and_regularizer_is_documented(doc, cls):
    kind = cls.model_fields["kind"].default
    section = _section(doc, kind)
    for name in cls.model_fields:
        if name != "kind":
            assert f"| `{name}` |" in section, f"argument `{name}` of `{kind}` is not documented"


def test_training_settings_losses_metrics_and_reserved_names_are_documented(doc):
    for name in specs.Train.model_fields:
        assert f"| `{name}` |" in doc
    for word in (*specs.LOSSES, *specs.METRICS, *KEYWORDS, *specs.SETTING_NAMES):
        assert f"`{word}`" in doc


def test_grammar_is_included_verbatim(doc):
    grammar = (ROOT / "grammar" / "net.lark").read_text(encoding="utf-8")
    assert "```lark\n" + grammar.rstrip("\n") + "\n```" in doc


def test_code_examples_in_the_doc_load(doc):
    blocks = re.findall(r"^```net\n(.*?)^```", doc, flags=re.M | re.S)
    assert blocks
    for block in blocks:
        loads(block, "docs/language.md")


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_example_programs_load(path):
    net = load(path)
    assert net.layers


def test_examples_exist():
    assert EXAMPLES


def test_check_script(tmp_path):
    script = ROOT / "scripts" / "gen_docs.py"
    result = subprocess.run([sys.executable, str(script), "--check"], capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 0, result.stderr


def test_readme_program_checks():
    """The program shown at the top of the README is valid (shapes included)."""
    from netdsl.dsl import analyse, loads

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    program = readme.split("```net\n", 1)[1].split("```", 1)[0]
    assert program.startswith("net ")
    assert analyse(loads(program)).total_params > 0
