"""The training backup: written atomically after each epoch, restored to resume from the right epoch, and damaged files named."""

from __future__ import annotations

import json
import shutil
import warnings

import keras
import numpy as np
import pytest
import tensorflow as tf

from toolkit import training
from toolkit.errors import InputError, Notice
from toolkit.training import TrainerConfig
from toolkit.training_backup import KERAS_WEIGHTS, METADATA, Backup, BackupError, EpochBackup, read_backup

CONFIG = TrainerConfig(epochs=3, batch_size=8, verbose=0, early_stopping_patience=None)


def model() -> keras.Model:
    network = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, activation="relu"), keras.layers.Dense(1)])
    return training.compile_model(network, CONFIG, "mse", [])


def data() -> tuple[tf.data.Dataset, tf.data.Dataset]:
    rng = np.random.default_rng(0)
    inputs = rng.normal(size=(32, 3)).astype("float32")
    targets = inputs @ np.array([[1.0], [-2.0], [0.5]], "float32")
    return (tf.data.Dataset.from_tensor_slices((inputs[:24], targets[:24])).batch(8),
            tf.data.Dataset.from_tensor_slices((inputs[24:], targets[24:])).batch(8))


@pytest.fixture
def kept_backups(monkeypatch):
    """The fit's backup is kept after it ends (as if the run were killed just then), to be inspected."""
    monkeypatch.setattr(EpochBackup, "on_train_end", lambda self, logs=None: None)


@pytest.fixture(scope="module")
def three_epochs(tmp_path_factory):
    """A work folder whose fit of three epochs kept its backup; each test copies it."""
    work = tmp_path_factory.mktemp("three_epochs")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(EpochBackup, "on_train_end", lambda self, logs=None: None)
        training.fit(model(), *data(), CONFIG, work)
    return work


@pytest.fixture
def fitted(three_epochs, tmp_path):
    return shutil.copytree(three_epochs, tmp_path / "work")


def weights_in(path) -> list[np.ndarray]:
    reader = model()
    reader.optimizer.build(reader.trainable_variables)
    reader.load_weights(path)
    return reader.get_weights()


class EpochsSeen(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.epochs, self.weights_at_start = [], None

    def on_train_begin(self, logs=None):
        self.weights_at_start = self.model.get_weights()

    def on_epoch_begin(self, epoch, logs=None):
        self.epochs.append(epoch)


def test_each_epoch_is_backed_up_keeping_the_epoch_before_and_nothing_else(fitted):
    folder = fitted / "backup"
    assert json.loads((folder / METADATA).read_text()) == {
        "epoch": 3, "weights": ["epoch-0003.weights.h5", "epoch-0002.weights.h5"],
    }
    assert sorted(path.name for path in folder.iterdir()) == [
        "epoch-0002.weights.h5", "epoch-0003.weights.h5", METADATA,
    ], "no partial file and no older epoch is left"
    backup = read_backup(folder)
    assert backup == Backup(folder, 3, ("epoch-0003.weights.h5", "epoch-0002.weights.h5"))


def test_the_backup_is_removed_once_the_fit_ends(tmp_path):
    train, validation = data()
    training.fit(model(), train, validation, CONFIG, tmp_path)
    assert not (tmp_path / "backup").exists()
    assert read_backup(tmp_path / "backup") is None


def test_a_fit_started_again_resumes_after_the_last_backed_up_epoch_with_its_weights(tmp_path, kept_backups):
    train, validation = data()
    training.fit(model(), train, validation, TrainerConfig(epochs=2, batch_size=8, verbose=0, early_stopping_patience=None),
                 tmp_path)
    backed_up = weights_in(tmp_path / "backup" / "epoch-0002.weights.h5")
    seen = EpochsSeen()
    history = training.fit(model(), train, validation, TrainerConfig(epochs=4, batch_size=8, verbose=0,
                                                                     early_stopping_patience=None), tmp_path, callbacks=[seen])
    assert seen.epochs == [2, 3]
    for restored, saved in zip(seen.weights_at_start, backed_up):
        np.testing.assert_array_equal(restored, saved)
    assert len(history["loss"]) == len(history["val_loss"]) == 4, "the epochs before the resume are in the history"


def test_a_partial_write_never_replaces_the_backup_before_it(tmp_path):
    network = model()
    network.optimizer.build(network.trainable_variables)
    backup = EpochBackup(tmp_path)
    backup.set_model(network)
    backup.on_epoch_end(0)
    backup.on_epoch_end(1)
    saved = network.get_weights()

    def disk_full(path, overwrite=True):
        with open(path, "wb") as file:
            file.write(b"\x89HDF\r\n half a file")
        raise OSError(28, "No space left on device")

    network.save_weights = disk_full
    with pytest.raises(OSError, match="No space left"):
        backup.on_epoch_end(2)
    found = read_backup(tmp_path)
    assert (found.epoch, found.weights) == (2, ("epoch-0002.weights.h5", "epoch-0001.weights.h5"))
    fresh = model()
    fresh.optimizer.build(fresh.trainable_variables)
    with warnings.catch_warnings():
        warnings.simplefilter("error", Notice)  # the last epoch's file is whole: no fall-back
        assert found.restore(fresh) == 2
    for restored, expected in zip(fresh.get_weights(), saved):
        np.testing.assert_array_equal(restored, expected)


@pytest.mark.parametrize("size", ["empty", "100 bytes", "half"])
def test_a_truncated_last_weights_file_falls_back_to_the_epoch_before_with_a_notice(fitted, size):
    folder = fitted / "backup"
    epoch_2 = weights_in(folder / "epoch-0002.weights.h5")
    last = folder / "epoch-0003.weights.h5"
    contents = last.read_bytes()
    last.write_bytes({"empty": b"", "100 bytes": contents[:100], "half": contents[: len(contents) // 2]}[size])
    fresh = model()
    fresh.optimizer.build(fresh.trainable_variables)
    with pytest.warns(Notice, match=rf"the backup of the last epoch cannot be read \({last} .*\); resuming from the epoch before it\."):
        assert read_backup(folder).restore(fresh) == 2
    for restored, expected in zip(fresh.get_weights(), epoch_2):
        np.testing.assert_array_equal(restored, expected)


def test_a_fit_resumes_from_the_epoch_before_a_truncated_one(fitted):
    (fitted / "backup" / "epoch-0003.weights.h5").write_bytes(b"")
    seen = EpochsSeen()
    with pytest.warns(Notice, match="resuming from the epoch before it"):
        history = training.fit(model(), *data(), CONFIG, fitted, callbacks=[seen])
    assert seen.epochs == [2] and len(history["loss"]) == 3


def test_metadata_that_cannot_be_read_is_named_with_how_to_start_over(tmp_path):
    for contents in ('{"epoch": 3, "weig', "", "garbage", '{"weights": ["a.weights.h5"]}', "[3]", '{"epoch": "three"}'):
        (tmp_path / METADATA).write_text(contents)
        with pytest.raises(BackupError) as raised:
            read_backup(tmp_path)
        message = str(raised.value)
        assert message.startswith(f"{tmp_path / METADATA}: the backup this run was killed with cannot be read ("), contents
        assert "Start over with --fresh (fresh=True in Python), or choose another run name." in message
        assert isinstance(raised.value, InputError)


def test_both_weights_files_damaged_are_named_with_how_to_start_over(fitted):
    folder = fitted / "backup"
    for name in ("epoch-0003.weights.h5", "epoch-0002.weights.h5"):
        (folder / name).write_bytes(b"not hdf5 at all")
    fresh = model()
    fresh.optimizer.build(fresh.trainable_variables)
    with pytest.raises(BackupError) as raised:
        read_backup(folder).restore(fresh)
    message = str(raised.value)
    assert message.startswith("the backup this run was killed with cannot be read: ")
    assert str(folder / "epoch-0003.weights.h5") in message and str(folder / "epoch-0002.weights.h5") in message
    assert message.endswith("Start over with --fresh (fresh=True in Python), or choose another run name.")
    with pytest.raises(BackupError, match="--fresh"):
        training.fit(model(), *data(), CONFIG, fitted)


@pytest.mark.filterwarnings("ignore:Skipping variable loading for optimizer")
def test_weights_that_do_not_fit_the_model_count_as_damaged(tmp_path):
    other = keras.Sequential([keras.Input((5,)), keras.layers.Dense(4)])
    other.save_weights(tmp_path / "epoch-0001.weights.h5")
    (tmp_path / METADATA).write_text(json.dumps({"epoch": 1, "weights": ["epoch-0001.weights.h5"]}))
    fresh = model()
    fresh.optimizer.build(fresh.trainable_variables)
    with pytest.raises(BackupError, match=r"epoch-0001.weights.h5 \((ValueError|KeyError)"):
        read_backup(tmp_path).restore(fresh)


def test_a_backup_keras_wrote_is_read_and_restored(tmp_path):
    train, validation = data()
    network = model()
    network.fit(train, validation_data=validation, epochs=2, verbose=0, shuffle=False,
                callbacks=[keras.callbacks.BackupAndRestore(str(tmp_path), delete_checkpoint=False)])
    metadata = json.loads((tmp_path / METADATA).read_text())
    assert "weights" not in metadata and (tmp_path / KERAS_WEIGHTS).is_file()
    backup = read_backup(tmp_path)
    assert (backup.epoch, backup.weights) == (2, (KERAS_WEIGHTS,))
    fresh = model()
    fresh.optimizer.build(fresh.trainable_variables)
    assert backup.restore(fresh) == 2
    for restored, expected in zip(fresh.get_weights(), network.get_weights()):
        np.testing.assert_array_equal(restored, expected)


def test_no_metadata_is_no_backup(tmp_path):
    assert read_backup(tmp_path) is None
    assert read_backup(tmp_path / "missing") is None
