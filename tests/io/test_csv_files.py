"""Reading users' CSVs: what counts as missing, kept columns read in chunks, and errors naming the file, column and lines."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from toolkit.errors import InputError
from toolkit.io import csv_files
from toolkit.io.csv_files import read_csv, reject_rows


def write(tmp_path, text: str | bytes, name: str = "data.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return path


def test_only_an_empty_cell_is_missing_so_na_and_none_stay_texts(tmp_path):
    frame = read_csv(write(tmp_path, "text,label\nNA,1\nNone,0\n,1\nnull,0\n"), "Review CSV")
    assert frame["text"].tolist()[:2] == ["NA", "None"]
    assert pd.isna(frame["text"][2]) and frame["text"][3] == "null"
    assert frame["label"].tolist() == [1, 0, 1, 0]


def test_kept_columns_are_read_in_chunks_and_the_others_dropped(tmp_path, monkeypatch):
    monkeypatch.setattr(csv_files, "CHUNK_ROWS", 2)
    rows = "".join(f"{index},x{index},{index * 10}\n" for index in range(5))
    frame = read_csv(write(tmp_path, "id,text,score\n" + rows), "CSV", columns=["score", "id"])
    assert sorted(frame.columns) == ["id", "score"]
    assert frame["score"].tolist() == [0, 10, 20, 30, 40] and frame.index.tolist() == [0, 1, 2, 3, 4]


def test_a_missing_file_or_a_folder_is_named_with_what_was_expected(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"Price CSV not found: .*nowhere.csv"):
        read_csv(tmp_path / "nowhere.csv", "Price CSV")
    with pytest.raises(InputError, match=r"is a folder; expected a Price CSV\."):
        read_csv(tmp_path, "Price CSV")


def test_a_repeated_or_missing_column_is_named(tmp_path):
    with pytest.raises(InputError, match=r"column\(s\) 'a', 'b' appear more than once in the header line\."):
        read_csv(write(tmp_path, "a,b,a,b,c\n1,2,3,4,5\n"), "CSV")
    with pytest.raises(InputError, match=r"data.csv: no column 'label'; columns are text, score\."):
        read_csv(write(tmp_path, "text,score\nfine,1\n"), "CSV", columns=["text", "label"])


def test_an_empty_file_a_header_alone_and_unparsable_text_are_refused_naming_the_file(tmp_path):
    path = write(tmp_path, "")
    with pytest.raises(InputError, match=rf"{path}: the file is empty; expected a header line and data rows\."):
        read_csv(path, "CSV")
    with pytest.raises(InputError, match=r"no data rows, only the header line \(text, label\)\."):
        read_csv(write(tmp_path, "text,label\n"), "CSV")
    with pytest.raises(InputError, match=r"no data rows, only the header line"):
        read_csv(write(tmp_path, "text,label\n"), "CSV", columns=["text"])
    with pytest.raises(InputError, match=r"data.csv: not a readable CSV: .*Expected 2 fields in line 3, saw 3"):
        read_csv(write(tmp_path, "a,b\n1,2\n1,2,3\n"), "CSV")
    with pytest.raises(InputError, match=r"data.csv: not a readable CSV: .*can't decode byte 0xff"):
        read_csv(write(tmp_path, b"a,b\n\xff\xfe,1\n"), "CSV")


def test_rejected_rows_of_a_file_are_its_line_numbers_and_of_a_frame_its_index_labels():
    bad = pd.Series([False, True, False, True])
    with pytest.raises(InputError) as raised:
        reject_rows(Path("prices.csv"), "Close", bad, "price that is not positive", "give prices above 0")
    # Index 1 is the third line: the header is line 1.
    assert str(raised.value) == "prices.csv: column 'Close': price that is not positive on line(s) 3, 5; give prices above 0."
    labelled = pd.Series([True, False, True], index=["2013-01-02", "2013-01-03", "2013-01-04"])
    with pytest.raises(InputError, match=r"^predict: DataFrame: column 'volume': negative volume on row\(s\) 2013-01-02, 2013-01-04\.$"):
        reject_rows("predict: DataFrame", "volume", labelled, "negative volume")


def test_only_the_first_five_rows_are_named_and_nothing_is_raised_without_one():
    with pytest.raises(InputError, match=r"on line\(s\) 2, 3, 4, 5, 6\.$"):
        reject_rows(Path("a.csv"), "x", pd.Series([True] * 9), "gap")
    assert reject_rows(Path("a.csv"), "x", pd.Series([False] * 9), "gap") is None
