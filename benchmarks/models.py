"""The benchmark nets as plain Keras models: the same layers as `benchmarks/nets/*.net`.

Each builder takes the flat 64 pixels (what every scikit-learn wrapper passes on) and the grid's
hyperparameter (`units` or `filters`), and returns an uncompiled model; `compiled` adds Adam and
a loss. The grids of `grid_search.py` vary that hyperparameter and the learning rate.
"""

from __future__ import annotations

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


def cnn(filters=16):
    """examples/digits_cnn.net at depth 1, without augmentation or early stopping."""
    import keras

    return keras.Sequential([
        keras.Input((N_FEATURES,)),
        keras.layers.Reshape((8, 8, 1)),
        keras.layers.Conv2D(filters, 3, padding="same", activation="relu"),
        keras.layers.MaxPooling2D(2),
        keras.layers.Flatten(),
        keras.layers.Dense(64, activation="relu"),
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


BUILDERS = {"mlp": mlp, "cnn": cnn, "lstm": lstm}


def compiled(model, learning_rate=0.001, loss="sparse_categorical_crossentropy"):
    import keras

    model.compile(optimizer=keras.optimizers.Adam(learning_rate=learning_rate), loss=loss)
    return model
