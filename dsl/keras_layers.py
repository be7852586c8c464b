"""Keras 3's layer kinds, by the names a `.net` file would give them (the snake_case class name,
as Keras's `to_snake_case` makes it), each with its Keras class name.

netdsl supports some of them (`specs.LAYERS`); the others are here so that `conv3d` is
reported as a Keras layer netdsl does not support yet, rather than as a typo of another kind.
The table is checked in, not read from Keras: `netdsl.dsl` never imports Keras. It was generated
from `keras.layers` (Keras 3.15); `tests/test_check_semantics.py` compares it with the installed
Keras, and says how to regenerate it when Keras adds layers.
"""

KERAS_LAYERS: dict[str, str] = {
    "activation": "Activation", "activity_regularization": "ActivityRegularization",
    "adaptive_average_pooling1d": "AdaptiveAveragePooling1D",
    "adaptive_average_pooling2d": "AdaptiveAveragePooling2D",
    "adaptive_average_pooling3d": "AdaptiveAveragePooling3D", "adaptive_max_pooling1d": "AdaptiveMaxPooling1D",
    "adaptive_max_pooling2d": "AdaptiveMaxPooling2D", "adaptive_max_pooling3d": "AdaptiveMaxPooling3D",
    "add": "Add", "additive_attention": "AdditiveAttention", "alpha_dropout": "AlphaDropout",
    "attention": "Attention", "aug_mix": "AugMix", "auto_contrast": "AutoContrast", "average": "Average",
    "average_pooling1d": "AveragePooling1D", "average_pooling2d": "AveragePooling2D",
    "average_pooling3d": "AveragePooling3D", "avg_pool1d": "AvgPool1D", "avg_pool2d": "AvgPool2D",
    "avg_pool3d": "AvgPool3D", "batch_normalization": "BatchNormalization", "bidirectional": "Bidirectional",
    "category_encoding": "CategoryEncoding", "center_crop": "CenterCrop", "concatenate": "Concatenate",
    "contrast_limited_adaptive_histogram_equalization": "ContrastLimitedAdaptiveHistogramEqualization",
    "conv1d": "Conv1D", "conv1d_transpose": "Conv1DTranspose", "conv2d": "Conv2D",
    "conv2d_transpose": "Conv2DTranspose", "conv3d": "Conv3D", "conv3d_transpose": "Conv3DTranspose",
    "conv_lstm1d": "ConvLSTM1D", "conv_lstm2d": "ConvLSTM2D", "conv_lstm3d": "ConvLSTM3D",
    "convolution1d": "Convolution1D", "convolution1d_transpose": "Convolution1DTranspose",
    "convolution2d": "Convolution2D", "convolution2d_transpose": "Convolution2DTranspose",
    "convolution3d": "Convolution3D", "convolution3d_transpose": "Convolution3DTranspose",
    "cropping1d": "Cropping1D", "cropping2d": "Cropping2D", "cropping3d": "Cropping3D", "cut_mix": "CutMix",
    "dense": "Dense", "depthwise_conv1d": "DepthwiseConv1D", "depthwise_conv2d": "DepthwiseConv2D",
    "discretization": "Discretization", "dot": "Dot", "dropout": "Dropout", "einsum_dense": "EinsumDense",
    "elu": "ELU", "embedding": "Embedding", "equalization": "Equalization", "flatten": "Flatten",
    "flax_layer": "FlaxLayer", "gaussian_dropout": "GaussianDropout", "gaussian_noise": "GaussianNoise",
    "global_average_pooling1d": "GlobalAveragePooling1D", "global_average_pooling2d": "GlobalAveragePooling2D",
    "global_average_pooling3d": "GlobalAveragePooling3D", "global_avg_pool1d": "GlobalAvgPool1D",
    "global_avg_pool2d": "GlobalAvgPool2D", "global_avg_pool3d": "GlobalAvgPool3D",
    "global_max_pool1d": "GlobalMaxPool1D", "global_max_pool2d": "GlobalMaxPool2D",
    "global_max_pool3d": "GlobalMaxPool3D", "global_max_pooling1d": "GlobalMaxPooling1D",
    "global_max_pooling2d": "GlobalMaxPooling2D", "global_max_pooling3d": "GlobalMaxPooling3D",
    "group_normalization": "GroupNormalization", "group_query_attention": "GroupQueryAttention", "gru": "GRU",
    "gru_cell": "GRUCell", "hashed_crossing": "HashedCrossing", "hashing": "Hashing", "identity": "Identity",
    "input_layer": "InputLayer", "integer_lookup": "IntegerLookup", "jax_layer": "JaxLayer", "lambda": "Lambda",
    "layer": "Layer", "layer_normalization": "LayerNormalization", "leaky_re_lu": "LeakyReLU", "lstm": "LSTM",
    "lstm_cell": "LSTMCell", "masking": "Masking", "max_num_bounding_boxes": "MaxNumBoundingBoxes",
    "max_pool1d": "MaxPool1D", "max_pool2d": "MaxPool2D", "max_pool3d": "MaxPool3D",
    "max_pooling1d": "MaxPooling1D", "max_pooling2d": "MaxPooling2D", "max_pooling3d": "MaxPooling3D",
    "maximum": "Maximum", "mel_spectrogram": "MelSpectrogram", "minimum": "Minimum", "mix_up": "MixUp",
    "multi_head_attention": "MultiHeadAttention", "multiply": "Multiply", "normalization": "Normalization",
    "p_re_lu": "PReLU", "permute": "Permute", "pipeline": "Pipeline", "rand_augment": "RandAugment",
    "random_brightness": "RandomBrightness", "random_color_degeneration": "RandomColorDegeneration",
    "random_color_jitter": "RandomColorJitter", "random_contrast": "RandomContrast", "random_crop": "RandomCrop",
    "random_elastic_transform": "RandomElasticTransform", "random_erasing": "RandomErasing",
    "random_flip": "RandomFlip", "random_gaussian_blur": "RandomGaussianBlur",
    "random_grayscale": "RandomGrayscale", "random_hue": "RandomHue", "random_invert": "RandomInvert",
    "random_perspective": "RandomPerspective", "random_posterization": "RandomPosterization",
    "random_rotation": "RandomRotation", "random_saturation": "RandomSaturation",
    "random_sharpness": "RandomSharpness", "random_shear": "RandomShear",
    "random_translation": "RandomTranslation", "random_zoom": "RandomZoom", "re_lu": "ReLU",
    "repeat_vector": "RepeatVector", "rescaling": "Rescaling", "reshape": "Reshape", "resizing": "Resizing",
    "reversible_embedding": "ReversibleEmbedding", "rms_normalization": "RMSNormalization", "rnn": "RNN",
    "separable_conv1d": "SeparableConv1D", "separable_conv2d": "SeparableConv2D",
    "separable_convolution1d": "SeparableConvolution1D", "separable_convolution2d": "SeparableConvolution2D",
    "simple_rnn": "SimpleRNN", "simple_rnn_cell": "SimpleRNNCell", "softmax": "Softmax",
    "solarization": "Solarization", "spatial_dropout1d": "SpatialDropout1D",
    "spatial_dropout2d": "SpatialDropout2D", "spatial_dropout3d": "SpatialDropout3D",
    "spectral_normalization": "SpectralNormalization", "stacked_rnn_cells": "StackedRNNCells",
    "stft_spectrogram": "STFTSpectrogram", "string_lookup": "StringLookup", "subtract": "Subtract",
    "text_vectorization": "TextVectorization", "tfsm_layer": "TFSMLayer", "time_distributed": "TimeDistributed",
    "torch_module_wrapper": "TorchModuleWrapper", "unit_normalization": "UnitNormalization",
    "up_sampling1d": "UpSampling1D", "up_sampling2d": "UpSampling2D", "up_sampling3d": "UpSampling3D",
    "wrapper": "Wrapper", "zero_padding1d": "ZeroPadding1D", "zero_padding2d": "ZeroPadding2D",
    "zero_padding3d": "ZeroPadding3D",
}  # fmt: skip


def unknown_layer(word: str, supported) -> tuple[str, str]:
    """(title, help) for a layer kind netdsl does not have: a Keras layer it does not support yet is
    said to be one; a close name is suggested only when it is most likely a typo of a supported kind."""
    from .errors import close_match

    by_class = {cls: kind for kind, cls in KERAS_LAYERS.items()}
    listed = "the supported layer kinds are listed in docs/language.md"
    if word in by_class:  # Keras's class name, `Dense` or `Conv3D`
        kind = by_class[word]
        if kind in supported:
            return f"unknown layer kind `{word}`", f"layer kinds are Keras's class names in snake case: write `{kind}`"
        return f"`{word}` (`{kind}`) is a Keras layer netdsl does not support yet", listed
    if word in KERAS_LAYERS:
        return f"`{word}` is a Keras layer netdsl does not support yet", listed
    match = close_match(word, set(supported) | set(KERAS_LAYERS))
    if match in supported:
        return f"unknown layer kind `{word}`", f"did you mean `{match}`?"
    if match is not None:
        return f"unknown layer kind `{word}`", f"Keras's `{match}` is close, but netdsl does not support it yet; {listed}"
    return f"unknown layer kind `{word}`", listed.replace("the supported", "netdsl's")
