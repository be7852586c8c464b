"""Workflows behind the `netdsl` command line. Importing this package must stay cheap: no TensorFlow."""

_AUGMENT = ("AugmentedArray", "BaseAugmenter", "ImageAugmenter", "SequenceAugmenter", "TextAugmenter")
_SERIES = ("windows", "flat_samples")
_SEARCH = ("search_space", "grid_search", "SearchError", "ChunkedGridSearchCV")
_DATA = ("load_data", "DataError")
_TUNE = ("tune", "NetSearch")
_ONNX = ("OnnxModel",)  # an exported .onnx file, run without TensorFlow (the onnx extra)

__all__ = [*_AUGMENT, *_SERIES, *_SEARCH, *_DATA, *_TUNE, *_ONNX]


def __getattr__(name):
    """`from netdsl.pipelines import ImageAugmenter` (or `grid_search`) works, importing the module
    that defines it (`augment` and imblearn, `search`, ...) only then."""
    for names, module in ((_AUGMENT, "augment"), (_SERIES, "series"), (_SEARCH, "search"), (_DATA, "data"), (_TUNE, "tuning"),
                          (_ONNX, "onnx_model")):
        if name in names:
            import importlib

            return getattr(importlib.import_module(f"{__name__}.{module}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
