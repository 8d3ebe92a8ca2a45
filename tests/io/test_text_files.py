"""Text files for a language model: one file or a folder of them as one stream of documents, and what is refused."""

from __future__ import annotations

import pytest

from toolkit.errors import InputError
from toolkit.io.text_files import DOCUMENT_SEPARATOR, read_text_files


def test_one_file_is_its_text_without_leading_or_trailing_newlines(tmp_path):
    (tmp_path / "book.txt").write_text("\n\nIt was a dark night.\nThe end.\n\n", encoding="utf-8")
    assert read_text_files(tmp_path / "book.txt") == "It was a dark night.\nThe end."
    (tmp_path / "other.md").write_text("é ü — 日本", encoding="utf-8")
    assert read_text_files(str(tmp_path / "other.md")) == "é ü — 日本", "a file given by name is read whatever its suffix"


def test_a_folders_txt_files_are_read_in_name_order_one_document_each(tmp_path):
    (tmp_path / "b.txt").write_text("second\n", encoding="utf-8")
    (tmp_path / "a.txt").write_text("first", encoding="utf-8")
    (tmp_path / "c.txt").write_text("\n \n", encoding="utf-8")  # blank: left out, with no empty document
    (tmp_path / "notes.md").write_text("not read", encoding="utf-8")
    assert DOCUMENT_SEPARATOR == "\n"
    assert read_text_files(tmp_path) == "first\nsecond"


def test_what_cannot_be_read_is_named(tmp_path):
    with pytest.raises(InputError, match=r"missing: no such file or folder; give a UTF-8 .txt file or a folder of them\."):
        read_text_files(tmp_path / "missing")
    (tmp_path / "notes.md").write_text("text", encoding="utf-8")
    with pytest.raises(InputError, match=r"a folder without .txt files; give a UTF-8 .txt file or a folder of them\."):
        read_text_files(tmp_path)
    (tmp_path / "latin1.txt").write_bytes("café au lait".encode("latin-1"))  # é is byte 3
    with pytest.raises(InputError, match=r"latin1.txt: not UTF-8 text \(invalid continuation byte at byte 3\)\."):
        read_text_files(tmp_path)


def test_no_text_at_all_is_refused(tmp_path):
    (tmp_path / "empty.txt").write_text("\n\n", encoding="utf-8")
    (tmp_path / "spaces.txt").write_text("   \t ", encoding="utf-8")
    for path in (tmp_path / "empty.txt", tmp_path / "spaces.txt", tmp_path):
        with pytest.raises(InputError, match=r"no text; a language model needs characters to learn from\."):
            read_text_files(path)
