"""``compendium status``: what is out of date, and why, without running any notebook."""

from __future__ import annotations

import sys
import time

from ._common import add_data_option, user_paths


def add_arguments(parser):
    add_data_option(parser)


def print_stale(paths, cmd, log_path) -> int:
    """Run Snakemake's dry run and print one line per stale job with its reason."""
    from ..build.orchestrate import describe_reason, run_snakemake

    stale = []
    up_to_date = []

    def collect(event):
        if event.kind == "started":
            stale.append(event.job)
        elif event.kind == "up-to-date":
            up_to_date.append(True)

    rc = run_snakemake(cmd, log_path, collect)
    if rc != 0:
        print(f"could not plan the build; see {log_path}", file=sys.stderr)
        return 1
    jobs = [j for j in stale if j.rule != "all"]
    if not jobs:
        print("up to date: nothing would run")
        return 0
    print(f"{len(jobs)} run(s) out of date:")
    width = max(len(j.label) for j in jobs)
    for job in jobs:
        print(f"  {job.label:<{width}}  {describe_reason(job.reason, paths)}")
    return 0


def run(args) -> int:
    from ..build.orchestrate import snakemake_command
    from ..build.plan import prepare
    from ..data.problems import DataPackageError

    paths = user_paths(args)
    try:
        prepare(paths)
    except DataPackageError as err:
        for p in err.problems:
            print(p, file=sys.stderr)
        return 1
    cmd = snakemake_command(paths, dry_run=True)
    return print_stale(paths, cmd, paths.logs_dir / f"status-{time.strftime('%Y%m%dT%H%M%S')}.log")
