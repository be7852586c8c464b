"""Every kind a `.net` program names, tied to the Keras class that runs it: the one registry.

Kinds with arguments (layers, optimizers, callbacks, regularizers) are spec classes, and each
registers in its family where it is defined, with the name of its Keras class:

    @kinds.OPTIMIZERS.register("Adam")          # keras.optimizers.Adam
    class Adam(_Optimizer):
        kind: Literal["adam"] = "adam"
        ...

so a new optimizer is one class in `dsl/train_specs.py` (a new layer kind: one class in the
`dsl/layer_specs*.py` module of its family, plus its shape rule in `dsl/shapes/rules/`; a kind
Keras lacks names netdsl's own class and its module, `register("PositionEmbedding",
module="netdsl.estimators.layers")`). Kinds that are plain names (losses,
metrics, activations, initializers) are the tables below. Keras classes are named by string:
this module, like all of `netdsl.dsl`, never imports TensorFlow or Keras; `estimators/compile.py`
looks the names up when it builds a model, and `tests/test_kinds.py` checks every name against the
installed Keras, every spec kind against the compiler and the shape rules, and that no spec class
is left out of its family.
"""

from __future__ import annotations


class Family:
    """The kinds of one family: kind -> spec class, and kind -> Keras class name (in `keras_module`)."""

    def __init__(self, name: str, keras_module: str):
        self.name = name
        self.keras_module = keras_module
        self.specs: dict[str, type] = {}
        self.keras: dict[str, str] = {}
        self.modules: dict[str, str] = {}  # kind -> module of a class netdsl writes itself (not Keras's)

    def register(self, keras_class: str | None, module: str | None = None):
        """Class decorator: the spec class is the kind its `kind` field names, built by Keras's
        `keras_class` (None: no single Keras class, as for `pretrained`), or by the class of that
        name in `module` for a layer Keras lacks, which netdsl provides (`position_embedding`)."""

        def add(cls):
            kind = cls.model_fields["kind"].default
            if kind in self.specs:
                raise ValueError(f"two {self.name} specs for the kind {kind!r}")
            self.specs[kind] = cls
            if keras_class is not None:
                self.keras[kind] = keras_class
            if module is not None:
                self.modules[kind] = module
            return cls

        return add

    def keras_path(self, kind: str) -> str:
        """`keras.optimizers.Adam` for `adam` (`netdsl.estimators.layers.PositionEmbedding` for a
        class of netdsl's own)."""
        return f"{self.modules.get(kind, self.keras_module)}.{self.keras[kind]}"

    def __repr__(self) -> str:
        return f"Family({self.name!r}, {len(self.specs)} kinds)"


LAYERS = Family("layer", "keras.layers")
OPTIMIZERS = Family("optimizer", "keras.optimizers")
CALLBACKS = Family("callback", "keras.callbacks")
REGULARIZERS = Family("regularizer", "keras.regularizers")
# The losses written as a call (`sparse_categorical_crossentropy(from_logits=true)`); a bare loss
# name is one of the names of `LOSS_CLASSES` below.
LOSS_CALLS = Family("loss", "keras.losses")
FAMILIES = (LAYERS, OPTIMIZERS, CALLBACKS, REGULARIZERS, LOSS_CALLS)

# Other spellings of a layer kind that people write: the name of Keras's activation function for
# its layer (`leaky_relu` for `LeakyReLU`, whose snake case, the kind, is `leaky_re_lu`). The loader
# reads them as the kind; `fmt` keeps what was written, `dumps` writes the kind.
LAYER_ALIASES = {"leaky_relu": "leaky_re_lu", "prelu": "p_re_lu"}

# ---- losses ------------------------------------------------------------------------------------

# The values of `loss`: each netdsl name, the class of `keras.losses` that computes it (Keras's
# `compile` takes the name itself).
LOSS_CLASSES = {
    "categorical_crossentropy": "CategoricalCrossentropy",
    "sparse_categorical_crossentropy": "SparseCategoricalCrossentropy",
    "binary_crossentropy": "BinaryCrossentropy",
    "mean_squared_error": "MeanSquaredError", "mse": "MeanSquaredError",
    "mean_absolute_error": "MeanAbsoluteError", "mae": "MeanAbsoluteError",
    "mean_absolute_percentage_error": "MeanAbsolutePercentageError", "mape": "MeanAbsolutePercentageError",
    "mean_squared_logarithmic_error": "MeanSquaredLogarithmicError", "msle": "MeanSquaredLogarithmicError",
    "huber": "Huber", "log_cosh": "LogCosh", "hinge": "Hinge", "squared_hinge": "SquaredHinge",
    "categorical_hinge": "CategoricalHinge", "kl_divergence": "KLDivergence", "poisson": "Poisson",
    "cosine_similarity": "CosineSimilarity",
}  # fmt: skip
LOSSES = tuple(LOSS_CLASSES)
# Cross-entropies over a softmax: integer labels (sparse) or one value per class (one-hot).
SOFTMAX_LOSSES = ("categorical_crossentropy", "sparse_categorical_crossentropy")
# Cross-entropy of sigmoid units: one 0/1 value per unit (two classes, or multilabel).
SIGMOID_LOSSES = ("binary_crossentropy",)
# The cross-entropies: losses of class probabilities, which a regressor refuses.
CROSSENTROPY_LOSSES = SOFTMAX_LOSSES + SIGMOID_LOSSES
# Margin losses, also for classes (targets -1/1 or one-hot).
HINGE_LOSSES = ("hinge", "squared_hinge", "categorical_hinge")
# The losses of classifiers: any other loss means regression (how the CLI tells the task of a net).
CLASSIFICATION_LOSSES = CROSSENTROPY_LOSSES + HINGE_LOSSES

# ---- metrics -----------------------------------------------------------------------------------

# The items of `metrics`: each netdsl name, and the class of `keras.metrics` built for it (named as
# the metric, so `history_` knows it by this name), or None where Keras's `compile` takes the name
# itself (`accuracy` then matches the targets: binary, categorical or sparse).
METRIC_CLASSES = {
    "accuracy": None, "binary_accuracy": None, "categorical_accuracy": None, "sparse_categorical_accuracy": None,
    "top_k_categorical_accuracy": None, "auc": "AUC", "precision": "Precision", "recall": "Recall",
    "mse": None, "mae": None, "rmse": "RootMeanSquaredError", "mean_squared_error": None,
    "mean_absolute_error": None, "root_mean_squared_error": "RootMeanSquaredError", "r2_score": "R2Score",
    "mape": None, "msle": None,
}  # fmt: skip
METRICS = tuple(METRIC_CLASSES)
# Metrics of values (regression): they compare each output with a target of the same shape.
REGRESSION_METRICS = frozenset(
    {"mse", "mae", "rmse", "mean_squared_error", "mean_absolute_error", "root_mean_squared_error", "r2_score", "mape", "msle"}
)
# The metrics that are better higher; every other metric, and every loss, is better lower. A monitor
# of one output of several (`val_c_accuracy`) is a name Keras cannot tell the direction of, so
# netdsl gives it (`estimators/compile.py`, `monitor_mode`).
RISING_METRICS = frozenset(
    {"accuracy", "binary_accuracy", "categorical_accuracy", "sparse_categorical_accuracy",
     "top_k_categorical_accuracy", "auc", "precision", "recall", "r2_score"}
)  # fmt: skip
# Other names Keras's `metrics.get` takes for these metrics (its examples write `acc`; any case of
# `accuracy` and `acc`, the class names, `MSE`...): read as the name above, so `history_` and
# monitors know each metric by one name.
METRIC_ALIASES = {
    "acc": "accuracy", "MSE": "mse", "MAE": "mae", "MAPE": "mape", "MSLE": "msle",
    "mean_absolute_percentage_error": "mape", "mean_squared_logarithmic_error": "msle",
    "BinaryAccuracy": "binary_accuracy", "CategoricalAccuracy": "categorical_accuracy",
    "SparseCategoricalAccuracy": "sparse_categorical_accuracy", "TopKCategoricalAccuracy": "top_k_categorical_accuracy",
    "AUC": "auc", "Precision": "precision", "Recall": "recall", "MeanSquaredError": "mean_squared_error",
    "MeanAbsoluteError": "mean_absolute_error", "RootMeanSquaredError": "root_mean_squared_error", "R2Score": "r2_score",
    "MeanAbsolutePercentageError": "mape", "MeanSquaredLogarithmicError": "msle",
}  # fmt: skip


def canonical_metric(value):
    """netdsl's name for a metric Keras knows by another (`acc`: `accuracy`)."""
    if not isinstance(value, str):
        return value
    if value.lower() in ("acc", "accuracy"):
        return "accuracy"
    return METRIC_ALIASES.get(value, value)


# ---- activations and initializers (names `keras.activations.get` / `keras.initializers.get` take) ----

ACTIVATIONS = (
    "relu", "sigmoid", "softmax", "tanh", "linear", "elu", "selu", "gelu", "silu", "swish",
    "softplus", "softsign", "leaky_relu", "relu6", "mish", "hard_sigmoid", "hard_silu",
    "exponential", "log_softmax",
)  # fmt: skip
INITIALIZERS = (
    "zeros", "ones", "glorot_uniform", "glorot_normal", "he_uniform", "he_normal",
    "lecun_uniform", "lecun_normal", "orthogonal", "random_normal", "random_uniform",
    "truncated_normal", "identity", "uniform",
)  # fmt: skip
# The arguments that take an initializer (or a literal array of weights).
INITIALIZER_FIELDS = ("kernel_initializer", "bias_initializer", "embeddings_initializer")
