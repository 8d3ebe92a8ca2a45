"""The numeric core of a price forecaster: raw windows in, prices and log changes out, as the SavedModel serves them."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from toolkit.export.numeric_core import NumericCore, tensorflow_variables
from toolkit.models.forecaster import PriceForecaster


def forecaster_core(model: PriceForecaster) -> NumericCore:
    """`windows`: float32 `(batch, window, 5)`, the raw columns; its features are computed inside, as in the SavedModel.

    The windows' checks (positive prices and so on) are not in it: the
    SavedModel's are assertions, which portable runtimes lack;
    `portable.PriceForecaster` makes the same checks in NumPy.
    """
    spec = model.raw_input_spec()
    close = model.close_index

    def call(windows):
        outputs = model.serving_outputs(windows)
        return {"prices": outputs["prices"], "log_changes": outputs["log_changes"]}

    def example(batch: int) -> dict[str, np.ndarray]:
        random = np.random.default_rng(0)
        closes = 100 * np.exp(np.cumsum(random.normal(0, 0.02, (batch, spec.shape[1])), axis=1))
        windows = np.zeros((batch, *spec.shape[1:]), "float32")
        for index, name in enumerate(model.raw_features):
            scale = {"open": 1.0, "high": 1.01, "low": 0.99, "close": 1.0}.get(name)
            windows[..., index] = closes * scale if scale else random.uniform(1e5, 1e7, closes.shape)
        windows[..., close] = closes
        return {"windows": windows}

    return NumericCore(
        "model",
        "the forecaster's features and network",
        {"windows": tf.TensorSpec(spec.shape, tf.float32)},
        call,
        tensorflow_variables([model.preprocessor, model.network]),
        example,
        loops_over_time=True,
    )
