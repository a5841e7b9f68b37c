"""``compendium build-book``: assemble, build and publish the book (called by the workflow)."""

from __future__ import annotations

import sys
from pathlib import Path

from ._common import add_internal_paths, internal_paths


def add_arguments(parser):
    parser.add_argument("--sentinel", type=Path, required=True)
    add_internal_paths(parser)


def run(args) -> int:
    from compendium.run import book_job
    from compendium.run.client import ServiceLost

    try:
        failure = book_job.run(internal_paths(args), args.sentinel)
    except ServiceLost as err:
        failure = f"book: {err}"
    if failure:
        # The marker line lets `compendium build` pick the summary out of Snakemake's log.
        print("COMPENDIUM-FAILURE " + failure.replace("\n", "\n  "), file=sys.stderr)
        return 1
    return 0
