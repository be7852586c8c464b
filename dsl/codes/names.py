"""N2xx: statements, kinds, arguments and names (what is written where, and whether it exists)."""

from __future__ import annotations

from .base import Code

CODES = [
    Code(
        "N201", "unknown-layer-kind", "Unknown layer kind",
        "A layer statement names a kind netdsl does not have: a typo, a Keras class name (`Dense`) instead "
        "of its snake case, or a word that belongs in `train { }` (an optimizer, a callback).",
        "Write one of the layer kinds of docs/language.md: Keras's class name in snake case (`dense`, "
        "`conv2d`, `max_pooling2d`).",
        "net demo\ninput (4)\ndens(8)\n",
    ),
    Code(
        "N202", "unsupported-keras-layer", "A Keras layer netdsl does not support yet",
        "The layer is a Keras layer, but netdsl cannot build it (yet).",
        "Use the layer kinds listed in docs/language.md, or compose the layer from supported ones.",
        "net demo\ninput (8, 8, 8, 1)\nconv3d(4, 3)\n",
    ),
    Code(
        "N203", "unknown-kind", "Unknown optimizer, callback, regularizer or wrapped layer",
        "A call in a place that takes one family of kinds (`optimizer = ...`, `callbacks = [...]`, "
        "`kernel_regularizer=...`, the recurrent layer inside `bidirectional(...)`, the layer inside "
        "`time_distributed(...)`) names a kind that family does not have, or one the wrapper cannot "
        "wrap (`time_distributed(multi_head_attention(...))`).",
        "Use a kind the help line lists (the close match it suggests, most often).",
        "net demo\ninput (4)\ndense(1)\ntrain {\n    optimizer = adamm(learning_rate=0.01)\n}\n",
    ),
    Code(
        "N204", "unknown-argument", "Unknown argument or setting",
        "A call has an argument its kind does not take, or `train { }` a setting that does not exist; "
        "nothing is silently ignored.",
        "Fix the spelling (the help line suggests a close name) or remove the argument; "
        "docs/language.md lists each kind's arguments.",
        "net demo\ninput (8, 8, 1)\nconv2d(16, kernal_size=3)\n",
    ),
    Code(
        "N205", "missing-argument", "Missing required argument",
        "A kind needs an argument that is not given (`dense` needs `units`, a convolution its "
        "`kernel_size` or a literal kernel).",
        "Give the argument, by name (`units=8`) or in its position (`dense(8)`).",
        "net demo\ninput (4)\ndense(activation=relu)\n",
    ),
    Code(
        "N206", "duplicate-argument", "Argument or setting given twice",
        "The same argument appears twice in one call, or the same setting twice in `train { }`.",
        "Keep one of the two.",
        "net demo\ninput (4)\ndense(8, units=16)\n",
    ),
    Code(
        "N207", "positional-after-keyword", "Positional argument after keyword arguments",
        "Positional arguments map onto a kind's arguments in order, so they must all come before the "
        "first `name=value` argument.",
        "Put positional arguments first, or name this one.",
        "net demo\ninput (4)\ndense(8, activation=relu, true)\n",
    ),
    Code(
        "N208", "too-many-positional", "Too many positional arguments",
        "The call gives more positional arguments than its kind takes in order.",
        "Name the extra arguments (`key=value`), or remove them.",
        "net demo\ninput (4)\ndropout(0.5, 0.2)\ndense(1)\n",
    ),
    Code(
        "N209", "invalid-value", "Invalid value",
        "An argument or setting has a value of the wrong type (a word for a number, a number for a list) "
        "or out of its range (`units=0`, `rate=1.5`, an integer beyond 32 bits, an augmentation factor "
        "outside its interval). The help line says what is expected and what was given.",
        "Give a value of the type and range the help line states.",
        "net demo\ninput (4)\ndense(0)\n",
    ),
    Code(
        "N210", "unknown-value", "Unknown word for an argument",
        "An argument that takes one of a few words (`activation`, `padding`, `loss`, ...) gets a word that "
        "is not one of them.",
        "Use one of the words the help line lists (it suggests a close one).",
        "net demo\ninput (4)\ndense(8, activation=softmaxx)\n",
    ),
    Code(
        "N211", "undefined-name", "Undefined name",
        "A number is expected, but the word written is neither a declared `param` nor a data-bound name "
        "(`n_features`, `n_classes`, `n_outputs`).",
        "Fix the spelling, or declare the parameter: `param hidden = 64`.",
        "net demo\nparam hidden = 64\ninput (4)\ndense(hiden)\n",
    ),
    Code(
        "N212", "duplicate-statement", "A second `net`, `augment` or `train` statement",
        "A file has at most one `net` name, one `augment { }` and one `train { }` block (several `input`s "
        "are the inputs of a graph, each named: N801).",
        "Keep one; merge the settings of two `train` blocks into one.",
        "net demo\ninput (4)\ndense(1)\ntrain {\n    epochs = 5\n}\ntrain {\n    epochs = 10\n}\n",
    ),
    Code(
        "N213", "invalid-input", "Invalid `input` declaration",
        "`input` takes `text` or one sample's shape: an unknown word, an empty shape, or more than one "
        "axis of any length (`none`: one can be found from each row's width, two cannot) is refused.",
        "Write `input text` for raw strings, or a shape such as `input (8, 8, 1)` or `input (none, 7)` "
        "(sequences of any length); give the other axes a size.",
        "net demo\ninput texts\ndense(1)\n",
    ),
    Code(
        "N214", "not-augmentation", "Not an augmentation layer",
        "`augment { }` takes only the random augmentation layers (`random_flip`, `random_rotation`, ...), "
        "which act while fitting only.",
        "Move the layer into the net, or use an augmentation layer.",
        "net demo\ninput (8, 8, 1)\naugment {\n    dense(4)\n}\nflatten\ndense(1)\n",
    ),
    Code(
        "N215", "empty-repeat", "Empty `repeat` block",
        "A `repeat N { }` block holds no layer.",
        "Put layer statements between `{` and `}`, or remove the block.",
        "net demo\ninput (4)\nrepeat 2 {\n}\ndense(1)\n",
    ),
    Code(
        "N216", "invalid-layer-name", "Invalid layer name",
        "A layer's `name` is empty, holds a character TensorFlow refuses in names (only ASCII letters, "
        "digits, `_`, `.`, `-` and `>` are taken), or is the input's name (`input`, or `text`).",
        "Choose a name such as `\"conv_1\"`, or leave `name` out for an automatic one.",
        'net demo\ninput (4)\ndense(8, name="a/b")\ndense(1)\n',
    ),
    Code(
        "N217", "duplicate-layer-name", "A second layer with the same name",
        "Layer names are how layers are referred to (`freeze`, `unfreeze`, Keras): each names one layer, "
        "including those a `pretrained` base brings.",
        "Rename one of the two layers.",
        'net demo\ninput (4)\ndense(8, name="hidden")\ndense(1, name="hidden")\n',
    ),
    Code(
        "N218", "too-many-layers", "Too many layers",
        "Once `repeat` blocks are unrolled the net has more than 2,000 layers, more than Keras can build "
        "(it maps a model's graph recursively).",
        "Use fewer or smaller `repeat` blocks.",
        "net demo\ninput (4)\nrepeat 3000 {\n    dense(4)\n}\ndense(1)\n",
    ),
]
