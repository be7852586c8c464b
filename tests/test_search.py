"""Grid searches (`netdsl.pipelines.search`, `netdsl search`): the file's space, checks before any
training, rows written as candidates finish, failed fits, worker processes (loky), a Dask cluster
and the command line. Every search is tiny: a two-layer net on iris, one epoch, two folds."""

import logging
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_diabetes, load_iris
from sklearn.exceptions import FitFailedWarning
from sklearn.model_selection import KFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from netdsl.dsl import dumps, load
from netdsl.estimators import NetClassifier
from netdsl.pipelines.cli import main
from netdsl.pipelines.commands.search import parse_grid
from netdsl.pipelines.search import SearchError, _is_classification, grid_search, search_space

from conftest import ROOT, user_error

TINY = "net tiny\nparam hidden = 8 in [4, 8]\ndense(hidden, activation=relu)\ndense(n_classes, activation=softmax)\n"
NO_SPACE = "net fixed\ndense(8, activation=relu)\ndense(n_classes, activation=softmax)\n"
# units=5 cannot fit three classes: that candidate's fits fail (before any training)
HALF_BROKEN = "net half\nparam units = 3 in [3, 5]\ndense(8, activation=relu)\ndense(units, activation=softmax)\n"


@pytest.fixture
def tiny(tmp_path):
    path = tmp_path / "tiny.net"
    path.write_text(TINY)
    return path


# ---- the space --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, space",
    [
        ("denoise_digits", {"filters": [16, 32]}),
        ("digits_cnn", {"filters": [8, 16, 32], "depth": [1, 2]}),
        ("digits_mlp", {}),
        ("edge_detector", {}),
        ("resnet_digits", {"width": [8, 16, 32], "blocks": [1, 2]}),
        ("reviews_meta", {"width": [32, 64]}),
        ("sentiment_lstm", {"units": [16, 32]}),
        ("sunspots_gru", {"units": [8, 16, 32]}),
        ("two_heads", {"filters": [8, 16]}),
    ],
)
def test_search_space_of_each_example(name, space):
    path = ROOT / "examples" / f"{name}.net"
    assert search_space(path) == space
    assert search_space(str(path)) == space
    assert search_space(path.read_text()) == space  # source text
    assert search_space(load(path)) == space  # a Net spec


def test_importing_search_and_check_stay_light():
    code = (
        "import netdsl.pipelines.search\nfrom netdsl.pipelines.cli import main\n"
        "main(['check', 'examples/digits_cnn.net'])\nimport sys; print(' '.join(sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT).stdout
    modules = {m.split(".")[0] for m in out.split()}
    assert "netdsl" in modules
    assert not modules & {"tensorflow", "keras", "dask", "distributed", "sklearn", "joblib"}


def test_default_estimator_follows_the_targets():
    assert _is_classification(load_iris(return_X_y=True)[1])
    assert _is_classification(np.array(["a", "b", "a"]))
    assert _is_classification(np.array([0.0, 1.0] * 10))  # whole-number floats, few values: classes
    assert not _is_classification(load_diabetes(return_X_y=True)[1])  # 214 whole-number values: a quantity
    assert not _is_classification(np.linspace(0, 1, 50))


# ---- searching ----------------------------------------------------------------------------------------


def test_grid_search_on_iris_writes_each_row_as_it_finishes(iris, tmp_path):
    X, y = iris
    results = tmp_path / "results.csv"
    seen = []

    def progress(done, total, row):
        seen.append((done, total, row["param_hidden"], len(pd.read_csv(results))))

    search = grid_search(TINY, X, y, {"epochs": [1]}, cv=2, results_path=results, progress=progress)
    # sequential: one candidate per chunk, its row in the CSV before the callback runs
    assert seen == [(1, 2, 4, 1), (2, 2, 8, 2)]
    assert [p["hidden"] for p in search.cv_results_["params"]] == [4, 8]
    assert search.n_splits_ == 2 and len(search.cv_results_["mean_test_score"]) == 2
    assert isinstance(search.best_estimator_, NetClassifier)
    assert search.best_params_["hidden"] in (4, 8)
    assert search.best_estimator_.predict(X[:5]).shape == (5,)
    frame = pd.read_csv(results)
    assert list(frame["param_hidden"]) == [4, 8]
    for column in ("mean_test_score", "std_test_score", "split0_test_score", "split1_test_score", "mean_fit_time", "error"):
        assert column in frame.columns
    np.testing.assert_allclose(frame["mean_test_score"], search.cv_results_["mean_test_score"])
    assert frame["error"].isna().all()  # no failures: empty cells


def test_param_grid_overrides_and_adds_with_any_splitter(iris):
    X, y = iris
    splitter = KFold(2, shuffle=True, random_state=0)
    search = grid_search(TINY, X, y, {"hidden": [6], "epochs": [1], "batch_size": [16]}, cv=splitter)
    assert search.cv_results_["params"] == [{"batch_size": 16, "epochs": 1, "hidden": 6}]
    assert search.n_splits_ == 2 and search.cv is splitter
    assert search.best_estimator_.get_params()["hidden"] == 6


def test_pipeline_estimator_gets_prefixed_keys(iris):
    X, y = iris
    pipeline = Pipeline([("scale", StandardScaler()), ("net", NetClassifier(TINY, epochs=1))])
    search = grid_search(TINY, X, y, {"hidden": [4, 8]}, cv=2, estimator=pipeline)
    assert [p["net__hidden"] for p in search.cv_results_["params"]] == [4, 8]
    assert search.best_estimator_.predict(X[:3]).shape == (3,)


@pytest.mark.parametrize("n_jobs", [1, 2], ids=["here", "threads"])
def test_a_failed_candidate_keeps_its_row_with_the_error(iris, tmp_path, n_jobs):
    X, y = iris
    results = tmp_path / "results.csv"
    with pytest.warns(FitFailedWarning):
        search = grid_search(HALF_BROKEN, X, y, {"epochs": [1]}, cv=2, results_path=results, n_jobs=n_jobs)
    assert search.where_ == ("in this process" if n_jobs == 1 else "on 2 threads of this process")
    scores = search.cv_results_["mean_test_score"]
    assert np.isfinite(scores[0]) and np.isnan(scores[1])  # units=5 failed, its row kept
    assert search.best_params_["units"] == 3
    frame = pd.read_csv(results)
    assert len(frame) == 2
    assert "the data has 3 classes" in frame["error"][1]
    assert "NetError" in search.search_rows_[1]["error"]

    with pytest.warns(FitFailedWarning), user_error(SearchError, match="every fit of all 1 candidates failed"):
        grid_search(HALF_BROKEN, X, y, {"units": [5], "epochs": [1]}, cv=2)


def test_failed_fits_are_told_apart_without_changing_scikit_learn(iris):
    # the errors come from scikit-learn's own report of failed fits: its functions stay as they are,
    # and a plain GridSearchCV still raises when all its fits fail
    from sklearn.model_selection import GridSearchCV, _search, _validation

    X, y = iris
    with pytest.warns(FitFailedWarning):
        search = grid_search(HALF_BROKEN, X, y, {"units": [5, 3], "epochs": [1]}, cv=2, chunk_size=2)
    assert _search._warn_or_raise_about_fit_failures is _validation._warn_or_raise_about_fit_failures
    assert [bool(row["error"]) for row in search.search_rows_] == [True, False]
    assert isinstance(search.best_estimator_, NetClassifier) and isinstance(search.estimator, NetClassifier)
    plain = GridSearchCV(NetClassifier(HALF_BROKEN, epochs=1), {"units": [5]}, cv=2)
    with pytest.raises(ValueError, match="fits failed"):
        plain.fit(X, y)


def test_a_spec_travels_to_a_fresh_process(tmp_path):
    # what a parallel search does with an estimator whose net is a Net spec (netdsl search passes
    # the spec it parsed): pickled here, unpickled in a worker whose spec classes are not built yet
    import pickle

    path = tmp_path / "tiny.net"
    path.write_text(TINY)
    (tmp_path / "spec.pkl").write_bytes(pickle.dumps(load(path)))
    code = (
        "import pickle; from netdsl.dsl import dumps\n"
        f"spec = pickle.loads(open({str(tmp_path / 'spec.pkl')!r}, 'rb').read())\n"
        "print(spec.source.filename, spec == pickle.loads(pickle.dumps(spec))); print(dumps(spec), end='')"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout
    assert out == f"{path} True\n{dumps(load(path))}"


@pytest.mark.parametrize(
    "net, grid, message",
    [
        (TINY, {"hiden": [4, 8]}, "unknown grid key `hiden`: did you mean `hidden`? The net `tiny` has the params: hidden"),
        (TINY, {"epoch": [1]}, "did you mean `epochs`?"),
        (TINY, {"hidden": []}, "the grid entry `hidden` has no values"),
        (TINY, {"hidden": 4}, "must be a list of values"),
        (TINY, {"hidden": ["a"]}, "the value 'a' of `hidden` does not fit the net: invalid value for `units` (line 3)"),
        (TINY, {"hidden": [4, 0]}, "the value 0 of `hidden`"),
        (TINY, {"epochs": [1, 0]}, "the value 0 of the setting `epochs` is not valid"),
        (TINY, {"optimizer": ["adamm"]}, "the setting `optimizer`"),
        (NO_SPACE, None, "nothing to search: the net `fixed` declares no values to try"),
        (NO_SPACE, {}, "nothing to search"),
    ],
)
def test_bad_grids_fail_before_any_training(iris, tmp_path, monkeypatch, net, grid, message):
    def no_training(self, *args, **kwargs):
        raise AssertionError("trained although the grid is wrong")

    monkeypatch.setattr(NetClassifier, "fit", no_training)
    results = tmp_path / "results.csv"
    with user_error(SearchError) as error:
        grid_search(net, *iris, grid, cv=2, results_path=results)
    assert message in str(error.value)
    assert isinstance(error.value, ValueError)
    assert not results.exists()


# ---- worker processes ----------------------------------------------------------------------------------


def test_n_jobs_runs_fits_in_one_thread_loky_workers(iris, tmp_path):
    from joblib.externals.loky.backend.context import get_context

    assert get_context().get_start_method() == "loky"  # fork + exec: a fresh interpreter, never a fork of this one
    X, y = iris
    folder = tmp_path / "pids"
    folder.mkdir()
    results = tmp_path / "results.csv"

    def scorer(estimator, X, y):  # defined here, so it travels by value to the workers
        import os
        import pathlib

        threads = ",".join(os.environ.get(k, "") for k in ("OMP_NUM_THREADS", "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS"))
        pathlib.Path(folder, str(os.getpid())).write_text(threads)
        return estimator.score(X, y)

    rows_seen = []
    search = grid_search(
        TINY, X, y, {"epochs": [1]}, cv=2, n_jobs=2, workers="processes", scoring=scorer, results_path=results,
        progress=lambda done, total, row: rows_seen.append(len(pd.read_csv(results))),
    )
    assert rows_seen == [2, 2]  # one chunk of two candidates (two workers)
    assert search.where_ == "on 2 local worker processes"
    assert len(search.cv_results_["params"]) == 2
    assert search.best_estimator_.predict(X[:3]).shape == (3,)
    pids = {int(p.name) for p in folder.iterdir()}
    assert pids and os.getpid() not in pids
    assert {p.read_text() for p in folder.iterdir()} == {"1,1,1"}


def _loky_workers() -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            command = (entry / "cmdline").read_bytes()
        except (OSError, ValueError, IndexError):
            continue
        if parent == os.getpid() and b"popen_loky_posix" in command:
            pids.append(int(entry.name))
    return pids


def test_the_commands_workers_are_where_a_search_can_run_its_fits():
    # `netdsl search --workers` lists its choices without importing the search (for a quick --help)
    from netdsl.pipelines.cli import build_parser
    from netdsl.pipelines.search_workers import WORKERS

    args = build_parser(["search", "net.net", "--data", "digits"]).parse_args(["search", "net.net", "--data", "digits"])
    assert args.workers == "threads"
    action = next(a for a in build_parser(["search"])._subparsers._group_actions[0].choices["search"]._actions
                  if a.dest == "workers")
    assert sorted(action.choices) == sorted(WORKERS)


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="finds the worker processes through /proc")
def test_a_dead_worker_stops_the_search_with_what_finished(iris, tmp_path):
    X, y = iris
    results = tmp_path / "results.csv"

    def kill_workers(done, total, row):
        if done == 2:  # the first chunk (two candidates) is written; now the workers die
            for pid in _loky_workers():
                os.kill(pid, signal.SIGKILL)

    with pytest.raises(SearchError, match=r"a worker process died .*2 of 3 candidates finished; their results are in") as error:
        grid_search(TINY, X, y, {"hidden": [4, 8, 12], "epochs": [1]}, cv=2, n_jobs=2, workers="processes",
                    results_path=results, progress=kill_workers)
    assert error.value.finished == 2 and error.value.total == 3
    assert str(results) in str(error.value)
    assert list(pd.read_csv(results)["param_hidden"]) == [4, 8]


# ---- a Dask cluster -------------------------------------------------------------------------------------


@pytest.fixture
def cluster():
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=logging.ERROR
    ) as cluster:
        yield cluster


def test_dask_cluster_runs_the_fits(iris, cluster, tmp_path):
    import distributed

    X, y = iris
    results = tmp_path / "results.csv"
    with distributed.Client(cluster) as client:
        with distributed.get_task_stream(client) as stream:
            search = grid_search(TINY, X, y, {"epochs": [1]}, cv=2, scheduler=cluster.scheduler_address, results_path=results)
        assert search.where_ == f"on the Dask cluster at {cluster.scheduler_address}"
        assert [p["hidden"] for p in search.cv_results_["params"]] == [4, 8]
        assert search.best_estimator_.predict(X[:3]).shape == (3,)  # refitted here, intact
        assert len(pd.read_csv(results)) == 2
        # the fits ran as tasks on the cluster's worker processes, which imported netdsl to run them
        workers = set(client.scheduler_info()["workers"])
        fits = [task for task in stream.data if "fit_and_score" in task["key"]]
        assert fits and {task["worker"] for task in fits} <= workers
        imported = client.run(lambda: "netdsl.estimators" in sys.modules)
        assert any(imported.values())
        assert os.getpid() not in client.run(os.getpid).values()

        # a Client works as the scheduler too
        search = grid_search(TINY, X, y, {"hidden": [4], "epochs": [1]}, cv=2, scheduler=client)
        assert search.cv_results_["params"] == [{"epochs": 1, "hidden": 4}]


def test_unreachable_scheduler_is_a_clear_error(iris):
    dask = pytest.importorskip("dask")
    pytest.importorskip("distributed")
    with dask.config.set({"distributed.comm.timeouts.connect": "1s"}):
        with user_error(SearchError, match="cannot connect to the Dask scheduler at tcp://127.0.0.1:9"):
            grid_search(TINY, *iris, {"epochs": [1]}, cv=2, scheduler="tcp://127.0.0.1:9")


# ---- the command line -------------------------------------------------------------------------------------


def test_parse_grid_values():
    assert parse_grid(["a=1,2.5,true,relu", "b = 3"]) == {"a": [1, 2.5, True, "relu"], "b": [3]}
    for bad, message in [("a", "KEY=V1,V2"), ("a=", "no values"), ("a=1,,2", "empty value"), ("=1", "KEY=V1,V2")]:
        with user_error(SearchError, match=message):
            parse_grid([bad])
    with user_error(SearchError, match="twice"):
        parse_grid(["a=1", "a=2"])


def test_cli_search_end_to_end(tiny, tmp_path, capsys):
    results = tmp_path / "tmp.csv"
    model = tmp_path / "best.model"
    code = main([
        "search", str(tiny), "--data", "iris", "--grid", "hidden=4,8", "--cv", "2", "--epochs", "1",
        "--out", str(results), "--save", str(model),
    ])  # fmt: skip
    captured = capsys.readouterr()
    assert code == 0, captured.err
    out = captured.out
    assert "Traceback" not in captured.err
    assert "net tiny on iris: classification (from the data)" in out
    assert "120 rows to search on with 2 stratified folds; 30 rows held out (stratified, seed 0)" in out
    assert f"writing each candidate's results to {results} as it finishes" in out
    assert "candidates by mean CV accuracy (2 folds)" in out
    for header in ("rank", "params", "mean ± std accuracy", "mean fit time"):
        assert header in out
    frame = pd.read_csv(results)
    assert sorted(frame["param_hidden"]) == [4, 8]
    best = int(frame.sort_values("mean_test_score", ascending=False, kind="stable")["param_hidden"].iloc[0])
    other = 12 - best
    assert out.index(f"hidden={best}") < out.index(f"hidden={other}")  # ranked by mean CV score
    assert f"{frame['mean_test_score'].max():.4f} ± " in out
    assert f"best: hidden={best}" in out
    assert "accuracy (held out, best refitted):" in out
    assert f"results of every candidate: {results}" in out
    assert f"saved the best model to {model}" in out
    assert model.is_file()


def _run_failing(argv, capsys):
    code = main(argv)
    captured = capsys.readouterr()
    assert code == 1
    assert "Traceback" not in captured.err
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and re.match(r"netdsl: error\[[A-Z]\d{3}\]: ", lines[0])
    return lines[0]


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--grid", "hiden=4,8"], "unknown grid key `hiden`: did you mean `hidden`?"),
        (["--grid", "hidden=a,b"], "the value 'a' of `hidden` does not fit the net"),
        (["--grid", "epochs=0"], "the value 0 of the setting `epochs` is not valid"),
        (["--grid", "hidden"], "--grid takes KEY=V1,V2"),
        (["--grid", "hidden="], "has no values"),
        (["--set", "hiden=4"], "--set: Invalid parameter 'hiden' for estimator NetClassifier. Did you mean `hidden`?"),
        (["--set", "epochs=0"], "the value 0 of the setting `epochs` is not valid"),
        (["--set", "hidden=4"], "--set hidden=4 fixes `hidden`, which this search varies (the file's `in ...` or "
                                "--grid): give one of them (to try 4 alone: --grid hidden=4)"),
        (["--grid", "epochs=1,2", "--set", "epochs=3"], "--set epochs=3 fixes `epochs`, which this search varies"),
    ],
)
def test_cli_search_errors(tiny, tmp_path, monkeypatch, capsys, extra, message):
    monkeypatch.chdir(tmp_path)
    line = _run_failing(["search", str(tiny), "--data", "iris", "--cv", "2", *extra], capsys)
    assert message in line
    assert not (tmp_path / "search_results.csv").exists()  # nothing trained, nothing written


def test_cli_search_refuses_a_bad_set_before_touching_the_old_results(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    fixed = tmp_path / "fixed.net"
    fixed.write_text(TINY.replace("param hidden = 8 in [4, 8]", "param hidden = 8\nparam act = relu in [relu, tanh]")
                     .replace("activation=relu", "activation=act"))
    old = tmp_path / "old.csv"
    old.write_text("candidate,rung\n0,0\n")
    (tmp_path / "old.csv.states").mkdir()
    (tmp_path / "old.csv.states" / "c0_r0_f0.npz").write_bytes(b"a stopped search's checkpoint")
    for given, message in [("hiden=4", "Did you mean `hidden`?"), ("hidden=a", "the value 'a' of `hidden` does not fit the net")]:
        line = _run_failing(["search", str(fixed), "--data", "iris", "--cv", "2", "--set", given, "--out", str(old)], capsys)
        assert message in line
    assert old.read_text() == "candidate,rung\n0,0\n"
    assert (tmp_path / "old.csv.states" / "c0_r0_f0.npz").read_bytes() == b"a stopped search's checkpoint"


def test_cli_search_refuses_outputs_it_cannot_write_before_any_work(tiny, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    Path("a_file").write_text("not a folder")
    Path("r.csv").write_text("candidate,rung\n")
    data = Path("d.csv")
    data.write_text("x1,x2,label\n" + "".join(f"{i},{i % 3},{i % 2}\n" for i in range(20)))
    for extra, message in [
        (["--plots", "a_file/pics"], "--plots `a_file/pics` is inside `a_file`, which is a file, not a folder"),
        (["--save", "a_file/m.model"], "--save `a_file/m.model` is inside `a_file`, which is a file"),
        (["--out", "a_file/x.csv"], "--out `a_file/x.csv` is inside `a_file`, which is a file"),
        (["--resume", "r.csv", "--out", "other.csv"], "--resume r.csv continues that file: give no other --out (other.csv)"),
        (["--save", str(tiny)], f"--save `{tiny}` is the .net file itself"),
        (["--out", "d.csv"], "--out `d.csv` is the data file itself"),
    ]:
        line = _run_failing(["search", str(tiny), "--data", str(data), "--cv", "2", *extra], capsys)
        assert message in line
    assert Path("a_file").read_text() == "not a folder" and data.read_text().startswith("x1,x2,label\n0,0,0\n")
    assert Path("r.csv").read_text() == "candidate,rung\n" and not Path("other.csv").exists()


def test_cli_search_nothing_to_search_and_unknown_data(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    fixed = tmp_path / "fixed.net"
    fixed.write_text(NO_SPACE)
    line = _run_failing(["search", str(fixed), "--data", "iris"], capsys)
    assert "nothing to search: the net `fixed` declares no values to try" in line
    line = _run_failing(["search", str(fixed), "--data", "irsi", "--grid", "epochs=1,2"], capsys)
    assert "unknown data set `irsi`: did you mean `iris`?" in line


def test_docstring_examples(monkeypatch):
    import doctest

    import netdsl.pipelines.search as module

    monkeypatch.chdir(ROOT)  # the examples refer to examples/*.net
    failures, tried = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert tried > 0 and failures == 0


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="finds the worker processes through /proc")
def test_workers_start_ahead_and_the_search_runs_in_them(iris, tmp_path):
    # `netdsl search --jobs 2` starts its workers (TensorFlow imported in each) while it loads the
    # data; the search must then reuse those processes, not start new ones.
    from joblib.externals.loky import get_reusable_executor

    from netdsl.pipelines.search_workers import start_workers

    get_reusable_executor().shutdown(wait=True)  # no workers left by earlier tests
    assert _loky_workers() == []
    assert start_workers(1) is None and start_workers(None) is None and start_workers(2) is None  # threads
    starting = start_workers(2, "processes")
    starting.join(timeout=300)
    assert not starting.is_alive()
    started = set(_loky_workers())
    assert len(started) == 2
    for pid in started:  # TensorFlow already loaded in each
        assert "tensorflow" in Path(f"/proc/{pid}/maps").read_text()
    folder = tmp_path / "pids"
    folder.mkdir()

    def scorer(estimator, X, y):
        import os
        import pathlib

        pathlib.Path(folder, str(os.getpid())).touch()
        return estimator.score(X, y)

    grid_search(TINY, *iris, {"epochs": [1]}, cv=2, n_jobs=2, workers="processes", scoring=scorer, results_path=tmp_path / "r.csv")
    assert {int(p.name) for p in folder.iterdir()} <= started


def test_grid_search_takes_a_random_state_for_every_candidates_fit(iris):
    # It was passed on to GridSearchCV, which has none: a bare TypeError.
    X, y = iris
    first = grid_search(TINY, X, y, {"epochs": [1]}, cv=2, random_state=3)
    again = grid_search(TINY, X, y, {"epochs": [1]}, cv=2, random_state=3)
    assert first.best_estimator_.random_state == 3
    assert list(first.cv_results_["mean_test_score"]) == list(again.cv_results_["mean_test_score"])
