"""A fit continued from a checkpoint goes on as one longer fit would, callbacks included
(`netdsl.estimators.callback_state`): early stopping's count of epochs without improvement, its
best weights and a stop already made, and learning-rate reduction's counters and rate; and a
two-stage fit (`fine_tune`) goes on from its first stage's end, then runs its second stage; a text
net continues on the texts it learned its vocabulary from, and is refused others. Tiny:
300 digits, an MLP, a few epochs; the fast path, where a continuation is exact."""

import numpy as np
import pytest
from sklearn.datasets import load_digits

from netdsl.dsl.errors import ParameterError
from netdsl.estimators import NetClassifier, checkpoint

# `min_delta=100`: no epoch after the first improves on it, so the stopper counts every epoch
# and stops after `patience` of them; each epoch's weights differ, so restoring them shows.
EARLY = """net early
dense(16, activation=relu)
dense(n_classes, activation=softmax)
train {
    epochs = 6
    optimizer = adam(learning_rate=0.01)
    callbacks = [early_stopping(monitor=loss, min_delta=100, patience=PATIENCE, restore_best_weights=true)]
}
"""
# The rate halves after every epoch without a large improvement (all of them).
REDUCE = """net reduce
dense(16, activation=relu)
dense(n_classes, activation=softmax)
train {
    epochs = 6
    optimizer = adam(learning_rate=0.01)
    callbacks = [reduce_lr_on_plateau(monitor=loss, min_delta=100, patience=1, factor=0.5)]
}
"""


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return (X[:300] / 16).astype("float32"), y[:300]


def _continued(net, digits, first, more, tmp_path=None):
    X, y = digits
    state = checkpoint.capture(NetClassifier(net, epochs=first, random_state=0).fit(X, y))
    if tmp_path is not None:  # through a file: the callbacks' state is plain data and arrays
        state = checkpoint.load(checkpoint.save(state, tmp_path / "state.npz"))
    return checkpoint.resume(NetClassifier(net, epochs=more, random_state=0), state, X, y)


def _same(a, b):
    assert a.history_ == b.history_ and a.n_iter_ == b.n_iter_
    assert getattr(a, "best_epoch_", None) == getattr(b, "best_epoch_", None)
    for u, v in zip(a.model_.get_weights(), b.model_.get_weights()):
        np.testing.assert_array_equal(u, v)


def test_early_stopping_goes_on_counting_and_restores_the_best_of_all_epochs(digits, tmp_path):
    net = EARLY.replace("PATIENCE", "3")
    whole = NetClassifier(net, random_state=0).fit(*digits)  # stops after epoch 4, restores epoch 1's weights
    assert whole.n_iter_ == 4 and whole.best_epoch_ == 1
    continued = _continued(net, digits, first=2, more=4)  # 2 epochs, then on from the 2nd epoch's weights
    _same(continued, whole)
    _same(_continued(net, digits, first=2, more=4, tmp_path=tmp_path), whole)


def test_a_continuation_after_early_stopping_stopped_trains_no_more(digits):
    net = EARLY.replace("PATIENCE", "1")
    whole = NetClassifier(net, random_state=0).fit(*digits)
    assert whole.n_iter_ == 2  # stopped after its second epoch
    continued = _continued(net, digits, first=3, more=3)
    _same(continued, whole)


def test_learning_rate_reduction_goes_on_from_the_reduced_rate(digits):
    whole = NetClassifier(REDUCE, random_state=0).fit(*digits)
    continued = _continued(REDUCE, digits, first=2, more=4)
    _same(continued, whole)
    assert float(continued.model_.optimizer.learning_rate.numpy()) == pytest.approx(0.01 / 2**5)


def test_the_callbacks_state_is_not_written_with_a_saved_model(digits, tmp_path):
    import pickle

    fitted = NetClassifier(EARLY.replace("PATIENCE", "3"), epochs=3, random_state=0).fit(*digits)
    assert fitted._callback_state and fitted._callback_last_weights.size  # kept for a checkpoint ...
    state = fitted.__getstate__()
    assert not {"_callback_state", "_callback_last_weights", "_callback_best_weights"} & set(state)  # ... only
    again = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(again.predict_proba(digits[0]), fitted.predict_proba(digits[0]))


def test_halving_scores_a_survivor_with_early_stopping_as_one_fit(digits):
    # The rungs of successive halving continue checkpoints: a survivor's last rung scores what one
    # fit of all the epochs scores, though its early stopping counted across the rungs' boundary.
    from sklearn.model_selection import StratifiedKFold

    from netdsl.pipelines import tune

    X, y = digits
    net = EARLY.replace("PATIENCE", "3").replace("dense(16,", "param hidden = 16 in [8, 16, 32]\ndense(hidden,")
    search = tune(net, X, y, "halving", cv=2, min_epochs=2, factor=3, random_state=0)
    assert search.n_resources_ == [2, 6]
    last = [i for i, rung in enumerate(search.cv_results_["iter"]) if rung == 1]
    candidate = last[0]
    train, test = next(StratifiedKFold(2).split(X, y))
    whole = NetClassifier(net, random_state=0, **search.cv_results_["params"][candidate]).fit(X[train], y[train])
    assert whole.n_iter_ == 4  # stopped inside the second rung, on its best (first) epoch's weights
    assert whole.score(X[test], y[test]) == search.cv_results_["split0_test_score"][candidate]


# Two stages: `a` learns from the second stage on.
TWO_STAGES = """net two_stages
param hidden = 16 in [8, 16, 32]
dense(hidden, activation=relu, trainable=false, name="a")
dropout(0.1)
dense(n_classes, activation=softmax)
train {
    epochs = 5
    optimizer = adam(learning_rate=0.01)
    fine_tune = unfreeze("a", epochs=2)
}
"""


def test_a_two_stage_fit_continues_its_first_stage_then_runs_its_second(digits, tmp_path):
    whole = NetClassifier(TWO_STAGES, random_state=0).fit(*digits)  # 5 epochs, then 2 with `a` learning
    assert whole.stage_epochs_ == (5, 2) and whole.n_iter_ == 7
    for path in (None, tmp_path):
        continued = _continued(TWO_STAGES, digits, first=2, more=3, tmp_path=path)
        _same(continued, whole)
        assert continued.stage_epochs_ == (5, 2)


def test_halving_searches_a_two_stage_net(digits):
    # Every rung of every candidate used to fail: the checkpoint held the second stage's optimizer.
    from sklearn.model_selection import StratifiedKFold

    from netdsl.pipelines import tune

    X, y = digits
    search = tune(TWO_STAGES, X, y, "halving", cv=2, min_epochs=1, factor=3, random_state=0)
    assert search.n_resources_ == [1, 5] and np.isfinite(search.cv_results_["mean_test_score"]).all()
    candidate = list(search.cv_results_["iter"]).index(1)
    train, test = next(StratifiedKFold(2).split(X, y))
    whole = NetClassifier(TWO_STAGES, random_state=0, **search.cv_results_["params"][candidate]).fit(X[train], y[train])
    assert whole.score(X[test], y[test]) == search.cv_results_["split0_test_score"][candidate]


def test_a_text_net_continues_on_its_texts_and_is_refused_others(tmp_path):
    # Each fit learns its vocabulary from its texts again: the same texts give the same vocabulary
    # (a halving rung's), other texts another, which the checkpoint's embedding rows do not fit.
    from test_fast_text_finetune import WORDS, reviews

    texts, labels = reviews(120, seed=0)
    whole = NetClassifier(WORDS, epochs=3, random_state=0).fit(texts, labels)
    state = checkpoint.capture(NetClassifier(WORDS, epochs=1, random_state=0).fit(texts, labels))
    state = checkpoint.load(checkpoint.save(state, tmp_path / "state.npz"))
    _same(checkpoint.resume(NetClassifier(WORDS, epochs=2, random_state=0), state, texts, labels), whole)
    others, other_labels = reviews(120, seed=1, words=("good", "great", "dull", "boring", "scene", "cast"))
    with pytest.raises(ParameterError, match="another vocabulary"):
        checkpoint.resume(NetClassifier(WORDS, epochs=2, random_state=0), state, others, other_labels)
