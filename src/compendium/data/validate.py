"""Validate a data package: the pandera schemas of :mod:`compendium.data.schema` and the rules
that tie tables together (foreign keys, networks, episodes and contacts)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from . import schema
from .catalogues import load_catalogue
from .problems import Problem, file_row, shorten
from .read import read_tables
from .schema import TABLES, TABLES_BY_NAME, Table

# -- validation -------------------------------------------------------------
_CHECK_MESSAGES = {
    "isin": lambda f, v: f"{shorten(v)!r} is not one of: {', '.join(f.enum or ())}",
    "str_matches": lambda f, v: (
        f"{shorten(v)!r} is not a valid identifier (lower-case letters, digits, '_' and '-'; "
        "no spaces, slashes or dots)"
    ),
    "greater_than_or_equal_to": lambda f, v: f"must be at least {f.minimum:g}, got {shorten(v)}",
    "greater_than": lambda f, v: f"must be greater than {f.exclusive_minimum:g}, got {shorten(v)}",
    "less_than_or_equal_to": lambda f, v: f"must be at most {f.maximum:g}, got {shorten(v)}",
    "not_nullable": lambda f, v: "empty, but a value is required",
    "field_uniqueness": lambda f, v: f"duplicate key {shorten(v)!r}",
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
        row = None if idx is None or pd.isna(idx) else file_row(idx)
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
                Problem(label, row, column, f"fails {check}: {shorten(case.failure_case)}")
            )
    return sorted(set(problems), key=lambda p: (p.row or 0, p.column or ""))


def _not_in(values: pd.Series, allowed) -> np.ndarray:
    """Positions of non-missing values that are not in ``allowed``."""
    return np.flatnonzero((values.notna() & ~values.isin(list(allowed))).to_numpy())


class _Findings:
    """The cross-table problems found so far, and how to name a table's file in them.

    Parameters
    ----------
    tables : dict of str to DataFrame
        The package's tables, as :func:`read_tables` read them.
    data_dir : Path
        The package's folder, for the file names in the problems.
    """

    def __init__(self, tables: dict[str, pd.DataFrame], data_dir: Path):
        self.tables = tables
        self.data_dir = data_dir
        self.problems: list[Problem] = []

    def label(self, name: str) -> str:
        """The file of table ``name``, as problems name it."""
        return str(self.data_dir / TABLES_BY_NAME[name].path)

    def add(self, name: str, row: int | None, column: str | None, message: str) -> None:
        """One problem of table ``name`` (``row`` None: of the whole table)."""
        self.problems.append(Problem(self.label(name), row, column, message))

    def flag(self, name: str, positions, column: str, message_for) -> None:
        """One problem per row position of table ``name``, worded by ``message_for(pos)``."""
        df = self.tables[name]
        for pos in positions:
            self.add(name, file_row(df.index[pos]), column, message_for(pos))


def _foreign_key_problems(found: _Findings) -> None:
    """Values of a declared foreign key that the referenced table does not hold."""
    tables = found.tables
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
                    found.add(
                        table.name,
                        None,
                        col,
                        f"{n} row(s) refer to {fk.resource}.csv, which has no rows",
                    )
                continue
            found.flag(
                table.name,
                _not_in(df[col], ref),
                col,
                lambda pos, df=df, col=col, fk=fk: (
                    f"{shorten(df[col].iloc[pos])!r} is not a {fk.reference[0]} "
                    f"of {fk.resource}.csv"
                ),
            )


def _network_problems(found: _Findings) -> None:
    """An empty ``networks`` table; a psychiatry department with no general hospital."""
    networks = found.tables.get("networks")
    if networks is None:
        return
    if networks.empty:
        found.add("networks", None, None, "table has no rows: no network to study")
    no_hospital = networks["general_hospital_has_psychiatry"].fillna(False) & ~networks[
        "has_general_hospital"
    ].fillna(False)
    found.flag(
        "networks",
        np.flatnonzero(no_hospital.to_numpy()),
        "general_hospital_has_psychiatry",
        lambda pos: "true, but has_general_hospital is false",
    )


def _hospital_flag_problems(found: _Findings, networks: pd.DataFrame, orgs: pd.DataFrame) -> None:
    """A network with no organizations, or whose hospital flags disagree with its organizations."""
    counts = orgs.groupby(["network_id", "organization_type"]).size()
    for pos, net in enumerate(networks.itertuples(index=False)):
        row = file_row(networks.index[pos])
        if net.network_id not in set(orgs["network_id"]):
            found.add(
                "networks", row, "network_id", f"network {net.network_id!r} has no organizations"
            )
            continue
        for flag_col, org_type in (
            ("has_general_hospital", "general_hospital"),
            ("has_psychiatric_hospital", "psychiatric_hospital"),
        ):
            present = counts.get((net.network_id, org_type), 0) > 0
            claimed = bool(getattr(net, flag_col)) if not pd.isna(getattr(net, flag_col)) else False
            if present != claimed:
                found.add(
                    "networks",
                    row,
                    flag_col,
                    f"{str(claimed).lower()}, but organizations.csv lists "
                    f"{'a' if present else 'no'} {org_type} for {net.network_id!r}",
                )


def _tie_problems(found: _Findings, org_network: pd.Series) -> None:
    """Ties between organizations of another network, and ties of an organization to itself."""
    ties = found.tables.get("ties")
    if ties is None:
        return
    for col in ("source", "target"):
        owner = ties[col].map(org_network)
        wrong = owner.notna() & (owner != ties["network_id"])
        found.flag(
            "ties",
            np.flatnonzero(wrong.to_numpy()),
            col,
            lambda pos, col=col, owner=owner: (
                f"organization {ties[col].iloc[pos]!r} belongs to network "
                f"{owner.iloc[pos]!r}, not {ties['network_id'].iloc[pos]!r}"
            ),
        )
    loops = (ties["source"] == ties["target"]).fillna(False)
    found.flag(
        "ties",
        np.flatnonzero(loops.to_numpy()),
        "target",
        lambda pos: "a tie cannot join an organization to itself",
    )


def _care_organization_problems(found: _Findings, org_network: pd.Series) -> None:
    """Follow-ups and service contacts at an organization of another network."""
    for name, col in (
        ("care_episodes", "follow_up_organization_id"),
        ("service_contacts", "organization_id"),
    ):
        df = found.tables.get(name)
        if df is None:
            continue
        owner = df[col].map(org_network)
        wrong = owner.notna() & (owner != df["network_id"])
        found.flag(
            name,
            np.flatnonzero(wrong.to_numpy()),
            col,
            lambda pos, df=df, col=col, owner=owner: (
                f"organization {df[col].iloc[pos]!r} belongs to network {owner.iloc[pos]!r}, "
                f"not {df['network_id'].iloc[pos]!r}"
            ),
        )


def _organization_problems(found: _Findings) -> None:
    """Whether each network's organizations, ties and care stay within that network."""
    networks = found.tables.get("networks")
    orgs = found.tables.get("organizations")
    if orgs is None or networks is None:
        return
    _hospital_flag_problems(found, networks, orgs)
    org_network = orgs.set_index("organization_id")["network_id"]
    _tie_problems(found, org_network)
    _care_organization_problems(found, org_network)


def _strategy_problems(found: _Findings) -> None:
    """Strategy codes that the strategy catalogue does not know."""
    strategies = found.tables.get("network_strategies")
    if strategies is None:
        return
    known = set(load_catalogue()["strategy_code"])
    found.flag(
        "network_strategies",
        _not_in(strategies["strategy_code"], known),
        "strategy_code",
        lambda pos: (
            f"unknown strategy code {strategies['strategy_code'].iloc[pos]!r} "
            "(not in the strategy catalogue)"
        ),
    )


def _informant_problems(found: _Findings) -> None:
    """Managers and clinical staff whose kind of organization is not given."""
    informants = found.tables.get("informants")
    if informants is None:
        return
    staff = (
        informants["role"].isin(["manager", "clinical_staff"])
        & informants["organization_type"].isna()
    )
    found.flag(
        "informants",
        np.flatnonzero(staff.to_numpy()),
        "organization_type",
        lambda pos: f"empty, but required for the role {informants['role'].iloc[pos]!r}",
    )


def _codebook_problems(found: _Findings) -> None:
    """Parent codes that are not codes of the codebook."""
    codebook = found.tables.get("codebook")
    if codebook is None:
        return
    found.flag(
        "codebook",
        _not_in(codebook["parent_code"], codebook["code"]),
        "parent_code",
        lambda pos: f"{codebook['parent_code'].iloc[pos]!r} is not a code of codebook.csv",
    )


def _episode_date_problems(found: _Findings) -> None:
    """Care episodes whose discharge, follow-up or readmission comes too early."""
    e = found.tables.get("care_episodes")
    if e is None:
        return
    for col, earlier, strict, what in (
        ("discharge_date", "admission_date", False, "admission"),
        ("follow_up_date", "discharge_date", False, "discharge"),
        ("readmission_date", "discharge_date", True, "discharge"),
    ):
        bad = (e[col] < e[earlier]) if not strict else (e[col] <= e[earlier])
        found.flag(
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


def _follow_up_problems(found: _Findings) -> None:
    """Care episodes with a follow-up date but no follow-up organization, or the reverse."""
    e = found.tables.get("care_episodes")
    if e is None:
        return
    mismatch = e["follow_up_date"].isna() != e["follow_up_organization_id"].isna()
    found.flag(
        "care_episodes",
        np.flatnonzero(mismatch.to_numpy()),
        "follow_up_organization_id",
        lambda pos: "follow_up_date and follow_up_organization_id must be both given or both empty",
    )


def _contact_problems(found: _Findings) -> None:
    """Service contacts of people who have no care episode."""
    episodes = found.tables.get("care_episodes")
    contacts = found.tables.get("service_contacts")
    if episodes is None or contacts is None:
        return
    found.flag(
        "service_contacts",
        _not_in(contacts["person_id"], episodes["person_id"]),
        "person_id",
        lambda pos: (
            f"person {contacts['person_id'].iloc[pos]!r} has no episode in care_episodes.csv"
        ),
    )


#: The rule families, in the order their problems are listed within one cell.
_CROSS_TABLE_RULES = (
    _foreign_key_problems,
    _network_problems,
    _organization_problems,
    _strategy_problems,
    _informant_problems,
    _codebook_problems,
    _episode_date_problems,
    _follow_up_problems,
    _contact_problems,
)


def _cross_table_problems(tables: dict[str, pd.DataFrame], data_dir: Path) -> list[Problem]:
    """The problems of the rules that tie tables together, rule family by rule family."""
    found = _Findings(tables, data_dir)
    for rule in _CROSS_TABLE_RULES:
        rule(found)
    return found.problems


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
