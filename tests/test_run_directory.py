"""Run directories: written atomically, never over what is not ours, one writer per name, resumed only as started, checked on load."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import toolkit
from tests.fixtures import releases
from toolkit import run_directory, training
from toolkit.config_upgrades import CONFIG_SCHEMA
from toolkit.models.task import TaskModel
from toolkit.run_directory import RunDirectoryError
from toolkit_cli import run as main

SMOKE = Path(__file__).resolve().parents[1] / "configs" / "sentiment_smoke.yaml"
TINY = ["trainer.epochs=1", "data.max_examples=300"]


def crash(*args, **kwargs):
    raise RuntimeError("disk full")


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    return toolkit.run("sentiment", SMOKE, TINY, run_name="tiny", output_dir=tmp_path_factory.mktemp("runs"))


@pytest.fixture
def task(finished):
    return finished.trained_run


def contents(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def a_users_folder(path: Path) -> Path:
    path.mkdir(parents=True)
    (path / "thesis.tex").write_text("years of work")
    return path


# Writing atomically.


def test_export_writes_a_finished_run(task, tmp_path):
    run_dir = task.export(tmp_path / "exported", metrics={"note": 1})
    assert sorted(p.name for p in run_dir.iterdir()) == ["config.yaml", "metrics.json", "model.keras", "run.json", "serving"]
    manifest = json.loads((run_dir / "run.json").read_text())
    assert manifest["format"] == "toolkit-run" and manifest["format_version"] == run_directory.FORMAT_VERSION
    assert manifest["pipeline"] == "sentiment" and manifest["task"]["class_names"] == ["negative", "positive"]
    assert manifest["files"]["model.keras"]["bytes"] == (run_dir / "model.keras").stat().st_size
    assert toolkit.load(run_dir).model.class_names == ["negative", "positive"]


def test_a_crash_mid_export_keeps_the_earlier_run_and_leaves_no_debris(task, tmp_path, monkeypatch):
    run_dir = task.export(tmp_path / "run", metrics={"version": 1})
    before = contents(run_dir)

    monkeypatch.setattr(TaskModel, "export_serving", crash)
    with pytest.raises(RuntimeError, match="disk full"):
        task.export(run_dir, metrics={"version": 2})

    assert contents(run_dir) == before
    assert [p.name for p in tmp_path.iterdir()] == ["run"], "no staging folder or lock is left behind"


def test_a_crash_before_the_first_export_leaves_nothing(task, tmp_path, monkeypatch):
    monkeypatch.setattr(TaskModel, "export_serving", crash)
    with pytest.raises(RuntimeError, match="disk full"):
        task.export(tmp_path / "fresh")
    assert list(tmp_path.iterdir()) == []


def test_exporting_over_a_finished_run_replaces_it(task, tmp_path):
    run_dir = task.export(tmp_path / "run", metrics={"version": 1})
    task.export(run_dir, metrics={"version": 2})
    assert json.loads((run_dir / "metrics.json").read_text()) == {"version": 2}
    assert [p.name for p in tmp_path.iterdir()] == ["run"]


def test_staging_folders_left_by_a_killed_export_are_removed_by_the_next_run_of_that_name(task, tmp_path):
    # What a process killed during export leaves: a marked staging folder with part of a run in it.
    killed = tmp_path / ".run.staging-0123abcd"
    killed.mkdir()
    (killed / ".toolkit-staging").touch()
    (killed / "model.keras").write_bytes(b"PK\x03\x04 half a zip")
    not_ours = a_users_folder(tmp_path / ".run.staging-89abcdef")
    other_run = tmp_path / ".other.staging-0123abcd"
    other_run.mkdir()
    (other_run / ".toolkit-staging").touch()

    task.export(tmp_path / "run")

    assert not killed.exists()
    assert contents(not_ours) == {"thesis.tex": b"years of work"}, "an unmarked folder is not ours to remove"
    assert other_run.exists(), "another run name's leftovers are its own"


def test_a_run_left_out_of_place_by_a_crash_mid_replace_is_put_back(task, tmp_path):
    # A crash between the two renames of a replace: the old run retired, the new one complete in staging.
    run_dir = task.export(tmp_path / "run", metrics={"version": 1})
    new_run = task.export(tmp_path / "new", metrics={"version": 2})
    run_dir.rename(tmp_path / ".run.retired-0123abcd")
    new_run.rename(tmp_path / ".run.staging-89abcdef")

    with run_directory.claim(run_dir):
        pass

    assert json.loads((run_dir / "metrics.json").read_text()) == {"version": 2}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"], "the replaced run is removed, as the replace would have"
    assert toolkit.load(run_dir).model.class_names == ["negative", "positive"]


# Never over what is not ours.


@pytest.mark.parametrize("run_name", ["/tmp/some/folder", "../../escaped", "a/b", "..", ".hidden", "x y", ""])
def test_a_run_name_that_is_not_a_plain_name_is_refused(run_name, tmp_path):
    output_dir = tmp_path / "saved_models"
    with pytest.raises(RunDirectoryError, match="a run name is not a path"):
        toolkit.run("sentiment", SMOKE, TINY, run_name=run_name, output_dir=output_dir)
    assert list(tmp_path.iterdir()) == [], "nothing is written anywhere"


def test_an_absolute_run_name_on_the_command_line_exits_2_and_leaves_the_folder_alone(tmp_path, capsys):
    folder = a_users_folder(tmp_path / "important")
    assert main(["run", "sentiment", "--config", str(SMOKE), "--run-name", str(folder), "--output-dir", str(tmp_path)]) == 2
    assert "a run name is not a path" in capsys.readouterr().err
    assert contents(folder) == {"thesis.tex": b"years of work"}


def test_a_run_into_a_folder_that_is_not_a_finished_run_is_refused_before_training(tmp_path):
    folder = a_users_folder(tmp_path / "sentiment" / "mine")
    with pytest.raises(RunDirectoryError, match="exists and is not a finished toolkit run"):
        toolkit.run("sentiment", SMOKE, TINY, run_name="mine", output_dir=tmp_path)
    assert contents(folder) == {"thesis.tex": b"years of work"}
    assert sorted(p.name for p in folder.parent.iterdir()) == ["mine"], "no work folder or lock is left"


def test_a_finished_run_holding_a_users_files_is_not_replaced(task, tmp_path, capsys):
    run_dir = task.export(tmp_path / "sentiment" / "mine", metrics={"version": 1})
    (run_dir / "plots").mkdir(exist_ok=True)
    (run_dir / "plots" / "my_notes.txt").write_text("keep me")
    with pytest.raises(RunDirectoryError, match=r"also holds files toolkit did not write \(plots/my_notes.txt\)"):
        task.export(run_dir, metrics={"version": 2})
    assert main(["run", "sentiment", "--config", str(SMOKE), "--run-name", "mine", "--output-dir", str(tmp_path)]) == 2
    assert "replacing the run would delete them" in capsys.readouterr().err
    assert (run_dir / "plots" / "my_notes.txt").read_text() == "keep me"
    assert json.loads((run_dir / "metrics.json").read_text()) == {"version": 1}


def test_export_onto_a_folder_that_is_not_ours_is_refused(task, tmp_path):
    folder = a_users_folder(tmp_path / "important")
    with pytest.raises(RunDirectoryError, match="exists and is not a finished toolkit run"):
        task.export(folder)
    assert contents(folder) == {"thesis.tex": b"years of work"}


def test_fine_tune_output_onto_a_users_folder_or_its_own_source_exits_2_and_changes_nothing(finished, tmp_path, capsys):
    csv = tmp_path / "new.csv"
    pd.DataFrame({"text": ["loved it", "hated it"] * 5, "label": ["positive", "negative"] * 5}).to_csv(csv, index=False)
    folder = a_users_folder(tmp_path / "important")
    source_before = contents(finished.run_dir)

    assert main(["fine-tune", str(finished.run_dir), "--data", str(csv), "--output", str(folder)]) == 2
    assert "exists and is not a finished toolkit run" in capsys.readouterr().err
    assert main(["fine-tune", str(finished.run_dir), "--data", str(csv), "--output", str(finished.run_dir)]) == 2
    assert "that is the run being fine-tuned" in capsys.readouterr().err

    assert contents(folder) == {"thesis.tex": b"years of work"}
    assert contents(finished.run_dir) == source_before


def test_a_loaded_task_will_not_export_over_the_run_it_came_from(finished):
    task = toolkit.load(finished.run_dir)
    with pytest.raises(RunDirectoryError, match="that is the run being fine-tuned"):
        task.export(finished.run_dir)


def test_fine_tune_output_inside_its_own_source_is_refused(finished):
    with pytest.raises(RunDirectoryError, match="that is the run being fine-tuned, or a folder inside it"):
        toolkit.load(finished.run_dir).export(finished.run_dir / "tuned")
    assert not (finished.run_dir / "tuned").exists()


def test_a_run_of_an_earlier_format_is_named_and_left_alone(task, tmp_path):
    earlier = tmp_path / "old"
    earlier.mkdir()
    (earlier / "metadata.json").write_text("{}")
    with pytest.raises(RunDirectoryError, match="an earlier toolkit wrote it, without a run.json"):
        task.export(earlier)
    assert [p.name for p in earlier.iterdir()] == ["metadata.json"]


def test_an_output_folder_that_cannot_hold_runs_is_named(tmp_path, capsys):
    not_a_folder = tmp_path / "runs"
    not_a_folder.write_text("a file")
    assert main(["run", "sentiment", "--config", str(SMOKE), "--output-dir", str(not_a_folder), "--run-name", "x"]) == 2
    error = capsys.readouterr().err
    assert f"{not_a_folder / 'sentiment'}: cannot write a run there" in error and "Traceback" not in error


# One writer per run name.


def test_a_second_run_of_a_name_being_written_is_refused(tmp_path):
    run_dir = tmp_path / "sentiment" / "busy"
    with run_directory.claim(run_dir):
        with pytest.raises(RunDirectoryError, match=r"another toolkit process \(pid \d+\) is running or writing a run"):
            toolkit.run("sentiment", SMOKE, TINY, run_name="busy", output_dir=tmp_path)
    assert not run_dir.exists()
    assert list(run_dir.parent.iterdir()) == [], "the lock is removed when released"


# Resumed only as started.


def interrupted(tmp_path: Path, config_overrides: list[str], fingerprint: str = "data") -> Path:
    """Leaves what a run killed during training leaves: its work folder, recording its config and data."""
    config = toolkit.api.resolve_config("sentiment", SMOKE, config_overrides)
    run_dir = tmp_path / "sentiment" / "killed"
    with run_directory.claim(run_dir) as slot:
        return slot.work("sentiment", config, fingerprint).root


def test_an_interrupted_run_started_again_with_another_config_is_refused_with_the_differences(tmp_path):
    work = interrupted(tmp_path, TINY)
    for overrides, difference in (
        (["trainer.learning_rate=0.05"], "trainer.learning_rate: 0.005 (now 0.05)"),
        (["model.recurrent.units=64"], "model.recurrent.units: 16 (now 64)"),
    ):
        with pytest.raises(RunDirectoryError, match="was interrupted") as raised:
            toolkit.run("sentiment", SMOKE, TINY + overrides, run_name="killed", output_dir=tmp_path)
        message = str(raised.value)
        assert difference in message and str(work) in message and "--fresh" in message
    assert (work / "work.json").is_file(), "the interrupted run is kept"


def test_other_data_under_the_same_config_is_a_difference_too(tmp_path):
    work = interrupted(tmp_path, TINY, fingerprint="other data")
    config = toolkit.api.resolve_config("sentiment", SMOKE, TINY)
    with run_directory.claim(work.parent / "killed") as slot:
        with pytest.raises(RunDirectoryError, match="started with other training or validation data"):
            slot.work("sentiment", config, "data")


def test_fresh_discards_the_interrupted_run_and_starts_over(tmp_path):
    interrupted(tmp_path, ["trainer.learning_rate=0.05", *TINY])
    result = toolkit.run("sentiment", SMOKE, TINY, run_name="killed", output_dir=tmp_path, fresh=True)
    assert result.metrics["epochs_trained"] == {"recurrent": 1, "ngram_bag": 1}
    assert sorted(p.name for p in result.run_dir.parent.iterdir()) == ["killed"]


def test_a_run_killed_after_its_first_branch_does_not_fit_that_branch_again(tmp_path, monkeypatch):
    real_fit, fitted, kept = training.fit, [], {}

    def fit_then_die(network, *args, **kwargs):
        if fitted:
            raise KeyboardInterrupt  # killed while fitting the second branch
        fitted.append(network.name)
        history = real_fit(network, *args, **kwargs)
        kept["embedding"] = network.get_layer("embedding").get_weights()[0].copy()
        return history

    monkeypatch.setattr(training, "fit", fit_then_die)
    with pytest.raises(KeyboardInterrupt):
        toolkit.run("sentiment", SMOKE, TINY, run_name="killed", output_dir=tmp_path)
    assert fitted == ["recurrent_branch"]

    def counted_fit(network, *args, **kwargs):
        fitted.append(network.name)
        return real_fit(network, *args, **kwargs)

    monkeypatch.setattr(training, "fit", counted_fit)
    result = toolkit.run("sentiment", SMOKE, TINY, run_name="killed", output_dir=tmp_path)
    assert fitted == ["recurrent_branch", "ngram_bag_branch"]
    # The recurrent branch is the one its fit ended with, not a fresh one.
    np.testing.assert_array_equal(result.trained_run.network.get_layer("embedding").get_weights()[0], kept["embedding"])
    assert result.metrics["epochs_trained"] == {"recurrent": 1, "ngram_bag": 1}
    assert set(result.metrics["test"]["branches"]) == {"recurrent", "ngram_bag"}


def test_a_hidden_work_folder_without_our_record_is_left_alone(tmp_path):
    folder = a_users_folder(tmp_path / "sentiment" / ".killed.work")
    with pytest.raises(RunDirectoryError, match="not known to be an interrupted run of ours"):
        toolkit.run("sentiment", SMOKE, TINY, run_name="killed", output_dir=tmp_path, fresh=True)
    assert contents(folder) == {"thesis.tex": b"years of work"}


# Checked on load.


@pytest.fixture
def copied_run(finished, tmp_path):
    return Path(shutil.copytree(finished.run_dir, tmp_path / "copy"))


def test_a_truncated_model_is_named_as_truncated(copied_run):
    model = copied_run / "model.keras"
    size = model.stat().st_size
    model.write_bytes(model.read_bytes()[: size // 2])
    with pytest.raises(RunDirectoryError, match=rf"model.keras: truncated or edited: {size // 2} bytes, but {size} were written"):
        toolkit.load(copied_run)


def test_an_edited_config_is_named(copied_run):
    config = copied_run / "config.yaml"
    config.write_text(config.read_text().replace("learning_rate: 0.005", "learning_rate: 0.009"))  # the same size
    with pytest.raises(RunDirectoryError, match="config.yaml: damaged or edited"):
        toolkit.load(copied_run)


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda run: (run / "run.json").unlink(), "is not a finished toolkit run: run.json is missing"),
        (lambda run: (run / "run.json").write_text('{"format": "toolkit-run", "format_ver'), r"run.json: not valid JSON"),
        (
            lambda run: (run / "run.json").write_text(json.dumps({"format": "toolkit-run", "format_version": 0})),
            "run.json: format version 0; this toolkit reads formats 1, 2",
        ),
        (
            lambda run: ((run / "run.json").unlink(), (run / "metadata.json").write_text("{}")),
            "was written by an earlier toolkit",
        ),
        (lambda run: (run / "model.keras").unlink(), "model.keras: missing from the run directory"),
        (
            lambda run: (run / "run.json").write_text(json.dumps({"format": "toolkit-run", "format_version": 1, "files": []})),
            r"run.json: records no size and checksum for config.yaml",
        ),
        (
            lambda run: (run / "run.json").write_text(
                json.dumps({**json.loads((run / "run.json").read_text()), "pipeline": ["sentiment"]})
            ),
            r"run.json: \"pipeline\" should name a pipeline, got \['sentiment'\]",
        ),
    ],
    ids=["no manifest", "unparsable manifest", "unknown format version", "earlier format", "no model", "no checksums",
         "no pipeline name"],
)
def test_a_damaged_run_names_the_file_and_the_fault(copied_run, damage, message):
    damage(copied_run)
    with pytest.raises(RunDirectoryError, match=message):
        toolkit.load(copied_run)


def test_the_command_line_reports_a_damaged_run_without_a_traceback(copied_run, capsys):
    (copied_run / "model.keras").write_bytes(b"")
    assert main(["predict", str(copied_run), "good film"]) == 2
    error = capsys.readouterr().err
    assert error.startswith("toolkit predict: error: ") and "model.keras: truncated or edited: 0 bytes" in error
    assert "Traceback" not in error


@pytest.mark.parametrize(("format_version", "schema"), [(2, CONFIG_SCHEMA + 1), (3, CONFIG_SCHEMA)])
def test_a_run_of_a_newer_toolkit_is_refused_with_both_versions_and_upgrade_toolkit(copied_run, format_version, schema):
    manifest = json.loads((copied_run / "run.json").read_text())
    manifest.update(format_version=format_version, config_schema=schema, toolkit_version="9.9.9")
    (copied_run / "run.json").write_text(json.dumps(manifest))
    message = (
        rf"{copied_run} was written by toolkit 9\.9\.9 in config schema {schema}; this is toolkit {toolkit.__version__}, "
        rf"which reads config schemas up to {CONFIG_SCHEMA}\. Upgrade toolkit to open it\."
    )
    with pytest.raises(RunDirectoryError, match=message):
        toolkit.load(copied_run)
    assert main(["predict", str(copied_run), "good film"]) == 2


def test_a_finished_run_records_its_toolkit_and_config_schema(finished):
    manifest = json.loads((finished.run_dir / "run.json").read_text())
    assert (manifest["format_version"], manifest["config_schema"]) == (2, CONFIG_SCHEMA)
    assert manifest["toolkit_version"] == toolkit.__version__
    assert (finished.run_dir / "config.yaml").read_text().count(f"config_schema: {CONFIG_SCHEMA}\n") == 1


def test_a_run_killed_by_the_previous_release_resumes_on_this_one(tmp_path):
    recorded = releases.LATEST / "interrupted"
    shutil.copytree(recorded / "stock", tmp_path / "stock")
    overrides = json.loads((recorded / "overrides.json").read_text())
    work = tmp_path / "stock" / ".run.work"
    done = len(json.loads((work / "history.json").read_text())["loss"])
    assert done == 1, "killed after its first epoch"

    # Toolkit 0.1 had no serving limits: run again as it was, the upgraded config is the same.
    with pytest.raises(RunDirectoryError, match=r"serving\.max_batch: None \(now 1024\)"):
        toolkit.run("stock", overrides=overrides, run_name="run", output_dir=tmp_path)
    result = toolkit.run("stock", overrides={**overrides, "serving.max_batch": None}, run_name="run", output_dir=tmp_path)
    history = json.loads((result.run_dir / "history.json").read_text())
    assert len(history["loss"]) == overrides["trainer.epochs"] == 3
    assert history["loss"][0] == json.loads((recorded / "stock" / ".run.work" / "history.json").read_text())["loss"][0]
    assert not work.exists() and sorted(p.name for p in (tmp_path / "stock").iterdir()) == ["run"]


def test_a_run_killed_by_the_previous_release_is_refused_when_resumed_with_another_config(tmp_path):
    recorded = releases.LATEST / "interrupted"
    shutil.copytree(recorded / "stock", tmp_path / "stock")
    overrides = {**json.loads((recorded / "overrides.json").read_text()), "model.recurrent.units": 5}
    with pytest.raises(RunDirectoryError, match=r"model\.recurrent\.units: 4 \(now 5\)"):
        toolkit.run("stock", overrides=overrides, run_name="run", output_dir=tmp_path)
