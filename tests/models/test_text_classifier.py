"""The text classifier: its backbone with or without a bag of n-grams, and serving strings, refusing texts without a word."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from toolkit.errors import InputError
from toolkit.models.classifier import BranchEnsembleHead
from toolkit.models.recurrent import RecurrentConfig
from toolkit.models.text_classifier import (
    BRANCHES,
    WORDLESS_MESSAGE,
    NgramBagConfig,
    TextClassifier,
    TextClassifierConfig,
    build_text_backbone,
    build_text_classifier,
    refuse_wordless_texts,
    text_preprocessor,
)
from toolkit.preprocessing.text import TextFeatures, TextToTokenIds

TEXTS = np.array(["a good film", "a bad film", "good acting", "bad plot"], dtype=object)


def config(ngrams: int = 0) -> TextClassifierConfig:
    return TextClassifierConfig(
        embedding_dim=4, spatial_dropout=0.0, dropout=0.0, recurrent=RecurrentConfig(units=3, bidirectional=False),
        ngram_bag=NgramBagConfig(ngrams=ngrams, max_tokens=50, embedding_dim=2),
    )


def classifier(ngrams: int = 0, limits=None) -> TextClassifier:
    preprocessor = text_preprocessor(TEXTS, max_tokens=20, max_length=8, config=config(ngrams))
    return build_text_classifier(preprocessor, config(ngrams), ["negative", "positive"], limits)


def test_without_a_bag_the_preprocessor_gives_word_ids_and_the_head_is_one_softmax():
    model = classifier(ngrams=0)
    assert isinstance(model.preprocessor, TextToTokenIds) and model.preprocessor.name == "preprocessor"
    assert isinstance(model.head, keras.layers.Dense) and model.branch_networks() == {}
    assert [layer.name for layer in model.backbone.layers] == ["token_ids", "embedding", "lstm_1", "pooling", "dropout"]


def test_with_a_bag_there_are_two_branches_and_an_ensemble_head():
    model = classifier(ngrams=2)
    assert isinstance(model.preprocessor, TextFeatures)
    assert isinstance(model.head, BranchEnsembleHead) and model.head.branch_names == list(BRANCHES)
    assert sorted(model.branch_networks()) == sorted(BRANCHES)
    assert {"ngram_embedding", "ngram_mean"} <= {layer.name for layer in model.backbone.layers}


def test_the_backbones_layers_follow_the_config():
    backbone = build_text_backbone(30, TextClassifierConfig(embedding_dim=4, spatial_dropout=0.2, pooling="last",
                                                            recurrent=RecurrentConfig(units=3, depth=2)))
    names = [layer.name for layer in backbone.layers]
    assert names == ["token_ids", "embedding", "spatial_dropout", "lstm_1", "lstm_2", "dropout"]
    assert backbone.output.shape == (None, 6)  # the last state of both directions
    assert backbone.get_layer("embedding").mask_zero


def test_serving_a_text_names_its_class():
    model = classifier(ngrams=2)
    outputs = model.serve(["a good film", "Bad!"])
    assert outputs["probabilities"].shape == (2, 2)
    assert {label.decode() for label in outputs["label"].numpy()} <= {"negative", "positive"}
    assert model.raw_input_spec().name == "text" and model.raw_input_spec().dtype == tf.string


def test_a_text_without_a_word_is_refused_in_the_graph_and_in_python_naming_its_row():
    model = classifier()
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"text: a text needs at least one word .*texts without one at rows\W+1"):
        model.serve(["fine", "?!", "good"])
    with pytest.raises(InputError, match=r"text: a text needs at least one word .*at rows 1, 3\.$"):
        model.raw_batch(["fine", "<br />", "good", "   "])
    assert model.raw_batch("one review").tolist() == ["one review"]


def test_the_python_check_names_lines_from_the_first_row_and_at_most_five():
    with pytest.raises(InputError) as raised:
        refuse_wordless_texts(["ok", "", "", "", "", "", "", "ok"], rows="lines", first_row=2)
    assert str(raised.value) == WORDLESS_MESSAGE.replace("at rows", "at lines") + " 3, 4, 5, 6, 7 and 1 more."
    refuse_wordless_texts(["ok", "été"])


def test_texts_over_max_characters_are_refused():
    model = classifier(limits={"max_characters": 10})
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"at most 10 characters per text \(serving.max_characters\)"):
        model.serve(["a good film indeed"])


def test_it_is_saved_and_served_the_same_after_loading(tmp_path):
    model = classifier(ngrams=2)
    model.save(tmp_path / "model.keras")
    loaded = keras.saving.load_model(tmp_path / "model.keras")
    texts = ["a good film", "bad plot"]
    np.testing.assert_allclose(loaded.serve(texts)["probabilities"], model.serve(texts)["probabilities"], rtol=1e-6)
