"""Text files as users give them: one UTF-8 `.txt` file, or a folder of them, read as one stream of documents."""

from __future__ import annotations

from pathlib import Path

from toolkit.errors import InputError

# Between two documents (reviews, files) in a stream; a generated text starts after one.
DOCUMENT_SEPARATOR = "\n"


def read_text_files(path: str | Path) -> str:
    """The text of a UTF-8 `.txt` file, or of a folder's `.txt` files in name order, one document each.

    Raises:
        InputError: Naming the path: missing, no `.txt` file in a folder, not
            UTF-8 (with the byte), or no text at all.
    """
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: no such file or folder; give a UTF-8 .txt file or a folder of them.")
    files = sorted(path.glob("*.txt")) if path.is_dir() else [path]
    if not files:
        raise InputError(f"{path}: a folder without .txt files; give a UTF-8 .txt file or a folder of them.")
    documents = []
    for file in files:
        try:
            documents.append(file.read_text(encoding="utf-8").strip("\n"))
        except UnicodeDecodeError as error:
            raise InputError(f"{file}: not UTF-8 text ({error.reason} at byte {error.start}).") from None
    text = DOCUMENT_SEPARATOR.join(document for document in documents if document.strip())
    if not text.strip():
        raise InputError(f"{path}: no text; a language model needs characters to learn from.")
    return text
