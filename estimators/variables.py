"""A model's variables as the fast path restarts and continues them: listed layer by layer
(`layer_variables`), given values by one TensorFlow op each (`assign`), the optimizer's state
zeroed (`zero_optimizer`), a restart (`reset`) and the learning rate (`set_learning_rate`).
Used by the fast path's restarts (`training_path`) and by checkpoints."""

from __future__ import annotations

import numpy as np

from netdsl.dsl import compat

__all__ = ["assign", "layer_variables", "reset", "set_learning_rate", "zero_optimizer"]


def layer_variables(model) -> list:
    """`model`'s variables, layer by layer in order (weights, statistics, random-generator states)."""
    return [variable for layer in model.layers for variable in layer.variables]


def reset(model, initial_values) -> None:
    """Give `model`'s variables (`layer_variables`) `initial_values`, those of its layers made anew
    under the fit's seed, so it starts exactly as a new model would, and zero the optimizer's state
    (its step count and moments)."""
    variables = layer_variables(model)
    if len(variables) != len(initial_values):
        raise ValueError("the initial values do not match the cached model's variables")
    assign(variables, initial_values)
    zero_optimizer(model.optimizer)


def zero_optimizer(optimizer) -> None:
    """The optimizer's state (its step count and moments; not its learning rate) zeroed."""
    rate = compat.learning_rate_variable(optimizer)
    variables = [variable for variable in optimizer.variables if variable is not rate]
    assign(variables, [np.zeros(variable.shape, dtype=variable.dtype) for variable in variables])


def assign(variables, values) -> None:
    """Each Keras variable given its value, as `variable.assign` gives it (the value as the
    variable's dtype, its shape checked), by one TensorFlow op each and without reading it back: a
    restart assigns every variable of the model and its optimizer (Keras's `assign` costs about 5
    times as much per variable)."""
    import keras
    import tensorflow as tf

    for variable, value in zip(variables, values):
        if not (isinstance(value, np.ndarray) and value.dtype == variable.dtype):  # an array as it is (TensorFlow takes it)
            value = keras.ops.convert_to_tensor(value, dtype=variable.dtype)
        if tuple(value.shape) != tuple(variable.shape):
            raise ValueError(f"cannot assign a value of shape {tuple(value.shape)} to the variable {variable.path} "
                             f"of shape {tuple(variable.shape)}")
        tf.raw_ops.AssignVariableOp(resource=variable.handle, value=value)


def set_learning_rate(model, value: float) -> None:
    model.optimizer.learning_rate = float(value)
