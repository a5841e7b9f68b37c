"""The book lane of the warm-kernel service: one process with Jupyter Book and Sphinx imported,
which builds the book when the workflow's book job asks.

Started by :class:`compendium.run.service.Service` as ``python -m compendium.run.book_builder``.
"""

from __future__ import annotations

import os
import select
import signal
import sys
import threading
from pathlib import Path

from .protocol import accept_jobs, failure_reply, lane_main, read_job, say

#: Imported by the book builder before the book job comes: Jupyter Book, Sphinx, the extensions.
BOOK_PRELOAD = (
    "compendium.book.assemble",
    "compendium.book.sphinx_fixes",
    "jupyter_book.cli.main",
    "jupyter_book.sphinx",
    "jupyter_book.config",
    "sphinx.application",
    "sphinx.builders.html",
    "myst_nb",
    "myst_nb.sphinx_ext",
    "sphinx_book_theme",
    "pydata_sphinx_theme",
    "sphinx_togglebutton",
    "sphinx_copybutton",
    "sphinx_design",
    "sphinx_comments",
    "sphinx_external_toc",
    "sphinx_jupyterbook_latex",
    "sphinx_multitoc_numbering",
    "sphinx_thebe",
    "sphinxcontrib.bibtex",
)


def _book(args) -> None:
    """The book builder: Jupyter Book, Sphinx and its extensions imported before the book job."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    import importlib

    from .book_job import execute

    for name in BOOK_PRELOAD:
        try:
            importlib.import_module(name)
        except Exception:
            sys.stderr.write(f"executor: could not preload {name}\n")
    build_dir = Path(args.build)

    def serve(conn) -> None:
        got = read_job(conn, build_dir)
        if got is None:
            return
        job, paths = got
        say(conn, {"accepted": True})
        done = threading.Event()

        def watch() -> None:
            # the job's client hung up (its build stopped) or the build died: stop here
            ready, _, _ = select.select([conn, args.lifeline], [], [])
            if not done.is_set() and (args.lifeline in ready or not conn.recv(64)):
                os._exit(1)

        threading.Thread(target=watch, daemon=True).start()
        try:
            reply = {"failure": execute(paths, Path(job["sentinel"]))}
        except Exception:
            reply = failure_reply("book")
        done.set()
        say(conn, reply)
        # one book per build: Sphinx's global state is not for a second one
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)

    accept_jobs(args, serve)


def main(argv: list[str] | None = None) -> None:
    lane_main("python -m compendium.run.book_builder", {"book": _book}, argv)


if __name__ == "__main__":
    main()
