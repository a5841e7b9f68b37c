"""What a run depends on follows the code's imports (compendium.build.deps), and the package
keeps its floors: no import circle, no module importing a higher stage."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from compendium.build import deps
from compendium.paths import CROSS_NETWORK, PACKAGE_DIR, PER_NETWORK, PER_SETTING

from .conftest import REPO

#: The stages, lowest first: a module never imports one of a higher stage.
FLOORS = ["", "data", "analysis", "ingest", "report", "book", "run", "build", "cli", "__main__"]
NOTEBOOKS = [PER_NETWORK, PER_SETTING, *CROSS_NETWORK]


def floor(module: str) -> int:
    parts = module.split(".")
    return FLOORS.index(parts[1]) if len(parts) > 1 and parts[1] in FLOORS else 0


@pytest.fixture(scope="module")
def graph():
    return deps.import_graph()


def relative(files) -> set[str]:
    return {str(Path(f).relative_to(PACKAGE_DIR)) for f in files}


def test_no_module_imports_a_higher_stage(graph):
    upward = [
        f"{m} imports {i}" for m, imps in graph.imports.items() for i in imps if floor(i) > floor(m)
    ]
    assert upward == []


def test_there_is_no_import_circle(graph):
    state: dict[str, int] = {}
    circles = []

    def visit(module, stack):
        state[module] = 1
        stack.append(module)
        for imported in sorted(graph.imports[module]):
            if state.get(imported) == 1:
                circles.append(stack[stack.index(imported) :] + [imported])
            elif imported not in state:
                visit(imported, stack)
        stack.pop()
        state[module] = 2

    for module in sorted(graph.files):
        if module not in state:
            visit(module, [])
    assert circles == []


def test_every_module_of_the_package_is_in_the_graph(graph):
    on_disk = {p for p in PACKAGE_DIR.rglob("*.py") if "__pycache__" not in p.parts}
    assert set(graph.files.values()) == on_disk


def test_relative_and_absolute_imports_are_resolved():
    import ast

    known = {
        "compendium",
        "compendium.data",
        "compendium.data.schema",
        "compendium.data.read",
        "compendium.report",
        "compendium.report.plots",
        "compendium.analysis",
        "compendium.analysis.network",
    }
    code = (
        "from . import schema\n"
        "from ..report.plots import tie_graph\n"
        "def later():\n"
        "    import compendium.analysis.network\n"
        "import numpy\n"
    )
    found = deps.imported_modules(ast.parse(code), "compendium.data.read", False, known)
    assert found == {
        "compendium",
        "compendium.data",
        "compendium.data.schema",
        "compendium.report",
        "compendium.report.plots",
        "compendium.analysis",
        "compendium.analysis.network",
    }


def test_notebook_imports_are_read_from_code_cells_only(tmp_path, graph):
    nb = {
        "cells": [
            {"cell_type": "markdown", "source": ["from compendium.ingest import qda\n"]},
            {
                "cell_type": "code",
                "source": ["%matplotlib inline\n", "from compendium.analysis import coding\n"],
            },
        ]
    }
    path = tmp_path / "n.ipynb"
    path.write_text(json.dumps(nb))
    assert deps.notebook_imports(path, graph) == {
        "compendium",
        "compendium.analysis",
        "compendium.analysis.coding",
    }


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_a_run_depends_on_its_imports_and_the_job_runner_not_on_importers(name):
    files = relative(deps.notebook_run_files(REPO / "notebooks" / f"{name}.ipynb"))
    # the code that injects parameters and provenance and runs papermill
    assert {"run/notebook_job.py", "run/execute.py", "cli/run_notebook.py"} <= files
    assert {"paths.py", "__init__.py"} <= files
    # what no notebook imports: importers, the book, the orchestration
    assert not files & {"ingest/qda.py", "ingest/synth.py", "book/assemble.py", "build/plan.py"}
    assert not any(f.startswith(("build/", "book/")) for f in files)


def test_each_notebook_depends_on_the_modules_it_names():
    files = relative(deps.notebook_run_files(REPO / "notebooks" / f"{PER_NETWORK}.ipynb"))
    assert {"analysis/network.py", "analysis/coding.py", "report/plots.py"} <= files
    timeline = relative(deps.notebook_run_files(REPO / "notebooks" / "policy_timeline.ipynb"))
    assert "analysis/coding.py" not in timeline
    assert {"data/policy_tables.py", "resources/policy_timeline.csv"} <= timeline
    # the strategy catalogue is read by the network notebook, the policy files are not
    assert "resources/strategies.csv" in files
    assert "resources/policy_timeline.csv" not in files


def test_the_book_depends_on_its_assembly_not_on_the_science():
    files = relative(deps.book_files())
    assert {"book/assemble.py", "book/results.py", "run/book_job.py", "cli/build_book.py"} <= files
    # the Sphinx extension _config.yml names, and the escapes it uses
    assert {"book/sphinx_fixes.py", "report/escape.py"} <= files
    assert not files & {"analysis/network.py", "report/plots.py", "ingest/qda.py"}


def test_preparing_depends_on_the_data_stage_and_the_outcome_decisions_only():
    files = relative(deps.prepare_files())
    assert {"data/validate.py", "data/slices.py", "build/plan.py"} <= files
    # the book's disclosure decisions on outcomes are taken while preparing
    assert {"analysis/outcomes.py", "report/privacy.py"} <= files
    assert not any(f.startswith(("run/", "ingest/", "book/")) for f in files)
    assert not files & {"report/publish.py", "report/plots.py", "analysis/network.py"}


def test_a_module_that_names_a_resource_depends_on_it(tmp_path):
    pkg = tmp_path / "compendium"
    (pkg / "resources").mkdir(parents=True)
    (pkg / "resources" / "table.csv").write_text("a\n1\n")
    (pkg / "resources" / "other.csv").write_text("b\n2\n")
    (pkg / "__init__.py").write_text("")
    (pkg / "paths.py").write_text(
        "from pathlib import Path\nRESOURCES_DIR = Path(__file__).parent / 'resources'\n"
        "TABLE = RESOURCES_DIR / 'table.csv'\nOTHER = RESOURCES_DIR / 'other.csv'\n"
    )
    (pkg / "reader.py").write_text("from .paths import TABLE\n")
    (pkg / "by_name.py").write_text("NAME = 'other.csv'\n")
    (pkg / "user.py").write_text("from . import reader\n")
    g = deps.import_graph(pkg)
    closure = g.closure(["compendium.user"])
    assert closure == {"compendium", "compendium.user", "compendium.reader", "compendium.paths"}
    assert {p.name for p in g.files_of(closure)} == {
        "__init__.py",
        "user.py",
        "reader.py",
        "paths.py",
        "table.csv",
    }
    assert {p.name for p in g.files_of(["compendium.by_name"])} == {"by_name.py", "other.csv"}


def test_the_graph_sees_an_edit(tmp_path):
    pkg = tmp_path / "compendium"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "paths.py").write_text("")
    (pkg / "a.py").write_text("x = 1\n")
    (pkg / "b.py").write_text("y = 2\n")
    assert deps.import_graph(pkg).imports["compendium.a"] == frozenset()
    (pkg / "a.py").write_text("from . import b\nx = 1\n")
    assert deps.import_graph(pkg).imports["compendium.a"] == {"compendium.b"}


def test_an_unknown_root_is_refused(graph):
    with pytest.raises(KeyError, match="not a module"):
        graph.closure(["compendium.nowhere"])
