"""Training batches: preprocessed once and kept in memory under `data.cache_limit_mb`, streamed above it, alike."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import tensorflow as tf

import toolkit
from toolkit.data.batches import preprocessed_batches
from toolkit.data.splits import Split
from toolkit.data.text import load_movie_reviews
from toolkit.errors import Notice

SMOKE = Path(__file__).resolve().parents[2] / "configs" / "sentiment_smoke.yaml"


def batches(dataset) -> list:
    return [(x.tolist(), y.tolist()) for x, y in dataset.as_numpy_iterator()]


class CountingDouble:
    """Doubles its input, and counts the examples it has preprocessed."""

    def __init__(self):
        self.calls = tf.Variable(0, dtype=tf.int64)

    def __call__(self, x):
        with tf.control_dependencies([self.calls.assign_add(1)]):
            return x * 2


def test_a_split_over_the_limit_streams_the_same_batches_in_the_same_order():
    split = Split(np.arange(300, dtype="float32").reshape(100, 3), np.arange(100))
    kept_preprocessor, streamed_preprocessor = CountingDouble(), CountingDouble()
    kept = preprocessed_batches(split, kept_preprocessor, 8, shuffle=True, seed=3, cache_limit_mb=1)
    with pytest.warns(Notice, match=r"100 preprocessed examples would take about 0 MiB, more than data.cache_limit_mb=1e-05"):
        streamed = preprocessed_batches(split, streamed_preprocessor, 8, shuffle=True, seed=3, cache_limit_mb=1e-5)
    sampled = int(kept_preprocessor.calls.numpy())  # to estimate the size
    for epoch in range(2):  # reshuffled alike every epoch
        epoch_batches = batches(streamed)
        assert epoch_batches == batches(kept), f"epoch {epoch}"
    assert int(kept_preprocessor.calls.numpy()) == sampled + 100, "kept: preprocessed once"
    assert int(streamed_preprocessor.calls.numpy()) == sampled + 2 * 100, "streamed: preprocessed every epoch"
    assert sorted(y for _, ys in epoch_batches for y in ys) == list(range(100))
    (first_inputs, first_targets) = epoch_batches[0]
    assert first_inputs[0] == [2 * value for value in split.inputs[first_targets[0]]], "preprocessed, as it streams"


def test_a_csv_bigger_than_the_cache_limit_trains_as_it_would_in_memory(tmp_path):
    texts, labels = load_movie_reviews("imdb")
    rows = np.random.default_rng(0).choice(len(texts), 500, replace=False)
    csv = tmp_path / "reviews.csv"
    pd.DataFrame({"text": texts[rows], "label": np.array(["negative", "positive"])[labels[rows]]}).to_csv(csv, index=False)
    assert csv.stat().st_size > 2**20 / 10
    settings = ["data.source=csv", f"data.csv_path={csv}", "data.max_examples=null", "trainer.epochs=1"]
    in_memory = toolkit.run("sentiment", SMOKE, settings, run_name="in_memory", output_dir=tmp_path)
    with pytest.warns(Notice, match="more than data.cache_limit_mb=0.1: they are preprocessed afresh each epoch"):
        streamed = toolkit.run("sentiment", SMOKE, [*settings, "data.cache_limit_mb=0.1"], run_name="streamed", output_dir=tmp_path)
    assert streamed.history == in_memory.history
    assert streamed.metrics["test"]["accuracy"] == in_memory.metrics["test"]["accuracy"]
