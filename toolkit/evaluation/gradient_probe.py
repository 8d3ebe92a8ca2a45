"""The vanishing-gradient picture: how much the loss depends on the input at each time step."""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import tensorflow as tf
from matplotlib.figure import Figure


def gradient_norms_per_timestep(
    model: keras.Model,
    inputs,
    targets,
    loss="mse",
    after_layer: str | None = None,
) -> np.ndarray:
    """Returns ‖∂L/∂x_t‖ for every time step t of a sequence model.

    `L` is the mean loss over the batch and `x_t` the batch's input at step t,
    so the norm is taken over the batch and the features. In a vanilla RNN the
    norms of early steps shrink geometrically with their distance from the end
    (vanishing gradients); an LSTM's cell state keeps them much larger.

    Args:
        model: A built Keras model whose input (or the output of `after_layer`)
            is a sequence `(batch, timesteps, features)`.
        inputs: The model's inputs for one batch.
        targets: The matching targets.
        loss: A Keras loss name or callable. Default: `"mse"`.
        after_layer: For models that start with a non-differentiable step,
            such as an `Embedding` over token ids, the name of the layer whose
            output is the sequence to differentiate against. The model is split
            there; a mask made before the split is not passed on, so probe
            unpadded sequences.

    Returns:
        A float array of shape `(timesteps,)`.
    """
    loss_fn = keras.losses.get(loss)
    if after_layer is None:
        stem, head = None, model
    else:
        split = model.get_layer(after_layer).output
        model_inputs = model.inputs[0] if len(model.inputs) == 1 else model.inputs
        stem = keras.Model(model_inputs, split)
        model_outputs = model.outputs[0] if len(model.outputs) == 1 else model.outputs
        head = keras.Model(split, model_outputs)
    sequence = tf.convert_to_tensor(inputs if stem is None else stem(inputs))
    if sequence.shape.rank != 3 or not sequence.dtype.is_floating:
        raise ValueError(
            "gradient_norms_per_timestep: expected a float sequence (batch, timesteps, features) to "
            f"differentiate against, got {sequence.dtype.name} of shape {tuple(sequence.shape)}. "
            "For token ids, pass `after_layer` with the name of the embedding layer."
        )
    with tf.GradientTape() as tape:
        tape.watch(sequence)
        value = tf.reduce_mean(loss_fn(targets, head(sequence, training=False)))
    gradient = tape.gradient(value, sequence)
    return tf.norm(gradient, axis=(0, 2)).numpy()


def plot_gradient_norms(norms_by_label: dict[str, np.ndarray], path: str | Path, title: str | None = None) -> Path:
    """Saves a log-scale plot of per-time-step gradient norms as a PNG.

    Args:
        norms_by_label: One curve per entry, such as `{"LSTM": ..., "vanilla RNN": ...}`,
            each from `gradient_norms_per_timestep`.
        path: Where to write the PNG. Its folder is created if missing.
        title: Optional plot title.

    Returns:
        The path written.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure = Figure(figsize=(7, 4), layout="constrained")
    axes = figure.add_subplot()
    for label, norms in norms_by_label.items():
        # A norm of exactly zero (a gradient that underflowed) cannot sit on a log axis.
        axes.semilogy(np.arange(len(norms)), np.maximum(norms, np.finfo("float32").tiny), label=label)
    axes.set_xlabel("time step t")
    axes.set_ylabel("‖∂L/∂x_t‖")
    axes.set_title(title or "Gradient of the loss with respect to each time step's input")
    axes.grid(True, which="both", alpha=0.3)
    axes.legend()
    figure.savefig(path, dpi=120)
    return path
