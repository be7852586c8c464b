"""One fit does each thing once: the `.net` file is read once and the program validated once.

The counts are taken by wrapping what does the work (Python's `open` on the file, pydantic's
`model_validate` on `specs.Net`), not the project's own functions, so that moving code between
modules cannot hide a second read or a second validation.
"""

from __future__ import annotations

import builtins
import io
from pathlib import Path

import numpy as np
import pytest

from netdsl.dsl import NetError, specs

from conftest import user_error

# A `param`, a `train` block and a `freeze`: each of them was a reason to read or validate again.
PROGRAM = """net counted
param width = 8
dense(width, activation=relu, name="hidden")
dense(n_classes, activation=softmax)
train {
    epochs = 1
    freeze = ["hidden"]
}
"""


@pytest.fixture
def counts(monkeypatch):
    """Reads of files ({resolved path: count}) and `model_validate` calls on `specs.Net`."""
    seen = {"reads": {}, "validations": 0}

    def counted_open(file, *args, **kwargs):
        if isinstance(file, (str, Path)):
            key = str(Path(file).resolve())
            seen["reads"][key] = seen["reads"].get(key, 0) + 1
        return real_open(file, *args, **kwargs)

    real_open = builtins.open
    monkeypatch.setattr(builtins, "open", counted_open)
    monkeypatch.setattr(io, "open", counted_open)  # what pathlib's read_text and read_bytes call

    real_validate = specs.Net.model_validate.__func__

    def counted_validate(cls, *args, **kwargs):
        if cls is specs.Net:
            seen["validations"] += 1
        return real_validate(cls, *args, **kwargs)

    monkeypatch.setattr(specs.Net, "model_validate", classmethod(counted_validate))
    return seen


@pytest.mark.parametrize("path_type", [str, Path])
def test_one_fit_of_a_net_file_reads_it_once_and_validates_it_once(tmp_path, counts, path_type):
    from netdsl.estimators import NetClassifier

    file = tmp_path / f"counted_{path_type.__name__}.net"  # a new file name: no earlier parse is reused
    file.write_text(PROGRAM)
    X = np.random.default_rng(0).normal(size=(24, 4)).astype("float32")
    y = np.arange(24) % 3
    clf = NetClassifier(path_type(file), random_state=0)
    counts["reads"].clear()
    counts["validations"] = 0
    clf.fit(X, y)
    reads = counts["reads"].get(str(file.resolve()), 0)
    assert (reads, counts["validations"]) == (1, 1), "(reads of the file, validations of the program)"
    assert clf.predict(X).shape == (24,)


def test_a_spec_given_as_net_is_used_as_it_is(counts):
    """A `Net` spec is neither written out as text nor parsed again: no validation at all."""
    from netdsl.dsl import loads
    from netdsl.estimators import NetClassifier

    spec = loads(PROGRAM.replace("net counted", "net counted_spec"))
    X = np.random.default_rng(1).normal(size=(24, 4)).astype("float32")
    y = np.arange(24) % 3
    clf = NetClassifier(spec, random_state=0)
    counts["validations"] = 0
    clf.get_params()
    clf.fit(X, y)
    assert counts["validations"] == 0
    assert clf.spec_.name == "counted_spec"


def test_one_fit_analyses_once_even_when_the_fast_path_restarts_a_cached_model(tmp_path, monkeypatch):
    """The analysis (shapes, layer names) made for the checks is the one the model is built from;
    a refit on the fast path restarts the cached model with it too (no analysis per build)."""
    from netdsl.dsl.shapes import Summary
    from netdsl.estimators import NetClassifier

    made = []
    real_init = Summary.__init__
    monkeypatch.setattr(Summary, "__init__", lambda self, *a, **k: (made.append(1), real_init(self, *a, **k))[1])
    file = tmp_path / "analysed.net"
    file.write_text(PROGRAM.replace("net counted", "net analysed"))
    X = np.random.default_rng(2).normal(size=(24, 4)).astype("float32")
    y = np.arange(24) % 3
    clf = NetClassifier(file, random_state=0)
    for _ in range(3):  # a new model, then restarts of the cached one
        made.clear()
        clf.fit(X, y)
        assert len(made) == 1
    assert clf.training_path_ == "fast"


def test_a_spec_built_in_code_is_written_out_once_for_located_errors():
    """A spec with no source text of its own (built in code) still gets located errors: it is
    written out and read back once, as `<spec>`, not at each lookup."""
    from netdsl.dsl import loads
    from netdsl.estimators import NetClassifier

    bare = specs.Net.model_validate(loads("dense(3, activation=relu)\n").model_dump())
    assert bare.source.text == ""
    clf = NetClassifier(bare, epochs=1)
    assert clf.get_params()["net"] is bare
    X, y = np.zeros((6, 4), dtype="float32"), np.arange(6) % 3
    with user_error(NetError, match=r"<spec>:\d+:1: error(\[\w+\])?: the last layer .* must end in `softmax`") as raised:
        clf.fit(X, y)
    assert "dense(3, activation=relu)" in str(raised.value)
