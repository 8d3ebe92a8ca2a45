"""The one training loop every pipeline uses: compile from config, callbacks, distribution, a task model's fit plan."""

from __future__ import annotations

import contextlib
import json
import math
import os
import shutil
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import keras
import tensorflow as tf

from toolkit import distribution, keras_private, truncated_bptt
from toolkit.config import ConfigError, option
from toolkit.errors import Notice, TrainingDivergedError
from toolkit.models.label_smoothing import with_label_smoothing
from toolkit.models.task import ONE_NETWORK, TaskModel
from toolkit.run_directory import TrainingFiles
from toolkit.training_backup import EpochBackup, read_backup

OPTIMIZERS = {
    "adam": keras.optimizers.Adam,
    "adamw": keras.optimizers.AdamW,
    "rmsprop": keras.optimizers.RMSprop,
    "sgd": keras.optimizers.SGD,
}


@dataclass
class TrainerConfig:
    """How a model is compiled and fitted."""

    epochs: int = option(5, "Maximum number of epochs.", min=1)
    batch_size: int = option(
        64, "Examples per batch: the global batch, divided over the replicas (each of 2 workers takes half of "
        "every batch, its share by element).", min=1, max=2**31 - 1,
    )
    optimizer: Literal["adam", "adamw", "rmsprop", "sgd"] = option("adam", "Optimizer name.")
    learning_rate: float = option(1e-3, "Learning rate, above 0.", above=0.0)
    learning_rate_schedule: Literal["constant", "cosine"] = option(
        "constant", "constant, or cosine: decay from learning_rate towards 0 over the epochs, set at each epoch's start."
    )
    weight_decay: float | None = option(None, "Decoupled weight decay (adamw, sgd, rmsprop).", min=0.0)
    clipnorm: float | None = option(
        1.0, "Clip each gradient to this norm, above 0: the cure for exploding gradients; null turns it off.", above=0.0
    )
    clipvalue: float | None = option(None, "Clip each gradient element to [-v, v], v above 0; null turns it off.", above=0.0)
    loss: str | None = option(None, "A Keras loss name; null takes the pipeline's default.")
    label_smoothing: float = option(
        0.0, "Label smoothing of a classifier's targets: each spreads this share of its weight evenly over all "
        "classes. For the classifiers' default loss only; 0 turns it off.", min=0.0, max=0.99,
    )
    metrics: list[str] | None = option(None, "Keras metric names; null takes the pipeline's defaults.")
    early_stopping_patience: int | None = option(
        2, "Stop after this many epochs without improvement of `monitor`; null turns it off.", min=0
    )
    monitor: str = option("val_loss", "The quantity early stopping and the best checkpoint watch.")
    seed: int = option(42, "Seed for weights, shuffling and dropout, from 0 to 2^32 - 1.", min=0, max=2**32 - 1)
    truncated_bptt: int | None = option(
        None, "Truncated backpropagation through time: fit each batch of sequences in chunks of this many steps, one "
        "update each, the recurrent state carried from chunk to chunk and reset when new sequences begin; gradients "
        "stop at chunk boundaries. For networks with a target at every step (text_generation); null: whole sequences.",
        min=1,
    )
    distribution: Literal["none", "mirrored", "multi_worker"] = option(
        "none", "tf.distribute strategy: none, mirrored (all local devices), or multi_worker (the cluster in "
        "TF_CONFIG; every worker runs the same command with the same --run-name, and the chief writes the run)."
    )
    verbose: Literal["auto", 0, 1, 2] = option(
        "auto", "Keras progress output: auto (a live progress bar on a terminal, else one line per epoch), "
        "0 silent, 1 progress bar, 2 one line per epoch."
    )

    def __post_init__(self):
        if self.clipnorm is not None and self.clipvalue is not None:
            raise ConfigError(
                "trainer: set only one of clipnorm and clipvalue; Keras clips one way (set the other to null)."
            )
        if self.truncated_bptt is not None and self.distribution != "none":
            raise ConfigError(
                f"trainer: truncated_bptt carries each sequence's state from one batch to the next, which a "
                f"distribution strategy does not keep on one replica; set trainer.distribution to none (it is "
                f"{self.distribution}) or trainer.truncated_bptt to null."
            )


def make_optimizer(config: TrainerConfig, learning_rate: float | None = None) -> keras.optimizers.Optimizer:
    """Builds the configured optimizer, with gradient clipping."""
    kwargs = {"learning_rate": config.learning_rate if learning_rate is None else learning_rate}
    if config.clipnorm is not None:
        kwargs["clipnorm"] = config.clipnorm
    if config.clipvalue is not None:
        kwargs["clipvalue"] = config.clipvalue
    if config.weight_decay is not None:
        kwargs["weight_decay"] = config.weight_decay
    return OPTIMIZERS[config.optimizer](**kwargs)


def compile_model(
    model: keras.Model,
    config: TrainerConfig,
    default_loss,
    default_metrics: list,
    learning_rate: float | None = None,
) -> keras.Model:
    """Compiles `model` with the configured optimizer, loss and metrics.

    The config's `loss` and `metrics` win over the pipeline's defaults; a
    `label_smoothing` other than 0 smooths the loss's targets.
    """
    loss = config.loss or default_loss
    model.compile(
        optimizer=make_optimizer(config, learning_rate),
        loss=with_label_smoothing(loss, config.label_smoothing) if config.label_smoothing else loss,
        metrics=config.metrics if config.metrics is not None else default_metrics,
    )
    return model


def fit(
    model: keras.Model,
    train_data: tf.data.Dataset,
    validation_data: tf.data.Dataset | None,
    config: TrainerConfig,
    work_dir: str | Path | TrainingFiles,
    epochs: int | None = None,
    callbacks: list[keras.callbacks.Callback] | None = None,
) -> dict[str, list[float]]:
    """Fits a compiled model with the standard callbacks, resuming an interrupted run.

    The callbacks keep their files in `work_dir` (see `TrainingFiles`): a
    backup of the training state after every epoch (`EpochBackup`), so that a
    run killed mid-way continues from its last finished epoch when started
    again with the same `work_dir`; the best epoch's weights by `config.monitor`, restored at the end;
    TensorBoard logs; the CSV log and the history. Training stops on a NaN
    loss, and early if `config.early_stopping_patience` is set. With
    `config.truncated_bptt`, batches are fitted in chunks of that many steps
    (see `toolkit.truncated_bptt`).

    Args:
        model: A compiled, built model.
        train_data: Batched training data.
        validation_data: Batched validation data, or `None`.
        config: The trainer config.
        work_dir: The run's working folder; created if missing.
        epochs: Overrides `config.epochs`.
        callbacks: More Keras callbacks, called after toolkit's own and
            before the epoch's backup (a search's pruning, say).

    Returns:
        The history of every epoch, including those before a resume.

    Raises:
        InputError: If the backup a killed run left cannot be read, naming
            it and `--fresh`.
    """
    extra_callbacks = list(callbacks or [])
    files = work_dir if isinstance(work_dir, TrainingFiles) else TrainingFiles(Path(work_dir))
    files.root.mkdir(parents=True, exist_ok=True)
    strategy = model.distribute_strategy
    monitor = config.monitor if validation_data is not None else config.monitor.removeprefix("val_")
    backup = read_backup(files.resumes_from.backup)
    if backup is None:
        # Not a resume: logs left by an earlier run that finished training belong to that run.
        for stale in (files.history, files.training_log):
            stale.unlink(missing_ok=True)
    if files.chief_root is not None and backup is not None:
        # A worker resuming: the epochs before the resume are in the chief's history, which the NaN check reads,
        # and the best weights so far are the chief's, which every worker must end with alike.
        for chiefs, own in ((files.resumes_from.history, files.history), (files.resumes_from.best_weights, files.best_weights)):
            if chiefs.exists():
                shutil.copyfile(chiefs, own)
    # Before anything is restored: the workers of a cluster must agree on the epoch they resume from.
    distribution.check_same_start(strategy, 0 if backup is None else backup.epoch, files.resumes_from.backup)
    with strategy.scope():
        # Built before `fit`, in the strategy's scope, where a distribution strategy needs its variables made.
        if not model.optimizer.built:
            model.optimizer.build(model.trainable_variables)
        initial_epoch = 0 if backup is None else backup.restore(model)
    earlier = _read_json_or_empty(files.history) if initial_epoch else {}
    total_epochs = epochs or config.epochs
    # Before the history recorder, which then sees each epoch's learning rate.
    schedules = (
        [keras.callbacks.LearningRateScheduler(_cosine_schedule(model.optimizer.learning_rate, total_epochs))]
        if config.learning_rate_schedule == "cosine"
        else []
    )
    callbacks = [
        distribution.SameLogsOnEveryWorker(strategy),
        *schedules,
        keras.callbacks.TerminateOnNaN(),
        keras.callbacks.ModelCheckpoint(
            files.best_weights, monitor=monitor, save_best_only=True, save_weights_only=True,
            # A resumed run's best so far, so that a worse epoch after the resume does not replace its weights.
            initial_value_threshold=_best_so_far(earlier.get(monitor, [])[:initial_epoch], monitor),
        ),
        keras.callbacks.CSVLogger(str(files.training_log), append=True),
        keras.callbacks.TensorBoard(log_dir=str(files.logs), write_graph=False),
        _HistoryRecorder(files.history, initial_epoch),
    ]
    if config.early_stopping_patience is not None:
        callbacks.append(keras.callbacks.EarlyStopping(monitor=monitor, patience=config.early_stopping_patience))
    callbacks.extend(extra_callbacks or [])
    # Last, so that every other callback has seen the epoch before it is backed up. A worker
    # that is not the chief resumes from the chief's backup, and writes none of its own.
    if files.chief_root is None:
        callbacks.append(EpochBackup(files.backup))
    carried_state = contextlib.nullcontext()
    if config.truncated_bptt is not None:
        batch_size, chunks = truncated_bptt.chunks_per_sequence(train_data, config.truncated_bptt)
        validation_chunks = None
        if validation_data is not None:
            validation_chunks = truncated_bptt.validation_chunks(validation_data, config.truncated_bptt, batch_size)
            validation_data = truncated_bptt.in_chunks(validation_data, config.truncated_bptt)
        train_data = truncated_bptt.in_chunks(train_data, config.truncated_bptt)
        carried_state = truncated_bptt.carrying_state(model, batch_size)
        callbacks.insert(
            1, truncated_bptt.ResetStateAtSequenceStart(truncated_bptt.recurrent_layers(model), chunks, validation_chunks)
        )

    with warnings.catch_warnings(), carried_state:
        # Keras warns at the end of every epoch of a dataset of unknown length (such as a
        # length-bucketed one) that it "ran out of data"; for those that is the normal end.
        warnings.filterwarnings("ignore", message="Your input ran out of data")
        with keras_private.multi_worker_fit(strategy, distribution.is_multi_worker(strategy)):
            model.fit(
                distribution.sharded(train_data),
                validation_data=None if validation_data is None else distribution.sharded(validation_data),
                epochs=total_epochs,
                initial_epoch=initial_epoch,
                callbacks=callbacks,
                verbose=keras_verbosity(config.verbose),
                shuffle=False,  # the tf.data pipeline shuffles
            )
    history = files.read_history()
    _check_finite_loss(history, model.optimizer, monitor)
    if files.best_weights.exists():
        model.load_weights(files.best_weights)
    return history


def _best_so_far(values: list[float], monitor: str) -> float | None:
    finite = [value for value in values if math.isfinite(value)]
    if not finite:
        return None
    # ModelCheckpoint's own rule: accuracy-like quantities are maximised, the rest minimised.
    return max(finite) if "acc" in monitor or monitor.endswith("auc") else min(finite)


def _check_finite_loss(history: dict[str, list[float]], optimizer: keras.optimizers.Optimizer, monitor: str) -> None:
    """Refuses a model whose loss became NaN before any good epoch; says so when an earlier epoch's weights are kept.

    Args:
        history: The fit's history.
        optimizer: The optimizer the model was fitted with, for the advice.
        monitor: The quantity the best checkpoint is chosen by; its weights
            are worth keeping only from an epoch where it is finite (Keras
            checkpoints the first epoch whatever its value).

    Raises:
        TrainingDivergedError: If the loss became NaN or infinite and no weights are worth keeping.
    """
    losses = history.get("loss", [])
    if all(math.isfinite(loss) for loss in losses):
        return
    epoch = next(index for index, loss in enumerate(losses) if not math.isfinite(loss)) + 1
    learning_rate = float(keras.ops.convert_to_numpy(optimizer.learning_rate))
    clipped = any(getattr(optimizer, name) is not None for name in ("clipnorm", "clipvalue", "global_clipnorm"))
    advice = f"lower the learning rate (it was {learning_rate:g} when training stopped)" + (
        "" if clipped else ", or set trainer.clipnorm to clip the gradients"
    )
    if not any(math.isfinite(value) for value in history.get(monitor, [])):
        raise TrainingDivergedError(
            f"The training loss became {losses[epoch - 1]} in epoch {epoch}, and no epoch gave weights worth keeping; "
            f"{advice}."
        )
    warnings.warn(
        f"The training loss became {losses[epoch - 1]} in epoch {epoch} and training stopped there; the weights kept "
        f"are those of the best epoch by {monitor}. To train longer, {advice}.", Notice, stacklevel=2,
    )


def keras_verbosity(verbose: str | int) -> int:
    """Keras' `verbose` for a `trainer.verbose` setting: `"auto"` is a live progress bar on a terminal, else one line per epoch."""
    if verbose == "auto":
        return 1 if sys.stdout.isatty() else 2
    return int(verbose)


def fit_task(
    model: TaskModel,
    train_data: tf.data.Dataset,
    validation_data: tf.data.Dataset | None,
    config: TrainerConfig,
    work: TrainingFiles,
    default_loss,
    default_metrics: list,
    strategy: tf.distribute.Strategy | None = None,
    epochs: int | None = None,
    learning_rate: float | None = None,
    callbacks: list[keras.callbacks.Callback] | None = None,
) -> dict[str, list[float]]:
    """Compiles and fits what a task model's `fit_plan` names: what a run and a fine-tune both do.

    Usually the plan is the one network, fitted in `work`. A plan of several
    parts (a classifier's branches) has each fitted alone, one after the
    other, in a work folder of its own; the history then holds each part's
    logs, their keys prefixed with its name. A killed run, started again, does
    not fit again a part whose fit had ended: it loads that part's best
    weights. Then the plan's `join` is called with the validation data.

    Args:
        model: The task model.
        train_data: Batched preprocessed training data.
        validation_data: Batched preprocessed validation data, or `None`.
        config: The trainer config.
        work: The work folder (see `fit`).
        default_loss: The pipeline's loss, unless the config names one.
        default_metrics: The pipeline's metrics, unless the config names some.
        strategy: The distribution strategy to compile in; the default one if `None`.
        epochs: Overrides `config.epochs`.
        learning_rate: Overrides `config.learning_rate`.
        callbacks: More Keras callbacks for each part's fit (see `fit`).

    Returns:
        The history; `epochs_trained` counts its epochs.
    """
    with (strategy or tf.distribute.get_strategy()).scope():
        # In the scope: a part made there (a branch's model) trains under the strategy.
        plan = model.fit_plan()
        for network in plan.parts.values():
            compile_model(network, config, default_loss, default_metrics, learning_rate)
    if list(plan.parts) == [ONE_NETWORK]:
        history = fit(plan.parts[ONE_NETWORK], train_data, validation_data, config, work, epochs, callbacks)
    else:
        for name, network in plan.parts.items():
            files = work.branch(name)
            if files.resumes_from.fitted.exists():
                network.optimizer.build(network.trainable_variables)  # its state is in the file too
                network.load_weights(files.resumes_from.best_weights)
            else:
                fit(network, train_data, validation_data, config, files, epochs, callbacks)
                files.fitted.touch()
        history = work.gather_branches(list(plan.parts))
    if plan.join is not None:
        plan.join(validation_data)
    return history


def epochs_trained(model: TaskModel, history: dict[str, list[float]]) -> int | dict[str, int]:
    """The epochs a `fit_task` history of `model` records: one count, or one per part of a plan of several."""
    parts = list(model.fit_plan().parts)
    if parts == [ONE_NETWORK]:
        return len(history["loss"])
    return {name: len(history[f"{name}_loss"]) for name in parts}


def _cosine_schedule(initial, epochs: int):
    initial = float(keras.ops.convert_to_numpy(initial))
    return lambda epoch, _: initial * 0.5 * (1 + math.cos(math.pi * epoch / epochs))


class _HistoryRecorder(keras.callbacks.Callback):
    """Keeps the per-epoch logs in a JSON file that survives a resume.

    A run killed after an epoch's logs but before its backup resumes from the
    epoch before: the logs of the epochs it fits again are dropped first.
    """

    def __init__(self, path: Path, initial_epoch: int = 0):
        super().__init__()
        self.path = path
        self.initial_epoch = initial_epoch

    def on_train_begin(self, logs=None):
        history = _read_json_or_empty(self.path)
        if any(len(values) > self.initial_epoch for values in history.values()):
            _write_json_atomically(self.path, {key: values[: self.initial_epoch] for key, values in history.items()})

    def on_epoch_end(self, epoch, logs=None):
        history = _read_json_or_empty(self.path)
        for key, value in (logs or {}).items():
            history.setdefault(key, []).append(float(value))
        _write_json_atomically(self.path, history)


def _read_json_or_empty(path: Path) -> dict:
    return json.loads(path.read_text()) if path.exists() else {}


def _write_json_atomically(path: Path, values) -> None:
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(json.dumps(values))
    os.replace(partial, path)
