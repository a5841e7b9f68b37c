"""Read, validate and split the data package.

Reading parses every cell to its declared type and reports the cells that do
not parse; :func:`validate` then applies the pandera schemas of
:mod:`compendium.schema` and the cross-table rules below. Every problem is a
:class:`Problem` that prints as one line naming the file, the row (the line
of the file, the header being row 1) and the column.

Nothing here writes anything until the whole package is known to be valid:
:func:`split` refuses an invalid package before it touches the build folder.
"""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from . import schema
from .fsutil import FILE_MODE, sha256_bytes, write_if_changed
from .schema import TABLES, TABLES_BY_NAME, Field, Table

DESCRIPTOR = "datapackage.json"
TRUE_WORDS = {"true", "1", "yes"}
FALSE_WORDS = {"false", "0", "no"}


@dataclass(frozen=True, order=True)
class Problem:
    """One problem in the data package, printed as a single line."""

    file: str
    row: int | None
    column: str | None
    message: str

    def __str__(self) -> str:
        where = [self.file]
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"column {self.column}")
        return f"{', '.join(where)}: {self.message}"


class DataPackageError(ValueError):
    """Raised when a data package is invalid; ``problems`` lists every problem."""

    def __init__(self, problems: list[Problem]):
        self.problems = sorted(problems, key=lambda p: (p.file, p.row or 0, p.column or ""))
        lines = "\n".join(str(p) for p in self.problems)
        super().__init__(f"{len(self.problems)} problem(s) in the data package:\n{lines}")


def _row(index_label) -> int:
    """File row of a DataFrame index label (row 1 is the header)."""
    return int(index_label) + 2


def _short(value, width: int = 40) -> str:
    text = str(value)
    return text if len(text) <= width else text[: width - 1] + "…"


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
    """The text cells of a table, indexed so that ``_row(index)`` is the file line.

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
                    _row(raw.index[idx]),
                    f.name,
                    f"expected {expected}, got {_short(values.iloc[idx])!r}",
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


# -- validation -------------------------------------------------------------
_CHECK_MESSAGES = {
    "isin": lambda f, v: f"{_short(v)!r} is not one of: {', '.join(f.enum or ())}",
    "str_matches": lambda f, v: (
        f"{_short(v)!r} is not a valid identifier (lower-case letters, digits, '_' and '-'; "
        "no spaces, slashes or dots)"
    ),
    "greater_than_or_equal_to": lambda f, v: f"must be at least {f.minimum:g}, got {_short(v)}",
    "greater_than": lambda f, v: f"must be greater than {f.exclusive_minimum:g}, got {_short(v)}",
    "less_than_or_equal_to": lambda f, v: f"must be at most {f.maximum:g}, got {_short(v)}",
    "not_nullable": lambda f, v: "empty, but a value is required",
    "field_uniqueness": lambda f, v: f"duplicate key {_short(v)!r}",
}


def _schema_problems(df: pd.DataFrame, table: Table, label: str) -> list[Problem]:
    import pandera.errors

    try:
        schema.pandera_schema(table).validate(df, lazy=True)
        return []
    except pandera.errors.SchemaErrors as err:
        cases = err.failure_cases
    problems = []
    for case in cases.itertuples(index=False):
        check = str(case.check)
        name = check.split("(")[0]
        idx = case.index
        row = None if idx is None or pd.isna(idx) else _row(idx)
        column = None if case.column is None or pd.isna(case.column) else str(case.column)
        if name == "multiple_fields_uniqueness":
            key = ", ".join(table.primary_key)
            problems.append(Problem(label, row, key, f"duplicate key ({key})"))
        elif column in table.field_names and name in _CHECK_MESSAGES:
            f = table.field(column)
            problems.append(
                Problem(label, row, column, _CHECK_MESSAGES[name](f, case.failure_case))
            )
        else:
            problems.append(
                Problem(label, row, column, f"fails {check}: {_short(case.failure_case)}")
            )
    return sorted(set(problems), key=lambda p: (p.row or 0, p.column or ""))


def _not_in(values: pd.Series, allowed) -> np.ndarray:
    """Positions of non-missing values that are not in ``allowed``."""
    return np.flatnonzero((values.notna() & ~values.isin(list(allowed))).to_numpy())


def _cross_table_problems(tables: dict[str, pd.DataFrame], data_dir: Path) -> list[Problem]:
    from .strategies import load_catalogue

    def lab(name: str) -> str:
        return str(data_dir / TABLES_BY_NAME[name].path)

    problems: list[Problem] = []

    def flag(name, positions, column, message_for):
        df = tables[name]
        for pos in positions:
            problems.append(Problem(lab(name), _row(df.index[pos]), column, message_for(pos)))

    # declared foreign keys
    for table in TABLES:
        if table.name not in tables:
            continue
        df = tables[table.name]
        for fk in table.foreign_keys:
            if fk.resource not in tables:
                continue
            ref = tables[fk.resource][fk.reference[0]]
            col = fk.fields[0]
            if ref.empty:
                # one line, not one per row: the empty table is the problem
                n = len(_not_in(df[col], ref))
                if n:
                    problems.append(
                        Problem(
                            lab(table.name),
                            None,
                            col,
                            f"{n} row(s) refer to {fk.resource}.csv, which has no rows",
                        )
                    )
                continue
            flag(
                table.name,
                _not_in(df[col], ref),
                col,
                lambda pos, df=df, col=col, fk=fk: (
                    f"{_short(df[col].iloc[pos])!r} is not a {fk.reference[0]} of {fk.resource}.csv"
                ),
            )

    networks = tables.get("networks")
    orgs = tables.get("organizations")
    if networks is not None and networks.empty:
        problems.append(
            Problem(lab("networks"), None, None, "table has no rows: no network to study")
        )
    if networks is not None:
        no_hospital = networks["general_hospital_has_psychiatry"].fillna(False) & ~networks[
            "has_general_hospital"
        ].fillna(False)
        flag(
            "networks",
            np.flatnonzero(no_hospital.to_numpy()),
            "general_hospital_has_psychiatry",
            lambda pos: "true, but has_general_hospital is false",
        )

    if orgs is not None and networks is not None:
        org_network = orgs.set_index("organization_id")["network_id"]
        counts = orgs.groupby(["network_id", "organization_type"]).size()
        for pos, net in enumerate(networks.itertuples(index=False)):
            row = _row(networks.index[pos])
            if net.network_id not in set(orgs["network_id"]):
                problems.append(
                    Problem(
                        lab("networks"),
                        row,
                        "network_id",
                        f"network {net.network_id!r} has no organizations",
                    )
                )
                continue
            for flag_col, org_type in (
                ("has_general_hospital", "general_hospital"),
                ("has_psychiatric_hospital", "psychiatric_hospital"),
            ):
                present = counts.get((net.network_id, org_type), 0) > 0
                claimed = (
                    bool(getattr(net, flag_col)) if not pd.isna(getattr(net, flag_col)) else False
                )
                if present != claimed:
                    problems.append(
                        Problem(
                            lab("networks"),
                            row,
                            flag_col,
                            f"{str(claimed).lower()}, but organizations.csv lists "
                            f"{'a' if present else 'no'} {org_type} for {net.network_id!r}",
                        )
                    )

        ties = tables.get("ties")
        if ties is not None:
            for col in ("source", "target"):
                owner = ties[col].map(org_network)
                wrong = owner.notna() & (owner != ties["network_id"])
                flag(
                    "ties",
                    np.flatnonzero(wrong.to_numpy()),
                    col,
                    lambda pos, col=col, owner=owner: (
                        f"organization {ties[col].iloc[pos]!r} belongs to network "
                        f"{owner.iloc[pos]!r}, not {ties['network_id'].iloc[pos]!r}"
                    ),
                )
            loops = (ties["source"] == ties["target"]).fillna(False)
            flag(
                "ties",
                np.flatnonzero(loops.to_numpy()),
                "target",
                lambda pos: "a tie cannot join an organization to itself",
            )

        for name, col in (
            ("care_episodes", "follow_up_organization_id"),
            ("service_contacts", "organization_id"),
        ):
            df = tables.get(name)
            if df is None:
                continue
            owner = df[col].map(org_network)
            wrong = owner.notna() & (owner != df["network_id"])
            flag(
                name,
                np.flatnonzero(wrong.to_numpy()),
                col,
                lambda pos, df=df, col=col, owner=owner: (
                    f"organization {df[col].iloc[pos]!r} belongs to network {owner.iloc[pos]!r}, "
                    f"not {df['network_id'].iloc[pos]!r}"
                ),
            )

    strategies = tables.get("network_strategies")
    if strategies is not None:
        known = set(load_catalogue()["strategy_code"])
        flag(
            "network_strategies",
            _not_in(strategies["strategy_code"], known),
            "strategy_code",
            lambda pos: (
                f"unknown strategy code {strategies['strategy_code'].iloc[pos]!r} "
                "(not in the strategy catalogue)"
            ),
        )

    informants = tables.get("informants")
    if informants is not None:
        staff = (
            informants["role"].isin(["manager", "clinical_staff"])
            & informants["organization_type"].isna()
        )
        flag(
            "informants",
            np.flatnonzero(staff.to_numpy()),
            "organization_type",
            lambda pos: f"empty, but required for the role {informants['role'].iloc[pos]!r}",
        )

    codebook = tables.get("codebook")
    if codebook is not None:
        flag(
            "codebook",
            _not_in(codebook["parent_code"], codebook["code"]),
            "parent_code",
            lambda pos: f"{codebook['parent_code'].iloc[pos]!r} is not a code of codebook.csv",
        )

    episodes = tables.get("care_episodes")
    if episodes is not None:
        e = episodes
        for col, earlier, strict, what in (
            ("discharge_date", "admission_date", False, "admission"),
            ("follow_up_date", "discharge_date", False, "discharge"),
            ("readmission_date", "discharge_date", True, "discharge"),
        ):
            bad = (e[col] < e[earlier]) if not strict else (e[col] <= e[earlier])
            flag(
                "care_episodes",
                np.flatnonzero(bad.fillna(False).to_numpy()),
                col,
                lambda pos, col=col, earlier=earlier, what=what: (
                    f"{e[col].iloc[pos]:%Y-%m-%d} is before the {what} date "
                    f"{e[earlier].iloc[pos]:%Y-%m-%d}"
                    if e[col].iloc[pos] < e[earlier].iloc[pos]
                    else f"{e[col].iloc[pos]:%Y-%m-%d} is the {what} date itself"
                ),
            )
        mismatch = e["follow_up_date"].isna() != e["follow_up_organization_id"].isna()
        flag(
            "care_episodes",
            np.flatnonzero(mismatch.to_numpy()),
            "follow_up_organization_id",
            lambda pos: (
                "follow_up_date and follow_up_organization_id must be both given or both empty"
            ),
        )
        contacts = tables.get("service_contacts")
        if contacts is not None:
            flag(
                "service_contacts",
                _not_in(contacts["person_id"], e["person_id"]),
                "person_id",
                lambda pos: (
                    f"person {contacts['person_id'].iloc[pos]!r} "
                    "has no episode in care_episodes.csv"
                ),
            )
    return problems


def validate(data_dir: Path) -> list[Problem]:
    """Every problem of the data package in ``data_dir`` (empty when valid)."""
    data_dir = Path(data_dir)
    tables, problems = read_tables(data_dir)
    if problems:
        # Cell-level problems make later checks noisy; report them first.
        return sorted(problems, key=lambda p: (p.file, p.row or 0, p.column or ""))
    return validate_tables(tables, data_dir)


def validate_tables(tables: dict[str, pd.DataFrame], data_dir: Path) -> list[Problem]:
    """The schema and cross-table problems of tables :func:`read_tables` read cleanly.

    For a caller that needs the tables too (the build): the package is parsed once.
    """
    data_dir = Path(data_dir)
    problems: list[Problem] = []
    for table in TABLES:
        problems.extend(_schema_problems(tables[table.name], table, str(data_dir / table.path)))
    if not problems:
        problems.extend(_cross_table_problems(tables, data_dir))
    return sorted(problems, key=lambda p: (p.file, p.row or 0, p.column or ""))


def load(*data_dirs: Path, check: bool = False) -> dict[str, pd.DataFrame]:
    """Load one or several data packages (e.g. per-network slices) into typed tables.

    Parameters
    ----------
    *data_dirs : Path
        Data package folders; tables of several folders are concatenated.
    check : bool
        Run the full validation first and raise :class:`DataPackageError`.
    """
    if not data_dirs:
        raise ValueError("load() needs at least one data package folder")
    if check:
        problems = [p for d in data_dirs for p in validate(Path(d))]
        if problems:
            raise DataPackageError(problems)
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


# -- writing ----------------------------------------------------------------
def table_to_csv(df: pd.DataFrame, table: Table) -> str:
    """Serialize a typed table exactly as the package stores it (stable bytes)."""
    cols = {}
    for f in table.fields:
        s = df[f.name]
        if f.type == "boolean":
            cols[f.name] = s.map({True: "true", False: "false"}).astype(object).where(s.notna(), "")
        elif f.type == "date":
            cols[f.name] = s.dt.strftime("%Y-%m-%d").astype(object).where(s.notna(), "")
        elif f.type == "integer":
            cols[f.name] = s.astype("Int64").astype(str).where(s.notna(), "")
        else:
            cols[f.name] = s.astype(object).where(s.notna(), "")
    return pd.DataFrame(cols).to_csv(index=False, lineterminator="\n")


def descriptor_json(name: str, title: str, description: str) -> str:
    return json.dumps(schema.datapackage_descriptor(name, title, description), indent=2) + "\n"


def write_package(
    tables: dict[str, pd.DataFrame], out_dir: Path, name: str, title: str, description: str
) -> list[Path]:
    """Write ``tables`` as a data package in ``out_dir``; unchanged files are left alone."""
    out_dir = Path(out_dir)
    written = []
    for table in TABLES:
        path = out_dir / table.path
        if write_if_changed(path, table_to_csv(tables[table.name], table)):
            written.append(path)
    path = out_dir / DESCRIPTOR
    if write_if_changed(path, descriptor_json(name, title, description)):
        written.append(path)
    return written


def content_hash(data_dir: Path) -> str:
    """Short content hash of a data package (its descriptor and tables)."""
    data_dir = Path(data_dir)
    parts = [(data_dir / t.path).read_bytes() for t in TABLES]
    return sha256_bytes(b"\0".join(parts))[:12]


def network_slice(tables: dict[str, pd.DataFrame], network_id: str) -> dict[str, pd.DataFrame]:
    """The rows of every table that concern one network (shared tables whole)."""
    out = {}
    informant_ids = tables["informants"].loc[
        tables["informants"]["network_id"] == network_id, "informant_id"
    ]
    for table in TABLES:
        df = tables[table.name]
        if table.name in schema.SHARED_TABLES:
            out[table.name] = df
        elif "network_id" in df.columns:
            out[table.name] = df[df["network_id"] == network_id].reset_index(drop=True)
        elif table.name == "coded_segments":
            out[table.name] = df[df["informant_id"].isin(informant_ids)].reset_index(drop=True)
        else:  # pragma: no cover - every table is either shared or network-scoped
            raise ValueError(f"do not know how to slice {table.name}")
    return out


def setting_slice(tables: dict[str, pd.DataFrame], setting: str) -> dict[str, pd.DataFrame]:
    """The rows of every table that concern the networks of one setting."""
    ids = tables["networks"].loc[tables["networks"]["setting"] == setting, "network_id"]
    informant_ids = tables["informants"].loc[
        tables["informants"]["network_id"].isin(ids), "informant_id"
    ]
    out = {}
    for table in TABLES:
        df = tables[table.name]
        if table.name in schema.SHARED_TABLES:
            out[table.name] = df
        elif "network_id" in df.columns:
            out[table.name] = df[df["network_id"].isin(ids)].reset_index(drop=True)
        else:
            out[table.name] = df[df["informant_id"].isin(informant_ids)].reset_index(drop=True)
    return out


def is_synthetic(tables: dict[str, pd.DataFrame]) -> bool:
    """True when every row of every table carries the synthetic flag."""
    flags = [df["synthetic"] for df in tables.values() if "synthetic" in df.columns and len(df)]
    return bool(flags) and all(bool(s.fillna(False).all()) for s in flags)


def update_tables(data_dir: Path, texts: dict[str, str], dry_run: bool = False) -> list[Path]:
    """Replace some CSV files of a data package, but only if the result is valid.

    The new files are staged beside links to the package's other files in a
    temporary folder, and that merged package is validated. Its problems are
    reported against ``data_dir``'s files, and nothing in ``data_dir`` changes.
    When it is valid, every new file is written to a temporary file first and
    then all of them are renamed into place, so a failed write leaves the
    package as it was.

    Parameters
    ----------
    data_dir : Path
        The data package to update.
    texts : dict of str to str
        New content (CSV text, header included) of some tables, by table name.
    dry_run : bool
        Validate only; write nothing.

    Returns
    -------
    list of Path
        The files whose content changes (with ``dry_run``, would change).

    Raises
    ------
    DataPackageError
        When the package with the new tables would not be valid.
    """
    data_dir = Path(data_dir)
    unknown = sorted(set(texts) - set(TABLES_BY_NAME))
    if unknown:
        raise ValueError(f"not tables of the data package: {', '.join(unknown)}")
    with tempfile.TemporaryDirectory(prefix="compendium-update-") as tmp:
        staged = Path(tmp)
        for name in [DESCRIPTOR] + [t.path for t in TABLES]:
            if (data_dir / name).exists():
                os.symlink((data_dir / name).resolve(), staged / name)
        for name, text in texts.items():
            path = staged / TABLES_BY_NAME[name].path
            path.unlink(missing_ok=True)
            path.write_text(text, encoding="utf-8")
        problems = validate(staged)
    if problems:
        where = str(staged)
        raise DataPackageError(
            [replace(p, file=p.file.replace(where, str(data_dir), 1)) for p in problems]
        )
    changed = []
    for name, text in texts.items():
        path = data_dir / TABLES_BY_NAME[name].path
        if not path.exists() or path.read_bytes() != text.encode("utf-8"):
            changed.append((path, text.encode("utf-8")))
    if dry_run:
        return [path for path, _ in changed]
    pending = []
    try:
        for path, data in changed:
            fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=data_dir)
            pending.append(tmp_name)
            os.fchmod(fd, FILE_MODE)
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
        for (path, _), tmp_name in zip(changed, pending, strict=True):
            os.replace(tmp_name, path)
    finally:
        for tmp_name in pending:
            Path(tmp_name).unlink(missing_ok=True)
    return [path for path, _ in changed]
