"""`netdsl plot graph`: the picture of a network, drawn without TensorFlow.

Every example is drawn in a process where TensorFlow and Keras cannot be imported; the layout of
the graph examples is checked without drawing (edges go down, boxes apart, merges below what they
read, the residual's skip drawn inside its frame); the text in the boxes is the analysis's.
"""

import json
import struct
import subprocess
import sys

import pytest

from netdsl.dsl import analyse, load, loads
from netdsl.dsl.shapes.text import batch_text
from netdsl.pipelines.cli import main
from netdsl.pipelines.graph_picture import diagram, graph_figure, graph_picture, place

from conftest import DATA, EXAMPLES, ROOT

GRAPHS = [ROOT / "examples" / f"{name}.net" for name in ("resnet_digits", "two_heads", "reviews_meta")] + [
    DATA / "valid" / f"{name}.net" for name in ("graph_two_towers", "graph_merges", "graph_repeat_names")
]

# Runs in a fresh interpreter: TensorFlow and Keras blocked (the block itself checked), then
# `netdsl plot graph` on each file named in argv; says what it found as JSON (pyplot, which would
# choose a backend for the whole process, is never imported either).
_WITHOUT_TENSORFLOW = """
import json, sys
sys.modules["tensorflow"] = sys.modules["keras"] = None  # `import tensorflow` raises ImportError
try:
    import tensorflow
    blocked = False
except ImportError:
    blocked = True
from netdsl.pipelines.cli import main
out = sys.argv[1]
codes = [main(["plot", "graph", path, "--out", f"{out}/{i}.png"]) for i, path in enumerate(sys.argv[2:])]
print(json.dumps({"blocked": blocked, "codes": codes, "pyplot": "matplotlib.pyplot" in sys.modules,
                  "loaded": sorted(m for m in ("tensorflow", "keras") if sys.modules.get(m) is not None)}))
"""


def _png_size(path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    return struct.unpack(">II", data[16:24])


def test_every_example_is_drawn_without_tensorflow(tmp_path):
    examples = [str(path) for path in EXAMPLES]
    assert len(examples) >= 12
    run = subprocess.run([sys.executable, "-c", _WITHOUT_TENSORFLOW, str(tmp_path), *examples],
                         capture_output=True, text=True, cwd=ROOT, timeout=120)  # fmt: skip
    assert run.returncode == 0, run.stderr
    found = json.loads(run.stdout.splitlines()[-1])
    assert found == {"blocked": True, "codes": [0] * len(examples), "pyplot": False, "loaded": []}
    for i, path in enumerate(EXAMPLES):
        width, height = _png_size(tmp_path / f"{i}.png")
        assert width >= 150 and height >= 300, (path.name, width, height)
        assert (tmp_path / f"{i}.png").stat().st_size > 10_000, path.name


def _layout(path):
    summary = analyse(load(path))
    picture = diagram(summary)
    return summary, picture, place(picture)


@pytest.mark.parametrize("path", GRAPHS, ids=lambda p: p.stem)
def test_edges_go_down_and_boxes_do_not_overlap(path):
    _, picture, placed = _layout(path)
    assert set(placed.boxes) == {box.key for box in picture.boxes}
    for (a, b), points in placed.routes.items():
        assert points[0][1] == placed.boxes[a].bottom and points[-1][1] == placed.boxes[b].y
        assert placed.boxes[a].bottom < placed.boxes[b].y, (a, b)
        assert all(y1 <= y2 for (_, y1), (_, y2) in zip(points, points[1:])), (a, b)
    boxes = list(placed.boxes.items())
    for i, (key, one) in enumerate(boxes):
        assert one.x - one.w / 2 >= 0 and one.x + one.w / 2 <= placed.width and one.bottom <= placed.height
        for other_key, other in boxes[i + 1 :]:
            apart = (abs(one.x - other.x) >= (one.w + other.w) / 2 + 0.1
                     or one.bottom + 0.1 <= other.y or other.bottom + 0.1 <= one.y)  # fmt: skip
            assert apart, (key, other_key)


@pytest.mark.parametrize("path", GRAPHS, ids=lambda p: p.stem)
def test_a_merge_is_below_every_point_it_reads_and_frames_nest(path):
    summary, _, placed = _layout(path)
    merges = [row for row in summary.rows if len(row.inputs) > 1]
    assert merges or path.stem in ("two_heads", "graph_repeat_names")
    for row in merges:
        for point in row.inputs:
            assert placed.boxes[point].bottom < placed.boxes[row.name].y, (point, row.name)
    rects = [rect for _, rect in placed.frames]
    for frame, (x0, y0, x1, y1) in placed.frames:
        for member in frame.members:
            box = placed.boxes[member]
            assert x0 < box.x - box.w / 2 and box.x + box.w / 2 < x1 and y0 < box.y and box.bottom < y1
    for i, a in enumerate(rects):
        for b in rects[i + 1 :]:
            inside = a[0] <= b[0] and a[1] <= b[1] and b[2] <= a[2] and b[3] <= a[3]
            apart = a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1]
            assert inside or apart, (a, b)


def test_the_residual_skip_is_drawn_beside_the_block_inside_its_frame():
    _, _, placed = _layout(ROOT / "examples" / "resnet_digits.net")
    frames = [(frame, rect) for frame, rect in placed.frames if frame.kind == "residual"]
    assert [frame.members for frame, _ in frames] == [("conv2d_1", "conv2d_2", "add"),
                                                      ("conv2d_3", "conv2d_4", "conv2d_5", "add_1")]  # fmt: skip
    assert [frame.label for frame, _ in placed.frames] == ["augment", "repeat blocks (\u00d71)", "residual", "residual", "skip"]
    skip = placed.routes[("conv2d", "add")]  # the identity skip: from the stem to the first add
    x0, y0, x1, y1 = frames[0][1]
    assert len(skip) == 2 + 2 * 2  # through the two layers of the block
    for x, y in skip[1:-1]:
        assert x0 < x < x1 and y0 < y < y1
        body = [placed.boxes[name] for name in ("conv2d_1", "conv2d_2")]
        assert all(abs(x - box.x) > box.w / 2 for box in body)  # beside the block, not through it
    projection = placed.routes[("activation", "conv2d_5")]  # the skip { } of the second block
    assert projection[-1][1] == placed.boxes["conv2d_5"].y


def test_the_boxes_say_what_the_analysis_says():
    summary = analyse(load(ROOT / "examples" / "two_heads.net"))
    picture = diagram(summary)
    by_key = {box.key: box for box in picture.boxes}
    for row in summary.rows:
        box = by_key[row.name]
        assert row.kind in box.title
        assert box.lines == (batch_text(row.output_shape), f"{row.params:,} params")
    assert [(box.key, box.title, box.lines) for box in picture.boxes if box.role != "layer"] == [
        ("image", "input image", ("(batch, 8, 8, 1)",)),
        ("digit (output)", "output digit", ()),
        ("even (output)", "output even", ()),
    ]
    assert (by_key["trunk"].title, by_key["trunk"].lines) == ("trunk = dense", ("(batch, 64)", "16,448 params"))
    assert by_key["conv2d"].title == "conv2d"  # an automatic name is not repeated
    assert picture.edges[-4:-2] == (("trunk", "digit"), ("trunk", "even"))
    assert picture.totals == "17,323 params"
    texts = [text.get_text() for text in graph_figure(summary).axes[0].texts]
    assert "net two_heads" in texts and "trunk = dense" in texts and "16,448 params" in texts and "(batch, 10)" in texts


def test_a_merge_of_one_point_twice_is_one_arrow():
    picture = diagram(analyse(load(DATA / "valid" / "graph_merges.net")))
    assert picture.edges.count(("joined", "cosine")) == 2  # `cosine = dot(joined, joined, axes=1)`
    placed = place(picture)
    assert ("joined", "cosine") in placed.routes and len(placed.routes) == len(set(picture.edges))


def test_frozen_pretrained_and_augment_layers_are_marked():
    picture = diagram(analyse(load(ROOT / "examples" / "digits_finetune.net")))
    by_key = {box.key: box for box in picture.boxes}
    assert by_key["conv_1"].lines == ("(batch, 8, 8, 16)", "160 params, frozen")
    assert picture.totals == "13,381 params, 8,581 trainable"
    assert [(frame.label, frame.members[0]) for frame in picture.frames] == [("pretrained from digits_0to4.keras", "scale")]
    cnn = diagram(analyse(load(ROOT / "examples" / "digits_cnn.net")))
    assert cnn.edges[:3] == (("input", "random_rotation"), ("random_rotation", "random_translation"),
                             ("random_translation", "conv2d"))  # fmt: skip
    assert [box.role for box in cnn.boxes][:3] == ["input", "augment", "augment"]


def test_the_picture_is_the_same_every_time_and_svg_and_pdf_are_written(tmp_path):
    net = ROOT / "examples" / "resnet_digits.net"
    graph_picture(net, path=tmp_path / "a.png")
    graph_picture(net, path=tmp_path / "b.png")
    assert (tmp_path / "a.png").read_bytes() == (tmp_path / "b.png").read_bytes()
    for suffix, start in ((".svg", b"<?xml"), (".pdf", b"%PDF")):
        graph_picture(net, path=tmp_path / f"a{suffix}", params={"blocks": 2})
        first = (tmp_path / f"a{suffix}").read_bytes()
        graph_picture(net, path=tmp_path / f"a{suffix}", params={"blocks": 2})
        assert first.startswith(start) and (tmp_path / f"a{suffix}").read_bytes() == first
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.pdf", "a.png", "a.svg", "b.png"]  # no temporary left


def test_the_command_writes_beside_the_current_folder_by_default(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["plot", "graph", str(ROOT / "examples" / "resnet_digits.net"), "--set", "blocks=2"]) == 0
    assert "(18 layers) to resnet_digits_graph.png" in capsys.readouterr().out
    assert _png_size(tmp_path / "resnet_digits_graph.png")[1] > _png_size_of_default()[1]


def _png_size_of_default() -> tuple[int, int]:
    figure = graph_figure(analyse(load(ROOT / "examples" / "resnet_digits.net")))
    width, height = figure.get_size_inches() * figure.dpi
    return int(width), int(height)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nope.net"], "nope.net: error[N101]: cannot read the file: No such file or directory"),
        (["{bad}"], "bad.net:3:10: error[N204]: unknown argument `activaton` for `dense`"),
        (["{good}", "--out", "x.jpg"], "netdsl: error[C101]: --out must name a .png, .svg or .pdf file, got `x.jpg`"),
        (["{good}", "--set", "size"], "netdsl: error[D101]: --set takes NAME=VALUE, got 'size'"),
        (["{good}", "--set", "nope=2"], "good.net: error[N507]: unknown parameter `nope`"),
    ],
)
def test_mistakes_are_located_errors_and_write_nothing(tmp_path, monkeypatch, capsys, args, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "bad.net").write_text("net bad\ninput (4)\ndense(3, activaton=relu)\n")
    (tmp_path / "good.net").write_text("net good\ninput (4)\ndense(3, activation=relu)\n")
    args = [arg.format(bad=tmp_path / "bad.net", good="good.net") for arg in args]
    assert main(["plot", "graph", *args]) == 1
    assert message in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.net", "good.net"]


def test_set_is_refused_for_the_other_pictures(capsys):
    assert main(["plot", "curves", "some.model", "--set", "a=1"]) == 1
    assert "netdsl: error[C101]: --set applies to `netdsl plot graph`, not `curves`" in capsys.readouterr().err


def test_a_saved_model_is_drawn_as_its_net(tmp_path, capsys):
    import numpy as np

    from netdsl.estimators import NetRegressor

    source = "net tiny\ninput (3)\nhidden = dense(4, activation=relu)\ndense(1)\n"
    X = np.random.default_rng(0).normal(size=(20, 3))
    NetRegressor(source, epochs=1, random_state=0).fit(X, X.sum(axis=1)).save(tmp_path / "tiny.model")
    (tmp_path / "tiny.net").write_text(source)
    assert main(["plot", "graph", str(tmp_path / "tiny.model"), "--out", str(tmp_path / "model.png")]) == 0
    assert main(["plot", "graph", str(tmp_path / "tiny.net"), "--out", str(tmp_path / "net.png")]) == 0
    assert (tmp_path / "model.png").read_bytes() == (tmp_path / "net.png").read_bytes()
    assert main(["plot", "graph", str(tmp_path / "tiny.model"), "--set", "a=1"]) == 1
    assert "--set applies to a .net file" in capsys.readouterr().err


def test_a_saved_model_with_a_pretrained_base_is_drawn_from_anywhere(tmp_path, monkeypatch):
    from sklearn.datasets import load_digits

    from netdsl.estimators import NetClassifier

    X, y = load_digits(return_X_y=True)
    X, y = X[y >= 5][:60] / 16.0, y[y >= 5][:60]
    net = ROOT / "examples" / "digits_finetune.net"  # `pretrained("models/digits_0to4.keras")`, beside the file
    NetClassifier(str(net), epochs=1, random_state=0).fit(X, y).save(tmp_path / "finetuned.model")
    monkeypatch.chdir(tmp_path)  # where no `models/` folder is
    assert main(["plot", "graph", "finetuned.model", "--out", "model.png"]) == 0
    assert main(["plot", "graph", str(net), "--out", "net.png"]) == 0
    assert (tmp_path / "model.png").read_bytes() == (tmp_path / "net.png").read_bytes()


def test_parallel_branches_are_drawn_in_the_order_they_are_written():
    text = (
        "net branches\ninput (8, 8, 3)\nstem = conv2d(4, 3, padding=same)\na = conv2d(2, 1)\n"
        "from stem\nb1 = conv2d(2, 1)\nb = conv2d(2, 3, padding=same)\nfrom stem\nc1 = conv2d(2, 1)\nc = conv2d(2, 3, padding=same)\n"
        "concatenate(a, b, c)\nflatten\ndense(1)\n"
    )
    placed = place(diagram(analyse(loads(text))))
    assert placed.boxes["a"].layer == placed.boxes["b"].layer == placed.boxes["c"].layer  # beside the merge
    assert placed.boxes["a"].x < placed.boxes["b"].x < placed.boxes["c"].x
    assert placed.boxes["b1"].x < placed.boxes["c1"].x
    assert placed.routes[("stem", "a")][1][0] < placed.boxes["b1"].x  # the long edge to `a` on the left


def test_a_picture_wide_and_long_is_drawn_within_the_area_bound(tmp_path):
    # 60 nested `residual` blocks drew a 14,962 x 19,912 PNG (298 million pixels, 1.3 GB to draw):
    # each side under MAX_PIXELS, the whole far beyond what Pillow opens.
    from netdsl.pipelines.figures import new_figure
    from netdsl.pipelines.graph_picture import MAX_AREA, MAX_PIXELS, write

    figure = new_figure(150, 200)
    path = tmp_path / "large.png"
    write(figure, path)
    width, height = struct.unpack(">II", path.read_bytes()[16:24])  # the PNG's IHDR
    assert width * height <= MAX_AREA and max(width, height) <= MAX_PIXELS
    assert width * height > MAX_AREA / 2  # drawn as large as allowed, not shrunk further
