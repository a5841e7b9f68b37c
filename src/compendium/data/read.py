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
import re
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
#: The most characters a CSV value may hold: the csv module's default limit, set while a
#: file is read (the limit belongs to the process, and a library may have raised it).
MAX_FIELD_CHARS = 131_072
#: The most characters a CSV row may hold, all its values together, over one line or
#: several. Reading stops there: a file without line breaks, or with a runaway quote,
#: costs at most this much memory before it is refused.
MAX_ROW_CHARS = 1_048_576

#: What ``errors="surrogateescape"`` makes of a byte that is not UTF-8.
_UNDECODED = re.compile("[\udc80-\udcff]")


class _Unreadable(Exception):
    """A row of a CSV file cannot be read: the problem, less the file's name."""

    def __init__(self, row: int, column: str | None, message: str):
        super().__init__(message)
        self.row, self.column, self.message = row, column, message


class _RowTooLong(Exception):
    pass


class _NotUtf8(Exception):
    pass


def _open(path: Path):
    # bytes that are not UTF-8 are kept as lone surrogates, so their line can be named
    return open(path, encoding="utf-8-sig", errors="surrogateescape", newline="")


def _lines(stream, state: list[int]):
    """The lines of a CSV file, each read only as far as the room left in its record.

    ``state`` is shared with the reader of the records: characters read, characters
    read when the current record began, lines read. A record gets ``MAX_ROW_CHARS``
    characters and one more (so that the reader can tell a value too long); then no
    more lines. A byte that is not UTF-8 stops the reading at its line.
    """
    readline, undecoded = stream.readline, _UNDECODED.search
    while True:
        room = MAX_ROW_CHARS - (state[0] - state[1])
        if room < 0:
            raise _RowTooLong()
        line = readline(room + 1)
        if not line:
            return
        state[0] += len(line)
        state[2] += 1
        bad = undecoded(line)
        if bad:
            raise _NotUtf8(ord(bad.group()) - 0xDC00, bad.start())
        yield line


def _record_lines(path: Path, start: int, end: int, cut: int | None = None) -> list[str]:
    """File lines ``start`` to ``end`` of a record, read again as :func:`_lines` read them.

    ``cut``: where the last line stops (after a byte that is not UTF-8).
    """
    lines = []
    with _open(path) as stream:
        for _ in range(start - 1):  # earlier records were read whole, none longer than this
            stream.readline(MAX_ROW_CHARS + 2)
        room = MAX_ROW_CHARS
        for _ in range(start, end + 1):
            line = stream.readline(room + 1)
            room -= len(line)
            lines.append(line)
            if not line or room < 0:
                break
    if cut is not None and lines:
        lines[-1] = lines[-1][: cut + 1]
    return lines


def _cell_column(text: str, header: list[str] | None) -> str | None:
    """The column of the last cell of ``text``, a record read so far (None for the header)."""
    if header is None:
        return None
    previous = csv.field_size_limit(MAX_ROW_CHARS + 2)  # text is one record, cut short
    try:
        cells = next(csv.reader(io.StringIO(text, newline="")), [])
    except csv.Error:
        return None
    finally:
        csv.field_size_limit(previous)
    return header[len(cells) - 1] if 0 < len(cells) <= len(header) else None


def _unreadable(err: Exception, path: Path, start: int, line: int, header) -> _Unreadable:
    """Where and why the record on file lines ``start`` to ``line`` cannot be read."""
    cut = err.args[1] if isinstance(err, _NotUtf8) else None
    lines = _record_lines(path, start, line, cut)
    column = _cell_column("".join(lines), header)
    spans = len(lines) > 1
    if isinstance(err, _NotUtf8):
        msg = f"file is not UTF-8 (byte 0x{err.args[0]:02x}); save it as UTF-8 CSV"
        return _Unreadable(line, column, msg)
    if isinstance(err, _RowTooLong):
        msg = f"the row is longer than {MAX_ROW_CHARS} characters, the most a row may hold"
        if spans:
            msg += '; a double quote (") opened in it is probably never closed'
        return _Unreadable(start, column, msg)
    if "field larger than field limit" in str(err):
        msg = f"a value longer than {MAX_FIELD_CHARS} characters starts in this row"
        msg += (
            ': a double quote (") opened there is probably never closed'
            if spans
            else f" ({MAX_FIELD_CHARS} is the most a value may hold)"
        )
        return _Unreadable(start, column, msg)
    return _Unreadable(start, column, f"not a readable CSV row ({err})")


def _records(path: Path) -> tuple[list[int], list[int], list[list[str]]]:
    """The CSV records of a file, and the file lines each starts and ends on.

    Rows are reported as file lines, so a blank line (skipped) or a quoted value holding
    a line break must not shift the rows after it. Memory per row is bounded (see
    ``MAX_ROW_CHARS``); a row that cannot be read raises :class:`_Unreadable`.
    """
    state = [0, 0, 0]  # see _lines
    starts: list[int] = []
    ends: list[int] = []
    records: list[list[str]] = []
    start = 1
    previous = csv.field_size_limit(MAX_FIELD_CHARS)
    try:
        with _open(path) as stream:
            for cells in csv.reader(_lines(stream, state)):
                if state[0] - state[1] > MAX_ROW_CHARS:  # its last line was cut short
                    raise _RowTooLong()
                # blank lines (and lines of spaces) hold no record
                if len(cells) > 1 or (cells and cells[0].strip()):
                    starts.append(start)
                    ends.append(state[2])
                    records.append(cells)
                start = state[2] + 1
                state[1] = state[0]
    except (csv.Error, _RowTooLong, _NotUtf8) as err:
        raise _unreadable(err, path, start, state[2], records[0] if records else None) from None
    finally:
        csv.field_size_limit(previous)
    return starts, ends, records


def _read_records(path: Path, label: str):
    """What :func:`_records` gives for the file at ``path``, or None and the one problem."""
    try:
        return _records(path), []
    except _Unreadable as err:
        return None, [Problem(label, err.row, err.column, err.message)]
    except OSError as err:
        return None, [Problem(label, None, None, f"cannot read the file ({err.strerror})")]


def csv_records(path: Path, label: str | None = None):
    """The records of a CSV file (UTF-8, blank lines left out), read with bounded memory.

    Returns
    -------
    (list of int, list of list of str, list of Problem)
        The file line each record starts on, the records, and the one problem that
        stopped the reading (then there are no records).
    """
    read, problems = _read_records(path, label or str(path))
    return (read[0], read[2], []) if read is not None else ([], [], problems)


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


def _frame(path: Path, read: tuple, table: Table, label: str):
    """The text cells of a table, indexed so that ``file_row(index)`` is the file line.

    ``read`` is what :func:`_records` returns for ``path``. Returns the frame (None when
    the header or the shape of a row is wrong) and the problems.
    """
    starts, ends, records = read
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
    if len(records) > 1 and _quote_left_open(path, starts[-1], ends[-1], records[-1]):
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


def _quote_left_open(path: Path, start: int, end: int, cells: list[str]) -> bool:
    """True when the record on file lines ``start``..``end`` leaves a double quote open.

    An unmatched quote makes the last record run to the end of the file, line breaks
    included, with an odd number of double quotes in its lines.
    """
    if not any("\n" in c or "\r" in c for c in cells):
        return False
    return "".join(_record_lines(path, start, end)).count('"') % 2 == 1


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
    read, problems = _read_records(path, label)
    if read is None:
        return None, problems
    if not read[2]:
        return None, [Problem(label, 1, None, "file is empty: it needs at least a header row")]
    raw, problems = _frame(path, read, table, label)
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
