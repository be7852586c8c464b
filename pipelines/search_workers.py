"""Where the candidate fits of a search run: in this process, in threads of it, in local worker
processes (joblib's loky backend, one thread each) or on a Dask cluster, and the workers started
ahead of the search. See `netdsl.pipelines.search` for how to set up a cluster. Importing this
module is cheap (joblib and distributed load when a search runs)."""

from __future__ import annotations

import contextlib
import os
import threading

from netdsl.pipelines.errors import SearchError

__all__ = ["WORKERS", "backend", "effective_workers", "import_estimators", "start_workers", "worker_died"]

WORKERS = ("processes", "threads")  # where a search's local fits run with n_jobs (`backend`)


def effective_workers(n_jobs) -> int:
    """How many fits run at once with `n_jobs` under the current joblib backend (at least 1)."""
    import joblib

    try:
        return max(1, int(joblib.effective_n_jobs(n_jobs)))
    except Exception:  # pragma: no cover - a backend that cannot tell
        return 1


def _one_thread_loky():
    """joblib's loky backend, with TensorFlow's thread pools also limited in the workers."""
    from netdsl.dsl import compat

    LokyBackend = compat.loky_backend_class()

    class OneThreadLoky(LokyBackend):
        MAX_NUM_THREADS_VARS = list(LokyBackend.MAX_NUM_THREADS_VARS) + [
            "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS",
        ]

    return OneThreadLoky()


@contextlib.contextmanager
def backend(scheduler, n_jobs, workers: str = "threads"):
    """The joblib backend of the candidate fits: Dask for a scheduler; for n_jobs other than 1,
    threads of this process (joblib's threading backend: netdsl's fits seed and build in turns and
    train at once, `netdsl.estimators.seeding`), or with `workers="processes"` loky worker
    processes (one thread each); else whatever joblib is configured with (sequential by default).
    Threads measured: benchmarks/README.md, "Searches on threads"."""
    import joblib

    if workers not in WORKERS:
        raise SearchError(f"workers must be one of {', '.join(map(repr, WORKERS))}, got {workers!r}")
    if scheduler is not None:
        import distributed

        if isinstance(scheduler, distributed.Client):
            client, own = scheduler, False
        else:
            try:
                client, own = distributed.Client(scheduler, set_as_default=False), True
            except (OSError, TimeoutError, ValueError) as error:
                raise SearchError(f"cannot connect to the Dask scheduler at {scheduler}: {error}") from None
        try:
            with joblib.parallel_config(backend="dask", client=client):
                yield f"on the Dask cluster at {scheduler if isinstance(scheduler, str) else client.scheduler.address}"
        finally:
            if own:
                client.close()
        return
    if n_jobs is not None and n_jobs != 1 and workers == "threads":
        with joblib.parallel_config(backend="threading"):
            yield f"on {joblib.effective_n_jobs(n_jobs)} threads of this process"
        return
    if n_jobs is not None and n_jobs != 1:
        with joblib.parallel_config(backend=_one_thread_loky(), inner_max_num_threads=1):
            yield f"on {joblib.effective_n_jobs(n_jobs)} local worker processes"
        return
    yield "in this process"


def start_workers(n_jobs, workers: str = "threads") -> threading.Thread | None:
    """Start the local worker processes of a search with `n_jobs`, and TensorFlow in each, now, in a
    background thread, so that they start while this process loads its data and imports TensorFlow
    itself rather than after (a worker takes seconds to start, mostly importing TensorFlow). Join
    the thread before the search: the search then finds the workers up (loky reuses them). None
    when the fits would run in this process (`workers="threads"` among them)."""
    if n_jobs is None or n_jobs == 1 or workers == "threads":
        return None

    def start() -> None:
        import joblib

        try:
            with backend(None, n_jobs, workers):
                joblib.Parallel(n_jobs=n_jobs)(joblib.delayed(import_estimators)() for _ in range(effective_workers(n_jobs)))
        except Exception:  # noqa: BLE001 - the search itself reports what is wrong with the workers
            pass

    thread = threading.Thread(target=start, name="netdsl-start-workers", daemon=True)
    thread.start()
    return thread


def import_estimators() -> int:
    """Set the process up for training and import the compiler (and with it Keras and TensorFlow):
    run in each worker as it starts, and here before the refit."""
    from netdsl.estimators import runtime

    runtime.start_keras()  # imports Keras and TensorFlow: netdsl.estimators alone does not

    return os.getpid()


_WORKER_DEATHS = {
    "TerminatedWorkerError", "BrokenProcessPool", "BrokenExecutor", "KilledWorker", "CommClosedError",
    "FutureCancelledError",
}  # fmt: skip


def worker_died(error: BaseException) -> bool:
    """Whether `error` says that a worker process (loky) or a Dask worker went away."""
    return any(cls.__name__ in _WORKER_DEATHS for cls in type(error).__mro__)
