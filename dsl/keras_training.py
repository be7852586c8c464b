"""The `train { }` settings a saved Keras model holds, read from its `compile_config` (no
TensorFlow): the optimizer and its arguments (a learning-rate schedule is not kept), the loss
(`..._crossentropy(from_logits=true)` where it takes logits), the metrics, and each output's loss,
weight and metrics. For `netdsl import` (dsl/keras_config.py), which reads layer arguments with
`plain` too."""

from __future__ import annotations

import re
import struct

from . import kinds

__all__ = ["train_settings", "plain"]

OPTIMIZER_KINDS = {keras_class: kind for kind, keras_class in kinds.OPTIMIZERS.keras.items()}
LOSS_CALL_KINDS = {keras_class: kind for kind, keras_class in kinds.LOSS_CALLS.keras.items()}


def train_settings(compile_config: dict, outputs: list[str]) -> dict:
    """`train { }` data from a `compile_config`: the optimizer (a learning-rate schedule is not
    kept), the loss, loss weights and metrics (per output where the model has several)."""
    if not isinstance(compile_config, dict) or not compile_config:
        return {}
    train: dict = {}
    optimizer = compile_config.get("optimizer")
    if isinstance(optimizer, dict) and optimizer.get("class_name") in OPTIMIZER_KINDS:
        kind = OPTIMIZER_KINDS[optimizer["class_name"]]
        fields = kinds.OPTIMIZERS.specs[kind].model_fields
        settings = {k: plain(v) for k, v in (optimizer.get("config") or {}).items()
                    if k in fields and k != "kind" and not isinstance(v, dict) and v is not None}
        train["optimizer"] = {"kind": kind, **settings}
    per_output: dict[str, dict] = {}
    for key, read in (("loss", _loss), ("metrics", _metrics)):
        value = compile_config.get(key)
        if isinstance(value, dict) and "class_name" not in value:
            for output, item in value.items():
                if read(item) is not None:
                    per_output.setdefault(output, {})[key] = read(item)
        elif isinstance(value, list) and key == "loss" and len(value) == len(outputs) and len(outputs) > 1:
            for output, item in zip(outputs, value):
                per_output.setdefault(output, {})[key] = read(item)
        elif read(value) is not None:
            train[key] = read(value)
    weights = compile_config.get("loss_weights")
    if isinstance(weights, list):
        weights = dict(zip(outputs, weights))
    for output, weight in (weights or {}).items() if isinstance(weights, dict) else ():
        if weight != 1.0:
            per_output.setdefault(output, {})["loss_weight"] = plain(weight)
    if per_output:
        train["outputs"] = per_output
    return train


def _loss(value):
    """A loss's netdsl form: its name, or a call (`..._crossentropy(from_logits=true)`)."""
    if isinstance(value, str):
        name = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", value).lower() if value[:1].isupper() else value
        return name if name in kinds.LOSS_CLASSES else None
    if isinstance(value, dict):
        keras_class, config = value.get("class_name"), value.get("config") or {}
        if keras_class in LOSS_CALL_KINDS and config.get("from_logits"):
            return {"kind": LOSS_CALL_KINDS[keras_class], "from_logits": True}
        names = [name for name, cls in kinds.LOSS_CLASSES.items() if cls == keras_class]
        return names[0] if names else None
    return None


def _metrics(value):
    if not isinstance(value, list):
        return None
    names = []
    for item in value:
        name = (item.get("config") or {}).get("name") if isinstance(item, dict) else item
        name = kinds.canonical_metric(name)
        if name in kinds.METRICS:
            names.append(name)
    return tuple(names)


def plain(value):
    """A value of a Keras config as netdsl's: JSON lists as tuples, float32 values at their shortest decimal."""
    if isinstance(value, list):
        return tuple(plain(v) for v in value)
    if isinstance(value, float):
        return _short(value)
    return value


def _short(value: float) -> float:
    """A float32 value (`0.003000000026077032`) as the shortest decimal with the same float32 (`0.003`)."""
    try:
        single = struct.pack("<f", value)
    except (OverflowError, struct.error):
        return value
    if struct.unpack("<f", single)[0] != value:
        return value  # not a float32 value: as it is
    for digits in range(1, 10):
        shorter = float(f"{value:.{digits}g}")
        if struct.pack("<f", shorter) == single:
            return shorter
    return value
