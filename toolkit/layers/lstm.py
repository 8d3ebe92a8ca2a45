"""The LSTM cell, written from its equations, and the LSTM layer built on it."""

from __future__ import annotations

import functools

import keras
import tensorflow as tf
from keras import activations, constraints, initializers, ops, regularizers

from toolkit.keras_private import cudnn_ok, fused_lstm
from toolkit.layers.cell_options import (
    DropoutRNNCell,
    check_rate,
    serialize_weight_options,
)
from toolkit.layers.chrono_bias import ChronoBias
from toolkit.layers.compiled_inference import can_compile, compiled_or_uncompiled
from toolkit.layers.lstm_recurrence import lstm_recurrence, trainable_lstm_recurrence

# The activations whose derivatives `trainable_lstm_recurrence` has written out.
_TANH = (activations.tanh, tf.tanh, ops.tanh)
_SIGMOID = (activations.sigmoid, tf.sigmoid, ops.sigmoid)


@keras.saving.register_keras_serializable(package="toolkit")
class LSTMCell(keras.layers.Layer, DropoutRNNCell):
    """One step of a Long Short-Term Memory network (Hochreiter & Schmidhuber, 1997).

    For input `x`, previous output `h₋₁` and previous cell state `c₋₁`:

        i = σ(W_i x + U_i h₋₁ + b_i)        input gate
        f = σ(W_f x + U_f h₋₁ + b_f)        forget gate
        g = tanh(W_g x + U_g h₋₁ + b_g)     candidate cell state
        o = σ(W_o x + U_o h₋₁ + b_o)        output gate
        c = f ⊙ c₋₁ + i ⊙ g
        h = o ⊙ tanh(c)

    `σ` is `recurrent_activation` and `tanh` is `activation`. The four `W` are
    stored side by side as one `kernel` of shape `(input_dim, 4 * units)`, the
    four `U` as one `recurrent_kernel` of shape `(units, 4 * units)` and the
    four `b` as one `bias`, in Keras' gate order `[i, f, g, o]`. Weights
    therefore copy one to one to and from `keras.layers.LSTM`.

    Args:
        units: Positive integer, dimensionality of `h` and `c`.
        activation: Activation for the candidate `g` and for `tanh(c)`.
            Default: `"tanh"`.
        recurrent_activation: Activation for the gates `i`, `f` and `o`.
            Default: `"sigmoid"`.
        use_bias: Whether the gates have the bias `b`. Default: `True`.
        kernel_initializer: Initializer for `kernel`. Default: `"glorot_uniform"`.
        recurrent_initializer: Initializer for `recurrent_kernel`.
            Default: `"orthogonal"`.
        bias_initializer: Initializer for `bias`. Default: `"zeros"`.
        unit_forget_bias: If `True`, add 1 to the forget gate's bias at
            initialization (Jozefowicz et al., 2015). Default: `True`.
        kernel_regularizer: Regularizer for `kernel`. Default: `None`.
        recurrent_regularizer: Regularizer for `recurrent_kernel`. Default: `None`.
        bias_regularizer: Regularizer for `bias`. Default: `None`.
        kernel_constraint: Constraint for `kernel`. Default: `None`.
        recurrent_constraint: Constraint for `recurrent_kernel`. Default: `None`.
        bias_constraint: Constraint for `bias`. Default: `None`.
        dropout: Float in `[0, 1]`, the fraction of input units dropped. One
            mask is drawn per sequence and reused at every step. Default: 0.
        recurrent_dropout: Float in `[0, 1]`, the fraction of `h₋₁` units
            dropped, with one mask per sequence. Default: 0.
        seed: Random seed for the dropout masks.
        **kwargs: Base layer keyword arguments, such as `name` and `dtype`;
            and `implementation`, accepted and recorded as Keras' cell does
            (this cell always computes the four gates in one matmul).

    Call arguments:
        inputs: A 2D tensor `(batch, input_dim)`, the input at one time step.
        states: A list `[h₋₁, c₋₁]` of two 2D tensors `(batch, units)`.
        training: Whether dropout is active.

    Returns:
        `(h, [h, c])`: the output and the new states.

    Example:

    >>> import numpy as np, keras
    >>> from toolkit.layers import LSTMCell
    >>> inputs = np.random.random((32, 10, 8)).astype("float32")
    >>> rnn = keras.layers.RNN(LSTMCell(4), return_sequences=True, return_state=True)
    >>> outputs, h, c = rnn(inputs)
    >>> tuple(outputs.shape), tuple(h.shape), tuple(c.shape)
    ((32, 10, 4), (32, 4), (32, 4))
    """

    def __init__(
        self,
        units: int,
        activation="tanh",
        recurrent_activation="sigmoid",
        use_bias: bool = True,
        kernel_initializer="glorot_uniform",
        recurrent_initializer="orthogonal",
        bias_initializer="zeros",
        unit_forget_bias: bool = True,
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
            raise ValueError(f"LSTMCell: `units` must be a positive integer, got {units!r}.")
        if unit_forget_bias and isinstance(bias_initializer, ChronoBias):
            raise ValueError(
                "LSTMCell: ChronoBias sets every gate's bias, the forget gate's included; pass unit_forget_bias=False with it."
            )
        # Keras' cells take `implementation` (1: one matmul per gate; 2: one for all four) and record it;
        # this cell always runs the fused form, so it is recorded and has no other effect.
        implementation = kwargs.pop("implementation", 2)
        super().__init__(**kwargs)
        self.implementation = implementation
        self.units = units
        self.activation = activations.get(activation)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.use_bias = use_bias
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.recurrent_initializer = initializers.get(recurrent_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.unit_forget_bias = unit_forget_bias
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
        self.state_size = [units, units]
        self.output_size = units

    def build(self, input_shape):
        input_dim = input_shape[-1]
        self.kernel = self.add_weight(
            shape=(input_dim, 4 * self.units),
            name="kernel",
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint,
        )
        self.recurrent_kernel = self.add_weight(
            shape=(self.units, 4 * self.units),
            name="recurrent_kernel",
            initializer=self.recurrent_initializer,
            regularizer=self.recurrent_regularizer,
            constraint=self.recurrent_constraint,
        )
        if self.use_bias:
            self.bias = self.add_weight(
                shape=(4 * self.units,),
                name="bias",
                initializer=self._gate_bias_initializer,
                regularizer=self.bias_regularizer,
                constraint=self.bias_constraint,
            )
        else:
            self.bias = None

    def _gate_bias_initializer(self, shape, dtype=None):
        if not self.unit_forget_bias:
            return self.bias_initializer(shape, dtype=dtype)
        units = self.units
        b_i = self.bias_initializer((units,), dtype=dtype)
        b_f = ops.ones((units,), dtype=dtype)
        b_go = self.bias_initializer((2 * units,), dtype=dtype)
        return ops.concatenate([b_i, b_f, b_go])

    def call(self, inputs, states, training=False):
        x = inputs
        h_prev, c_prev = states
        if training and 0.0 < self.dropout < 1.0:
            x = x * self.get_dropout_mask(x)
        if training and 0.0 < self.recurrent_dropout < 1.0:
            h_prev = h_prev * self.get_recurrent_dropout_mask(h_prev)

        # W·x + U·h₋₁ + b for all four gates at once; one fused matmul each is
        # what keeps this cell as fast as Keras' own.
        z = ops.add(ops.matmul(x, self.kernel), ops.matmul(h_prev, self.recurrent_kernel))
        if self.use_bias:
            z = ops.add(z, self.bias)
        z_i, z_f, z_g, z_o = ops.split(z, 4, axis=-1)

        i = self.recurrent_activation(z_i)
        f = self.recurrent_activation(z_f)
        g = self.activation(z_g)
        o = self.recurrent_activation(z_o)

        c = f * c_prev + i * g
        h = o * self.activation(c)
        return h, [h, c]

    def get_initial_state(self, batch_size=None):
        return [ops.zeros((batch_size, size), dtype=self.compute_dtype) for size in self.state_size]

    def get_config(self):
        config = {
            "units": self.units,
            "activation": activations.serialize(self.activation),
            "recurrent_activation": activations.serialize(self.recurrent_activation),
            "use_bias": self.use_bias,
            "unit_forget_bias": self.unit_forget_bias,
            "dropout": self.dropout,
            "recurrent_dropout": self.recurrent_dropout,
            "seed": self.seed,
            **serialize_weight_options(self),
        }
        return {**super().get_config(), **config}


@keras.saving.register_keras_serializable(package="toolkit")
class LSTM(keras.layers.RNN):
    """Long Short-Term Memory layer: our `LSTMCell` run over a sequence.

    Its constructor has the shape of `keras.layers.LSTM`, so it replaces it in
    one line, and its weights copy one to one to and from it. How it runs:

    - Training on a GPU, when the configuration matches the standard
      equations (`tanh`/`sigmoid`, a bias, no recurrent dropout, no
      unrolling): the same fused cuDNN kernel as Keras' layer.
    - Training elsewhere with `tanh`/`sigmoid` and no recurrent dropout:
      `lstm_recurrence.trainable_lstm_recurrence`, whose backpropagation
      through time is written by hand rather than left to automatic
      differentiation of the loop.
    - Inference on up to `compiled_inference.SMALL_BATCH` sequences of a
      length fixed in the graph: the whole recurrence as one XLA-compiled
      program (see `toolkit.layers.compiled_inference`), much faster for a
      single example, exported or eager, and differentiable all the same.
    - Other inference: `lstm_recurrence.lstm_recurrence`, the equations as
      one `tf.while_loop`.
    - Anything else (other activations or recurrent dropout in training,
      unrolling, mixed precision): the cell, step by step in Keras' loop.

    Inference keeps off cuDNN (unless `use_cudnn=True`), so that a model
    exported on a GPU machine still serves on a CPU-only one.

    Args:
        units: Positive integer, dimensionality of the output space.
        activation, recurrent_activation, use_bias, kernel_initializer,
        recurrent_initializer, bias_initializer, unit_forget_bias,
        kernel_regularizer, recurrent_regularizer, bias_regularizer,
        kernel_constraint, recurrent_constraint, bias_constraint, dropout,
        recurrent_dropout, seed: As in `LSTMCell`.
        activity_regularizer: Regularizer for the layer's output.
        return_sequences: Whether to return the output at every step or only
            the last one. Default: `False`.
        return_state: Whether to also return the last `h` and `c`.
            Default: `False`.
        go_backwards: Whether to process the sequence in reverse and return
            the reversed sequence. Default: `False`.
        stateful: Whether the last state of each sample in a batch is the
            initial state of the same sample in the next batch. Default: `False`.
        unroll: Whether to unroll the loop (faster for short sequences, more
            memory). Default: `False`.
        use_cudnn: `"auto"` (cuDNN for training where it can run), `True`
            (always, inference and exports included, or fail) or `False`.
        **kwargs: Base layer keyword arguments, such as `name` and `dtype`;
            and `implementation`, accepted and recorded on the cell as
            `keras.layers.LSTM` does (the cell always runs one fused matmul).

    Call arguments:
        sequences: A 3D tensor `(batch, timesteps, features)`.
        initial_state: Optional list `[h₀, c₀]` of `(batch, units)` tensors.
        mask: Optional boolean `(batch, timesteps)`; `False` steps are skipped
            and carry the previous state forward.
        training: Whether dropout is active.

    Example:

    >>> import numpy as np
    >>> from toolkit.layers import LSTM
    >>> inputs = np.random.random((32, 10, 8)).astype("float32")
    >>> tuple(LSTM(4)(inputs).shape)
    (32, 4)
    >>> outputs, h, c = LSTM(4, return_sequences=True, return_state=True)(inputs)
    >>> tuple(outputs.shape), tuple(h.shape)
    ((32, 10, 4), (32, 4))
    """

    def __init__(
        self,
        units: int,
        activation="tanh",
        recurrent_activation="sigmoid",
        use_bias: bool = True,
        kernel_initializer="glorot_uniform",
        recurrent_initializer="orthogonal",
        bias_initializer="zeros",
        unit_forget_bias: bool = True,
        kernel_regularizer=None,
        recurrent_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        kernel_constraint=None,
        recurrent_constraint=None,
        bias_constraint=None,
        dropout: float = 0.0,
        recurrent_dropout: float = 0.0,
        seed: int | None = None,
        return_sequences: bool = False,
        return_state: bool = False,
        go_backwards: bool = False,
        stateful: bool = False,
        unroll: bool = False,
        use_cudnn="auto",
        **kwargs,
    ):
        if use_cudnn not in ("auto", True, False):
            raise ValueError(f"LSTM: `use_cudnn` must be 'auto', True or False, got {use_cudnn!r}.")
        cell = LSTMCell(
            units,
            activation=activation,
            recurrent_activation=recurrent_activation,
            use_bias=use_bias,
            kernel_initializer=kernel_initializer,
            recurrent_initializer=recurrent_initializer,
            bias_initializer=bias_initializer,
            unit_forget_bias=unit_forget_bias,
            kernel_regularizer=kernel_regularizer,
            recurrent_regularizer=recurrent_regularizer,
            bias_regularizer=bias_regularizer,
            kernel_constraint=kernel_constraint,
            recurrent_constraint=recurrent_constraint,
            bias_constraint=bias_constraint,
            dropout=dropout,
            recurrent_dropout=recurrent_dropout,
            seed=seed,
            dtype=kwargs.get("dtype"),
            trainable=kwargs.get("trainable", True),
            implementation=kwargs.pop("implementation", 2),
            name="lstm_cell",
        )
        super().__init__(
            cell,
            return_sequences=return_sequences,
            return_state=return_state,
            go_backwards=go_backwards,
            stateful=stateful,
            unroll=unroll,
            activity_regularizer=activity_regularizer,
            **kwargs,
        )
        self.input_spec = keras.layers.InputSpec(ndim=3)
        self.use_cudnn = use_cudnn
        if use_cudnn and cudnn_ok(cell.activation, cell.recurrent_activation, unroll, use_bias):
            # cuDNN kernels cannot be XLA-compiled.
            self.supports_jit = False

    def inner_loop(self, sequences, initial_state, mask, training=False):
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        # With "auto", inference never takes the cuDNN kernel: a SavedModel traced on a GPU would
        # otherwise hold a GPU-only op and fail to load on a CPU (keras #18504, tensorflow #77442).
        if (self.use_cudnn is True or (self.use_cudnn == "auto" and training)) and not self.cell.recurrent_dropout:
            try:
                return self._fused_loop(sequences, initial_state, mask, training)
            except NotImplementedError:
                if self.use_cudnn is True:
                    raise ValueError(
                        "LSTM: use_cudnn=True, but cuDNN cannot run this configuration "
                        "on this machine. Pass use_cudnn='auto' to fall back to the cell."
                    ) from None
        if not self._runs_own_loop(sequences, training):
            return super().inner_loop(sequences, initial_state, mask=mask, training=training)
        if training:
            sequences = self._dropped_out(sequences)
            return self._own_loop(trainable_lstm_recurrence, sequences, initial_state, mask)
        if can_compile(self, sequences, training):
            return compiled_or_uncompiled(self, sequences, initial_state, mask, self._uncompiled_loop)
        return self._uncompiled_loop(sequences, initial_state, mask)

    def _runs_own_loop(self, sequences, training) -> bool:
        """Whether this call runs our recurrence (`lstm_recurrence`) rather than Keras' generic loop.

        Training needs the standard `tanh` and `sigmoid`, whose derivatives the
        hand-written backward pass uses, and no recurrent dropout; weights and
        inputs must share a dtype (mixed precision keeps Keras' loop).
        """
        cell = self.cell
        if self.unroll or keras.backend.standardize_dtype(sequences.dtype) != cell.kernel.dtype:
            return False
        return not training or (
            not cell.recurrent_dropout
            and cell.activation in _TANH
            and cell.recurrent_activation in _SIGMOID
        )

    def _uncompiled_loop(self, sequences, initial_state, mask):
        cell = self.cell
        return self._own_loop(
            functools.partial(lstm_recurrence, cell.activation, cell.recurrent_activation),
            sequences, initial_state, mask,
        )

    def _own_loop(self, recurrence, sequences, initial_state, mask):
        cell = self.cell
        last_output, outputs, h, c = recurrence(
            self.go_backwards, self.zero_output_for_mask, self.return_sequences,
            sequences, initial_state[0], initial_state[1], mask,
            cell.kernel, cell.recurrent_kernel, cell.bias,
        )
        return last_output, outputs, [h, c]

    def _dropped_out(self, sequences):
        """`sequences` with the cell's input dropout: one mask per sequence, the same at every step."""
        if not self.cell.dropout:
            return sequences
        step_mask = self.cell.get_dropout_mask(sequences[:, 0, :])
        return sequences * ops.expand_dims(step_mask, axis=1)

    def _fused_loop(self, sequences, initial_state, mask, training):
        cell = self.cell
        if training:
            sequences = self._dropped_out(sequences)
        # The backend's fused LSTM: cuDNN on a GPU; `NotImplementedError` where it cannot run.
        return fused_lstm(
            sequences,
            initial_state[0],
            initial_state[1],
            mask,
            kernel=cell.kernel,
            recurrent_kernel=cell.recurrent_kernel,
            bias=cell.bias,
            activation=cell.activation,
            recurrent_activation=cell.recurrent_activation,
            return_sequences=self.return_sequences,
            go_backwards=self.go_backwards,
            unroll=self.unroll,
        )

    def call(self, sequences, initial_state=None, mask=None, training=False):
        return super().call(sequences, mask=mask, training=training, initial_state=initial_state)

    @property
    def units(self) -> int:
        return self.cell.units

    def get_config(self):
        config = super().get_config()
        cell_config = config.pop("cell")["config"]
        for key in ("name", "trainable", "dtype"):
            cell_config.pop(key, None)
        config.update(cell_config)
        config["activity_regularizer"] = regularizers.serialize(self.activity_regularizer)
        config["use_cudnn"] = self.use_cudnn
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**config)
