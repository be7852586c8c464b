"""What scikit-learn users pass and meet: multilabel targets, a transformer that learns class
labels, and data that must give a clear error rather than a traceback from NumPy or TensorFlow.
Tiny real fits (a few epochs, fixed seeds)."""

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.datasets import make_multilabel_classification
from sklearn.metrics import accuracy_score
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.preprocessing import StandardScaler
from sklearn.utils import estimator_checks

from netdsl.dsl import NetError
from netdsl.estimators import NetClassifier, NetRegressor, NetTransformer

from conftest import user_error

MULTILABEL = """net tags
dense(16, activation=relu)
dense(n_outputs, activation=sigmoid)
train {
    optimizer = adam(learning_rate=0.03)
    loss = binary_crossentropy
    epochs = 5
}
"""
SOFTMAX = """net labels
dense(8, activation=relu, name="hidden")
dense(n_classes, activation=softmax)
train {
    optimizer = adam(learning_rate=0.05)
    epochs = 3
}
"""
LINEAR = "dense(8, activation=relu)\ndense(n_outputs)\ntrain {\n    epochs = 1\n}\n"
TEXT = """input text
text_vectorization(max_tokens=100, output_sequence_length=5)
embedding(100, 4)
global_average_pooling1d()
dense(n_classes, activation=softmax)
"""


@pytest.fixture(scope="module")
def tags():
    X, Y = make_multilabel_classification(120, n_features=6, n_classes=4, random_state=0)
    return StandardScaler().fit_transform(X), Y


# ---- multilabel targets ---------------------------------------------------------------------


def test_multilabel_matrix_as_scikit_learn_takes_it(tags):
    X, Y = tags
    clf = NetClassifier(MULTILABEL, epochs=20, random_state=0).fit(X, Y)
    assert clf.output_mode_ == "multilabel"
    assert clf.classes_.tolist() == [0, 1, 2, 3]  # the label columns, as MLPClassifier has them
    assert clf.model_.output_shape == (None, 4)  # n_outputs bound to the number of labels
    proba = clf.predict_proba(X)
    assert proba.shape == (120, 4) and proba.dtype == np.float64 and ((proba >= 0) & (proba <= 1)).all()
    pred = clf.predict(X)
    assert pred.dtype == np.int64 and pred.shape == Y.shape
    assert (pred == (proba > 0.5)).all()
    assert clf.score(X, Y) == accuracy_score(Y, pred)  # subset accuracy
    assert clf.history_["loss"][-1] < 0.7 * clf.history_["loss"][0]
    assert clf.__sklearn_tags__().classifier_tags.multi_label
    # booleans, lists of lists and one-column-per-label frames are the same target
    same = NetClassifier(MULTILABEL, epochs=20, random_state=0)
    assert (same.fit(X, pd.DataFrame(Y.astype(bool), columns=list("abcd"))).predict(X) == pred).all()


def test_multilabel_in_cross_validation_and_grid_search(tags):
    X, Y = tags
    scores = cross_val_score(NetClassifier(MULTILABEL, random_state=0), X, Y, cv=2)  # KFold: y is multilabel
    assert scores.shape == (2,)
    search = GridSearchCV(NetClassifier(MULTILABEL, random_state=0), {"epochs": [1, 3]}, cv=2).fit(X, Y)
    assert search.best_estimator_.predict(X[:3]).shape == (3, 4)
    NetClassifier(MULTILABEL, validation_split=0.25, random_state=0).fit(X, Y)  # unstratified hold-out


@pytest.mark.parametrize(
    "check",
    [
        estimator_checks.check_classifiers_multilabel_representation_invariance,
        estimator_checks.check_classifiers_multilabel_output_format_predict,
        estimator_checks.check_classifiers_multilabel_output_format_predict_proba,
    ],
)
def test_scikit_learn_multilabel_checks_on_a_sigmoid_net(check):
    check("NetClassifier", NetClassifier(MULTILABEL, epochs=3, random_state=0))


def test_multilabel_mistakes_are_clear(tags):
    X, Y = tags
    with user_error(NetError, match=r"(?s)needs `sigmoid` units.*3 \| dense\(n_classes, activation=softmax\)"):
        NetClassifier(SOFTMAX).fit(X, Y)
    with user_error(ValueError, match="multiclass-multioutput, which is not supported.*MultiOutputClassifier"):
        NetClassifier(MULTILABEL).fit(X, np.where(Y == 1, "yes", "no"))
    with user_error(ValueError, match=r"A multilabel target is a 0/1 matrix .*; y holds \[-1, 1\]"):
        NetClassifier(MULTILABEL).fit(X, Y * 2 - 1)
    with user_error(ValueError, match="for a multilabel target, pass sample_weight"):
        NetClassifier(MULTILABEL, class_weight="balanced").fit(X, Y)
    with user_error(ValueError, match="categorical_crossentropy' does not fit a multilabel target"):
        NetClassifier(MULTILABEL, loss="categorical_crossentropy").fit(X, Y)
    clf = NetClassifier(MULTILABEL, epochs=1, warm_start=True).fit(X, Y)
    with user_error(ValueError, match="as at the first fit"):
        clf.fit(X, Y[:, 0])
    from netdsl.pipelines.plots import confusion_matrix_plot

    with user_error(ValueError, match="this model is multilabel: see sklearn.metrics.multilabel_confusion_matrix"):
        confusion_matrix_plot(clf, X, Y)


def test_column_vector_y_is_one_label_per_sample(iris):
    X, y = iris
    with pytest.warns(Warning, match="column-vector y"):
        clf = NetClassifier(SOFTMAX, epochs=1).fit(X, y.reshape(-1, 1))
    assert clf.output_mode_ == "multiclass" and clf.predict(X[:2]).shape == (2,)


# ---- NetTransformer learns class labels -------------------------------------------------------


def test_transformer_learns_string_labels_as_a_classifier(iris):
    X, y = iris
    labels = np.array(["setosa", "versicolor", "virginica"])[y]
    t = NetTransformer(SOFTMAX, layer="hidden", random_state=0).fit(X, labels)
    assert t.task_ == "classification" and t.classes_.tolist() == ["setosa", "versicolor", "virginica"]
    assert t.transform(X).shape == (150, 8)
    assert t.history_["loss"][-1] < t.history_["loss"][0]


def test_transformer_integer_labels_are_classes_not_numbers(iris):
    X, y = iris
    t = NetTransformer(SOFTMAX, random_state=0).fit(X, y)
    assert t.task_ == "classification" and t.output_mode_ == "multiclass"
    out = t.transform(X)  # the softmax: rows of probabilities, not a regression onto 0, 1, 2
    assert out.shape == (150, 3) and np.allclose(out.sum(axis=1), 1, atol=1e-5)
    # a linear head on labels: located, with the way to regress them
    with user_error(NetError, match=r'(?s)must end in `softmax` \(it has no activation\).*pass task="regression"'):
        NetTransformer(LINEAR).fit(X, y)
    assert NetTransformer(LINEAR, task="regression").fit(X, y).task_ == "regression"


def test_transformer_regresses_continuous_targets(iris):
    X, _ = iris
    t = NetTransformer(LINEAR, random_state=0).fit(X, X[:, 0])
    assert t.task_ == "regression" and t.transform(X[:2]).shape == (2, 1)
    with user_error(ValueError, match="y holds str values such as 'a'; pass task=\"classification\""):
        NetTransformer(LINEAR, task="regression").fit(X, np.array(["a", "b"] * 75))
    with user_error(ValueError, match=r"The 'task' parameter of NetTransformer must be a str among"):
        NetTransformer(SOFTMAX, task="classify").fit(X, X[:, 0])
    assert clone(NetTransformer(SOFTMAX, task="regression")).task == "regression"


# ---- data that used to give a traceback ------------------------------------------------------


def test_texts_without_a_word():
    with user_error(ValueError, match="texts hold no word for `text_vectorization` to learn"):
        NetClassifier(TEXT, epochs=1).fit(["!!", "??", "...", "-"], [0, 1, 0, 1])


def test_datetime_column_is_named(iris):
    X, y = iris
    frame = pd.DataFrame({"length": X[:, 0], "when": pd.date_range("2020-01-01", periods=150)})
    with user_error(ValueError, match=r"Column 'when' holds dates or times \(datetime64.*total_seconds"):
        NetClassifier(SOFTMAX).fit(frame, y)
    with user_error(ValueError, match="Column 'took' holds dates or times"):
        NetClassifier(SOFTMAX).fit(pd.DataFrame({"took": pd.to_timedelta(np.arange(150), unit="s")}), y)


def test_string_and_category_columns_are_named(iris):
    X, y = iris
    words = np.array(["low", "mid", "high"])[y]
    with user_error(ValueError, match="Column 'size' holds str values such as 'low'.*OneHotEncoder"):
        NetClassifier(SOFTMAX).fit(pd.DataFrame({"a": X[:, 0], "size": words}), y)
    with user_error(ValueError, match="Column 'size' holds categories such as 'low'"):
        NetClassifier(SOFTMAX).fit(pd.DataFrame({"a": X[:, 0], "size": pd.Categorical(words)}), y)
    with user_error(ValueError, match="Column 1 of X holds str values such as 'low'"):
        NetClassifier(SOFTMAX).fit(np.column_stack([X[:, 0].astype(object), words]), y)


def test_generators_are_refused_as_scikit_learn_does(iris):
    X, y = iris
    with user_error(TypeError, match="Expected array-like X .* got a generator"):
        NetClassifier(SOFTMAX).fit((row for row in X), y)
    with user_error(TypeError, match="Expected array-like y .* got a generator"):
        NetClassifier(SOFTMAX).fit(X, (label for label in y))
    with user_error(TypeError, match="Expected array-like X"):
        NetClassifier(TEXT).fit((s for s in ["a b", "c d"]), [0, 1])
    with user_error(TypeError, match="Expected array-like sample_weight .* got a generator"):
        NetClassifier(SOFTMAX).fit(X, y, sample_weight=(1.0 for _ in y))


def test_values_beyond_float32(iris):
    X, y = iris
    with user_error(ValueError, match=r"Input y holds values beyond float32's range .* such as 1e\+39"):
        NetRegressor(LINEAR).fit(X, np.full(150, 1e39))
    wide = X.astype(np.float64)
    wide[3, 2] = -1e39
    with user_error(ValueError, match=r"beyond float32's range .* such as -1e\+39 in column 2"):
        NetRegressor(LINEAR).fit(wide, X[:, 0])
    frame = pd.DataFrame(wide, columns=["a", "b", "c", "d"])
    with user_error(ValueError, match="in column 'c'"):
        NetClassifier(SOFTMAX).fit(frame, y)
    reg = NetRegressor(LINEAR).fit(X, X[:, 0])
    with user_error(ValueError, match="beyond float32's range"):
        reg.predict(wide)
    assert reg.predict(X.astype(np.float64)).shape == (150,)  # float64 within range is fine


# ---- metrics against the task, at fit ----------------------------------------------------------

TOP_K = """net digits
dense(16, activation=relu)
dense(n_classes, activation=softmax)
train {
    epochs = 2
    metrics = [top_k_categorical_accuracy]
}
"""


def test_precision_and_recall_on_three_classes_are_located(iris):
    X, y = iris
    net = SOFTMAX.replace("    epochs = 3\n", "    epochs = 3\n    metrics = [precision, recall]\n")
    with user_error(NetError, match=r"(?s)<string>:7:16: error\[N401\]: `precision` is computed per output unit.*7:27: error\[N401\]: `recall`"):
        NetClassifier(net).fit(X, y)


def test_top_k_follows_the_loss_the_estimator_trains_with():
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    X, y = X[:200] / 16, y[:200]
    with user_error(NetError, match="`top_k_categorical_accuracy` needs one-hot targets.*\n.*metrics = \\[top_k"):
        NetClassifier(TOP_K).fit(X, y)  # integer labels (sparse_categorical_crossentropy)
    # the estimator's loss makes the targets one-hot: the check at fit follows it, and Keras computes it
    clf = NetClassifier(TOP_K, loss="categorical_crossentropy", random_state=0).fit(X, y)
    assert len(clf.history_["top_k_categorical_accuracy"]) == 2


# ---- more shapes of data scikit-learn users pass -------------------------------------------------


def test_sparse_multilabel_target(tags):
    from scipy import sparse

    X, Y = tags
    clf = NetClassifier(MULTILABEL, epochs=1, random_state=0).fit(X, sparse.csr_matrix(Y))
    assert clf.output_mode_ == "multilabel" and clf.predict(X[:3]).shape == (3, 4)


def test_sparse_features_from_a_one_hot_encoder_are_made_dense():
    from scipy import sparse
    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder

    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"color": rng.choice(list("abcdefghij"), 200), "size": rng.normal(size=200)})
    y = (frame["color"] < "e").astype(int)  # learnable from the one-hot columns only
    encode = ColumnTransformer([("colors", OneHotEncoder(), ["color"]), ("sizes", StandardScaler(), ["size"])])
    assert sparse.issparse(encode.fit_transform(frame))  # what the README's advice for strings gives
    net = SOFTMAX.replace("epochs = 3", "epochs = 20")
    pipe = make_pipeline(encode, NetClassifier(net, random_state=0)).fit(frame, y)
    assert pipe.score(frame, y) > 0.8
    clf = pipe[-1]
    assert (clf.predict(sparse.csr_matrix(encode.transform(frame))) == clf.predict(encode.transform(frame).toarray())).all()
    with user_error(TypeError, match="A text net takes a list of strings; got a sparse matrix"):
        NetClassifier(TEXT).fit(sparse.csr_matrix(np.eye(2)), [0, 1])


def test_pandas_targets_and_nullable_columns(iris):
    X, y = iris
    frame = pd.DataFrame({"a": pd.array(np.arange(150), dtype="Int64"), "b": pd.array(X[:, 1], dtype="Float64"),
                          "c": pd.array([True, False] * 75, dtype="boolean"), "d": X[:, 2].astype(object)})
    labels = pd.Series(pd.Categorical(np.array(["x", "y", "z"])[y]))
    clf = NetClassifier(SOFTMAX, epochs=1).fit(frame, labels)
    assert set(clf.predict(frame[:5])) <= {"x", "y", "z"}
    NetClassifier(SOFTMAX, epochs=1).fit(X, pd.DataFrame({"label": y})["label"])
    with user_error(ValueError, match="Input X contains NaN"):  # pd.NA is missing, as NaN is
        NetClassifier(SOFTMAX).fit(frame.assign(a=pd.array([None] + list(range(149)), dtype="Int64")), y)
    with user_error(ValueError, match=r"Input y contains missing labels \(None\)"):
        NetClassifier(SOFTMAX).fit(X, ["a", None] * 75)
    with user_error(ValueError, match=r"y holds dates or times \(datetime64"):
        NetRegressor(LINEAR).fit(X, pd.Series(pd.date_range("2020-01-01", periods=150)))


def test_strings_given_to_the_wrong_kind_of_net(iris):
    X, y = iris
    with user_error(ValueError, match="X is a list of strings .* starts with `input text`"):
        NetClassifier(SOFTMAX).fit(["good film", "bad film"] * 75, y)
    clf = NetClassifier(TEXT, epochs=1).fit(["good film", "bad film"], [1, 0])
    with user_error(ValueError, match=r"got one string. Pass \['good film'\]"):
        clf.predict("good film")
    with user_error(ValueError, match="got NoneType values such as None"):
        clf.predict(["good"] * 1500 + [None])  # found wherever it is, not only in the first rows


def test_transformer_without_y_names_the_layer_that_needs_it(iris):
    X, _ = iris
    with user_error(NetError, match=r"(?s)`n_classes` is bound from y, but `fit` got no y.*3 \| dense\(n_classes"):
        NetTransformer(SOFTMAX).fit(X)


def test_one_sample(iris):
    X, y = iris
    assert NetRegressor(LINEAR).fit(X[:1], [1.0]).predict(X[:1]).shape == (1,)
    with user_error(ValueError, match="at least 2 classes"):
        NetClassifier(SOFTMAX).fit(X[:1], y[:1])


IDS_NET = """net ids
input (5)
embedding(10, 4)
global_average_pooling1d
dense(n_classes, activation=softmax)
train {
    epochs = 1
}
"""


def test_token_ids_outside_the_embedding_are_a_located_error_at_fit_and_predict():
    from netdsl.dsl import NetError
    from netdsl.estimators import NetClassifier

    ids = np.random.RandomState(0).randint(0, 10, size=(30, 5))
    y = np.arange(30) % 2
    clf = NetClassifier(IDS_NET, random_state=0).fit(ids, y)  # ids 0..9 fit `embedding(10, 4)`
    with user_error(NetError, match=r"holds token ids up to 12, but `input_dim` 10 takes token ids 0 to 9") as caught:
        NetClassifier(IDS_NET, random_state=0).fit(np.where(ids == 3, 12, ids), y)
    assert "<string>:3:1" in caught.value.render() and "at least 13" in caught.value.render()
    with user_error(NetError, match="negative token ids"):
        clf.predict(ids - 1)
    with user_error(NetError, match="not whole numbers"):
        clf.predict(ids + 0.5)
    assert clf.predict(ids).shape == (30,)


def test_nullable_labels_come_back_in_their_own_type_and_missing_ones_are_refused(iris):
    # scikit-learn's validation made `boolean` and `Int64` labels float64: classes_ [0. 1.]
    X, y = iris
    flags = pd.Series(pd.array(y == 0, dtype="boolean"))
    clf = NetClassifier(SOFTMAX.replace("dense(3", "dense(2"), epochs=1, random_state=0).fit(X, flags)
    assert clf.classes_.dtype == bool and clf.predict(X[:3]).dtype == bool
    numbers = pd.Series(pd.array(y + 3, dtype="Int64"))
    clf = NetClassifier(SOFTMAX, epochs=1, random_state=0).fit(X, numbers)
    assert clf.classes_.tolist() == [3, 4, 5] and clf.classes_.dtype.kind == "i"
    names = pd.Series(pd.array([None] + ["a", "b"] * 74 + ["a"], dtype="string"))
    with user_error(ValueError, match=r"Input y contains missing values \(1, the first in row 0\)"):
        NetClassifier(SOFTMAX).fit(X, names)


def test_a_sparse_x_too_large_to_make_dense_is_refused_before(monkeypatch):
    # `toarray()` of a 2,000 x 4,000,000 matrix: NumPy's MemoryError (or the machine's memory filled).
    import scipy.sparse

    import netdsl.dsl.shapes

    monkeypatch.setattr(netdsl.dsl.shapes, "memory_limit", lambda: 10_000)
    X = scipy.sparse.random(40, 100, density=0.05, format="csr", random_state=0, dtype=np.float32)
    with user_error(ValueError, match=r"X is sparse, 40 x 100: made dense.* more than this machine's memory"):
        NetRegressor(LINEAR, epochs=1).fit(X, np.arange(40.0))


def test_score_with_labels_of_another_type_says_so(iris):
    # scikit-learn's "Mix of label input types (string and number)" reached the user as a bare ValueError.
    X, y = iris
    clf = NetClassifier(SOFTMAX, epochs=1, random_state=0).fit(X, y.astype(str))
    with user_error(ValueError, match=r"y's labels are not of the type of the classes this classifier learned \('0', '1', '2'\)"):
        clf.score(X, y)
