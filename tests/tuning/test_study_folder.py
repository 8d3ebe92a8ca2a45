"""The study folder: ours before any trial, what is not ours left alone, files written whole, only models removed."""

from __future__ import annotations

import json
import threading
import time

import pytest

from toolkit import run_directory
from toolkit.run_directory import RunDirectoryError
from toolkit.tuning import study_folder
from toolkit.tuning.study_folder import claim, is_study_folder, lock, remove_models_except, study_path, trial_run_name


def test_a_new_study_folder_is_marked_as_ours(tmp_path):
    folder = claim(study_path(tmp_path, "stock", "first"), "stock", "first")
    assert folder == tmp_path / "stock" / "first"
    assert json.loads((folder / "study.json").read_text()) == {
        "format": "toolkit-study", "format_version": 1, "pipeline": "stock", "study": "first",
    }
    assert is_study_folder(folder) and claim(folder, "stock", "first") == folder


def test_a_study_name_is_a_plain_name(tmp_path):
    with pytest.raises(RunDirectoryError, match=r"run name '\.\./elsewhere': expected a plain name"):
        study_path(tmp_path, "stock", "../elsewhere")


@pytest.mark.parametrize("content", ["notes.txt", "run.json", "file"])
def test_a_folder_that_is_not_a_study_is_refused_and_left_as_it_is(tmp_path, content):
    folder = tmp_path / "stock" / "mine"
    if content == "file":
        folder.parent.mkdir(parents=True)
        folder.write_text("a file")
    else:
        folder.mkdir(parents=True)
        (folder / content).write_text(json.dumps({"format": "toolkit-run"}))
    with pytest.raises(RunDirectoryError) as refused:
        claim(folder, "stock", "mine")
    assert str(refused.value) == (
        f"{folder} exists and is not a toolkit study (no study.json of ours in it); it is left as it is. Choose another "
        "study name (--study) or output folder, or move it away."
    )
    assert not (folder.is_dir() and (folder / "study.json").exists())


def test_an_empty_folder_becomes_a_study(tmp_path):
    folder = tmp_path / "empty"
    folder.mkdir()
    assert is_study_folder(claim(folder, "stock", "empty"))


def test_files_are_written_whole_and_nothing_partial_stays(tmp_path):
    study_folder.write_json(tmp_path / "study.json", {"a": float("nan"), "b": [1, 2]})
    assert json.loads((tmp_path / "study.json").read_text()) == {
        "a": None, "a_undefined": "not a finite number (nan): the computation had no defined value", "b": [1, 2],
    }
    assert [path.name for path in tmp_path.iterdir()] == ["study.json"]


def test_the_study_locks_are_not_the_names_of_run_locks(tmp_path):
    with lock(tmp_path), lock(tmp_path, "default"):
        names = sorted(path.name for path in tmp_path.iterdir())
    assert names == [".lock-default", ".lock-study"]
    assert all(not name.endswith(".lock") for name in names)  # `.<run-name>.lock` is a run's own


def test_processes_take_turns_on_the_lock(tmp_path):
    order = []

    def hold(name: str) -> None:
        with lock(tmp_path):
            order.append(f"{name} in")
            time.sleep(0.2)
            order.append(f"{name} out")

    threads = [threading.Thread(target=hold, args=(name,)) for name in ("a", "b")]
    for thread in threads:
        thread.start()
        time.sleep(0.05)
    for thread in threads:
        thread.join()
    assert order == ["a in", "a out", "b in", "b out"]


def test_trial_run_names_sort_in_the_order_trials_ran():
    assert [trial_run_name(number) for number in (0, 7, 1234)] == ["trial-0000", "trial-0007", "trial-1234"]


def finished_run(run_dir):
    """A finished run as `run.json` describes one, its model and serving export stand-ins, without training."""
    (run_dir / "serving").mkdir(parents=True)
    files = {"model.keras": "model", "serving/saved_model.pb": "export", "config.yaml": "a: 1\n", "metrics.json": "{}"}
    for name, text in files.items():
        (run_dir / name).write_text(text)
    contents = sorted(str(path.relative_to(run_dir)) for path in run_dir.rglob("*") if path.is_file())
    manifest = {"format": "toolkit-run", "format_version": 2, "contents": contents, "files": {}}
    (run_dir / "run.json").write_text(json.dumps(manifest))
    return run_dir


def test_removing_models_keeps_every_config_and_metrics_and_the_kept_trials_models(tmp_path):
    names = [trial_run_name(number) for number in range(4)]
    for name in names[:3]:
        finished_run(tmp_path / name)
    removed, left = remove_models_except(tmp_path, names, {"trial-0001"})
    assert removed == ["trial-0000", "trial-0002"] and left == {}
    for name in names[:3]:
        assert (tmp_path / name / "config.yaml").is_file() and (tmp_path / name / "metrics.json").is_file()
        assert run_directory.read_manifest(tmp_path / name).get("models_removed", False) is (name != "trial-0001")
    assert study_folder.has_models(tmp_path / "trial-0001") and not (tmp_path / "trial-0000" / "serving").exists()
    assert remove_models_except(tmp_path, names, set()) == (["trial-0001"], {})


def test_a_run_holding_someone_elses_file_keeps_its_models_and_says_why(tmp_path):
    finished_run(tmp_path / "trial-0000")
    (tmp_path / "trial-0000" / "mine.txt").write_text("not toolkit's")
    removed, left = remove_models_except(tmp_path, ["trial-0000"], set())
    assert removed == [] and "it also holds files toolkit did not write (mine.txt)" in left["trial-0000"]
    assert study_folder.has_models(tmp_path / "trial-0000")


@pytest.mark.parametrize(
    ("keep", "final", "kept"),
    [
        ("best", False, {"trial-0004", "trial-0001", "trial-0003"}),
        ("best", True, {"trial-0004", "trial-0001", "trial-0003"}),
        ("all", True, {"trial-0004", "trial-0001", "trial-0003", "trial-0000", "trial-0002"}),
        ("none", False, {"trial-0004"}),
        ("none", True, set()),
    ],
)
def test_keep_best_keeps_the_best_three_and_none_keeps_the_best_until_the_end(keep, final, kept):
    ranked_runs = ["trial-0004", "trial-0001", "trial-0003", "trial-0000", "trial-0002"]
    assert study_folder.models_to_keep(ranked_runs, keep, final) == kept
