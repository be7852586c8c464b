"""`residual { }` blocks found again in a model's graph, for `netdsl import` (dsl/keras_import.py).

`residual { BODY } skip { SKIP }` makes the layers of BODY from the flow's point, those of SKIP from
the same point, and an `add` of the two ends (`dsl/graph.py`); with no SKIP the point itself is
added. Here the same shape is recognised in a model's layers, in the importer's order: a point P,
a chain of layers from it, a second chain from it (or none), then an `add(block end, skip end)`,
each layer of the chains read by the next alone. The `add` must carry the name netdsl would give
it, since a block cannot name it (the caller checks, and writes the `add` otherwise).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from . import specs
from .keras_config import ImportedLayer

__all__ = ["Block", "residual_blocks"]


@dataclass(frozen=True)
class Block:
    """The names of a block's layers (`body`, `skip`) and of the `add` that ends it."""

    body: tuple[str, ...]
    skip: tuple[str, ...]
    add: str


def residual_blocks(layers: list[ImportedLayer], start: str | None, outputs: list[str]) -> dict[str, Block]:
    """The residual blocks among `layers` (in the order they are written; `start`: the point the
    flow begins at), by the name of each block's first layer."""
    readers = Counter(read for layer in layers for read in set(layer.reads)) + Counter(outputs)
    found = {}
    for a, add in enumerate(layers):
        if add.data["kind"] != "add" or len(add.reads) != 2 or a == 0 or add.reads[0] == add.reads[1]:
            continue
        block_end, skip_end = add.reads
        if layers[a - 1].name == skip_end:  # a skip path of layers, right after the block
            first_skip = _chain_start(layers, a - 1, readers)
            point = layers[first_skip].reads[0]
            if first_skip == 0 or layers[first_skip - 1].name != block_end \
                    or not all(_plain(layer, readers) for layer in layers[first_skip:a]):
                continue
            block = _block(layers, first_skip - 1, point, readers, start)
            skip = tuple(layer.name for layer in layers[first_skip:a])
        elif layers[a - 1].name == block_end:  # the point itself is added
            block, skip = _block(layers, a - 1, skip_end, readers, start), ()
        else:
            continue
        if block:
            found[block[0]] = Block(block, skip, add.name)
    return found


def _plain(layer: ImportedLayer, readers: Counter) -> bool:
    """A layer a block may hold: one read, read by one statement, not a merge nor `pretrained`."""
    cls = specs.LAYERS[layer.data["kind"]]
    return len(layer.reads) == 1 and readers[layer.name] == 1 and not issubclass(cls, specs.Merge) \
        and layer.data["kind"] != "pretrained"


def _chain_start(layers: list[ImportedLayer], end: int, readers: Counter) -> int:
    """The index of the first layer of the chain that ends at `end` (each reading the one before)."""
    first = end
    while first > 0 and _plain(layers[first], readers) and layers[first].reads[0] == layers[first - 1].name:
        first -= 1
    return first


def _block(layers: list[ImportedLayer], end: int, point: str, readers: Counter, start: str | None) -> tuple[str, ...]:
    """The names of the chain that ends at `end` and begins by reading `point`, the flow's point
    right before it; () if there is none."""
    first = end
    while True:
        layer = layers[first]
        if not _plain(layer, readers):
            return ()
        if layer.reads[0] == point:
            break
        if first == 0 or layer.reads[0] != layers[first - 1].name:
            return ()
        first -= 1
    before = layers[first - 1].name if first > 0 else start
    return tuple(layer.name for layer in layers[first : end + 1]) if before == point else ()
