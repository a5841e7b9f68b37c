"""The job body of the book: assemble, build and publish, then write the sentinel.

Run by the warm book builder (:mod:`compendium.run.book_builder`) or, when no service
listens, by ``compendium build-book`` itself.
"""

from __future__ import annotations

from pathlib import Path

from ..data.plan import read_plan
from ..fsutil import atomic_write_bytes
from .client import submit


def execute(paths, sentinel: Path) -> str | None:
    """Assemble, build and publish the book; return the failure summary, or None."""
    # Sphinx and the book are imported by the job that builds, not by a client that submits
    from ..book.assemble import BookBuildError, build_book

    plan = read_plan(paths)
    try:
        html = build_book(paths, plan)
    except BookBuildError as err:
        return str(err)
    atomic_write_bytes(sentinel, f"{html}\n{plan.data_hash}\n".encode())
    return None


def run(paths, sentinel: Path) -> str | None:
    """Build the book: in the warm book builder of a running ``compendium build``, else here.

    Returns the failure summary, or None; raises
    :class:`compendium.run.client.ServiceLost` when the builder stopped mid-job.
    """
    job = {
        "root": str(paths.root),
        "data": str(paths.data_dir),
        "build": str(paths.build_dir),
        "html": str(paths.html_dir),
        "sentinel": str(sentinel),
    }
    # a running `compendium build` has a book builder with Sphinx imported and waiting
    outcome = submit(paths, job, lane="book")
    return outcome["failure"] if outcome is not None else execute(paths, sentinel)
