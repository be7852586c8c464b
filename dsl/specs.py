"""Pydantic specs of a `.net` program: what each statement, layer kind and setting means.

Layer kinds and argument names are Keras 3's (the snake_case class name, Keras's argument names,
and its positional order, declared in `positional`). Every spec is frozen and forbids unknown
arguments; layers form a discriminated union on `kind`, so a mistake is reported against exactly
one layer kind. Field descriptions become `docs/language.md`.
"""

import threading
import typing
from typing import Annotated, Any, ClassVar, Literal, Union

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PrivateAttr
from pydantic_core import core_schema

from .errors import Source
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
    IntTuple,
    Interpolation,
    Name,
    NonNegFloat,
    NonNegInt,
    Padding,
    PosFloat,
    PosInt,
    Rate,
    arg,
)


class Node(BaseModel):
    """Base of every spec: frozen, no unknown fields, equality ignores source positions.

    Validators are built on first use (`defer_build`), so a program builds only the specs of the
    kinds it uses (see `ByKind`), not all of them at import."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    # Where the program came from (text, file name, span of each part); set by the loader on a `Net`.
    _source: Source = PrivateAttr(default_factory=Source)

    @property
    def source(self) -> Source:
        """The program's source: text, file name and the span of each part, for located errors."""
        return self._source

    def __eq__(self, other) -> bool:
        return type(self) is type(other) and self.model_dump() == other.model_dump()

    def __hash__(self) -> int:
        return hash(repr(self.model_dump()))


class ByKind:
    """Annotated marker for a union of specs told apart by `kind`: pydantic's discriminated union
    (the same errors and `loc`s, the tag included), but each member is validated by calling its own
    `model_validate`, so a kind's validator is built the first time that kind is met. (A JSON
    schema of such a union lists no members: pydantic cannot describe a validator function.)"""

    def __get_pydantic_core_schema__(self, source, handler):
        choices = {
            cls.model_fields["kind"].default: core_schema.no_info_plain_validator_function(_validate_with(cls))
            for cls in typing.get_args(source)
        }
        return core_schema.tagged_union_schema(choices, discriminator="kind", strict=False, from_attributes=True)


_BUILDING = threading.RLock()


def _validate_with(cls):
    """`cls.model_validate`, its validator built first under a lock: pydantic's deferred build is not
    thread-safe, and programs may be loaded from several threads at once."""

    def validate(value):
        if not cls.__pydantic_complete__:
            with _BUILDING:
                cls.model_rebuild()  # does nothing if another thread built it meanwhile
        return cls.model_validate(value)

    validate.__name__ = validate.__qualname__ = cls.__name__
    return validate


def _d(text: str, default: Any = ..., **kwargs):
    return Field(default, description=text, **kwargs)


# ---- regularizers (values of *_regularizer arguments) ---------------------------------------


class L1(Node):
    """Penalty `l1 * sum(|w|)` on a layer's weights."""

    kind: Literal["l1"] = "l1"
    positional: ClassVar = ("l1",)
    l1: NonNegFloat = _d("L1 penalty factor.", 0.01)


class L2(Node):
    """Penalty `l2 * sum(w²)` on a layer's weights."""

    kind: Literal["l2"] = "l2"
    positional: ClassVar = ("l2",)
    l2: NonNegFloat = _d("L2 penalty factor.", 0.01)


class L1L2(Node):
    """Both penalties."""

    kind: Literal["l1_l2"] = "l1_l2"
    positional: ClassVar = ("l1", "l2")
    l1: NonNegFloat = _d("L1 penalty factor.", 0.0)
    l2: NonNegFloat = _d("L2 penalty factor.", 0.0)


def _call_or_bare(value):
    """A bare name where a call is expected means the call with no arguments (`adam` = `adam()`)."""
    return {"kind": value} if isinstance(value, str) else value


Regularizer = Annotated[Annotated[Union[L1, L2, L1L2], ByKind()], BeforeValidator(_call_or_bare)]


# ---- layers ----------------------------------------------------------------------------------


class Layer(Node):
    """Arguments every layer takes."""

    positional: ClassVar[tuple[str, ...]] = ()
    kind: str
    name: Name | None = _d("Layer name, to refer to the layer from outside the file.", None)
    trainable: Bool = _d("`false` freezes the layer's weights.", True)


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


class Conv1D(_Conv):
    """1-D convolution over sequences: input (steps, channels)."""

    kind: Literal["conv1d"] = "conv1d"
    padding: CausalPadding = _d("`valid`, `same`, or `causal` (no look-ahead).", "valid")


class Conv2D(_Conv):
    """2-D convolution over images: input (height, width, channels)."""

    kind: Literal["conv2d"] = "conv2d"


class _Pool(Layer):
    positional: ClassVar = ("pool_size", "strides", "padding")
    pool_size: IntOrPair = _d("Size of the pooling window.", 2)
    strides: IntOrPair | None = _d("Step of the window; defaults to `pool_size`.", None)
    padding: Padding = _d("`valid` or `same`.", "valid")


class MaxPooling1D(_Pool):
    """Maximum over windows of a sequence."""

    kind: Literal["max_pooling1d"] = "max_pooling1d"


class MaxPooling2D(_Pool):
    """Maximum over windows of an image."""

    kind: Literal["max_pooling2d"] = "max_pooling2d"


class AveragePooling1D(_Pool):
    """Average over windows of a sequence."""

    kind: Literal["average_pooling1d"] = "average_pooling1d"


class AveragePooling2D(_Pool):
    """Average over windows of an image."""

    kind: Literal["average_pooling2d"] = "average_pooling2d"


class _GlobalPool(Layer):
    positional: ClassVar = ()
    keepdims: Bool = _d("Keep the pooled axes with size 1.", False)


class GlobalAveragePooling1D(_GlobalPool):
    """Average over all steps: (steps, channels) -> (channels)."""

    kind: Literal["global_average_pooling1d"] = "global_average_pooling1d"


class GlobalAveragePooling2D(_GlobalPool):
    """Average over all pixels: (height, width, channels) -> (channels)."""

    kind: Literal["global_average_pooling2d"] = "global_average_pooling2d"


class GlobalMaxPooling1D(_GlobalPool):
    """Maximum over all steps."""

    kind: Literal["global_max_pooling1d"] = "global_max_pooling1d"


class GlobalMaxPooling2D(_GlobalPool):
    """Maximum over all pixels."""

    kind: Literal["global_max_pooling2d"] = "global_max_pooling2d"


class Flatten(Layer):
    """Flattens everything but the batch axis."""

    kind: Literal["flatten"] = "flatten"


class Dropout(Layer):
    """Sets a random fraction `rate` of inputs to 0 while training."""

    kind: Literal["dropout"] = "dropout"
    positional: ClassVar = ("rate",)
    rate: Rate = _d("Fraction of the inputs to drop.")
    seed: Int | None = _d("Random seed.", None)


class SpatialDropout1D(Dropout):
    """Drops whole channels of a sequence while training."""

    kind: Literal["spatial_dropout1d"] = "spatial_dropout1d"


class SpatialDropout2D(Dropout):
    """Drops whole feature maps of an image while training."""

    kind: Literal["spatial_dropout2d"] = "spatial_dropout2d"


class BatchNormalization(Layer):
    """Normalises with batch statistics while training and moving averages at inference."""

    kind: Literal["batch_normalization"] = "batch_normalization"
    positional: ClassVar = ("axis", "momentum", "epsilon")
    axis: Int = _d("Axis to normalise (the features axis).", -1)
    momentum: Rate = _d("Momentum of the moving averages.", 0.99)
    epsilon: PosFloat = _d("Added to the variance to avoid dividing by zero.", 0.001)
    center: Bool = _d("Learn an offset (beta).", True)
    scale: Bool = _d("Learn a scale (gamma).", True)


class LayerNormalization(Layer):
    """Normalises each sample over its features."""

    kind: Literal["layer_normalization"] = "layer_normalization"
    positional: ClassVar = ("axis", "epsilon")
    axis: Int = _d("Axis to normalise.", -1)
    epsilon: PosFloat = _d("Added to the variance to avoid dividing by zero.", 0.001)
    center: Bool = _d("Learn an offset (beta).", True)
    scale: Bool = _d("Learn a scale (gamma).", True)


class ActivationLayer(Layer):
    """Applies an activation function."""

    kind: Literal["activation"] = "activation"
    positional: ClassVar = ("activation",)
    activation: Activation = _d("The activation.")


class Reshape(Layer):
    """Reshapes to `target_shape` (batch excluded; one entry may be -1)."""

    kind: Literal["reshape"] = "reshape"
    positional: ClassVar = ("target_shape",)
    target_shape: arg(tuple[int, ...], "a tuple of integers") = _d("The new shape.")


class Rescaling(Layer):
    """`output = input * scale + offset` (e.g. `rescaling(1 / 16)` for pixels in 0..16)."""

    kind: Literal["rescaling"] = "rescaling"
    positional: ClassVar = ("scale", "offset")
    scale: Float = _d("Multiplier.")
    offset: Float = _d("Added after scaling.", 0.0)


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


class SimpleRNN(_Recurrent):
    """Fully connected recurrent layer."""

    kind: Literal["simple_rnn"] = "simple_rnn"


class LSTM(_Recurrent):
    """Long short-term memory layer."""

    kind: Literal["lstm"] = "lstm"
    recurrent_activation: Activation = _d("Activation of the gates.", "sigmoid")
    unit_forget_bias: Bool = _d("Start the forget gate's bias at 1.", True)


class GRU(_Recurrent):
    """Gated recurrent unit layer."""

    kind: Literal["gru"] = "gru"
    recurrent_activation: Activation = _d("Activation of the gates.", "sigmoid")
    reset_after: Bool = _d("Apply the reset gate after the matrix product (Keras's default).", True)


RecurrentLayer = Annotated[Union[SimpleRNN, LSTM, GRU], ByKind()]


class Bidirectional(Layer):
    """Runs a recurrent layer forwards and backwards and merges the two outputs."""

    kind: Literal["bidirectional"] = "bidirectional"
    positional: ClassVar = ("layer", "merge_mode")
    layer: RecurrentLayer = _d("The recurrent layer: `lstm(...)`, `gru(...)` or `simple_rnn(...)`.")
    merge_mode: arg(Literal["concat", "sum", "mul", "ave"], "`concat`, `sum`, `mul` or `ave`") = _d(
        "How to merge the two directions.", "concat"
    )


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


class RandomRotation(_RandomGeometric):
    """Randomly turns images while training, by up to `factor` of a full circle."""

    kind: Literal["random_rotation"] = "random_rotation"
    positional: ClassVar = ("factor",)
    factor: FactorPair = _d("Largest turn as a fraction of 2π, or a (low, high) pair.")


class RandomTranslation(_RandomGeometric):
    """Randomly shifts images while training."""

    kind: Literal["random_translation"] = "random_translation"
    positional: ClassVar = ("height_factor", "width_factor")
    height_factor: FactorPair = _d("Largest vertical shift as a fraction of the height.")
    width_factor: FactorPair = _d("Largest horizontal shift as a fraction of the width.")


class RandomZoom(_RandomGeometric):
    """Randomly zooms images while training."""

    kind: Literal["random_zoom"] = "random_zoom"
    positional: ClassVar = ("height_factor", "width_factor")
    height_factor: FactorPair = _d("Zoom range as a fraction of the height (negative: zoom in).")
    width_factor: FactorPair | None = _d("Zoom range of the width; defaults to keeping the aspect ratio.", None)


class RandomContrast(Layer):
    """Randomly changes contrast while training."""

    kind: Literal["random_contrast"] = "random_contrast"
    positional: ClassVar = ("factor",)
    factor: FactorPair = _d("Contrast range.")
    seed: Int | None = _d("Random seed.", None)


class GaussianNoise(Layer):
    """Adds zero-centred Gaussian noise while training."""

    kind: Literal["gaussian_noise"] = "gaussian_noise"
    positional: ClassVar = ("stddev",)
    stddev: arg(float, "a number in [0, 1]", Field(ge=0, le=1)) = _d("Standard deviation of the noise.")
    seed: Int | None = _d("Random seed.", None)


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


LAYER_TYPES: tuple[type[Layer], ...] = (
    Dense, Conv1D, Conv2D, MaxPooling1D, MaxPooling2D, AveragePooling1D, AveragePooling2D,
    GlobalAveragePooling1D, GlobalAveragePooling2D, GlobalMaxPooling1D, GlobalMaxPooling2D,
    Flatten, Dropout, SpatialDropout1D, SpatialDropout2D, BatchNormalization, LayerNormalization,
    ActivationLayer, Reshape, Rescaling, Embedding, SimpleRNN, LSTM, GRU, Bidirectional,
    TextVectorization, RandomFlip, RandomRotation, RandomTranslation, RandomZoom, RandomContrast,
    GaussianNoise, Pretrained,
)  # fmt: skip
# The layer registry: kind -> spec class.
LAYERS: dict[str, type[Layer]] = {cls.model_fields["kind"].default: cls for cls in LAYER_TYPES}
# kind -> Keras layer class name: how a spec is built (estimators/compile.py) and how a saved Keras
# layer is read back as a spec (dsl/saved.py). `pretrained` is not one Keras layer but many.
LAYER_CLASSES: dict[str, str] = {
    "dense": "Dense", "conv1d": "Conv1D", "conv2d": "Conv2D", "max_pooling1d": "MaxPooling1D",
    "max_pooling2d": "MaxPooling2D", "average_pooling1d": "AveragePooling1D",
    "average_pooling2d": "AveragePooling2D", "global_average_pooling1d": "GlobalAveragePooling1D",
    "global_average_pooling2d": "GlobalAveragePooling2D", "global_max_pooling1d": "GlobalMaxPooling1D",
    "global_max_pooling2d": "GlobalMaxPooling2D", "flatten": "Flatten", "dropout": "Dropout",
    "spatial_dropout1d": "SpatialDropout1D", "spatial_dropout2d": "SpatialDropout2D",
    "batch_normalization": "BatchNormalization", "layer_normalization": "LayerNormalization",
    "activation": "Activation", "reshape": "Reshape", "rescaling": "Rescaling", "embedding": "Embedding",
    "simple_rnn": "SimpleRNN", "lstm": "LSTM", "gru": "GRU", "bidirectional": "Bidirectional",
    "text_vectorization": "TextVectorization", "random_flip": "RandomFlip",
    "random_rotation": "RandomRotation", "random_translation": "RandomTranslation",
    "random_zoom": "RandomZoom", "random_contrast": "RandomContrast", "gaussian_noise": "GaussianNoise",
}  # fmt: skip
assert set(LAYER_CLASSES) == set(LAYERS) - {"pretrained"}, "every layer kind needs a Keras class"
AUGMENTATION_KINDS = frozenset(
    {"random_flip", "random_rotation", "random_translation", "random_zoom", "random_contrast", "gaussian_noise"}
)

LayerSpec = Annotated[Union[LAYER_TYPES], ByKind()]


class Repeat(Node):
    """`repeat N { ... }`: the body's layers N times in a row (N may be a `param`)."""

    kind: Literal["repeat"] = "repeat"
    count: NonNegInt = _d("How many times.")
    body: tuple[Annotated[Union[LAYER_TYPES + ("Repeat",)], ByKind()], ...] = _d(
        "The repeated statements."
    )


# ---- training ----------------------------------------------------------------------------------


class _Optimizer(Node):
    positional: ClassVar = ("learning_rate",)
    learning_rate: PosFloat = _d("Step size.", 0.001)
    clipnorm: PosFloat | None = _d("Clip each gradient to this norm.", None)
    clipvalue: PosFloat | None = _d("Clip each gradient to [-clipvalue, clipvalue].", None)
    weight_decay: NonNegFloat | None = _d("Decoupled weight decay.", None)


class Adam(_Optimizer):
    """Adam: adaptive moment estimation (the usual first choice)."""

    kind: Literal["adam"] = "adam"
    beta_1: Rate = _d("Decay of the first-moment estimate.", 0.9)
    beta_2: Rate = _d("Decay of the second-moment estimate.", 0.999)
    epsilon: PosFloat = _d("Numerical stability constant.", 1e-7)
    amsgrad: Bool = _d("Use the AMSGrad variant.", False)


class AdamW(Adam):
    """Adam with decoupled weight decay."""

    kind: Literal["adamw"] = "adamw"
    weight_decay: NonNegFloat | None = _d("Decoupled weight decay.", 0.004)


class Nadam(_Optimizer):
    """Adam with Nesterov momentum."""

    kind: Literal["nadam"] = "nadam"
    beta_1: Rate = _d("Decay of the first-moment estimate.", 0.9)
    beta_2: Rate = _d("Decay of the second-moment estimate.", 0.999)
    epsilon: PosFloat = _d("Numerical stability constant.", 1e-7)


class SGD(_Optimizer):
    """Stochastic gradient descent, optionally with (Nesterov) momentum."""

    kind: Literal["sgd"] = "sgd"
    positional: ClassVar = ("learning_rate", "momentum")
    learning_rate: PosFloat = _d("Step size.", 0.01)
    momentum: Rate = _d("Momentum (0: plain gradient descent).", 0.0)
    nesterov: Bool = _d("Use Nesterov momentum.", False)


class RMSprop(_Optimizer):
    """RMSprop: divides by a moving average of squared gradients."""

    kind: Literal["rmsprop"] = "rmsprop"
    rho: Rate = _d("Decay of the squared-gradient average.", 0.9)
    momentum: Rate = _d("Momentum.", 0.0)
    epsilon: PosFloat = _d("Numerical stability constant.", 1e-7)
    centered: Bool = _d("Normalise by the gradient's variance.", False)


class Adagrad(_Optimizer):
    """Adagrad: per-parameter rates from accumulated squared gradients."""

    kind: Literal["adagrad"] = "adagrad"
    initial_accumulator_value: NonNegFloat = _d("Starting value of the accumulators.", 0.1)
    epsilon: PosFloat = _d("Numerical stability constant.", 1e-7)


class Adadelta(_Optimizer):
    """Adadelta: Adagrad with a decaying window."""

    kind: Literal["adadelta"] = "adadelta"
    rho: Rate = _d("Decay rate.", 0.95)
    epsilon: PosFloat = _d("Numerical stability constant.", 1e-7)


OPTIMIZER_TYPES = (Adam, AdamW, Nadam, SGD, RMSprop, Adagrad, Adadelta)
OPTIMIZERS = {cls.model_fields["kind"].default: cls for cls in OPTIMIZER_TYPES}
Optimizer = Annotated[Annotated[Union[OPTIMIZER_TYPES], ByKind()], BeforeValidator(_call_or_bare)]

def _canonical_monitor(value):
    if isinstance(value, str):
        prefix = "val_" if value.startswith("val_") else ""
        return prefix + _canonical_metric(value.removeprefix(prefix))
    return value


Monitor = arg(str, "a metric name such as `val_loss`", BeforeValidator(_canonical_monitor))
_MONITOR = (
    "Value to watch: `loss` or a metric of `metrics`, or `val_` and its name for its value on the validation "
    "data. Without validation data (`validation_split = 0`) a `val_` value is watched on the training data, with a warning."
)
Mode = arg(Literal["auto", "min", "max"], "`auto`, `min` or `max`")


class EarlyStopping(Node):
    """Stops training when the monitored value stops improving."""

    kind: Literal["early_stopping"] = "early_stopping"
    positional: ClassVar = ("monitor", "min_delta", "patience")
    monitor: Monitor = _d(_MONITOR, "val_loss")
    min_delta: NonNegFloat = _d("Smallest change that counts as an improvement.", 0.0)
    patience: NonNegInt = _d("Epochs without improvement before stopping.", 0)
    mode: Mode = _d("Whether the value should go down or up.", "auto")
    baseline: Float | None = _d("Stop if the value does not beat this.", None)
    restore_best_weights: Bool = _d("Go back to the best epoch's weights when stopping.", False)
    start_from_epoch: NonNegInt = _d("Epochs to wait before watching.", 0)


class ReduceLROnPlateau(Node):
    """Lowers the learning rate when the monitored value stops improving."""

    kind: Literal["reduce_lr_on_plateau"] = "reduce_lr_on_plateau"
    positional: ClassVar = ("monitor", "factor", "patience")
    monitor: Monitor = _d(_MONITOR, "val_loss")
    factor: arg(float, "a number in (0, 1)", Field(gt=0, lt=1)) = _d("Multiplier of the learning rate.", 0.1)
    patience: NonNegInt = _d("Epochs without improvement before lowering.", 10)
    mode: Mode = _d("Whether the value should go down or up.", "auto")
    min_delta: NonNegFloat = _d("Smallest change that counts as an improvement.", 1e-4)
    cooldown: NonNegInt = _d("Epochs to wait after a reduction.", 0)
    min_lr: NonNegFloat = _d("Lowest learning rate.", 0.0)


CALLBACK_TYPES = (EarlyStopping, ReduceLROnPlateau)
CALLBACKS = {cls.model_fields["kind"].default: cls for cls in CALLBACK_TYPES}
Callback = Annotated[Annotated[Union[CALLBACK_TYPES], ByKind()], BeforeValidator(_call_or_bare)]

LOSSES = (
    "categorical_crossentropy", "sparse_categorical_crossentropy", "binary_crossentropy",
    "mean_squared_error", "mse", "mean_absolute_error", "mae", "mean_absolute_percentage_error",
    "mape", "mean_squared_logarithmic_error", "msle", "huber", "log_cosh", "hinge",
    "squared_hinge", "categorical_hinge", "kl_divergence", "poisson", "cosine_similarity",
)  # fmt: skip
METRICS = (
    "accuracy", "binary_accuracy", "categorical_accuracy", "sparse_categorical_accuracy",
    "top_k_categorical_accuracy", "auc", "precision", "recall", "mse", "mae", "rmse",
    "mean_squared_error", "mean_absolute_error", "root_mean_squared_error", "r2_score",
    "mape", "msle",
)  # fmt: skip
# Other names Keras's `metrics.get` takes for these metrics (its examples write `acc`; any case of
# `accuracy` and `acc`, the class names, `MSE`...): read as the name above, so `history_` and
# monitors know each metric by one name.
METRIC_ALIASES = {
    "acc": "accuracy", "MSE": "mse", "MAE": "mae", "MAPE": "mape", "MSLE": "msle",
    "mean_absolute_percentage_error": "mape", "mean_squared_logarithmic_error": "msle",
    "BinaryAccuracy": "binary_accuracy", "CategoricalAccuracy": "categorical_accuracy",
    "SparseCategoricalAccuracy": "sparse_categorical_accuracy", "TopKCategoricalAccuracy": "top_k_categorical_accuracy",
    "AUC": "auc", "Precision": "precision", "Recall": "recall", "MeanSquaredError": "mean_squared_error",
    "MeanAbsoluteError": "mean_absolute_error", "RootMeanSquaredError": "root_mean_squared_error", "R2Score": "r2_score",
    "MeanAbsolutePercentageError": "mape", "MeanSquaredLogarithmicError": "msle",
}  # fmt: skip


def _canonical_metric(value):
    """netdsl's name for a metric Keras knows by another (`acc`: `accuracy`)."""
    if not isinstance(value, str):
        return value
    if value.lower() in ("acc", "accuracy"):
        return "accuracy"
    return METRIC_ALIASES.get(value, value)



class Unfreeze(Node):
    """A second training stage (`fine_tune = unfreeze("conv_2*", epochs=10, learning_rate=1e-4)`):
    after `epochs` with the frozen layers frozen, the layers named here (names or glob patterns;
    none: every frozen layer) become trainable and training goes on at a lower learning rate.
    Frozen `batch_normalization` layers stay frozen, so they keep running in inference mode with
    the base's statistics (Keras's advice for fine-tuning)."""

    kind: Literal["unfreeze"] = "unfreeze"
    variadic: ClassVar = "layers"  # every positional argument is one item of `layers`
    layers: tuple[Name, ...] = _d("Names or glob patterns (`conv_2*`) of the layers to unfreeze; none: all.", ())
    epochs: PosInt = _d("Epochs of the second stage.", 10)
    learning_rate: PosFloat | None = _d("Learning rate of the second stage; default: a tenth of the first's.", None)


class Train(Node):
    """`train { ... }`: how the net is fitted. Estimator parameters override these."""

    loss: arg(Literal[LOSSES], "a loss: " + ", ".join(LOSSES)) | None = _d(
        "Loss to minimise; by default chosen from the task (cross-entropy or mean squared error).", None
    )
    optimizer: Optimizer = _d(
        "Optimizer: adam, adamw, nadam, sgd, rmsprop, adagrad or adadelta, with its arguments.",
        Adam(),
    )
    epochs: PosInt = _d("Passes over the training data.", 10)
    batch_size: PosInt = _d("Samples per gradient step.", 32)
    validation_split: Rate = _d("Fraction of the training data held out to validate each epoch.", 0.0)
    metrics: tuple[arg(Literal[METRICS], "a metric: " + ", ".join(METRICS), BeforeValidator(_canonical_metric)), ...] = _d(
        "Metrics recorded per epoch (in `history_`).", ()
    )
    callbacks: tuple[Callback, ...] = _d("`early_stopping(...)`, `reduce_lr_on_plateau(...)`.", ())
    class_weight: arg(Literal["balanced"] | tuple[NonNegFloat, ...], "`balanced` or a list of weights") | None = _d(
        "`balanced`, or one weight per class (in the order of the sorted class labels).", None
    )
    shuffle: Bool = _d("Shuffle the training data every epoch.", True)
    freeze: tuple[Name, ...] = _d(
        "Layers frozen from the start: names or glob patterns (`[\"conv_*\"]`), matched against the names `netdsl show` gives.", ()
    )
    fine_tune: Annotated[Unfreeze, BeforeValidator(_call_or_bare)] | None = _d("A second stage: `unfreeze(patterns..., epochs=N, learning_rate=LR)`.", None)


# ---- the program -------------------------------------------------------------------------------

ParamValue = Union[bool, int, float, str, None, tuple]


class Param(Node):
    """`param NAME = VALUE [in [V1, ...]]`: a tunable value, an estimator parameter of the same name."""

    name: str = _d("The parameter's name, used by bare name in the program.")
    default: Any = _d("Its value unless set from outside.")
    values: tuple[Any, ...] | None = _d("Values to search (`in [...]`), the default grid.", None)


class Input(Node):
    """`input (d1, d2, ...)`: one sample's shape; `input text`: raw strings."""

    shape: tuple[PosInt, ...] | None = _d("Shape of one sample (no batch axis); None for text.", None)
    text: bool = _d("Samples are raw strings.", False)


class Net(Node):
    """A whole `.net` program."""

    name: str = _d("`net NAME`.", "net")
    params: tuple[Param, ...] = _d("Tunable parameters, in order.", ())
    input: Input | None = _d("Input shape; omitted: `(n_features)`, bound from the data.", None)
    layers: tuple[Annotated[Union[LAYER_TYPES + (Repeat,)], ByKind()], ...] = _d(
        "The network, in order.", ()
    )
    augment: tuple[LayerSpec, ...] = _d("Augmentation layers, active only while training.", ())
    train: Train | None = _d("Training settings.", None)

    @property
    def param_defaults(self) -> dict[str, Any]:
        return {p.name: p.default for p in self.params}


# The statements of every program are built now, at import (under Python's import lock, so safely
# for threads), and `Train` before `Net`, which then reuses its schema; only the specs of each kind
# (layers, optimizers, callbacks, regularizers, `repeat`) wait until a program uses them.
for _cls in (Input, Param, Train, Net):
    _cls.model_rebuild()
del _cls

# Names a `param` may not take: they would shadow estimator settings.
SETTING_NAMES = frozenset(Train.model_fields) | {"learning_rate", "verbose", "random_state", "warm_start"}
