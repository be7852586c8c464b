"""The language reference (`docs/language.md`), generated from the specs so it cannot drift.

    python -m netdsl.dsl.reference > docs/language.md      # or: python scripts/gen_language_doc.py

A hand-written introduction covers the statements of the language; everything after it (layers,
their arguments, types and defaults, training settings, optimizers, callbacks, regularizers,
losses, metrics, reserved names and the grammar) is read from `netdsl.dsl.specs`, the `Label`s of
the argument types and `grammar/net.lark`. The output depends on nothing but those sources.
"""

from __future__ import annotations

import sys
import types
import typing
from importlib import resources
from typing import Any

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from . import specs
from .loader import KEYWORDS, field_label
from .values import ACTIVATIONS, INITIALIZERS, Label

# Arguments every layer takes, documented once.
COMMON_ARGUMENTS = ("name", "trainable")

# Layer kinds by topic, in reading order. A kind in none of these lands in "Other layers".
LAYER_GROUPS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("Core layers", "Fully connected layers, activations and changes of shape or scale.",
     ("dense", "activation", "flatten", "reshape", "rescaling")),
    ("Convolution layers", "Learned (or literal) filters slid over sequences and images.",
     ("conv1d", "conv2d")),
    ("Pooling layers", "Summaries over windows, or over all steps or pixels.",
     ("max_pooling1d", "max_pooling2d", "average_pooling1d", "average_pooling2d",
      "global_average_pooling1d", "global_average_pooling2d", "global_max_pooling1d", "global_max_pooling2d")),
    ("Normalization and regularization layers", "Layers that steady or regularise training.",
     ("batch_normalization", "layer_normalization", "dropout", "spatial_dropout1d", "spatial_dropout2d")),
    ("Recurrent layers", "Layers that read a sequence step by step: input (steps, features).",
     ("simple_rnn", "lstm", "gru", "bidirectional")),
    ("Text layers", "From raw strings to token sequences to vectors.",
     ("text_vectorization", "embedding")),
    ("Augmentation layers",
     "Random changes of the training samples; they may appear only in `augment { }` and do nothing at inference.",
     tuple(kind for kind in specs.LAYERS if kind in specs.AUGMENTATION_KINDS)),
    ("Transfer learning", "Layers taken from a saved net, with their trained weights (see `freeze` and "
     "`fine_tune` in [Training settings](#training-settings)).", ("pretrained",)),
)  # fmt: skip

# Meanings for specs without a docstring (the docstring wins when there is one).
_FALLBACK_MEANINGS = {
    "adam": "Adam: adaptive estimates of the gradient's first and second moments.",
    "adamw": "Adam with decoupled weight decay.",
    "nadam": "Adam with Nesterov momentum.",
    "sgd": "Stochastic gradient descent, optionally with (Nesterov) momentum.",
    "rmsprop": "Divides each gradient by a moving average of its recent magnitude.",
    "adagrad": "Per-weight learning rates that shrink with the accumulated squared gradients.",
    "adadelta": "Adagrad variant that adapts the learning rates over a moving window of updates.",
    "l1": "Adds `l1 * sum(abs(w))` to the loss.",
    "l2": "Adds `l2 * sum(w ** 2)` to the loss.",
    "l1_l2": "Adds both penalties: `l1 * sum(abs(w)) + l2 * sum(w ** 2)`.",
}


INTRODUCTION = """\
# The `.net` language

<!-- Generated from dsl/specs.py (module netdsl.dsl.reference) by `python scripts/gen_language_doc.py`; do not edit by hand. -->

A `.net` file describes a neural network — its input, its layers in order, its tunable
parameters and how it is trained — and nothing else. Layer kinds and argument names are Keras 3's
(the snake_case class name and Keras's argument names and positional order), so Keras's
documentation applies to what each layer computes.

```net
# A small convnet for the 8x8 handwritten digits.
net digits_cnn

param filters = 16 in [8, 16, 32]
param hidden = 64

input (8, 8, 1)

repeat 2 {
    conv2d(filters, 3, padding=same, activation=relu)
    max_pooling2d(2)
}
flatten
dense(hidden, activation=relu)
dropout(0.25)
dense(n_classes, activation=softmax)

augment {
    random_rotation(0.05)
}

train {
    optimizer = adam(learning_rate=1e-3)
    epochs = 30
    metrics = [accuracy]
}
```

## Statements

A file is a sequence of statements, one per line; blank lines are ignored. A call, list or tuple
may span several lines: newlines inside `( )` and `[ ]` do not end the statement. `net`, `input`,
`augment` and `train` may each appear at most once.

### Comments

`#` starts a comment that runs to the end of the line, on a line of its own or after a statement.

```net
# The whole line is a comment.
dense(10, activation=softmax)   # so is the rest of this one
```

### `net NAME`

Names the network (default: `net`).

```net
net digits_mlp
dense(10, activation=softmax)
```

### `input`

One sample's shape, without the batch axis: `input (d1, d2, ...)`. A one-dimensional input is
`input (64)`. `input text` declares raw strings as samples (the first layer is then usually
`text_vectorization`). Without an `input` statement the input is `(n_features)`: a vector whose
length is bound from the training data.

```net
input (8, 8, 1)        # 8x8 images with one channel
conv2d(4, 3)
flatten
dense(n_classes, activation=softmax)
```

```net
input text
text_vectorization(max_tokens=5000, output_sequence_length=60)
embedding(5000, 32)
lstm(16)
dense(1, activation=sigmoid)
```

```net
# no input statement: the same as `input (n_features)`
dense(32, activation=relu)
dense(n_outputs)
```

### `param NAME = VALUE [in [V1, ...]]`

A tunable value. Its name can be used, bare, anywhere a value goes — as a layer argument, inside
arithmetic with `+ - * /` and parentheses (`dense(hidden * 2)`, `dropout(rate / 2)`), as a
`repeat` count, or in `train { }`. Each `param` is also a parameter of the estimator built from
the file, so a grid search can set it by name; the values after `in` are its default search grid.
A division that comes out whole stays an integer, so `hidden / 2` can still be a number of units.

```net
param hidden = 64 in [32, 64, 128]
param rate = 0.5
param depth = 2 in [1, 2, 3]
param activation_name = relu in [relu, tanh]

input (20)
repeat depth {
    dense(hidden * 2, activation=activation_name)
    dropout(rate / 2)
}
dense(hidden)
dense(n_classes, activation=softmax)
```

A param must not shadow a word that already has a meaning: a keyword value such as `relu`,
`same`, `true` or `n_classes` (`param relu = 3` is an error), or the name of an estimator setting
such as `epochs`, `batch_size` or `learning_rate` (set those in `train { }` or on the estimator
instead). The full list is under [Reserved names](#reserved-names). A param's default and its
search values must all be of one type (all numbers, all words, all booleans or all lists).

### Layer statements

`kind(positional..., key=value...)` adds a layer. Positional arguments come first, in the order of
the kind's signature below; every argument can also be given by name. A layer with no arguments
may be written bare: `flatten` is `flatten()`. The layers run in the order they are written.

```net
input (28, 28, 1)
conv2d(32, (3, 3), strides=1, padding=same, activation=relu, name="conv_1")
max_pooling2d(pool_size=2)
flatten
dense(10, activation=softmax)
```

### `repeat N { ... }`

The body's layers `N` times in a row. `N` is a literal or a `param` (not a data-bound name: the
depth of the network must be known before fitting). Repeats may nest.

```net
param blocks = 2 in [1, 2, 3]
input (32)
repeat blocks {
    dense(64, activation=relu)
    repeat 2 {
        dropout(0.1)
    }
}
dense(1)
```

### `augment { ... }`

Data augmentation: layers applied to the input before the network, active only while training
(at inference they pass the input through unchanged). Only the augmentation layers are allowed:
the `random_*` layers and `gaussian_noise`.

```net
input (8, 8, 1)
augment {
    random_rotation(0.05)
    random_translation(0.1, 0.1)
    gaussian_noise(0.01)
}
flatten
dense(n_classes, activation=softmax)
```

### `train { key = value ... }`

How the network is fitted, one `key = value` setting per line; see
[Training settings](#training-settings) for every key. Parameters set on the estimator override
these. An optimizer, callback or regularizer with no arguments may be written bare (`adam` is
`adam()`).

```net
param lr = 0.001 in [0.001, 0.01]
input (4)
dense(3, activation=softmax)
train {
    loss = categorical_crossentropy
    optimizer = adam(learning_rate=lr)
    epochs = 50
    batch_size = 16
    validation_split = 0.2
    metrics = [accuracy]
    callbacks = [early_stopping(patience=5, restore_best_weights=true), reduce_lr_on_plateau]
    class_weight = balanced
}
```

## Values

| Written as | Meaning |
|---|---|
| `3`, `-1`, `0.25`, `1e-3`, `.5` | Numbers: integers, or floats with a `.` or an exponent. |
| `"conv_1"`, `'conv_1'` | Strings, in double or single quotes. |
| `true`, `false` | Booleans. |
| `none` | No value (Python's `None`): the argument's "not set". |
| `relu`, `same`, `glorot_uniform`, `val_loss` | Bare keywords: a word from the argument's list of allowed values. `padding=same` and `padding="same"` are the same. |
| `[accuracy, auc]`, `[1, 2.5]` | Lists. |
| `(3, 3)`, `(-1,)` | Tuples (a one-element tuple needs the trailing comma). |
| `[[-1, -1], [1, 1]]` | Nested lists: literal arrays of numbers. |
| `l2(1e-4)`, `adam(learning_rate=0.01)`, `lstm(32)` | Calls, where an argument takes a regularizer, optimizer, callback or recurrent layer. |
| `hidden`, `hidden * 2`, `(a + b) / 2`, `-rate` | Parameters and data-bound names, and arithmetic on them. |

A nested list given as `kernel_initializer` is a literal weight matrix: the layer's weights are
exactly those numbers, fixed as written. `kernel_size` may then be omitted (it is the matrix's
shape), as in `examples/edge_detector.net`:

```net
net edge_detector
input (7, 7, 1)
conv2d(1, kernel_initializer=[[-1, -1, -1],
                              [ 2,  2,  2],
                              [-1, -1, -1]], use_bias=false, activation=relu, trainable=false)
max_pooling2d(2)
```

### Data-bound names

These names are bound from the training data when the network is fitted; they can be used
wherever a number goes (except as a `repeat` count), alone or in arithmetic:

| Name | Bound to |
|---|---|
| `n_features` | The number of features of one sample (the columns of `X`). |
| `n_classes` | The number of classes in `y` (classification). |
| `n_outputs` | The number of output columns of `y` (1 for a single target). |

```net
dense(n_features * 2, activation=relu)
dense(n_classes, activation=softmax)
```

## What `netdsl check` verifies

What `fit` would refuse in a program itself, `check` (and `show`) finds first, located at the line
that causes it:

- **Shapes**: every layer gets an input of the rank and size it needs (a window no larger than its
  input, a recurrent layer after another only with `return_sequences=true` on the first, ...).
- **Names**: a layer name holds only ASCII letters, digits, `_`, `.`, `-` and `>` (what TensorFlow
  takes), is not the input's (`input`, or `text` for `input text`) and is given once. Unnamed layers
  get Keras's automatic names (`dense`, `dense_1`, ...) skipping the names the file gives; the built
  model's layers have exactly the names `netdsl show` prints.
- **Numbers**: integers fit in 32 bits and numbers in float32's range, as Keras needs them.
- **Metrics against the output**: a net ending in `softmax` is a classifier whose targets are integer
  labels, unless `loss = categorical_crossentropy` makes them one-hot. `precision`, `recall`, `auc`,
  `binary_accuracy` and the regression metrics compare each output with a target of the same shape,
  so on a softmax they need that loss, as do `categorical_accuracy` and `top_k_categorical_accuracy`
  (the latter counts the 5 most likely classes, so it also needs more than 5 classes);
  `sparse_categorical_accuracy` needs a softmax and integer labels. `accuracy` fits every output.
  A `class_weight` list has one weight per class; `categorical_crossentropy` and
  `sparse_categorical_crossentropy` need a softmax output. `fit` checks the same against the task of the data.
- **Monitors**: `early_stopping` and `reduce_lr_on_plateau` watch `loss` or a metric of `metrics`,
  or its `val_` value on the validation data. Without validation data (`validation_split = 0` in the
  file and on the estimator) a `val_` value is watched on the training data instead, with a warning.
- **Memory**: the weights (4 bytes each; a trained one also needs its gradient and the optimizer's
  state, two more copies for Adam) and each layer's outputs for one batch must fit in the memory of
  the machine that checks the program.
- **Text**: an `embedding` after `text_vectorization` looks up every token it can make (`input_dim`
  at least `max_tokens`, and `max_tokens` given), and a layer whose weights depend on the number of
  steps (a `dense` after `flatten`) needs `output_sequence_length`.
- **What Keras refuses**: `clipnorm` with `clipvalue`, `go_backwards` inside `bidirectional`,
  `unroll=true` over a number of steps known only at fit, augmentation factors beyond Keras's ranges,
  `max_tokens` too small to hold a word, `output_sequence_length` without `output_mode=int`, `strides`
  longer than the input, a literal array of the wrong shape; and `softmax` over a single value (always 1).
- **Size**: a file is UTF-8 text of at most 32 MiB; values, calls, operators and `repeat` blocks nest
  at most 100 deep (each `+` of a long sum counts); a name has at most 100 characters; a statement
  at most 200,000 tokens (a literal array of numbers is one); a net at most 2,000 layers once its
  `repeat` blocks are unrolled; numbers fit in 64 bits before the 32-bit bounds above apply.

Other spellings Keras takes are read as netdsl's: `padding` in any case (`"SAME"` is `same`; `fmt`
writes it in lower case) and Keras's names for the metrics (`acc` for `accuracy`, `MSE`, class names
such as `AUC`). A Keras layer netdsl does not support yet is reported as one, not as a typo.
"""


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
    doc = cls.__dict__.get("__doc__")
    if doc:
        return " ".join(doc.split())
    return _FALLBACK_MEANINGS.get(_kind(cls) or "", "")


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


def main() -> None:
    sys.stdout.write(render())


if __name__ == "__main__":
    main()
