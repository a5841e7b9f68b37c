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


def _cross_table_problems(tables: dict[str, pd.DataFrame], data_dir: Path) -> list[Problem]:

    def lab(name: str) -> str:
        return str(data_dir / TABLES_BY_NAME[name].path)

    problems: list[Problem] = []

    def flag(name, positions, column, message_for):
        df = tables[name]
        for pos in positions:
            problems.append(Problem(lab(name), file_row(df.index[pos]), column, message_for(pos)))

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
                    f"{shorten(df[col].iloc[pos])!r} is not a {fk.reference[0]} "
                    f"of {fk.resource}.csv"
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
            row = file_row(networks.index[pos])
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
