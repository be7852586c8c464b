"""The registry of kinds (`netdsl.dsl.kinds`): every kind is wired through, from its spec to Keras.

A new optimizer (or layer, callback, regularizer) is one class in the specs; these tests fail if
it is not registered, if Keras has no class of the name it gives, if the compiler cannot build it
or (for a layer) if the shape analysis has no rule for it. The first tests run without
TensorFlow; those that take the `keras` fixture import it.
"""

from __future__ import annotations

import importlib
import inspect
import os
import re
import subprocess
import sys

import pytest

from netdsl.dsl import kinds, specs
from netdsl.dsl.keras_layers import KERAS_LAYERS
from netdsl.dsl.shapes import LAYER_RULES

# Kinds that are not one Keras object: `pretrained` takes many layers of a saved net, `repeat`
# unrolls its body, `unfreeze` is a second training stage.
NOT_KERAS = {"pretrained", "repeat", "residual", "from", "unfreeze"}  # statements of the flow, and a stage
# Spec fields that are not arguments of the Keras class: netdsl reads them itself (`inputs`: the
# points a merge reads, which the compiler calls it on).
NETDSL_FIELDS = {"kind", "trainable", "embeddings", "name", "inputs"}
REGISTERED = {kind: cls for family in kinds.FAMILIES for kind, cls in family.specs.items()}


def _subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def _kind(cls) -> str | None:
    info = cls.model_fields.get("kind")
    return info.default if info is not None and isinstance(info.default, str) else None


def test_every_spec_with_a_kind_is_registered_in_its_family():
    unregistered = {
        cls.__name__ for cls in _subclasses(specs.Node)
        if _kind(cls) and _kind(cls) not in NOT_KERAS and REGISTERED.get(_kind(cls)) is not cls
    }  # fmt: skip
    assert unregistered == set(), "register each with @kinds.<FAMILY>.register('KerasClass')"


def test_every_registered_kind_names_a_keras_class_and_families_do_not_overlap():
    for family in kinds.FAMILIES:
        assert set(family.specs) - set(family.keras) <= NOT_KERAS, family
        assert set(family.keras) <= set(family.specs), family
    assert len(REGISTERED) == sum(len(family.specs) for family in kinds.FAMILIES)


def test_the_specs_read_the_registry():
    assert specs.LAYERS == kinds.LAYERS.specs and specs.LAYER_TYPES == tuple(kinds.LAYERS.specs.values())
    assert specs.OPTIMIZERS == kinds.OPTIMIZERS.specs and specs.CALLBACKS == kinds.CALLBACKS.specs
    assert specs.LOSSES == kinds.LOSSES and specs.METRICS == kinds.METRICS
    description = specs.Train.model_fields["optimizer"].description
    assert all(kind in description for kind in kinds.OPTIMIZERS.specs), description


def test_every_layer_kind_has_a_shape_rule():
    assert set(LAYER_RULES) == set(kinds.LAYERS.specs)


def test_every_layer_kind_is_the_snake_case_of_its_keras_class():
    of_keras = {kind: cls for kind, cls in kinds.LAYERS.keras.items() if kind not in kinds.LAYERS.modules}
    assert {kind: KERAS_LAYERS.get(kind) for kind in of_keras} == of_keras


def test_netdsl_s_own_layer_classes_are_kinds_keras_lacks():
    """A kind netdsl builds with its own class (`position_embedding`) is one Keras 3 does not have,
    named as Keras would name the class."""
    assert kinds.LAYERS.modules == {"position_embedding": "netdsl.estimators.layers"}
    for kind in kinds.LAYERS.modules:
        assert kind not in KERAS_LAYERS and kinds.LAYERS.keras[kind] not in KERAS_LAYERS.values()
        assert kind == re.sub(r"(?<!^)(?=[A-Z])", "_", kinds.LAYERS.keras[kind]).lower()


def test_the_name_tables_agree():
    assert set(kinds.CLASSIFICATION_LOSSES) <= set(kinds.LOSSES)
    assert set(kinds.SOFTMAX_LOSSES) | set(kinds.SIGMOID_LOSSES) == set(kinds.CROSSENTROPY_LOSSES)
    # what the CLI's guess of the task (a classifier for these) used to read from the names
    assert set(kinds.CLASSIFICATION_LOSSES) == {n for n in kinds.LOSSES if "crossentropy" in n or "hinge" in n}
    assert kinds.REGRESSION_METRICS <= set(kinds.METRICS)
    assert set(kinds.METRIC_ALIASES.values()) <= set(kinds.METRICS)
    assert {kinds.canonical_metric(alias) for alias in kinds.METRIC_ALIASES} <= set(kinds.METRICS)


def test_the_registry_imports_neither_pydantic_nor_tensorflow():
    code = "import sys, netdsl.dsl.kinds; print(sorted({'pydantic', 'tensorflow', 'keras'} & set(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


# ---- against the installed Keras ---------------------------------------------------------------


@pytest.fixture(scope="module")
def keras():
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    return pytest.importorskip("keras")


def _keras_class(keras, family, kind):
    if kind in family.modules:  # a class of netdsl's own
        return getattr(importlib.import_module(family.modules[kind]), family.keras[kind])
    module = keras
    for part in family.keras_path(kind).split(".")[1:]:
        module = getattr(module, part, None)
        assert module is not None, f"{family.keras_path(kind)} is not in Keras {keras.__version__}"
    return module


@pytest.mark.parametrize("family", kinds.FAMILIES, ids=lambda f: f.name)
def test_every_keras_class_exists_and_takes_the_spec_arguments(keras, family):
    for kind, spec in family.specs.items():
        if kind in NOT_KERAS:
            continue
        cls = _keras_class(keras, family, kind)
        parameters = inspect.signature(cls.__init__).parameters
        missing = [f for f in spec.model_fields if f not in NETDSL_FIELDS and f not in parameters
                   and f not in getattr(spec, "points", ())]  # `value=`: a point the layer is called on
        assert missing == [], f"{family.keras_path(kind)} takes no {missing}"


def test_the_compiler_builds_every_optimizer_callback_and_regularizer(keras):
    from netdsl.estimators import compile as compiler

    for kind, spec in kinds.OPTIMIZERS.specs.items():
        assert isinstance(compiler.build_optimizer(spec()), _keras_class(keras, kinds.OPTIMIZERS, kind)), kind
    for kind, spec in kinds.CALLBACKS.specs.items():
        (built,) = compiler.build_callbacks([spec()], has_validation=True)
        assert isinstance(built, _keras_class(keras, kinds.CALLBACKS, kind)), kind
    for kind, spec in kinds.REGULARIZERS.specs.items():
        layer = compiler.build_layer(specs.Dense(units=2, kernel_regularizer=spec()))
        assert isinstance(layer.kernel_regularizer, _keras_class(keras, kinds.REGULARIZERS, kind)), kind


def test_every_loss_metric_activation_and_initializer_is_known_to_keras(keras):
    for name, cls in kinds.LOSS_CLASSES.items():
        assert getattr(keras.losses, cls, None) is not None, cls
        keras.losses.get(name)
    for name, cls in kinds.METRIC_CLASSES.items():
        if cls is not None:
            assert getattr(keras.metrics, cls, None) is not None, cls
        elif "accuracy" not in name:  # `compile` matches accuracies to the targets itself
            keras.metrics.get(name)
    from netdsl.estimators import compile as compiler

    built = compiler.build_metrics(kinds.METRICS)
    assert [getattr(m, "name", m) for m in built] == list(kinds.METRICS)
    for name in kinds.ACTIVATIONS:
        keras.activations.get(name)
    for name in kinds.INITIALIZERS:
        keras.initializers.get(name)
