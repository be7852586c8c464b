"""Specs of the layer kinds (and of the regularizers they take): each kind's arguments, types and defaults.

Layer kinds and argument names are Keras 3's (the snake_case class name, Keras's argument names,
and its positional order, declared in `positional`); each kind registers in `kinds.LAYERS` with
its Keras class. Field descriptions become `docs/language.md`.
"""

from typing import Annotated, ClassVar, Literal, Union

from pydantic import BeforeValidator, Field

from . import kinds
from .nodes import ByKind, Node, call_or_bare
from .nodes import described as _d
from .values import (
    Activation,
    Bool,
    CausalPadding,
    FactorPair,
    FillMode,
    Float,
    Initializer,
    Int,
    IntOrPair,
    Interpolation,
    Name,
    NonNegFloat,
    Padding,
    PosFloat,
    PosInt,
    Rate,
    arg,
)

# ---- regularizers (values of *_regularizer arguments) ---------------------------------------


@kinds.REGULARIZERS.register("L1")
class L1(Node):
    """Penalty `l1 * sum(|w|)` on a layer's weights."""

    kind: Literal["l1"] = "l1"
    positional: ClassVar = ("l1",)
    l1: NonNegFloat = _d("L1 penalty factor.", 0.01)


@kinds.REGULARIZERS.register("L2")
class L2(Node):
    """Penalty `l2 * sum(w²)` on a layer's weights."""

    kind: Literal["l2"] = "l2"
    positional: ClassVar = ("l2",)
    l2: NonNegFloat = _d("L2 penalty factor.", 0.01)


@kinds.REGULARIZERS.register("L1L2")
class L1L2(Node):
    """Both penalties."""

    kind: Literal["l1_l2"] = "l1_l2"
    positional: ClassVar = ("l1", "l2")
    l1: NonNegFloat = _d("L1 penalty factor.", 0.0)
    l2: NonNegFloat = _d("L2 penalty factor.", 0.0)


REGULARIZER_TYPES = tuple(kinds.REGULARIZERS.specs.values())
Regularizer = Annotated[Annotated[Union[REGULARIZER_TYPES], ByKind()], BeforeValidator(call_or_bare)]


# ---- layers ----------------------------------------------------------------------------------


class Layer(Node):
    """Arguments every layer takes."""

    positional: ClassVar[tuple[str, ...]] = ()
    kind: str
    name: Name | None = _d("Layer name, to refer to the layer from outside the file.", None)
    trainable: Bool = _d("`false` freezes the layer's weights.", True)


@kinds.LAYERS.register("Dense")
class Dense(Layer):
    """Fully connected layer: `output = activation(input · kernel + bias)` on the last axis."""

    kind: Literal["dense"] = "dense"
    positional: ClassVar = ("units", "activation")
    units: PosInt = _d("Number of output units.")
    activation: Activation | None = _d("Activation applied to the output.", None)
    use_bias: Bool = _d("Whether to add a bias vector.", True)
    kernel_initializer: Initializer = _d("Initial weights, or a literal matrix of fixed weights.", "glorot_uniform")
    bias_initializer: Initializer = _d("Initial bias, or a literal vector.", "zeros")
    kernel_regularizer: Regularizer | None = _d("Penalty on the weights: `l1(...)`, `l2(...)`, `l1_l2(...)`.", None)
    bias_regularizer: Regularizer | None = _d("Penalty on the bias.", None)


class _Conv(Layer):
    positional: ClassVar = ("filters", "kernel_size", "strides", "padding")
    filters: PosInt = _d("Number of output channels (filters).")
    kernel_size: IntOrPair | None = _d(
        "Size of the convolution window; may be omitted when `kernel_initializer` is a literal array.", None
    )
    strides: IntOrPair = _d("Step of the window.", 1)
    padding: Padding = _d("`valid`: no padding; `same`: pad so the output has the input's size.", "valid")
    dilation_rate: IntOrPair = _d("Spacing between kernel elements.", 1)
    activation: Activation | None = _d("Activation applied to the output.", None)
    use_bias: Bool = _d("Whether to add a bias per filter.", True)
    kernel_initializer: Initializer = _d(
        "Initial weights, or a literal array: fixed weights (a matrix for a one-channel 2-D kernel).",
        "glorot_uniform",
    )
    bias_initializer: Initializer = _d("Initial bias, or a literal vector.", "zeros")
    kernel_regularizer: Regularizer | None = _d("Penalty on the kernel.", None)
    bias_regularizer: Regularizer | None = _d("Penalty on the bias.", None)


@kinds.LAYERS.register("Conv1D")
class Conv1D(_Conv):
    """1-D convolution over sequences: input (steps, channels)."""

    kind: Literal["conv1d"] = "conv1d"
    padding: CausalPadding = _d("`valid`, `same`, or `causal` (no look-ahead).", "valid")


@kinds.LAYERS.register("Conv2D")
class Conv2D(_Conv):
    """2-D convolution over images: input (height, width, channels)."""

    kind: Literal["conv2d"] = "conv2d"


class _Pool(Layer):
    positional: ClassVar = ("pool_size", "strides", "padding")
    pool_size: IntOrPair = _d("Size of the pooling window.", 2)
    strides: IntOrPair | None = _d("Step of the window; defaults to `pool_size`.", None)
    padding: Padding = _d("`valid` or `same`.", "valid")


@kinds.LAYERS.register("MaxPooling1D")
class MaxPooling1D(_Pool):
    """Maximum over windows of a sequence."""

    kind: Literal["max_pooling1d"] = "max_pooling1d"


@kinds.LAYERS.register("MaxPooling2D")
class MaxPooling2D(_Pool):
    """Maximum over windows of an image."""

    kind: Literal["max_pooling2d"] = "max_pooling2d"


@kinds.LAYERS.register("AveragePooling1D")
class AveragePooling1D(_Pool):
    """Average over windows of a sequence."""

    kind: Literal["average_pooling1d"] = "average_pooling1d"


@kinds.LAYERS.register("AveragePooling2D")
class AveragePooling2D(_Pool):
    """Average over windows of an image."""

    kind: Literal["average_pooling2d"] = "average_pooling2d"


class _GlobalPool(Layer):
    positional: ClassVar = ()
    keepdims: Bool = _d("Keep the pooled axes with size 1.", False)


@kinds.LAYERS.register("GlobalAveragePooling1D")
class GlobalAveragePooling1D(_GlobalPool):
    """Average over all steps: (steps, channels) -> (channels)."""

    kind: Literal["global_average_pooling1d"] = "global_average_pooling1d"


@kinds.LAYERS.register("GlobalAveragePooling2D")
class GlobalAveragePooling2D(_GlobalPool):
    """Average over all pixels: (height, width, channels) -> (channels)."""

    kind: Literal["global_average_pooling2d"] = "global_average_pooling2d"


@kinds.LAYERS.register("GlobalMaxPooling1D")
class GlobalMaxPooling1D(_GlobalPool):
    """Maximum over all steps."""

    kind: Literal["global_max_pooling1d"] = "global_max_pooling1d"


@kinds.LAYERS.register("GlobalMaxPooling2D")
class GlobalMaxPooling2D(_GlobalPool):
    """Maximum over all pixels."""

    kind: Literal["global_max_pooling2d"] = "global_max_pooling2d"


@kinds.LAYERS.register("Flatten")
class Flatten(Layer):
    """Flattens everything but the batch axis."""

    kind: Literal["flatten"] = "flatten"


@kinds.LAYERS.register("Dropout")
class Dropout(Layer):
    """Sets a random fraction `rate` of inputs to 0 while training."""

    kind: Literal["dropout"] = "dropout"
    positional: ClassVar = ("rate",)
    rate: Rate = _d("Fraction of the inputs to drop.")
    seed: Int | None = _d("Random seed.", None)


@kinds.LAYERS.register("SpatialDropout1D")
class SpatialDropout1D(Dropout):
    """Drops whole channels of a sequence while training."""

    kind: Literal["spatial_dropout1d"] = "spatial_dropout1d"


@kinds.LAYERS.register("SpatialDropout2D")
class SpatialDropout2D(Dropout):
    """Drops whole feature maps of an image while training."""

    kind: Literal["spatial_dropout2d"] = "spatial_dropout2d"


@kinds.LAYERS.register("BatchNormalization")
class BatchNormalization(Layer):
    """Normalises with batch statistics while training and moving averages at inference."""

    kind: Literal["batch_normalization"] = "batch_normalization"
    positional: ClassVar = ("axis", "momentum", "epsilon")
    axis: Int = _d("Axis to normalise (the features axis).", -1)
    momentum: Rate = _d("Momentum of the moving averages.", 0.99)
    epsilon: PosFloat = _d("Added to the variance to avoid dividing by zero.", 0.001)
    center: Bool = _d("Learn an offset (beta).", True)
    scale: Bool = _d("Learn a scale (gamma).", True)


@kinds.LAYERS.register("LayerNormalization")
class LayerNormalization(Layer):
    """Normalises each sample over its features."""

    kind: Literal["layer_normalization"] = "layer_normalization"
    positional: ClassVar = ("axis", "epsilon")
    axis: Int = _d("Axis to normalise.", -1)
    epsilon: PosFloat = _d("Added to the variance to avoid dividing by zero.", 0.001)
    center: Bool = _d("Learn an offset (beta).", True)
    scale: Bool = _d("Learn a scale (gamma).", True)


@kinds.LAYERS.register("Activation")
class ActivationLayer(Layer):
    """Applies an activation function."""

    kind: Literal["activation"] = "activation"
    positional: ClassVar = ("activation",)
    activation: Activation = _d("The activation.")


@kinds.LAYERS.register("Reshape")
class Reshape(Layer):
    """Reshapes to `target_shape` (batch excluded; one entry may be -1)."""

    kind: Literal["reshape"] = "reshape"
    positional: ClassVar = ("target_shape",)
    target_shape: arg(tuple[int, ...], "a tuple of integers") = _d("The new shape.")


@kinds.LAYERS.register("Rescaling")
class Rescaling(Layer):
    """`output = input * scale + offset` (e.g. `rescaling(1 / 16)` for pixels in 0..16)."""

    kind: Literal["rescaling"] = "rescaling"
    positional: ClassVar = ("scale", "offset")
    scale: Float = _d("Multiplier.")
    offset: Float = _d("Added after scaling.", 0.0)


@kinds.LAYERS.register("Embedding")
class Embedding(Layer):
    """Maps integer tokens in [0, input_dim) to dense vectors."""

    kind: Literal["embedding"] = "embedding"
    positional: ClassVar = ("input_dim", "output_dim")
    input_dim: PosInt = _d("Size of the vocabulary (largest token + 1).")
    output_dim: PosInt = _d("Length of each vector.")
    embeddings_initializer: Initializer = _d("Initial vectors.", "uniform")
    mask_zero: Bool = _d("Treat token 0 as padding to be masked.", False)
    embeddings: arg(str, "a path to a word-vector file, in quotes") | None = _d(
        "Pretrained word vectors: a GloVe or word2vec text file, gzipped or not (a relative path is read from "
        "the `.net` file's folder, or the current directory for a program given as text), matched at fit to "
        "the vocabulary `text_vectorization` learned; words the file lacks get random vectors of the same "
        "spread. With `trainable=false` they stay fixed.",
        None,
    )


class _Recurrent(Layer):
    positional: ClassVar = ("units",)
    units: PosInt = _d("Size of the state (and of the output).")
    activation: Activation = _d("Activation of the state update.", "tanh")
    use_bias: Bool = _d("Whether to add biases.", True)
    dropout: Rate = _d("Dropout on the inputs while training.", 0.0)
    recurrent_dropout: Rate = _d("Dropout on the state while training.", 0.0)
    return_sequences: Bool = _d("Output every step (for stacking) instead of the last one.", False)
    go_backwards: Bool = _d("Read the sequence backwards.", False)
    unroll: Bool | None = _d(
        "Unroll the loop (faster for short sequences, more memory). Left out: unrolled when the sequence "
        "has a known length of at most 32 steps.",
        None,
    )


@kinds.LAYERS.register("SimpleRNN")
class SimpleRNN(_Recurrent):
    """Fully connected recurrent layer."""

    kind: Literal["simple_rnn"] = "simple_rnn"


@kinds.LAYERS.register("LSTM")
class LSTM(_Recurrent):
    """Long short-term memory layer."""

    kind: Literal["lstm"] = "lstm"
    recurrent_activation: Activation = _d("Activation of the gates.", "sigmoid")
    unit_forget_bias: Bool = _d("Start the forget gate's bias at 1.", True)


@kinds.LAYERS.register("GRU")
class GRU(_Recurrent):
    """Gated recurrent unit layer."""

    kind: Literal["gru"] = "gru"
    recurrent_activation: Activation = _d("Activation of the gates.", "sigmoid")
    reset_after: Bool = _d("Apply the reset gate after the matrix product (Keras's default).", True)


RecurrentLayer = Annotated[Union[SimpleRNN, LSTM, GRU], ByKind()]


@kinds.LAYERS.register("Bidirectional")
class Bidirectional(Layer):
    """Runs a recurrent layer forwards and backwards and merges the two outputs."""

    kind: Literal["bidirectional"] = "bidirectional"
    positional: ClassVar = ("layer", "merge_mode")
    layer: RecurrentLayer = _d("The recurrent layer: `lstm(...)`, `gru(...)` or `simple_rnn(...)`.")
    merge_mode: arg(Literal["concat", "sum", "mul", "ave"], "`concat`, `sum`, `mul` or `ave`") = _d(
        "How to merge the two directions.", "concat"
    )


@kinds.LAYERS.register("TextVectorization")
class TextVectorization(Layer):
    """Turns raw strings into integer token sequences; its vocabulary is learned at fit."""

    kind: Literal["text_vectorization"] = "text_vectorization"
    positional: ClassVar = ("max_tokens",)
    max_tokens: PosInt | None = _d("Largest vocabulary size (padding and out-of-vocabulary included).", None)
    standardize: arg(
        Literal["lower_and_strip_punctuation", "lower", "strip_punctuation"] | None,
        "`lower_and_strip_punctuation`, `lower`, `strip_punctuation` or `none`",
    ) = _d("How texts are cleaned before splitting.", "lower_and_strip_punctuation")
    split: arg(Literal["whitespace", "character"] | None, "`whitespace`, `character` or `none`") = _d(
        "How texts are split into tokens.", "whitespace"
    )
    ngrams: PosInt | None = _d("Also make n-grams up to this length.", None)
    output_mode: arg(Literal["int", "multi_hot", "count", "tf_idf"], "`int`, `multi_hot`, `count` or `tf_idf`") = _d(
        "`int`: token sequences; the others: one vector per text.", "int"
    )
    output_sequence_length: PosInt | None = _d("Pad or cut sequences to this length (`int` mode).", None)


@kinds.LAYERS.register("RandomFlip")
class RandomFlip(Layer):
    """Randomly mirrors images while training."""

    kind: Literal["random_flip"] = "random_flip"
    positional: ClassVar = ("mode",)
    mode: arg(
        Literal["horizontal", "vertical", "horizontal_and_vertical"],
        "`horizontal`, `vertical` or `horizontal_and_vertical`",
    ) = _d("Which flips to use.", "horizontal_and_vertical")
    seed: Int | None = _d("Random seed.", None)


class _RandomGeometric(Layer):
    fill_mode: FillMode = _d("How points outside the image are filled.", "reflect")
    interpolation: Interpolation = _d("Resampling method.", "bilinear")
    seed: Int | None = _d("Random seed.", None)
    fill_value: Float = _d("Value used when `fill_mode=constant`.", 0.0)


@kinds.LAYERS.register("RandomRotation")
class RandomRotation(_RandomGeometric):
    """Randomly turns images while training, by up to `factor` of a full circle."""

    kind: Literal["random_rotation"] = "random_rotation"
    positional: ClassVar = ("factor",)
    factor: FactorPair = _d("Largest turn as a fraction of 2π, or a (low, high) pair.")


@kinds.LAYERS.register("RandomTranslation")
class RandomTranslation(_RandomGeometric):
    """Randomly shifts images while training."""

    kind: Literal["random_translation"] = "random_translation"
    positional: ClassVar = ("height_factor", "width_factor")
    height_factor: FactorPair = _d("Largest vertical shift as a fraction of the height.")
    width_factor: FactorPair = _d("Largest horizontal shift as a fraction of the width.")


@kinds.LAYERS.register("RandomZoom")
class RandomZoom(_RandomGeometric):
    """Randomly zooms images while training."""

    kind: Literal["random_zoom"] = "random_zoom"
    positional: ClassVar = ("height_factor", "width_factor")
    height_factor: FactorPair = _d("Zoom range as a fraction of the height (negative: zoom in).")
    width_factor: FactorPair | None = _d("Zoom range of the width; defaults to keeping the aspect ratio.", None)


@kinds.LAYERS.register("RandomContrast")
class RandomContrast(Layer):
    """Randomly changes contrast while training."""

    kind: Literal["random_contrast"] = "random_contrast"
    positional: ClassVar = ("factor",)
    factor: FactorPair = _d("Contrast range.")
    seed: Int | None = _d("Random seed.", None)


@kinds.LAYERS.register("GaussianNoise")
class GaussianNoise(Layer):
    """Adds zero-centred Gaussian noise while training."""

    kind: Literal["gaussian_noise"] = "gaussian_noise"
    positional: ClassVar = ("stddev",)
    stddev: arg(float, "a number in [0, 1]", Field(ge=0, le=1)) = _d("Standard deviation of the noise.")
    seed: Int | None = _d("Random seed.", None)


@kinds.LAYERS.register(None)
class Pretrained(Layer):
    """The layers of a saved net, in order, with their trained weights: a convnet trained on one
    task keeps its convolution blocks and gets a new head. The base's input layer and its
    augmentation layers are left out; its layers keep their names (shown by `netdsl show`)."""

    kind: Literal["pretrained"] = "pretrained"
    positional: ClassVar = ("path",)
    path: arg(str, "a string (a file path)") = _d(
        "The saved net: a `.keras` file, or a model saved by netdsl (`netdsl fit --save`, `est.save()`); "
        "relative to the `.net` file's folder."
    )
    up_to: Name | None = _d("Name of the last base layer taken (inclusive); default: all of them.", None)
    trainable: Bool = _d("`false` freezes every layer taken from the base.", True)
    trust: Bool = _d(
        "`true` loads a base whose loading runs Python code it holds (a `Lambda` layer, a Python "
        "function, a layer class from outside Keras), refused by default: give it only for a file you trust.",
        False,
    )


# The layer registry (`kinds.LAYERS`): kind -> spec class, in the order of definition.
LAYERS: dict[str, type[Layer]] = kinds.LAYERS.specs
LAYER_TYPES: tuple[type[Layer], ...] = tuple(LAYERS.values())
# kind -> Keras layer class name: how a spec is built (estimators/compile.py) and how a saved Keras
# layer is read back as a spec (dsl/saved.py). `pretrained` is not one Keras layer but many.
LAYER_CLASSES: dict[str, str] = kinds.LAYERS.keras
AUGMENTATION_KINDS = frozenset(
    {"random_flip", "random_rotation", "random_translation", "random_zoom", "random_contrast", "gaussian_noise"}
)

LayerSpec = Annotated[Union[LAYER_TYPES], ByKind()]
