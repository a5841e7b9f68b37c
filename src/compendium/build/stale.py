"""What a build would run, and why: Snakemake's dry run, told in the domain's words.

``compendium status`` lists these runs; ``compendium build --dry-run`` too, once it
has taken the build's lock and checked the data.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from ..paths import ProjectPaths


@dataclass(frozen=True)
class StaleRun:
    """One run that is out of date: its label (``network_profile[rural_001]``) and why."""

    label: str
    reason: str


class PlanningFailed(RuntimeError):
    """Snakemake could not plan the build; the message names its log."""


def stale_runs(paths: ProjectPaths, cmd: list[str], log_path: Path) -> list[StaleRun]:
    """The runs Snakemake's dry run ``cmd`` would start, each with its reason.

    Parameters
    ----------
    paths : ProjectPaths
        The build, to name the changed files in its own words.
    cmd : list of str
        A Snakemake command line with ``--dry-run``.
    log_path : Path
        Where Snakemake's output is kept.

    Raises
    ------
    PlanningFailed
        When Snakemake fails.
    """
    from .orchestrate import describe_reason, run_snakemake

    started = []

    def collect(event):
        if event.kind == "started":
            started.append(event.job)

    if run_snakemake(cmd, log_path, collect) != 0:
        raise PlanningFailed(f"could not plan the build; see {log_path}")
    return [
        StaleRun(job.label, describe_reason(job.reason, paths))
        for job in started
        if job.rule != "all"
    ]


def out_of_date(paths: ProjectPaths) -> list[StaleRun]:
    """Validate and slice the data package, then list what a build would run and why.

    Raises
    ------
    DataPackageError
        When the data package is invalid; nothing has been written then.
    PlanningFailed
        When Snakemake fails.
    """
    from .orchestrate import snakemake_command
    from .plan import prepare

    prepare(paths)
    cmd = snakemake_command(paths, dry_run=True)
    return stale_runs(paths, cmd, paths.logs_dir / f"status-{time.strftime('%Y%m%dT%H%M%S')}.log")
