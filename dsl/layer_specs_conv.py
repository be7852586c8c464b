"""Specs of the convolution kinds beyond `conv1d` and `conv2d`: depthwise and separable
convolutions (MobileNet, Xception), transposed convolutions and up-sampling (decoders, U-Nets).

Like every layer kind they are Keras 3's (the snake_case class name, Keras's argument names,
defaults and positional order) and register in `kinds.LAYERS`; their shape rules are in
`dsl/shapes/rules/conv.py` and `dsl/shapes/rules/upsampling.py`. Their initializers are named
(`he_normal`), not literal arrays: the literal kernels of `conv1d`/`conv2d` have no counterpart here.
"""

from typing import ClassVar, Literal

from . import kinds
from .layer_specs import Layer, Regularizer
from .layer_specs_values import InitializerName, OutputPadding
from .nodes import described as _d
from .values import Activation, Bool, IntOrPair, Padding, PosInt, arg


class _Window(Layer):
    """What every convolution here shares: a window slid over the spatial axes."""

    kernel_size: IntOrPair = _d("Size of the convolution window.")
    strides: IntOrPair = _d("Step of the window.", 1)
    padding: Padding = _d("`valid`: no padding; `same`: pad so the output has the input's size (divided by the strides).",
                          "valid")
    dilation_rate: IntOrPair = _d("Spacing between kernel elements.", 1)
    activation: Activation | None = _d("Activation applied to the output.", None)
    use_bias: Bool = _d("Whether to add a bias per output channel.", True)
    bias_initializer: InitializerName = _d("Initial bias.", "zeros")
    bias_regularizer: Regularizer | None = _d("Penalty on the bias.", None)


@kinds.LAYERS.register("DepthwiseConv2D")
class DepthwiseConv2D(_Window):
    """2-D convolution of each input channel on its own (`depth_multiplier` filters per channel):
    input (height, width, channels), output channels * depth_multiplier channels."""

    kind: Literal["depthwise_conv2d"] = "depthwise_conv2d"
    positional: ClassVar = ("kernel_size", "strides", "padding", "depth_multiplier")
    depth_multiplier: PosInt = _d("Output channels per input channel.", 1)
    depthwise_initializer: InitializerName = _d("Initial depthwise kernel.", "glorot_uniform")
    depthwise_regularizer: Regularizer | None = _d("Penalty on the depthwise kernel.", None)


@kinds.LAYERS.register("SeparableConv2D")
class SeparableConv2D(_Window):
    """A depthwise convolution, then a 1x1 convolution mixing its channels into `filters`: far
    fewer weights than `conv2d` for the same output."""

    kind: Literal["separable_conv2d"] = "separable_conv2d"
    positional: ClassVar = ("filters", "kernel_size", "strides", "padding")
    filters: PosInt = _d("Number of output channels (of the 1x1 convolution).")
    depth_multiplier: PosInt = _d("Channels of the depthwise step per input channel.", 1)
    depthwise_initializer: InitializerName = _d("Initial depthwise kernel.", "glorot_uniform")
    pointwise_initializer: InitializerName = _d("Initial 1x1 kernel.", "glorot_uniform")
    depthwise_regularizer: Regularizer | None = _d("Penalty on the depthwise kernel.", None)
    pointwise_regularizer: Regularizer | None = _d("Penalty on the 1x1 kernel.", None)


class _ConvTranspose(_Window):
    positional: ClassVar = ("filters", "kernel_size", "strides", "padding")
    filters: PosInt = _d("Number of output channels (filters).")
    output_padding: OutputPadding | None = _d(
        "Extra size added on one side of each spatial axis of the output (each below its stride); "
        "left out: `valid` gives (n - 1) * strides + max(kernel, strides), `same` gives n * strides.",
        None,
    )
    kernel_initializer: InitializerName = _d("Initial kernel.", "glorot_uniform")
    kernel_regularizer: Regularizer | None = _d("Penalty on the kernel.", None)


@kinds.LAYERS.register("Conv1DTranspose")
class Conv1DTranspose(_ConvTranspose):
    """Transposed 1-D convolution: grows a sequence by `strides` (a learned up-sampling)."""

    kind: Literal["conv1d_transpose"] = "conv1d_transpose"


@kinds.LAYERS.register("Conv2DTranspose")
class Conv2DTranspose(_ConvTranspose):
    """Transposed 2-D convolution: grows an image by `strides` (a learned up-sampling, as in
    decoders and U-Nets)."""

    kind: Literal["conv2d_transpose"] = "conv2d_transpose"


@kinds.LAYERS.register("UpSampling1D")
class UpSampling1D(Layer):
    """Repeats each step of a sequence `size` times: (steps, features) -> (steps * size, features)."""

    kind: Literal["up_sampling1d"] = "up_sampling1d"
    positional: ClassVar = ("size",)
    size: PosInt = _d("How many times each step is repeated.", 2)


@kinds.LAYERS.register("UpSampling2D")
class UpSampling2D(Layer):
    """Grows an image by `size` per axis: (height, width, channels) -> (height * s0, width * s1, channels)."""

    kind: Literal["up_sampling2d"] = "up_sampling2d"
    positional: ClassVar = ("size",)
    size: IntOrPair = _d("Growth factor per axis (one number: both).", 2)
    interpolation: arg(
        Literal["nearest", "bilinear", "bicubic", "lanczos3", "lanczos5"],
        "`nearest`, `bilinear`, `bicubic`, `lanczos3` or `lanczos5`",
    ) = _d("How new pixels are filled: `nearest` repeats them.", "nearest")
