"""`netdsl.dsl` and the instant CLI commands must never import TensorFlow or Keras."""

import contextlib
import io
import subprocess
import sys

from conftest import ROOT
from netdsl.pipelines.cli import main


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


def _program(args: list[str], after: str) -> list[str]:
    """Run `main()` as the `netdsl` program runs it (from `sys.argv`), then print `after`'s value."""
    code = (
        "import gc, os, sys\nbefore = set(sys.modules)\nfrom netdsl.pipelines.cli import main\n"
        f"sys.argv = ['netdsl', *{args!r}]\nstatus = main()\n"
        f"print(repr({after}))"
    )
    env = {k: v for k, v in __import__("os").environ.items() if k != "PYDANTIC_DISABLE_PLUGINS"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT, env=env)
    return eval(out.stdout.splitlines()[-1])


def test_the_check_program_skips_plugin_lookup_regex_and_collections():
    # A cold `netdsl check` neither reads every distribution's entry points for pydantic plugins nor
    # imports `regex` for Lark, and runs without the garbage collector (cli._start_program)...
    imported, looked_up, collecting, plugins, status = _program(
        ["check", "examples/digits_cnn.net"],
        "(sorted({'regex'} & (set(sys.modules) - before)), sys.modules['pydantic.plugin._loader']._plugins, "
        "gc.isenabled(), os.environ.get('PYDANTIC_DISABLE_PLUGINS'), status)",
    )
    assert (imported, looked_up, collecting, plugins, status) == ([], None, False, "__all__", 0)


def test_the_check_program_defers_importlib_metadata_until_it_is_read():
    # pydantic's plugin loader imports importlib.metadata (and with it email, zipfile, csv, socket),
    # which a light command never reads (cli._import_lazily): none of them is run...
    deferred, loaded, status = _program(
        ["check", "examples/digits_cnn.net"],
        "(type(sys.modules['importlib.metadata']).__name__, sorted({'email', 'csv', 'socket'} & set(sys.modules)), status)",
    )
    assert (deferred, loaded, status) == ("_Deferred", [], 0)
    # ... and whoever reads it afterwards gets the whole module, by the name and by the object they hold
    read = _program(
        ["check", "examples/digits_cnn.net"],
        "(__import__('importlib.metadata').metadata.version('pydantic') == __import__('pydantic').VERSION, "
        "type(sys.modules['importlib.metadata']).__name__, "
        "sys.modules['pydantic.plugin._loader'].importlib_metadata.distributions is "
        "sys.modules['importlib.metadata'].distributions)",
    )
    assert read == (True, "module", True)


def test_a_training_command_imports_importlib_metadata_as_usual():
    assert _program(["fit", "no_such_file.net", "--data", "digits"],
                    "type(sys.modules.get('importlib.metadata')).__name__") in ("module", "NoneType")


def test_regex_stays_importable_after_the_check_program():
    import importlib.util

    if importlib.util.find_spec("regex") is None:
        return  # nothing hidden where it is not installed
    assert _program(["check", "examples/digits_cnn.net"], "__import__('regex').__name__") == "regex"


def test_training_commands_run_with_the_garbage_collector():
    # ... but a command that trains runs with it (hours of training would otherwise grow memory).
    assert _program(["fit", "no_such_file.net", "--data", "digits"], "(gc.isenabled(), status)") == (True, 1)


def test_main_called_from_python_changes_none_of_the_programs_settings():
    code = (
        "import gc, os, sys\nfrom netdsl.pipelines.cli import main\n"
        "assert main(['check', 'examples/digits_cnn.net']) == 0\n"
        "print(gc.isenabled(), os.environ.get('PYDANTIC_DISABLE_PLUGINS'), 'regex' in sys.modules or __import__('lark.utils').utils._has_regex == (__import__('importlib.util').util.find_spec('regex') is not None))"
    )
    env = {k: v for k, v in __import__("os").environ.items() if k != "PYDANTIC_DISABLE_PLUGINS"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT, env=env)
    assert out.stdout.splitlines()[-1].split() == ["True", "None", "True"]


def test_the_program_ends_a_light_command_at_once_with_its_output_and_status(tmp_path):
    """`program()` ends a light command's process with `os._exit`: its whole output must still come
    out, through a pipe and into a file, with the command's exit status, and atexit handlers of a
    heavy command's process still run (it ends through `sys.exit`)."""
    buffered = {k: v for k, v in __import__("os").environ.items() if k != "PYTHONUNBUFFERED"}  # as a pipe is
    bad = tmp_path / "bad.net"
    bad.write_text("net a\ninput (4)\ndnese(3)\n")
    shown = subprocess.run([sys.executable, "-m", "netdsl.pipelines.cli", "show", "examples/resnet_digits.net"],
                           capture_output=True, text=True, cwd=ROOT, env=buffered)
    direct = io.StringIO()
    with contextlib.redirect_stdout(direct):
        assert main(["show", "examples/resnet_digits.net"]) == 0
    assert shown.returncode == 0 and shown.stdout.strip().splitlines()[-1] == direct.getvalue().strip().splitlines()[-1]
    assert len(shown.stdout.splitlines()) == len(direct.getvalue().splitlines()) > 20
    wrong = subprocess.run([sys.executable, "-m", "netdsl.pipelines.cli", "check", str(bad)],
                           capture_output=True, text=True, cwd=ROOT, env=buffered)
    assert wrong.returncode == 1 and "unknown layer kind `dnese`" in wrong.stderr and wrong.stderr.endswith("\n")
    code = "import atexit, sys\natexit.register(print, 'handler ran')\nsys.argv = ['netdsl', 'explain', 'N201']\n" \
           "from netdsl.pipelines.cli import program\nprogram()"
    heavy = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, env=buffered)
    assert heavy.returncode == 0 and heavy.stdout.rstrip().endswith("handler ran")
