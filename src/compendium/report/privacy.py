"""Disclosure control for every table, rate and sentence the book publishes (domain.md §10).

One threshold, three tools:

- :func:`suppress_counts`, :func:`suppress_long` and :func:`suppress_rates` hide
  small counts (and the rates whose numerator or denominator is one) plus the
  cells from which a hidden count could be worked back (*complementary
  suppression*), and :func:`audit` checks the result jointly: for every hidden
  small count it solves for the least and greatest value the published cells,
  the marks and every known total allow *together* (an integer linear program,
  solved with HiGHS), and the count is protected only when that interval is all of
  1 to ``THRESHOLD - 1``;
- :func:`pseudonym` replaces identifiers by stable, salted labels;
- :func:`small_cells` finds counts that should have been hidden, so a test can
  scan what was actually published.

A table that cannot be protected (a lone small count whose total is published
elsewhere and nothing else to hide) raises :class:`DisclosureError` naming the
table; :func:`compendium.report.publish.table` then publishes it with every count,
rate and mean withheld and a caption saying why. Merge its categories, or do not
publish the total, to see its numbers again.

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
import os
import re
import sys
import threading
from collections.abc import Hashable, Mapping, Sequence
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

#: Cell states. An unseen cell is part of a total but shown nowhere (e.g. the people a
#: withheld rate counts): readers know only that it is a count.
_PUBLISHED, _SMALL, _COMPLEMENT, _UNSEEN = 0, 1, 2, 3

#: The outcome rates over discharges, and whom each counts (for disclosure control).
OUTCOME_RATES = {
    "fuh7_rate": "people followed up within 7 days",
    "fuh30_rate": "people followed up within 30 days",
    "readmission30_rate": "people readmitted within 30 days",
}

_MARKS = {_SMALL: SMALL_MARK, _COMPLEMENT: COMPLEMENT_MARK}


def is_small(n) -> bool:
    """True for a count of people that is never published (1 to ``THRESHOLD - 1``)."""
    return 0 < n < THRESHOLD


def publishable_share(numerator, denominator) -> bool:
    """Whether a rate, share or percentage of ``numerator`` in ``denominator`` may be shown.

    Not when the denominator, the numerator or the rest (``denominator -
    numerator``) is a small count: a rate of 0.03 over 100 people says 3 people,
    and one of 0.97 says 3 people too.
    """
    n, k = int(denominator), int(numerator)
    return not (is_small(n) or is_small(k) or is_small(n - k))


def publishable_rate(rate, n) -> bool:
    """Whether a rate over ``n`` people may be shown: :func:`publishable_share` of the
    people it counts (``rate * n``, rounded; none when the rate is missing)."""
    counted = 0 if rate is None or rate != rate else round(float(rate) * int(n))
    return publishable_share(counted, n)


_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


def publishable_change(before: str, after: str) -> bool:
    """Whether a change between two published values may be shown (the What changed page).

    Only when both are shown as numbers, or both as words that are not marks of
    disclosure control; and, for whole numbers (counts), when the difference is
    not itself a small count: a total going from 12 to 14 says that a group of
    2 people joined it.
    """
    for text in (before, after):
        # a withheld count alone, or a sentence holding one ("x" only alone: it is a letter)
        value = str(text).strip()
        if (
            value == COMPLEMENT_MARK
            or SMALL_MARK in value
            or "not shown" in value
            or "withheld" in value
        ):
            return False
    b, a = str(before).strip(), str(after).strip()
    if _NUMBER.fullmatch(b) and _NUMBER.fullmatch(a) and "." not in b + a:
        return not is_small(abs(int(a) - int(b)))
    return True


class DisclosureError(ValueError):
    """A hidden count can be worked out and nothing is left to hide: the table is not published."""


@dataclass(frozen=True)
class _Line:
    """Cells whose sum readers know: a row or column of a table, or a group."""

    label: str
    members: tuple[int, ...]  # flat cell indices, in table order (breaks ties)
    total: int | None  # flat index of the total when the table shows it
    value: int  # the total itself, known to readers (shown here or elsewhere)

    def cells(self) -> tuple[int, ...]:
        return self.members + ((self.total,) if self.total is not None else ())


def _bounds(state: int, ceiling: float) -> tuple[float, float]:
    """What a reader knows of a hidden cell from its mark alone.

    ``ceiling`` stands for "no upper bound": larger than any total of the table,
    it keeps the integer program bounded; a cell that reaches it is unbounded.
    """
    if state == _SMALL:
        return 1, THRESHOLD - 1
    if state == _UNSEEN:
        return 0, ceiling
    # every small count is already marked, so a complement is at least THRESHOLD
    return THRESHOLD, ceiling


def _equations(values: list[int], state: list[int], lines: Sequence[_Line], hidden: list[int]):
    """Each line as ``sum(hidden members) - hidden total = known rest``, over the hidden cells."""
    where = {cell: k for k, cell in enumerate(hidden)}
    rows, rhs = [], []
    for line in lines:
        row = np.zeros(len(hidden))
        rest = 0 if line.total is not None else line.value
        for i in line.members:
            if i in where:
                row[where[i]] += 1
            else:
                rest -= values[i]
        if line.total is not None:
            if line.total in where:
                row[where[line.total]] -= 1
            else:
                rest += values[line.total]
        if row.any():
            rows.append(row)
            rhs.append(rest)
    return (np.array(rows), np.array(rhs, dtype=float)) if rows else (None, None)


def _component(cell: int, state: list[int], lines: Sequence[_Line]) -> tuple[list, list]:
    """The hidden cells tied to ``cell`` through lines, and those lines.

    Cells of other components do not share an equation with it, so its bounds
    are found from its own component alone (much smaller programs).
    """
    cells, todo, used = {cell}, [cell], []
    touching: dict[int, list[_Line]] = {}
    for line in lines:
        for i in line.cells():
            if state[i] != _PUBLISHED:
                touching.setdefault(i, []).append(line)
    seen_lines: set[int] = set()
    while todo:
        for line in touching.get(todo.pop(), []):
            if id(line) in seen_lines:
                continue
            seen_lines.add(id(line))
            used.append(line)
            for i in line.cells():
                if state[i] != _PUBLISHED and i not in cells:
                    cells.add(i)
                    todo.append(i)
    return sorted(cells), used


_QUIET = threading.Lock()


def _new_highs():
    """A HiGHS solver with its console output off.

    HiGHS prints a banner from C++ the first time a solver is made in a process;
    that once, the process's standard output is pointed at /dev/null, so the
    banner never reaches a notebook's output or the build log.
    """
    import highspy

    with _QUIET:
        sys.stdout.flush()
        saved = os.dup(1)
        try:
            with open(os.devnull, "wb") as null:
                os.dup2(null.fileno(), 1)
                solver = highspy.Highs()
        finally:
            os.dup2(saved, 1)
            os.close(saved)
    solver.setOptionValue("output_flag", False)
    return solver


class _Program:
    """The equations of one component over its hidden cells, solved for one cell at a time.

    One HiGHS model, built once; each solve changes the objective only (HiGHS
    starts again from the last basis, so the many small solves of an audit are
    cheap).
    """

    def __init__(self, a_eq: np.ndarray, b_eq: np.ndarray, bounds: list[tuple[float, float]]):
        import highspy

        self.highspy = highspy
        self.n = len(bounds)
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = self.n, len(b_eq)
        lp.col_cost_ = np.zeros(self.n)
        lp.col_lower_ = np.array([b[0] for b in bounds], dtype=float)
        lp.col_upper_ = np.array([b[1] for b in bounds], dtype=float)
        lp.row_lower_ = lp.row_upper_ = np.asarray(b_eq, dtype=float)
        rows, cols = np.nonzero(a_eq)
        lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
        lp.a_matrix_.start_ = np.searchsorted(rows, np.arange(len(b_eq) + 1)).astype(np.int32)
        lp.a_matrix_.index_ = cols.astype(np.int32)
        lp.a_matrix_.value_ = a_eq[rows, cols].astype(float)
        self.solver = _new_highs()
        self.solver.passModel(lp)
        self.cost = np.zeros(self.n)

    def _run(self, integer: bool) -> np.ndarray:
        kinds = self.highspy.HighsVarType
        kind = kinds.kInteger if integer else kinds.kContinuous
        self.solver.changeColsIntegrality(
            self.n, np.arange(self.n, dtype=np.int32), np.array([kind] * self.n)
        )
        self.solver.run()
        status = self.solver.getModelStatus()
        if status != self.highspy.HighsModelStatus.kOptimal:
            # the true values are a solution, and every bound is finite: this cannot happen
            raise RuntimeError(f"disclosure audit: the solver stopped ({status})")
        return np.asarray(self.solver.getSolution().col_value)

    def extreme(self, k: int, sign: int) -> float:
        """The least (``sign`` 1) or greatest (-1) integer value of variable ``k``.

        The linear relaxation first: when its optimum is an integer point (always,
        for the tables of rows, columns and groups built here, whose equations are
        totally unimodular), it is the integer optimum; otherwise the integer
        program decides.
        """
        cost = np.zeros(self.n)
        cost[k] = sign
        changed = np.flatnonzero(cost != self.cost).astype(np.int32)
        if len(changed):
            self.solver.changeColsCost(len(changed), changed, cost[changed])
            self.cost = cost
        x = self._run(integer=False)
        if not np.allclose(x, np.round(x), atol=1e-7):
            x = self._run(integer=True)
        return float(round(x[k]))


def intervals(
    values: list[int], state: list[int], lines: Sequence[_Line], cells: Sequence[int] | None = None
) -> dict[int, tuple[float, float]]:
    """The least and greatest value of each hidden cell that a reader can work out.

    An integer program over the hidden cells: each lies in its mark's range
    (``"<5"``: 1 to 4; ``"x"``: 5 or more) and every line's published total
    holds. Solved twice per cell (minimum, maximum) with HiGHS (``highspy``), on
    the cell's own component; exact on integers, so an interval narrower than
    its mark's range is a disclosure.

    Parameters
    ----------
    values, state : list of int
        Every cell's true value and state (published, small, complement, unseen).
    lines : sequence of _Line
        The totals readers know.
    cells : sequence of int, optional
        The hidden cells to solve for; by default every hidden cell.
    """
    ceiling = 2 * (sum(values) + sum(line.value for line in lines)) + THRESHOLD
    wanted = [i for i, s in enumerate(state) if s != _PUBLISHED] if cells is None else cells
    out: dict[int, tuple[float, float]] = {}
    for cell in wanted:
        if cell in out:
            continue
        hidden, used = _component(cell, state, lines)
        bounds = [_bounds(state[i], ceiling) for i in hidden]
        a_eq, b_eq = _equations(values, state, used, hidden)
        program = None
        for i in (c for c in wanted if c in hidden and c not in out):
            k = hidden.index(i)
            if a_eq is None:
                lo, hi = bounds[k]
            else:
                program = program or _Program(a_eq, b_eq, bounds)
                lo, hi = program.extreme(k, 1), program.extreme(k, -1)
            out[i] = (lo, math.inf if hi >= ceiling else hi)
    return out


def _protected(state: int, interval: tuple[float, float]) -> bool:
    """A small count keeps its whole range of 1 to ``THRESHOLD - 1``; a complement two values."""
    lo, hi = interval
    if state == _SMALL:
        return lo <= 1 and hi >= THRESHOLD - 1
    return hi > lo


def _candidates(values: list[int], state: list[int], lines: Sequence[_Line], cell: int) -> list:
    """Published non-zero cells that could be hidden for ``cell``, most promising first.

    First those of a line of the cell that pins a hidden cell on its own (the
    line most plainly gives the cell away); then those sharing any line with it;
    then those sharing a line with any hidden cell tied to it. Within each, the
    smallest first (least information lost), the earliest on a tie, so the
    result is deterministic.
    """
    own = [line for line in lines if cell in line.cells()]
    pinning = {i for line in own if _pinned(line, values, state) for i in line.cells()}
    near = {i for line in own for i in line.cells()}
    tied = set(near)
    for line in lines:
        if any(i in tied and state[i] != _PUBLISHED for i in line.cells()):
            tied.update(line.cells())
    ranked = []
    for rank, group in enumerate((pinning, near - pinning, tied - near)):
        for i in sorted(group):
            if state[i] == _PUBLISHED and values[i] > 0:
                ranked.append((rank, values[i], i))
    return [i for _, _, i in sorted(ranked)]


#: Candidates tried in full before a complement is chosen (the nearest, smallest first).
TRIALS = 8
#: From this many cells, a fast first round makes each line safe on its own before the
#: audit: fewer programs to solve, at the price of a few more cells hidden.
LINE_BY_LINE_FROM = 120


def _complement_for(values: list[int], state: list[int], lines: Sequence[_Line], cell: int):
    """The cell to hide next for an exposed ``cell``, or None when nothing is left.

    Of its first :data:`TRIALS` candidates, the first that protects it alone;
    otherwise the one of them that widens its interval most (the nearest and
    smallest on a tie). Trying every candidate of a long line would cost a
    program each, for little: a complement is rarely found far down the list.
    """
    best, best_width = None, -1.0
    for i in _candidates(values, state, lines, cell)[:TRIALS]:
        trial = list(state)
        trial[i] = _COMPLEMENT
        lo, hi = intervals(values, trial, lines, [cell])[cell]
        if _protected(state[cell], (lo, hi)):
            return i
        if hi - lo > best_width:
            best, best_width = i, hi - lo
    return best


def _pinned(line: _Line, values: list[int], state: list[int]) -> bool:
    """Whether one line's total, published cells and marks leave a hidden cell one value.

    The line says ``sum(hidden members) - hidden total = rhs``; each hidden cell
    lies in its mark's range, so one cell's value is confined to ``rhs`` minus
    the range of the others' sum, within its own range.
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
        lo, hi = _bounds(state[i], math.inf)
        spans.append((lo, hi) if sign > 0 else (-hi, -lo))
    for k, (sign, i) in enumerate(terms):
        rest_lo = sum(s[0] for j, s in enumerate(spans) if j != k)
        rest_hi = sum(s[1] for j, s in enumerate(spans) if j != k)
        lo, hi = rhs - rest_hi, rhs - rest_lo
        if sign < 0:
            lo, hi = -hi, -lo
        own_lo, own_hi = _bounds(state[i], math.inf)
        if max(lo, own_lo) >= min(hi, own_hi):
            return True
    return False


def _line_by_line(values: list[int], state: list[int], lines: Sequence[_Line]) -> list[int]:
    """A fast first round of complements: until no single line pins a hidden cell.

    Each pinned line gets its smallest published non-zero member hidden (its
    total when nothing else is left), lines in order, repeated until a round
    hides nothing. What lines do together is left to the audit.
    """
    state = list(state)
    changed = True
    while changed:
        changed = False
        for line in lines:
            while _pinned(line, values, state):
                free = [
                    (values[i], n, i)
                    for n, i in enumerate(line.cells())
                    if state[i] == _PUBLISHED and values[i] > 0
                ]
                if not free:
                    break
                state[min(free)[2]] = _COMPLEMENT
                changed = True
    return state


def protect(
    values: list[int],
    lines: Sequence[_Line],
    what: str,
    unseen: Sequence[int] = (),
    withheld: Sequence[int] = (),
) -> list[int]:
    """Primary then complementary suppression, audited jointly; the state of every cell.

    Every count from 1 to ``THRESHOLD - 1`` is hidden; in a big table, a first
    round of complements makes every line safe on its own (:func:`_line_by_line`);
    then the joint audit (:func:`intervals`) checks every hidden cell, and while one
    can be narrowed, one more cell is hidden for it (:func:`_complement_for`).
    Hiding a cell only widens what readers can work out, so a cell found
    protected stays protected and the loop ends, with every hidden cell
    protected or with :class:`DisclosureError`.

    Parameters
    ----------
    values : list of int
        Every cell's count.
    lines : sequence of _Line
        The totals readers know.
    what : str
        How an error names the table.
    unseen : sequence of int
        Cells shown nowhere (neither audited nor hidden as complements).
    withheld : sequence of int
        Cells another publication already withholds (e.g. by the book's
        :func:`outcome_decisions`): hidden from the start.

    Raises
    ------
    DisclosureError
        A hidden cell stays exposed with nothing left to hide; ``what`` names the table.
    """
    state = [_SMALL if is_small(v) else _PUBLISHED for v in values]
    for i in withheld:
        if state[i] == _PUBLISHED:  # a withheld zero is no complement: readers know only >= 0
            state[i] = _COMPLEMENT if values[i] >= THRESHOLD else _UNSEEN
    for i in unseen:
        state[i] = _UNSEEN
    if len(values) > LINE_BY_LINE_FROM:
        state = _line_by_line(values, state, lines)
    pending = [i for i, s in enumerate(state) if s in (_SMALL, _COMPLEMENT)]
    while pending:
        found = intervals(values, state, lines, pending)
        pending = [i for i in pending if not _protected(state[i], found[i])]
        if not pending:
            break
        pending.sort(key=lambda i: (state[i] != _SMALL, i))
        cell = pending[0]
        complement = _complement_for(values, state, lines, cell)
        if complement is None:
            labels = sorted({line.label for line in lines if cell in line.cells()})
            kind = f"a count under {THRESHOLD}" if state[cell] == _SMALL else "a withheld count"
            raise DisclosureError(
                f"{what}: {kind} can be worked out from the totals of "
                f"{'; '.join(labels)} and nothing is left to hide; merge categories or do not "
                "publish those totals"
            )
        state[complement] = _COMPLEMENT
        pending.append(complement)
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


def suppress_counts(
    table: pd.DataFrame,
    count_columns: list[str] | None = None,
    row_total: str | None = None,
    column_total_row: bool = False,
    *,
    row_totals_known: bool = True,
    column_totals_known: bool | None = None,
    what: str = "table",
) -> pd.DataFrame:
    """Hide small counts of a wide table and every cell that would give them away.

    **Primary suppression.** Every count from 1 to ``THRESHOLD - 1`` in the
    count columns, the row-total column and the totals row becomes
    :data:`SMALL_MARK`. Zeros and larger counts stay.

    **Complementary suppression.** A *line* is a row or a column whose total
    readers know, because the table shows it (``row_total``,
    ``column_total_row``) or because it is published elsewhere
    (``row_totals_known``, ``column_totals_known``). While a reader could narrow
    a hidden small count below its full range of 1 to 4 by solving every line
    together (:func:`intervals`), one more cell is hidden as
    :data:`COMPLEMENT_MARK`: the smallest published non-zero cell of its lines
    that protects it (earliest on a tie), else the one that helps most, then
    cells of lines tied to it, totals included. The result is deterministic.

    **Guarantee.** In the returned table, with the marks' ranges and every known
    total, each hidden small count can still be any of 1 to ``THRESHOLD - 1``:
    an exact integer audit of rows and columns together, not one line at a
    time. A reader who knows how complements are chosen may learn a little more
    (that a complement is no larger than the cells passed over for it).

    Parameters
    ----------
    table : DataFrame
        Counts: non-negative integers, no missing values, unique column names.
    count_columns : list of str, optional
        The columns of counts; by default every numeric column except
        ``row_total``. Other columns (labels) are left alone.
    row_total : str, optional
        A column holding each row's total; it must equal the sum of the count
        columns. Hidden like any count, and as a complement when needed.
    column_total_row : bool
        Whether the last row holds the column totals; it must equal the sum of
        the rows above. Hidden like any count, and as a complement when needed.
    row_totals_known : bool
        Whether readers know the row totals although the table does not show
        them (e.g. each row is a network whose size is published elsewhere).
        True by default, to err on the safe side; irrelevant when
        ``row_total`` is given.
    column_totals_known : bool, optional
        Likewise for column totals; by default, the same as ``column_total_row``.
    what : str
        How an error names the table.

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
    DisclosureError
        A small count stays exposed with nothing left to hide: a row whose only
        non-zero cell is small while its total is published elsewhere, or four
        1s totalling 4, where every cell is ``"<5"`` and so must be 1.
    """
    columns = _count_columns(table, count_columns, row_total)
    grid = _Grid(table, columns, row_total, column_total_row)
    grid.check_totals()
    lines = []
    if row_total is not None or row_totals_known:
        lines += grid.row_lines()
    if column_total_row or bool(column_totals_known):
        lines += grid.column_lines()
    state = protect(grid.values, lines, what)
    return grid.shown(state)


class _Grid:
    """A wide table's count cells, flattened row by row, and its rows and columns as lines."""

    def __init__(self, table, columns, row_total, column_total_row):
        if column_total_row and len(table) < 2:
            raise ValueError("table: a totals row needs at least one row above it")
        self.table = table
        self.columns = list(columns)
        self.names = self.columns + ([row_total] if row_total is not None else [])
        self.row_total = row_total
        self.n_rows, self.n_cols = len(table), len(self.names)
        by_column = [_as_counts(table[c], c) for c in self.names]
        self.values = [by_column[j][r] for r in range(self.n_rows) for j in range(self.n_cols)]
        self.total_column = len(self.columns) if row_total is not None else None
        self.totals_row = self.n_rows - 1 if column_total_row else None
        self.data_rows = range(self.n_rows - 1) if column_total_row else range(self.n_rows)

    def cell(self, r: int, j: int) -> int:
        return r * self.n_cols + j

    def check_totals(self) -> None:
        """A shown total must be the sum it claims, or the table is refused in one line."""
        index, values, cell = self.table.index, self.values, self.cell
        for r in range(self.n_rows if self.total_column is not None else 0):
            expected = sum(values[cell(r, j)] for j in range(len(self.columns)))
            if values[cell(r, self.total_column)] != expected:
                raise ValueError(
                    f"table: {_row(index, r)}, column {self.row_total!r}: "
                    f"{values[cell(r, self.total_column)]} is not the sum of the count columns "
                    f"({expected})"
                )
        for j in range(self.n_cols if self.totals_row is not None else 0):
            expected = sum(values[cell(r, j)] for r in self.data_rows)
            if values[cell(self.totals_row, j)] != expected:
                raise ValueError(
                    f"table: {_row(index, self.totals_row)}, column {self.names[j]!r}: "
                    f"{values[cell(self.totals_row, j)]} is not the sum of the rows above "
                    f"({expected})"
                )

    def row_lines(self) -> list[_Line]:
        lines = []
        for r in range(self.n_rows):
            members = tuple(self.cell(r, j) for j in range(len(self.columns)))
            total = self.cell(r, self.total_column) if self.total_column is not None else None
            value = sum(self.values[i] for i in members)
            lines.append(_Line(_row(self.table.index, r), members, total, value))
        return lines

    def column_lines(self) -> list[_Line]:
        lines = []
        for j in range(self.n_cols):
            members = tuple(self.cell(r, j) for r in self.data_rows)
            total = self.cell(self.totals_row, j) if self.totals_row is not None else None
            value = sum(self.values[i] for i in members)
            lines.append(_Line(f"column {self.names[j]!r}", members, total, value))
        return lines

    def shown(self, state: list[int]) -> pd.DataFrame:
        out = self.table.copy()
        for j, name in enumerate(self.names):
            shown = [
                _MARKS.get(state[self.cell(r, j)], self.values[self.cell(r, j)])
                for r in range(self.n_rows)
            ]
            # an array, not a Series, so a duplicated index cannot misalign the column
            out[name] = np.array(shown, dtype=object)
        return out


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
    what: str = "table",
) -> pd.DataFrame:
    """Hide small counts of a tidy count table and every count that would give them away.

    For tables with one row per combination, e.g. code frequencies with
    columns ``network_id, code, n_segments``. Counts from 1 to
    ``THRESHOLD - 1`` become :data:`SMALL_MARK`. The rows sharing the same
    ``by`` values form a group whose total readers are assumed to know (e.g.
    a network's number of coded segments); groups of ``also_by``, when given,
    are known totals too (e.g. ``["code"]`` when each code's total over all
    networks is published). Complements are chosen and audited as in
    :func:`suppress_counts`, over every group at once. Rows absent from a tidy
    table are zeros and are never hidden.

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
    what : str
        How an error names the table.

    Returns
    -------
    DataFrame
        A copy of ``df`` with ``count_column`` of object dtype holding
        ``int`` counts, :data:`SMALL_MARK` and :data:`COMPLEMENT_MARK`.

    Raises
    ------
    ValueError
        A missing column, or a value that is not a count.
    DisclosureError
        A group's only non-zero count is small, so its published total gives it away.
    """
    named = [count_column, *by, *(also_by or [])]
    missing = [repr(c) for c in named if c not in df.columns]
    if missing:
        raise ValueError(f"table: no column {', '.join(missing)}")
    values = _as_counts(df[count_column], count_column)
    lines = _group_lines(df, by, values)
    if also_by is not None:
        lines += _group_lines(df, also_by, values)
    state = protect(values, lines, what)
    out = df.copy()
    shown = [_MARKS.get(s, v) for s, v in zip(state, values, strict=True)]
    out[count_column] = np.array(shown, dtype=object)
    return out


def suppress_rates(
    table: pd.DataFrame,
    denominator: str,
    rates: Mapping[str, str],
    *,
    column_totals_known: bool = False,
    groups: pd.Series | None = None,
    withheld: Mapping[Hashable, Sequence[str]] | None = None,
    what: str = "table",
) -> pd.DataFrame:
    """Hide a table's small denominators, and every rate that would give a small count away.

    Each rate column over ``denominator`` (one row per unit, e.g. network)
    stands for two counts per row: the people it counts (``rate *
    denominator``, rounded) and the others. Every small one of these and of the
    denominators is hidden, with complements, and the three counts of a rate
    sum to the denominator in every row; when ``column_totals_known``, each
    count column's total over the rows is known too (e.g. the overall rate is
    published), so the audit solves rows and columns together. A rate is shown
    only when both its counts are; the other columns of a row whose
    denominator is small (means over its people) are hidden too.

    Parameters
    ----------
    table : DataFrame
        One row per unit; ``denominator`` holds counts, the rate columns shares
        in [0, 1] (missing where the denominator is 0).
    denominator : str
        The count column the rates are computed over.
    rates : mapping of str to str
        Rate column -> what it counts, in words (for error messages).
    column_totals_known : bool
        Whether the column totals (all units together) are published.
    groups : Series, optional
        A group label per row (e.g. each network's setting) whose totals are
        published too (the setting pages).
    withheld : mapping, optional
        Row index label -> columns (``denominator`` or rates) withheld by an
        earlier decision, kept withheld here (see :func:`outcome_decisions`).
    what : str
        How an error names the table.

    Returns
    -------
    DataFrame
        A copy; ``denominator`` holds ints and marks, each rate column floats
        or marks, other float columns of a small-denominator row the small mark.
    """
    missing = [repr(c) for c in [denominator, *rates] if c not in table.columns]
    if missing:
        raise ValueError(f"table: no column {', '.join(missing)}")
    n = _as_counts(table[denominator], denominator)
    parts = {denominator: n}
    for column in rates:
        share = table[column].to_numpy(dtype=float, na_value=np.nan)
        counted = [
            0 if d == 0 or np.isnan(s) else int(round(s * d)) for s, d in zip(share, n, strict=True)
        ]
        parts[f"{column} (counted)"] = counted
        parts[f"{column} (others)"] = [d - k for d, k in zip(n, counted, strict=True)]
    names = list(parts)
    width, rows = len(names), len(n)
    values = [parts[name][r] for r in range(rows) for name in names]
    lines = []
    for r in range(rows):
        for j in range(1, width, 2):  # counted + others = denominator, in every row
            lines.append(
                _Line(_row(table.index, r), (r * width + j, r * width + j + 1), r * width, n[r])
            )
    blocks = []
    if column_totals_known:
        blocks.append(("", list(range(rows))))
    if groups is not None:
        labels = list(groups)
        for label in dict.fromkeys(labels):
            blocks.append((f"{label}: ", [r for r in range(rows) if labels[r] == label]))
    for prefix, block in blocks:
        overall = sum(n[r] for r in block)
        for j, name in enumerate(names):
            members = tuple(r * width + j for r in block)
            total = sum(values[i] for i in members)
            # an overall rate that counts fewer than five people is not published either
            if j == 0 or publishable_share(total, overall):
                lines.append(_Line(f"{prefix}column {name!r}", members, None, total))
    # a row with a small denominator shows none of its rates: its counts are seen nowhere
    unseen = [r * width + j for r in range(rows) if is_small(n[r]) for j in range(1, width)]
    before = []
    for r, label in enumerate(table.index):
        for column in (withheld or {}).get(label, ()):
            if column == denominator:
                before.append(r * width)
            elif column in rates:
                j = 1 + 2 * list(rates).index(column)
                before += [r * width + j, r * width + j + 1]
    state = protect(values, lines, what, unseen, before)
    out = table.copy()
    floats = [c for c in out.columns if pd.api.types.is_float_dtype(out[c]) and c not in rates]
    shown_n, hidden_row = [], []
    for r in range(rows):
        s = state[r * width]
        shown_n.append(_MARKS.get(s, n[r]))
        hidden_row.append(s == _SMALL)
    out[denominator] = np.array(shown_n, dtype=object)
    for k, column in enumerate(rates):
        j = 1 + 2 * k
        cells = []
        for r in range(rows):
            a, b = state[r * width + j], state[r * width + j + 1]
            hidden = hidden_row[r] or a != _PUBLISHED or b != _PUBLISHED
            cells.append(SMALL_MARK if hidden else table[column].iloc[r])
        out[column] = np.array(cells, dtype=object)
    for column in floats:
        out[column] = out[column].astype(object).where(~np.array(hidden_row), SMALL_MARK)
    return out


def outcome_decisions(
    by_network: pd.DataFrame,
    denominator: str,
    rates: Mapping[str, str],
    setting: str = "setting",
) -> dict[str, list[str]]:
    """Which outcome values of each network the whole book withholds, decided once.

    A network's rates appear on its own page, in its setting's table and in the
    cross-network table, beside the overall and per-setting figures. A
    complement chosen by one of those tables alone could be published by
    another; so the decision is taken here, once, over every line any of them
    shows (each network's rates over its denominator, all networks' totals, each
    setting's totals), and every page applies it.

    Parameters
    ----------
    by_network : DataFrame
        One row per network: ``network_id``, ``setting``, ``denominator`` and
        the rate columns.

    Returns
    -------
    dict
        ``network_id`` -> the columns it withholds (``denominator`` and/or rate
        columns); networks that withhold nothing are left out.
    """
    table = by_network.set_index("network_id")
    try:
        out = suppress_rates(
            table,
            denominator,
            rates,
            column_totals_known=True,
            groups=table[setting],
            what="outcomes of every network",
        )
    except DisclosureError:  # nothing protects them: every page withholds them all
        return {str(n): [denominator, *rates] for n in table.index}
    decided = {}
    for network_id, row in out.iterrows():
        hidden = [c for c in (denominator, *rates) if isinstance(row[c], str)]
        if hidden:
            decided[str(network_id)] = hidden
    return decided


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
