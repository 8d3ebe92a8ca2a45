"""`toolkit export` and `TrainedRun.export(format=...)`: where exports go, what run.json and export.json record,
the SavedModel's copy, and refusals that leave everything as it was."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import tensorflow as tf

import toolkit
from tests.fixtures.releases import LATEST
from toolkit import run_directory
from toolkit.errors import ExportRefusedError, InputError
from toolkit.export import onnx_format
from toolkit_cli import run as main


@pytest.fixture
def run(tmp_path):
    """A copy of the recorded text generation run: the quickest to convert."""
    import pipelines  # noqa: F401

    shutil.copytree(LATEST / "text_generation" / "run", tmp_path / "run")
    return tmp_path / "run"


@pytest.mark.slow
def test_exports_are_written_into_the_run_and_listed_in_its_run_json(exported_runs):
    run = exported_runs["sentiment"]
    exports = json.loads((run / "run.json").read_text())["exports"]
    assert sorted(exports) == ["litert", "onnx"]
    assert sorted(exports["onnx"]["files"]) == ["model.onnx", "portable.py", "spec.json"]
    assert sorted(exports["litert"]["files"]) == ["model.int8.tflite", "model.tflite", "portable.py", "spec.json"]
    assert exports["onnx"]["models"]["model"]["largest_difference"] <= 1e-4
    assert exports["litert"]["models"]["model"]["batch"] == 1 and exports["litert"]["quantized"]
    assert exports["onnx"]["task"] == "text_classifier" and "tf2onnx" in exports["onnx"]["converters"]
    assert sorted(path.name for path in (run / "onnx").iterdir()) == ["model.onnx", "portable.py", "spec.json"]
    run_directory.check_target(run)  # every file is listed: the run is still wholly ours
    assert isinstance(toolkit.load(run).model, toolkit.models.TextClassifier)
    spec = json.loads((run / "onnx" / "spec.json").read_text())
    assert (spec["runtime"], spec["task"], sorted(spec["models"]["model"]["inputs"])) == (
        "onnx",
        "text_classifier",
        ["ngram_ids", "token_ids"],
    )


@pytest.mark.slow
def test_the_command_exports_to_a_folder_of_its_own_with_an_export_json(run, tmp_path, capsys):
    output = tmp_path / "exported"
    assert main(["export", str(run), "--format", "onnx", "--output", str(output)]) == 0
    printed = capsys.readouterr().out
    assert printed.startswith(f"onnx export written to {output}: export.json (") and ", step.onnx (" in printed
    assert sorted(path.name for path in output.iterdir()) == ["export.json", "portable.py", "spec.json", "step.onnx"]
    record = json.loads((output / "export.json").read_text())
    assert (record["export"], record["pipeline"], record["task"]) == ("onnx", "text_generation", "text_generator")
    assert "exports" not in json.loads((run / "run.json").read_text())
    assert main(["export", str(run), "--format", "onnx", "--output", str(output)]) == 0  # an export of ours: replaced


def test_the_saved_model_is_the_runs_own_and_is_copied_only_to_a_folder_of_its_own(tmp_path, capsys):
    run = tmp_path / "run"
    shutil.copytree(LATEST / "image_classification" / "run", run)
    assert main(["export", str(run), "--format", "savedmodel"]) == 0
    assert capsys.readouterr().out == (
        f"The SavedModel of {run} is {run / 'serving'}; give --output DIR to copy it elsewhere.\n"
    )
    output = tmp_path / "saved_model"
    assert main(["export", str(run), "--format", "savedmodel", "--output", str(output)]) == 0
    assert json.loads((output / "export.json").read_text())["export"] == "savedmodel"
    serving = tf.saved_model.load(str(output)).signatures["serving_default"]
    images = np.load(LATEST / "image_classification" / "inputs.npy")
    expected = np.load(LATEST / "image_classification" / "answers.npz")["probabilities"]
    np.testing.assert_allclose(serving(images=tf.constant(images))["probabilities"], expected, atol=1e-6)


def test_mistakes_get_one_message_and_exit_2(run, tmp_path, capsys):
    assert main(["export", str(run), "--format", "onnx", "--quantize"]) == 2
    assert capsys.readouterr().err == (
        "toolkit export: error: quantize: the int8 variant is made for litert exports (dynamic-range quantization); "
        "a onnx export has none. Drop --quantize, or export with --format litert.\n"
    )
    assert main(["export", str(tmp_path / "missing"), "--format", "litert"]) == 2
    assert capsys.readouterr().err == f"toolkit export: error: {tmp_path / 'missing'}: no such run directory.\n"
    occupied = tmp_path / "occupied"
    occupied.mkdir()
    (occupied / "notes.txt").write_text("mine")
    assert main(["export", str(run), "--format", "onnx", "--output", str(occupied)]) == 2
    assert capsys.readouterr().err.startswith(
        f"toolkit export: error: {occupied} exists and is not an export of toolkit's (no export.json of ours in it)"
    )
    assert (occupied / "notes.txt").read_text() == "mine" and not (run / "onnx").exists()


def test_a_refused_conversion_leaves_the_run_and_its_earlier_export_as_they_were(run, monkeypatch):
    trained = toolkit.load(run)
    trained.export(format="onnx")
    manifest, model = (run / "run.json").read_text(), (run / "onnx" / "step.onnx").read_bytes()

    def refuse(core, path):
        path.write_bytes(b"half a model")
        raise ExportRefusedError(f"onnx: {core.part} holds SomeOp, which tf2onnx cannot convert.")

    monkeypatch.setattr(onnx_format, "convert", refuse)
    with pytest.raises(ExportRefusedError, match="onnx: the language model's step holds SomeOp"):
        trained.export(format="onnx")
    assert (run / "run.json").read_text() == manifest and (run / "onnx" / "step.onnx").read_bytes() == model
    assert sorted(path.name for path in run.parent.iterdir()) == ["run"]  # no staging or retired folder left


def test_an_export_that_fails_as_it_is_moved_in_leaves_the_run_json_and_earlier_export_as_they_were(run, monkeypatch):
    trained = toolkit.load(run)
    trained.export(format="onnx")
    manifest, model = (run / "run.json").read_text(), (run / "onnx" / "step.onnx").read_bytes()
    rename = type(run).rename

    def full_disk_for_staging(self, target):
        if self.name.startswith(".") and "staging" in self.name:
            raise OSError(28, "No space left on device")
        return rename(self, target)

    monkeypatch.setattr(type(run), "rename", full_disk_for_staging)
    with pytest.raises(OSError, match="No space left on device"):
        trained.export(format="onnx")
    monkeypatch.undo()
    assert (run / "run.json").read_text() == manifest and (run / "onnx" / "step.onnx").read_bytes() == model
    assert sorted(path.name for path in run.parent.iterdir()) == ["run"]  # no staging or retired folder left
    run_directory.check_target(run)  # every file is listed: the run is still wholly ours


def test_exporting_a_trained_run_in_a_format_needs_it_written_as_it_is(run):
    trained = toolkit.load(run)
    with pytest.raises(InputError, match=r"export\(format='onnx'\) exports this run where it is \(or to output=\)"):
        trained.export(run / "elsewhere", format="onnx")
    unwritten = toolkit.TrainedRun(trained.pipeline, trained.config, trained.model)
    with pytest.raises(InputError, match="and this one is not written yet. Write it first with export"):
        unwritten.export(format="litert")
    assert trained.export(format="savedmodel") == run / "serving"


@pytest.mark.slow
def test_a_run_fine_tuned_since_it_was_written_is_not_exported_as_its_directory_holds_it(run):
    trained = toolkit.load(run)
    trained.fine_tune("A text to read, and to learn to continue. " * 200, epochs=1)
    with pytest.raises(InputError, match="and this one was fine-tuned since it was written. Write it first"):
        trained.export(format="onnx")
    assert not (run / "onnx").exists()
