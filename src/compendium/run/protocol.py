"""The wire protocol of the warm-kernel service: one JSON line each way over a Unix socket,
taken only from the build's own user."""

from __future__ import annotations

import json
import os
import select
import socket
import struct
import traceback
from pathlib import Path

from ..paths import ProjectPaths


def read_line(sock: socket.socket) -> bytes:
    buf = b""
    while not buf.endswith(b"\n"):
        chunk = sock.recv(65536)
        if not chunk:
            return b""
        buf += chunk
    return buf


def peer_is_owner(conn: socket.socket) -> bool:
    if not hasattr(socket, "SO_PEERCRED"):
        return True  # the socket file is the owner's only (mode 0600)
    creds = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    _, uid, _ = struct.unpack("3i", creds)
    return uid == os.getuid()


def accept_jobs(args, serve) -> None:
    """Take jobs from the shared socket, one at a time, until the build's lifeline closes."""
    lifeline = args.lifeline
    listen = socket.socket(fileno=args.listen)
    listen.setblocking(False)  # workers share it: another may take the job first
    while True:
        ready, _, _ = select.select([lifeline, listen], [], [])
        if lifeline in ready:
            return
        try:
            conn, _ = listen.accept()
        except (BlockingIOError, InterruptedError):
            continue
        with conn:
            conn.setblocking(True)
            if peer_is_owner(conn):
                serve(conn)


def read_job(conn: socket.socket, build_dir: Path) -> tuple[dict, ProjectPaths] | None:
    try:
        job = json.loads(read_line(conn) or b"{}")
        paths = ProjectPaths(
            root=Path(job["root"]),
            data_dir=Path(job["data"]),
            build_dir=Path(job["build"]),
            html_dir=Path(job["html"]),
        )
    except (ValueError, KeyError, TypeError):
        return None
    if paths.build_dir != build_dir:
        say(conn, {"fallback": "the service belongs to another build"})
        return None
    return job, paths


def failure_reply(service: str) -> dict:
    """A job's reply when the service itself raised: one line, then the traceback indented."""
    trace = traceback.format_exc().rstrip().replace("\n", "\n    ")
    return {"failure": f"the {service} service failed:\n    {trace}"}


def say(conn: socket.socket, message: dict) -> None:
    conn.sendall(json.dumps(message).encode() + b"\n")


def lane_main(prog: str, roles: dict, argv: list[str] | None = None) -> None:
    """Entry point of a service process: parse its arguments, play its role, leave at once."""
    import argparse
    import sys

    if os.environ.pop("COMPENDIUM_SAFEPATH_SET", None):
        os.environ.pop("PYTHONSAFEPATH", None)

    parser = argparse.ArgumentParser(prog=prog)
    parser.add_argument("role", choices=sorted(roles))
    parser.add_argument("--lifeline", type=int, required=True)
    parser.add_argument("--spares", type=int, default=1)
    parser.add_argument("--ready", type=int)
    parser.add_argument("--runners", default="")
    parser.add_argument("--listen", type=int)
    parser.add_argument("--zygote", type=int)
    parser.add_argument("--build")
    args = parser.parse_args(argv)
    try:
        roles[args.role](args)
    except BaseException:
        import traceback

        traceback.print_exc()  # os._exit() below would leave without a word
    finally:
        # no interpreter teardown of pandas, matplotlib and co.: it takes most of a second
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)
