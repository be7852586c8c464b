"""`netdsl.dsl` and the instant CLI commands must never import TensorFlow or Keras."""

import subprocess
import sys

from conftest import ROOT


def _modules_after(code: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", code + "\nimport sys; print(' '.join(sys.modules))"],
        capture_output=True, text=True, check=True, cwd=ROOT,
    ).stdout
    return set(out.split())


def test_dsl_does_not_import_tensorflow():
    modules = _modules_after(
        "import netdsl.dsl as d\n"
        "n = d.load('examples/digits_cnn.net'); d.analyse(n); d.dumps(n)\n"
        "d.format_source(open('examples/edge_detector.net').read())"
    )
    assert "netdsl.dsl" in modules
    assert not {m for m in modules if m.split(".")[0] in ("tensorflow", "keras")}


def test_cli_check_does_not_import_tensorflow():
    modules = _modules_after(
        "from netdsl.pipelines.cli import main\nmain(['check', 'examples/digits_cnn.net'])"
    )
    assert "netdsl.pipelines.cli" in modules
    assert not {m for m in modules if m.split(".")[0] in ("tensorflow", "keras")}
