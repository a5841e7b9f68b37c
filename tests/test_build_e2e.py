"""End to end: a small generated data package -> Snakemake + papermill -> Jupyter Book.

The tests of this module share one project folder and run in order: a clean build, a no-op
build, an edit to one network, a touched file, a failing notebook and invalid data.
"""

from __future__ import annotations

import html
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from compendium.analysis import network
from compendium.data.read import load
from compendium.data.write import content_hash
from compendium.paths import CROSS_NETWORK, default_paths
from compendium.report.prose import fmt

from .conftest import copy_project, edit_cell
from .conftest import run_compendium as compendium

pytestmark = pytest.mark.slow


def started_jobs(output: str) -> set[str]:
    return set(re.findall(r"\] start  (\S+)", output))


def page_text(path: Path) -> str:
    s = path.read_text(encoding="utf-8")
    s = s[s.find("<main") : s.find("</main>")]
    return html.unescape(re.sub(r"[ \t\r\n]+", " ", re.sub(r"<[^>]+>", " ", s)))


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    """A copy of the project (notebooks, workflow, narrative) with a 3-network package."""
    return copy_project(tmp_path_factory.mktemp("project"), seed=5, n_networks=3)


@pytest.fixture(scope="module")
def first_build(project):
    proc = compendium(project, "build", "--cores", "2")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


def paths_of(root: Path):
    os.environ["COMPENDIUM_ROOT"] = str(root)
    try:
        return default_paths()
    finally:
        del os.environ["COMPENDIUM_ROOT"]


def test_clean_build_makes_a_page_per_network_and_setting(project, first_build):
    paths = paths_of(project)
    tables = load(project / "data")
    html_dir = paths.html_dir
    assert (html_dir / "index.html").exists()
    assert f"the book: {html_dir / 'index.html'}" in first_build.stdout
    for network_id in tables["networks"]["network_id"]:
        assert (html_dir / "networks" / f"{network_id}.html").exists()
    for setting in tables["networks"]["setting"].unique():
        assert (html_dir / "settings" / f"{setting}.html").exists()
    assert (html_dir / "overview.html").exists()
    assert "synthetic" in page_text(html_dir / "intro.html").lower()


def test_network_pages_show_values_computed_for_that_network(project, first_build):
    paths = paths_of(project)
    tables = load(project / "data")
    metrics = network.network_metrics(tables["organizations"], tables["ties"]).set_index(
        "network_id"
    )
    names = tables["networks"].set_index("network_id")["name"]
    for network_id, row in metrics.iterrows():
        text = page_text(paths.html_dir / "networks" / f"{network_id}.html")
        assert names[network_id] in text
        assert f"density is {fmt(row['density'])}" in text
        assert f"centralization {fmt(row['degree_centralization'])}" in text
        assert f"links {int(row['n_organizations'])} organizations" in text
        # the figures were rendered into the page, each with a description for screen readers
        raw = (paths.html_dir / "networks" / f"{network_id}.html").read_text()
        images = re.findall(r"<img [^>]*>", raw)
        assert images and all(re.search(r'alt="[^"]{20,}"', img) for img in images), images
        assert re.search(
            r"<img [^>]*src=\"\.\./_images/",
            (paths.html_dir / "networks" / f"{network_id}.html").read_text(),
        )


def test_executed_notebooks_carry_provenance(project, first_build):
    paths = paths_of(project)
    network_id = load(project / "data")["networks"]["network_id"].iloc[0]
    nb = json.loads(paths.executed_network(network_id).read_text())
    meta = nb["metadata"]["compendium"]
    assert meta["parameters"]["network_id"] == network_id
    assert meta["data_package_hash"] == content_hash(project / "data")
    assert nb["metadata"]["papermill"]["duration"] > 0
    # committed templates stay stripped: executed copies never go back to notebooks/
    template = json.loads((project / "notebooks" / "network_profile.ipynb").read_text())
    assert all(not c.get("outputs") for c in template["cells"])


def test_second_build_runs_nothing(project, first_build):
    proc = compendium(project, "build")
    assert proc.returncode == 0, proc.stderr
    assert "nothing ran" in proc.stdout
    assert started_jobs(proc.stdout) == set()


def test_touching_without_changing_reruns_nothing(project, first_build):
    for path in [project / "data" / "ties.csv", project / "notebooks" / "network_profile.ipynb"]:
        os.utime(path)
    proc = compendium(project, "build")
    assert proc.returncode == 0, proc.stderr
    assert started_jobs(proc.stdout) == set()


def test_editing_one_network_reruns_exactly_its_runs(project, first_build):
    nets = pd.read_csv(project / "data" / "networks.csv", dtype=str)
    network_id, setting = nets.loc[1, "network_id"], nets.loc[1, "setting"]
    edit_cell(
        project / "data" / "networks.csv",
        3,
        "population",
        str(int(nets.loc[1, "population"]) + 1000),
    )

    status = compendium(project, "status")
    assert status.returncode == 0, status.stderr
    assert f"network_profile[{network_id}]" in status.stdout
    assert f"data of network {network_id} (networks.csv)" in status.stdout

    built = paths_of(project).book_stage / "_build" / "html"
    written = {p: p.stat().st_mtime_ns for p in built.rglob("*.html")}
    proc = compendium(project, "build")
    assert proc.returncode == 0, proc.stderr
    assert started_jobs(proc.stdout) == {
        f"network_profile[{network_id}]",
        f"setting_comparison[{setting}]",
        # every cross-network notebook that reads data, and not the policy timeline
        *(f"cross_network[{name}]" for name, reads in CROSS_NETWORK.items() if reads),
        "book",
        "all",
    }
    html_dir = paths_of(project).html_dir
    text = page_text(html_dir / "networks" / f"{network_id}.html")
    assert fmt(int(nets.loc[1, "population"]) + 1000, digits=0) in text
    # the "What changed" page shows the edit, value before -> after
    changed = page_text(html_dir / "what_changed.html")
    before, after = nets.loc[1, "population"], str(int(nets.loc[1, "population"]) + 1000)
    assert f"population {before} {after}" in changed
    # Sphinx wrote the pages whose content changed, and the narrative pasting their values
    rewritten = {
        p.relative_to(built).as_posix() for p, t in written.items() if p.stat().st_mtime_ns != t
    }
    assert {
        f"networks/{network_id}.html",
        f"settings/{setting}.html",
        "overview.html",
        "what_changed.html",
        "intro.html",
        "methods.html",
    } <= rewritten
    other = next(n for n in nets["network_id"] if n != network_id)
    assert f"networks/{other}.html" not in rewritten
    assert "bibliography.html" not in rewritten
    total = nets["population"].astype(int).sum() + 1000
    intro = page_text(html_dir / "intro.html")
    assert f"serving {fmt(int(total), digits=0)} people" in intro


def test_renaming_a_network_rewrites_every_page_sidebar(project, first_build):
    nets = pd.read_csv(project / "data" / "networks.csv", dtype=str)
    network_id = nets.loc[0, "network_id"]
    edit_cell(project / "data" / "networks.csv", 2, "name", "Renamed network")
    proc = compendium(project, "build")
    assert proc.returncode == 0, proc.stderr
    html_dir = paths_of(project).html_dir
    other = nets.loc[2, "network_id"]
    # the page of another network, unchanged itself, lists the new title in its navigation
    assert "Renamed network" in (html_dir / "networks" / f"{other}.html").read_text()
    assert f"networks/{network_id}.html" in (html_dir / "bibliography.html").read_text()
    assert "Renamed network" in (html_dir / "bibliography.html").read_text()


def test_failing_notebook_keeps_the_last_good_book(project, first_build):
    paths = paths_of(project)
    before = (paths.html_dir / "index.html").read_bytes()
    target = os.readlink(paths.html_dir)
    nb_path = project / "notebooks" / "network_profile.ipynb"
    original = nb_path.read_text()
    nb = json.loads(original)
    code = [
        c
        for c in nb["cells"]
        if c["cell_type"] == "code" and "parameters" not in c["metadata"].get("tags", [])
    ]
    code[1]["source"] = "raise RuntimeError('planted failure')\n"
    nb_path.write_text(json.dumps(nb))
    try:
        proc = compendium(project, "build")
    finally:
        nb_path.write_text(original)
    assert proc.returncode == 1
    assert "notebook network_profile.ipynb (network_id=" in proc.stderr
    assert "RuntimeError: planted failure" in proc.stderr
    assert "failed at cell" in proc.stderr and "full traceback:" in proc.stderr
    assert "the last good book is unchanged" in proc.stderr
    assert os.readlink(paths.html_dir) == target
    assert (paths.html_dir / "index.html").read_bytes() == before


def test_invalid_data_stops_before_anything_is_written(project, first_build):
    paths = paths_of(project)
    slices = {p: p.stat().st_mtime_ns for p in paths.slices_dir.rglob("*.csv")}
    target = os.readlink(paths.html_dir)
    orgs = project / "data" / "organizations.csv"
    original = orgs.read_bytes()
    edit_cell(orgs, 3, "organization_type", "spaceport")
    try:
        proc = compendium(project, "build")
        validate = compendium(project, "validate", str(project / "data"))
    finally:
        orgs.write_bytes(original)
    assert proc.returncode == 1
    first = proc.stderr.splitlines()[0]
    assert first.startswith(
        f"{project / 'data' / 'organizations.csv'}, row 3, column organization_type:"
    )
    assert {p: p.stat().st_mtime_ns for p in paths.slices_dir.rglob("*.csv")} == slices
    assert os.readlink(paths.html_dir) == target
    assert validate.returncode == 1 and validate.stderr.splitlines()[0] == first


def test_watch_rebuilds_after_a_saved_edit_and_serves_it(project, first_build):
    import socket
    import time
    import urllib.request

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "COMPENDIUM_ROOT": str(project)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "compendium", "watch", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    nets = pd.read_csv(project / "data" / "networks.csv", dtype=str)
    network_id = nets.loc[0, "network_id"]
    url = f"http://127.0.0.1:{port}/networks/{network_id}.html"
    new_population = int(nets.loc[0, "population"]) + 777
    try:
        deadline = time.monotonic() + 120
        while True:  # the first (no-op) build, then the server
            try:
                urllib.request.urlopen(url, timeout=2).read()
                break
            except OSError:
                assert time.monotonic() < deadline, "the watcher never served the book"
                time.sleep(0.5)
        edit_cell(project / "data" / "networks.csv", 2, "population", str(new_population))
        saved = time.monotonic()
        expected = fmt(new_population, digits=0)
        while expected not in html.unescape(urllib.request.urlopen(url, timeout=2).read().decode()):
            assert time.monotonic() - saved < 120, "the edit never reached the served book"
            time.sleep(0.5)
    finally:
        proc.terminate()
        output = proc.communicate(timeout=30)[0]
    assert "rebuilding" in output and "networks.csv" in output
