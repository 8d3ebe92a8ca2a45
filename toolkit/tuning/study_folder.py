"""The study folder `saved_models/<pipeline>/<study>/`: its trials, its default run, and what the search found.

| name | what |
|---|---|
| `trial-NNNN/` | each trial, an ordinary run (`toolkit.run(..., group=<study>)`) |
| `default/` | the search's starting config, trained once as an ordinary run: what the best trial is compared with |
| `study.json` | every trial's values, validation metric, state and time; the best trial; the test comparison |
| `best.yaml` | the best trial's full config; `toolkit run <pipeline> --config best.yaml` trains it again |
| `plots/` | the optimisation history, each searched key against the metric, and the keys' importances |
| `journal.log` | the Optuna journal the study lives in (unless `--storage` names a database) |

`study.json` marks the folder as a study of toolkit's, and is written
before any trial. A folder of that name that is not one is refused, never
changed. Files are written beside their place and renamed into it; of the
trials, only their models are ever removed (`run_directory.remove_models`).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from toolkit import config as config_lib
from toolkit import run_directory, strict_json
from toolkit.run_directory import RunDirectoryError

FORMAT = "toolkit-study"
FORMAT_VERSION = 1
STUDY_RECORD = "study.json"
BEST_CONFIG = "best.yaml"
PLOTS = "plots"
JOURNAL = "journal.log"
DEFAULT_RUN = "default"
# `--keep best` keeps the models of this many trials, the best by the validation metric.
KEPT_BEST = 3
KEEP_CHOICES = ("best", "all", "none")


def trial_run_name(number: int) -> str:
    """The run name of Optuna's trial `number`: `trial-0007`."""
    return f"trial-{number:04d}"


def study_path(output_dir: str | Path, pipeline: str, study: str) -> Path:
    """`output_dir/<pipeline>/<study>`, after checking that the study's name is a plain name."""
    return run_directory.run_path(output_dir, pipeline, study)


def is_study_folder(folder: Path) -> bool:
    """Whether `folder` is a real folder whose `study.json` names toolkit's study format."""
    if folder.is_symlink() or not folder.is_dir():
        return False
    try:
        return json.loads((folder / STUDY_RECORD).read_text()).get("format") == FORMAT
    except (OSError, ValueError, AttributeError):
        return False


def claim(folder: Path, pipeline: str, study: str) -> Path:
    """Makes `folder` a study folder, or checks that it is one already; returns it.

    Raises:
        RunDirectoryError: If something else is there: a finished run, a file,
            or a folder without a `study.json` of ours that is not empty.
    """
    if is_study_folder(folder):
        return folder
    if folder.exists() or folder.is_symlink():
        not_ours = folder.is_symlink() or not folder.is_dir() or run_directory.is_finished_run(folder)
        if not_ours or _holds_more_than_a_lock(folder):
            raise RunDirectoryError(
                f"{folder} exists and is not a toolkit study (no {STUDY_RECORD} of ours in it); it is left as it is. "
                "Choose another study name (--study) or output folder, or move it away."
            )
    folder.mkdir(parents=True, exist_ok=True)
    with lock(folder):
        if not is_study_folder(folder):
            marker = {"format": FORMAT, "format_version": FORMAT_VERSION, "pipeline": pipeline, "study": study}
            write_json(folder / STUDY_RECORD, marker)
    return folder


@contextlib.contextmanager
def lock(folder: Path, name: str = "study") -> Iterator[None]:
    """An exclusive `flock` on `folder/.lock-<name>`, waited for: processes of one study take turns.

    Not `.<name>.lock`, the name of a run's own lock (see `run_directory.claim`).
    """
    descriptor = os.open(folder / f".lock-{name}", os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o644)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)  # releases the lock


def write_json(path: Path, values: Any) -> None:
    """Writes JSON beside `path`, then renames it into place: a reader never sees half of it."""
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(strict_json.dumps(values, indent=2))
    partial.replace(path)


def write_best_config(folder: Path, pipeline: str, config: Any, trial_name: str, metric_line: str) -> Path:
    """Writes the best trial's resolved config as `best.yaml`, with a comment that says where it is from."""
    path = folder / BEST_CONFIG
    partial = path.with_name(f".{path.name}.partial")
    config_lib.save_config(
        config, partial, comment=f"The best trial of this study so far, {trial_name}: {metric_line}.\n"
        f"Train it again, as an ordinary run, with\n  toolkit run {pipeline} --config {path}"
    )
    partial.replace(path)
    return path


def has_models(run_dir: Path) -> bool:
    """Whether `run_dir` is a finished run here that still holds its model."""
    return run_directory.is_finished_run(run_dir) and (run_dir / run_directory.MODEL).is_file()


def models_to_keep(ranked_runs: list[str], keep: str, final: bool) -> set[str]:
    """The trials whose models `keep` keeps, from the completed trials' runs, best first.

    `best` keeps the first `KEPT_BEST`, `all` every one. `none` keeps the best
    one until the search's end (`final`), so that it can be compared with the
    default config on the test split, and then none.
    """
    if keep == "all":
        return set(ranked_runs)
    if keep == "best":
        return set(ranked_runs[:KEPT_BEST])
    return set() if final else set(ranked_runs[:1])


def remove_models_except(folder: Path, trial_names: list[str], kept: set[str]) -> tuple[list[str], dict[str, str]]:
    """Removes the models of the trials of `trial_names` run here, but those in `kept`.

    Returns:
        The names whose models were removed, and by name, why the others that
        should have been were not (one being written by another process now,
        say, which a later pass removes; or one holding files of someone else's).
    """
    removed, left = [], {}
    for name in trial_names:
        if name in kept or not has_models(folder / name):
            continue
        try:
            run_directory.remove_models(folder / name)
        except RunDirectoryError as error:
            left[name] = str(error)
            continue
        removed.append(name)
    return removed, left


def _holds_more_than_a_lock(folder: Path) -> bool:
    return any(entry.name != ".lock-study" for entry in folder.iterdir())
