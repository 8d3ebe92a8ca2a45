"""LumaChroma: luma and chroma by their formulas, blind to hue, and saved with a model."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from tests.helpers import RED, SAME_LUMA_BLUE
from toolkit.layers import LumaChroma


def test_luma_is_the_bt601_sum_and_chroma_the_spread_of_the_channels():
    pixels = np.random.default_rng(0).random((4, 5, 5, 3)).astype("float32")
    out = LumaChroma()(pixels).numpy()
    np.testing.assert_allclose(out[..., 0], pixels @ np.array([0.2989, 0.587, 0.114], "float32"), rtol=1e-5)
    np.testing.assert_allclose(out[..., 1], pixels.max(-1) - pixels.min(-1), rtol=1e-6)
    assert out.shape == (4, 5, 5, 2)


def test_two_colours_of_equal_luma_and_chroma_look_the_same():
    out = LumaChroma()(np.array([RED, SAME_LUMA_BLUE, (0.4, 0.4, 0.4)], "float32")).numpy()
    np.testing.assert_allclose(out[0], out[1], atol=1e-6)
    assert out[2, 1] == 0  # a grey has no chroma


def test_refuses_images_without_three_channels():
    with pytest.raises(ValueError, match=r"LumaChroma: expected RGB images with 3 channels, got shape \(None, 4, 4, 1\)"):
        LumaChroma()(keras.Input((4, 4, 1)))


def test_saved_and_loaded_with_a_model(tmp_path):
    inputs = keras.Input((4, 4, 3))
    model = keras.Model(inputs, keras.layers.Conv2D(2, 1)(LumaChroma()(inputs)))
    model.save(tmp_path / "model.keras")
    images = np.random.default_rng(1).random((2, 4, 4, 3)).astype("float32")
    np.testing.assert_allclose(keras.saving.load_model(tmp_path / "model.keras")(images), model(images), atol=1e-6)
