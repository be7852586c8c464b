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

import math
from typing import Annotated, Any, Literal, NamedTuple, Union

from pydantic import PrivateAttr, model_validator

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
    "LayerSpec", "Regularizer", "Optimizer", "Callback", "Repeat", "Train", "Unfreeze", "Param", "ParamRange", "Input", "Net",
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


class ParamRange(Node):
    """`in uniform(low, high)`, `in loguniform(low, high)`, `in range(low, high[, step])`: the values a
    search draws a parameter from. `range` is Python's: its end is excluded (`range(1, 5)` is 1 to 4)."""

    kind: Literal["uniform", "loguniform", "range"] = _d(
        "`uniform`: any number in [low, high]; `loguniform`: the same, drawn evenly on a log scale; "
        "`range`: the integers low, low + step, ... below high.")
    low: int | float = _d("The lowest value.")
    high: int | float = _d("The highest value (`uniform`, `loguniform`), or the end, excluded (`range`).")
    step: int | None = _d("`range` only: the step between the integers (default 1).", None)

    @model_validator(mode="after")
    def _bounds(self):
        problem = range_problem(self.kind, self.low, self.high, self.step)
        if problem is not None:
            raise ValueError(problem.title)
        return self

    def as_list(self) -> list[int] | None:
        """Every value of a `range`, in order; None for a continuous range (there are infinitely many)."""
        return list(range(self.low, self.high, self.step or 1)) if self.kind == "range" else None

    def __contains__(self, value) -> bool:
        return in_range(self.kind, self.low, self.high, self.step, value)


def in_range(kind: str, low, high, step, value) -> bool:
    """Whether a search may draw `value` from the range: an integer of `range(low, high, step)`, or
    a number in [low, high]."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    if kind == "range":
        return isinstance(value, int) and value in range(low, high, step or 1)
    return low <= value <= high


class RangeProblem(NamedTuple):
    """A mistake in a range's bounds: its diagnostic code, the argument at fault (None: the whole
    range), what is wrong and how to fix it."""

    code: str
    argument: str | None
    title: str
    help: str


def range_problem(kind: str, low, high, step=None) -> RangeProblem | None:
    """What is wrong with a range's bounds, or None: a `range` of integers with a positive step, the
    bounds in order, a `loguniform` above zero, a width a float holds (else a search draws infinity).
    The loader reports it located (N512-N515); a spec made in Python raises it."""
    if kind == "range":
        for name, value in (("low", low), ("high", high), ("step", step)):
            if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
                whole = isinstance(value, float) and value.is_integer()
                return RangeProblem("N515", name, f"`{name}` of `range` must be an integer, got {value!r}",
                                    f"write `{int(value)}`" if whole else "`range` holds integers (its end excluded, "
                                    "as Python's); for any number between two bounds, write `uniform(low, high)`")
        if step is not None and step <= 0:
            return RangeProblem("N515", "step", f"`step` of `range` must be a positive integer, got {step}",
                                "`range(low, high, step)` counts up from low by step")
    elif step is not None:
        return RangeProblem("N512", "step", f"`{kind}` takes no step", f"`{kind}` takes `low` and `high`")
    if not low < high:
        empty = kind == "range" and low == high
        return RangeProblem("N513", None, f"the range's low bound {_number(low)} is not below its high bound {_number(high)}",
                            "write the lower bound first" + ("; `range`'s end is excluded, so `range(a, a)` is empty" if empty else ""))
    if kind == "loguniform" and low <= 0:
        return RangeProblem("N514", "low", f"`loguniform` must start above 0, got {_number(low)}",
                            "a log scale holds only positive numbers: start at e.g. `1e-5`, or use `uniform`")
    if kind != "range" and not _finite_width(kind, low, high):
        return RangeProblem("N513", None, f"the range from {_number(low)} to {_number(high)} is wider than a float "
                            "holds: a search would draw infinity", "narrow the range (a float holds up to about 1.8e308)")
    return None


def _finite_width(kind: str, low, high) -> bool:
    """Whether high - low (on a log scale for `loguniform`, as scipy draws it) is a finite float."""
    try:
        return math.isfinite(math.log(high) - math.log(low) if kind == "loguniform" else float(high) - float(low))
    except OverflowError:
        return False


def _number(value) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


class Param(Node):
    """`param NAME = VALUE [in [V1, ...]]`, `param NAME = VALUE in uniform(LOW, HIGH)` (or `loguniform`,
    `range`): a tunable value, an estimator parameter of the same name."""

    name: str = _d("The parameter's name, used by bare name in the program.")
    default: Any = _d("Its value unless set from outside.")
    values: tuple[Any, ...] | None = _d("Values to search (`in [...]`), the default grid.", None)
    range: ParamRange | None = _d("The range a search draws from (`in uniform(...)`, ...), instead of `values`.", None)

    @model_validator(mode="after")
    def _values_or_range(self):
        if self.values is not None and self.range is not None:
            raise ValueError("a `param` takes values to search (`in [...]`) or a range (`in uniform(...)`), not both")
        return self

    @property
    def space(self) -> list | ParamRange | None:
        """What a search tries: the list of values (a `range`'s integers), a continuous range, or None."""
        if self.values is not None:
            return list(self.values)
        if self.range is not None:
            return self.range.as_list() if self.range.kind == "range" else self.range
        return None


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
for _cls in (Input, ParamRange, Param, Train, Net):
    _cls.model_rebuild()
del _cls

# Names a `param` may not take: they would shadow estimator settings.
SETTING_NAMES = frozenset(Train.model_fields) | {"learning_rate", "verbose", "random_state", "warm_start"}
