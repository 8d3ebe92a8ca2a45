"""The grid position embedding: a learned vector per position added to the features, starting as the identity."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from toolkit.layers import GridPositionEmbedding


def test_grid_positions_add_a_learned_vector_per_position_and_refuse_an_unknown_grid():
    layer = GridPositionEmbedding(initializer="random_normal")
    features = np.zeros((2, 3, 4), "float32")
    out = layer(features).numpy()
    np.testing.assert_array_equal(out[0], layer.embedding.numpy())
    np.testing.assert_array_equal(out[0], out[1])
    with pytest.raises(ValueError, match=r"known positions and features, got shape \(None, None, 4\)"):
        GridPositionEmbedding().build((None, None, 4))


def test_it_starts_as_the_identity_and_adds_the_same_vector_at_a_position_whatever_the_features():
    features = np.random.default_rng(0).normal(size=(2, 3, 4)).astype("float32")
    layer = GridPositionEmbedding()
    np.testing.assert_array_equal(layer(features), features)
    assert layer.embedding.shape == (3, 4) and layer.trainable_weights == [layer.embedding]
    layer.embedding.assign(np.arange(12, dtype="float32").reshape(3, 4))
    np.testing.assert_allclose(layer(features) - features, np.broadcast_to(np.arange(12).reshape(3, 4), (2, 3, 4)), atol=1e-6)
    assert layer.compute_output_shape((None, 3, 4)) == (None, 3, 4)


def test_features_that_are_not_a_sequence_of_positions_are_refused():
    with pytest.raises(ValueError, match=r"expected features \(batch, positions, features\) .*got shape \(None, 4\)"):
        GridPositionEmbedding().build((None, 4))
    with pytest.raises(ValueError, match=r"got shape \(None, 3, None\)"):
        GridPositionEmbedding().build((None, 3, None))


def test_it_is_saved_and_loaded_with_its_initializer_and_learned_vectors(tmp_path):
    grid = keras.Input((3, 4))
    model = keras.Model(grid, GridPositionEmbedding(initializer="ones", name="positions")(grid))
    model.get_layer("positions").embedding.assign(np.full((3, 4), 2.5, "float32"))
    model.save(tmp_path / "model.keras")
    loaded = keras.saving.load_model(tmp_path / "model.keras")
    np.testing.assert_array_equal(loaded(np.zeros((1, 3, 4), "float32")), np.full((1, 3, 4), 2.5))
    config = loaded.get_layer("positions").get_config()
    assert config["initializer"]["class_name"] == "Ones"
