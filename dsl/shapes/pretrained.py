"""`pretrained(...)`: a saved net's layers taken into this one (expanded before the walk, their
trained weights checked against the input they get), and the `train` block's `freeze = [...]` and
`fine_tune = unfreeze(...)`, applied to the analysis's rows."""

from __future__ import annotations

from typing import Any

from .. import specs
from ..errors import Diagnostic, did_you_mean
from .context import Context, Out, Problem, Tensor
from .rules import apply
from .symbolic import known
from .text import batch_text

__all__ = ["expand", "check_base_fit", "freeze"]


def expand(resolved: specs.Net, span_of, problems: list) -> tuple[list, set, tuple]:
    """The steps in order (`graph.wire`: path, layer, base, and the points each reads), each
    `pretrained` replaced by the saved net's layers it takes (path `(..., "pretrained", "base", j,
    kind)`, so they are located at the `pretrained` line; a chain from what `pretrained` reads), the
    names automatic names must avoid (the base's and those the file gives), and the output points.
    The wiring's problems are added to `problems`."""
    from ..graph import wire

    graph = wire(resolved, span_of)
    problems.extend(graph.problems)
    items, avoid = [], set()
    moved: dict[int, int] = {}  # a step's index -> its index among `items` (a base's last layer for `pretrained`)

    def where(point):
        return point if point < 0 else moved.get(point)

    for index, step in enumerate(graph.steps):
        path, layer = step.path, step.layer
        inputs = tuple(where(p) for p in step.inputs)
        if any(p is None for p in inputs):
            break  # a step before it could not be taken
        if layer.kind != "pretrained":
            items.append((path, layer, None, inputs))
            moved[index] = len(items) - 1
            if isinstance(layer.name, str):
                avoid.add(layer.name)
            continue

        def fail(code, title, help, arg=None):
            problems.append(Diagnostic(title, span_of(path + (arg,)) if arg else span_of(path), help=help, code=code))

        if "repeat" in path:
            fail("N605", "`pretrained` cannot be repeated", "take the saved net once, outside `repeat { }`")
            break
        if layer.name is not None:
            fail("N605", "`pretrained` takes no `name`", "its layers keep their names from the saved net (`netdsl show` lists them)", "name")
            break
        from ..saved import SavedNetError, open_base  # zipfile and the saved-net reader: only for `pretrained`

        try:
            base = open_base(layer.path, resolved.source.filename)
        except SavedNetError as error:
            fail(error.code, error.title, error.help, "path")
            break
        if base.unsafe and not layer.trust:
            fail("N602", f"`{base.path.name}` holds {base.unsafe}, whose Python code would run when the base is loaded",
                 f'take it only from a file you trust, with `pretrained("{layer.path}", trust=true)`', "path")
            break
        if layer.up_to is not None and layer.up_to not in [b.name for b in base.layers]:
            hint = did_you_mean(layer.up_to, base.names)
            fail("N603", f"`{base.path.name}` has no layer `{layer.up_to}`",
                 (f"{hint} " if hint else "") + "its layers: " + ", ".join(base.names), "up_to")
            break
        taken = base.taken(layer.up_to)
        unreadable = next((b for b in taken if b.spec is None), None)
        if unreadable is not None:
            before = [b.name for b in taken[: taken.index(unreadable)]]
            fail("N604", f"cannot take layer `{unreadable.name}` (Keras class `{unreadable.keras_class}`) from "
                 f"`{base.path.name}`: {unreadable.problem}",
                 f'take the layers before it with `up_to="{before[-1]}"`' if before
                 else "netdsl takes a chain of the layer kinds it knows (docs/language.md)")
            break
        for j, saved in enumerate(taken):
            spec = saved.spec.model_copy(update={"trainable": layer.trainable})
            if getattr(spec, "layer", None) is not None:
                spec = spec.model_copy(update={"layer": spec.layer.model_copy(update={"trainable": layer.trainable})})
            items.append((path + ("base", j, spec.kind), spec, (saved, base.path.name), inputs))
            inputs = (len(items) - 1,)
            avoid.add(saved.name)
        moved[index] = len(items) - 1
    outputs = tuple(where(p) for p in graph.outputs)
    return items, avoid, tuple(p for p in outputs if p is not None)


def check_base_fit(layer, saved, x: Tensor, out: Out, ctx: Context, span, problems: list) -> None:
    """A base layer's trained weights fit only the input it was built for: say so if it gets another."""
    if saved.built_for is None or None in saved.built_for or not known(out.params) or not out.params:
        return
    try:
        expected = apply(layer, Tensor(tuple(saved.built_for), x.dtype), Context(ctx.kind, "", "", False, False)).params
    except Problem:
        return
    if known(expected) and expected != out.params:
        problems.append(Diagnostic(
            f"base layer `{saved.name}` (`{layer.kind}`) was built for input {batch_text(saved.built_for)}, "
            f"but gets {batch_text(x.shape)} here",
            span,
            help=f"its {expected:,} trained weights fit only that input ({out.params:,} would be needed here): "
            "change what comes before it, or take the base only up to a layer before it with `up_to=...`", code="N606",
        ))


def freeze(resolved: specs.Net, rows: list, span_of, problems: list) -> tuple[tuple, Any]:
    """Applies `freeze = [...]` to the rows; returns the names `fine_tune = unfreeze(...)` makes
    trainable and the trainable weight count of that second stage."""
    import fnmatch

    train = resolved.train
    if train is None:
        return (), None
    names = [row.name for row in rows]

    def matches(pattern):
        return [row for row in rows if fnmatch.fnmatchcase(row.name, pattern)]

    def no_match(pattern, setting, where):
        hint = did_you_mean(pattern, names)
        problems.append(Diagnostic(
            f"`{setting}` pattern `{pattern}` matches no layer", where,
            help=(f"{hint} " if hint else "") + "the layers: " + ", ".join(names), code="N405",
        ))

    for i, pattern in enumerate(train.freeze):
        hits = matches(pattern)
        if not hits:
            no_match(pattern, "freeze", span_of(("train", "freeze", i)))
        for row in hits:
            row.trainable, row.non_trainable_params = False, row.params
    stage = train.fine_tune
    if stage is None:
        return (), None
    missing = False
    for i, pattern in enumerate(stage.layers):
        if not matches(pattern):
            missing = True
            no_match(pattern, "unfreeze", span_of(("train", "fine_tune", "layers", i)))
    patterns = stage.layers or ("*",)
    # A frozen batch_normalization stays frozen: Keras runs it in inference mode (the base's moving
    # statistics), as Keras advises for fine-tuning.
    unfrozen = [row for row in rows if not row.trainable and row.kind != "batch_normalization"
                and any(fnmatch.fnmatchcase(row.name, p) for p in patterns)]
    if not unfrozen and not missing:
        problems.append(Diagnostic(
            "`fine_tune` unfreezes no layer", span_of(("train", "fine_tune")),
            help="the layers it names are trainable already (or `batch_normalization`, which stays frozen); "
            "freeze layers first: `pretrained(..., trainable=false)`, `trainable=false` on a layer, or `freeze = [...]`",
            code="N406",
        ))
    chosen = {id(row) for row in unfrozen}
    trainable = sum((row.params - row.fixed_params for row in rows if row.trainable or id(row) in chosen), 0)
    return tuple(row.name for row in unfrozen), trainable
