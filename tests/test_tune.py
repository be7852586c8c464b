"""Checkpoints and `tune` (`netdsl.estimators.checkpoint`, `netdsl.pipelines.tuning`, `netdsl search
--strategy`): a continued fit equals one fit, each strategy, the halving schedule and its survivors
continuing, ties, failures, resume, and the same results in one process, in loky workers and on a
Dask cluster. Tiny: 300 digits, an MLP, a few epochs, two folds."""

import logging
import re

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_digits

from netdsl.estimators import NetClassifier, checkpoint, fast
from netdsl.pipelines import SearchError, tune
from netdsl.pipelines.cli import main
from netdsl.pipelines.tuning import schedule

MLP = """net mlp
param hidden = 16 in [8, 16, 32]
param lr = 0.01 in [0.003, 0.01, 0.03]
dense(hidden, activation=relu)
dropout(0.2)
dense(n_classes, activation=softmax)
train {
    epochs = 4
    batch_size = 32
    optimizer = adam(learning_rate=lr)
}
"""
# `spare` changes nothing: every candidate scores the same
TIED = MLP.replace("param lr = 0.01 in [0.003, 0.01, 0.03]", "param lr = 0.01\nparam spare = 1 in [1, 2, 3, 4]").replace(
    "param hidden = 16 in [8, 16, 32]", "param hidden = 16")
# units=7 cannot give ten classes: that candidate fails on every fold
BROKEN = MLP.replace("dense(n_classes, activation=softmax)", "dense(units, activation=softmax)").replace(
    "param hidden = 16 in [8, 16, 32]", "param hidden = 16\nparam units = 10 in [10, 7]")


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return (X[:300] / 16).astype("float32"), y[:300]


def _weights(estimator):
    return [np.asarray(w) for w in estimator.model_.get_weights()]


# ---- checkpoints -------------------------------------------------------------------------------------


def test_a_checkpoint_continues_exactly_as_one_fit(digits, tmp_path):
    X, y = digits
    whole = NetClassifier(MLP, epochs=5, random_state=3).fit(X, y)  # dropout too: its generator's state goes on
    first = NetClassifier(MLP, epochs=2, random_state=3).fit(X, y)
    state = checkpoint.capture(first)
    assert state.epochs == 2
    del first  # its cached model is free again: the continuation takes it
    models, traced = fast.cache_size(), sum(len(e.functions) for entries in fast._CACHE.values() for e in entries)
    more = checkpoint.resume(NetClassifier(MLP, epochs=3, random_state=3), state, X, y)
    assert fast.cache_size() == models  # no new build ...
    assert sum(len(e.functions) for entries in fast._CACHE.values() for e in entries) == traced  # ... nor trace
    assert more.history_ == whole.history_ and more.n_iter_ == 5
    for a, b in zip(_weights(more), _weights(whole)):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(more.predict_proba(X), whole.predict_proba(X))
    assert int(more.model_.optimizer.iterations.numpy()) == int(whole.model_.optimizer.iterations.numpy())

    path = checkpoint.save(state, tmp_path / "state.npz")  # and through a file, read without pickle
    again = checkpoint.resume(NetClassifier(MLP, epochs=3, random_state=3), checkpoint.load(path), X, y)
    for a, b in zip(_weights(again), _weights(whole)):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(again.classes_, whole.classes_)


def test_a_checkpoint_of_another_net_is_refused(digits):
    X, y = digits
    state = checkpoint.capture(NetClassifier(MLP, epochs=1, random_state=0).fit(X, y))
    with pytest.raises(ValueError, match="this checkpoint was made by another net"):
        checkpoint.resume(NetClassifier(MLP, hidden=8, epochs=1, random_state=0), state, X, y)


def _rewritten(source, target, extra=None, compress=(), meta=None):
    """A copy of the checkpoint file `source` at `target`, with `extra` members (name -> bytes)
    added, the members named in `compress` deflated (all of them: True), and `meta` replacing its
    metadata."""
    import io
    import json
    import zipfile

    def method(name):
        return zipfile.ZIP_DEFLATED if compress is True or name in compress else zipfile.ZIP_STORED

    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w") as new:
        for info in old.infolist():
            data = old.read(info.filename)
            if meta is not None and info.filename == "meta.npy":
                buffer = io.BytesIO()
                np.save(buffer, np.array(json.dumps(meta)))
                data = buffer.getvalue()
            new.writestr(info.filename, data, compress_type=method(info.filename))
        for name, data in (extra or {}).items():
            new.writestr(name, data, compress_type=method(name))
    return target


def test_a_checkpoint_file_holds_only_what_save_writes(tmp_path, monkeypatch):
    import io
    import json

    import netdsl.dsl.shapes

    state = checkpoint.Checkpoint("arch", [np.zeros(3, "float32")], [np.ones(2)], {"n_iter_": 1},
                                  {"classes_": np.arange(3)})
    path = checkpoint.save(state, tmp_path / "c.npz")
    assert checkpoint.load(path).arrays["classes_"].tolist() == [0, 1, 2]
    bomb = io.BytesIO()  # a member of 64 MiB of zeros: 64 kB deflated (the report's: 3 GiB in 3 MB)
    np.lib.format.write_array_header_1_0(bomb, {"descr": "|u1", "fortran_order": False, "shape": (2**26,)})
    bomb = bomb.getvalue() + bytes(2**26)
    meta = json.loads(str(np.load(path)["meta"]))
    for target, message in [
        (_rewritten(path, tmp_path / "b.npz", {"attr_bomb.npy": bomb}, ["attr_bomb.npy"]),
         "`attr_bomb.npy`, which no checkpoint has"),
        (_rewritten(path, tmp_path / "d.npz", {"attr___class__.npy": b""}), "`attr___class__.npy`, which no checkpoint has"),
        (_rewritten(path, tmp_path / "z.npz", compress=True), "`meta.npy` is compressed"),
        (_rewritten(path, tmp_path / "m.npz", {"model_1.npy": b""}), "not the ones its metadata counts"),
        (_rewritten(path, tmp_path / "a.npz", meta={**meta, "attributes": {"fit": 1}}), "the attribute 'fit'"),
    ]:
        with pytest.raises(ValueError, match=f"cannot read the checkpoint {target}: .*{message}"):
            checkpoint.load(target)
    monkeypatch.setattr(netdsl.dsl.shapes, "memory_limit", lambda: 100)  # a machine smaller than the arrays
    with pytest.raises(ValueError, match="its arrays unpack to 0.0 GiB, more than this machine's memory"):
        checkpoint.load(path)


# ---- the schedule -------------------------------------------------------------------------------------


def test_halving_schedule_follows_scikit_learns_and_ends_at_the_full_budget():
    assert schedule(9, 9, None, 3) == ([9, 3, 1], [1, 3, 9])
    assert schedule(48, 30, None, 3) == ([48, 16, 6, 2], [1, 3, 9, 30])
    assert schedule(9, 4, None, 3) == ([9, 3], [1, 4])  # no room for a third rung
    assert schedule(4, 30, 1, 3) == ([4, 2], [1, 30])  # the last rung at the full budget
    assert schedule(4, 30, None, 2) == ([4, 2, 1], [7, 14, 30])
    with pytest.raises(SearchError, match="factor must be an integer of 2 or more"):
        schedule(4, 30, None, 1)
    with pytest.raises(SearchError, match="min_epochs must be between 1 and the full budget of 30 epochs, got 31"):
        schedule(4, 30, 31, 3)


# ---- strategies -----------------------------------------------------------------------------------------


def test_grid_and_random(digits, tmp_path):
    X, y = digits
    grid = tune(MLP, X, y, "grid", {"epochs": [1]}, cv=2, random_state=0, refit=False)
    assert len(grid.cv_results_["params"]) == 9 and set(grid.cv_results_["iter"]) == {0}
    assert grid.best_score_ == max(grid.cv_results_["mean_test_score"]) > 0.3  # well above chance (0.1)
    assert grid.cv_results_["rank_test_score"][grid.best_index_] == 1
    sampled = tune(MLP, X, y, "random", {"epochs": [1]}, n_candidates=3, cv=2, random_state=0, refit=False)
    assert len(sampled.cv_results_["params"]) == 3
    picked = [grid.cv_results_["params"].index(p) for p in sampled.cv_results_["params"]]
    for i, j in enumerate(picked):  # the same candidate, the same scores: one seed for every fit
        assert sampled.cv_results_["mean_test_score"][i] == grid.cv_results_["mean_test_score"][j]
    from scipy.stats import loguniform

    ranged = tune(MLP, X, y, "random", {"epochs": [1], "lr": loguniform(1e-3, 1e-1)}, n_candidates=2, cv=2,
                  random_state=0, refit=False)
    rates = [p["lr"] for p in ranged.cv_results_["params"]]
    assert len(set(rates)) == 2 and all(1e-3 <= r <= 1e-1 and isinstance(r, float) for r in rates)
    with pytest.raises(SearchError, match="n_candidates .* is for random and halving"):
        tune(MLP, X, y, "grid", n_candidates=3, cv=2)
    with pytest.raises(SearchError, match="`epochs` cannot be a searched key"):
        tune(MLP, X, y, "halving", {"epochs": [1, 2]}, cv=2)
    with pytest.raises(SearchError, match="unknown strategy 'hyperband'"):
        tune(MLP, X, y, "hyperband", cv=2)


def test_halving_continues_the_survivors(digits, tmp_path):
    X, y = digits
    results = tmp_path / "halving.csv"
    search = tune(MLP, X, y, "halving", cv=2, random_state=0, results_path=results)
    assert search.n_candidates_ == [9, 3] and search.n_resources_ == [1, 4]
    # 9 candidates x 1 epoch, then 3 x 3 more epochs, on each of 2 folds: nothing trained twice
    assert search.epoch_folds_ == (9 * 1 + 3 * 3) * 2 and search.grid_epoch_folds_ == 9 * 4 * 2
    frame = pd.read_csv(results)
    assert list(frame.columns[:5]) == ["candidate", "rung", "epochs", "param_hidden", "param_lr"]
    for column in ("mean_test_score", "std_test_score", "split0_test_score", "split1_test_score", "mean_fit_time",
                   "status", "error"):
        assert column in frame.columns
    first, second = frame[frame.rung == 0], frame[frame.rung == 1]
    assert len(first) == 9 and len(second) == 3 and set(second.epochs) == {4}
    assert sorted(first.status.value_counts().items()) == [("promoted", 3), ("stopped", 6)]
    assert set(second.status) == {"final"}
    promoted = first[first.status == "promoted"]
    best3 = first.sort_values(["mean_test_score", "candidate"], ascending=[False, True]).candidate[:3]
    assert sorted(promoted.candidate) == sorted(best3) == sorted(second.candidate)
    assert list(search.cv_results_["iter"]) == [0] * 9 + [1] * 3
    assert search.best_index_ >= 9 and search.best_score_ == second.mean_test_score.max()
    # a survivor's second rung is where one uninterrupted fit of 4 epochs ends
    from sklearn.model_selection import StratifiedKFold

    candidate = int(second.candidate.iloc[0])
    params = search.cv_results_["params"][candidate]
    train, test = next(StratifiedKFold(2).split(X, y))
    whole = NetClassifier(MLP, random_state=0, **params).fit(X[train], y[train])
    assert whole.score(X[test], y[test]) == second.split0_test_score.iloc[0]
    assert search.best_estimator_.n_iter_ == 4  # refitted on all rows at the full budget
    assert not list((tmp_path / "halving.csv.states").glob("*.npz"))  # checkpoints removed at the end


def test_halving_a_pipeline_refits_its_other_steps_and_continues_the_net(digits):
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    X, y = digits
    pipeline = Pipeline([("scale", StandardScaler()), ("net", NetClassifier(MLP, epochs=3))])
    search = tune(MLP, X, y, "halving", {"hidden": [8, 16], "lr": [0.03]}, cv=2, estimator=pipeline, factor=2,
                  min_epochs=1, random_state=0)
    assert search.n_candidates_ == [2, 1] and search.n_resources_ == [1, 3]
    assert search.epoch_folds_ == (2 * 1 + 1 * 2) * 2
    assert search.best_estimator_.named_steps["net"].n_iter_ == 3
    assert set(search.best_params_) == {"net__hidden", "net__lr"}


def test_ties_go_to_the_earlier_candidate_and_failures_are_never_promoted(digits):
    X, y = digits
    tied = tune(TIED, X, y, "halving", cv=2, random_state=0, min_epochs=1, factor=2, refit=False)
    rows = pd.DataFrame(tied.search_rows_)
    assert rows[rows.rung == 0].mean_test_score.nunique() == 1
    assert list(rows[rows.rung == 1].candidate) == [0, 1] and list(rows[rows.rung == 2].candidate) == [0]
    assert tied.best_params_ == {"spare": 1}

    broken = tune(BROKEN, X, y, "halving", {"lr": [0.01]}, cv=2, random_state=0, min_epochs=1, factor=2, refit=False)
    rows = pd.DataFrame(broken.search_rows_)
    failed = rows[(rows.rung == 0) & (rows.status == "failed")]
    assert list(failed["param_units"]) == [7] and failed.error.iloc[0]
    assert np.isnan(failed.mean_test_score.iloc[0])
    assert list(rows[rows.rung == 1].param_units) == [10]
    with pytest.raises(SearchError, match="every fit of all 1 candidates of rung 0 failed"):
        tune(BROKEN, X, y, "grid", {"lr": [0.01], "units": [7]}, cv=2, random_state=0)


# ---- resume ------------------------------------------------------------------------------------------------


def test_an_interrupted_search_resumes_to_the_same_result(digits, tmp_path):
    X, y = digits
    whole = tune(MLP, X, y, "halving", cv=2, random_state=0, refit=False)
    results = tmp_path / "results.csv"

    def stop(done, total, row):
        if done == 10:  # rung 0 finished, one survivor of rung 1 done
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        tune(MLP, X, y, "halving", cv=2, random_state=0, results_path=results, progress=stop, refit=False)
    assert len(pd.read_csv(results)) == 10
    assert list((tmp_path / "results.csv.states").glob("*.npz"))  # the survivors' checkpoints
    with pytest.raises(SearchError, match="it holds another search \\(different seed"):
        tune(MLP, X, y, "halving", cv=2, random_state=1, resume=results, refit=False)
    resumed = tune(MLP, X, y, "halving", cv=2, random_state=0, resume=results, refit=False)
    assert resumed.resumed_ == 10
    assert resumed.epoch_folds_ == 2 * 3 * 2  # only the two survivors left, 3 more epochs each
    for key in ("mean_test_score", "split0_test_score", "split1_test_score", "rank_test_score", "candidate"):
        np.testing.assert_array_equal(resumed.cv_results_[key], whole.cv_results_[key])
    assert resumed.best_params_ == whole.best_params_ and resumed.best_score_ == whole.best_score_
    assert len(pd.read_csv(results)) == 12
    with pytest.raises(SearchError, match="nothing to resume"):
        tune(MLP, X, y, "halving", cv=2, random_state=0, resume=tmp_path / "missing.csv")


def test_a_hand_edited_resumed_csv_is_refused_naming_the_cell(digits, tmp_path):
    X, y = digits
    results = tmp_path / "results.csv"

    def stop_at(count):
        def stop(done, total, row):
            if done == count:
                raise KeyboardInterrupt
        return stop

    with pytest.raises(KeyboardInterrupt):  # no random_state: a seed drawn for the search
        tune(MLP, X, y, "halving", cv=2, results_path=results, progress=stop_at(2), refit=False)
    written = pd.read_csv(results)
    for column, value, words in [
        ("mean_test_score", "abc", "'abc', not a number"),
        ("rung", "x", "'x', not a rung, a whole number from 0"),
        ("candidate", "", "nothing, not one of this search's candidates, 0 to 8"),
        ("candidate", 1.5, "1.5, not one of this search's candidates"),
        ("candidate", 99, "99, not one of this search's candidates"),
        ("candidate", -1, "-1, not one of this search's candidates"),
        ("epochs", "lots", "'lots', not a number of epochs"),
    ]:
        edited = written.astype(object)
        edited.loc[1, column] = value
        edited.to_csv(results, index=False)
        with pytest.raises(SearchError, match=re.escape(f"cannot resume from {results}: line 3, column `{column}` holds {words}")):
            tune(MLP, X, y, "halving", cv=2, resume=results, refit=False)
    written.drop(columns="epochs").to_csv(results, index=False)
    with pytest.raises(SearchError, match="it lacks the columns epochs"):
        tune(MLP, X, y, "halving", cv=2, resume=results, refit=False)
    written.to_csv(results, index=False)
    with pytest.raises(KeyboardInterrupt):  # the drawn seed taken back from the results: resumed, one more row
        tune(MLP, X, y, "halving", cv=2, resume=results, progress=stop_at(3), refit=False)
    assert len(pd.read_csv(results)) == 3


def test_tune_takes_whole_numbers_for_its_counts(digits):
    X, y = digits
    for name, value in [("factor", 2.5), ("factor", "3"), ("factor", True), ("min_epochs", 2.5), ("n_candidates", "4")]:
        with pytest.raises(SearchError, match=re.escape(f"{name} must be a whole number, got {value!r}")):
            tune(MLP, X, y, "halving", cv=2, **{name: value})


# ---- determinism --------------------------------------------------------------------------------------------


HALVING = dict(strategy="halving", param_grid={"hidden": [8, 16], "lr": [0.01, 0.03]}, cv=2, random_state=0, refit=False)


def _same_results(search, reference):
    for key in ("mean_test_score", "split0_test_score", "split1_test_score", "rank_test_score", "candidate", "iter"):
        np.testing.assert_array_equal(search.cv_results_[key], reference.cv_results_[key])
    assert search.best_params_ == reference.best_params_


def test_the_same_results_in_this_process_in_threads_and_in_worker_processes(digits):
    X, y = digits
    here = tune(MLP, X, y, **HALVING)
    workers = tune(MLP, X, y, n_jobs=2, workers="processes", **HALVING)
    assert workers.where_ == "on 2 local worker processes"
    _same_results(workers, here)
    threads = tune(MLP, X, y, n_jobs=2, **HALVING)
    assert threads.where_ == "on 2 threads of this process"
    _same_results(threads, here)


def test_workers_other_than_threads_or_processes_are_refused(digits):
    X, y = digits
    with pytest.raises(SearchError, match=r"^workers must be one of 'processes', 'threads', got 'gpus'$"):
        tune(MLP, X, y, n_jobs=2, workers="gpus", **HALVING)


def test_the_same_results_on_a_dask_cluster(digits):
    distributed = pytest.importorskip("distributed")
    X, y = digits
    here = tune(MLP, X, y, **HALVING)
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None,
                                  silence_logs=logging.ERROR) as cluster:
        dask = tune(MLP, X, y, scheduler=cluster.scheduler_address, **HALVING)
    assert dask.where_.startswith("on the Dask cluster")
    _same_results(dask, here)


# ---- the command line ------------------------------------------------------------------------------------------


TINY = "net tiny\nparam hidden = 8 in [4, 8, 12, 16]\ndense(hidden, activation=relu)\ndense(n_classes, activation=softmax)\n"


def test_cli_halving_and_resume(tmp_path, capsys):
    net = tmp_path / "tiny.net"
    net.write_text(TINY)
    results = tmp_path / "halving.csv"
    argv = ["search", str(net), "--data", "iris", "--cv", "2", "--epochs", "3", "--strategy", "halving",
            "--factor", "2", "--min-epochs", "1", "--out", str(results), "--quiet"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "rung 0: 4 candidates x 1 epoch" in out and "rung 1: 2 candidates x 3 epochs" in out
    assert "epoch x fold budget: 16 of a full grid's 24 (67%)" in out
    frame = pd.read_csv(results)
    assert len(frame) == 6
    assert main(argv[:-3] + ["--resume", str(results), "--quiet"]) == 0
    assert "resumed 6 finished rows" in capsys.readouterr().out
    for bad, message in [
        (["--factor", "1"], "--factor must be 2 or more"),
        (["--min-epochs", "5"], "--min-epochs 5 is above the full budget of 3 epochs"),
        (["--strategy", "grid", "--candidates", "2"], "--candidates is for --strategy random or halving"),
        (["--strategy", "grid", "--factor", "2"], "--factor and --min-epochs are for --strategy halving"),
    ]:
        code = main(["search", str(net), "--data", "iris", "--cv", "2", "--epochs", "3", "--strategy", "halving",
                     "--out", str(tmp_path / "x.csv"), "--quiet", *bad])
        err = capsys.readouterr().err
        assert code == 1 and message in err, err


def test_cli_shows_the_files_names_and_short_drawn_values(tmp_path, capsys):
    """With --scale the net is a pipeline step: the table and the best line still show the file's
    param names (no `netclassifier__`), and a value drawn from a range to 4 significant digits."""
    net = tmp_path / "ranged.net"
    net.write_text(TINY.replace("in [4, 8, 12, 16]", "in range(4, 17)\nparam lr = 0.01 in loguniform(0.001, 0.1)")
                   + "train {\n    optimizer = adam(learning_rate=lr)\n}\n")
    results = tmp_path / "random.csv"
    argv = ["search", str(net), "--data", "iris", "--cv", "2", "--epochs", "1", "--strategy", "random",
            "--candidates", "2", "--scale", "--out", str(results), "--quiet"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    frame = pd.read_csv(results)
    drawn = [column for column in frame if column.endswith("__lr")]
    assert drawn, list(frame)  # the CSV keeps the estimator's own keys
    assert "netclassifier__" not in out
    for value in frame[drawn[0]]:
        assert f"lr={value:.4g}," in out or f"lr={value:.4g} " in out or f"lr={value:.4g}\n" in out
    assert "best: hidden=" in out
