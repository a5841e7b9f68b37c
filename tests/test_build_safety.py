"""Determinism, kill-safety and real-data isolation of the build.

- two clean builds from the same inputs give the same computed results and figures;
- the warm kernels of the build's notebook service give every output a fresh kernel gives;
- a build killed (SIGKILL of the Snakemake process) mid-way leaves the last good book intact,
  and the next build completes;
- a data package marked non-synthetic builds outside the repository's book, under a banner.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from .conftest import compendium, make_project, page_text, paths_of

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    """A copy of the project with a 2-network package, built by the tests themselves."""
    return make_project(tmp_path_factory, "safety", seed=21, n_networks=2)


def results_and_figures(root: Path) -> tuple[dict, dict]:
    """The build's recorded glued values, and a hash of every figure of every executed notebook."""
    paths = paths_of(root)
    values = json.loads((paths.build_dir / "results" / "published.json").read_text())["pages"]
    figures = {}
    for nb_path in sorted(paths.executed_dir.rglob("*.ipynb")):
        nb = json.loads(nb_path.read_text())
        for i, cell in enumerate(nb["cells"]):
            for j, out in enumerate(cell.get("outputs", [])):
                png = out.get("data", {}).get("image/png")
                if png:
                    key = f"{nb_path.relative_to(paths.executed_dir)}:{i}:{j}"
                    figures[key] = hashlib.sha256(base64.b64decode(png)).hexdigest()
    return values, figures


def clean(root: Path) -> None:
    paths = paths_of(root)
    shutil.rmtree(paths.build_dir, ignore_errors=True)
    shutil.rmtree(paths.html_dir.parent, ignore_errors=True)


def test_two_clean_builds_give_identical_results_and_figures(project):
    proc = compendium(project, "build")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    first = results_and_figures(project)
    assert first[1], "the executed notebooks hold no figure"
    clean(project)
    proc = compendium(project, "build")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    second = results_and_figures(project)
    assert second[0] == first[0]
    assert second[1] == first[1]


def cell_outputs(root: Path) -> dict:
    """Every output of every executed notebook: text as is, images by hash."""
    paths = paths_of(root)
    found = {}
    for nb_path in sorted(paths.executed_dir.rglob("*.ipynb")):
        nb = json.loads(nb_path.read_text())
        for i, cell in enumerate(nb["cells"]):
            for j, out in enumerate(cell.get("outputs", [])):
                key = f"{nb_path.relative_to(paths.executed_dir)}:{i}:{j}"
                if "text" in out:
                    found[key] = "".join(out["text"])
                for mime, value in sorted(out.get("data", {}).items()):
                    if mime.startswith("image/"):
                        value = hashlib.sha256(base64.b64decode(value)).hexdigest()
                    value = value if isinstance(value, str) else "".join(value)
                    # an object's plain repr holds its memory address, different in any two runs
                    found[f"{key}:{mime}"] = re.sub(r" at 0x[0-9a-f]+>", " at ...>", value)
    return found


def test_warm_kernels_give_what_fresh_kernels_give(project, monkeypatch):
    """The build's kernels are forked from a process that imported the libraries once
    (compendium.run.service); papermill's own fresh kernels must give every output identically."""
    clean(project)
    proc = compendium(project, "build")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    warm = cell_outputs(project)
    clean(project)
    monkeypatch.setenv("COMPENDIUM_EXECUTOR", "inline")
    proc = compendium(project, "build")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    fresh = cell_outputs(project)
    assert len(warm) > 50 and any(":image/png" in k for k in warm)
    assert warm == fresh


def children(pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def test_a_killed_build_leaves_the_last_book_and_the_next_build_completes(project):
    paths = paths_of(project)
    if not (paths.html_dir / "index.html").exists():
        assert compendium(project, "build").returncode == 0
    index_before = (paths.html_dir / "index.html").read_bytes()
    target_before = os.readlink(paths.html_dir)

    env = {**os.environ, "COMPENDIUM_ROOT": str(project)}
    build = subprocess.Popen(
        [sys.executable, "-m", "compendium", "build", "--force"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.monotonic() + 300
    for line in build.stdout:  # wait until a notebook is executing
        if "start  network_profile" in line:
            break
        assert time.monotonic() < deadline
    time.sleep(1.0)
    workflow = [p for p in children(build.pid)]
    assert workflow, "no Snakemake process found under compendium build"
    for pid in workflow:
        os.kill(pid, signal.SIGKILL)
    build.communicate(timeout=120)
    assert build.returncode != 0

    # the book still served is the last good one, byte for byte
    assert os.readlink(paths.html_dir) == target_before
    assert (paths.html_dir / "index.html").read_bytes() == index_before
    # no executed notebook is half-written: every one parses and ran every cell
    for nb_path in paths.executed_dir.rglob("*.ipynb"):
        if nb_path.name.startswith("."):
            continue  # a temporary file of an interrupted run, never read by the book
        nb = json.loads(nb_path.read_text())
        assert nb["metadata"]["papermill"]["exception"] is None

    time.sleep(2)  # let orphaned notebook runs of the killed build finish or die
    proc = compendium(project, "build")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (paths.html_dir / "index.html").exists()


def test_non_synthetic_data_builds_outside_the_repository_book_with_a_banner(project, tmp_path):
    real = tmp_path / "real-data"
    shutil.copytree(project / "data", real)
    for csv in real.glob("*.csv"):
        df = pd.read_csv(csv, dtype=str, keep_default_na=False)
        if "synthetic" in df.columns:
            df["synthetic"] = "false"
            df.to_csv(csv, index=False)
    repo_book = paths_of(project).html_dir
    before = os.readlink(repo_book) if repo_book.is_symlink() else None

    proc = compendium(project, "build", "--data", str(real))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "NON-SYNTHETIC" in proc.stdout
    from compendium.data.write import content_hash

    private = paths_of(project, real)
    assert private.html_dir.parts[-3] == "private-builds"
    text = page_text(private.html_dir / "intro.html")
    banner = private.html_dir.joinpath("intro.html").read_text()
    assert "Built from NON-SYNTHETIC data: not for release before disclosure review" in banner
    # which data: in every computed page's provenance note
    assert content_hash(real) in page_text(private.html_dir / "overview.html")
    assert "synthetic" in text.lower()
    # the repository's own book was not touched
    assert (os.readlink(repo_book) if repo_book.is_symlink() else None) == before


def glance(root: Path) -> str:
    text = page_text(paths_of(root).html_dir / "intro.html")
    start = text.index("The data package behind this build")
    return text[start : text.index("not typed", start)]


def test_the_narrative_follows_the_data_across_seeds(project):
    from compendium.data.read import load
    from compendium.ingest.synth import write
    from compendium.report.prose import fmt

    if not (paths_of(project).html_dir / "index.html").exists():
        assert compendium(project, "build").returncode == 0
    before = glance(project)
    shutil.rmtree(project / "data")
    write(project / "data", seed=22, n_networks=2)
    proc = compendium(project, "build")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    after = glance(project)
    tables = load(project / "data")
    population = fmt(int(tables["networks"]["population"].sum()), digits=0)
    n_orgs = len(tables["organizations"])
    # the introduction's typed-free paragraph now carries the new seed's numbers
    assert f"serving {population} people through {n_orgs} organizations" in after
    assert after != before
