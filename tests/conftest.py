"""Shared test helpers: paths and golden files (set NETDSL_UPDATE_GOLDEN=1 to rewrite them)."""

import contextlib
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
EXAMPLES = sorted((ROOT / "examples").glob("*.net"))
UPDATE_GOLDEN = os.environ.get("NETDSL_UPDATE_GOLDEN") == "1"

@pytest.fixture(scope="module")
def iris():
    """scikit-learn's iris, standardised, as float32 (what a net computes in)."""
    from sklearn.datasets import load_iris
    from sklearn.preprocessing import StandardScaler

    X, y = load_iris(return_X_y=True)
    return StandardScaler().fit_transform(X).astype("float32"), y


# A tiny classifier for command-line tests (`tiny`: written to a file).
TINY = "net tiny\ndense(16, activation=relu)\ndense(n_classes, activation=softmax)\ntrain {\n    epochs = 2\n}\n"


@pytest.fixture
def tiny(tmp_path):
    path = tmp_path / "tiny.net"
    path.write_text(TINY)
    return path


@pytest.fixture
def fresh_fast_cache(monkeypatch):
    """The fast path on (whatever NETDSL_FAST_PATH says) with an empty model cache, emptied again
    after the test: each test's fits build their own models."""
    import gc

    from netdsl.estimators import fast

    monkeypatch.delenv("NETDSL_FAST_PATH", raising=False)
    fast.clear_cache()
    gc.collect()
    yield
    fast.clear_cache()


@contextlib.contextmanager
def user_error(expected=ValueError, match: str | None = None):
    """`pytest.raises(expected, match=match)` for a user's mistake, which must also be a
    `netdsl.dsl.NetdslError` (so that a script can catch every netdsl error at once) with a code."""
    from netdsl.dsl import NetdslError

    with pytest.raises(expected, match=match) as caught:
        yield caught
    assert isinstance(caught.value, NetdslError), f"{type(caught.value).__name__} is not a NetdslError: {caught.value}"
    assert getattr(caught.value, "code", None) or getattr(caught.value, "diagnostics", None), "no code"


def in_two_threads(fitted, runs: list, parts=([0, 1], [2, 3])) -> dict:
    """`fitted(*runs[i])` for each index of `parts`, each part in a thread of its own: the results
    by index (a thread's error fails the test)."""
    import threading

    together, errors = {}, []

    def work(indexes):
        try:
            for i in indexes:
                together[i] = fitted(*runs[i])
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=work, args=(part,)) for part in parts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=240)
    assert not errors, errors
    return together


def check_golden(path: Path, actual: str) -> None:
    """Compare `actual` with the golden file at `path` (written when updating or missing)."""
    if UPDATE_GOLDEN or not path.exists():
        if not UPDATE_GOLDEN:
            pytest.fail(f"golden file {path.name} is missing; run with NETDSL_UPDATE_GOLDEN=1 to create it")
        path.write_text(actual, encoding="utf-8")
        return
    assert actual == path.read_text(encoding="utf-8"), f"output differs from {path.name}"


# CI runs the property tests on a fixed set of examples (a failure there is then reproducible and
# never a matter of luck); local runs keep exploring new ones.
from hypothesis import settings as _hypothesis_settings  # noqa: E402

_hypothesis_settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    _hypothesis_settings.load_profile("ci")
