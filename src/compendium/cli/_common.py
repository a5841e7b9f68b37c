"""Options shared by several subcommands."""

from __future__ import annotations

import argparse
from pathlib import Path

from compendium.paths import ProjectPaths, default_paths


def add_data_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data",
        metavar="PATH",
        help="data package to use (default: $COMPENDIUM_DATA, else the repository's data/); "
        "a package outside the repository builds into private-builds/, which git ignores",
    )


def add_internal_paths(parser: argparse.ArgumentParser) -> None:
    """The workflow passes every root explicitly, so a job never guesses a path."""
    for name in ("root", "data", "build", "html"):
        parser.add_argument(f"--{name}", required=True, type=Path)


def internal_paths(args: argparse.Namespace) -> ProjectPaths:
    return ProjectPaths(
        root=args.root, data_dir=args.data, build_dir=args.build, html_dir=args.html
    )


def user_paths(args: argparse.Namespace) -> ProjectPaths:
    return default_paths(getattr(args, "data", None))
