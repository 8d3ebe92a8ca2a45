"""The run directory: its file names, its format version, and writing and reading it safely.

A finished run `saved_models/<pipeline>/<run-name>/` holds:

| name | what |
|---|---|
| `model.keras` | the task model, raw inputs in; `keras.saving.load_model` opens it after `import toolkit` |
| `serving/` | a SavedModel whose `serving_default` takes raw inputs |
| `config.yaml` | the resolved config; `toolkit run <pipeline> --config` takes it again |
| `metrics.json` | held-out metrics |
| `plots/`, `logs/`, `training_log.csv`, `history.json` | plots, TensorBoard logs and per-epoch logs |
| `onnx/`, `litert/` | portable exports, written when asked for (`write_export`) and listed in `run.json` under `exports` |
| `run.json` | written last: format and version, the toolkit version and config schema, pipeline, every file's name, and the size and SHA-256 of `model.keras`, `config.yaml` and `metrics.json`; it marks a finished run |

A run's models (`model.keras`, `serving/` and its exports) may be removed
later by `remove_models`, leaving its config, metrics, plots and logs: the
trials of a search keep only the best few models. Its `run.json` then says
`"models_removed": true`, and loading it says why it cannot.

While a run of that name is being written, hidden entries beside it belong to it:
`.<run-name>.lock` (held by the writing process), `.<run-name>.work/` (the
training state a killed run resumes from, with `work.json`: the config and
data it was started with), `.<run-name>.staging-<hex>/` (the next run
directory, renamed into place once complete) and `.<run-name>.retired-<hex>/`
(the finished run being replaced).

In a multi-worker run, only the chief claims the run name and writes these;
every other worker keeps its files in a temporary folder of its own (see
`worker_slot`), removed when it finishes, and resumes from the chief's work folder.

Nothing is deleted or replaced unless it is one of ours: a finished run (with
its `run.json`, and no file in it that `run.json` does not list), or a hidden
entry above that carries its own marker.

Runs of every earlier release load: format 1 (toolkit 0.1, without a config
schema) and format 2 are read, and the config is upgraded in memory to this
toolkit's schema (`toolkit.config_upgrades`). A run of a newer format or
schema is refused with both versions and "upgrade toolkit".
"""

from __future__ import annotations

import contextlib
import csv
import datetime
import errno
import fcntl
import hashlib
import json
import os
import re
import shutil
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import keras

from toolkit import config as config_lib
from toolkit import strict_json
from toolkit.config_upgrades import CONFIG_SCHEMA, newer_message, upgrade_config
from toolkit.errors import InputError
from toolkit.registry import get_pipeline

FORMAT = "toolkit-run"
# 2: run.json and config.yaml record the config schema (and config.yaml the toolkit version).
FORMAT_VERSION = 2
READABLE_FORMAT_VERSIONS = (1, 2)

MANIFEST = "run.json"
MODEL = "model.keras"
SERVING = "serving"
CONFIG = "config.yaml"
METRICS = "metrics.json"
PLOTS = "plots"
LOGS = "logs"
TRAINING_LOG = "training_log.csv"
HISTORY = "history.json"

# Files the manifest records, by size and SHA-256; loading checks each one it reads.
_RECORDED = (MODEL, CONFIG, METRICS)
_WORK_RECORD = "work.json"
_STAGING_MARKER = ".toolkit-staging"
_RUN_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,199}")
_HEX = "[0-9a-f]{8}"


class RunDirectoryError(InputError):
    """A run directory cannot be written or read as asked; the message names the path and the reason."""


def check_run_name(name: str) -> str:
    """Returns `name` if it is a plain run name.

    Raises:
        RunDirectoryError: For a path separator, `..`, an absolute path, a
            leading dot (the hidden names of runs in progress) or other characters.
    """
    if not isinstance(name, str) or not _RUN_NAME.fullmatch(name):
        raise RunDirectoryError(
            f"run name {name!r}: expected a plain name of up to 200 letters, digits, '.', '_' and '-' that starts "
            "with a letter or digit; a run name is not a path (no '/', no '..', nothing absolute)."
        )
    return name


def run_path(output_dir: str | Path, pipeline: str, run_name: str, group: str | None = None) -> Path:
    """`output_dir/<pipeline>/<run_name>`, or `output_dir/<pipeline>/<group>/<run_name>`, after checking both are plain names.

    A group gathers related runs, such as the trials of a hyperparameter search.
    """
    folder = Path(output_dir) / pipeline
    return (folder if group is None else folder / check_run_name(group)) / check_run_name(run_name)


@dataclass(frozen=True)
class TrainingFiles:
    """What the training loop keeps in a work folder: enough to resume a killed run, and its logs.

    Attributes:
        root: Where this process writes.
        chief_root: For a worker that is not the chief of a multi-worker
            run: the chief's work folder, which it resumes from and never
            writes. `None` for the chief and a single process.
    """

    root: Path
    chief_root: Path | None = None

    @property
    def resumes_from(self) -> TrainingFiles:
        """The folder whose backup, markers and weights a resumed run reads: the chief's."""
        return self if self.chief_root is None else TrainingFiles(self.chief_root)

    def _child(self, *parts: str) -> TrainingFiles:
        return TrainingFiles(self.root.joinpath(*parts), None if self.chief_root is None else self.chief_root.joinpath(*parts))

    @property
    def backup(self) -> Path:
        """`BackupAndRestore`'s state: the last finished epoch."""
        return self.root / "backup"

    @property
    def best_weights(self) -> Path:
        """The best epoch's weights by the monitored metric."""
        return self.root / "best.weights.h5"

    @property
    def history(self) -> Path:
        return self.root / HISTORY

    def read_history(self) -> dict[str, list[float]]:
        """The per-epoch logs recorded so far."""
        return json.loads(self.history.read_text())

    @property
    def fitted(self) -> Path:
        """Marks a branch whose fit ran to its end: a killed run, started again, loads its best weights instead."""
        return self.root / "fitted"

    @property
    def training_log(self) -> Path:
        return self.root / TRAINING_LOG

    @property
    def logs(self) -> Path:
        """TensorBoard's folder."""
        return self.root / LOGS

    @property
    def plots(self) -> Path:
        return self.root / PLOTS

    def fold(self, index: int) -> TrainingFiles:
        """The work folder of walk-forward fold `index`."""
        return self._child(f"fold_{index}")

    def branch(self, name: str) -> TrainingFiles:
        """The work folder of a branch fitted alone (see `gather_branches`)."""
        return self._child("branches", name)

    def gather_branches(self, names: list[str]) -> dict[str, list[float]]:
        """Gathers the branches' logs into this folder, as one run's, and returns the history.

        The history gets each branch's keys prefixed with its name, the CSV
        log a `branch` column, and the TensorBoard folder one sub-folder per
        branch.
        """
        history, rows = {}, []
        for name in names:
            branch = self.branch(name)
            history.update({f"{name}_{key}": values for key, values in branch.read_history().items()})
            if branch.training_log.is_file():
                with branch.training_log.open(newline="") as file:
                    rows += [{"branch": name, **row} for row in csv.DictReader(file)]
            if branch.logs.is_dir():
                shutil.copytree(branch.logs, self.logs / name, dirs_exist_ok=True)
        self.history.write_text(json.dumps(history))
        columns = list(dict.fromkeys(key for row in rows for key in row))
        with self.training_log.open("w", newline="") as file:
            writer = csv.DictWriter(file, columns)
            writer.writeheader()
            writer.writerows(rows)
        return history


@dataclass
class StoredRun:
    """A finished run, read back and checked.

    Attributes:
        directory: Where it was read from.
        pipeline: The name of the pipeline that made it.
        config: Its resolved config, an instance of that pipeline's config class.
        model: Its task model.
    """

    directory: Path
    pipeline: str
    config: Any
    model: keras.Model


def is_finished_run(path: str | Path) -> bool:
    """Whether `path` is a finished run of toolkit's: a real folder whose `run.json` names our format."""
    path = Path(path)
    if path.is_symlink() or not path.is_dir():
        return False
    try:
        return json.loads((path / MANIFEST).read_text()).get("format") == FORMAT
    except (OSError, ValueError, AttributeError):
        return False


def check_target(run_dir: str | Path, source: str | Path | None = None) -> Path:
    """Checks that a run may be written at `run_dir`, before any work is spent on it.

    Args:
        run_dir: Where the run would go.
        source: The run a fine-tuned task was loaded from, which it may not replace.

    Raises:
        RunDirectoryError: If `run_dir` is `source` or inside it, or exists
            and is not a finished run of toolkit's, or is one that also holds
            files toolkit did not write (a run is replaced whole).
    """
    run_dir = Path(run_dir)
    if source is not None and run_dir.resolve().is_relative_to(Path(source).resolve()):
        raise RunDirectoryError(
            f"{run_dir}: that is the run being fine-tuned, or a folder inside it; writing there would replace or "
            "change its model, metrics, plots and logs. Choose another output folder."
        )
    if (run_dir.exists() or run_dir.is_symlink()) and not is_finished_run(run_dir):
        earlier = (run_dir / "metadata.json").is_file() and not run_dir.is_symlink()
        raise RunDirectoryError(
            f"{run_dir} exists and is not a finished toolkit run "
            + ("of this format (an earlier toolkit wrote it, without a run.json)" if earlier else f"(no {MANIFEST} of ours in it)")
            + "; toolkit replaces only its own finished runs, so it is left as it is. Choose another name or "
            "folder, or move it away."
        )
    unrecorded = _unrecorded_files(run_dir) if run_dir.exists() else []
    if unrecorded:
        shown = ", ".join(unrecorded[:3]) + (f" and {len(unrecorded) - 3} more" if len(unrecorded) > 3 else "")
        raise RunDirectoryError(
            f"{run_dir} is a finished toolkit run, but it also holds files toolkit did not write ({shown}); "
            "replacing the run would delete them. Move them out, or choose another name or folder."
        )
    return run_dir


@contextlib.contextmanager
def claim(run_dir: str | Path, source: str | Path | None = None) -> Iterator[RunSlot]:
    """Holds the name `run_dir` for this process while a run is trained or written there.

    It refuses a target that is not ours (see `check_target`), takes the
    run name's lock (refusing while another process holds it), and cleans
    up after a crash of an earlier run of that name: a finished run that the
    crash left out of place is put back, and staging folders are removed.

    Yields:
        A `RunSlot`, through which the run is written.

    Raises:
        RunDirectoryError: If the target is not ours, its folder cannot be
            written, or another process is writing a run of that name.
    """
    run_dir = check_target(run_dir, source)
    with contextlib.ExitStack() as held:
        try:
            run_dir.parent.mkdir(parents=True, exist_ok=True)
            held.enter_context(_lock(run_dir))
        except OSError as error:
            raise RunDirectoryError(f"{run_dir.parent}: cannot write a run there ({error.strerror}).") from None
        check_target(run_dir, source)
        _recover_or_remove_leftovers(run_dir)
        yield RunSlot(run_dir)


@contextlib.contextmanager
def worker_slot(run_dir: str | Path, worker: str) -> Iterator[WorkerSlot]:
    """Where a worker that is not the chief of a multi-worker run keeps its files: a temporary folder, removed at the end.

    The chief holds `run_dir` (see `claim`) and writes the run; this worker
    writes nothing beside it, and resumes from the chief's work folder.

    Args:
        run_dir: The run the chief writes.
        worker: This worker's name, such as `"worker 1"`, for the folder's name.
    """
    with tempfile.TemporaryDirectory(prefix=f"toolkit-{worker.replace(' ', '-')}-") as folder:
        yield WorkerSlot(Path(run_dir), Path(folder))


def write_run(
    run_dir: str | Path,
    pipeline: str,
    config: Any,
    model: keras.Model,
    metrics: dict,
    source: str | Path | None = None,
) -> Path:
    """Claims `run_dir` and writes a finished run there (see `RunSlot.write`)."""
    with claim(run_dir, source) as slot:
        return slot.write(pipeline, config, model, metrics)


def _hidden(run_dir: Path, suffix: str) -> Path:
    """The hidden entry `.<run-name>.<suffix>` beside `run_dir`."""
    return run_dir.parent / f".{run_dir.name}.{suffix}"


class WorkerSlot:
    """A worker's temporary folder (see `worker_slot`)."""

    def __init__(self, run_dir: Path, folder: Path):
        self.run_dir = run_dir
        self.folder = folder

    def work(self, pipeline: str, config: Any, data_fingerprint: str, fresh: bool = False) -> TrainingFiles:
        """This worker's work folder, which resumes from the chief's.

        The arguments are those of `RunSlot.work`, and unused: the chief
        checks its work folder's record and removes it for `fresh`, and the
        workers check that they started alike (`distribution.start_together`).
        """
        return TrainingFiles(self.folder / "work", chief_root=_hidden(self.run_dir, "work"))


class RunSlot:
    """A run name this process holds (see `claim`): where its work folder is kept and its run is written."""

    def __init__(self, run_dir: Path):
        self.run_dir = run_dir

    def _hidden(self, suffix: str) -> Path:
        return _hidden(self.run_dir, suffix)

    def work(self, pipeline: str, config: Any, data_fingerprint: str, fresh: bool = False) -> TrainingFiles:
        """The work folder of this run: resumed if an interrupted run left one with the same config and data.

        Args:
            pipeline: The pipeline's name.
            config: The resolved config.
            data_fingerprint: `DataSplits.fingerprint()` of the data to train on.
            fresh: Discard an interrupted run's work folder instead of resuming it.

        Raises:
            RunDirectoryError: If the interrupted run was started with another
                config or other data (unless `fresh`), or if the folder does
                not carry toolkit's record.
        """
        root = self._hidden("work")
        record = {
            "pipeline": pipeline, "config": config_lib.to_dict(config), "config_schema": CONFIG_SCHEMA,
            "data": data_fingerprint,
        }
        if root.exists() or root.is_symlink():
            stored = _read_json_or_none(root / _WORK_RECORD) if root.is_dir() and not root.is_symlink() else None
            if not isinstance(stored, dict):
                raise RunDirectoryError(
                    f"{root} has no {_WORK_RECORD} of toolkit's, so it is not known to be an interrupted run of ours; it "
                    "is left as it is. Remove it yourself, or choose another run name."
                )
            if fresh:
                shutil.rmtree(root)
            elif (stored := _upgraded_record(stored)) != record:
                raise RunDirectoryError(
                    f"{self.run_dir.name!r} was interrupted and left {root} to resume from, but that run was started "
                    f"with {_differences(stored, record)}. Run it again as it was to resume it, add --fresh "
                    "(fresh=True in Python) to discard it and start over, or choose another run name."
                )
        root.mkdir(exist_ok=True)
        _write_json(root / _WORK_RECORD, record)
        return TrainingFiles(root)

    def write(
        self,
        pipeline: str,
        config: Any,
        model: keras.Model,
        metrics: dict,
        work: TrainingFiles | None = None,
        started: float | None = None,
    ) -> Path:
        """Writes the finished run, atomically, replacing an earlier finished run of this name.

        Everything is written into a hidden staging folder, `run.json` last,
        which is then renamed into place. A crash leaves the earlier run (or
        nothing) at `run_dir`, never a half-written one; the next run of this
        name removes the staging folder.

        Args:
            pipeline: The pipeline's name.
            config: The resolved config.
            model: The trained task model.
            metrics: Written to `metrics.json`.
            work: The run's work folder, whose plots and logs are copied in and
                which is removed once the run is in place.
            started: When the run started, by `time.perf_counter()`: `metrics`
                then gains `run_seconds`, the wall time from then to the
                finished export, before it is written.

        Returns:
            The run directory.
        """
        staging = self._hidden(f"staging-{uuid.uuid4().hex[:8]}")
        staging.mkdir()
        (staging / _STAGING_MARKER).touch()
        try:
            model.save(staging / MODEL)
            model.export_serving(staging / SERVING)
            config_lib.save_config(
                config, staging / CONFIG, comment=f"The resolved config of a {pipeline} run; train again with\n"
                f"  toolkit run {pipeline} --config {CONFIG}"
            )
            if started is not None:
                metrics["run_seconds"] = round(time.perf_counter() - started, 1)
            _write_json(staging / METRICS, metrics)
            if work is not None:
                for source, name in ((work.plots, PLOTS), (work.logs, LOGS)):
                    if source.is_dir():
                        shutil.copytree(source, staging / name)
                if work.training_log.is_file():
                    shutil.copy2(work.training_log, staging / TRAINING_LOG)
                if work.history.is_file():
                    _write_json(staging / HISTORY, work.read_history())
            _write_json(staging / MANIFEST, _manifest(staging, pipeline, model))
            (staging / _STAGING_MARKER).unlink()
            self._put_in_place(staging)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        if work is not None:
            shutil.rmtree(work.root, ignore_errors=True)
        return self.run_dir

    def _put_in_place(self, staging: Path) -> None:
        if not (self.run_dir.exists() or self.run_dir.is_symlink()):
            staging.rename(self.run_dir)
            return
        check_target(self.run_dir)
        retired = self._hidden(f"retired-{uuid.uuid4().hex[:8]}")
        self.run_dir.rename(retired)
        staging.rename(self.run_dir)
        shutil.rmtree(retired)


# Portable exports a run may hold, each a folder of its own in the run directory.
ONNX = "onnx"
LITERT = "litert"
EXPORT_FORMATS = (ONNX, LITERT)
# The run's own SavedModel (`serving/`), which an export copies into a folder of its own (never into the run).
SAVEDMODEL = "savedmodel"
# What a portable export written outside a run holds besides its files: what it is and where it came from.
EXPORT_MANIFEST = "export.json"


def write_export(
    run_dir: str | Path, export_format: str, write: Callable[[Path], dict], output: str | Path | None = None
) -> Path:
    """Writes an export of a finished run, atomically, into the run or into a folder of its own.

    The export is written into a hidden staging folder by `write`, then
    renamed into place: `run_dir/<export_format>/`, replacing an earlier
    export of that format and listed in `run.json` (under `exports`, with what
    `write` returned, and in `contents`); or `output`, a new folder (or an
    earlier export of ours there) holding the files and `export.json`.
    Nothing is left half-written; nothing that is not ours is replaced.

    Args:
        run_dir: The finished run to export.
        export_format: One of `EXPORT_FORMATS`, or `SAVEDMODEL` (a copy of
            `serving/`, only with `output`).
        write: Writes the export's files into the folder it is given and
            returns a JSON-ready description of them (recorded in `run.json`
            or `export.json`).
        output: A folder of its own for the export; `None` for the run's own.

    Returns:
        The export's folder.

    Raises:
        RunDirectoryError: If `run_dir` is not a finished run of ours, or
            `output` exists and is not an export of ours.
    """
    if export_format not in (*EXPORT_FORMATS, SAVEDMODEL):
        raise RunDirectoryError(f"export format {export_format!r}: expected one of {', '.join(EXPORT_FORMATS)}, {SAVEDMODEL}.")
    run_dir = Path(run_dir)
    if not is_finished_run(run_dir):
        raise RunDirectoryError(f"{run_dir}: not a finished toolkit run ({MANIFEST} of ours is missing), so nothing to export.")
    if output is not None:
        return _write_export_elsewhere(run_dir, export_format, write, Path(output))
    if export_format == SAVEDMODEL:
        raise RunDirectoryError(f"{run_dir}: its SavedModel is its {SERVING}/ folder; give an output folder to copy it elsewhere.")
    with claim(run_dir) as slot:
        staging = slot._hidden(f"staging-{uuid.uuid4().hex[:8]}")
        staging.mkdir()
        (staging / _STAGING_MARKER).touch()
        target = run_dir / export_format
        previous_manifest, retired = None, None
        try:
            described = write(staging)
            (staging / _STAGING_MARKER).unlink()
            # Listed before it is moved in: a process that dies between the two leaves run.json naming files that
            # are not there, never files of ours that it does not name (which toolkit would then never remove).
            previous_manifest = _read_json(run_dir / MANIFEST)
            manifest = _read_json(run_dir / MANIFEST)
            manifest.setdefault("exports", {})[export_format] = described
            others = [name for name in _contents(run_dir) if Path(name).parts[0] != export_format]
            manifest["contents"] = sorted([*others, *(str(Path(export_format, name)) for name in _contents(staging))])
            _write_json(run_dir / MANIFEST, manifest)
            if target.exists():
                retired = slot._hidden(f"retired-{uuid.uuid4().hex[:8]}")
                target.rename(retired)
                (retired / _STAGING_MARKER).touch()  # ours, to be removed even if this process dies now
            staging.rename(target)
        except BaseException:
            if staging.exists() and previous_manifest is not None:  # listed but not moved in: put back what was
                if retired is not None:
                    (retired / _STAGING_MARKER).unlink(missing_ok=True)
                    retired.rename(target)
                _write_json(run_dir / MANIFEST, previous_manifest)
            shutil.rmtree(staging, ignore_errors=True)
            raise
        if retired is not None:
            shutil.rmtree(retired)
    return target


def _write_export_elsewhere(run_dir: Path, export_format: str, write: Callable[[Path], dict], output: Path) -> Path:
    if output.resolve().is_relative_to(run_dir.resolve()):
        raise RunDirectoryError(f"{output}: inside the run being exported; export into the run with no --output.")
    if output.exists() or output.is_symlink():
        earlier = _read_json_or_none(output / EXPORT_MANIFEST) if output.is_dir() and not output.is_symlink() else None
        ours = earlier.get("export") in (*EXPORT_FORMATS, SAVEDMODEL) if isinstance(earlier, dict) else False
        if not (ours and earlier.get("format") == FORMAT):
            raise RunDirectoryError(
                f"{output} exists and is not an export of toolkit's (no {EXPORT_MANIFEST} of ours in it); toolkit "
                "replaces only its own exports, so it is left as it is. Choose another folder, or move it away."
            )
    output.parent.mkdir(parents=True, exist_ok=True)
    staging = output.parent / f".{output.name}.staging-{uuid.uuid4().hex[:8]}"
    staging.mkdir()
    try:
        described = write(staging)
        manifest = json.loads((run_dir / MANIFEST).read_text())
        _write_json(staging / EXPORT_MANIFEST, {
            "format": FORMAT, "export": export_format, "source": str(run_dir.resolve()),
            "pipeline": manifest.get("pipeline"), "toolkit_version": _toolkit_version(), **described,
        })
        if output.exists():
            retired = output.parent / f".{output.name}.retired-{uuid.uuid4().hex[:8]}"
            output.rename(retired)
            staging.rename(output)
            shutil.rmtree(retired)
        else:
            staging.rename(output)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return output


def remove_models(run_dir: str | Path) -> None:
    """Removes a finished run's models (`model.keras`, `serving/`, its exports), keeping its config, metrics, plots and logs.

    `run.json` is rewritten (atomically) to say so, so that the run stays a
    finished run of ours and loading it says why it has no model.

    Raises:
        RunDirectoryError: If `run_dir` is not a finished run of ours, or holds files toolkit did not write.
    """
    with claim(run_dir) as slot:
        run_dir = slot.run_dir
        manifest = _read_json(run_dir / MANIFEST)
        for name in (MODEL, SERVING, *EXPORT_FORMATS):
            path = run_dir / name
            if path.is_dir():
                shutil.rmtree(path)
            elif path.exists():
                path.unlink()
        manifest["models_removed"] = True
        manifest["files"] = {name: value for name, value in manifest.get("files", {}).items() if name != MODEL}
        manifest.pop("exports", None)
        manifest["contents"] = _contents(run_dir)
        _write_json(run_dir / MANIFEST, manifest)


def read_manifest(run_dir: str | Path) -> dict:
    """The `run.json` of a finished run, checked to be ours.

    Raises:
        RunDirectoryError: If it is missing or not a toolkit run manifest.
    """
    path = Path(run_dir) / MANIFEST
    if not path.is_file():
        raise RunDirectoryError(f"{run_dir} is not a finished toolkit run: {MANIFEST} is missing.")
    manifest = _read_json(path)
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise RunDirectoryError(f"{path}: not a toolkit run manifest (no \"format\": \"{FORMAT}\").")
    return manifest


def read_run(run_dir: str | Path) -> StoredRun:
    """Reads a finished run back, checking each file it reads.

    Raises:
        RunDirectoryError: Naming the file and what is wrong with it: missing,
            truncated or changed since it was written, unparsable, or from
            another format version.
        ConfigError: For a `config.yaml` that does not fit its pipeline's
            config, naming the file and the key.
    """
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise RunDirectoryError(f"{run_dir}: no such run directory.")
    manifest_path = run_dir / MANIFEST
    if not manifest_path.is_file():
        if (run_dir / "metadata.json").is_file():
            raise RunDirectoryError(
                f"{run_dir} was written by an earlier toolkit, before runs had a {MANIFEST} and a format version; "
                f"this toolkit reads format {FORMAT_VERSION}. Train it again."
            )
        raise RunDirectoryError(
            f"{run_dir} is not a finished toolkit run: {MANIFEST} is missing. It is written last, so the run was "
            "interrupted, or the folder is not a run."
        )
    manifest = _read_json(manifest_path)
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise RunDirectoryError(f"{manifest_path}: not a toolkit run manifest (no \"format\": \"{FORMAT}\").")
    format_version, schema = manifest.get("format_version"), manifest.get("config_schema")
    newer = (isinstance(format_version, int) and format_version > FORMAT_VERSION) or (
        isinstance(schema, int) and schema > CONFIG_SCHEMA
    )
    if newer:
        raise RunDirectoryError(
            f"{run_dir} was {newer_message(manifest.get('toolkit_version'), schema)} (Its run format is "
            f"{format_version}; this toolkit reads formats {', '.join(map(str, READABLE_FORMAT_VERSIONS))}.)"
        )
    if format_version not in READABLE_FORMAT_VERSIONS:
        raise RunDirectoryError(
            f"{manifest_path}: format version {format_version!r}; this toolkit reads formats "
            f"{', '.join(map(str, READABLE_FORMAT_VERSIONS))}."
        )
    if manifest.get("models_removed"):
        raise RunDirectoryError(
            f"{run_dir}: its models were removed to save space (a search's trial that was not among the best kept); "
            f"its {CONFIG} and {METRICS} remain. Train it again with `toolkit run <pipeline> --config {run_dir / CONFIG}`."
        )
    for name in (CONFIG, MODEL):
        _check_recorded_file(run_dir, name, manifest)
    pipeline_name = manifest.get("pipeline")
    if not isinstance(pipeline_name, str):
        raise RunDirectoryError(f"{manifest_path}: \"pipeline\" should name a pipeline, got {pipeline_name!r}.")
    try:
        pipeline = get_pipeline(pipeline_name)
    except KeyError as error:
        raise RunDirectoryError(f"{manifest_path}: {error.args[0]}") from None
    config = config_lib.load_config(pipeline.config_class, run_dir / CONFIG, complete=True, pipeline=pipeline_name)
    try:
        model = keras.saving.load_model(run_dir / MODEL)
    except Exception as error:  # Keras raises many kinds for a damaged archive; each is reported the same way.
        raise RunDirectoryError(f"{run_dir / MODEL}: cannot be loaded ({type(error).__name__}: {error}).") from None
    if not isinstance(model, pipeline.task_class):
        raise RunDirectoryError(
            f"{run_dir / MODEL}: holds a {type(model).__name__}, but {MANIFEST} names the {pipeline_name} pipeline, "
            f"whose task is a {pipeline.task_class.__name__}."
        )
    return StoredRun(run_dir, pipeline_name, config, model)


def _check_recorded_file(run_dir: Path, name: str, manifest: dict) -> None:
    path = run_dir / name
    files = manifest.get("files")
    recorded = files.get(name) if isinstance(files, dict) else None
    if not path.is_file():
        raise RunDirectoryError(f"{path}: missing from the run directory.")
    if not (isinstance(recorded, dict) and isinstance(recorded.get("bytes"), int) and isinstance(recorded.get("sha256"), str)):
        raise RunDirectoryError(f"{run_dir / MANIFEST}: records no size and checksum for {name} under \"files\".")
    size = path.stat().st_size
    if size != recorded["bytes"]:
        state = "truncated or edited" if size < recorded["bytes"] else "edited"
        raise RunDirectoryError(f"{path}: {state}: {size} bytes, but {recorded['bytes']} were written.")
    if _sha256(path) != recorded["sha256"]:
        raise RunDirectoryError(f"{path}: damaged or edited: its SHA-256 differs from the one recorded when it was written.")


def _toolkit_version() -> str:
    from toolkit import __version__

    return __version__


def _manifest(staging: Path, pipeline: str, model: keras.Model) -> dict:
    version = _toolkit_version()
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "pipeline": pipeline,
        "toolkit_version": version,
        "config_schema": CONFIG_SCHEMA,
        "written_at": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        # For people: nothing reads this back; the model carries the same facts in its config.
        "task": model.describe(),
        # Every file of the run, so that one a user adds later is not deleted with it.
        "contents": _contents(staging),
        "files": {
            name: {"bytes": (staging / name).stat().st_size, "sha256": _sha256(staging / name)} for name in _RECORDED
        },
    }


@contextlib.contextmanager
def _lock(run_dir: Path) -> Iterator[None]:
    """An exclusive `flock` on `.<run-name>.lock`, released (and the file removed) on exit or when the process dies."""
    path = run_dir.parent / f".{run_dir.name}.lock"
    while True:
        descriptor = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o644)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as error:
            os.close(descriptor)
            if error.errno not in (errno.EAGAIN, errno.EACCES):
                raise
            holder = _read_text_or_empty(path).strip() or "unknown"
            raise RunDirectoryError(
                f"{run_dir}: another toolkit process (pid {holder}) is running or writing a run of this name now. "
                "Wait for it to finish, or choose another run name."
            ) from None
        # The holder before us removes the file as it releases it; a lock on that removed
        # file guards nothing, so take the lock again on the file now at `path`.
        try:
            if os.fstat(descriptor).st_ino == os.stat(path).st_ino:
                break
        except FileNotFoundError:
            pass
        os.close(descriptor)
    try:
        os.ftruncate(descriptor, 0)
        os.write(descriptor, f"{os.getpid()}\n".encode())
        yield
    finally:
        with contextlib.suppress(FileNotFoundError):
            if os.stat(path).st_ino == os.fstat(descriptor).st_ino:
                path.unlink()
        os.close(descriptor)


def _recover_or_remove_leftovers(run_dir: Path) -> None:
    """Cleans up after a crash of an earlier run of this name, keeping every finished run.

    A crash between the two renames that replace a run leaves nothing at
    `run_dir`, the new run complete in its staging folder and the old one in
    its retired folder: the newest complete run is put back. Then staging
    folders (marked, or empty) and retired finished runs are removed.
    """
    pattern = re.compile(rf"\.{re.escape(run_dir.name)}\.(staging|retired)-{_HEX}")
    leftovers = [
        entry
        for entry in run_dir.parent.iterdir()
        if pattern.fullmatch(entry.name) and entry.is_dir() and not entry.is_symlink()
    ]
    if not (run_dir.exists() or run_dir.is_symlink()):
        finished = [entry for entry in leftovers if is_finished_run(entry)]
        if finished:
            # The new run, from staging, before the one it was replacing.
            newest = max(finished, key=lambda entry: (".staging-" in entry.name, entry.stat().st_mtime))
            (newest / _STAGING_MARKER).unlink(missing_ok=True)
            newest.rename(run_dir)
            leftovers.remove(newest)
    for entry in leftovers:
        if (entry / _STAGING_MARKER).is_file() or is_finished_run(entry) or not any(entry.iterdir()):
            shutil.rmtree(entry)


def _contents(folder: Path) -> list[str]:
    """Every file under `folder` but its `run.json`, as sorted relative paths: what a manifest's `contents` lists."""
    return sorted(str(path.relative_to(folder)) for path in folder.rglob("*") if path.is_file() and path.name != MANIFEST)


def _unrecorded_files(run_dir: Path) -> list[str]:
    """Files in a finished run that its `run.json` does not list: not ours to delete."""
    contents = _read_json(run_dir / MANIFEST).get("contents")
    # A list that cannot be read vouches for no file, so every file counts as not ours.
    recorded = {name for name in contents if isinstance(name, str)} if isinstance(contents, list) else set()
    present = (str(path.relative_to(run_dir)) for path in run_dir.rglob("*") if path.is_file() or path.is_symlink())
    return sorted(name for name in present if name not in recorded and name != MANIFEST)


def _upgraded_record(stored: dict) -> dict:
    """An interrupted run's record with its config upgraded to this toolkit's schema (toolkit 0.1 recorded none)."""
    if not (isinstance(stored.get("config"), dict) and isinstance(stored.get("pipeline"), str)):
        return stored
    try:
        config = upgrade_config(stored["pipeline"], stored["config"], stored.get("config_schema"))
    except InputError:
        return stored  # a newer toolkit's: its config differs, and the message says how
    return {**stored, "config": config, "config_schema": CONFIG_SCHEMA}


def _differences(then: dict, now: dict) -> str:
    if then.get("pipeline") != now.get("pipeline"):
        return f"the {then.get('pipeline')} pipeline"
    old, new = config_lib.dotted(then.get("config") or {}), config_lib.dotted(now["config"])
    changed = [key for key in dict.fromkeys([*old, *new]) if old.get(key) != new.get(key)]
    parts = [f"{key}: {old.get(key)!r} (now {new.get(key)!r})" for key in changed[:5]]
    if len(changed) > 5:
        parts.append(f"and {len(changed) - 5} more keys")
    if then.get("data") != now["data"]:
        parts.append("other training or validation data")
    return "another config: " + "; ".join(parts) if changed else "other training or validation data"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _write_json(path: Path, values) -> None:
    """Writes JSON through a temporary file renamed into place, so that a reader never sees half of it."""
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(strict_json.dumps(values, indent=2))
    partial.replace(path)


def _read_json(path: Path):
    try:
        return json.loads(path.read_text())
    except ValueError as error:
        raise RunDirectoryError(f"{path}: not valid JSON ({error}).") from None


def _read_json_or_none(path: Path):
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def _read_text_or_empty(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""
