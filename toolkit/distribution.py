"""Training on `tf.distribute`: the strategy a config names, this process's role in a cluster, sharded input.

A multi-worker cluster is described, on every host, by the `TF_CONFIG`
environment variable, as `tf.distribute.MultiWorkerMirroredStrategy` reads
it: the same `cluster` everywhere, and each host's own `task`. The chief (the
`chief` task, or else worker 0) writes the run; every worker trains.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import keras
import tensorflow as tf

from toolkit.errors import InputError

_STRATEGY_CLASSES = {
    "none": "default (one device)",
    "mirrored": "MirroredStrategy",
    "multi_worker": "MultiWorkerMirroredStrategy",
}
STRATEGIES = tuple(_STRATEGY_CLASSES)


def distribution_strategy(name: str) -> tf.distribute.Strategy:
    """Returns the `tf.distribute` strategy for a `TrainerConfig.distribution` name.

    A multi-worker strategy must be made before TensorFlow runs anything in
    the process: `toolkit.run` makes it first.

    Args:
        name: `"none"` (the default strategy), `"mirrored"` (every local GPU,
            or every logical CPU device if there is no GPU), or
            `"multi_worker"` (the cluster in the `TF_CONFIG` environment
            variable).

    Raises:
        InputError: For an unknown name, or `"multi_worker"` without a
            usable `TF_CONFIG`.
    """
    if name == "none":
        return tf.distribute.get_strategy()
    if name == "mirrored":
        devices = tf.config.list_logical_devices("GPU") or tf.config.list_logical_devices("CPU")
        return tf.distribute.MirroredStrategy([device.name for device in devices])
    if name == "multi_worker":
        cluster_from_environment()  # its mistakes named before TensorFlow reads it
        return tf.distribute.MultiWorkerMirroredStrategy()
    raise InputError(f"trainer.distribution: unknown strategy {name!r}; use {', '.join(STRATEGIES)}.")


@dataclass(frozen=True)
class WorkerRole:
    """This process's place in the cluster.

    Attributes:
        task_type: `"chief"` or `"worker"`.
        task_index: Its index among the tasks of that type.
        workers: How many processes train, the chief included.
        is_chief: Whether it writes the run.
    """

    task_type: str
    task_index: int
    workers: int
    is_chief: bool

    @property
    def name(self) -> str:
        """Such as `"worker 1"`."""
        return f"{self.task_type} {self.task_index}"


SINGLE_PROCESS = WorkerRole("chief", 0, 1, True)


def cluster_from_environment() -> WorkerRole:
    """The role `TF_CONFIG` gives this process.

    Raises:
        InputError: If `TF_CONFIG` is missing, is not JSON, or does not place
            this task in its cluster.
    """
    text = os.environ.get("TF_CONFIG")
    if not text:
        raise InputError(
            "trainer.distribution: 'multi_worker' needs the TF_CONFIG environment variable, which describes the "
            'cluster, such as {"cluster": {"worker": ["host1:12345", "host2:12345"]}, "task": {"type": "worker", '
            '"index": 0}}; or try it on this machine with --local-workers N.'
        )
    try:
        tf_config = json.loads(text)
        cluster, task = tf_config["cluster"], tf_config["task"]
        task_type, task_index = task["type"], int(task["index"])
        hosts = cluster[task_type]
    except (ValueError, KeyError, TypeError) as error:
        raise InputError(
            f"TF_CONFIG: expected JSON with a 'cluster' of host lists by task type and this process's 'task' "
            f"(its 'type' and 'index'), got {text!r} ({type(error).__name__}: {error})."
        ) from None
    if task_type not in ("chief", "worker") or not 0 <= task_index < len(hosts):
        raise InputError(
            f"TF_CONFIG: task {task_type} {task_index} is not in the cluster ({', '.join(cluster)}); a multi-worker "
            "run takes 'chief' and 'worker' tasks."
        )
    workers = len(cluster.get("chief", [])) + len(cluster.get("worker", []))
    is_chief = task_type == "chief" or ("chief" not in cluster and task_index == 0)
    return WorkerRole(task_type, task_index, workers, is_chief)


def worker_role(strategy: tf.distribute.Strategy) -> WorkerRole:
    """This process's role under `strategy`: from `TF_CONFIG` for a multi-worker one, else the only process."""
    return cluster_from_environment() if is_multi_worker(strategy) else SINGLE_PROCESS


def is_multi_worker(strategy: tf.distribute.Strategy) -> bool:
    """Whether `strategy` trains across processes."""
    if not isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
        return False
    # Made without a cluster in TF_CONFIG, the strategy trains in this process alone.
    resolver = strategy.cluster_resolver
    return resolver is not None and bool(resolver.cluster_spec().jobs)


def describe(name: str, strategy: tf.distribute.Strategy, role: WorkerRole) -> dict:
    """What `metrics.json` records of how a run was distributed.

    Args:
        name: The `TrainerConfig.distribution` name.
        strategy: The strategy it made.
        role: This process's role.
    """
    return {
        "strategy": _STRATEGY_CLASSES[name],
        "workers": role.workers,
        "replicas_in_sync": strategy.num_replicas_in_sync,
    }


def sharded(dataset: tf.data.Dataset) -> tf.data.Dataset:
    """`dataset`, sharded by element across workers unless it already names a policy.

    Every worker builds the same pipeline (same seed, same shuffle) and
    keeps its own share of each global batch. A dataset read from several
    files may set `AutoShardPolicy.FILE` itself, to give each worker whole files.
    """
    options = tf.data.Options()
    if dataset.options().experimental_distribute.auto_shard_policy == tf.data.experimental.AutoShardPolicy.AUTO:
        options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return dataset.with_options(options)


def start_together(strategy: tf.distribute.Strategy, record: str | None) -> None:
    """Checks that every worker could start the run, and started it alike; a single process passes at once.

    Every worker calls it once it has claimed or joined the run and loaded
    its data: with `None` if that failed (it then raises its own error), or
    with a record of its config and data. Without it, a worker whose
    partner failed to start would wait for it forever.

    Args:
        strategy: The run's strategy.
        record: A digest of this worker's config and data, or `None` if it failed to start.

    Raises:
        InputError: In a worker that started, if another did not, or if
            their records differ from the chief's.
    """
    if not is_multi_worker(strategy):
        return
    digest = 0 if record is None else int(hashlib.sha256(record.encode()).hexdigest()[:15], 16)
    mine = tf.constant([[int(record is not None), digest]], tf.int64)
    started, digests = strategy.gather(strategy.run(lambda: tf.identity(mine)), axis=0).numpy().T
    if record is None:
        return
    failed = [str(index) for index, ok in enumerate(started) if not ok]
    if failed:
        raise InputError(
            f"worker(s) {', '.join(failed)} of the cluster could not start the run (their output says why), so no "
            "worker can train it."
        )
    differing = [str(index) for index, value in enumerate(digests) if value != digests[0]]
    if differing:
        raise InputError(
            f"worker(s) {', '.join(differing)} were started with another config or other data than worker 0; every "
            "worker must run the same command (--config, --set) on the same data."
        )


def wait_for_every_worker(strategy: tf.distribute.Strategy) -> None:
    """Returns once every worker has called it: a multi-worker run's processes end together, the chief's writes done.

    A worker that exits first leaves the others' coordination service
    calls without a peer, and TensorFlow then logs errors at their exit.
    """
    if is_multi_worker(strategy):
        strategy.reduce("SUM", strategy.run(lambda: tf.constant(1.0)), axis=None)


def weights_checksum(model: keras.Model) -> str:
    """A short SHA-256 of every weight of `model`: equal on workers that end with identical weights."""
    digest = hashlib.sha256()
    for weight in model.get_weights():
        digest.update(weight.tobytes())
    return digest.hexdigest()[:16]


def without_strategy(model: keras.Model) -> keras.Model:
    """A copy of `model` whose variables belong to no strategy.

    After multi-worker training, the chief evaluates and exports alone; the
    trained model would still run its `predict` as a collective of every
    worker.
    """
    with tempfile.TemporaryDirectory(prefix="toolkit-copy-") as folder:
        path = Path(folder) / "model.keras"
        model.save(path)
        return keras.saving.load_model(path)


class SameLogsOnEveryWorker(keras.callbacks.Callback):
    """Replaces each epoch's logs by their mean over the workers, before any other callback reads them.

    Keras computes some epoch metrics (accuracy, for one) from each
    worker's own shard; callbacks that act on them, such as early stopping
    or the best checkpoint, would then decide differently on different
    workers, and the cluster would part ways. Put it first among the callbacks.
    """

    def __init__(self, strategy: tf.distribute.Strategy):
        super().__init__()
        self.strategy = strategy

    def on_epoch_end(self, epoch, logs=None):
        if not logs or not is_multi_worker(self.strategy):
            return
        keys = sorted(key for key, value in logs.items() if isinstance(value, (int, float)) or tf.rank(value) == 0)
        local = tf.constant([float(logs[key]) for key in keys], tf.float64)
        means = self.strategy.reduce("MEAN", self.strategy.run(lambda: tf.identity(local)), axis=None)
        logs.update(zip(keys, means.numpy().tolist()))


def check_same_start(strategy: tf.distribute.Strategy, initial_epoch: int, backup: Path) -> None:
    """Refuses to train when the workers would resume from different epochs: some could not read the chief's backup.

    Raises:
        InputError: Naming each worker's epoch and the backup.
    """
    if not is_multi_worker(strategy):
        return
    mine = tf.constant([initial_epoch], tf.int64)
    epochs = strategy.gather(strategy.run(lambda: tf.identity(mine)), axis=0).numpy().tolist()
    if len(set(epochs)) > 1:
        raise InputError(
            f"the workers would resume from different epochs ({', '.join(map(str, epochs))}, by worker): some "
            f"cannot read the chief's backup in {backup}. --output-dir must be storage every worker reads, "
            "at the same path."
        )
