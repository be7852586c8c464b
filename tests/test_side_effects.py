"""A fit changes nothing in the user's process that they did not ask for (global seeds, TensorFlow's
op determinism), and the same seed gives the same model however fits are scheduled."""

import contextlib
import subprocess
import sys
import threading

import numpy as np
import pytest
from sklearn.datasets import load_digits

from netdsl.estimators import NetClassifier, NetRegressor, fast

from conftest import in_two_threads, user_error

MLP = """net mlp
dense(16, activation=relu)
dropout(0.2)
dense(10, activation=softmax)
train {
    optimizer = adam(learning_rate=0.01)
    epochs = 2
    batch_size = 32
}
"""


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return (X[:300] / 16).astype("float32"), y[:300]


def in_fresh_python(script: str, timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=timeout)


def test_a_seeded_fit_leaves_the_processes_random_state_and_determinism_as_they_were():
    # After a seeded fit, TensorFlow's op determinism stayed on (the user's next Keras model with a
    # Dropout failed: "Random ops require a seed to be set when determinism is enabled"), and
    # Python's and NumPy's global sequences restarted from netdsl's seed. On both training paths.
    script = f"""
import os, random
import numpy as np
import keras
from tensorflow.python.framework import config
from keras.src.utils import rng_utils
from sklearn.datasets import load_digits
from netdsl.estimators import NetClassifier

X, y = load_digits(return_X_y=True)
X, y = (X[:200] / 16).astype("float32"), y[:200]
random.seed(123); np.random.seed(123)
expected = [random.random() for _ in range(4)], [float(v) for v in np.random.rand(4)]
random.seed(123); np.random.seed(123)
got = [random.random()], [float(np.random.rand())]
NetClassifier({MLP!r}, random_state=0).fit(X, y)           # the fast path
os.environ["NETDSL_FAST_PATH"] = "0"
NetClassifier({MLP!r}, random_state=0).fit(X, y)           # Keras's fit
got[0].append(random.random()); got[1].append(float(np.random.rand()))
NetClassifier({MLP!r}, random_state=np.random.RandomState(5)).fit(X, y)
got[0].extend([random.random(), random.random()]); got[1].extend(float(v) for v in np.random.rand(2))
assert list(got) == list(expected), (got, expected)
assert not config.is_op_determinism_enabled()
assert rng_utils.get_random_seed() is None
model = keras.Sequential([keras.Input((64,)), keras.layers.Dense(8), keras.layers.Dropout(0.5), keras.layers.Dense(10)])
model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
model.fit(X, y, epochs=1, verbose=0)
print("untouched")
"""
    done = in_fresh_python(script)
    assert done.stdout.split()[-1:] == ["untouched"], done.stderr[-3000:]


def test_a_seeded_fit_after_the_users_own_determinism_leaves_it_on(digits):
    from tensorflow.python.framework import config

    X, y = digits
    config.enable_op_determinism()
    try:
        NetClassifier(MLP, random_state=0).fit(X, y)
        assert config.is_op_determinism_enabled()
    finally:
        config.disable_op_determinism()
    NetClassifier(MLP, random_state=0).fit(X, y)
    assert not config.is_op_determinism_enabled()


def test_unseeded_fits_still_differ(digits):
    X, y = digits
    first, second = (NetClassifier(MLP).fit(X, y).predict_proba(X) for _ in range(2))
    assert not np.array_equal(first, second)


@pytest.mark.parametrize("path", ["fast", "standard"])
def test_seeded_fits_in_threads_give_what_they_give_one_after_another(monkeypatch, digits, path):
    # Two seeded fits in two threads drew their initial weights from one another's seeded global
    # stream (and one of them ran on the default executor while the other held the single-threaded
    # one): up to 0.44 apart from the same fits run one after another.
    X, y = digits
    if path == "standard":
        monkeypatch.setenv("NETDSL_FAST_PATH", "0")
    fast.clear_cache()
    seeds = (1, 2, 1, 3)
    alone = {i: NetClassifier(MLP, random_state=seed).fit(X, y).predict_proba(X) for i, seed in enumerate(seeds)}
    fast.clear_cache()
    together, errors = {}, []

    def fit(i, seed):
        try:
            together[i] = NetClassifier(MLP, random_state=seed).fit(X, y).predict_proba(X)
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=fit, args=(i, seed)) for i, seed in enumerate(seeds)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=240)
    assert not errors and len(together) == len(seeds)
    for i in alone:
        np.testing.assert_array_equal(together[i], alone[i])
    np.testing.assert_array_equal(alone[0], alone[2])


CNN = """net cnn
param filters = 8 in [8, 16]
input (64)
reshape((8, 8, 1))
conv2d(filters, kernel_size=3, padding=same, activation=relu)
max_pooling2d(2)
flatten
dense(16, activation=relu)
dropout(0.25)
dense(10, activation=softmax)
train {
    optimizer = adam(learning_rate=0.01)
    epochs = 3
    batch_size = 32
}
"""


def test_fits_in_threads_train_at_once_and_each_gives_what_it_gives_alone(monkeypatch, digits):
    # The fast path's epochs run outside the fits' lock (seeding.training_apart): two threads' fits
    # train at the same time (both wait inside their epochs for each other: with the lock held
    # there, the second could not get in and the barrier would time out), and each gives the
    # numbers it gives alone; the caller's random state and determinism are as they were.
    import random

    from netdsl.estimators import seeding
    from tensorflow.python.framework import config

    X, y = digits
    runs = [(0, 8), (1, 16), (2, 8), (0, 16)]  # (seed, filters): two of them alike, in two threads
    fast.clear_cache()

    def fitted(seed, filters):
        return NetClassifier(CNN, filters=filters, random_state=seed).fit(X, y).predict_proba(X)

    alone = [fitted(seed, f) for seed, f in runs]
    random.seed(11)
    np.random.seed(11)
    caller = random.getstate(), np.random.get_state()[1].copy()
    met = threading.Barrier(2, timeout=60)
    inside, apart = [], seeding.training_apart

    @contextlib.contextmanager
    def watched():
        with apart():
            inside.append(threading.current_thread().name)
            if inside.count(threading.current_thread().name) == 1:
                met.wait()  # each thread's first epochs: both inside at once
            yield

    monkeypatch.setattr(seeding, "training_apart", watched)
    together = in_two_threads(fitted, runs)
    assert len(set(inside)) == 2 and len(inside) == 4
    for i, expected in enumerate(alone):
        np.testing.assert_array_equal(together[i], expected)
    assert not np.array_equal(alone[0], alone[2])  # the seeds matter
    assert random.getstate() == caller[0] and np.array_equal(np.random.get_state()[1], caller[1])
    assert not config.is_op_determinism_enabled()


def test_what_others_draw_while_a_seeded_fit_trains_apart_is_the_callers_stream():
    # While a seeded fit's epochs run outside the lock, the global state is the caller's (an
    # unseeded fit then draws what it would draw after the seeded fit), the seeded fit takes its
    # own stream up again after its epochs, and op determinism stays on until it ends.
    import random

    from netdsl.estimators import seeding
    from tensorflow.python.framework import config

    random.seed(5)
    after_one = random.Random(5)
    expected_other = after_one.random()
    own = random.Random(99)
    own.random()  # the seeded fit's first draw, before its epochs
    expected_own = own.random()
    random.seed(5)
    started, drawn, seen = threading.Event(), threading.Event(), {}

    def seeded_fit():
        with seeding.fitting(seeded=True, apart=True):
            random.seed(99)  # as `seeding.seed` does
            config.enable_op_determinism()
            random.random()
            with seeding.training_apart():
                started.set()
                seen["drawn meanwhile"] = drawn.wait(30)  # the other fit got in
                seen["determinism apart"] = config.is_op_determinism_enabled()
            seen["own"] = random.random()

    def other_fit():
        started.wait(60)
        with seeding.fitting(seeded=False, apart=True):
            seen["other"] = random.random()
        drawn.set()

    threads = [threading.Thread(target=seeded_fit), threading.Thread(target=other_fit)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert seen == {"other": expected_other, "drawn meanwhile": True, "determinism apart": True, "own": expected_own}
    assert random.getstate() == after_one.getstate()  # the caller's, advanced by the other fit's draw
    assert not config.is_op_determinism_enabled()


def test_a_fit_that_trains_under_the_lock_waits_until_no_fit_trains_apart():
    # Keras's standard path shuffles with TensorFlow's global seed and state, so it starts only
    # when no fit's epochs run outside the lock; a fast-path fit starts meanwhile.
    from netdsl.estimators import seeding

    inside, release, entered = threading.Event(), threading.Event(), []

    def training():
        with seeding.fitting(seeded=False, apart=True), seeding.training_apart():
            inside.set()
            release.wait(60)

    def fit(apart):
        with seeding.fitting(seeded=False, apart=apart):
            entered.append(apart)

    first = threading.Thread(target=training)
    first.start()
    assert inside.wait(60)
    standard, fast_one = threading.Thread(target=fit, args=(False,)), threading.Thread(target=fit, args=(True,))
    standard.start()
    fast_one.start()
    fast_one.join(timeout=60)
    standard.join(timeout=0.5)
    assert entered == [True] and standard.is_alive()
    release.set()
    standard.join(timeout=60)
    first.join(timeout=60)
    assert entered == [True, False]


def test_a_diverging_warm_start_refit_keeps_the_fitted_model(monkeypatch, digits):
    # "Nothing half-fitted is kept": a warm refit whose loss becomes NaN left NaN weights behind.
    from netdsl.estimators import TrainingDiverged

    X, y = digits
    for path in ("fast", "standard"):
        if path == "standard":
            monkeypatch.setenv("NETDSL_FAST_PATH", "0")
        reg = NetRegressor("dense(8, activation=relu)\ndense(1)\n", epochs=2, learning_rate=0.01, warm_start=True,
                           random_state=0).fit(X, y.astype(float))
        before = reg.predict(X)
        history, n_iter = dict(reg.history_), reg.n_iter_
        weights = [w.copy() for w in reg.model_.get_weights()]
        reg.set_params(learning_rate=1e30)
        with user_error(TrainingDiverged):
            reg.fit(X, y.astype(float) * 1e3)
        np.testing.assert_array_equal(reg.predict(X), before)
        assert reg.history_ == history and reg.n_iter_ == n_iter
        assert all(np.array_equal(a, b) for a, b in zip(reg.model_.get_weights(), weights))
        reg.set_params(learning_rate=0.01)
        reg.fit(X, y.astype(float))  # and it trains on from there
        assert reg.n_iter_ == n_iter + 2 and np.isfinite(reg.predict(X)).all()


def test_built_layers_are_named_as_netdsl_show_names_them_whatever_keras_made_before(digits):
    # Keras names a new layer by a process-wide counter: after any other Dense, the net's first dense
    # was `dense_3`, so a second NetTransformer(layer="dense") failed, cross_val_score failed on fold
    # 2, and `layer="dense_1"` silently returned another layer's features.
    import keras
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import cross_val_score
    from sklearn.pipeline import make_pipeline

    from netdsl.dsl import analyse, loads
    from netdsl.estimators import NetTransformer

    X, y = digits
    net = "dense(12, activation=relu)\ndense(6, activation=tanh)\ndense(4)\n"
    keras.layers.Dense(3), keras.layers.Dense(3)  # the user's own layers, made first
    shown = [row.name for row in analyse(loads(net)).rows]
    for _ in range(2):
        features = NetTransformer(net, layer="dense").fit(X)
        assert [layer.name for layer in features.model_.layers[1:]] == shown == ["dense", "dense_1", "dense_2"]
        assert features.transform(X).shape == (len(X), 12)
    assert NetTransformer(net, layer="dense_1").fit(X).transform(X).shape == (len(X), 6)
    scores = cross_val_score(make_pipeline(NetTransformer(net, layer="dense", random_state=0),
                                           LogisticRegression(max_iter=200)), X, y, cv=3)
    assert len(scores) == 3 and scores.min() > 0.5


@pytest.mark.parametrize("weight", [-1.0, np.nan, np.inf])
def test_negative_or_non_finite_weights_are_refused(digits, weight):
    # A negative weight was accepted silently and the loss went negative.
    X, y = digits
    sample_weight = np.ones(len(X))
    sample_weight[3] = weight
    with user_error(ValueError, match="sample_weight"):
        NetClassifier(MLP, epochs=1).fit(X, y, sample_weight=sample_weight)
    with user_error(ValueError, match="class_weight must be finite and non-negative"):
        NetClassifier(MLP, epochs=1, class_weight={0: weight}).fit(X, y)
    with user_error(ValueError, match="class_weight must be finite and non-negative"):
        NetClassifier(MLP, epochs=1, class_weight=[1.0] * 9 + [weight]).fit(X, y)
    with user_error(ValueError, match="sample_weight"):
        NetRegressor("dense(1)\n", epochs=1).fit(X, y.astype(float), sample_weight=sample_weight)


TENSORFLOW_VARIABLES = ("TF_CPP_MIN_LOG_LEVEL", "KERAS_BACKEND", "TF_NUM_INTRAOP_THREADS", "TF_ENABLE_ONEDNN_OPTS",
                        "TF_MKL_OPTIMIZE_PRIMITIVE_MEMUSE")


def test_importing_the_estimators_changes_no_environment_variable_and_starts_no_tensorflow():
    # Four variables were set when netdsl.estimators was imported, and so applied to the user's own
    # TensorFlow code too; runtime.configure_process sets them where netdsl's training starts.
    script = f"""
import os, sys
for name in {TENSORFLOW_VARIABLES!r}:
    os.environ.pop(name, None)
before = dict(os.environ)
import netdsl.estimators
import netdsl.estimators.runtime
assert dict(os.environ) == before, set(os.environ.items()) ^ set(before.items())
assert "tensorflow" not in sys.modules and "keras" not in sys.modules
print("untouched")
"""
    done = in_fresh_python(script)
    assert done.stdout.split()[-1:] == ["untouched"], done.stderr[-3000:]


def test_keras_is_imported_once_with_the_collector_paused_and_its_state_put_back():
    # runtime.start_keras: importing TensorFlow and Keras ran about a thousand collections (seven of
    # them full ones, a second or two of a cold fit), and every later full collection walked the
    # half a million objects they made. Now: one full collection before the import, none during
    # it, those objects frozen, the collector enabled or disabled as the user had it, all of it
    # once per process.
    script = """
import gc, sys
from netdsl.estimators import runtime
collections = []
gc.callbacks.append(lambda phase, info: collections.append(info["generation"]) if phase == "start" else None)
runtime.start_keras()
assert "keras" in sys.modules and "tensorflow" in sys.modules
assert gc.isenabled() and collections == [2], collections[:20]  # one full collection, before the import
frozen = gc.get_freeze_count()
assert frozen > 100_000, frozen
gc.disable()
runtime.start_keras()
assert not gc.isenabled() and gc.get_freeze_count() == frozen
print("started once")
"""
    done = in_fresh_python(script)
    assert done.stdout.split()[-2:] == ["started", "once"], done.stderr[-3000:]


def test_a_fit_sets_up_the_process_before_tensorflow_starts_and_the_users_values_win():
    script = f"""
import os, sys
for name in {TENSORFLOW_VARIABLES!r}:
    os.environ.pop(name, None)
os.environ["TF_MKL_OPTIMIZE_PRIMITIVE_MEMUSE"] = "true"  # the user's choice
import numpy as np
from netdsl.estimators import NetRegressor
from netdsl.estimators.runtime import configure_process
import netdsl.estimators.runtime as runtime
seen = []
original = runtime.configure_process
def spied():
    seen.append("tensorflow" in sys.modules)
    return original()
runtime.configure_process = spied
X = np.random.RandomState(0).rand(20, 3).astype("float32")
NetRegressor("dense(1)\\n", epochs=1).fit(X, X[:, 0])
assert seen and seen[0] is False, seen  # called before TensorFlow was imported
assert os.environ["TF_CPP_MIN_LOG_LEVEL"] == "2" and os.environ["KERAS_BACKEND"] == "tensorflow"
assert os.environ["TF_MKL_OPTIMIZE_PRIMITIVE_MEMUSE"] == "true"
import platform
assert os.environ.get("TF_ENABLE_ONEDNN_OPTS") == ("1" if platform.machine().lower() in ("x86_64", "amd64") else None)
assert os.environ.get("TF_NUM_INTRAOP_THREADS") == ("1" if os.cpu_count() <= 2 else None)
assert configure_process() == {{}}  # done once: nothing left to set
print("configured")
"""
    done = in_fresh_python(script)
    assert done.stdout.split()[-1:] == ["configured"], done.stderr[-3000:]


def test_loading_copying_or_unpickling_a_fitted_estimator_leaves_pythons_random_as_it_was(digits, tmp_path):
    # Rebuilding the Keras model drew its initializers' seeds from Python's `random` (the file's
    # weights then replaced them): a user's `random.seed(0)`, `load(...)`, then their own draws
    # got other numbers.
    import copy
    import pickle
    import random

    from netdsl.estimators import load

    X, y = digits
    est = NetClassifier(MLP, random_state=0, epochs=1).fit(X, y)
    path = est.save(tmp_path / "m.model")
    random.seed(0)
    expected = random.random()
    for rebuild in (lambda: load(path), lambda: copy.deepcopy(est), lambda: pickle.loads(pickle.dumps(est))):
        random.seed(0)
        rebuild().predict(X[:2])
        assert random.random() == expected


def test_the_plot_command_called_from_python_keeps_the_callers_matplotlib_backend(tmp_path):
    # `main(["plot", ...])` switched a Python caller's backend to Agg (no window for a later
    # `plt.show()`); only the `netdsl` program chooses it.
    script = f"""
import matplotlib
matplotlib.use("svg")
import numpy as np
from netdsl.estimators import NetClassifier
from netdsl.pipelines.cli import main
X = np.random.RandomState(0).rand(40, 4).astype("float32"); y = (X[:, 0] > 0.5).astype(int)
NetClassifier("input (4)\\ndense(2, activation=softmax)\\n", epochs=1, random_state=0).fit(X, y).save({str(tmp_path / "m.model")!r})
assert main(["plot", "curves", {str(tmp_path / "m.model")!r}, "--out", {str(tmp_path / "c.png")!r}]) == 0
print(matplotlib.get_backend())
"""
    done = in_fresh_python(script)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split()[-1] == "svg"
