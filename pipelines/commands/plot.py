"""`netdsl plot WHAT MODEL_OR_CSV`: draw a picture of a saved model or of search results as a PNG
(the pictures are `netdsl.pipelines.plots`), or of a `.net` file's network (`graph`,
`netdsl.pipelines.graph_picture`, without TensorFlow). Every mistake is one
`netdsl: error[CODE]: ...` line and exit status 1; a `.net` file's, located as `netdsl check` says it."""

from __future__ import annotations

import sys
from pathlib import Path

from netdsl.dsl import NetError
from netdsl.pipelines.commands.common import code_of, error, holdout_split, load_model, set_params
from netdsl.pipelines.composite import before_net, fitted_net, known_columns
from netdsl.pipelines.data import DataError, load_data

WHATS = ("curves", "filters", "maps", "saliency", "confusion", "search", "graph")
_NEEDS_DATA = ("maps", "saliency", "confusion")


def register(commands) -> None:
    plot = commands.add_parser(
        "plot",
        help="draw a picture of a saved model or of search results as a PNG",
        description=(
            "Draw a picture as a PNG. WHAT is curves (loss and metrics per epoch), filters (the kernels of a "
            "conv2d layer), maps (the feature maps of row --sample of --data), saliency (which input values "
            "the predicted class of row --sample depends on), confusion (true against predicted classes on "
            "--data: every row, or with --test-size the rows `netdsl fit` held out with the same --test-size "
            "and --seed), search (mean CV score against each parameter, from a results CSV; for a halving "
            "search's CSV, against the epochs of each rung: which candidates were stopped when) or graph (the "
            "network of a .net file, or of the net a saved model was fitted from: each layer a box with its "
            "output shape and weights, arrows for the flow; PNG, or SVG or PDF by --out's suffix)."
        ),
    )
    plot.add_argument("what", choices=WHATS, metavar="WHAT", help=", ".join(WHATS))
    plot.add_argument("source", type=Path, metavar="MODEL_OR_CSV",
                      help="a model written by `netdsl fit --save` (a search: a CSV of cv_results_; a graph: a .net file or a model)")  # fmt: skip
    plot.add_argument("--data", metavar="NAME_OR_PATH", help="maps, saliency, confusion: a built-in data set or a data file")
    plot.add_argument("--target", metavar="COL", help="label column of a CSV/Parquet --data file (default: the last column)")
    plot.add_argument("--sample", type=int, default=0, metavar="I", help="maps, saliency: the row of --data to show (default 0)")
    plot.add_argument("--layer", metavar="NAME", help="filters: the conv2d layer (default: the first)")
    plot.add_argument("--normalize", choices=("true", "pred", "all"), help="confusion: normalize over true/predicted labels or all")
    plot.add_argument("--test-size", type=float, default=0.0, metavar="F",
                      help="confusion: only the rows `netdsl fit --test-size F --seed N` held out (default 0: every row)")  # fmt: skip
    plot.add_argument("--seed", type=int, default=0, help="confusion with --test-size: the seed given to `netdsl fit` (default 0)")
    plot.add_argument("--set", action="append", default=[], metavar="NAME=VALUE", help="graph: set a param of the .net file (repeatable)")
    plot.add_argument("--out", type=Path, metavar="FILE.png", help="where to write the PNG (default: MODEL_WHAT.png here)")
    plot.set_defaults(run=run)


def run(args) -> int:
    try:
        return _run(args)
    except (NetError, DataError):
        raise  # rendered by the command line's main
    except (ValueError, TypeError, KeyError, IndexError, OSError, ImportError, RuntimeError) as problem:
        return error(str(problem).strip().splitlines()[0] if str(problem).strip() else type(problem).__name__,
                     code=code_of(problem, "D101"))


def _mistake(args) -> str | None:
    """What is wrong with the options as given, before anything is read; None when nothing is."""
    what, source = args.what, args.source
    if args.layer is not None and what != "filters":
        return f"--layer applies to `netdsl plot filters`, not `{what}`"
    if args.data is not None and what not in _NEEDS_DATA:
        return f"--data applies to maps, saliency and confusion, not `{what}`"
    if args.data is None and what in _NEEDS_DATA:
        return f"`netdsl plot {what}` needs --data NAME_OR_PATH (the rows to {'predict' if what == 'confusion' else 'pick --sample from'})"
    if not 0 <= args.test_size < 1:
        return f"--test-size must be a fraction with 0 <= F < 1, got {args.test_size:g}"
    if args.set and what != "graph":
        return f"--set applies to `netdsl plot graph`, not `{what}`"
    if what == "search" and not source.is_file():
        return f"no such search results file: `{source}`" + (" (it is a folder)" if source.is_dir() else "")
    if what == "graph" and _out(args).suffix.lower() not in (".png", ".svg", ".pdf"):
        return f"--out must name a .png, .svg or .pdf file, got `{_out(args)}`"
    if what != "graph" and _out(args).suffix.lower() != ".png":
        return f"--out must name a .png file, got `{_out(args)}`"
    return None


def _out(args) -> Path:
    return args.out if args.out is not None else Path(f"{args.source.stem}_{args.what}.png")


def _run(args) -> int:
    mistake = _mistake(args)
    if mistake is not None:
        return error(mistake, code="C101")
    if args.what == "graph":
        return _graph(args, _out(args))
    import matplotlib

    from netdsl.pipelines.figures import net_name

    from netdsl.pipelines.cli import is_program

    # pyplot (imported by ConfusionMatrixDisplay) must never open a window of the program; a Python
    # caller's `main(["plot", ...])` keeps the backend the caller chose.
    if is_program() and "matplotlib.pyplot" not in sys.modules:
        matplotlib.use("Agg")
    from netdsl.pipelines import plots

    what, source, out = args.what, args.source, _out(args)
    if what == "search":
        plots.search_report(source, path=out)
        print(f"wrote the search report of {source} to {out}")
        return 0

    model = load_model(source)
    net = fitted_net(model)  # the net itself, or the one inside a composite (`fit --scale`, one-hot)
    from sklearn.base import is_classifier

    kind = type(net).__name__
    if what in ("saliency", "confusion") and not is_classifier(model):
        return error(f"`netdsl plot {what}` needs a classifier; `{source}` holds a {kind} (net {net_name(model)})", code="D101")
    if what == "curves":
        if not getattr(net, "history_", None):
            return error(f"`{source}` holds a {kind} that was never trained (no training history), so it has no curves", code="D101")
        plots.training_curves(net, path=out)
        print(f"wrote the training curves of {source} to {out}")
        return 0
    if what == "filters":
        plots.conv_filters(net, layer=args.layer, path=out)
        print(f"wrote the filters of {source} to {out}")
        return 0
    data = load_data(args.data, target=args.target, columns=known_columns(model))
    if what == "confusion":
        return _confusion(args, model, data, out)
    return _one_row(args, model, net, data, out)


def _graph(args, out: Path) -> int:
    """`graph`: the picture of a `.net` file (read and analysed as `netdsl show` does: no TensorFlow),
    or of the net a model file was fitted from (its shapes as fitted)."""
    import zipfile

    from netdsl.dsl import analyse, dumps, load, loads
    from netdsl.pipelines.graph_picture import graph_figure, write

    source = args.source
    if source.is_file() and zipfile.is_zipfile(source):  # a model file (a `.net` file is text)
        if args.set:
            return error(f"--set applies to a .net file; `{source}` is a model, drawn as it was fitted", code="C101")
        estimator = fitted_net(load_model(source))
        net = getattr(estimator, "spec_", None)
        if net is None:
            return error(f"`{source}` holds a model that was never fitted, so it has no net to draw", code="D101")
        origin = getattr(estimator, "net", None)  # the .net file, where it still holds the program
        if isinstance(origin, str) and "\n" not in origin and Path(origin).is_file():
            net = loads(dumps(net), filename=origin)  # `pretrained` paths are relative to its folder
        summary = analyse(net)
    else:
        summary = analyse(load(source), params=set_params(args.set) or None)
    write(graph_figure(summary), out)
    print(f"wrote the graph of {source} ({len(summary.rows)} layers) to {out}")
    return 0


def _confusion(args, model, data, out: Path) -> int:
    from rich.console import Console

    from netdsl.pipelines.plots import confusion_matrix_plot

    X, y, where = data.X, data.y, f"all {data.n_samples} rows of {data.name}"
    if args.test_size > 0:  # the rows `netdsl fit` held out with the same --test-size and --seed
        _, X, _, y, how = holdout_split(data, "classification", args.test_size, args.seed, Console(stderr=True))
        where = f"{data.name}: {how}"
    names = [data.label_name(c) for c in model.classes_] if data.target_names is not None else None
    confusion_matrix_plot(model, X, y, path=out, normalize=args.normalize, display_labels=names)
    print(f"wrote the confusion matrix of {args.source} on {where} to {out}")
    return 0


def _one_row(args, model, net, data, out: Path) -> int:
    """`maps` and `saliency`: row --sample of the data, through what the composite does before its net."""
    from netdsl.pipelines.plots import feature_maps, saliency_figure

    n = data.n_samples
    if not 0 <= args.sample < n:
        return error(f"--sample {args.sample} is out of range: `{data.name}` has {n} rows (0 to {n - 1})", code="C101")
    row = data.X[args.sample : args.sample + 1]
    preprocess = before_net(model)  # what the composite does to a row before its net
    row = (preprocess.transform(row) if preprocess is not None else row)[0]
    label = f", label {data.label_name(data.y[args.sample])}" if data.y is not None else ""
    if args.what == "maps":
        feature_maps(net, row, path=out)
        print(f"wrote the feature maps of row {args.sample} of {data.name}{label} to {out}")
        return 0
    _, predicted, probability = saliency_figure(net, row, out, None)
    print(
        f"wrote the saliency of row {args.sample} of {data.name}{label} "
        f"(predicted {predicted}, p = {probability:.2f}) to {out}"
    )
    return 0
