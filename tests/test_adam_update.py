"""estimators/adam_update.py: the fused kernel's Adam update agrees with Keras's `Adam.apply`, for a
dense gradient and for an embedding's sparse one whose rows repeat (Keras squares the slices
before summing them; a dense update of every row, every step)."""

import numpy as np
import pytest

from netdsl.estimators import runtime

runtime.start_keras()

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

from netdsl.dsl import compat  # noqa: E402
from netdsl.estimators.adam_update import apply_adam  # noqa: E402

ROWS, WIDTH = 12, 3
# Row 2 three times, row 0 (a padding token) twice with zero slices, rows 5 and 7 once.
INDICES = [[2, 5, 2, 0, 2, 0], [7, 7, 2, 11, 11, 11], [1, 2, 3, 4, 5, 6]]


def _gradients(sparse: bool):
    rng = np.random.default_rng(0)
    for indices in INDICES:
        values = rng.normal(size=(len(indices), WIDTH)).astype("float32")
        values[np.asarray(indices) == 0] = 0.0
        if sparse:
            yield tf.IndexedSlices(tf.constant(values), tf.constant(indices), tf.constant([ROWS, WIDTH]))
        else:
            yield tf.math.unsorted_segment_sum(tf.constant(values), tf.constant(indices), ROWS)


def _trained(by_kernel: bool, sparse: bool):
    start = np.random.default_rng(1).normal(size=(ROWS, WIDTH)).astype("float32")
    variable = keras.Variable(start)
    optimizer = keras.optimizers.Adam(learning_rate=0.01)
    optimizer.build([variable])
    slots = compat.adam_slots(optimizer, variable)

    @tf.function(autograph=False)
    def kernel_step(gradient):
        t = tf.cast(optimizer.iterations + 1, "float32")
        powers = tf.pow(float(optimizer.beta_1), t), tf.pow(float(optimizer.beta_2), t)
        learning_rate = tf.cast(compat.learning_rate_variable(optimizer), "float32")
        apply_adam(optimizer, variable, slots, gradient, *powers, learning_rate)
        optimizer.iterations.assign_add(1)

    for gradient in _gradients(sparse):
        if by_kernel:
            kernel_step(gradient)
        else:
            optimizer.apply([gradient], [variable])
    return [np.asarray(v) for v in (variable, *slots)], start


@pytest.mark.parametrize("sparse", [True, False], ids=["sparse", "dense"])
def test_the_kernel_update_is_keras_adam(sparse):
    (weights, m, v), start = _trained(True, sparse)
    (keras_weights, keras_m, keras_v), _ = _trained(False, sparse)
    np.testing.assert_allclose(m, keras_m, rtol=1e-5, atol=1e-9)
    # the kernel's 1 - b2 is rounded from float32(0.999): 1.3e-5 from Keras's float32(1 - 0.999)
    np.testing.assert_allclose(v, keras_v, rtol=3e-5, atol=1e-12)
    np.testing.assert_allclose(weights, keras_weights, rtol=1e-5, atol=1e-7)
    touched, never = [1, 2, 3, 4, 5, 6, 7, 11], [0, 8, 9, 10]  # row 0: zero slices only
    assert np.all(np.abs(weights[touched] - start[touched]) > 1e-6)
    np.testing.assert_array_equal(weights[never], start[never])


def test_summing_before_squaring_would_differ():
    # What the kernel alone computes from the densified gradient: another second moment where a
    # row repeats (the defect that once kept embeddings off the kernel).
    (_, _, keras_v), _ = _trained(False, True)
    dense_v = _trained(False, False)[0][2]
    assert not np.allclose(dense_v[2], keras_v[2], rtol=1e-3)
    np.testing.assert_allclose(dense_v[[1, 3, 4, 6]], keras_v[[1, 3, 4, 6]], rtol=1e-6)
