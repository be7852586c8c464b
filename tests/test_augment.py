"""Augmentation steps (`netdsl.pipelines.augment`): what they make, and that they act only while
fitting — never at predict/score, never on a scored fold, never on the estimator's own validation
data. Training is tiny (1 epoch, small sets, fixed seeds)."""

import pickle
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from imblearn.base import is_sampler
from imblearn.pipeline import make_pipeline
from scipy import ndimage
from sklearn.base import clone
from sklearn.datasets import load_digits, load_iris
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.preprocessing import StandardScaler

from netdsl.dsl.errors import ParameterError
from netdsl.pipelines.augment import (
    AugmentedArray,
    BaseAugmenter,
    ImageAugmenter,
    InvalidParameterError,
    SequenceAugmenter,
    TextAugmenter,
    _affine,
)

from conftest import ROOT, user_error

MLP = "dense(16, activation=relu)\ndense(n_classes, activation=softmax)\n"
TINY_CNN = "input (8, 8, 1)\nflatten\ndense(16, activation=relu)\ndense(n_classes, activation=softmax)\n"


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X[:200] / 16.0, y[:200]


def _originals_first(Xa, X, copies):
    n = len(X)
    assert isinstance(Xa, AugmentedArray)
    assert len(Xa) == n * (copies + 1)
    np.testing.assert_array_equal(np.asarray(Xa[:n]), X)  # unchanged, in order
    np.testing.assert_array_equal(Xa.origin_, np.tile(np.arange(n), copies + 1))


# ---- images ------------------------------------------------------------------------------------


def test_image_flat_rows(digits):
    X, y = digits[0][:20], digits[1][:20]
    aug = ImageAugmenter(rotation=15, shift=0.1, zoom=0.1, noise=0.05, copies=2, random_state=0)
    Xa, ya = aug.fit_resample(X, y)
    assert Xa.shape == (60, 64) and Xa.dtype == X.dtype
    _originals_first(Xa, X, 2)
    np.testing.assert_array_equal(ya, np.tile(y, 3))
    assert type(ya) is np.ndarray
    assert not np.allclose(Xa[20:40], X) and not np.allclose(Xa[40:], Xa[20:40])  # perturbed, differently
    assert aug.image_shape_ == (8, 8)
    np.testing.assert_array_equal(aug.sample_indices_, Xa.origin_)


@pytest.mark.parametrize("shape", [(8, 8), (8, 8, 1)])
def test_image_shaped_input_keeps_its_layout(digits, shape):
    X, y = digits[0][:10], digits[1][:10]
    settings = dict(rotation=20, shift=0.2, zoom=0.2, flip="both", noise=0.1, copies=2, random_state=3)
    Xa, _ = ImageAugmenter(**settings).fit_resample(X.reshape((-1,) + shape), y)
    assert Xa.shape == (30,) + shape
    _originals_first(Xa, X.reshape((-1,) + shape), 2)
    flat, _ = ImageAugmenter(**settings).fit_resample(X, y)  # the same copies, whatever the layout
    np.testing.assert_allclose(np.asarray(Xa).reshape(30, 64), flat)


def test_image_shape_of_flat_rows_that_are_not_square():
    X, y = np.random.RandomState(0).rand(5, 12), np.arange(5) % 2
    with user_error(ValueError, match=r"cannot tell the image shape of rows of 12 features: pass image_shape"):
        ImageAugmenter().fit_resample(X, y)
    with user_error(ValueError, match=r"image_shape=\(2, 2\) holds 4 values, but the rows have 12 features"):
        ImageAugmenter(image_shape=(2, 2)).fit_resample(X, y)
    for shape in [(3, 4), (3, 4, 1), (2, 2, 3)]:
        Xa, _ = ImageAugmenter(image_shape=shape, rotation=30, random_state=0).fit_resample(X, y)
        assert Xa.shape == (10, 12)
    with user_error(ValueError, match="Expected 2D array"):
        ImageAugmenter().fit_resample(np.zeros(5), y)
    with user_error(ValueError, match="takes flat rows"):
        ImageAugmenter().fit_resample(np.zeros((5, 2, 2, 2, 2)), y)


def test_turns_and_shifts_are_scipy_ndimage():
    image = np.random.RandomState(0).rand(8, 8)
    for angle in (90, 17, -33):
        expected = ndimage.rotate(image, angle, reshape=False, order=1, mode="nearest")
        np.testing.assert_allclose(_affine(image[:, :, None], angle)[:, :, 0], expected, atol=1e-12)
    np.testing.assert_allclose(_affine(image[:, :, None], 90)[:, :, 0], np.rot90(image), atol=1e-12)
    expected = ndimage.shift(image, (1, -2), order=1, mode="nearest")
    np.testing.assert_allclose(_affine(image[:, :, None], 0, (1, -2))[:, :, 0], expected, atol=1e-12)


def test_each_perturbation_changes_pixels(digits):
    X, y = digits[0][:10], digits[1][:10]
    for setting in [dict(rotation=30), dict(shift=0.25), dict(zoom=0.3), dict(noise=0.1)]:
        Xa, _ = ImageAugmenter(**setting, random_state=0).fit_resample(X, y)
        changed = np.abs(Xa[10:] - X).max(axis=1) > 1e-6
        assert changed.mean() > 0.5, setting


@pytest.mark.parametrize(
    "flip, ways",
    [
        ("horizontal", {"same", "lr"}),
        ("vertical", {"same", "ud"}),
        ("both", {"same", "lr", "ud", "lrud"}),
    ],
)
def test_flips_mirror_exactly(digits, flip, ways):
    X, y = digits[0][:3], digits[1][:3]
    Xa, _ = ImageAugmenter(flip=flip, copies=40, random_state=0).fit_resample(X, y)
    images = np.asarray(Xa).reshape(-1, 8, 8)
    seen = set()
    for i in range(3, len(Xa)):
        original = images[Xa.origin_[i]]
        variants = {"same": original, "lr": original[:, ::-1], "ud": original[::-1], "lrud": original[::-1, ::-1]}
        matches = {name for name, v in variants.items() if np.array_equal(images[i], v)}
        assert matches, "a copy is neither the image nor one of its allowed mirrors"
        assert matches & ways
        seen.add(min(matches & ways))
    assert seen == ways  # each way occurs (probability 0.5 per allowed axis)


def test_defaults_make_exact_duplicates_and_copies_zero_the_originals(digits):
    X, y = digits[0][:7], digits[1][:7]
    Xa, ya = ImageAugmenter(copies=3).fit_resample(X, y)
    np.testing.assert_array_equal(np.asarray(Xa), np.tile(X, (4, 1)))
    X0, y0 = ImageAugmenter(rotation=10, copies=0).fit_resample(X, y)
    _originals_first(X0, X, 0)
    np.testing.assert_array_equal(y0, y)


def test_integer_pixels_become_floats_and_lists_and_frames_are_accepted():
    X = np.arange(32).reshape(2, 16)
    Xa, _ = ImageAugmenter(noise=0.5, random_state=0).fit_resample(X, [0, 1])
    assert Xa.dtype == np.float64
    np.testing.assert_array_equal(np.asarray(Xa[:2]), X)
    Xl, _ = ImageAugmenter().fit_resample(X.tolist(), [0, 1])
    Xf, _ = ImageAugmenter().fit_resample(pd.DataFrame(X), pd.Series([0, 1]))
    np.testing.assert_array_equal(np.asarray(Xl), np.asarray(Xf))
    assert isinstance(Xf, AugmentedArray)


def test_random_state(digits):
    X, y = digits[0][:10], digits[1][:10]
    settings = dict(rotation=10, noise=0.1)
    a, _ = ImageAugmenter(**settings, random_state=5).fit_resample(X, y)
    b, _ = ImageAugmenter(**settings, random_state=5).fit_resample(X, y)
    np.testing.assert_array_equal(a, b)
    unseeded = ImageAugmenter(**settings)
    c, _ = unseeded.fit_resample(X, y)
    d, _ = unseeded.fit_resample(X, y)
    assert not np.array_equal(c, d)
    for cls, s in [(SequenceAugmenter, dict(jitter=0.1)), (TextAugmenter, dict(deletion=0.5))]:
        data = X if cls is SequenceAugmenter else [" ".join(f"w{i}" for i in range(20))] * 5
        first = cls(**s, random_state=1).fit_resample(data, None)[0]
        again = cls(**s, random_state=1).fit_resample(data, None)[0]
        np.testing.assert_array_equal(first, again)


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: ImageAugmenter(rotation=400), "The 'rotation' parameter of ImageAugmenter must be a float in the range [0, 180]. Got 400 instead."),
        (lambda: ImageAugmenter(rotation="10"), "The 'rotation' parameter of ImageAugmenter must be a float in the range [0, 180]. Got '10' instead."),
        (lambda: ImageAugmenter(shift=1.0), "The 'shift' parameter of ImageAugmenter must be a float in the range [0, 1). Got 1.0 instead."),
        (lambda: ImageAugmenter(zoom=-0.1), "The 'zoom' parameter of ImageAugmenter must be a float in the range [0, 1)."),
        (lambda: ImageAugmenter(noise=float("nan")), "The 'noise' parameter of ImageAugmenter must be a float in the range [0, inf)."),
        (lambda: ImageAugmenter(flip="diagonal"), "The 'flip' parameter of ImageAugmenter must be a str among {'horizontal', 'vertical', 'both'} or None. Got 'diagonal' instead."),
        (lambda: ImageAugmenter(copies=1.5), "The 'copies' parameter of ImageAugmenter must be an int in the range [0, inf). Got 1.5 instead."),
        (lambda: ImageAugmenter(copies=True), "The 'copies' parameter of ImageAugmenter must be an int"),
        (lambda: ImageAugmenter(image_shape=(8, 0)), "The 'image_shape' parameter of ImageAugmenter must be a tuple"),
        (lambda: ImageAugmenter(random_state="x"), "The 'random_state' parameter of ImageAugmenter must be an int"),
        (lambda: SequenceAugmenter(shift=1.5), "The 'shift' parameter of SequenceAugmenter must be an int in the range [0, inf). Got 1.5 instead."),
        (lambda: SequenceAugmenter(jitter=-1), "The 'jitter' parameter of SequenceAugmenter must be a float in the range [0, inf)."),
        (lambda: SequenceAugmenter(scaling=None), "The 'scaling' parameter of SequenceAugmenter must be a float"),
        (lambda: TextAugmenter(deletion=1), "The 'deletion' parameter of TextAugmenter must be a float in the range [0, 1). Got 1 instead."),
        (lambda: TextAugmenter(swap=2), "The 'swap' parameter of TextAugmenter must be a float in the range [0, 1]. Got 2 instead."),
    ],
)
def test_settings_are_validated_at_fit(make, message):
    augmenter = make()  # __init__ only stores
    data = np.zeros((4, 16)) if not isinstance(augmenter, TextAugmenter) else ["a b", "c d", "e", "f"]
    with user_error(ParameterError) as info:
        augmenter.fit_resample(data, [0, 1, 0, 1])
    assert message in str(info.value)
    assert isinstance(info.value, ValueError)
    assert InvalidParameterError is ParameterError  # the old name, kept for existing code


def test_settings_are_params_for_clone_and_search():
    aug = ImageAugmenter(rotation=10, image_shape=(8, 8))
    assert aug.get_params() == dict(flip=None, rotation=10, shift=0.0, zoom=0.0, noise=0.0, copies=1,
                                    image_shape=(8, 8), random_state=None)  # fmt: skip
    assert clone(aug).set_params(rotation=20).rotation == 20
    assert set(TextAugmenter().get_params()) == {"deletion", "swap", "copies", "random_state"}
    assert set(SequenceAugmenter().get_params()) == {"jitter", "scaling", "shift", "copies", "random_state"}


def test_y_may_be_numbers_or_none_and_must_match():
    X = np.zeros((3, 4))
    Xa, ya = ImageAugmenter().fit_resample(X, np.array([0.5, 1.5, 2.5]))
    np.testing.assert_array_equal(ya, [0.5, 1.5, 2.5] * 2)
    assert ImageAugmenter().fit_resample(X, None)[1] is None
    with user_error(ValueError, match="inconsistent numbers of samples"):
        ImageAugmenter().fit_resample(X, [0, 1])


def test_two_augmenters_in_a_row_point_copies_to_the_first_originals(digits):
    X, y = digits[0][:4], digits[1][:4]
    first, y1 = ImageAugmenter(noise=0.1, random_state=0).fit_resample(X, y)
    second_step = ImageAugmenter(rotation=10, copies=2, random_state=0)
    twice, y2 = second_step.fit_resample(first, y1)
    assert len(twice) == 24
    np.testing.assert_array_equal(twice.origin_, np.tile(np.arange(4), 6))
    np.testing.assert_array_equal(y2, np.tile(y, 6))
    np.testing.assert_array_equal(second_step.sample_indices_, np.tile(np.arange(8), 3))


# ---- the output array --------------------------------------------------------------------------


def test_augmented_array_keeps_origin_only_while_rows_are_kept():
    Xa = AugmentedArray(np.arange(12.0).reshape(6, 2), [0, 1, 2, 0, 1, 2])
    for same_rows in (Xa / 2, Xa.astype(np.float32), Xa[:, :1], Xa[...], Xa.reshape(6, 2, 1), Xa.copy()):
        np.testing.assert_array_equal(same_rows.origin_, Xa.origin_)
    for other_rows in (Xa[:3], Xa[[0, 3]], Xa[Xa[:, 0] > 2], Xa[1]):
        assert getattr(other_rows, "origin_", None) is None
    assert type(np.asarray(Xa)) is np.ndarray
    back = pickle.loads(pickle.dumps(Xa))
    assert isinstance(back, AugmentedArray)
    np.testing.assert_array_equal(back, Xa)
    np.testing.assert_array_equal(back.origin_, Xa.origin_)
    with user_error(ValueError, match="one entry per row"):
        AugmentedArray(np.zeros((3, 2)), [0, 1])


# ---- sequences ---------------------------------------------------------------------------------


@pytest.mark.parametrize("features", [None, 2])
def test_sequence_shift_moves_the_window_and_repeats_the_edge(features):
    ramp = np.arange(10.0)[None, :].repeat(4, axis=0) + 100 * np.arange(4)[:, None]
    X = ramp if features is None else np.stack([ramp, -ramp], axis=-1)
    y = np.array([0.1, 0.2, 0.3, 0.4])  # forecasting targets: numbers
    Xa, ya = SequenceAugmenter(shift=3, copies=5, random_state=0).fit_resample(X, y)
    assert Xa.shape == (24,) + X.shape[1:]
    _originals_first(Xa, X, 5)
    np.testing.assert_array_equal(ya, np.tile(y, 6))
    moves = set()
    for i in range(4, 24):
        original = X[Xa.origin_[i]]
        options = {k: original[np.clip(np.arange(10) - k, 0, 9)] for k in range(-3, 4)}
        k = next(k for k, v in options.items() if np.array_equal(Xa[i], v))
        moves.add(k)
    assert len(moves) > 2 and moves <= set(range(-3, 4))


def test_sequence_jitter_and_scaling():
    X = np.random.RandomState(0).rand(6, 12, 1) + 1
    Xa, _ = SequenceAugmenter(scaling=0.2, copies=1, random_state=0).fit_resample(X, None)
    ratios = np.asarray(Xa[6:]) / X
    np.testing.assert_allclose(ratios, ratios[:, :1, :].repeat(12, axis=1))  # one factor per window
    assert np.ptp(ratios[:, 0, 0]) > 0.01
    Xj, _ = SequenceAugmenter(jitter=0.1, random_state=0).fit_resample(X, None)
    assert 0.05 < np.std(np.asarray(Xj[6:]) - X) < 0.2
    Xd, _ = SequenceAugmenter(copies=2).fit_resample(X, None)
    np.testing.assert_array_equal(np.asarray(Xd), np.concatenate([X] * 3))
    with user_error(ValueError, match="shift=12 must be smaller than the 12 steps"):
        SequenceAugmenter(shift=12).fit_resample(X, None)
    with user_error(ValueError, match=r"takes windows \(n, steps\)"):
        SequenceAugmenter().fit_resample(np.zeros((2, 3, 4, 5)), None)


# ---- text --------------------------------------------------------------------------------------

TEXTS = ["the film was great and the actors were wonderful", "dull", "not good at all, sadly"]


@pytest.mark.parametrize("container", [list, np.array, pd.Series, lambda t: pd.DataFrame({"review": t})])
def test_text_deletion_keeps_words_in_order_and_never_all(container):
    Xa, ya = TextAugmenter(deletion=0.5, copies=10, random_state=0).fit_resample(container(TEXTS), [1, 0, 0])
    assert Xa.dtype == object and all(type(v) is str for v in Xa)
    _originals_first(Xa, np.array(TEXTS, dtype=object), 10)
    np.testing.assert_array_equal(ya, [1, 0, 0] * 11)
    shorter = 0
    for i in range(3, len(Xa)):
        words, original = Xa[i].split(), TEXTS[Xa.origin_[i]].split()
        assert 1 <= len(words) <= len(original)
        it = iter(original)
        assert all(w in it for w in words)  # a subsequence: kept words, in order
        shorter += len(words) < len(original)
    assert shorter > 10


def test_text_swap_moves_neighbours_only():
    Xa, _ = TextAugmenter(swap=0.5, copies=5, random_state=0).fit_resample(TEXTS, None)
    for i in range(3, len(Xa)):
        assert sorted(Xa[i].split()) == sorted(TEXTS[Xa.origin_[i]].split())
    assert any(Xa[i] != TEXTS[Xa.origin_[i]] for i in range(3, len(Xa)))
    same, _ = TextAugmenter(copies=2).fit_resample(TEXTS, None)
    assert list(same) == TEXTS * 3  # everything off: exact duplicates


def test_token_ids_keep_their_padding_side():
    X = np.array([[0, 0, 5, 6, 7, 8], [1, 2, 3, 4, 0, 0], [9, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0]])
    Xa, _ = TextAugmenter(deletion=0.4, swap=0.3, copies=6, random_state=0).fit_resample(X, [0, 1, 0, 1])
    assert Xa.shape == (28, 6) and Xa.dtype == X.dtype
    _originals_first(Xa, X, 6)
    for i in range(4, 28):
        row, original = np.asarray(Xa[i]), X[Xa.origin_[i]]
        tokens = row[row != 0]
        assert set(tokens) <= set(original[original != 0])
        if original[0] == 0 and original[-1] != 0:  # padded at the front
            assert (row[len(row) - len(tokens):] != 0).all()
        elif original.any():
            assert (row[: len(tokens)] != 0).all() and len(tokens) >= 1
        else:
            assert not row.any()


def test_text_input_errors():
    with user_error(ValueError, match="takes strings .*got int values such as 3"):
        TextAugmenter().fit_resample(["a", 3], None)
    with user_error(ValueError, match="got an array of shape"):
        TextAugmenter().fit_resample(np.zeros((2, 3)), None)
    with user_error(ValueError, match="one column of strings; got 2 columns"):
        TextAugmenter().fit_resample(pd.DataFrame({"a": ["x"], "b": ["y"]}), None)


def test_docstring_examples():
    import doctest

    import netdsl.pipelines.augment as module

    failures, tried = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert tried > 0 and failures == 0


def test_importing_augment_does_not_import_tensorflow_and_the_package_stays_light():
    code = (
        "import sys, netdsl.pipelines as p\n"
        "light = 'imblearn' not in sys.modules\n"
        "from netdsl.pipelines import ImageAugmenter\n"
        "ImageAugmenter(rotation=5).fit_resample([[0.0] * 4] * 2, [0, 1])\n"
        "print(light, sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT).stdout
    assert out.split() == ["True", "[]"]


# ---- the fit-only guarantee, exactly, with a marking augmenter ----------------------------------


class Marker(BaseAugmenter):
    """Copies with their last column set to 1 (0 in the data): a copy is always recognisable."""

    def _augment(self, X, rng):
        X = X.copy()
        X[:, -1] = 1.0
        return X


def _marked_iris():
    """Iris, standardised, plus a row-id column (id / 150) and a marker column (0)."""
    X, y = load_iris(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    X = np.column_stack([X, np.arange(len(X)) / len(X), np.zeros(len(X))]).astype("float32")
    return X, y


def _ids(X):
    return set(np.rint(np.asarray(X)[:, -2] * 150).astype(int).tolist())


def _marked(X):
    return np.asarray(X)[:, -1] == 1.0


@pytest.fixture(scope="module")
def spy():
    from netdsl.estimators import NetClassifier

    class SpyClassifier(NetClassifier):
        """Records what reaches fit, Keras's fit (`_train`) and prediction (`_raw_outputs`)."""

        log = []

        def fit(self, X, y=None, sample_weight=None):
            type(self).log.append(("fit", X))
            return super().fit(X, y, sample_weight=sample_weight)

        def _train(self, model, X, y, settings, **kw):
            type(self).log.append(("train", np.array(X), kw.get("validation")))
            return super()._train(model, X, y, settings, **kw)

        def _raw_outputs(self, X):
            type(self).log.append(("predict", np.array(X)))
            return super()._raw_outputs(X)

    SpyClassifier.log.clear()
    return SpyClassifier


def _net(spy, **kwargs):
    return spy(MLP, epochs=1, learning_rate=0.05, random_state=0, **kwargs)


def test_predict_and_score_never_see_augmented_rows(spy):
    X, y = _marked_iris()
    spy.log.clear()
    pipe = make_pipeline(Marker(copies=1), _net(spy)).fit(X, y)
    pipe.predict(X)
    pipe.score(X, y)
    pipe.predict_proba(X[:10])
    (fit_call, fitted), (train_call, *_), *predictions = spy.log
    assert fit_call == "fit" and train_call == "train"
    assert isinstance(fitted, AugmentedArray) and len(fitted) == 300 and _marked(fitted).sum() == 150
    assert [len(p[1]) for p in predictions] == [150, 150, 10]
    for _, seen in predictions:
        assert not _marked(seen).any()
        np.testing.assert_array_equal(seen, X[: len(seen)])


def test_cross_validation_scores_folds_free_of_augmented_rows(spy):
    X, y = _marked_iris()
    spy.log.clear()
    scores = cross_val_score(make_pipeline(Marker(copies=2), _net(spy)), X, y, cv=3)
    assert len(scores) == 3 and np.isfinite(scores).all()
    fits = [entry[1] for entry in spy.log if entry[0] == "fit"]
    scored = [entry[1] for entry in spy.log if entry[0] == "predict"]
    assert len(fits) == len(scored) == 3
    for trained, test in zip(fits, scored):
        assert len(trained) == 3 * 100 and _marked(trained).sum() == 200
        assert len(test) == 50 and not _marked(test).any()
        assert not _ids(trained) & _ids(test)  # no copy of a scored row was trained on
    assert set().union(*map(_ids, scored)) == set(range(150))


def test_validation_split_holds_out_originals_and_drops_their_copies(spy):
    X, y = _marked_iris()
    spy.log.clear()
    make_pipeline(Marker(copies=2), _net(spy, validation_split=0.3)).fit(X, y)
    (_, train_x, (val_x, val_y)) = next(entry for entry in spy.log if entry[0] == "train")
    assert len(val_x) == 45 and len(val_y) == 45  # 30% of the 150 originals
    assert not _marked(val_x).any()
    assert not _ids(train_x) & _ids(val_x)  # neither an original nor a copy of a held-out row
    assert len(train_x) == 3 * 105 and _marked(train_x).sum() == 210

    # Without `origin_` (a plain array) the estimator cannot tell: copies of held-out rows leak.
    Xa, ya = Marker(copies=2).fit_resample(X, y)
    spy.log.clear()
    _net(spy, validation_split=0.3).fit(np.asarray(Xa), ya)
    (_, train_x, (val_x, _)) = next(entry for entry in spy.log if entry[0] == "train")
    assert _ids(train_x) & _ids(val_x)


def test_augmenters_are_samplers_not_transformers(spy):
    from sklearn.pipeline import make_pipeline as sklearn_make_pipeline

    X, y = _marked_iris()
    for augmenter in (ImageAugmenter(), SequenceAugmenter(), TextAugmenter(), Marker()):
        assert is_sampler(augmenter) and hasattr(augmenter, "fit_resample")
        assert not hasattr(augmenter, "transform") and not hasattr(augmenter, "fit_transform")
    # scikit-learn's Pipeline would transform at predict time too; it refuses a sampler outright.
    with pytest.raises(TypeError, match=r"should be transformers and implement fit and transform .*ImageAugmenter"):
        sklearn_make_pipeline(ImageAugmenter(image_shape=(2, 3)), _net(spy)).fit(X, y)


def test_grid_search_over_an_augmenter_setting(digits):
    from netdsl.estimators import NetClassifier

    X, y = digits
    pipe = make_pipeline(
        ImageAugmenter(rotation=0, copies=1, image_shape=(8, 8), random_state=0),
        NetClassifier(TINY_CNN, epochs=1, random_state=0),
    )
    search = GridSearchCV(pipe, {"imageaugmenter__rotation": [0, 10]}, cv=2).fit(X, y)
    assert [p["imageaugmenter__rotation"] for p in search.cv_results_["params"]] == [0, 10]
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    assert search.best_estimator_.predict(X[:5]).shape == (5,)
