"""One test per use of another library's private API (netdsl/dsl/compat.py): each fails loudly if
a new Keras, TensorFlow, scikit-learn or joblib removes or changes what netdsl relies on."""

import random
import subprocess
import sys

import numpy as np
import pytest

from netdsl.dsl import compat


def test_importing_compat_imports_no_library_it_wraps():
    script = ("import sys, netdsl.dsl.compat\n"
              "print(sorted(m for m in ('tensorflow', 'keras', 'sklearn', 'joblib') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.stdout.split() == ["[]"], done.stderr[-2000:]


# ---- Keras -----------------------------------------------------------------------------------------


def test_seed_maker_draws_keras_seeds_from_pythons_random():
    make_default_seed = compat.seed_maker()
    assert make_default_seed is not None, "keras.src.random.seed_generator.make_default_seed is gone"
    random.seed(11)
    first = make_default_seed()
    random.seed(11)
    assert isinstance(first, int) and make_default_seed() == first


def test_keras_random_is_what_make_default_seed_draws_from_and_can_be_replaced():
    make_default_seed = compat.seed_maker()
    kept = compat.keras_random()
    assert kept is random  # Python's `random` outside a seeded fit
    try:
        compat.set_keras_random(random.Random(11))
        first = make_default_seed()
        compat.set_keras_random(random.Random(11))
        state = random.getstate()
        assert make_default_seed() == first and random.getstate() == state  # the global stream untouched
    finally:
        compat.set_keras_random(kept)
    random.seed(11)
    assert make_default_seed() == first  # the same numbers as from Python's `random` seeded alike


def test_variable_initializer_is_the_one_a_layer_gave():
    import keras

    layer = keras.layers.Dense(3, kernel_initializer="ones")
    with compat.uninitialized_variables_kept(), keras.StatelessScope(initialize_variables=False):
        layer.build((None, 2))  # as weight_plan makes layers: the variable keeps its initializer
    initializer = compat.variable_initializer(layer.kernel)
    assert isinstance(initializer, keras.initializers.Ones)
    np.testing.assert_array_equal(np.asarray(initializer((2, 3), dtype="float32")), np.ones((2, 3)))


def test_uninitialized_variables_kept_puts_keras_list_back():
    import keras
    from keras.src.backend.common import global_state

    before = list(global_state.get_global_attribute("uninitialized_variables") or [])
    with compat.uninitialized_variables_kept():
        with keras.StatelessScope(initialize_variables=False):
            keras.Variable(initializer="zeros", shape=(2,))
    assert list(global_state.get_global_attribute("uninitialized_variables") or []) == before


def test_keras_seed_state_is_what_set_random_seed_sets_and_can_be_put_back():
    import keras

    saved = compat.keras_seed_state()
    try:
        keras.utils.set_random_seed(3)
        state = compat.keras_seed_state()
        assert len(state) == 2 and 3 in state.values()
        compat.reset_keras_seed(5)
        assert sorted(state) == sorted(compat.keras_seed_state())
        assert 5 in compat.keras_seed_state().values() and None in compat.keras_seed_state().values()
    finally:
        compat.set_keras_seed_state(saved)
    assert compat.keras_seed_state() == saved


def test_learning_rate_variable_and_adam_slots():
    import keras

    optimizer = keras.optimizers.Adam(learning_rate=0.01)
    variable = keras.Variable(np.ones((2, 3), dtype="float32"))
    optimizer.build([variable])
    rate = compat.learning_rate_variable(optimizer)
    assert isinstance(rate, keras.Variable) and float(rate.numpy()) == pytest.approx(0.01)
    first, second = compat.adam_slots(optimizer, variable)
    assert tuple(first.shape) == tuple(second.shape) == (2, 3) and first is not second


@pytest.mark.parametrize("conv, shape", [("Conv2D", (6, 6, 1)), ("Conv1D", (6, 1))])
def test_open_filters_adds_a_convolutions_bias_of_any_length_and_puts_filters_back(conv, shape):
    import keras
    import tensorflow as tf

    def convnet(filters):
        layer = getattr(keras.layers, conv)
        return keras.Sequential([keras.Input(shape), layer(filters, 3), layer(2, 1)])

    model, wider = convnet(4), convnet(7)
    x = np.random.default_rng(0).random((2, *shape), dtype="float32")

    def traced():
        """`model`'s call traced with its variables read from a vector of handles, as a family's shared trace."""
        def run(x, handles):
            with compat.variables_read_from(model.variables, tf.unstack(handles, num=len(model.variables))):
                return model(x)

        return tf.function(run, input_signature=(tf.TensorSpec((None, *shape)), tf.TensorSpec((4,), tf.resource)))

    handles = tf.stack([v.value.handle for v in wider.variables])
    with pytest.raises(Exception):  # Keras reshapes the bias to the traced layer's own `filters`
        traced()(x, handles)
    with compat.open_filters(model):
        assert model.layers[0].filters == model.layers[1].filters == -1
        function = traced()
        function.get_concrete_function()
    assert model.layers[0].filters == 4 and model.layers[1].filters == 2
    np.testing.assert_allclose(function(x, handles).numpy(), wider(x).numpy(), rtol=1e-6, atol=1e-6)


def test_call_graph_calls_the_same_layers_on_new_tensors():
    import keras

    inner_input = keras.Input((3,))
    dense = keras.layers.Dense(2)
    inner = keras.Model(inner_input, dense(inner_input))
    outer_input = keras.Input((4,))
    cut = keras.layers.Dense(3)(outer_input)
    outer = keras.Model(outer_input, compat.call_graph(inner, [cut]))
    assert dense in outer.layers and inner not in outer.layers  # the layer itself, not the model nested
    x = np.ones((1, 4), dtype="float32")
    np.testing.assert_allclose(outer(x), inner(outer.layers[1](x)), rtol=1e-6)


def test_training_loss_and_loss_tracker_are_train_steps():
    import keras

    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1, kernel_initializer="ones",
                                                                       kernel_regularizer=keras.regularizers.L2(0.5))])
    model.compile(optimizer="sgd", loss="mse")
    x, y = np.ones((4, 2), dtype="float32"), np.zeros((4, 1), dtype="float32")
    loss = compat.training_loss(model, x, y, model(x), None)
    assert float(loss) == pytest.approx(4.0 + 0.5 * 2.0)  # mse of 2s, plus the kernel's L2
    tracker = compat.loss_tracker(model)
    tracker.update_state(loss, sample_weight=4)
    assert float(tracker.result()) == pytest.approx(5.0)


# ---- TensorFlow -------------------------------------------------------------------------------------


def test_tensorflow_seed_state_round_trip():
    import tensorflow as tf

    saved = compat.tensorflow_seed_state()
    try:
        tf.random.set_seed(4)
        seed, rng_state = compat.tensorflow_seed_state()
        assert seed == 4 and rng_state is not None
        compat.set_tensorflow_seed_state((None, None))
        assert compat.tensorflow_seed_state() == (None, None)
        compat.set_tensorflow_seed_state((seed, rng_state))
        assert compat.tensorflow_seed_state() == (seed, rng_state)
    finally:
        compat.set_tensorflow_seed_state(saved)


def test_op_determinism_round_trip():
    before = compat.op_determinism()
    try:
        compat.set_op_determinism(True)
        assert compat.op_determinism() is True
        compat.set_op_determinism(False)
        assert compat.op_determinism() is False
    finally:
        compat.set_op_determinism(before)


def test_function_call_options_run_a_function_on_the_single_threaded_executor_and_are_put_back():
    import tensorflow as tf
    from tensorflow.python.eager import context

    before = context.context().function_call_options.executor_type
    function = tf.function(lambda x: x * 2 + 1, autograph=False)
    with compat.function_call_options("SINGLE_THREADED_EXECUTOR", rewrites=False):
        assert context.context().function_call_options.executor_type == "SINGLE_THREADED_EXECUTOR"
        assert float(function(tf.constant(2.0))) == 5.0
    assert context.context().function_call_options.executor_type == before


def test_function_call_options_turn_grappler_remapping_off_and_put_it_back():
    import tensorflow as tf
    from tensorflow.core.protobuf import config_pb2, rewriter_config_pb2
    from tensorflow.python.eager import context

    def remapping():
        config = config_pb2.ConfigProto.FromString(context.context().function_call_options.config_proto_serialized)
        return config.graph_options.rewrite_options.remapping

    before = remapping()
    function = tf.function(lambda x: x * 2 + 1, autograph=False)
    with compat.function_call_options("", rewrites=True, remapping=False):
        assert remapping() == rewriter_config_pb2.RewriterConfig.OFF
        assert float(function(tf.constant(2.0))) == 5.0
    assert remapping() == before != rewriter_config_pb2.RewriterConfig.OFF


# ---- scikit-learn and joblib ------------------------------------------------------------------------


def test_check_sample_weight():
    X = np.zeros((3, 2))
    np.testing.assert_array_equal(compat.check_sample_weight(None, X), np.ones(3))
    with pytest.raises(ValueError, match="(?i)negative"):
        compat.check_sample_weight([1.0, -1.0, 1.0], X, ensure_non_negative=True)


def test_param_names_and_parameter_constraints():
    from sklearn.model_selection import GridSearchCV

    from netdsl.estimators import NetClassifier

    assert "net" in compat.param_names(NetClassifier) and "epochs" in compat.param_names(NetClassifier)
    constraints = compat.parameter_constraints(GridSearchCV)
    assert "param_grid" in constraints and "cv" in constraints


def test_interval_is_a_constraint_scikit_learn_checks():
    from numbers import Integral

    from sklearn.base import BaseEstimator

    class Chunked(BaseEstimator):
        _parameter_constraints = {"chunk_size": [compat.interval(Integral, 1, None, closed="left"), None]}

        def __init__(self, chunk_size=None):
            self.chunk_size = chunk_size

    Chunked(chunk_size=2)._validate_params()
    with pytest.raises(ValueError, match="chunk_size"):
        Chunked(chunk_size=0)._validate_params()


def test_loky_backend_class_limits_worker_threads_by_variables():
    backend = compat.loky_backend_class()
    assert "OMP_NUM_THREADS" in backend.MAX_NUM_THREADS_VARS

    class OneThread(backend):
        MAX_NUM_THREADS_VARS = list(backend.MAX_NUM_THREADS_VARS) + ["TF_NUM_INTRAOP_THREADS"]

    assert OneThread().MAX_NUM_THREADS_VARS[-1] == "TF_NUM_INTRAOP_THREADS"
