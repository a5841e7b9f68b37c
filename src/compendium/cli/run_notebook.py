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


def run(args) -> int:
    from compendium.run import notebook_job
    from compendium.run.client import ServiceLost

    try:
        failure = notebook_job.run(internal_paths(args), args.kind, args.target, args.out, args.log)
    except ServiceLost as err:
        failure = f"notebook {args.kind} {args.target}: {err}"
    if failure:
        # The marker line lets `compendium build` pick the summary out of Snakemake's log.
        print("COMPENDIUM-FAILURE " + failure.replace("\n", "\n  "), file=sys.stderr)
        return 1
    return 0
