"""Where the boxes of a network picture go: a layered layout, computed without drawing anything.

The flow runs down the page. Each box gets a layer by the longest path from the inputs (a box
that only feeds a later merge is moved down next to it, so a side branch is drawn beside the
point it joins, not at the top); an edge that spans several layers passes through a point of
its own in each (the "dummy" points of Sugiyama's method), so a skip connection is drawn beside
the layers it skips. Within a layer the boxes are ordered by the mean position of their
neighbours (two passes down and up, which removes most crossings), then placed where their
neighbours are, as near as the boxes' widths and the frames around blocks let them (a least
squares fit under the order, solved exactly by pooling adjacent violators).

Everything is in inches, y growing downward, and depends only on the diagram and the sizes of
its boxes: the same net gives the same picture. `netdsl.pipelines.graph_picture` draws it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["Frame", "Layout", "Placed", "layout"]

GAP_X = 0.3  # between neighbouring boxes of a layer
GAP_Y = 0.36  # between layers (arrows need room)
MARGIN = 0.25
FRAME_PAD = 0.1  # between a frame and the boxes inside it; a frame around frames adds FRAME_STEP per level
FRAME_STEP = 0.1
LABEL_H = 0.2  # the label on a frame's top edge; a frame around frames is that much higher per level
_ROUNDS = 2  # passes of ordering (down and up each)
_PLACING = 8  # passes of placing


@dataclass(frozen=True)
class Frame:
    """A block of the program drawn as a rectangle around its boxes (`residual`, `repeat`, ...)."""

    label: str
    kind: str
    members: tuple[str, ...]


@dataclass
class Placed:
    """A box: centre x, top y, width, height, layer."""

    x: float
    y: float
    w: float
    h: float
    layer: int

    @property
    def bottom(self) -> float:
        return self.y + self.h


@dataclass
class Layout:
    """The boxes, each edge's route (points from the source's bottom to the target's top, one pair
    per layer it passes), the frames' rectangles (x0, y0, x1, y1), and the size of the whole."""

    boxes: dict[str, Placed]
    routes: dict[tuple[str, str], list[tuple[float, float]]]
    frames: list[tuple[Frame, tuple[float, float, float, float]]]
    width: float
    height: float
    layers: list[list[str]] = field(default_factory=list)  # the order found, dummies included


def layout(keys, edges, sizes: dict, frames=(), top: float = 0.0, sources=()) -> Layout:
    """Lay out boxes `keys` (in the program's order) joined by `edges` ((from, to) pairs, each
    `from` earlier in `keys`), each box `sizes[key]` = (width, height) inches, inside `frames`
    (outer frames before the frames they hold), below `top`. `sources` stay in the first layer."""
    keys, edges = list(keys), list(dict.fromkeys(edges))  # `dot(a, a)`: one arrow
    rank = _ranks(keys, edges, set(sources))
    chains, rank = _with_dummies(edges, rank)
    preds, succs = _neighbours(chains)
    layers = _order(keys, rank, chains, preds, succs)
    pads = _frame_pads(frames)
    owners = _owners(frames, chains, rank)
    width_of = {key: sizes[key][0] if key in sizes else 0.0 for key in rank}
    x = _place(layers, preds, succs, width_of, owners, pads)
    y, height_of = _heights(layers, sizes, frames, rank, pads, top)
    boxes = {
        key: Placed(x[key], y[rank[key]] + (height_of[rank[key]] - sizes[key][1]) / 2, *sizes[key], rank[key])
        for key in keys
    }
    rects = _frame_rects(frames, owners, boxes, x, y, height_of, rank, pads)
    left = min([b.x - b.w / 2 for b in boxes.values()] + [r[0] for _, r in rects])
    shift = MARGIN - left
    for box in boxes.values():
        box.x += shift
    x = {key: value + shift for key, value in x.items()}
    rects = [(frame, (x0 + shift, y0, x1 + shift, y1)) for frame, (x0, y0, x1, y1) in rects]
    routes = _routes(edges, chains, boxes, x, y, height_of, rank)
    width = max([b.x + b.w / 2 for b in boxes.values()] + [r[2] for _, r in rects]) + MARGIN
    height = max([b.bottom for b in boxes.values()] + [r[3] for _, r in rects]) + MARGIN
    return Layout(boxes, routes, rects, width, height, layers)


# ---- layers --------------------------------------------------------------------------------------


def _ranks(keys: list, edges, sources: set) -> dict:
    """Longest path from the inputs; then each box that is not a source moves down to just above
    the nearest box it feeds (a branch drawn next to where it is used)."""
    preds = {key: [] for key in keys}
    succs = {key: [] for key in keys}
    for a, b in edges:
        preds[b].append(a)
        succs[a].append(b)
    rank = {}
    for key in keys:
        rank[key] = 1 + max((rank[p] for p in preds[key]), default=-1)
    for key in reversed(keys):
        if key not in sources and succs[key]:
            rank[key] = min(rank[s] for s in succs[key]) - 1
    return rank


def _with_dummies(edges, rank: dict) -> tuple[dict, dict]:
    """Each edge's chain of points (its ends and a dummy per layer between), and the ranks with the
    dummies added."""
    rank = dict(rank)
    chains = {}
    for a, b in edges:
        chain = [a]
        for layer in range(rank[a] + 1, rank[b]):
            dummy = f"\0{a}\0{b}\0{layer}"
            rank[dummy] = layer
            chain.append(dummy)
        chains[(a, b)] = chain + [b]
    return chains, rank


def _neighbours(chains: dict) -> tuple[dict, dict]:
    preds, succs = {}, {}
    for chain in chains.values():
        for a, b in zip(chain, chain[1:]):
            preds.setdefault(b, []).append(a)
            succs.setdefault(a, []).append(b)
    return preds, succs


def _order(keys: list, rank: dict, chains: dict, preds: dict, succs: dict) -> list[list[str]]:
    """Boxes and dummies per layer, first in the program's order (a dummy where the box its edge
    goes to is), then by barycentres."""
    place = {key: (i, -1) for i, key in enumerate(keys)}
    for chain in chains.values():
        for point in chain[1:-1]:
            place[point] = (place[chain[-1]][0], place[chain[0]][0])
    layers: list[list[str]] = [[] for _ in range(max(rank.values()) + 1)]
    for key in sorted(rank, key=place.__getitem__):
        layers[rank[key]].append(key)
    for _ in range(_ROUNDS):
        for i in range(1, len(layers)):
            _sort_by(layers[i], layers[i - 1], preds)
        for i in range(len(layers) - 2, -1, -1):
            _sort_by(layers[i], layers[i + 1], succs)
    return layers


def _sort_by(layer: list, fixed: list, neighbours: dict) -> None:
    where = {key: i for i, key in enumerate(fixed)}

    def barycentre(item):
        i, key = item
        near = [where[n] for n in neighbours.get(key, ()) if n in where]
        return sum(near) / len(near) if near else float(i) * len(fixed) / max(len(layer), 1)

    layer[:] = [key for _, key in sorted(enumerate(layer), key=lambda item: (barycentre(item), item[0]))]


# ---- frames --------------------------------------------------------------------------------------


def _frame_pads(frames) -> dict:
    """Each frame's padding (sides and bottom, top): FRAME_PAD, and per level of frames inside it
    FRAME_STEP more (LABEL_H more at the top, so that the labels of nested frames never meet)."""
    frames = list(frames)
    depth = [0] * len(frames)
    for i in range(len(frames) - 1, -1, -1):  # inner frames come after the frames that hold them
        inner = [depth[j] for j in range(i + 1, len(frames)) if set(frames[j].members) <= set(frames[i].members)]
        depth[i] = 1 + max(inner, default=-1)
    return {frame: (FRAME_PAD + FRAME_STEP * d, FRAME_PAD + (FRAME_STEP + LABEL_H) * d) for frame, d in zip(frames, depth)}


def _owners(frames, chains: dict, rank: dict) -> dict:
    """The frames each box or dummy is inside: a dummy is inside the frames of either end of its
    edge whose layers it lies within (a skip connection inside its `residual` frame)."""
    owners = {key: set() for key in rank}
    span = {}
    for frame in frames:
        ranks = [rank[m] for m in frame.members]
        span[frame] = (min(ranks), max(ranks))
        for member in frame.members:
            owners[member].add(frame)
    for chain in chains.values():
        ends = owners[chain[0]] | owners[chain[-1]]
        for dummy in chain[1:-1]:
            owners[dummy] = {f for f in ends if span[f][0] <= rank[dummy] <= span[f][1]}
    return owners


def _frame_rects(frames, owners, boxes, x, y, height_of, rank, pads) -> list:
    rects = []
    for frame in frames:
        inside = [key for key, held in owners.items() if frame in held]
        side, top = pads[frame]
        x0 = min(boxes[k].x - boxes[k].w / 2 if k in boxes else x[k] for k in inside) - side
        x1 = max(boxes[k].x + boxes[k].w / 2 if k in boxes else x[k] for k in inside) + side
        y0 = min(boxes[k].y if k in boxes else y[rank[k]] for k in inside) - top
        y1 = max(boxes[k].bottom if k in boxes else y[rank[k]] + height_of[rank[k]] for k in inside) + side
        rects.append((frame, (x0, y0 - LABEL_H / 2, x1, y1)))
    return rects


# ---- coordinates ---------------------------------------------------------------------------------


def _place(layers, preds, succs, width_of, owners, pads) -> dict:
    """x of every box and dummy: each layer fitted to its neighbours' mean, alternately above and
    below, the last pass from above (the flow reads downward)."""
    gaps = [[_gap(a, b, width_of, owners, pads) for a, b in zip(layer, layer[1:])] for layer in layers]
    x = {}
    for layer, gap in zip(layers, gaps):
        position = 0.0
        for i, key in enumerate(layer):
            position += gap[i - 1] if i else 0.0
            x[key] = position
    for round_ in range(_PLACING):
        downward = round_ % 2 == 0 or round_ == _PLACING - 1
        order = range(1, len(layers)) if downward else range(len(layers) - 2, -1, -1)
        neighbours = preds if downward else succs
        for i in order:
            wanted = [_mean(key, neighbours, x) for key in layers[i]]
            weights = [0.2 if key.startswith("\0") else 1.0 for key in layers[i]]  # a box gets its place first
            for key, value in zip(layers[i], _fit(wanted, gaps[i], weights)):
                x[key] = value
    return x


def _gap(a: str, b: str, width_of: dict, owners: dict, pads: dict) -> float:
    """Least distance between the centres of neighbours a and b: half of each, GAP_X, and the padding
    of the frames only one of them is inside (a frame's edge passes between them)."""
    only_a = [pads[f][0] for f in owners[a] - owners[b]]
    only_b = [pads[f][0] for f in owners[b] - owners[a]]
    edge = (max(only_a, default=0.0) + max(only_b, default=0.0))
    dummies = (a.startswith("\0")) + (b.startswith("\0"))
    return (width_of[a] + width_of[b]) / 2 + GAP_X * (1 - 0.25 * dummies) + edge


def _mean(key: str, neighbours: dict, x: dict):
    """Where `key` would like to be: the weighted mean of its neighbours, or None when it has none.
    A box follows the boxes next to it, not the long edges passing by (a residual's `add` stays
    under its block, the skip goes round); a dummy follows the dummies of its edge most, so long
    edges stay straight."""
    near = neighbours.get(key, ())
    if not near:
        return None
    if key.startswith("\0"):
        weights = [8 if n.startswith("\0") else 1 for n in near]
    else:
        weights = [0 if n.startswith("\0") else 1 for n in near]
        if not any(weights):
            weights = [1] * len(near)
    return sum(w * x[n] for w, n in zip(weights, near)) / sum(weights)


def _fit(wanted: list, gaps: list, weights: list) -> list[float]:
    """Positions as near as possible to `wanted` (least squares, each weighted; None: free) with
    consecutive ones at least `gaps` apart: pool-adjacent-violators on the positions less the gaps
    before them."""
    offsets = [0.0]
    for gap in gaps:
        offsets.append(offsets[-1] + gap)
    free = [w is None for w in wanted]
    if all(free):
        return offsets
    known = [w for w in wanted if w is not None]
    centre = sum(known) / len(known)
    targets = [(centre if w is None else w) - o for w, o in zip(wanted, offsets)]
    weights = [0.01 if f else weight for f, weight in zip(free, weights)]
    blocks: list[list[float]] = []  # [mean, weight, count]
    for target, weight in zip(targets, weights):
        blocks.append([target, weight, 1])
        while len(blocks) > 1 and blocks[-2][0] > blocks[-1][0]:
            m2, w2, n2 = blocks.pop()
            m1, w1, n1 = blocks.pop()
            blocks.append([(m1 * w1 + m2 * w2) / (w1 + w2), w1 + w2, n1 + n2])
    fitted = [m for m, _, n in blocks for _ in range(n)]
    return [value + offset for value, offset in zip(fitted, offsets)]


def _heights(layers, sizes, frames, rank, pads, top) -> tuple[list[float], list[float]]:
    """The top y of each layer and its height: its tallest box, then a gap with room for the frames
    that end above it and begin below it."""
    height_of = [max((sizes[k][1] for k in layer if k in sizes), default=0.0) for layer in layers]
    below = [0.0] * len(layers)
    above = [0.0] * len(layers)
    for frame in frames:
        ranks = [rank[m] for m in frame.members]
        first, last = min(ranks), max(ranks)
        above[first] = max(above[first], pads[frame][1] + LABEL_H / 2)
        below[last] = max(below[last], pads[frame][0])
    y, position = [], top + above[0]
    for i, height in enumerate(height_of):
        y.append(position)
        if i + 1 < len(layers):
            position += height + GAP_Y + below[i] + above[i + 1]
    return y, height_of


def _routes(edges, chains, boxes, x, y, height_of, rank) -> dict:
    """Each edge's points: the source's bottom, each dummy's layer from top to bottom, the target's
    top. Edges leaving (or entering) one box start (end) side by side, in the order of the other ends."""
    out_port = _ports(edges, chains, boxes, x, 0)
    in_port = _ports(edges, chains, boxes, x, -1)
    routes = {}
    for a, b in edges:
        chain = chains[(a, b)]
        points = [(out_port[(a, b)], boxes[a].bottom)]
        for dummy in chain[1:-1]:
            top = y[rank[dummy]]
            points += [(x[dummy], top), (x[dummy], top + height_of[rank[dummy]])]
        points.append((in_port[(a, b)], boxes[b].y))
        routes[(a, b)] = points
    return routes


def _ports(edges, chains, boxes, x, end: int) -> dict:
    """x where each edge leaves its source (end=0) or enters its target (end=-1): spread over the
    middle of the box's side, ordered by where the edge goes next."""
    by_box: dict = {}
    for edge in edges:
        by_box.setdefault(edge[end], []).append(edge)
    ports = {}
    for key, mine in by_box.items():
        box = boxes[key]
        step = min(0.18, box.w * 0.6 / max(len(mine), 1))
        near = 1 if end == 0 else -2
        mine = sorted(mine, key=lambda e: (x[chains[e][near]], edges.index(e)))
        for i, edge in enumerate(mine):
            ports[edge] = box.x + (i - (len(mine) - 1) / 2) * step
    return ports
