"""Static shape inference: each layer's output shape, weight count and receptive field, computed
from the specs alone (no TensorFlow), with Keras 3's semantics, and shape mistakes reported at the
line that makes them.

    >>> from netdsl.dsl import loads
    >>> summary = analyse(loads("input (8, 8, 1)\\nconv2d(4, 3)\\nmax_pooling2d\\nflatten\\ndense(n_classes)\\n"))
    >>> summary.to_dict()["output_shape"], str(summary.total_params)
    (['n_classes'], '37*n_classes + 40')

Decisions worth knowing:

* Shapes exclude the batch axis. Data-bound names that are not given (`n_features`, `n_classes`,
  `n_outputs`) stay symbolic: dimensions and weight counts are then `Sym` polynomials.
* Errors: every problem that leaves the shape known (an `embedding` fed floats, a literal kernel of
  the wrong size, ...) is collected and the walk goes on; the first problem that leaves the shape
  unknown (a kernel larger than its input, a wrong rank, a bad reshape) ends the walk, since what
  follows would only be guesses. Augmentation layers are all checked (each against the input).
  Everything found is raised together as one `NetError`.
* Augmentation layers (the `augment { }` block) come first in `rows` (a Keras model applies them
  first; they are active only while training) and keep the input's shape.
* A literal `kernel_initializer` gives the kernel size when `kernel_size` is omitted. For `conv2d`
  a matrix (rows, cols) is one kernel used for every (input channel, filter) pair; a 3-D array
  (rows, cols, in) is used for every filter; a 4-D array is the whole Keras kernel. For `conv1d` a
  list (k,) likewise, then (k, in), then (k, in, filters). The weight count is that of the full Keras
  kernel, `prod(kernel_size) * in * filters`.
* Receptive field: per spatial axis, (size, jump) starts at (1, 1) at the first convolution or
  pooling and grows by `(window - 1) * jump` (window = `dilation * (k - 1) + 1`), then
  `jump *= stride`. Padding is ignored, as usual, so a field may exceed the image. Layers that keep
  the spatial axes (dropout, normalisation, activation, a `dense` on the channels) carry it; global
  pooling, flatten, reshape, recurrent layers and embeddings end it (None).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any, Callable

from . import specs
from .errors import Diagnostic, NetError, Span, did_you_mean
from .resolution import flat_layers, resolve
from .values import DATA_NAMES, FLOAT32_MAX, evaluate

__all__ = ["Sym", "Row", "Summary", "analyse", "LAYER_RULES", "metric_problems", "check_metrics", "output_activation", "layer_names"]


# ---- a tiny symbolic integer -------------------------------------------------------------------


class Sym:
    """An integer polynomial over names (`64*n_features + 64`), for dimensions and weight counts
    that depend on data-bound names not yet bound.

    `+`, `-` and `*` are exact. Division by an integer is exact where every coefficient divides;
    otherwise (and for anything else, such as dividing by a symbol) the result is an opaque symbol
    named by its expression, e.g. `(n_features - 3) // 2`. Results that are constant are plain ints.
    """

    __slots__ = ("terms",)

    def __init__(self, name: str | None = None, *, terms: dict | None = None):
        # monomial (sorted tuple of names, repeated for powers) -> non-zero integer coefficient
        self.terms: dict[tuple[str, ...], int] = {(name,): 1} if terms is None else terms

    # -- construction ---------------------------------------------------------------------

    @staticmethod
    def _make(terms: dict):
        terms = {m: c for m, c in terms.items() if c != 0}
        if not terms:
            return 0
        if set(terms) == {()}:
            return terms[()]
        return Sym(terms=terms)

    @staticmethod
    def _terms(value) -> dict | None:
        if isinstance(value, Sym):
            return value.terms
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, int) and not isinstance(value, bool):
            return {(): value} if value else {}
        return None  # not an integer: the result becomes opaque

    @staticmethod
    def _opaque(left, op: str, right) -> "Sym":
        return Sym(f"{_paren(left)} {op} {_paren(right)}")

    # -- arithmetic -----------------------------------------------------------------------

    def __add__(self, other):
        terms = Sym._terms(other)
        if terms is None:
            return Sym._opaque(self, "+", other)
        out = dict(self.terms)
        for m, c in terms.items():
            out[m] = out.get(m, 0) + c
        return Sym._make(out)

    __radd__ = __add__

    def __neg__(self):
        return Sym._make({m: -c for m, c in self.terms.items()})

    def __sub__(self, other):
        if Sym._terms(other) is None:
            return Sym._opaque(self, "-", other)
        return self + (-other)

    def __rsub__(self, other):
        if Sym._terms(other) is None:
            return Sym._opaque(other, "-", self)
        return (-self) + other

    def __mul__(self, other):
        terms = Sym._terms(other)
        if terms is None:
            return Sym._opaque(self, "*", other)
        out: dict = {}
        for m1, c1 in self.terms.items():
            for m2, c2 in terms.items():
                m = tuple(sorted(m1 + m2))
                out[m] = out.get(m, 0) + c1 * c2
        return Sym._make(out)

    __rmul__ = __mul__

    def __truediv__(self, other):
        if isinstance(other, int) and not isinstance(other, bool) and other != 0:
            if all(c % other == 0 for c in self.terms.values()):
                return Sym._make({m: c // other for m, c in self.terms.items()})
        return Sym._opaque(self, "/", other)

    def __rtruediv__(self, other):
        return Sym._opaque(other, "/", self)

    def __floordiv__(self, other):
        if isinstance(other, int) and not isinstance(other, bool) and other != 0:
            # (P + c) // d == P/d + c // d whenever d divides every coefficient of P.
            if all(c % other == 0 for m, c in self.terms.items() if m):
                out = {m: c // other for m, c in self.terms.items() if m}
                out[()] = self.terms.get((), 0) // other
                return Sym._make(out)
        return Sym._opaque(self, "//", other)

    def __rfloordiv__(self, other):
        return Sym._opaque(other, "//", self)

    # -- comparison and text --------------------------------------------------------------

    def __eq__(self, other):
        return isinstance(other, Sym) and self.terms == other.terms

    def __hash__(self):
        return hash(frozenset(self.terms.items()))

    def __str__(self) -> str:
        order = sorted(self.terms, key=lambda m: (-len(m), m))
        text = ""
        for i, m in enumerate(order):
            c = self.terms[m]
            factors = [f"({a})" if " " in a and (len(m) > 1 or abs(c) != 1) else a for a in m]
            body = "*".join(factors) if m else str(abs(c))
            if m and abs(c) != 1:
                body = f"{abs(c)}*{body}"
            if i == 0:
                text = ("-" if c < 0 else "") + body
            else:
                text += (" - " if c < 0 else " + ") + body
        return text

    def __repr__(self) -> str:
        return f"Sym({str(self)!r})"

    def subs(self, values: dict):
        """The polynomial with some names given values (an int once all are). Opaque symbols are
        substituted only as a whole (`subs({"n_features // 2": 32})`)."""
        out = 0
        for monomial, coefficient in self.terms.items():
            term = coefficient
            for name in monomial:
                term = term * values.get(name, Sym(name))
            out = out + term
        return out


def _paren(value) -> str:
    text = str(value)
    return f"({text})" if " " in text or text.startswith("-") else text


def _known(*values) -> bool:
    """Whether all values are plain integers (so they can be compared)."""
    return all(isinstance(v, int) and not isinstance(v, bool) for v in values)


def _prod(values):
    out = 1
    for v in values:
        out = out * v
    return out


def _json(value):
    if isinstance(value, Sym):
        return str(value)
    if isinstance(value, tuple):
        return [_json(v) for v in value]
    return value


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

    def to_dict(self) -> dict:
        return {
            **({"base": self.base} if self.base is not None else {}),
            "path": list(self.path),
            "kind": self.kind,
            "name": self.name,
            "output_shape": _json(self.output_shape),
            "params": _json(self.params),
            "trainable": self.trainable,
            "non_trainable_params": _json(self.non_trainable_params),
            "receptive_field": _json(self.receptive_field),
            "span": None if self.span is None else vars(self.span).copy(),
        }


@dataclass
class Summary:
    """What `analyse` found: one row per layer (augmentation first) and the totals."""

    rows: list[Row]
    total_params: Any
    trainable_params: Any
    non_trainable_params: Any
    input_shape: tuple
    output_shape: tuple
    unfrozen: tuple = ()  # names of the layers `fine_tune = unfreeze(...)` makes trainable
    fine_tune_trainable_params: Any = None  # trainable weights during that second stage

    def to_dict(self) -> dict:
        """Plain JSON data: shapes as lists, symbolic dimensions and counts as strings."""
        return {
            **({"fine_tune": {"unfrozen": list(self.unfrozen), "trainable_params": _json(self.fine_tune_trainable_params)}}
               if self.unfrozen else {}),
            "input_shape": _json(self.input_shape),
            "output_shape": _json(self.output_shape),
            "total_params": _json(self.total_params),
            "trainable_params": _json(self.trainable_params),
            "non_trainable_params": _json(self.non_trainable_params),
            "rows": [row.to_dict() for row in self.rows],
        }


# ---- the walk ----------------------------------------------------------------------------------

KEEP = "keep"  # in `_Out`: the output keeps the input's dtype / receptive field


@dataclass(frozen=True)
class _Tensor:
    """What flows between layers: one sample's shape, what its values are, the receptive field."""

    shape: tuple
    # "string" (raw text), "tokens" (ints from text_vectorization), "raw" (the numeric input,
    # possibly integer ids) or "float" (anything a layer computed).
    dtype: str
    field: tuple | None = None  # ((size, jump), ...) per spatial axis
    made_by: str = "the input"  # who produced it, for messages
    vocabulary: Any = None  # "tokens": text_vectorization's `max_tokens` (the ids are below it), None if unbounded


@dataclass
class _Out:
    """A rule's result: the output shape and weights; `frozen` weights are never trained."""

    shape: tuple
    params: Any = 0
    frozen: Any = 0
    field: Any = KEEP
    dtype: str | None = None  # None: floats made by this layer; KEEP: the input's


class _Problem(Exception):
    """A shape problem that leaves the output unknown: ends the walk."""

    def __init__(self, title: str, help: str | None = None, arg: str | None = None):
        super().__init__(title)
        self.title, self.help, self.arg = title, help, arg
        self.about_input = False  # the input's declaration is worth showing next to it


@dataclass
class _Ctx:
    """What a rule knows besides the layer and its input, and where it records soft problems."""

    kind: str
    after: str  # "(after layer 2)" or "(from `input`)"
    source: str  # "layer 2 (`max_pooling2d`, line 14)" or "the input"
    from_input: bool
    text_input: bool
    notes: list = field(default_factory=list)
    filename: str = "<string>"  # of the `.net` file: relative paths (`embeddings=`) are read from its folder
    previous: Any = None  # the layer that made the input (None: the input itself), for advice

    def note(self, title: str, help: str | None = None, arg: str | tuple | None = None):
        """A problem after which the output shape is still known: reported, and the walk goes on."""
        self.notes.append(_Problem(title, help, arg))


def analyse(net: specs.Net, params: dict | None = None, data: dict | None = None, *, training: bool = True) -> Summary:
    """Output shapes, weight counts and receptive fields of every layer of `net` (parameters at
    `params` or their defaults, data-bound names bound from `data` or left symbolic).
    Raises `NetError` with every shape problem found, located at the layer that has it.
    `training=False` leaves out the checks of the `train` block and of memory (for building the
    layers, where the estimator has checked them against the settings it trains with)."""
    resolved = resolve(net, params, data)
    # Names `data` gives are substituted by `resolve`, except in the omitted input's `(n_features)`.
    env = {name: (data or {}).get(name, Sym(name)) for name in DATA_NAMES}
    source, filename = resolved.source.text, resolved.source.filename
    span_of = resolved.source.span

    text_input = resolved.input is not None and resolved.input.text
    if text_input:
        x = _Tensor((), "string")
    elif resolved.input is None or resolved.input.shape is None:
        x = _Tensor((env["n_features"],), "raw")
    else:
        x = _Tensor(tuple(evaluate(d, env) for d in resolved.input.shape), "raw")
    input_shape = x.shape
    input_span = span_of(("input",)) if resolved.input is not None else None

    problems: list[Diagnostic] = []
    rows: list[Row] = []
    layers, base_names = _expand(resolved, span_of, problems)
    names = _Names(taken=base_names)
    walked: list = []  # (row, bound layer) of the net's layers, in order

    def step(path, layer, x, ctx, index, base=None):
        span = span_of(path)
        bound = _bind(layer, env)
        ctx.filename = filename
        try:
            out = _apply(bound, x, ctx)
        except _Problem as problem:
            problems.extend(_diagnostic(p, path, span, span_of, ctx, input_span) for p in ctx.notes + [problem])
            return None
        problems.extend(_diagnostic(p, path, span, span_of, ctx, input_span) for p in ctx.notes)
        trainable = bool(bound.trainable) and bool(getattr(getattr(bound, "layer", None), "trainable", True))
        frozen = out.params if not trainable else out.frozen
        line = f", line {span.line}" if span is not None else ""
        made_by = f"layer {index} (`{layer.kind}`{_mode(bound)}{line})" if index else f"`{layer.kind}`"
        y = _Tensor(
            tuple(out.shape),
            x.dtype if out.dtype is KEEP else (out.dtype or "float"),
            x.field if out.field is KEEP else out.field,
            x.made_by if out.dtype is KEEP else made_by,
            bound.max_tokens if layer.kind == "text_vectorization" else x.vocabulary,
        )
        if base is not None:
            _check_base_fit(bound, base[0], x, out, ctx, span, problems)
        rows.append(
            Row(path, layer.kind, names.take(bound), y.shape, out.params, trainable,
                None if y.field is None else tuple(size for size, _ in y.field), span, frozen,
                base=None if base is None else base[1], fixed_params=out.frozen)
        )
        if index:
            walked.append((rows[-1], bound))
        return y

    for i, layer in enumerate(resolved.augment):
        ctx = _Ctx(layer.kind, "(from `input`)", "the input", True, text_input)
        step(("augment", i, layer.kind), layer, x, ctx, 0)  # checked against the input; shape kept

    previous = None  # (number, kind, span) of the layer that made `x`
    for number, (path, layer, base) in enumerate(layers, 1):
        if previous is None:
            ctx = _Ctx(layer.kind, "(from `input`)", "the input", True, text_input)
        else:
            n, kind, span = previous
            line = f", line {span.line}" if span is not None else ""
            ctx = _Ctx(layer.kind, f"(after layer {n})", f"layer {n} (`{kind}`{line})", False, text_input)
            ctx.previous = walked[-1][1] if walked else None
        y = step(path, layer, x, ctx, number, base)
        if y is None:
            break
        x, previous = y, (number, layer.kind, span_of(path))

    unfrozen, stage_two = (), None
    walked_whole = not problems  # the output is known: its metrics can be checked
    if not problems:
        _check_names(rows, "text" if text_input else "input", span_of, problems)
        unfrozen, stage_two = _freeze(resolved, rows, span_of, problems)
    if training:
        _check_training(resolved, walked if walked_whole else [], span_of, problems)
    if training and not problems:
        _check_memory(resolved, rows, problems)
    if problems:
        problems.sort(key=lambda d: (d.span.line, d.span.col) if d.span is not None else (0, 0))
        raise NetError(problems, source, filename)
    total = sum((row.params for row in rows), 0)
    frozen = sum((row.non_trainable_params for row in rows), 0)
    return Summary(rows, total, total - frozen, frozen, input_shape, x.shape, unfrozen, stage_two)


def layer_names(net: specs.Net, params: dict | None = None, data: dict | None = None) -> dict[tuple, str]:
    """Source path -> the name `netdsl show` gives the layer there (augmentation layers included;
    a base's layers at `(..., "pretrained", "base", j, kind)`): the one place names are decided, so
    the built model must name its layers exactly so. Given names are kept; the others get Keras's
    automatic names (`dense`, `dense_1`, ...) in the file's order, skipping every name the file or a
    base gives, whatever Keras models exist in the process."""
    return {row.path: row.name for row in analyse(net, params, data, training=False).rows}


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


def _diagnostic(problem: _Problem, path, span, span_of, ctx: _Ctx, input_span) -> Diagnostic:
    where = span
    if problem.arg is not None:  # an argument's name, or a path into a nested call (`("layer", "gru", "unroll")`)
        found = span_of(path + (problem.arg if isinstance(problem.arg, tuple) else (problem.arg,)))
        where = found or span
    related = None
    if ctx.from_input and input_span is not None and problem.about_input:
        related = (input_span, "the input is declared here")
    return Diagnostic(problem.title, where, help=problem.help, related=related)


class _Names:
    """Keras's automatic layer names: the snake-case class name, then `_1`, `_2`, ... per name."""

    def __init__(self, taken=()):
        self.counts: dict[str, int] = {}
        self.taken = set(taken)  # names of layers taken from a base: automatic names skip them

    def _auto(self, kind: str) -> str:
        while True:
            n = self.counts.get(kind, 0)
            self.counts[kind] = n + 1
            name = kind if n == 0 else f"{kind}_{n}"
            if name not in self.taken:
                return name

    def take(self, layer) -> str:
        inner = getattr(layer, "layer", None)
        if inner is not None and inner.name is None:
            self._auto(inner.kind)  # Keras names the wrapped layer first, using up its name
        return layer.name if layer.name is not None else self._auto(layer.kind)


# Layers whose weights are sized by the input's last axis: Keras must know it when it builds them.
_SIZED_BY_LAST_AXIS = frozenset({"dense", "conv1d", "conv2d", "simple_rnn", "lstm", "gru", "bidirectional"})


def _of_steps(dim) -> bool:
    """Whether a size depends on `steps` (a text's token count without `output_sequence_length`),
    which no data-bound name gives before Keras builds the layers."""
    return isinstance(dim, Sym) and any("steps" in name for monomial in dim.terms for name in monomial)


def _beyond_float32(value, at=()) -> tuple | None:
    """The index path of the first number of a literal array that float32 cannot hold, or None."""
    if isinstance(value, (list, tuple)):
        if set(map(type, value)) <= {int, float} and max(map(abs, value), default=0) <= FLOAT32_MAX:
            return None  # a row in range, checked in C: a 1000x1000 kernel is a million numbers
        for i, item in enumerate(value):
            found = _beyond_float32(item, at + (i,))
            if found is not None:
                return found
        return None
    return at if isinstance(value, float) and not abs(value) <= FLOAT32_MAX else None


def _apply(layer, x: _Tensor, ctx: _Ctx) -> _Out:
    """One layer: the text check every layer but `text_vectorization` shares, then its rule."""
    if x.dtype == "string" and layer.kind != "text_vectorization":
        raise _Problem(
            f"`{layer.kind}` cannot read raw text",
            help="`input text` gives one string per sample: start the net with `text_vectorization(...)`, "
            "which turns the strings into tokens (then `embedding(...)` for vectors)",
        )
    for argument in ("kernel_initializer", "bias_initializer", "embeddings_initializer"):
        literal = getattr(layer, argument, None)
        where = _beyond_float32(literal)
        if where is not None:
            number = literal
            for i in where:
                number = number[i]
            ctx.note(f"the literal `{argument}` holds {number:g} (at [{', '.join(str(i) for i in where)}]), beyond "
                     "float32's range (about ±3.4e38)",
                     help="Keras keeps weights as 32-bit floats: the number would become infinite", arg=(argument, *where))
    if layer.kind in _SIZED_BY_LAST_AXIS and x.shape and _of_steps(x.shape[-1]):
        raise _Problem(
            f"`{layer.kind}` needs a known number of inputs, but gets {x.shape[-1]} {ctx.after}: the number of "
            "steps is known only once the texts are read",
            help="give `text_vectorization` an `output_sequence_length=...`, or pool over the steps "
            "(`global_average_pooling1d`) instead of `flatten`",
        )
    out = LAYER_RULES[layer.kind](layer, x, ctx)
    if getattr(layer, "activation", None) == "softmax" and layer.kind in ("dense", "conv1d", "conv2d", "activation") \
            and out.shape and _known(out.shape[-1]) and out.shape[-1] == 1:
        ctx.note("`softmax` over a single value is always 1", arg="activation",
                 help="it normalises over the last axis, here of size 1, so nothing could be learned: use `sigmoid` "
                 "for one output in [0, 1] (two classes), or give one unit per class with `softmax`")
    if any(_known(d) and d < 1 for d in out.shape):
        raise _Problem(
            f"`{layer.kind}` would output a dimension of size 0: {_shape_text(out.shape)} {ctx.after}",
            help="every dimension must be at least 1; use smaller windows or strides, or `padding=same`",
        )
    return out


# ---- pretrained layers, names and freezing ----------------------------------------------------


def _expand(resolved: specs.Net, span_of, problems: list) -> tuple[list, set]:
    """The layers in order, each `pretrained` replaced by the saved net's layers it takes (path
    `(..., "pretrained", "base", j, kind)`, so they are located at the `pretrained` line), and the
    names automatic names must avoid (the base's and those the file gives)."""
    from .saved import SavedNetError, open_base

    items, avoid = [], set()
    for path, layer in flat_layers(resolved):
        if layer.kind != "pretrained":
            items.append((path, layer, None))
            if isinstance(layer.name, str):
                avoid.add(layer.name)
            continue

        def fail(title, help, arg=None):
            problems.append(Diagnostic(title, span_of(path + (arg,)) if arg else span_of(path), help=help))

        if "repeat" in path:
            fail("`pretrained` cannot be repeated", "take the saved net once, outside `repeat { }`")
            break
        if layer.name is not None:
            fail("`pretrained` takes no `name`", "its layers keep their names from the saved net (`netdsl show` lists them)", "name")
            break
        try:
            base = open_base(layer.path, resolved.source.filename)
        except SavedNetError as error:
            fail(error.title, error.help, "path")
            break
        if base.unsafe and not layer.trust:
            fail(f"`{base.path.name}` holds {base.unsafe}, whose Python code would run when the base is loaded",
                 f'take it only from a file you trust, with `pretrained("{layer.path}", trust=true)`', "path")
            break
        if layer.up_to is not None and layer.up_to not in [b.name for b in base.layers]:
            hint = did_you_mean(layer.up_to, base.names)
            fail(f"`{base.path.name}` has no layer `{layer.up_to}`",
                 (f"{hint} " if hint else "") + "its layers: " + ", ".join(base.names), "up_to")
            break
        taken = base.taken(layer.up_to)
        unreadable = next((b for b in taken if b.spec is None), None)
        if unreadable is not None:
            before = [b.name for b in taken[: taken.index(unreadable)]]
            fail(f"cannot take layer `{unreadable.name}` (Keras class `{unreadable.keras_class}`) from "
                 f"`{base.path.name}`: {unreadable.problem}",
                 f'take the layers before it with `up_to="{before[-1]}"`' if before
                 else "netdsl takes a chain of the layer kinds it knows (docs/language.md)")
            break
        for j, saved in enumerate(taken):
            spec = saved.spec.model_copy(update={"trainable": layer.trainable})
            if getattr(spec, "layer", None) is not None:
                spec = spec.model_copy(update={"layer": spec.layer.model_copy(update={"trainable": layer.trainable})})
            items.append((path + ("base", j, spec.kind), spec, (saved, base.path.name)))
            avoid.add(saved.name)
    return items, avoid


def _check_base_fit(layer, saved, x: _Tensor, out: _Out, ctx: _Ctx, span, problems: list) -> None:
    """A base layer's trained weights fit only the input it was built for: say so if it gets another."""
    if saved.built_for is None or None in saved.built_for or not _known(out.params) or not out.params:
        return
    try:
        expected = _apply(layer, _Tensor(tuple(saved.built_for), x.dtype), _Ctx(ctx.kind, "", "", False, False)).params
    except _Problem:
        return
    if _known(expected) and expected != out.params:
        problems.append(Diagnostic(
            f"base layer `{saved.name}` (`{layer.kind}`) was built for input {_batch_text(saved.built_for)}, "
            f"but gets {_batch_text(x.shape)} here",
            span,
            help=f"its {expected:,} trained weights fit only that input ({out.params:,} would be needed here): "
            "change what comes before it, or take the base only up to a layer before it with `up_to=...`",
        ))


# What TensorFlow accepts in a layer's name (its name scopes: `[A-Za-z0-9_.\\/>-]`), less what
# Keras refuses (`/`) and what fails when the graph is built (`\\`).
_NAME_CHARACTERS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.->")


def _check_names(rows: list[Row], input_name: str, span_of, problems: list) -> None:
    """Layer names are how layers are referred to (`freeze`, `unfreeze`, Keras): one layer each, none
    the input's (`input`, or `text`), and only characters TensorFlow takes, so that the built model
    has exactly the names `show` gives."""
    import json

    for row in rows:
        if row.base is not None:
            continue  # named by Keras when the base was saved
        where = span_of(row.path + ("name",))
        bad = [c for c in row.name if c not in _NAME_CHARACTERS]
        if not row.name:
            problems.append(Diagnostic("empty layer name", where,
                                       help="give a name such as `\"hidden\"`, or leave `name` out for an automatic one"))
        elif bad:
            shown = json.dumps(bad[0], ensure_ascii=False)[1:-1]
            problems.append(Diagnostic(
                f"layer name {json.dumps(row.name, ensure_ascii=False)} holds `{shown}`, which TensorFlow refuses in names",
                where, help="a layer name may hold ASCII letters, digits, `_`, `.`, `-` and `>`, e.g. `\"conv_1\"`",
            ))
        elif row.name == input_name:
            problems.append(Diagnostic(
                f"a layer named `{input_name}`, the name of the net's input", where,
                help=f"the input layer is named `{input_name}`: choose another name",
            ))
    first: dict[str, Row] = {}
    for row in rows:
        if row.name not in first:
            first[row.name] = row
            continue
        where = row.span if row.base is not None else span_of(row.path + ("name",))
        earlier = first[row.name]
        origin = f" (from `{earlier.base}`)" if earlier.base else ""
        line = f" on line {earlier.span.line}{origin}" if earlier.span is not None else origin
        problems.append(Diagnostic(
            f"a second layer named `{row.name}`", where,
            help=f"the first is{line}; layer names must be unique in a file: rename one",
        ))


def _freeze(resolved: specs.Net, rows: list[Row], span_of, problems: list) -> tuple[tuple, Any]:
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
            help=(f"{hint} " if hint else "") + "the layers: " + ", ".join(names),
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
        ))
    chosen = {id(row) for row in unfrozen}
    trainable = sum((row.params - row.fixed_params for row in rows if row.trainable or id(row) in chosen), 0)
    return tuple(row.name for row in unfrozen), trainable


# ---- training settings against the net --------------------------------------------------------

# Layers after which the outputs keep the values the layer before made (and so its activation).
_KEEPS_VALUES = frozenset({"dropout", "spatial_dropout1d", "spatial_dropout2d", "gaussian_noise", "flatten", "reshape"})
_REGRESSION_METRICS = frozenset({
    "mse", "mae", "rmse", "mean_squared_error", "mean_absolute_error", "root_mean_squared_error", "r2_score", "mape", "msle",
})  # fmt: skip
TOP_K = 5  # Keras's default `k` of top_k_categorical_accuracy, which a `.net` file cannot change


def output_activation(layers) -> str | None:
    """The activation that makes the net's outputs (`linear` for none), from its (bound) layers in
    order; None where it is not known statically (a recurrent or normalisation layer last)."""
    for layer in reversed(list(layers)):
        if layer.kind in ("dense", "conv1d", "conv2d", "activation"):
            return layer.activation if isinstance(layer.activation, str) else "linear"
        if layer.kind not in _KEEPS_VALUES:
            return None
    return None


def _targets(task: str, loss: str | None) -> str:
    """What the targets look like for a task: `sparse` (one integer class per sample), `one_hot`,
    `same` (a 0/1 value per output unit) or `values` (regression)."""
    if task == "multiclass":
        if loss in (None, "sparse_categorical_crossentropy"):
            return "sparse"
        return "one_hot"  # categorical_crossentropy, or a softmax fitted to distributions: one value per class
    return {"binary": "same", "multilabel": "same"}.get(task, "values")


def _metric_problem(metric: str, targets: str, n_classes) -> tuple[str, str] | None:
    """(title, help) when Keras cannot compute `metric` on these targets (or it would mean nothing)."""
    labels = "this softmax classifier's targets are integer class labels"
    if metric == "sparse_categorical_accuracy" and targets == "one_hot":
        return (f"`{metric}` compares integer labels, but with this loss the targets are one value per class (one-hot)",
                "use `accuracy` (Keras matches it to the targets) or `categorical_accuracy`")
    if metric == "sparse_categorical_accuracy" and targets != "sparse":
        return f"`{metric}` needs a softmax over classes", "use `accuracy`, which Keras matches to the output"
    if metric in ("categorical_accuracy", "top_k_categorical_accuracy"):
        if targets == "sparse":
            return (f"`{metric}` needs one-hot targets, but {labels}",
                    "set `loss = categorical_crossentropy` in `train { }` (one-hot targets), or use `accuracy`")
        if targets != "one_hot":
            return f"`{metric}` needs a softmax over classes", "use `accuracy`, which Keras matches to the output"
        if metric == "top_k_categorical_accuracy" and _known(n_classes) and n_classes <= TOP_K:
            return (f"`{metric}` counts a sample as right when its class is among the {TOP_K} most likely, but there "
                    f"are only {n_classes} classes: it would always be 1",
                    f"use `accuracy`; `{metric}` means something with more than {TOP_K} classes")
        return None
    if targets == "sparse" and metric != "accuracy":
        kind = "a regression metric" if metric in _REGRESSION_METRICS else "computed per output unit"
        return (f"`{metric}` is {kind}: it compares each output with a target of the same shape, but {labels}",
                "use `accuracy`; or end the net with `dense(1, activation=sigmoid)` for two classes; or set "
                "`loss = categorical_crossentropy` (one-hot targets) to compute it over the classes' outputs")
    return None


def metric_problems(net: specs.Net, task: str, loss: str | None = None, n_classes=None) -> list[Diagnostic]:
    """The `metrics` of `net`'s `train` block that Keras cannot compute for `task` (`binary`,
    `multiclass`, `multilabel` or `regression`) trained with `loss` (the loss the estimator uses:
    for `multiclass`, none or `sparse_categorical_crossentropy` means integer labels, any other loss
    one value per class),
    each located at its entry in `metrics`. The estimators call it in `fit`, where the task and the
    number of classes are known; `analyse` calls it with what the net itself says."""
    train = net.train
    if train is None:
        return []
    targets = _targets(task, loss)
    found = []
    for i, metric in enumerate(train.metrics):
        problem = _metric_problem(metric, targets, n_classes)
        if problem is not None:
            found.append(Diagnostic(problem[0], net.source.span(("train", "metrics", i)), help=problem[1]))
    return found


def check_metrics(net: specs.Net, task: str, loss: str | None = None, n_classes=None) -> None:
    """`metric_problems`, raised as one `NetError` (nothing when there are none)."""
    problems = metric_problems(net, task, loss, n_classes)
    if problems:
        raise net.source.error(problems)


def _check_training(resolved: specs.Net, walked: list, span_of, problems: list) -> None:
    """What `fit` would refuse in the `train` block: metrics, a cross-entropy loss or a `class_weight`
    list the net's output cannot have, monitors of values the net does not report, and optimizer
    arguments Keras refuses together."""
    train = resolved.train
    if train is None:
        return
    activation = output_activation(bound for _, bound in walked)
    units = walked[-1][0].output_shape[-1] if walked and walked[-1][0].output_shape else None
    task = {"softmax": "multiclass", "sigmoid": "binary" if units == 1 else "multilabel"}.get(activation)
    if task is not None:
        problems.extend(metric_problems(resolved, task, train.loss, units if task == "multiclass" else None))
    loss_span = span_of(("train", "loss"))
    source_lines = resolved.source.text.splitlines()
    written = (loss_span is not None and loss_span.line <= len(source_lines)
               and source_lines[loss_span.line - 1][loss_span.col - 1:].startswith(str(train.loss)))
    # Only a loss the file writes (an estimator's `loss`, put in the spec for the metrics, is checked by
    # the estimator: the file's line would be the wrong place).
    if written and train.loss in ("categorical_crossentropy", "sparse_categorical_crossentropy") \
            and activation not in (None, "softmax"):
        problems.append(Diagnostic(
            f"`{train.loss}` needs a softmax over classes, but the net ends in `{activation}`",
            loss_span,
            help="end with `dense(n_classes, activation=softmax)`, or for one sigmoid unit (two classes) use "
            "`binary_crossentropy`",
        ))
    classes = units if task == "multiclass" else 2 if task == "binary" else None
    weights = train.class_weight
    if isinstance(weights, tuple) and _known(classes) and len(weights) != classes:
        problems.append(Diagnostic(
            f"`class_weight` lists {len(weights)} weights, but the net's output has {classes} classes",
            span_of(("train", "class_weight")),
            help="give one weight per class, in the order of the sorted class labels, or `balanced`",
        ))
    reported = ["loss", *train.metrics]
    for i, callback in enumerate(train.callbacks):
        watched = callback.monitor.removeprefix("val_")
        if watched in reported:
            continue
        where = span_of(("train", "callbacks", i, callback.kind, "monitor"))
        names = [f"`{name}`" for name in reported]
        offered = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
        offered += (f", and `val_{reported[0]}`" if len(names) == 1 else ", and their `val_` values") + \
            " on the validation data (with `validation_split`)"
        if watched in specs.METRICS:
            hint = f"add `{watched}` to `metrics = [...]` in `train {{ }}`; the net reports {offered}"
        else:
            close = did_you_mean(callback.monitor, reported + [f"val_{name}" for name in reported])
            hint = (close + " " if close else "") + f"the net reports {offered}"
        problems.append(Diagnostic(
            f"`{callback.kind}` monitors `{callback.monitor}`, which the net does not report", where, help=hint,
        ))
    optimizer = train.optimizer
    if optimizer.clipnorm is not None and optimizer.clipvalue is not None:
        problems.append(Diagnostic(
            "`clipnorm` and `clipvalue` cannot both be set", span_of(("train", "optimizer", optimizer.kind, "clipvalue")),
            help="Keras clips gradients one way: keep one of the two",
        ))


def memory_limit() -> int | None:
    """This machine's memory in bytes (None where the system does not say): what a net must fit in."""
    import os

    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return None


def _optimizer_slots(optimizer) -> int:
    """Values the optimizer keeps per trained weight (Adam: two moment estimates)."""
    kind = optimizer.kind
    if kind in ("adam", "adamw"):
        return 2 + int(bool(optimizer.amsgrad))
    if kind == "sgd":
        return int(bool(optimizer.momentum))
    if kind == "rmsprop":
        return 1 + int(bool(optimizer.momentum)) + int(bool(optimizer.centered))
    return {"nadam": 2, "adagrad": 1, "adadelta": 2}.get(kind, 2)


def _bytes_text(size: float) -> str:
    for unit, scale in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6)):
        if size >= scale:
            return f"{size / scale:,.1f} {unit}"
    return f"{size / 1e3:,.1f} kB"


def _check_memory(resolved: specs.Net, rows: list[Row], problems: list) -> None:
    """A net whose training cannot fit in this machine's memory is refused at the layer that takes
    the most: 4 bytes per weight (float32), times (2 + the optimizer's slots) for a trained one
    (its gradient and the optimizer's state), plus each layer's outputs for one batch, twice (kept
    for the backward pass, and their gradients). An estimate from below: Keras needs more."""
    limit = memory_limit()
    if limit is None:
        return
    train = resolved.train or specs.Train()
    slots = _optimizer_slots(train.optimizer)
    batch = train.batch_size if _known(train.batch_size) else 1
    needs = []
    for row in rows:
        if not _known(row.params, row.non_trainable_params):
            continue
        trained = row.params - row.non_trainable_params
        weights = 4 * (trained * (2 + slots) + row.non_trainable_params)
        size = _prod(row.output_shape)
        outputs = 4 * 2 * batch * size if _known(size) else 0
        needs.append((weights + outputs, weights, outputs, trained, row))
    total = sum(need[0] for need in needs)
    if not needs or total <= limit:
        return
    most, weights, outputs, trained, row = max(needs, key=lambda need: need[0])
    what = f"`{row.kind}` needs" if most > limit else "the net needs"
    parts = []
    if weights:
        parts.append(f"{row.params:,} weights at 4 bytes" + (
            f", trained ones x{2 + slots} with their gradients and `{train.optimizer.kind}`'s state" if trained else ""))
    if outputs:
        parts.append(f"its outputs for a batch of {batch}, {_bytes_text(outputs)} with their gradients")
    problems.append(Diagnostic(
        f"{what} about {_bytes_text(total if most <= limit else most)} of memory to train, more than this "
        f"machine's {_bytes_text(limit)}", row.span,
        help=("this layer takes the most: " if most <= limit else "") + "; ".join(parts)
        + ": use fewer units or filters, a smaller input before it (pooling, strides), or a smaller `batch_size`",
    ))


# ---- text for messages -------------------------------------------------------------------------


def _shape_text(shape) -> str:
    """A shape as `.net` source writes it: `(8, 8, 1)`, `(64)`."""
    return "(" + ", ".join(str(d) for d in shape) + ")"


def _tuple_text(shape) -> str:
    """A tuple literal: `(64, 1)`, `(64,)`."""
    return "(" + ", ".join(str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"


def _batch_text(shape) -> str:
    return "(" + ", ".join(["batch"] + [str(d) for d in shape]) + ")"


def _sizes_text(values) -> str:
    """`3` for (3, 3), else `(3, 5)`."""
    values = tuple(values)
    return str(values[0]) if len(set(values)) == 1 else _shape_text(values)


def _dims_text(dims) -> str:
    return "x".join(str(d) for d in dims)


# ---- shared checks -----------------------------------------------------------------------------

_SPATIAL_RANK = {
    "conv1d": 1, "conv2d": 2, "max_pooling1d": 1, "max_pooling2d": 2, "average_pooling1d": 1,
    "average_pooling2d": 2, "global_average_pooling1d": 1, "global_average_pooling2d": 2,
    "global_max_pooling1d": 1, "global_max_pooling2d": 2, "spatial_dropout1d": 1, "spatial_dropout2d": 2,
}  # fmt: skip


def _need_rank(x: _Tensor, rank: int, ctx: _Ctx, layout: str):
    """Keras layers with an `input_spec` take exactly one rank; say what would make it fit."""
    if len(x.shape) == rank:
        return
    got = len(x.shape)
    problem = _Problem(
        f"`{ctx.kind}` needs a {rank + 1}-D input (batch, {layout}), got a {got + 1}-D tensor {_batch_text(x.shape)}",
        help=_rank_help(x.shape, rank, ctx),
    )
    problem.about_input = ctx.from_input
    raise problem


def _rank_help(shape: tuple, rank: int, ctx: _Ctx) -> str:
    def fixes(target):
        concrete = tuple(d if _known(d) else -1 for d in target)
        if list(concrete).count(-1) > 1:
            concrete = None
        options = []
        if ctx.from_input:
            options.append(f"declare `input {_shape_text(target)}`")
        if concrete is not None:
            options.append(f"add `reshape({_tuple_text(concrete)})` before it")
        return " or ".join(options) if options else "reshape it first"

    got = len(shape)
    inner = getattr(ctx.previous, "layer", ctx.previous)  # `bidirectional` wraps its recurrent layer
    if rank == 2 and got == 1 and inner is not None and inner.kind in _GATES and not inner.return_sequences:
        to = "it" if inner is ctx.previous else f"the `{inner.kind}(...)` it wraps"
        return (f"{ctx.source} outputs only its last step: add `return_sequences=true` to {to}, so that it "
                "outputs every step for this layer to read")
    if rank == 3:
        if got == 1:
            n = shape[0]
            root = math.isqrt(n) if _known(n) else None
            if root is not None and root * root == n:
                return f"if the {n} features are {root}x{root} pixels, " + fixes((root, root, 1))
            return (
                "an image is (height, width, channels) per sample: declare the input as one, "
                "e.g. `input (8, 8, 1)`, or add `reshape((height, width, channels))` before it"
            )
        if got == 2:
            return "it needs a channels axis: " + fixes(shape + (1,))
        return "an image is (height, width, channels) per sample; `reshape(...)` to that before it"
    if got == 1:
        n = shape[0]
        reshape = f"`reshape(({n if _known(n) else -1}, 1))`"
        if ctx.from_input:
            return (
                "a 2-D tensor (batch, features) has no steps axis: declare `input (steps, features)`, "
                f"e.g. `input ({n}, 1)` for {n} steps of one feature, or add {reshape} before it"
            )
        return f"a 2-D tensor (batch, features) has no steps axis: add {reshape} before it, for {n} steps of one feature"
    if got == 3 and _known(*shape):
        h, w, c = shape
        return f"to read an image row by row, add `reshape(({h}, {w * c}))` before it (or `flatten` it for `dense`)"
    return "a sequence is (steps, features) per sample; `reshape(...)` to that before it"


def _axis_size(axis, x: _Tensor, ctx: _Ctx):
    """Keras counts `axis` over the shape *with* the batch axis (-1: the last, 0: the batch)."""
    full = (None,) + tuple(x.shape)
    if not _known(axis) or not -len(full) <= axis < len(full):
        raise _Problem(
            f"`axis={axis}` is out of range for a {len(full)}-D tensor {_batch_text(x.shape)}",
            help="give an axis between 1 and the last (-1, the default, normalises the features)",
            arg="axis",
        )
    if full[axis] is None:
        raise _Problem(
            f"`axis={axis}` is the batch axis", help="normalise the features axis: `axis=-1` (the default)", arg="axis"
        )
    return full[axis]


def _per_axis(value, rank: int, what: str, ctx: _Ctx) -> tuple:
    """Keras's `standardize_tuple`: one number for every axis, or exactly one per axis."""
    if not isinstance(value, (tuple, list)):
        return (value,) * rank
    if len(value) == rank:
        return tuple(value)
    raise _Problem(
        f"`{what}` {_shape_text(value)} has {len(value)} numbers, but `{ctx.kind}` has {rank} spatial axis"
        + ("es" if rank > 1 else ""),
        help=f"give one number, or {rank}",
        arg=what,
    )


def _slide(x: _Tensor, windows, strides, padding: str, ctx: _Ctx, words: str, given_strides: bool = True) -> tuple:
    """Output size of a sliding window per spatial axis (Keras's `compute_conv_output_shape`):
    valid: floor((n - window) / stride) + 1; same and causal: ceil(n / stride)."""
    dims = x.shape[:-1]
    if given_strides and any(_known(n, stride) and stride > n for n, stride in zip(dims, strides)):
        ctx.note(f"`strides` {_sizes_text(strides)} step past the input's {_dims_text(dims)} {ctx.after}",
                 help="a step longer than the input reads only its first window, and TensorFlow may crash on it: "
                 f"use strides of at most {_sizes_text(dims)}, for the same output", arg="strides")
    out = []
    for n, window, stride in zip(dims, windows, strides):
        if padding == "valid":
            if _known(n, window) and window > n:
                before = "" if ctx.from_input else f"{ctx.source} outputs {_shape_text(x.shape)}; "
                raise _Problem(
                    f"{words} is larger than the input's {_dims_text(dims)} {ctx.after}",
                    help=f"{before}the output would have size 0: use a smaller window, `padding=same`, "
                    "or fewer pooling or strided layers before it",
                )
            out.append((n - window) // stride + 1)
        else:
            out.append((n - 1) // stride + 1)
    return tuple(out)


def _grow(field, windows, strides):
    """Receptive field after a window layer: size += (window - 1) * jump; jump *= stride."""
    if field is None or len(field) != len(windows):
        field = ((1, 1),) * len(windows)
    return tuple((size + (w - 1) * jump, jump * s) for (size, jump), w, s in zip(field, windows, strides))


def _array_shape(value):
    """Shape of a literal nested list, "ragged" if not rectangular, None if not a list."""
    if not isinstance(value, (list, tuple)):
        return None
    if not value or not isinstance(value[0], (list, tuple)):
        # `map(type, ...)` runs in C: a row of a 1000x1000 kernel is a thousand numbers.
        return "ragged" if not set(map(type, value)).isdisjoint((list, tuple)) else (len(value),)
    inner = [_array_shape(v) for v in value]
    if any(s == "ragged" or s != inner[0] for s in inner):
        return "ragged"
    return (len(value),) + inner[0]


def _check_bias(layer, size, ctx: _Ctx):
    shape = _array_shape(getattr(layer, "bias_initializer", None))
    if shape is not None and _known(size) and shape != (size,):
        ctx.note(
            f"the literal bias has shape {_shape_text(shape) if shape != 'ragged' else '(ragged)'}, "
            f"but `{ctx.kind}` has {size} outputs",
            help=f"give one number per output ({size})",
            arg="bias_initializer",
        )


# ---- rules, one per layer family ---------------------------------------------------------------


def _dense(layer, x: _Tensor, ctx: _Ctx) -> _Out:
    """Keras's Dense acts on the last axis only: (..., in) -> (..., units), with an (in, units)
    kernel and `units` biases, so on an image it is a 1x1 convolution (the field is kept)."""
    inputs = x.shape[-1]
    literal = _array_shape(layer.kernel_initializer)
    if literal is not None and literal != (inputs, layer.units) and _known(inputs, layer.units):
        ctx.note(
            f"the literal kernel has shape {_shape_text(literal) if literal != 'ragged' else '(ragged)'}, "
            f"but `dense` maps {inputs} inputs to {layer.units} units",
            help=f"give a matrix of {inputs} rows (one per input) and {layer.units} columns (one per unit)",
            arg="kernel_initializer",
        )
    _check_bias(layer, layer.units, ctx)
    params = inputs * layer.units + (layer.units if layer.use_bias else 0)
    return _Out(x.shape[:-1] + (layer.units,), params)


def _kernel_size(layer, rank: int, channels, ctx: _Ctx) -> tuple:
    """`kernel_size`, or the leading axes of a literal kernel (see the module docstring)."""
    literal = _array_shape(layer.kernel_initializer)
    if literal == "ragged":
        raise _Problem("the literal kernel is not rectangular", help="every row must have the same length",
                       arg="kernel_initializer")
    from_literal = None
    if literal is not None:
        if not rank <= len(literal) <= rank + 2:
            example = "[1, 0, -1]" if rank == 1 else "[[1, 0], [0, -1]]"
            raise _Problem(
                f"a literal kernel for `{ctx.kind}` has {rank} to {rank + 2} axes, got {len(literal)}",
                help=f"give one kernel such as `{example}`, used for every input channel and filter",
                arg="kernel_initializer",
            )
        from_literal = literal[:rank]
        extra, expected = literal[rank:], (channels, layer.filters)[: len(literal) - rank]
        if _known(*expected) and tuple(extra) != tuple(expected):
            ctx.note(
                f"the literal kernel has shape {_shape_text(literal)}, but after its {rank} spatial "
                f"ax{'es' if rank > 1 else 'is'} `{ctx.kind}` needs {_shape_text(expected)} "
                "(input channels, filters)",
                help="give only the spatial kernel, used for every input channel and filter, or the whole kernel",
                arg="kernel_initializer",
            )
    if layer.kernel_size is None:
        if from_literal is None:
            raise _Problem(f"`{ctx.kind}` needs `kernel_size`",
                           help="give it, e.g. `kernel_size=3`, or a literal kernel as `kernel_initializer=[...]`")
        return tuple(from_literal)
    kernel = _per_axis(layer.kernel_size, rank, "kernel_size", ctx)
    if from_literal is not None and tuple(from_literal) != kernel:
        ctx.note(
            f"kernel_size {_sizes_text(kernel)} does not match the literal kernel's {_dims_text(from_literal)}",
            help="drop `kernel_size`: the literal array gives it", arg="kernel_size",
        )
    return kernel


def _conv(layer, x: _Tensor, ctx: _Ctx) -> _Out:
    """Conv1D/Conv2D: a window slid over the spatial axes; prod(kernel) * in * filters weights
    plus one bias per filter. `causal` (conv1d) pads on the left only: sized like `same`."""
    rank = _SPATIAL_RANK[layer.kind]
    _need_rank(x, rank + 1, ctx, "height, width, channels" if rank == 2 else "steps, channels")
    channels = x.shape[-1]
    kernel = _kernel_size(layer, rank, channels, ctx)
    strides = _per_axis(layer.strides, rank, "strides", ctx)
    dilation = _per_axis(layer.dilation_rate, rank, "dilation_rate", ctx)
    if _known(*strides, *dilation) and max(strides) > 1 and max(dilation) > 1:
        ctx.note("`strides` above 1 cannot be combined with `dilation_rate` above 1",
                 help="Keras refuses the combination: use one or the other", arg="dilation_rate")
    windows = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))
    words = f"kernel_size {_sizes_text(kernel)}"
    if windows != kernel:
        words += f" with dilation_rate {_sizes_text(dilation)} spans {_sizes_text(windows)}, which"
    spatial = _slide(x, windows, strides, layer.padding, ctx, words)
    _check_bias(layer, layer.filters, ctx)
    params = _prod(kernel) * channels * layer.filters + (layer.filters if layer.use_bias else 0)
    return _Out(spatial + (layer.filters,), params, field=_grow(x.field, windows, strides))


def _pool(layer, x: _Tensor, ctx: _Ctx) -> _Out:
    """Max/average pooling: a window (default 2) slid with strides defaulting to the window;
    channels kept, no weights."""
    rank = _SPATIAL_RANK[layer.kind]
    _need_rank(x, rank + 1, ctx, "height, width, channels" if rank == 2 else "steps, channels")
    size = _per_axis(layer.pool_size, rank, "pool_size", ctx)
    strides = size if layer.strides is None else _per_axis(layer.strides, rank, "strides", ctx)
    spatial = _slide(x, size, strides, layer.padding, ctx, f"pool_size {_sizes_text(size)}", layer.strides is not None)
    return _Out(spatial + x.shape[-1:], field=_grow(x.field, size, strides))


def _global_pool(layer, x: _Tensor, ctx: _Ctx) -> _Out:
    """Pooling over all positions: (..., channels) -> (channels), or 1s in place with keepdims."""
    rank = _SPATIAL_RANK[layer.kind]
    _need_rank(x, rank + 1, ctx, "height, width, channels" if rank == 2 else "steps, channels")
    shape = (1,) * rank + x.shape[-1:] if layer.keepdims else x.shape[-1:]
    return _Out(shape, field=None)


def _flatten(layer, x: _Tensor, ctx: _Ctx) -> _Out:
    """Everything but the batch axis in one: the product of the dimensions. Values are kept, so
    integer tokens stay tokens."""
    return _Out((_prod(x.shape),), field=None, dtype=KEEP)


def _reshape(layer, x: _Tensor, ctx: _Ctx) -> _Out:
    """The same values in a new shape: the sizes must multiply to the input's; one -1 is inferred."""
    target = layer.target_shape
    if not isinstance(target, (tuple, list)) or not target or target.count(-1) > 1 or any(
        not _known(d) or (d < 1 and d != -1) for d in target
    ):
        raise _Problem(
            f"`target_shape` {target if not isinstance(target, (tuple, list)) else _shape_text(target)} is not a shape",
            help="give positive sizes, with at most one -1 for the size to infer, e.g. `reshape((8, 8, 1))`",
            arg="target_shape",
        )
    target = tuple(target)
    total = _prod(x.shape)
    known = _prod(d for d in target if d != -1)
    if -1 in target:
        if _known(total) and total % known:
            raise _Problem(
                f"cannot reshape {_shape_text(x.shape)} ({total} values) into {_shape_text(target)}: "
                f"{total} is not a multiple of {known}",
                help="the sizes must multiply to the input's size", arg="target_shape",
            )
        fill = total // known if _known(total) else total / known
        target = tuple(fill if d == -1 else d for d in target)
    elif _known(total) and total != known:
        raise _Problem(
            f"`reshape` to {_shape_text(target)} needs {known} values, "
            f"but its input {_shape_text(x.shape)} has {total}",
            help="the sizes must multiply to the input's size; write -1 for one of them to have it computed",
            arg="target_shape",
        )
    return _Out(target, field=None, dtype=KEEP)


def _same_shape(layer, x: _Tensor, ctx: _Ctx) -> _Out:
    """Element-wise layers (dropout, activation, rescaling, noise): shape kept, no weights."""
    return _Out(x.shape)


def _spatial_dropout(layer, x: _Tensor, ctx: _Ctx) -> _Out:
    """Drops whole channels, so it needs the layout it drops them from (Keras's input_spec)."""
    rank = _SPATIAL_RANK[layer.kind]
    _need_rank(x, rank + 1, ctx, "height, width, channels" if rank == 2 else "steps, channels")
    return _Out(x.shape)


def _image(layer, x: _Tensor, ctx: _Ctx) -> _Out:
    """Image augmentation (flip, rotation, translation, zoom, contrast) keeps the shape, but only
    means something on images (height, width, channels)."""
    _need_rank(x, 3, ctx, "height, width, channels")
    for argument, (low, high, low_open) in _FACTOR_RANGES.get(layer.kind, {}).items():
        _check_factor(getattr(layer, argument), argument, low, high, low_open, ctx)
    return _Out(x.shape)


# Keras's ranges of the augmentation factors (fraction of a turn, of the size, of the contrast):
# kind -> field -> (low, high, whether `low` itself is refused).
_FACTOR_RANGES = {
    "random_rotation": {"factor": (-1, 1, False)},
    "random_contrast": {"factor": (0, 1, False)},
    "random_translation": {"height_factor": (-1, 1, False), "width_factor": (-1, 1, False)},
    "random_zoom": {"height_factor": (-1, 1, True), "width_factor": (-1, 1, True)},
}


def _check_factor(value, field: str, low, high, low_open: bool, ctx: _Ctx) -> None:
    """A factor (or a (low, high) pair) outside what Keras takes for `field`, as Keras checks it."""
    if value is None:
        return
    numbers = list(value) if isinstance(value, (tuple, list)) else [value]
    if not all(isinstance(n, (int, float)) for n in numbers):
        return
    if isinstance(value, (tuple, list)) and ctx.kind in ("random_rotation", "random_contrast"):
        bad = len(numbers) == 2 and (numbers[0] > high or numbers[1] < low)  # Keras's check of a pair
    else:
        bad = any(n > high or n < low or (low_open and n == low) for n in numbers)
    if bad:
        interval = f"{'(' if low_open else '['}{low}, {high}]"
        ctx.note(f"`{field}` of `{ctx.kind}` must be in {interval}, got {_shape_text([format(n, 'g') for n in numbers]) if len(numbers) > 1 else format(numbers[0], 'g')}",
                 help=f"Keras takes a number in {interval}, or a (low, high) pair of them", arg=field)


def _batch_norm(layer, x: _Tensor, ctx: _Ctx) -> _Out:
    """Per channel of `axis`: gamma and beta (if scale/center) are trained; the moving mean and
    variance are not (2*C non-trainable weights, even when the layer is trainable)."""
    channels = _axis_size(layer.axis, x, ctx)
    learned = (int(bool(layer.center)) + int(bool(layer.scale))) * channels
    return _Out(x.shape, learned + 2 * channels, frozen=2 * channels)


def _layer_norm(layer, x: _Tensor, ctx: _Ctx) -> _Out:
    """Per entry of `axis`: gamma and beta (if scale/center), all trained."""
    channels = _axis_size(layer.axis, x, ctx)
    return _Out(x.shape, (int(bool(layer.center)) + int(bool(layer.scale))) * channels)


def _embedding(layer, x: _Tensor, ctx: _Ctx) -> _Out:
    """A lookup table of input_dim vectors: adds an axis of output_dim. It needs integer ids: the
    raw input or text_vectorization's tokens (flatten/reshape keep them); floats are an error."""
    if x.dtype == "float":
        ctx.note(
            f"`embedding` needs integer tokens, but {x.made_by} outputs floats",
            help="put `embedding` right after `text_vectorization(...)` (with output_mode=int), "
            "or first, on an input of integer ids",
        )
    if x.dtype == "tokens" and x.vocabulary is None:
        ctx.note(
            f"`embedding` reads tokens from a vocabulary of any size, but looks up only {layer.input_dim} of them",
            help=f"`text_vectorization` learns its vocabulary at fit, as large as the texts make it: give it "
            f"`max_tokens={layer.input_dim}` (or less)", arg="input_dim",
        )
    elif x.dtype == "tokens" and _known(x.vocabulary, layer.input_dim) and x.vocabulary > layer.input_dim:
        ctx.note(
            f"`embedding` looks up {layer.input_dim} tokens, but `text_vectorization` makes up to {x.vocabulary} "
            f"(`max_tokens={x.vocabulary}`)",
            help=f"give `input_dim` at least {x.vocabulary}, or `max_tokens={layer.input_dim}`", arg="input_dim",
        )
    literal = _array_shape(layer.embeddings_initializer)
    expected = (layer.input_dim, layer.output_dim)
    if literal is not None and literal != expected and _known(*expected):
        ctx.note(
            f"the literal `embeddings_initializer` has shape {_shape_text(literal) if literal != 'ragged' else '(ragged)'}, "
            f"but `embedding` has {_shape_text(expected)} vectors",
            help=f"give {layer.input_dim} rows (one per token) of {layer.output_dim} numbers", arg="embeddings_initializer",
        )
    if layer.embeddings is not None:
        _check_vectors(layer, x, ctx)
    return _Out(x.shape + (layer.output_dim,), layer.input_dim * layer.output_dim, field=None)


def _check_vectors(layer, x: _Tensor, ctx: _Ctx) -> None:
    """`embeddings=`: the vectors are matched to text_vectorization's vocabulary, so the ids must be
    its tokens; the file must exist and hold vectors of output_dim numbers (read from its first lines)."""
    from .vectors import static_problem

    if x.dtype == "raw":
        ctx.note(
            "`embeddings=` needs a `text_vectorization` before this embedding",
            help="pretrained vectors are matched to the words of the vocabulary `text_vectorization` learns at fit; "
            "on other integer ids they would mean nothing: read `input text` with `text_vectorization(...)` first, "
            "or drop `embeddings=`",
            arg="embeddings",
        )
    if isinstance(layer.embeddings_initializer, list):
        ctx.note(
            "`embeddings=` and a literal `embeddings_initializer` both give the vectors",
            help="keep one of the two",
            arg="embeddings",
        )
    if isinstance(layer.embeddings, str):
        problem = static_problem(layer.embeddings, ctx.filename, layer.output_dim if _known(layer.output_dim) else None)
        if problem is not None:
            ctx.note(*problem, arg="embeddings")


_GATES = {"simple_rnn": 1, "lstm": 4, "gru": 3}


def _rnn_weights(layer, features):
    """Keras's counts: gates * (in*units + units*units) weights, gates * units biases (doubled for
    a GRU with reset_after, which has separate input and recurrent biases)."""
    gates, units = _GATES[layer.kind], layer.units
    bias = gates * units * (2 if layer.kind == "gru" and layer.reset_after else 1) if layer.use_bias else 0
    return gates * (features * units + units * units) + bias


def _recurrent(layer, x: _Tensor, ctx: _Ctx) -> _Out:
    """SimpleRNN/LSTM/GRU read (steps, features); output (units), or (steps, units) with
    return_sequences."""
    _need_rank(x, 2, ctx, "steps, features")
    steps, features = x.shape
    _check_unroll(layer, steps, ctx)
    shape = (steps, layer.units) if layer.return_sequences else (layer.units,)
    return _Out(shape, _rnn_weights(layer, features), field=None)


def _check_unroll(layer, steps, ctx: _Ctx, where: str | tuple = "unroll") -> None:
    """Keras unrolls a loop only over a known number of steps."""
    if layer.unroll is True and not _known(steps):
        ctx.note("`unroll=true` needs a known number of steps", arg=where,
                 help="the sequence's length is known only at fit: fix it (`output_sequence_length=...` on "
                 "`text_vectorization`), or drop `unroll`")


def _bidirectional(layer, x: _Tensor, ctx: _Ctx) -> _Out:
    """Two copies of the recurrent layer (twice the weights); `concat` joins their features, the
    other merge modes keep the size."""
    inner = layer.layer
    _need_rank(x, 2, ctx, "steps, features")
    steps, features = x.shape
    _check_unroll(inner, steps, ctx, ("layer", inner.kind, "unroll"))
    if inner.go_backwards is True:
        ctx.note("`go_backwards=true` inside `bidirectional`", arg=("layer", inner.kind, "go_backwards"),
                 help="`bidirectional` runs the layer forwards and makes the backward copy itself: drop `go_backwards`")
    units = inner.units * 2 if layer.merge_mode == "concat" else inner.units
    shape = (steps, units) if inner.return_sequences else (units,)
    return _Out(shape, 2 * _rnn_weights(inner, features), field=None)


def _text_vectorization(layer, x: _Tensor, ctx: _Ctx) -> _Out:
    """Raw strings -> `int`: a token sequence of output_sequence_length (symbolic `steps` when not
    fixed); the other modes: one vector per text, as long as the vocabulary learned by `adapt`
    (symbolic `vocabulary_size`: Keras pads it to max_tokens only with pad_to_max_tokens, which
    the language does not have). No weights: the vocabulary is a lookup table, not trained."""
    if x.dtype != "string":
        if not ctx.text_input:
            problem = _Problem(
                "`text_vectorization` needs `input text`",
                help="it turns raw strings into tokens: declare `input text` (one string per sample), "
                "or drop it for numeric inputs",
            )
            problem.about_input = True
            raise problem
        raise _Problem(
            "`text_vectorization` must be the first layer",
            help=f"it reads raw strings, but its input comes from {ctx.source}; keep one `text_vectorization`, first",
        )
    if layer.split is None:
        ctx.note("`split=none` is not supported", arg="split",
                 help="netdsl reads one string per sample and splits it into tokens: use `whitespace` (the default) or `character`")
    smallest = 3 if layer.output_mode == "int" else 2  # room for a word beside the padding and out-of-vocabulary tokens
    if _known(layer.max_tokens) and layer.max_tokens < smallest:
        ctx.note(f"`max_tokens={layer.max_tokens}` leaves no room for a word", arg="max_tokens",
                 help=f"the vocabulary holds {'the padding token, ' if smallest == 3 else ''}the out-of-vocabulary token "
                 f"and then words: give at least {smallest}, or leave it out for no limit")
    if layer.output_mode != "int" and layer.output_sequence_length is not None:
        ctx.note("`output_sequence_length` needs `output_mode=int`", arg="output_sequence_length",
                 help=f"with `output_mode={layer.output_mode}` each text is one vector, not a sequence: drop it")
    if layer.output_mode == "int":
        length = layer.output_sequence_length if layer.output_sequence_length is not None else Sym("steps")
        return _Out((length,), field=None, dtype="tokens")
    return _Out((Sym("vocabulary_size"),), field=None)


LAYER_RULES: dict[str, Callable[[Any, _Tensor, _Ctx], _Out]] = {
    "dense": _dense,
    "conv1d": _conv,
    "conv2d": _conv,
    "max_pooling1d": _pool,
    "max_pooling2d": _pool,
    "average_pooling1d": _pool,
    "average_pooling2d": _pool,
    "global_average_pooling1d": _global_pool,
    "global_average_pooling2d": _global_pool,
    "global_max_pooling1d": _global_pool,
    "global_max_pooling2d": _global_pool,
    "flatten": _flatten,
    "reshape": _reshape,
    "dropout": _same_shape,
    "activation": _same_shape,
    "rescaling": _same_shape,
    "gaussian_noise": _same_shape,
    "spatial_dropout1d": _spatial_dropout,
    "spatial_dropout2d": _spatial_dropout,
    "random_flip": _image,
    "random_rotation": _image,
    "random_translation": _image,
    "random_zoom": _image,
    "random_contrast": _image,
    "batch_normalization": _batch_norm,
    "layer_normalization": _layer_norm,
    "embedding": _embedding,
    "simple_rnn": _recurrent,
    "lstm": _recurrent,
    "gru": _recurrent,
    "bidirectional": _bidirectional,
    "text_vectorization": _text_vectorization,
    "pretrained": None,  # replaced by the saved net's layers before the walk (`_expand`)
}
"""Layer kind -> rule: (bound layer, input tensor, context) -> output. Every kind of `specs.LAYERS`."""

assert set(LAYER_RULES) == set(specs.LAYERS), set(specs.LAYERS) ^ set(LAYER_RULES)
