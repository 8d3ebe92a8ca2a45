"""Bad inputs, case by case: each gets one clear error naming the culprit, or the correct empty answer.

One table per area: configs, training data, the Python API, the exported
SavedModels (served in a process that never imports toolkit) and the command
line. Damaged run directories have their own table in `test_run_directory.py`.
Each case asserts the key words of its message.
"""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import keras
import numpy as np
import pandas as pd
import pytest
import tensorflow as tf
from PIL import Image

import toolkit
import toolkit_cli
from toolkit import api, cli, run_directory
from toolkit.data.images import load_image_directory
from toolkit.data.text import TextDataConfig, load_text_csv, load_text_splits
from toolkit.errors import InputError, Notice, TrainingDivergedError
from toolkit.evaluation.classification import classification_metrics
from toolkit.io.price_files import read_price_csv
from toolkit.strict_json import dumps
from toolkit.training import _check_finite_loss, keras_verbosity
from toolkit_cli import run as main

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = ROOT / "configs"

# Texts with nothing to read once normalised: refused everywhere, never answered with a NaN probability.
WORDLESS = {
    "a zero-width space": "\u200b", "an ideographic space": "\u3000", "a line separator": "\u2028",
    "a NUL": "\x00", "markup": "<br />", "punctuation": "?", "tabs and newlines": " \t\n ",
}

# The smallest runs that train and export: seconds each.
TINY_RUNS = {
    "sentiment": ("sentiment_smoke.yaml", ["trainer.epochs=1", "data.max_examples=300"]),
    "image_classification": (
        "image_classification_smoke.yaml", ["trainer.epochs=1", "data.source=digits", "data.max_examples=400"]
    ),
    "stock": ("stock_smoke.yaml", ["trainer.epochs=1", "data.walk_forward_folds=0", "data.tickers=[IBM]"]),
    "captioning": ("captioning_smoke.yaml", ["trainer.epochs=1", "data.train_images=64"]),
}


@dataclass
class Case:
    """One bad input: `call(context)` must raise `error` with a message matching `match`, or return what `check` accepts."""

    name: str
    call: Callable[[Any], Any]
    error: type[BaseException] | None = None
    match: str = ""
    check: Callable[[Any], bool] | None = None


def run_cases(cases: list[Case]):
    return pytest.mark.parametrize("case", cases, ids=[case.name for case in cases])


def assert_case(case: Case, context) -> None:
    if case.error is None:
        assert case.check(case.call(context)), case.name
        return
    with pytest.raises(case.error, match=case.match):
        case.call(context)


@pytest.fixture(scope="module")
def tasks(tmp_path_factory) -> dict[str, toolkit.RunResult]:
    output = tmp_path_factory.mktemp("runs")
    return {
        name: toolkit.run(name, CONFIGS / config, overrides, run_name="tiny", output_dir=output)
        for name, (config, overrides) in TINY_RUNS.items()
    }


# Configs.


def load(overrides: list[str], name: str = "stock"):
    return api.resolve_config(name, None, overrides)


def config_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(text)
    return path


def loads_with_notice(path: Path) -> bool:
    with pytest.warns(Notice, match=f"{path.name} holds no settings: the pipeline's defaults apply"):
        config = api.resolve_config("stock", path)
    return config == load([])


CONFIG_CASES = [
    Case("learning rate NaN", lambda _: load(["trainer.learning_rate=.nan"]), InputError,
         r"trainer.learning_rate: expected a finite number, got nan"),
    Case("learning rate inf", lambda _: load(["trainer.learning_rate=.inf"]), InputError,
         r"trainer.learning_rate: expected a finite number, got inf"),
    Case("negative infinity", lambda _: load(["trainer.weight_decay=-.inf"]), InputError,
         r"trainer.weight_decay: expected a finite number, got -inf"),
    Case("NaN in a nested section", lambda _: load(["model.dropout=.nan"]), InputError,
         r"model.dropout: expected a finite number"),
    Case("trainer null", lambda _: load(["trainer=null"]), InputError,
         r"trainer: a section cannot be null; leave the key out to keep its defaults"),
    Case("nested section null", lambda _: load(["model.recurrent=null"]), InputError,
         r"model.recurrent: a section cannot be null"),
    Case("empty section in YAML", lambda tmp: api.resolve_config("stock", config_file(tmp, "data:\n")), InputError,
         r"config.yaml: data: a section cannot be null"),
    Case("empty file", lambda tmp: loads_with_notice(config_file(tmp, "")), check=bool),
    Case("comments only", lambda tmp: loads_with_notice(config_file(tmp, "# nothing set yet\n")), check=bool),
    Case("unknown key", lambda _: load(["trainer.epochz=3"]), InputError, r"unknown key 'trainer.epochz'. Did you mean 'epochs'"),
    Case("wrong type", lambda _: load(["trainer.epochs=three"]), InputError, r"trainer.epochs: expected int, got str 'three'"),
    Case("below the minimum", lambda _: load(["trainer.epochs=0"]), InputError, r"trainer.epochs: 0 is below the minimum 1"),
    Case("a python tag", lambda tmp: api.resolve_config("stock", config_file(tmp, "trainer: !!python/object:os.system {}\n")),
         InputError, r"config.yaml: not valid YAML"),
    Case("not UTF-8", lambda tmp: api.resolve_config("stock", config_file(tmp, "") and (tmp / "config.yaml").write_bytes(
        b"trainer:\n  epochs: \xff\n") and tmp / "config.yaml"), InputError, r"config.yaml: not UTF-8 text"),
    Case("an unknown feature", lambda _: load(["features=[log_return, bogus]"]), InputError,
         r"features\[1\]: 'bogus' is not one of 'log_return', 'log_range', 'log_volume_change', 'relative_close'"),
    Case("no features", lambda _: load(["features=[]"]), InputError, r"features: give at least one of log_return"),
    Case("not YAML", lambda tmp: api.resolve_config("stock", config_file(tmp, "trainer: [1,\n")), InputError,
         r"config.yaml: not valid YAML"),
    Case("a list for the whole config", lambda tmp: api.resolve_config("stock", config_file(tmp, "- 1\n")), InputError,
         r"config.yaml: config: expected a mapping of keys, got list"),
    Case("override without a value", lambda _: load(["trainer.epochs"]), InputError,
         r"Override 'trainer.epochs' is not of the form key.path=value"),
    Case("a CSV path for another source", lambda _: load(["data.csv_path=reviews.csv"], "sentiment"), InputError,
         r"data.csv_path is set, but data.source is movie_reviews; set data.source=csv to read it"),
    Case("an image folder for another source", lambda _: load(["data.directory=photos"], "image_classification"),
         InputError, r"data.directory is set, but data.source is fashion_mnist; set data.source=directory"),
    Case("price CSVs for another source", lambda _: load(["data.csv_paths=[a.csv]"]), InputError,
         r"data.csv_paths is set, but data.source is bokeh_sampledata"),
    Case("a ticker twice", lambda _: load(["data.tickers=[IBM, IBM]"]), InputError,
         r"data.tickers: \['IBM', 'IBM'\] names a ticker more than once"),
    Case("duplicate class names", lambda _: load(["data.class_names=[a, a]"], "sentiment"), InputError,
         r"data.class_names: class names must differ; 'a' appear more than once"),
    Case("blank class names", lambda _: load(["data.class_names=['', ' ']"], "sentiment"), InputError,
         r"data.class_names: class names must not be blank"),
    Case("one class name", lambda _: load(["data.class_names=[a]"], "sentiment"), InputError,
         r"data.class_names: \['a'\] holds 1 class name\(s\); a classifier needs at least two"),
    Case("too few examples", lambda _: load(["data.max_examples=3"], "sentiment"), InputError,
         r"data.max_examples: 3 is below the minimum 20"),
    Case("an override is blamed, not the file", lambda tmp: api.resolve_config(
        "stock", config_file(tmp, "data:\n  window: 11\n"), ["data.window=1"]), InputError,
         r"^overrides: data.window: 1 is below the minimum 3"),
    Case("missing config file", lambda tmp: api.resolve_config("stock", tmp / "nowhere.yaml"), FileNotFoundError,
         r"Config file not found: .*nowhere.yaml"),
]


@run_cases(CONFIG_CASES)
def test_config(case, tmp_path):
    assert_case(case, tmp_path)


# Training data, checked before any training.


def text_csv(tmp_path: Path, content: str | bytes, **kwargs):
    path = tmp_path / "reviews.csv"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    return load_text_csv(path, "text", "label", **kwargs)


def text_splits(tmp_path: Path, content: str, **kwargs):
    (tmp_path / "reviews.csv").write_text(content)
    return load_text_splits(TextDataConfig(source="csv", csv_path=str(tmp_path / "reviews.csv"), **kwargs))


def image_folder_with_broken_link(tmp_path: Path):
    (tmp_path / "images" / "dog").mkdir(parents=True)
    (tmp_path / "images" / "dog" / "gone.png").symlink_to(tmp_path / "nowhere.png")
    return image_folder(tmp_path, {"cat/1.png": PNG, "dog/2.png": PNG})


def image_bytes(image_format: str) -> bytes:
    """An 8x8 RGB image in `image_format` (WEBP, TIFF, ...), by Pillow."""
    buffer = io.BytesIO()
    Image.fromarray(np.random.default_rng(1).integers(0, 256, (8, 8, 3), dtype="uint8")).save(buffer, image_format)
    return buffer.getvalue()


def image_folder_with_notice(tmp_path: Path, files: dict[str, bytes | None]) -> str:
    with pytest.warns(Notice) as notices:
        image_folder(tmp_path, files)
    return " ".join(str(notice.message) for notice in notices)


def image_folder_with_links(tmp_path: Path, same_class: bool):
    """Two classes, and a link: to an image of the same class beside it, or a third class folder linked to another."""
    image_folder(tmp_path, {"cat/1.png": PNG, "dog/2.png": PNG})
    if same_class:
        (tmp_path / "images" / "cat" / "1-again.png").symlink_to(tmp_path / "images" / "cat" / "1.png")
    else:
        (tmp_path / "images" / "kitten").symlink_to(tmp_path / "images" / "cat", target_is_directory=True)
    return load_image_directory(tmp_path / "images", (8, 8))


def price_csv(tmp_path: Path, rows: str, date_format: str | None = None):
    path = tmp_path / "prices.csv"
    path.write_text("Date,Open,High,Low,Close,Volume\n" + rows)
    return read_price_csv(path, date_format)


def image_folder(tmp_path: Path, files: dict[str, bytes | None]):
    """A folder of class sub-folders: `files` maps `class/name` to its bytes, or `class/` to an empty folder."""
    for name, content in files.items():
        path = tmp_path / "images" / name
        if content is None:
            path.mkdir(parents=True, exist_ok=True)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content)
    return load_image_directory(tmp_path / "images", (8, 8))


PNG = tf.io.encode_png(np.random.default_rng(0).integers(0, 256, (32, 32, 3), dtype="uint8")).numpy()
DAYS = "2013-01-02,10,11,9,10,100\n2013-01-03,10,11,9,10.5,100\n"

DATA_CASES = [
    Case("labels of mixed types", lambda tmp: text_csv(tmp, "text,label\na,pos\nb,neg\nc,1\nd,0.5\n"), InputError,
         r"reviews.csv: column 'label': labels of mixed types: class names \(neg, pos\) and numbers \(0.5, 1\), "
         r"the numbers on line\(s\) 4, 5; give every label as a class name, or every label as an integer id"),
    Case("one class", lambda tmp: text_splits(tmp, "text,label\ngood,pos\nfine,pos\n"), InputError,
         r"reviews.csv: column 'label': found only the class 'pos'; a classifier needs examples of at least two classes"),
    Case("one class of ids", lambda tmp: text_splits(tmp, "text,label\ngood,1\nfine,1\n", class_names=["neg", "pos"]),
         InputError, r"found only the class 'pos'"),
    Case("header only", lambda tmp: text_csv(tmp, "text,label\n"), InputError,
         r"reviews.csv: no data rows, only the header line \(text, label\)"),
    Case("empty text file", lambda tmp: text_csv(tmp, ""), InputError, r"reviews.csv: the file is empty"),
    Case("label neither a name nor a whole id", lambda tmp: text_csv(tmp, "text,label\na,0\nb,1\nc,0.5\n"), InputError,
         r"column 'label': a label that is neither a class name nor a whole class id on line\(s\) 4"),
    Case("not UTF-8", lambda tmp: text_csv(tmp, b"text,label\n\xff\xfe bad,1\nok,0\n"), InputError,
         r"reviews.csv: not a readable CSV"),
    Case("empty class folder", lambda tmp: image_folder(tmp, {"cat/1.png": PNG, "dog/": None}), InputError,
         r"images: class folder\(s\) dog hold no images \(.bmp, .gif, .jpeg, .jpg, .png, .webp, .tif, .tiff\); a class "
         r"needs examples"),
    Case("corrupt PNG", lambda tmp: image_folder(tmp, {"cat/1.png": PNG, "dog/2.png": PNG[:30] + b"x" * 40 + PNG[70:]}),
         InputError, r"images: 1 file\(s\) cannot be decoded as images; fix or remove them: .*dog/2.png \(Invalid PNG"),
    Case("truncated PNG", lambda tmp: image_folder(tmp, {"cat/1.png": PNG, "dog/2.png": PNG[: len(PNG) // 2]}),
         InputError, r"dog/2.png \(Invalid PNG data"),
    Case("text named .jpg", lambda tmp: image_folder(tmp, {"cat/1.png": PNG, "dog/notes.jpg": b"not an image"}),
         InputError, r"dog/notes.jpg \(Unknown image file format"),
    Case("a broken link among images", image_folder_with_broken_link, InputError,
         r"1 file\(s\) cannot be decoded as images; fix or remove them: .*dog/gone.png"),
    Case("a folder for a CSV", lambda tmp: load_text_csv(tmp, "text", "label"), InputError, r": is a folder; expected a Text CSV"),
    Case("too few to stratify", lambda tmp: text_splits(tmp, "text,label\n" + "good,pos\nbad,neg\n" * 2), InputError,
         r"4 examples, 2 of the rarest class, are too few to hold out 10% stratified by class"),
    Case("a text that reads NA", lambda tmp: text_csv(tmp, "text,label\nNA,pos\nNone,neg\n"),
         check=lambda loaded: loaded[0].tolist() == ["NA", "None"]),
    Case("a column twice", lambda tmp: text_csv(tmp, "text,label,label\ngood,pos,neg\n"), InputError,
         r"reviews.csv: column\(s\) 'label' appear more than once in the header line"),
    Case("labels true and false", lambda tmp: text_csv(tmp, "text,label\ngood,true\nbad,false\n"), InputError,
         r"column 'label': labels read as true/false; give them as class names, or as the ids 0 and 1"),
    Case("a label that is not a class", lambda tmp: text_csv(tmp, "text,label\ngood,pos\nbad,negative\n",
                                                             class_names=["negative", "positive"]), InputError,
         r"column 'label': label\(s\) 'pos' not among the classes \['negative', 'positive'\] on line\(s\) 2"),
    Case("one class folder", lambda tmp: image_folder(tmp, {"cat/1.png": PNG}), InputError,
         r"expected one sub-folder of images per class, and at least two; found \['cat'\]"),
    Case("day-first dates", lambda tmp: price_csv(tmp, "02/01/2013,10,11,9,10,100\n31/01/2013,10,11,9,10,100\n"),
         InputError, r"prices.csv: column 'Date': missing or unreadable date on line\(s\) 2, 3; dates are read as "
         r"year-month-day \(2013-01-31\); a config's data.date_format gives another layout, such as '%d/%m/%Y'"),
    Case("month-first dates are not guessed", lambda tmp: price_csv(tmp, "01/02/2013,10,11,9,10,100\n"), InputError,
         r"missing or unreadable date on line\(s\) 2"),
    Case("day-first dates with date_format", lambda tmp: price_csv(
        tmp, "02/01/2013,10,11,9,10,100\n31/01/2013,10,11,9,10,100\n", "%d/%m/%Y"),
         check=lambda series: list(series["prices"].index.day) == [2, 31]),
    Case("dates not in date_format", lambda tmp: price_csv(tmp, DAYS, "%d/%m/%Y"), InputError,
         r"column 'Date': missing or unreadable date with data.date_format '%d/%m/%Y' on line\(s\) 2, 3\.$"),
    Case("missing close", lambda tmp: price_csv(tmp, DAYS + "2013-01-04,10,11,9,,100\n"), InputError,
         r"prices.csv: column 'Close': missing or non-numeric value .* on line\(s\) 4"),
    Case("price not positive", lambda tmp: price_csv(tmp, DAYS + "2013-01-04,10,11,9,-1,100\n"), InputError,
         r"column 'Close': price that is not positive on line\(s\) 4"),
    Case("duplicate date", lambda tmp: price_csv(tmp, DAYS + "2013-01-03,10,11,9,10,100\n"), InputError,
         r"column 'Date': duplicate date on line\(s\) 4"),
    Case("price CSV header only", lambda tmp: price_csv(tmp, ""), InputError, r"prices.csv: no data rows"),
    Case("price CSV without Close", lambda tmp: (tmp / "p.csv").write_text("Date,Open\n2013-01-02,1\n")
         and read_price_csv(tmp / "p.csv"), InputError, r"p.csv: missing column\(s\) High, Low, Close, Volume"),
    Case("a review of markup and punctuation only", lambda tmp: text_csv(tmp, "text,label\ngood,pos\n<br />?!,neg\n"),
         InputError, r"reviews.csv: column 'text': no word to read \(a letter or digit; .*\) on line\(s\) 3"),
    Case("a review of a zero-width space", lambda tmp: text_csv(tmp, "text,label\ngood,pos\n\u200b,neg\n"),
         InputError, r"column 'text': no word to read .* on line\(s\) 3"),
    Case("high below low", lambda tmp: price_csv(tmp, DAYS + "2013-01-04,10,9,11,10,100\n"), InputError,
         r"prices.csv: column 'High': High below Low on line\(s\) 4"),
    Case("close above high", lambda tmp: price_csv(tmp, DAYS + "2013-01-04,10,11,9,12,100\n"), InputError,
         r"prices.csv: column 'Close': Close outside \[Low, High\] on line\(s\) 4"),
    Case("dates with a Z suffix", lambda tmp: price_csv(tmp, DAYS.replace("-02,", "-02T00:00:00Z,").replace("-03,", "-03T00:00:00Z,")),
         check=lambda series: [str(day)[:10] for day in series["prices"].index] == ["2013-01-02", "2013-01-03"]),
    Case("files that are not images are named", lambda tmp: image_folder_with_notice(tmp, {"cat/1.png": PNG, "dog/2.png": PNG,
         "dog/notes.txt": b"x", "dog/scan.xcf": b"x"}), check=lambda notice: "skipped 2 file(s) that are not images "
         "toolkit reads (1 .txt, 1 .xcf; such as" in notice),
    Case("webp and tiff images are read", lambda tmp: image_folder(tmp, {"cat/1.webp": image_bytes("WEBP"),
         "dog/2.tiff": image_bytes("TIFF")}), check=lambda loaded: loaded[0].decoded().shape == (2, 8, 8, 3)),
    Case("a linked class folder counts each file once", lambda tmp: image_folder_with_links(tmp, same_class=True),
         check=lambda loaded: len(loaded[0]) == 2),
    Case("a file linked into two classes is refused", lambda tmp: image_folder_with_links(tmp, same_class=False),
         InputError, r"kitten/1.png and .*cat/1.png are the same file, in class folders kitten and cat: an image has one class"),
    Case("a run on a one-class CSV stops before training", lambda tmp: (tmp / "one.csv").write_text(
        "text,label\ngood,pos\nfine,pos\n") and toolkit.run(
        "sentiment", CONFIGS / "sentiment_smoke.yaml", ["data.source=csv", f"data.csv_path={tmp / 'one.csv'}"],
        output_dir=tmp), InputError, r"one.csv: column 'label': found only the class 'pos'"),
]


@run_cases(DATA_CASES)
def test_training_data(case, tmp_path):
    assert_case(case, tmp_path)


def test_a_run_refused_for_its_data_leaves_no_run_directory(tmp_path):
    (tmp_path / "one.csv").write_text("text,label\ngood,pos\nfine,pos\n")
    with pytest.raises(InputError):
        toolkit.run("sentiment", CONFIGS / "sentiment_smoke.yaml", ["data.source=csv", f"data.csv_path={tmp_path / 'one.csv'}"],
                    run_name="refused", output_dir=tmp_path / "runs")
    assert not (tmp_path / "runs" / "sentiment" / "refused").exists()


# The Python API.


def predict(pipeline: str, inputs):
    return lambda tasks: tasks[pipeline].trained_run.predict(inputs)


def empty_outputs(rows_of: dict[str, tuple]):
    """Accepts outputs with no rows and, per output, the given shape after the batch axis."""
    return lambda outputs: set(outputs) == set(rows_of) and all(
        outputs[name].shape == (0, *shape) for name, shape in rows_of.items()
    )


def yahoo_rows(days: int = 12, changes: dict | None = None) -> pd.DataFrame:
    frame = pd.DataFrame({
        "Date": pd.bdate_range("2020-01-01", periods=days).strftime("%Y-%m-%d"),
        "Open": 10.0, "High": 11.0, "Low": 9.0, "Close": 10.0, "Volume": 100,
    })
    for (column, row), value in (changes or {}).items():
        frame.loc[row, column] = value
    return frame


def changed(**changes) -> dict:
    """`Close__10=value` as `{("Close", 10): value}`: the value of column `Close` in row 10."""
    return {(name.split("__")[0], int(name.split("__")[1])): value for name, value in changes.items()}


def same_as_without_channel_axis(tasks) -> bool:
    images = np.random.default_rng(0).integers(0, 256, (3, 8, 8), dtype="uint8")
    task = tasks["image_classification"].trained_run
    return np.allclose(task.predict(images[..., None])["probabilities"], task.predict(images)["probabilities"])


TEXT_TYPES = r"expected a string, or a list, tuple, pandas Series or 1-D array of strings"
SENTIMENT_OUTPUTS = {"label": (), "probability": (), "probabilities": (2,)}
IMAGE_TYPES = r"images: expected uint8 images of shape \(batch, 8, 8\)"
WINDOWS = r"predict: expected windows of shape \(batch, 11, 5\) with columns open, high, low, close, volume"

API_CASES = [
    Case("no texts", predict("sentiment", []), check=empty_outputs(SENTIMENT_OUTPUTS)),
    Case("an empty Series", predict("sentiment", pd.Series([], dtype=object)), check=empty_outputs(SENTIMENT_OUTPUTS)),
    Case("an int", predict("sentiment", 123), TypeError, rf"texts: {TEXT_TYPES}; got int"),
    Case("None", predict("sentiment", None), TypeError, rf"texts: {TEXT_TYPES}; got NoneType"),
    Case("bytes are one text", predict("sentiment", b"great film"), check=lambda out: out["label"].shape == (1,)),
    Case("bytes in a list", predict("sentiment", [b"great film", "dull"]), check=lambda out: out["label"].shape == (2,)),
    Case("bytes not UTF-8", predict("sentiment", [b"\xff\xfe"]), InputError, r"texts\[0\]: bytes that are not UTF-8"),
    Case("a mapping", predict("sentiment", {"text": "great film"}), TypeError,
         r"texts: .*got dict, whose keys would be read as texts. Pass its values"),
    Case("a DataFrame of texts", predict("sentiment", pd.DataFrame({"text": ["good"]})), TypeError,
         r"got a DataFrame. Pass one column, such as frame\['text'\]"),
    Case("numbers among texts", predict("sentiment", ["good", 2]), TypeError, rf"texts\[1\]: {TEXT_TYPES}; got int \(2\)"),
    *(Case(f"a text of {name} only", predict("sentiment", ["good film", text]), InputError,
           r"text: a text needs at least one word .*; texts without one at rows 1\.")
      for name, text in WORDLESS.items()),
    Case("a window with a high below its low", predict("stock", np.where(
        np.arange(55).reshape(1, 11, 5) % 5 == 1, 0.5, 1.0)), InputError, r"window\(s\) 0 hold a high below its low"),
    Case("a DataFrame with a close above its high", predict("stock", yahoo_rows(changes=changed(Close__10=1e6))), InputError,
         r"predict: DataFrame: column 'Close': Close outside \[Low, High\] on row\(s\) 10"),
    Case("evaluate on a CSV with a wordless review", lambda tasks: (tasks["sentiment"].run_dir.parent / "wordless.csv")
         .write_text("text,label\ngood,positive\n'?',negative\n") and tasks["sentiment"].trained_run.evaluate(
             tasks["sentiment"].run_dir.parent / "wordless.csv"), InputError,
         r"wordless.csv: column 'text': no word to read .* on line\(s\) 3"),
    Case("an empty text", predict("sentiment", ["good", "  "]), InputError,
         r"text: a text needs at least one word \(a letter or digit; whitespace, markup and punctuation alone have "
         r"none\); texts without one at rows 1\."),
    Case("fine-tune at a NaN learning rate", lambda tasks: tasks["sentiment"].trained_run.fine_tune(
        (["a", "b"], [1, 0]), learning_rate=float("nan")), InputError,
         r"fine_tune: learning_rate must be a positive finite number, got nan"),
    Case("fine-tune at a negative learning rate", lambda tasks: tasks["sentiment"].trained_run.fine_tune(
        (["a", "b"], [1, 0]), learning_rate=-1.0), InputError, r"learning_rate must be a positive finite number, got -1.0"),
    Case("fine-tune to one class", lambda tasks: tasks["sentiment"].trained_run.fine_tune((["a"], [0]), class_names=["positive"]),
         InputError, r"fine_tune: class_names: \['positive'\] holds 1 class name\(s\); a classifier needs at least two"),
    Case("fine-tune to duplicate classes", lambda tasks: tasks["sentiment"].trained_run.fine_tune(
        (["a"], [0]), class_names=["x", "x"]), InputError, r"class names must differ; 'x' appear more than once"),
    Case("texts in two dimensions", predict("sentiment", np.array([["good", "bad"]])), InputError,
         r"texts: expected one text per example, a 1-D array; got shape \(1, 2\)"),
    Case("no images", predict("image_classification", []),
         check=empty_outputs({"label": (), "probability": (), "probabilities": (10,)})),
    Case("zero images", predict("image_classification", np.zeros((0, 8, 8), "uint8")),
         check=empty_outputs({"label": (), "probability": (), "probabilities": (10,)})),
    Case("grayscale with a channel axis", same_as_without_channel_axis, check=bool),
    Case("float images", predict("image_classification", np.zeros((2, 8, 8), "float32")), TypeError,
         rf"{IMAGE_TYPES}, got float32. For values from 0 to 255, convert with .astype\('uint8'\)"),
    Case("a missing image file", predict("image_classification", "cat.png"), FileNotFoundError,
         r"Image file not found: cat.png"),
    Case("bytes for images", predict("image_classification", b"\x89PNG"), TypeError,
         rf"{IMAGE_TYPES}, as an array, a list of arrays or image file paths; got bytes"),
    Case("a mapping of images", predict("image_classification", {"a": np.zeros((8, 8), "uint8")}), TypeError,
         r"got dict"),
    Case("images of another size", predict("image_classification", np.zeros((2, 9, 8), "uint8")), InputError,
         rf"{IMAGE_TYPES}, got shape \(2, 9, 8\)"),
    Case("no windows", predict("stock", []), check=empty_outputs({"prices": (1,), "log_changes": (1,)})),
    Case("a number for windows", predict("stock", 123), TypeError, rf"{WINDOWS} .*got int"),
    Case("a mapping for windows", predict("stock", {"close": [1.0]}), TypeError, r"got dict"),
    Case("windows of 5 days", predict("stock", np.ones((2, 5, 5))), InputError, rf"{WINDOWS}, got \(2, 5, 5\)"),
    Case("a window with NaN", predict("stock", np.where(np.arange(55).reshape(1, 11, 5) == 3, np.nan, 1.0)),
         InputError, r"predict: window\(s\) 0 hold values that are not finite numbers"),
    Case("a window with a zero price", predict("stock", np.zeros((1, 11, 5))), InputError,
         r"predict: window\(s\) 0 hold prices that are not positive"),
    Case("a DataFrame with a missing close", predict("stock", yahoo_rows(changes=changed(Close__10=np.nan))), InputError,
         r"predict: DataFrame: column 'Close': missing or non-numeric value .* on row\(s\) 10"),
    Case("a DataFrame with a negative close", predict("stock", yahoo_rows(changes=changed(Close__10=-3.0))), InputError,
         r"predict: DataFrame: column 'Close': price that is not positive on row\(s\) 10"),
    Case("a DataFrame with a duplicate date", predict("stock", yahoo_rows(changes=changed(Date__10="2020-01-14"))), InputError,
         r"predict: DataFrame: column 'Date': duplicate date on row\(s\) 10"),
    Case("a DataFrame with an unreadable date", predict("stock", yahoo_rows(changes=changed(Date__10="someday"))), InputError,
         r"predict: DataFrame: column 'Date': missing or unreadable date on row\(s\) 10; give dates as year-month-day"),
    Case("a DataFrame in our layout with NaN", predict("stock", pd.DataFrame(
        {"open": 1.0, "high": 1.0, "low": 1.0, "close": [1.0] * 10 + [np.nan], "volume": 1.0})), InputError,
         r"predict: DataFrame: column 'close': missing or non-numeric value"),
    Case("too few rows", predict("stock", yahoo_rows(5)), InputError, r"predict: 5 rows given; the model needs the last 11 days"),
    Case("no images to caption", predict("captioning", []),
         check=empty_outputs({"caption": (), "log_probability": (), "greedy_caption": (), "greedy_log_probability": ()})),
    Case("grayscale images to caption", predict("captioning", np.zeros((1, 64, 64), "uint8")), InputError,
         r"images: expected uint8 images of shape \(batch, 64, 64, 3\), got shape \(1, 64, 64\)"),
    Case("evaluate an image run on a file", lambda tasks: tasks["image_classification"].trained_run.evaluate("images.csv"),
         InputError, r"data: images.csv is a file, but this pipeline takes \(images, labels\) here, not a file"),
    Case("evaluate on a single array", lambda tasks: tasks["captioning"].trained_run.evaluate(np.zeros((1, 64, 64, 3), "uint8")),
         TypeError, r"data: expected \(images, captions\); got ndarray"),
    Case("evaluate on nothing", lambda tasks: tasks["sentiment"].trained_run.evaluate(([], [])), InputError,
         r"data: no examples; give at least one input and its target"),
    Case("evaluate with labels of mixed kinds", lambda tasks: tasks["sentiment"].trained_run.evaluate((["a", "b"], ["positive", 0])),
         InputError, r"labels: expected class names \(negative, positive\) or integer ids, all of one kind"),
    Case("fine-tune for no epochs", lambda tasks: tasks["sentiment"].trained_run.fine_tune((["a"], [1]), epochs=0), InputError,
         r"fine_tune: epochs must be at least 1, got 0"),
    Case("fine-tune freezing an unknown layer", lambda tasks: tasks["sentiment"].trained_run.fine_tune(
        (["a", "b"], [1, 0]), freeze=["embeding"]), InputError, r"fine_tune: no layer named 'embeding' to freeze"),
]


@run_cases(API_CASES)
def test_python_api(case, tasks):
    assert_case(case, tasks)


def test_one_class_in_a_test_split_gives_strict_json_with_the_reason():
    metrics = classification_metrics([1, 1, 1], np.array([[0.2, 0.8], [0.6, 0.4], [0.1, 0.9]]), ["negative", "positive"])
    assert metrics["roc_auc"] is None
    assert metrics["roc_auc_undefined"] == "ROC-AUC needs examples of every class, and this split has none of negative"
    assert json.loads(dumps(metrics))["roc_auc"] is None


def test_any_other_non_finite_number_is_written_as_null_with_what_it_was():
    written = json.loads(dumps({"mase": float("nan"), "per_epoch": [1.0, float("inf")], "ok": 2.0}))
    kept = json.loads(dumps({"auc": float("nan"), "auc_undefined": "one class"}))
    assert kept == {"auc": None, "auc_undefined": "one class"}
    assert written == {"mase": None, "mase_undefined": "not a finite number (nan): the computation had no defined value", "per_epoch": [1.0, None], "ok": 2.0}


def test_a_loss_that_became_nan_before_any_good_epoch_stops_the_run():
    plain, clipped = keras.optimizers.Adam(0.5), keras.optimizers.Adam(0.5, clipnorm=1.0)
    with pytest.raises(TrainingDivergedError, match=r"The training loss became nan in epoch 1, and no epoch gave weights "
                       r"worth keeping; lower the learning rate \(it was 0.5 when training stopped\), or set trainer.clipnorm"):
        _check_finite_loss({"loss": [float("nan")], "val_loss": [float("nan")]}, plain, "val_loss")
    with pytest.warns(Notice, match=r"became inf in epoch 2 and training stopped there; the weights kept are those of the "
                      r"best epoch by val_loss. To train longer, lower the learning rate \(it was 0.5 when training stopped\)\.$"):
        _check_finite_loss({"loss": [0.5, float("inf")], "val_loss": [0.4, float("nan")]}, clipped, "val_loss")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _check_finite_loss({"loss": [0.5, 0.4]}, plain, "val_loss")


@pytest.mark.parametrize(("terminal", "expected"), [(True, 1), (False, 2)])
def test_progress_is_a_live_bar_on_a_terminal_and_a_line_per_epoch_otherwise(terminal, expected, monkeypatch):
    monkeypatch.setattr(sys.stdout, "isatty", lambda: terminal)
    assert keras_verbosity("auto") == expected
    assert keras_verbosity(0) == 0


# The exported SavedModels, served by TensorFlow alone.

SAVED_MODEL_CASES = {
    # name: (run, the input as a Python expression for the serving process, expected message or rows)
    "a scalar string": ("sentiment", "tf.constant('great film')",
                        r"text: expected string inputs of shape \[batch\], got shape\] \[\]"),
    "strings of rank 2": ("sentiment", "tf.constant([['great', 'film']])", r"got shape\] \[1 2\]"),
    "no strings": ("sentiment", "tf.constant([], tf.string)", 0),
    "a blank text": ("sentiment", "tf.constant(['good', ' '])",
                     r"text: a text needs at least one word \(a letter or digit; .*\); texts without one at rows\] \[1\]"),
    "texts with nothing to read": ("sentiment", f"tf.constant(['good', *{list(WORDLESS.values())!r}])",
                                   r"texts without one at rows\] \[1 2 3 4 5\.\.\.\]"),
    "a batch over serving.max_batch": ("image_classification", "tf.zeros([1025, 8, 8], tf.uint8)",
                                       r"images: this model serves at most 1024 inputs per call \(serving.max_batch\)"),
    "a window with a close above its high": ("stock", "tf.concat([tf.ones([1, 11, 5]), tf.ones([1, 11, 5]) * "
                                             "[[[1.0, 1.0, 1.0, 2.0, 1.0]]]], 0)",
                                             r"a high must be at least its low.*windows at fault\] \[1\]"),
    "images with a channel axis of 1": ("image_classification", "tf.zeros([3, 8, 8, 1], tf.uint8)", 3),
    "images of another height": ("image_classification", "tf.zeros([2, 9, 8], tf.uint8)",
                                 r"images: expected uint8 images of shape \[batch, 8, 8\] or \[batch, 8, 8, 1\], "
                                 r"got shape\] \[2 9 8\]"),
    "one image without its batch axis": ("image_classification", "tf.zeros([8, 8], tf.uint8)", r"got shape\] \[8 8\]"),
    "a scalar for a grayscale model": ("image_classification", "tf.constant(7, tf.uint8)", r"got shape\] \[\]"),
    "wrong-sized images with a channel axis": ("image_classification", "tf.zeros([2, 9, 8, 1], tf.uint8)",
                                               r"got shape\] \[2 9 8 1\]"),
    "RGB images for a grayscale model": ("image_classification", "tf.zeros([2, 8, 8, 3], tf.uint8)",
                                         r"got shape\] \[2 8 8 3\]"),
    "no images": ("image_classification", "tf.zeros([0, 8, 8], tf.uint8)", 0),
    "windows of 5 days": ("stock", "tf.ones([2, 5, 5])",
                          r"windows: expected float32 windows of shape \[batch, 11, 5\] \(11 days of open, high, low, "
                          r"close, volume\), got shape\] \[2 5 5\]"),
    "windows of 12 days": ("stock", "tf.ones([2, 12, 5])", r"got shape\] \[2 12 5\]"),
    "windows of 200 days": ("stock", "tf.ones([1, 200, 5])", r"got shape\] \[1 200 5\]"),
    "windows of 4 features": ("stock", "tf.ones([2, 11, 4])", r"got shape\] \[2 11 4\]"),
    "no windows": ("stock", "tf.ones([0, 11, 5])", 0),
    "windows of zero prices": ("stock", "tf.concat([tf.ones([1, 11, 5]), tf.zeros([1, 11, 5])], 0)",
                               r"windows: prices must be positive finite numbers and volumes finite and not negative; "
                               r"windows at fault\] \[1\]"),
    "a window with NaN": ("stock", "tf.fill([1, 11, 5], float('nan'))", r"windows at fault\] \[0\]"),
    "no images to caption": ("captioning", "tf.zeros([0, 64, 64, 3], tf.uint8)", 0),
    "grayscale images to caption": ("captioning", "tf.zeros([1, 64, 64], tf.uint8)", r"got shape\] \[1 64 64\]"),
}


@pytest.fixture(scope="module")
def served(tasks, tmp_path_factory) -> dict[str, dict]:
    """Each SavedModel case served in one fresh process that never imports toolkit: its error, or its outputs' rows."""
    cases = {name: (str(tasks[run].run_dir / "serving"), expression) for name, (run, expression, _) in SAVED_MODEL_CASES.items()}
    script = tmp_path_factory.mktemp("serving") / "serve.py"
    script.write_text(f"""
import json, sys
import tensorflow as tf
results = {{}}
for name, (path, expression) in {cases!r}.items():
    signature = tf.saved_model.load(path).signatures["serving_default"]
    (argument,) = signature.structured_input_signature[1]
    try:
        outputs = signature(**{{argument: eval(expression)}})
        results[name] = {{"rows": sorted({{int(value.shape[0]) for value in outputs.values()}})}}
    except tf.errors.InvalidArgumentError as error:
        results[name] = {{"error": error.message}}
assert "toolkit" not in sys.modules
print(json.dumps(results))
""")
    completed = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, cwd="/", timeout=600,
        env={"TF_CPP_MIN_LOG_LEVEL": "3", "PATH": "/usr/bin:/bin"},
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    return json.loads(completed.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("name", list(SAVED_MODEL_CASES))
def test_saved_model(name, served):
    expected = SAVED_MODEL_CASES[name][2]
    result = served[name]
    if isinstance(expected, int):
        assert result == {"rows": [expected]}
    else:
        assert "error" in result, result
        assert re.search(expected, result["error"]), result["error"]


# The command line: exit status 2 and one line, with no traceback, for a user's mistake.

CLI_CASES = [
    ("unknown pipeline", ["run", "sentimnet"], r"toolkit run: error: Unknown pipeline 'sentimnet'. Known pipelines:"),
    ("NaN learning rate", ["run", "stock", "--set", "trainer.learning_rate=.nan"],
     r"toolkit run: error: trainer.learning_rate: expected a finite number, got nan"),
    ("null section", ["run", "stock", "--set", "trainer=null"], r"trainer: a section cannot be null"),
    ("missing run", ["predict", "nowhere", "good"], r"toolkit predict: error: nowhere: no such run directory"),
    ("missing config", ["run", "stock", "--config", "nowhere.yaml"], r"Config file not found: nowhere.yaml"),
    ("an unknown price feature", ["run", "stock", "--set", "features=[bogus]"], r"features\[0\]: 'bogus' is not one of"),
]


@pytest.mark.parametrize(("argv", "message"), [case[1:] for case in CLI_CASES], ids=[case[0] for case in CLI_CASES])
def test_command_line(argv, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    error = capsys.readouterr().err
    assert re.search(message, error), error
    assert "Traceback" not in error and len(error.strip().splitlines()) == 1


def test_command_line_names_a_data_file_that_does_not_fit(tasks, tmp_path, capsys):
    (tmp_path / "mixed.csv").write_text("text,label\ngood,positive\nbad,1\n")
    assert main(["evaluate", str(tasks["sentiment"].run_dir), "--data", str(tmp_path / "mixed.csv")]) == 2
    assert "mixed.csv: column 'label': labels of mixed types" in capsys.readouterr().err


def test_command_line_predicts_image_files_resizing_them_and_naming_a_bad_one(tasks, tmp_path, capsys):
    pixels = np.random.default_rng(0).integers(0, 256, (8, 8, 1), dtype="uint8")
    (tmp_path / "digit.png").write_bytes(tf.io.encode_png(pixels).numpy())
    (tmp_path / "large.png").write_bytes(tf.io.encode_png(np.repeat(np.repeat(pixels, 4, 0), 4, 1)).numpy())
    (tmp_path / "notes.png").write_text("not an image")
    run_dir = str(tasks["image_classification"].run_dir)
    assert main(["predict", run_dir, str(tmp_path / "digit.png"), str(tmp_path / "large.png")]) == 0
    output = capsys.readouterr()
    rows = [json.loads(line) for line in output.out.splitlines()]
    assert [row["input"] for row in rows] == [str(tmp_path / "digit.png"), str(tmp_path / "large.png")]
    assert rows[0]["label"] == tasks["image_classification"].trained_run.predict(pixels[..., 0])["label"][0]
    assert 0 < rows[1]["probability"] <= 1
    assert output.err == f"toolkit: notice: {tmp_path / 'large.png'}: 32x32 pixels, resized to 8x8, the model's input.\n"
    assert main(["predict", run_dir, str(tmp_path / "notes.png")]) == 2
    assert capsys.readouterr().err == (
        f"toolkit predict: error: {tmp_path / 'notes.png'}: cannot be decoded as an image (Unknown image file format. "
        "One of JPEG, JPEG XL, PNG, GIF, BMP, WebP required).\n"
    )


def test_command_line_captions_png_and_jpeg_files_and_names_a_corrupt_one(tasks, tmp_path, capsys):
    pixels = np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype="uint8")
    (tmp_path / "shapes.png").write_bytes(tf.io.encode_png(pixels).numpy())
    (tmp_path / "shapes.jpg").write_bytes(tf.io.encode_jpeg(pixels, quality=95).numpy())
    run_dir = str(tasks["captioning"].run_dir)
    assert main(["predict", run_dir, str(tmp_path / "shapes.png"), str(tmp_path / "shapes.jpg")]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [row["input"] for row in rows] == [str(tmp_path / "shapes.png"), str(tmp_path / "shapes.jpg")]
    assert all(isinstance(row["caption"], str) and row["log_probability"] <= 0 for row in rows)
    (tmp_path / "cut.jpg").write_bytes((tmp_path / "shapes.jpg").read_bytes()[:40])
    assert main(["predict", run_dir, str(tmp_path / "cut.jpg")]) == 2
    error = capsys.readouterr().err
    assert error.startswith(f"toolkit predict: error: {tmp_path / 'cut.jpg'}: cannot be decoded as an image (")
    assert len(error.strip().splitlines()) == 1


def test_command_line_reports_a_folder_it_cannot_write_without_a_traceback(tmp_path, capsys, monkeypatch):
    # Root may write anywhere, so the refusal of a read-only folder is played by the file system calls.
    def refuse(path, *args, **kwargs):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(Path, "mkdir", refuse)
    assert main(["run", "stock", "--output-dir", str(tmp_path / "read-only")]) == 2
    assert "read-only/stock: cannot write a run there (Permission denied)" in capsys.readouterr().err
    monkeypatch.setattr(api, "run", lambda *args, **kwargs: refuse(tmp_path / "read-only" / "stock" / "x"))
    assert main(["run", "stock"]) == 2
    assert capsys.readouterr().err == f"toolkit run: error: {tmp_path}/read-only/stock/x: Permission denied\n"


def test_command_line_shows_a_bug_with_its_traceback(monkeypatch):
    def broken(args):
        raise ZeroDivisionError("a bug")

    monkeypatch.setitem(cli._COMMANDS, "describe", broken)
    with pytest.raises(ZeroDivisionError):
        main(["describe", "stock"])


@pytest.mark.parametrize(
    ("line", "hidden"),
    [
        (b"I0000 00:00:1795534796.514455   31197 port.cc:153] oneDNN custom operations are on.\n", True),
        (b"W0000 00:00:1795535923.843634    2964 local_rendezvous.cc:412] Local rendezvous is aborting\n", True),
        (b"E0000 00:00:1795537444.533554   10107 util.cc:131] oneDNN supports DT_BOOL only on platforms with AVX-512.\n", True),
        (b"WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n", True),
        (b"To enable the following instructions: AVX2 AVX512F FMA, in other operations, rebuild TensorFlow\n", True),
        (b"F0000 00:00:1795537444.533554   10107 gpu.cc:9] Check failed: device\n", False),
        (b"E0000 00:00:1795537444.533554   10107 cuda.cc:9] failed call to cuInit\n", False),
        (b"toolkit run: error: trainer: a section cannot be null\n", False),
        (b"Traceback (most recent call last):\n", False),
    ],
)
def test_the_quiet_command_hides_native_notices_but_not_errors(line, hidden):
    assert toolkit_cli.is_native_log_line(line) is hidden


def toolkit_command(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "toolkit_cli", *args], capture_output=True, text=True, cwd=ROOT, timeout=300,
        env={**os.environ, **(env or {})},
    )


def test_the_command_is_quiet_by_default_and_verbose_on_request(tmp_path):
    quiet = toolkit_command("run", "stock", "--set", "trainer=null")
    assert quiet.returncode == 2 and quiet.stdout == ""
    assert quiet.stderr == "toolkit run: error: trainer: a section cannot be null; leave the key out to keep its " \
                           "defaults, or give its keys (`toolkit describe` lists them).\n"
    # An empty cache, so that describe imports TensorFlow whichever test described stock before.
    verbose = toolkit_command("--verbose", "describe", "stock", env={"XDG_CACHE_HOME": str(tmp_path)})
    assert verbose.returncode == 0 and "walk_forward_folds" in verbose.stdout
    assert "oneDNN" in verbose.stderr or "cpu_feature_guard" in verbose.stderr



# The command line's hardening: texts that are files, wordless texts, a full disk, and commands that import no TensorFlow.


def test_predict_refuses_a_file_given_as_a_text_and_reads_its_lines_with_lines(tasks, tmp_path, capsys):
    reviews = tmp_path / "reviews.txt"
    reviews.write_text("A fine film.\nDull.\n")
    run_dir = str(tasks["sentiment"].run_dir)
    assert main(["predict", run_dir, str(reviews)]) == 2
    error = capsys.readouterr().err
    assert "is a file, but this sentiment run takes texts as arguments" in error and f"--lines {reviews}" in error
    assert main(["predict", run_dir, "--lines", str(reviews)]) == 0
    assert [json.loads(line)["input"] for line in capsys.readouterr().out.splitlines()] == ["A fine film.", "Dull."]


def test_predict_reads_a_text_longer_than_a_file_name_may_be_as_a_text(tasks, capsys):
    review = "A fine film, " * 40  # 520 bytes: over the 255 a file name may have, so no file can be looked for
    assert main(["predict", str(tasks["sentiment"].run_dir), review]) == 0
    assert json.loads(capsys.readouterr().out)["input"] == review


@pytest.mark.parametrize("text", list(WORDLESS.values()), ids=list(WORDLESS))
def test_predict_refuses_a_text_with_nothing_to_read_in_one_line(text, tasks, capsys):
    assert main(["predict", str(tasks["sentiment"].run_dir), "good film", text]) == 2
    error = capsys.readouterr().err
    assert "a text needs at least one word" in error and len(error.strip().splitlines()) == 1


def test_a_full_disk_while_writing_a_run_is_one_line(tmp_path, capsys, monkeypatch):
    def full_disk(*args, **kwargs):
        raise tf.errors.ResourceExhaustedError(None, None, f"{tmp_path}/saved_model.pb.tmp; No space left on device")

    monkeypatch.setattr(run_directory.RunSlot, "write", full_disk)
    status = main(["run", "stock", "--config", str(CONFIGS / "stock_smoke.yaml"), "--set", "trainer.epochs=1",
                   "data.walk_forward_folds=0", "data.tickers=[IBM]", "--output-dir", str(tmp_path)])
    error = capsys.readouterr().err
    assert status == 2 and len(error.strip().splitlines()) == 1, error
    assert "No space left on device (a full or read-only disk: nothing finished was replaced" in error


@pytest.mark.slow
def test_help_list_and_a_cached_describe_import_no_tensorflow(tmp_path):
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path)}
    assert subprocess.run([sys.executable, "-m", "toolkit_cli", "describe", "stock"], env=env, capture_output=True).returncode == 0
    checked = subprocess.run([sys.executable, "-c", """
import contextlib, io, sys
import toolkit_cli
for argv in (["list"], ["describe", "stock"], ["--help"]):
    with contextlib.redirect_stdout(io.StringIO()) as out, contextlib.suppress(SystemExit):
        toolkit_cli.main(argv)
    assert out.getvalue(), argv
print(sorted(name for name in ("tensorflow", "keras", "toolkit") if name in sys.modules))
"""], env=env, capture_output=True, text=True, timeout=120)
    assert checked.returncode == 0, checked.stderr[-2000:]
    assert checked.stdout.strip().splitlines()[-1] == "[]"
