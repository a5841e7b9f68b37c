"""``compendium build``: run what is out of date and build the book, with progress."""

from __future__ import annotations

import contextlib
import sys
import time
from pathlib import Path

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


def resolve_profile(profile: str, root: Path) -> Path | None:
    """The profile folder (or YAML file), from the current folder or else the repository root."""
    for candidate in (Path(profile), root / profile):
        if candidate.is_file() or (candidate / "config.yaml").is_file():
            return candidate.resolve()
    return None


def notebook_service(paths, args, remote: bool, eager: bool):
    """Warm kernels for this build's notebooks (:mod:`compendium.run.service`), or nothing.

    Not when a profile sends the jobs elsewhere. Started at once when notebooks
    are sure to run (the data changed, outputs are missing, or ``--force``), so
    the kernels' imports overlap validation and Snakemake's planning; else by
    the first job that asks, so a build with nothing to run starts no kernel.
    """
    from compendium.run.client import enabled
    from compendium.run.service import Service

    if remote or args.dry_run or not enabled():
        return None
    return Service(paths, workers=args.cores, eager=eager)


#: Joined slices up to this size (about 50 networks) let the book builder start early.
WARM_BOOK_MAX_BYTES = 10_000_000


def _size(folder) -> int:
    return sum(p.stat().st_size for p in folder.glob("*") if p.is_file()) if folder.is_dir() else 0


def prepare_apart(paths):
    """Validate and slice (:func:`compendium.build.plan.prepare`) in a process of its own.

    The build's own process then never holds pandas and the parsed tables, which
    would weigh on its memory for the whole build. Returns the plan and the problems.
    """
    import json
    import subprocess

    from ..data.plan import read_plan

    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "compendium.build.plan",
            str(paths.root),
            str(paths.data_dir),
            str(paths.build_dir),
            str(paths.html_dir),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        problems = json.loads(proc.stdout.strip().splitlines()[-1])["problems"]
    except (ValueError, IndexError, KeyError):
        raise RuntimeError(f"preparing the build failed (exit {proc.returncode})") from None
    return (None if problems else read_plan(paths)), problems


class Progress:
    """Prints one line per job started or finished: counts, what runs, elapsed time."""

    def __init__(self, stream=sys.stdout):
        self.stream = stream
        self.t0 = time.monotonic()
        self.total = None
        self.done = 0
        self.running: dict[str, float] = {}
        self.failures: list[str] = []
        self.failed_rules: list[str] = []
        self.up_to_date = False

    def _say(self, text: str) -> None:
        elapsed = time.monotonic() - self.t0
        total = "?" if self.total is None else self.total
        running = ", ".join(self.running) or "-"
        print(
            f"[{self.done}/{total} done, {elapsed:5.1f}s] {text}  | running: {running}",
            file=self.stream,
            flush=True,
        )

    def __call__(self, event) -> None:
        if event.kind == "planned" and self.total is None:
            self.total = event.total
        elif event.kind == "started":
            self.running[event.job.label] = time.monotonic()
            self._say(f"start  {event.job.label}")
        elif event.kind == "finished":
            started = self.running.pop(event.job.label, time.monotonic())
            self.done += 1
            self._say(f"done   {event.job.label} ({time.monotonic() - started:.1f}s)")
        elif event.kind == "progress":
            self.done, self.total = event.done, event.total
        elif event.kind == "failed":
            self.failed_rules.append(event.job.rule)
        elif event.kind == "failure-summary":
            self.failures.append(event.text)
        elif event.kind == "up-to-date":
            self.up_to_date = True


def run(args) -> int:
    # Nothing here imports pandas until the data must be validated: a build with nothing
    # to do answers in a fraction of a second.
    from ..build.orchestrate import (
        BuildLock,
        BuildStamp,
        prune_logs,
        run_snakemake,
        snakemake_command,
    )
    from ..build.plan import current_plan

    paths = user_paths(args)
    extra = None
    if args.profile:
        profile = resolve_profile(args.profile, paths.root)
        if profile is None:
            print(
                f"no Snakemake profile at {args.profile} (a folder with config.yaml)",
                file=sys.stderr,
            )
            return 2
        extra = ["--profile", str(profile)]
    t0 = time.monotonic()
    try:
        lock = BuildLock(paths.build_dir).__enter__()
    except RuntimeError as err:
        print(err, file=sys.stderr)
        return 1
    try:
        plan = current_plan(paths)  # None: the data (or the package) changed since the last plan
        eager = (
            args.force
            or plan is None
            or not all(p.exists() for p in paths.executed_notebooks(plan))
        )
        service = notebook_service(paths, args, remote=extra is not None, eager=eager)
        if plan is None:
            # Validate before anything starts: invalid data must leave the build folder as it was.
            # (The kernels' imports may start meanwhile: they touch nothing there.)
            if service is not None and eager:
                service.warm_up()
            try:
                plan, problems = prepare_apart(paths)
            except BaseException:
                if service is not None:
                    service.abort()
                raise
            if problems:
                if service is not None:
                    service.abort()
                for p in problems:
                    print(p, file=sys.stderr)
                print(
                    f"{len(problems)} problem(s) in {paths.data_dir}; nothing was built",
                    file=sys.stderr,
                )
                return 1
        if service is not None:
            # the book builder waits for the book job, rather than along the notebooks, when
            # those read a big package: they need its memory more than it needs a head start
            service.warm_book = _size(paths.all_networks_slice) < WARM_BOOK_MAX_BYTES
        with service if service is not None else contextlib.nullcontext():
            targets = None
            if args.network:
                unknown = sorted(set(args.network) - set(plan.networks))
                if unknown:
                    known = ", ".join(sorted(plan.networks))
                    print(
                        f"unknown network(s): {', '.join(unknown)}; known: {known}",
                        file=sys.stderr,
                    )
                    return 2
                targets = [str(paths.executed_network(n)) for n in args.network]
            kind = (
                "synthetic"
                if plan.synthetic
                else "NON-SYNTHETIC (not for release before disclosure review)"
            )
            print(
                f"data: {paths.data_dir} ({len(plan.networks)} networks, {kind}, "
                f"hash {plan.data_hash})"
            )
            cmd = snakemake_command(
                paths, args.cores, targets, dry_run=args.dry_run, force=args.force, extra=extra
            )
            log_path = paths.logs_dir / f"snakemake-{time.strftime('%Y%m%dT%H%M%S')}.log"
            progress = Progress()
            if args.dry_run:
                from compendium.cli.status import print_stale

                return print_stale(paths, cmd, log_path)
            stamp = BuildStamp(paths, plan, cmd) if not (args.force or targets or extra) else None
            if stamp is not None and stamp.holds():
                progress.up_to_date = True  # exactly what the last build read and left
                rc = 0
            else:
                paths.build_stamp.unlink(missing_ok=True)
                rc = run_snakemake(cmd, log_path, progress)
                prune_logs(paths.logs_dir)
                if rc == 0 and stamp is not None:
                    stamp.record()
    finally:
        lock.__exit__(None, None, None)

    elapsed = time.monotonic() - t0
    if rc != 0:
        print(file=sys.stderr)
        for text in progress.failures:
            print(text, file=sys.stderr)
        if not progress.failures:
            print(
                f"the workflow failed ({', '.join(progress.failed_rules) or 'see log'})",
                file=sys.stderr,
            )
        print(f"build FAILED after {elapsed:.0f}s; workflow log: {log_path}", file=sys.stderr)
        if (paths.html_dir / "index.html").exists():
            print(
                f"the last good book is unchanged: {paths.html_dir / 'index.html'}", file=sys.stderr
            )
        return 1
    if progress.up_to_date:
        print("everything is up to date; nothing ran")
    if targets:
        print(
            f"ran {progress.done} job(s) in {elapsed:.0f}s; "
            f"executed notebooks in {paths.executed_dir}"
        )
    else:
        print(f"built in {elapsed:.0f}s; the book: {paths.html_dir / 'index.html'}")
    return 0
