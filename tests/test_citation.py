"""CITATION.cff is valid Citation File Format 1.2.0 and agrees with the package and licences.

cffconvert pins jsonschema<4, which the project's environment cannot take, so `make setup`
installs it in its own environment, .venv/tools (requirements-tools.lock).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

from .conftest import REPO

CITATION = REPO / "CITATION.cff"


def cffconvert() -> str:
    tools = Path(sys.prefix) / "tools" / "bin" / "cffconvert"
    found = str(tools) if tools.exists() else shutil.which("cffconvert")
    if found is None:
        pytest.fail(
            "cffconvert is not installed: `make setup` installs it into .venv/tools "
            "(requirements-tools.lock); or `pip install cffconvert==2.0.0` in a separate venv "
            "and put it on PATH"
        )
    return found


def validate(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [cffconvert(), "--validate", "--infile", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_citation_file_is_valid_cff_1_2_0():
    proc = validate(CITATION)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Citation metadata are valid according to schema version 1.2.0." in proc.stdout


def test_the_validator_rejects_a_broken_copy(tmp_path):
    # so that the test above cannot pass with a validator that accepts anything
    broken = tmp_path / "CITATION.cff"
    broken.write_text(
        CITATION.read_text(encoding="utf-8").replace("license: MIT", "license: MIT-ish"),
        encoding="utf-8",
    )
    proc = validate(broken)
    assert proc.returncode != 0
    assert "'MIT-ish' is not one of" in proc.stderr


def test_citation_agrees_with_the_package_and_the_licences():
    cff = yaml.safe_load(CITATION.read_text(encoding="utf-8"))
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert cff["cff-version"] == "1.2.0" and cff["type"] == "software"
    assert cff["version"] == project["version"] == "0.1.0"
    assert str(cff["date-released"]) == "2026-11-23"
    assert cff["authors"] == [{"name": "The compendium contributors"}]
    assert cff["license"] == "MIT" and project["license"]["text"].startswith("MIT (code)")
    assert "repository-code" not in cff  # no public repository yet
    licence = (REPO / "LICENSE").read_text(encoding="utf-8")
    assert licence.startswith("MIT License\n")
    assert "Copyright (c) 2026 The compendium contributors" in licence
    data_licence = (REPO / "LICENSE-data").read_text(encoding="utf-8")
    assert "https://creativecommons.org/licenses/by/4.0/legalcode" in data_licence
