"""The command line with real files: a damaged data file, a failed write, a file another search is
writing, a closed pipe: one `netdsl: error[CODE]: ...` line and exit 1 (or a quiet exit), never a
traceback, and never a lost or half-written file. Then real CSV files: string feature columns,
unlabelled rows, `--set` and `--scale` in `fit` and `search`, and pictures of a composite model."""

import bz2
import gzip
import io
import lzma
import os
import re
import subprocess
import sys
import zipfile

import numpy as np
import pandas as pd
import pytest

from netdsl.pipelines.cli import main
from netdsl.pipelines.data import DataError, load_data

from conftest import ROOT, TINY, user_error

TINY_SPACE = "net tiny\nparam hidden = 8 in [4, 8]\ndense(hidden, activation=relu)\ndense(n_classes, activation=softmax)\n"


def _fails(argv, capsys) -> str:
    """Run the command line; it must fail with exactly one `netdsl: error[CODE]:` line and exit 1."""
    code = main(argv)
    captured = capsys.readouterr()
    assert code == 1, captured
    assert "Traceback" not in captured.err
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and re.match(r"netdsl: error\[[A-Z]\d{3}\]: ", lines[0]), captured.err
    return lines[0]


def _table(n: int = 2000) -> bytes:
    return ("a,b,y\n" + "".join(f"{i},{i * 2},{i % 2}\n" for i in range(n))).encode()


def _zip(data: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("rows.csv", data)
    return buffer.getvalue()


def _npz(**arrays) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def _damaged(data: bytes, at: int = 50, size: int = 10) -> bytes:
    broken = bytearray(data)
    broken[at : at + size] = b"\x00" * size
    return bytes(broken)


def _cut(data: bytes) -> bytes:
    return data[: len(data) // 2]


# ---- 1. damaged data files -------------------------------------------------------------------------


DAMAGED = {  # file name -> (content, the start of the message)
    "cut.csv.gz": (_cut(gzip.compress(_table())), "cannot decompress `{path}` as gzip (Compressed file ended before"),
    "bad.csv.gz": (_damaged(gzip.compress(_table()), at=100), "cannot decompress `{path}` as gzip ("),
    "cut.csv.bz2": (_cut(bz2.compress(_table())), "cannot decompress `{path}` as bzip2 (Compressed file ended before"),
    "bad.csv.bz2": (_damaged(bz2.compress(_table())), "cannot decompress `{path}` as bzip2 (Invalid data stream)"),
    "cut.csv.xz": (_cut(lzma.compress(_table())), "cannot decompress `{path}` as xz (Compressed file ended before"),
    "bad.csv.xz": (_damaged(lzma.compress(_table())), "cannot decompress `{path}` as xz (Corrupt input data)"),
    "cut.csv.zip": (_cut(_zip(_table())), "cannot decompress `{path}` as zip (File is not a zip file)"),
    "bad.csv.zip": (_damaged(_zip(_table()), at=60, size=20), "cannot decompress `{path}` as zip ("),
    "cut.npz": (_cut(_npz(X=np.zeros((100, 3)), y=np.zeros(100))), "cannot read `{path}` as an .npz archive of arrays"),
    "bad.npz": (_damaged(_npz(X=np.arange(3000.0).reshape(1000, 3), y=np.zeros(1000)), at=400, size=200),
                "cannot read the arrays of `{path}` (Bad CRC-32"),
}  # fmt: skip


@pytest.mark.parametrize("name", list(DAMAGED))
def test_a_damaged_data_file_is_one_clear_error(tiny, tmp_path, capsys, name):
    content, message = DAMAGED[name]
    path = tmp_path / name
    path.write_bytes(content)
    line = _fails(["fit", str(tiny), "--data", str(path)], capsys)
    assert message.format(path=path) in line


def test_a_zst_file_without_zstandard_says_what_to_install(tiny, tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "zstandard", None)  # as if not installed (import fails)
    path = tmp_path / "rows.csv.zst"
    path.write_bytes(b"\x28\xb5\x2f\xfd" + bytes(20))
    line = _fails(["fit", str(tiny), "--data", str(path)], capsys)
    assert line == (
        f"netdsl: error[D101]: reading the zstandard file `{path}` needs the `zstandard` package: "
        "`pip install zstandard`, or decompress the file first"
    )


class _Hostile:
    """Unpickling this creates the marker file: proof that code from the data file ran."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_an_npz_with_an_object_array_is_refused_without_running_it(tiny, tmp_path, capsys):
    marker = tmp_path / "pwned"
    path = tmp_path / "hostile.npz"
    X = np.empty(3, dtype=object)
    X[:] = [_Hostile(marker)] * 3
    path.write_bytes(_npz(X=X, y=np.zeros(3)))
    line = _fails(["fit", str(tiny), "--data", str(path)], capsys)
    assert "hold Python objects, which are read by unpickling (running code from the file), which netdsl never does" in line
    with user_error(DataError, match="never does"):
        load_data(str(path))
    assert not marker.exists()


def test_an_npz_that_unpacks_beyond_memory_is_refused_before_reading(tmp_path, monkeypatch):
    import netdsl.dsl.shapes

    path = tmp_path / "big.npz"
    np.savez_compressed(path, X=np.zeros((1000, 8)), y=np.zeros(1000))  # 64 KB of zeros: 100x smaller
    assert load_data(str(path)).X.shape == (1000, 8)
    monkeypatch.setattr(netdsl.dsl.shapes, "memory_limit", lambda: 32_000)  # a machine smaller than the arrays
    with user_error(DataError, match=r"unpack to 0\.0 GiB, more than this machine's memory"):
        load_data(str(path))


@pytest.mark.parametrize(
    "content, message",
    [
        ("", "is empty: a CSV file needs a header row and at least one row of data"),
        ("a,b,y\n", "has a header but no rows of data"),
    ],
)
def test_empty_and_header_only_csv(tiny, tmp_path, capsys, content, message):
    path = tmp_path / "rows.csv"
    path.write_text(content)
    assert message in _fails(["fit", str(tiny), "--data", str(path)], capsys)


def test_plot_search_of_a_damaged_results_file_and_plot_of_a_folder(tmp_path, capsys):
    results = tmp_path / "results.csv.gz"
    results.write_bytes(_cut(gzip.compress(_table())))
    line = _fails(["plot", "search", str(results), "--out", str(tmp_path / "search.png")], capsys)
    assert f"cannot decompress `{results}` as gzip" in line
    folder = tmp_path / "model"
    folder.mkdir()
    line = _fails(["plot", "curves", str(folder), "--out", str(tmp_path / "curves.png")], capsys)
    assert line.startswith(f"netdsl: error[D101]: is a folder, not a model file: `{folder}`")


def test_a_date_feature_column_is_refused_with_what_to_do():
    from netdsl.pipelines.data import _features

    frame = pd.DataFrame({"day": pd.to_datetime(["2024-01-01", "2024-01-02"]), "x": [1.0, 2.0]})
    with user_error(DataError, match=r"the feature column\(s\) `day` of `rows.parquet` hold dates or durations; turn them into numbers"):
        _features(frame, "rows.parquet")


# ---- 3. failed writes leave the old file whole ---------------------------------------------------------

LIMITED = """
import contextlib, io, json, resource, signal, sys
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit raises OSError (EFBIG)
size, commands = int(sys.argv[1]), json.loads(sys.argv[2])
unlimited, hard = resource.getrlimit(resource.RLIMIT_FSIZE)

def limit(to):
    resource.setrlimit(resource.RLIMIT_FSIZE, (to, hard))

if any(argv[0] in ("predict", "plot") for argv in commands):
    # Keras unpacks a saved model through temporary files: the limit starts once the model is read
    import netdsl.estimators as estimators

    read = estimators.load

    def load_then_limit(path):
        model = read(path)
        limit(size)
        return model

    estimators.load = load_then_limit
from netdsl.pipelines.cli import main

for argv in commands:
    if argv[0] not in ("predict", "plot"):
        limit(size)
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        code = main(argv)
    limit(unlimited)
    print(json.dumps([code, err.getvalue()]), flush=True)
"""


def _limited(size: int, commands, cwd=None) -> list:
    """(exit code, stderr) of each `netdsl ARGV` of `commands`, run in one fresh process where no
    file larger than `size` bytes may be written while a command runs."""
    import json

    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    argv = json.dumps([[str(a) for a in command] for command in commands])
    done = subprocess.run([sys.executable, "-c", LIMITED, str(size), argv], capture_output=True, text=True,
                          env=env, cwd=cwd)  # fmt: skip
    assert done.returncode == 0, done.stderr
    return [tuple(json.loads(line)) for line in done.stdout.splitlines() if line.startswith("[")]


def test_fmt_under_a_file_size_limit_keeps_the_file(tmp_path):
    path = tmp_path / "messy.net"
    path.write_text("net   messy\n" + "dense( 10 ,activation = relu )   # a layer\n" * 120)
    before = path.read_bytes()
    assert _limited(1024, [["fmt", path]]) == [(1, f"{path}: error[N104]: cannot write the file: File too large; it is unchanged\n")]
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["messy.net"]  # no temporary file left behind
    assert main(["fmt", str(path)]) == 0 and path.read_bytes() != before  # without the limit it is rewritten


def test_predict_save_plot_and_search_under_a_file_size_limit_keep_the_old_files(tiny, tmp_path):
    model = tmp_path / "iris.model"
    assert main(["fit", str(tiny), "--data", "iris", "--epochs", "1", "--quiet", "--save", str(model)]) == 0
    rows = tmp_path / "rows.csv"
    pd.concat([pd.DataFrame(load_data("iris").X)] * 40).to_csv(rows, index=False)  # 6,000 rows to predict
    old = {name: f"old {name}\n".encode() * 10 for name in ("predictions.csv", "curves.png", "again.model", "results.csv")}
    for name, content in old.items():
        (tmp_path / name).write_bytes(content)
    space = tmp_path / "space.net"
    space.write_text(TINY_SPACE)
    runs = {
        "predictions.csv": ["predict", model, "--data", rows, "--no-target", "--out", tmp_path / "predictions.csv"],
        "curves.png": ["plot", "curves", model, "--out", tmp_path / "curves.png"],
        "again.model": ["fit", tiny, "--data", "iris", "--epochs", "1", "--quiet", "--save", tmp_path / "again.model"],
        "results.csv": ["search", space, "--data", "iris", "--cv", "2", "--epochs", "1", "--quiet",
                        "--out", tmp_path / "results.csv"],
    }  # fmt: skip
    for name, (code, err) in zip(runs, _limited(200, list(runs.values()), cwd=tmp_path)):
        assert code == 1, (name, err)
        assert "Traceback" not in err
        assert err.startswith("netdsl: error[D101]: ") and "File too large" in err, (name, err)
        assert len(err.strip().splitlines()) == 1, (name, err)
        assert (tmp_path / name).read_bytes() == old[name], name
    assert not [name for name in os.listdir(tmp_path) if name.startswith(".") and not name.endswith(".lock")]


# ---- 4. two searches, one results file ----------------------------------------------------------------

HOLD = """
import sys
from netdsl.pipelines.search import results_lock
with results_lock(sys.argv[1]):
    print("held", flush=True)
    sys.stdin.read()  # until the test closes our stdin
"""


def test_a_search_refuses_a_results_file_another_search_is_writing(tmp_path, capsys):
    space = tmp_path / "space.net"
    space.write_text(TINY_SPACE)
    results = tmp_path / "results.csv"
    results.write_text("candidate,param_hidden\n0,4\n")  # the other search's first row
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(results)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline() == "held\n"
        line = _fails(["search", str(space), "--data", "iris", "--cv", "2", "--epochs", "1", "--out", str(results)], capsys)
        assert line == (
            f"netdsl: error[S101]: another netdsl search is writing its results to `{results}`; wait for it to finish, "
            "or give this search another file (--out FILE.csv)"
        )
        assert results.read_text() == "candidate,param_hidden\n0,4\n"
    finally:
        holder.stdin.close()
        holder.wait(timeout=60)
    assert holder.returncode == 0
    # once the other search is done, the file is free
    from netdsl.pipelines.search import results_lock

    with results_lock(results):
        pass


def test_two_concurrent_searches_on_one_file_keep_one_whole_table(tmp_path):
    space = tmp_path / "space.net"
    space.write_text(TINY_SPACE)
    results = tmp_path / "results.csv"
    argv = [sys.executable, "-m", "netdsl.pipelines.cli", "search", str(space), "--data", "iris", "--cv", "2",
            "--epochs", "1", "--quiet", "--test-size", "0", "--out", str(results)]  # fmt: skip
    first, second = (subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2))
    outcomes = sorted((p.wait(timeout=300), p.stderr.read()) for p in (first, second))
    codes = [code for code, _ in outcomes]
    assert 0 in codes, outcomes
    refused = [err for code, err in outcomes if code == 1]
    assert all("another netdsl search is writing its results" in err and "Traceback" not in err for err in refused)
    frame = pd.read_csv(results)
    assert sorted(frame["param_hidden"]) == [4, 8] and frame["mean_test_score"].notna().all()


# ---- 5. search --plots naming a file, and other paths that cannot be written ----------------------


@pytest.mark.parametrize(
    "option, make, message",
    [
        ("--plots", "file", "--plots `{path}` is a file; name a folder for the pictures (made if missing)"),
        ("--out", "folder", "--out `{path}` is a folder; name a CSV file"),
        ("--save", "folder", "--save `{path}` is a folder; name a model file"),
    ],
)
def test_search_refuses_outputs_it_cannot_write_before_any_work(tmp_path, capsys, option, make, message):
    space = tmp_path / "space.net"
    space.write_text(TINY_SPACE)
    path = tmp_path / "taken"
    path.write_text("mine") if make == "file" else path.mkdir()
    argv = ["search", str(space), "--data", "iris", "--out", str(tmp_path / "results.csv"), option, str(path)]
    assert _fails(argv, capsys) == "netdsl: error[S101]: " + message.format(path=path)
    assert not (tmp_path / "results.csv").exists()
    assert make == "folder" or path.read_text() == "mine"


def test_predict_and_fit_refuse_a_folder_as_a_file(tiny, tmp_path, capsys):
    folder = tmp_path / "folder"
    folder.mkdir()
    assert "is a folder, not a model file" in _fails(["predict", str(folder), "--data", "iris"], capsys)
    assert "is a folder" in _fails(["fit", str(tiny), "--data", str(folder)], capsys)


def test_fit_and_predict_refuse_to_write_over_what_they_read(tiny, tmp_path, capsys, monkeypatch):
    """`fit --save` naming the .net or data file, `predict --out` naming the model or data file
    (by any spelling of its path): one C101 line before any work, and the file unchanged."""
    monkeypatch.chdir(tmp_path)
    data, model = tmp_path / "rows.csv", tmp_path / "kept.model"
    data.write_bytes(_table(20))
    assert main(["fit", str(tiny), "--data", str(data), "--epochs", "1", "--quiet", "--save", str(model)]) == 0
    (tmp_path / "sub").mkdir()
    before = {path: path.read_bytes() for path in (tiny, data, model)}
    cases = [
        (["fit", tiny, "--data", data, "--save", "./tiny.net"], "--save `tiny.net` is the .net file itself"),
        (["fit", tiny, "--data", "rows.csv", "--save", data], f"--save `{data}` is the data file itself"),
        (["predict", model, "--data", data, "--out", "sub/../kept.model"], "--out `sub/../kept.model` is the model file itself"),
        (["predict", model, "--data", data, "--out", data], f"--out `{data}` is the data file itself"),
    ]
    for argv, message in cases:
        said = _fails([str(a) for a in argv], capsys)
        assert said == f"netdsl: error[C101]: {message}; name another file"
    assert {path: path.read_bytes() for path in before} == before


# ---- 6. --set: one parser, any estimator setting -----------------------------------------------------


def test_fit_set_epochs_works_and_agrees_with_the_option(tiny, capsys):
    code = main(["fit", str(tiny), "--data", "iris", "--set", "epochs=1", "--quiet", "--test-size", "0"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "epochs run: 1" in captured.out
    line = _fails(["fit", str(tiny), "--data", "iris", "--set", "epochs=1", "--epochs", "2"], capsys)
    assert line == "netdsl: error[D101]: --set epochs=1 and --epochs 2 disagree; give one of them"


@pytest.mark.parametrize(
    "command, options",
    [("show", []), ("fit", ["--data", "iris"]), ("search", ["--data", "iris", "--grid", "epochs=1"])],
)
def test_every_command_parses_set_alike(tiny, tmp_path, monkeypatch, capsys, command, options):
    monkeypatch.chdir(tmp_path)
    line = _fails([command, str(tiny), *options, "--set", "hidden"], capsys)
    assert line == "netdsl: error[D101]: --set takes NAME=VALUE, got 'hidden'"


# ---- 7. real CSV files --------------------------------------------------------------------------------


def _shop(n: int = 120, seed: int = 0) -> pd.DataFrame:
    """A table with a string feature column whose value decides the class."""
    rng = np.random.default_rng(seed)
    colour = np.array(["red", "green", "blue"])[np.arange(n) % 3]
    return pd.DataFrame({"colour": colour, "size": rng.normal(size=n), "weight": rng.normal(size=n),
                         "kind": np.where(colour == "red", "apple", "pear")})  # fmt: skip


def test_string_columns_are_one_hot_encoded_and_predict_finds_columns_by_name(tmp_path, capsys):
    net = tmp_path / "shop.net"
    net.write_text(TINY.replace("epochs = 2", "epochs = 30"))
    train = tmp_path / "shop.csv"
    _shop().to_csv(train, index=False)
    model = tmp_path / "shop.model"
    code = main(["fit", str(net), "--data", str(train), "--learning-rate", "0.05", "--quiet", "--save", str(model)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "one-hot encoded: colour" in captured.out

    # unlabelled rows, columns in another order, an extra column, a colour never seen in training
    new = _shop(n=9, seed=1).drop(columns="kind")[["weight", "colour", "size"]]
    new.insert(0, "id", range(len(new)))
    new.loc[8, "colour"] = "purple"
    rows = tmp_path / "new.csv"
    new.to_csv(rows, index=False)
    out = tmp_path / "predictions.csv"
    code = main(["predict", str(model), "--data", str(rows), "--out", str(out)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    frame = pd.read_csv(out)
    assert list(frame.columns) == ["prediction"]  # no target column in the file: predictions only
    expected = np.where(new["colour"] == "red", "apple", "pear")
    assert (frame["prediction"][:8] == expected[:8]).all()
    assert frame["prediction"][8] in ("apple", "pear")

    # a labelled file: its target column (found by name) is scored
    labelled = tmp_path / "labelled.csv"
    _shop(n=30, seed=2)[["kind", "size", "colour", "weight"]].to_csv(labelled, index=False)
    assert main(["predict", str(model), "--data", str(labelled)]) == 0
    assert "accuracy (on all rows): 1.0000" in capsys.readouterr().out

    # a file without one of the model's feature columns: named, with a close match
    _shop(n=5).rename(columns={"colour": "color"}).to_csv(rows, index=False)
    line = _fails(["predict", str(model), "--data", str(rows)], capsys)
    assert "lacks the feature column `colour` the model was trained on: did you mean `color`?" in line


def test_predict_on_unlabelled_rows_of_a_numeric_table_needs_no_flag(tiny, tmp_path, capsys):
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"a": rng.normal(size=60), "b": rng.normal(size=60), "c": rng.normal(size=60)})
    frame["label"] = (frame["a"] > 0).astype(int)
    train = tmp_path / "train.csv"
    frame.to_csv(train, index=False)
    model = tmp_path / "numbers.model"
    assert main(["fit", str(tiny), "--data", str(train), "--quiet", "--save", str(model)]) == 0
    capsys.readouterr()
    rows = tmp_path / "rows.csv"
    frame.drop(columns="label").head(7).to_csv(rows, index=False)  # three feature columns, no label
    code = main(["predict", str(model), "--data", str(rows)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "predictions on rows" in captured.out and "accuracy" not in captured.out  # nothing to score against


def test_search_takes_set_and_scale_on_a_csv_with_strings(tmp_path, capsys):
    space = tmp_path / "space.net"
    space.write_text(TINY_SPACE)
    train = tmp_path / "shop.csv"
    _shop().to_csv(train, index=False)
    results = tmp_path / "results.csv"
    model = tmp_path / "best.model"
    code = main(["search", str(space), "--data", str(train), "--cv", "2", "--set", "epochs=1", "--scale",
                 "--quiet", "--out", str(results), "--save", str(model)])  # fmt: skip
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "scaled: features standardised on the training rows" in captured.out
    assert "one-hot encoded: colour" in captured.out
    assert len(pd.read_csv(results)) == 2
    assert main(["predict", str(model), "--data", str(train)]) == 0
    assert "accuracy (on all rows):" in capsys.readouterr().out


def test_plots_of_a_scaled_model_find_its_net(tiny, tmp_path, capsys):
    model = tmp_path / "scaled.model"
    assert main(["fit", str(tiny), "--data", "iris", "--scale", "--quiet", "--save", str(model)]) == 0
    capsys.readouterr()
    for what, extra in (("curves", []), ("confusion", ["--data", "iris"]), ("saliency", ["--data", "iris", "--sample", "3"])):
        out = tmp_path / f"{what}.png"
        code = main(["plot", what, str(model), "--out", str(out), *extra])
        captured = capsys.readouterr()
        assert code == 0, captured.err
        assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# ---- 8. the names the pipelines issue gave -------------------------------------------------------------


def test_search_functions_are_exported_by_the_package_without_tensorflow():
    code = (
        "import sys\nfrom netdsl.pipelines import search_space, grid_search, load_data\n"
        "print(search_space('examples/digits_cnn.net'))\n"
        "print(any(m.split('.')[0] in ('tensorflow', 'keras') for m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT).stdout
    assert out == "{'filters': [8, 16, 32], 'depth': [1, 2]}\nFalse\n"


# ---- 9. a closed pipe ----------------------------------------------------------------------------------


@pytest.mark.parametrize("json", [True, False])
def test_show_into_a_closed_pipe_exits_quietly(tmp_path, json):
    net = tmp_path / "deep.net"
    net.write_text("net deep\ninput (8)\n" + "dense(8, activation=relu)\n" * 400)  # output beyond a pipe's buffer
    command = f"{sys.executable} -m netdsl.pipelines.cli show {net}{' --json' if json else ''} 2>{tmp_path / 'err'} | head -n 1"
    done = subprocess.run(["bash", "-c", command], capture_output=True, text=True, timeout=120)
    assert done.stdout.strip()
    assert (tmp_path / "err").read_text() == ""
