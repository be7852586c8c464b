"""N6xx: files a program names: saved nets (`pretrained`) and word vectors (`embeddings=`).

The examples name the small bases of tests/data/finetune (`base.keras`: conv_1, pool_1, conv_2,
flat; `lambda.keras` with a `Lambda` layer; `two_inputs.keras`, not a chain) and a file of
50-dimensional vectors `glove.6B.50d.txt`: the tests check them in a folder holding those."""

from __future__ import annotations

from .base import Code

CODES = [
    Code(
        "N601", "saved-net-unreadable", "The saved net cannot be used",
        "The file `pretrained(...)` names does not exist, or is not a Keras model file netdsl can read (a "
        "pickle, a damaged or truncated archive, a config that is not a model's).",
        "Check the path (a relative path is read from the `.net` file's folder); save the base again with "
        "Keras's `model.save(\"base.keras\")` or `netdsl fit --save`.",
        'net demo\ninput (8, 8, 1)\npretrained("missing.keras")\nflatten\ndense(1)\n',
    ),
    Code(
        "N602", "unsafe-saved-net", "The saved net would run Python code",
        "The base holds layers whose Python code (a `Lambda`, custom objects) would run when Keras loads "
        "it; netdsl loads it only when told the file is trusted.",
        'Take it only from a file you trust, with `pretrained("base.keras", trust=true)`.',
        'net demo\npretrained("lambda.keras", up_to="hidden")\ndense(3, activation=softmax)\n',
    ),
    Code(
        "N603", "no-such-base-layer", "The saved net has no such layer",
        "`up_to=` names the last layer to take from the base, but the base has no layer of that name.",
        "Use one of the base's layer names (the help line lists them; `netdsl show` too).",
        'net demo\npretrained("base.keras", up_to="pool1")\ndense(3, activation=softmax)\n',
    ),
    Code(
        "N604", "unsupported-base-layer", "A layer of the saved net cannot be taken",
        "netdsl takes a chain of the layer kinds it knows from a base; this layer's Keras class is not "
        "one of them (or its configuration cannot be read).",
        "Take the layers before it, with `up_to=\"...\"`.",
        'net demo\npretrained("two_inputs.keras", up_to="b")\ndense(3, activation=softmax)\n',
    ),
    Code(
        "N605", "pretrained-misuse", "`pretrained` used where it cannot be",
        "`pretrained` takes a saved net once: it cannot be inside `repeat { }`, and it takes no `name` (its "
        "layers keep their names from the saved net).",
        "Move it out of `repeat { }`; drop `name=`.",
        'net demo\nrepeat 2 {\n    pretrained("base.keras")\n}\ndense(3, activation=softmax)\n',
    ),
    Code(
        "N606", "base-input-mismatch", "A base layer gets another input than it was built for",
        "A layer taken from a saved net has trained weights for the input it was built for; what comes "
        "before it here gives another shape, so its weights would not fit.",
        "Change the layers before it (or `input`), or take the base only up to a layer before it.",
        'net demo\ninput (8, 8, 3)\npretrained("base.keras", up_to="flat")\ndense(3, activation=softmax)\n',
    ),
    Code(
        "N610", "vectors-file-unreadable", "The word-vector file cannot be read",
        "The file `embeddings=` names does not exist, is a folder, or is not a word-vector file in a "
        "text format netdsl reads (GloVe, word2vec text, fastText `.vec`).",
        "Check the path (a relative path is read from the `.net` file's folder) and the file's format.",
        "net demo\ninput text\ntext_vectorization(max_tokens=1000, output_sequence_length=20)\n"
        'embedding(1000, 50, embeddings="glove.missing.txt")\nflatten\ndense(1)\n',
    ),
    Code(
        "N611", "vectors-dimension", "The word vectors have another size than `output_dim`",
        "Each vector of the file has as many numbers as the file's dimension, which must be the "
        "embedding's `output_dim`.",
        "Set `output_dim` to the file's dimension, or use a file of vectors of that size.",
        "net demo\ninput text\ntext_vectorization(max_tokens=1000, output_sequence_length=20)\n"
        'embedding(1000, 64, embeddings="glove.6B.50d.txt")\nflatten\ndense(1)\n',
    ),
    Code(
        "N612", "embeddings-without-vocabulary", "`embeddings=` without a vocabulary",
        "Pretrained vectors are matched to the words of the vocabulary `text_vectorization` learns, so "
        "an embedding with `embeddings=` needs one before it; a literal `embeddings_initializer` cannot "
        "be given too.",
        "Start the net with `input text` and `text_vectorization(...)`; give the vectors one way.",
        'net demo\ninput (20)\nembedding(1000, 50, embeddings="glove.6B.50d.txt")\nflatten\ndense(1)\n',
    ),
    Code(
        "N613", "vectors-match-nothing", "No word of the vocabulary is in the vectors file",
        "At fit, the words `text_vectorization` learned are looked up in the vectors file (exactly, then "
        "ignoring case), and none is there: the file is most likely for another language or tokenization.",
        "Use a vectors file for the texts' language, or drop `embeddings=`.",
        "net demo\ninput text\ntext_vectorization(max_tokens=1000, output_sequence_length=20)\n"
        'embedding(1000, 50, embeddings="glove.6B.50d.txt")\nflatten\ndense(1)\n'
        "# fitted on French texts with English vectors\n",
        stage="fit",
    ),
]
