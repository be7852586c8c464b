"""Binding a program's names: parameter values (defaults, or set from outside) and the data-bound
names (`n_features`, `n_classes`, `n_outputs`). The result is validated again, so a value set from
outside (`filters=0`) is reported at the line that uses it."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from . import specs
from .errors import Diagnostic, NetError, did_you_mean
from .graph import MAX_LAYERS
from .values import DATA_NAMES, Expr, evaluate


def parameter_values(net: specs.Net, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Every `param` with its value: the file's default unless `overrides` sets it."""
    overrides = dict(overrides or {})
    unknown = [key for key in overrides if key not in net.param_defaults]
    if unknown:
        names = list(net.param_defaults)
        listing = ", ".join(names) if names else "none"
        problems = [
            Diagnostic(
                f"unknown parameter `{key}`",
                help=(did_you_mean(key, names) or "") + f" (the file's parameters: {listing})", code="N507",
            )
            for key in unknown
        ]
        raise _error(net, problems)
    values: dict[str, Any] = {}
    for index, param in enumerate(net.params):
        if param.name in overrides:
            values[param.name] = overrides[param.name]
            continue
        try:
            values[param.name] = evaluate(param.default, values)
        except (TypeError, ArithmeticError) as error:  # `8 / z` with z = 0, a result beyond 64 bits
            raise net.source.located(f"cannot compute `{param.default}`: {error}", ("params", index, "default"),
                                     help="change the parameters this value is computed from", code="N508") from None
    return values


def resolve(net: specs.Net, params: dict[str, Any] | None = None, data: dict[str, int] | None = None) -> specs.Net:
    """`net` with parameters substituted and, where `data` gives them, the data-bound names bound.
    Data-bound names not given stay symbolic (`Expr`)."""
    env = parameter_values(net, params)
    unknown = set(data or {}) - set(DATA_NAMES)
    if unknown:
        raise ValueError(f"unknown data-bound names {sorted(unknown)}; expected some of {DATA_NAMES}")
    env.update(data or {})
    spans = net.source.spans
    problems: list[Diagnostic] = []
    raw = net.model_dump()
    read = dict(raw)  # the program's data as it was read (and validated)
    raw["params"] = [dict(p, default=env.get(p["name"], p["default"])) for p in raw["params"]]
    bound = _substitute(raw, env, (), spans, problems)
    if bound.get("input") is None and bound.get("layers") and bound["layers"][0].get("kind") == "pretrained":
        bound["input"] = _base_input(bound["layers"][0], net, spans, problems)  # a base's input is the net's
    if bound.get("input") is None and isinstance(env.get("n_features"), int):
        bound["input"] = {"shape": [env["n_features"]]}  # an omitted `input` is `(n_features)`
    if not problems:
        resolved, errors = _validated(net, read, bound)
        if errors:
            from .validation import translate

            problems = translate(errors, spans, env)
            overridden = {k: v for k, v in (params or {}).items()}
            if overridden:
                note = ", ".join(f"{k}={v!r}" for k, v in overridden.items())
                problems = [
                    Diagnostic(p.title, p.span, help=(p.help or "") + f" (with parameters set to {note})", related=p.related,
                               code=p.code)
                    for p in problems
                ]
    if not problems:
        problems = _size_problems(resolved, spans)
    if problems:
        raise _error(net, problems)
    resolved._source = net.source
    return resolved


def _validated(net: specs.Net, read: dict, bound: dict) -> tuple[specs.Net | None, list[dict]]:
    """`bound` (the program's data with the values put in) as a `Net`, or pydantic's error items
    with their paths in the program. The program was validated when it was read, so only the parts
    whose data changed here (a parameter's value, a data-bound name, an input added) are validated
    again, each by its own spec class, with the same errors a whole `Net` would give; the others
    are the program's own nodes (frozen). One fit thus validates its program once."""
    fields, errors = {}, []
    for name in specs.Net.model_fields:
        current, given, before = getattr(net, name), bound.get(name), read.get(name)
        if given == before:
            fields[name] = current
        elif isinstance(current, tuple):  # params, layers, augment: the same items, some changed
            tagged = name in ("layers", "augment")  # a union's items: pydantic's path names the kind
            fields[name] = tuple(
                item if data == old else _validate(type(item), data, (name, i) + ((item.kind,) if tagged else ()), errors)
                for i, (item, data, old) in enumerate(zip(current, given, before))
            )
        else:  # input, train
            cls = specs.Net.model_fields[name].annotation
            fields[name] = None if given is None else _validate(_node_class(cls), given, (name,), errors)
    return (None, errors) if errors else (specs.Net.model_construct(**fields), [])


def _node_class(annotation):
    """`Input` from `Input | None`."""
    import typing

    return next(a for a in typing.get_args(annotation) or (annotation,) if a is not type(None))


def _validate(cls, data, path: tuple, errors: list):
    try:
        return cls.model_validate(data)
    except ValidationError as error:
        errors.extend(dict(item, loc=path + tuple(item["loc"])) for item in error.errors(include_url=False))
        return None


def _substitute(value, env, path, spans, problems):
    if isinstance(value, dict) and "op" in value and set(value) <= {"op", "name", "args"}:
        expr = Expr.model_validate(value)
        try:
            result = evaluate(expr, env)
        except (TypeError, ArithmeticError) as error:  # ZeroDivisionError, OverflowError
            found = spans.find(path)[1] if hasattr(spans, "find") else None
            problems.append(Diagnostic(f"cannot compute `{expr}`: {error}", found,
                                       help="change the parameters this value is computed from", code="N508"))
            return value
        return result.as_data() if isinstance(result, Expr) else result
    if isinstance(value, dict):
        tagged = path + (value["kind"],) if "kind" in value else path  # pydantic's loc names the union tag
        return {k: _substitute(v, env, tagged + (k,), spans, problems) if k != "kind" else v for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        if set(map(type, value)) <= {int, float}:
            return value  # a row of a literal array (a million numbers): nothing to substitute
        return type(value)(_substitute(v, env, path + (i,), spans, problems) for i, v in enumerate(value))
    return value


def _base_input(layer: dict, net: specs.Net, spans, problems: list[Diagnostic]) -> dict | None:
    """`input` taken from the saved net of a first `pretrained` layer (None if it cannot be read)."""
    from .saved import SavedNetError, open_base

    try:
        shape = open_base(layer["path"], net.source.filename).input_shape
    except SavedNetError as error:
        where = spans.find(("layers", 0, "pretrained", "path"))[1]
        problems.append(Diagnostic(error.title, where, help=error.help, code=error.code))
        return None
    return None if shape is None or None in shape else {"shape": list(shape)}


def _layer_count(items) -> int:
    """Layers of `items` with `repeat` unrolled, counted without unrolling (nesting is bounded). A
    count an outer `repeat NAME in` sets is known only as `graph.wire` unrolls it, which stops at
    `MAX_LAYERS` itself: here it counts as 0."""
    total = 0
    for item in items:
        if isinstance(item, specs.Repeat):
            total += (item.times if isinstance(item.times, int) else 0) * _layer_count(item.body)
        elif isinstance(item, specs.Residual):
            total += _layer_count(item.body) + _layer_count(item.skip) + 1  # and its `add`
        elif not isinstance(item, specs.From):
            total += 1
    return total


def _size_problems(net: specs.Net, spans) -> list[Diagnostic]:
    """A located problem at the statement that takes the net past `MAX_LAYERS` layers, if any."""
    total = 0
    for part, items in (("layers", net.layers), ("augment", net.augment)):
        for index, item in enumerate(items):
            total += _layer_count([item])
            if total > MAX_LAYERS:
                where = spans.find((part, index))[1] if hasattr(spans, "find") else None
                what = f"this `repeat` makes {_layer_count([item]):,} layers" if isinstance(item, specs.Repeat) else "this is one too many"
                return [Diagnostic(
                    f"too many layers: more than {MAX_LAYERS:,} once `repeat` blocks are unrolled", where,
                    help=f"{what}; a net has at most {MAX_LAYERS:,} layers", code="N218",
                )]  # fmt: skip
    return []


def flat_layers(net: specs.Net) -> list[tuple[tuple, specs.Layer]]:
    """The layers in order with `repeat` blocks unrolled (and the `add` of each `residual`), each
    with its source path. A named layer inside `repeat` is named `NAME_1`, `NAME_2`, ... in its
    successive copies. What each reads is `graph.wire`'s (whose steps these are)."""
    from .graph import wire

    return [(step.path, step.layer) for step in wire(net).steps]


def _error(net: specs.Net, problems: list[Diagnostic]) -> NetError:
    return net.source.error(problems)
