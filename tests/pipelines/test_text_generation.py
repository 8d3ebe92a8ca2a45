"""The text generation pipeline end to end (smoke config): learning, the n-gram baseline, generation in the graph, fine-tuning."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import toolkit
from pipelines import text_generation
from toolkit.baselines.ngram import KneserNeyNGrams
from toolkit.config import ConfigError
from toolkit.data.text_stream import TextStream, as_text_stream
from toolkit.errors import InputError
from toolkit_cli import run as main

pytestmark = pytest.mark.slow

SMOKE = Path(__file__).resolve().parents[2] / "configs" / "text_generation_smoke.yaml"


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    return toolkit.run("text_generation", SMOKE, run_name="smoke", output_dir=tmp_path_factory.mktemp("runs"))


def test_run_learns_characters_and_reports_the_ngram_baseline_on_the_same_text(trained):
    test = trained.metrics["test"]
    # Clearly better than the training text's character frequencies alone (an order-1 model, about 4.4 bits).
    data = text_generation.TextGenerationPipeline().load_data(trained.trained_run.config)
    model = trained.trained_run.model
    frequencies = KneserNeyNGrams(1, model.network.vocabulary_size).fit(model.character_ids(data.train.text))
    test_ids = model.character_ids(data.test.text)
    frequency_bits = -np.mean(frequencies.log2_probabilities(np.zeros((len(test_ids), 0)), test_ids))
    assert test["bits_per_character"] < frequency_bits - 0.5, (test["bits_per_character"], frequency_bits)
    assert test["headline"]["verdict"].startswith("The network ")
    assert {"bits_per_character", "baseline_bits_per_character", "p_value"} <= set(test["headline"])
    assert test["baseline"]["name"] == "interpolated Kneser–Ney 4-gram"
    assert set(test["baseline"]["validation_bits_per_character_by_order"]) == {3, 4}
    assert trained.metrics["epochs_trained"] == 2
    for temperature in ("0.5", "0.8", "1"):
        samples = trained.metrics["samples"][f"temperature {temperature}"]
        assert list(samples) == ["", "This movie was", "The acting"]
        assert all(len(text) == 40 for text in samples.values())


def test_the_baseline_is_fitted_on_the_training_text_only(trained, monkeypatch):
    fitted_on = []
    original_fit = KneserNeyNGrams.fit
    monkeypatch.setattr(KneserNeyNGrams, "fit", lambda self, tokens: fitted_on.append(len(tokens)) or original_fit(self, tokens))
    data = text_generation.TextGenerationPipeline().load_data(trained.trained_run.config)
    metrics = text_generation.TextGenerationPipeline().evaluate_run(trained.trained_run, data)
    assert fitted_on == [len(data.train)] * 2  # one model per order, each on the training characters alone
    assert metrics["test"]["baseline_bits_per_character"] == pytest.approx(trained.metrics["test"]["baseline_bits_per_character"])


def test_the_exported_model_generates_in_a_process_without_toolkit(trained, run_without_toolkit):
    served = run_without_toolkit(
        f"""
        import json
        import tensorflow as tf
        generate = tf.saved_model.load({str(trained.run_dir / "serving")!r}).signatures["serving_default"]

        def text(prompts, length, temperature, top_k, seed):
            outputs = generate(prompt=tf.constant(prompts, tf.string), length=tf.constant(length), temperature=tf.constant(temperature),
                               top_k=tf.constant(top_k), seed=tf.constant(seed))
            return [value.decode() for value in outputs["text"].numpy()]

        print(json.dumps({{
            "first": text(["The film", ""], 60, 1.0, 5, 7),
            "again": text(["The film", ""], 60, 1.0, 5, 7),
            "other_seed": text(["The film", ""], 60, 1.0, 5, 8),
            "greedy": text(["The film"], 30, 0.0, 0, 1),
            "empty": text([], 10, 1.0, 0, 0),
        }}))
        """
    )
    assert served["first"] == served["again"]  # the same seed gives the same text
    assert served["first"] != served["other_seed"]
    assert [len(text) for text in served["first"]] == [60, 60]
    assert served["greedy"] == trained.trained_run.model.generate(["The film"], 30, temperature=0.0, seed=99)
    assert served["empty"] == []


def test_each_prompt_is_continued_as_if_alone_in_its_batch(trained):
    generate = trained.trained_run.model.generate
    together = generate(["The film was", ""], 25, temperature=0.0)
    assert together == [generate(["The film was"], 25, temperature=0.0)[0], generate([""], 25, temperature=0.0)[0]]
    assert generate(["A"], 0) == [""] and generate([], 5) == []


def test_generation_checks_its_settings(trained):
    with pytest.raises(Exception, match="length: expected 0 or more characters"):
        trained.trained_run.model.generate("The", length=-1)
    with pytest.raises(Exception, match="temperature: expected 0 or more"):
        trained.trained_run.model.generate("The", temperature=-0.5)
    with pytest.raises(TypeError, match="prompts: expected a string or a list of strings; got int"):
        trained.trained_run.model.generate(3)


def test_predict_and_reload_serve_the_default_settings(trained):
    predicted = trained.trained_run.predict(["A great", "Worst"])["text"]
    assert [len(text) for text in predicted] == [40, 40]
    reloaded = toolkit.load(trained.run_dir)
    assert list(reloaded.predict(["A great", "Worst"])["text"]) == list(predicted)


def test_cli_predict_continues_prompts(trained, capsys):
    assert main(["predict", str(trained.run_dir), "This film", ""]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [row["input"] for row in rows] == ["This film", ""]
    assert all(len(row["text"]) == 40 for row in rows)


def test_fine_tune_on_a_text_file_lowers_its_bits_per_character(trained, tmp_path):
    path = tmp_path / "own.txt"
    path.write_text("the cat sat on the mat. " * 400, encoding="utf-8")
    task = toolkit.load(trained.run_dir)
    before = task.evaluate(str(path))["bits_per_character"]
    history = task.fine_tune(str(path), epochs=2, learning_rate=0.01, batch_size=8)
    assert len(history["loss"]) == 2 and "val_bits_per_character" in history
    assert task.evaluate(str(path))["bits_per_character"] < 0.5 * before


def test_fine_tune_refuses_text_too_short_for_the_chunks(trained):
    with pytest.raises(ConfigError, match="chunks of 50 steps are longer than the sequences"):
        toolkit.load(trained.run_dir).fine_tune("too short for sixteen streams of fifty characters", epochs=1)


def test_evaluating_too_little_text_is_refused(trained):
    with pytest.raises(InputError, match=r"data: 1 character\(s\); bits per character need at least 2"):
        trained.trained_run.evaluate("a")
    with pytest.raises(InputError, match="data: no text"):
        trained.trained_run.evaluate("")


def test_held_out_text_is_the_end_of_the_stream():
    kept, held = TextStream("abcdefghij").holdout(0.3, seed=0)
    assert (kept.text, held.text) == ("abcdefg", "hij")


def test_an_unreadable_text_file_is_named(tmp_path):
    path = tmp_path / "latin1.txt"
    path.write_bytes("caf\xe9".encode("latin-1"))
    with pytest.raises(InputError, match=r"latin1.txt: not UTF-8 text \(unexpected end of data at byte 3\)"):
        as_text_stream(str(path))


def test_kneser_ney_matches_the_formula_worked_by_hand():
    # Bigrams 0→1 twice, 1→0 twice, 0→2 once: discount 1/(1 + 2·2) = 0.2 for bigrams. Every token has one
    # distinct predecessor, so the continuation unigrams are uniform (discount 1): P₁ = 1/3 each.
    # P(w | 0) = max(c(0w) − 0.2, 0)/3 + 0.2 · 2/3 · 1/3.
    model = KneserNeyNGrams(2, 3).fit(np.array([0, 1, 0, 1, 0, 2]))
    np.testing.assert_allclose(model.probabilities(np.array([[0]]))[0], [0.4 / 9, 1.8 / 3 + 0.4 / 9, 0.8 / 3 + 0.4 / 9])


def test_text_generation_config_refuses_what_would_fail_after_training():
    pipeline = text_generation.TextGenerationPipeline()
    with pytest.raises(ConfigError, match=r"baseline_orders: give one or more orders n of at least 1, got \[\]"):
        toolkit.api.resolve_config("text_generation", overrides=["baseline_orders=[]"])
    with pytest.raises(ConfigError, match="baseline_orders: 9-grams over data.max_vocabulary=160 characters do not fit"):
        toolkit.api.resolve_config("text_generation", overrides=["baseline_orders=[5, 9]"])
    with pytest.raises(ConfigError, match="trainer.truncated_bptt: text_generation reads each stream of text whole"):
        toolkit.api.resolve_config("text_generation", overrides=["trainer.truncated_bptt=null"])
    assert pipeline.config_class().trainer.truncated_bptt == 50


def test_kneser_ney_probabilities_sum_to_one_and_unseen_contexts_back_off():
    rng = np.random.default_rng(0)
    tokens = rng.integers(0, 11, size=3000)
    tokens[::50] = 11  # 11 is never followed by 11
    model = KneserNeyNGrams(3, 12).fit(tokens)
    np.testing.assert_allclose(model.probabilities(rng.integers(0, 12, size=(40, 2))).sum(axis=1), 1.0, atol=1e-9)
    # The context (11, 11) was never seen: its distribution is exactly that of the context (11,) alone.
    contexts, targets = np.repeat([[11, 11]], 12, axis=0), np.arange(12)
    np.testing.assert_allclose(
        model.log2_probabilities(contexts, targets), model.log2_probabilities(contexts, targets, np.full(12, 1))
    )
    # And the text it was fitted on costs fewer bits than a fresh random text.
    fresh = rng.integers(0, 12, size=3000)
    assert np.mean(model.log2_probabilities(np.stack([tokens[:-2], tokens[1:-1]], 1), tokens[2:])) > np.mean(
        model.log2_probabilities(np.stack([fresh[:-2], fresh[1:-1]], 1), fresh[2:])
    )
