"""The task model base: serve checks dtype, shape and limits, answers an empty batch, describes itself, saves and exports."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from toolkit.models.task import ONE_NETWORK, FitPlan, TaskModel


@keras.saving.register_keras_serializable(package="tests")
class Doubler(TaskModel):
    """Pairs of numbers in; each doubled, and their sum, out."""

    def raw_input_spec(self) -> tf.TensorSpec:
        return tf.TensorSpec([None, 2], tf.float32, name="pairs")

    def serving_outputs(self, raw_inputs):
        doubled = self(raw_inputs, training=False)
        return {"doubled": doubled, "sum": tf.reduce_sum(doubled, axis=-1)}

    def raw_batch(self, raw_inputs) -> np.ndarray:
        return np.asarray(raw_inputs, "float32")


def doubler(limits=None) -> Doubler:
    pairs = keras.Input((2,))
    dense = keras.layers.Dense(2, use_bias=False, kernel_initializer=keras.initializers.Identity(2.0), name="double")
    return Doubler(keras.Model(pairs, dense(pairs), name="network"), limits=limits, name="doubler")


def test_serve_answers_by_name_and_casts_integers_for_a_float_spec():
    outputs = doubler().serve([[1, 2], [3, 4]])
    np.testing.assert_allclose(outputs["doubled"], [[2, 4], [6, 8]])
    np.testing.assert_allclose(outputs["sum"], [6, 14])


def test_inputs_of_another_dtype_are_a_type_error():
    with pytest.raises(TypeError, match=r"^pairs: expected float32 inputs, got string\.$"):
        doubler().serve(tf.constant([["a", "b"]]))
    with pytest.raises(TypeError, match="got bool"):
        doubler().serve(tf.constant([[True, False]]))


def test_a_batch_of_another_shape_is_refused_naming_the_input_and_both_shapes():
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"pairs: expected float32 inputs of shape \[batch, 2\], got shape\W+2\W+3"):
        doubler().serve(np.zeros((2, 3), "float32"))


def test_an_empty_batch_gives_empty_outputs_of_the_same_kinds():
    outputs = doubler().serve(np.zeros((0, 2), "float32"))
    assert outputs["doubled"].shape == (0, 2) and outputs["sum"].shape == (0,)
    assert outputs["sum"].dtype == tf.float32


def test_max_batch_is_checked_before_any_work_and_a_missing_limit_is_none():
    limited = doubler({"max_batch": 2, "max_characters": None})
    assert limited.limits == {"max_batch": 2}
    assert limited.serve(np.ones((2, 2)))["sum"].shape == (2,)
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match=r"pairs: this model serves at most 2 inputs per call \(serving.max_batch\); got\W+3"):
        limited.serve(np.ones((3, 2)))
    assert doubler().limits == {}


def test_the_usual_fit_plan_is_the_one_network_and_nothing_to_join():
    model = doubler()
    plan = model.fit_plan()
    assert isinstance(plan, FitPlan) and plan.parts == {ONE_NETWORK: model.network} and plan.join is None


def test_describe_gives_the_task_its_input_and_its_own_settings_not_its_layers():
    assert doubler({"max_batch": 8}).describe() == {
        "task": "Doubler",
        "input": {"name": "pairs", "shape": [None, 2], "dtype": "float32"},
        "limits": {"max_batch": 8},
    }


def test_a_subclass_must_say_what_it_takes_and_serves():
    class Bare(TaskModel):
        pass

    with pytest.raises(NotImplementedError, match=r"Bare must define raw_input_spec\(\)\."):
        Bare(keras.Sequential([keras.layers.Dense(1)]))
    model = doubler()
    with pytest.raises(NotImplementedError, match=r"Doubler must define serving_outputs\(\)\."):
        TaskModel.serving_outputs(model, tf.zeros((1, 2)))
    with pytest.raises(NotImplementedError, match=r"Doubler must define raw_batch\(\)\."):
        TaskModel.raw_batch(model, [[1, 2]])


def test_it_is_saved_with_its_layers_and_limits_and_loaded_by_keras(tmp_path):
    model = doubler({"max_batch": 4})
    model.save(tmp_path / "model.keras")
    loaded = keras.saving.load_model(tmp_path / "model.keras")
    assert isinstance(loaded, Doubler) and loaded.limits == {"max_batch": 4} and loaded.name == "doubler"
    np.testing.assert_allclose(loaded.serve([[1.5, -1]])["doubled"], [[3, -2]])
    assert sorted(model.get_config()) == ["limits", "name", "network", "preprocessor"]
    assert model.get_config()["preprocessor"] is None


def test_the_exported_signature_serves_the_same_and_checks_inputs_of_any_shape(tmp_path):
    path = doubler({"max_batch": 3}).export_serving(tmp_path / "serving")
    assert path == tmp_path / "serving"
    serving = tf.saved_model.load(str(path)).signatures["serving_default"]
    outputs = serving(pairs=tf.constant([[1.0, 2.0]]))
    np.testing.assert_allclose(outputs["sum"], [6.0])
    assert serving(pairs=tf.zeros((0, 2)))["doubled"].shape == (0, 2)
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"expected float32 inputs of shape \[batch, 2\], got shape\W+2\W*\]"):
        serving(pairs=tf.constant([1.0, 2.0]))
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"serving.max_batch"):
        serving(pairs=tf.zeros((4, 2)))
