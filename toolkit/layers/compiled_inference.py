"""A compiled inference path for the LSTM: a small batch runs its whole recurrence as one XLA program.

A recurrence runs as a `tf.while_loop` whose every step is a handful of
TensorFlow ops. With a batch of one, each op does almost no work, so the
time goes into dispatching them: in a SavedModel, and far more in an eager
call, where every step is dispatched from Python. Compiled with XLA, the
loop becomes one fused program. With a large batch the matmuls dominate,
XLA gains nothing, and the layer keeps its uncompiled loop.

Gradients still work: under a `GradientTape`, the backward pass re-runs
the uncompiled loop (which TensorFlow can differentiate) and differentiates
that, since XLA cannot compile the forward pass with the accumulators a
while-loop's gradient needs.

Within `uncompiled_inference()`, every call runs uncompiled: a graph traced
there holds the plain recurrence alone, with no XLA program and no
`tf.cond` choosing between the two, as portable exports (ONNX, LiteRT) need.
"""

from __future__ import annotations

import contextlib
import functools
import threading
import weakref
from collections.abc import Iterator

import tensorflow as tf

from toolkit.layers.lstm_recurrence import lstm_recurrence

# Batches up to this size take the compiled path; larger ones run uncompiled.
SMALL_BATCH = 16
_COMPILED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
# Set by `uncompiled_inference`, per thread: tracing for an export must not change another thread's calls.
_PLAIN = threading.local()


@contextlib.contextmanager
def uncompiled_inference() -> Iterator[None]:
    """Within it, in this thread, every LSTM call runs its plain, uncompiled recurrence (`lstm_recurrence`).

    Runtimes other than TensorFlow have neither XLA nor the ops of a
    compiled call, so a graph traced for them must not hold the compiled
    path, nor the `tf.cond` on the batch size that picks it.
    """
    earlier = getattr(_PLAIN, "active", False)
    _PLAIN.active = True
    try:
        yield
    finally:
        _PLAIN.active = earlier


def can_compile(layer, sequences, training) -> bool:
    """Whether `layer`'s call on `sequences` may use the compiled path at all.

    Inference only, in float32, without unrolling, and with a sequence length
    fixed in the graph (or an eager call): XLA compiles a program per
    length, so a serving signature of variable length runs uncompiled.
    Never within `uncompiled_inference()`.
    """
    return (
        not training
        and not getattr(_PLAIN, "active", False)
        and not layer.unroll
        and layer.compute_dtype == "float32"
        and layer.cell.kernel.dtype == "float32"
        and sequences.shape[1] is not None
    )


def compiled_or_uncompiled(layer, sequences, initial_state, mask, uncompiled_loop):
    """Runs the recurrence compiled for a small batch, and with `uncompiled_loop` otherwise.

    Args:
        layer: The `LSTM` layer.
        sequences: `(batch, time, features)`.
        initial_state: `[h₀, c₀]`.
        mask: Boolean `(batch, time)` or `None`.
        uncompiled_loop: `(sequences, initial_state, mask) -> (last_output, outputs, states)`,
            the same recurrence run op by op.

    Returns:
        `(last_output, outputs, [h, c])`, as Keras' loop returns them.
    """
    batch = sequences.shape[0]
    if batch is not None:
        if batch <= SMALL_BATCH:
            return _compiled(layer, sequences, initial_state, mask, uncompiled_loop)
        return uncompiled_loop(sequences, initial_state, mask)
    return tf.cond(
        tf.shape(sequences)[0] <= SMALL_BATCH,
        lambda: _compiled(layer, sequences, initial_state, mask, uncompiled_loop),
        lambda: uncompiled_loop(sequences, initial_state, mask),
    )


def _compiled(layer, sequences, initial_state, mask, uncompiled_loop):
    function = _COMPILED.get(layer)
    if function is None:
        options = (layer.go_backwards, layer.zero_output_for_mask, layer.return_sequences)
        recurrence = functools.partial(lstm_recurrence, layer.cell.activation, layer.cell.recurrent_activation, *options)
        # One function per layer: one shared across layers would retrace for each of them. A partial
        # rather than a closure: TensorFlow counts the traces of every function of one code object
        # together, and would warn of "retracing" as each new layer traces its own once.
        function = _COMPILED[layer] = tf.function(recurrence, jit_compile=True, reduce_retracing=True)
    cell = layer.cell
    weights = [cell.kernel, cell.recurrent_kernel] + ([] if cell.bias is None else [cell.bias])

    def forward(sequences, h, c):
        # Every input cut from the tape, so that the compiled function is called without the
        # accumulators of a differentiable while-loop, which XLA cannot compile.
        tensors = [tf.stop_gradient(tf.convert_to_tensor(value)) for value in [sequences, h, c, *weights]]
        return function(*tensors[:3], mask, *tensors[3:])

    @tf.custom_gradient
    def differentiable_forward(sequences, h, c):
        def gradient(*upstream, variables=None):
            with tf.GradientTape() as tape:
                tape.watch([sequences, h, c])
                last_output, outputs, states = uncompiled_loop(sequences, [h, c], mask)
            targets = [last_output, outputs, *states]
            grads = tape.gradient(targets, [sequences, h, c, *(variables or [])], output_gradients=list(upstream))
            return grads[:3], grads[3:]

        return forward(sequences, h, c), gradient

    last_output, outputs, h, c = differentiable_forward(sequences, initial_state[0], initial_state[1])
    return last_output, outputs, [h, c]
