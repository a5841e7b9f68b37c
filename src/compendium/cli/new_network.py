"""``compendium new-network ID --setting S``: add the skeleton of a new network to a data package.

The skeleton and its rules: :mod:`compendium.ingest.new_network`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


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
    from ..ingest.new_network import GENERAL_HOSPITAL

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


def run(args) -> int:
    from compendium.paths import default_paths

    from ..ingest.new_network import NetworkRefused, add_network

    try:
        added = add_network(
            default_paths(args.data).data_dir,
            args.network_id,
            args.setting,
            args.region,
            args.population,
            name=args.name,
            general_hospital=args.general_hospital,
        )
    except NetworkRefused as err:
        for p in err.problems:
            print(p, file=sys.stderr)
        print(err, file=sys.stderr)
        return 1

    flag = str(added.synthetic).lower()
    print(
        f"added network {added.network_id!r} ({added.name}; {added.setting}, model "
        f"{added.model}: {added.model_reason}) to {added.data_dir}"
    )
    print(
        f"  networks.csv: 1 row; organizations.csv: {len(added.organization_types)} row(s) "
        f"({', '.join(added.organization_types)}); network_strategies.csv: "
        f"{added.n_strategies} rows, none in place; all synthetic={flag}"
    )
    print(
        "  next: its other organizations, ties, strategies in place, informants and care "
        "episodes; then `compendium validate`"
    )
    return 0
