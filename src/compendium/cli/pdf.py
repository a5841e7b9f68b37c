"""``compendium pdf``: print the built HTML book into one PDF with headless Chromium."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from ._common import add_data_option, user_paths


def add_arguments(parser):
    add_data_option(parser)
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        metavar="PATH",
        help="the PDF to write (default: compendium.pdf in a pdf/ folder beside the HTML book)",
    )


def run(args) -> int:
    from ..book.pdf import PdfBuildError, build_pdf, count_pages

    paths = user_paths(args)
    out = args.out or paths.pdf_file
    t0 = time.monotonic()
    try:
        build_pdf(paths.html_dir, out)
    except PdfBuildError as err:
        print(err, file=sys.stderr)
        return 1
    pages = count_pages(out)
    print(f"the PDF ({pages} pages, {time.monotonic() - t0:.0f}s): {out}")
    return 0
