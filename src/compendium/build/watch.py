"""Rebuild on every saved change, and serve the built book on this machine.

Each rebuild is a ``compendium build`` of its own (a new process, so edited
package code is what runs). The server serves the HTML folder, a symlink that
each publish swaps, so a reader always gets a whole book.
"""

from __future__ import annotations

import functools
import http.server
import subprocess
import sys
import threading
import time
from pathlib import Path

from ..paths import ProjectPaths


def watched_paths(paths: ProjectPaths) -> list[Path]:
    """Everything a build reads: data, notebooks, workflow, package source, narrative."""
    return [
        paths.data_dir,
        paths.notebooks_dir,
        paths.root / "workflow",
        paths.package_source,
        paths.book_dir,
    ]


def is_source(path: str, paths: ProjectPaths) -> bool:
    """Ignore what builds write and editors' scratch files, so a build never triggers itself."""
    p = Path(path)
    parts = set(p.parts)
    if parts & {"_build", "__pycache__", ".ipynb_checkpoints", ".snakemake"}:
        return False
    return not (p.name.startswith(".") or p.name.endswith(("~", ".swp", ".tmp")))


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    """Serves files without a line per request."""

    def log_message(self, *args):  # the build's progress is what matters in the terminal
        pass


def serve(html_dir: Path, host: str, port: int) -> http.server.ThreadingHTTPServer:
    """Serve ``html_dir`` (a symlink swapped on each publish, resolved per request)."""
    handler = functools.partial(QuietHandler, directory=str(html_dir))
    server = http.server.ThreadingHTTPServer((host, port), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def rebuild(data: str | None, cores: int) -> int:
    """One ``compendium build`` in a process of its own; its exit code."""
    cmd = [sys.executable, "-m", "compendium", "build", "--cores", str(cores)]
    if data:
        cmd += ["--data", data]
    return subprocess.run(cmd).returncode


def changed_line(changes) -> str:
    """When, and which files (the first five by name), changed before a rebuild."""
    names = sorted({Path(p).name for _, p in changes})
    return (
        f"\n{time.strftime('%H:%M:%S')} changed: {', '.join(names[:5])}"
        f"{' …' if len(names) > 5 else ''}; rebuilding"
    )


def watch(
    paths: ProjectPaths,
    data: str | None,
    cores: int,
    address: tuple[str, int] | None,
) -> None:
    """Build, serve the book, then rebuild after every saved change until Ctrl-C.

    Parameters
    ----------
    paths : ProjectPaths
        The build, whose sources are watched.
    data : str, optional
        The ``--data`` each rebuild is given, as the user wrote it.
    cores : int
        Notebooks each rebuild runs at once.
    address : (str, int), optional
        Host and port to serve the book on; None to serve nothing.
    """
    from watchfiles import watch as watch_files

    rebuild(data, cores)
    server = None
    if address is not None:
        host, port = address
        server = serve(paths.html_dir, host, port)
        print(f"serving the book at http://{host}:{port}/  (Ctrl-C to stop)", flush=True)
    try:
        for changes in watch_files(
            *[p for p in watched_paths(paths) if p.exists()],
            watch_filter=lambda _change, path: is_source(path, paths),
            debounce=400,
        ):
            print(changed_line(changes), flush=True)
            rebuild(data, cores)
    except KeyboardInterrupt:
        pass
    finally:
        if server is not None:
            server.shutdown()
