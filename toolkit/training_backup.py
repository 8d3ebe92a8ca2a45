"""The training state a killed run resumes from: written atomically after every epoch, restored before `fit`.

Keras' `BackupAndRestore` writes its weights file in place, so a kill or a
full disk during that write leaves a truncated file that no later run can
read. `EpochBackup` writes each epoch's weights to a new file and then
replaces `training_metadata.json` atomically to name it, keeping the
epoch before as a fall-back; a reader only ever sees whole files. Like
Keras' callback, it removes the backup once the fit ends. The layout is
Keras': a backup Keras wrote (`latest.weights.h5` beside that JSON file,
without a `weights` key) is read the same way.
"""

from __future__ import annotations

import json
import os
import shutil
import warnings
from dataclasses import dataclass
from pathlib import Path

import keras

from toolkit.errors import InputError, Notice

METADATA = "training_metadata.json"
# What Keras' `BackupAndRestore` calls its weights file; the metadata of a backup it wrote names none.
KERAS_WEIGHTS = "latest.weights.h5"


class BackupError(InputError):
    """The backup a killed run left cannot be read; the message names it and how to start over."""


@dataclass(frozen=True)
class Backup:
    """A backup read back: the epochs done, and the weights files to restore (the newest first).

    Attributes:
        folder: The backup folder.
        epoch: Epochs finished when it was written.
        weights: The weights file of that epoch, and of the epoch before if kept.
    """

    folder: Path
    epoch: int
    weights: tuple[str, ...]

    def restore(self, model: keras.Model) -> int:
        """Loads the newest readable weights into `model`; returns the epoch to resume from.

        The optimizer's state is in the files too: build `model.optimizer` first.

        Raises:
            BackupError: If no weights file of the backup can be read, naming
                each and `--fresh`.
        """
        failures = []
        for index, name in enumerate(self.weights):
            try:
                model.load_weights(self.folder / name)
            except (OSError, ValueError, KeyError) as error:  # h5py's for a damaged file; Keras' for one that does not fit
                failures.append(f"{self.folder / name} ({type(error).__name__}: {str(error)[:120]})")
                continue
            if failures:
                warnings.warn(
                    f"the backup of the last epoch cannot be read ({failures[0]}); resuming from the epoch before it.",
                    Notice, stacklevel=2,
                )
            return self.epoch - index
        raise BackupError(
            f"the backup this run was killed with cannot be read: {'; '.join(failures)}. Start over with --fresh "
            "(fresh=True in Python), or choose another run name."
        )


class EpochBackup(keras.callbacks.Callback):
    """Backs up the model's weights and optimizer state after every epoch, atomically; removes the backup when the fit ends.

    Args:
        folder: The backup folder; created if missing.
    """

    def __init__(self, folder: Path):
        super().__init__()
        self.folder = Path(folder)

    def on_epoch_end(self, epoch, logs=None):
        self.folder.mkdir(parents=True, exist_ok=True)
        name = f"epoch-{epoch + 1:04d}.weights.h5"
        # Keras insists on the suffix, so the partial file is told apart by its prefix.
        partial = self.folder / f"partial-{name}"
        self.model.save_weights(partial, overwrite=True)
        os.replace(partial, self.folder / name)
        earlier = read_backup(self.folder)
        kept = (name,) + (earlier.weights[:1] if earlier is not None else ())
        _write_metadata(self.folder, {"epoch": epoch + 1, "weights": list(kept)})
        for stale in self.folder.glob("*.weights.h5"):
            if stale.name not in kept:
                stale.unlink()

    def on_train_end(self, logs=None):
        shutil.rmtree(self.folder, ignore_errors=True)


def read_backup(folder: Path) -> Backup | None:
    """The backup in `folder`, or `None` if there is none (nothing to resume).

    Raises:
        BackupError: If its metadata cannot be read (a backup Keras wrote in
            place and a kill truncated), naming the file and `--fresh`.
    """
    path = Path(folder) / METADATA
    if not path.exists():
        return None
    try:
        metadata = json.loads(path.read_text())
        epoch = int(metadata["epoch"])
        weights = tuple(metadata.get("weights", [KERAS_WEIGHTS]))
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise BackupError(
            f"{path}: the backup this run was killed with cannot be read ({type(error).__name__}: {str(error)[:120]}). "
            "Start over with --fresh (fresh=True in Python), or choose another run name."
        ) from None
    return Backup(Path(folder), epoch, weights)


def _write_metadata(folder: Path, metadata: dict) -> None:
    partial = folder / f".{METADATA}.partial"
    partial.write_text(json.dumps(metadata))
    os.replace(partial, folder / METADATA)
