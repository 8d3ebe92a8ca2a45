"""The stock pipeline end to end on the smoke config: baselines, walk-forward, serving, DataFrames, fine-tuning."""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import pandas as pd
import pytest

import toolkit
from toolkit.data.prices import load_bokeh_prices

pytestmark = pytest.mark.slow

SMOKE = Path(__file__).resolve().parents[2] / "configs" / "stock_smoke.yaml"
WINDOW = 11


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    return toolkit.run("stock", SMOKE, run_name="smoke", output_dir=tmp_path_factory.mktemp("runs"))


def ar_series_csv(path: Path, seed: int, days: int = 700, momentum: float = 0.6) -> Path:
    """A Yahoo-style CSV whose daily returns follow an AR(1): tomorrow's move is predictable."""
    rng = np.random.default_rng(seed)
    returns = np.zeros(days)
    for day in range(1, days):
        returns[day] = momentum * returns[day - 1] + rng.normal(0, 0.01)
    close = 20 * np.exp(np.cumsum(returns))
    pd.DataFrame({
        "Date": pd.bdate_range("2015-01-02", periods=days).strftime("%Y-%m-%d"),
        "Open": close, "High": close * 1.005, "Low": close * 0.995, "Close": close, "Adj Close": close,
        "Volume": rng.integers(10_000, 20_000, days),
    }).to_csv(path, index=False)
    return path


def test_report_sets_the_model_beside_persistence_and_a_linear_model(trained):
    test = trained.metrics["test"]
    assert set(test["per_ticker"]) == {"IBM", "MSFT"}
    for ticker in ("IBM", "MSFT"):
        assert set(test["per_ticker"][ticker]) == {"model", "linear", "persistence"}
    # On daily closes nothing is far from persistence: a ratio far from 1 would mean a bug or a leak.
    assert 0.9 < test["headline"]["skill_vs_persistence"] < 1.2
    assert test["headline"]["verdict"].startswith("The model ")
    assert test["per_ticker"]["MSFT"]["persistence"]["mase"] == pytest.approx(0.82, abs=0.01)
    model = test["overall"]["model"]
    assert 0.3 < model["directional_accuracy"] < 0.7 and 0 <= model["direction_p_value"] <= 1


def test_walk_forward_folds_report_mean_and_spread(trained):
    walk_forward = trained.metrics["walk_forward"]
    assert len(walk_forward["folds"]) == 2
    skills = [fold["headline"]["skill_vs_persistence"] for fold in walk_forward["folds"]]
    assert walk_forward["mean"]["headline.skill_vs_persistence"] == pytest.approx(np.mean(skills))
    assert walk_forward["std"]["headline.skill_vs_persistence"] == pytest.approx(np.std(skills))


def test_walk_forward_folds_are_labelled_and_the_last_one_is_the_runs_own_model_not_trained_twice(trained):
    folds = trained.metrics["walk_forward"]["folds"]
    assert [fold["fold"] for fold in folds] == ["1 of 2", "2 of 2"]
    assert folds[0]["model"].startswith("a fresh one") and folds[1]["model"].startswith("the run's own")
    first, last = (fold["test_period"].split(" to ") for fold in folds)
    assert first[1] < last[0], "each fold tests a later period"
    assert folds[1]["headline"] == trained.metrics["test"]["headline"]


def test_run_directory_has_forecast_plots_and_the_loaded_model_keeps_the_baseline(trained):
    for name in ("plots/forecast_IBM.png", "plots/forecast_MSFT.png", "plots/learning_curves.png", "serving/saved_model.pb"):
        assert (trained.run_dir / name).is_file(), name
    model = keras.saving.load_model(trained.run_dir / "model.keras")
    assert model.window == WINDOW and model.raw_features == ["open", "high", "low", "close", "volume"]
    kernel, _ = model.linear_baseline.get_weights()
    assert kernel.shape == ((WINDOW - 1) * 3, 1) and not model.linear_baseline.trainable
    windows = load_bokeh_prices()["IBM"].iloc[100 : 100 + WINDOW].to_numpy("float32")[None]
    np.testing.assert_allclose(
        model.linear_baseline_log_changes(windows), trained.trained_run.model.linear_baseline_log_changes(windows), rtol=1e-6
    )


def test_serving_takes_raw_windows_and_returns_prices_in_a_process_without_toolkit(trained, run_without_toolkit):
    ibm = load_bokeh_prices()["IBM"]
    windows = np.stack([ibm.iloc[start : start + WINDOW].to_numpy() for start in (100, 2000, 3000)]).astype("float32")
    served = run_without_toolkit(
        f"""
        import json
        import numpy as np
        import tensorflow as tf
        serving = tf.saved_model.load({str(trained.run_dir / "serving")!r}).signatures["serving_default"]
        outputs = serving(windows=tf.constant(np.array({windows.tolist()!r}, dtype="float32")))
        print(json.dumps({{"prices": outputs["prices"].numpy().tolist()}}))
        """
    )
    expected = trained.trained_run.predict(windows)["prices"]
    np.testing.assert_allclose(served["prices"], expected, rtol=1e-5)
    last_close = windows[:, -1, 3]
    assert np.all(np.abs(np.log(expected[:, 0] / last_close)) < 0.1)  # a day's move, in dollars of the input


def test_keras_load_model_after_import_toolkit_serves_like_the_saved_model(trained, loaded_by_keras):
    ibm = load_bokeh_prices()["IBM"]
    windows = np.stack([ibm.iloc[start : start + WINDOW].to_numpy() for start in (100, 2000)]).astype("float32")
    served = loaded_by_keras(trained.run_dir, windows)
    assert served["class"] == "PriceForecaster"
    np.testing.assert_allclose(served["prices"], trained.trained_run.predict(windows)["prices"], rtol=1e-5)


def test_predict_takes_a_dataframe_or_a_csv_of_recent_rows(trained, tmp_path):
    task = toolkit.load(trained.run_dir)
    rows = ar_series_csv(tmp_path / "NEW.csv", seed=1, days=40)
    frame = pd.read_csv(rows)
    from_frame = task.predict(frame)["prices"]
    from_csv = task.predict(str(rows))["prices"]
    last = frame.iloc[-WINDOW:][["Open", "High", "Low", "Close", "Volume"]].to_numpy("float32")[None]
    np.testing.assert_allclose(from_frame, task.predict(last)["prices"], rtol=1e-6)
    np.testing.assert_allclose(from_csv, from_frame, rtol=1e-6)
    with pytest.raises(ValueError, match=r"expected windows of shape \(batch, 11, 5\).*got \(1, 7, 5\)"):
        task.predict(last[:, :7])
    with pytest.raises(ValueError, match="5 rows given; the model needs the last 11 days"):
        task.predict(frame.iloc[:5])


def test_fine_tuning_on_a_new_tickers_csv_learns_its_momentum(trained, tmp_path):
    task = toolkit.load(trained.run_dir)
    train_csv, held_out_csv = ar_series_csv(tmp_path / "MOMO.csv", seed=2), ar_series_csv(tmp_path / "HELD.csv", seed=3)
    before = task.evaluate(held_out_csv)["headline"]["skill_vs_persistence"]
    history = task.fine_tune(train_csv, epochs=8, learning_rate=3e-3)
    after = task.evaluate(held_out_csv)
    assert len(history["loss"]) == 8 and "val_loss" in history
    assert set(after["per_ticker"]) == {"HELD"}
    assert after["headline"]["skill_vs_persistence"] < min(0.9, before - 0.05), (before, after["headline"])
    assert after["headline"]["verdict"].startswith("The model beats persistence")


def test_class_names_are_refused_for_a_forecaster(trained):
    task = toolkit.load(trained.run_dir)
    model = task.model
    with pytest.raises(ValueError, match=r"class_names applies to classifiers; a stock task \(PriceForecaster\) has no classes"):
        task.fine_tune((np.zeros((4, WINDOW, 5)), np.zeros((4, 1))), epochs=1, class_names=["up", "down"])
    assert task.model is model, "the forecaster, with its output un-scaling, is kept as it was"
