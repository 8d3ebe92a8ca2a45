"""What a Python user passes to predict, made into a batch: texts, images (arrays or files) and price windows, or refused."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from toolkit.errors import InputError, InputTypeError
from toolkit.models.raw_inputs import as_image_batch, as_text_array, as_window_batch


def test_texts_of_every_taken_container_become_an_object_array_of_str():
    for texts in ("one text", ["a", "b"], ("a", "b"), pd.Series(["a", "b"]), np.array(["a", "b"])):
        array = as_text_array(texts)
        assert array.dtype == object and all(type(text) is str for text in array)
    assert as_text_array("one text").tolist() == ["one text"]
    assert as_text_array([b"caf\xc3\xa9", b"b"]).tolist() == ["café", "b"], "bytes are one UTF-8 text"
    assert as_text_array(b"bytes").tolist() == ["bytes"]
    assert as_text_array([]).shape == (0,)


def test_texts_and_utf8_bytes_may_come_in_one_list():
    assert as_text_array(["tea", b"caf\xc3\xa9"]).tolist() == ["tea", "café"]


NOT_TEXTS = [
    ({"a": 1}, r"texts: expected a string, or a list.*; got dict, whose keys would be read as texts. Pass its values"),
    (pd.DataFrame({"text": ["a"]}), r"got a DataFrame. Pass one column, such as frame\['text'\]"),
    (42, r"texts: expected .*; got int\.$"),
    (["fine", 3.5], r"texts\[1\]: expected .*; got float \(3.5\) among them\."),
    (["fine", None], r"texts\[1\]: .*got NoneType \(None\) among them\."),
]


def test_what_is_not_texts_is_a_type_error_saying_what_is_taken():
    for texts, message in NOT_TEXTS:
        with pytest.raises(InputTypeError, match=message):
            as_text_array(texts)


def test_texts_of_two_dimensions_or_bytes_that_are_not_utf8_are_refused():
    with pytest.raises(InputError, match=r"reviews: expected one text per example, a 1-D array; got shape \(1, 2\)\."):
        as_text_array([["a", "b"]], "reviews")
    with pytest.raises(InputError, match=r"texts\[0\]: bytes that are not UTF-8 \(invalid start byte at byte 1\)\."):
        as_text_array([b"a\xff"])


def test_one_image_a_batch_and_grayscale_with_a_channel_axis_are_taken():
    image = np.zeros((4, 5), np.uint8)
    assert as_image_batch(image, (4, 5)).shape == (1, 4, 5)
    assert as_image_batch(np.stack([image] * 3), (4, 5)).shape == (3, 4, 5)
    assert as_image_batch(image[..., None], (4, 5)).shape == (1, 4, 5)
    assert as_image_batch(np.stack([image] * 3)[..., None], (4, 5)).shape == (3, 4, 5)
    assert as_image_batch([image, image], (4, 5)).shape == (2, 4, 5)
    assert as_image_batch([], (4, 5, 3)).shape == (0, 4, 5, 3)
    assert as_image_batch(np.zeros((0, 4, 5, 3), np.uint8), (4, 5, 3)).dtype == np.uint8


def test_images_of_another_dtype_kind_or_shape_are_refused_saying_what_is_expected():
    with pytest.raises(InputTypeError, match=r"images: expected uint8 images of shape \(batch, 4, 5\), got float64. For values "
                                             r"from 0 to 255, convert with .astype\('uint8'\)\."):
        as_image_batch(np.zeros((1, 4, 5)), (4, 5))
    with pytest.raises(InputTypeError, match=r"as an array, a list of arrays or image file paths; got dict\."):
        as_image_batch({"image": np.zeros((4, 5), np.uint8)}, (4, 5))
    with pytest.raises(InputTypeError, match=r"got bytes\."):
        as_image_batch(b"\x89PNG", (4, 5))
    with pytest.raises(InputError, match=r"images: expected uint8 images of shape \(batch, 4, 5, 3\), got shape \(2, 4, 5, 1\)\."):
        as_image_batch(np.zeros((2, 4, 5, 1), np.uint8), (4, 5, 3))


def test_image_paths_are_read_as_files_with_the_pixel_limit(tmp_path):
    pixels = np.arange(20, dtype=np.uint8).reshape(4, 5)
    Image.fromarray(pixels).save(tmp_path / "a.png")
    np.testing.assert_array_equal(as_image_batch(str(tmp_path / "a.png"), (4, 5))[0], pixels)
    assert as_image_batch([tmp_path / "a.png", str(tmp_path / "a.png")], (4, 5)).shape == (2, 4, 5)
    with pytest.raises(InputError, match=r"a.png: 5x4 pixels, more than the 10 "):
        as_image_batch(tmp_path / "a.png", (4, 5), max_pixels=10)


def prices(days: int, start: float = 10.0) -> np.ndarray:
    close = start + np.arange(days, dtype="float32")
    return np.stack([close, close + 1, close - 1, close, np.full(days, 100.0, "float32")], axis=-1)


def test_windows_from_arrays_lists_frames_and_csv_files():
    assert as_window_batch(prices(3), 3).shape == (1, 3, 5)
    assert as_window_batch(np.stack([prices(3)] * 2), 3).shape == (2, 3, 5)
    assert as_window_batch(prices(3).tolist(), 3).dtype == np.float32
    assert as_window_batch([], 3).shape == (0, 3, 5)
    frame = pd.DataFrame(prices(5), columns=["open", "high", "low", "close", "volume"])
    np.testing.assert_array_equal(as_window_batch(frame, 3)[0], prices(5)[-3:])  # the last days


def test_a_csv_of_one_ticker_gives_its_last_window(tmp_path):
    rows = "".join(f"2013-01-{day:02d},{10 + day},{11 + day},{9 + day},{10 + day},100\n" for day in range(1, 6))
    (tmp_path / "ibm.csv").write_text("Date,Open,High,Low,Close,Volume\n" + rows)
    windows = as_window_batch(str(tmp_path / "ibm.csv"), 2)
    assert windows.shape == (1, 2, 5) and windows[0, :, 3].tolist() == [14.0, 15.0]
    assert as_window_batch([tmp_path / "ibm.csv"] * 2, 2).shape == (2, 2, 5)
    (tmp_path / "two.csv").write_text("Ticker,Date,Open,High,Low,Close,Volume\nA,2013-01-02,1,1,1,1,1\nB,2013-01-02,1,1,1,1,1\n")
    with pytest.raises(InputError, match=r"two.csv: holds 2 tickers \(A, B\); predict takes one ticker per file\."):
        as_window_batch(tmp_path / "two.csv", 1)


BAD_WINDOWS = [
    (lambda w: w.__setitem__((1, 0, 3), np.nan), "values that are not finite numbers"),
    (lambda w: w.__setitem__((1, 0, 0), 0.0), "prices that are not positive"),
    (lambda w: w.__setitem__((1, 2, 4), -1.0), "a negative volume"),
    (lambda w: w.__setitem__((1, 2, 1), 5.0), "a high below its low"),
    (lambda w: w.__setitem__((1, 2, 3), 100.0), r"a close outside \[low, high\]"),
]


def test_windows_with_bad_values_are_refused_naming_them():
    for change, problem in BAD_WINDOWS:
        windows = np.stack([prices(3)] * 3)
        change(windows)
        with pytest.raises(InputError, match=rf"^predict: window\(s\) 1 hold {problem}\.$"):
            as_window_batch(windows, 3)


def test_windows_of_another_shape_kind_or_length_are_refused():
    with pytest.raises(InputError, match=r"predict: expected windows of shape \(batch, 3, 5\) with columns open, high, low, "
                                         r"close, volume, got \(1, 4, 5\)\."):
        as_window_batch(prices(4)[None], 3)
    with pytest.raises(InputTypeError, match=r"got dict\.$"):
        as_window_batch({"close": [1, 2, 3]}, 3)
    with pytest.raises(InputTypeError, match=r"as numbers; got values that are not numbers\."):
        as_window_batch([[["a"] * 5] * 3], 3)
    with pytest.raises(InputError, match=r"predict: 2 rows given; the model needs the last 3 days\."):
        as_window_batch(pd.DataFrame(prices(2), columns=["open", "high", "low", "close", "volume"]), 3)
