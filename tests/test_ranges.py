"""Search ranges in the language: `param NAME = V in uniform(a, b)`, `loguniform(a, b)`,
`range(a, b[, step])`. Parsed, formatted and written back; checked (N511-N517, whose exact texts are
the golden files tests/data/invalid/range_*.net); turned into a search space that scikit-learn's
randomized searches take as it is; refused by a grid when continuous; used everywhere a param is."""

import importlib

import numpy as np
import pytest
from pydantic import ValidationError
from sklearn.model_selection import ParameterSampler, RandomizedSearchCV

from netdsl.dsl import NetError, analyse, dumps, loads, resolve, specs
from netdsl.dsl.format import format_source
from netdsl.pipelines import search_space
from netdsl.pipelines.search import SearchError, check_grid, full_grid, grid_search

from conftest import user_error

# Every use a param has: a layer argument, arithmetic, a `repeat` count, an optimizer's argument.
RANGES = """net ranges
param lr = 1e-3 in loguniform(1e-4, 1e-1)  # drawn on a log scale
param rate = 0.2 in uniform(0, 0.5)
param depth = 2 in range(1, 4)
param width = 8 in range(4, 17, step=4)
param activation_name = relu in [relu, tanh]
repeat depth {
    dense(width * 2, activation=activation_name)
    dropout(rate / 2)
}
dense(n_classes, activation=softmax)
train {
    optimizer = adam(learning_rate=lr)
}
"""


def _ranges(net):
    return {p.name: p.range for p in net.params if p.range is not None}


# ---- the language --------------------------------------------------------------------------------


def test_each_range_is_read_into_the_param_spec():
    net = loads(RANGES)
    ranges = _ranges(net)
    assert ranges["lr"] == specs.ParamRange(kind="loguniform", low=1e-4, high=1e-1)
    assert ranges["rate"] == specs.ParamRange(kind="uniform", low=0, high=0.5)
    assert ranges["depth"] == specs.ParamRange(kind="range", low=1, high=4)
    assert ranges["width"] == specs.ParamRange(kind="range", low=4, high=17, step=4)
    assert net.param_defaults == {"lr": 1e-3, "rate": 0.2, "depth": 2, "width": 8, "activation_name": "relu"}
    by_name = {p.name: p for p in net.params}
    assert by_name["activation_name"].values == ("relu", "tanh") and by_name["activation_name"].range is None
    assert all(p.values is None for p in net.params if p.range is not None)
    # what a search tries: a range's integers (its end excluded, as Python's), a continuous range as it is
    assert by_name["depth"].space == [1, 2, 3]
    assert by_name["width"].space == [4, 8, 12, 16]
    assert by_name["rate"].space is ranges["rate"]


def test_dumps_and_fmt_round_trip_the_ranges():
    net = loads(RANGES)
    text = dumps(net)
    assert "param lr = 0.001 in loguniform(0.0001, 0.1)\n" in text
    assert "param width = 8 in range(4, 17, 4)\n" in text
    assert loads(text) == net and dumps(loads(text)) == text
    messy = RANGES.replace("loguniform(1e-4, 1e-1)", "loguniform( 1e-4,1e-1 )").replace("range(1, 4)", "range(1,4,)")
    formatted = format_source(messy)
    assert "param lr = 1e-3 in loguniform(1e-4, 1e-1)  # drawn on a log scale\n" in formatted
    assert "param depth = 2 in range(1, 4)\n" in formatted
    assert format_source(formatted) == formatted and loads(formatted) == net


def test_the_spec_refuses_bounds_that_cannot_be_a_range():
    for kind, low, high, step, words in [
        ("uniform", 1, 0, None, "low bound 1 is not below its high bound 0"),
        ("loguniform", 0, 1, None, "above 0"),
        ("range", 1, 4.5, None, "must be an integer"),
        ("range", 1, 4, 0, "must be a positive integer"),
        ("uniform", 0, 1, 2, "takes no step"),
    ]:
        with pytest.raises(ValidationError, match=words):
            specs.ParamRange(kind=kind, low=low, high=high, step=step)
    with pytest.raises(ValidationError, match="not both"):
        specs.Param(name="x", default=1, values=(1, 2), range=specs.ParamRange(kind="range", low=1, high=3))
    span = specs.ParamRange(kind="range", low=0, high=10, step=5)
    assert 5 in span and 10 not in span and 2 not in span and 5.0 not in span and True not in span
    assert 0.5 in specs.ParamRange(kind="uniform", low=0, high=0.5)


@pytest.mark.parametrize("line, code, words", [
    ("param lr = 0.01 in log_uniform(1e-4, 1e-1)", "N511", "did you mean `loguniform`?"),
    ("param d = 2 in randint(1, 5)", "N511", "did you mean `range`?"),
    ("param r = 0.2 in uniform(0.5)", "N512", "`uniform` is missing its `high`"),
    ("param r = 0.2 in uniform(0, 1, 2)", "N512", "too many arguments for `uniform`"),
    ("param r = 0.2 in uniform(0.5, 0)", "N513", "low bound 0.5 is not below its high bound 0"),
    ("param lr = 0.01 in loguniform(0, 0.1)", "N514", "must start above 0"),
    ("param r = 0.1 in uniform(-1e308, 1e308)", "N513", "the range from -1e+308 to 1e+308 is wider than a float holds"),
    ("param d = 2 in range(1, 4.5)", "N515", "`high` of `range` must be an integer"),
    ("param d = 5 in range(1, 5)", "N516", "`range` excludes its end: 1, 2, 3, 4"),
    ("param r = 0.7 in uniform(0, 0.5)", "N516", "the range is [0, 0.5]"),
    ("param d = 2.5 in range(1, 5)", "N517", "not an integer"),
])  # fmt: skip
def test_check_locates_each_mistake_with_its_code(line, code, words):
    with pytest.raises(NetError) as caught:
        analyse(loads(f"net demo\n{line}\ndense(1)\n", filename="demo.net"))
    (diagnostic,) = caught.value.diagnostics
    assert diagnostic.code == code and diagnostic.span.line == 2
    assert words in diagnostic.title + " " + diagnostic.help


# ---- every use of a param, at its default and at drawn values ---------------------------------------


def test_a_range_param_works_wherever_a_param_does():
    net = loads(RANGES)
    summary = analyse(net, data={"n_features": 4, "n_classes": 3})  # check: the defaults
    assert [row.kind for row in summary.rows if row.kind == "dense"] == ["dense"] * 3
    drawn = next(iter(ParameterSampler(search_space(net), 1, random_state=0)))
    bound = resolve(net, drawn, {"n_features": 4, "n_classes": 3})
    dense = [layer for layer in bound.layers if layer.kind == "repeat"][0].body[0]
    assert dense.units == drawn["width"] * 2
    assert bound.layers[0].count == drawn["depth"]
    assert bound.train.optimizer.learning_rate == pytest.approx(drawn["lr"], rel=1e-12)
    # a value set from outside need not lie in the range: the range is what a search draws from
    assert resolve(net, {"depth": 7, "lr": 0.5}).layers[0].count == 7


# ---- the search space -------------------------------------------------------------------------------


def test_search_space_gives_lists_and_scipy_distributions():
    space = search_space(RANGES)
    assert list(space) == ["lr", "rate", "depth", "width", "activation_name"]  # file order
    assert space["depth"] == [1, 2, 3] and space["width"] == [4, 8, 12, 16]
    assert space["activation_name"] == ["relu", "tanh"]
    assert space["lr"].dist.name == "loguniform" and space["lr"].support() == (1e-4, 1e-1)
    assert space["rate"].dist.name == "uniform" and space["rate"].support() == (0, 0.5)
    draws = list(ParameterSampler(space, 200, random_state=0))
    depths = {d["depth"] for d in draws}
    assert depths == {1, 2, 3} and all(type(d["depth"]) is int and type(d["width"]) is int for d in draws)
    for name, (low, high) in (("lr", (1e-4, 1e-1)), ("rate", (0, 0.5))):
        values = np.array([d[name] for d in draws])
        assert all(isinstance(v, float) for v in values) and values.min() >= low and values.max() <= high
    # loguniform: about as many draws in each decade (1e-4..1e-3, ..., 1e-2..1e-1); uniform would put 90% in the last
    decades = np.histogram(np.log10([d["lr"] for d in draws]), bins=[-4, -3, -2, -1])[0]
    assert decades.min() > 40
    # a range too long to list is refused, not listed until memory runs out
    with user_error(SearchError, match=r"`u` in range\(1, 10000000000\) holds 9,999,999,999 integers"):
        search_space("net d\nparam u = 8 in range(1, 10000000000)\ndense(u)\n")


def test_a_grid_refuses_a_continuous_range_and_says_what_to_do():
    net = loads(RANGES)
    with user_error(SearchError, match=r"`lr` is drawn from loguniform\(0.0001, 0.1\), a continuous range") as caught:
        full_grid(net, None)
    assert "--strategy random" in str(caught.value) and "halving" in str(caught.value)
    # a list for it (or for both) from outside makes it a grid again; a `range` is a grid's list
    grid = full_grid(net, {"lr": [0.001, 0.01], "rate": [0.1]})
    assert list(grid) == ["lr", "rate", "depth", "width", "activation_name"]
    assert grid["lr"] == [0.001, 0.01] and grid["depth"] == [1, 2, 3]
    # a search that draws its candidates keeps the distributions
    drawn = full_grid(net, None, sampled=True)
    assert drawn["lr"].dist.name == "loguniform" and drawn["depth"] == [1, 2, 3]
    with user_error(SearchError, match="`rate` is drawn from uniform"):
        grid_search(RANGES, np.zeros((4, 2)), np.array([0, 1, 0, 1]), {"lr": [0.01]})


def test_netdsl_search_refuses_a_grid_over_a_continuous_range(tmp_path, capsys):
    from netdsl.pipelines.cli import main

    path = tmp_path / "ranges.net"
    path.write_text(RANGES)
    assert main(["search", str(path), "--data", "iris", "--cv", "2"]) == 1  # the grid is the default strategy
    said = capsys.readouterr().err
    assert said.startswith("netdsl: error[S101]: `lr` is drawn from loguniform(0.0001, 0.1), a continuous range")
    assert "--strategy random" in said and "--grid lr=V1,V2" in said


def test_a_range_whose_draws_do_not_fit_the_net_is_refused_before_training():
    from netdsl.estimators import NetClassifier

    text = "net demo\nparam units = 8 in uniform(4, 16)\ndense(units)\ndense(n_classes, activation=softmax)\n"
    net = loads(text)
    with user_error(SearchError, match=r"the value \d+\.\d+ of `units`, drawn from uniform\(4, 16\), does not fit") as caught:
        check_grid(full_grid(net, None, sampled=True), net, NetClassifier(text))
    assert "for integers write `in range(low, high)`" in str(caught.value)


# ---- scikit-learn's randomized searches take the space as it is -------------------------------------------


def test_randomized_search_cv_over_the_space_really_trains(iris):
    from netdsl.estimators import NetClassifier

    X, y = iris
    search = RandomizedSearchCV(NetClassifier(RANGES, epochs=1, random_state=0, verbose=0), search_space(RANGES),
                                n_iter=2, cv=2, random_state=0, error_score="raise")
    search.fit(X, y)
    assert len(search.cv_results_["params"]) == 2
    for params, score in zip(search.cv_results_["params"], search.cv_results_["mean_test_score"]):
        assert 1e-4 <= params["lr"] <= 1e-1 and 0 <= params["rate"] <= 0.5 and params["depth"] in (1, 2, 3)
        assert np.isfinite(score)
    best = search.best_estimator_
    assert best.get_params()["lr"] == search.best_params_["lr"] != 1e-3  # the drawn value, not the default
    assert best.predict(X[:5]).shape == (5,)


def test_halving_random_search_cv_over_the_space_really_trains(iris):
    importlib.import_module("sklearn.experimental.enable_halving_search_cv")  # scikit-learn's switch for them
    from sklearn.model_selection import HalvingRandomSearchCV

    from netdsl.estimators import NetClassifier

    X, y = iris
    search = HalvingRandomSearchCV(NetClassifier(RANGES, epochs=1, random_state=0, verbose=0), search_space(RANGES),
                                   n_candidates=2, factor=2, min_resources=60, cv=2, random_state=0, error_score="raise")
    search.fit(X, y)
    assert list(search.n_candidates_) == [2, 1] and list(search.n_resources_) == [60, 120]
    assert all(np.isfinite(search.cv_results_["mean_test_score"]))
    assert 1e-4 <= search.best_params_["lr"] <= 1e-1 and search.best_params_["width"] in (4, 8, 12, 16)
