"""``compendium build-book``: assemble, build and publish the book (called by the workflow)."""

from __future__ import annotations

import sys
from pathlib import Path

from ._common import add_internal_paths, internal_paths


def add_arguments(parser):
    parser.add_argument("--sentinel", type=Path, required=True)
    add_internal_paths(parser)


def run(args) -> int:
    from compendium.book import BookBuildError, build_book
    from compendium.fsutil import atomic_write_bytes
    from compendium.plan import read_plan

    paths = internal_paths(args)
    plan = read_plan(paths)
    try:
        html = build_book(paths, plan)
    except BookBuildError as err:
        print("COMPENDIUM-FAILURE " + str(err).replace("\n", "\n  "), file=sys.stderr)
        return 1
    atomic_write_bytes(args.sentinel, f"{html}\n{plan.data_hash}\n".encode())
    return 0
