"""The Examples in docstrings are executed, so they cannot go stale."""

import doctest
import importlib

import pytest

from conftest import ROOT

MODULES = [
    "netdsl.dsl",
    "netdsl.dsl.shapes",
    "netdsl.estimators.classifier",
    "netdsl.estimators.regressor",
    "netdsl.estimators.transformer",
    "netdsl.pipelines.augment",
    "netdsl.pipelines.search",
    "netdsl.pipelines.series",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name, monkeypatch):
    monkeypatch.chdir(ROOT)  # examples refer to examples/*.net
    module = importlib.import_module(name)
    failures, tried = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert tried > 0, f"{name} has no examples"
    assert failures == 0
