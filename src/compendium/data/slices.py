"""Cut the data package into per-network slices, and join slices for the notebooks that read
several networks.

A slice is a complete mini data package: one network's rows of every
network-scoped table, and the shared tables whole. Its files are rewritten only
when their content changes, so an edit to one network's rows reaches only the
runs that read that network.
"""

from __future__ import annotations

import json
from pathlib import Path

from ..fsutil import write_if_changed
from ..paths import ProjectPaths

# pandas and the schema (pandera) are imported where they are used: the workflow reads
# which files a slice holds while it starts, and that must stay cheap.


def network_slice(tables: dict, network_id: str) -> dict:
    """The rows of every table that concern one network (shared tables whole)."""
    from . import schema

    out = {}
    informant_ids = tables["informants"].loc[
        tables["informants"]["network_id"] == network_id, "informant_id"
    ]
    for table in schema.TABLES:
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


def setting_slice(tables: dict, setting: str) -> dict:
    """The rows of every table that concern the networks of one setting."""
    from . import schema

    ids = tables["networks"].loc[tables["networks"]["setting"] == setting, "network_id"]
    informant_ids = tables["informants"].loc[
        tables["informants"]["network_id"].isin(ids), "informant_id"
    ]
    out = {}
    for table in schema.TABLES:
        df = tables[table.name]
        if table.name in schema.SHARED_TABLES:
            out[table.name] = df
        elif "network_id" in df.columns:
            out[table.name] = df[df["network_id"].isin(ids)].reset_index(drop=True)
        else:
            out[table.name] = df[df["informant_id"].isin(informant_ids)].reset_index(drop=True)
    return out


def slice_files(paths: ProjectPaths, network_id: str) -> list[Path]:
    return package_files(paths.network_slice(network_id))


#: Beside a slice's tables: what disclosure control withholds of its networks' outcomes,
#: decided once for the whole book (``report.privacy.outcome_decisions``).
WITHHELD_FILE = "withheld.json"


def package_files(d: Path) -> list[Path]:
    """The files of a slice (one network's, one setting's, or all networks')."""
    from . import schema

    return [d / t.path for t in schema.TABLES] + [d / "datapackage.json", d / WITHHELD_FILE]


def write_withheld(paths: ProjectPaths, decisions: dict, network_ids: list[str]) -> None:
    """Each network's slice gets its own part of the decisions (rewritten when it changes)."""
    for network_id in network_ids:
        mine = {network_id: decisions[network_id]} if network_id in decisions else {}
        text = json.dumps(mine, indent=1, sort_keys=True) + "\n"
        write_if_changed(paths.network_slice(network_id) / WITHHELD_FILE, text)


def withheld(*data_dirs) -> dict[str, list[str]]:
    """The outcome values withheld for the networks of these slices (none for a plain package).

    A data package read outside a build (a notebook run by hand on ``../data``)
    has no decisions: its tables then protect themselves alone.
    """
    out: dict[str, list[str]] = {}
    for d in data_dirs:
        path = Path(d) / WITHHELD_FILE
        if path.exists():
            out.update(json.loads(path.read_text(encoding="utf-8")))
    return out


def _rows_by_network(tables: dict) -> dict:
    """For each network-scoped table: network_id -> positions of its rows, in file order.

    One pass over each table instead of one per network: with hundreds of
    networks, filtering every table once per network dominated the build's
    preparation. Cut as :func:`network_slice` cuts (the tests check it).
    """
    import numpy as np
    import pandas as pd

    from . import schema

    informant_network = tables["informants"].set_index("informant_id")["network_id"]
    rows: dict[str, dict[str, np.ndarray]] = {}
    for table in schema.TABLES:
        if table.name in schema.SHARED_TABLES:
            continue
        df = tables[table.name]
        if "network_id" in df.columns:
            key = df["network_id"]
        elif table.name == "coded_segments":
            key = df["informant_id"].map(informant_network)
        else:  # pragma: no cover - every table is either shared or network-scoped
            raise ValueError(f"do not know how to slice {table.name}")
        codes, uniques = pd.factorize(key)
        order = np.argsort(codes, kind="stable")  # each network's rows, in file order
        bounds = np.searchsorted(codes[order], np.arange(len(uniques) + 1))
        rows[table.name] = {str(u): order[bounds[i] : bounds[i + 1]] for i, u in enumerate(uniques)}
    return rows


def write_slices(paths: ProjectPaths, tables: dict, network_ids: list[str]) -> None:
    """Write every network's slice (files that did not change are left alone).

    Each table is serialized once, and a slice's file is the header and the
    lines of its network's rows: what serializing the slice writes, since a CSV
    row is written on its own (the tests check both agree). A table with a
    line break inside a value is serialized slice by slice instead.
    """
    import numpy as np

    from . import schema
    from .write import descriptor_json, table_to_csv

    rows = _rows_by_network(tables)
    empty = np.array([], dtype=np.intp)
    for table in schema.TABLES:
        df = tables[table.name]
        text = table_to_csv(df, table)
        if table.name in schema.SHARED_TABLES:
            for network_id in network_ids:
                write_if_changed(paths.network_slice(network_id) / table.path, text)
            continue
        header, _, body = text.partition("\n")
        lines = body.split("\n")[:-1]
        one_line_a_row = len(lines) == len(df)
        for network_id in network_ids:
            picked = rows[table.name].get(network_id, empty)
            if one_line_a_row:
                data = "".join([header, "\n", *(lines[i] + "\n" for i in picked)])
            else:
                data = table_to_csv(df.iloc[picked].reset_index(drop=True), table)
            write_if_changed(paths.network_slice(network_id) / table.path, data)
    for network_id in network_ids:
        write_if_changed(
            paths.network_slice(network_id) / "datapackage.json",
            descriptor_json(
                f"slice-{network_id}",
                f"Slice of network {network_id}",
                # nothing package-wide here, or one network's edit would touch every slice
                f"Rows of network {network_id} cut from the compendium's data package.",
            ),
        )


def combine_slices(
    paths: ProjectPaths, network_ids: list[str], out: Path, name: str, title: str
) -> None:
    """Write several networks' slices as one package, read as fast as one.

    ``load(out)`` gives exactly what ``load(*slices)`` gives (the same rows in
    the same order, shared tables once), without reading hundreds of folders:
    each table is the slices' files joined (one header, then each slice's rows),
    which is what serializing the joined table writes, a CSV row being written
    on its own (the tests check both agree).
    """
    from . import schema
    from .write import descriptor_json

    dirs = [paths.network_slice(n) for n in network_ids]
    for table in schema.TABLES:
        if table.name in schema.SHARED_TABLES:
            data = (dirs[0] / table.path).read_bytes()
        else:
            parts = [(d / table.path).read_bytes() for d in dirs]
            header, _, _ = parts[0].partition(b"\n")
            data = header + b"\n" + b"".join(p.partition(b"\n")[2] for p in parts)
        write_if_changed(out / table.path, data)
    description = f"{title}, joined in network order, for the notebooks that read them all."
    write_if_changed(out / "datapackage.json", descriptor_json(name, title, description))
    joined = withheld(*dirs)
    write_if_changed(out / WITHHELD_FILE, json.dumps(joined, indent=1, sort_keys=True) + "\n")


def remove_stale_slices(paths: ProjectPaths, networks: set[str], settings: set[str]) -> None:
    """Drop slices of networks (and settings) that left the data package, so nothing reads them."""
    import shutil

    for root, keep in (
        (paths.slices_dir / "networks", networks),
        (paths.slices_dir / "settings", settings),
    ):
        if root.exists():
            for d in root.iterdir():
                if d.is_dir() and d.name not in keep:
                    shutil.rmtree(d)
