"""Builds of the default data package: the naive way, clean, no-op, one edit, and the edit's floor.

* naive: every notebook in series with the papermill CLI (the build's parameters), then
  ``jupyter-book build`` (execution off) on the same book sources: the reference;
* clean: ``compendium build`` (6 networks: 13 notebooks, then the book): ≤ 0.60 × naive;
* no-op: the same build again: ≤ 0.10 × clean;
* edit: after one network's population changes: ≤ 0.40 × clean; two more rows show its
  floor (benchmarks/README.md).
"""

from __future__ import annotations

import os
import shutil
import statistics
import sys
import time
from pathlib import Path

from .build_log import job_seconds, notebook_span
from .goals import GB, GOALS
from .processes import PYTHON, require_ok, timed
from .workspace import Workspace, edit_population


def naive(ws: Workspace, root: Path, book_sources: Path, scratch: Path) -> dict:
    """Every notebook with the papermill CLI, in series; then jupyter-book on the same sources.

    Parameters
    ----------
    ws : Workspace
        Its environment (and package snapshot) run the notebooks.
    root : Path
        The project, with its data.
    book_sources : Path
        The book sources a build staged (copied: the build's own are left as they are).
    scratch : Path
        Where the executed notebooks, their folders and logs go.

    Returns
    -------
    dict
        ``seconds`` (notebooks and book), ``notebooks_seconds``, ``book_seconds``,
        ``per_notebook`` and ``n_notebooks``.
    """
    import yaml

    # the plan and the notebooks' parameters as the snapshot computes them
    sys.path.insert(0, str(Path(ws.package_file).parent.parent))
    from compendium.data.plan import read_plan
    from compendium.paths import CROSS_NETWORK, default_paths
    from compendium.run.notebook_job import template_and_parameters

    os.environ["COMPENDIUM_ROOT"] = str(root)
    try:
        paths = default_paths()
    finally:
        del os.environ["COMPENDIUM_ROOT"]
    plan = read_plan(paths)
    runs = [("network", n) for n in sorted(plan.networks)]
    runs += [("setting", s) for s in plan.settings] + [("cross", c) for c in CROSS_NETWORK]
    scratch.mkdir(parents=True, exist_ok=True)
    env = ws.env_for(root)
    t0 = time.monotonic()
    per_notebook = []
    for kind, target in runs:
        template, params = template_and_parameters(paths, plan, kind, target)
        cwd = paths.build_dir  # the parameters' data folders are relative to it
        cmd = [
            PYTHON,
            "-m",
            "papermill",
            str(template),
            str(scratch / f"{kind}-{target}.ipynb"),
            "-k",
            "compendium",
            "--cwd",
            str(cwd),
            "--no-progress-bar",
            "-y",
            yaml.safe_dump(params),
        ]
        r = timed(cmd, env, scratch / f"{kind}-{target}.log")
        require_ok(r, f"papermill {template.name} {target}")
        per_notebook.append(r["seconds"])
    notebooks_seconds = time.monotonic() - t0
    book = scratch / "book"
    shutil.copytree(book_sources, book, ignore=shutil.ignore_patterns("_build"))
    r = timed(
        [
            PYTHON,
            "-c",
            "from jupyter_book.cli.main import main; main()",
            "build",
            str(book),
            "--builder",
            "html",
        ],
        env,
        scratch / "jupyter-book.log",
    )
    require_ok(r, "jupyter-book build (naive)")
    return {
        "seconds": notebooks_seconds + r["seconds"],
        "notebooks_seconds": notebooks_seconds,
        "book_seconds": r["seconds"],
        "per_notebook": per_notebook,
        "n_notebooks": len(runs),
    }


def run(ws: Workspace, repeat: int, data: Path) -> dict:
    """Clean, no-op, edit and naive, ``repeat`` times, each repetition in a new project.

    Parameters
    ----------
    ws : Workspace
        Where the projects go.
    repeat : int
        Repetitions.
    data : Path
        The data package to copy into each project.

    Returns
    -------
    dict
        The seconds of each repetition by scenario (``naive``, ``clean``, ``noop``,
        ``edit``) and ``runs``: each repetition's details.
    """
    out = {"naive": [], "clean": [], "noop": [], "edit": [], "runs": []}
    for rep in range(repeat):
        root = ws.project(f"default-{rep}", data=data)
        clean = ws.build(root, "clean", memory=True)
        # the naive run needs the book sources as the clean build staged them
        stage = root.parent / f"{root.name}-book-sources"
        shutil.copytree(root / "build" / "book", stage, ignore=shutil.ignore_patterns("_build"))
        noop = ws.build(root, "noop")
        if "nothing ran" not in noop["output"]:
            print(f"  warning: the no-op build ran {noop['jobs']}", file=sys.stderr)
        network_id = edit_population(root, 1000 + rep)
        edit = ws.build(root, "edit")
        nv = naive(ws, root, stage, root.parent / f"{root.name}-naive")
        out["clean"].append(clean["seconds"])
        out["noop"].append(noop["seconds"])
        out["edit"].append(edit["seconds"])
        out["naive"].append(nv["seconds"])
        out["runs"].append(
            {
                "clean": {
                    k: clean[k]
                    for k in (
                        "seconds",
                        "peak_rss",
                        "peak_pss",
                        "jobs",
                        "peak_rss_by_role",
                        "cpu_by_role",
                    )
                },
                "noop": {k: noop[k] for k in ("seconds", "jobs")},
                "edit": {
                    "seconds": edit["seconds"],
                    "jobs": edit["jobs"],
                    "network": network_id,
                    "notebook_span": notebook_span(edit["output"]),
                    "job_seconds": job_seconds(edit["output"]),
                },
                "naive": nv,
                "clean_job_seconds": job_seconds(clean["output"]),
                "clean_notebook_span": notebook_span(clean["output"]),
            }
        )
        print(
            f"  rep {rep + 1}/{repeat}: naive {nv['seconds']:.1f}s, clean {clean['seconds']:.1f}s, "
            f"no-op {noop['seconds']:.1f}s, edit {edit['seconds']:.1f}s",
            file=sys.stderr,
        )
    return out


def table_rows(d: dict) -> list[tuple]:
    """The table's rows for :func:`run`'s results; adds their ``floor`` and ``medians`` to ``d``.

    Returns
    -------
    list of tuple
        ``(scenario, seconds, ratio, goal, pass)`` rows (:mod:`bench.report`).
    """
    naive_s, clean_s = statistics.median(d["naive"]), statistics.median(d["clean"])
    noop_s, edit_s = statistics.median(d["noop"]), statistics.median(d["edit"])
    peak = max(r["clean"]["peak_rss"] for r in d["runs"])
    table = [
        ("naive: papermill CLI in series + jupyter-book", naive_s, None, "reference", None),
        (
            "clean build (compendium build, 2 cores)",
            clean_s,
            clean_s / naive_s,
            f"<= {GOALS['clean']:.2f} x naive",
            clean_s / naive_s <= GOALS["clean"],
        ),
        (
            "no-op rebuild",
            noop_s,
            noop_s / clean_s,
            f"<= {GOALS['noop']:.2f} x clean",
            noop_s / clean_s <= GOALS["noop"],
        ),
        (
            "rebuild after editing one network",
            edit_s,
            edit_s / clean_s,
            f"<= {GOALS['edit']:.2f} x clean",
            edit_s / clean_s <= GOALS["edit"],
        ),
        ("  clean build peak RSS, process tree (GB)", peak / GB, None, "info", None),
    ]
    # The edit's floor (see benchmarks/README.md). edit / clean is a weighted mean of
    # two ratios: outside the notebooks (start-up, book, end) and the notebooks' span.
    # When both exceed the goal, no uniform speed-up of either part can meet it.
    spans = [r["edit"]["notebook_span"] for r in d["runs"]]
    clean_spans = [r["clean_notebook_span"] for r in d["runs"]]
    outside = statistics.median(e - sp for e, sp in zip(d["edit"], spans, strict=True))
    clean_outside = statistics.median(c - sp for c, sp in zip(d["clean"], clean_spans, strict=True))
    span, clean_span = statistics.median(spans), statistics.median(clean_spans)
    d["floor"] = {
        "edit_outside_notebooks": outside,
        "clean_outside_notebooks": clean_outside,
        "edit_notebook_span": span,
        "clean_notebook_span": clean_span,
    }
    table += [
        (
            "  edit vs clean outside the notebooks (start-up, book, end)",
            outside,
            outside / clean_outside,
            "floor (info)",
            None,
        ),
        (
            "  edit vs clean, notebooks' span (5 of 13 notebooks re-run)",
            span,
            span / clean_span,
            "floor (info)",
            None,
        ),
    ]
    d["medians"] = {"naive": naive_s, "clean": clean_s, "noop": noop_s, "edit": edit_s}
    return table
