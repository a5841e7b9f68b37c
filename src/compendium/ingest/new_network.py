"""The skeleton of a new network, added to a data package (``compendium new-network``).

The skeleton is the least a network needs to validate and to fit one of Fleury's models
(:func:`compendium.analysis.strategies.assign_model`):

* a ``networks`` row, its hospital flags set by the setting (and ``--general-hospital``):
  rural networks have no hospital (model 1) or a general hospital without psychiatry
  (model 2); urban and semi-urban ones a general hospital with a psychiatry department
  (model 3); metropolitan ones a psychiatric hospital, with or without a general
  hospital's psychiatry department (model 4);
* one ``organizations`` row for each kind of organization the model rests on: a local
  community centre (CLSC), and the hospitals the flags announce, named and numbered the
  way ``compendium synth`` names them (``<ID>-clsc-01``, "CLSC 1");
* one ``network_strategies`` row per strategy of the catalogue, none in place.

Population and region have no sensible default, so they must be given. The rows are
marked ``synthetic=true`` only when every row of the package already is (the committed
synthetic package); in a package holding any observed row they are ``synthetic=false``,
since the network is a real one being entered. Rows are appended to the CSV files as they
are (existing lines keep their bytes), and only once the package with them validates.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path

#: --general-hospital: (has_general_hospital, general_hospital_has_psychiatry)
GENERAL_HOSPITAL = {
    "none": (False, False),
    "without-psychiatry": (True, False),
    "with-psychiatry": (True, True),
}
#: What a setting's usual model has, when --general-hospital is not given.
DEFAULT_GENERAL_HOSPITAL = {
    "rural": "none",
    "urban_semi_urban": "with-psychiatry",
    "metropolitan": "none",
}


class NetworkRefused(ValueError):
    """The network was not added: the message says why, after ``problems`` (one line each).

    Messages are worded for ``compendium new-network`` and name its options.
    """

    def __init__(self, reason: str, problems=()):
        super().__init__(reason)
        self.problems = list(problems)


@dataclass(frozen=True)
class AddedNetwork:
    """A network added by :func:`add_network`, as ``compendium new-network`` reports it.

    Attributes
    ----------
    network_id, name, setting : str
        The new network.
    model : int
        Its model (:func:`compendium.analysis.strategies.assign_model`).
    model_reason : str
        Why it fits that model.
    data_dir : Path
        The data package it was added to.
    organization_types : list of str
        The kinds of the organizations added, one per row.
    n_strategies : int
        ``network_strategies`` rows added (one per strategy, none in place).
    synthetic : bool
        The rows' synthetic flag.
    """

    network_id: str
    name: str
    setting: str
    model: int
    model_reason: str
    data_dir: Path
    organization_types: list[str]
    n_strategies: int
    synthetic: bool


def default_name(network_id: str) -> str:
    """``rural_north`` -> ``Rural North``."""
    return " ".join(w.capitalize() for w in re.split(r"[_-]+", network_id) if w)


def skeleton(
    network_id: str,
    setting: str,
    name: str,
    region: str,
    population: int,
    general_hospital: str,
    synthetic: bool,
):
    """The new rows of ``networks``, ``organizations`` and ``network_strategies``.

    Returns
    -------
    dict of str to DataFrame
        Typed as :func:`compendium.data.read.load` types tables.
    """
    import pandas as pd

    from ..data.catalogues import load_catalogue
    from ..ingest.synth import ORGANIZATION_ABBREVIATIONS, ORGANIZATION_LABELS

    has_gh, psychiatry = GENERAL_HOSPITAL[general_hospital]
    has_ph = setting == "metropolitan"
    networks = pd.DataFrame(
        {
            "network_id": [network_id],
            "name": [name],
            "region": [region],
            "setting": [setting],
            "population": pd.array([population], dtype="Int64"),
            "has_general_hospital": pd.array([has_gh], dtype="boolean"),
            "general_hospital_has_psychiatry": pd.array([psychiatry], dtype="boolean"),
            "has_psychiatric_hospital": pd.array([has_ph], dtype="boolean"),
            "synthetic": pd.array([synthetic], dtype="boolean"),
        }
    )
    types = ["local_community_centre"]
    types += ["general_hospital"] * has_gh + ["psychiatric_hospital"] * has_ph
    organizations = pd.DataFrame(
        {
            "organization_id": [f"{network_id}-{ORGANIZATION_ABBREVIATIONS[t]}-01" for t in types],
            "network_id": network_id,
            "organization_type": types,
            "name": [f"{ORGANIZATION_LABELS[t]} 1" for t in types],
            "synthetic": pd.array([synthetic] * len(types), dtype="boolean"),
        }
    )
    codes = load_catalogue()["strategy_code"].tolist()
    strategies = pd.DataFrame(
        {
            "network_id": network_id,
            "strategy_code": codes,
            "in_place": pd.array([False] * len(codes), dtype="boolean"),
            "since_year": pd.array([None] * len(codes), dtype="Int64"),
            "synthetic": pd.array([synthetic] * len(codes), dtype="boolean"),
        }
    )
    return {
        "networks": networks,
        "organizations": organizations,
        "network_strategies": strategies,
    }


def appended(path: Path, table, rows) -> str:
    """The text of ``path`` with ``rows`` added at the end, in the file's own column order.

    The existing text is kept as it is (byte order mark and line endings included).
    """
    from ..data.write import table_to_csv

    text = path.read_bytes().decode("utf-8")
    newline = "\r\n" if "\r\n" in text.split("\n", 1)[0] + "\n" else "\n"
    header = next(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    new = list(csv.DictReader(io.StringIO(table_to_csv(rows, table))))
    for row in new:
        dropped = {k: v for k, v in row.items() if k not in header and v}
        if dropped:  # only an optional column may be absent, and then it is empty here
            raise ValueError(f"{path}: no column for {', '.join(dropped)}")
    out = io.StringIO()
    writer = csv.DictWriter(out, header, extrasaction="ignore", lineterminator=newline)
    writer.writerows(new)
    if text and not text.endswith("\n"):
        text += newline
    return text + out.getvalue()


def _check_identifier(network_id: str) -> None:
    """Refuse an identifier the schema would refuse (it becomes a file name)."""
    from ..data.schema import IDENTIFIER_PATTERN

    if not re.fullmatch(IDENTIFIER_PATTERN, network_id):
        raise NetworkRefused(
            f"{network_id!r} is not a valid network identifier: lower-case letters, digits, "
            "'_' and '-', starting and ending with a letter or digit, at most 64 characters "
            "(it becomes a file name)"
        )


def _valid_tables(data_dir: Path) -> dict:
    """The tables of the data package, which must be valid before anything is added to it."""
    from ..data.read import read_tables

    if not data_dir.is_dir():
        raise NetworkRefused(f"{data_dir}: not a folder")
    tables, problems = read_tables(data_dir)
    if problems:
        raise NetworkRefused(f"{data_dir}: fix the data package first; nothing added", problems)
    return tables


def _check_network_is_new(tables: dict, data_dir: Path, network_id: str) -> None:
    """Refuse a network the package holds already."""
    if network_id in set(tables["networks"]["network_id"]):
        raise NetworkRefused(f"{data_dir / 'networks.csv'}: network {network_id!r} exists already")


def _fitting_model(rows: dict, setting: str, general_hospital: str):
    """The model the new network fits (its ``model`` and ``reason``); refused if none."""
    import pandas as pd

    from ..analysis.strategies import assign_model

    model = assign_model(rows["networks"]).iloc[0]
    if pd.isna(model["model"]):
        raise NetworkRefused(
            f"a {setting} network with --general-hospital {general_hospital} fits none of "
            f"the four models ({model['reason']}); nothing added"
        )
    return model


def _check_organizations_are_new(tables: dict, rows: dict, data_dir: Path) -> None:
    """Refuse new organizations whose identifiers the package holds already."""
    taken = set(tables["organizations"]["organization_id"]) & set(
        rows["organizations"]["organization_id"]
    )
    if taken:
        raise NetworkRefused(
            f"{data_dir / 'organizations.csv'}: organization {sorted(taken)[0]!r} exists already"
        )


def _append_rows(data_dir: Path, rows: dict) -> None:
    """Append the rows to their CSV files: all, or none if the package would not validate."""
    from ..data.problems import DataPackageError
    from ..data.schema import TABLES_BY_NAME
    from ..data.write import update_tables

    texts = {
        name: appended(data_dir / TABLES_BY_NAME[name].path, TABLES_BY_NAME[name], df)
        for name, df in rows.items()
    }
    try:
        update_tables(data_dir, texts)
    except DataPackageError as err:
        raise NetworkRefused(
            "nothing added: the data package would not be valid", err.problems
        ) from None


def add_network(
    data_dir: Path,
    network_id: str,
    setting: str,
    region: str,
    population: int,
    name: str | None = None,
    general_hospital: str | None = None,
) -> AddedNetwork:
    """Add the skeleton of a new network to the data package in ``data_dir``.

    Parameters
    ----------
    data_dir : Path
        A valid data package.
    network_id : str
        The new network's identifier (it becomes a file name).
    setting : str
        One of :data:`compendium.data.schema.SETTINGS`.
    region : str
        The administrative region (spaces tidied).
    population : int
        People living in the network's territory.
    name : str, optional
        Its pseudonymous name; by default from the identifier (:func:`default_name`).
    general_hospital : str, optional
        A key of :data:`GENERAL_HOSPITAL`; by default the setting's usual one
        (:data:`DEFAULT_GENERAL_HOSPITAL`).

    Raises
    ------
    NetworkRefused
        An invalid identifier, an empty region, an invalid package, a network or
        organization that exists already, a network that fits none of the four
        models, or rows the package would not validate with. Nothing is written then.
    """
    from ..data.write import is_synthetic

    _check_identifier(network_id)
    region = " ".join(region.split())
    if not region:
        raise NetworkRefused("--region is empty")
    tables = _valid_tables(data_dir)
    _check_network_is_new(tables, data_dir, network_id)

    general_hospital = general_hospital or DEFAULT_GENERAL_HOSPITAL[setting]
    name = " ".join((name or default_name(network_id)).split())
    rows = skeleton(
        network_id,
        setting,
        name,
        region,
        population,
        general_hospital,
        synthetic=is_synthetic(tables),
    )
    model = _fitting_model(rows, setting, general_hospital)
    _check_organizations_are_new(tables, rows, data_dir)
    _append_rows(data_dir, rows)
    return AddedNetwork(
        network_id=network_id,
        name=name,
        setting=setting,
        model=model["model"],
        model_reason=model["reason"],
        data_dir=data_dir,
        organization_types=list(rows["organizations"]["organization_type"]),
        n_strategies=len(rows["network_strategies"]),
        synthetic=bool(rows["networks"]["synthetic"].iloc[0]),
    )
