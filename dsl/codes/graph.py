"""N8xx: graphs (named points, `from`, merges, `residual`, several inputs and outputs)."""

from __future__ import annotations

from .base import Code

CODES = [
    Code(
        "N801", "unnamed-input", "A net with several inputs names each one",
        "With two or more `input` statements, each must have a name, so that `from NAME` can say which "
        "one a branch reads and the data can say which columns go to which.",
        "Write `input NAME (shape)` or `input NAME text` for each.",
        "net demo\ninput (4)\ninput meta (3)\ndense(1)\n",
    ),
    Code(
        "N802", "unknown-point", "An unknown name of a point",
        "`from NAME`, a merge (`add(a, b)`) or `output NAME` names a point no input or layer above has.",
        "Name the point where it is made (`a = dense(8)`), or use one of the names the help lists.",
        "net demo\ninput (4)\nh = dense(8)\nadd(h, g)\n",
    ),
    Code(
        "N803", "point-used-before-named", "A point used above the place it is named",
        "A net flows downward: a statement reads only points named above it, so a name used before the "
        "layer that makes it would be a cycle.",
        "Move the statement below the layer it reads, or read another point.",
        "net demo\ninput (4)\nh = dense(8)\nadd(h, later)\nlater = dense(8)\n",
    ),
    Code(
        "N804", "merge-inputs", "A merge with the wrong number of inputs",
        "A merge reads the points it names: two or more (`add`, `concatenate`, `multiply`, `average`, "
        "`maximum`, `minimum`), exactly two (`subtract`, `dot`).",
        "Name the points merged, e.g. `add(x, block)`; use `residual { }` to add a block to its input.",
        "net demo\ninput (4)\nh = dense(4)\nadd(h)\n",
    ),
    Code(
        "N805", "merge-shapes", "A merge of points whose shapes do not fit together",
        "The points a merge reads must have the same shape (`add`, `multiply`, ...), or the same shape "
        "but along the joined axis (`concatenate`), or matching axes (`dot`).",
        "Change one branch (a `dense` or a 1x1 `conv2d` to the other's width, a pooling to its size), "
        "or merge with `concatenate`.",
        "net demo\ninput (4)\na = dense(8)\nfrom input\nb = dense(4)\nadd(a, b)\n",
    ),
    Code(
        "N806", "unused-point", "A layer whose output nothing reads",
        "Once a net declares its outputs (`output A, B`), or a branch ends without being merged, a "
        "layer whose output is neither read by a later statement nor an output is a dead end: its "
        "weights would never learn.",
        "Merge the branch into the flow, list it in `output`, or remove it.",
        "net demo\ninput (4)\nh = dense(8)\ndense(2)\nfrom h\ndense(1)\n",
    ),
    Code(
        "N807", "unused-input", "An input no output depends on",
        "Every input of a net must reach an output; one that does not would be data read for nothing.",
        "Read the input in a branch that reaches an output (`from NAME`, then merge), or remove it.",
        "net demo\ninput a (4)\ninput b (3)\nfrom a\ndense(1)\n",
    ),
    Code(
        "N808", "flow-without-from", "Layers of a net with several inputs before any `from`",
        "With several inputs the flow has no point to start from: which input the first layer reads must "
        "be said.",
        "Begin each branch with `from NAME` (an input's name).",
        "net demo\ninput a (4)\ninput b (3)\ndense(1)\n",
    ),
    Code(
        "N809", "repeat-values", "`repeat NAME in` without a list",
        "`repeat NAME in [V1, V2, ...] { }` takes a list of values, one copy of the block for each: written "
        "out, or a `param` whose value is a list (`param widths = [32, 64]`, then `repeat f in widths`).",
        "Write the values as a list, e.g. `repeat filters in [32, 64, 128] { ... }`, or give the `param` a list.",
        "net demo\ninput (4)\nrepeat units in 8 {\n    dense(units)\n}\ndense(1)\n",
    ),
    Code(
        "N810", "point-name-clash", "A name that means two things",
        "A point's name (a layer's or an input's) is also used by a `param`, a `repeat` name or another "
        "input, so a bare name could mean either.",
        "Rename one of the two.",
        "net demo\nparam h = 8\ninput (4)\nh = dense(h)\ndense(1)\n",
    ),
    Code(
        "N811", "unknown-output-setting", "A `train` setting for an output the net does not have",
        "`NAME.loss`, `NAME.loss_weight` and `NAME.metrics` in `train { }` set one output's own training; "
        "`NAME` must be one of the names `output` lists.",
        "Use an output's name (the help lists them), or declare the output with `output NAME`.",
        "net demo\ninput (4)\noutput a, b\nh = dense(8)\na = dense(1)\nfrom h\nb = dense(1)\n"
        "train {\n    c.loss = mse\n}\n",
    ),
]
