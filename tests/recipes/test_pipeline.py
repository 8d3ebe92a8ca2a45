"""The pipeline base: what a pipeline must define, the held-out splits it evaluates with their plot prefixes, and its batches."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from toolkit.data.splits import DataSplits, Split
from toolkit.recipes.pipeline import Pipeline, WalkForwardEvaluation, plot_prefix


class Recording(Pipeline):
    """Records what it is asked to evaluate."""

    name = "recording"

    def __init__(self):
        self.calls = []

    def load_data(self, config):
        raise NotImplementedError

    def build_task(self, config, data, preprocessor):
        raise NotImplementedError

    def default_loss(self):
        return "mse"

    def default_metrics(self):
        return []

    def evaluate(self, trained, split, plots_dir=None, prefix=""):
        self.calls.append((len(split), plots_dir, prefix))
        return {"examples": len(split)}

    def fine_tune_data(self, data, model):
        return Split(*data)


def split(count: int) -> Split:
    return Split(np.arange(count, dtype="float32")[:, None], np.arange(count, dtype="float32"))


def test_plots_of_the_test_split_have_no_prefix_and_other_splits_their_name():
    assert plot_prefix("test") == ""
    assert plot_prefix("held_out") == "held_out_"


def test_a_run_is_evaluated_on_each_held_out_split_by_name_with_its_plot_prefix(tmp_path):
    pipeline = Recording()
    data = DataSplits(split(8), split(4), split(3), extra_tests={"held_out": split(5), "held_out_selection": split(2)})
    metrics = pipeline.evaluate_run(trained=None, data=data, plots_dir=tmp_path)
    assert metrics == {"test": {"examples": 3}, "held_out": {"examples": 5}, "held_out_selection": {"examples": 2}}
    assert pipeline.calls == [(3, tmp_path, ""), (5, tmp_path, "held_out_"), (2, tmp_path, "held_out_selection_")]


def test_a_pipeline_missing_a_part_cannot_be_made_and_the_error_names_it():
    class Partial(Pipeline):
        def load_data(self, config):
            return None

    with pytest.raises(TypeError, match="abstract method") as raised:
        Partial()
    for part in ("build_task", "default_loss", "default_metrics", "evaluate", "fine_tune_data"):
        assert part in str(raised.value)
    with pytest.raises(TypeError, match="walk_forward_folds"):
        type("Folds", (WalkForwardEvaluation, Recording), {})()


def test_by_default_there_is_no_preprocessor_and_batches_are_the_raw_examples():
    pipeline = Recording()
    assert pipeline.build_preprocessor(config=None, data=None) is None

    class Model:
        preprocessor = None

    batches = list(pipeline.dataset(split(5), Model(), batch_size=2, shuffle=False))
    assert [len(targets) for _, targets in batches] == [2, 2, 1]
    np.testing.assert_array_equal(np.concatenate([targets for _, targets in batches]), np.arange(5))


def test_batches_are_preprocessed_by_the_models_preprocessor_and_shuffled_by_seed():
    class Model:
        preprocessor = keras.layers.Rescaling(10.0)

    pipeline = Recording()
    batches = list(pipeline.dataset(split(6), Model(), batch_size=6, shuffle=True, seed=1))
    inputs, targets = batches[0]
    np.testing.assert_allclose(inputs.numpy()[:, 0], targets.numpy() * 10)
    assert sorted(targets.numpy().tolist()) == list(range(6))
    _, again = next(iter(pipeline.dataset(split(6), Model(), batch_size=6, shuffle=True, seed=1)))
    np.testing.assert_array_equal(again, targets)
