"""The wiring of a net: its body unrolled into steps, each with the points it reads.

A chain is the flow of today: each layer reads the point the layer before it made. `NAME = layer`
names a point, `from NAME` goes on from one, a merge reads the points it names, `residual { }`
adds a block to its input (an `add` step made here), `repeat` copies its body (binding `NAME` to
each value of `repeat NAME in [...]`). `wire` does all of it once, for the analysis (dsl/shapes)
and for the compiler (estimators/compile.py) alike, and finds the mistakes of the wiring: unknown
names, names used above where they are made, merges of too few points, dead ends, unused inputs.

A point is an `int`: a step's index, or `~k` (negative) for the net's input `k`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pydantic import ValidationError

from . import specs
from .errors import Diagnostic, did_you_mean
from .values import Expr, evaluate

__all__ = ["Step", "Graph", "wire", "input_names", "MERGE_ARITY"]

# Merges that read exactly two points; the others read two or more.
MERGE_ARITY = {"subtract": 2, "dot": 2}
# Most layers a program may have once its `repeat` blocks are unrolled (N218): beyond any trained
# network (ResNet-152 has about 500 Keras layers), a bound on what `check` and `fit` allocate
# (`repeat 1000000000 { dense(4) }`), and within what Keras can build: it maps a model's graph
# recursively, a Python frame per layer, under the recursion limit of 3,000 that TensorFlow sets,
# so 4,000 dense layers stop `fit` with a RecursionError (10,000 after a minute), while 2,000 fit.
# `resolution` checks the counts it knows before the net is wired; `wire` stops at it too.
MAX_LAYERS = 2_000
# (Also the most points one merge reads: Keras builds a node per input, and `fit` of a merge of
# 90,000 inputs ran for minutes in gigabytes.)
# Statements visited while unrolling: bounds the work of `repeat` blocks that make no layer
# (`repeat 2000 { from x }`) or whose count a `repeat NAME in` sets, which no count says beforehand.
MAX_STATEMENTS = 50 * MAX_LAYERS


@dataclass(frozen=True)
class Step:
    """One layer of the unrolled body: its source path, its spec (a name inside `repeat` numbered
    per copy, `repeat` names bound) and the points it reads, in order."""

    path: tuple
    layer: specs.Layer
    inputs: tuple[int, ...]


@dataclass
class Graph:
    """The steps in order, the points the net outputs (in `output`'s order), the inputs' names, and
    the problems found."""

    steps: list[Step]
    outputs: tuple[int, ...]
    inputs: tuple[str, ...]
    problems: list[Diagnostic] = field(default_factory=list)
    output_names: tuple[str, ...] = ()

    @property
    def is_chain(self) -> bool:
        """One input, one output, each step reading the one before: what a `Sequential` would be."""
        if len(self.inputs) != 1 or len(self.outputs) != 1:
            return False
        return all(step.inputs == ((i - 1) if i else ~0,) for i, step in enumerate(self.steps))


def input_names(net: specs.Net) -> tuple[str, ...]:
    """The points the inputs make: their names, or `input` (`text` for text) for an unnamed one."""
    return tuple(
        i.name if i is not None and i.name else ("text" if i is not None and i.text else "input")
        for i in net.all_inputs
    )


def wire(net: specs.Net, span_of=None) -> Graph:
    """The net's body as steps with their inputs (see the module's docstring). `span_of` (a path ->
    span function, `net.source.span` by default) locates the problems."""
    return _Wiring(net, span_of or net.source.span).run()


class _Wiring:
    def __init__(self, net: specs.Net, span_of):
        self.net, self.span_of = net, span_of
        self.inputs = input_names(net)
        self.points: dict[str, int] = {name: ~k for k, name in enumerate(self.inputs)}
        self.steps: list[Step] = []
        self.problems: list[Diagnostic] = []
        self.copies: dict[tuple, int] = {}
        self.later = _names_made(net.layers)  # every name the body gives, to tell "later" from "unknown"
        self.params = {p.name for p in net.params}
        self.no_flow_reported = False
        self.visited = 0  # statements unrolled so far (`MAX_STATEMENTS`)

    def run(self) -> Graph:
        start = ~0 if len(self.inputs) == 1 else None  # several inputs: the flow starts at a `from`
        self.same_inputs()
        current = self.body(self.net.layers, ("layers",), start, {}, False)
        outputs, names = self.outputs(current)
        self.output_settings()
        if not self.problems:
            self.dead_ends(outputs)
        return Graph(self.steps, outputs, self.inputs, _once(self.problems), names)

    # -- statements ------------------------------------------------------------------------------

    def body(self, items, prefix: tuple, current, env: dict, repeated: bool):
        """The statements `items` from the point `current`; returns the point the flow ends at."""
        for i, item in enumerate(items):
            path = prefix + (i, item.kind)
            self.visited += 1
            if isinstance(item, specs.Repeat):
                current = self.repeat(item, path, current, env)
            elif isinstance(item, specs.Residual):
                current = self.residual(item, path, current, env, repeated)
            elif isinstance(item, specs.From):
                current = self.point(item.point, path + ("point",), path)
                self.no_flow_reported |= current is None  # (reported) the layers below read nothing
            else:
                current = self.layer(item, path, current, env, repeated)
        return current

    def repeat(self, item: specs.Repeat, path: tuple, current, env: dict):
        item = self.head_bound(item, path, env)
        if item is None:
            return current
        if isinstance(item.count, Expr) or isinstance(item.values, Expr):
            raise ValueError(f"repeat count `{item.count or item.values}` is not bound")
        for k in range(item.times):
            if len(self.steps) > MAX_LAYERS or self.visited > MAX_STATEMENTS:
                return self.too_large(path)
            inner = env if item.variable is None else {**env, item.variable: item.values[k]}
            current = self.body(item.body, path + ("body",), current, inner, True)
        return current

    def head_bound(self, item: specs.Repeat, path: tuple, env: dict):
        """The `repeat` with the names of an outer `repeat NAME in` put in its count or values (only
        there: its body binds its own), or None if they do not fit (reported)."""
        if not env:
            return item
        try:
            head = {key: _substitute(_data(getattr(item, key)), env, (key,)) for key in ("count", "values")}
        except _Uncomputable as error:
            return self.uncomputable(error, path, env)
        if head == {"count": _data(item.count), "values": _data(item.values)}:
            return item
        return self.validated(specs.Repeat, {**dict(item), **head}, path, env)

    def too_large(self, path: tuple) -> None:
        """N218, told once: unrolled, the `repeat` at `path` goes past what a net may hold."""
        self.no_flow_reported = True  # the flow stops here: the layers below have nothing to read
        if not any(p.code == "N218" for p in self.problems):
            self.problems.append(Diagnostic(
                f"too many layers: more than {MAX_LAYERS:,} once `repeat` blocks are unrolled", self.span_of(path),
                help=f"this `repeat` unrolls past the limit; a net has at most {MAX_LAYERS:,} layers", code="N218",
            ))  # fmt: skip
        return None

    def residual(self, item: specs.Residual, path: tuple, current, env: dict, repeated: bool):
        block = self.body(item.body, path + ("body",), current, env, repeated)
        skip = self.body(item.skip, path + ("skip",), current, env, repeated) if item.skip else current
        if block is None or skip is None:
            return None
        self.steps.append(Step(path + ("add",), specs.Add(), (block, skip)))
        return len(self.steps) - 1

    def layer(self, layer, path: tuple, current, env: dict, repeated: bool):
        layer = self.bound(layer, path, env)
        if layer is None:
            return current
        if repeated and isinstance(layer.name, str):
            self.copies[path] = self.copies.get(path, 0) + 1
            point_name, layer = layer.name, layer.model_copy(update={"name": f"{layer.name}_{self.copies[path]}"})
        else:
            point_name = layer.name if isinstance(layer.name, str) else None
        if isinstance(layer, specs.Merge):
            inputs = self.merge_inputs(layer, path)
            if inputs is None:  # (reported) the flow goes on as if it were not there, its name standing
                self.no_flow_reported |= current is None  # for the point before: one mistake, told once
                return self.name_point(point_name, current, path, env) if point_name else current
        elif current is None:
            self.no_flow(path)
            return None
        else:
            inputs = (current,) + self.named_points(layer, path)
            if None in inputs:
                return current
        self.steps.append(Step(path, layer, inputs))
        if point_name:
            self.name_point(point_name, len(self.steps) - 1, path, env)
        return len(self.steps) - 1

    def bound(self, layer, path: tuple, env: dict):
        """The layer with the `repeat` names of `env` substituted (validated again), or None if a value
        does not fit (reported)."""
        if not env:
            return layer
        data = layer.model_dump()
        try:
            bound = _substitute(data, env)
        except _Uncomputable as error:
            return self.uncomputable(error, path, env)
        return layer if bound == data else self.validated(type(layer), bound, path, env)

    def uncomputable(self, error: _Uncomputable, path: tuple, env: dict) -> None:
        """N508 at the value that arithmetic cannot compute with the `repeat` names' values."""
        values = ", ".join(f"{k} = {v!r}" for k, v in env.items())
        self.problems.append(Diagnostic(
            f"cannot compute `{error.expr}`: {error.error}", self.span_of(path + error.where) or self.span_of(path),
            help=f"change the `repeat` values it is computed from (with {values})", code="N508",
        ))  # fmt: skip
        return None

    def validated(self, cls, data, path: tuple, env: dict):
        """`cls` made of `data` (with the names of `env` put in), or None where a value does not fit
        (reported at the source, saying the values)."""
        try:
            return cls.model_validate(data)
        except ValidationError as error:
            from .validation import translate

            located = [dict(e, loc=path + tuple(e["loc"])) for e in error.errors(include_url=False)]
            values = ", ".join(f"{k} = {v!r}" for k, v in env.items())
            for problem in translate(located, self.net.source.spans):
                self.problems.append(Diagnostic(problem.title, problem.span, help=(problem.help or "") + f" (with {values})",
                                                related=problem.related, code=problem.code))
            return None

    def merge_inputs(self, layer: specs.Merge, path: tuple):
        """The points a merge reads, or None if one is unknown or their number is wrong (reported)."""
        tag = path + ("inputs",)
        arity = MERGE_ARITY.get(layer.kind)
        count = len(layer.inputs)
        if count < 2 or (arity and count != arity) or count > MAX_LAYERS:
            want = f"exactly {arity}" if arity else "two or more" if count < 2 else f"at most {MAX_LAYERS:,}"
            hint = (f"name the points it reads, e.g. `{layer.kind}(x, block)`"
                    + ("; `residual { }` adds a block to its input" if layer.kind == "add" else "")) if count <= MAX_LAYERS else (
                    f"merge groups of the points first, then `{layer.kind}` the groups")
            self.problems.append(Diagnostic(
                f"`{layer.kind}` merges {want} named points, not {count:,}", self.span_of(tag) or self.span_of(path),
                help=hint, code="N804",
            ))  # fmt: skip
            return None
        points = [self.point(name, tag + (j,), path) for j, name in enumerate(layer.inputs)]
        return None if any(p is None for p in points) else tuple(points)

    def named_points(self, layer, path: tuple) -> tuple:
        """The points a layer reads besides the flow, named by its fields (`multi_head_attention`'s
        `value=` and `key=`), in the order of those fields; None for one not found (reported)."""
        named = [field for field in getattr(type(layer), "points", ()) if getattr(layer, field) is not None]
        if "key" in named and "value" not in named:
            self.problems.append(Diagnostic(
                f"`{layer.kind}` takes `key=` with `value=`", self.span_of(path + ("key",)) or self.span_of(path),
                help="the key scores the value's steps: name the value too (`value=NAME, key=NAME`)", code="N804",
            ))  # fmt: skip
            return (None,)
        return tuple(self.point(getattr(layer, field), path + (field,), path) for field in named)

    def point(self, name, where: tuple, path: tuple):
        """The point `name` stands for here, or None (reported: unknown, or named only below)."""
        if isinstance(name, str) and name in self.points:
            return self.points[name]
        span = self.span_of(where) or self.span_of(path)
        if name in self.later:
            self.problems.append(Diagnostic(
                f"`{name}` is used above the layer that makes it", span,
                help="a net flows downward: a statement reads only the points named above it", code="N803",
            ))  # fmt: skip
            return None
        known = list(self.points)
        hint = did_you_mean(str(name), known)
        self.problems.append(Diagnostic(
            f"unknown point `{name}`", span,
            help=(f"{hint} " if hint else "") + "the points named above: " + ", ".join(f"`{n}`" for n in known),
            code="N802",
        ))  # fmt: skip
        return None

    def name_point(self, name: str, point, path: tuple, env=()):
        """`name` made to stand for `point` (N810 where it already means something else)."""
        where = self.span_of(path + ("name",)) or self.span_of(path)
        clash = "a `param`" if name in self.params else "a `repeat` name" if name in env else None
        title = f"`{name}` names a layer and {clash}"
        if clash:  # once, not once per copy of a `repeat` (a layer named as the one input: `check_names`, N216)
            if not any(p.title == title and p.span == where for p in self.problems):
                self.problems.append(Diagnostic(title, where, help="a bare name must mean one thing: rename the layer",
                                                code="N810"))
        elif name in self.inputs and len(self.inputs) > 1:  # (else the input is left unread: N807)
            self.problems.append(Diagnostic(
                f"`{name}` names a layer and an input", where,
                help="a bare name must mean one thing: rename the layer", code="N810",
            ))  # fmt: skip
            return point
        if point is not None:
            self.points[name] = point
        return point

    def same_inputs(self) -> None:
        """Two inputs of one name (N810): `from NAME` could not say which."""
        for k, name in enumerate(self.inputs):
            if name in self.inputs[:k]:
                self.problems.append(Diagnostic(
                    f"a second input named `{name}`", self.span_of(("inputs", k)),
                    help="each input needs a name of its own, for `from` and for the data: rename one", code="N810",
                ))  # fmt: skip

    def no_flow(self, path: tuple):
        if not self.no_flow_reported:
            self.no_flow_reported = True
            names = ", ".join(f"`{n}`" for n in self.inputs)
            self.problems.append(Diagnostic(
                "which input does this layer read?", self.span_of(path),
                help=f"this net has several inputs ({names}): begin each branch with `from` one of them, e.g. `from {self.inputs[0]}`",
                code="N808",
            ))  # fmt: skip

    # -- the ends ----------------------------------------------------------------------------------

    def outputs(self, current) -> tuple[tuple[int, ...], tuple[str, ...]]:
        if not self.net.outputs:
            return ((current,), ()) if current is not None else ((), ())
        points = []
        for j, name in enumerate(self.net.outputs):
            point = self.point(name, ("outputs", j), ("outputs", j))
            if point is not None:
                points.append(point)
        return tuple(points), tuple(self.net.outputs)

    def output_settings(self) -> None:
        """`NAME.loss = ...` in `train { }` names an output of `output` (N811)."""
        train = self.net.train
        for name in (train.outputs if train is not None else {}):
            if name not in self.net.outputs:
                known = list(self.net.outputs)
                hint = did_you_mean(name, known)
                listing = ", ".join(f"`{n}`" for n in known) if known else "none: declare them with `output NAME, ...`"
                self.problems.append(Diagnostic(
                    f"`train` sets `{name}.` settings, but the net has no output `{name}`",
                    self.span_of(("train", "outputs", name)),
                    help=(f"{hint} " if hint else "") + f"the outputs: {listing}", code="N811",
                ))  # fmt: skip

    def dead_ends(self, outputs: tuple[int, ...]) -> None:
        """A step nothing reads and no output is (N806); an input no output depends on (N807)."""
        read = {p for step in self.steps for p in step.inputs} | set(outputs)
        for index, step in enumerate(self.steps):
            if index not in read:
                named = isinstance(step.layer.name, str)
                what = f"`{step.layer.name}` (`{step.layer.kind}`)" if named else f"the output of `{step.layer.kind}`"
                what = "the output of this `residual` block" if step.path[-2:] == ("residual", "add") else what
                self.problems.append(Diagnostic(
                    f"nothing reads {what}", self.span_of(step.path),
                    help="merge this branch into the flow, list it in `output`, or remove it", code="N806",
                ))  # fmt: skip
        reached, stack = set(), list(outputs)
        while stack:
            point = stack.pop()
            if point in reached:
                continue
            reached.add(point)
            if point >= 0:
                stack.extend(self.steps[point].inputs)
        for k, name in enumerate(self.inputs):
            if ~k not in reached:
                path = ("inputs", k) if self.net.inputs else ("input",)
                self.problems.append(Diagnostic(
                    f"no output depends on the input `{name}`", self.span_of(path),
                    help=f"read it in a branch (`from {name}`) that reaches an output, or remove it", code="N807",
                ))  # fmt: skip


def _once(problems: list[Diagnostic]) -> list[Diagnostic]:
    """Each problem once: a mistake inside `repeat` is found again in every copy, at the same spot."""
    seen, kept = set(), []
    for problem in problems:
        key = (problem.code, problem.title, problem.span)
        if key not in seen:
            seen.add(key)
            kept.append(problem)
    return kept


def _names_made(items, found=None) -> set:
    """Every name the body gives a layer (to tell a name used too early from an unknown one)."""
    found = set() if found is None else found
    for item in items:
        if isinstance(item, (specs.Repeat, specs.Residual)):
            _names_made(item.body, found)
            _names_made(getattr(item, "skip", ()), found)
        elif isinstance(getattr(item, "name", None), str):
            found.add(item.name)
    return found


class _Uncomputable(Exception):
    """An expression over `repeat` names that arithmetic cannot compute (`4 / n` with n = 0), at
    `where` in the spec's data."""

    def __init__(self, where: tuple, expr: Expr, error: Exception):
        super().__init__(str(error))
        self.where, self.expr, self.error = where, expr, error


def _data(value):
    """An `Expr` as plain data (as `model_dump` gives it), anything else as it is."""
    return value.as_data() if isinstance(value, Expr) else value


def _substitute(value, env: dict, where: tuple = ()):
    """Plain spec data with the `repeat` names of `env` put in (expressions over them computed)."""
    if isinstance(value, dict) and "op" in value and set(value) <= {"op", "name", "args"}:
        expr = Expr.model_validate(value)
        try:
            result = evaluate(expr, env)
        except (TypeError, ArithmeticError) as error:  # a word times a number, a division by zero
            raise _Uncomputable(where, expr, error) from None
        return result.as_data() if isinstance(result, Expr) else result
    if isinstance(value, dict):
        return {k: _substitute(v, env, where + (k,)) for k, v in value.items()}
    if isinstance(value, (list, tuple)) and not set(map(type, value)) <= {int, float}:
        return type(value)(_substitute(v, env, where + (i,)) for i, v in enumerate(value))
    return value
