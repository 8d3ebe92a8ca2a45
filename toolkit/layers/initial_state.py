"""Initial states for recurrent layers: learned as weights, or projected from a tensor."""

from __future__ import annotations

import keras
from keras import initializers, ops, tree


def rnn_state_sizes(layer: keras.layers.Layer) -> list[int]:
    """Returns the flat list of state sizes an RNN or `Bidirectional` layer takes.

    For `Bidirectional`, the forward layer's states come first, then the
    backward layer's, which is the order its `initial_state` argument expects.
    """
    if isinstance(layer, keras.layers.Bidirectional):
        return rnn_state_sizes(layer.forward_layer) + rnn_state_sizes(layer.backward_layer)
    if isinstance(layer, keras.layers.RNN):
        return [int(size) for size in tree.flatten(layer.cell.state_size)]
    raise TypeError(
        "Expected a `keras.layers.RNN` (such as `toolkit.layers.LSTM`) or a "
        f"`keras.layers.Bidirectional` of one, got {type(layer).__name__}."
    )


@keras.saving.register_keras_serializable(package="toolkit")
class LearnedInitialState(keras.layers.Wrapper):
    """Wraps a recurrent layer so that its initial states are trained by backprop.

    Every state the wrapped layer starts from (`h₀`, and `c₀` for an LSTM) is a
    trainable vector, tiled over the batch. Under `Bidirectional`, each
    direction has its own vectors. Masks pass through to the wrapped layer.

    Args:
        layer: A `keras.layers.RNN` (our `LSTM`, `keras.layers.LSTM`, an `RNN`
            over any cell) or a `keras.layers.Bidirectional` of one. It must
            not be `stateful`.
        initializer: Initializer for the state vectors. Default: `"zeros"`.
        **kwargs: Base layer keyword arguments, such as `name`.

    Call arguments:
        inputs: A 3D tensor `(batch, timesteps, features)`.
        mask: Optional boolean `(batch, timesteps)`.
        training: Whether dropout in the wrapped layer is active.

    Example:

    >>> import numpy as np, keras
    >>> from toolkit.layers import LSTM, LearnedInitialState
    >>> layer = LearnedInitialState(keras.layers.Bidirectional(LSTM(4)))
    >>> tuple(layer(np.zeros((2, 5, 3), "float32")).shape)
    (2, 8)
    >>> [tuple(w.shape) for w in layer.initial_states]
    [(4,), (4,), (4,), (4,)]
    """

    def __init__(self, layer: keras.layers.Layer, initializer="zeros", **kwargs):
        rnn_state_sizes(layer)
        if getattr(layer, "stateful", False):
            raise ValueError(
                "LearnedInitialState: the wrapped layer is stateful, so it starts "
                "from its last state, not from a learned one. Pass stateful=False."
            )
        super().__init__(layer, **kwargs)
        self.initializer = initializers.get(initializer)
        self.supports_masking = True

    def build(self, input_shape):
        if not self.layer.built:
            self.layer.build(input_shape)
        self.initial_states = [
            self.add_weight(shape=(size,), name=f"initial_state_{index}", initializer=self.initializer)
            for index, size in enumerate(rnn_state_sizes(self.layer))
        ]

    def call(self, inputs, mask=None, training=None):
        batch_size = ops.shape(inputs)[0]
        states = [
            ops.broadcast_to(ops.cast(state, self.compute_dtype)[None, :], (batch_size, state.shape[0]))
            for state in self.initial_states
        ]
        return self.layer(inputs, initial_state=states, mask=mask, training=training)

    def compute_output_shape(self, input_shape):
        return self.layer.compute_output_shape(input_shape)

    def compute_mask(self, inputs, mask=None):
        return self.layer.compute_mask(inputs, mask)

    def get_config(self):
        return {**super().get_config(), "initializer": initializers.serialize(self.initializer)}


@keras.saving.register_keras_serializable(package="toolkit")
class ProjectedInitialState(keras.layers.Layer):
    """Computes a recurrent layer's initial states from a tensor.

    Each state is a Dense projection of the same features, for instance CNN
    image features that start a caption decoder (Vinyals et al., 2015). Pass
    the result as `initial_state=` to an RNN layer.

    Args:
        state_sizes: The size of each state, in the order the RNN layer takes
            them: `[units, units]` for an LSTM's `[h₀, c₀]`. Use
            `rnn_state_sizes(layer)` to read them off a layer.
        activation: Activation of the projections. Default: `"tanh"`, the
            range of an LSTM's `h`.
        kernel_initializer: Initializer for the projection kernels.
            Default: `"glorot_uniform"`.
        bias_initializer: Initializer for the projection biases.
            Default: `"zeros"`.
        **kwargs: Base layer keyword arguments, such as `name`.

    Call arguments:
        features: A 2D tensor `(batch, features)`.

    Returns:
        A list of 2D tensors `(batch, size)`, one per entry of `state_sizes`.

    Example:

    >>> import numpy as np
    >>> from toolkit.layers import LSTM, ProjectedInitialState
    >>> features = np.random.random((2, 16)).astype("float32")
    >>> states = ProjectedInitialState([8, 8])(features)
    >>> tuple(LSTM(8)(np.zeros((2, 5, 3), "float32"), initial_state=states).shape)
    (2, 8)
    """

    def __init__(
        self,
        state_sizes: list[int],
        activation="tanh",
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        **kwargs,
    ):
        super().__init__(**kwargs)
        if not state_sizes or any(not isinstance(size, int) or size <= 0 for size in state_sizes):
            raise ValueError(
                f"ProjectedInitialState: `state_sizes` must be a non-empty list of positive integers, got {state_sizes!r}."
            )
        self.state_sizes = list(state_sizes)
        self.activation = keras.activations.get(activation)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.projections = [
            keras.layers.Dense(
                size,
                activation=self.activation,
                kernel_initializer=self.kernel_initializer,
                bias_initializer=self.bias_initializer,
                name=f"state_projection_{index}",
            )
            for index, size in enumerate(self.state_sizes)
        ]

    def build(self, input_shape):
        for projection in self.projections:
            projection.build(input_shape)

    def call(self, features):
        return [projection(features) for projection in self.projections]

    def compute_output_shape(self, input_shape):
        return [(input_shape[0], size) for size in self.state_sizes]

    def get_config(self):
        return {
            **super().get_config(),
            "state_sizes": self.state_sizes,
            "activation": keras.activations.serialize(self.activation),
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
        }
