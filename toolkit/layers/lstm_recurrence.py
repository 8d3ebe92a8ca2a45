"""The LSTM recurrence over a whole sequence in plain TensorFlow ops, with a hand-written backward pass.

`LSTM` runs its cell through these loops rather than Keras' generic one,
which handles every cell alike and so does more per step than an LSTM
needs:

- `lstm_recurrence`, the forward pass alone (inference, and the body of the
  compiled small-batch path). TensorFlow can still differentiate it.
- `trainable_lstm_recurrence`, for training with the standard `tanh` and
  `sigmoid`. Its gradient is backpropagation through time written out by
  hand, as cuDNN does it. Automatic differentiation of a while-loop stores
  the inputs of every op at every step and replays each op's gradient. Here
  the forward pass stores only what the equations' derivatives need. The
  backward loop's serial chain is then a few element-wise ops and one
  matmul, `dz · Uᵀ`, per step; the weight gradients `xᵀ · dz` and
  `h₋₁ᵀ · dz` are accumulated beside it, off that chain.

Both follow Keras' conventions for masks (masked steps carry `h` and `c`
forward and output zeros or the previous output) and for `go_backwards`
(outputs in processing order).
"""

from __future__ import annotations

import tensorflow as tf

# Each training step has one serial chain (through `h` and `c`) and work beside it that the
# next step can overlap. Two steps in flight is enough for that; TensorFlow's default of 10
# only crowds the threads (3-6 % slower on 2 cores, measured).
_STEPS_IN_FLIGHT = 2


def lstm_recurrence(
    activation, recurrent_activation, go_backwards: bool, zero_output_for_mask: bool, return_sequences: bool,
    sequences, h, c, mask, kernel, recurrent_kernel, bias=None,
):
    """The LSTM equations over a sequence, forward only.

    Args:
        activation: The cell's activation (`g` and `tanh(c)`).
        recurrent_activation: The cell's gate activation.
        go_backwards: Whether to process the sequence in reverse.
        zero_output_for_mask: Whether masked steps output zeros rather than
            the previous output.
        return_sequences: Whether to return every step's output.
        sequences: `(batch, time, features)`.
        h: `h₀`, `(batch, units)`.
        c: `c₀`, `(batch, units)`.
        mask: Boolean `(batch, time)` or `None`.
        kernel: `W`, `(features, 4 * units)`.
        recurrent_kernel: `U`, `(units, 4 * units)`.
        bias: `b`, `(4 * units,)`, or `None`.

    Returns:
        `(last_output, outputs, h, c)`; `outputs` is `(batch, time, units)` in
        processing order if `return_sequences`, else the last output
        `(batch, 1, units)`.
    """
    steps, keep = _time_major(sequences, mask, go_backwards)
    count = tf.shape(steps)[0]
    # The weights read once, before the loop: LiteRT's converter cannot freeze variables read inside one.
    kernel, recurrent_kernel = tf.convert_to_tensor(kernel), tf.convert_to_tensor(recurrent_kernel)
    bias = None if bias is None else tf.convert_to_tensor(bias)
    # Every step's output is kept only if it is returned.
    # With its element shape given, LiteRT's converter can turn the array into plain tensors (no Flex ops).
    written = (tf.TensorArray(sequences.dtype, size=count, element_shape=h.shape),) if return_sequences else ()

    def body(t, h, c, output, *written):
        z = tf.matmul(steps[t], kernel) + tf.matmul(h, recurrent_kernel)
        if bias is not None:
            z += bias
        z_i, z_f, z_g, z_o = tf.split(z, 4, axis=-1)
        new_c = recurrent_activation(z_f) * c + recurrent_activation(z_i) * activation(z_g)
        new_h = recurrent_activation(z_o) * activation(new_c)
        new_output = new_h
        if keep is not None:
            step_keep = keep[t]
            new_h, new_c = tf.where(step_keep, new_h, h), tf.where(step_keep, new_c, c)
            new_output = tf.where(step_keep, new_output, tf.zeros_like(h) if zero_output_for_mask else output)
        return (t + 1, new_h, new_c, new_output, *(array.write(t, new_output) for array in written))

    _, h, c, last_output, *written = tf.while_loop(
        lambda t, *_: t < count, body, (tf.constant(0), h, c, tf.zeros_like(h), *written)
    )
    outputs = tf.transpose(written[0].stack(), [1, 0, 2]) if return_sequences else last_output[:, None]
    return last_output, outputs, h, c


def trainable_lstm_recurrence(
    go_backwards: bool, zero_output_for_mask: bool, return_sequences: bool,
    sequences, h, c, mask, kernel, recurrent_kernel, bias=None,
):
    """The LSTM equations with `tanh` and `sigmoid`, with backpropagation through time written by hand.

    Takes and returns what `lstm_recurrence` does, and gives the same
    gradients as differentiating it, for the sequences, the initial states
    and the weights (tested against `keras.layers.LSTM`).
    """
    steps, keep = _time_major(sequences, mask, go_backwards)
    tensors = [tf.convert_to_tensor(value) for value in (steps, h, c, kernel, recurrent_kernel)]
    if bias is not None:
        tensors.append(tf.convert_to_tensor(bias))

    @tf.custom_gradient
    def recurrence(steps, h0, c0, kernel, recurrent_kernel, *bias):
        count = tf.shape(steps)[0]
        arrays = [tf.TensorArray(steps.dtype, size=count) for _ in range(5 if return_sequences else 4)]

        def body(t, h, c, output, *arrays):
            z = tf.matmul(steps[t], kernel) + tf.matmul(h, recurrent_kernel)
            if bias:
                z += bias[0]
            z_i, z_f, z_g, z_o = tf.split(z, 4, axis=-1)
            i, f, g, o = tf.sigmoid(z_i), tf.sigmoid(z_f), tf.tanh(z_g), tf.sigmoid(z_o)
            new_c = f * c + i * g
            tanh_c = tf.tanh(new_c)
            new_h = o * tanh_c
            # ∂c/∂z_i, ∂c/∂z_f, ∂c/∂z_g and ∂h/∂z_o, then ∂h/∂c: nothing later in the forward pass
            # waits on them, so they run beside its serial chain.
            gate_terms = tf.concat([g * i * (1 - i), c * f * (1 - f), i * (1 - g * g), tanh_c * o * (1 - o)], -1)
            cell_term = o * (1 - tanh_c * tanh_c)
            new_output = new_h
            if keep is not None:
                step_keep = keep[t]
                new_h, new_c = tf.where(step_keep, new_h, h), tf.where(step_keep, new_c, c)
                new_output = tf.where(step_keep, new_output, tf.zeros_like(h) if zero_output_for_mask else output)
            saved = (gate_terms, cell_term, f, h, new_output)
            return (t + 1, new_h, new_c, new_output, *(a.write(t, v) for a, v in zip(arrays, saved)))

        _, h, c, last_output, *arrays = tf.while_loop(
            lambda t, *_: t < count, body, (tf.constant(0), h0, c0, tf.zeros_like(h0), *arrays),
            parallel_iterations=_STEPS_IN_FLIGHT,
        )
        # Read back step by step: stacking them would copy every step's values once more.
        gate_terms, cell_terms, forget_gates, previous_h = arrays[:4]
        results = (last_output, arrays[4].stack(), h, c) if return_sequences else (last_output, h, c)

        def gradient(*upstream):
            d_last, d_h, d_c = upstream[0], upstream[-2], upstream[-1]
            d_outputs = upstream[1] if return_sequences else None
            recurrent_kernel_t = tf.transpose(recurrent_kernel)
            keep_float = None if keep is None else tf.cast(keep, steps.dtype)

            def step_back(t, d_h, d_c, d_output, d_kernel, d_recurrent_kernel, d_z):
                # d_output: the gradient reaching this step's output from later steps' outputs
                # (a masked step passes its previous output on) and from `last_output`.
                if d_outputs is not None:
                    d_output += d_outputs[t]
                d_new_h, d_new_c = d_h + d_output, d_c
                if keep_float is not None:
                    step_keep = keep_float[t]
                    d_new_h, d_new_c = step_keep * (d_h + d_output), step_keep * d_c
                    d_output = tf.zeros_like(d_output) if zero_output_for_mask else (1 - step_keep) * d_output
                else:
                    d_output = tf.zeros_like(d_output)
                d_new_c += d_new_h * cell_terms.read(t)
                d_z_t = tf.concat([d_new_c, d_new_c, d_new_c, d_new_h], -1) * gate_terms.read(t)
                d_previous_h = tf.matmul(d_z_t, recurrent_kernel_t)
                d_previous_c = d_new_c * forget_gates.read(t)
                if keep_float is not None:
                    d_previous_h += (1 - step_keep) * d_h
                    d_previous_c += (1 - step_keep) * d_c
                return (
                    t - 1, d_previous_h, d_previous_c, d_output,
                    d_kernel + tf.matmul(steps[t], d_z_t, transpose_a=True),
                    d_recurrent_kernel + tf.matmul(previous_h.read(t), d_z_t, transpose_a=True),
                    d_z.write(t, d_z_t),
                )

            start = (
                count - 1, d_h, d_c, d_last, tf.zeros_like(kernel), tf.zeros_like(recurrent_kernel),
                tf.TensorArray(steps.dtype, size=count),
            )
            _, d_h0, d_c0, _, d_kernel, d_recurrent_kernel, d_z = tf.while_loop(
                lambda t, *_: t >= 0, step_back, start, parallel_iterations=_STEPS_IN_FLIGHT
            )
            d_z = d_z.stack()
            # The input gradient as one large matmul after the loop, rather than one per step.
            d_steps = tf.matmul(d_z, kernel, transpose_b=True)
            d_bias = [tf.reduce_sum(d_z, [0, 1])] if bias else []
            return (d_steps, d_h0, d_c0, d_kernel, d_recurrent_kernel, *d_bias)

        return results, gradient

    results = recurrence(*tensors)
    if return_sequences:
        last_output, outputs, h, c = results
        return last_output, tf.transpose(outputs, [1, 0, 2]), h, c
    last_output, h, c = results
    return last_output, last_output[:, None], h, c


def _time_major(sequences, mask, go_backwards: bool):
    """`sequences` as `(time, batch, features)` and `mask` as `(time, batch, 1)`, in processing order."""
    steps = tf.transpose(sequences, [1, 0, 2])
    keep = None if mask is None else tf.transpose(tf.cast(mask, tf.bool))[:, :, None]
    if go_backwards:
        steps = tf.reverse(steps, [0])
        keep = None if keep is None else tf.reverse(keep, [0])
    return steps, keep
