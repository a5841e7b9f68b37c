"""What re-runs after a code edit follows the code's own imports.

A small project is built with a copy of the package (on ``PYTHONPATH``), so its
files can be edited; after each edit ``compendium status`` is read: which runs
are stale, and the file it names as the reason. A probe module imported only by
the network notebook stands for "a module that only the network notebook reaches".
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import REPO, make_project

pytestmark = pytest.mark.slow

PROBE = "analysis/staleness_probe.py"


def compendium(root: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "COMPENDIUM_ROOT": str(root), "PYTHONPATH": str(root / "src")}
    env.pop("COMPENDIUM_DATA", None)
    return subprocess.run(
        [sys.executable, "-m", "compendium", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    root = make_project(tmp_path_factory, "staleness", seed=11, n_networks=2)
    shutil.copytree(
        REPO / "src" / "compendium",
        root / "src" / "compendium",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    (root / "src" / "compendium" / PROBE).write_text('"""Read by the network notebook only."""\n')
    nb_path = root / "notebooks" / "network_profile.ipynb"
    nb = json.loads(nb_path.read_text())
    nb["cells"].append(
        {
            "cell_type": "code",
            "execution_count": None,
            "id": "staleness-probe",
            "metadata": {},
            "outputs": [],
            "source": ["from compendium.analysis import staleness_probe  # noqa: F401"],
        }
    )
    nb_path.write_text(json.dumps(nb, indent=1))
    proc = compendium(root, "build", "--cores", "2")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return root


def stale(root: Path) -> dict[str, str]:
    """Each stale run (Snakemake's job label) and the reason ``compendium status`` gives."""
    proc = compendium(root, "status")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    runs = {}
    for line in proc.stdout.splitlines():
        m = re.match(r"^  (\S+)\s+(.*)$", line)
        if m:
            runs[m.group(1)] = m.group(2)
    return runs


@contextlib.contextmanager
def edited(root: Path, relative: str):
    """One package file with a comment appended, as it was again afterwards."""
    path = root / "src" / "compendium" / relative
    before = path.read_bytes()
    path.write_bytes(before + b"\n# an edit\n")
    try:
        yield
    finally:
        path.write_bytes(before)


def rules(runs: dict[str, str]) -> set[str]:
    return {label.split("[")[0] for label in runs}


def test_the_built_project_is_up_to_date(project):
    assert stale(project) == {}


@pytest.mark.parametrize("relative", ["ingest/qda.py", "ingest/synth.py"])
def test_editing_an_importer_re_runs_nothing(project, relative):
    with edited(project, relative):
        assert stale(project) == {}


def test_editing_the_job_runner_re_runs_every_notebook(project):
    with edited(project, "run/notebook_job.py"):
        runs = stale(project)
    network_ids = sorted(p.stem for p in (project / "build" / "executed" / "networks").glob("*"))
    assert len(network_ids) == 2
    for network_id in network_ids:
        assert f"network_profile[{network_id}]" in runs
    assert {"network_profile", "setting_comparison", "cross_network", "book"} <= rules(runs)
    crosses = {label for label in runs if label.startswith("cross_network")}
    assert len(crosses) == 4  # overview, qualitative, outcomes, policy timeline
    notebook_runs = {k: v for k, v in runs.items() if not k.startswith("book")}
    assert all("package code compendium/run/notebook_job.py" in r for r in notebook_runs.values())


def test_editing_a_module_only_the_network_notebook_reaches_re_runs_the_network_runs(project):
    with edited(project, PROBE):
        runs = stale(project)
    assert rules(runs) == {"network_profile", "book"}
    assert len([r for r in runs if r.startswith("network_profile")]) == 2
    for label, reason in runs.items():
        if label.startswith("network_profile"):
            assert reason == f"changed: package code compendium/{PROBE}"


def test_editing_the_book_assembly_re_runs_the_book_only(project):
    with edited(project, "book/assemble.py"):
        runs = stale(project)
    assert list(runs) == ["book"]
    assert "package code compendium/book/assemble.py" in runs["book"]


def test_editing_the_policy_tables_re_runs_the_policy_timeline_only(project):
    with edited(project, "data/policy_tables.py"):
        runs = stale(project)
    assert rules(runs) == {"cross_network", "book"}
    assert [r for r in runs if r != "book"] == ["cross_network[policy_timeline]"]


def test_a_build_after_a_code_edit_runs_what_the_edit_reaches(project):
    # the no-op shortcut of `compendium build` must see package code too, not only the data
    with edited(project, PROBE):
        proc = compendium(project, "build", "--cores", "2")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    started = set(re.findall(r"\] start  (\S+)", proc.stdout))
    assert {s.split("[")[0] for s in started} == {"network_profile", "book", "all"}
