"""Where a notebook's time goes (no goal): start-ups, imports, kernels, papermill, Sphinx.

Each row is the median of a few runs of one command, in a project built once beforehand.
"""

from __future__ import annotations

import json
import re
import shutil
import statistics
from pathlib import Path

from .build_log import job_seconds
from .processes import PYTHON, require_ok, timed
from .workspace import Workspace


def run(ws: Workspace, data: Path) -> dict:
    """Build a project of ``data`` once, then :func:`breakdown` in it."""
    root = ws.project("breakdown", data=data)
    ws.build(root, "clean")
    return breakdown(ws, root)


def breakdown(ws: Workspace, root: Path) -> dict:
    """Where a notebook's time goes: start-ups, imports, kernels, the papermill CLI, Sphinx.

    Parameters
    ----------
    ws : Workspace
        Its environment runs the commands; its folder holds their logs.
    root : Path
        A project built once (its staged book and its build log are read).

    Returns
    -------
    dict
        Median seconds by what was measured.
    """
    env = ws.env_for(root)
    scratch = ws.dir / "breakdown"
    scratch.mkdir(exist_ok=True)

    def t(label, cmd, reps=3):
        secs = []
        for i in range(reps):
            r = timed(cmd, env, scratch / f"{label}-{i}.log")
            require_ok(r, label)
            secs.append(r["seconds"])
        return statistics.median(secs)

    rows = {}
    rows["python -c pass"] = t("python", [PYTHON, "-c", "pass"])
    rows["import compendium.report.plots"] = t(
        "plots", [PYTHON, "-c", "import compendium.report.plots"]
    )
    rows["import what the notebooks import"] = t(
        "nbimports",
        [
            PYTHON,
            "-c",
            (
                "import IPython.display, myst_nb; from compendium.analysis import coding, "
                "integration, models, network, outcomes, policy, strategies, summary; "
                "from compendium.data import read, slices; "
                "from compendium.report import plots, prose, publish, sentences"
            ),
        ],
    )
    rows["compendium run-notebook --help (job client start)"] = t(
        "client", [PYTHON, "-m", "compendium", "run-notebook", "--help"]
    )
    rows["snakemake --version (Snakemake start)"] = t(
        "snakemake", [PYTHON, "-m", "snakemake", "--version"]
    )
    kernel_ready = []
    for i in range(3):
        r = timed(
            [
                PYTHON,
                "-c",
                (
                    "import time; from jupyter_client.manager import start_new_kernel; "
                    "t = time.time(); "
                    "km, kc = start_new_kernel(kernel_name='compendium'); print(time.time() - t); "
                    "kc.stop_channels(); km.shutdown_kernel(now=True)"
                ),
            ],
            env,
            scratch / f"kernel-{i}.log",
        )
        require_ok(r, "kernel start")
        kernel_ready.append(float(re.findall(r"^([\d.]+)$", r["output"], re.M)[-1]))
    rows["kernel start to ready (no imports)"] = statistics.median(kernel_ready)
    empty = scratch / "empty.ipynb"
    heavy = scratch / "heavy.ipynb"
    for path, code in (
        (empty, "x = 1"),
        (
            heavy,
            "import pandas, seaborn, statsmodels.api, networkx\n"
            "from compendium.report import plots\nfrom compendium.analysis import models",
        ),
    ):
        path.write_text(json.dumps(_notebook(code)))
    for label, path in (
        ("papermill CLI, almost empty notebook", empty),
        ("papermill CLI, pandas+seaborn+statsmodels+networkx", heavy),
    ):
        rows[label] = t(
            label[:20].replace(" ", "-"),
            [
                PYTHON,
                "-m",
                "papermill",
                str(path),
                str(scratch / "out.ipynb"),
                "-k",
                "compendium",
                "--no-progress-bar",
            ],
        )
    rows["compendium status (no-op: prepare + Snakemake DAG)"] = t(
        "status", [PYTHON, "-m", "compendium", "status"]
    )
    rows["jupyter-book build, nothing changed"] = t(
        "jb-noop",
        [
            PYTHON,
            "-c",
            "from jupyter_book.cli.main import main; main()",
            "build",
            str(root / "build" / "book"),
            "--builder",
            "html",
        ],
    )
    staged = scratch / "book-clean"
    shutil.copytree(root / "build" / "book", staged, ignore=shutil.ignore_patterns("_build"))
    rows["jupyter-book build, clean (16 pages)"] = t(
        "jb-clean",
        [
            PYTHON,
            "-c",
            "import shutil, sys; shutil.rmtree(sys.argv[1] + '/_build', ignore_errors=True); "
            "sys.argv = ['jb', 'build', sys.argv[1], '--builder', 'html']; "
            "from jupyter_book.cli.main import main; main()",
            str(staged),
        ],
        reps=1,
    )
    # one network notebook: papermill on a fresh kernel vs the build's warm kernels
    jobs = {}
    for log in (root / "bench-logs").glob("clean.log"):
        jobs = job_seconds(log.read_text())
    nets = [v for k, v in jobs.items() if k.startswith("network_profile")]
    if nets:
        rows["network notebook job in the build (median, warm kernels)"] = statistics.median(nets)
    return rows


def table_rows(rows: dict) -> list[tuple]:
    """The table's rows for :func:`run`'s result: information, no goal."""
    return [(f"  breakdown: {k}", v, None, "info", None) for k, v in rows.items()]


def _notebook(code: str) -> dict:
    """A notebook of one code cell, on the project's kernel."""
    return {
        "cells": [
            {
                "cell_type": "code",
                "execution_count": None,
                "metadata": {},
                "outputs": [],
                "source": code,
            }
        ],
        "metadata": {
            "kernelspec": {
                "name": "compendium",
                "display_name": "Python (compendium)",
                "language": "python",
            }
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }
