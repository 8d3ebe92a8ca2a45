"""The captioning pipeline end to end on generated shapes (smoke config): decoding, serving, reload, fine-tuning."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

import toolkit
from toolkit.data.captions import CaptionDataConfig, load_caption_splits
from toolkit.models.caption_decoding import CaptionDecoder
from toolkit.preprocessing.captions import END_ID, PADDING_ID

SMOKE = Path(__file__).resolve().parents[2] / "configs" / "captioning_smoke.yaml"


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return tmp_path_factory.mktemp("shapes-cache")


@pytest.fixture(scope="module")
def trained(tmp_path_factory, cache):
    return toolkit.run("captioning", SMOKE, overrides={"data.cache_dir": str(cache)}, run_name="smoke",
                       output_dir=tmp_path_factory.mktemp("runs"))


@pytest.fixture(scope="module")
def test_images(trained, cache):
    config = CaptionDataConfig(train_images=600, validation_images=60, test_images=60, held_out_images=40, cache_dir=str(cache))
    return load_caption_splits(config).test.inputs[:12]


def test_run_learns_words_clearly_above_chance(trained):
    for split in ("test", "held_out"):
        metrics = trained.metrics[split]
        assert set(metrics) >= {"beam", "greedy", "token_accuracy", "samples"}
        assert set(metrics["beam"]) == {"bleu_1", "bleu_2", "bleu_3", "bleu_4", "exact_match"}
    test = trained.metrics["test"]
    assert test["examples"] == 60
    assert test["token_accuracy"] > 0.55, test["token_accuracy"]
    assert test["greedy"]["bleu_1"] > 0.4, test["greedy"]
    assert (trained.run_dir / "plots" / "captions.png").is_file()
    assert (trained.run_dir / "plots" / "held_out_captions.png").is_file()


def log_probability(decoder, images, ids):
    """Summed log-probability of given captions, `<end>` included, by feeding them one token at a time."""
    states = decoder.start(images)
    tokens = tf.fill([len(images)], tf.constant(2, tf.int64))
    total = np.zeros(len(images))
    alive = np.ones(len(images), bool)
    for step in range(ids.shape[1]):
        log_probabilities, states = decoder.step(tokens, states)
        chosen = ids[:, step]
        total += np.where(alive & (chosen != PADDING_ID), log_probabilities.numpy()[np.arange(len(images)), chosen], 0.0)
        alive &= chosen != END_ID
        tokens = tf.constant(chosen)
    return total


def test_beam_of_width_one_is_greedy(trained, test_images):
    decoder = CaptionDecoder(trained.task.network)
    greedy_ids, greedy_score = decoder.greedy(test_images, 16)
    beam_ids, beam_score = decoder.beam_search(test_images, 16, beam_width=1)
    np.testing.assert_array_equal(beam_ids.numpy(), greedy_ids.numpy())
    np.testing.assert_allclose(beam_score.numpy(), greedy_score.numpy(), rtol=1e-5)
    np.testing.assert_allclose(log_probability(decoder, test_images, greedy_ids.numpy()), greedy_score.numpy(), rtol=1e-4)


def test_beam_search_finds_captions_at_least_as_likely_as_greedy(trained, test_images):
    decoder = CaptionDecoder(trained.task.network)
    _, greedy_score = decoder.greedy(test_images, 16)
    beam_ids, beam_score = decoder.beam_search(test_images, 16, beam_width=4, length_penalty=0.0)
    assert np.all(beam_score.numpy() >= greedy_score.numpy() - 1e-4)
    np.testing.assert_allclose(log_probability(decoder, test_images, beam_ids.numpy()), beam_score.numpy(), rtol=1e-4)


def test_serving_returns_sentences_in_a_process_without_toolkit(trained, test_images, run_without_toolkit, tmp_path):
    np.save(tmp_path / "images.npy", test_images)
    served = run_without_toolkit(
        f"""
        import json
        import numpy as np
        import tensorflow as tf
        serving = tf.saved_model.load({str(trained.run_dir / "serving")!r}).signatures["serving_default"]
        outputs = serving(images=tf.constant(np.load({str(tmp_path / "images.npy")!r})))
        print(json.dumps({{name: [v.decode() for v in outputs[name].numpy()] for name in ("caption", "greedy_caption")}}))
        """
    )
    expected = trained.task.predict(test_images)
    assert served["caption"] == list(expected["caption"])
    assert served["greedy_caption"] == list(expected["greedy_caption"])
    assert all(isinstance(caption, str) and caption for caption in served["caption"])


def test_keras_load_model_after_import_toolkit_serves_like_the_saved_model(trained, test_images, loaded_by_keras):
    served = loaded_by_keras(trained.run_dir, test_images[:6])
    assert served["class"] == "Captioner"
    assert served["caption"] == list(trained.task.predict(test_images[:6])["caption"])


def test_reloaded_task_captions_the_same(trained, test_images):
    loaded = toolkit.load(trained.run_dir)
    assert list(loaded.predict(test_images)["caption"]) == list(trained.task.predict(test_images)["caption"])
    assert loaded.preprocessor.vocabulary() == trained.task.preprocessor.vocabulary()


def test_fine_tuning_on_held_out_combinations_improves_there(trained, cache):
    config = CaptionDataConfig(train_images=600, validation_images=60, test_images=60, held_out_images=400,
                               cache_dir=str(cache))
    held_out = load_caption_splits(config).extra_tests["held_out"]
    tune, check = slice(0, 300), slice(300, 400)
    task = toolkit.load(trained.run_dir)
    before = task.evaluate((held_out.inputs[check], held_out.targets[check]))
    task.fine_tune((held_out.inputs[tune], list(held_out.targets[tune])), epochs=3, learning_rate=3e-3)
    after = task.evaluate((held_out.inputs[check], held_out.targets[check]))
    assert after["token_accuracy"] > before["token_accuracy"] + 0.02, (before["token_accuracy"], after["token_accuracy"])
