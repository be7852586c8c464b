"""`netdsl import MODEL.keras [--out FILE.net]`: a saved Keras model written as a `.net` program.

The model's config.json is read as data (dsl/keras_config.py: nothing in the file runs, TensorFlow
is not imported); a netdsl model file (`netdsl fit --save`) gives the Keras model inside it. The
program is printed, or written to `--out` through a temporary file renamed over it. Fixed weights
become `pretrained(...)` of MODEL, named relative to the folder of `--out` (where `pretrained`
looks), else as given.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from netdsl.pipelines.commands.common import error


def register(commands) -> None:
    command = commands.add_parser("import", help="write a saved Keras model as a .net program")
    command.add_argument("model", type=Path, metavar="MODEL",
                         help="a .keras file, or a model saved with `netdsl fit --save`")
    command.add_argument("--out", type=Path, metavar="FILE.net", help="write the program here (default: print it)")
    command.set_defaults(run=run)


def run(args) -> int:
    from netdsl.dsl.files import write_text
    from netdsl.dsl.keras_import import KerasImportError, import_keras

    if not args.model.is_file():
        return error(f"no model file `{args.model}`", code="D101")
    if args.out is not None and args.out.resolve() == args.model.resolve():
        return error(f"`--out {args.out}` is the model file itself; give the .net file another name", code="D101")
    base = str(args.model)
    if args.out is not None:  # `pretrained` reads a relative path from the .net file's folder
        base = Path(os.path.relpath(args.model.resolve(), args.out.resolve().parent)).as_posix()
    try:
        source = import_keras(args.model, base_path=base)
    except KerasImportError as problem:
        return error(problem)
    if args.out is None:
        sys.stdout.write(source)
        return 0
    try:
        write_text(args.out, source)
    except OSError as problem:
        return error(f"cannot write `{args.out}`: {problem.strerror or problem}", code="D101")
    print(f"{args.out}: written", file=sys.stderr)
    return 0
