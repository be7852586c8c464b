"""What the editor offers at places a user reaches while typing (`netdsl.editor.features`): each
test is a gap found by trying the server as a user."""

from __future__ import annotations

from netdsl.dsl import specs
from netdsl.editor import document, features

HEAD = "net x\nparam width = 4\ninput image (8, 8, 1)\nflatten\nh = dense(2)\n"


def _labels(text: str) -> list[str]:
    """The completions at the end of `text`."""
    lines = text.split("\n")
    return [item.label for item in features.completions(document.read(text), len(lines), len(lines[-1]) + 1)]


def test_augment_offers_augmentations_only():
    assert set(_labels(HEAD + "augment {\n    ")) == set(specs.AUGMENTATION_KINDS)
    assert set(_labels(HEAD + "augment {\n    random_fl")) == set(specs.AUGMENTATION_KINDS)


def test_a_named_point_is_made_by_a_layer():
    labels = _labels(HEAD + "y = ")
    assert {"dense", "add", "identity"} <= set(labels) and "width" not in labels and "y" not in labels
    assert "dense" in _labels(HEAD + "repeat 2 {\n    y = ")


def test_list_settings_offer_their_values_after_each_comma():
    metrics = _labels(HEAD + "train {\n    metrics = [")
    assert "accuracy" in metrics and "dense" not in metrics
    assert _labels(HEAD + "train {\n    metrics = [accuracy, ")[:len(metrics)] == metrics[:len(metrics)]
    assert _labels(HEAD + "train {\n    h.metrics = [") == metrics  # one output's own
    callbacks = _labels(HEAD + "train {\n    callbacks = [early_stopping(patience=3), ")
    assert callbacks[:2] == ["early_stopping", "reduce_lr_on_plateau"] and "dense" not in callbacks


def test_settings_values_and_arguments_as_before():
    assert "sparse_categorical_crossentropy" in _labels(HEAD + "train {\n    loss = ")
    assert "patience=" in _labels(HEAD + "train {\n    callbacks = [early_stopping(")
    assert _labels(HEAD + "from ") == ["image", "h"]


def _hover(text: str, word: str, nth: int = 0) -> str | None:
    """The hover's markdown on the `nth` occurrence of `word` (its second character)."""
    at = -1
    for _ in range(nth + 1):
        at = text.index(word, at + 1)
    line = text.count("\n", 0, at) + 1
    found = features.hover(document.read(text), line, at - text.rfind("\n", 0, at) + 1)
    return None if found is None else found[0]


PROGRAM = HEAD + "conv2d(4, 3, padding=same, activation=relu)\nrepeat 2 {\n    dense(4)\n}\ntrain {\n    loss = mse\n    h.loss = mae\n}\n"


def test_hover_on_a_statement_is_its_section_of_the_language():
    assert _hover(PROGRAM, "input").startswith("### `input`\n\nOne sample's shape")
    assert _hover(PROGRAM, "repeat").startswith("### `repeat N { ... }`")
    assert _hover(PROGRAM, "train").startswith("### `train { key = value ... }`")
    assert "## " not in _hover(PROGRAM, "input")[4:]  # one section, not the rest of the document


def test_hover_on_a_value_is_what_its_argument_takes():
    assert _hover(PROGRAM, "same").startswith("`padding`: `valid` or `same`")
    assert _hover(PROGRAM, "relu").startswith("`activation`: an activation: relu, ")
    assert _hover(PROGRAM, "mse").startswith("`loss`: a loss:")
    assert _hover(PROGRAM, "mae").startswith("`loss`: a loss:")  # one output's own setting


def test_rename_refuses_a_name_that_breaks_the_program():
    """`trunk` renamed `train` no longer parses, a param renamed `relu` shadows a keyword (`check`
    says so): the editor says no before the edit, not after."""
    from pathlib import Path

    import pytest

    from netdsl.dsl import loads
    from netdsl.editor import navigation

    path = Path(__file__).resolve().parents[1] / "examples" / "two_heads.net"
    text = path.read_text()
    analysis = document.read(text)
    for name, new_name in [("trunk", "train"), ("trunk", "from"), ("filters", "relu"), ("filters", "epochs")]:
        where = analysis.symbols[name].definition
        with pytest.raises(navigation.RenameError, match=f"`{new_name}` "):
            navigation.rename(analysis, where.line, where.col, new_name)
    where = analysis.symbols["trunk"].definition
    edits = navigation.rename(analysis, where.line, where.col, "dense")  # a kind's name is fine for a point
    lines = text.split("\n")
    for span, new in sorted(edits, key=lambda edit: (edit[0].line, -edit[0].col)):
        lines[span.line - 1] = lines[span.line - 1][:span.col - 1] + new + lines[span.line - 1][span.end_col - 1:]
    assert loads("\n".join(lines)).outputs == ("digit", "even")  # still a program


def test_a_param_offers_the_search_ranges_after_in():
    labels = _labels(HEAD + "param rate = 0.1 in ")
    assert labels == ["uniform", "loguniform", "range"]
    assert "uniform" not in _labels(HEAD + "repeat units in ")  # a loop's list, not a range


def test_one_outputs_own_settings():
    assert _labels(HEAD + "train {\n    h.") == ["loss", "loss_weight", "metrics"]
    text = HEAD + "train {\n    h.loss_weight = 0.5\n    h.loss = mse\n}\n"
    assert _hover(text, "loss_weight").startswith("`loss_weight`: ") and "total loss" in _hover(text, "loss_weight")
    assert "This output's loss" in _hover(text, "loss =")


def test_output_offers_the_named_points():
    text = "net x\nparam width = 4\ninput image (4)\noutput "
    body = "\nh = dense(2)\nfrom image\ng = dense(1)\n"
    lines = (text + body).split("\n")
    analysis = document.read(text + body)
    assert [i.label for i in features.completions(analysis, 4, 8)] == ["h", "g"]
    analysis = document.read(text + "h, " + body)
    assert [i.label for i in features.completions(analysis, 4, len(lines[3]) + 4)] == ["h", "g"]


def _renamed(path_name: str, name: str, new_name: str, use: int = 0, change=lambda text: text) -> str:
    """The text of a program (changed by `change` first) after renaming `name` from its `use`-th occurrence."""
    from pathlib import Path

    from netdsl.editor import navigation

    text = change((Path(__file__).resolve().parents[1] / path_name).read_text())
    analysis = document.read(text)
    where = analysis.symbols[name].uses[use]
    lines = text.split("\n")
    for span, new in sorted(navigation.rename(analysis, where.line, where.inner.col, new_name),
                            key=lambda edit: (edit[0].line, -edit[0].col)):
        lines[span.line - 1] = lines[span.line - 1][:span.col - 1] + new + lines[span.line - 1][span.end_col - 1:]
    return "\n".join(lines)


def test_rename_an_output_with_its_own_settings():
    """`digit` in two_heads.net: its layer, `output digit, even` and `digit.loss`/`digit.metrics`."""
    from netdsl.dsl import loads

    text = _renamed("examples/two_heads.net", "digit", "number", use=3)  # from `digit.metrics`
    net = loads(text)
    assert net.outputs == ("number", "even") and "digit" not in text.replace("# the digit", "").split("\nnet ")[1]
    assert set(net.train.outputs) == {"number", "even"}


def test_rename_a_merged_point_and_a_named_layer():
    from netdsl.dsl import loads

    text = _renamed("tests/data/valid/graph_merges.net", "s", "total", use=2)
    assert "m = average(total, d, p)" in text and "hi = maximum(total, m)" in text
    assert loads(text)
    text = _renamed("examples/digits_finetune.net", "head", "top", use=1,  # from unfreeze's "head"
                    change=lambda text: text.replace('unfreeze("conv_*"', 'unfreeze("head"'))
    assert 'name="top")' in text and 'unfreeze("top", ' in text and '"head"' not in text


def test_no_completion_in_comments_and_strings():
    """A space is a trigger character: typing prose in a comment or a name in quotes must not pop
    up the layer kinds at every word."""
    assert _labels(HEAD + "# the next layer ") == []
    assert _labels(HEAD + "dense(4)  # four ") == []
    assert _labels(HEAD + 'dense(4, name="my ') == []
    assert "activation=" in _labels(HEAD + 'dense(4, name="my", ')  # after the string, as before


def test_no_completion_where_a_new_name_or_nothing_comes():
    """`param |`, `net |`: the user invents a name; `dense(4) |`: the line is whole. A list of layer
    kinds there is accepted by the next Enter."""
    assert _labels(HEAD + "param ") == [] and _labels("net ") == []
    assert _labels(HEAD + "input ") == ["text"]
    assert _labels(HEAD + "dense(4) ") == []
    assert "units=" in _labels(HEAD + "dense(time_distributed(dense(4)), ")  # inside, as before


def test_a_layer_inside_a_layer():
    assert _labels(HEAD + "bidirectional(")[:3] == ["simple_rnn", "lstm", "gru"]
    assert "units=" not in _labels(HEAD + "bidirectional(")[:3]
    labels = _labels(HEAD + "time_distributed(layer=")
    assert "dense" in labels and "conv2d" in labels
    assert "units=" in _labels(HEAD + "dense(") and "lstm" not in _labels(HEAD + "dense(")  # as before
