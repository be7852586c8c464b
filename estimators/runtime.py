"""Process set-up for training: the one place netdsl changes process-wide state of TensorFlow.

TensorFlow reads its settings from environment variables once, when it starts: some when it is
imported, some when it runs its first op. So they are set in `configure_process()`, which the
estimators call where a fit (or the loading of a model file) starts, before netdsl imports Keras or
TensorFlow, and which the command line and the search workers call before their first fit.
Importing `netdsl.estimators` changes nothing (tests/test_side_effects.py).

Importing this module imports neither TensorFlow nor Keras; `start_keras()` does, once per process.
"""

from __future__ import annotations

import gc
import importlib
import os
import platform
import threading

SMALL_MACHINE_CPUS = 2  # at most this many cores: one thread per TensorFlow op
# What `start_keras` imports: Keras (which imports TensorFlow) and netdsl's modules built on it.
KERAS_MODULES = ("keras", "netdsl.estimators.compile", "netdsl.estimators.weight_plan", "netdsl.estimators.progress")

_started = False
_START_LOCK = threading.Lock()


def configure_process() -> dict[str, str]:
    """Set the environment variables TensorFlow reads at start-up for netdsl's training; a variable
    the user has set already (to any value) is left as it is, so the user's choice wins. Returns
    the variables it set, by name (empty when all were set already).

    - `TF_CPP_MIN_LOG_LEVEL=2`: TensorFlow's C++ start-up messages are not for users. Read when
      TensorFlow is imported.
    - `KERAS_BACKEND=tensorflow`: netdsl trains through TensorFlow (the fast path calls it directly).
      Read when Keras is imported.
    - `TF_NUM_INTRAOP_THREADS=1`, on machines with at most 2 cores only: TensorFlow splits each op
      across every core, and for the small ops of small nets the hand-offs between threads cost
      more than the split saves. Read when TensorFlow runs its first op, so it has no effect if the
      process ran one before.
    - `TF_ENABLE_ONEDNN_OPTS=1`, on x86-64 only: TensorFlow's oneDNN kernels for convolutions,
      pooling and dense layers. TensorFlow turns them on by itself only on CPUs with AVX-512 VNNI
      or BF16, AVX-VNNI or AMX (`DefaultOneDnnPolicy` in its util.cc). On an AVX2-only AMD EPYC,
      TensorFlow's own kernels took 0.6 ms a step for the digits convnet's convolution, filter
      gradient and max pooling gradient, and oneDNN's 0.36 ms; its grid took 27% less time, and
      dense and recurrent nets were the same. Read when TensorFlow is imported. oneDNN's kernels
      round otherwise than TensorFlow's own, as they do already on the CPUs where TensorFlow
      turns them on.
    - `TF_MKL_OPTIMIZE_PRIMITIVE_MEMUSE=false`: TensorFlow's oneDNN kernels keep the plan of a
      convolution's backward pass between steps instead of rebuilding it at every step (in their
      cache: at most 1,024 plans per thread). Set it to `true` to save that memory instead. Read
      when TensorFlow first runs such a kernel.

    The measurements behind the last three are in benchmarks/README.md. The variables stay set for
    the rest of the process (TensorFlow has read them by then) and are inherited by the processes
    it starts, such as the workers of a parallel search."""
    wanted = {"TF_CPP_MIN_LOG_LEVEL": "2", "KERAS_BACKEND": "tensorflow"}
    if (os.cpu_count() or 1) <= SMALL_MACHINE_CPUS:
        wanted["TF_NUM_INTRAOP_THREADS"] = "1"
    if platform.machine().lower() in ("x86_64", "amd64"):
        wanted["TF_ENABLE_ONEDNN_OPTS"] = "1"
    wanted["TF_MKL_OPTIMIZE_PRIMITIVE_MEMUSE"] = "false"
    changed = {name: value for name, value in wanted.items() if name not in os.environ}
    os.environ.update(changed)
    return changed


def start_keras() -> None:
    """`configure_process()`, then, the first time in a process, import Keras and TensorFlow
    (`KERAS_MODULES`) with Python's garbage collector paused, and freeze every object that exists
    then (`gc.freeze`). Where a fit, a search worker or the loading of a model file starts.

    Why: importing TensorFlow and Keras makes about half a million Python objects, and the
    collector's full collections walk every object made so far: about seven of them during the
    import, then one every so often later (the trace of a new architecture set one off: 0.3-0.6 s),
    then several in the interpreter's shutdown (1.6 s). Frozen, those objects are left out of every
    later collection; nothing else about the collector changes (its enabled state is put back).
    One full collection first (about 0.08 s after netdsl's and scikit-learn's imports) frees the
    garbage the process holds before, so that only the cyclic garbage the import itself leaves
    (about 3,700 objects) is never freed. Measurements in benchmarks/README.md."""
    global _started
    configure_process()
    with _START_LOCK:
        if _started:
            return
        collecting = gc.isenabled()
        gc.disable()
        gc.collect()
        try:
            for name in KERAS_MODULES:
                importlib.import_module(name)
            gc.freeze()
            _started = True
        finally:
            if collecting:
                gc.enable()
