"""Shared fixtures: small generated data packages, and copies of them to break."""

from __future__ import annotations

import shutil
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
