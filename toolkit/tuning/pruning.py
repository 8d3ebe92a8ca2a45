"""The Keras callback that reports each epoch's validation metric to Optuna and stops a trial its pruner gives up on."""

from __future__ import annotations

import keras
import optuna

from toolkit.errors import InputError
from toolkit.tuning.metrics import ValidationMetric


class PruningCallback(keras.callbacks.Callback):
    """Reports `metric.epoch_log` after every epoch as the trial's intermediate value; stops training once pruned.

    Steps count epochs across every fit of the trial: a classifier with
    branches fits each alone in turn, and its second branch's first epoch
    is the step after the first branch's last. Once pruned, any later fit
    of the same trial stops after its first batch.

    The value is reported in the study's direction: negated when the epoch
    log improves the other way from the metric chosen by (lower validation
    MAE against higher directional accuracy, say), so that the pruner always
    compares like with like.

    Attributes:
        pruned_at_epoch: The step (1-based) after which the trial was pruned; `None` if it was not.
    """

    def __init__(self, trial: optuna.Trial, metric: ValidationMetric):
        super().__init__()
        self.trial = trial
        self.metric = metric
        self.sign = 1.0 if metric.epoch_direction == metric.direction else -1.0
        self.epochs_reported = 0
        self.pruned_at_epoch: int | None = None

    def on_train_begin(self, logs=None):
        if self.pruned_at_epoch is not None:
            self.model.stop_training = True

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.metric.epoch_log not in logs:
            raise InputError(
                f"search.pruner: pruning watches {self.metric.epoch_log} after each epoch, but the fit logged only "
                f"{', '.join(sorted(logs)) or 'nothing'}; keep trainer.metrics null (or list "
                f"{self.metric.epoch_log.removeprefix('val_')!r} in it), or set search.pruner.kind: none."
            )
        self.trial.report(self.sign * float(logs[self.metric.epoch_log]), self.epochs_reported)
        self.epochs_reported += 1
        if self.pruned_at_epoch is None and self.trial.should_prune():
            self.pruned_at_epoch = self.epochs_reported
            self.model.stop_training = True
