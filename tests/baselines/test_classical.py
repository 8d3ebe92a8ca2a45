"""The classical baselines: fitted on the training split only, their setting chosen on the validation split only."""

from __future__ import annotations

import numpy as np
from sklearn.linear_model import LogisticRegression

from toolkit.baselines.classical import ClassicalBaseline, HogFeatures, image_baseline, text_baseline
from toolkit.data.images import load_digits_images
from toolkit.data.splits import Split, holdout_split


def _texts(words: list[str], count: int, seed: int) -> Split:
    """Reviews whose label is whether they contain "good"; each also holds one word of `words`."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, count)
    texts = [f"{'good' if label else 'bad'} film {rng.choice(words)} {rng.choice(words)}" for label in labels]
    return Split(np.array(texts, dtype=object), labels.astype("int64"))


def test_text_baseline_learns_its_vocabulary_from_training_texts_only():
    train = _texts(["plot", "cast", "score"], 200, seed=0)
    validation = _texts(["validationonly", "plot"], 100, seed=1)
    fitted = text_baseline().fit(train, validation)
    vocabulary = set(fitted.estimator.steps[0][1].vocabulary_)
    assert {"good", "bad", "plot", "cast"} <= vocabulary
    assert not any("validationonly" in term for term in vocabulary)
    test = _texts(["testonly"], 50, seed=2)
    assert np.mean(fitted.predict(test.inputs) == test.targets) == 1.0


class _Recorder(LogisticRegression):
    """A logistic regression that remembers the rows of every `fit`."""

    fitted_on: list = []

    def fit(self, features, targets, sample_weight=None):
        _Recorder.fitted_on.append(np.asarray(features))
        return super().fit(features, targets, sample_weight)


def test_every_fit_sees_training_rows_only_and_the_validation_split_chooses_c():
    rng = np.random.default_rng(0)
    train = Split(rng.normal(size=(120, 4)), rng.integers(0, 2, 120))
    train.targets[:] = train.inputs[:, 0] > 0
    validation = Split(rng.normal(size=(60, 4)), rng.integers(0, 2, 60))
    _Recorder.fitted_on = []
    baseline = ClassicalBaseline("recorded", lambda: HogFeaturesFree(), lambda c: _Recorder(C=c), (0.01, 1.0))
    fitted = baseline.fit(train, validation)
    assert len(_Recorder.fitted_on) == 2
    for rows in _Recorder.fitted_on:
        np.testing.assert_array_equal(rows, train.inputs)
    for c, score in fitted.validation_accuracy.items():
        expected = np.mean(_Recorder(C=float(c)).fit(train.inputs, train.targets).predict(validation.inputs) == validation.targets)
        assert score == expected
    assert fitted.validation_accuracy[str(fitted.chosen_c)] == max(fitted.validation_accuracy.values())


class HogFeaturesFree(HogFeatures):
    """Features as they are: the identity, to see the classifier's rows."""

    def transform(self, images):
        return np.asarray(images)


def test_hog_features_fit_grayscale_and_colour_images_of_any_size():
    rng = np.random.default_rng(0)
    assert HogFeatures().transform(rng.integers(0, 255, (3, 28, 28), dtype=np.uint8)).shape == (3, 1296)
    assert HogFeatures().transform(rng.integers(0, 255, (2, 8, 8), dtype=np.uint8)).shape == (2, 324)
    assert HogFeatures().transform(rng.integers(0, 255, (2, 32, 32, 3), dtype=np.uint8)).shape[0] == 2


def test_image_baseline_learns_digits_well_above_chance():
    images, labels = load_digits_images()
    train, rest = holdout_split(images, labels, 0.4, seed=0)
    validation, test = holdout_split(rest.inputs, rest.targets, 0.5, seed=0)
    fitted = image_baseline().fit(train, validation)
    assert np.mean(fitted.predict(test.inputs) == test.targets) > 0.8  # chance is 0.1
