"""`.net` programs compiled to Keras 3 and wrapped as scikit-learn estimators.

    >>> from netdsl.estimators import NetClassifier
    >>> clf = NetClassifier("examples/digits_cnn.net", epochs=10)   # doctest: +SKIP

Importing this package imports TensorFlow (through Keras).
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's start-up noise is not for users
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
if (os.cpu_count() or 1) <= 2:
    # TensorFlow splits each op across every core; for the small ops of small nets the hand-offs
    # cost more than the split saves. Measured on 2 cores: a digits convnet's epoch 30 ms -> 17 ms
    # with one thread per op, a 32x32x3 convnet no slower. Set TF_NUM_INTRAOP_THREADS to choose
    # otherwise (it only takes effect before TensorFlow runs its first op).
    os.environ.setdefault("TF_NUM_INTRAOP_THREADS", "1")
# TensorFlow's oneDNN kernels rebuild the plan of a convolution's backward pass at every step unless
# told to keep it (in their cache: at most 1,024 plans per thread, the least recently used go).
# Measured on 2 cores: a digits convnet's epoch 15.4 ms -> 13.0 ms. Set
# TF_MKL_OPTIMIZE_PRIMITIVE_MEMUSE=true to save the memory instead (read when TensorFlow first runs
# such a kernel).
os.environ.setdefault("TF_MKL_OPTIMIZE_PRIMITIVE_MEMUSE", "false")

from pathlib import Path  # noqa: E402

from .base import BaseNet, TrainingDiverged  # noqa: E402
from .classifier import NetClassifier  # noqa: E402
from .regressor import NetRegressor  # noqa: E402
from .transformer import NetTransformer  # noqa: E402

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
        raise ValueError(f"{path} does not hold a netdsl estimator (found {type(estimator).__name__}).")
    return estimator


def save(model, path) -> Path:
    """Write a fitted netdsl estimator, or a scikit-learn composite holding one, as a netdsl model
    file at `path` (safe to open; the old file is replaced only once the new one is complete)."""
    from . import persist

    if not _holds_net(model):
        raise ValueError(f"save takes a netdsl estimator or a composite holding one, not {type(model).__name__}.")
    return persist.save(model, path)


def _holds_net(estimator) -> bool:
    if isinstance(estimator, BaseNet):
        return True
    get_params = getattr(estimator, "get_params", None)
    return get_params is not None and any(isinstance(v, BaseNet) for v in get_params(deep=True).values())
