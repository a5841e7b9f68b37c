"""One notebook run: its template, parameters and the networks it reads; then papermill on a
tiny notebook of our own (a real kernel), with provenance on success and a short account of
a failure."""

from __future__ import annotations

import json

import nbformat
import pytest

from compendium import __version__
from compendium.book.results import glued_values
from compendium.data.plan import Plan
from compendium.paths import CROSS_NETWORK, ProjectPaths
from compendium.run import notebook_job

from .conftest import tiny_project

PLAN = Plan(
    networks={"n2": "rural", "n1": "rural", "n3": "metropolitan"},
    names={"n1": "One", "n2": "Two", "n3": "Three"},
    data_hash="datahash",
    synthetic=True,
    slice_hashes={"n1": "slice1", "n2": "slice2", "n3": "slice3"},
)


@pytest.fixture
def paths(tmp_path) -> ProjectPaths:
    return ProjectPaths(
        root=tmp_path / "repo",
        data_dir=tmp_path / "data",
        build_dir=tmp_path / "build",
        html_dir=tmp_path / "html",
    )


def test_a_network_run_reads_its_own_slice(paths):
    template, params = notebook_job.template_and_parameters(paths, PLAN, "network", "n2")
    assert template == paths.root / "notebooks" / "network_profile.ipynb"
    # relative to the build folder, where the kernels run: no clone's path in a page
    assert params == {"network_id": "n2", "data_dirs": ["slices/networks/n2"]}
    assert notebook_job.networks_read(PLAN, "network", "n2") == ["n2"]


def test_a_setting_run_reads_its_networks_joined(paths):
    template, params = notebook_job.template_and_parameters(paths, PLAN, "setting", "rural")
    assert template == paths.root / "notebooks" / "setting_comparison.ipynb"
    assert params == {"setting": "rural", "data_dirs": ["slices/settings/rural"]}
    assert notebook_job.networks_read(PLAN, "setting", "rural") == ["n1", "n2"]
    assert notebook_job.networks_read(PLAN, "setting", "metropolitan") == ["n3"]


@pytest.mark.parametrize("name", [n for n, reads in CROSS_NETWORK.items() if reads])
def test_a_cross_run_that_reads_data_reads_every_network(paths, name):
    template, params = notebook_job.template_and_parameters(paths, PLAN, "cross", name)
    assert template == paths.root / "notebooks" / f"{name}.ipynb"
    assert params == {"data_dirs": ["slices/all"]}
    assert notebook_job.networks_read(PLAN, "cross", name) == ["n1", "n2", "n3"]


def test_the_policy_timeline_reads_no_data(paths):
    template, params = notebook_job.template_and_parameters(paths, PLAN, "cross", "policy_timeline")
    assert template == paths.root / "notebooks" / "policy_timeline.ipynb"
    assert params == {}
    assert notebook_job.networks_read(PLAN, "cross", "policy_timeline") == []


def test_an_unknown_cross_notebook_is_refused(paths):
    with pytest.raises(KeyError):
        notebook_job.template_and_parameters(paths, PLAN, "cross", "not_a_notebook")


# -- papermill on a tiny notebook -----------------------------------------------------------
SETTING_NOTEBOOK = [
    'setting = ""\ndata_dirs = []',
    "from myst_nb import glue\n"
    'glue("greeting", f"{setting} from {len(data_dirs)} folder(s)", display=False)\n'
    "glue('n_letters', len(setting), display=False)",
]
NETWORK_NOTEBOOK = [
    'network_id = ""\ndata_dirs = []',
    "ok = True",
    'raise ValueError(f"no data for {network_id}")',
    "never = True",
]


@pytest.mark.slow
def test_execute_injects_parameters_and_records_provenance(tmp_path):
    paths = tiny_project(tmp_path / "repo", PLAN, {"setting_comparison": SETTING_NOTEBOOK})
    out = paths.executed_setting("rural")
    log = paths.logs_dir / "rural.log"
    assert notebook_job.execute(paths, "setting", "rural", out, log) is None

    nb = nbformat.read(out, as_version=4)
    params = {"setting": "rural", "data_dirs": ["slices/settings/rural"]}
    # papermill's injected cell follows the template's parameters cell
    injected = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert len(injected) == 1 and nb.cells.index(injected[0]) == 2
    assert 'setting = "rural"' in injected[0].source
    assert nb.metadata["papermill"]["parameters"] == params
    assert nb.metadata["papermill"]["duration"] > 0
    # the cell ran with the injected values
    assert glued_values(nb) == {"greeting": "'rural from 1 folder(s)'", "n_letters": "5"}
    # what produced it: the plan's hashes of the package and of the networks read, only those
    meta = nb.metadata["compendium"]
    assert meta["parameters"] == params
    assert meta["template"] == "setting_comparison.ipynb"
    assert meta["data_package_hash"] == "datahash"
    assert meta["slice_hashes"] == {"n1": "slice1", "n2": "slice2"}
    assert meta["synthetic"] is True
    assert meta["compendium_version"] == __version__
    assert meta["git_commit"] == "unknown"  # the tiny project is not a git repository
    assert meta["wall_seconds"] >= 0
    assert log.read_text() == f"ok: {out}\n"
    # no temporary file left beside the executed notebook
    assert sorted(p.name for p in out.parent.iterdir()) == ["rural.ipynb"]


@pytest.mark.slow
def test_a_failing_notebook_names_its_cell_and_error_and_writes_nothing(tmp_path):
    paths = tiny_project(tmp_path / "repo", PLAN, {"network_profile": NETWORK_NOTEBOOK})
    out = paths.executed_network("n3")
    out.parent.mkdir(parents=True)
    out.write_text("the last good run", encoding="utf-8")
    log = paths.logs_dir / "n3.log"

    summary = notebook_job.execute(paths, "network", "n3", out, log)
    # parameters ran first (1), papermill's injected cell (2), ok = True (3), then the raise
    assert summary == (
        "notebook network_profile.ipynb (network_id='n3') failed at cell 4:\n"
        "    ValueError: no data for n3\n"
        f"    full traceback: {log}"
    )
    assert "data_dirs" not in summary  # a local path, not what the reader needs
    # the last good output stays, and nothing half-written sits beside it
    assert out.read_text(encoding="utf-8") == "the last good run"
    assert sorted(p.name for p in out.parent.iterdir()) == ["n3.ipynb"]
    text = log.read_text(encoding="utf-8")
    assert "ValueError" in text and "no data for n3" in text
    assert json.dumps("slices/networks/n3") in text  # the parameters, in full
