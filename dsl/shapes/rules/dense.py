"""Shape rule of `dense`."""

from __future__ import annotations

from ..context import Context, Out, Tensor
from ..symbolic import known
from ..text import shape_text
from .common import array_shape, check_bias

def _dense(layer, x: Tensor, ctx: Context) -> Out:
    """Keras's Dense acts on the last axis only: (..., in) -> (..., units), with an (in, units)
    kernel and `units` biases, so on an image it is a 1x1 convolution (the field is kept)."""
    inputs = x.shape[-1]
    literal = array_shape(layer.kernel_initializer)
    if literal is not None and literal != (inputs, layer.units) and known(inputs, layer.units):
        ctx.note(
            "N306", f"the literal kernel has shape {shape_text(literal) if literal != 'ragged' else '(ragged)'}, "
            f"but `dense` maps {inputs} inputs to {layer.units} units",
            help=f"give a matrix of {inputs} rows (one per input) and {layer.units} columns (one per unit)",
            arg="kernel_initializer",
        )
    check_bias(layer, layer.units, ctx)
    params = inputs * layer.units + (layer.units if layer.use_bias else 0)
    return Out(x.shape[:-1] + (layer.units,), params)


RULES = {
    "dense": _dense,
}
