"""`netdsl export MODEL --format onnx [--out FILE]`: write a saved model as one ONNX file, which
onnxruntime runs without TensorFlow (`netdsl.estimators.export`). Every mistake is one
`netdsl: error[CODE]: ...` line and exit status 1."""

from __future__ import annotations

from pathlib import Path

from netdsl.dsl import NetError
from netdsl.pipelines.commands.common import code_of, error, load_model, refuse_overwrite
from netdsl.pipelines.data import DataError

FORMATS = ("onnx",)


def register(commands) -> None:
    export = commands.add_parser(
        "export",
        help="write a saved model as one ONNX file (predict without TensorFlow)",
        description=(
            "Write a model saved by `netdsl fit --save` as one ONNX file: the scikit-learn steps around the net "
            "(--scale, the one-hot encoder of string columns, a target scaler), the net (augmentation left out) "
            "and the class labels, in one graph that onnxruntime runs. A text net's `text_vectorization` is "
            "stated in the file's metadata and applied by `netdsl predict model.onnx`. Needs the onnx extra."
        ),
    )
    export.add_argument("model", type=Path, metavar="MODEL", help="a model written by `netdsl fit --save`")
    export.add_argument("--format", choices=FORMATS, default="onnx", help="the file's format (onnx, the default)")
    export.add_argument("--out", type=Path, metavar="FILE", help="where to write it (default: MODEL with the suffix .onnx)")
    export.set_defaults(run=run)


def run(args) -> int:
    out = args.out if args.out is not None else args.model.with_suffix(".onnx")
    refused = refuse_overwrite("--out", out, {"the model file": args.model})
    if refused:
        return refused
    try:
        model = load_model(args.model)
        from netdsl.estimators.export import export

        export(model, out)
    except (NetError, DataError):
        raise  # rendered by the command line's main
    except (ValueError, TypeError, ImportError, OSError, RuntimeError) as problem:
        text = " ".join(str(problem).split()) or type(problem).__name__
        return error(text, code=code_of(problem, "D101"))
    print(f"wrote {out} (ONNX) from {args.model}")
    return 0
