"""Read a data package: parse every cell to its declared type.

Reading reports the cells that do not parse, each as a
:class:`~compendium.data.problems.Problem` that prints as one line naming the
file, the row (the line of the file, the header being row 1) and the column;
:mod:`compendium.data.validate` then applies the schemas and cross-table rules.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import numpy as np
import pandas as pd

from . import schema
from .problems import DataPackageError, Problem, file_row, shorten
from .schema import TABLES, Field, Table

DESCRIPTOR = "datapackage.json"
TRUE_WORDS = {"true", "1", "yes"}
FALSE_WORDS = {"false", "0", "no"}


# -- reading ----------------------------------------------------------------
def _decode(raw: bytes, label: str) -> tuple[str | None, list[Problem]]:
    try:
        return raw.decode("utf-8-sig"), []  # a leading BOM (Excel) is harmless
    except UnicodeDecodeError as err:
        row = raw[: err.start].count(b"\n") + 1
        byte = raw[err.start : err.start + 1].hex()
        msg = f"file is not UTF-8 (byte 0x{byte}); save it as UTF-8 CSV"
        column = _column_holding(raw[: err.end].decode("utf-8-sig", errors="replace"), row)
        return None, [Problem(label, row, column, msg)]


class _UnreadableRow(csv.Error):
    """The CSV reader gave up on the record starting at file line ``row``."""

    def __init__(self, row: int, reason: str):
        super().__init__(reason)
        self.row = row


def _records(text: str) -> tuple[list[int], list[int], list[list[str]]]:
    """The CSV records of ``text``, and the file lines each starts and ends on.

    Rows are reported as file lines, so a blank line (skipped) or a quoted
    value holding a line break must not shift the rows after it.
    """
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        records = list(reader)
        one_line_each = len(records) == reader.line_num
    except csv.Error:
        one_line_each = False  # read again, line by line, to name the row
    if one_line_each:
        starts = ends = list(range(1, len(records) + 1))
    else:
        reader = csv.reader(io.StringIO(text, newline=""))
        starts, ends, records = [], [], []
        try:
            for cells in reader:
                starts.append(ends[-1] + 1 if ends else 1)
                ends.append(reader.line_num)
                records.append(cells)
        except csv.Error as err:
            raise _UnreadableRow(ends[-1] + 1 if ends else 1, str(err)) from None
    # blank lines (and lines of spaces) hold no record
    keep = [i for i, cells in enumerate(records) if len(cells) > 1 or (cells and cells[0].strip())]
    if len(keep) < len(records):
        return [starts[i] for i in keep], [ends[i] for i in keep], [records[i] for i in keep]
    return starts, ends, records


def _column_holding(text: str, row: int) -> str | None:
    """Column of the last cell of ``text`` if that cell is on file line ``row`` (else None)."""
    try:
        starts, ends, records = _records(text)
    except csv.Error:
        return None
    if len(records) < 2 or not starts[-1] <= row <= ends[-1]:
        return None
    header, cells = records[0], records[-1]
    return header[len(cells) - 1] if len(cells) <= len(header) else None


def _parse_column(values: pd.Series, f: Field) -> tuple[pd.Series, pd.Series, str]:
    """Parse text cells to the field's type.

    Returns the parsed column, a mask of non-empty cells that failed to parse,
    and a description of the expected form.
    """
    empty = values == ""
    if f.type == "string":
        return values.mask(empty), pd.Series(False, index=values.index), "text"
    if f.type in ("integer", "number"):
        num = pd.to_numeric(values.mask(empty), errors="coerce")
        bad = ~empty & num.isna()
        if f.type == "integer":
            frac = num.notna() & (num != np.floor(num.fillna(0)))
            bad |= frac
            num = num.mask(frac)
            return num.astype("Float64").astype("Int64"), bad, "a whole number"
        return num.astype("Float64"), bad, "a number"
    if f.type == "boolean":
        lowered = values.str.strip().str.lower()
        out = pd.Series(pd.NA, index=values.index, dtype="boolean")
        out[lowered.isin(TRUE_WORDS)] = True
        out[lowered.isin(FALSE_WORDS)] = False
        bad = ~empty & out.isna()
        return out, bad, "true or false"
    if f.type == "date":
        parsed = pd.to_datetime(values.mask(empty), format="%Y-%m-%d", errors="coerce")
        bad = ~empty & parsed.isna()
        return parsed.astype("datetime64[ns]"), bad, "a date written YYYY-MM-DD"
    raise ValueError(f"unknown field type {f.type!r}")


def _frame(text: str, table: Table, label: str):
    """The text cells of a table, indexed so that ``file_row(index)`` is the file line.

    Returns the frame (None when the header or the shape of a row is wrong) and
    the problems.
    """
    starts, ends, records = _records(text)
    expected = ", ".join(table.field_names)
    header_line, header = starts[0], records[0]
    while header and header[-1] == "":  # trailing empty cells of a spreadsheet export
        header = header[:-1]
    if len(header) == 1:
        for sep, name in ((";", "';'"), ("\t", "tabs")):
            if sep in header[0]:
                msg = (
                    f"columns are separated by {name}, not commas; save the file as CSV "
                    "with comma separators"
                )
                return None, [Problem(label, header_line, None, msg)]
    problems = []
    known = set(table.field_names)
    for i, col in enumerate(header, start=1):
        if col == "":
            msg = f"header cell {i} is empty; expected: {expected}"
            problems.append(Problem(label, header_line, None, msg))
        elif col not in known:
            msg = f"unknown column; expected: {expected}"
            problems.append(Problem(label, header_line, col, msg))
    seen = set()
    for col in header:
        if col in seen and col:
            problems.append(Problem(label, header_line, col, "column appears twice"))
        seen.add(col)
    for f in table.fields:
        if f.required and f.name not in header:
            problems.append(Problem(label, header_line, f.name, "required column is missing"))
    if problems:
        return None, problems

    width = len(header)
    if len(records) > 1 and _quote_left_open(text, starts[-1], ends[-1], records[-1]):
        # the csv reader reads everything after an unmatched quote as one value
        column = header[len(records[-1]) - 1] if len(records[-1]) <= width else None
        msg = (
            'a double quote (") opened in this row is never closed, so the rest of the '
            "file was read as one value"
        )
        return None, [Problem(label, starts[-1], column, msg)]
    rows, lines = records[1:], starts[1:]
    if any(len(cells) != width for cells in rows):
        for start, end, cells in zip(lines, ends[1:], rows, strict=True):
            n = len(cells)
            extra = n > width and any(c != "" for c in cells[width:])
            if end > start and (extra or n < width):
                # a well-formed value may span lines, but not one that upsets the row
                msg = (
                    f'a double quote (") opened in this row is not closed until line {end}, '
                    f"so those lines read as one row of {n} cells (the header has {width})"
                )
            elif extra:
                msg = (
                    f"row has {n} cells, but the header has {width} "
                    "(a comma inside a value? put the value in double quotes)"
                )
            else:
                continue
            problems.append(Problem(label, start, None, msg))
        if problems:
            return None, problems
        # a short row leaves its last cells empty; extra empty cells carry nothing
        rows = [(cells + [""] * width)[:width] for cells in rows]
    index = pd.Index(np.asarray(lines, dtype=np.int64) - 2)
    if index.equals(pd.RangeIndex(len(index))):
        index = pd.RangeIndex(len(index))
    columns = list(zip(*rows, strict=True)) if rows else [()] * width
    data = {
        col: pd.Series(list(values), index=index, dtype=str)
        for col, values in zip(header, columns, strict=True)
    }
    return pd.DataFrame(data, index=index, columns=header), []


def _quote_left_open(text: str, start: int, end: int, cells: list[str]) -> bool:
    """True when the record on file lines ``start``..``end`` leaves a double quote open.

    An unmatched quote makes the last record run to the end of the file, line breaks
    included, with an odd number of double quotes in its lines.
    """
    if not any("\n" in c or "\r" in c for c in cells):
        return False
    lines = io.StringIO(text, newline="").readlines()
    return "".join(lines[start - 1 : end]).count('"') % 2 == 1


def read_table(path: Path, table: Table, label: str | None = None):
    """Read one CSV file and parse its cells.

    Returns
    -------
    (DataFrame or None, list of Problem)
        The parsed table (None when the file cannot be read at all).
    """
    label = label or str(path)
    if not path.exists():
        return None, [Problem(label, None, None, "file is missing")]
    text, problems = _decode(path.read_bytes(), label)
    if text is None:
        return None, problems
    if not text.strip():
        return None, [Problem(label, 1, None, "file is empty: it needs at least a header row")]
    try:
        raw, problems = _frame(text, table, label)
    except _UnreadableRow as err:
        msg = f"not a readable CSV row ({err})"
        if "field larger than field limit" in str(err):
            msg = (
                f"a value longer than {csv.field_size_limit()} characters starts in this row: "
                'a double quote (") opened there is probably never closed'
            )
        return None, [Problem(label, err.row, None, msg)]
    except csv.Error as err:
        return None, [Problem(label, None, None, f"not a readable CSV file ({err})")]
    if raw is None:
        return None, problems

    out = {}
    for f in table.fields:
        if f.name not in raw.columns:  # an optional column may be left out entirely
            values = pd.Series("", index=raw.index, dtype=str)
        else:
            values = raw[f.name].astype(str)
        parsed, bad, expected = _parse_column(values, f)
        for idx in np.flatnonzero(bad.to_numpy()):
            problems.append(
                Problem(
                    label,
                    file_row(raw.index[idx]),
                    f.name,
                    f"expected {expected}, got {shorten(values.iloc[idx])!r}",
                )
            )
        out[f.name] = parsed
    return pd.DataFrame(out, index=raw.index), problems


def read_tables(data_dir: Path) -> tuple[dict[str, pd.DataFrame], list[Problem]]:
    """Read and parse every table of the data package in ``data_dir``."""
    data_dir = Path(data_dir)
    tables: dict[str, pd.DataFrame] = {}
    problems: list[Problem] = []
    descriptor = data_dir / DESCRIPTOR
    if not descriptor.exists():
        problems.append(Problem(str(descriptor), None, None, "descriptor is missing"))
    else:
        try:
            json.loads(descriptor.read_text(encoding="utf-8-sig"))
        except (ValueError, UnicodeDecodeError) as err:
            problems.append(Problem(str(descriptor), None, None, f"not valid JSON ({err})"))
    for table in TABLES:
        df, probs = read_table(data_dir / table.path, table, str(data_dir / table.path))
        problems.extend(probs)
        if df is not None:
            tables[table.name] = df
    return tables, problems


def load(*data_dirs: Path) -> dict[str, pd.DataFrame]:
    """Load one or several data packages (e.g. per-network slices) into typed tables.

    Parameters
    ----------
    *data_dirs : Path
        Data package folders; tables of several folders are concatenated.

    Raises
    ------
    DataPackageError
        When a cell does not parse (the build validates the whole package before
        any notebook loads it: see :mod:`compendium.data.validate`).
    """
    if not data_dirs:
        raise ValueError("load() needs at least one data package folder")
    parts: dict[str, list[pd.DataFrame]] = {t.name: [] for t in TABLES}
    for d in data_dirs:
        tables, problems = read_tables(Path(d))
        if problems:
            raise DataPackageError(problems)
        for name, df in tables.items():
            parts[name].append(df)
    out = {}
    for name, frames in parts.items():
        # a blank line in a file leaves a gap in the index; readers get 0..n-1
        df = pd.concat(frames, ignore_index=True)
        if name in schema.SHARED_TABLES:
            df = df.drop_duplicates(ignore_index=True)
        out[name] = df
    return out
