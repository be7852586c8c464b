"""Workflows behind the `netdsl` command line. Importing this package must stay cheap: no TensorFlow."""

_AUGMENT = ("AugmentedArray", "BaseAugmenter", "ImageAugmenter", "SequenceAugmenter", "TextAugmenter")
_SERIES = ("windows", "flat_samples")


def __getattr__(name):
    """`from netdsl.pipelines import ImageAugmenter` works, importing `augment` (and imblearn) only then."""
    if name in _AUGMENT:
        from . import augment

        return getattr(augment, name)
    if name in _SERIES:
        from . import series

        return getattr(series, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
