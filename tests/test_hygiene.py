"""What is committed stays clean: notebooks without outputs, no real data-package rows, and
code that passes the linter and the formatter the pre-commit hooks run."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import REPO, edit_cell

SCRIPT = REPO / "scripts" / "check_no_real_data.py"
NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_committed_notebooks_carry_no_outputs_or_execution_counts(notebook):
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    dirty = [
        f"cell {i}: {len(c.get('outputs', []))} output(s), execution_count "
        f"{c.get('execution_count')}"
        for i, c in enumerate(cells)
        if c["cell_type"] == "code" and (c.get("outputs") or c.get("execution_count") is not None)
    ]
    assert not dirty, f"{notebook.name} was committed executed (run nbstripout): {dirty}"


def test_there_are_notebooks_to_check():
    assert len(NOTEBOOKS) >= 3  # network_profile, setting_comparison, overview at least


def check(*paths: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *map(str, paths)],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=60,
    )


def test_the_committed_default_data_may_be_committed():
    proc = check(*sorted((REPO / "data").glob("*.csv")))
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "", "")


def test_a_package_with_one_real_row_may_not(package_copy):
    edit_cell(package_copy / "networks.csv", 3, "synthetic", "false")
    proc = check(*sorted(package_copy.glob("*.csv")))
    assert proc.returncode == 1
    assert proc.stdout.splitlines() == [
        f"{package_copy / 'networks.csv'}, row 3, column synthetic: 'false' is not true; "
        "real data must stay outside the repository"
    ]


def test_only_an_explicit_true_passes(tmp_path):
    table = tmp_path / "informants.csv"
    table.write_text("informant_id,synthetic\na,TRUE\nb,\nc,no\n\nd,yes\ne,1\n", encoding="utf-8")
    no_column = tmp_path / "codebook.csv"
    no_column.write_text("code,label\nx,X\n", encoding="utf-8")
    latin1 = tmp_path / "ties.csv"
    latin1.write_bytes("name,synthetic\nMontr\xe9al,true\n".encode("latin-1"))
    proc = check(table, no_column, latin1)
    assert proc.returncode == 1
    assert proc.stdout.splitlines() == [
        f"{table}, row 3, column synthetic: '' is not true; real data must stay outside the "
        "repository",
        f"{table}, row 4, column synthetic: 'no' is not true; real data must stay outside the "
        "repository",
        f"{latin1}: not UTF-8, so whether its rows are synthetic cannot be checked",
    ]
    assert check(no_column).returncode == 0


@pytest.mark.parametrize("command", [["check"], ["format", "--check"]], ids=["lint", "format"])
def test_the_code_passes_ruff(command):
    proc = subprocess.run(
        [sys.executable, "-m", "ruff", *command, "src", "tests", "scripts", "benchmarks"],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
