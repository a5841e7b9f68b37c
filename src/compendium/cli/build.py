"""``compendium build``: run what is out of date and build the book, with progress."""

from __future__ import annotations

import sys

from ._common import add_data_option, user_paths


def add_arguments(parser):
    add_data_option(parser)
    parser.add_argument("--cores", type=int, default=2, help="notebooks run at once (default 2)")
    parser.add_argument(
        "--network",
        nargs="+",
        metavar="ID",
        default=None,
        help="run only these networks' notebooks (the book is not rebuilt)",
    )
    parser.add_argument("--dry-run", action="store_true", help="list what would run, run nothing")
    parser.add_argument(
        "--force", action="store_true", help="re-run everything, even what is up to date"
    )
    parser.add_argument(
        "--profile",
        metavar="PATH",
        default=None,
        help="Snakemake profile that runs the notebooks elsewhere, e.g. profiles/slurm "
        "(each notebook becomes a SLURM job; --cores then only limits local work)",
    )


def print_failure(result) -> None:
    """What failed, where the log is, and whether the last good book is still there."""
    print(file=sys.stderr)
    for text in result.failures:
        print(text, file=sys.stderr)
    if not result.failures:
        print(
            f"the workflow failed ({', '.join(result.failed_rules) or 'see log'})",
            file=sys.stderr,
        )
    print(
        f"build FAILED after {result.elapsed:.0f}s; workflow log: {result.log_path}",
        file=sys.stderr,
    )
    if result.last_good_book is not None:
        print(f"the last good book is unchanged: {result.last_good_book}", file=sys.stderr)


def run(args) -> int:
    from ..build.driver import BuildOptions, BuildRefused, build
    from .status import print_stale

    paths = user_paths(args)
    options = BuildOptions(
        cores=args.cores,
        networks=args.network,
        dry_run=args.dry_run,
        force=args.force,
        profile=args.profile,
    )
    try:
        result = build(paths, options)
    except BuildRefused as err:
        for line in err.lines:
            print(line, file=sys.stderr)
        return err.exit_code
    if result.stale is not None:
        print_stale(result.stale)
        return 0
    if not result.ok:
        print_failure(result)
        return 1
    if result.up_to_date:
        print("everything is up to date; nothing ran")
    if result.networks_only:
        print(
            f"ran {result.jobs_done} job(s) in {result.elapsed:.0f}s; "
            f"executed notebooks in {paths.executed_dir}"
        )
    else:
        print(f"built in {result.elapsed:.0f}s; the book: {paths.html_dir / 'index.html'}")
    return 0
