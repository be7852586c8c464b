"""pydantic's validation errors -> located diagnostics, told in the words of the language.

`translate` turns each error of a `ValidationError` into a `Diagnostic` at the source span its
`loc` came from (the loader's source map), one per spot: an unknown argument with a close name,
a missing one with the call's positional order, an unknown kind, a bare word that is no name...
"""

from __future__ import annotations

import typing

from pydantic import ValidationError

from . import specs
from .errors import Diagnostic, SourceMap, did_you_mean
from .kinds import LOSSES
from .layer_specs_sequence import NOT_WRAPPED
from .train_specs import LOSS_CALLS
from .values import DATA_NAMES, Label, describe
from .words import KEYWORDS, KINDS


def field_label(cls, field) -> str | None:
    """How the type of `cls.field` is described to people."""
    info = cls.model_fields.get(field) if field else None
    if info is None:
        return None
    for meta in info.metadata:
        if isinstance(meta, Label):
            return str(meta)
    return label_of(info.annotation)


def label_of(annotation) -> str | None:
    """How a field's type is described to people, from its `Label` metadata."""
    if typing.get_origin(annotation) is typing.Annotated:
        for meta in annotation.__metadata__:
            if isinstance(meta, Label):
                return str(meta)
        return label_of(typing.get_args(annotation)[0])
    if typing.get_origin(annotation) in (typing.Union, getattr(__import__("types"), "UnionType", None)):
        parts = [label_of(a) for a in typing.get_args(annotation) if a is not type(None)]
        parts = [p for p in parts if p]
        if not parts:
            return None
        text = " or ".join(parts)
        return text + (" or `none`" if type(None) in typing.get_args(annotation) else "")
    if isinstance(annotation, type) and issubclass(annotation, specs.Node):
        return None
    if typing.get_origin(annotation) is tuple:
        inner = label_of(typing.get_args(annotation)[0])
        return f"a list, each {inner}" if inner else "a list"
    return None


_KIND_FIELDS = {"layers", "body", "skip", "augment", "callbacks", "optimizer", "layer", "kernel_regularizer", "bias_regularizer",
                "loss"}


def _field_at(loc: tuple):
    """The spec class and field name a pydantic `loc` points into."""
    cls, field = specs.Net, None
    for part in loc:
        if not isinstance(part, str):
            continue
        if part in KINDS and field in _KIND_FIELDS:
            cls, field = KINDS[part], None
        elif part in cls.model_fields:
            field = part
            annotation = cls.model_fields[part].annotation
            members = [typing.get_args(a)[0] if typing.get_origin(a) is typing.Annotated else a
                       for a in (annotation, *typing.get_args(annotation))]
            nodes = [a for a in members if isinstance(a, type) and issubclass(a, specs.Node)]
            if len(nodes) == 1 and part not in _KIND_FIELDS:
                cls, field = nodes[0], None
    return cls, field


def translate(error: ValidationError | list[dict], spans: SourceMap, params: dict | None = None) -> list[Diagnostic]:
    """pydantic errors (a `ValidationError`, or its error items) -> diagnostics at their source
    spans, one per spot."""
    diagnostics: list[Diagnostic] = []
    done: set[tuple] = set()
    items = error.errors(include_url=False) if isinstance(error, ValidationError) else list(error)  # or its items
    for item in items:
        loc = tuple(item["loc"])
        if _beaten_union_member(loc, items):
            continue
        kind = item["type"]
        cls, field = _field_at(loc)
        where_path, span = spans.find(loc)
        if kind == "extra_forbidden":
            key = loc[-1]
            key_span = spans.keys_.get(loc, span)
            what = _what(cls)
            hint = did_you_mean(str(key), [f for f in cls.model_fields if f != "kind"])
            options = ", ".join(f for f in cls.model_fields if f != "kind")
            diagnostics.append(
                Diagnostic(f"unknown {'setting' if cls is specs.Train else 'argument'} `{key}` for {what}", key_span,
                           help=hint or f"{what} takes: {options}", code="N204")
            )
            continue
        if where_path in done:
            continue
        done.add(where_path)
        if kind == "missing":
            what = _what(cls)
            diagnostics.append(
                Diagnostic(f"{what} needs `{loc[-1]}`", span,
                           help=f"give it as `{loc[-1]}=...`" + _usage(cls), code="N205")
            )
            continue
        if kind == "union_tag_invalid" and "loss" in loc:
            diagnostics.append(_loss_call_problem(item["ctx"]["tag"], span))
            continue
        if kind == "union_tag_invalid" and loc[-2:] == ("time_distributed", "layer"):
            diagnostics.append(_not_wrapped(item["ctx"]["tag"], span))
            continue
        if kind == "union_tag_invalid":
            diagnostics.append(_unknown_kind(item, loc, span))
            continue
        value = item.get("input")
        label = field_label(cls, field)
        bare_word = where_path in spans.bare and isinstance(value, str)
        if bare_word and value not in KEYWORDS and _is_number_label(label):
            names = list(params or {}) + list(DATA_NAMES)
            diagnostics.append(
                Diagnostic(f"undefined name `{value}`", span,
                           help=did_you_mean(value, names) or f"declare it with `param {value} = ...`, or write {label}", code="N211")
            )
            continue
        if cls is specs.Repeat and field == "values":  # `repeat NAME in P`: the `param` P holds no list
            diagnostics.append(Diagnostic("`repeat ... in` takes a list of values", span, code="N809",
                                          help=f"give the `param` a list as its value, e.g. `[32, 64]`; got {describe(value)}"))
            continue
        if kind in ("list_type", "tuple_type"):
            if cls is specs.Train:
                title, hint = f"`{field}` takes a list", f"write it in brackets: `{field} = [...]`"
            else:
                title, hint = f"`{field}` takes a tuple", f"write it in parentheses: `{field}=(...)`, e.g. `(4, 16)` or `(3,)`"
            diagnostics.append(Diagnostic(title, span, help=f"{hint}, got {describe(value)}", code="N209"))
            continue
        if bare_word and kind == "literal_error" and label:
            diagnostics.append(
                Diagnostic(f"unknown value `{value}` for `{field}`", span,
                           help=did_you_mean(value, _words_in(label) + list(params or {})) or f"expected {label}", code="N210")
            )
            continue
        if kind in ("model_type", "model_attributes_type", "dict_type"):
            diagnostics.append(
                Diagnostic(f"invalid value for `{field}`", span,
                           help=f"expected a call such as `{_example_call(loc)}`, got {describe(value)}", code="N209")
            )
            continue
        title = f"invalid value for `{field}`" if field else "invalid value"
        diagnostics.append(Diagnostic(title, span, help=_expected(item, label, value), code="N209"))
    return diagnostics


def _unknown_kind(item: dict, loc: tuple, span) -> Diagnostic:
    """A call of a kind its family lacks (`optimizer = adamm(...)`)."""
    tag = item["ctx"]["tag"]
    family = {"optimizer": "optimizer", "callbacks": "callback", "layer": "recurrent layer"}.get(
        next((p for p in reversed(loc) if isinstance(p, str)), ""), "kind")
    if "regularizer" in str(loc[-1]):
        family = "regularizer"
    tags = [t.strip(" '") for t in item["ctx"]["expected_tags"].split(",")]
    return Diagnostic(f"unknown {family} `{tag}`", span,
                      help=did_you_mean(tag, tags) or "expected one of: " + ", ".join(tags), code="N203")


def _loss_call_problem(tag: str, span) -> Diagnostic:
    """`loss = mse(...)`: only the cross-entropies are calls (`from_logits`); other losses are names."""
    calls = list(LOSS_CALLS)
    if tag in LOSSES:
        return Diagnostic(f"`{tag}` takes no arguments", span, code="N204",
                          help=f"write `loss = {tag}`; only {', '.join(calls)} take an argument (`from_logits`)")
    return Diagnostic(f"unknown loss `{tag}`", span, code="N203",
                      help=did_you_mean(tag, list(LOSSES)) or "expected one of: " + ", ".join(LOSSES))


def _beaten_union_member(loc: tuple, items: list[dict]) -> bool:
    """Whether `loc` ends at a union member (pydantic names it `literal[...]`, `tuple[...]`) that
    failed outright while another member got further into the value: `class_weight = [1, -1]` is
    a list of weights with one wrong weight, which says more than "not `balanced`"."""
    if not (loc and isinstance(loc[-1], str) and "[" in loc[-1]):
        return False
    return any(len(other["loc"]) > len(loc) and tuple(other["loc"][: len(loc) - 1]) == loc[:-1] for other in items)


def _is_number_label(label: str | None) -> bool:
    return bool(label) and any(w in label for w in ("integer", "number")) and "`" not in label.split(" or ")[0]


def _words_in(label: str) -> list[str]:
    return [w.strip("`,:.()") for w in label.replace(",", " ").split() if w.strip("`,:.()").isidentifier()]


def _example_call(loc) -> str:
    if "optimizer" in loc:
        return "adam(learning_rate=0.001)"
    if "callbacks" in loc:
        return "early_stopping(patience=3)"
    if "time_distributed" in loc:
        return "dense(8)"
    return "lstm(32)"


def _not_wrapped(tag: str, span) -> Diagnostic:
    """A kind `time_distributed` does not wrap: a layer kind (and why not), or an unknown word."""
    if tag in specs.LAYERS:
        why = NOT_WRAPPED.get(tag, f"`{tag}` reads the named points it merges, not one step")
        return Diagnostic(f"`time_distributed` cannot wrap `{tag}`", span,
                          help=f"{why}; wrap a layer of one input, such as `dense(8)` or `conv2d(16, 3)`", code="N203")
    return Diagnostic(f"unknown layer kind `{tag}`", span, code="N203",
                      help=did_you_mean(tag, list(specs.LAYERS)) or "the layer kinds are listed in docs/language.md")


def _what(cls) -> str:
    if cls is specs.Train:
        return "`train`"
    if cls is specs.Input:
        return "`input`"
    kind = cls.model_fields.get("kind")
    return f"`{kind.default}`" if kind is not None and kind.default else cls.__name__


def _usage(cls) -> str:
    names = getattr(cls, "positional", ())
    return f" (or positionally: {cls.model_fields['kind'].default}({', '.join(names)}, ...))" if names else ""


_MESSAGES = {
    "greater_than": "must be greater than {gt}",
    "greater_than_equal": "must be at least {ge}",
    "less_than": "must be less than {lt}",
    "less_than_equal": "must be at most {le}",
    "int_from_float": "must be a whole number",
    "float32_range": "must be finite and at most 3.4e38 in size (Keras computes in 32-bit floats)",
    "int32_range": "must be at most 2,147,483,647 in size (Keras's sizes and counts are 32-bit integers)",
}


def _expected(item: dict, label: str | None, value) -> str:
    template = _MESSAGES.get(item["type"])
    got = f", got {describe(value)}" if not isinstance(value, dict) else ""
    if template:
        return template.format(**item.get("ctx", {})) + got
    if label:
        return f"expected {label}{got}"
    message = item["msg"].removeprefix("Value error, ")
    return message[0].lower() + message[1:]
