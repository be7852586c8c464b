"""Keras's Adam update of one variable by TensorFlow's fused kernel (`ResourceApplyAdam`), for the
fast path's training step (`fused_adam_step`, for the models `plain_adam` accepts), dense and
sparse gradients alike.

A dense gradient goes to the kernel as it is: the kernel computes Keras's Adam (`m += (g - m)(1 -
b1)`, `v += (g^2 - v)(1 - b2)`, `var -= lr sqrt(1 - b2^t) / (1 - b1^t) m / (sqrt(v) + eps)`, every
row, every step).

A sparse gradient (`tf.IndexedSlices`: an embedding's rows, one slice per token of the batch, a row
repeated as often as its token is) is not squared as a dense one. Keras's `update_step` moves `m`
towards the gradient made dense (the slices of each row summed: `G`) but squares the slices before
they are summed (`keras.ops.square` keeps an `IndexedSlices` sparse), so `v` moves towards `S`, the
sum of each row's squared slices, not `G^2`; where a token appears once in the batch the two are
the same. Both moments and the weights still change at every row, every step: a dense update, not
a lazy one. The kernel given `G` alone would square `G` and train another model (the defect that
once kept embeddings off this kernel: a loss 0.59 against Keras's 0.54 after one epoch). So `v` is
first shifted at the batch's rows by `(S - G^2) (1 - b2) / b2`, the amount that makes the kernel's
`v + (G^2 - v)(1 - b2)` equal `v + (S - v)(1 - b2)`, and the kernel then updates `m`, `v` and the
weights in one pass, in place (`v` taken out of the copy-on-read mode the scatter put it in): the
same formula as Keras's Adam. Only the rounding differs: as for a dense gradient (the kernel's
`1 - b1` and `1 - b2` are rounded to float32 from float32 betas), and the shift of a row repeated n
times rounds `v` to about n units in the last place (tests/test_fast*.py compare with Keras's
`fit`). Time per step: benchmarks/README.md.
"""

from __future__ import annotations

from netdsl.dsl import compat


def apply_adam(optimizer, variable, slots, gradient, beta_1_power, beta_2_power, learning_rate) -> None:
    """Keras's Adam update of `variable` (a Keras variable) for `gradient` (a tensor or a
    `tf.IndexedSlices`): `slots` are its (first moment, second moment) variables, the powers are
    `beta_1 ** t` and `beta_2 ** t` of this step `t`, `learning_rate` a float32 scalar."""
    import tensorflow as tf

    m, v = slots
    beta_1, beta_2 = float(optimizer.beta_1), float(optimizer.beta_2)
    if isinstance(gradient, tf.IndexedSlices):
        _shift_second_moment(v, gradient, beta_2)
        # Keras's densified gradient: the slices of each row summed, in their order
        gradient = tf.math.unsorted_segment_sum(gradient.values, gradient.indices, tf.shape(variable.value)[0])
    tf.raw_ops.ResourceApplyAdam(
        var=variable.handle, m=m.handle, v=v.handle, beta1_power=beta_1_power, beta2_power=beta_2_power,
        lr=learning_rate, beta1=beta_1, beta2=beta_2, epsilon=float(optimizer.epsilon), grad=gradient,
    )  # fmt: skip


def plain_adam(model) -> bool:
    """Whether the model's update is exactly Adam's (no clipping, weight decay, AMSGrad, moving
    average, gradient accumulation, loss scaling, learning-rate schedule, variable constraint or
    float16 variable), so that TensorFlow's fused kernel agrees (`adam_update`)."""
    import keras

    optimizer = model.optimizer
    return (
        type(optimizer) is keras.optimizers.Adam
        and not optimizer.amsgrad
        and optimizer.clipnorm is None and optimizer.clipvalue is None and optimizer.global_clipnorm is None
        and not optimizer.weight_decay
        and not optimizer.use_ema
        and not optimizer.gradient_accumulation_steps
        and optimizer.loss_scale_factor is None
        and isinstance(compat.learning_rate_variable(optimizer), keras.Variable)
        and all(v.constraint is None and v.dtype == "float32" and not v.overwrite_with_gradient
                for v in model.trainable_variables)
    )  # fmt: skip


def fused_adam_step(model):
    """Keras's `train_step` (the same loss, regularisation, sample weights, loss tracker and
    metrics) with Adam's update done by one fused kernel per variable instead of about twenty ops:
    the same arithmetic (Keras's Adam: `lr * sqrt(1 - b2^t) / (1 - b1^t) * m / (sqrt(v) + eps)`),
    in less time per step and a faster trace (benchmarks/README.md); an embedding's sparse
    gradient too (`adam_update`)."""
    import tensorflow as tf

    optimizer = model.optimizer
    variables = model.trainable_variables
    slots = [compat.adam_slots(optimizer, v) for v in variables]
    tracker = compat.loss_tracker(model)

    def step(data):
        x, y = data[0], data[1]
        sample_weight = data[2] if len(data) > 2 else None
        with tf.GradientTape() as tape:
            y_pred = model(x, training=True)
            loss = compat.training_loss(model, x, y, y_pred, sample_weight)
        tracker.update_state(loss, sample_weight=tf.shape(tf.nest.flatten(x)[0])[0])
        gradients = tape.gradient(loss, variables)
        local_step = tf.cast(optimizer.iterations + 1, "float32")
        beta_1, beta_2 = float(optimizer.beta_1), float(optimizer.beta_2)
        beta_1_power, beta_2_power = tf.pow(beta_1, local_step), tf.pow(beta_2, local_step)
        learning_rate = tf.cast(compat.learning_rate_variable(optimizer), "float32")
        for variable, (m, v), gradient in zip(variables, slots, gradients):
            if gradient is None:
                continue
            apply_adam(optimizer, variable, (m, v), gradient, beta_1_power, beta_2_power, learning_rate)
        optimizer.iterations.assign_add(1)
        return model.compute_metrics(x, y, y_pred, sample_weight=sample_weight)

    return step


def _shift_second_moment(v, gradient, beta_2: float) -> None:
    """Add `(S - G^2) (1 - b2) / b2` to `v` at the rows of `gradient` (`S`: the sum of a row's
    squared slices, `G`: of its slices), with the kernel's float32 `1 - b2`."""
    import tensorflow as tf

    rows, slices = tf.unique(gradient.indices)
    count = tf.shape(rows)[0]
    summed = tf.math.unsorted_segment_sum(gradient.values, slices, count)
    squares = tf.math.unsorted_segment_sum(tf.square(gradient.values), slices, count)
    rate = 1 - tf.constant(beta_2, gradient.values.dtype)  # as the kernel computes it
    shift = (squares - tf.square(summed)) * (rate / (1 - rate))
    tf.raw_ops.ResourceScatterAdd(resource=v.value.handle, indices=rows, updates=shift)
    # A scatter puts `v` in TensorFlow's copy-on-read mode, in which the kernel's dense update would
    # first copy all of it (20,000 x 64 floats) at every step. In that mode no read shares its
    # buffer (TensorFlow's kernel says so), so turning it off changes no number: later reads share
    # the buffer, and an update copies it only while a read still holds it (benchmarks/README.md).
    tf.raw_ops.DisableCopyOnRead(resource=v.value.handle)
