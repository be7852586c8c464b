"""What training a search's members as one stacked graph could buy (issue 18's convnet and halving
goals): the time of one training step of K digits convnets (or MLPs) computed together, against
the step of netdsl's fast path, which trains one member (one candidate on one fold) at a time.

Why: on 2 cores the convnet's step costs netdsl about 0.6 ms for about 5 MFLOP of arithmetic (32
samples, forward and backward); most of it is each op's fixed cost (benchmarks/README.md), paid once
per member and step.
A grid's candidates of one architecture and their folds (12 members in the 8x3 convnet grid, 36 in
a halving rung of the 144-candidate space) could share each op: one convolution over the members'
channels, one batched matrix product per dense layer, one fused Adam kernel per stacked weight.

The stacked graph here is a measurement, not netdsl's trainer: each member is the net of
`nets/cnn.net` (filters 16) or `nets/mlp.net` (units 128) with its own weights, its own batch of 32
rows in its own order, dropout and Adam (one learning rate for all: per-member rates would take
Keras's elementwise update instead of the fused kernel); the convolution is depthwise (each
member's image is one channel of the stacked input, its 16 filters that channel's multiplier). No
metrics, no loss tracker, no callbacks. Both sides run under netdsl's TensorFlow settings
(`runtime.start_keras`), each in a fresh process, the best of 2 timed epochs after a warm one.

    python -m benchmarks.stacked_members            # K = 1, 3, 12, 24 members
    python -m benchmarks.stacked_members --quick    # K = 1, 3, 600 rows
"""

from __future__ import annotations

import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a file: python benchmarks/stacked_members.py
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    __package__ = "benchmarks"

from benchmarks.common import NETS, Table, digits, script_main, try_in_fresh_process

BATCH_SIZE = 32
NETS_MEASURED = {"cnn": ("cnn.net", "filters", 16), "mlp": ("mlp.net", "units", 128)}
MEMBERS = (1, 3, 12, 24)
HIDDEN = 64  # the convnet's dense layer (nets/cnn.net)


def fast_path_step(net: str, n_rows=None) -> float:
    """ms per step of netdsl's fast path: `NetClassifier(net).fit` at batch 32, the best of two
    warm fits of 3 epochs (after one that traces)."""
    import time

    from netdsl.estimators import NetClassifier, runtime

    runtime.start_keras()
    X, y = digits(n_rows)
    file, size_name, size = NETS_MEASURED[net]
    times = []
    for _ in range(3):
        estimator = NetClassifier(str(NETS / file), epochs=3, batch_size=BATCH_SIZE, verbose=0, random_state=0,
                                  **{size_name: size})  # fmt: skip
        start = time.perf_counter()
        estimator.fit(X, y)
        times.append(time.perf_counter() - start)
    steps = 3 * -(-len(X) // BATCH_SIZE)
    return 1000 * min(times[1:]) / steps


def stacked_step(net: str, members: int, n_rows=None) -> float:
    """ms per step of `members` nets trained as one graph (`stacked_training`), the best of 2 epochs
    after a warm one."""
    import time

    import numpy as np

    from netdsl.estimators import runtime

    runtime.start_keras()
    X, y = digits(n_rows)
    epoch, n_steps, _ = stacked_training(net, members, X, y)
    rng = np.random.default_rng(0)
    times = []
    for _ in range(3):
        order = np.stack([rng.permutation(len(X)) for _ in range(members)])
        start = time.perf_counter()
        loss = float(epoch(order))
        times.append(time.perf_counter() - start)
    if not np.isfinite(loss):
        raise RuntimeError(f"the stacked {net} diverged")
    return 1000 * min(times[1:]) / n_steps


def stacked_training(net: str, members: int, X, y, weights=None):
    """(epoch, steps per epoch, the stacked variables): `epoch(order)` trains `members` copies of `net` ("cnn" or "mlp")
    for one epoch, member k on the rows `order[k]` (an int array of shape (members, rows)) in
    batches of 32 (a last short batch dropped), and returns the members' summed mean loss of the
    last step. `weights`: the stacked initial values (a list as `initial_weights` gives), else
    random ones."""
    import numpy as np
    import tensorflow as tf

    X = tf.constant(np.asarray(X, "float32"))
    y = tf.constant(np.asarray(y, "int32"))
    n_steps = int(X.shape[0]) // BATCH_SIZE
    values = weights if weights is not None else initial_weights(net, members, np.random.default_rng(0))
    variables = [tf.Variable(v) for v in values]
    moments = [(tf.Variable(tf.zeros_like(v)), tf.Variable(tf.zeros_like(v))) for v in variables]
    iterations = tf.Variable(0.0)
    forward = _convnet if net == "cnn" else _mlp

    @tf.function(autograph=False)
    def epoch(order):
        def step(i, _):
            rows = order[:, i * BATCH_SIZE:(i + 1) * BATCH_SIZE]  # (members, 32): each member's own rows
            with tf.GradientTape() as tape:
                logits = forward(tf.gather(X, rows), variables, members)  # (members, 32, 10)
                losses = tf.nn.sparse_softmax_cross_entropy_with_logits(tf.gather(y, rows), logits)
                loss = tf.reduce_sum(tf.reduce_mean(losses, axis=1))  # each member's mean: its own gradient
            gradients = tape.gradient(loss, variables)
            iterations.assign_add(1.0)
            beta_1_power, beta_2_power = tf.pow(0.9, iterations), tf.pow(0.999, iterations)
            for variable, (m, v), gradient in zip(variables, moments, gradients):
                tf.raw_ops.ResourceApplyAdam(var=variable.handle, m=m.handle, v=v.handle, beta1_power=beta_1_power,
                                             beta2_power=beta_2_power, lr=0.001, beta1=0.9, beta2=0.999, epsilon=1e-7,
                                             grad=gradient)  # fmt: skip
            return i + 1, loss

        return tf.while_loop(lambda i, _: i < n_steps, step, (tf.constant(0), tf.constant(0.0)))[1]

    return (lambda rows: epoch(tf.constant(rows, "int32"))), n_steps, variables


def initial_weights(net: str, members: int, rng) -> list:
    """Random stacked weights of `members` nets: Glorot-uniform-like kernels, zero biases."""
    import numpy as np

    def kernel(shape, fan_in, fan_out):
        limit = np.sqrt(6 / (fan_in + fan_out))
        return rng.uniform(-limit, limit, shape).astype("float32")

    zeros = lambda *shape: np.zeros(shape, "float32")  # noqa: E731
    if net == "cnn":
        filters = NETS_MEASURED["cnn"][2]
        return [kernel((3, 3, members, filters), 9, 9 * filters), zeros(members * filters),
                kernel((members, 16 * filters, HIDDEN), 16 * filters, HIDDEN), zeros(members, 1, HIDDEN),
                kernel((members, HIDDEN, 10), HIDDEN, 10), zeros(members, 1, 10)]  # fmt: skip
    units = NETS_MEASURED["mlp"][2]
    return [kernel((members, 64, units), 64, units), zeros(members, 1, units),
            kernel((members, units, 10), units, 10), zeros(members, 1, 10)]  # fmt: skip


def _convnet(x, w, members: int):
    """conv2d(16, 3, same, relu) -> max_pooling2d(2) -> flatten -> dense(64, relu) -> dropout(0.25)
    -> dense(10) for each member: x (members, batch, 64) -> logits (members, batch, 10)."""
    import tensorflow as tf

    batch, filters = tf.shape(x)[1], NETS_MEASURED["cnn"][2]
    images = tf.transpose(tf.reshape(x, (members, batch, 8, 8)), (1, 2, 3, 0))  # (batch, 8, 8, members)
    h = tf.nn.relu(tf.nn.depthwise_conv2d(images, w[0], [1, 1, 1, 1], "SAME") + w[1])  # member-major channels
    h = tf.nn.max_pool2d(h, 2, 2, "VALID")  # (batch, 4, 4, members * filters)
    h = tf.reshape(tf.transpose(tf.reshape(h, (batch, 16, members, filters)), (2, 0, 1, 3)), (members, batch, 16 * filters))
    h = tf.nn.dropout(tf.nn.relu(tf.matmul(h, w[2]) + w[3]), 0.25)
    return tf.matmul(h, w[4]) + w[5]


def _mlp(x, w, members: int):
    """dense(128, relu) -> dense(10) for each member."""
    import tensorflow as tf

    return tf.matmul(tf.nn.relu(tf.matmul(x, w[0]) + w[1]), w[2]) + w[3]


def run(quick: bool = False) -> list[Table]:
    n_rows, members = (600, (1, 3)) if quick else (None, MEMBERS)
    table = Table("One training step: K members stacked in one graph against netdsl's fast path, one member a step (ms)",
                  ["net", "members K", "ms a step", "ms a member's step", "netdsl's step / a member's"])
    for net in NETS_MEASURED:
        ours, error = try_in_fresh_process(fast_path_step, net, n_rows)
        table.add(net, "netdsl fast path", ours if error is None else error, ours if error is None else "-", "-")
        for k in members:
            step, error = try_in_fresh_process(stacked_step, net, k, n_rows)
            if error is not None:
                table.add(net, k, error, "-", "-")
                continue
            table.add(net, k, step, step / k, f"{ours / (step / k):.1f}x" if ours else "n/a")
        print(table.text(), flush=True)
    table.notes.append(f"batch {BATCH_SIZE} rows per member; {'600' if quick else 'all 1,797'} digits; nets/cnn.net "
                       "(filters 16) and nets/mlp.net (units 128); netdsl: the best of 2 warm 3-epoch fits; stacked: the best "
                       "of 2 epochs after a warm one; each in a fresh process, netdsl's TensorFlow settings")
    return [table]


if __name__ == "__main__":
    script_main(run, __doc__.splitlines()[0])
