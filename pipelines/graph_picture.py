"""A picture of a network: each layer a box (its kind, its name when the file gives one, its output
shape and its weights), arrows for the flow, frames around `residual`, `skip`, `repeat`,
`pretrained` and `augment` blocks, the inputs and outputs marked.

    >>> from netdsl.pipelines.graph_picture import graph_picture
    >>> fig = graph_picture("examples/resnet_digits.net", path="resnet_digits_graph.png")  # doctest: +SKIP

It is drawn from the dsl's own analysis (`netdsl.dsl.analyse`, what `netdsl show` prints), so it
needs neither TensorFlow nor Graphviz: `diagram` turns the analysis into boxes, edges and frames,
`netdsl.pipelines.graph_layout` places them, and `graph_figure` draws them with matplotlib (its
Agg canvas, never pyplot). Text sizes come from the fonts' metrics, so the figure's size follows
the layout and the same net always gives the same picture. `netdsl plot graph FILE.net` is the
command (`netdsl.pipelines.commands.plot`).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING

from netdsl.pipelines.figures import new_figure, save
from netdsl.pipelines.graph_layout import Frame, Layout, layout

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

__all__ = ["Box", "Diagram", "diagram", "graph_figure", "graph_picture", "measure", "place"]

HEADER = 0.7  # inches above the boxes: the net's name and its weights
MAX_PIXELS = 20_000  # the longest side of a PNG; a longer picture is drawn at fewer dots per inch
# The most pixels of a PNG (a wide and long one: nested `residual` frames grow both ways), under
# the 89 million at which Pillow warns of a decompression bomb; drawing it takes 4 bytes a pixel.
MAX_AREA = 50_000_000
_BLOCKS = ("repeat", "residual", "pretrained")
_FONT = {  # (size, weight, family) of each kind of text: the fonts matplotlib ships, so sizes are the same everywhere
    "heading": (13, "bold", "DejaVu Sans"), "title": (9.5, "bold", "DejaVu Sans"),
    "line": (8, "normal", "DejaVu Sans Mono"), "note": (8, "normal", "DejaVu Sans"),
}  # fmt: skip
_PAD_X, _PAD_Y, _TITLE_H, _LINE_H = 0.12, 0.07, 0.19, 0.16
# (fill, edge) per kind of box; a layer's colour is its group in the language reference.
_COLOURS = {
    "input": ("#dcf1e1", "#3a9254"), "output": ("#ffe6c4", "#cf7a1c"), "merge": ("#fff3c4", "#b8921c"),
    "Core layers": ("#dde7f7", "#4a6fa5"), "Convolution layers": ("#e6e0f5", "#6a51a3"),
    "Pooling layers": ("#d9eef1", "#2b8294"), "Normalization and regularization layers": ("#ececec", "#7f7f7f"),
    "Activation layers": ("#fbf1d3", "#b08f2c"), "Recurrent layers": ("#f8dfdf", "#ad4848"),
    "Sequence and attention layers": ("#f5e0ef", "#9c4a82"), "Text layers": ("#e5efd5", "#5d7f2c"),
    "Augmentation layers": ("#ffffff", "#8c8c8c"), "other": ("#eeeeee", "#666666"),
}  # fmt: skip
_FRAMES = {  # fill (None: none), edge, line style
    "residual": ("#fff5e6", "#dc9640", "-"), "skip": ("#fde7cc", "#dc9640", "-"), "repeat": (None, "#8a8a8a", "--"),
    "pretrained": ("#edf2f8", "#6b8db2", "-"), "augment": (None, "#9a9a9a", ":"),
}  # fmt: skip


@dataclass(frozen=True)
class Box:
    """One box: `key` (a layer's or an input's name; `NAME (output)` for an output's tab), its
    title and lines of text, its role (input, layer, merge, augment, output) and its colours' key."""

    key: str
    title: str
    lines: tuple[str, ...]
    role: str
    colours: str


@dataclass(frozen=True)
class Diagram:
    """What the picture shows, before it is placed: boxes in the program's order, edges (a merge's
    in the order it reads them), frames (outer ones first), the heading."""

    name: str
    totals: str
    boxes: tuple[Box, ...]
    edges: tuple[tuple[str, str], ...]
    frames: tuple[Frame, ...]

    @property
    def inputs(self) -> tuple[str, ...]:
        return tuple(box.key for box in self.boxes if box.role == "input")


# ---- the diagram of an analysis ------------------------------------------------------------------


def diagram(summary) -> Diagram:
    """The boxes, edges and frames of `summary` (what `netdsl.dsl.analyse` returns)."""
    from netdsl.dsl.shapes.text import batch_text

    net = summary.net
    boxes, edges = [], []
    declared = list(net.all_inputs) if net is not None else []
    for i, (name, shape) in enumerate(summary.inputs.items()):
        text = i < len(declared) and declared[i] is not None and declared[i].text
        title = "input" if name == "input" else f"input {name}"
        boxes.append(Box(name, title, ("(batch) strings" if text else batch_text(shape),), "input", "input"))
    augment = [row for row in summary.rows if not row.inputs]
    reads_input = {}  # an input's name -> the last augmentation layer (augmentation runs on the input)
    previous = next(iter(summary.inputs))
    for row in augment:
        boxes.append(_box(row, "augment"))
        edges.append((previous, row.name))
        previous = row.name
    if augment:
        reads_input[next(iter(summary.inputs))] = previous
    for row in summary.rows:
        if not row.inputs:
            continue
        boxes.append(_box(row, "merge" if _is_merge(row.kind) else "layer"))
        edges.extend((reads_input.get(point, point), row.name) for point in row.inputs)
    several = len(summary.outputs) > 1 or bool(net is not None and net.outputs)
    for name in summary.outputs:
        boxes.append(Box(f"{name} (output)", f"output {name}" if several else "output", (), "output", "output"))
        edges.append((name, f"{name} (output)"))
    total = _count(summary.total_params)
    trainable = "" if summary.trainable_params == summary.total_params else f", {_count(summary.trainable_params)} trainable"
    return Diagram(net.name if net is not None else "net", f"{total} params{trainable}", tuple(boxes), tuple(edges),
                   _frames(summary.rows, net))


def _box(row, role: str) -> Box:
    from netdsl.dsl.shapes.text import batch_text

    title = f"{row.name} = {row.kind}" if _given_name(row) else row.kind
    weights = f"{_count(row.params)} params"
    if not row.trainable and row.params:
        weights += ", frozen"
    if role == "augment":
        weights = "training only"
    return Box(row.name, title, (batch_text(row.output_shape), weights), role, "merge" if role == "merge" else _group(row.kind))


def _given_name(row) -> bool:
    """Whether the file (or a saved base) named the layer: its name is not Keras's automatic one
    (`conv2d`, `conv2d_3`)."""
    name, kind = row.name, row.kind
    automatic = name == kind or (name.startswith(kind + "_") and name[len(kind) + 1 :].isdigit())
    return not automatic


def _is_merge(kind: str) -> bool:
    from netdsl.dsl.specs import MERGE_KINDS

    return kind in MERGE_KINDS


def _group(kind: str) -> str:
    from netdsl.dsl.reference import LAYER_GROUPS

    return next((title for title, _, kinds in LAYER_GROUPS if kind in kinds and title in _COLOURS), "other")


def _count(n) -> str:
    return f"{n:,}" if isinstance(n, int) else str(n)


def _frames(rows, net) -> tuple[Frame, ...]:
    """A frame per block as written: the rows of one `residual` (up to its `add`), of its `skip`, of
    a `repeat` (all copies), of one `pretrained` and of `augment`, outer frames first."""
    found: list[list] = []  # [prefix, kind, members], in the order they open
    open_: dict[tuple, list] = {}
    for row in rows:
        prefixes = _blocks(row.path)
        for prefix in [p for p in open_ if p not in dict(prefixes)]:
            del open_[prefix]
        for prefix, kind in prefixes:
            if prefix not in open_:
                open_[prefix] = [prefix, kind, [], row]
                found.append(open_[prefix])
            open_[prefix][2].append(row.name)
            if kind == "residual" and row.path == prefix + ("add",):
                del open_[prefix]  # the next copy of a repeated block is a block of its own
    return tuple(Frame(_label(kind, prefix, first, net), kind, tuple(members)) for prefix, kind, members, first in found)


def _blocks(path: tuple) -> list[tuple[tuple, str]]:
    """The blocks a row's source path lies in, outermost first, as (path prefix, kind)."""
    blocks = [(("augment",), "augment")] if path[:1] == ("augment",) else []
    for i, part in enumerate(path):
        if part in _BLOCKS and i and isinstance(path[i - 1], int) and i + 1 < len(path):
            blocks.append((path[: i + 1], part))
            if part == "residual" and path[i + 1] == "skip":
                blocks.append((path[: i + 2], "skip"))
    return blocks


def _label(kind: str, prefix: tuple, first, net) -> str:
    if kind == "augment":
        return "augment"  # its boxes say "training only"
    if kind == "pretrained":
        return f"pretrained from {first.base}" if first.base else "pretrained"
    if kind == "repeat":
        spec = _spec_at(net, prefix)
        if getattr(spec, "count", None) is not None:
            header = _header(net, prefix)  # `repeat depth`: the count as the file writes it
            if header and header != f"repeat {spec.count}":
                return f"{header} (\u00d7{spec.count})"
            return f"repeat \u00d7{spec.count}"
        if getattr(spec, "values", None) is not None:
            return f"repeat {spec.variable} in [{', '.join(str(v) for v in spec.values)}]"
    return kind


def _header(net, path: tuple) -> str | None:
    """A block's first line as the file writes it, up to its `{` (`repeat depth`), or None."""
    span = net.source.span(path)
    lines = net.source.text.splitlines()
    if span is None or not 0 < span.line <= len(lines):
        return None
    header = " ".join(lines[span.line - 1][span.col - 1 :].split("{")[0].split())
    return header if header.startswith("repeat") else None


def _spec_at(net, path: tuple):
    """The statement of the resolved net at a source path (`("layers", 1, "repeat")`), or None."""
    node = net
    for part in path:
        if isinstance(part, int):
            node = node[part] if isinstance(node, (tuple, list)) and part < len(node) else None
        elif getattr(node, "kind", None) != part:
            node = getattr(node, part, None)
        if node is None:
            return None
    return node


# ---- sizes and placing ---------------------------------------------------------------------------


def measure(box: Box) -> tuple[float, float]:
    """(width, height) in inches of a box: its widest line, from the font's metrics."""
    width = max([_text_width(box.title, "title")] + [_text_width(line, _style(line, i)) for i, line in enumerate(box.lines)])
    return width + 2 * _PAD_X, 2 * _PAD_Y + _TITLE_H + _LINE_H * len(box.lines)


def _style(line: str, i: int) -> str:
    return "line" if i == 0 and line.startswith("(") else "note"


@functools.lru_cache(maxsize=4096)
def _text_width(text: str, style: str) -> float:
    """Inches; cached, as a deep net repeats the same lines (`(batch, 16)`, `0 params`) many times."""
    from matplotlib.textpath import TextToPath

    width, _, _ = TextToPath().get_text_width_height_descent(text, _properties(style), ismath=False)
    return width / 72


def _properties(style: str):
    from matplotlib.font_manager import FontProperties

    size, weight, family = _FONT[style]
    return FontProperties(family=family, size=size, weight=weight)


def place(picture: Diagram) -> Layout:
    """The layout of a diagram, below the heading."""
    sizes = {box.key: measure(box) for box in picture.boxes}
    for box in picture.boxes:
        if box.role == "output":
            sizes[box.key] = (sizes[box.key][0], _TITLE_H + 2 * _PAD_Y - 0.04)
    return layout([box.key for box in picture.boxes], picture.edges, sizes, picture.frames, top=HEADER,
                  sources=picture.inputs)


# ---- drawing -------------------------------------------------------------------------------------


def graph_figure(summary) -> Figure:
    """The picture of an analysed net as a matplotlib figure (not yet written)."""
    picture = diagram(summary)
    placed = place(picture)
    heading = max(_text_width(f"net {picture.name}", "heading"), _text_width(picture.totals, "note")) + 0.5
    width, height = max(placed.width, heading), placed.height
    figure = new_figure(width, height)
    figure.set_layout_engine("none")
    width, height = figure.get_size_inches()
    ax = figure.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, width)
    ax.set_ylim(height, 0)
    ax.set_axis_off()
    shift = (width - placed.width) / 2  # the layout centred in a wider figure
    ax.text(0.25, 0.3, f"net {picture.name}", fontproperties=_properties("heading"), va="center")
    ax.text(0.25, 0.53, picture.totals, fontproperties=_properties("note"), color="#555555", va="center")
    _draw_frames(ax, placed, shift)
    _draw_edges(ax, placed, shift)
    for box in picture.boxes:
        _draw_box(ax, box, placed.boxes[box.key], shift)
    return figure


def _draw_frames(ax, placed: Layout, shift: float) -> None:
    from matplotlib.patches import FancyBboxPatch

    for depth, (frame, (x0, y0, x1, y1)) in enumerate(placed.frames):
        fill, edge, style = _FRAMES[frame.kind]
        ax.add_patch(FancyBboxPatch((x0 + shift, y0), x1 - x0, y1 - y0, boxstyle="round,pad=0,rounding_size=0.08",
                                    facecolor=fill or "none", edgecolor=edge, linestyle=style, linewidth=1.0,
                                    zorder=1 + depth * 0.01))  # fmt: skip
        left = _label_left(frame.label, (x0, y0, x1), placed)
        ax.text(left + shift, y0, frame.label, fontproperties=_properties("note"), color=edge, va="center",
                zorder=5, bbox={"boxstyle": "round,pad=0.18", "facecolor": "white", "edgecolor": edge, "linewidth": 0.8})


def _label_left(label: str, edge: tuple[float, float, float], placed: Layout) -> float:
    """Where a frame's label starts on its top edge: at the left, unless an arrow crosses the edge
    there and the label fits to the right of the arrows (then it would hide a piece of one)."""
    x0, y0, x1 = edge
    width = _text_width(label, "note") + 0.1
    crossings = [xa + (xb - xa) * (y0 - ya) / (yb - ya)
                 for points in placed.routes.values() for (xa, ya), (xb, yb) in zip(points, points[1:])
                 if ya < y0 < yb and x0 < xa + (xb - xa) * (y0 - ya) / (yb - ya) < x1]  # fmt: skip
    left = x0 + 0.12
    if not any(left - 0.05 < x < left + width + 0.05 for x in crossings):
        return left
    right = max(crossings) + 0.12
    return right if right + width < x1 - 0.05 else left


def _draw_edges(ax, placed: Layout, shift: float) -> None:
    from matplotlib.patches import FancyArrowPatch
    from matplotlib.path import Path

    for points in placed.routes.values():
        vertices, codes = [(points[0][0] + shift, points[0][1])], [Path.MOVETO]
        for (xa, ya), (xb, yb) in zip(points, points[1:]):
            middle = (ya + yb) / 2
            vertices += [(xa + shift, middle), (xb + shift, middle), (xb + shift, yb)]
            codes += [Path.CURVE4] * 3
        ax.add_patch(FancyArrowPatch(path=Path(vertices, codes), arrowstyle="-|>,head_length=0.5,head_width=0.25",
                                     mutation_scale=12, color="#4d4d4d", linewidth=1.1, shrinkA=0, shrinkB=0, zorder=2))


def _draw_box(ax, box: Box, at, shift: float) -> None:
    from matplotlib.patches import FancyBboxPatch

    fill, edge = _COLOURS[box.colours]
    x0 = at.x + shift - at.w / 2
    rounding = at.h / 2 if box.role == "output" else 0.06
    ax.add_patch(FancyBboxPatch((x0, at.y), at.w, at.h, boxstyle=f"round,pad=0,rounding_size={rounding:.3f}",
                                facecolor=fill, edgecolor=edge, linewidth=1.6 if box.role in ("input", "output") else 1.1,
                                linestyle="--" if box.role == "augment" else "-", zorder=3))  # fmt: skip
    if box.role == "output":
        ax.text(at.x + shift, at.y + at.h / 2, box.title, fontproperties=_properties("title"), ha="center", va="center",
                color="#6b3d05", zorder=4)
        return
    y = at.y + _PAD_Y + _TITLE_H / 2
    ax.text(at.x + shift, y, box.title, fontproperties=_properties("title"), ha="center", va="center", color="#1a1a1a", zorder=4)
    y += _TITLE_H / 2 + _LINE_H / 2
    for i, line in enumerate(box.lines):
        ax.text(at.x + shift, y, line, fontproperties=_properties(_style(line, i)), ha="center", va="center",
                color="#333333" if i == 0 else "#666666", zorder=4)
        y += _LINE_H


# ---- the whole -----------------------------------------------------------------------------------


def graph_picture(net, path=None, params: dict | None = None, data: dict | None = None) -> Figure:
    """The picture of `net` (a path to a `.net` file, its text, or a `Net` spec), its `param`s at
    `params` (default: their values in the file) and its data-bound names bound from `data` (else
    drawn as names: `(batch, n_classes)`); written to `path` when given (PNG, or SVG or PDF by the
    name's suffix). A program with mistakes raises `NetError`, located as `netdsl check` says it."""
    from netdsl.dsl import analyse, loads, read_source

    text, filename = read_source(net)
    summary = analyse(loads(text, filename), params=params, data=data)
    figure = graph_figure(summary)
    if path is not None:
        write(figure, path)
    return figure


def write(figure: Figure, path) -> None:
    """Write the picture, at fewer dots per inch when it is longer than MAX_PIXELS, or larger than
    MAX_AREA, at the usual."""
    from netdsl.pipelines.figures import DPI

    width, height = figure.get_size_inches()
    save(figure, path, dpi=min(DPI, int(MAX_PIXELS / max(width, height)), int((MAX_AREA / (width * height)) ** 0.5)))
