"""Reading CSV files with errors that name the file, the column and the lines at fault."""

from __future__ import annotations

from pathlib import Path

import pandas as pd


def read_csv(path: str | Path, what: str) -> pd.DataFrame:
    """Reads a CSV with pandas.

    Args:
        path: The file.
        what: What the file holds, for the message when it is missing, such as `"Price CSV"`.

    Raises:
        FileNotFoundError: If the file is missing.
        ValueError: If pandas cannot parse it, naming the file.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{what} not found: {path}")
    try:
        return pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        raise ValueError(f"{path}: not a readable CSV: {error}") from None


def reject_rows(path: str | Path, column: str, bad: pd.Series, problem: str) -> None:
    """Raises a `ValueError` naming the file, column and first lines where `bad` holds.

    `bad` is indexed like the frame `read_csv` returned (from 0, after the header).
    """
    if bad.any():
        # +2: pandas counts from 0 after the header line; editors count lines from 1.
        lines = [int(index) + 2 for index in bad[bad].index[:5]]
        raise ValueError(f"{path}: column {column!r}: {problem} on line(s) {', '.join(map(str, lines))}.")
