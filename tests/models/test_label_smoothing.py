"""Label smoothing of class-id targets: Keras' one-hot smoothing, for the classifiers' loss only."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from toolkit.config import ConfigError
from toolkit.models.label_smoothing import SmoothedSparseCategoricalCrossentropy
from toolkit.training import TrainerConfig, compile_model


@pytest.mark.parametrize("from_logits", [False, True])
def test_it_equals_keras_one_hot_label_smoothing(from_logits):
    rng = np.random.default_rng(0)
    targets = rng.integers(0, 4, 16)
    predictions = rng.normal(size=(16, 4)).astype("float32")
    if not from_logits:
        predictions = keras.ops.convert_to_numpy(keras.ops.softmax(predictions))
    expected = keras.losses.CategoricalCrossentropy(label_smoothing=0.1, from_logits=from_logits)(
        np.eye(4)[targets], predictions
    )
    smoothed = SmoothedSparseCategoricalCrossentropy(0.1, from_logits=from_logits)
    np.testing.assert_allclose(smoothed(targets, predictions), expected, rtol=1e-6)
    np.testing.assert_allclose(smoothed(targets[:, None], predictions), expected, rtol=1e-6)
    # One target per step, as a language model has: the same loss, over every step.
    per_step = smoothed(targets.reshape(4, 4), predictions.reshape(4, 4, 4))
    np.testing.assert_allclose(per_step, expected, rtol=1e-6)
    restored = SmoothedSparseCategoricalCrossentropy.from_config(smoothed.get_config())
    assert (restored.label_smoothing, restored.from_logits) == (0.1, from_logits)


def test_a_trainer_with_label_smoothing_compiles_a_classifier_with_it_and_refuses_other_losses():
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, activation="softmax")])
    trainer = TrainerConfig(label_smoothing=0.2)
    compile_model(model, trainer, keras.losses.SparseCategoricalCrossentropy(), [])
    assert isinstance(model.loss, SmoothedSparseCategoricalCrossentropy) and model.loss.label_smoothing == 0.2
    compile_model(model, TrainerConfig(), keras.losses.SparseCategoricalCrossentropy(), [])
    assert type(model.loss) is keras.losses.SparseCategoricalCrossentropy
    for loss in (keras.losses.MeanSquaredError(), keras.losses.SparseCategoricalCrossentropy(ignore_class=0)):
        with pytest.raises(ConfigError, match=r"trainer.label_smoothing: .* Set trainer.label_smoothing to 0"):
            compile_model(model, trainer, loss, [])
    named = TrainerConfig(label_smoothing=0.2, loss="sparse_categorical_crossentropy")
    with pytest.raises(ConfigError, match=r"trainer.loss is set \(to 'sparse_categorical_crossentropy'\)"):
        compile_model(model, named, keras.losses.SparseCategoricalCrossentropy(), [])
