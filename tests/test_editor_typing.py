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
