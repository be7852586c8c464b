"""N4xx: the `train { }` block against the net (metrics, loss, class weights, monitors, freezing)."""

from __future__ import annotations

from .base import Code

CODES = [
    Code(
        "N401", "metric-for-targets", "A metric Keras cannot compute on these targets",
        "The metric does not fit the targets the net is trained on: a softmax classifier's targets are "
        "integer class labels (or one-hot with `categorical_crossentropy`), while `precision`, `mse` and "
        "the like compare each output with a target of the same shape; `top_k_categorical_accuracy` "
        "with fewer classes than k is always 1.",
        "Use `accuracy` (Keras matches it to the targets), or change the loss or the last layer as the "
        "help line says.",
        "net demo\ninput (4)\ndense(3, activation=softmax)\ntrain {\n    metrics = [accuracy, mse]\n}\n",
    ),
    Code(
        "N402", "loss-for-output", "A loss the net's output cannot have",
        "`categorical_crossentropy` and `sparse_categorical_crossentropy` compare a softmax over classes "
        "with the targets, but the net ends in another activation.",
        "End with `dense(n_classes, activation=softmax)`, or for one sigmoid unit use "
        "`binary_crossentropy`.",
        "net demo\ninput (4)\ndense(1, activation=sigmoid)\ntrain {\n    loss = categorical_crossentropy\n}\n",
    ),
    Code(
        "N403", "class-weight-count", "`class_weight` lists another number of classes",
        "A list of class weights gives one weight per class, but its length differs from the number of "
        "classes the net's output has.",
        "Give one weight per class, in the order of the sorted class labels, or `balanced`.",
        "net demo\ninput (4)\ndense(3, activation=softmax)\ntrain {\n    class_weight = [1, 2]\n}\n",
    ),
    Code(
        "N404", "monitor-not-reported", "A callback monitors a value the net does not report",
        "`early_stopping` and `reduce_lr_on_plateau` watch a value of the training log: the loss, the "
        "metrics listed in `metrics`, and their `val_` values with validation data.",
        "Monitor `loss`, `val_loss` or a listed metric, or add the metric to `metrics = [...]`.",
        "net demo\ninput (4)\ndense(1)\ntrain {\n    callbacks = [early_stopping(monitor=val_auc)]\n}\n",
    ),
    Code(
        "N405", "pattern-matches-nothing", "A `freeze` or `unfreeze` pattern matches no layer",
        "Layer-name patterns (`*` and `?` as in file names) of `freeze = [...]` or `unfreeze(...)` must "
        "each match a layer of the net.",
        "Fix the pattern; `netdsl show` lists the layers' names.",
        'net demo\ninput (4)\ndense(8, name="hidden")\ndense(1)\ntrain {\n    freeze = ["hiden"]\n}\n',
    ),
    Code(
        "N406", "nothing-to-unfreeze", "`fine_tune` unfreezes no layer",
        "The second stage of training unfreezes layers, but the layers it names are trainable already "
        "(or `batch_normalization`, which stays frozen).",
        "Freeze layers first: `pretrained(..., trainable=false)`, `trainable=false` on a layer, or "
        "`freeze = [...]`.",
        "net demo\ninput (4)\ndense(8)\ndense(1)\ntrain {\n    fine_tune = unfreeze()\n}\n",
    ),
    Code(
        "N407", "fine-tune-takes-unfreeze", "`fine_tune` takes `unfreeze(...)`",
        "The `fine_tune` setting describes the second stage of training with one call, `unfreeze(...)`.",
        'Write e.g. `fine_tune = unfreeze("conv_*", epochs=10, learning_rate=0.0001)`.',
        "net demo\ninput (4)\ndense(1)\ntrain {\n    fine_tune = 10\n}\n",
    ),
    Code(
        "N408", "logits-after-activation", "`from_logits=true` after a softmax or sigmoid",
        "A cross-entropy with `from_logits=true` reads the net's outputs as logits, scores before the softmax "
        "(sigmoid for `binary_crossentropy`), and applies it itself; the net ends in an activation already, so "
        "the loss would apply a second one and train on the wrong values.",
        "End the net without an activation (`dense(n_classes)`: `predict_proba` still gives probabilities), "
        "or drop `from_logits=true` to keep the activation.",
        "net demo\ninput (4)\ndense(3, activation=softmax)\ntrain {\n    loss = sparse_categorical_crossentropy(from_logits=true)\n}\n",
    ),
    Code(
        "N409", "class-weight-several-outputs", "`class_weight` in a net with several outputs",
        "Class weights weigh each row by its class, and a net with several outputs has a class per "
        "output (or none, for an output that regresses): Keras takes class weights for one output only.",
        "Remove `class_weight`, and weigh the rows with `sample_weight` when fitting.",
        "net demo\ninput (4)\noutput a, b\nh = dense(8)\na = dense(3, activation=softmax)\nfrom h\n"
        "b = dense(1)\ntrain {\n    class_weight = balanced\n    a.loss = sparse_categorical_crossentropy\n"
        "    b.loss = mse\n}\n",
    ),
]
