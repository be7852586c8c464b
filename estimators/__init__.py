"""`.net` programs compiled to Keras 3 and wrapped as scikit-learn estimators.

    >>> from netdsl.estimators import NetClassifier
    >>> clf = NetClassifier("examples/digits_cnn.net", epochs=10)   # doctest: +SKIP

Importing this package imports neither TensorFlow nor Keras, and changes no environment variable:
they are imported, and the process set up for them (`runtime.configure_process`), when a fit
starts or a model file is loaded.
"""

from pathlib import Path

from .base import BaseNet
from .training import TrainingDiverged
from .classifier import NetClassifier
from .regressor import NetRegressor
from .transformer import NetTransformer

__all__ = ["NetClassifier", "NetRegressor", "NetTransformer", "TrainingDiverged", "load", "save"]


def load(path, trusted=False):
    """A fitted estimator written by `est.save(path)`, `save(model, path)` or `netdsl fit --save`: a
    netdsl estimator, or a scikit-learn composite around one (as `--scale` saves: scaler + net in a
    pipeline). Opening it runs no code from the file (see `persist.py`). A pickle (joblib) file is
    refused unless `trusted=True`, since loading a pickle runs any code it holds: give that only for
    a file you trust."""
    from . import persist

    estimator = persist.load(path, trusted=trusted)
    if not _holds_net(estimator):
        raise persist.ModelFileError(f"{path} does not hold a netdsl estimator (found {type(estimator).__name__}).")
    return estimator


def save(model, path) -> Path:
    """Write a fitted netdsl estimator, or a scikit-learn composite holding one, as a netdsl model
    file at `path` (safe to open; the old file is replaced only once the new one is complete)."""
    from netdsl.dsl.errors import ParameterError

    from . import persist

    if not _holds_net(model):
        raise ParameterError(f"save takes a netdsl estimator or a composite holding one, not {type(model).__name__}.")
    return persist.save(model, path)


def _holds_net(estimator) -> bool:
    if isinstance(estimator, BaseNet):
        return True
    get_params = getattr(estimator, "get_params", None)
    return get_params is not None and any(isinstance(v, BaseNet) for v in get_params(deep=True).values())
