"""Golden files: the specs each valid program parses to, and the exact diagnostics of mistakes."""

import json

import pytest

from netdsl.dsl import NetError, analyse, dumps, load, loads

from conftest import DATA, EXAMPLES, check_golden

VALID = sorted((DATA / "valid").glob("*.net")) + EXAMPLES
INVALID = sorted((DATA / "invalid").glob("*.net"))


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.stem)
def test_valid_program_parses_to_golden_spec(path):
    net = load(path)
    golden = (DATA / "valid" / path.name).with_suffix(".json")
    check_golden(golden, json.dumps(net.model_dump(mode="json"), indent=1) + "\n")


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.stem)
def test_round_trip(path):
    net = load(path)
    text = dumps(net)
    assert loads(text) == net
    assert dumps(loads(text)) == text


@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.stem)
def test_invalid_program_gives_golden_diagnostics(path):
    text = path.read_text(encoding="utf-8")
    with pytest.raises(NetError) as caught:
        analyse(loads(text, filename=path.name))
    error = caught.value
    assert isinstance(error, ValueError)
    assert error.diagnostics, "a NetError always carries diagnostics"
    for diagnostic in error.diagnostics:
        assert diagnostic.span is not None, f"unlocated diagnostic: {diagnostic.title}"
        assert diagnostic.help, f"diagnostic without help: {diagnostic.title}"
    rendered = error.render()
    assert "Traceback" not in rendered
    for word in ("RPAR", "LPAR", "NAME", "_NL", "$END", "pydantic", "Input should"):
        assert word not in rendered, f"{word!r} leaked into a user-facing message"
    check_golden(path.with_suffix(".txt"), rendered + "\n")


def test_all_problems_are_reported_at_once():
    error = pytest.raises(NetError, loads, (DATA / "invalid" / "unknown_setting.net").read_text()).value
    assert [d.span.line for d in error.diagnostics] == [5, 6, 7, 8]
