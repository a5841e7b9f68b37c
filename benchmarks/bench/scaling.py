"""Clean builds of ``compendium synth`` packages of 25 to 200 networks, and one edit at each size.

Goals: linear growth, ≤ 1.3 s per network notebook amortized and ≤ 2 GB peak memory (summed
RSS of the build's process tree) at the largest size; the edit ≤ 0.40 × clean at every size.
"""

from __future__ import annotations

import json
import shutil
import statistics
import sys
from pathlib import Path

from .build_log import job_seconds
from .goals import GB, GOALS
from .workspace import Workspace, edit_population


def run(ws: Workspace, sizes: list[int], repeat: int) -> list[dict]:
    """A clean build, then a rebuild after one network's edit, of each size.

    Parameters
    ----------
    ws : Workspace
        Where the projects go (each removed after its builds, unless kept).
    sizes : list of int
        Networks of the synthetic packages.
    repeat : int
        Repetitions of each size.

    Returns
    -------
    list of dict
        One row a build: ``networks``, ``seconds``, memory and CPU by kind of
        process, ``per_network``, and the edit's ``edit_seconds`` and ``edit_ratio``.
    """
    rows = []
    for n in sizes:
        for rep in range(repeat):
            root = ws.project(f"scaling-{n}-{rep}", networks=n)
            r = ws.build(root, f"clean-{n}", memory=True)
            n_settings = len(json.loads((root / "build" / "plan.json").read_text())["settings"])
            rows.append(
                {
                    "networks": n,
                    "seconds": r["seconds"],
                    "peak_rss": r["peak_rss"],
                    "peak_pss": r["peak_pss"],
                    "peak_processes": r["peak_processes"],
                    "peak_rss_by_role": r["peak_rss_by_role"],
                    "cpu_by_role": r["cpu_by_role"],
                    "job_seconds": job_seconds(r["output"]),
                    "peak_biggest": r["peak_biggest"],
                    "notebooks": n + n_settings + 4,
                    "per_network": r["seconds"] / n,
                    "jobs": len(r["jobs"]),
                }
            )
            # the edit goal again, at this size: one network's population changes
            network_id = edit_population(root, 1000 + rep)
            e = ws.build(root, f"edit-{n}")
            rows[-1].update(
                {
                    "edit_seconds": e["seconds"],
                    "edit_ratio": e["seconds"] / r["seconds"],
                    "edit_network": network_id,
                    "edit_jobs": len(e["jobs"]),
                }
            )
            print(
                f"  {n} networks: {r['seconds']:.1f}s ({r['seconds'] / n:.2f} s/network), "
                f"edit {e['seconds']:.1f}s ({e['seconds'] / r['seconds']:.2f} x clean), "
                f"peak RSS {r['peak_rss'] / GB:.2f} GB "
                f"({', '.join(f'{k} {v / GB:.2f}' for k, v in r['peak_rss_by_role'].items())}); "
                f"CPU s {r['cpu_by_role']}",
                file=sys.stderr,
            )
            if not ws.keep:
                shutil.rmtree(root, ignore_errors=True)
    return rows


def linear_fit(xs, ys):
    """Least-squares line through the points.

    Returns
    -------
    tuple of float
        Slope, intercept and R²; NaNs when the x values do not vary.
    """
    n = len(xs)
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    if n < 2 or sxx == 0:
        return float("nan"), float("nan"), float("nan")
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sxx
    intercept = my - slope * mx
    ss_res = sum((y - (intercept + slope * x)) ** 2 for x, y in zip(xs, ys, strict=True))
    ss_tot = sum((y - my) ** 2 for y in ys) or 1.0
    return slope, intercept, 1 - ss_res / ss_tot


def fit(rows: list[dict]) -> dict:
    """The clean builds' seconds against their networks: ``slope``, ``intercept``, ``r2``."""
    slope, intercept, r2 = linear_fit([r["networks"] for r in rows], [r["seconds"] for r in rows])
    return {"slope": slope, "intercept": intercept, "r2": r2}


def table_rows(rows: list[dict], line: dict, full: bool) -> list[tuple]:
    """The table's rows for :func:`run`'s builds and their :func:`fit`.

    Parameters
    ----------
    rows : list of dict
        What :func:`run` returned.
    line : dict
        What :func:`fit` returned for them.
    full : bool
        Whether the sizes are the goals' (else the goals at the largest size are not judged).

    Returns
    -------
    list of tuple
        ``(scenario, seconds, ratio, goal, pass)`` rows (:mod:`bench.report`).
    """
    xs = [r["networks"] for r in rows]
    big = [r for r in rows if r["networks"] == max(xs)]
    per = statistics.median(r["per_network"] for r in big)
    mem = max(r["peak_rss"] for r in rows)
    table = []
    for r in rows:
        table.append(
            (
                f"scaling: {r['networks']} networks ({r['notebooks']} notebooks)",
                r["seconds"],
                r["per_network"],
                "s/network (info)",
                None,
            )
        )
    for r in rows:
        table.append(
            (
                f"scaling: rebuild after editing one of {r['networks']} networks",
                r["edit_seconds"],
                r["edit_ratio"],
                f"<= {GOALS['edit']:.2f} x clean",
                r["edit_ratio"] <= GOALS["edit"],
            )
        )
    table += [
        (
            f"scaling: s per network notebook at {max(xs)} networks",
            per,
            None,
            f"<= {GOALS['per_notebook']} s",
            per <= GOALS["per_notebook"] if full else None,
        ),
        (
            "scaling: linear fit slope s/network (R²)",
            line["slope"],
            line["r2"],
            "R² >= 0.98",
            line["r2"] >= 0.98 if len(set(xs)) > 2 else None,
        ),
        (
            "scaling: peak RSS of the build's process tree (GB)",
            mem / GB,
            None,
            "<= 2 GB",
            mem <= GOALS["build_memory"] if full else None,
        ),
    ]
    return table


def plot(rows: list[dict], path: Path) -> None:
    """Build time and the edit's against the networks, and time per network notebook."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import pandas as pd
    import seaborn as sns

    df = pd.DataFrame(rows)
    sns.set_theme(style="whitegrid")
    fig, axes = plt.subplots(1, 2, figsize=(10, 4), constrained_layout=True)
    sns.lineplot(df, x="networks", y="seconds", marker="o", ax=axes[0], errorbar=None)
    slope, intercept, r2 = linear_fit(list(df["networks"]), list(df["seconds"]))
    xs = [df["networks"].min(), df["networks"].max()]
    axes[0].plot(
        xs,
        [intercept + slope * x for x in xs],
        ls="--",
        color="grey",
        label=f"linear fit: {slope:.2f} s/network, R² {r2:.3f}",
    )
    if "edit_seconds" in df:
        sns.lineplot(
            df,
            x="networks",
            y="edit_seconds",
            marker="s",
            ax=axes[0],
            errorbar=None,
            label="rebuild after editing one network",
        )
    axes[0].set(
        title="Clean build, and the rebuild after one edit", xlabel="networks", ylabel="seconds"
    )
    axes[0].legend(loc="upper left")
    sns.lineplot(df, x="networks", y="per_network", marker="o", ax=axes[1], errorbar=None)
    axes[1].axhline(GOALS["per_notebook"], ls="--", color="firebrick", label="goal: 1.3 s")
    axes[1].set(
        title="Amortized time per network notebook",
        xlabel="networks",
        ylabel="seconds per network",
        ylim=(0, None),
    )
    axes[1].legend(loc="upper right")
    fig.savefig(path, dpi=120)
    plt.close(fig)
