"""The one door to Keras' private parts (and TensorFlow's): every one toolkit uses, why, and a public alternative.

Nothing else in toolkit imports `keras.src`, `tensorflow.python` or `tensorflow.lite.python`, reads a
private attribute of a Keras object or replaces a Keras function. When Keras is upgraded, this file
and `tests/test_keras_private.py` are all there is to check: the test names
each part the new release lacks.

| part | used by | why | public alternative |
|---|---|---|---|
| `keras.src.layers.rnn.dropout_rnn_cell.DropoutRNNCell` | `LSTMCell`, `SimpleRNNCell` | `keras.layers.RNN` draws one dropout mask per sequence only for cells that inherit this mixin | none: Keras does not export it |
| `keras.src.backend.cudnn_ok`, `keras.src.backend.lstm` | `LSTM` | the fused cuDNN kernel `keras.layers.LSTM` trains with on a GPU, and its test of whether a configuration can use it | none: `keras.layers.LSTM` calls them privately |
| `keras.layers.RNN._create_state_variables`, `._expected_batch_size` | truncated BPTT | a stateful layer's state variables must exist before the train function is traced, for the batch size of the chunks; the batch size must be forgotten again afterwards | none: Keras creates them on the first call, inside the traced function |
| `keras.src.backend.tensorflow.trainer.reduce_per_replica`, `TensorFlowTrainer._maybe_symbolic_build` | multi-worker training | both fail under `MultiWorkerMirroredStrategy` (tensorflow/tensorflow#72388); `multi_worker_fit` replaces them while a model fits | none until that issue is fixed |
| `tensorflow.python.framework.convert_to_constants.convert_variables_to_constants_v2` (TensorFlow's) | ONNX export | freezes a function's variables and captured tensors into constants, as tf2onnx does inside; tf2onnx's own entry point leaves captured tensors as model inputs | none: TensorFlow does not export it |
| `tensorflow.lite.python.convert_phase.ConverterError` (TensorFlow's) | LiteRT export | the converter's refusal (ops that are not LiteRT builtins, say), told apart from a bug to be named as the user's | none: `tf.lite` does not export it |

Parts used before and removed, each for a public API:
- `keras.src.backend.config.keras_home`: Debian's Fashion-MNIST files now reach
  Keras' cache through `keras.utils.get_file` with a `file://` origin.
- `Model._initial_epoch` and a `BackupAndRestore` subclass that only
  restored: `toolkit.training` keeps its own backup, restores it before
  `fit`, and passes `initial_epoch`.
- `tf.distribute`'s `_in_multi_worker_mode()`: the strategy's public
  `cluster_resolver` says whether a cluster is configured.
"""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import Iterator
from dataclasses import dataclass

import keras
import tensorflow as tf


@dataclass(frozen=True)
class PrivatePart:
    """One private part of Keras: where it lives, and why toolkit needs it."""

    module: str
    name: str
    reason: str

    def resolve(self):
        """The part itself.

        Raises:
            ImportError: Naming the part, the installed Keras and the reason, if this Keras lacks it.
        """
        try:
            owner = importlib.import_module(self.module)
            for attribute in self.name.split("."):
                owner = getattr(owner, attribute)
            return owner
        except (ImportError, AttributeError):
            raise ImportError(
                f"toolkit needs Keras' private {self.module}.{self.name} ({self.reason}), which Keras "
                f"{keras.__version__} lacks. Install the Keras version setup.cfg pins, or adapt toolkit/keras_private.py."
            ) from None


PARTS = {
    "DropoutRNNCell": PrivatePart(
        "keras.src.layers.rnn.dropout_rnn_cell", "DropoutRNNCell", "one dropout mask per sequence in keras.layers.RNN"
    ),
    "cudnn_ok": PrivatePart("keras.src.backend", "cudnn_ok", "whether an LSTM can run on the fused cuDNN kernel"),
    "fused_lstm": PrivatePart("keras.src.backend", "lstm", "the fused cuDNN LSTM kernel"),
    "create_state_variables": PrivatePart(
        "keras.layers", "RNN._create_state_variables", "a stateful layer's states made before tracing, for truncated BPTT"
    ),
    "reduce_per_replica": PrivatePart(
        "keras.src.backend.tensorflow.trainer", "reduce_per_replica", "replaced while fitting on several workers"
    ),
    "maybe_symbolic_build": PrivatePart(
        "keras.src.backend.tensorflow.trainer", "TensorFlowTrainer._maybe_symbolic_build",
        "replaced while fitting on several workers",
    ),
}

DropoutRNNCell = PARTS["DropoutRNNCell"].resolve()
# TensorFlow's, resolved when an export asks for it: tf2onnx is imported only then.
FROZEN_FUNCTION = PrivatePart(
    "tensorflow.python.framework.convert_to_constants", "convert_variables_to_constants_v2",
    "a function's variables and captured tensors frozen into constants, for ONNX export",
)
# TensorFlow's, resolved when a LiteRT export asks for it.
CONVERTER_ERROR = PrivatePart(
    "tensorflow.lite.python.convert_phase", "ConverterError", "the LiteRT converter's refusal, for LiteRT export"
)
cudnn_ok = PARTS["cudnn_ok"].resolve()
fused_lstm = PARTS["fused_lstm"].resolve()


def make_stateful(layer: keras.layers.RNN, batch_size: int) -> None:
    """Makes `layer` stateful, its state variables created now for `batch_size` sequences (zeros)."""
    layer.stateful = True
    layer.states = None
    PARTS["create_state_variables"].resolve()(layer, batch_size)
    layer._expected_batch_size = batch_size


def make_stateless(layer: keras.layers.RNN, stateful: bool = False) -> None:
    """Undoes `make_stateful`: the states dropped, any batch size accepted again, `stateful` as given."""
    layer.stateful = stateful
    layer.states = None
    layer._expected_batch_size = None


@contextlib.contextmanager
def multi_worker_fit(strategy: tf.distribute.Strategy, multi_worker: bool) -> Iterator[None]:
    """Works around two defects of Keras 3's TensorFlow trainer under a multi-worker strategy, while fitting.

    Without it, `fit` fails at its first step with "Attempt to convert a
    value (PerReplica: ...) to a Tensor" (`_maybe_symbolic_build` reduces a
    whole batch, a nested structure, as one value) and then with "Invalid
    reduction dimension 0 for input with 0 dimensions" (`reduce_per_replica`
    reduces scalar metrics along a batch axis); tensorflow/tensorflow#72388.
    Inside this context the symbolic build takes the local shard of the
    first batch (only shapes matter to it), and each step's scalar logs
    are averaged over the workers. (The epoch's logs Keras then computes
    again from each worker's metrics; `distribution.SameLogsOnEveryWorker`
    averages those.) Unless `multi_worker`, it changes nothing.
    """
    if not multi_worker:
        yield
        return
    trainer_module = importlib.import_module(PARTS["reduce_per_replica"].module)
    reduce_per_replica = PARTS["reduce_per_replica"].resolve()
    maybe_symbolic_build = PARTS["maybe_symbolic_build"].resolve()

    def reduce_per_replica_across_workers(values, strategy, reduction="auto"):
        if reduction not in ("auto", "mean"):
            return reduce_per_replica(values, strategy, reduction)

        def mean(value):
            rank = strategy.experimental_local_results(value)[0].shape.rank
            return strategy.reduce("MEAN", value, axis=None if rank == 0 else 0)

        return keras.tree.map_structure(mean, values)

    def symbolic_build_from_local_shard(self, iterator=None, data_batch=None):
        if iterator is not None and data_batch is None:
            for _, _, batches in iterator:
                data_batch = keras.tree.map_structure(
                    lambda value: self.distribute_strategy.experimental_local_results(value)[0]
                    if isinstance(value, tf.distribute.DistributedValues) else value,
                    next(batches),
                )
                break
        return maybe_symbolic_build(self, data_batch=data_batch)

    trainer_module.reduce_per_replica = reduce_per_replica_across_workers
    trainer_module.TensorFlowTrainer._maybe_symbolic_build = symbolic_build_from_local_shard
    try:
        yield
    finally:
        trainer_module.reduce_per_replica = reduce_per_replica
        trainer_module.TensorFlowTrainer._maybe_symbolic_build = maybe_symbolic_build
