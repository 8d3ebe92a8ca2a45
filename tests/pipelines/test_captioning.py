"""The captioning pipeline end to end on generated shapes (smoke config, attention decoder): decoding, attention, serving, reload, fine-tuning."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

import toolkit
from toolkit.data.captions import CaptionDataConfig, load_caption_splits
from toolkit.data.shapes_captions import generate
from toolkit.models.caption_decoding import CaptionDecoder
from toolkit.preprocessing.captions import END_ID, NOT_WORD_IDS, PADDING_ID

pytestmark = pytest.mark.slow

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
    config = CaptionDataConfig(train_images=600, validation_images=60, test_images=60, held_out_images=40,
                               selection_images=40, cache_dir=str(cache))
    return load_caption_splits(config).test.inputs[:12]


def test_run_learns_words_clearly_above_chance(trained):
    for split in ("test", "held_out", "held_out_selection"):
        metrics = trained.metrics[split]
        assert set(metrics) >= {"beam", "greedy", "token_accuracy", "samples"}
        assert set(metrics["beam"]) == {"bleu_1", "bleu_2", "bleu_3", "bleu_4", "exact_match"}
    test = trained.metrics["test"]
    assert test["examples"] == 60
    assert test["token_accuracy"] > 0.45, test["token_accuracy"]  # chance: 1 in 30 words
    assert test["greedy"]["bleu_1"] > 0.4, test["greedy"]
    assert (trained.run_dir / "plots" / "captions.png").is_file()
    assert (trained.run_dir / "plots" / "held_out_captions.png").is_file()
    assert (trained.run_dir / "plots" / "attention.png").is_file()


def test_attention_weights_sum_to_one_over_the_grid_at_every_generated_word(trained, test_images):
    outputs = trained.trained_run.predict(test_images, return_attention=True)
    assert "attention" not in trained.trained_run.predict(test_images[:2])
    for caption_name, attention_name in (("caption", "attention"), ("greedy_caption", "greedy_attention")):
        weights = outputs[attention_name]
        assert weights.shape == (12, 16, 8, 8)  # max_length 16; three poolings of 64x64 images
        words = np.array([len(caption.split()) + 1 for caption in outputs[caption_name]])  # <end> included
        sums = weights.sum(axis=(2, 3))
        steps = np.arange(16)[None, :]
        np.testing.assert_allclose(sums[steps < words[:, None]], 1.0, rtol=1e-5)
        assert np.all(sums[steps >= words[:, None]] == 0.0)


def replay(decoder, images, ids):
    """Feeds given captions one token at a time: their summed scores (`<end>` included) and each word's attention."""
    states = decoder.start(images)
    tokens = tf.fill([len(images)], tf.constant(2, tf.int64))
    total = np.zeros(len(images))
    alive = np.ones(len(images), bool)
    attention = np.zeros((len(images), ids.shape[1], decoder.positions))
    for step in range(ids.shape[1]):
        attention[:, step] = np.where(alive[:, None], decoder.attention(states).numpy(), 0.0)
        log_probabilities, states = decoder.step(tokens, states)
        chosen = ids[:, step]
        total += np.where(alive & (chosen != PADDING_ID), log_probabilities.numpy()[np.arange(len(images)), chosen], 0.0)
        alive &= chosen != END_ID
        tokens = tf.constant(chosen)
    return total, attention


def test_beam_of_width_one_is_greedy(trained, test_images):
    decoder = CaptionDecoder(trained.trained_run.network)
    greedy = decoder.greedy(test_images, 16)
    beam = decoder.beam_search(test_images, 16, beam_width=1)
    np.testing.assert_array_equal(beam.ids.numpy(), greedy.ids.numpy())
    np.testing.assert_allclose(beam.log_probability.numpy(), greedy.log_probability.numpy(), rtol=1e-5)
    np.testing.assert_allclose(beam.attention.numpy(), greedy.attention.numpy(), rtol=1e-5, atol=1e-7)
    total, attention = replay(decoder, test_images, greedy.ids.numpy())
    np.testing.assert_allclose(total, greedy.log_probability.numpy(), rtol=1e-4)
    np.testing.assert_allclose(attention, greedy.attention.numpy(), rtol=1e-4, atol=1e-6)


def test_beam_search_scores_and_attention_are_those_of_its_captions(trained, test_images):
    decoder = CaptionDecoder(trained.trained_run.network)
    beam = decoder.beam_search(test_images, 16, beam_width=4, length_penalty=0.0)
    # Followed back through the parents that made them, and replayed word by word.
    total, attention = replay(decoder, test_images, beam.ids.numpy())
    np.testing.assert_allclose(total, beam.log_probability.numpy(), rtol=1e-4)
    np.testing.assert_allclose(attention, beam.attention.numpy(), rtol=1e-4, atol=1e-6)


def test_a_beam_as_wide_as_the_vocabulary_finds_the_most_likely_caption_of_two_steps(trained, test_images):
    # Beam search is exact here: every first word stays, and the best of all second steps is among the kept ones.
    # (Narrower beams may prune the greedy caption's prefix, so they need not beat greedy on every image.)
    decoder, images = CaptionDecoder(trained.trained_run.network), test_images[:3]
    vocabulary = trained.trained_run.network.vocabulary_size
    first, states = decoder.step(tf.fill([3], tf.constant(2, tf.int64)), decoder.start(images))
    repeated = [tf.repeat(state, vocabulary, axis=0) for state in states]
    second, _ = decoder.step(tf.tile(tf.range(vocabulary, dtype=tf.int64), [3]), repeated)
    first, second = first.numpy(), second.numpy().reshape(3, vocabulary, vocabulary)
    pairs = first[:, :, None] + second
    pairs[:, END_ID, :] = -np.inf  # after <end>, a caption takes no second word: it is scored alone
    best = np.maximum(pairs.reshape(3, -1).max(axis=1), first[:, END_ID])
    beam = decoder.beam_search(images, 2, beam_width=vocabulary, length_penalty=0.0)
    np.testing.assert_allclose(beam.log_probability.numpy(), best, rtol=1e-5)


def test_presence_fusion_adds_the_weighted_log_probability_of_each_word_being_in_the_caption(trained, test_images):
    network = trained.trained_run.network
    plain, fused = CaptionDecoder(network), CaptionDecoder(network, presence_weight=2.0)
    start = tf.fill([len(test_images)], tf.constant(2, tf.int64))
    plain_scores, _ = plain.step(start, plain.start(test_images))
    fused_scores, _ = fused.step(start, fused.start(test_images))
    bonus = 2.0 * tf.math.log_sigmoid(network.word_presence(test_images, training=False)).numpy()
    bonus[:, list(NOT_WORD_IDS)] = 0.0
    np.testing.assert_allclose(fused_scores.numpy(), plain_scores.numpy() + bonus, rtol=1e-5, atol=1e-5)
    beam = fused.beam_search(test_images, 16, beam_width=3)
    total, _ = replay(fused, test_images, beam.ids.numpy())
    np.testing.assert_allclose(total, beam.log_probability.numpy(), rtol=1e-4)


def test_context_weight_scales_the_attended_contexts_term_in_each_words_logit(trained, test_images):
    network = trained.trained_run.network
    plain, weighted = CaptionDecoder(network), CaptionDecoder(network, context_weight=2.5)
    start = tf.fill([len(test_images)], tf.constant(2, tf.int64))
    states = plain.start(test_images)
    outputs, _ = network.decoder_layers[0].cell(tf.gather(network.embedding.embeddings, start), states)
    units = network.architecture.units
    kernel, bias = network.head.kernel.numpy(), network.head.bias.numpy()
    logits = outputs[:, :units].numpy() @ kernel[:units] + 2.5 * outputs[:, units:].numpy() @ kernel[units:] + bias
    expected = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    np.testing.assert_allclose(weighted.step(start, states)[0].numpy(), expected, rtol=1e-4, atol=1e-4)
    assert not np.allclose(plain.step(start, states)[0].numpy(), expected, atol=1e-2)
    beam = weighted.beam_search(test_images, 16, beam_width=3)
    total, _ = replay(weighted, test_images, beam.ids.numpy())
    np.testing.assert_allclose(total, beam.log_probability.numpy(), rtol=1e-4)
    # The run serves with the config's weight, 1.5 by default.
    captioner = trained.trained_run.model
    assert captioner.context_weight == 1.5
    served = CaptionDecoder(network, context_weight=1.5).beam_search(
        test_images, captioner.max_length, captioner.beam_width, captioner.length_penalty
    )
    assert list(trained.trained_run.predict(test_images)["caption"]) == [
        caption.decode() for caption in captioner.preprocessor.detokenize(served.ids).numpy()
    ]


def test_training_adds_the_word_presence_loss_and_inference_does_not(trained, test_images):
    network = trained.trained_run.network
    ids = trained.trained_run.preprocessor(tf.constant(["a small red square", "a large blue circle"]))[:, :-1]
    network([tf.constant(test_images[:2]), ids], training=False)
    assert not network.losses
    network([tf.constant(test_images[:2]), ids], training=True)
    assert len(network.losses) == 1 and float(network.losses[0]) > 0


def test_serving_returns_sentences_in_a_process_without_toolkit(trained, test_images, run_without_toolkit, tmp_path):
    np.save(tmp_path / "images.npy", test_images)
    served = run_without_toolkit(
        f"""
        import json
        import numpy as np
        import tensorflow as tf
        serving = tf.saved_model.load({str(trained.run_dir / "serving")!r}).signatures["serving_default"]
        outputs = serving(images=tf.constant(np.load({str(tmp_path / "images.npy")!r})))
        result = {{name: [v.decode() for v in outputs[name].numpy()] for name in ("caption", "greedy_caption")}}
        result["attention"] = outputs["attention"].numpy().tolist()
        print(json.dumps(result))
        """
    )
    expected = trained.trained_run.predict(test_images, return_attention=True)
    np.testing.assert_allclose(np.array(served["attention"]), expected["attention"], rtol=1e-5, atol=1e-7)
    assert served["caption"] == list(expected["caption"])
    assert served["greedy_caption"] == list(expected["greedy_caption"])
    assert all(isinstance(caption, str) and caption for caption in served["caption"])


def test_keras_load_model_after_import_toolkit_serves_like_the_saved_model(trained, test_images, loaded_by_keras):
    served = loaded_by_keras(trained.run_dir, test_images[:6])
    assert served["class"] == "Captioner"
    assert served["caption"] == list(trained.trained_run.predict(test_images[:6])["caption"])


def test_reloaded_task_captions_the_same(trained, test_images):
    loaded = toolkit.load(trained.run_dir)
    assert loaded.model.context_weight == trained.trained_run.model.context_weight == 1.5
    assert list(loaded.predict(test_images)["caption"]) == list(trained.trained_run.predict(test_images)["caption"])
    np.testing.assert_allclose(loaded.network.word_presence(test_images, training=False),
                               trained.trained_run.network.word_presence(test_images, training=False), rtol=1e-6)
    assert loaded.preprocessor.vocabulary() == trained.trained_run.preprocessor.vocabulary()


def test_return_attention_is_refused_by_a_decoder_without_attention(init_state_task, test_images):
    with pytest.raises(ValueError, match="return_attention: this Captioner has no attention weights"):
        init_state_task.predict(test_images[:2], return_attention=True)


def test_fine_tuning_on_held_out_combinations_improves_there(trained, cache):
    config = CaptionDataConfig(train_images=600, validation_images=60, test_images=60, held_out_images=400,
                               selection_images=40, cache_dir=str(cache))
    held_out = load_caption_splits(config).extra_tests["held_out"]
    tune, check = slice(0, 300), slice(300, 400)
    task = toolkit.load(trained.run_dir)
    before = task.evaluate((held_out.inputs[check], held_out.targets[check]))
    task.fine_tune((held_out.inputs[tune], list(held_out.targets[tune])), epochs=3, learning_rate=3e-3)
    after = task.evaluate((held_out.inputs[check], held_out.targets[check]))
    assert after["token_accuracy"] > before["token_accuracy"] + 0.02, (before["token_accuracy"], after["token_accuracy"])


def write_real_format(folder: Path, count: int = 40) -> tuple[Path, Path, Path]:
    """Generated shapes written as JPEG files with a Flickr8k captions.txt and a COCO captions JSON."""
    images, captions = generate(count, seed=9)
    (folder / "Images").mkdir()
    coco = {"images": [], "annotations": []}
    rows = ["image,caption"]
    for index, (image, references) in enumerate(zip(images, captions, strict=True)):
        name = f"{index:04d}.jpg"
        tf.io.write_file(str(folder / "Images" / name), tf.io.encode_jpeg(image, quality=95))
        coco["images"].append({"id": index, "file_name": name})
        coco["annotations"] += [{"image_id": index, "caption": caption} for caption in references]
        rows += [f"{name},{caption}" for caption in references]
    (folder / "captions.txt").write_text("\n".join(rows) + "\n")
    (folder / "captions.json").write_text(json.dumps(coco))
    return folder / "Images", folder / "captions.txt", folder / "captions.json"


@pytest.fixture(scope="module")
def real_format(tmp_path_factory):
    return write_real_format(tmp_path_factory.mktemp("real-format"))


@pytest.fixture(scope="module")
def init_state_task(real_format, tmp_path_factory):
    """A Flickr8k-format run with the init-state decoder, for one epoch."""
    images_dir, captions_txt, _ = real_format
    overrides = {"data.source": "flickr8k", "data.images_dir": str(images_dir), "data.captions_file": str(captions_txt),
                 "model.decoder": "init_state", "model.encoder.output": "flatten", "decoding.context_weight": 1.0,
                 "trainer.epochs": 1}
    return toolkit.run("captioning", SMOKE, overrides=overrides, run_name="flickr",
                       output_dir=tmp_path_factory.mktemp("runs")).trained_run


def test_flickr8k_files_train_the_init_state_decoder_and_coco_files_the_attention_decoder(
    init_state_task, real_format, tmp_path
):
    images_dir, _, captions_json = real_format
    overrides = {"data.source": "coco", "data.images_dir": str(images_dir), "data.captions_file": str(captions_json),
                 "trainer.epochs": 1}
    attention = toolkit.run("captioning", SMOKE, overrides=overrides, run_name="coco", output_dir=tmp_path)
    images = load_caption_splits(attention.trained_run.config.data).test.inputs
    assert init_state_task.network.attention_grid is None and attention.trained_run.network.attention_grid == (8, 8)
    for task in (init_state_task, attention.trained_run):
        captions = task.predict(images)["caption"]
        assert len(captions) == len(images) and all(isinstance(caption, str) for caption in captions)
        decoder = CaptionDecoder(task.network)
        greedy, beam = decoder.greedy(images, 16), decoder.beam_search(images, 16, beam_width=1)
        np.testing.assert_array_equal(beam.ids.numpy(), greedy.ids.numpy())
    assert "held_out" not in attention.metrics and attention.metrics["test"]["examples"] == len(images)
