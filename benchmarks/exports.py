"""Portable exports of finished runs, measured: conversion, size, latency against the SavedModel, int8 quality.

For each run directory given (a copy of it is exported, so the run itself is
left as it is):

- conversion: the seconds `toolkit export` takes for ONNX and for LiteRT
  (with --quantize), checks included, and the size of the model files;
- latency: the median wall time of one call at batch 1 and at batch 64, of
  the SavedModel's `serving_default` and of `portable.py`'s `predict` over
  ONNX Runtime and over LiteRT, from the same raw inputs (texts, windows,
  images, prompts), in this one process, interleaved; and their ratios to
  the SavedModel's (below 1: faster);
- quality on the run's own test split (at most --examples of it): the
  classifiers' accuracy and the forecaster's mean absolute error of log
  changes, for the SavedModel, ONNX, LiteRT and LiteRT int8; for captioning
  and text generation, the share of greedy answers equal to the SavedModel's.

Run from the repository root:

    .venv/bin/python benchmarks/exports.py saved_models/sentiment/RUN saved_models/image_classification/RUN ...

It prints markdown tables, and writes them to benchmarks/results/exports.md.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import tensorflow as tf

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pipelines  # noqa: F401
import toolkit
from toolkit.export import export_run

RESULTS = Path(__file__).resolve().parent / "results" / "exports.md"


def portable_model(folder: Path, int8: bool = False):
    """The export's own `portable.py`, loaded from its folder, and its model."""
    spec = importlib.util.spec_from_file_location(f"portable_{folder.name}_{int8}", folder / "portable.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.load(folder, int8=int8)


def test_inputs(trained, count: int) -> tuple[np.ndarray, np.ndarray | None]:
    """Up to `count` raw test inputs of the run's own test split, and their targets (`None` for text generation)."""
    test = trained.pipeline.load_data(trained.config).test
    if trained.pipeline.name == "text_generation":
        text = str(test.text)
        prompts = [text[start : start + 20] for start in range(0, min(len(text) - 20, 400 * count), 400)][:count]
        return np.array(prompts, dtype=object), None
    inputs = test.inputs[:count]
    return (
        np.array(inputs, dtype=object) if np.asarray(inputs).dtype.kind in "OU" else np.asarray(inputs)
    ), test.targets[:count]


def saved_model_call(run: Path, pipeline: str, length: int | None):
    serving = tf.saved_model.load(str(run / "serving")).signatures["serving_default"]
    if pipeline == "text_generation":
        return lambda batch: serving(
            prompt=tf.constant(batch.tolist()),
            length=tf.constant(length),
            temperature=tf.constant(0.0),
            top_k=tf.constant(0),
            seed=tf.constant(0),
        )
    name = next(iter(serving.structured_input_signature[1]))
    return lambda batch: serving(**{name: tf.constant(batch.tolist() if batch.dtype == object else batch)})


def median_seconds(call, batch, repeats: int) -> float:
    call(batch)  # warm-up: the first call traces, allocates and loads
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        call(batch)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def quality(pipeline: str, answers: dict, targets, reference: dict, class_names) -> float:
    """Accuracy (%) for classifiers; MAE of log changes for stock; % of greedy answers equal to `reference` otherwise."""
    if pipeline in ("sentiment", "image_classification"):
        return 100 * float(np.mean(np.asarray(answers["label"]).astype(str) == np.asarray(class_names)[targets]))
    if pipeline == "stock":
        return float(np.mean(np.abs(np.asarray(answers["log_changes"]) - targets)))
    key = "greedy_caption" if pipeline == "captioning" else "text"
    return 100 * float(np.mean(np.asarray(answers[key]).astype(str) == np.asarray(reference[key]).astype(str)))


def in_batches(call, inputs: np.ndarray, size: int = 64) -> dict:
    parts = [call(inputs[start : start + size]) for start in range(0, len(inputs), size)]
    return {name: np.concatenate([np.asarray(part[name]) for part in parts]) for name in parts[0]}


def strings(outputs: dict) -> dict:
    return {
        name: np.array([v.decode() if isinstance(v, bytes) else v for v in np.asarray(value).ravel()]).reshape(
            np.shape(value)
        )
        for name, value in outputs.items()
    }


def measure(run: Path, examples: int, repeats: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="toolkit-export-bench-") as folder:
        copy = Path(folder) / run.name
        shutil.copytree(run, copy, ignore=shutil.ignore_patterns("onnx", "litert", "logs", "plots"))
        manifest = json.loads((copy / "run.json").read_text())
        manifest.pop("exports", None)
        manifest["contents"] = sorted(
            str(p.relative_to(copy)) for p in copy.rglob("*") if p.is_file() and p.name != "run.json"
        )
        (copy / "run.json").write_text(json.dumps(manifest))
        trained = toolkit.load(copy)
        pipeline = trained.pipeline.name
        row = {"run": f"{pipeline} ({run.name})", "pipeline": pipeline}
        for export_format in ("onnx", "litert"):
            started = time.perf_counter()
            written = export_run(copy, export_format, quantize=export_format == "litert", model=trained.model)
            row[f"{export_format}_seconds"] = time.perf_counter() - started
            spec = json.loads((written / "spec.json").read_text())
            row[f"{export_format}_bytes"] = sum(
                (written / entry["file"]).stat().st_size for entry in spec["models"].values()
            )
            if export_format == "litert":
                row["int8_bytes"] = sum(
                    (written / entry["int8_file"]).stat().st_size for entry in spec["models"].values()
                )
        length = json.loads((copy / "onnx" / "spec.json").read_text()).get("length")
        saved_model = saved_model_call(copy, pipeline, length)
        runtimes = {
            "SavedModel": lambda batch: strings(saved_model(batch)),
            "ONNX Runtime": portable_model(copy / "onnx").predict,
            "LiteRT": portable_model(copy / "litert").predict,
            "LiteRT int8": portable_model(copy / "litert", int8=True).predict,
        }
        inputs, targets = test_inputs(trained, examples)
        for batch_size in (1, 64):
            batch = inputs[:batch_size]
            for name in ("SavedModel", "ONNX Runtime", "LiteRT"):
                row[f"{name} ms at {batch_size}"] = 1000 * median_seconds(runtimes[name], batch, repeats)
        reference = in_batches(runtimes["SavedModel"], inputs)
        class_names = getattr(trained.model, "class_names", None)
        for name, call in runtimes.items():
            answers = reference if name == "SavedModel" else in_batches(call, inputs)
            row[f"{name} quality"] = quality(pipeline, answers, targets, reference, class_names)
        row["examples"] = len(inputs)
    return row


QUALITY = {
    "sentiment": "accuracy %",
    "image_classification": "accuracy %",
    "stock": "MAE of log changes",
    "captioning": "greedy captions equal to the SavedModel's, %",
    "text_generation": "greedy texts equal, %",
}


def tables(rows: list[dict]) -> str:
    lines = [
        "| run | ONNX: seconds | ONNX: model kB | LiteRT (+ int8): seconds | LiteRT kB | LiteRT int8 kB |",
        "|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {r['run']} | {r['onnx_seconds']:.1f} | {r['onnx_bytes'] / 1e3:,.0f} | {r['litert_seconds']:.1f} | "
        f"{r['litert_bytes'] / 1e3:,.0f} | {r['int8_bytes'] / 1e3:,.0f} |"
        for r in rows
    ]
    lines += [
        "",
        "| run | batch | SavedModel ms | ONNX Runtime ms (ratio) | LiteRT ms (ratio) |",
        "|---|---|---|---|---|",
    ]
    for r in rows:
        for batch in (1, 64):
            base = r[f"SavedModel ms at {batch}"]
            cells = [
                f"{r[f'{name} ms at {batch}']:.2f} ({r[f'{name} ms at {batch}'] / base:.2f})"
                for name in ("ONNX Runtime", "LiteRT")
            ]
            lines.append(f"| {r['run']} | {batch} | {base:.2f} | {' | '.join(cells)} |")
    lines += [
        "",
        "| run | examples | quality | SavedModel | ONNX Runtime | LiteRT | LiteRT int8 | int8 size / float |",
        "|---|---|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {r['run']} | {r['examples']} | {QUALITY[r['pipeline']]} | "
        + " | ".join(f"{r[f'{name} quality']:.4g}" for name in ("SavedModel", "ONNX Runtime", "LiteRT", "LiteRT int8"))
        + f" | {r['int8_bytes'] / r['litert_bytes']:.2f} |"
        for r in rows
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("runs", nargs="+", type=Path, help="finished run directories")
    parser.add_argument("--examples", type=int, default=2000, help="test examples for quality (default 2000)")
    parser.add_argument(
        "--repeats", type=int, default=20, help="timed calls per latency (default 20), after one warm-up"
    )
    args = parser.parse_args()
    print(f"threads: TensorFlow and ONNX Runtime defaults on {os.cpu_count()} cores; TensorFlow {tf.__version__}")
    rows = [measure(run, args.examples, args.repeats) for run in args.runs]
    text = tables(rows)
    print(text)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(text + "\n")


if __name__ == "__main__":
    main()
