"""Static shape inference: each layer's output shape, weight count and receptive field, computed
from the specs alone (no TensorFlow), with Keras 3's semantics, and shape mistakes reported at the
line that makes them.

    >>> from netdsl.dsl import loads
    >>> summary = analyse(loads("input (8, 8, 1)\\nconv2d(4, 3)\\nmax_pooling2d\\nflatten\\ndense(n_classes)\\n"))
    >>> summary.to_dict()["output_shape"], str(summary.total_params)
    (['n_classes'], '37*n_classes + 40')

Decisions worth knowing:

* Shapes exclude the batch axis. Data-bound names that are not given (`n_features`, `n_classes`,
  `n_outputs`) stay symbolic: dimensions and weight counts are then `Sym` polynomials.
* Errors: every problem that leaves the shape known (an `embedding` fed floats, a literal kernel of
  the wrong size, ...) is collected and the walk goes on; the first problem that leaves the shape
  unknown (a kernel larger than its input, a wrong rank, a bad reshape) ends the walk, since what
  follows would only be guesses. Augmentation layers are all checked (each against the input).
  Everything found is raised together as one `NetError`.
* Augmentation layers (the `augment { }` block) come first in `rows` (a Keras model applies them
  first; they are active only while training) and keep the input's shape.
* A literal `kernel_initializer` gives the kernel size when `kernel_size` is omitted. For `conv2d`
  a matrix (rows, cols) is one kernel used for every (input channel, filter) pair; a 3-D array
  (rows, cols, in) is used for every filter; a 4-D array is the whole Keras kernel. For `conv1d` a
  list (k,) likewise, then (k, in), then (k, in, filters). The weight count is that of the full Keras
  kernel, `prod(kernel_size) * in * filters`.
* Receptive field: per spatial axis, (size, jump) starts at (1, 1) at the first convolution or
  pooling and grows by `(window - 1) * jump` (window = `dilation * (k - 1) + 1`), then
  `jump *= stride`. Padding is ignored, as usual, so a field may exceed the image. Layers that keep
  the spatial axes (dropout, normalisation, activation, a `dense` on the channels) carry it; global
  pooling, flatten, reshape, recurrent layers and embeddings end it (None).

Where things are: `walk` (`analyse`, `analyse_resolved`, `Row`, `Summary`), `rules` (`LAYER_RULES`,
one module per layer family), `symbolic` (`Sym`), `pretrained` (saved nets' layers, `freeze`),
`names` (layer names), `training` (the `train` block, memory), `text` (shapes in messages),
`context` (what the walk and the rules share).
"""

from __future__ import annotations

from .rules import LAYER_RULES
from .symbolic import Sym
from .training import TOP_K, check_metrics, memory_limit, metric_problems, output_activation
from .walk import Row, Summary, analyse, analyse_resolved, layer_names

__all__ = [
    "Sym", "Row", "Summary", "analyse", "analyse_resolved", "LAYER_RULES", "metric_problems", "check_metrics",
    "output_activation", "layer_names", "memory_limit", "TOP_K",
]
