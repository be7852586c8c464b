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


def test_cli_check_imports_only_what_check_needs():
    # A cold `netdsl check` (benchmarks/startup.py): no other command's module, nor the data sets',
    # nor importlib.resources's zipfile and tempfile for reading the grammar (those the interpreter
    # imported before netdsl, a site hook's, are not counted).
    out = subprocess.run(
        [sys.executable, "-c", "import sys\nbefore = set(sys.modules)\n"
         "from netdsl.pipelines.cli import main\nassert main(['check', 'examples/digits_cnn.net']) == 0\n"
         "print(' '.join(set(sys.modules) - before))"],
        capture_output=True, text=True, check=True, cwd=ROOT,
    ).stdout
    modules = set(out.splitlines()[-1].split())
    assert "netdsl.pipelines.commands.check" in modules and "netdsl.dsl.specs" in modules
    others = {m for m in modules if m.startswith("netdsl.pipelines.") and m not in (
        "netdsl.pipelines.cli", "netdsl.pipelines.commands", "netdsl.pipelines.commands.check", "netdsl.pipelines.errors")}
    assert not others
    assert not {"zipfile", "tempfile", "importlib.resources", "pandas", "rich", "numpy"} & modules


def test_cli_help_reads_no_program_machinery():
    # `netdsl --help` builds no specs and no parser: pydantic and lark stay unimported.
    modules = _modules_after(
        "from netdsl.pipelines.cli import main\n"
        "import contextlib, io\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    try:\n        main(['--help'])\n    except SystemExit:\n        pass"
    )
    assert "netdsl.pipelines.cli" in modules and "netdsl.pipelines.commands.search" in modules
    # The search and picture libraries load when their command runs, not to list the commands.
    assert not {"netdsl.pipelines.search", "netdsl.pipelines.search_workers", "netdsl.pipelines.figures"} & modules
    assert not {m for m in modules if m.split(".")[0] in ("pydantic", "lark", "tensorflow", "keras", "numpy")}


def test_the_parser_tables_are_cached_between_runs(tmp_path):
    # The LALR tables are computed once and read back by later processes (a faster cold start).
    env_code = "from netdsl.dsl import loads\nloads('net x\\ninput (2)\\ndense(1)\\n')"
    for _ in range(2):
        subprocess.run([sys.executable, "-c", env_code], check=True, cwd=ROOT,
                       env={**__import__("os").environ, "XDG_CACHE_HOME": str(tmp_path)})
    (cache,) = (tmp_path / "netdsl").iterdir()
    assert cache.name.startswith("grammar-") and cache.stat().st_size > 1000
