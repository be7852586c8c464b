"""N7xx: the net against the data, found when fitting (or predicting), located in the program."""

from __future__ import annotations

from .base import Code

CODES = [
    Code(
        "N701", "data-width", "The data does not fit `input`",
        "The samples have another number of values than the declared `input` shape takes.",
        "Change `input`, or leave it out to take the data's width (`n_features`).",
        "net demo\ninput (8, 8, 1)\nflatten\ndense(n_classes, activation=softmax)\n"
        "# fitted on iris (4 features per sample)\n",
        stage="fit",
    ),
    Code(
        "N702", "token-ids", "The data is not token ids for `embedding`",
        "Data fed straight to an `embedding` must be whole token ids in [0, input_dim): negative, "
        "fractional or too large values would stop TensorFlow with an unlocated error.",
        "Give integer token ids below `input_dim`, or raw strings with `input text` and "
        "`text_vectorization` before the embedding.",
        "net demo\ninput (4)\nembedding(10, 4)\nflatten\ndense(1)\n# fitted on ids up to 50\n",
        stage="fit",
    ),
    Code(
        "N703", "output-for-targets", "The last layer does not fit the targets",
        "A classifier's last layer gives one softmax unit per class (or one sigmoid unit for two classes, "
        "one per label for multilabel targets); a regressor's one linear unit per target column.",
        "End the net with `dense(n_classes, activation=softmax)` (classifier) or `dense(n_outputs)` "
        "(regressor), as the help line says.",
        "net demo\ninput (4)\ndense(10, activation=softmax)\n# fitted on iris (3 classes)\n",
        stage="fit",
    ),
    Code(
        "N704", "no-targets", "A name bound from the targets, but no targets",
        "`n_classes` and `n_outputs` are bound from y when fitting; a `NetTransformer` fitted without y "
        "cannot bind them.",
        "Pass the targets, `fit(X, y)`, or write a number.",
        "net demo\ninput (4)\ndense(n_outputs)\n# NetTransformer(net).fit(X), without y\n",
        stage="fit",
    ),
]
