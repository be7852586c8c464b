"""Data augmentation that acts only while fitting: samplers for imbalanced-learn's pipeline.

    >>> import numpy as np
    >>> from netdsl.pipelines.augment import ImageAugmenter
    >>> X, y = np.arange(2 * 64, dtype=float).reshape(2, 64), np.array([3, 5])   # two 8x8 images
    >>> Xa, ya = ImageAugmenter(rotation=10, shift=0.1, copies=2, random_state=0).fit_resample(X, y)
    >>> Xa.shape, Xa.origin_.tolist(), ya.tolist()
    ((6, 64), [0, 1, 0, 1, 0, 1], [3, 5, 3, 5, 3, 5])
    >>> bool((Xa[:2] == X).all())      # the originals first, unchanged
    True

In a pipeline (imbalanced-learn's, a drop-in for scikit-learn's):

    >>> from imblearn.pipeline import make_pipeline
    >>> from netdsl.estimators import NetClassifier
    >>> net = NetClassifier("examples/digits_cnn.net")                    # doctest: +SKIP
    >>> pipe = make_pipeline(ImageAugmenter(rotation=10, copies=2), net)   # doctest: +SKIP

Each augmenter is an imbalanced-learn *sampler* (it has `fit_resample`, and no `transform`). An
`imblearn.pipeline.Pipeline` calls a sampler's `fit_resample` only in `fit`; `predict`, `score`,
`predict_proba` and `transform` skip it. So in `cross_val_score` or `GridSearchCV` only the
training folds are augmented, never a scored fold. scikit-learn's own `Pipeline` refuses a sampler
(a `TypeError` at `fit`: "All intermediate steps should be transformers ..."): use imblearn's.

The output of `fit_resample(X, y)` is the original rows first, unchanged and in order, then
`copies` augmented copies of every row (first copy of every row, then the second, ...). X comes back
as an `AugmentedArray`, a NumPy array whose `origin_` gives, for every row, the index of the
original row it was made from (`origin_[i] == i` for the originals; after two augmenters in a row,
a copy of a copy points to the first original). The netdsl estimators read it:
their `validation_split` then holds out original rows only and does not train on the copies of a
held-out row, so early stopping never looks at data it has trained on a perturbed copy of. y is
repeated to match. `sample_indices_` (imbalanced-learn's name) holds the same indices after a fit.

Augment inside the pipeline, not before splitting, and do not reorder the rows of an
`AugmentedArray` in place (`np.random.shuffle`): `origin_` would no longer match. Put an augmenter
directly before the estimator: a transformer after it (a scaler, say) returns a
plain array, and the estimator can no longer tell copies from originals. `sample_weight` given to
the final step is not repeated for the copies (imbalanced-learn's pipelines cannot resample it).

A setting out of range or of the wrong type raises `netdsl.dsl.errors.ParameterError` (code P101,
a `ValueError` and a `TypeError`) at `fit_resample`; data an augmenter cannot take raises
`netdsl.dsl.errors.InputError` (a `ValueError`, code E101). `InvalidParameterError`, the name this
module once gave its own error class, is kept only as an alias of `ParameterError` for existing code.

Importing this module never imports TensorFlow or Keras.
"""

from __future__ import annotations

import numbers

import numpy as np
from imblearn.base import BaseSampler
from sklearn.utils import check_array, check_random_state
from sklearn.utils.validation import check_consistent_length

from netdsl.dsl.errors import InputError, ParameterError, user_data

__all__ = [
    "AugmentedArray",
    "BaseAugmenter",
    "ImageAugmenter",
    "InvalidParameterError",
    "SequenceAugmenter",
    "TextAugmenter",
]


# The name this module used to give its own error class. Augmenters raise
# `netdsl.dsl.errors.ParameterError` for a setting out of range or of the wrong type; this alias keeps
# `from netdsl.pipelines.augment import InvalidParameterError` (and `except InvalidParameterError`)
# working in existing code. It is the same class, not scikit-learn's `InvalidParameterError`.
InvalidParameterError = ParameterError


# ---- the output array ---------------------------------------------------------------------------


class AugmentedArray(np.ndarray):
    """A NumPy array of rows, some of them augmented copies of others.

    `origin_[i]` is the index (in this array) of the original row that row `i` was made from;
    originals point to themselves. Operations that keep the rows (arithmetic, `astype`, `reshape`
    to the same number of rows, column selection `X[:, cols]`) keep `origin_`; selecting rows
    (`X[idx]`, `X[2:5]`) returns a plain `ndarray`, since the indices would no longer hold.
    `np.asarray(X)` is a plain array too. Pickling keeps `origin_`.
    """

    def __new__(cls, data, origin):
        obj = np.asarray(data).view(cls)
        origin = np.array(origin, dtype=np.intp)
        if obj.ndim < 1 or origin.shape != (obj.shape[0],):
            raise InputError(f"origin must have one entry per row: {origin.shape} for an array of shape {obj.shape}")
        origin.setflags(write=False)
        obj.origin_ = origin
        return obj

    def __array_finalize__(self, obj):
        origin = getattr(obj, "origin_", None)
        if origin is not None and self.ndim >= 1 and self.shape[0] == len(origin) and obj.shape[:1] == self.shape[:1]:
            self.origin_ = origin
        else:
            self.origin_ = None

    def __getitem__(self, key):
        out = super().__getitem__(key)
        if isinstance(out, AugmentedArray) and not _keeps_rows(key):
            return out.view(np.ndarray)
        return out

    def __reduce__(self):
        constructor, args, state = super().__reduce__()
        return constructor, args, (state, self.origin_)

    def __setstate__(self, state):
        array_state, origin = state
        super().__setstate__(array_state)
        self.origin_ = origin


def _keeps_rows(key) -> bool:
    """Whether indexing with `key` keeps every row in order (only columns, or nothing, selected)."""
    if key is Ellipsis:
        return True
    first = key[0] if isinstance(key, tuple) and key else key
    return isinstance(first, slice) and first == slice(None)


# ---- settings ------------------------------------------------------------------------------------


def _real(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_)) and np.isfinite(value)


def _integral(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))


def _check_range(owner, name, value, *, integer=False, low=0, high=None, high_closed=True):
    """`value` is an int (or any real, unless `integer`) with low <= value (<= or <) high."""
    ok = (_integral(value) if integer else _real(value)) and value >= low
    if ok and high is not None:
        ok = value <= high if high_closed else value < high
    if not ok:
        kind = "an int" if integer else "a float"
        upper = "inf)" if high is None else f"{high}{']' if high_closed else ')'}"
        raise ParameterError(
            f"The {name!r} parameter of {type(owner).__name__} must be {kind} in the range [{low}, {upper}. "
            f"Got {value!r} instead."
        )


# ---- the shared machinery ------------------------------------------------------------------------


class BaseAugmenter(BaseSampler):
    """Base of the augmenters: `copies` perturbed copies of every row, after the originals.

    A subclass sets its settings in `__init__` (stored verbatim), checks them in `_check_params`,
    may validate X in `_check_X` (default: a numeric array of 2 or more dimensions) and implements
    `_augment(X, rng)`: perturbed versions of the rows of X (a fresh array of the repeated
    originals, in the input's layout), using only the NumPy `RandomState` `rng`.
    """

    _sampling_type = "bypass"

    def __init__(self, copies=1, random_state=None):
        self.copies = copies
        self.random_state = random_state

    # -- hooks --
    def _check_params(self):
        _check_range(self, "copies", self.copies, integer=True)
        if self.random_state is not None and not _integral(self.random_state) and not isinstance(
            self.random_state, np.random.RandomState
        ):
            raise ParameterError(
                f"The 'random_state' parameter of {type(self).__name__} must be an int, a "
                f"numpy.random.RandomState instance or None. Got {self.random_state!r} instead."
            )

    def _check_X(self, X):
        X = user_data(check_array, X, allow_nd=True, dtype="numeric", input_name="X")
        if X.ndim == 2:
            self.n_features_in_ = X.shape[1]
        elif hasattr(self, "n_features_in_"):
            del self.n_features_in_
        return X.astype(np.result_type(X.dtype, np.float32), copy=False)

    def _augment(self, X, rng):  # pragma: no cover - abstract
        raise NotImplementedError

    # -- the sampler interface --
    def fit(self, X, y=None, **params):
        """Check the settings and the data (as `fit_resample` does); returns self."""
        self.fit_resample(X, y, **params)
        return self

    def fit_resample(self, X, y=None, **params):
        """The rows of X, then `copies` augmented copies of each: (AugmentedArray X, y repeated).

        y may be class labels, numbers (regression) or None; it is returned as a NumPy array (or
        None), repeated so that every copy has the label of the row it was made from.
        """
        if params:
            raise ParameterError(f"{type(self).__name__}.fit_resample got unexpected arguments: {', '.join(sorted(params))}")
        self._check_params()
        prior = getattr(X, "origin_", None)  # X made by an augmenter before this one
        X = self._check_X(X)
        n = len(X)
        if y is not None:
            y = np.asarray(y)
            if y.ndim == 0:
                raise InputError(f"y must be an array of one target per sample; got a scalar {y!r}.")
            user_data(check_consistent_length, X, y)
        rng = check_random_state(self.random_state)
        copies = int(self.copies)
        source = np.tile(np.arange(n), copies + 1)  # the input row of every output row
        self.sample_indices_ = source
        origin = source
        if isinstance(prior, np.ndarray) and prior.shape == (n,):
            origin = prior[source]  # after another augmenter: a copy of a copy points to the first original
        if copies:
            augmented = self._augment(np.concatenate([X] * copies), rng)
            out = np.concatenate([X, augmented])
        else:
            out = X.copy()
        X_out = AugmentedArray(out, origin)
        return X_out, (None if y is None else np.take(y, source, axis=0))

    def _fit_resample(self, X, y):  # required by imblearn's abstract base; fit_resample does the work
        return self.fit_resample(X, y)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = False
        tags.input_tags.sparse = False
        tags.input_tags.allow_nan = False
        tags.input_tags.three_d_array = True
        tags.sampler_tags.sample_indices = True  # `sample_indices_`: the input row of every output row
        return tags


# ---- images --------------------------------------------------------------------------------------

_FLIPS = ("horizontal", "vertical", "both")


class ImageAugmenter(BaseAugmenter):
    """Randomly flipped, turned, shifted, zoomed and noisy copies of images, only while fitting.

    Parameters
    ----------
    flip : {None, "horizontal", "vertical", "both"}, default=None
        Mirror each copy left-right ("horizontal") or top-bottom ("vertical") with probability
        0.5, or ("both") each way independently with probability 0.5.
    rotation : float in [0, 180], default=0
        Largest turn in degrees; each copy is turned by an angle drawn uniformly from
        [-rotation, rotation] (counter-clockwise for positive angles, as `scipy.ndimage.rotate`).
        There is no default turn: a 6 turned by half a circle is a 9.
    shift : float in [0, 1), default=0
        Largest shift as a fraction of the height (rows) and of the width (columns), each drawn
        uniformly from [-shift, shift].
    zoom : float in [0, 1), default=0
        Largest zoom: each copy is scaled about its centre by a factor drawn uniformly from
        [1 - zoom, 1 + zoom] (above 1 enlarges; the border left by shrinking or shifting repeats
        the edge pixels).
    noise : float >= 0, default=0
        Standard deviation of Gaussian noise added to every value, in the data's units (for
        pixels in [0, 16] as in scikit-learn's digits, noise=1 is small).
    copies : int >= 0, default=1
        Augmented copies of each image, after the originals (0: the originals only, handy as a
        baseline in a grid search).
    image_shape : tuple (height, width) or (height, width, channels), optional
        How to view flat rows (n, height*width*channels). None: a square one-channel image when
        the number of features is a perfect square (64 -> 8x8). Images given shaped, as (n, h, w)
        or (n, h, w, c), need none.
    random_state : int, RandomState or None
        An int gives the same copies at every fit; None gives fresh ones every time.

    Turns, shifts and zooms are one affine map per copy (`scipy.ndimage.affine_transform`,
    linear interpolation, edges repeated). The output has the input's layout (flat rows stay
    flat), floating point (integer pixels become float64; float32 stays float32). With every
    perturbation off (the default), the copies are exact duplicates of the originals.
    """

    def __init__(self, flip=None, rotation=0.0, shift=0.0, zoom=0.0, noise=0.0, copies=1, image_shape=None,
                 random_state=None):  # fmt: skip
        self.flip = flip
        self.rotation = rotation
        self.shift = shift
        self.zoom = zoom
        self.noise = noise
        self.copies = copies
        self.image_shape = image_shape
        self.random_state = random_state

    def _check_params(self):
        super()._check_params()
        if self.flip is not None and self.flip not in _FLIPS:
            raise ParameterError(
                "The 'flip' parameter of ImageAugmenter must be a str among {'horizontal', 'vertical', 'both'} "
                f"or None. Got {self.flip!r} instead."
            )
        _check_range(self, "rotation", self.rotation, high=180)
        _check_range(self, "shift", self.shift, high=1, high_closed=False)
        _check_range(self, "zoom", self.zoom, high=1, high_closed=False)
        _check_range(self, "noise", self.noise)
        shape = self.image_shape
        if shape is not None and not (
            isinstance(shape, (tuple, list)) and len(shape) in (2, 3) and all(_integral(d) and d >= 1 for d in shape)
        ):
            raise ParameterError(
                "The 'image_shape' parameter of ImageAugmenter must be a tuple (height, width) or "
                f"(height, width, channels) of positive ints, or None. Got {shape!r} instead."
            )

    def _check_X(self, X):
        X = super()._check_X(X)
        given = None if self.image_shape is None else tuple(int(d) for d in self.image_shape)
        if X.ndim == 2:
            n_features = X.shape[1]
            if given is None:
                side = int(round(np.sqrt(n_features)))
                if side * side != n_features:
                    raise InputError(
                        f"ImageAugmenter cannot tell the image shape of rows of {n_features} features: pass "
                        "image_shape=(height, width) or (height, width, channels), or give the images shaped "
                        "as (n, height, width) or (n, height, width, channels)."
                    )
                given = (side, side)
            elif int(np.prod(given)) != n_features:
                raise InputError(
                    f"image_shape={given} holds {int(np.prod(given))} values, but the rows have {n_features} features."
                )
        elif X.ndim in (3, 4):
            if given is None:
                given = X.shape[1:]
            elif int(np.prod(given)) != int(np.prod(X.shape[1:])):
                raise InputError(f"image_shape={given} does not fit images of shape {X.shape[1:]}.")
        else:
            raise InputError(
                f"ImageAugmenter takes flat rows (n, features) or images (n, height, width[, channels]); "
                f"got an array of shape {X.shape}."
            )
        self.image_shape_ = given
        return X

    def _augment(self, X, rng):
        shape = self.image_shape_
        images = X.reshape((len(X),) + tuple(shape) + ((1,) if len(shape) == 2 else ()))  # (m, h, w, c)
        m, h, w, _ = images.shape
        if self.flip in ("horizontal", "both"):
            mirror = rng.rand(m) < 0.5
            images[mirror] = images[mirror, :, ::-1]
        if self.flip in ("vertical", "both"):
            mirror = rng.rand(m) < 0.5
            images[mirror] = images[mirror, ::-1]
        if self.rotation or self.shift or self.zoom:
            angles = rng.uniform(-self.rotation, self.rotation, m)
            shifts = rng.uniform(-self.shift, self.shift, (m, 2)) * np.array([h, w])
            zooms = rng.uniform(1 - self.zoom, 1 + self.zoom, m)
            for i in range(m):
                if angles[i] or shifts[i].any() or zooms[i] != 1:
                    images[i] = _affine(images[i], angles[i], shifts[i], zooms[i])
        if self.noise:
            images += rng.normal(0.0, self.noise, images.shape).astype(images.dtype, copy=False)
        return images.reshape(X.shape)


def _affine(image, angle, shift=(0.0, 0.0), zoom=1.0):
    """One image (h, w, c) turned by `angle` degrees (counter-clockwise, as scipy.ndimage.rotate)
    and scaled by `zoom` about its centre, then shifted by `shift` = (rows, columns) pixels."""
    from scipy import ndimage

    h, w = image.shape[:2]
    center = np.array([(h - 1) / 2.0, (w - 1) / 2.0])
    theta = np.deg2rad(angle)
    cos, sin = np.cos(theta), np.sin(theta)
    # output = center + zoom * R @ (input - center) + shift, with R the turn; affine_transform wants
    # the inverse: input = inverse @ output + offset.
    inverse = np.array([[cos, sin], [-sin, cos]]) / zoom
    offset = center - inverse @ (center + np.asarray(shift, dtype=float))
    out = np.empty_like(image)
    for c in range(image.shape[2]):
        ndimage.affine_transform(image[:, :, c], inverse, offset=offset, output=out[:, :, c], order=1, mode="nearest")
    return out


# ---- sequences -----------------------------------------------------------------------------------


class SequenceAugmenter(BaseAugmenter):
    """Jittered, scaled and shifted copies of time series windows, only while fitting.

    X is (n, steps) or (n, steps, features); the output has the same layout.

    Parameters
    ----------
    jitter : float >= 0, default=0
        Standard deviation of Gaussian noise added to every value, in the data's units.
    scaling : float >= 0, default=0
        Each copy is multiplied by one factor drawn from a normal distribution with mean 1 and
        this standard deviation.
    shift : int >= 0, default=0
        Each copy's window is moved by a whole number of steps drawn uniformly from
        [-shift, shift]: the values move later (positive) or earlier (negative) in the window,
        and the steps left empty repeat the window's edge value (not a circular roll). Must be
        smaller than the number of steps.
    copies : int >= 0, default=1
    random_state : int, RandomState or None

    The targets of the copies are those of their originals. For a forecasting window (y = the value
    after the window) a shift or scaling makes that an approximation: keep them small there, or
    use jitter only.
    """

    def __init__(self, jitter=0.0, scaling=0.0, shift=0, copies=1, random_state=None):
        self.jitter = jitter
        self.scaling = scaling
        self.shift = shift
        self.copies = copies
        self.random_state = random_state

    def _check_params(self):
        super()._check_params()
        _check_range(self, "jitter", self.jitter)
        _check_range(self, "scaling", self.scaling)
        _check_range(self, "shift", self.shift, integer=True)

    def _check_X(self, X):
        X = super()._check_X(X)
        if X.ndim not in (2, 3):
            raise InputError(
                f"SequenceAugmenter takes windows (n, steps) or (n, steps, features); got an array of shape {X.shape}."
            )
        if self.shift and self.shift >= X.shape[1]:
            raise InputError(f"shift={self.shift} must be smaller than the {X.shape[1]} steps of a window.")
        return X

    def _augment(self, X, rng):
        windows = X if X.ndim == 3 else X[:, :, None]
        m, steps, _ = windows.shape
        if self.shift:
            moves = rng.randint(-self.shift, self.shift + 1, m)
            index = np.clip(np.arange(steps)[None, :] - moves[:, None], 0, steps - 1)
            windows = np.take_along_axis(windows, index[:, :, None], axis=1)
        if self.scaling:
            windows = windows * rng.normal(1.0, self.scaling, (m, 1, 1)).astype(windows.dtype, copy=False)
        if self.jitter:
            windows = windows + rng.normal(0.0, self.jitter, windows.shape).astype(windows.dtype, copy=False)
        return windows.reshape(X.shape)


# ---- text ----------------------------------------------------------------------------------------


class TextAugmenter(BaseAugmenter):
    """Copies of texts with words randomly deleted or swapped with a neighbour, only while fitting.

    X is raw text (a list, 1-D array or Series of strings, or a one-column frame), split into words
    at whitespace; the copies are the kept words joined by single spaces, the output an
    `AugmentedArray` of dtype object holding str. Or X is token ids, an int array (n, steps) where
    0 is padding: the tokens of a row are perturbed and written back on the row's padding side
    (to the right unless the row is padded at the front, as `pad_sequences`' default), padded
    with 0.

    Parameters
    ----------
    deletion : float in [0, 1), default=0
        Probability of deleting each word (token); a copy always keeps at least one word.
    swap : float in [0, 1], default=0
        Probability, for each position from the first to the last but one, of swapping its word
        with the next one.
    copies : int >= 0, default=1
    random_state : int, RandomState or None
    """

    def __init__(self, deletion=0.0, swap=0.0, copies=1, random_state=None):
        self.deletion = deletion
        self.swap = swap
        self.copies = copies
        self.random_state = random_state

    def _check_params(self):
        super()._check_params()
        _check_range(self, "deletion", self.deletion, high=1, high_closed=False)
        _check_range(self, "swap", self.swap, high=1)

    def _check_X(self, X):
        if hasattr(X, "iloc") and getattr(X, "ndim", 1) == 2:
            if X.shape[1] != 1:
                raise InputError(f"TextAugmenter takes one column of strings; got {X.shape[1]} columns.")
            X = X.iloc[:, 0]
        try:
            mixed = isinstance(X, (list, tuple)) and any(isinstance(v, str) for v in X)
            array = np.array(X, dtype=object) if mixed else np.asarray(X)  # (NumPy would turn ["a", 3] into str)
        except ValueError:  # ragged nested lists
            raise InputError(
                "TextAugmenter takes a list or 1-D array of strings, or token ids as a rectangular int "
                "array (n, steps) with 0 for padding."
            ) from None
        if array.dtype.kind in "iu":
            if array.ndim != 2:
                raise InputError(
                    f"TextAugmenter takes token ids as an int array (n, steps), 0 for padding; got shape {array.shape}."
                )
            if (array < 0).any():
                raise InputError("Token ids must not be negative (0 is padding).")
            self.input_kind_ = "tokens"
        else:
            array = array.astype(object)
            if array.ndim == 2 and array.shape[1] == 1:
                array = array[:, 0]
            if array.ndim != 1:
                raise InputError(
                    "TextAugmenter takes a list or 1-D array of strings, or token ids as an int array "
                    f"(n, steps); got an array of shape {array.shape}."
                )
            bad = [v for v in array if not isinstance(v, str)][:1]
            if bad:
                bad = bad[0]
                raise InputError(
                    "TextAugmenter takes strings (or integer token ids); "
                    f"got {type(bad).__name__} values such as {bad!r}."
                )
            self.input_kind_ = "text"
        if len(array) == 0:
            raise InputError("Found array with 0 sample(s) while a minimum of 1 is required.")
        return array

    def _perturb(self, words: list, rng) -> list:
        words = list(words)
        if self.deletion and len(words) > 1:
            keep = rng.rand(len(words)) >= self.deletion
            if not keep.any():
                keep[rng.randint(len(words))] = True
            words = [w for w, k in zip(words, keep) if k]
        if self.swap and len(words) > 1:
            hits = rng.rand(len(words) - 1) < self.swap
            for i in np.flatnonzero(hits):
                words[i], words[i + 1] = words[i + 1], words[i]
        return words

    def _augment(self, X, rng):
        out = np.empty_like(X)
        if self.input_kind_ == "text":
            for i, text in enumerate(X):
                out[i] = text if not (self.deletion or self.swap) else " ".join(self._perturb(text.split(), rng))
            return out
        out[:] = 0
        steps = X.shape[1]
        for i, row in enumerate(X):
            where = np.flatnonzero(row)
            tokens = self._perturb(row[where].tolist(), rng)
            front_padded = len(where) and where[0] > 0 and where[-1] == steps - 1
            if front_padded:
                out[i, steps - len(tokens):] = tokens
            else:
                out[i, : len(tokens)] = tokens
        return out

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True
        tags.input_tags.one_d_array = True
        tags.input_tags.three_d_array = False
        return tags
