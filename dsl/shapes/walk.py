"""The walk: the input's tensor through every layer's rule in order (augmentation first, a saved
net's layers in place of `pretrained`), collecting rows and problems, then the checks on the whole
net (names, freezing, the `train` block, memory)."""

from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from .. import specs
from ..errors import Diagnostic, Span
from ..resolution import resolve
from ..values import DATA_NAMES, evaluate
from .context import KEEP, Context, Problem, Tensor
from .names import Names, check_names
from ..graph import input_names
from .pretrained import check_base_fit, expand, freeze
from .rules import apply
from .symbolic import UNKNOWN, Sym, as_json
from .training import check_memory, check_training

__all__ = ["Row", "Summary", "analyse", "analyse_resolved", "layer_names"]


# ---- results -----------------------------------------------------------------------------------


@dataclass
class Row:
    """One layer of the summary."""

    path: tuple  # source path (`("layers", 0, "repeat", "body", 1, "max_pooling2d")`)
    kind: str
    name: str  # the given name, or Keras's generated one (`dense`, `dense_1`, ...)
    output_shape: tuple  # batch axis excluded; entries are ints or `Sym`
    params: Any  # weight count, as Keras's `count_params()`
    trainable: bool
    receptive_field: tuple | None  # input window one output position sees, per spatial axis
    span: Span | None
    non_trainable_params: Any = 0  # part of `params` not trained (moving statistics; all if frozen)
    base: str | None = None  # the saved net's file name, for a layer taken by `pretrained`
    fixed_params: Any = 0  # weights never trained even when the layer is (moving statistics)
    inputs: tuple = ()  # the names of the points it reads (layers' names, or inputs'); () for augmentation

    def to_dict(self) -> dict:
        return {
            **({"base": self.base} if self.base is not None else {}),
            "path": list(self.path),
            "kind": self.kind,
            "name": self.name,
            "output_shape": as_json(self.output_shape),
            "params": as_json(self.params),
            "trainable": self.trainable,
            "non_trainable_params": as_json(self.non_trainable_params),
            "receptive_field": as_json(self.receptive_field),
            "span": None if self.span is None else vars(self.span).copy(),
            "inputs": list(self.inputs),
        }


@dataclass
class Summary:
    """What `analyse` found: one row per layer (augmentation first), the totals, and the resolved net
    it was found in (`net`), which is all a compiler needs to build the layers as `show` lists them."""

    rows: list[Row]
    total_params: Any
    trainable_params: Any
    non_trainable_params: Any
    input_shape: tuple
    output_shape: tuple
    unfrozen: tuple = ()  # names of the layers `fine_tune = unfreeze(...)` makes trainable
    fine_tune_trainable_params: Any = None  # trainable weights during that second stage
    net: specs.Net | None = field(default=None, repr=False, compare=False)  # the resolved net analysed
    inputs: dict = field(default_factory=dict)  # input name -> shape, in order (one for a chain)
    outputs: dict = field(default_factory=dict)  # output name (the layer's) -> shape, in order

    @property
    def layer_names(self) -> dict[tuple, str]:
        """Source path -> layer name, for every row (see `layer_names`): what the built model names
        its layers, without walking the net again."""
        return {row.path: row.name for row in self.rows}

    def to_dict(self) -> dict:
        """Plain JSON data: shapes as lists, symbolic dimensions and counts as strings."""
        return {
            **({"fine_tune": {"unfrozen": list(self.unfrozen), "trainable_params": as_json(self.fine_tune_trainable_params)}}
               if self.unfrozen else {}),
            "input_shape": as_json(self.input_shape),
            "output_shape": as_json(self.output_shape),
            "inputs": {name: as_json(shape) for name, shape in self.inputs.items()},
            "outputs": {name: as_json(shape) for name, shape in self.outputs.items()},
            "total_params": as_json(self.total_params),
            "trainable_params": as_json(self.trainable_params),
            "non_trainable_params": as_json(self.non_trainable_params),
            "rows": [row.to_dict() for row in self.rows],
        }


# ---- the walk ----------------------------------------------------------------------------------


def analyse(net: specs.Net, params: dict | None = None, data: dict | None = None, *, training: bool = True) -> Summary:
    """Output shapes, weight counts and receptive fields of every layer of `net` (parameters at
    `params` or their defaults, data-bound names bound from `data` or left symbolic).
    Raises `NetError` with every shape problem found, located at the layer that has it.
    `training=False` leaves out the checks of the `train` block and of memory (for building the
    layers, where the estimator has checked them against the settings it trains with).
    `resolve(net, params, data)` then `analyse_resolved`: a caller that has the resolved net
    already calls that."""
    return analyse_resolved(resolve(net, params, data), data, training=training)


def analyse_resolved(resolved: specs.Net, data: dict | None = None, *, training: bool = True) -> Summary:
    """`analyse` of a net `resolve` has already bound (with the same `data`: its names are
    substituted by `resolve`, except in the omitted input's `(n_features)`). The net is neither
    validated nor resolved again, and its layers are listed once (`flat_layers`)."""
    env = {name: (data or {}).get(name, Sym(name)) for name in DATA_NAMES}
    walk = _Walk(resolved, env)
    inputs = walk.input_tensors(resolved)
    outputs = walk.run(inputs, resolved.augment)
    problems = walk.problems
    unfrozen, stage_two = (), None
    walked_whole = not problems  # the output is known: its metrics can be checked
    if not problems:
        check_names(walk.rows, walk.input_names, walk.span_of, problems)
        unfrozen, stage_two = freeze(resolved, walk.rows, walk.span_of, problems)
    if training:
        check_training(resolved, walk.walked if walked_whole else [], walk.span_of, problems)
    if training and not problems:
        from . import memory_limit  # through the package, where a test may replace it (a smaller machine)

        check_memory(resolved, walk.rows, problems, memory_limit())
    if problems:
        problems.sort(key=lambda d: (d.span.line, d.span.col) if d.span is not None else (0, 0))
        raise resolved.source.error(problems)
    total = sum((row.params for row in walk.rows), 0)
    frozen = sum((row.non_trainable_params for row in walk.rows), 0)
    input_shapes = {name: x.shape for name, x in zip(walk.input_names, inputs)}
    output_shapes = {name: x.shape for name, x in outputs}
    return Summary(walk.rows, total, total - frozen, frozen, inputs[0].shape, outputs[0][1].shape, unfrozen, stage_two,
                   net=resolved, inputs=input_shapes, outputs=output_shapes)


def layer_names(net: specs.Net, params: dict | None = None, data: dict | None = None) -> dict[tuple, str]:
    """Source path -> the name `netdsl show` gives the layer there (augmentation layers included;
    a base's layers at `(..., "pretrained", "base", j, kind)`): the one place names are decided, so
    the built model must name its layers exactly so. Given names are kept; the others get Keras's
    automatic names (`dense`, `dense_1`, ...) in the file's order, skipping every name the file or a
    base gives, whatever Keras models exist in the process. (`Summary.layer_names` gives the same
    from an analysis already made.)"""
    return analyse(net, params, data, training=False).layer_names


class _Walk:
    """One walk over a resolved net: the rows made so far, the problems found, the names taken."""

    def __init__(self, resolved: specs.Net, env: dict):
        self.env = env
        self.span_of = resolved.source.span
        self.filename = resolved.source.filename
        self.declared = resolved.all_inputs
        self.input_names = input_names(resolved)
        self.text_input = any(i is not None and i.text for i in self.declared)
        self.problems: list[Diagnostic] = []
        self.rows: list[Row] = []
        self.walked: list = []  # (row, bound layer) of the net's layers, in order
        self.named: dict[int, str] = {}  # step index -> its row's name
        self.made: dict[int, tuple] = {}  # point -> (tensor, (number, kind, span, bound layer) or None for an input)
        self.layers, taken, self.output_points = expand(resolved, self.span_of, self.problems)
        self.names = Names(taken=taken)

    def input_span(self, k: int):
        if self.declared[k] is None:
            return None
        return self.span_of(("inputs", k) if len(self.declared) > 1 else ("input",))

    def input_tensors(self, resolved: specs.Net) -> list[Tensor]:
        """What each input gives the layers that read it."""
        tensors = []
        for declared in self.declared:
            if declared is not None and declared.text:
                tensors.append(Tensor((), "string"))
            elif declared is None or declared.shape is None:
                tensors.append(Tensor((self.env["n_features"],), "raw"))
            else:
                tensors.append(Tensor(tuple(UNKNOWN if d is None else evaluate(d, self.env) for d in declared.shape), "raw"))
        return tensors

    def run(self, inputs: list[Tensor], augment) -> list[tuple[str, Tensor]]:
        """The augmentation layers (each checked against the first input, which they keep), then the
        steps in order, each from the points it reads (a step after one whose output is unknown is
        skipped); returns each output's name and tensor (as far as known)."""
        for i, layer in enumerate(augment):
            self.step(("augment", i, layer.kind), layer, inputs[0], self.context(layer.kind, ()), 0)
        self.made = {~k: (x, None) for k, x in enumerate(inputs)}
        for number, (path, layer, base, reads) in enumerate(self.layers, 1):
            if any(p not in self.made for p in reads):
                continue
            xs = [self.made[p][0] for p in reads]
            x = tuple(xs) if isinstance(layer, specs.Merge) or len(xs) > 1 else xs[0]  # a merge, or `value=`
            y = self.step(path, layer, x, self.context(layer.kind, reads), number, base, reads)
            if y is not None:
                self.named[number - 1] = self.rows[-1].name
                self.made[number - 1] = (y, (number, layer.kind, self.span_of(path), self.walked[-1][1]))
        points = self.output_points or ((len(self.layers) - 1,) if self.layers else (~0,))
        return [(self.point_name(p), self.made.get(p, (Tensor((), "float"),))[0]) for p in points]

    def point_name(self, point: int) -> str:
        """A point's name: its input's, or its layer's as `show` gives it."""
        return self.input_names[~point] if point < 0 else self.named.get(point, "?")

    def context(self, kind: str, reads) -> Context:
        """A rule's context for a layer of `kind` reading the points `reads` (the first an input, or
        none for augmentation: from the input)."""
        made = self.made[reads[0]][1] if reads else None
        if made is None:
            name = self.input_names[~reads[0]] if reads and len(self.input_names) > 1 else None
            ctx = Context(kind, f"(from `{name or 'input'}`)", f"the input `{name}`" if name else "the input", True,
                          self.text_input, filename=self.filename)
        else:
            n, made_by, span, bound = made
            line = f", line {span.line}" if span is not None else ""
            ctx = Context(kind, f"(after layer {n})", f"layer {n} (`{made_by}`{line})", False, self.text_input,
                          filename=self.filename)
            ctx.previous = bound
        ctx.branches = tuple(self.branch(p) for p in reads)
        return ctx

    def branch(self, point: int) -> str:
        """How a message names a point a layer reads: `a` (layer 2, `dense`, line 3)."""
        made = self.made[point][1]
        if made is None:
            return f"`{self.input_names[~point]}` (the input)"
        n, kind, span, _ = made
        line = f", line {span.line}" if span is not None else ""
        return f"`{self.point_name(point)}` (layer {n}, `{kind}`{line})"

    def step(self, path: tuple, layer, x, ctx: Context, index: int, base=None, reads=()) -> Tensor | None:
        """One layer (`index` 0: augmentation; `base`: (saved layer, file name) for a base's layer;
        `x` a tuple of tensors for a merge): its row, and its output, or None when a problem leaves
        it unknown."""
        span = self.span_of(path)
        bound = _bind(layer, self.env)
        try:
            out = apply(bound, x, ctx)
        except Problem as problem:
            self.problems.extend(self.diagnostic(p, path, span, ctx) for p in ctx.notes + [problem])
            return None
        self.problems.extend(self.diagnostic(p, path, span, ctx) for p in ctx.notes)
        trainable = bool(bound.trainable) and bool(getattr(getattr(bound, "layer", None), "trainable", True))
        line = f", line {span.line}" if span is not None else ""
        made_by = f"layer {index} (`{layer.kind}`{_mode(bound)}{line})" if index else f"`{layer.kind}`"
        first = x[0] if isinstance(x, tuple) else x
        y = Tensor(
            tuple(out.shape),
            first.dtype if out.dtype is KEEP else (out.dtype or "float"),
            first.field if out.field is KEEP else out.field,
            first.made_by if out.dtype is KEEP else made_by,
            bound.max_tokens if layer.kind == "text_vectorization" else first.vocabulary,
        )
        if base is not None:
            check_base_fit(bound, base[0], x, out, ctx, span, self.problems)
        self.rows.append(
            Row(path, layer.kind, self.names.take(bound), y.shape, out.params, trainable,
                None if y.field is None else tuple(size for size, _ in y.field), span,
                out.params if not trainable else out.frozen,
                base=None if base is None else base[1], fixed_params=out.frozen,
                inputs=tuple(self.point_name(p) for p in reads))
        )
        if index:
            self.walked.append((self.rows[-1], bound))
        return y

    def diagnostic(self, problem: Problem, path: tuple, span, ctx: Context) -> Diagnostic:
        """A rule's problem as a diagnostic, at the argument it names if any."""
        where = span
        if problem.arg is not None:  # an argument's name, or a path into a nested call (`("layer", "gru", "unroll")`)
            found = self.span_of(path + (problem.arg if isinstance(problem.arg, tuple) else (problem.arg,)))
            where = found or span
        related = None
        if ctx.from_input and problem.about_input and self.input_span(0) is not None:
            related = (self.input_span(0), "the input is declared here")
        help = problem.help
        if problem.code == "N805" and path[-2:] == ("residual", "add"):  # the block changed its input's shape
            help = ("a `residual` block's output is added to its input, so both need one shape: keep it in the block, or "
                    "add `skip { }` that changes the input the same way (a 1x1 `conv2d` with the block's filters and "
                    "strides, a `dense` with its units)")
        return Diagnostic(problem.title, where, help=help, related=related, code=problem.code)


def _bind(node: specs.Node, env: dict) -> SimpleNamespace:
    """The node's fields with remaining expressions evaluated (unbound data names as `Sym`)."""
    values = {}
    for name in type(node).model_fields:
        value = getattr(node, name)
        values[name] = _bind(value, env) if isinstance(value, specs.Node) else evaluate(value, env)
    return SimpleNamespace(**values)


def _mode(layer) -> str:
    """What else a message about the layer's output should say (text_vectorization's mode)."""
    if layer.kind == "text_vectorization" and layer.output_mode != "int":
        return f" with output_mode={layer.output_mode}"
    return ""
