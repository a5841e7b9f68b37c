"""``compendium synth``: write a seeded synthetic data package."""

from __future__ import annotations

from pathlib import Path


def add_arguments(parser):
    from ..ingest.synth import DEFAULT_SEED

    parser.add_argument(
        "--seed", type=int, default=DEFAULT_SEED, help=f"random seed (default {DEFAULT_SEED})"
    )
    parser.add_argument(
        "--networks", type=int, default=6, help="number of networks (default 6, as the study)"
    )
    parser.add_argument(
        "--out", type=Path, default=None, help="output folder (default: the repository's data/)"
    )


def run(args) -> int:
    from compendium.paths import default_paths

    from ..ingest.synth import write_checked

    if args.networks < 1:
        print("--networks must be at least 1")
        return 2
    out = args.out or default_paths().data_dir
    problems = write_checked(out, seed=args.seed, n_networks=args.networks)
    if problems:
        for p in problems:
            print(p)
        return 1
    print(f"wrote a synthetic data package (seed {args.seed}, {args.networks} networks) to {out}")
    return 0
