"""N5xx: parameters (`param`), their search ranges, expressions and the data-bound names."""

from __future__ import annotations

from .base import Code

CODES = [
    Code(
        "N501", "duplicate-param", "Parameter declared twice",
        "Two `param` statements declare the same name.",
        "Remove one, or rename it.",
        "net demo\nparam units = 8\nparam units = 16\ninput (4)\ndense(units)\n",
    ),
    Code(
        "N502", "param-shadows-keyword", "Parameter shadows a keyword",
        "A parameter may not take the name of a word that already means something in `.net` files "
        "(`same`, `relu`, `adam`, `mse`, ...).",
        "Choose another name, e.g. `same_value`.",
        "net demo\nparam relu = 8\ninput (4)\ndense(relu)\n",
    ),
    Code(
        "N503", "param-shadows-setting", "Parameter has the name of an estimator setting",
        "`epochs`, `batch_size` and the other estimator settings are set in `train { }` or as estimator "
        "parameters; a `param` of that name would be ambiguous.",
        "Choose another name, and set the setting in `train { }`.",
        "net demo\nparam epochs = 8\ninput (4)\ndense(1)\n",
    ),
    Code(
        "N504", "empty-search-values", "Empty search values",
        "`param NAME = DEFAULT in [...]` lists the values a search tries; the list is empty.",
        "List at least one value, or drop `in [...]`.",
        "net demo\nparam units = 8 in []\ninput (4)\ndense(units)\n",
    ),
    Code(
        "N505", "mixed-param-values", "A parameter's values mix types",
        "A parameter's default and search values must all be of one type (numbers, words, booleans or "
        "lists).",
        "Make all the values one type.",
        "net demo\nparam units = 8 in [8, relu]\ninput (4)\ndense(units)\n",
    ),
    Code(
        "N506", "param-used-before-declared", "Parameter used before it is declared",
        "A parameter's value may use only the parameters declared above it (never itself).",
        "Move the declaration of the parameter it uses above it.",
        "net demo\nparam width = depth * 8\nparam depth = 2\ninput (4)\ndense(width)\n",
    ),
    Code(
        "N507", "unknown-param", "Unknown parameter",
        "A parameter set from outside (`--set NAME=VALUE`, a search grid, `params=` of an estimator) is "
        "not declared by the file.",
        "Use one of the file's parameters (the help line lists them), or declare it with `param`.",
        "net demo\nparam units = 8\ninput (4)\ndense(units)\n",
        params={"unit": 16},
    ),
    Code(
        "N508", "cannot-compute", "Cannot compute a value",
        "An expression cannot be computed: a division by zero, or a result beyond 64 bits, with the "
        "parameters' values (defaults or set from outside).",
        "Change the expression, or the parameters it is computed from.",
        "net demo\nparam parts = 0\ninput (4)\ndense(64 / parts)\ndense(1)\n",
    ),
    Code(
        "N509", "not-a-number", "Arithmetic on something that is not a number",
        "Arithmetic (`+ - * /`) takes numbers, parameters and data-bound names; an operand is a word, a "
        "string, a list or a call.",
        "Use a number or a parameter (the help line suggests a close name).",
        "net demo\nparam units = 8\ninput (4)\ndense(unit * 2)\n",
    ),
    Code(
        "N510", "data-bound-repeat", "A `repeat` count depends on the data",
        "The depth of the net must be known before fitting, so a `repeat` count cannot use `n_features`, "
        "`n_classes` or `n_outputs`.",
        "Use a literal or a `param`.",
        "net demo\ninput (4)\nrepeat n_classes {\n    dense(8)\n}\ndense(1)\n",
    ),
    Code(
        "N511", "unknown-range", "Unknown search range",
        "`param NAME = DEFAULT in KIND(...)` names the range a search draws the parameter from; the "
        "ranges are `uniform(low, high)`, `loguniform(low, high)` and `range(low, high[, step])`.",
        "Use one of the three (the help line suggests the closest), or list the values: `in [V1, V2]`.",
        "net demo\nparam lr = 0.01 in log_uniform(1e-4, 1e-1)\ninput (4)\ndense(1)\ntrain {\n    optimizer = adam(learning_rate=lr)\n}\n",
    ),
    Code(
        "N512", "range-arguments", "Wrong arguments to a search range",
        "`uniform` and `loguniform` take two numbers, `low` and `high`; `range` takes `low`, `high` and "
        "an optional `step`, all integers. An argument is missing, extra, unknown, or not a literal number "
        "(a range's bounds cannot use other parameters).",
        "Write e.g. `uniform(0, 0.5)` or `range(1, 5)`.",
        "net demo\nparam rate = 0.2 in uniform(0.5)\ninput (4)\ndropout(rate)\ndense(1)\n",
    ),
    Code(
        "N513", "range-bounds-order", "A range's low bound is not below its high bound",
        "A range goes from `low` up to `high`: `low` must be smaller (for `range`, whose end is excluded, "
        "at least one integer must lie between them).",
        "Swap the bounds, or widen the range.",
        "net demo\nparam rate = 0.2 in uniform(0.5, 0)\ninput (4)\ndropout(rate)\ndense(1)\n",
    ),
    Code(
        "N514", "loguniform-not-positive", "`loguniform` starts at or below zero",
        "`loguniform(low, high)` draws evenly on a log scale, which only positive numbers have.",
        "Start the range above 0 (e.g. `loguniform(1e-5, 1e-1)`), or use `uniform`.",
        "net demo\nparam lr = 0.01 in loguniform(0, 0.1)\ninput (4)\ndense(1)\ntrain {\n    optimizer = adam(learning_rate=lr)\n}\n",
    ),
    Code(
        "N515", "range-not-integers", "`range` takes integers",
        "`range(low, high[, step])` holds the integers low, low + step, ... below high (Python's `range`); "
        "its bounds and step must be integers and the step positive.",
        "Write integer bounds, or use `uniform(low, high)` for any number between them.",
        "net demo\nparam depth = 2 in range(1, 4.5)\ninput (4)\nrepeat depth {\n    dense(8)\n}\ndense(1)\n",
    ),
    Code(
        "N516", "default-outside-range", "A parameter's default is outside its range",
        "A parameter's default (used by `check` and `fit`) must be one of the values its search may draw: "
        "within [low, high] for `uniform` and `loguniform`, one of the integers of `range(low, high[, "
        "step])` (whose end is excluded).",
        "Change the default, or widen the range.",
        "net demo\nparam depth = 5 in range(1, 5)\ninput (4)\nrepeat depth {\n    dense(8)\n}\ndense(1)\n",
    ),
    Code(
        "N517", "range-default-type", "A parameter's default is not a value of its range",
        "A parameter with a range takes numbers: its default must be a number for `uniform` and "
        "`loguniform` and an integer for `range` (the search gives it integers).",
        "Give a default of the range's type, e.g. `param depth = 2 in range(1, 5)`.",
        "net demo\nparam depth = 2.5 in range(1, 5)\ninput (4)\ndense(8)\ndense(1)\n",
    ),
]
