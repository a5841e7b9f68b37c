"""``compendium run-notebook KIND TARGET``: execute one notebook (called by the workflow)."""

from __future__ import annotations

import sys
from pathlib import Path

from ._common import add_internal_paths, internal_paths


def add_arguments(parser):
    parser.add_argument("kind", choices=["network", "setting", "cross"])
    parser.add_argument("target", help="network_id, setting, or cross-network notebook name")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--log", type=Path, required=True)
    add_internal_paths(parser)


def template_and_parameters(paths, plan, kind: str, target: str) -> tuple[Path, dict]:
    """The notebook of one run and its papermill parameters (what it is about, what it reads)."""
    from compendium.paths import CROSS_NETWORK, PER_NETWORK, PER_SETTING

    if kind == "network":
        params = {"network_id": target, "data_dirs": [str(paths.network_slice(target))]}
        return paths.notebook(PER_NETWORK), params
    if kind == "setting":
        ids = plan.settings[target]
        params = {"setting": target, "data_dirs": [str(paths.network_slice(n)) for n in ids]}
        return paths.notebook(PER_SETTING), params
    if CROSS_NETWORK[target]:
        return paths.notebook(target), {
            "data_dirs": [str(paths.network_slice(n)) for n in sorted(plan.networks)]
        }
    return paths.notebook(target), {}


def run(args) -> int:
    from compendium import __version__
    from compendium.datapackage import content_hash
    from compendium.execute import NotebookFailure, git_commit, run_notebook
    from compendium.plan import read_plan

    paths = internal_paths(args)
    plan = read_plan(paths)
    template, params = template_and_parameters(paths, plan, args.kind, args.target)
    provenance = {
        "compendium_version": __version__,
        "git_commit": git_commit(paths.root),
        "data_package_hash": plan.data_hash,
        "slice_hashes": {Path(d).name: content_hash(Path(d)) for d in params.get("data_dirs", [])},
        "synthetic": plan.synthetic,
    }
    try:
        run_notebook(template, args.out, params, args.log, provenance)
    except NotebookFailure as failure:
        # The marker line lets `compendium build` pick the summary out of Snakemake's log.
        print("COMPENDIUM-FAILURE " + failure.summary.replace("\n", "\n  "), file=sys.stderr)
        return 1
    return 0
