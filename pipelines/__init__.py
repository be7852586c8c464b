"""Workflows behind the `netdsl` command line. Importing this package must stay cheap: no TensorFlow."""

_AUGMENT = ("AugmentedArray", "BaseAugmenter", "ImageAugmenter", "SequenceAugmenter", "TextAugmenter")


def __getattr__(name):
    """`from netdsl.pipelines import ImageAugmenter` works, importing `augment` (and imblearn) only then."""
    if name in _AUGMENT:
        from . import augment

        return getattr(augment, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
