"""Prepare a build: validate the data package and split it into per-network slices.

The workflow calls :func:`prepare` while Snakemake builds its job graph. It

1. validates the whole data package and stops on the first invalid one,
   before anything is written;
2. writes one slice per network (a complete mini data package holding that
   network's rows and the shared tables) under ``build/slices/``;
3. records the plan (networks, settings, data hash, slice hashes) in
   ``build/plan.json``.

A slice is rewritten only when its content changes. Snakemake plans every job
before running any and has no "restat" step, so a slicing *job* would mark
every notebook as stale whenever any network changed; slicing while the
workflow is read, and keeping unchanged slices byte-for-byte (and their
times), lets an edit to one network reach only the runs that read it.
Snakemake itself compares checksums of small inputs, so a file that is
touched but unchanged re-runs nothing.

The plan also records a digest of what it was made from (the data package,
the package source, the slices written). When none of it changed, the data
were validated and sliced from these very bytes already, and :func:`prepare`
returns the recorded plan at once: a build with nothing to do reads a few
files instead of parsing and validating the whole package.

This module imports pandas only to prepare anew, so the workflow and each
notebook run can read a plan cheaply.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from .fsutil import tree_digest, write_if_changed
from .paths import ProjectPaths

PLAN_FILE = "plan.json"


@dataclass
class Plan:
    """What one build will run."""

    networks: dict[str, str]  # network_id -> setting
    names: dict[str, str]  # network_id -> pseudonymous name
    data_hash: str
    synthetic: bool
    settings: dict[str, list[str]] = field(default_factory=dict)  # setting -> network_ids
    slice_hashes: dict[str, str] = field(default_factory=dict)  # network_id -> content hash
    inputs: str = ""  # digest of the data, package source and slices the plan was made from

    def __post_init__(self):
        if not self.settings:
            from . import schema

            for setting in schema.SETTINGS:
                ids = sorted(n for n, s in self.networks.items() if s == setting)
                if ids:
                    self.settings[setting] = ids

    def slice_hash(self, paths: ProjectPaths, network_id: str) -> str:
        """Content hash of one network's slice (as recorded; computed for an older plan)."""
        if network_id in self.slice_hashes:
            return self.slice_hashes[network_id]
        from .datapackage import content_hash

        return content_hash(paths.network_slice(network_id))

    def to_json(self) -> str:
        return json.dumps(
            {
                "networks": self.networks,
                "names": self.names,
                "settings": self.settings,
                "data_hash": self.data_hash,
                "synthetic": self.synthetic,
                "slice_hashes": self.slice_hashes,
                "inputs": self.inputs,
            },
            indent=2,
            sort_keys=True,
        )

    @classmethod
    def from_json(cls, text: str) -> Plan:
        d = json.loads(text)
        return cls(
            d["networks"],
            d["names"],
            d["data_hash"],
            d["synthetic"],
            d["settings"],
            d.get("slice_hashes", {}),
            d.get("inputs", ""),
        )


#: Modules that run the build but never enter a notebook's results.
BUILD_MACHINERY = {
    "cli",
    "__main__.py",
    "book.py",
    "orchestrate.py",
    "plan.py",
    "results.py",
    "dictionary.py",
    "sphinx_fixes.py",
    "pdf.py",
}


def package_source_files(paths: ProjectPaths, machinery: bool = False) -> list[Path]:
    """Source files of the package that a result depends on.

    Notebooks depend on everything but :data:`BUILD_MACHINERY` (editing how the
    book is assembled must not re-execute every notebook); the book depends on
    everything (``machinery=True``).
    """
    src = paths.package_source
    return sorted(
        p
        for p in src.rglob("*")
        if p.is_file()
        and p.suffix in {".py", ".csv", ".yaml"}
        and "__pycache__" not in p.parts
        and (machinery or p.relative_to(src).parts[0] not in BUILD_MACHINERY)
    )


def slice_files(paths: ProjectPaths, network_id: str) -> list[Path]:
    return package_files(paths.network_slice(network_id))


def package_files(d: Path) -> list[Path]:
    """The files of a slice (one network's, one setting's, or all networks')."""
    from . import schema

    return [d / t.path for t in schema.TABLES] + [d / "datapackage.json"]


def _inputs_digest(paths: ProjectPaths) -> str:
    """Digest of what a plan is made from: the data package's files and the package source."""
    data = [p for p in paths.data_dir.iterdir() if p.is_file()] if paths.data_dir.is_dir() else []
    source = package_source_files(paths, machinery=True)
    return tree_digest(data, paths.data_dir) + tree_digest(source, paths.package_source)


def _slices_digest(paths: ProjectPaths) -> str:
    root = paths.slices_dir
    return tree_digest([p for p in root.rglob("*") if p.is_file()], root) if root.is_dir() else ""


def current_plan(paths: ProjectPaths) -> Plan | None:
    """The recorded plan when the data, package source and slices are what it was made from."""
    try:
        previous = read_plan(paths)
    except (OSError, ValueError, KeyError):
        return None
    if previous.inputs and previous.inputs == _inputs_digest(paths) + _slices_digest(paths):
        return previous
    return None


def prepare(paths: ProjectPaths) -> Plan:
    """Validate and split; return the build plan.

    Raises
    ------
    DataPackageError
        When the data package is invalid; nothing has been written then.
    """
    previous = current_plan(paths)
    if previous is not None:
        return previous  # validated and sliced from these very bytes already
    inputs = _inputs_digest(paths)

    from .datapackage import (
        DataPackageError,
        content_hash,
        is_synthetic,
        read_tables,
        validate_tables,
    )

    # Parsed once, for validation and slicing alike.
    tables, problems = read_tables(paths.data_dir)
    if not problems:
        problems = validate_tables(tables, paths.data_dir)
    if problems:
        raise DataPackageError(problems)
    # as `load` gives them: a blank line in a file leaves no gap in the index
    tables = {name: df.reset_index(drop=True) for name, df in tables.items()}
    networks = tables["networks"]
    plan = Plan(
        networks=dict(zip(networks["network_id"], networks["setting"], strict=True)),
        names=dict(zip(networks["network_id"], networks["name"], strict=True)),
        data_hash=content_hash(paths.data_dir),
        synthetic=is_synthetic(tables),
    )
    write_slices(paths, tables, list(plan.networks))
    for network_id in plan.networks:
        plan.slice_hashes[network_id] = content_hash(paths.network_slice(network_id))
    for setting, ids in plan.settings.items():
        combine_slices(
            paths,
            ids,
            paths.setting_slice(setting),
            f"setting-{setting}",
            f"Slices of the {setting} networks",
        )
    combine_slices(
        paths,
        sorted(plan.networks),
        paths.all_networks_slice,
        "all-networks",
        "Slices of every network",
    )
    _remove_stale_slices(paths, set(plan.networks), set(plan.settings))
    plan.inputs = inputs + _slices_digest(paths)
    write_if_changed(paths.build_dir / PLAN_FILE, plan.to_json() + "\n")
    return plan


def _rows_by_network(tables: dict) -> dict:
    """For each network-scoped table: network_id -> positions of its rows, in file order.

    One pass over each table instead of one per network: with hundreds of
    networks, filtering every table once per network dominated the build's
    preparation. Cut as :func:`datapackage.network_slice` cuts (the tests check it).
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
    from .datapackage import descriptor_json, table_to_csv

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
    from .datapackage import descriptor_json

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


def _remove_stale_slices(paths: ProjectPaths, networks: set[str], settings: set[str]) -> None:
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


def read_plan(paths: ProjectPaths) -> Plan:
    return Plan.from_json((paths.build_dir / PLAN_FILE).read_text())


def main(argv: list[str] | None = None) -> int:
    """``python -m compendium.plan ROOT DATA BUILD HTML``: prepare in a process of its own.

    ``compendium build`` prepares here so that pandas and the parsed tables never
    weigh on the process that watches the whole build. Prints a JSON object: the
    problems (one line each, as printed) when the data are invalid.
    """
    import sys

    from .datapackage import DataPackageError

    root, data, build, html = (Path(a) for a in (argv or sys.argv[1:]))
    paths = ProjectPaths(root=root, data_dir=data, build_dir=build, html_dir=html)
    try:
        prepare(paths)
    except DataPackageError as err:
        print(json.dumps({"problems": [str(p) for p in err.problems]}))
        return 1
    print(json.dumps({"problems": []}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
