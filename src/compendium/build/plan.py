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
the code that validates and slices it, the slices written). When none of it changed, the data
were validated and sliced from these very bytes already, and :func:`prepare`
returns the recorded plan at once: a build with nothing to do reads a few
files instead of parsing and validating the whole package.

This module imports pandas only to prepare anew, so the workflow and each
notebook run can read a plan cheaply.
"""

from __future__ import annotations

import json
from pathlib import Path

from ..data.plan import PLAN_FILE, Plan, read_plan
from ..data.slices import combine_slices, remove_stale_slices, write_slices, write_withheld
from ..fsutil import tree_digest, write_if_changed
from ..paths import ProjectPaths
from .deps import prepare_files


def _inputs_digest(paths: ProjectPaths) -> str:
    """Digest of what a plan is made from: the data package's files and the package source."""
    data = [p for p in paths.data_dir.iterdir() if p.is_file()] if paths.data_dir.is_dir() else []
    # the code that validates and slices: a new rule must see the data again
    source = prepare_files(paths.package_source)
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

    from ..data.problems import DataPackageError
    from ..data.read import read_tables
    from ..data.validate import validate_tables
    from ..data.write import content_hash, is_synthetic

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
    write_withheld(paths, outcome_decisions(tables), list(plan.networks))
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
    remove_stale_slices(paths, set(plan.networks), set(plan.settings))
    plan.inputs = inputs + _slices_digest(paths)
    write_if_changed(paths.build_dir / PLAN_FILE, plan.to_json() + "\n")
    return plan


def outcome_decisions(tables: dict) -> dict[str, list[str]]:
    """What disclosure control withholds of each network's outcomes, for every page at once.

    The networks' discharges and outcome rates are published on their own pages,
    their setting's and the cross-network one; the complements that protect a
    small count must be the same on all of them
    (:func:`compendium.report.privacy.outcome_decisions`).
    """
    from ..analysis.outcomes import network_outcomes
    from ..report.privacy import OUTCOME_RATES
    from ..report.privacy import outcome_decisions as decide

    if tables["care_episodes"].empty:
        return {}
    try:
        by_network = network_outcomes(tables["care_episodes"], tables["service_contacts"])
    except ValueError:  # the outcomes notebook says why, in its own words
        return {}
    settings = tables["networks"][["network_id", "setting"]]
    by_network = by_network.merge(settings, on="network_id")
    return decide(by_network, "n_episodes", OUTCOME_RATES)


def main(argv: list[str] | None = None) -> int:
    """``python -m compendium.build.plan ROOT DATA BUILD HTML``: prepare in a process of its own.

    ``compendium build`` prepares here so that pandas and the parsed tables never
    weigh on the process that watches the whole build. Prints a JSON object: the
    problems (one line each, as printed) when the data are invalid.
    """
    import sys

    from ..data.problems import DataPackageError

    root, data, build, html = (Path(a) for a in (argv or sys.argv[1:]))
    paths = ProjectPaths(root=root, data_dir=data, build_dir=build, html_dir=html)
    try:
        prepare(paths)
    except DataPackageError as err:
        print(json.dumps({"problems": [str(p) for p in err.problems]}))
        return 1
    print(json.dumps({"problems": []}))
    return 0


def prepare_apart(paths: ProjectPaths) -> tuple[Plan | None, list[str]]:
    """Validate and slice (:func:`prepare`) in a process of its own (:func:`main`).

    The build's own process then never holds pandas and the parsed tables, which
    would weigh on its memory for the whole build.

    Returns
    -------
    plan : Plan or None
        The plan; None when the data package is invalid.
    problems : list of str
        One line per problem of the data package, as printed; empty when valid.

    Raises
    ------
    RuntimeError
        When the preparing process fails without a word on the data.
    """
    import subprocess
    import sys

    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "compendium.build.plan",
            str(paths.root),
            str(paths.data_dir),
            str(paths.build_dir),
            str(paths.html_dir),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        problems = json.loads(proc.stdout.strip().splitlines()[-1])["problems"]
    except (ValueError, IndexError, KeyError):
        raise RuntimeError(f"preparing the build failed (exit {proc.returncode})") from None
    return (None if problems else read_plan(paths)), problems


if __name__ == "__main__":
    raise SystemExit(main())
