"""In-graph checks of a raw batch's shape, eager and in an exported signature of any rank, with messages naming both shapes."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from toolkit.preprocessing.batch_checks import checked_batch, checked_image_batch, checked_text_lengths

WINDOWS = tf.TensorSpec([None, 3, 5], tf.float32, name="windows")


def test_a_batch_of_the_specs_shape_passes_unchanged_with_any_batch_size():
    for rows in (0, 1, 4):
        values = np.random.default_rng(rows).normal(size=(rows, 3, 5)).astype("float32")
        np.testing.assert_array_equal(checked_batch(tf.constant(values), WINDOWS, "float32 windows"), values)


def test_another_rank_or_dimension_is_refused_naming_the_input_and_both_shapes():
    for shape in ((2, 3), (2, 4, 5), (2, 3, 5, 1), (3, 5)):
        expected = r"windows: expected float32 windows of shape \[batch, 3, 5\] \(3 days\), got shape\W+" + r"\W+".join(map(str, shape))
        with pytest.raises(tf.errors.InvalidArgumentError, match=expected):
            checked_batch(tf.zeros(shape), WINDOWS, "float32 windows", " (3 days)")


def test_the_shape_given_is_reported_when_the_inputs_were_reshaped():
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"got shape\W+7\W+7\W*$"):
        checked_batch(tf.zeros((2, 4)), WINDOWS, "windows", found=tf.constant([7, 7]))


def test_in_a_signature_of_any_rank_the_result_has_the_specs_static_shape():
    @tf.function(input_signature=[tf.TensorSpec(None, tf.float32)])
    def serve(inputs):
        checked = checked_batch(inputs, WINDOWS, "float32 windows")
        assert checked.shape.as_list() == [None, 3, 5]
        return checked

    assert serve(tf.ones((2, 3, 5))).shape == (2, 3, 5)
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"got shape\W+2\W+3\W+"):
        serve(tf.ones((2, 3)))


def test_grayscale_images_are_taken_with_or_without_a_channel_axis_of_one():
    images = np.arange(2 * 4 * 4, dtype=np.uint8).reshape(2, 4, 4)
    np.testing.assert_array_equal(checked_image_batch(tf.constant(images), (4, 4)), images)
    np.testing.assert_array_equal(checked_image_batch(tf.constant(images[..., None]), (4, 4)), images)
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match=r"images: expected uint8 images of shape \[batch, 4, 4\] or \[batch, 4, 4, 1\], got shape\W+2\W+4\W+4\W+3"):
        checked_image_batch(tf.zeros((2, 4, 4, 3), tf.uint8), (4, 4))


def test_colour_images_need_their_channels_and_in_a_signature_a_grayscale_channel_axis_is_dropped():
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"expected uint8 images of shape \[batch, 4, 4, 3\], got shape\W+2\W+4\W+4\W+1"):
        checked_image_batch(tf.zeros((2, 4, 4, 1), tf.uint8), (4, 4, 3))

    @tf.function(input_signature=[tf.TensorSpec(None, tf.uint8)])
    def serve(images):
        return checked_image_batch(images, (4, 4))

    assert serve(tf.zeros((3, 4, 4, 1), tf.uint8)).shape == (3, 4, 4)
    assert serve(tf.zeros((3, 4, 4), tf.uint8)).shape == (3, 4, 4)
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"got shape\W+4\W+4\W+"):
        serve(tf.zeros((4, 4), tf.uint8))  # one image without its batch axis


def test_texts_over_max_characters_are_refused_by_row_counting_characters_not_bytes():
    texts = tf.constant(["abc", "été", "日本語", "abcd", ""])
    np.testing.assert_array_equal(checked_text_lengths(texts[:3], 3, "text"), texts[:3])  # three characters each
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match=r"prompt: at most 3 characters per prompt \(serving.max_characters\); longer prompts at rows\W+3\W*$"):
        checked_text_lengths(texts, 3, "prompt")
    assert checked_text_lengths(texts, None, "text") is texts, "no limit: no check"
