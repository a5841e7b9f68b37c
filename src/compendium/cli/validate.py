"""``compendium validate [DATA_DIR]``: check a data package without writing anything."""

from __future__ import annotations

import sys
from pathlib import Path


def add_arguments(parser):
    parser.add_argument(
        "data_dir",
        nargs="?",
        type=Path,
        help="data package folder (default: the repository's data/)",
    )


def run(args) -> int:
    from compendium.paths import default_paths

    from ..data.validate import validate

    data_dir = args.data_dir or default_paths().data_dir
    if not data_dir.is_dir():
        print(f"{data_dir}: not a folder", file=sys.stderr)
        return 1
    problems = validate(data_dir)
    for p in problems:
        print(p, file=sys.stderr)
    if problems:
        print(f"{len(problems)} problem(s); the data package is not valid", file=sys.stderr)
        return 1
    print(f"{data_dir}: valid")
    return 0
