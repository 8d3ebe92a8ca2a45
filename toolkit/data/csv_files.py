"""Reading CSV files with errors that name the file, the column and the lines at fault."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from toolkit.errors import InputError


def read_csv(path: str | Path, what: str) -> pd.DataFrame:
    """Reads a CSV with pandas; only an empty cell counts as missing.

    Args:
        path: The file.
        what: What the file holds, for the message when it is missing, such as `"Price CSV"`.

    Raises:
        FileNotFoundError: If the file is missing.
        InputError: If pandas cannot parse it, a column name repeats, or it has
            no data rows, naming the file.
    """
    path = Path(path)
    if path.is_dir():
        raise InputError(f"{path}: is a folder; expected a {what}.")
    if not path.is_file():
        raise FileNotFoundError(f"{what} not found: {path}")
    try:
        header = pd.read_csv(path, header=None, nrows=1, dtype=str, keep_default_na=False).iloc[0].tolist()
        # Only an empty cell is missing: a review that reads "NA" or "None" is a text.
        frame = pd.read_csv(path, keep_default_na=False, na_values=[""])
    except pd.errors.EmptyDataError:
        raise InputError(f"{path}: the file is empty; expected a header line and data rows.") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as error:
        raise InputError(f"{path}: not a readable CSV: {error}") from None
    repeated = sorted({name for name in header if header.count(name) > 1})
    if repeated:
        raise InputError(f"{path}: column(s) {', '.join(map(repr, repeated))} appear more than once in the header line.")
    if frame.empty:
        raise InputError(f"{path}: no data rows, only the header line ({', '.join(map(str, frame.columns))}).")
    return frame


def reject_rows(source: str | Path, column: str, bad: pd.Series, problem: str, hint: str = "") -> None:
    """Raises an `InputError` naming the source, column and first rows where `bad` holds.

    Args:
        source: A CSV file's path, whose rows are named by line number; or a
            description such as `"predict: DataFrame"`, whose rows are named by
            their index labels.
        column: The column at fault.
        bad: A boolean Series indexed like the frame (`read_csv`'s: from 0, after the header).
        problem: What is wrong, such as `"empty text"`.
        hint: How to fix it, appended after the rows.
    """
    if not bad.any():
        return
    if isinstance(source, Path):
        # +2: pandas counts from 0 after the header line; editors count lines from 1.
        rows = "line(s) " + ", ".join(str(int(index) + 2) for index in bad[bad].index[:5])
    else:
        rows = "row(s) " + ", ".join(str(index) for index in bad[bad].index[:5])
    raise InputError(f"{source}: column {column!r}: {problem} on {rows}" + (f"; {hint}" if hint else "") + ".")
