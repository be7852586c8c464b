"""Which path a fit trains on, and the fast path's model for it: the one place an estimator asks.

`choose(...)` says whether a fit takes the fast path (`fast.py`: a cached compiled model, epochs as
traced calls) or Keras's standard one, and why; `fast_model(...)` lends the fit a cached model
for its graph (or a new one), restarted exactly as a new build under the fit's seed would start
(`weight_plan.py`).
"""

from __future__ import annotations

from netdsl.dsl import flat_layers, specs

from . import fast


def choose(resolved: specs.Net, owner: str, verbose=0) -> str:
    """`"fast"`, or `"standard: <why>"` where the fast path cannot honour the net as declared
    (logged, and printed when `verbose`); `owner` names the estimator in that line."""
    reason = None
    if not fast.enabled():
        reason = "the fast path is turned off (NETDSL_FAST_PATH=0)"
    elif any(declared is not None and declared.text for declared in resolved.all_inputs):
        reason = "`text_vectorization` learns a new vocabulary at each fit"
    elif getattr(resolved.train, "fine_tune", None) is not None:
        reason = "a two-stage schedule (`fine_tune`) recompiles the model between stages"
    if reason is None:
        return "fast"
    message = f"{owner} ({resolved.name}): training on Keras's standard path: {reason}"
    fast.logger.info(message)
    if verbose:
        print(message, flush=True)
    return f"standard: {reason}"


def fast_model(estimator, resolved: specs.Net, architecture: str, settings: dict, loss, y_fit, analysis=None):
    """(cache entry, compiled model) for this graph from the fast path's cache, starting exactly as
    a new build under this fit's seed would: a cached model gets new layers' initial weights
    (`weight_plan`), and a new model is built only when none is free.

    `estimator` (a `BaseNet`) builds the model: its `_build(resolved)` makes it, `_compile(model,
    settings, loss, metrics)` compiles it, `_seed()` seeds the fit again. `analysis`: the fit's
    static analysis of `resolved` (layer names), handed to the builds so none analyses again."""
    from .weight_plan import fresh_weights, learn_weight_plan

    optimizer = settings["optimizer"].model_dump(mode="json", exclude={"learning_rate"})
    targets = y_fit.parts if hasattr(y_fit, "parts") else {"": y_fit}  # several outputs: by name
    shapes = [(name, str(part.dtype), part.shape[1:]) for name, part in targets.items()]
    key = repr((architecture, repr(loss), list(settings["metrics"]), optimizer, shapes, files_read(resolved)))

    def make_model():
        model = estimator._build(resolved, analysis=analysis)
        estimator._compile(model, settings, loss, settings["metrics"])
        return model

    entry, reused = fast.acquire(key, estimator, make_model)
    if reused:
        if entry.weight_plan is None:  # at its first restart
            entry.weight_plan = learn_weight_plan(resolved, entry.model, analysis) or False
        initial = entry.weight_plan.values() if entry.weight_plan else fresh_weights(resolved, entry.model, analysis)
        if initial is None:  # built whole, from the seed's start: the layers made so far used draws
            estimator._seed()
            initial = [variable.value for variable in fast.layer_variables(estimator._build(resolved, analysis=analysis))]
        else:
            estimator.embedding_coverage_ = {}
        fast.reset(entry.model, initial)
    fast.set_learning_rate(entry.model, settings["learning_rate"] or settings["optimizer"].learning_rate)
    return entry, entry.model


def files_read(resolved: specs.Net) -> tuple:
    """(path, size, modification time) of each file the graph is built from (a `pretrained` base):
    a base saved again under the same name is another graph (part of the cache key)."""
    from netdsl.dsl import saved

    files = []
    for _, layer in flat_layers(resolved):
        if layer.kind == "pretrained":
            path = saved.locate(layer.path, resolved.source.filename)
            stat = path.stat() if path is not None else None
            files.append((str(path), stat and stat.st_size, stat and stat.st_mtime_ns))
    return tuple(files)
