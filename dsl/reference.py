"""The language reference (`docs/language.md`), generated from the specs so it cannot drift.

    python scripts/gen_docs.py            # writes docs/language.md and docs/diagnostics.md (--check: are they current?)

A hand-written introduction (`dsl/reference_intro.py`) covers the statements of the language;
everything after it (layers, their arguments, types and defaults, training settings, optimizers,
callbacks, regularizers, losses, metrics, reserved names and the grammar) is read from
`netdsl.dsl.specs`, the registry `netdsl.dsl.kinds`, the `Label`s of the argument types and
`grammar/net.lark`. The output depends on nothing but those sources.
"""

from __future__ import annotations

import types
import typing
from importlib import resources
from typing import Any

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from . import specs
from .kinds import ACTIVATIONS, INITIALIZERS
from .validation import field_label
from .reference_intro import INTRODUCTION
from .values import Label
from .words import KEYWORDS

# Arguments every layer takes, documented once.
COMMON_ARGUMENTS = ("name", "trainable")

# Layer kinds by topic, in reading order. A kind in none of these lands in "Other layers".
LAYER_GROUPS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("Core layers", "Fully connected layers, activations and changes of shape or scale.",
     ("dense", "activation", "flatten", "reshape", "rescaling")),
    ("Convolution layers", "Learned (or literal) filters slid over sequences and images; depthwise and "
     "separable ones with fewer weights; transposed ones and up-sampling, which grow them back (decoders).",
     ("conv1d", "conv2d", "depthwise_conv2d", "separable_conv2d", "conv1d_transpose", "conv2d_transpose",
      "up_sampling1d", "up_sampling2d")),
    ("Pooling layers", "Summaries over windows, or over all steps or pixels.",
     ("max_pooling1d", "max_pooling2d", "average_pooling1d", "average_pooling2d",
      "global_average_pooling1d", "global_average_pooling2d", "global_max_pooling1d", "global_max_pooling2d")),
    ("Normalization and regularization layers", "Layers that steady or regularise training.",
     ("batch_normalization", "layer_normalization", "dropout", "spatial_dropout1d", "spatial_dropout2d")),
    ("Activation layers", "Activations with arguments of their own (a cap, a slope, a learned slope); "
     "`activation(...)` applies the plain ones.", ("re_lu", "leaky_re_lu", "p_re_lu")),
    ("Recurrent layers", "Layers that read a sequence step by step: input (steps, features).",
     ("simple_rnn", "lstm", "gru", "bidirectional")),
    ("Sequence and attention layers", "A vector repeated into steps, a layer applied at every step, and "
     "what transformers are made of: attention over the steps, and learned positions.",
     ("repeat_vector", "time_distributed", "multi_head_attention", "position_embedding")),
    ("Text layers", "From raw strings to token sequences to vectors.",
     ("text_vectorization", "embedding")),
    ("Augmentation layers",
     "Random changes of the training samples; they may appear only in `augment { }` and do nothing at inference.",
     tuple(kind for kind in specs.LAYERS if kind in specs.AUGMENTATION_KINDS)),
    ("Transfer learning", "Layers taken from a saved net, with their trained weights (see `freeze` and "
     "`fine_tune` in [Training settings](#training-settings)).", ("pretrained",)),
)  # fmt: skip


# ---- rendering helpers ---------------------------------------------------------------------------


def net_value(value: Any) -> str:
    """A Python value as `.net` source text: `none`, `true`, bare keywords, numbers, lists, calls."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        text = repr(value)
        if "e" in text:
            mantissa, exponent = text.split("e")
            sign = "-" if exponent.startswith("-") else ""
            text = f"{mantissa.removesuffix('.0')}e{sign}{exponent.lstrip('+-').lstrip('0') or '0'}"
        return text
    if isinstance(value, str):
        return value if value.isidentifier() else '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, tuple) and not value:
        return "[]"
    if isinstance(value, tuple):
        inner = ", ".join(net_value(v) for v in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    if isinstance(value, list):
        return "[" + ", ".join(net_value(v) for v in value) + "]"
    if isinstance(value, specs.Node) and "kind" in type(value).model_fields:
        cls = type(value)
        changed = [
            f"{name}={net_value(getattr(value, name))}"
            for name, info in cls.model_fields.items()
            if name != "kind" and getattr(value, name) != info.default
        ]
        return f"{value.kind}({', '.join(changed)})" if changed else value.kind
    return str(value)


def _kind(cls: type) -> str | None:
    info = cls.model_fields.get("kind") if isinstance(cls, type) and issubclass(cls, BaseModel) else None
    return info.default if info is not None and isinstance(info.default, str) else None


def _join_or(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " or " + parts[-1]


def _alternatives(annotation) -> tuple[list[str], bool]:
    """How each alternative of a type reads, and whether `none` is one of them."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        for meta in annotation.__metadata__:
            if isinstance(meta, Label):
                return [str(meta)], False
        return _alternatives(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        found, optional = [], False
        for arg in typing.get_args(annotation):
            if arg is type(None):
                optional = True
                continue
            parts, none = _alternatives(arg)
            found += [p for p in parts if p not in found]
            optional |= none
        return found, optional
    if origin is tuple:
        inner = _type_text(typing.get_args(annotation)[0])
        return [f"a list, each {inner}" if inner else "a list"], False
    kind = _kind(annotation)
    if kind:
        return [f"`{kind}(...)`"], False
    return [], False


def _type_text(annotation) -> str | None:
    parts, optional = _alternatives(annotation)
    if not parts:
        return None
    return _join_or(parts + ["`none`"] if optional else parts)


def type_label(cls: type, field: str) -> str:
    """The human label of an argument's type: its `Label`, or, where the type has none of its own
    (calls such as regularizers, lists of labelled items), one composed from its parts."""
    info = cls.model_fields[field]
    if any(isinstance(meta, Label) for meta in info.metadata):
        return field_label(cls, field)
    return _type_text(info.annotation) or field_label(cls, field) or "—"


def _cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def _default(info) -> str:
    if info.default is PydanticUndefined and info.default_factory is None:
        return "*required*"
    value = info.default_factory() if info.default is PydanticUndefined else info.default
    return f"`{net_value(value)}`"


def _ordered_fields(cls: type, skip: tuple[str, ...] = ()) -> list[str]:
    positional = list(getattr(cls, "positional", ()))
    rest = [name for name in cls.model_fields if name not in positional]
    return [name for name in positional + rest if name != "kind" and name not in skip]


def argument_table(cls: type, skip: tuple[str, ...] = (), first: str = "Argument") -> list[str]:
    names = _ordered_fields(cls, skip)
    if not names:
        return []
    lines = [f"| {first} | Type | Default | Meaning |", "|---|---|---|---|"]
    for name in names:
        info = cls.model_fields[name]
        lines.append(
            f"| `{name}` | {_cell(type_label(cls, name))} | {_default(info)} | {_cell(info.description or '—')} |"
        )
    return lines


def _meaning(cls: type) -> str:
    return " ".join((cls.__dict__.get("__doc__") or "").split())


def signature(cls: type) -> str:
    kind = _kind(cls)
    positional = tuple(getattr(cls, "positional", ()))
    if getattr(cls, "variadic", None):
        positional += (f"{cls.variadic}...",)
    named = [n for n in cls.model_fields if n != "kind" and n not in positional and n != getattr(cls, "variadic", None)]
    if positional:
        return f"`{kind}({', '.join(positional + (('...',) if named else ()))})`"
    return f"`{kind}` or `{kind}(key=value, ...)`" if named else f"`{kind}`"


def _spec_section(cls: type, level: str, skip: tuple[str, ...] = ()) -> list[str]:
    kind = _kind(cls)
    lines = [f"{level} `{kind}`", ""]
    meaning = _meaning(cls)
    if meaning:
        lines += [meaning, ""]
    lines += [f"Call: {signature(cls)}", ""]
    table = argument_table(cls, skip)
    if table:
        lines += table + [""]
    else:
        lines += ["No arguments" + (" besides the common ones." if skip else "."), ""]
    return lines


def kind_help(cls: type) -> str:
    """A kind's section of `docs/language.md` (what it computes, its call, its arguments) as the
    editor shows it on hover: the same text, from the same specs."""
    skip = COMMON_ARGUMENTS if issubclass(cls, specs.Layer) else ()
    return "\n".join(_spec_section(cls, "###", skip)).strip()


def field_help(cls: type, name: str) -> str:
    """One argument or setting of `cls` as a line of documentation: `name`: type (default): meaning."""
    info = cls.model_fields[name]
    return f"`{name}`: {type_label(cls, name)} (default {_default(info)})\n\n{info.description or ''}".strip()


def _word_list(words) -> str:
    return ", ".join(f"`{w}`" for w in words)


# ---- the generated sections ----------------------------------------------------------------------


def _layers_section() -> list[str]:
    lines = [
        "## Layers",
        "",
        "Every layer kind, grouped by topic. For each: what it computes, how it is called (its",
        "positional arguments in order; `...` stands for the arguments that must be named) and every",
        "argument with its type, its default (in `.net` syntax; *required* where there is none) and its",
        "meaning.",
        "",
    ]
    groups = [(title, blurb, [k for k in kinds if k in specs.LAYERS]) for title, blurb, kinds in LAYER_GROUPS]
    grouped = {k for _, _, kinds in groups for k in kinds}
    other = [k for k in specs.LAYERS if k not in grouped]
    if other:
        groups.append(("Other layers", "", other))
    lines += ["| Group | Kinds |", "|---|---|"]
    for title, _, kinds in groups:
        links = ", ".join(f"[`{kind}`](#{_anchor(kind)})" for kind in kinds)
        lines.append(f"| [{title}](#{_anchor(title)}) | {links} |")
    lines += [
        "",
        "### Arguments of every layer",
        "",
        "Every layer kind also takes these arguments, by name only; they are not repeated in the tables below.",
        "",
    ]
    lines += argument_table(specs.Layer) + [""]
    for title, blurb, kinds in groups:
        lines += [f"### {title}", ""]
        if blurb:
            lines += [blurb, ""]
        for kind in kinds:
            lines += _spec_section(specs.LAYERS[kind], "####", skip=COMMON_ARGUMENTS)
    return lines


def _anchor(title: str) -> str:
    return "-".join("".join(c for c in title.lower() if c.isalnum() or c in " -_").split(" "))


def _train_section() -> list[str]:
    lines = [
        "## Training settings",
        "",
        _meaning(specs.Train) + " Each key may be set once; every key is optional.",
        "",
    ]
    return lines + argument_table(specs.Train, first="Setting") + [""]


def _family_section(title: str, intro: str, classes) -> list[str]:
    lines = [f"## {title}", "", intro, ""]
    for cls in classes:
        lines += _spec_section(cls, "###")
    return lines


def _lists_section() -> list[str]:
    return [
        "## Losses",
        "",
        "The values of `loss` in `train { }` (aliases such as `mse` name the same loss):",
        "",
        _word_list(specs.LOSSES),
        "",
        "## Metrics",
        "",
        "The items of `metrics = [...]` in `train { }`:",
        "",
        _word_list(specs.METRICS),
        "",
        "## Activations",
        "",
        "The values of `activation` arguments:",
        "",
        _word_list(ACTIVATIONS),
        "",
        "## Initializers",
        "",
        "The names an `*_initializer` argument takes (`kernel_initializer` and `bias_initializer` also",
        "take a literal array of fixed weights):",
        "",
        _word_list(INITIALIZERS),
        "",
        "## Reserved names",
        "",
        "A `param` may not take any of these names.",
        "",
        "Keywords — words that already have a meaning as values (data-bound names, literals, and the",
        "allowed values of arguments and settings):",
        "",
        _word_list(sorted(KEYWORDS)),
        "",
        "Estimator setting names — set these in `train { }` or on the estimator:",
        "",
        _word_list(sorted(specs.SETTING_NAMES)),
        "",
    ]


def _grammar_section() -> list[str]:
    grammar = resources.files("netdsl.grammar").joinpath("net.lark").read_text(encoding="utf-8")
    return [
        "## Grammar",
        "",
        "The syntax, verbatim from `grammar/net.lark` ([Lark](https://lark-parser.readthedocs.io) LALR(1)).",
        "It is deliberately permissive; which kinds and arguments exist is the business of the sections above.",
        "",
        "```lark",
        grammar.rstrip("\n"),
        "```",
        "",
    ]


def render() -> str:
    """The whole language reference as Markdown."""
    lines = [INTRODUCTION.rstrip("\n"), ""]
    lines += _layers_section()
    lines += _train_section()
    lines += _family_section(
        "Optimizers",
        "The values of `optimizer` in `train { }`: `optimizer = sgd(0.01, momentum=0.9)`, or bare, `optimizer = adam`.",
        specs.OPTIMIZERS.values(),
    )
    lines += _family_section(
        "Callbacks",
        "The items of `callbacks = [...]` in `train { }`: `callbacks = [early_stopping(patience=5)]`.",
        specs.CALLBACKS.values(),
    )
    lines += _family_section(
        "Fine-tuning",
        "The value of `fine_tune` in `train { }`: a second stage that unfreezes layers, e.g. after "
        "`pretrained(\"base.keras\", trainable=false)`.",
        (specs.Unfreeze,),
    )
    lines += _family_section(
        "Regularizers",
        "The values of `kernel_regularizer` and `bias_regularizer`: `dense(64, kernel_regularizer=l2(1e-4))`.",
        (specs.L1, specs.L2, specs.L1L2),
    )
    lines += _lists_section()
    lines += _grammar_section()
    return "\n".join(lines).rstrip("\n") + "\n"
