"""The ``compendium`` command line: one module per subcommand.

Each subcommand module defines ``add_arguments(parser)`` and ``run(args) -> int``;
modules are imported only when their subcommand runs, so ``compendium validate``
does not pay for Snakemake or papermill.
"""

from __future__ import annotations

import argparse
import importlib
import sys

#: subcommand -> (module, one-line help)
SUBCOMMANDS = {
    "validate": ("validate", "check a data package; print one line per problem"),
    "synth": ("synth", "write a seeded synthetic data package"),
    "build": ("build", "run the notebooks that are out of date and build the book"),
    "status": ("status", "list what is out of date and why, without running anything"),
    "import-qda": ("import_qda", "import a REFI-QDA project (.qdpx) or codebook (.qdc)"),
    "new-network": ("new_network", "add the skeleton of a new network to a data package"),
    "watch": ("watch", "rebuild on every saved change and serve the book on localhost"),
    "pdf": ("pdf", "print the built book into one PDF (headless Chromium)"),
    "run-notebook": ("run_notebook", "(used by the workflow) execute one notebook"),
    "build-book": ("build_book", "(used by the workflow) assemble, build and publish the book"),
}


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """The parser; only the subcommand named in ``argv`` (if any) imports its module.

    Every ``compendium run-notebook`` of a build starts here, so importing all
    subcommands (``synth`` alone pulls in pandas) would cost each notebook run a second.
    """
    from compendium import __version__

    words = sys.argv[1:] if argv is None else argv
    chosen = next((w for w in words if w in SUBCOMMANDS), None)

    parser = argparse.ArgumentParser(
        prog="compendium",
        description=(
            "Reproducible research compendium on integrated mental-health service networks."
        ),
    )
    parser.add_argument("--version", action="version", version=f"compendium {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, (module, help_text) in SUBCOMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        if chosen is None or name == chosen:
            importlib.import_module(f"compendium.cli.{module}").add_arguments(p)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser(argv).parse_args(argv)
    module = importlib.import_module(f"compendium.cli.{SUBCOMMANDS[args.command][0]}")
    try:
        return module.run(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
