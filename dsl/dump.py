"""Specs back to `.net` source: `dumps(net)` writes the program so that `loads(dumps(net)) == net`.

Only arguments that differ from their defaults are written; leading positional arguments are
written positionally, as a person would. The text is then put in canonical form by `fmt`.
"""

from __future__ import annotations

import json

from . import specs
from .values import Expr, expr_text


def dumps(net: specs.Net) -> str:
    from .format import format_source

    lines = [f"net {net.name}", ""]
    for param in net.params:
        text = f"param {param.name} = {value_text(param.default)}"
        if param.values is not None:
            text += f" in {value_text(list(param.values))}"
        elif param.range is not None:
            bounds = [param.range.low, param.range.high] + ([param.range.step] if param.range.step is not None else [])
            text += f" in {param.range.kind}({', '.join(value_text(b) for b in bounds)})"
        lines.append(text)
    if net.params:
        lines.append("")
    for declared in net.inputs or ((net.input,) if net.input is not None else ()):
        head = f"input {declared.name} " if declared.name else "input "
        lines.append(head + ("text" if declared.text else _shape(declared.shape)))
    if net.outputs:
        lines.append("output " + ", ".join(net.outputs))
    if net.inputs or net.input is not None or net.outputs:
        lines.append("")
    lines += _statements(net.layers, "")
    if net.augment:
        lines += ["", "augment {", *_statements(net.augment, "    "), "}"]
    if net.train is not None:
        lines += ["", "train {"]
        default = specs.Train()
        for field in specs.Train.model_fields:
            value = getattr(net.train, field)
            if field == "outputs":  # `digit.loss = ...`, one line per setting an output changes
                for output, own in value.items():
                    for key in type(own).model_fields:
                        if getattr(own, key) != type(own).model_fields[key].default:
                            written = getattr(own, key)
                            lines.append(f"    {output}.{key} = {value_text(list(written) if isinstance(written, tuple) else written)}")
                continue
            if value != getattr(default, field):
                written = list(value) if isinstance(value, tuple) else value  # lists, as people write them
                lines.append(f"    {field} = {value_text(written)}")
        lines.append("}")
    return format_source("\n".join(lines) + "\n")


def _shape(shape) -> str:
    return "(" + ", ".join(value_text(d) for d in shape) + ")"


def _statements(items, indent: str) -> list[str]:
    lines = []
    for item in items:
        if isinstance(item, specs.Repeat):
            values = list(item.values) if isinstance(item.values, tuple) else item.values  # a list, or a `param`
            head = value_text(item.count) if item.values is None else f"{item.variable} in {value_text(values)}"
            lines.append(f"{indent}repeat {head} {{")
            lines += _statements(item.body, indent + "    ")
            lines.append(f"{indent}}}")
        elif isinstance(item, specs.Residual):
            lines.append(f"{indent}residual {{")
            lines += _statements(item.body, indent + "    ")
            if item.skip:
                lines.append(f"{indent}}} skip {{")
                lines += _statements(item.skip, indent + "    ")
            lines.append(f"{indent}}}")
        elif isinstance(item, specs.From):
            lines.append(f"{indent}from {item.point}")
        elif isinstance(item.name, str) and item.name.isidentifier() and item.kind != "pretrained":
            unnamed = item.model_copy(update={"name": None})  # `x = dense(8)`: the name of the layer and its point
            lines.append(f"{indent}{item.name} = " + call_text(unnamed, bare_ok=True))
        else:
            lines.append(indent + call_text(item, bare_ok=True))
    return lines


def call_text(node: specs.Node, bare_ok: bool = False) -> str:
    """`kind(required..., key=value...)`: required arguments positionally (in Keras's order), the
    others by name, and only those that differ from their defaults."""
    cls = type(node)
    fields = [f for f in cls.model_fields if f != "kind"]
    required = [f for f in getattr(cls, "positional", ()) if cls.model_fields[f].is_required()]
    args = [value_text(getattr(node, f)) for f in required]
    variadic = getattr(cls, "variadic", None)
    if variadic is not None:  # `unfreeze("conv_*", "dense")`, `add(a, b)` (points by their bare names)
        required.append(variadic)
        point = isinstance(node, specs.Merge)
        args += [v if point and isinstance(v, str) and v.isidentifier() else value_text(v) for v in getattr(node, variadic)]
    for field in fields:
        info = cls.model_fields[field]
        value = getattr(node, field)
        if field in required or value == info.default:
            continue
        point = field in getattr(cls, "points", ()) and value.isidentifier()  # `value=encoded`: a point, bare
        args.append(f"{field}={value if point else value_text(value)}")
    if not args and bare_ok:
        return node.kind
    return f"{node.kind}({', '.join(args)})"


def value_text(value) -> str:
    from .words import KEYWORDS

    if isinstance(value, Expr):
        return expr_text(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "none"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return value if value.isidentifier() and value in KEYWORDS else json.dumps(value)
    if isinstance(value, specs.Node):
        return call_text(value)
    if isinstance(value, list):
        if value and all(isinstance(row, list) for row in value):  # a matrix of weights: `-1`, not `-1.0`
            # (below 2**53 only: `1e20` written as an integer would be a 21-digit literal)
            value = [[int(x) if isinstance(x, float) and x.is_integer() and abs(x) < 2**53 else x for x in row]
                     for row in value]
        if set(map(type, value)) <= {int, float}:  # a row of numbers, a million in a big kernel: joined in C
            return "[" + ", ".join(map(repr, value)) + "]"
        return "[" + ", ".join(value_text(v) for v in value) + "]"
    if isinstance(value, tuple):
        if len(value) == 1:
            return f"({value_text(value[0])},)"
        return "(" + ", ".join(value_text(v) for v in value) + ")"
    raise TypeError(f"cannot write {value!r} as .net source")  # pragma: no cover
