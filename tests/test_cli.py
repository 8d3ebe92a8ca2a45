"""The command line: list, describe, run, predict, evaluate, fine-tune, errors, and resuming a killed run."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from tests.fixtures import releases
from toolkit_cli import run as main

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
SMOKE = ROOT / "configs" / "sentiment_smoke.yaml"


PIPELINES = ["captioning", "image_classification", "sentiment", "stock", "text_generation"]


def test_list_prints_the_pipelines(capsys):
    assert main(["list"]) == 0
    assert capsys.readouterr().out.split() == PIPELINES


@pytest.mark.parametrize("name", PIPELINES)
def test_describe_documents_every_key_of_each_pipeline(name, capsys):
    assert main(["describe", name]) == 0
    described = capsys.readouterr().out
    assert "learning_rate (float, default " in described and "serving:" in described and "max_batch (" in described


def cli_inputs(name: str, inputs: np.ndarray, folder: Path) -> list[str]:
    """A recorded run's inputs as the command line takes them: texts, image files, or one-ticker price CSVs."""
    if inputs.dtype.kind == "U":
        return [str(text) for text in inputs]
    paths = []
    for index, example in enumerate(inputs):
        if name == "stock":
            path = folder / f"window{index}.csv"
            days = pd.date_range("2020-01-01", periods=len(example), freq="D")
            frame = pd.DataFrame(example, columns=["Open", "High", "Low", "Close", "Volume"]).assign(Date=days)
            frame.to_csv(path, index=False)
        else:
            path = folder / f"image{index}.png"
            Image.fromarray(example).save(path)
        paths.append(str(path))
    return paths


@pytest.mark.parametrize("name", PIPELINES)
def test_predict_answers_as_each_pipelines_recorded_run_did(name, tmp_path, capsys):
    recorded = releases.LATEST / name
    run_dir = shutil.copytree(recorded / "run", tmp_path / "run")
    inputs = cli_inputs(name, np.load(recorded / "inputs.npy"), tmp_path)
    assert main(["predict", str(run_dir), *inputs]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    answers = np.load(recorded / "answers.npz")
    first = "label" if "label" in answers.files else "caption" if "caption" in answers.files else "text" if name == "text_generation" else "prices"
    expected, got = answers[first], [row[first] for row in rows]
    if first == "prices":
        np.testing.assert_allclose(got, expected, rtol=1e-4)
    else:
        assert got == [str(value) for value in expected]


def test_unknown_pipeline_and_bad_override_exit_2_with_the_reason(capsys):
    assert main(["run", "sentimnet"]) == 2
    assert "Unknown pipeline 'sentimnet'. Known pipelines:" in capsys.readouterr().err
    assert main(["run", "sentiment", "--set", "trainer.epochz=2"]) == 2
    assert "unknown key 'trainer.epochz'. Did you mean 'epochs'?" in capsys.readouterr().err


def test_missing_run_directory_is_named(capsys, tmp_path):
    assert main(["predict", str(tmp_path / "nowhere"), "good film"]) == 2
    assert "nowhere: no such run directory." in capsys.readouterr().err


def toolkit_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "toolkit_cli", *args]


@pytest.mark.slow
def test_run_predict_evaluate_and_fine_tune_from_the_shell(tmp_path):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    subprocess.run(
        toolkit_command("run", "sentiment", "--config", str(SMOKE), "--set", "trainer.epochs=1", "data.max_examples=600",
                        "--run-name", "cli", "--output-dir", str(tmp_path)),
        check=True, env=env, capture_output=True, text=True,
    )
    run_dir = tmp_path / "sentiment" / "cli"
    predicted = subprocess.run(
        toolkit_command("predict", str(run_dir), "a great film", "a dull film"),
        check=True, env=env, capture_output=True, text=True,
    ).stdout.strip().splitlines()
    rows = [json.loads(line) for line in predicted]
    assert [row["input"] for row in rows] == ["a great film", "a dull film"]
    assert all(row["label"] in ("negative", "positive") and 0.5 <= row["probability"] <= 1 for row in rows)

    csv = tmp_path / "new.csv"
    pd.DataFrame({"text": ["loved it", "hated it"] * 10, "label": ["positive", "negative"] * 10}).to_csv(csv, index=False)
    evaluated = subprocess.run(
        toolkit_command("evaluate", str(run_dir), "--data", str(csv)), check=True, env=env, capture_output=True, text=True
    )
    assert json.loads(evaluated.stdout)["examples"] == 20
    subprocess.run(
        toolkit_command("fine-tune", str(run_dir), "--data", str(csv), "--epochs", "1", "--output", str(tmp_path / "tuned")),
        check=True, env=env, capture_output=True, text=True,
    )
    assert (tmp_path / "tuned" / "serving" / "saved_model.pb").is_file()
    record = json.loads((tmp_path / "tuned" / "metrics.json").read_text())["fine_tune"]
    assert record["source"] == str(run_dir) and record["epochs_trained"] == {"recurrent": 1, "ngram_bag": 1}
    assert len(record["history"]["recurrent_loss"]) == len(record["history"]["ngram_bag_loss"]) == 1


@pytest.mark.slow
def test_a_killed_run_resumes_from_its_last_epoch_when_started_again_as_it_was(tmp_path):
    def run_command(*overrides: str) -> list[str]:
        return toolkit_command(
            # The recurrent network alone: one fit, whose epochs the resume continues.
            "run", "sentiment", "--config", str(SMOKE), "--set", "trainer.epochs=3", "model.ngram_bag.ngrams=0", *overrides,
            "--run-name", "resumable", "--output-dir", str(tmp_path),
        )

    command = run_command()
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    work_dir = tmp_path / "sentiment" / ".resumable.work"
    first = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 240
    while not (work_dir / "backup" / "training_metadata.json").exists():
        assert first.poll() is None, "the first run ended before it could be killed"
        assert time.monotonic() < deadline, "no backup after 240 s"
        time.sleep(0.05)
    first.send_signal(signal.SIGSTOP)  # paused mid-training: still holding the run name
    second = subprocess.run(command, env=env, capture_output=True, text=True)
    first.send_signal(signal.SIGKILL)
    first.wait()
    assert second.returncode == 2, second.stderr
    assert f"another toolkit process (pid {first.pid}) is running or writing a run of this name" in second.stderr
    killed_log = pd.read_csv(work_dir / "training_log.csv")
    assert list(killed_log["epoch"]) == [0]
    assert not (tmp_path / "sentiment" / "resumable").exists(), "a killed run leaves no run directory"

    other_config = subprocess.run(run_command("trainer.learning_rate=0.05"), env=env, capture_output=True, text=True)
    assert other_config.returncode == 2, other_config.stderr
    assert "trainer.learning_rate: 0.005 (now 0.05)" in other_config.stderr and "--fresh" in other_config.stderr
    assert "Traceback" not in other_config.stderr

    subprocess.run(command, env=env, check=True, capture_output=True)

    run_dir = tmp_path / "sentiment" / "resumable"
    log = pd.read_csv(run_dir / "training_log.csv")
    assert list(log["epoch"]) == [0, 1, 2], "epoch 0 ran once; the rerun continued with epochs 1 and 2"
    assert len(json.loads((run_dir / "history.json").read_text())["loss"]) == 3
    assert not work_dir.exists()
