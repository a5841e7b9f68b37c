"""``compendium status``: what is out of date, and why, without running any notebook."""

from __future__ import annotations

import sys

from ._common import add_data_option, user_paths


def add_arguments(parser):
    add_data_option(parser)


def print_stale(runs) -> None:
    """One line per stale run with its reason (:class:`compendium.build.stale.StaleRun`)."""
    if not runs:
        print("up to date: nothing would run")
        return
    print(f"{len(runs)} run(s) out of date:")
    width = max(len(stale.label) for stale in runs)
    for stale in runs:
        print(f"  {stale.label:<{width}}  {stale.reason}")


def run(args) -> int:
    from ..build.stale import PlanningFailed, out_of_date
    from ..data.problems import DataPackageError

    try:
        runs = out_of_date(user_paths(args))
    except DataPackageError as err:
        for p in err.problems:
            print(p, file=sys.stderr)
        return 1
    except PlanningFailed as err:
        print(err, file=sys.stderr)
        return 1
    print_stale(runs)
    return 0
