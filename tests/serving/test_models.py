"""The runs a server loads: names and versions, what each input takes (from the signature and the run), refusals."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import tensorflow as tf

from tests.serving.helpers import recorded_answers, recorded_inputs
from toolkit import run_directory
from toolkit.errors import InputError
from toolkit.serving.errors import NotFoundError, RequestError
from toolkit.serving.models import DEFAULT_SIGNATURE, load_models


def test_each_run_is_version_1_of_a_model_named_after_its_folder(served_models, run_copies):
    assert sorted(served_models) == sorted(run_copies)
    for name, model in served_models.items():
        assert list(model.versions) == [1] and model.latest.run_dir == run_copies[name]
        assert model.latest.pipeline == name


def test_inputs_are_read_from_the_signature_and_the_runs_record(served_models):
    inputs = {name: model.latest.signatures[DEFAULT_SIGNATURE].inputs for name, model in served_models.items()}
    assert (inputs["sentiment"]["text"].dtype, inputs["sentiment"]["text"].shape) == ("string", None)
    assert inputs["stock"]["windows"].dtype == "float32" and inputs["stock"]["windows"].image_shape is None
    assert inputs["image_classification"]["images"].image_shape == (28, 28)
    assert inputs["captioning"]["images"].image_shape == (64, 64, 3)
    generation = inputs["text_generation"]
    assert next(iter(generation)) == "prompt", "the batch first, then the settings"
    settings = {name: (spec.shape, spec.default) for name, spec in generation.items() if name != "prompt"}
    # The run's own settings (run.json's task), and seed 0, as the model's serve() has them.
    assert settings == {"length": ((), 20), "temperature": ((), 0.8), "top_k": ((), 0), "seed": ((), 0)}
    batched = {name: model.latest.signatures[DEFAULT_SIGNATURE].batched for name, model in served_models.items()}
    assert batched == {name: name != "text_generation" for name in served_models}


def test_a_signature_answers_arrays_and_refuses_with_its_graphs_own_words(served_models):
    signature = served_models["sentiment"].latest.signatures[DEFAULT_SIGNATURE]
    answers = signature({"text": recorded_inputs("sentiment").astype(object)})
    np.testing.assert_allclose(answers["probability"], recorded_answers("sentiment")["probability"], atol=1e-6)
    with pytest.raises(RequestError) as refused:
        signature({"text": np.array([b"good", b"   "], dtype=object)})
    assert str(refused.value) == "text: a text needs at least one word; empty or blank texts at rows [1]"


def test_the_signature_defs_are_the_saved_models_with_the_shape_the_model_checks(served_models):
    defs = served_models["image_classification"].latest.signature_defs
    assert list(defs) == [DEFAULT_SIGNATURE]
    images = defs[DEFAULT_SIGNATURE]["inputs"]["images"]
    assert images["dtype"] == "DT_UINT8"
    assert images["tensor_shape"] == {"dim": [{"size": "-1", "name": ""}, {"size": "28", "name": ""},
                                              {"size": "28", "name": ""}], "unknown_rank": False}
    probabilities = defs[DEFAULT_SIGNATURE]["outputs"]["probabilities"]
    assert probabilities["dtype"] == "DT_FLOAT"
    assert [dim["size"] for dim in probabilities["tensor_shape"]["dim"]] == ["-1", "10"]
    assert defs[DEFAULT_SIGNATURE]["method_name"] == "tensorflow/serving/predict"
    length = served_models["text_generation"].latest.signature_defs[DEFAULT_SIGNATURE]["inputs"]["length"]
    assert length["dtype"] == "DT_INT32" and length["tensor_shape"] == {"dim": [], "unknown_rank": False}


def test_named_runs_are_the_versions_of_one_model_the_highest_by_default(run_copies, tmp_path):
    tuned = shutil.copytree(run_copies["stock"], tmp_path / "tuned")
    models = load_models(named={"prices": [run_copies["stock"], tuned]})
    assert sorted(models["prices"].versions) == [1, 2]
    assert models.find("prices").run_dir == tuned and models.find("prices", 1).run_dir == run_copies["stock"]
    with pytest.raises(NotFoundError, match=r"^Servable not found for request: Specific\(prices, 3\); this server "
                                            r"serves versions 1, 2$"):
        models.find("prices", 3)
    with pytest.raises(NotFoundError, match=r"^Servable not found for request: Latest\(stock\); this server serves "
                                            r"models prices$"):
        models.find("stock")


def test_only_the_plots_the_run_lists_are_shown(run_copies, tmp_path):
    run = shutil.copytree(run_copies["stock"], tmp_path / "stock")
    (run / "plots").mkdir()
    (run / "plots" / "forecast_IBM.png").write_bytes(b"\x89PNG listed")
    (run / "plots" / "added_later.png").write_bytes(b"\x89PNG not listed")
    manifest = json.loads((run / run_directory.MANIFEST).read_text())
    assert "plots/forecast_IBM.png" in manifest["contents"] and "plots/learning_curves.png" in manifest["contents"]
    assert load_models([run])["stock"].latest.plots == {"forecast_IBM.png": b"\x89PNG listed"}


def test_a_folder_that_is_not_a_finished_run_is_refused(tmp_path):
    with pytest.raises(InputError, match=f"^{tmp_path} is not a finished toolkit run: run.json is missing.$"):
        load_models([tmp_path])


def test_a_run_whose_models_were_removed_is_refused(run_copies, tmp_path):
    run = shutil.copytree(run_copies["sentiment"], tmp_path / "trial")
    run_directory.remove_models(run)
    with pytest.raises(InputError, match=r"trial: its models were removed to save space .* no SavedModel to serve"):
        load_models([run])


def test_a_missing_or_damaged_saved_model_is_named(run_copies, tmp_path):
    missing = shutil.copytree(run_copies["stock"], tmp_path / "missing")
    shutil.rmtree(missing / run_directory.SERVING)
    with pytest.raises(InputError, match=r"missing/serving: no SavedModel there \(saved_model.pb is missing\)."):
        load_models([missing])
    damaged = shutil.copytree(run_copies["stock"], tmp_path / "damaged")
    (damaged / run_directory.SERVING / tf.saved_model.SAVED_MODEL_FILENAME_PB).write_bytes(b"not a protobuf")
    with pytest.raises(InputError, match=r"damaged/serving: cannot be loaded \("):
        load_models([damaged])


def test_names_must_be_plain_and_each_served_once(run_copies, tmp_path):
    with pytest.raises(InputError, match="serve: no runs to serve"):
        load_models([])
    with pytest.raises(InputError, match=r"--model my model=\.\.\.: model name 'my model': expected letters"):
        load_models(named={"my model": [run_copies["stock"]]})
    with pytest.raises(InputError, match=r"--model stock=\.\.\.: two models would be named 'stock'"):
        load_models([run_copies["stock"]], named={"stock": [run_copies["sentiment"]]})
    with pytest.raises(InputError, match=r"--model empty=: give one or more runs"):
        load_models(named={"empty": []})


def test_a_run_whose_pipeline_is_not_installed_still_serves(run_copies, tmp_path):
    run = shutil.copytree(run_copies["stock"], tmp_path / "elsewhere")
    manifest = json.loads((run / run_directory.MANIFEST).read_text())
    (run / run_directory.MANIFEST).write_text(json.dumps({**manifest, "pipeline": "a_pipeline_not_installed"}))
    version = load_models([run])["elsewhere"].latest
    assert version.pipeline == "a_pipeline_not_installed"
    answers = version.signatures[DEFAULT_SIGNATURE]({"windows": recorded_inputs("stock")})
    np.testing.assert_allclose(answers["prices"], recorded_answers("stock")["prices"], atol=1e-4)
