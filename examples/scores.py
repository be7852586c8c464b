"""Held-out scores of the example nets on real data, next to simple baselines.

    pip install -e ".[examples]"
    python examples/scores.py            # a few minutes on a 2-core CPU
    python examples/scores.py digits     # only some of the data sets: digits, reviews, sunspots,
                                         # reviews_meta, two_heads, denoise

Prints a Markdown table (the one in the README's "Examples on real data"). Fixed seeds and fixed
splits, the same as `netdsl fit` uses (seed 0):

- digits (scikit-learn's 1,797 8x8 handwritten digits, pixels 0-16 as `--data digits` gives them):
  a stratified 20% held out; `resnet_digits.net` (residual blocks) and `digits_cnn.net` as
  written, vs logistic regression and an RBF support vector machine on the 64 pixels.
- reviews (12,808 Rotten Tomatoes snippets, fresh or rotten): a stratified 20% held out;
  `sentiment_lstm.net` as written, and the same net with `mask_zero=true` on its embedding (the
  snippets have about 18 words: padded to 60 tokens, an unmasked LSTM reads 40 padding steps
  after the words), and `reviews_bag.net` (fastText-style averaged word vectors), vs logistic regression on TF-IDF bag of words vs the majority class.
- sunspots (yearly counts 1700-2008), windows of 24 years -> the next year: the last 20% of the
  windows in time order held out; `sunspots_gru.net` as written, on raw counts and standardised
  (`netdsl fit ... --scale`), vs repeating the last value vs a linear autoregression on the same
  24 values vs the training mean.
- reviews_meta (the same snippets and split, each with 5 numbers about its text: length, words,
  `!`, `?`, capitals): `reviews_meta.net` (two inputs) vs `reviews_bag.net` on the text alone,
  logistic regression on TF-IDF with and without the numbers, and on the numbers alone.
- two_heads (the digits, labelled with the digit and whether it is even; a stratified 20% held
  out): `two_heads.net` (one trunk, two outputs) vs a logistic regression per head.
- denoise (the digits scaled to 0-1 with Gaussian noise of sd 0.25, to be cleaned; a random 20%
  held out; mean squared error against the clean pixels): `denoise_digits.net` vs the noisy
  input as it is, a 16-component PCA reconstruction and ridge regression from noisy to clean.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
from sklearn.compose import TransformedTargetRegressor
from sklearn.dummy import DummyClassifier, DummyRegressor
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.metrics import accuracy_score, mean_absolute_error, r2_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from netdsl.pipelines import flat_samples
from netdsl.pipelines.data import load_data

EXAMPLES = Path(__file__).resolve().parent
SEED = 0
TEST_SIZE = 0.2
WINDOW = 24  # sunspots_gru.net's `input (24, 1)`


def _timed(model, X, y):
    started = time.perf_counter()
    model.fit(X, y)
    return model, time.perf_counter() - started


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def digit_rows():
    from sklearn.svm import SVC

    from netdsl.estimators import NetClassifier

    data = load_data("digits")
    X_train, X_test, y_train, y_test = train_test_split(
        data.X, data.y, test_size=TEST_SIZE, random_state=SEED, stratify=data.y
    )
    where = f"digits: {len(y_train):,} train / {len(y_test)} test (stratified)"
    models = {
        "`resnet_digits.net` (residual blocks)": NetClassifier(EXAMPLES / "resnet_digits.net", random_state=SEED),
        "`digits_cnn.net` (plain convnet)": NetClassifier(EXAMPLES / "digits_cnn.net", random_state=SEED),
        "logistic regression on the 64 pixels (standardised)": make_pipeline(
            StandardScaler(), LogisticRegression(max_iter=5000)
        ),
        "RBF support vector machine on the 64 pixels": SVC(),
    }
    rows = []
    for name, model in models.items():
        _say(f"fitting {name} on {where} ...")
        model, seconds = _timed(model, X_train, y_train)
        accuracy = accuracy_score(y_test, model.predict(X_test))
        rows.append((where, name, f"accuracy **{accuracy:.3f}**", seconds))
    return rows


def review_rows():
    from netdsl.estimators import NetClassifier

    data = load_data("reviews")
    X_train, X_test, y_train, y_test = train_test_split(
        data.X, data.y, test_size=TEST_SIZE, random_state=SEED, stratify=data.y
    )
    where = f"reviews: {len(y_train):,} train / {len(y_test):,} test (stratified)"
    written = (EXAMPLES / "sentiment_lstm.net").read_text(encoding="utf-8")
    masked = written.replace("embedding(vocabulary, 50)", "embedding(vocabulary, 50, mask_zero=true)")
    assert masked != written
    models = {
        "`sentiment_lstm.net` (as written)": NetClassifier(EXAMPLES / "sentiment_lstm.net", random_state=SEED),
        "the same net, padding masked (`embedding(vocabulary, 50, mask_zero=true)`)": NetClassifier(
            masked, random_state=SEED
        ),
        "`reviews_bag.net` (averaged word vectors, padding masked)": NetClassifier(
            EXAMPLES / "reviews_bag.net", random_state=SEED
        ),
        "logistic regression on TF-IDF words and word pairs": make_pipeline(
            TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True), LogisticRegression(C=4.0, max_iter=2000)
        ),
        "majority class (always fresh)": DummyClassifier(strategy="most_frequent"),
    }
    rows = []
    for name, model in models.items():
        _say(f"fitting {name} on {where} ...")
        model, seconds = _timed(model, X_train, y_train)
        accuracy = accuracy_score(y_test, model.predict(X_test))
        rows.append((where, name, f"accuracy **{accuracy:.3f}**", seconds))
    return rows


def sunspot_rows():
    from netdsl.estimators import NetRegressor

    data = load_data("sunspots", window=WINDOW)
    X_train, X_test, y_train, y_test = train_test_split(data.X, data.y, test_size=TEST_SIZE, shuffle=False)
    where = f"sunspots: {len(y_train)} train / {len(y_test)} test windows (last 20%, years {2008 - len(y_test) + 1}-2008)"
    net = EXAMPLES / "sunspots_gru.net"
    models = {
        "`sunspots_gru.net` on raw counts": NetRegressor(net, random_state=SEED),
        "`sunspots_gru.net` standardised (`--scale`)": TransformedTargetRegressor(
            make_pipeline(FunctionTransformer(flat_samples), StandardScaler(), NetRegressor(net, random_state=SEED)),
            transformer=StandardScaler(),
        ),
        "linear autoregression on the same 24 years": make_pipeline(FunctionTransformer(flat_samples), LinearRegression()),
        "last value (next year = this year)": None,
        "training mean": make_pipeline(FunctionTransformer(flat_samples), DummyRegressor()),
    }
    rows = []
    for name, model in models.items():
        if model is None:
            predictions, seconds = X_test[:, -1, 0], 0.0
        else:
            _say(f"fitting {name} on {where} ...")
            model, seconds = _timed(model, X_train, y_train)
            predictions = model.predict(X_test)
        score = f"R² **{r2_score(y_test, predictions):.3f}**, MAE {mean_absolute_error(y_test, predictions):.1f}"
        rows.append((where, name, score, seconds))
    return rows


def reviews_meta_rows():
    """`reviews_meta.net` (words + numbers about the text, two inputs) on the same split as `reviews`."""
    from sklearn.compose import ColumnTransformer

    from netdsl.estimators import NetClassifier

    data = load_data("reviews_meta")
    X_train, X_test, y_train, y_test = train_test_split(
        data.X, data.y, test_size=TEST_SIZE, random_state=SEED, stratify=data.y
    )
    where = f"reviews_meta: {len(y_train):,} train / {len(y_test):,} test (stratified; text + 5 numbers)"
    meta = [c for c in data.X.columns if c.startswith("meta_")]
    tfidf = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True)
    models = {
        "`reviews_meta.net` (averaged word vectors + the numbers, two inputs)": (
            NetClassifier(EXAMPLES / "reviews_meta.net", random_state=SEED), list(data.X.columns)),
        "`reviews_bag.net` on the text alone": (NetClassifier(EXAMPLES / "reviews_bag.net", random_state=SEED), "review"),
        "logistic regression on TF-IDF words and word pairs (text alone)": (
            make_pipeline(tfidf, LogisticRegression(C=4.0, max_iter=2000)), "review"),
        "logistic regression on TF-IDF + the numbers (standardised)": (make_pipeline(
            ColumnTransformer([("words", tfidf, "review"), ("numbers", StandardScaler(), meta)]),
            LogisticRegression(C=4.0, max_iter=2000)), list(data.X.columns)),
        "logistic regression on the 5 numbers alone": (make_pipeline(StandardScaler(), LogisticRegression()), meta),
    }
    rows = []
    for name, (model, columns) in models.items():
        _say(f"fitting {name} on {where} ...")
        model, seconds = _timed(model, X_train[columns], y_train)
        accuracy = accuracy_score(y_test, model.predict(X_test[columns]))
        rows.append((where, name, f"accuracy **{accuracy:.3f}**", seconds))
    return rows


def two_heads_rows():
    """`two_heads.net` (one trunk, the digit and whether it is even) vs a logistic regression per head."""
    from netdsl.estimators import NetClassifier

    data = load_data("digits_two_heads")
    X_train, X_test, y_train, y_test = train_test_split(
        data.X, data.y, test_size=TEST_SIZE, random_state=SEED, stratify=data.y
    )
    where = f"digits_two_heads: {len(y_train):,} train / {len(y_test)} test (stratified)"
    rows = []
    _say(f"fitting two_heads.net on {where} ...")
    net, seconds = _timed(NetClassifier(EXAMPLES / "two_heads.net", random_state=SEED), X_train, y_train)
    predicted = net.predict(X_test)
    rows.append((where, "`two_heads.net` (one net, two outputs)", _heads_score(y_test, predicted), seconds))
    started, columns = time.perf_counter(), []
    for head in ("digit", "even"):
        _say(f"fitting a logistic regression for {head} on {where} ...")
        model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=5000)).fit(X_train, y_train[head])
        columns.append(model.predict(X_test))
    name = "a logistic regression per head on the 64 pixels (standardised)"
    rows.append((where, name, _heads_score(y_test, np.column_stack(columns)), time.perf_counter() - started))
    return rows


def _heads_score(y_test, predicted) -> str:
    digit = accuracy_score(y_test["digit"], predicted[:, 0])
    even = accuracy_score(y_test["even"], predicted[:, 1])
    both = np.mean((y_test["digit"].to_numpy() == predicted[:, 0]) & (y_test["even"].to_numpy() == predicted[:, 1]))
    return f"digit accuracy **{digit:.3f}**, even **{even:.3f}**, both right {both:.3f}"


def denoise_rows():
    """`denoise_digits.net` vs the noisy input itself, PCA reconstruction and a linear denoiser."""
    from sklearn.decomposition import PCA
    from sklearn.linear_model import Ridge

    from netdsl.estimators import NetRegressor

    data = load_data("digits_noisy")
    X_train, X_test, y_train, y_test = train_test_split(data.X, data.y, test_size=TEST_SIZE, random_state=SEED)
    where = f"digits_noisy: {len(y_train):,} train / {len(y_test)} test (random; noise sd 0.25, pixels 0-1)"

    def pca(X, y):  # the noisy digits projected on their first 16 components and back
        return PCA(n_components=16, random_state=SEED).fit(X)

    def reconstruct(model, X):
        return model.inverse_transform(model.transform(X)) if hasattr(model, "inverse_transform") else model.predict(X)

    models = {
        "`denoise_digits.net` (conv autoencoder)": NetRegressor(EXAMPLES / "denoise_digits.net", random_state=SEED).fit,
        "the noisy input as it is": None,
        "PCA reconstruction, 16 components fitted on the noisy training digits": pca,
        "ridge regression, noisy pixels to clean (the best linear denoiser)": Ridge(alpha=1.0).fit,
    }
    rows = []
    for name, fit in models.items():
        predictions, seconds = X_test, 0.0
        if fit is not None:
            _say(f"fitting {name} on {where} ...")
            started = time.perf_counter()
            model = fit(X_train, y_train)
            seconds = time.perf_counter() - started
            predictions = np.clip(reconstruct(model, X_test), 0, 1)
        mse = float(np.mean((np.asarray(predictions).reshape(len(y_test), -1) - y_test) ** 2))
        rows.append((where, name, f"MSE **{mse:.4f}**", seconds))
    return rows


DATA_SETS = {
    "digits": digit_rows, "reviews": review_rows, "sunspots": sunspot_rows,
    "reviews_meta": reviews_meta_rows, "two_heads": two_heads_rows, "denoise": denoise_rows,
}  # fmt: skip


def main(argv=None) -> int:
    """Rows for the data sets named on the command line (all of them when none is)."""
    names = (sys.argv[1:] if argv is None else argv) or list(DATA_SETS)
    unknown = [name for name in names if name not in DATA_SETS]
    if unknown:
        _say(f"unknown data set {', '.join(unknown)}: choose from {', '.join(DATA_SETS)}")
        return 2
    from netdsl.estimators import runtime

    runtime.configure_process()  # what a fit does first (TensorFlow's threads), then TensorFlow's
    import keras  # noqa: F401  import, which is then not counted in the first fit's time

    rows = [row for name in names for row in DATA_SETS[name]()]
    print("| data (held out) | model | held-out score | fit time |")
    print("| --- | --- | --- | --- |")
    for where, name, score, seconds in rows:
        print(f"| {where} | {name} | {score} | {seconds:.1f} s |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
