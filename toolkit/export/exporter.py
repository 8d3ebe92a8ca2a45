"""Exporting a finished run: `toolkit export RUN --format onnx|litert|savedmodel`, and `TrainedRun.export(format=...)`."""

from __future__ import annotations

import importlib.metadata
import json
import shutil
import time
from pathlib import Path

import tensorflow as tf

from toolkit import progress, run_directory
from toolkit.errors import InputError
from toolkit.export import portable
from toolkit.export.spec import task_spec
from toolkit.export.task_cores import task_cores
from toolkit.export.tokenizer_parity import check_tokenizer
from toolkit.models.task import TaskModel

FORMATS = (run_directory.ONNX, run_directory.LITERT, run_directory.SAVEDMODEL)
_EXTENSIONS = {run_directory.ONNX: ".onnx", run_directory.LITERT: ".tflite"}
# The packages each format's conversion and check use (besides TensorFlow), recorded with their versions.
_CONVERTERS = {run_directory.ONNX: ("tf2onnx", "onnx", "onnxruntime"), run_directory.LITERT: ("ai-edge-litert",)}


def check_request(export_format: str, quantize: bool = False) -> None:
    """Refuses an unknown format, or `quantize` for a format without an int8 variant, before any work.

    Raises:
        InputError: Naming the format and what is taken.
    """
    if export_format not in FORMATS:
        raise InputError(f"export format {export_format!r}: expected one of {', '.join(FORMATS)}.")
    if quantize and export_format != run_directory.LITERT:
        raise InputError(
            f"quantize: the int8 variant is made for litert exports (dynamic-range quantization); a {export_format} "
            "export has none. Drop --quantize, or export with --format litert."
        )


def export_run(
    run_dir: str | Path,
    export_format: str,
    output: str | Path | None = None,
    quantize: bool = False,
    model: TaskModel | None = None,
) -> Path:
    """Exports a finished run as ONNX or LiteRT (into `run_dir/onnx/` or `run_dir/litert/`, or `output`), or copies
    its SavedModel to `output`.

    A portable export holds each model file of the task's numeric cores
    (`model`, or `encoder` and `step`, or `step`), `spec.json` (vocabulary,
    normalisation rules, class names, decoding settings) and `portable.py`,
    which serves them without TensorFlow. Each model file is checked in its
    own runtime against TensorFlow before anything is put in place; a text
    classifier's `spec.json` is checked against its in-graph preprocessor.

    Args:
        run_dir: A finished run.
        export_format: `onnx`, `litert` or `savedmodel`.
        output: A folder of its own for the export, with `export.json`;
            `None` writes a portable export into the run, listed in its `run.json`.
        quantize: For `litert`, also write each model's int8 variant (`*.int8.tflite`).
        model: The run's own task model, already loaded (as `TrainedRun` has
            it); `None` loads it from `run_dir`.

    Returns:
        The export's folder (for `savedmodel` without `output`, the run's own `serving/`).

    Raises:
        InputError: For an unknown format, or `quantize` with another format than `litert`.
        ExportRefusedError: For a task or an op that the format cannot carry,
            or a converted model that answers otherwise than TensorFlow, named.
        RunDirectoryError: If `run_dir` is not a finished run, or `output` is not a new folder or an export of ours.
    """
    check_request(export_format, quantize)
    run_dir = Path(run_dir)
    if export_format == run_directory.SAVEDMODEL:
        run_directory.read_manifest(run_dir)
        if output is None:
            return run_dir / run_directory.SERVING
        return run_directory.write_export(run_dir, export_format, lambda folder: _copy_serving(run_dir, folder), output)
    if model is None:
        model = run_directory.read_run(run_dir).model
    cores, spec = task_cores(model), task_spec(model)
    if spec["task"] == "text_classifier":
        check_tokenizer(model, spec["text"])

    def write(folder: Path) -> dict:
        from toolkit.export import litert_format, onnx_format

        started = time.perf_counter()
        models = {}
        for core in cores:
            path = folder / f"{core.name}{_EXTENSIONS[export_format]}"
            with progress.step(f"converting {core.part} to {export_format} and checking it against TensorFlow"):
                if export_format == run_directory.ONNX:
                    models[core.name] = onnx_format.convert(core, path)
                else:
                    models[core.name] = litert_format.convert(core, path, quantize)
        document = {
            "format": portable.SPEC_FORMAT,
            "version": portable.SPEC_VERSION,
            "runtime": export_format,
            **spec,
            "models": models,
        }
        (folder / portable.SPEC).write_text(json.dumps(document, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        shutil.copyfile(portable.__file__, folder / "portable.py")
        return {
            "task": spec["task"],
            "models": {
                name: {key: value for key, value in entry.items() if key not in ("inputs", "outputs")}
                for name, entry in models.items()
            },
            "files": {
                path.name: path.stat().st_size
                for path in sorted(folder.iterdir())
                if path.is_file() and not path.name.startswith(".")
            },
            "quantized": quantize,
            "converters": {
                "tensorflow": tf.__version__,
                **{name: _version(name) for name in _CONVERTERS[export_format]},
            },
            "seconds": round(time.perf_counter() - started, 1),
        }

    return run_directory.write_export(run_dir, export_format, write, output)


def _copy_serving(run_dir: Path, folder: Path) -> dict:
    shutil.copytree(run_dir / run_directory.SERVING, folder, dirs_exist_ok=True)
    return {"files": sorted(str(path.relative_to(folder)) for path in folder.rglob("*") if path.is_file())}


def _version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "unknown"
