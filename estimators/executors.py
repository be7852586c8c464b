"""Which TensorFlow function executor runs a fast-path model's traced functions, and the calls on it.

Small nets run their epochs on TensorFlow's single-threaded function executor (`choose`): it runs a
graph's ops one after another on the calling thread, without the default executor's per-op
hand-offs between threads, which are most of a small op's cost. Convnets and large nets run on the
default executor (`UNFUSED` for a net with an `add`). `call` runs a traced function on either.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import weakref

import numpy as np

from netdsl.dsl import compat

logger = logging.getLogger("netdsl")

SINGLE_THREADED = "SINGLE_THREADED_EXECUTOR"  # TensorFlow's name for it
UNFUSED = "default, unfused"  # TensorFlow's default executor without grappler's fusions (`choose`)
SMALL_WEIGHTS = 2**16  # a net whose every weight tensor is smaller, and at most 2-D, is "small"


class _NoRetracingNotice(logging.Filter):
    """TensorFlow warns when the same Python function is traced for many models ("triggered
    tf.function retracing"); here each model is traced once on purpose, so that notice is noise."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "triggered tf.function retracing" not in record.getMessage()


_QUIET = _NoRetracingNotice()


@contextlib.contextmanager
def _quietly():
    """TensorFlow's retracing notice filtered out, inside only."""
    tf_logger = logging.getLogger("tensorflow")
    tf_logger.addFilter(_QUIET)
    try:
        yield
    finally:
        tf_logger.removeFilter(_QUIET)


def _traced_quietly(function, *args):
    """Call a traced function with TensorFlow's retracing notice filtered out (only during the call)."""
    with _quietly():
        return function(*args)


def choose(model) -> str:
    """The function executor for this model's epochs: the single-threaded one for small nets, else
    TensorFlow's default ("").

    Why a rule on the weights (the measurements are in benchmarks/README.md): the single-threaded
    executor saves per-op overhead, so it wins where ops are many and small (MLPs, small LSTMs),
    and loses where ops are big (512-unit layers, LSTM(128)) or convolutions (it runs the loop body
    without the oneDNN kernels that the default executor's graph rewrite gives convolutions). A
    trial of both per model would need a second trace of every function, which costs more than it
    saves on a grid.
    `NETDSL_EXECUTOR=default` or `=single` overrides the rule.

    Never with fewer than 2 inter-op threads: that executor runs a branch (`tf.cond`) as a task on
    TensorFlow's inter-op pool while the calling thread waits, so with one thread a graph with a
    branch waits forever (a fit hung under TF_NUM_INTEROP_THREADS=1, which joblib's workers set; see
    `_BRANCH_SLOT`).

    On the default executor, a net with an `add` (a residual block) runs without grappler's
    remapping (`UNFUSED`, `_unfused_options`)."""
    if inter_op_threads() < 2:
        return _default(model)
    forced = os.environ.get("NETDSL_EXECUTOR", "").strip().lower()
    if forced in ("default", "single"):
        return SINGLE_THREADED if forced == "single" else _default(model)
    small = all(len(w.shape) <= 2 and int(np.prod(w.shape)) < SMALL_WEIGHTS for w in model.weights)
    return SINGLE_THREADED if small else _default(model)


def _default(model) -> str:
    """TensorFlow's default executor (""), or `UNFUSED` for a net with an `add` layer."""
    return UNFUSED if any(type(layer).__name__ == "Add" for layer in model.layers) else ""


def inter_op_threads() -> int:
    """The size of TensorFlow's inter-op thread pool: as configured, else TF_NUM_INTEROP_THREADS,
    else TensorFlow's default (the CPUs this process may use)."""
    import tensorflow as tf

    configured = tf.config.threading.get_inter_op_parallelism_threads()
    if configured > 0:
        return configured
    try:
        from_environment = int(os.environ.get("TF_NUM_INTEROP_THREADS", "0"))
    except ValueError:
        from_environment = 0
    if from_environment > 0:
        return from_environment
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def _single_threaded_options():
    """TensorFlow's options for the function calls made inside (this thread only): the
    single-threaded executor, and no grappler rewrites. Grappler optimizes each function when it is
    first called (and again after `tf.random.set_seed`, which empties TensorFlow's caches); for a
    small net that costs more than its rewrites save (a convnet's epoch needs them; measurements in
    benchmarks/README.md). The same ops run either way, the same results come out."""
    return compat.function_call_options(SINGLE_THREADED, rewrites=False)


def _unfused_options():
    """TensorFlow's options for the calls made inside (this thread only): grappler without its
    remapping, which fuses a convolution with its bias and an `add` of a residual block into one
    oneDNN kernel; that kernel crashed the process (a segmentation fault in about 1 predict in
    10, a residual convnet on this AMD EPYC; none in 30 with remapping off)."""
    return compat.function_call_options("", rewrites=True, remapping=False)


def options(executor: str):
    """The options to trace and call functions for `executor` with (a context manager's maker)."""
    return {SINGLE_THREADED: _single_threaded_options, UNFUSED: _unfused_options}.get(executor, contextlib.nullcontext)


# A branch (`tf.cond`'s `If`) on the single-threaded executor runs on one of TensorFlow's inter-op threads while the
# thread that called it waits. Two such calls from two Python threads at once can hold both inter-op threads of a
# 2-core machine and wait forever for a third (seen: two threads fitting MLPs hung, and with one inter-op thread a
# single call does). Graph loops alone never hung (three threads calling loops two deep, on one inter-op thread), so a
# call whose graph has no branch runs at once with any other; a call with one takes `_BRANCH_SLOT`, one at a time. (A
# waiting call run on the default executor instead would compute other roundings, and a result would depend on what
# another thread was doing.) The fast path's epochs, evaluation and `predict` have no branch.
_BRANCH_SLOT = threading.Lock()
_BRANCH_OPS = frozenset({"If", "StatelessIf", "Case", "StatelessCase"})
_BRANCHES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # a traced graph -> whether it has a branch


def has_branch(function, *args) -> bool:
    """Whether the graph `function(*args)` runs (nested functions included) has a branch
    (`_BRANCH_OPS`); True where the graph cannot be found (a call then waits its turn)."""
    graph = getattr(function, "graph", None)  # a shared family's function (`shared_trace`) says it
    if graph is None and hasattr(function, "get_concrete_function"):
        with _quietly():
            graph = function.get_concrete_function(*args).graph
    if graph is None:
        return True
    found = _BRANCHES.get(graph)
    if found is None:
        definition = graph.as_graph_def()
        nodes = [*definition.node, *(node for f in definition.library.function for node in f.node_def)]
        found = _BRANCHES[graph] = any(node.op in _BRANCH_OPS for node in nodes)
    return found


def call(executor: str, function, *args) -> tuple:
    """Call a traced function on `executor` (the single-threaded one with
    `_single_threaded_options`): its result, and the executor to use from now on. Should the
    single-threaded executor refuse the graph (it runs no low-level control flow), the call runs on
    the default executor, the log says so, and the caller keeps the default for good."""
    import tensorflow as tf

    if executor != SINGLE_THREADED:
        with options(executor)():
            return _traced_quietly(function, *args), executor
    with _single_threaded_options():
        slot = _BRANCH_SLOT if has_branch(function, *args) else contextlib.nullcontext()
        with slot:
            try:
                return _traced_quietly(function, *args), executor
            except (tf.errors.FailedPreconditionError, tf.errors.UnimplementedError) as error:
                if "Single-threaded executor" not in str(error):
                    raise
                refused = str(error).splitlines()[0][:200]
    # It refuses a graph when it builds its kernels, before any op runs: nothing has changed.
    logger.info("netdsl: this net runs on TensorFlow's default executor: the single-threaded one "
                "refused its graph (%s)", refused)
    return _traced_quietly(function, *args), ""
