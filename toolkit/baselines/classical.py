"""Classical scikit-learn classifiers that every classification run is compared with.

A baseline is fitted on the training split only; its one setting (the
inverse regularization strength `C`) is chosen by accuracy on the
validation split only. The test split is never seen until the comparison.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline

from toolkit.data.splits import Split


class HogFeatures(TransformerMixin, BaseEstimator):
    """Histograms of oriented gradients (scikit-image) of uint8 images, grayscale or with channels last.

    Cells are a seventh of the shorter side, and at least 2 pixels: a 28x28
    image has 7x7 cells of 4 pixels, an 8x8 one 4x4 cells of 2; blocks are
    2x2 cells, with 9 orientations.
    """

    def fit(self, images: np.ndarray, targets: np.ndarray | None = None) -> HogFeatures:
        """Nothing to learn: HOG is fixed."""
        return self

    def transform(self, images: np.ndarray) -> np.ndarray:
        """HOG features of uint8 images `(n, height, width[, channels])`, as float32 `(n, features)`."""
        from skimage.feature import hog

        images = np.asarray(images)
        cell = max(2, min(images.shape[1:3]) // 7)
        channel_axis = -1 if images.ndim == 4 else None
        return np.stack(
            [
                hog(image, orientations=9, pixels_per_cell=(cell, cell), cells_per_block=(2, 2), channel_axis=channel_axis)
                for image in images
            ]
        ).astype("float32")


@dataclass
class ClassicalBaseline:
    """An unfitted scikit-learn baseline: features, a classifier, and the values of its `C` to choose from.

    Attributes:
        name: What it is, for people: "TF-IDF of unigrams and bigrams + logistic regression".
        make_features: Builds the unfitted feature transformer.
        make_classifier: Builds the unfitted classifier for one value of `C`.
        grid: The values of `C` tried.
    """

    name: str
    make_features: Callable[[], TransformerMixin]
    make_classifier: Callable[[float], BaseEstimator]
    grid: Sequence[float]

    def fit(self, train: Split, validation: Split) -> FittedBaseline:
        """Fits the features and one classifier per value of `C` on `train`; keeps the one most accurate on `validation`.

        Args:
            train: What the features and every classifier are fitted on.
            validation: What chooses `C`; never fitted on.

        Returns:
            The features and the chosen classifier, with the validation
            accuracy of every `C`; ties go to the first `C` of the grid.
        """
        started = time.perf_counter()
        features = self.make_features().fit(train.inputs, train.targets)
        train_features, validation_features = features.transform(train.inputs), features.transform(validation.inputs)
        scores, best = {}, None
        for value in self.grid:
            classifier = self.make_classifier(value).fit(train_features, train.targets)
            scores[value] = float(np.mean(classifier.predict(validation_features) == validation.targets))
            if best is None or scores[value] > scores[best[0]]:
                best = (value, classifier)
        return FittedBaseline(
            self.name,
            make_pipeline(features, best[1]),
            best[0],
            {str(value): score for value, score in scores.items()},
            time.perf_counter() - started,
        )


@dataclass
class FittedBaseline:
    """A baseline fitted on the training split, with its validation-chosen `C`."""

    name: str
    estimator: Pipeline
    chosen_c: float
    validation_accuracy: dict[str, float]
    fit_seconds: float

    def predict(self, inputs) -> np.ndarray:
        """Class ids for raw inputs (texts or uint8 images)."""
        return np.asarray(self.estimator.predict(inputs)).astype("int64")

    def describe(self) -> dict:
        """A JSON-ready record of what was fitted and how its setting was chosen."""
        return {
            "name": self.name,
            "chosen_c": self.chosen_c,
            "validation_accuracy_by_c": self.validation_accuracy,
            "fit_seconds": round(self.fit_seconds, 1),
        }


def text_baseline() -> ClassicalBaseline:
    """TF-IDF of unigrams and bigrams (in at least two training texts, sublinear counts), then logistic regression."""

    return ClassicalBaseline(
        "TF-IDF of unigrams and bigrams + logistic regression",
        lambda: TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True),
        lambda c: LogisticRegression(C=c, solver="liblinear"),
        (1.0, 4.0, 16.0, 64.0),
    )


def image_baseline() -> ClassicalBaseline:
    """HOG features (scikit-image), then multinomial logistic regression."""

    return ClassicalBaseline(
        "HOG features + logistic regression", HogFeatures, lambda c: LogisticRegression(C=c, max_iter=300), (0.1, 1.0)
    )
