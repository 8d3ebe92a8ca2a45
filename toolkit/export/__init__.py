"""Portable exports of a finished run: ONNX and LiteRT model files beside the SavedModel, each proven equal to it.

`export_run(run_dir, "onnx")` (the `toolkit export` command) writes
`run_dir/onnx/`: the task's numeric cores as model files (numbers in,
numbers out), `spec.json` (the vocabulary, normalisation rules, class names
and decoding settings) and `portable.py`, a module that serves them with
ONNX Runtime or LiteRT and NumPy alone. See docs/exports.md.

Importing this package imports no converter or runtime: tf2onnx, ONNX
Runtime and LiteRT are imported when an export is written.
"""

from toolkit.export.exporter import FORMATS, export_run

__all__ = ["FORMATS", "export_run"]
