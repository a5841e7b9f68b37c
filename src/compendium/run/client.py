"""The client side of the build's warm-kernel service: hand a job over and wait for its outcome.

``compendium run-notebook`` and ``compendium build-book`` (what the workflow's jobs run) call
:func:`submit`; when no service listens they run the job themselves.
"""

from __future__ import annotations

import json
import os
import socket
import sys

from ..paths import ProjectPaths
from .protocol import read_line

#: ``COMPENDIUM_EXECUTOR=inline`` makes every job run by itself (papermill, Jupyter Book).
SWITCH = "COMPENDIUM_EXECUTOR"


def enabled() -> bool:
    """Whether this platform and environment allow the service."""
    return (
        os.environ.get(SWITCH, "") != "inline"
        and hasattr(os, "fork")
        and hasattr(socket, "AF_UNIX")
    )


# -- client side: `compendium run-notebook` ---------------------------------------------------
class ServiceLost(RuntimeError):
    """The service went away while it ran the job (the build was stopped)."""


def submit(paths: ProjectPaths, job: dict, lane: str = "notebooks") -> dict | None:
    """Hand one job to the build's service and wait for its outcome.

    Returns
    -------
    dict or None
        ``{"failure": summary or None}``; None when no service takes the job
        (the caller then runs it itself).

    Raises
    ------
    ServiceLost
        When the service stopped after it took the job: the build is being
        stopped, so the job must not start again on its own.
    """
    if not enabled():
        return None
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(str(paths.executor_socket if lane == "notebooks" else paths.book_socket))
    except OSError:  # no socket, or a dead build's socket: no service
        sock.close()
        return None
    with sock:
        try:
            sock.sendall(json.dumps(job).encode() + b"\n")
            first = read_line(sock)
        except OSError:
            first = b""
        if not first:  # the service closed before it took the job: nothing ran
            return None
        answer = json.loads(first)
        if "fallback" in answer:
            sys.stderr.write(
                f"the build's {lane} service declined ({answer['fallback']}); running here\n"
            )
            return None
        try:
            reply = read_line(sock)
        except OSError:
            reply = b""
    if not reply:
        raise ServiceLost(f"the build's {lane} service stopped before the job finished")
    return json.loads(reply)
