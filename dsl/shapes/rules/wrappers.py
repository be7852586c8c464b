"""Shape rule of `time_distributed`, which runs the rule of the layer it wraps on each step.

The package's `apply` (every rule, after the checks all layers share) is handed in by the package
(`rules/__init__.py`), which imports this module: the rule needs the dispatcher it is part of.
"""

from __future__ import annotations

from ..context import Context, Out, Problem, Tensor
from ..text import shape_text
from .common import need_rank


def time_distributed(layer, x: Tensor, ctx: Context, apply) -> Out:
    """TimeDistributed applies its layer to each step with the same weights: the layer's rule (by
    `apply`) on one step, the input without its steps axis; the steps axis is put back in front and
    the weights are the layer's. The wrapped layer's problems are located at it."""
    if len(x.shape) < 2:
        need_rank(x, 2, ctx, "steps, ...")
    inner = layer.layer
    inner_ctx = Context(inner.kind, ctx.after, ctx.source, ctx.from_input, ctx.text_input,
                        filename=ctx.filename, previous=ctx.previous)
    step = Tensor(tuple(x.shape[1:]), x.dtype, None, x.made_by, x.vocabulary)
    try:
        out = apply(inner, step, inner_ctx)
    except Problem as problem:
        raise _of_one_step(problem, inner.kind, step) from None
    finally:
        ctx.notes.extend(_of_one_step(note, inner.kind, step) for note in inner_ctx.notes)
    return Out((x.shape[0],) + tuple(out.shape), out.params, out.frozen, field=None, dtype=out.dtype)


def _of_one_step(problem: Problem, kind: str, step: Tensor) -> Problem:
    """A problem of the wrapped layer, at its argument (or at it), saying it is about one step. The
    advice on ranks (reshape the input) is about the wrapped layer's input, which is one step: it is
    said of the steps instead."""
    arg = problem.arg if isinstance(problem.arg, tuple) else (() if problem.arg is None else (problem.arg,))
    help = problem.help
    if problem.code == "N301":
        help = f"each step is {shape_text(step.shape)}: give `time_distributed` a steps axis in front of what `{kind}` reads"
    moved = Problem(problem.code, f"{problem.title}, in `time_distributed`, which hands it one step at a time",
                    help, ("layer", kind) + arg)
    moved.about_input = problem.about_input
    return moved
