"""The `netdsl` command line: `main` and the list of its commands.

Each command is a module of `netdsl.pipelines.commands` with `register(subparsers)` and
`run(args) -> int` (see that package); `main` builds the parser from `COMMANDS`, runs the chosen
command and turns the errors a user can meet into messages and exit statuses. Nothing here or in
the command modules imports TensorFlow, scikit-learn or NumPy at import time: `check`, `fmt`, `show`
and `--help` start instantly, and the commands that train import what they need when they run.
A command line that names its command (`netdsl check FILE...`) imports that command's module
alone: the others' imports (the data sets, the estimators' options) are no part of a cold `check`.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import os
import sys

from netdsl.dsl import NetError
from netdsl.pipelines.errors import DataError

# The subcommands, in the order `netdsl --help` lists them: modules of netdsl.pipelines.commands. To
# add one, write a module with `register(subparsers)` and `run(args)` there and list its name here.
COMMANDS = ("check", "fmt", "show", "fit", "predict", "export", "search", "plot", "import_model", "explain", "lsp")
# A command whose name is not its module's (`import` is a Python keyword).
MODULES = {"import": "import_model"}


def main(argv: list[str] | None = None) -> int:
    """Run `netdsl ARGV...` and return its exit status. Without `argv` this is the `netdsl` program
    itself (its console script, `python -m netdsl.pipelines.cli`): it reads `sys.argv`, and the
    process ends when it returns."""
    if argv is None:
        _start_program()
        try:
            code = _run(sys.argv[1:], program=True)
        finally:
            # The process ends next: frozen objects are left out of the garbage collections of the
            # interpreter's shutdown, which would otherwise walk every schema, spec class and parser
            # table the run made, a large part of a cold `netdsl check` (benchmarks/README.md).
            gc.freeze()
        return code
    try:
        return _run(list(argv))
    except SystemExit as stopped:  # argparse's usage errors and `--help`: a Python caller gets the status
        return stopped.code if isinstance(stopped.code, int) else 0 if stopped.code is None else 1


def program() -> None:
    """The `netdsl` program (its console script, `python -m netdsl.pipelines.cli`): `main()`, then
    the process ends. A light command's ends at once, its output flushed: the interpreter's shutdown
    would only take apart the modules, spec classes and parser tables it made (~10 ms of a cold
    `check`), and a light command starts no thread and registers nothing to run at exit."""
    code = main()
    if not _light:
        sys.exit(code)
    for stream in (sys.stdout, sys.stderr):
        try:
            if not stream.closed:
                stream.flush()
        except (BrokenPipeError, ValueError):
            code = code or 1
    os._exit(code)


# The commands that read a few `.net` files and end (no data, no training): the program runs them
# without the garbage collector (see `_start_program`).
LIGHT_COMMANDS = ("check", "fmt", "show")
_light = False  # whether the program runs a light command (set by `_settle`)
_program = False  # whether this process is the `netdsl` program (set by `_start_program`), not a Python caller's


def is_program() -> bool:
    """Whether this process is the `netdsl` program, whose process-wide settings (matplotlib's
    backend) a command may choose; a Python caller's `main(argv)` keeps the caller's."""
    return _program


def _start_program() -> None:
    """Settings of the `netdsl` program's own process, made before anything is imported (a Python
    caller's `main(argv)` never makes them: its process is the caller's). Each is part of a cold
    `netdsl check` (benchmarks/README.md, "Start-up"):

    - The garbage collector is paused: the spec classes, validators and parser tables made at start
      are tens of thousands of objects that collections walk again and again (~8 ms), and a light
      command makes few reference cycles before it ends. `_settle` starts it again for the other
      commands, which train and may run for hours.
    - pydantic looks for plugins of every installed distribution (importlib.metadata reads each
      one's entry points) the first time it builds a validator: ~25 ms on this machine. The program
      validates netdsl's own specs only, which no plugin observes, so it sets
      `PYDANTIC_DISABLE_PLUGINS` (unless the environment sets it); the processes it starts inherit it.
    """
    global _program
    _program = True
    gc.disable()
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")


def _settle(command: str | None) -> None:
    """The rest of `_start_program`, once the command is known. A light command imports Lark with
    the third-party `regex` module hidden (importable again right after): Lark imports it wherever
    it is installed (~8 ms), to offer it to grammars that ask for it, and netdsl's does not. The
    others run with the garbage collector."""
    global _light
    _light = command in LIGHT_COMMANDS
    if command not in LIGHT_COMMANDS:
        gc.enable()
        return
    if "lark" not in sys.modules and "regex" not in sys.modules:
        sys.modules["regex"] = None  # `import regex` raises ImportError while this entry is None
        try:
            importlib.import_module("lark")
        finally:
            del sys.modules["regex"]
    if os.environ.get("PYDANTIC_DISABLE_PLUGINS") in _PLUGINS_OFF:
        _import_lazily("importlib.metadata")


# The values of PYDANTIC_DISABLE_PLUGINS with which pydantic's plugin loader never reads the
# installed distributions (pydantic/plugin/_loader.py, `get_plugins`).
_PLUGINS_OFF = ("__all__", "1", "true")


def _import_lazily(name: str) -> None:
    """Put a stand-in for module `name` in `sys.modules` that imports the module the first time one
    of its attributes is read, and from then on is it (`_Deferred`).

    Why `importlib.metadata`: pydantic's plugin loader imports it at its top, the first time a
    validator is built, and with plugins off never reads it; its own imports (email, zipfile, csv,
    socket) are ~10 ms of a cold `check` that nothing else of a light command needs. Whoever reads
    it later gets the whole module, as if it had been imported at the start."""
    import importlib.util

    if name in sys.modules:
        return
    spec = importlib.util.find_spec(name)
    if spec is None:
        return
    sys.modules[name] = stand_in = _Deferred(name, spec)
    parent, _, child = name.rpartition(".")
    if parent:  # as an import does: `import importlib.metadata` then `importlib.metadata.version(...)`
        setattr(sys.modules[parent], child, stand_in)


class _Deferred(type(sys)):
    """A module not imported yet: `import` statements find it (its `__spec__` is the real one's),
    and reading any other attribute imports the real module into it. (Python's own
    `importlib.util.LazyLoader` runs the module at the next `import` statement, which reads its
    `__spec__`: pydantic's `import importlib.metadata` would.)"""

    def __init__(self, name: str, spec):
        super().__init__(name)
        self.__spec__ = spec

    def __getattr__(self, attribute: str):
        name = self.__name__
        if sys.modules.get(name) is self:
            del sys.modules[name]
        module = importlib.import_module(name)
        self.__dict__.update(module.__dict__)
        return getattr(module, attribute)


def _run(argv: list[str], program: bool = False) -> int:
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    if program:
        _settle(getattr(args, "command", None))
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    try:
        code = args.run(args)
        if not sys.stdout.closed:  # a language server's stdout is closed when its editor leaves
            sys.stdout.flush()  # here, so that a closed pipe is met inside this `try`
        return code
    except NetError as problem:
        print(problem.render(), file=sys.stderr)
        return 1
    except DataError as problem:
        from netdsl.pipelines.commands.common import error

        return error(problem)
    except BrokenPipeError:
        # The reader of our output went away (`netdsl show f.net --json | head`): stop quietly.
        # Python's recipe (docs of `signal`, "Note on SIGPIPE"): point stdout at devnull so that the
        # interpreter's final flush does not fail again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    except KeyboardInterrupt:  # pragma: no cover - interactive
        return 130


class _Parser(argparse.ArgumentParser):
    """argparse's parser, whose usage errors carry their code as every other error does."""

    def error(self, message):
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: error[C101]: {message}\n")


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """The parser of `netdsl`: one subparser per module of `COMMANDS`, added by its `register`;
    when `argv` starts with a command's name, that command's alone (its module the only one
    imported), as the others cannot be asked for then."""
    parser = _Parser(
        prog="netdsl",
        description="Declarative neural networks: check, format, inspect, fit and apply .net files.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    named = MODULES.get(argv[0], argv[0]) if argv else None
    chosen = [named] if named in COMMANDS else COMMANDS
    for name in chosen:
        importlib.import_module(f"netdsl.pipelines.commands.{name}").register(commands)
    return parser


if __name__ == "__main__":  # pragma: no cover
    program()
