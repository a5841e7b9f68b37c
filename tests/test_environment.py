"""environment.yml (conda/Binder) asks for the same packages, with the same bounds, as pyproject."""

from __future__ import annotations

import re
import tomllib

import yaml

from .conftest import REPO


def _normalize(spec: str) -> tuple[str, str]:
    name, bounds = re.match(r"^([A-Za-z0-9_.\-]+)\s*(.*)$", spec.strip()).groups()
    return name.lower().replace("_", "-"), bounds.replace(" ", "")


def test_environment_mirrors_pyproject():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    wanted = dict(
        _normalize(s) for s in project["dependencies"] + project["optional-dependencies"]["dev"]
    )
    env = yaml.safe_load((REPO / "environment.yml").read_text())
    conda = dict(_normalize(s) for s in env["dependencies"] if isinstance(s, str))
    python = conda.pop("python")
    conda.pop("pip")
    assert python == "=3.11" and project["requires-python"] == ">=3.11,<3.12"
    assert conda == wanted


def test_lock_pins_every_direct_dependency():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    names = {
        _normalize(s)[0] for s in project["dependencies"] + project["optional-dependencies"]["dev"]
    }
    pinned = {
        _normalize(line.split("==")[0])[0]
        for line in (REPO / "requirements.lock").read_text().splitlines()
        if "==" in line and not line.startswith("#")
    }
    assert names <= pinned, sorted(names - pinned)
