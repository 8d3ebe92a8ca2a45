"""Writing run directories atomically: model.keras, the serving SavedModel, config and metrics."""

from __future__ import annotations

import json
import shutil
import uuid
from pathlib import Path

import keras
import tensorflow as tf
import yaml

from toolkit import config as config_lib
from toolkit.task import Task

SERVING_DIR = "serving"


def export_serving(task: Task, path: str | Path) -> Path:
    """Exports a SavedModel whose `serving_default` takes raw inputs.

    All preprocessing runs inside the graph, and the outputs are named (for a
    classifier: `probabilities`, `probability` and `label`). Loading it needs
    TensorFlow only: `tf.saved_model.load(path).signatures["serving_default"]`.
    """
    model = task.model
    pipeline, metadata = task.pipeline, dict(task.metadata)

    @tf.function(input_signature=[pipeline.raw_input_spec(metadata)])
    def serve(raw_inputs):
        return pipeline.serving_outputs(model, raw_inputs, metadata)

    archive = keras.export.ExportArchive()
    archive.track(model)
    archive.add_endpoint("serving_default", serve)
    archive.write_out(str(path), verbose=False)
    return Path(path)


def write_run_dir(
    run_dir: Path,
    task: Task,
    metrics: dict,
    extra_dirs: dict[str, Path] | None = None,
    extra_files: dict[str, Path] | None = None,
) -> Path:
    """Writes a complete run directory, atomically.

    Everything is written into a hidden temporary folder beside `run_dir`,
    which is then renamed into place, replacing any earlier run of that name
    only once the new one is complete. A crash leaves the earlier run (or
    nothing) where `run_dir` is, never a half-written one.

    Args:
        run_dir: Where the run goes, usually `saved_models/<pipeline>/<run-name>`.
        task: The trained task.
        metrics: Written to `metrics.json`.
        extra_dirs: Folders to copy in, by their name in the run, such as `{"plots": ...}`.
        extra_files: Files to copy in, by their name in the run.

    Returns:
        `run_dir`.
    """
    run_dir = Path(run_dir)
    run_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = run_dir.parent / f".{run_dir.name}.staging-{uuid.uuid4().hex[:8]}"
    staging.mkdir()
    try:
        task.model.save(staging / "model.keras")
        export_serving(task, staging / SERVING_DIR)
        values = {"pipeline": task.pipeline.name, **config_lib.to_dict(task.config)}
        (staging / "config.yaml").write_text(yaml.safe_dump(values, sort_keys=False))
        (staging / "metadata.json").write_text(json.dumps(task.metadata, indent=2))
        (staging / "metrics.json").write_text(json.dumps(metrics, indent=2))
        for name, source in (extra_dirs or {}).items():
            if Path(source).is_dir():
                shutil.copytree(source, staging / name)
        for name, source in (extra_files or {}).items():
            if Path(source).is_file():
                shutil.copy2(source, staging / name)
        _replace_dir(staging, run_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return run_dir


def _replace_dir(new: Path, target: Path) -> None:
    """Renames `new` to `target`; an existing `target` is moved aside first, then removed."""
    if target.exists():
        retired = target.parent / f".{target.name}.retired-{uuid.uuid4().hex[:8]}"
        target.rename(retired)
        new.rename(target)
        shutil.rmtree(retired)
    else:
        new.rename(target)
