"""``compendium watch``: rebuild on every saved change and serve the book on localhost."""

from __future__ import annotations

import functools
import http.server
import subprocess
import sys
import threading
import time
from pathlib import Path

from ._common import add_data_option, user_paths


def add_arguments(parser):
    add_data_option(parser)
    parser.add_argument("--cores", type=int, default=2, help="notebooks run at once (default 2)")
    parser.add_argument(
        "--port", type=int, default=8000, help="port of the book server (default 8000)"
    )
    parser.add_argument(
        "--host",
        default="127.0.0.1",
        help=(
            "address to serve on (default 127.0.0.1: only this machine; "
            "the book may hold real data)"
        ),
    )
    parser.add_argument("--no-serve", action="store_true", help="rebuild on changes, serve nothing")


def watched_paths(paths) -> list[Path]:
    """Everything a build reads: data, notebooks, workflow, package source, narrative."""
    return [
        paths.data_dir,
        paths.notebooks_dir,
        paths.root / "workflow",
        paths.package_source,
        paths.book_dir,
    ]


def is_source(path: str, paths) -> bool:
    """Ignore what builds write and editors' scratch files, so a build never triggers itself."""
    p = Path(path)
    parts = set(p.parts)
    if parts & {"_build", "__pycache__", ".ipynb_checkpoints", ".snakemake"}:
        return False
    return not (p.name.startswith(".") or p.name.endswith(("~", ".swp", ".tmp")))


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # the build's progress is what matters in the terminal
        pass


def serve(html_dir: Path, host: str, port: int) -> http.server.ThreadingHTTPServer:
    """Serve ``html_dir`` (a symlink swapped on each publish, resolved per request)."""
    handler = functools.partial(QuietHandler, directory=str(html_dir))
    server = http.server.ThreadingHTTPServer((host, port), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def build(args) -> int:
    cmd = [sys.executable, "-m", "compendium", "build", "--cores", str(args.cores)]
    if args.data:
        cmd += ["--data", args.data]
    return subprocess.run(cmd).returncode


def run(args) -> int:
    from watchfiles import watch

    paths = user_paths(args)
    build(args)
    server = None
    if not args.no_serve:
        server = serve(paths.html_dir, args.host, args.port)
        print(f"serving the book at http://{args.host}:{args.port}/  (Ctrl-C to stop)", flush=True)
    try:
        for changes in watch(
            *[p for p in watched_paths(paths) if p.exists()],
            watch_filter=lambda _change, path: is_source(path, paths),
            debounce=400,
        ):
            names = sorted({Path(p).name for _, p in changes})
            print(
                f"\n{time.strftime('%H:%M:%S')} changed: {', '.join(names[:5])}"
                f"{' …' if len(names) > 5 else ''}; rebuilding",
                flush=True,
            )
            build(args)
    except KeyboardInterrupt:
        pass
    finally:
        if server is not None:
            server.shutdown()
    return 0
