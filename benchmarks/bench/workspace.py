"""Temporary projects for the builds: a snapshot of the package source, copies of the project.

A build in a workspace never sees an edit someone makes to ``src/`` while the benchmark runs:
its ``PYTHONPATH`` puts the snapshot ahead of the editable install.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from .build_log import started_jobs
from .processes import PYTHON, require_ok, timed


class Workspace:
    """A temporary folder with a snapshot of the package source and project copies.

    Parameters
    ----------
    source : Path
        The project measured (with ``src/``, ``notebooks/``, ``workflow/``, ``book/``).
    keep : bool
        Keep the folder (and each scaling project) when done.
    live_source : bool
        Import the installed package instead of a snapshot of ``source``'s ``src/``.
    """

    def __init__(self, source: Path, keep: bool = False, live_source: bool = False):
        self.source = source
        self.dir = Path(tempfile.mkdtemp(prefix="compendium-bench-"))
        self.keep = keep
        self.env = {
            k: v for k, v in os.environ.items() if k not in ("COMPENDIUM_DATA", "COMPENDIUM_ROOT")
        }
        self.env["PYTHONUNBUFFERED"] = "1"
        if not live_source:
            src = self.dir / "src"
            shutil.copytree(
                source / "src" / "compendium",
                src / "compendium",
                ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
            )
            # ahead of the editable install's path entry: builds and kernels import the snapshot
            self.env["PYTHONPATH"] = os.pathsep.join(
                [str(src), *filter(None, [os.environ.get("PYTHONPATH")])]
            )
        check = subprocess.run(
            [
                PYTHON,
                "-c",
                "import compendium, compendium.report.plots, compendium.analysis.models; "
                "print(compendium.__file__)",
            ],
            env=self.env,
            capture_output=True,
            text=True,
        )
        if check.returncode != 0:
            raise SystemExit(f"cannot import the package snapshot:\n{check.stderr}")
        self.package_file = check.stdout.strip()  # (also compiles the snapshot's bytecode)
        self.n = 0

    def project(self, name: str, data: Path | None = None, networks: int | None = None) -> Path:
        """A new copy of the project, with a copy of ``data`` or a synthetic package.

        Parameters
        ----------
        name : str
            Its folder's name (after a sequence number).
        data : Path, optional
            A data package to copy in.
        networks : int, optional
            Without ``data``: the networks of the ``compendium synth`` package generated.

        Returns
        -------
        Path
            The project's root (its ``COMPENDIUM_ROOT``).
        """
        self.n += 1
        root = self.dir / f"{self.n:02d}-{name}"
        for folder in ("notebooks", "workflow", "book"):
            shutil.copytree(
                self.source / folder, root / folder, ignore=shutil.ignore_patterns("_build", ".*")
            )
        if data is not None:
            shutil.copytree(data, root / "data")
        else:
            r = timed(
                [
                    PYTHON,
                    "-m",
                    "compendium",
                    "synth",
                    "--seed",
                    "7",
                    "--networks",
                    str(networks),
                    "--out",
                    str(root / "data"),
                ],
                self.env,
                root / "synth.log",
            )
            require_ok(r, f"compendium synth --networks {networks}")
        return root

    def env_for(self, root: Path) -> dict:
        """The workspace's environment with ``COMPENDIUM_ROOT`` at ``root``."""
        return {**self.env, "COMPENDIUM_ROOT": str(root)}

    def build(self, root: Path, label: str, memory: bool = False, extra: list[str] = ()) -> dict:
        """``compendium build --cores 2`` in ``root``, timed; stops the benchmark if it fails.

        Returns
        -------
        dict
            What :func:`~bench.processes.timed` returns, with ``jobs``: the jobs started.
        """
        log = root / "bench-logs" / f"{label}.log"
        r = timed(
            [PYTHON, "-m", "compendium", "build", "--cores", "2", *extra],
            self.env_for(root),
            log,
            memory=memory,
        )
        require_ok(r, f"compendium build ({label}) in {root}")
        r["jobs"] = started_jobs(r["output"])
        return r

    def close(self):
        """Remove the folder, unless asked to keep it."""
        if not self.keep:
            shutil.rmtree(self.dir, ignore_errors=True)


def edit_population(root: Path, bump: int) -> str:
    """Change the population of the data's second network; return its network_id."""
    path = root / "data" / "networks.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    cells = lines[2].split(",")
    i = header.index("population")
    cells[i] = str(int(cells[i]) + bump)
    lines[2] = ",".join(cells)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return cells[header.index("network_id")]
