"""Disclosure control for every table the book publishes (domain.md §10).

Three tools, one threshold:

- :func:`suppress_counts` and :func:`suppress_long` hide small counts in a
  wide or a tidy count table, plus the cells from which a hidden count could
  be worked back from a published total (*complementary suppression*);
- :func:`pseudonym` replaces identifiers by stable, salted labels;
- :func:`small_cells` finds counts that should have been hidden, so a test can
  scan what was actually published.

Marks
-----
A count from 1 to ``THRESHOLD - 1`` is shown as ``"<5"`` (:data:`SMALL_MARK`).
A larger count hidden only to protect a small one is shown as ``"x"``
(:data:`COMPLEMENT_MARK`), never as ``"<5"``, which would be false. Zero is
shown: a structural zero says nothing about any person. :data:`LEGEND` is the
sentence to put under a suppressed table.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import numbers
import re
import warnings
from collections.abc import Hashable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from pandas.api.types import is_bool_dtype, is_numeric_dtype

#: Counts from 1 to THRESHOLD - 1 are small cells and never published.
THRESHOLD = 5

#: What a small count is replaced by.
SMALL_MARK = f"<{THRESHOLD}"


#: What a count hidden to protect a small one is replaced by.
COMPLEMENT_MARK = "x"

#: Caption note for any table that went through :func:`suppress_counts` or
#: :func:`suppress_long`.
LEGEND = (
    f'"{SMALL_MARK}": a count from 1 to {THRESHOLD - 1}. '
    f'"{COMPLEMENT_MARK}": a count of {THRESHOLD} or more, withheld so that no '
    f'"{SMALL_MARK}" count can be worked out from the totals. 0 is a true zero.'
)

#: Columns that may hold the real name of someone or something, by table, and
#: must go through :func:`pseudonym` before they are published. An
#: organization in a real data drop is often recorded under its own name, and
#: in a small territory that name identifies the people it serves. Networks
#: are not listed: their ``name`` is a pseudonymous label chosen by the study
#: and used as a page title, so publishing it is the point.
RAW_NAME_COLUMNS = {"organizations": ("name",)}

_PUBLISHED, _SMALL, _COMPLEMENT = 0, 1, 2
_MARKS = {_SMALL: SMALL_MARK, _COMPLEMENT: COMPLEMENT_MARK}


def is_small(n) -> bool:
    """True for a count of people that is never published (1 to ``THRESHOLD - 1``)."""
    return 0 < n < THRESHOLD


class DisclosureWarning(UserWarning):
    """A hidden count can still be worked out and the table offers no cell to hide it.

    The build can be made to fail on it with
    ``-W error::compendium.report.privacy.DisclosureWarning``.
    """


@dataclass(frozen=True)
class _Line:
    """Cells whose sum readers know: a row or column of a table, or a group."""

    label: str
    members: tuple[int, ...]  # flat cell indices, in table order (breaks ties)
    total: int | None  # flat index of the total when the table shows it
    value: int  # the total itself, known to readers (shown here or elsewhere)


def _span(state: int) -> tuple[float, float]:
    """What a reader knows of a hidden cell from its mark alone."""
    if state == _SMALL:
        return 1, THRESHOLD - 1
    # every small count is already marked, so a complement is at least THRESHOLD
    return THRESHOLD, math.inf


def _pinned(line: _Line, values: list[int], state: list[int]) -> bool:
    """Whether the line's total, published cells and marks leave some hidden cell one value.

    The line says ``sum(hidden members) - hidden total = rhs``. Each hidden
    cell lies in its mark's span; the value of one cell is then confined to
    ``rhs`` minus the span of the sum of the others, intersected with its own
    span. One cell hidden alone is the simplest case (its span collapses to
    the difference); two ``"<5"`` cells summing to 2 is another.
    """
    published = sum(values[i] for i in line.members if state[i] == _PUBLISHED)
    terms = [(1, i) for i in line.members if state[i] != _PUBLISHED]
    if line.total is not None and state[line.total] != _PUBLISHED:
        terms.append((-1, line.total))
        rhs = -published
    else:
        rhs = line.value - published
    if not terms:
        return False
    spans = []
    for sign, i in terms:
        lo, hi = _span(state[i])
        spans.append((lo, hi) if sign > 0 else (-hi, -lo))
    for k, (sign, i) in enumerate(terms):
        rest_lo = sum(s[0] for j, s in enumerate(spans) if j != k)
        rest_hi = sum(s[1] for j, s in enumerate(spans) if j != k)
        lo, hi = rhs - rest_hi, rhs - rest_lo
        if sign < 0:
            lo, hi = -hi, -lo
        own_lo, own_hi = _span(state[i])
        if max(lo, own_lo) == min(hi, own_hi):
            return True
    return False


def _complement(line: _Line, values: list[int], state: list[int]) -> int | None:
    """The next cell to hide in a line: its smallest published non-zero member, else its total."""
    candidates = [
        (values[i], position, i)
        for position, i in enumerate(line.members)
        if state[i] == _PUBLISHED and values[i] > 0
    ]
    if candidates:
        return min(candidates)[2]
    if line.total is not None and state[line.total] == _PUBLISHED and values[line.total] > 0:
        return line.total
    return None


def _protect(values: list[int], passes: Sequence[Sequence[_Line]]) -> list[int]:
    """Primary then complementary suppression; the state (published, small, complement) per cell.

    Each pass (e.g. all rows, then all columns) fixes its lines in order; the
    passes repeat until one full round hides nothing more. A line that stays
    exposed with nothing left to hide raises a :class:`DisclosureWarning`.
    """
    state = [_SMALL if is_small(v) else _PUBLISHED for v in values]
    changed = True
    while changed:
        changed = False
        for lines in passes:
            for line in lines:
                while _pinned(line, values, state):
                    cell = _complement(line, values, state)
                    if cell is None:
                        break
                    state[cell] = _COMPLEMENT
                    changed = True
    # checked at the end: a later pass may have hidden a total that was missing
    exposed = [line.label for lines in passes for line in lines if _pinned(line, values, state)]
    if exposed:
        warnings.warn(
            "a suppressed count can still be worked out from its line's total and nothing "
            f"is left to hide in: {'; '.join(exposed)}; merge categories or do not publish "
            "that total",
            DisclosureWarning,
            stacklevel=3,
        )
    return state


def _row(index: pd.Index, r: int) -> str:
    """``row 3 ('r4')``: position and label, the label as a plain Python value."""
    return f"row {r} ({index[r : r + 1].tolist()[0]!r})"


def _as_counts(column: pd.Series, name: Hashable) -> list[int]:
    """The column as non-negative integers, or a one-line error naming row and column."""
    if not is_numeric_dtype(column) or is_bool_dtype(column):
        raise ValueError(f"table: column {name!r} holds {column.dtype} values, not counts")
    arr = column.to_numpy(dtype=float, na_value=np.nan)
    with np.errstate(invalid="ignore"):
        bad = ~np.isfinite(arr) | (arr < 0) | (arr != np.round(arr))
    if bad.any():
        r = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"table: {_row(column.index, r)}, column {name!r}: {column.iloc[r]} is not a count"
        )
    return [int(v) for v in arr]


def _count_columns(
    table: pd.DataFrame, count_columns: Sequence[Hashable] | None, row_total: Hashable | None
) -> list[Hashable]:
    if not table.columns.is_unique:
        raise ValueError("table: column names are not unique")
    if count_columns is None:
        columns = [
            c
            for c in table.columns
            if c != row_total and is_numeric_dtype(table[c]) and not is_bool_dtype(table[c])
        ]
    else:
        columns = list(count_columns)
    named = columns + ([row_total] if row_total is not None else [])
    missing = [repr(c) for c in named if c not in table.columns]
    if missing:
        raise ValueError(f"table: no column {', '.join(missing)}")
    if not columns:
        raise ValueError("table: no count columns")
    if row_total in columns:
        raise ValueError(f"table: the row total {row_total!r} is also listed as a count column")
    return columns


class _Grid:
    """The cells of a wide count table, flattened row by row, and where its totals lie.

    Parameters
    ----------
    index : Index
        The table's row labels, for messages.
    columns : list
        The count columns.
    row_total : column label, optional
        The column of row totals, the last of the grid.
    column_total_row : bool
        Whether the last row holds the column totals.

    Raises
    ------
    ValueError
        A totals row with no row above it.
    """

    def __init__(
        self,
        index: pd.Index,
        columns: list[Hashable],
        row_total: Hashable | None,
        column_total_row: bool,
    ):
        self.index = index
        self.names = columns + ([row_total] if row_total is not None else [])
        self.n_rows, self.n_cols = len(index), len(self.names)
        if column_total_row and self.n_rows < 2:
            raise ValueError("table: a totals row needs at least one row above it")
        self.body = range(len(columns))
        self.data_rows = range(self.n_rows - 1) if column_total_row else range(self.n_rows)
        self.total_column = len(columns) if row_total is not None else None
        self.totals_row = self.n_rows - 1 if column_total_row else None

    def cell(self, r: int, j: int) -> int:
        """Flat index of the cell in row position ``r`` and grid column ``j``."""
        return r * self.n_cols + j

    def counts(self, table: pd.DataFrame) -> list[int]:
        """The grid's cells of ``table`` as counts, row by row."""
        by_column = [_as_counts(table[c], c) for c in self.names]
        return [by_column[j][r] for r in range(self.n_rows) for j in range(self.n_cols)]


def _check_totals(grid: _Grid, values: list[int]) -> None:
    """Raise unless the row totals and the totals row are the sums they claim to be."""
    cell = grid.cell
    for r in range(grid.n_rows):
        expected = sum(values[cell(r, j)] for j in grid.body)
        if grid.total_column is not None and values[cell(r, grid.total_column)] != expected:
            raise ValueError(
                f"table: {_row(grid.index, r)}, column {grid.names[grid.total_column]!r}: "
                f"{values[cell(r, grid.total_column)]} is not the sum of the count columns "
                f"({expected})"
            )
    for j in range(grid.n_cols if grid.totals_row is not None else 0):
        expected = sum(values[cell(r, j)] for r in grid.data_rows)
        if values[cell(grid.totals_row, j)] != expected:
            raise ValueError(
                f"table: {_row(grid.index, grid.totals_row)}, column {grid.names[j]!r}: "
                f"{values[cell(grid.totals_row, j)]} is not the sum of the rows above ({expected})"
            )


def _row_lines(grid: _Grid, values: list[int]) -> list[_Line]:
    """Every row as a line, top to bottom (the totals row last), with its row total if shown."""
    lines = []
    for r in range(grid.n_rows):
        members = tuple(grid.cell(r, j) for j in grid.body)
        total = grid.cell(r, grid.total_column) if grid.total_column is not None else None
        lines.append(_Line(_row(grid.index, r), members, total, sum(values[i] for i in members)))
    return lines


def _column_lines(grid: _Grid, values: list[int]) -> list[_Line]:
    """Every column as a line, left to right (the row totals last), with its total if shown."""
    lines = []
    for j in range(grid.n_cols):
        members = tuple(grid.cell(r, j) for r in grid.data_rows)
        total = grid.cell(grid.totals_row, j) if grid.totals_row is not None else None
        label = f"column {grid.names[j]!r}"
        lines.append(_Line(label, members, total, sum(values[i] for i in members)))
    return lines


def _shown(table: pd.DataFrame, grid: _Grid, values: list[int], state: list[int]) -> pd.DataFrame:
    """A copy of ``table`` whose grid shows each count or the mark of its state."""
    out = table.copy()
    for j, name in enumerate(grid.names):
        shown = [
            _MARKS.get(state[grid.cell(r, j)], values[grid.cell(r, j)]) for r in range(grid.n_rows)
        ]
        # an array, not a Series, so a duplicated index cannot misalign the column
        out[name] = np.array(shown, dtype=object)
    return out


def suppress_counts(
    table: pd.DataFrame,
    count_columns: list[str] | None = None,
    row_total: str | None = None,
    column_total_row: bool = False,
    *,
    row_totals_known: bool = True,
    column_totals_known: bool | None = None,
) -> pd.DataFrame:
    """Hide small counts of a wide table and every cell that would give them away.

    **Primary suppression.** Every count from 1 to ``THRESHOLD - 1`` in the
    count columns, the row-total column and the totals row becomes
    :data:`SMALL_MARK`. Zeros and larger counts stay.

    **Complementary suppression.** A *line* is a row or a column whose total
    readers know, because the table shows it (``row_total``,
    ``column_total_row``) or because it is published elsewhere
    (``row_totals_known``, ``column_totals_known``). A line is *exposed* when
    its total, its published cells and the marks of its hidden cells (a
    ``"<5"`` is 1 to 4, an ``"x"`` is at least ``THRESHOLD``) leave some hidden
    cell of the line a single possible value. The usual case is one hidden
    cell alone in its line: it equals the total minus the rest. Rarer: two
    ``"<5"`` cells whose sum is 2. An exposed line gets one more cell hidden,
    marked :data:`COMPLEMENT_MARK`: its smallest published non-zero cell
    (earliest in the line on a tie), or, if all its other cells are zero or
    hidden, its total when the table shows it. Rows are fixed top to bottom
    (the totals row last), then columns left to right (the row-total column
    last), and the two passes repeat until a round hides nothing, since a
    complement hidden for a row can leave its column exposed and the other
    way round. The result is deterministic.

    **Guarantee.** In the returned table, no hidden cell can be worked out
    from a single row or column total and the cells published beside it:
    every line with a hidden cell has at least two, and even with the marks'
    ranges each keeps at least two possible values. This is not a full
    linear-programming audit. Combining several lines at once can narrow
    a hidden value (and, in rare patterns, pin it), and a reader who knows
    that complements are chosen smallest first learns that a complement is no
    larger than the published cells of the line that needed it.

    Parameters
    ----------
    table : DataFrame
        Counts: non-negative integers, no missing values, unique column names.
    count_columns : list of str, optional
        The columns of counts; by default every numeric column except
        ``row_total``. Other columns (labels) are left alone.
    row_total : str, optional
        A column holding each row's total; it must equal the sum of the count
        columns. Hidden like any count, and hidden as a complement when a
        row has nothing else to hide.
    column_total_row : bool
        Whether the last row holds the column totals; it must equal the sum of
        the rows above. Hidden like any count, and hidden as a complement
        when a column has nothing else to hide.
    row_totals_known : bool
        Whether readers know the row totals although the table does not show
        them (e.g. each row is a network whose size is published elsewhere).
        True by default, to err on the safe side; irrelevant when
        ``row_total`` is given.
    column_totals_known : bool, optional
        Likewise for column totals; by default, the same as
        ``column_total_row``.

    Returns
    -------
    DataFrame
        A copy of ``table``; the count columns and ``row_total`` have object
        dtype and hold ``int`` counts, :data:`SMALL_MARK` and
        :data:`COMPLEMENT_MARK`.

    Raises
    ------
    ValueError
        A cell that is not a count, or a total that is not the sum it claims.

    Warns
    -----
    DisclosureWarning
        A line stays exposed with nothing left to hide. Mostly when its total
        is published outside the table, so cannot be hidden (a row whose only
        non-zero cell is small, with ``row_totals_known`` and no
        ``row_total``); also in degenerate lines such as four 1s totalling 4,
        where every cell is ``"<5"`` and so must be 1.
    """
    columns = _count_columns(table, count_columns, row_total)
    grid = _Grid(table.index, columns, row_total, column_total_row)
    values = grid.counts(table)
    _check_totals(grid, values)
    rows = _row_lines(grid, values) if row_total is not None or row_totals_known else []
    known = column_total_row or bool(column_totals_known)
    cols = _column_lines(grid, values) if known else []
    state = _protect(values, [rows, cols])
    return _shown(table, grid, values, state)


def _group_lines(df: pd.DataFrame, by: Sequence[Hashable], values: list[int]) -> list[_Line]:
    """One line per group of rows sharing the ``by`` values, its total known to readers."""
    by = list(by)
    if not by:
        return [_Line("all rows", tuple(range(len(df))), None, sum(values))]
    groups = df.groupby(by, sort=False, dropna=False).ngroup().to_numpy()
    members: dict[int, list[int]] = {}
    for position, g in enumerate(groups):
        members.setdefault(int(g), []).append(position)
    lines = []
    for rows in members.values():
        first = rows[0]
        label = ", ".join(f"{b}={df[b].iloc[first : first + 1].tolist()[0]!r}" for b in by)
        lines.append(_Line(label, tuple(rows), None, sum(values[i] for i in rows)))
    return lines


def suppress_long(
    df: pd.DataFrame,
    count_column: str,
    by: list[str],
    *,
    also_by: list[str] | None = None,
) -> pd.DataFrame:
    """Hide small counts of a tidy count table and every count that would give them away.

    For tables with one row per combination, e.g. code frequencies with
    columns ``network_id, code, n_segments``. Counts from 1 to
    ``THRESHOLD - 1`` become :data:`SMALL_MARK`. The rows sharing the same
    ``by`` values form a group whose total readers are assumed to know (e.g.
    a network's number of coded segments); within each group, the
    complementary suppression of :func:`suppress_counts` applies, with the
    group as the line and its total published outside the table. Groups of
    ``also_by``, when given, are lines too (e.g. ``["code"]`` when each code's
    total over all networks is published), and the two kinds of group are
    fixed alternately until nothing changes.

    The guarantee and its limits are those of :func:`suppress_counts`. Rows
    absent from a tidy table are zeros and are never hidden.

    Parameters
    ----------
    df : DataFrame
        The tidy table; ``count_column`` holds non-negative integers.
    count_column : str
        The column of counts to protect. Other count columns (e.g.
        ``n_informants``) need their own call.
    by : list of str
        Columns whose groups have published totals; empty for one group.
    also_by : list of str, optional
        Columns of a second grouping with published totals.

    Returns
    -------
    DataFrame
        A copy of ``df`` with ``count_column`` of object dtype holding
        ``int`` counts, :data:`SMALL_MARK` and :data:`COMPLEMENT_MARK`.

    Raises
    ------
    ValueError
        A missing column, or a value that is not a count.

    Warns
    -----
    DisclosureWarning
        A group stays exposed: its only non-zero count is small, so the
        published group total gives it away.
    """
    named = [count_column, *by, *(also_by or [])]
    missing = [repr(c) for c in named if c not in df.columns]
    if missing:
        raise ValueError(f"table: no column {', '.join(missing)}")
    values = _as_counts(df[count_column], count_column)
    passes = [_group_lines(df, by, values)]
    if also_by is not None:
        passes.append(_group_lines(df, also_by, values))
    state = _protect(values, passes)
    out = df.copy()
    shown = [_MARKS.get(s, v) for s, v in zip(state, values, strict=True)]
    out[count_column] = np.array(shown, dtype=object)
    return out


def pseudonym(values: pd.Series, prefix: str, salt: str, *, digits: int = 12) -> pd.Series:
    """Stable pseudonyms: ``"<prefix> <hex>"`` from a keyed SHA-256 of each identifier.

    The hex part is the first ``digits`` hex digits of HMAC-SHA256 with
    ``salt`` as key and the identifier (as text) as message, so the same
    identifier and salt always give the same label, and a different salt
    gives unrelated labels. Without the salt, nobody can recompute the label
    of a known identifier, so for real data the salt must stay secret.
    Identifiers are compared as text: ``7`` and ``"7"`` get the same label.

    With the default 12 digits (48 bits), two of a million identifiers share
    a label with probability about 0.002, so collisions do not occur in
    practice; they are still checked.

    Parameters
    ----------
    values : Series
        Identifiers, without missing values.
    prefix : str
        What the label says the thing is, e.g. ``"Organization"``.
    salt : str
        The secret key; must not be empty.
    digits : int
        Hex digits kept, from 8 to 64.

    Returns
    -------
    Series
        Labels, with the index and name of ``values``.

    Raises
    ------
    ValueError
        An empty salt, a missing identifier, or two identifiers with the
        same label (use more ``digits``).
    """
    if not salt:
        raise ValueError("pseudonym: the salt is empty, so anyone could recompute the labels")
    if not 8 <= digits <= 64:
        raise ValueError(f"pseudonym: digits must be from 8 to 64, not {digits}")
    empty = np.flatnonzero(values.isna().to_numpy())
    if len(empty):
        r = int(empty[0])
        raise ValueError(f"pseudonym: {_row(values.index, r)} has no identifier")
    ids = [str(v) for v in values.tolist()]
    key = salt.encode("utf-8")
    head = f"{prefix} " if prefix else ""
    labels = {
        i: head + hmac.new(key, i.encode("utf-8"), hashlib.sha256).hexdigest()[:digits]
        for i in dict.fromkeys(ids)
    }
    if len(set(labels.values())) < len(labels):
        raise ValueError(f"pseudonym: two identifiers share a label; use more than {digits} digits")
    return pd.Series([labels[i] for i in ids], index=values.index, name=values.name)


_DIGITS = re.compile(r"\d+")


def _as_count(value: object) -> int | None:
    """A cell as a whole count, whether a number or digits in text (as read back from HTML)."""
    if isinstance(value, bool | np.bool_):
        return None
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        v = float(value)
        return int(v) if math.isfinite(v) and v == round(v) else None
    if isinstance(value, str) and _DIGITS.fullmatch(value.strip()):
        return int(value.strip())
    return None


def small_cells(
    table: pd.DataFrame, count_columns: list[str] | None = None
) -> list[tuple[int, Hashable]]:
    """Where a table shows a count from 1 to ``THRESHOLD - 1``: cells that should be hidden.

    Parameters
    ----------
    table : DataFrame
        A table as published, e.g. read back from the built HTML with
        :func:`pandas.read_html`, where numbers may come back as text.
    count_columns : list of str, optional
        The columns holding counts; by default every column, which also
        flags e.g. a rank column, so name them when the table has one.

    Returns
    -------
    list of (int, str)
        (row position, column label) of each small count, row by row. Marks,
        zeros, larger counts, fractions and other text are not small counts.
    """
    wanted = list(table.columns) if count_columns is None else list(count_columns)
    missing = [repr(c) for c in wanted if c not in table.columns]
    if missing:
        raise ValueError(f"table: no column {', '.join(missing)}")
    positions = [j for j, c in enumerate(table.columns) if c in wanted]
    found = []
    for r in range(len(table)):
        for j in positions:
            n = _as_count(table.iat[r, j])
            if n is not None and is_small(n):
                found.append((r, table.columns[j]))
    return found
