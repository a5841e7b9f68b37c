"""``compendium build-book``: assemble, build and publish the book (called by the workflow)."""

from __future__ import annotations

import sys
from pathlib import Path

from ._common import add_internal_paths, internal_paths


def add_arguments(parser):
    parser.add_argument("--sentinel", type=Path, required=True)
    add_internal_paths(parser)


def execute(paths, sentinel: Path) -> str | None:
    """Assemble, build and publish the book; return the failure summary, or None."""
    from compendium.book import BookBuildError, build_book
    from compendium.fsutil import atomic_write_bytes
    from compendium.plan import read_plan

    plan = read_plan(paths)
    try:
        html = build_book(paths, plan)
    except BookBuildError as err:
        return str(err)
    atomic_write_bytes(sentinel, f"{html}\n{plan.data_hash}\n".encode())
    return None


def run(args) -> int:
    from compendium.executor import ServiceLost, submit

    paths = internal_paths(args)
    job = {
        "root": str(paths.root),
        "data": str(paths.data_dir),
        "build": str(paths.build_dir),
        "html": str(paths.html_dir),
        "sentinel": str(args.sentinel),
    }
    try:
        # a running `compendium build` has a book builder with Sphinx imported and waiting
        outcome = submit(paths, job, lane="book")
    except ServiceLost as err:
        print(f"COMPENDIUM-FAILURE book: {err}", file=sys.stderr)
        return 1
    failure = outcome["failure"] if outcome is not None else execute(paths, args.sentinel)
    if failure:
        print("COMPENDIUM-FAILURE " + failure.replace("\n", "\n  "), file=sys.stderr)
        return 1
    return 0
