"""Shared fixtures: small generated data packages, copies of them to break, and small projects
(a copy of the notebooks, workflow and narrative with a generated package) to build."""

from __future__ import annotations

import html
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from unittest import mock

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


# -- a tiny project of hand-written notebooks (job runner and executor service tests) ----------
def tiny_project(root: Path, plan, notebooks: dict[str, list[str]]):
    """A project folder laid out as ProjectPaths expects, with ``notebooks`` of our own.

    Each notebook is given by the sources of its code cells; the first is tagged
    ``parameters``. ``plan`` (a ``compendium.data.plan.Plan``) is written to
    ``build/plan.json``. Returns the project's ProjectPaths.
    """
    import nbformat

    from compendium.data.plan import PLAN_FILE
    from compendium.paths import ProjectPaths

    paths = ProjectPaths(
        root=root, data_dir=root / "data", build_dir=root / "build", html_dir=root / "html"
    )
    paths.notebooks_dir.mkdir(parents=True, exist_ok=True)
    for name, sources in notebooks.items():
        nb = nbformat.v4.new_notebook()
        nb.metadata["kernelspec"] = {
            "name": "compendium",
            "display_name": "Python (compendium)",
            "language": "python",
        }
        nb.cells = [nbformat.v4.new_markdown_cell(f"# {name}")]
        nb.cells += [nbformat.v4.new_code_cell(src) for src in sources]
        nb.cells[1].metadata["tags"] = ["parameters"]
        nbformat.write(nb, paths.notebook(name))
    paths.build_dir.mkdir(parents=True, exist_ok=True)
    (paths.build_dir / PLAN_FILE).write_text(plan.to_json(), encoding="utf-8")
    return paths


# -- a small project to build (the end-to-end modules) ------------------------------------------
#: What a project copy holds besides its data package.
PROJECT_FOLDERS = ("notebooks", "workflow", "book")


def make_project(tmp_path_factory, name: str, seed: int, n_networks: int) -> Path:
    """A copy of the project (notebooks, workflow, narrative) with a generated package.

    The package is ``compendium.ingest.synth.write(root / "data", seed=seed,
    n_networks=n_networks)``; nothing is built. Each call gives a new folder, named
    after ``name``, that the caller may edit.
    """
    return copy_project(tmp_path_factory.mktemp(name), seed, n_networks)


def copy_project(root: Path, seed: int = 5, n_networks: int = 3) -> Path:
    """:func:`make_project` into a folder of the caller's choosing (e.g. one with a space)."""
    from compendium.ingest.synth import write

    for folder in PROJECT_FOLDERS:
        shutil.copytree(REPO / folder, root / folder, ignore=shutil.ignore_patterns("_build", ".*"))
    write(root / "data", seed=seed, n_networks=n_networks)
    return root


_BUILT: dict[tuple, tuple[Path, subprocess.CompletedProcess]] = {}


def built_project(tmp_path_factory, name: str, seed: int, n_networks: int) -> Path:
    """:func:`make_project`, then ``compendium build --cores 2``: once per session.

    Modules that only read the built book share it by asking with the same arguments
    (``test_browser`` and ``test_pdf``); they must not edit it. A failed build fails
    every test that needs it, and runs once.
    """
    key = (tmp_path_factory.getbasetemp(), name, seed, n_networks)
    if key not in _BUILT:
        root = make_project(tmp_path_factory, name, seed, n_networks)
        _BUILT[key] = root, compendium(root, "build", "--cores", "2")
    root, proc = _BUILT[key]
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return root


def compendium(root: Path, *args: str, timeout: int = 900) -> subprocess.CompletedProcess:
    """``compendium ARGS`` run in project ``root`` (its committed-data paths)."""
    env = {**os.environ, "COMPENDIUM_ROOT": str(root)}
    env.pop("COMPENDIUM_DATA", None)
    return subprocess.run(
        [sys.executable, "-m", "compendium", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def paths_of(root: Path, data: Path | None = None):
    """The ProjectPaths of project ``root``, for its own package or for ``data``."""
    from compendium.paths import default_paths

    with mock.patch.dict(os.environ, {"COMPENDIUM_ROOT": str(root)}):
        os.environ.pop("COMPENDIUM_DATA", None)
        return default_paths(data)


def page_text(path: Path) -> str:
    """The text of a built page's ``<main>``, tags dropped and white space folded."""
    s = path.read_text(encoding="utf-8")
    s = s[s.find("<main") : s.find("</main>")]
    return html.unescape(re.sub(r"[ \t\r\n]+", " ", re.sub(r"<[^>]+>", " ", s)))


def require_chromium() -> None:
    """Skip, saying why, when there is no browser to drive."""
    from compendium.book import pdf

    pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    try:
        pdf.find_chromium()
    except pdf.PdfBuildError as err:
        pytest.skip(str(err))


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
