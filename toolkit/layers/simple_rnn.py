"""The vanilla (Elman) recurrent cell, written from its equation."""

from __future__ import annotations

import keras
from keras import activations, constraints, initializers, ops, regularizers

from toolkit.layers.cell_options import (
    DropoutRNNCell,
    check_rate,
    serialize_weight_options,
)


@keras.saving.register_keras_serializable(package="toolkit")
class SimpleRNNCell(keras.layers.Layer, DropoutRNNCell):
    """One step of a vanilla recurrent network: `h = tanh(W [x; h₋₁] + b)`.

    `W [x; h₋₁]` is stored in two blocks, `W [x; h₋₁] = W_x x + W_h h₋₁`: the
    `kernel` `W_x` of shape `(input_dim, units)` and the `recurrent_kernel` `W_h`
    of shape `(units, units)`. This is the layout of `keras.layers.SimpleRNN`, so
    weights copy one to one to and from it.

    Args:
        units: Positive integer, dimensionality of `h`.
        activation: Activation applied to `W [x; h₋₁] + b`. Default: `"tanh"`.
        use_bias: Whether to add the bias `b`. Default: `True`.
        kernel_initializer: Initializer for `kernel`. Default: `"glorot_uniform"`.
        recurrent_initializer: Initializer for `recurrent_kernel`.
            Default: `"orthogonal"`.
        bias_initializer: Initializer for `bias`. Default: `"zeros"`.
        kernel_regularizer: Regularizer for `kernel`. Default: `None`.
        recurrent_regularizer: Regularizer for `recurrent_kernel`. Default: `None`.
        bias_regularizer: Regularizer for `bias`. Default: `None`.
        kernel_constraint: Constraint for `kernel`. Default: `None`.
        recurrent_constraint: Constraint for `recurrent_kernel`. Default: `None`.
        bias_constraint: Constraint for `bias`. Default: `None`.
        dropout: Float in `[0, 1]`, the fraction of input units dropped, with one
            mask per sequence. Default: 0.
        recurrent_dropout: Float in `[0, 1]`, the fraction of `h₋₁` units
            dropped, with one mask per sequence. Default: 0.
        seed: Random seed for the dropout masks.
        **kwargs: Base layer keyword arguments, such as `name` and `dtype`.

    Call arguments:
        inputs: A 2D tensor `(batch, input_dim)`, the input at one time step.
        states: A list `[h₋₁]` with one 2D tensor `(batch, units)`.
        training: Whether dropout is active.

    Returns:
        `(h, [h])`: the output and the new state.

    Example:

    >>> import numpy as np, keras
    >>> from toolkit.layers import SimpleRNNCell
    >>> inputs = np.random.random((32, 10, 8)).astype("float32")
    >>> tuple(keras.layers.RNN(SimpleRNNCell(4))(inputs).shape)
    (32, 4)
    """

    def __init__(
        self,
        units: int,
        activation="tanh",
        use_bias: bool = True,
        kernel_initializer="glorot_uniform",
        recurrent_initializer="orthogonal",
        bias_initializer="zeros",
        kernel_regularizer=None,
        recurrent_regularizer=None,
        bias_regularizer=None,
        kernel_constraint=None,
        recurrent_constraint=None,
        bias_constraint=None,
        dropout: float = 0.0,
        recurrent_dropout: float = 0.0,
        seed: int | None = None,
        **kwargs,
    ):
        if not isinstance(units, int) or units <= 0:
            raise ValueError(f"SimpleRNNCell: `units` must be a positive integer, got {units!r}.")
        super().__init__(**kwargs)
        self.units = units
        self.activation = activations.get(activation)
        self.use_bias = use_bias
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.recurrent_initializer = initializers.get(recurrent_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.recurrent_regularizer = regularizers.get(recurrent_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.recurrent_constraint = constraints.get(recurrent_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.dropout = check_rate("dropout", dropout)
        self.recurrent_dropout = check_rate("recurrent_dropout", recurrent_dropout)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed=seed)
        self.state_size = units
        self.output_size = units

    def build(self, input_shape):
        self.kernel = self.add_weight(
            shape=(input_shape[-1], self.units),
            name="kernel",
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint,
        )
        self.recurrent_kernel = self.add_weight(
            shape=(self.units, self.units),
            name="recurrent_kernel",
            initializer=self.recurrent_initializer,
            regularizer=self.recurrent_regularizer,
            constraint=self.recurrent_constraint,
        )
        if self.use_bias:
            self.bias = self.add_weight(
                shape=(self.units,),
                name="bias",
                initializer=self.bias_initializer,
                regularizer=self.bias_regularizer,
                constraint=self.bias_constraint,
            )
        else:
            self.bias = None

    def call(self, inputs, states, training=False):
        x = inputs
        h_prev = states[0] if isinstance(states, (list, tuple)) else states
        if training and 0.0 < self.dropout < 1.0:
            x = x * self.get_dropout_mask(x)
        if training and 0.0 < self.recurrent_dropout < 1.0:
            h_prev = h_prev * self.get_recurrent_dropout_mask(h_prev)

        z = ops.matmul(x, self.kernel)
        if self.use_bias:
            z = ops.add(z, self.bias)
        z = ops.add(z, ops.matmul(h_prev, self.recurrent_kernel))
        h = self.activation(z)
        return h, [h]

    def get_initial_state(self, batch_size=None):
        return [ops.zeros((batch_size, self.units), dtype=self.compute_dtype)]

    def get_config(self):
        config = {
            "units": self.units,
            "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
            "dropout": self.dropout,
            "recurrent_dropout": self.recurrent_dropout,
            "seed": self.seed,
            **serialize_weight_options(self),
        }
        return {**super().get_config(), **config}
