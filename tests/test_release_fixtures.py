"""Runs that earlier releases wrote (tests/fixtures/runs/) load, answer as they did, evaluate, fine-tune and export on this one."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

import toolkit
from tests.fixtures import releases
from toolkit import run_directory
from toolkit.config_upgrades import CONFIG_SCHEMA

pytestmark = pytest.mark.slow

RUNS = [
    pytest.param(release, path.parent.name, id=f"{release}-{path.parent.name}")
    for release in releases.RELEASES
    for path in sorted((releases.RUNS / release).glob("*/run"))
]
# A few examples of each pipeline's data to fine-tune on (characters, for text generation).
FINE_TUNE_EXAMPLES = 16
FINE_TUNE_CHARACTERS = 4000


def assert_same_answers(recorded: np.lib.npyio.NpzFile, answers: dict) -> None:
    assert sorted(answers) == sorted(recorded.files)
    for name in recorded.files:
        if recorded[name].dtype.kind in "US":
            assert [str(value) for value in np.ravel(answers[name])] == [str(value) for value in np.ravel(recorded[name])], name
        else:
            np.testing.assert_allclose(answers[name], recorded[name], atol=1e-5, rtol=1e-5, err_msg=name)


def test_every_release_is_kept_and_listed():
    assert sorted(path.name for path in releases.RUNS.iterdir() if path.is_dir()) == sorted(releases.RELEASES)
    assert len(RUNS) >= 5 * len(releases.RELEASES) - 4  # text generation came with the fourth release kept


@pytest.mark.parametrize(("release", "pipeline"), RUNS)
def test_an_earlier_releases_run_loads_answers_evaluates_fine_tunes_and_exports(release, pipeline, tmp_path):
    recorded = releases.RUNS / release / pipeline
    run = shutil.copytree(recorded / "run", tmp_path / "run")  # the fixture itself is never written to
    trained = toolkit.load(run)
    assert trained.pipeline.name == pipeline

    inputs = np.load(recorded / "inputs.npy")
    assert_same_answers(np.load(recorded / "answers.npz"), trained.predict(inputs))

    data = trained.pipeline.load_data(trained.config)
    metrics = trained.evaluate()
    assert metrics, "the run's own test split, reloaded from its config"

    if pipeline == "text_generation":
        sample = data.train.text[:FINE_TUNE_CHARACTERS]
    else:
        sample = (data.train.inputs[:FINE_TUNE_EXAMPLES], data.train.targets[:FINE_TUNE_EXAMPLES])
    history = trained.fine_tune(sample, epochs=1, batch_size=8, validation_fraction=0.25)
    assert len(next(iter(history.values()))) == 1
    exported = trained.export(tmp_path / "tuned")
    assert run_directory.read_run(exported).pipeline == pipeline
    assert json.loads((exported / run_directory.MANIFEST).read_text())["config_schema"] == CONFIG_SCHEMA
    assert sorted(toolkit.load(exported).predict(inputs)) == sorted(np.load(recorded / "answers.npz").files)


def test_every_model_keras_opens_with_keras_loader_after_import_toolkit_and_answers_the_same(run_python):
    paths = [str(releases.RUNS / release / pipeline) for release, pipeline in (param.values for param in RUNS)]
    mismatches = run_python(
        f"""
        import json
        import keras
        import numpy as np
        import toolkit

        mismatches = []
        for folder in {paths!r}:
            model = keras.saving.load_model(folder + "/run/model.keras")
            answers = model.serve(np.load(folder + "/inputs.npy"))
            recorded = np.load(folder + "/answers.npz")
            for name in recorded.files:
                value = answers[name].numpy()
                same = (
                    [v.decode() for v in value.ravel()] == [str(v) for v in recorded[name].ravel()]
                    if value.dtype == object else np.allclose(value, recorded[name], atol=1e-5, rtol=1e-5)
                )
                if not same:
                    mismatches.append(folder + ": " + name)
        print(json.dumps(mismatches))
        """,
        allow_toolkit=True,
        timeout=600,
    )
    assert mismatches == []
