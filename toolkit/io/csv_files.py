"""Reading CSV files with errors that name the file, the column and the lines at fault."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from toolkit.errors import InputError

# Rows parsed at a time when only some columns are kept: the parser then never holds the whole file.
CHUNK_ROWS = 100_000


def read_csv(path: str | Path, what: str, columns: list[str] | None = None) -> pd.DataFrame:
    """Reads a CSV with pandas; only an empty cell counts as missing.

    Args:
        path: The file.
        what: What the file holds, for the message when it is missing, such as `"Price CSV"`.
        columns: Keep only these columns, which the header must have: the
            file is then read `CHUNK_ROWS` rows at a time, and the other
            columns are dropped as it is read. `None` keeps every column.

    Raises:
        FileNotFoundError: If the file is missing.
        InputError: If pandas cannot parse it, a column name repeats, a
            column of `columns` is missing, or it has no data rows, naming the file.
    """
    path = Path(path)
    if path.is_dir():
        raise InputError(f"{path}: is a folder; expected a {what}.")
    if not path.is_file():
        raise FileNotFoundError(f"{what} not found: {path}")
    try:
        header = pd.read_csv(path, header=None, nrows=1, dtype=str, keep_default_na=False).iloc[0].tolist()
        repeated = sorted({name for name in header if header.count(name) > 1})
        if repeated:
            raise InputError(f"{path}: column(s) {', '.join(map(repr, repeated))} appear more than once in the header line.")
        for column in columns or []:
            if column not in header:
                raise InputError(f"{path}: no column {column!r}; columns are {', '.join(map(str, header))}.")
        # Only an empty cell is missing: a review that reads "NA" or "None" is a text.
        read = {"keep_default_na": False, "na_values": [""]}
        if columns is None:
            frame = pd.read_csv(path, **read)
        else:
            chunks = list(pd.read_csv(path, usecols=columns, chunksize=CHUNK_ROWS, **read))
            frame = pd.concat(chunks) if chunks else pd.DataFrame(columns=columns)
    except pd.errors.EmptyDataError:
        raise InputError(f"{path}: the file is empty; expected a header line and data rows.") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as error:
        raise InputError(f"{path}: not a readable CSV: {error}") from None
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
