"""A saved Keras model written as a `.net` program: what `netdsl import MODEL.keras` prints.

`dsl/keras_config.py` reads the model's parts (layers as spec data, the points each reads, the
`train` settings); this module writes them as one program, in the form `netdsl fmt` prints
(`dumps`): the layers in their flow (a layer that reads another than the one before it begins with
`from NAME`, a merge names the points it merges, several outputs are listed in `output`, an
`add` of a block and its input is `residual { }` again: dsl/keras_residual.py), named
where netdsl's automatic name would differ or a later statement names the point; augmentation
layers right after the one input as `augment { }`; weights the model keeps fixed (layers with
weights and `trainable=false`, which must come first, in a chain) as
`pretrained("<the same file>", up_to="<the last of them>", trainable=false)`, since their values
are in the file, not in any argument. Nothing here imports TensorFlow.

`canonical_program` writes a netdsl program the same way, from its own specs: the program a
`.keras` file of it (fitted, saved) imports as. The round-trip tests compare the two.
"""

from __future__ import annotations

import re
from pathlib import Path

from . import specs
from .errors import NetError
from .keras_config import ImportedLayer, ImportedModel, KerasImportError, canonical_data, read_model
from .keras_residual import residual_blocks
from .shapes.names import Names

__all__ = ["import_keras", "source_of", "canonical_program", "KerasImportError"]


def import_keras(path, base_path: str | None = None) -> str:
    """The `.net` source of the Keras model (or netdsl model file) at `path`. `base_path`: how the
    program names that file in a `pretrained(...)` of its fixed weights (default: `path` as given;
    relative to the folder of the `.net` file it goes in)."""
    model = read_model(path)
    try:
        return source_of(model, str(path) if base_path is None else base_path)
    except KerasImportError:
        raise
    except (TypeError, KeyError, AttributeError, ValueError, IndexError, RecursionError) as error:
        raise KerasImportError(f"`{Path(path).name}`'s config.json is not a Keras model netdsl can read "
                               f"({type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''})",
                               "a damaged file, or not one written by Keras 3; save the model again") from None


def source_of(model: ImportedModel, base_path: str) -> str:
    """The canonical source of `model`, checked: it parses, wires and has shapes (else
    `KerasImportError`, which would be a model netdsl cannot describe)."""
    from . import dumps, loads
    from .shapes import analyse

    plain = _net(model, base_path, frozen=set())
    try:  # the net alone: its `train` settings are the file's, written as they are
        rows = [row for row in analyse(loads(dumps(plain)), training=False).rows if row.path[0] != "augment"]
    except NetError as error:
        raise KerasImportError(f"the model cannot be written as a netdsl program ({error.diagnostics[0].title})",
                               "it uses a layer in a way netdsl's kinds do not") from None
    trainable = {layer.name: layer.trainable for layer in model.layers}
    weighted = {row.name for row in rows if row.params}
    frozen = {name for name in weighted if not trainable.get(name, True)}
    return dumps(_net(model, base_path, frozen, weighted) if frozen else plain)


# ---- the program --------------------------------------------------------------------------------


def _net(model: ImportedModel, base_path: str, frozen: set, weighted: set = frozenset()) -> specs.Net:
    """The program of `model`, its layers with fixed weights (`frozen`, by name; `weighted`: the
    layers that have weights) taken by `pretrained`."""
    inputs, layers, outputs = _single_input_named(model)
    augment, layers = _augment(inputs, layers)
    layers = _in_flow_order(inputs, layers, outputs)
    base, freeze = _pretrained(inputs, layers, outputs, frozen, weighted, base_path)
    if base is not None:
        layers = layers[len(base[1]):]
    flow = list(inputs)[0] if len(inputs) == 1 else None
    last = layers[-1].name if layers else base[1][-1] if base is not None else None  # where the flow ends
    written_outputs = outputs if len(outputs) > 1 or outputs[-1] != last else []
    if base is not None:
        flow = base[1][-1]
    blocks = residual_blocks(layers, flow, outputs)
    while True:  # a block's `add` cannot be named: where it must be, the `add` is written instead
        needed = _points_named(flow, layers, written_outputs, blocks)
        explicit = _explicit_names(layers, needed, base)
        named = [first for first, block in blocks.items() if block.add in explicit]
        if not named:
            break
        for first in named:
            del blocks[first]
    items: list = [base[0]] if base is not None else []
    by_name = {layer.name: layer for layer in layers}
    inside = {name for block in blocks.values() for name in (*block.body, *block.skip, block.add)}
    for layer in layers:
        if layer.name in blocks:
            block = blocks[layer.name]
            items.append(specs.Residual(body=tuple(_statement(by_name[n], explicit) for n in block.body),
                                        skip=tuple(_statement(by_name[n], explicit) for n in block.skip)))
            flow = block.add
            continue
        if layer.name in inside:
            continue
        if not issubclass(specs.LAYERS[layer.data["kind"]], specs.Merge) and layer.reads[0] != flow:
            items.append(specs.From(point=layer.reads[0]))
        items.append(_statement(layer, explicit))
        flow = layer.name
    train = dict(model.train)
    if freeze:
        train["freeze"] = tuple(freeze)
    declared = [specs.Input(name=None if name in ("input", "text") and len(inputs) == 1 else name, shape=shape,
                            text=shape is None) for name, shape in inputs.items()]
    # a base's numeric input is the net's (`pretrained` first): the line is left out, as people write it
    single = declared[0] if len(declared) == 1 and (base is None or declared[0].text or declared[0].name) else None
    return specs.Net(name=model.name if model.name.isidentifier() else "imported", input=single,
                     inputs=tuple(declared) if len(declared) > 1 else (), outputs=tuple(written_outputs),
                     layers=tuple(items), augment=tuple(augment),
                     train=_train(train))


def _train(data: dict):
    """The `train` block of `data`, or None where it holds only defaults (`train {}` says nothing)."""
    train = specs.Train.model_validate(data)
    return None if train == specs.Train() else train


def _statement(layer: ImportedLayer, explicit: set):
    """The layer's spec: a merge with the points it merges, a layer with the points it reads
    besides the flow, its name where the program gives it."""
    cls = specs.LAYERS[layer.data["kind"]]
    data = dict(layer.data)
    if issubclass(cls, specs.Merge):
        data["inputs"] = layer.reads
    else:
        for point_field, point in zip(getattr(cls, "points", ()), _named_reads(layer)):
            data[point_field] = point
    if layer.name in explicit:
        data["name"] = layer.name
    return _validated(cls, data, layer)


def _validated(cls, data: dict, layer: ImportedLayer):
    from pydantic import ValidationError

    try:
        return cls.model_validate(data)
    except ValidationError as error:
        first = error.errors(include_url=False)[0]
        where = ".".join(str(p) for p in first["loc"])
        raise KerasImportError(f"the layer `{layer.name}` (`{data['kind']}`): netdsl's `{data['kind']}` cannot take its "
                               f"`{where}` ({first['msg']})", "netdsl's kinds take the values docs/language.md lists") from None


def _single_input_named(model: ImportedModel):
    """The inputs, layers and outputs, a single input renamed to the point an unnamed `input` makes
    (`input`, or `text` for raw strings)."""
    inputs, layers = dict(model.inputs), list(model.layers)
    if len(inputs) != 1:
        return inputs, layers, list(model.outputs)
    (old, shape), = inputs.items()
    new = "text" if shape is None else "input"
    if not re.fullmatch(r"(input|text)(_layer)?(_\d+)?", old) or old == new or any(layer.name == new for layer in layers):
        return inputs, layers, list(model.outputs)
    renamed = [ImportedLayer(layer.name, layer.data, tuple(new if r == old else r for r in layer.reads), layer.trainable)
               for layer in layers]
    return {new: shape}, renamed, [new if o == old else o for o in model.outputs]


def _augment(inputs: dict, layers: list[ImportedLayer]):
    """The augmentation layers in a chain right after the one input (`augment { }`), and the rest,
    which then read the input where they read the last of them."""
    if len(inputs) != 1:
        return [], layers
    point, taken = list(inputs)[0], []
    for layer in layers:
        readers = [other for other in layers if point in other.reads]
        if layer.data["kind"] not in specs.AUGMENTATION_KINDS or readers != [layer] or layer.reads != (point,):
            break
        taken.append(layer)
        point = layer.name
    if not taken:
        return [], layers
    start = list(inputs)[0]
    rest = [ImportedLayer(layer.name, layer.data, tuple(start if r == point else r for r in layer.reads), layer.trainable)
            for layer in layers[len(taken):]]
    return [specs.LAYERS[layer.data["kind"]].model_validate(layer.data) for layer in taken], rest


def _in_flow_order(inputs: dict, layers: list[ImportedLayer], outputs: list[str]) -> list[ImportedLayer]:
    """The layers in one order whatever order the file lists them in (Keras lists a graph's layers
    by depth): as a person follows a graph from its outputs back, each layer after the layers it
    reads, those in the order it reads them (so a merge's first branch comes first)."""
    by_name = {layer.name: layer for layer in layers}
    ordered, done, visiting = [], set(inputs), set()
    for end in outputs:
        stack = [(end, False)]
        while stack:
            name, expanded = stack.pop()
            if expanded:
                visiting.discard(name)
                done.add(name)
                ordered.append(by_name[name])
                continue
            if name in done:
                continue
            if name in visiting or name not in by_name:
                raise KerasImportError(f"the model's layers read each other in a cycle, or a layer it does not have "
                                       f"(`{name}`)", "a damaged file; save the model again")
            visiting.add(name)
            stack.append((name, True))
            stack.extend((read, False) for read in reversed(by_name[name].reads) if read not in done)
    unused = [layer.name for layer in layers if layer.name not in done]
    if unused:
        raise KerasImportError(f"no output of the model depends on the layer `{unused[0]}`",
                               "a damaged file; save the model again")
    return ordered


def _pretrained(inputs: dict, layers: list[ImportedLayer], outputs: list[str], frozen: set, weighted: set,
                base_path: str):
    """(the `pretrained` statement and the names of the layers it takes, the names `train { freeze }`
    lists) for the layers with fixed weights, or (None, ()) if there are none. They must lie in the
    chain from the one input (what `pretrained` takes)."""
    if not frozen:
        return None, ()
    last = max(i for i, layer in enumerate(layers) if layer.name in frozen)
    chain, point = [], list(inputs)[0] if len(inputs) == 1 else None
    for layer in layers[: last + 1]:
        if layer.reads != (point,):
            break
        chain.append(layer.name)
        point = layer.name
    outside = [layer.name for layer in layers[last + 1:] if set(layer.reads) & set(chain[:-1])]
    if len(chain) != last + 1 or outside or set(chain[:-1]) & set(outputs):
        name = layers[last].name if len(chain) == last + 1 else layers[len(chain)].name
        raise KerasImportError(f"the layers with fixed weights (trainable=false) end at `{layers[last].name}`, but the "
                               f"layers up to it are not a chain from the input (at `{name}`)",
                               "netdsl takes fixed weights from a saved file with `pretrained(...)`, which takes the "
                               "first layers of a chain")
    partly = [name for name in chain if name in weighted and name not in frozen]
    statement = specs.LAYERS["pretrained"].model_validate(
        {"kind": "pretrained", "path": base_path, "up_to": chain[-1], "trainable": bool(partly)})
    return (statement, chain), ([name for name in chain if name in frozen] if partly else [])


def _named_reads(layer: ImportedLayer) -> tuple[str, ...]:
    """The points a layer reads besides its flow (`multi_head_attention`'s `value=`, `key=`); none
    where they are the flow itself (self-attention, which Keras calls as `layer(x, x)`)."""
    extra = layer.reads[1:]
    return () if all(read == layer.reads[0] for read in extra) else extra


def _points_named(flow, layers: list[ImportedLayer], outputs: list[str], blocks: dict) -> set:
    """The points a statement names: read by a merge, a `from`, a `value=`, or listed in `output`
    (not those a `residual` block reads: its input and ends)."""
    needed = set(outputs)
    inside = {name for block in blocks.values() for name in (*block.body, *block.skip)}
    ends = {block.add for block in blocks.values()}
    for layer in layers:
        if layer.name in inside or layer.name in ends:
            flow = layer.name if layer.name in ends else flow
            continue
        if issubclass(specs.LAYERS[layer.data["kind"]], specs.Merge):
            needed |= set(layer.reads)
        else:
            needed |= set(_named_reads(layer))
            if layer.reads[0] != flow:
                needed.add(layer.reads[0])
        flow = layer.name
    return needed


def _explicit_names(layers: list[ImportedLayer], needed: set, base) -> set:
    """The layers whose name the program gives: those whose point a statement names, and those
    netdsl's automatic names (Keras's: `dense`, `dense_1`, ... skipping the names given) would
    name otherwise."""
    names = {layer.name for layer in layers}
    if base is not None and needed & set(base[1]):
        raise KerasImportError(f"a layer reads `{sorted(needed & set(base[1]))[0]}` out of the flow, one of the layers "
                               "with fixed weights", "`pretrained(...)` takes them, and the layer after it reads its "
                               "last one; netdsl names no point among them")
    explicit = {name for name in needed if name in names}
    while True:  # names given make automatic names skip them: again until no name is added
        auto, before = Names(taken=explicit | set(base[1] if base else ())), len(explicit)
        for layer in layers:
            if layer.name in explicit:
                continue
            spec = specs.LAYERS[layer.data["kind"]].model_validate(layer.data)
            if _peek(auto, spec) != layer.name:
                explicit.add(layer.name)  # named: it takes no automatic name
            else:
                auto.take(spec)
        if len(explicit) == before:
            return explicit


def _peek(names: Names, spec) -> str:
    """The automatic name `names` would give `spec` next, without giving it."""
    import copy

    return copy.deepcopy(names).take(spec)


# ---- a netdsl program the same way --------------------------------------------------------------


def canonical_program(net, base_path: str, params: dict | None = None, loss=None, data: dict | None = None) -> str:
    """The source `netdsl import` gives for a `.keras` file of `net` fitted with `params` (its
    `param`s at those values, else their defaults): the layers its wiring makes, in the importer's
    form, with what a Keras file holds of the `train` block. `loss`: the loss the estimator chose
    where the file leaves it to the task. `base_path`: how `pretrained` names the `.keras` file;
    `data`: the data-bound names (`n_classes`...) as the fit bound them."""
    from . import load, loads
    from .resolution import resolve
    from .shapes import analyse_resolved
    from .shapes.pretrained import expand

    if isinstance(net, (str, Path)):
        net = load(net) if Path(str(net)).suffix == ".net" else loads(str(net))
    resolved = resolve(net, params, data)
    summary = analyse_resolved(resolved, data, training=False)
    items, _, _ = expand(resolved, resolved.source.span, [])
    inputs = {name: None if declared is not None and declared.text else tuple(shape)
              for (name, shape), declared in zip(summary.inputs.items(), resolved.all_inputs)}
    layers, first = [], list(inputs)[0]
    for row in summary.rows:
        if row.path[0] == "augment":
            layers.append(ImportedLayer(row.name, _data(resolved.augment[row.path[1]]), (first,)))
            first = row.name
    start = list(inputs)[0]
    main = [row for row in summary.rows if row.path[0] != "augment"]
    for (_, layer, _, _), row in zip(items, main):
        reads = tuple(first if r == start else r for r in row.inputs)
        layers.append(ImportedLayer(row.name, _data(layer), reads, row.trainable or row.name in summary.unfrozen))
    model = ImportedModel(resolved.name, inputs, layers, list(summary.outputs), _train_data(resolved.train, loss))
    return source_of(model, base_path)


def _data(layer) -> dict:
    cls = type(layer)
    skip = {"name", "trainable", "inputs", "embeddings", *getattr(cls, "points", ())}  # `embeddings`: initial weights
    data = {k: v for k, v in layer.model_dump().items() if k not in skip}
    if isinstance(data.get("layer"), dict):
        data["layer"] = {k: v for k, v in data["layer"].items() if k not in ("name", "trainable")}
    return canonical_data(data)


def _train_data(train, loss) -> dict:
    """What a Keras file keeps of a `train` block: the optimizer (at the learning rate of the last
    stage, `fine_tune`'s where there is one), the loss, metrics and each output's own."""
    if train is None and loss is None:
        return {}  # not compiled (a `NetTransformer`'s model): the file holds no training settings
    train = train if train is not None else specs.Train()
    optimizer = train.optimizer.model_dump()
    if train.fine_tune is not None:
        optimizer["learning_rate"] = train.fine_tune.learning_rate or optimizer["learning_rate"] / 10
    data: dict = {"optimizer": optimizer, "metrics": train.metrics}
    if (train.loss if train.loss is not None else loss) is not None:
        data["loss"] = train.loss if train.loss is not None else loss
    if train.outputs:
        data["outputs"] = {name: own.model_dump() for name, own in train.outputs.items()}
    return data
