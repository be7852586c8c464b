"""N3xx: shapes (what each layer receives and makes), and what Keras refuses to build."""

from __future__ import annotations

from .base import Code

CODES = [
    Code(
        "N301", "wrong-rank", "A layer needs an input of another rank",
        "Keras layers with a fixed input rank (convolutions, pooling, recurrent layers) get a tensor with "
        "more or fewer axes: `lstm` reads (batch, steps, features), `conv2d` (batch, height, width, "
        "channels).",
        "Declare the input with the axes the layer reads, add `reshape(...)` before it, or let the "
        "recurrent layer before it return every step (`return_sequences=true`).",
        "net demo\ninput (64)\nlstm(8)\ndense(1)\n",
    ),
    Code(
        "N302", "output-too-small", "A window, stride or layer leaves no output",
        "A kernel, pooling window or stride is larger than what reaches it, so the layer would output a "
        "dimension of size 0 (or its strides step past the input).",
        "Use a smaller window or stride, `padding=same`, or fewer pooling or strided layers before it.",
        "net demo\ninput (2, 2, 1)\nconv2d(4, 3)\nflatten\ndense(1)\n",
    ),
    Code(
        "N303", "reshape-size", "`reshape` does not fit its input",
        "A `reshape` target is not a shape (sizes must be positive, with at most one -1), or its sizes do "
        "not multiply to the number of values it receives.",
        "Give sizes whose product is the input's size, or write -1 for one of them to have it computed.",
        "net demo\ninput (12)\nreshape((5, 2))\nflatten\ndense(1)\n",
    ),
    Code(
        "N304", "axis-out-of-range", "Axis out of range",
        "An `axis` argument names an axis the tensor does not have, or the batch axis.",
        "Give an axis between 1 and the last; -1 (the default) is the features axis.",
        "net demo\ninput (4)\nbatch_normalization(axis=3)\ndense(1)\n",
    ),
    Code(
        "N305", "per-axis-count", "A per-axis argument has the wrong number of values",
        "`kernel_size`, `strides`, `pool_size` and the like take one number, or one per spatial axis of "
        "the layer (2 for `conv2d`).",
        "Give one number, or one per spatial axis.",
        "net demo\ninput (8, 8, 1)\nconv2d(4, (3, 3, 3))\nflatten\ndense(1)\n",
    ),
    Code(
        "N306", "literal-weights-shape", "A literal weight array has the wrong shape",
        "A literal `kernel_initializer`, `bias_initializer` or `embeddings_initializer` must have the "
        "shape of the weights it gives (or, for a convolution's kernel, the kernel's spatial shape); it "
        "must be rectangular and agree with `kernel_size`.",
        "Write an array of the shape the title states, or drop it for a random initialization.",
        "net demo\ninput (2)\ndense(1, kernel_initializer=[[1, 2, 3]])\n",
    ),
    Code(
        "N307", "raw-text", "Raw text where tokens or numbers are expected",
        "With `input text` each sample is a string: only `text_vectorization`, first in the net, reads "
        "strings; `text_vectorization` needs `input text`.",
        "Start the net with `text_vectorization(...)` (then `embedding(...)` for vectors), or drop it for "
        "numeric inputs.",
        "net demo\ninput text\ndense(8)\ndense(1)\n",
    ),
    Code(
        "N308", "unknown-steps", "The number of steps is unknown",
        "After `text_vectorization` without `output_sequence_length`, or from an input axis of any length "
        "(`input (none, 7)`), the number of steps is known only once the data is read, but the layer needs it "
        "now (`flatten` then `dense`, `unroll=true`).",
        "Give `text_vectorization` an `output_sequence_length=...`, or pool over the steps "
        "(`global_average_pooling1d`).",
        "net demo\ninput text\ntext_vectorization(max_tokens=1000)\nembedding(1000, 8)\nflatten\ndense(1)\n",
    ),
    Code(
        "N309", "softmax-over-one", "`softmax` over a single value",
        "`softmax` normalises over the last axis; over one value it is always 1, so nothing could be "
        "learned.",
        "Use `sigmoid` for one output in [0, 1] (two classes), or one unit per class with `softmax`.",
        "net demo\ninput (4)\ndense(1, activation=softmax)\n",
    ),
    Code(
        "N310", "embedding-needs-tokens", "`embedding` gets floats",
        "`embedding` looks up integer token ids, but the layer before it outputs floats.",
        "Put `embedding` first (on token ids) or right after `text_vectorization`.",
        "net demo\ninput (4)\ndense(8)\nembedding(10, 4)\nflatten\ndense(1)\n",
    ),
    Code(
        "N311", "vocabulary-size", "Vocabulary and `embedding` sizes disagree",
        "An `embedding` looks up `input_dim` token ids; the vocabulary before it (`max_tokens` of "
        "`text_vectorization`, or the one learned at fit) must not be larger, or some ids would have no "
        "vector.",
        "Set `max_tokens` of `text_vectorization` and `input_dim` of `embedding` to the same size.",
        "net demo\ninput text\ntext_vectorization(max_tokens=8, output_sequence_length=4)\nembedding(3, 2)\n"
        "flatten\ndense(1)\n",
    ),
    Code(
        "N312", "keras-refuses", "Arguments Keras refuses",
        "Keras would refuse the layer or the optimizer as written: arguments it cannot combine "
        "(`strides` and `dilation_rate` above 1, `clipnorm` with `clipvalue`, `go_backwards` inside "
        "`bidirectional`), a value it does not support (`split=none`, `max_tokens` too small), or, at "
        "fit, anything else it rejects when the layer is built.",
        "Follow the help line: keep one of the two arguments, or use a value Keras takes.",
        "net demo\ninput (4)\ndense(1)\ntrain {\n    optimizer = adam(clipnorm=1.0, clipvalue=0.5)\n}\n",
    ),
    Code(
        "N313", "too-large-to-train", "The net needs more memory than this machine has",
        "The weights (with their gradients and the optimizer's state) and one batch of outputs would not "
        "fit in this machine's memory; the layer that takes the most is shown.",
        "Use fewer units or filters, a smaller input before the layer (pooling, strides), or a smaller "
        "`batch_size`.",
        "net demo\ninput (100000, 100000)\ndense(100000)\nflatten\ndense(1)\n",
    ),
    Code(
        "N314", "sequence-too-long", "More steps than `position_embedding` has positions",
        "`position_embedding(sequence_length)` learns one vector per position, up to `sequence_length`; its "
        "input has more steps, whose positions would have no vector.",
        "Give `sequence_length` at least the number of steps (`netdsl show` lists it), or shorten the "
        "sequences before it (`output_sequence_length` of `text_vectorization`).",
        "net demo\ninput (12)\nembedding(100, 8)\nposition_embedding(10)\nmulti_head_attention(2, 4)\n"
        "global_average_pooling1d\ndense(1)\n",
    ),
]
