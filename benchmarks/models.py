"""The benchmark nets as plain Keras models: the same layers as `benchmarks/nets/*.net`.

Each builder takes the flat 64 pixels (what every scikit-learn wrapper passes on) and the grid's
hyperparameter (`units` or `filters`), and returns an uncompiled model (a `Sequential` for a
chain, a functional `Model` for the residual MLP); `compiled` adds Adam and
a loss. The grids of `grid_search.py` vary that hyperparameter and the learning rate.
"""

from __future__ import annotations

from sklearn.base import BaseEstimator, TransformerMixin

N_FEATURES = 64
N_CLASSES = 10


def mlp(units=128):
    """64-128-10: dense(units, relu), dense(10, softmax)."""
    import keras

    return keras.Sequential([
        keras.Input((N_FEATURES,)),
        keras.layers.Dense(units, activation="relu"),
        keras.layers.Dense(N_CLASSES, activation="softmax"),
    ])  # fmt: skip


def cnn(filters=16, width=64):
    """examples/digits_cnn.net at depth 1, without augmentation or early stopping (`width`: the
    dense layer's units, 64 there; `nets/cnn_space.net` searches it)."""
    import keras

    return keras.Sequential([
        keras.Input((N_FEATURES,)),
        keras.layers.Reshape((8, 8, 1)),
        keras.layers.Conv2D(filters, 3, padding="same", activation="relu"),
        keras.layers.MaxPooling2D(2),
        keras.layers.Flatten(),
        keras.layers.Dense(width, activation="relu"),
        keras.layers.Dropout(0.25),
        keras.layers.Dense(N_CLASSES, activation="softmax"),
    ])  # fmt: skip


def lstm(units=32):
    """The 8 rows of 8 pixels as 8 time steps: lstm(units), dense(10, softmax)."""
    import keras

    return keras.Sequential([
        keras.Input((N_FEATURES,)),
        keras.layers.Reshape((8, 8)),
        keras.layers.LSTM(units),
        keras.layers.Dense(N_CLASSES, activation="softmax"),
    ])  # fmt: skip


def resmlp(units=128):
    """dense(units, relu), then 2 residual blocks (dense(units, relu), dense(units), added to the
    block's input), dense(10, softmax): a graph, so Keras's functional API."""
    import keras

    L = keras.layers
    inputs = keras.Input((N_FEATURES,))
    x = L.Dense(units, activation="relu")(inputs)
    for _ in range(2):
        block = L.Dense(units)(L.Dense(units, activation="relu")(x))
        x = L.Add()([block, x])  # the order netdsl's `residual { }` adds them in
    return keras.Model(inputs, L.Dense(N_CLASSES, activation="softmax")(x))


def reviews_bag(width=64, vocabulary=20000, length=48):
    """`nets/reviews_bag.net` after its `text_vectorization` (done by `TextIds` in front of the
    model): token ids -> embedding(vocabulary, width, mask_zero), averaged, dropout, sigmoid."""
    import keras

    return keras.Sequential([
        keras.Input((length,), dtype="int64"),
        keras.layers.Embedding(vocabulary, width, mask_zero=True),
        keras.layers.GlobalAveragePooling1D(),
        keras.layers.Dropout(0.4),
        keras.layers.Dense(1, activation="sigmoid"),
    ])  # fmt: skip


class TextIds(TransformerMixin, BaseEstimator):
    """Texts -> `length` token ids: a Keras `TextVectorization` adapted to the texts it is fitted on
    (the vocabulary of the training fold). How a scikeras model takes text, in a pipeline in front
    of it: scikeras accepts numeric X only (adriangb/scikeras#265)."""

    def __init__(self, max_tokens=20000, length=48):
        self.max_tokens = max_tokens
        self.length = length

    def fit(self, X, y=None):
        import keras
        import numpy as np

        self.vectorizer_ = keras.layers.TextVectorization(max_tokens=self.max_tokens, output_sequence_length=self.length)
        self.vectorizer_.adapt(np.asarray(X, dtype=str))
        return self

    def transform(self, X):
        import numpy as np

        return np.asarray(self.vectorizer_(np.asarray(X, dtype=str)))


BUILDERS = {"mlp": mlp, "cnn": cnn, "lstm": lstm, "resmlp": resmlp, "arch": mlp}


def compiled(model, learning_rate=0.001, loss="sparse_categorical_crossentropy"):
    import keras

    model.compile(optimizer=keras.optimizers.Adam(learning_rate=learning_rate), loss=loss)
    return model
