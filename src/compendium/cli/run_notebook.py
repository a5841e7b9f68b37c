"""``compendium run-notebook KIND TARGET``: execute one notebook (called by the workflow)."""

from __future__ import annotations

import sys
from pathlib import Path

from ._common import add_internal_paths, internal_paths


def add_arguments(parser):
    parser.add_argument("kind", choices=["network", "setting", "overview"])
    parser.add_argument("target", help="network_id, setting, or 'all'")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--log", type=Path, required=True)
    add_internal_paths(parser)


def parameters_for(paths, plan, kind: str, target: str) -> dict:
    """Papermill parameters of one run: what it is about and which slices it reads."""
    if kind == "network":
        return {"network_id": target, "data_dirs": [str(paths.network_slice(target))]}
    if kind == "setting":
        ids = plan.settings[target]
        return {"setting": target, "data_dirs": [str(paths.network_slice(n)) for n in ids]}
    return {"data_dirs": [str(paths.network_slice(n)) for n in sorted(plan.networks)]}


def run(args) -> int:
    from compendium import __version__
    from compendium.datapackage import content_hash
    from compendium.execute import NotebookFailure, git_commit, run_notebook
    from compendium.plan import read_plan

    paths = internal_paths(args)
    plan = read_plan(paths)
    params = parameters_for(paths, plan, args.kind, args.target)
    provenance = {
        "compendium_version": __version__,
        "git_commit": git_commit(paths.root),
        "data_package_hash": plan.data_hash,
        "slice_hashes": {Path(d).name: content_hash(Path(d)) for d in params["data_dirs"]},
        "synthetic": plan.synthetic,
    }
    try:
        run_notebook(paths.notebook(args.kind), args.out, params, args.log, provenance)
    except NotebookFailure as failure:
        # The marker line lets `compendium build` pick the summary out of Snakemake's log.
        print("COMPENDIUM-FAILURE " + failure.summary.replace("\n", "\n  "), file=sys.stderr)
        return 1
    return 0
