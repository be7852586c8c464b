"""Pydantic specs of a `.net` program: what each statement, layer kind and setting means.

Every spec is frozen and forbids unknown arguments (`nodes.Node`); layers form a union told apart
by `kind`, so a mistake is reported against exactly one layer kind. The specs live in three
modules, all read through this one (`specs.Dense`, `specs.LAYERS`, `specs.Train`, `specs.Net`):

- `dsl/layer_specs.py`: the layer kinds and the regularizers they take;
- `dsl/train_specs.py`: the `train` block, the optimizers and the callbacks;
- here: the program (`Net`) and its statements (`param`, `input`).

Which kinds exist, and which Keras class runs each, is the registry in `dsl/kinds.py`. Field
descriptions become `docs/language.md`.
"""

from typing import Annotated, Any, Union

from pydantic import PrivateAttr

from .errors import Source
from .kinds import LOSSES, METRIC_ALIASES, METRICS
from .layer_specs import (
    AUGMENTATION_KINDS,
    LAYER_CLASSES,
    LAYERS,
    L1,
    L1L2,
    L2,
    LSTM,
    ActivationLayer,
    AveragePooling1D,
    AveragePooling2D,
    BatchNormalization,
    Bidirectional,
    Conv1D,
    Conv2D,
    Dense,
    Dropout,
    Embedding,
    Flatten,
    GaussianNoise,
    GlobalAveragePooling1D,
    GlobalAveragePooling2D,
    GlobalMaxPooling1D,
    GlobalMaxPooling2D,
    GRU,
    Layer,
    LayerNormalization,
    MaxPooling1D,
    MaxPooling2D,
    Pretrained,
    RandomContrast,
    RandomFlip,
    RandomRotation,
    RandomTranslation,
    RandomZoom,
    Regularizer,
    Rescaling,
    Reshape,
    SimpleRNN,
    SpatialDropout1D,
    SpatialDropout2D,
    TextVectorization,
)
# The other layer spec modules, imported before `graph_specs`, which reads the whole layer registry.
from .layer_specs_activation import LeakyReLU, PReLU, ReLU
from .layer_specs_conv import (
    Conv1DTranspose,
    Conv2DTranspose,
    DepthwiseConv2D,
    SeparableConv2D,
    UpSampling1D,
    UpSampling2D,
)
from .layer_specs_sequence import MultiHeadAttention, PositionEmbedding, RepeatVector, TimeDistributed
from .graph_specs import (
    FLOW_TYPES,
    MERGE_KINDS,
    Add,
    Average,
    Concatenate,
    Dot,
    FlowStatement,
    From,
    Identity,
    Maximum,
    Merge,
    Minimum,
    Multiply,
    Repeat,
    Residual,
    Subtract,
)
from .nodes import ByKind, Node
from .nodes import described as _d

# Every layer kind of every spec module (layer_specs.py's alone were registered when it made its own).
LAYER_TYPES = tuple(LAYERS.values())
LayerSpec = Annotated[Union[LAYER_TYPES], ByKind()]
from .train_specs import (
    CALLBACK_TYPES,
    CALLBACKS,
    OPTIMIZER_TYPES,
    OPTIMIZERS,
    SGD,
    Adadelta,
    Adagrad,
    Adam,
    AdamW,
    Callback,
    EarlyStopping,
    Nadam,
    Optimizer,
    ReduceLROnPlateau,
    RMSprop,
    OutputTraining,
    Train,
    Unfreeze,
)
from .values import Name, PosInt

__all__ = [
    "AUGMENTATION_KINDS", "CALLBACK_TYPES", "CALLBACKS", "LAYER_CLASSES", "LAYER_TYPES", "LAYERS", "LOSSES",
    "METRIC_ALIASES", "METRICS", "OPTIMIZER_TYPES", "OPTIMIZERS", "SETTING_NAMES", "ByKind", "Node", "Layer",
    "LayerSpec", "Regularizer", "Optimizer", "Callback", "Repeat", "Train", "Unfreeze", "Param", "Input", "Net",
    "L1", "L2", "L1L2", "Dense", "Conv1D", "Conv2D", "MaxPooling1D", "MaxPooling2D", "AveragePooling1D",
    "AveragePooling2D", "GlobalAveragePooling1D", "GlobalAveragePooling2D", "GlobalMaxPooling1D",
    "GlobalMaxPooling2D", "Flatten", "Dropout", "SpatialDropout1D", "SpatialDropout2D", "BatchNormalization",
    "LayerNormalization", "ActivationLayer", "Reshape", "Rescaling", "Embedding", "SimpleRNN", "LSTM", "GRU",
    "Bidirectional", "TextVectorization", "RandomFlip", "RandomRotation", "RandomTranslation", "RandomZoom",
    "RandomContrast", "GaussianNoise", "Pretrained", "Adam", "AdamW", "Nadam", "SGD", "RMSprop", "Adagrad",
    "Adadelta", "EarlyStopping", "ReduceLROnPlateau", "FLOW_TYPES", "MERGE_KINDS", "FlowStatement", "From",
    "Residual", "Merge", "Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Concatenate", "Dot",
    "Identity", "SeparableConv2D", "DepthwiseConv2D", "Conv1DTranspose", "Conv2DTranspose", "UpSampling1D",
    "UpSampling2D", "ReLU", "LeakyReLU", "PReLU", "RepeatVector", "TimeDistributed", "MultiHeadAttention",
    "PositionEmbedding", "OutputTraining",
]  # fmt: skip


class Param(Node):
    """`param NAME = VALUE [in [V1, ...]]`: a tunable value, an estimator parameter of the same name."""

    name: str = _d("The parameter's name, used by bare name in the program.")
    default: Any = _d("Its value unless set from outside.")
    values: tuple[Any, ...] | None = _d("Values to search (`in [...]`), the default grid.", None)


class Input(Node):
    """`input (d1, d2, ...)`: one sample's shape; `input text`: raw strings; `input NAME (...)`: a
    named input, one of several."""

    name: Name | None = _d("The input's name (a net with several inputs names each).", None)
    shape: tuple[PosInt | None, ...] | None = _d(
        "Shape of one sample (no batch axis; `none`: an axis of any length, as sequences of any length); None for text.", None
    )
    text: bool = _d("Samples are raw strings.", False)


class Net(Node):
    """A whole `.net` program."""

    name: str = _d("`net NAME`.", "net")
    params: tuple[Param, ...] = _d("Tunable parameters, in order.", ())
    input: Input | None = _d("Input shape; omitted: `(n_features)`, bound from the data.", None)
    inputs: tuple[Input, ...] = _d("The inputs of a net with several (then `input` is None), each named.", ())
    outputs: tuple[Name, ...] = _d("`output A, B`: the named points the net outputs, in order; "
                                   "empty: the flow's last point.", ())
    layers: tuple[FlowStatement, ...] = _d("The network, in order.", ())
    augment: tuple[LayerSpec, ...] = _d("Augmentation layers, active only while training.", ())
    train: Train | None = _d("Training settings.", None)

    # Where the program came from (text, file name, span of each part); set by the loader. Only the
    # whole program holds it: a private attribute on every node would be made for each one validated.
    _source: Source = PrivateAttr(default_factory=Source)

    @property
    def source(self) -> Source:
        """The program's source: text, file name and the span of each part, for located errors."""
        return self._source

    @property
    def all_inputs(self) -> tuple[Input, ...]:
        """Every input, in order: the one `input` (None when omitted: `(n_features)`), or `inputs`."""
        return self.inputs if self.inputs else (self.input,)

    @property
    def param_defaults(self) -> dict[str, Any]:
        return {p.name: p.default for p in self.params}


# The statements of every program are built now, at import (under Python's import lock, so safely
# for threads), and `Train` before `Net`, which then reuses its schema; only the specs of each kind
# (layers, optimizers, callbacks, regularizers, `repeat`) wait until a program uses them.
for _cls in (Input, Param, Train, Net):
    _cls.model_rebuild()
del _cls

# Names a `param` may not take: they would shadow estimator settings.
SETTING_NAMES = frozenset(Train.model_fields) | {"learning_rate", "verbose", "random_state", "warm_start"}
