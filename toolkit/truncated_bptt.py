"""Truncated backpropagation through time: long sequences trained in chunks of k steps, the state carried between them.

With `trainer.truncated_bptt: k`, `training.fit` feeds each batch of
sequences `(batch, T, …)` to the network as `T // k` consecutive batches
of `k` steps (`in_chunks`), each one optimizer update. While it fits, every
recurrent layer of the network is stateful (`carrying_state`): the state a
sequence ends a chunk with is where it starts the next one, per sequence
in the batch, and it is read from a variable, so gradients stop at chunk
boundaries. The state is reset to zero when the next batch, of new
sequences, begins (`ResetStateAtSequenceStart`); validation runs the same
way. This is Williams & Peng's TBPTT(k, k) (1990): each update
backpropagates through the last k steps only, however long the sequence.

The recurrent layers run as they always do, so our `LSTM` trains through
its hand-written backward pass on a CPU (and through cuDNN on a GPU). What it needs of a network and its data:
sequences of one static length and batch size, a target at every step
(a language model's next tokens), and plain recurrent layers running
forwards (not `Bidirectional`, whose backward direction needs the future).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import keras
import tensorflow as tf

from toolkit import keras_private
from toolkit.config import ConfigError
from toolkit.layers import LearnedInitialState


def recurrent_layers(network: keras.Model) -> list[keras.layers.RNN]:
    """The network's recurrent layers, nested models included, after checking that each can carry its state.

    Raises:
        ConfigError: For a layer that runs backwards or wraps a recurrent
            layer (`Bidirectional`, `LearnedInitialState`), naming it.
    """
    found = []
    for layer in network.layers:
        if isinstance(layer, keras.Model):
            found += recurrent_layers(layer)
        elif isinstance(layer, (keras.layers.Bidirectional, LearnedInitialState)) or getattr(layer, "go_backwards", False):
            raise ConfigError(
                f"trainer.truncated_bptt: layer {layer.name!r} ({type(layer).__name__}) cannot carry its state from "
                "one chunk to the next: truncated BPTT runs plain recurrent layers forwards. Set trainer.truncated_bptt "
                "to null."
            )
        elif isinstance(layer, keras.layers.RNN):
            found.append(layer)
    if not found and network.layers:
        raise ConfigError(f"trainer.truncated_bptt: network {network.name!r} has no recurrent layer to carry a state.")
    return found


def chunks_per_sequence(dataset: tf.data.Dataset, chunk_length: int) -> tuple[int, int]:
    """`(batch size, chunks per sequence)` of a dataset of `(inputs, targets)` batches, after checking they can be cut.

    Raises:
        ConfigError: For batches whose size or length is not static, targets
            without one value per step, or sequences shorter than a chunk.
    """
    inputs, targets = dataset.element_spec[:2]
    if inputs.shape.rank is None or inputs.shape.rank < 2 or None in inputs.shape[:2]:
        raise ConfigError(
            "trainer.truncated_bptt: needs batches of sequences of one static batch size and length; this pipeline's "
            f"batches have the shape {inputs.shape}. Set trainer.truncated_bptt to null."
        )
    batch_size, length = inputs.shape[:2]
    if targets.shape.rank is None or targets.shape.rank < 2 or targets.shape[1] != length:
        raise ConfigError(
            f"trainer.truncated_bptt: needs a target at every step (batches of {length} steps, so targets of shape "
            f"(batch, {length}, …)); this pipeline's targets have the shape {targets.shape}. Set trainer.truncated_bptt "
            "to null."
        )
    if length < chunk_length:
        raise ConfigError(
            f"trainer.truncated_bptt: chunks of {chunk_length} steps are longer than the sequences, of {length} steps. "
            "Give longer sequences (for text generation: more text, or fewer streams with a smaller "
            "trainer.batch_size), or set trainer.truncated_bptt lower."
        )
    return batch_size, length // chunk_length


def in_chunks(dataset: tf.data.Dataset, chunk_length: int) -> tf.data.Dataset:
    """Each batch `(inputs, targets[, weights])` of `T` steps as `T // k` batches of `k` steps, in order.

    The last `T mod k` steps of each sequence are left out.
    """
    batch_size, chunks = chunks_per_sequence(dataset, chunk_length)

    def cut(*values):
        # (batch, chunks · k, …) → (chunks, batch, k, …): one slice per chunk.
        pieces = [
            tf.experimental.numpy.swapaxes(
                tf.reshape(value[:, : chunks * chunk_length], [batch_size, chunks, chunk_length, *value.shape[2:]]), 0, 1
            )
            for value in values
        ]
        return tf.data.Dataset.from_tensor_slices(tuple(pieces))

    chunked = dataset.flat_map(cut)
    batches = int(dataset.cardinality())
    # Known to Keras, an epoch's length spares it a last step that only finds the data exhausted.
    return chunked.apply(tf.data.experimental.assert_cardinality(batches * chunks)) if batches >= 0 else chunked


@contextlib.contextmanager
def carrying_state(model: keras.Model, batch_size: int) -> Iterator[list[keras.layers.RNN]]:
    """Makes `model`'s recurrent layers stateful for `batch_size` sequences while it fits; as they were afterwards.

    The states live in variables outside the model's weights, so they are in
    no checkpoint. The model's compiled train, test and predict functions are
    traced afresh on entering and leaving.
    """
    layers = recurrent_layers(model)
    stateful = [layer.stateful for layer in layers]
    try:
        for layer in layers:
            keras_private.make_stateful(layer, batch_size)
        _retrace(model)
        yield layers
    finally:
        for layer, was_stateful in zip(layers, stateful):
            keras_private.make_stateless(layer, was_stateful)
        _retrace(model)


def _retrace(model: keras.Model) -> None:
    if model.compiled:
        model.make_train_function(force=True)
        model.make_test_function(force=True)
    model.make_predict_function(force=True)


class ResetStateAtSequenceStart(keras.callbacks.Callback):
    """Resets the recurrent layers' states to zero before the first chunk of each batch of sequences.

    Args:
        layers: The stateful recurrent layers.
        chunks: Chunks per training sequence: a new batch of sequences
            begins every `chunks` training batches.
        validation_chunks: The same for validation; `chunks` if `None`.
    """

    def __init__(self, layers: list[keras.layers.RNN], chunks: int, validation_chunks: int | None = None):
        super().__init__()
        self.layers = layers
        self.chunks = chunks
        self.validation_chunks = chunks if validation_chunks is None else validation_chunks

    def _reset_at(self, batch: int, chunks: int) -> None:
        if batch % chunks == 0:
            for layer in self.layers:
                layer.reset_state()

    def on_train_batch_begin(self, batch, logs=None):
        self._reset_at(batch, self.chunks)

    def on_test_batch_begin(self, batch, logs=None):
        self._reset_at(batch, self.validation_chunks)


def validation_chunks(validation_data: tf.data.Dataset, chunk_length: int, batch_size: int) -> int:
    """Chunks per validation sequence, after checking that validation batches hold as many sequences as training ones.

    Raises:
        ConfigError: For another batch size: the carried states are one per training sequence.
    """
    validation_batch_size, chunks = chunks_per_sequence(validation_data, chunk_length)
    if validation_batch_size != batch_size:
        raise ConfigError(
            f"trainer.truncated_bptt: validation batches hold {validation_batch_size} sequences, training batches "
            f"{batch_size}; the state carried from chunk to chunk is one per sequence, so they must be equal."
        )
    return chunks
