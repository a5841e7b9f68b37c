"""Prepare a build: validate the data package and split it into per-network slices.

The workflow calls :func:`prepare` while Snakemake builds its job graph. It

1. validates the whole data package and stops on the first invalid one,
   before anything is written;
2. writes one slice per network (a complete mini data package holding that
   network's rows and the shared tables) under ``build/slices/``;
3. records the plan (networks, settings, data hash) in ``build/plan.json``.

A slice is rewritten only when its content changes. Snakemake plans every job
before running any and has no "restat" step, so a slicing *job* would mark
every notebook as stale whenever any network changed; slicing while the
workflow is read, and keeping unchanged slices byte-for-byte (and their
times), lets an edit to one network reach only the runs that read it.
Snakemake itself compares checksums of small inputs, so a file that is
touched but unchanged re-runs nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from . import schema
from .datapackage import DataPackageError, content_hash, is_synthetic, load, validate, write_package
from .fsutil import write_if_changed
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

    def __post_init__(self):
        if not self.settings:
            for setting in schema.SETTINGS:
                ids = sorted(n for n, s in self.networks.items() if s == setting)
                if ids:
                    self.settings[setting] = ids

    def to_json(self) -> str:
        return json.dumps(
            {
                "networks": self.networks,
                "names": self.names,
                "settings": self.settings,
                "data_hash": self.data_hash,
                "synthetic": self.synthetic,
            },
            indent=2,
            sort_keys=True,
        )

    @classmethod
    def from_json(cls, text: str) -> Plan:
        d = json.loads(text)
        return cls(d["networks"], d["names"], d["data_hash"], d["synthetic"], d["settings"])


#: Modules that run the build but never enter a notebook's results.
BUILD_MACHINERY = {
    "cli", "__main__.py", "book.py", "orchestrate.py", "plan.py", "results.py", "dictionary.py",
    "sphinx_fixes.py", "pdf.py",
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
    d = paths.network_slice(network_id)
    return [d / t.path for t in schema.TABLES] + [d / "datapackage.json"]


def prepare(paths: ProjectPaths) -> Plan:
    """Validate and split; return the build plan.

    Raises
    ------
    DataPackageError
        When the data package is invalid; nothing has been written then.
    """
    problems = validate(paths.data_dir)
    if problems:
        raise DataPackageError(problems)
    tables = load(paths.data_dir)
    networks = tables["networks"]
    plan = Plan(
        networks=dict(zip(networks["network_id"], networks["setting"], strict=True)),
        names=dict(zip(networks["network_id"], networks["name"], strict=True)),
        data_hash=content_hash(paths.data_dir),
        synthetic=is_synthetic(tables),
    )
    from .datapackage import network_slice

    for network_id in plan.networks:
        write_package(
            network_slice(tables, network_id),
            paths.network_slice(network_id),
            name=f"slice-{network_id}",
            title=f"Slice of network {network_id}",
            # nothing package-wide here, or one network's edit would touch every slice
            description=f"Rows of network {network_id} cut from the compendium's data package.",
        )
    _remove_stale_slices(paths, set(plan.networks))
    write_if_changed(paths.build_dir / PLAN_FILE, plan.to_json() + "\n")
    return plan


def _remove_stale_slices(paths: ProjectPaths, keep: set[str]) -> None:
    """Drop slices of networks that left the data package, so nothing reads them."""
    import shutil

    root = paths.slices_dir / "networks"
    if not root.exists():
        return
    for d in root.iterdir():
        if d.is_dir() and d.name not in keep:
            shutil.rmtree(d)


def read_plan(paths: ProjectPaths) -> Plan:
    return Plan.from_json((paths.build_dir / PLAN_FILE).read_text())
