"""``compendium import-qda FILE``: import a REFI-QDA project or codebook into the data package."""

from __future__ import annotations

import sys
from pathlib import Path

#: Problems printed before the rest are only counted (a codebook that misses a code can
#: make every row of coded_segments.csv a problem).
MAX_PROBLEMS_SHOWN = 30


def add_arguments(parser):
    parser.add_argument(
        "file",
        type=Path,
        metavar="FILE",
        help="a REFI-QDA project (.qdpx: replaces codebook.csv and coded_segments.csv) "
        "or codebook (.qdc: replaces codebook.csv)",
    )
    parser.add_argument(
        "--data",
        type=Path,
        metavar="DIR",
        help="data package to import into (default: $COMPENDIUM_DATA, else the repository's data/)",
    )
    parser.add_argument(
        "--mapping",
        type=Path,
        action="append",
        default=[],
        metavar="CSV",
        help="mapping file, by its header: source_name,informant_id (interviews to informants), "
        "code_name,code,category (codes to identifiers and categories) or user_name,coder_id "
        "(users to pseudonymous coders); may be given several times",
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="check and summarize the import; write nothing"
    )


def _print_problems(problems) -> None:
    for p in problems[:MAX_PROBLEMS_SHOWN]:
        print(p, file=sys.stderr)
    if len(problems) > MAX_PROBLEMS_SHOWN:
        print(f"… and {len(problems) - MAX_PROBLEMS_SHOWN} more problem(s)", file=sys.stderr)


def run(args) -> int:
    from compendium.paths import default_paths, is_committed_data

    from ..ingest.refi import QdaError, read

    data_dir = default_paths(args.data).data_dir
    if not data_dir.is_dir():
        print(f"{data_dir}: not a folder", file=sys.stderr)
        return 1
    try:
        qda = read(args.file)  # before pandas and the schema load: a bad file is refused at once
    except QdaError as err:
        _print_problems(err.problems)
        print(f"nothing imported from {args.file}", file=sys.stderr)
        return 1

    from ..data.problems import DataPackageError
    from ..ingest.qda import import_file

    try:
        result = import_file(args.file, data_dir, args.mapping, dry_run=args.dry_run, qda=qda)
    except QdaError as err:
        _print_problems(err.problems)
        print(f"nothing imported from {args.file}", file=sys.stderr)
        return 1
    except DataPackageError as err:
        _print_problems(err.problems)
        print(
            f"nothing imported: {data_dir} would not be valid with the tables of {args.file}",
            file=sys.stderr,
        )
        return 1

    print(
        f"{args.file}: {len(result.codebook)} code(s), {result.n_top_level_codes} at the top level"
    )
    seg = result.segments
    if seg is not None:
        print(
            f"{len(seg.table)} coded segment row(s) from {seg.n_selections} coded selection(s) "
            f"of {seg.n_informants} informant(s), by {len(seg.coders)} "
            f"coder(s): {', '.join(seg.coders)}"
        )
        if seg.n_split:
            print(
                f"{seg.n_split} segment(s) had several codes from one coder: split into one "
                "segment per code (see compendium.ingest.qda)"
            )
    for what, n in sorted(result.qda.skipped.items()):
        print(f"left out: {n} {what}")
    names = ", ".join(p.name for p in result.written) or "nothing (no change)"
    if args.dry_run:
        print(f"dry run: would write {names} in {data_dir}; nothing written")
        return 0
    print(f"wrote {names} in {data_dir}")
    if seg is not None and is_committed_data(data_dir):
        print(
            "note: the imported coding is marked synthetic=false and this is the repository's "
            "committed data/; keep real data outside the repository (see README), the "
            "pre-commit hook refuses to commit it",
            file=sys.stderr,
        )
    return 0
