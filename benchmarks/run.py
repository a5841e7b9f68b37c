"""Speed and memory benchmarks of the compendium, with the goals they are held to.

Every scenario runs on generated data in temporary folders (a copy of
``notebooks/``, ``workflow/`` and ``book/`` with ``COMPENDIUM_ROOT`` pointing at
it, as the end-to-end tests do), and the package source is snapshotted into the
temporary folder first: a build then never sees an edit someone makes to
``src/`` while the benchmark runs. Builds run one after another; where
affordable each is repeated and the median is reported. The machine is shared,
so compare ratios measured within one run, not seconds across runs.

Scenarios (goals from the performance issue):

* ``naive``: the script a researcher would write: every notebook executed in
  series with the papermill CLI (same parameters as the build), then
  ``jupyter-book build`` (execution off) on the same book sources;
* ``clean``: ``compendium build`` of the default data package (6 networks:
  6 network, 3 setting and 4 cross-network notebooks, then the book):
  ≤ 0.60 × naive;
* ``no-op``: the same build again: ≤ 0.10 × clean;
* ``edit``: after one network's population changes: ≤ 0.40 × clean; two
  rows show its floor on the default data (what the rebuild costs outside its
  notebooks, and its notebooks' span beside the clean build's), and the
  scaling builds repeat the edit at each size;
* ``scaling``: clean builds of ``compendium synth`` packages of 25, 50, 100
  and 200 networks: linear growth, ≤ 1.3 s per network notebook amortized,
  peak memory ≤ 2 GB (sum of RSS over the build's process tree, sampled);
* ``coding``: frequencies, co-occurrence and Krippendorff's α on 1,000,000
  coded segments: ≤ 5 s;
* ``outcomes``: FUH-7/30, 30-day readmission, COC, UPC and story retold
  (``network_outcomes``, ``continuity_indices``,
  ``follow_up_after_hospitalization``) on 200,000 persons and 10,000,000
  service contacts: ≤ 60 s and ≤ 4 GB peak memory;
* ``breakdown`` rows (no goal): where a notebook's time goes.

Prints one table, writes ``benchmarks/results.json`` and the scaling plot
``benchmarks/scaling.png``, and exits 1 when a goal fails. This file parses the arguments
and runs the families chosen; each family (its scenarios, its table rows) is a module of
``benchmarks/bench/``.

Usage::

    python benchmarks/run.py                 # everything (about half an hour on 2 cores)
    python benchmarks/run.py --quick         # smaller sizes, one repetition (a few minutes)
    python benchmarks/run.py --repeat 5 --skip scaling
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from bench import breakdown, builds, coding, outcomes, report, scaling
from bench.goals import GOALS
from bench.machine import load_average, machine
from bench.workspace import Workspace

HERE = Path(__file__).resolve().parent
REPO = HERE.parent


def parse_args(argv=None) -> argparse.Namespace:
    """The command line: sizes, repetitions, families skipped, where results go."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        help="smaller sizes and one repetition (goals are for the full sizes)",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=None,
        help="repetitions of the default-data builds and statistics (default 3; quick 1)",
    )
    parser.add_argument(
        "--scaling-repeat",
        type=int,
        default=1,
        help="repetitions of each scaling build (default 1)",
    )
    parser.add_argument(
        "--sizes",
        type=int,
        nargs="+",
        default=None,
        help="networks of the scaling builds (default 25 50 100 200; quick 10 20)",
    )
    parser.add_argument(
        "--skip",
        nargs="*",
        default=[],
        choices=["default", "scaling", "coding", "outcomes", "breakdown"],
    )
    parser.add_argument(
        "--source",
        type=Path,
        default=REPO,
        help="project to measure (with src/, notebooks/, workflow/, book/, data/)",
    )
    parser.add_argument(
        "--live-source",
        action="store_true",
        help="import the installed package instead of a snapshot of --source's src/",
    )
    parser.add_argument(
        "--out", type=Path, default=HERE, help="where results.json and scaling.png go"
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument(
        "--markdown",
        type=Path,
        metavar="RESULTS_JSON",
        help="print the table of an earlier run as Markdown, and run nothing",
    )
    # a statistics benchmark re-runs this script in its own process (bench.processes)
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--worker-out", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--size", type=int, nargs="*", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv=None) -> int:
    """Run the families not skipped, print the table, write the results; 1 if a goal fails."""
    args = parse_args(argv)
    if args.markdown:
        print(report.markdown(json.loads(args.markdown.read_text())), end="")
        return 0
    if args.worker:  # a statistics benchmark, in its own process
        if args.worker == "coding":
            result = coding.worker(args.size[0], args.size[1])
        else:
            result = outcomes.worker(args.size[0], args.size[1], args.size[2])
        args.worker_out.write_text(json.dumps(result))
        return 0

    repeat = args.repeat or (1 if args.quick else 3)
    sizes = args.sizes or ([10, 20] if args.quick else [25, 50, 100, 200])
    segments = 100_000 if args.quick else 1_000_000
    persons, contacts = (20_000, 1_000_000) if args.quick else (200_000, 10_000_000)
    full = not args.quick  # the goals are judged at their own sizes only
    info = machine()
    print(
        f"machine: {info['nproc']} cores, {info.get('memory_gb')} GB, {info.get('cpu')}, "
        f"load average {info['load_average_start']}",
        file=sys.stderr,
    )
    ws = Workspace(args.source, keep=args.keep, live_source=args.live_source)
    print(f"workspace: {ws.dir} (package {ws.package_file})", file=sys.stderr)
    results: dict = {
        "machine": info,
        "quick": args.quick,
        "repeat": repeat,
        "goals": GOALS,
        "started": time.strftime("%Y-%m-%dT%H:%M:%S"),
    }
    table: list[tuple] = []
    try:
        if "default" not in args.skip:
            print("default data package: naive / clean / no-op / edit", file=sys.stderr)
            results["default"] = d = builds.run(ws, repeat, args.source / "data")
            table += builds.table_rows(d)
        if "breakdown" not in args.skip and "default" not in args.skip:
            print("breakdown", file=sys.stderr)
            results["breakdown"] = rows = breakdown.run(ws, args.source / "data")
            table += breakdown.table_rows(rows)
        if "scaling" not in args.skip:
            print(f"scaling: {sizes} networks", file=sys.stderr)
            results["scaling"] = rows = scaling.run(ws, sizes, args.scaling_repeat)
            results["scaling_fit"] = line = scaling.fit(rows)
            table += scaling.table_rows(rows, line, full)
        if "coding" not in args.skip:
            print(f"coding: {segments} coded segments", file=sys.stderr)
            results["coding"] = c = coding.run(ws, segments, repeat)
            table += coding.table_rows(c, full)
        if "outcomes" not in args.skip:
            print(f"outcomes: {persons} persons, {contacts} contacts", file=sys.stderr)
            results["outcomes"] = o = outcomes.run(ws, persons, contacts, repeat)
            table += outcomes.table_rows(o, persons, contacts, full)
    finally:
        ws.close()

    info["load_average_end"] = load_average()
    results["table"] = report.table_json(table)
    written = report.write_results(results, args.out)
    if results.get("scaling"):
        scaling.plot(results["scaling"], args.out / "scaling.png")

    report.print_table(table, info, args.quick)
    print(
        f"\nwritten: {written}"
        + (f", {args.out / 'scaling.png'}" if results.get("scaling") else "")
    )
    return 0 if report.passed(table) else 1


if __name__ == "__main__":
    sys.exit(main())
