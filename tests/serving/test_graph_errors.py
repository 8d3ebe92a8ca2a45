"""A serving graph's check, as a client reads it: the check's own words and values, none of TensorFlow's decorations."""

from __future__ import annotations

import pytest
import tensorflow as tf

from toolkit.serving.graph_errors import graph_error_message


def raised_by(function, *arguments) -> tf.errors.OpError:
    with pytest.raises(tf.errors.OpError) as raised:
        function(*arguments)
    return raised.value


def test_an_assert_gives_its_message_and_the_values_it_printed():
    @tf.function(input_signature=[tf.TensorSpec(None, tf.string)])
    def checked(texts):
        check = tf.debugging.Assert(
            tf.size(texts) == 2, ["text: expected string inputs of shape [batch, 2], got shape", tf.shape(texts)]
        )
        with tf.control_dependencies([check]):
            return tf.identity(texts)

    error = raised_by(checked, tf.constant([["a", "b", "c"]]))
    assert "Graph execution error" in error.message and "{{node" in error.message
    assert graph_error_message(error) == "text: expected string inputs of shape [batch, 2], got shape [1 3]"


def test_an_assert_less_equal_gives_its_message_and_the_value_found():
    @tf.function(input_signature=[tf.TensorSpec([], tf.int32)])
    def bounded(length):
        tf.debugging.assert_less_equal(length, 10000, message="length: this model generates at most 10000 characters")
        return length

    error = raised_by(bounded, tf.constant(10**9))
    assert graph_error_message(error) == "length: this model generates at most 10000 characters; got 1000000000"


def test_another_error_gives_its_first_line_without_node_or_op_names():
    error = raised_by(lambda: tf.reshape(tf.range(6), [4, 4]))
    message = graph_error_message(error)
    assert message.startswith("Input to reshape is a tensor with 6 values, but the requested shape has 16")
    assert "[Op:" not in message and "{{" not in message


def test_an_error_without_words_is_named_by_its_kind():
    assert graph_error_message(tf.errors.InvalidArgumentError(None, None, "")) == "InvalidArgumentError"
