"""``compendium new-network ID --setting S``: add the skeleton of a new network to a data package.

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

import argparse
import csv
import io
import re
import sys
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


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be greater than 0, got {value}")
    return value


def add_arguments(parser):
    from ..data.schema import SETTINGS

    parser.add_argument(
        "network_id",
        metavar="ID",
        help="identifier of the new network (lower-case letters, digits, '_' and '-')",
    )
    parser.add_argument("--setting", required=True, choices=SETTINGS, help="kind of territory")
    parser.add_argument("--region", required=True, help="administrative region the network lies in")
    parser.add_argument(
        "--population",
        required=True,
        type=_positive_int,
        help="people living in the network's territory",
    )
    parser.add_argument(
        "--name", help="pseudonymous name (default: from the ID, rural_north gives Rural North)"
    )
    parser.add_argument(
        "--general-hospital",
        choices=list(GENERAL_HOSPITAL),
        help="the network's general hospital (default: rural none, urban_semi_urban "
        "with-psychiatry, metropolitan none); rural without-psychiatry is model 2",
    )
    parser.add_argument(
        "--data",
        type=Path,
        metavar="DIR",
        help="data package to add to (default: $COMPENDIUM_DATA, else the repository's data/)",
    )


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


def run(args) -> int:
    import pandas as pd

    from compendium.paths import default_paths

    from ..analysis.strategies import assign_model
    from ..data.problems import DataPackageError
    from ..data.read import read_tables
    from ..data.schema import IDENTIFIER_PATTERN, TABLES_BY_NAME
    from ..data.write import is_synthetic, update_tables

    data_dir = default_paths(args.data).data_dir
    network_id = args.network_id
    if not re.fullmatch(IDENTIFIER_PATTERN, network_id):
        print(
            f"{network_id!r} is not a valid network identifier: lower-case letters, digits, "
            "'_' and '-', starting and ending with a letter or digit, at most 64 characters "
            "(it becomes a file name)",
            file=sys.stderr,
        )
        return 1
    region = " ".join(args.region.split())
    if not region:
        print("--region is empty", file=sys.stderr)
        return 1
    if not data_dir.is_dir():
        print(f"{data_dir}: not a folder", file=sys.stderr)
        return 1
    tables, problems = read_tables(data_dir)
    if problems:
        for p in problems:
            print(p, file=sys.stderr)
        print(f"{data_dir}: fix the data package first; nothing added", file=sys.stderr)
        return 1
    if network_id in set(tables["networks"]["network_id"]):
        print(
            f"{data_dir / 'networks.csv'}: network {network_id!r} exists already", file=sys.stderr
        )
        return 1

    general_hospital = args.general_hospital or DEFAULT_GENERAL_HOSPITAL[args.setting]
    name = " ".join((args.name or default_name(network_id)).split())
    rows = skeleton(
        network_id,
        args.setting,
        name,
        region,
        args.population,
        general_hospital,
        synthetic=is_synthetic(tables),
    )
    model = assign_model(rows["networks"]).iloc[0]
    if pd.isna(model["model"]):
        print(
            f"a {args.setting} network with --general-hospital {general_hospital} fits none of "
            f"the four models ({model['reason']}); nothing added",
            file=sys.stderr,
        )
        return 1
    taken = set(tables["organizations"]["organization_id"]) & set(
        rows["organizations"]["organization_id"]
    )
    if taken:
        print(
            f"{data_dir / 'organizations.csv'}: organization {sorted(taken)[0]!r} exists already",
            file=sys.stderr,
        )
        return 1

    texts = {
        name: appended(data_dir / TABLES_BY_NAME[name].path, TABLES_BY_NAME[name], df)
        for name, df in rows.items()
    }
    try:
        update_tables(data_dir, texts)
    except DataPackageError as err:
        for p in err.problems:
            print(p, file=sys.stderr)
        print("nothing added: the data package would not be valid", file=sys.stderr)
        return 1

    orgs = rows["organizations"]
    flag = str(bool(rows["networks"]["synthetic"].iloc[0])).lower()
    print(
        f"added network {network_id!r} ({name}; {args.setting}, model {model['model']}: "
        f"{model['reason']}) to {data_dir}"
    )
    print(
        f"  networks.csv: 1 row; organizations.csv: {len(orgs)} row(s) "
        f"({', '.join(orgs['organization_type'])}); network_strategies.csv: "
        f"{len(rows['network_strategies'])} rows, none in place; all synthetic={flag}"
    )
    print(
        "  next: its other organizations, ties, strategies in place, informants and care "
        "episodes; then `compendium validate`"
    )
    return 0
