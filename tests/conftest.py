"""Shared fixtures: small generated data packages, and copies of them to break."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def small_package(tmp_path_factory) -> Path:
    """A valid three-network synthetic data package (never modified by tests)."""
    from compendium.ingest.synth import write

    out = tmp_path_factory.mktemp("small") / "data"
    write(out, seed=11, n_networks=3)
    return out


@pytest.fixture
def package_copy(small_package, tmp_path) -> Path:
    """A private copy of the small package, for tests that break it."""
    dest = tmp_path / "data"
    shutil.copytree(small_package, dest)
    return dest


def edit_cell(path: Path, row: int, column: str, value: str) -> None:
    """Set one cell of a CSV file; ``row`` counts file lines (the header is row 1)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    cells = lines[row - 1].split(",")
    assert len(cells) == len(header), "edit_cell only handles rows without quoted commas"
    cells[header.index(column)] = value
    lines[row - 1] = ",".join(cells)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def copy_project(root: Path, seed: int = 5, n_networks: int = 3) -> Path:
    """A copy of the project (notebooks, workflow, narrative) in ``root``, with a small package.

    The package is generated in ``root/data`` (the same bytes for the same seed).
    """
    from compendium.ingest.synth import write

    for folder in ("notebooks", "workflow", "book"):
        shutil.copytree(REPO / folder, root / folder, ignore=shutil.ignore_patterns("_build", ".*"))
    write(root / "data", seed=seed, n_networks=n_networks)
    return root


def run_compendium(root: Path, *args: str, timeout: int = 900) -> subprocess.CompletedProcess:
    """``python -m compendium ARGS`` on the project copy in ``root``."""
    env = {**os.environ, "COMPENDIUM_ROOT": str(root)}
    env.pop("COMPENDIUM_DATA", None)
    return subprocess.run(
        [sys.executable, "-m", "compendium", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


#: Runs a command, waits for it and writes its peak memory (kB) to a file. The command is
#: this launcher's child, not the test process's: a child's ru_maxrss starts from the
#: memory of the process it was forked from, and a test may have used much.
_LAUNCHER = """
import os, subprocess, sys, threading
proc = subprocess.Popen(sys.argv[3:])
timer = threading.Timer(float(sys.argv[2]), proc.kill)
timer.start()
_, status, usage = os.wait4(proc.pid, 0)
timer.cancel()
with open(sys.argv[1], "w") as f:
    f.write(str(usage.ru_maxrss))
sys.exit(os.waitstatus_to_exitcode(status) & 0xFF)
"""


def run_measured(*args: str, timeout: float = 300) -> tuple[int, str, str, float]:
    """Run ``python -m compendium ARGS`` in a child process and measure its peak memory.

    Returns the exit status, stdout, stderr and the child's peak resident memory in MB
    (its ``ru_maxrss`` as :func:`os.wait4` gives it).
    """
    env = {k: v for k, v in os.environ.items() if k != "COMPENDIUM_DATA"}
    with tempfile.TemporaryDirectory() as tmp:
        peak = Path(tmp) / "peak"
        command = [sys.executable, "-m", "compendium", *args]
        proc = subprocess.run(
            [sys.executable, "-c", _LAUNCHER, str(peak), str(timeout), *command],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            env=env,
            timeout=timeout + 30,
        )
        kb = int(peak.read_text())
    return proc.returncode, proc.stdout, proc.stderr, kb / 1024  # ru_maxrss is in kB on Linux
