"""netdsl's own Keras layers: the kinds a `.net` file may name that Keras 3 does not have.

Each is registered with Keras (`keras.saving.register_keras_serializable(package="netdsl")`), so
a model holding one saves to a `.keras` file and loads back in Keras's safe mode, once this module
is imported: `compile` (which builds them) and `persist` (which loads models) import it.
`dsl/saved.py` counts them as safe classes of a saved net (not code from outside).
"""

from __future__ import annotations

import keras


@keras.saving.register_keras_serializable(package="netdsl")
class PositionEmbedding(keras.layers.Layer):
    """Adds a learned vector per position to its input: (batch, steps, features) -> the same shape,
    with `sequence_length * features` weights (the `.net` kind `position_embedding`).

    Why it exists: attention (`keras.layers.MultiHeadAttention`) does not see the order of the
    steps, so a transformer adds a vector per position to its token vectors. Keras 3 has no layer
    for it: the Keras examples write their own `TokenAndPositionEmbedding`, and KerasHub's
    `PositionEmbedding` returns the vectors alone for the caller to add (which a chain of layers
    cannot do). Like KerasHub's, it is sized by an argument, `sequence_length` (the longest
    sequence), not by the input it first sees, and a shorter input gets the first vectors: texts
    of any length up to it share the weights.
    """

    def __init__(self, sequence_length, initializer="glorot_uniform", **kwargs):
        super().__init__(**kwargs)
        if isinstance(sequence_length, bool) or not isinstance(sequence_length, int) or sequence_length < 1:
            raise ValueError(f"`sequence_length` must be a positive integer. Received: sequence_length={sequence_length}")
        self.sequence_length = sequence_length
        self.initializer = keras.initializers.get(initializer)
        self.supports_masking = True  # a padding mask (`embedding(mask_zero=true)`) goes through to the attention

    def build(self, input_shape):
        self.embeddings = self.add_weight(
            name="embeddings", shape=(self.sequence_length, input_shape[-1]), initializer=self.initializer
        )

    def call(self, inputs):
        steps, features = keras.ops.shape(inputs)[-2], keras.ops.shape(inputs)[-1]
        vectors = keras.ops.slice(self.embeddings, (0, 0), (steps, features))
        return inputs + keras.ops.cast(vectors, inputs.dtype)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update(sequence_length=self.sequence_length, initializer=keras.initializers.serialize(self.initializer))
        return config
