"""Québec's policy tables as data: the reform timeline and the reform components.

Both ship as package resources and may be replaced by any file with the same columns. A bad
file is refused with a one-line :class:`ValueError` naming the file, the row (the line of the
file, the header being row 1) and the column.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from ..paths import POLICY_TIMELINE, REFORM_COMPONENTS
from .problems import Problem
from .read import read_table
from .schema import Field, Table

PHASES = ("modernization", "shock_of_reality", "explicit_integration", "centralization")


COMPONENT_KINDS = ("managerial", "clinical", "interface")


CHANGE_MANAGEMENT = ("let_it_happen", "help_it_happen", "make_it_happen")


_YEAR = {"minimum": 1900, "maximum": 2100}


_SOURCE = r"^[A-Za-z][A-Za-z0-9_:-]*$"  # a bibliography key


TIMELINE_TABLE = Table(
    "policy_timeline",
    "Policy timeline",
    "Phases and landmark events of Québec's health and social services system.",
    (
        Field("period_start", "integer", "First year of the period.", unit="year", **_YEAR),
        Field(
            "period_end",
            "integer",
            "Last year of the period (empty: still going on).",
            required=False,
            unit="year",
            **_YEAR,
        ),
        Field("phase", "string", "Phase of the reforms.", enum=PHASES),
        Field("event", "string", "What happened."),
        Field("source", "string", "Bibliography key of the source.", pattern=_SOURCE),
    ),
    ("period_start", "event"),
)


COMPONENTS_TABLE = Table(
    "reform_components",
    "Reform components",
    "Components of Québec's integration reforms and how their change was managed.",
    (
        Field("component", "string", "The reform component."),
        Field("kind", "string", "Managerial, clinical or interface.", enum=COMPONENT_KINDS),
        Field(
            "change_management",
            "string",
            "Change-management approach given to the component.",
            enum=CHANGE_MANAGEMENT,
        ),
        Field("year_introduced", "integer", "Year the component was introduced.", **_YEAR),
        Field("source", "string", "Bibliography key of the source.", pattern=_SOURCE),
    ),
    ("component",),
)


def _cell_problems(df: pd.DataFrame, table: Table, label: str) -> list[Problem]:
    """Empty required cells, values outside a vocabulary or range, bad keys."""
    problems = []
    for f in table.fields:
        values = df[f.name]
        for idx, value in values.items():
            row = int(idx) + 2  # the header is row 1
            if pd.isna(value) or (isinstance(value, str) and not value.strip()):
                if f.required:
                    problems.append(Problem(label, row, f.name, "empty, but a value is required"))
                continue
            if f.enum is not None and value not in f.enum:
                allowed = ", ".join(f.enum)
                problems.append(Problem(label, row, f.name, f"{value!r} is not one of: {allowed}"))
            if f.pattern is not None and not re.fullmatch(f.pattern, value):
                problems.append(Problem(label, row, f.name, f"{value!r} is not a bibliography key"))
            if f.minimum is not None and value < f.minimum:
                problems.append(Problem(label, row, f.name, f"must be at least {f.minimum:g}"))
            if f.maximum is not None and value > f.maximum:
                problems.append(Problem(label, row, f.name, f"must be at most {f.maximum:g}"))
    key = list(table.primary_key)
    for idx in df.index[df.duplicated(key)]:
        value = df.loc[idx, key[-1]]
        problems.append(Problem(label, int(idx) + 2, key[-1], f"{value!r} appears twice"))
    return problems


def _load(path: str | Path, table: Table, extra_checks=None) -> pd.DataFrame:
    path = Path(path)
    df, problems = read_table(path, table, str(path))
    if df is not None:
        # a cell that did not parse is already reported; do not report it again as empty
        flagged = {(p.row, p.column) for p in problems}
        problems += [
            p for p in _cell_problems(df, table, str(path)) if (p.row, p.column) not in flagged
        ]
        if not problems and extra_checks is not None:
            problems = extra_checks(df, str(path))
    if problems:
        columns = table.field_names
        # the first problem in reading order: by row, then by column position
        first = min(
            problems,
            key=lambda p: (p.row or 0, columns.index(p.column) if p.column in columns else -1),
        )
        raise ValueError(str(first))
    return df.reset_index(drop=True)


def _periods_in_order(df: pd.DataFrame, label: str) -> list[Problem]:
    late = df["period_end"].notna() & (df["period_end"] < df["period_start"])
    return [
        Problem(
            label,
            int(idx) + 2,
            "period_end",
            f"{df.loc[idx, 'period_end']} is before period_start {df.loc[idx, 'period_start']}",
        )
        for idx in df.index[late.fillna(False).to_numpy(dtype=bool)]
    ]


def load_timeline(path: str | Path | None = None) -> pd.DataFrame:
    """The Québec reform timeline.

    Parameters
    ----------
    path : str or Path, optional
        A CSV file with the columns below; the package's by default.

    Returns
    -------
    DataFrame
        ``period_start`` (Int64), ``period_end`` (Int64, <NA> for a period
        still going on), ``phase`` (ordered categorical of :data:`PHASES`),
        ``event``, ``source`` (bibliography key).

    Raises
    ------
    ValueError
        One line naming the file, row and column of the first problem.
    """
    df = _load(path or POLICY_TIMELINE, TIMELINE_TABLE, _periods_in_order)
    df["phase"] = pd.Categorical(df["phase"], categories=PHASES, ordered=True)
    return df


def load_reform_components(path: str | Path | None = None) -> pd.DataFrame:
    """Components of Québec's integration reforms and their change management.

    Parameters
    ----------
    path : str or Path, optional
        A CSV file with the columns ``component``, ``kind`` (one of
        :data:`COMPONENT_KINDS`), ``change_management`` (one of
        :data:`CHANGE_MANAGEMENT`), ``year_introduced`` and ``source``; the
        package's by default.

    Returns
    -------
    DataFrame
        The table, with ``kind`` and ``change_management`` as ordered
        categoricals and ``year_introduced`` as Int64.

    Raises
    ------
    ValueError
        One line naming the file, row and column of the first problem, e.g.
        ``components.csv, row 3, column change_management: 'x' is not one of: ...``.
    """
    df = _load(path or REFORM_COMPONENTS, COMPONENTS_TABLE)
    df["kind"] = pd.Categorical(df["kind"], categories=COMPONENT_KINDS, ordered=True)
    df["change_management"] = pd.Categorical(
        df["change_management"], categories=CHANGE_MANAGEMENT, ordered=True
    )
    return df
