"""Which path a fit trains on, and the fast path's model for it: the one place an estimator asks.

`choose(...)` says whether a fit takes the fast path (`fast.py`: a cached compiled model, epochs as
traced calls) or Keras's standard one, and why; `fast_model(...)` lends the fit a cached model
for its graph (or a new one), restarted exactly as a new build under the fit's seed would start
(`weight_plan.py`).

Text nets: the compiled model reads token ids, not strings (`compile.build_model`'s
`vectorizers`), so it does not depend on the vocabulary: each fit learns its vocabulary
(`text_vectorization`'s `adapt`, as a standard fit does) outside it, and the texts are turned
into tokens once per fit (`model_inputs`). The estimator keeps the model on raw strings made of
the same layers (`compile.on_text`): the model a standard fit gives, which saves, loads and
predicts as one; `predict` tokenizes and runs the compiled model (`predicting`), the same numbers.

`fine_tune`: the second stage trains the same layers with more of them trainable and a new
optimizer (what recompiling gives on Keras's path: a step count and moments from zero). Traced
functions fix the variables they train when traced, so the stage is its own compiled model over
the same layers (`second_stage`), kept with the cached model by the layers it unfreezes: each stage
is traced once per graph.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field

from netdsl.dsl import flat_layers, specs
from netdsl.dsl.graph import wire

from . import fast, shared_trace, variables


@dataclass(eq=False)
class _Shared:
    """The models made over a cache entry's layers (each also in its `shared`, lent with it)."""

    text_model: object = None  # a text net's model on raw strings: what the estimator keeps
    vectorizers: dict = field(default_factory=dict)  # text input name -> the text model's `text_vectorization`
    stages: dict = field(default_factory=dict)  # layers unfrozen -> the entry of `fine_tune`'s second stage


_SHARED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # cache entry -> _Shared, as long as the entry


def _shared(entry) -> _Shared:
    return _SHARED.setdefault(entry, _Shared())


def choose(resolved: specs.Net, owner: str, verbose=0) -> str:
    """`"fast"`, or `"standard: <why>"` where the fast path cannot honour the net as declared
    (logged, and printed when `verbose`); `owner` names the estimator in that line."""
    reason = None
    if not fast.enabled():
        reason = "the fast path is turned off (NETDSL_FAST_PATH=0)"
    elif any(declared is not None and declared.text for declared in resolved.all_inputs):
        reason = _text_reason(resolved)
    if reason is None:
        return "fast"
    message = f"{owner} ({resolved.name}): training on Keras's standard path: {reason}"
    fast.logger.info(message)
    if verbose:
        print(message, flush=True)
    return f"standard: {reason}"


def _text_reason(resolved: specs.Net) -> str | None:
    """Why a text net cannot take the fast path, or None."""
    if getattr(resolved.train, "fine_tune", None) is not None:
        return "a text net with a two-stage schedule (`fine_tune`)"
    graph = wire(resolved)
    read = [graph.inputs[~step.inputs[0]] for step in graph.steps if step.layer.kind == "text_vectorization"]
    if len(set(read)) != len(read):
        return "a text input read by more than one `text_vectorization`"
    for step in graph.steps:
        layer = step.layer
        if layer.kind == "text_vectorization" and layer.output_mode == "int" and layer.output_sequence_length is None:
            return "`text_vectorization` without `output_sequence_length` pads each batch to its own longest text"
    return None


def fast_model(estimator, resolved: specs.Net, architecture: str, settings: dict, loss, y_fit, analysis=None,
               texts=None, restart: bool = True):
    """(cache entry, model) for this graph from the fast path's cache, starting exactly as a new
    build under this fit's seed would: a cached model gets new layers' initial weights
    (`weight_plan`), and a new model is built only when none is free. The model is the entry's
    compiled one, or for a text net the model on raw strings that the estimator keeps.

    `estimator` (a `BaseNet`) builds the model: its `_build(resolved)` makes it, `_compile(model,
    settings, loss, metrics)` compiles it, `_seed()` seeds the fit again. `analysis`: the fit's
    static analysis of `resolved` (layer names), handed to the builds so none analyses again.
    `texts`: a text net's training texts (by input name with several inputs), which each
    `text_vectorization` learns its vocabulary from, here, once per fit. Without `restart`, a
    cached model with a weight plan keeps its variables' values and optimizer state (the caller
    assigns all of them: a checkpoint)."""
    from .compile import adapt_vocabulary, on_text, text_vectorizers, token_spec
    from .weight_plan import fresh_weights, learn_weight_plan

    optimizer = settings["optimizer"].model_dump(mode="json", exclude={"learning_rate"})
    targets = y_fit.parts if hasattr(y_fit, "parts") else {"": y_fit}  # several outputs: by name
    shapes = [(name, str(part.dtype), part.shape[1:]) for name, part in targets.items()]
    made = text_vectorizers(resolved, analysis) if texts is not None else {}
    texts_of = (lambda name: texts[name]) if isinstance(texts, dict) else (lambda name: texts)  # noqa: E731
    adapted = set()
    for name, (spec, layer) in made.items():
        if spec.output_mode != "int":  # the vocabulary's size shapes its vectors: learned before the key
            adapt_vocabulary(spec, layer, texts_of(name))
            adapted.add(name)
    tokens = [(name, token_spec(layer)) for name, (_, layer) in made.items()]
    key = repr((architecture, repr(loss), list(settings["metrics"]), optimizer, shapes, files_read(resolved), tokens))
    text_models = []

    def make_model():
        for name, (spec, layer) in made.items():
            if name not in adapted:
                adapt_vocabulary(spec, layer, texts_of(name))
        vectorizers = {name: layer for name, (_, layer) in made.items()} or None
        model = estimator._build(resolved, analysis=analysis, vectorizers=vectorizers)
        text_model = on_text(model, vectorizers, resolved) if vectorizers else None
        estimator._compile(model, settings, loss, settings["metrics"])
        if text_model is not None:  # compiled as the model a standard fit keeps, with the optimizer that trains it
            estimator._compile(text_model, settings, loss, settings["metrics"])
            text_model.optimizer = model.optimizer
        text_models.append((text_model, vectorizers or {}))
        return model

    entry, reused = fast.acquire(key, estimator, make_model)
    if not reused:  # nets alike but for their dense layers' widths share one traced epoch (`shared_trace`)
        shared_trace.set_family(entry, shared_trace.family(
            resolved.model_dump(mode="json", exclude={"train", "params"}),
            (list(resolved.train.freeze) if resolved.train is not None else [], repr(loss), list(settings["metrics"]),
             optimizer, shapes, files_read(resolved), tokens),
        ))
    shared = _shared(entry)
    if not reused and made:
        shared.text_model, shared.vectorizers = text_models[0]
        entry.shared.append(shared.text_model)
    elif made:  # this fit's vocabulary, learned by the layers of the model the estimator keeps
        for name, (spec, _) in made.items():
            adapt_vocabulary(spec, shared.vectorizers[name], texts_of(name))
        forget_traced(shared.text_model)
    if reused:
        _refreeze(entry)
    if reused and not restart and entry.weight_plan:  # the caller assigns every variable
        estimator.embedding_coverage_ = {}
    elif reused:
        if entry.weight_plan is None:  # at its first restart
            entry.weight_plan = learn_weight_plan(resolved, entry.model, analysis) or False
        initial = entry.weight_plan.values() if entry.weight_plan else fresh_weights(resolved, entry.model, analysis)
        if initial is None:  # built whole, from the seed's start: the layers made so far used draws
            estimator._seed()
            built = estimator._build(resolved, analysis=analysis, vectorizers=shared.vectorizers or None)
            initial = [variable.value for variable in variables.layer_variables(built)]
        else:
            estimator.embedding_coverage_ = {}
        variables.reset(entry.model, initial)
    variables.set_learning_rate(entry.model, settings["learning_rate"] or settings["optimizer"].learning_rate)
    return entry, kept_model(entry)


def kept_model(entry) -> object:
    """The model an estimator keeps from a fit on `entry`: a text net's model on raw strings, else
    the entry's compiled model."""
    text_model = _SHARED[entry].text_model if entry in _SHARED else None
    return text_model if text_model is not None else entry.model


def model_inputs(entry, inputs):
    """`inputs` as `entry`'s compiled model takes them: a text net's texts as tokens (by the
    vocabulary of the model the estimator keeps, learned at this fit), other inputs as they are."""
    vectorizers = _SHARED[entry].vectorizers if entry is not None and entry in _SHARED else None
    if not vectorizers:
        return inputs
    if not isinstance(inputs, dict):
        (layer,) = vectorizers.values()
        return layer(inputs).numpy()
    return {name: vectorizers[name](part).numpy() if name in vectorizers else part for name, part in inputs.items()}


def predicting(entry, model, inputs) -> tuple:
    """(model, inputs) to predict `model`'s outputs with: for a text net's model fitted on the fast
    path (and still the one its entry lends), the compiled model on tokens, traced once per graph
    instead of once per fit; the same numbers (the same ops on the same tokens)."""
    if entry is not None and entry.model is not model and kept_model(entry) is model:
        return entry.model, model_inputs(entry, inputs)
    return model, inputs


def forget_traced(model) -> None:
    """Drop the functions traced for `model` (Keras's and `fast.predict`'s): they hold the lookup
    tables of the vocabulary they were traced with."""
    model.train_function = model.test_function = model.predict_function = None
    fast.traced_predict(model, forget=True)


def second_stage(estimator, entry, names: tuple, settings: dict, loss):
    """The entry that trains `fine_tune`'s second stage of `entry`'s model: the layers `names` made
    trainable, a model over the same layers compiled once per set of names (`settings`: the
    stage's), its optimizer state zeroed and its learning rate set, as recompiling does."""
    import keras

    from .compile import unfreeze

    stages = _shared(entry).stages
    stage = stages.get(tuple(names))
    if stage is None:
        model = keras.Model(entry.model.inputs, entry.model.outputs, name=entry.model.name)
        estimator._compile(model, settings, loss, settings["metrics"])
        stage = stages[tuple(names)] = fast._Entry(model)
        entry.shared.append(model)
    unfreeze(entry.model, names)
    stage.busy = True
    # Its optimizer zeroed (as a new compile starts it); the layers' values stay (assigned as they are).
    variables.reset(stage.model, [variable.value for variable in variables.layer_variables(stage.model)])
    variables.set_learning_rate(stage.model, settings["learning_rate"])
    return stage


def _refreeze(entry) -> None:
    """The layers second stages unfroze frozen again, as a new build makes them (`fine_tune`
    unfreezes layers that are frozen when built): before a restart."""
    for names in _shared(entry).stages:
        for name in names:
            entry.model.get_layer(name).trainable = False


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
