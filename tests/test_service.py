"""The warm-kernel executor service of a build, seen from its clients.

Only the public face is used (``Service``, ``submit``, ``enabled``, ``ServiceLost`` and the
notebook job's ``run``/``execute``): the service's insides are free to change.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from pathlib import Path

import nbformat
import pytest

from compendium.data.plan import Plan
from compendium.run import notebook_job
from compendium.run.client import ServiceLost, enabled, submit
from compendium.run.service import Service

from .conftest import tiny_project

PLAN = Plan(
    networks={"n1": "rural", "n2": "rural"},
    names={"n1": "One", "n2": "Two"},
    data_hash="datahash",
    synthetic=True,
    slice_hashes={"n1": "slice1", "n2": "slice2"},
)
#: A job the tests hand over; without a service nothing reads it.
JOB = {"kind": "network", "target": "n1", "out": "x.ipynb", "log": "x.log"}


def _paths(tmp_path: Path, notebooks: dict[str, list[str]] | None = None):
    # a short folder: the build's sockets go into it (see ProjectPaths._socket)
    return tiny_project(tmp_path / "p", PLAN, notebooks or {})


def _no_inline_run(*args, **kwargs):
    raise AssertionError("the job ran in the test's process, not on the service")


@pytest.fixture
def service_switch(monkeypatch):
    monkeypatch.delenv("COMPENDIUM_EXECUTOR", raising=False)


def test_the_service_is_on_unless_switched_to_inline(service_switch, monkeypatch):
    assert enabled()
    monkeypatch.setenv("COMPENDIUM_EXECUTOR", "inline")
    assert not enabled()


def test_without_a_service_the_job_is_not_taken(tmp_path, service_switch):
    paths = _paths(tmp_path)
    assert not paths.executor_socket.exists()
    assert submit(paths, JOB) is None
    assert submit(paths, JOB, lane="book") is None


def test_a_dead_builds_socket_takes_no_job(tmp_path, service_switch):
    paths = _paths(tmp_path)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(str(paths.executor_socket))
    sock.close()  # the build died: its socket file stays, nobody listens
    assert paths.executor_socket.exists()
    assert submit(paths, JOB) is None


def test_inline_hands_no_job_to_a_listening_service(tmp_path, service_switch, monkeypatch):
    paths = _paths(tmp_path)
    # not eager: the service starts its processes only when a job knocks
    with Service(paths, workers=1, eager=False):
        assert paths.executor_socket.exists() and paths.book_socket.exists()
        monkeypatch.setenv("COMPENDIUM_EXECUTOR", "inline")
        assert submit(paths, JOB) is None
        assert submit(paths, JOB, lane="book") is None
        time.sleep(0.5)  # the service looks for knocks every 0.2 s
        # nobody knocked: nothing started, so it has written no log
        assert not (paths.logs_dir / "executor.log").exists()
    assert not paths.executor_socket.exists()
    assert not paths.book_socket.exists()


# -- notebooks on the service's warm kernels (slow: it starts kernels and imports) ----------
NOTEBOOKS = {
    "network_profile": [
        'network_id = ""\ndata_dirs = []',
        "from myst_nb import glue\nimport os\n"
        'glue("network", network_id, display=False)\n'
        'glue("pid", os.getpid(), display=False)',
    ],
    "setting_comparison": [
        'setting = ""\ndata_dirs = []',
        'raise RuntimeError(f"cannot compare {setting}")',
    ],
}


@pytest.mark.slow
def test_a_notebook_job_runs_on_the_service(tmp_path, service_switch, monkeypatch):
    paths = _paths(tmp_path, NOTEBOOKS)
    out = paths.executed_network("n1")
    log = paths.logs_dir / "n1.log"
    # run() must hand the job over; running it here would be a silent fallback
    monkeypatch.setattr(notebook_job, "execute", _no_inline_run)
    with Service(paths, workers=1):
        assert notebook_job.run(paths, "network", "n1", out, log) is None
        failing_log = paths.logs_dir / "rural.log"
        failure = notebook_job.run(
            paths, "setting", "rural", paths.executed_setting("rural"), failing_log
        )
    nb = nbformat.read(out, as_version=4)
    meta = nb.metadata["compendium"]
    assert meta["parameters"] == {
        "network_id": "n1",
        "data_dirs": ["slices/networks/n1"],  # relative to the build folder
    }
    assert meta["slice_hashes"] == {"n1": "slice1"}
    glued = {
        out.metadata["scrapbook"]["name"]: out.data["application/papermill.record/text/plain"]
        for cell in nb.cells
        for out in cell.get("outputs", [])
        if "scrapbook" in out.get("metadata", {})
    }
    assert glued["network"] == "'n1'"
    assert int(glued["pid"]) != os.getpid()  # a kernel of the service's, not of ours
    assert log.read_text() == f"ok: {out}\n"
    # a failure comes back as the same short account a run here gives
    assert failure == (
        "notebook setting_comparison.ipynb (setting='rural') failed at cell 3:\n"
        "    RuntimeError: cannot compare rural\n"
        f"    full traceback: {failing_log}"
    )
    assert not paths.executed_setting("rural").exists()
    assert (paths.logs_dir / "executor.log").exists()
    # nothing is left listening, and the next job runs by itself
    assert not paths.executor_socket.exists()
    assert not paths.book_socket.exists()
    assert submit(paths, JOB) is None


def _gone(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] == "Z"  # a zombie is gone
    except FileNotFoundError:
        return True
    except OSError:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        return False


@pytest.mark.slow
def test_stopping_the_service_mid_job_loses_the_job_and_its_kernel(
    tmp_path, service_switch, monkeypatch
):
    started = tmp_path / "started"
    notebooks = {
        "network_profile": [
            'network_id = ""\ndata_dirs = []',
            f"import os, pathlib, time\npathlib.Path({str(started)!r}).write_text(str(os.getpid()))"
            "\ntime.sleep(120)",
        ]
    }
    paths = _paths(tmp_path, notebooks)
    out = paths.executed_network("n1")
    monkeypatch.setattr(notebook_job, "execute", _no_inline_run)
    service = Service(paths, workers=1).__enter__()
    returned = threading.Event()  # the job came back before it was stopped: stop at once

    def stop_once_started() -> None:
        deadline = time.monotonic() + 120
        while not (started.exists() or returned.is_set()) and time.monotonic() < deadline:
            time.sleep(0.1)
        service.__exit__(None, None, None)

    stopper = threading.Thread(target=stop_once_started)
    stopper.start()
    try:
        with pytest.raises(ServiceLost):
            notebook_job.run(paths, "network", "n1", out, paths.logs_dir / "n1.log")
    finally:
        returned.set()
        stopper.join()
    assert started.exists(), "the notebook never started on the service"
    assert not out.exists()
    kernel = int(started.read_text())
    deadline = time.monotonic() + 10
    while not _gone(kernel) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _gone(kernel), f"the kernel {kernel} outlived the service"
