"""`netdsl.pipelines.data`: built-in sets, CSV/Parquet/npz files, series windows, task inference, errors."""

import importlib.util
import subprocess
import sys

import re

import numpy as np
import pandas as pd
import pytest

from netdsl.pipelines.data import BUILTINS, PACKAGED, DataError, Dataset, infer_task, load_data

from conftest import ROOT, user_error

HAS_PARQUET = any(importlib.util.find_spec(name) is not None for name in ("pyarrow", "fastparquet"))


# ---- built-in sets -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "shape", "task", "n_classes"),
    [
        ("digits", (1797, 64), "classification", 10),
        ("iris", (150, 4), "classification", 3),
        ("wine", (178, 13), "classification", 3),
        ("breast_cancer", (569, 30), "classification", 2),
        ("diabetes", (442, 10), "regression", None),
    ],
)
def test_builtin_sets_load_with_task_and_shapes(name, shape, task, n_classes):
    data = load_data(name)
    assert isinstance(data, Dataset)
    assert data.name == name
    assert data.X.shape == shape
    assert data.y.shape == (shape[0],)
    assert data.task == task
    assert len(data.feature_names) == shape[1]
    if n_classes is None:
        assert data.target_names is None
    else:
        assert len(np.unique(data.y)) == n_classes
        assert len(data.target_names) == n_classes


def test_builtins_are_all_tested():
    assert set(BUILTINS) == {"digits", "iris", "wine", "breast_cancer", "diabetes", "sunspots", "reviews",
                             "reviews_meta", "digits_two_heads", "digits_noisy"}
    # the packaged real sets are tested in test_sequences.py (sunspots) and test_text.py (reviews),
    # the sets derived for the graph examples in test_graph_examples.py
    assert set(PACKAGED) == {"sunspots", "reviews"}


def test_builtin_names_are_forgiving_and_label_names_read_well():
    data = load_data("Breast-Cancer")
    assert data.name == "breast_cancer"
    iris = load_data("iris")
    assert iris.label_name(0) == "setosa"
    assert iris.label_name(np.int64(2)) == "virginica"


def test_builtin_without_target():
    data = load_data("iris", has_target=False)
    assert data.y is None and data.task is None and data.X.shape == (150, 4)


# ---- files -------------------------------------------------------------------------------------


def _flowers(n=60, seed=0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    species = np.array(["setosa", "versicolor", "virginica"])[np.arange(n) % 3]
    return pd.DataFrame(
        {
            "length": rng.normal(size=n) + (species == "virginica"),
            "width": rng.normal(size=n),
            "species": species,
        }
    )


def test_csv_with_string_labels_in_the_last_column(tmp_path):
    path = tmp_path / "flowers.csv"
    _flowers().to_csv(path, index=False)
    data = load_data(str(path))
    assert data.name == "flowers"
    assert data.task == "classification"
    assert data.X.shape == (60, 2) and data.X.dtype == float
    assert data.feature_names == ["length", "width"]
    assert data.target == "species"
    assert sorted(set(data.y)) == ["setosa", "versicolor", "virginica"]
    assert all(isinstance(v, str) for v in data.y)


def test_csv_named_target_column_and_regression(tmp_path):
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"price": rng.normal(size=50) * 100, "a": rng.normal(size=50), "b": rng.integers(0, 3, 50)})
    path = tmp_path / "houses.csv"
    frame.to_csv(path, index=False)
    data = load_data(str(path), target="price")
    assert data.task == "regression"
    assert data.feature_names == ["a", "b"]
    np.testing.assert_allclose(data.y, frame["price"].to_numpy())


def test_tsv_and_compressed_csv(tmp_path):
    frame = _flowers()
    frame.to_csv(tmp_path / "f.tsv", sep="\t", index=False)
    frame.to_csv(tmp_path / "f.csv.gz", index=False)
    for name in ("f.tsv", "f.csv.gz"):
        data = load_data(str(tmp_path / name))
        assert data.X.shape == (60, 2) and data.task == "classification"


def test_single_text_column_gives_strings(tmp_path):
    frame = pd.DataFrame({"text": ["good film", "bad film", "great", "awful"] * 5, "label": [1, 0, 1, 0] * 5})
    path = tmp_path / "reviews.csv"
    frame.to_csv(path, index=False)
    data = load_data(str(path))
    assert data.X.shape == (20,) and data.X.dtype == object
    assert data.X[0] == "good film"
    assert data.task == "classification"


def test_file_without_target(tmp_path):
    path = tmp_path / "features.csv"
    _flowers().drop(columns=["species"]).to_csv(path, index=False)
    data = load_data(str(path), has_target=False)
    assert data.X.shape == (60, 2) and data.y is None and data.task is None


@pytest.mark.skipif(not HAS_PARQUET, reason="reading Parquet needs pyarrow or fastparquet, not installed")
def test_parquet(tmp_path):
    path = tmp_path / "flowers.parquet"
    _flowers().to_parquet(path)
    data = load_data(str(path), target="species")
    assert data.X.shape == (60, 2)
    assert data.task == "classification"


def test_parquet_without_an_engine_says_what_to_install(tmp_path, monkeypatch):
    path = tmp_path / "flowers.parquet"
    path.write_bytes(b"PAR1 not really")

    def no_engine(*args, **kwargs):
        raise ImportError("Unable to find a usable engine")

    monkeypatch.setattr(pd, "read_parquet", no_engine)
    with user_error(DataError, match="needs pyarrow"):
        load_data(str(path))


def test_npz(tmp_path):
    rng = np.random.default_rng(2)
    X = rng.normal(size=(40, 8, 8, 1))
    y = np.arange(40) % 2
    path = tmp_path / "images.npz"
    np.savez(path, X=X, y=y)
    data = load_data(str(path))
    assert data.X.shape == (40, 8, 8, 1)
    assert data.y.shape == (40,)
    assert data.task == "classification"
    assert data.name == "images"


def test_window_mode_on_a_generated_series(tmp_path):
    values = np.sin(np.arange(100) / 5.0)
    path = tmp_path / "series.csv"
    pd.DataFrame({"value": values}).to_csv(path, index=False)
    data = load_data(str(path), window=24)
    assert data.task == "regression"
    assert data.windowed
    assert data.X.shape == (76, 24, 1)
    assert data.y.shape == (76,)
    np.testing.assert_allclose(data.X[0, :, 0], values[:24])
    np.testing.assert_allclose(data.y[0], values[24])
    np.testing.assert_allclose(data.X[-1, :, 0], values[75:99])
    np.testing.assert_allclose(data.y[-1], values[99])


def test_window_uses_the_target_column_of_a_dated_series(tmp_path):
    path = tmp_path / "sunspots.csv"
    pd.DataFrame({"year": np.arange(1900, 1930), "spots": np.arange(30.0)}).to_csv(path, index=False)
    data = load_data(str(path), target="spots", window=5)
    assert data.X.shape == (25, 5, 1)
    assert data.y[0] == 5.0


# ---- task inference ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("labels", "task"),
    [
        (["a", "b"] * 10, "classification"),
        ([True, False] * 10, "classification"),
        ([0, 1] * 20, "classification"),  # 2 distinct, 40 rows
        ([0.0, 1.0, 2.0] * 10, "classification"),  # whole-number floats are labels
        (list(range(20)) * 5, "classification"),  # 20 distinct, 5 rows each
        (list(range(21)) * 5, "regression"),  # more than 20 distinct
        (list(range(10)), "regression"),  # 10 distinct in 10 rows: a quantity
        ([0.5, 1.0] * 20, "regression"),  # a fractional part
    ],
)
def test_infer_task(labels, task):
    assert infer_task(np.array(labels)) == task
    assert infer_task(pd.Series(labels)) == task


# ---- errors ------------------------------------------------------------------------------------


def test_unknown_builtin_name_suggests_a_close_match():
    with user_error(DataError) as info:
        load_data("irsi")
    message = str(info.value)
    assert "unknown data set `irsi`: did you mean `iris`?" in message
    assert "digits, iris, wine, breast_cancer, diabetes" in message


def test_unknown_builtin_name_without_a_match():
    with user_error(DataError, match=r"unknown data set `mnist`\. The built-in data sets are digits, iris"):
        load_data("mnist")


def test_missing_file(tmp_path):
    missing = tmp_path / "nope.csv"
    with user_error(DataError, match="no such data file: `.*nope.csv`"):
        load_data(str(missing))


def test_unknown_target_column_suggests_and_lists_columns(tmp_path):
    path = tmp_path / "flowers.csv"
    _flowers().to_csv(path, index=False)
    with user_error(DataError) as info:
        load_data(str(path), target="specie")
    message = str(info.value)
    assert "no column `specie` in" in message
    assert "did you mean `species`?" in message
    assert "The columns are: length, width, species" in message


def test_unsupported_extension(tmp_path):
    path = tmp_path / "data.xlsx"
    path.write_bytes(b"not really a spreadsheet")
    with user_error(DataError, match=r"unsupported file type `\.xlsx`; use a \.csv, \.tsv, \.parquet or \.npz file"):
        load_data(str(path))


def test_npz_without_X_and_y(tmp_path):
    path = tmp_path / "arrays.npz"
    np.savez(path, features=np.zeros((3, 2)), labels=np.zeros(3))
    with user_error(DataError) as info:
        load_data(str(path))
    message = str(info.value)
    assert "has no array named `X` and `y` (it has: features, labels)" in message
    assert "np.savez(path, X=X, y=y)" in message


def test_npz_with_mismatched_lengths(tmp_path):
    path = tmp_path / "arrays.npz"
    np.savez(path, X=np.zeros((3, 2)), y=np.zeros(4))
    with user_error(DataError, match="3 samples in `X` but 4 in `y`"):
        load_data(str(path))


def test_nan_in_the_target(tmp_path):
    frame = _flowers()
    frame.loc[[4, 7], "species"] = None
    path = tmp_path / "holes.csv"
    frame.to_csv(path, index=False)
    with user_error(DataError, match=r"the target column `species` of .* has 2 missing value\(s\) \(first in data row 5\)"):
        load_data(str(path))


def test_nan_in_the_npz_target(tmp_path):
    path = tmp_path / "holes.npz"
    np.savez(path, X=np.zeros((3, 2)), y=np.array([1.0, np.nan, 2.0]))
    with user_error(DataError, match=r"the target `y` of .* has 1 missing \(NaN\) value\(s\)"):
        load_data(str(path))


def test_nan_in_features(tmp_path):
    frame = _flowers()
    frame.loc[3, "width"] = np.nan
    path = tmp_path / "holes.csv"
    frame.to_csv(path, index=False)
    with user_error(DataError, match=r"missing values in feature column\(s\) `width` \(1\)"):
        load_data(str(path))


def test_string_feature_columns_are_kept_for_encoding(tmp_path):
    frame = _flowers()
    frame.insert(0, "colour", ["red", "blue"] * (len(frame) // 2))
    path = tmp_path / "mixed.csv"
    frame.to_csv(path, index=False)
    data = load_data(str(path))
    assert data.categorical == ["colour"]
    assert list(data.X.columns) == data.feature_names and data.X["colour"].iloc[1] == "blue"
    assert data.X.drop(columns="colour").dtypes.map(lambda d: d.kind).eq("f").all()


def test_single_column_without_window(tmp_path):
    path = tmp_path / "series.csv"
    pd.DataFrame({"value": np.arange(10.0)}).to_csv(path, index=False)
    with user_error(DataError, match=r"single column `value`: nothing is left for features; .* \(--window N\)"):
        load_data(str(path))


def test_window_longer_than_the_series(tmp_path):
    path = tmp_path / "series.csv"
    pd.DataFrame({"value": np.arange(10.0)}).to_csv(path, index=False)
    with user_error(DataError, match=r"has 10 values: too short for window=10"):
        load_data(str(path), window=10)


@pytest.mark.parametrize("window", [0, -3, 2.5])
def test_bad_window(window):
    with user_error(DataError, match="window must be a positive whole number"):
        load_data("iris", window=window)


def test_target_for_a_builtin():
    with user_error(DataError, match="has its own target"):
        load_data("iris", target="species")


def test_empty_and_ragged_csv(tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with user_error(DataError, match="is empty"):
        load_data(str(empty))
    header_only = tmp_path / "header.csv"
    header_only.write_text("a,b,c\n")
    with user_error(DataError, match="has a header but no rows of data"):
        load_data(str(header_only))
    ragged = tmp_path / "ragged.csv"
    ragged.write_text("a,b\n1,2\n3,4,5,6\n")
    with user_error(DataError, match="cannot parse .* as CSV"):
        load_data(str(ragged))


def test_not_an_npz(tmp_path):
    path = tmp_path / "broken.npz"
    path.write_text("hello")
    with user_error(DataError, match=r"cannot read .* as an \.npz archive"):
        load_data(str(path))


def test_data_error_is_a_value_error():
    assert issubclass(DataError, ValueError)


def test_importing_data_is_cheap():
    """The CLI imports this module for `netdsl check`: no numpy, pandas, sklearn or TensorFlow on import."""
    out = subprocess.run(
        [sys.executable, "-c", "import netdsl.pipelines.data, sys; print(' '.join(sys.modules))"],
        capture_output=True, text=True, check=True, cwd=ROOT,
    ).stdout.split()  # fmt: skip
    assert not {m for m in out if m.split(".")[0] in ("numpy", "pandas", "sklearn", "tensorflow", "keras")}


def test_a_models_string_column_stays_text_where_values_look_numeric(tmp_path):
    path = tmp_path / "codes.csv"
    path.write_text("a,code,label\n0.5,03,1\n0.1,02,0\n")
    known = {"features": ["a", "code"], "target": "label", "categorical": ["code"]}
    data = load_data(str(path), columns=known)
    assert data.X["code"].tolist() == ["03", "02"]


def test_csv_without_a_header_row_is_refused(tmp_path):
    path = tmp_path / "nohdr.csv"
    path.write_text("0.126,-0.132,0\n0.640,0.105,1\n-0.536,0.362,0\n")
    with user_error(DataError, match="first row of .* holds only numbers: the file has no header row"):
        load_data(str(path))
    numbered = tmp_path / "numbered.csv"  # pandas's own header for an array: 0, 1, 2, ...
    pd.DataFrame(np.column_stack([np.eye(4), np.arange(4) % 2])).to_csv(numbered, index=False)
    assert load_data(str(numbered)).X.shape == (4, 4)


def test_compressed_csv_that_unpacks_beyond_the_bound_is_refused(tmp_path, monkeypatch):
    import gzip

    import netdsl.dsl.shapes

    path = tmp_path / "bomb.csv.gz"
    with gzip.open(path, "wt") as out:
        out.write("a,label\n" + "0,1\n" * 600_000)  # 2.4 MB of text in a few KB
    monkeypatch.setattr(netdsl.dsl.shapes, "memory_limit", lambda: 20 * 2**20)  # text bound: 1 MiB
    with user_error(DataError, match=r"holds more than 1 MiB of text \(1/20 of this machine's memory"):
        load_data(str(path))


def test_parquet_that_unpacks_beyond_the_bound_is_refused(tmp_path, monkeypatch):
    pytest.importorskip("pyarrow")
    import netdsl.dsl.shapes

    path = tmp_path / "zeros.parquet"
    pd.DataFrame({"a": np.zeros(200_000), "label": np.zeros(200_000)}).to_parquet(path)
    monkeypatch.setattr(netdsl.dsl.shapes, "memory_limit", lambda: 20 * 2**20)
    with user_error(DataError, match=r"unpacks to 3 MiB, more than 1 MiB"):
        load_data(str(path))


def test_id_column_is_refused_as_a_category(tmp_path, capsys):
    # One-hot encoding an id column took memory as rows x rows (139 KB of CSV: 2.2 GB). Refused where
    # the CLI encodes categories, not when the file is read: a text column a net reads as text
    # (`input review text` beside numbers) has as many values as rows, and is no category.
    from netdsl.pipelines.cli import main

    path = tmp_path / "ids.csv"
    pd.DataFrame({"id": [f"user{i}" for i in range(200)], "a": np.arange(200.0), "label": np.arange(200) % 2}).to_csv(
        path, index=False)
    assert load_data(str(path)).categorical == ["id"]
    net = tmp_path / "tiny.net"
    net.write_text("net tiny\ndense(2, activation=softmax)\n")
    assert main(["fit", str(net), "--data", str(path), "--quiet"]) == 1
    assert re.search(r"text column `id` of .* has 200 distinct values in 200 rows", capsys.readouterr().err)


def test_npz_with_one_column_labels_gives_1d_labels(tmp_path):
    path = tmp_path / "y2d.npz"
    np.savez(path, X=np.zeros((40, 2)), y=(np.arange(40) % 2).reshape(40, 1))
    assert load_data(str(path)).y.shape == (40,)


@pytest.mark.parametrize("X, message", [
    (np.ones((40, 2)) + 1j, "holds complex numbers"),
    (np.zeros(40), "is 1-D"),
    (np.zeros(40, dtype=[("p", "f4"), ("q", "f4")]), "is a structured array"),
])  # fmt: skip
def test_npz_features_no_net_reads_are_refused(tmp_path, X, message):
    path = tmp_path / "bad.npz"
    np.savez(path, X=X, y=np.arange(40) % 2)
    with user_error(DataError, match=message) as caught:
        load_data(str(path))
    assert len(str(caught.value)) < 200


def test_columns_of_decimals_are_numbers_and_durations_lists_and_records_are_refused():
    # Parquet's Decimal, duration, list and struct columns were one-hot encoded as their text
    # ('0 days 00:00:00', '[1 2]', "{'u': 1}"), meaning nothing to the net.
    import decimal

    from netdsl.pipelines.tables import plain_columns

    frame = pd.DataFrame({"a": [1.0, 2.0], "price": [decimal.Decimal("1.50"), decimal.Decimal("2.25")]})
    assert plain_columns(frame, "f.parquet")["price"].tolist() == [1.5, 2.25]
    for column, kind in [(pd.to_timedelta([1, 2], unit="s"), "dates or durations"),
                         ([[1, 2], [3]], "lists or records"), ([{"u": 1}, {"u": 2}], "lists or records")]:
        with user_error(DataError, match=f"the feature column.*`odd` of `f.parquet` hold {kind}"):
            plain_columns(frame.assign(odd=column), "f.parquet")
