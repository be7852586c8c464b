"""Specs of the activation layers: `re_lu`, `leaky_re_lu` and `p_re_lu` (Keras's `ReLU`,
`LeakyReLU` and `PReLU`; the kind is the snake case Keras itself makes of the class name, which is
also the layer's automatic name). `activation(relu)` covers the plain functions; these take
arguments (a cap, a slope, a learned slope). Shape rules: `dsl/shapes/rules/elementwise.py`."""

from typing import ClassVar, Literal

from . import kinds
from .layer_specs import Layer, Regularizer
from .layer_specs_values import InitializerName
from .nodes import described as _d
from .values import IntOrPair, NonNegFloat


@kinds.LAYERS.register("ReLU")
class ReLU(Layer):
    """`max(x, 0)`, with options: `max_value` caps it (`re_lu(6)` is ReLU6), `negative_slope` leaks
    below `threshold`."""

    kind: Literal["re_lu"] = "re_lu"
    positional: ClassVar = ("max_value", "negative_slope", "threshold")
    max_value: NonNegFloat | None = _d("Largest output; left out: no cap.", None)
    negative_slope: NonNegFloat = _d("Slope below the threshold.", 0.0)
    threshold: NonNegFloat = _d("Inputs below it are damped (times `negative_slope`).", 0.0)


@kinds.LAYERS.register("LeakyReLU")
class LeakyReLU(Layer):
    """`x` for x >= 0, `negative_slope * x` below: a ReLU that keeps a gradient for negative inputs.
    Also written `leaky_relu`, as Keras's activation function is named."""

    kind: Literal["leaky_re_lu"] = "leaky_re_lu"
    positional: ClassVar = ("negative_slope",)
    negative_slope: NonNegFloat = _d("Slope for negative inputs.", 0.3)


@kinds.LAYERS.register("PReLU")
class PReLU(Layer):
    """A leaky ReLU whose negative slope is learned, one per input value (or shared along
    `shared_axes`, e.g. one per channel of an image). Also written `prelu`."""

    kind: Literal["p_re_lu"] = "p_re_lu"
    alpha_initializer: InitializerName = _d("Initial slopes.", "zeros")
    alpha_regularizer: Regularizer | None = _d("Penalty on the slopes.", None)
    shared_axes: IntOrPair | None = _d(
        "Axes that share one slope, counted with the batch axis as 0 (`(1, 2)`: one slope per channel "
        "of an image).",
        None,
    )
