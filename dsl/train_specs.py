"""Specs of the `train` block: its settings, the optimizers, the callbacks and `unfreeze`.

Each optimizer and callback registers in `kinds.OPTIMIZERS` / `kinds.CALLBACKS` with its Keras
class: a new optimizer is one class here (its arguments are Keras's), and `tests/test_kinds.py`
checks that Keras has it and that `estimators/compile.py` builds it.
"""

from typing import Annotated, ClassVar, Literal, Union

from pydantic import BeforeValidator, Field
from pydantic_core import core_schema

from . import kinds
from .kinds import LOSSES, METRICS, canonical_metric
from .nodes import ByKind, Node, call_or_bare
from .nodes import described as _d
from .values import Bool, Float, Name, NonNegFloat, NonNegInt, PosFloat, PosInt, Rate, arg


def _or(words) -> str:
    """`a, b or c`."""
    words = list(words)
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]


# ---- optimizers --------------------------------------------------------------------------------


class _Optimizer(Node):
    positional: ClassVar = ("learning_rate",)
    learning_rate: PosFloat = _d("Step size.", 0.001)
    clipnorm: PosFloat | None = _d("Clip each gradient to this norm.", None)
    clipvalue: PosFloat | None = _d("Clip each gradient to [-clipvalue, clipvalue].", None)
    weight_decay: NonNegFloat | None = _d("Decoupled weight decay.", None)


@kinds.OPTIMIZERS.register("Adam")
class Adam(_Optimizer):
    """Adam: adaptive moment estimation (the usual first choice)."""

    kind: Literal["adam"] = "adam"
    beta_1: Rate = _d("Decay of the first-moment estimate.", 0.9)
    beta_2: Rate = _d("Decay of the second-moment estimate.", 0.999)
    epsilon: PosFloat = _d("Numerical stability constant.", 1e-7)
    amsgrad: Bool = _d("Use the AMSGrad variant.", False)


@kinds.OPTIMIZERS.register("AdamW")
class AdamW(Adam):
    """Adam with decoupled weight decay."""

    kind: Literal["adamw"] = "adamw"
    weight_decay: NonNegFloat | None = _d("Decoupled weight decay.", 0.004)


@kinds.OPTIMIZERS.register("Nadam")
class Nadam(_Optimizer):
    """Adam with Nesterov momentum."""

    kind: Literal["nadam"] = "nadam"
    beta_1: Rate = _d("Decay of the first-moment estimate.", 0.9)
    beta_2: Rate = _d("Decay of the second-moment estimate.", 0.999)
    epsilon: PosFloat = _d("Numerical stability constant.", 1e-7)


@kinds.OPTIMIZERS.register("SGD")
class SGD(_Optimizer):
    """Stochastic gradient descent, optionally with (Nesterov) momentum."""

    kind: Literal["sgd"] = "sgd"
    positional: ClassVar = ("learning_rate", "momentum")
    learning_rate: PosFloat = _d("Step size.", 0.01)
    momentum: Rate = _d("Momentum (0: plain gradient descent).", 0.0)
    nesterov: Bool = _d("Use Nesterov momentum.", False)


@kinds.OPTIMIZERS.register("RMSprop")
class RMSprop(_Optimizer):
    """RMSprop: divides by a moving average of squared gradients."""

    kind: Literal["rmsprop"] = "rmsprop"
    rho: Rate = _d("Decay of the squared-gradient average.", 0.9)
    momentum: Rate = _d("Momentum.", 0.0)
    epsilon: PosFloat = _d("Numerical stability constant.", 1e-7)
    centered: Bool = _d("Normalise by the gradient's variance.", False)


@kinds.OPTIMIZERS.register("Adagrad")
class Adagrad(_Optimizer):
    """Adagrad: per-parameter rates from accumulated squared gradients."""

    kind: Literal["adagrad"] = "adagrad"
    initial_accumulator_value: NonNegFloat = _d("Starting value of the accumulators.", 0.1)
    epsilon: PosFloat = _d("Numerical stability constant.", 1e-7)


@kinds.OPTIMIZERS.register("Adadelta")
class Adadelta(_Optimizer):
    """Adadelta: Adagrad with a decaying window."""

    kind: Literal["adadelta"] = "adadelta"
    rho: Rate = _d("Decay rate.", 0.95)
    epsilon: PosFloat = _d("Numerical stability constant.", 1e-7)


# The optimizer registry (`kinds.OPTIMIZERS`): kind -> spec class, in the order of definition.
OPTIMIZERS = kinds.OPTIMIZERS.specs
OPTIMIZER_TYPES = tuple(OPTIMIZERS.values())
Optimizer = Annotated[Annotated[Union[OPTIMIZER_TYPES], ByKind()], BeforeValidator(call_or_bare)]


# ---- callbacks ---------------------------------------------------------------------------------


def _canonical_monitor(value):
    if isinstance(value, str):
        prefix = "val_" if value.startswith("val_") else ""
        return prefix + canonical_metric(value.removeprefix(prefix))
    return value


Monitor = arg(str, "a metric name such as `val_loss`", BeforeValidator(_canonical_monitor))
_MONITOR = (
    "Value to watch: `loss` or a metric of `metrics`, or `val_` and its name for its value on the validation "
    "data. Without validation data (`validation_split = 0`) a `val_` value is watched on the training data, with a warning."
)
Mode = arg(Literal["auto", "min", "max"], "`auto`, `min` or `max`")


@kinds.CALLBACKS.register("EarlyStopping")
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


@kinds.CALLBACKS.register("ReduceLROnPlateau")
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


# The callback registry (`kinds.CALLBACKS`): kind -> spec class.
CALLBACKS = kinds.CALLBACKS.specs
CALLBACK_TYPES = tuple(CALLBACKS.values())
Callback = Annotated[Annotated[Union[CALLBACK_TYPES], ByKind()], BeforeValidator(call_or_bare)]


# ---- losses ------------------------------------------------------------------------------------


class _Crossentropy(Node):
    positional: ClassVar = ("from_logits",)
    from_logits: Bool = _d(
        "The net's outputs are logits, scores before the softmax (sigmoid for `binary_crossentropy`): the loss "
        "applies it itself, which is more precise, and the last layer has no activation. `predict_proba` "
        "still gives probabilities.",
        False,
    )


@kinds.LOSS_CALLS.register("CategoricalCrossentropy")
class CategoricalCrossentropy(_Crossentropy):
    """Cross-entropy over classes with one-hot targets (`keras.losses.CategoricalCrossentropy`)."""

    kind: Literal["categorical_crossentropy"] = "categorical_crossentropy"


@kinds.LOSS_CALLS.register("SparseCategoricalCrossentropy")
class SparseCategoricalCrossentropy(_Crossentropy):
    """Cross-entropy over classes with integer targets (`keras.losses.SparseCategoricalCrossentropy`)."""

    kind: Literal["sparse_categorical_crossentropy"] = "sparse_categorical_crossentropy"


@kinds.LOSS_CALLS.register("BinaryCrossentropy")
class BinaryCrossentropy(_Crossentropy):
    """Cross-entropy of yes/no outputs, one per unit (`keras.losses.BinaryCrossentropy`)."""

    kind: Literal["binary_crossentropy"] = "binary_crossentropy"


# The losses written as a call, `loss = sparse_categorical_crossentropy(from_logits=true)`; a bare
# name (`loss = mse`) stays the name itself, so a file without a call means what it always meant.
LOSS_CALLS = kinds.LOSS_CALLS.specs  # the registry: kind -> spec class
LossName = arg(Literal[LOSSES], "a loss: " + ", ".join(LOSSES))


class _NameOrCall:
    """Annotated marker of `loss`: a bare name is validated as the name (and stays a string), a
    call as the spec of its kind. Only the matching member is validated, and a call's errors carry
    its kind in their `loc` (as `ByKind`'s do), so they are located at the argument at fault."""

    def __get_pydantic_core_schema__(self, source, handler):
        choices = {kind: handler.generate_schema(cls) for kind, cls in LOSS_CALLS.items()}
        choices["name"] = handler.generate_schema(LossName)
        union = core_schema.tagged_union_schema(choices, discriminator=_loss_form, strict=False, from_attributes=True)
        return core_schema.no_info_after_validator_function(_name_if_plain, union)


def _name_if_plain(loss):
    """`sparse_categorical_crossentropy()` or `(from_logits=false)` is the loss the bare name is:
    the same spec, so the two spellings compare, dump and train alike."""
    return loss.kind if isinstance(loss, _Crossentropy) and not loss.from_logits else loss


def _loss_form(value):
    """The member of `loss` that validates `value`: a call's (or a spec's) kind, else the name."""
    if isinstance(value, dict):
        return value.get("kind")
    return value.kind if isinstance(value, _Crossentropy) else "name"


Loss = Annotated[Union[(LossName, *LOSS_CALLS.values())], _NameOrCall()]


def loss_name(loss) -> str | None:
    """The name of a loss as `train { }` or an estimator's `loss` gives it (a name, or a call)."""
    return loss.kind if isinstance(loss, _Crossentropy) else loss


def from_logits(loss) -> bool:
    """Whether the loss takes logits (`from_logits=true`): the net's outputs before a softmax or sigmoid."""
    return isinstance(loss, _Crossentropy) and bool(loss.from_logits)


# ---- the `train` block ------------------------------------------------------------------------


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


class OutputTraining(Node):
    """One output's own settings in `train { }` (a net with several outputs), written with the
    output's name: `digit.loss = sparse_categorical_crossentropy`, `digit.loss_weight = 0.5`,
    `digit.metrics = [accuracy]`. What an output does not set, the block's `loss`/`metrics` give."""

    loss: Loss | None = _d("This output's loss; by default the block's `loss`, else chosen from the estimator's task.", None)
    loss_weight: NonNegFloat = _d("Its weight in the total loss (the sum of each output's loss times its weight).", 1.0)
    metrics: tuple[arg(Literal[METRICS], "a metric: " + ", ".join(METRICS), BeforeValidator(canonical_metric)), ...] | None = _d(
        "Its metrics; by default the block's `metrics`.", None
    )


class Train(Node):
    """`train { ... }`: how the net is fitted. Estimator parameters override these."""

    loss: Loss | None = _d(
        "Loss to minimise; by default chosen from the task (cross-entropy or mean squared error). A cross-entropy "
        "of logits (a last layer without activation) is written `sparse_categorical_crossentropy(from_logits=true)`.",
        None,
    )
    optimizer: Optimizer = _d(
        f"Optimizer: {_or(OPTIMIZERS)}, with its arguments.",
        Adam(),
    )
    epochs: PosInt = _d("Passes over the training data.", 10)
    batch_size: PosInt = _d("Samples per gradient step.", 32)
    validation_split: Rate = _d("Fraction of the training data held out to validate each epoch.", 0.0)
    metrics: tuple[arg(Literal[METRICS], "a metric: " + ", ".join(METRICS), BeforeValidator(canonical_metric)), ...] = _d(
        "Metrics recorded per epoch (in `history_`).", ()
    )
    callbacks: tuple[Callback, ...] = _d(", ".join(f"`{kind}(...)`" for kind in CALLBACKS) + ".", ())
    class_weight: arg(Literal["balanced"] | tuple[NonNegFloat, ...], "`balanced` or a list of weights") | None = _d(
        "`balanced`, or one weight per class (in the order of the sorted class labels).", None
    )
    shuffle: Bool = _d("Shuffle the training data every epoch.", True)
    freeze: tuple[Name, ...] = _d(
        "Layers frozen from the start: names or glob patterns (`[\"conv_*\"]`), matched against the names `netdsl show` gives.", ()
    )
    fine_tune: Annotated[Unfreeze, BeforeValidator(call_or_bare)] | None = _d("A second stage: `unfreeze(patterns..., epochs=N, learning_rate=LR)`.", None)
    outputs: dict[Name, OutputTraining] = _d(
        "Each output's own `loss`, `loss_weight` and `metrics` (a net with several outputs), as `NAME.loss = ...`.", {}
    )
