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
    """The notebook of one run and its papermill parameters (what it is about, what it reads).

    A setting's notebook reads its networks' slices joined into one package, and a
    cross-network notebook all of them: the same tables as the slices one by one,
    read at once instead of from hundreds of folders.
    """
    from compendium.paths import CROSS_NETWORK, PER_NETWORK, PER_SETTING

    if kind == "network":
        params = {"network_id": target, "data_dirs": [str(paths.network_slice(target))]}
        return paths.notebook(PER_NETWORK), params
    if kind == "setting":
        params = {"setting": target, "data_dirs": [str(paths.setting_slice(target))]}
        return paths.notebook(PER_SETTING), params
    if CROSS_NETWORK[target]:
        return paths.notebook(target), {"data_dirs": [str(paths.all_networks_slice)]}
    return paths.notebook(target), {}


def networks_read(plan, kind: str, target: str) -> list[str]:
    """The networks whose data one run reads."""
    from compendium.paths import CROSS_NETWORK

    if kind == "network":
        return [target]
    if kind == "setting":
        return list(plan.settings[target])
    return sorted(plan.networks) if CROSS_NETWORK[target] else []


def execute(paths, kind: str, target: str, out: Path, log: Path, kernel=None) -> str | None:
    """Execute one run of the plan; return its failure summary, or None when it succeeded.

    ``kernel`` is a started kernel to run on (the build's warm kernels); without
    one, papermill starts its own.
    """
    from compendium import __version__
    from compendium.execute import NotebookFailure, git_commit, git_commit_cached, run_notebook
    from compendium.plan import read_plan

    plan = read_plan(paths)
    template, params = template_and_parameters(paths, plan, kind, target)
    provenance = {
        "compendium_version": __version__,
        # the service's runners live for one build: one commit for all its notebooks
        "git_commit": (git_commit if kernel is None else git_commit_cached)(paths.root),
        "data_package_hash": plan.data_hash,
        "slice_hashes": {n: plan.slice_hash(paths, n) for n in networks_read(plan, kind, target)},
        "synthetic": plan.synthetic,
    }
    try:
        run_notebook(template, out, params, log, provenance, kernel_manager=kernel)
    except NotebookFailure as failure:
        return failure.summary
    return None


def run(args) -> int:
    from compendium.executor import ServiceLost, submit

    paths = internal_paths(args)
    job = {
        "kind": args.kind,
        "target": args.target,
        "out": str(args.out),
        "log": str(args.log),
        "root": str(paths.root),
        "data": str(paths.data_dir),
        "build": str(paths.build_dir),
        "html": str(paths.html_dir),
    }
    try:
        # a running `compendium build` executes it on a warm kernel; otherwise run it here
        outcome = submit(paths, job)
    except ServiceLost as err:
        print(f"COMPENDIUM-FAILURE notebook {args.kind} {args.target}: {err}", file=sys.stderr)
        return 1
    failure = (
        outcome["failure"]
        if outcome is not None
        else execute(paths, args.kind, args.target, args.out, args.log)
    )
    if failure:
        # The marker line lets `compendium build` pick the summary out of Snakemake's log.
        print("COMPENDIUM-FAILURE " + failure.replace("\n", "\n  "), file=sys.stderr)
        return 1
    return 0
