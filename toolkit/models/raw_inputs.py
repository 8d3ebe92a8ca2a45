"""What a Python user passes to `predict`, turned into the batch a task model's serving signature takes.

Texts, images (arrays or files) and price windows (arrays, DataFrames or
CSVs) are each checked here, with a message that says what is taken; files
are read by `toolkit.io`, exactly as training data is.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from toolkit.errors import InputError, InputTypeError
from toolkit.io.image_files import read_image_files
from toolkit.io.price_files import RAW_FEATURES, as_price_frame, read_price_csv


def as_text_array(texts, argument: str = "texts") -> np.ndarray:
    """Turns one text, or a list, tuple, Series or 1-D array of texts, into an object array of `str`.

    A text is a `str`, or `bytes` in UTF-8; `bytes` are one text, not a
    sequence of numbers.

    Args:
        texts: The texts.
        argument: What they were given as, for messages.

    Raises:
        InputTypeError: A `TypeError`: For a mapping (whose keys would be taken for texts), a
            DataFrame, something that is not a sequence, or an item that is
            not a text, saying what is taken.
        InputError: For an array of more than one dimension, or bytes that are not UTF-8.
    """
    taken = "a string, or a list, tuple, pandas Series or 1-D array of strings"
    if isinstance(texts, (str, bytes)):
        texts = [texts]
    if isinstance(texts, Mapping):
        raise InputTypeError(f"{argument}: expected {taken}; got {type(texts).__name__}, whose keys would be read as texts. "
                        "Pass its values, such as list(mapping.values()).")
    if isinstance(texts, pd.DataFrame):
        raise InputTypeError(f"{argument}: expected {taken}; got a DataFrame. Pass one column, such as frame['text'].")
    if not isinstance(texts, (list, tuple, pd.Series, np.ndarray)):
        raise InputTypeError(f"{argument}: expected {taken}; got {type(texts).__name__}.")
    nested = np.ndim(texts) > 1 if isinstance(texts, np.ndarray) else any(
        isinstance(text, (list, tuple, np.ndarray, pd.Series)) for text in texts
    )
    if nested:
        raise InputError(f"{argument}: expected one text per example, a 1-D array; got shape {np.shape(texts)}.")
    return np.array([_text(text, f"{argument}[{index}]", taken) for index, text in enumerate(texts)], dtype=object)


def _text(value, where: str, taken: str) -> str:
    if isinstance(value, bytes):
        try:
            value = value.decode("utf-8")
        except UnicodeDecodeError as error:
            raise InputError(f"{where}: bytes that are not UTF-8 ({error.reason} at byte {error.start}).") from None
    if isinstance(value, str):
        return str(value)
    raise InputTypeError(f"{where}: expected {taken}; got {type(value).__name__} ({value!r:.40}) among them.")


def as_image_batch(images, image_shape: list[int] | tuple[int, ...], max_pixels: int | None = None) -> np.ndarray:
    """uint8 images of `image_shape`: one image `(H, W[, C])`, a batch of them, or image files; an empty list is no images.

    Grayscale images `(H, W)` may come with a channel axis of 1, `(H, W, 1)`.
    Image files (a path, or a list of paths) are read by `read_image_files`,
    each refused from its header if it has more than `max_pixels` pixels.

    Raises:
        InputTypeError: A `TypeError`: For something that is not an array, a
            list of images or image paths (a mapping, say), or images of
            another dtype than uint8.
        InputError: For images of another shape, saying which one is
            expected, or a file that is not an image.
        FileNotFoundError: For an image file that does not exist.
    """
    shape = tuple(image_shape)
    expected = f"uint8 images of shape (batch, {', '.join(map(str, shape))})"
    if isinstance(images, (str, Path)) or (
        isinstance(images, (list, tuple)) and images and all(isinstance(path, (str, Path)) for path in images)
    ):
        return read_image_files([images] if isinstance(images, (str, Path)) else list(images), shape, max_pixels)
    if isinstance(images, (bytes, Mapping)) or not isinstance(images, (list, tuple, np.ndarray)):
        raise InputTypeError(
            f"images: expected {expected}, as an array, a list of arrays or image file paths; "
            f"got {type(images).__name__}."
        )
    images = np.asarray(images)
    if images.size == 0 and images.shape[1:] in ((), shape):
        return np.zeros((0, *shape), "uint8")
    if images.dtype != np.uint8:
        raise InputTypeError(
            f"images: expected {expected}, got {images.dtype}. For values from 0 to 255, convert with .astype('uint8')."
        )
    if len(shape) == 2 and images.ndim in (3, 4) and images.shape[-1] == 1 and images.shape[-3:-1] == shape:
        images = images[..., 0]
    if images.shape == shape:
        images = images[None]
    if images.shape[1:] != shape:
        raise InputError(f"images: expected {expected}, got shape {images.shape}.")
    return images


def as_window_batch(raw_inputs, window: int) -> np.ndarray:
    """float32 windows `(batch, window, 5)` from an array, a DataFrame of recent rows, or CSV paths.

    A DataFrame (columns `RAW_FEATURES` or Yahoo's) and each CSV of one
    ticker give one window: their last `window` days, after the checks of
    `as_price_frame` and `read_price_csv`. An empty list gives no windows.

    Raises:
        InputTypeError: A `TypeError`: For something that is not an array, a list, a DataFrame or
            CSV paths (a mapping, say), saying what is taken.
        InputError: For too few rows, a CSV of several tickers, an array of
            another shape, or values that are not finite or prices that are
            not positive, saying what is expected.
    """
    expected = f"windows of shape (batch, {window}, {len(RAW_FEATURES)}) with columns {', '.join(RAW_FEATURES)}"
    if isinstance(raw_inputs, (str, Path)) or (
        isinstance(raw_inputs, (list, tuple)) and raw_inputs and all(isinstance(x, (str, Path)) for x in raw_inputs)
    ):
        paths = [raw_inputs] if isinstance(raw_inputs, (str, Path)) else raw_inputs
        return np.concatenate([as_window_batch(_single_series(path), window) for path in paths])
    if isinstance(raw_inputs, pd.DataFrame):
        if len(raw_inputs) < window:
            raise InputError(f"predict: {len(raw_inputs)} rows given; the model needs the last {window} days.")
        return as_price_frame(raw_inputs, "predict: DataFrame").to_numpy("float32")[None, -window:]
    if isinstance(raw_inputs, Mapping) or not isinstance(raw_inputs, (list, tuple, np.ndarray)):
        raise InputTypeError(
            f"predict: expected {expected} (an array or nested lists), a DataFrame of one series, or paths of "
            f"one-ticker CSVs; got {type(raw_inputs).__name__}."
        )
    if len(raw_inputs) == 0:
        return np.zeros((0, window, len(RAW_FEATURES)), "float32")
    try:
        values = np.asarray(raw_inputs, dtype="float32")
    except (TypeError, ValueError):
        raise InputTypeError(f"predict: expected {expected}, as numbers; got values that are not numbers.") from None
    values = values[None] if values.ndim == 2 else values
    if values.ndim != 3 or values.shape[1:] != (window, len(RAW_FEATURES)):
        raise InputError(f"predict: expected {expected}, got {values.shape}.")
    _reject_windows(~np.isfinite(values).all(axis=(1, 2)), "values that are not finite numbers")
    prices = values[..., [RAW_FEATURES.index(name) for name in ("open", "high", "low", "close")]]
    _reject_windows((prices <= 0).any(axis=(1, 2)), "prices that are not positive")
    _reject_windows((values[..., RAW_FEATURES.index("volume")] < 0).any(axis=1), "a negative volume")
    high, low, close = (values[..., RAW_FEATURES.index(name)] for name in ("high", "low", "close"))
    _reject_windows((high < low).any(axis=1), "a high below its low")
    _reject_windows(((close < low) | (close > high)).any(axis=1), "a close outside [low, high]")
    return values


def _reject_windows(bad: np.ndarray, problem: str) -> None:
    if bad.any():
        raise InputError(f"predict: window(s) {', '.join(map(str, np.flatnonzero(bad)[:5]))} hold {problem}.")


def _single_series(path) -> pd.DataFrame:
    series = read_price_csv(path)
    if len(series) != 1:
        raise InputError(f"{path}: holds {len(series)} tickers ({', '.join(series)}); predict takes one ticker per file.")
    return next(iter(series.values()))
