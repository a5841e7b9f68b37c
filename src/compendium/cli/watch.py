"""``compendium watch``: rebuild on every saved change and serve the book on localhost."""

from __future__ import annotations

from ._common import add_data_option, user_paths


def add_arguments(parser):
    add_data_option(parser)
    parser.add_argument("--cores", type=int, default=2, help="notebooks run at once (default 2)")
    parser.add_argument(
        "--port", type=int, default=8000, help="port of the book server (default 8000)"
    )
    parser.add_argument(
        "--host",
        default="127.0.0.1",
        help=(
            "address to serve on (default 127.0.0.1: only this machine; "
            "the book may hold real data)"
        ),
    )
    parser.add_argument("--no-serve", action="store_true", help="rebuild on changes, serve nothing")


def run(args) -> int:
    from ..build.watch import watch

    address = None if args.no_serve else (args.host, args.port)
    watch(user_paths(args), args.data, args.cores, address)
    return 0
