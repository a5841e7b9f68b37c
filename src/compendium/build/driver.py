"""``compendium build`` from start to end: lock, plan, warm kernels, Snakemake, stamp.

1. Take the build folder's lock (:class:`~compendium.build.orchestrate.BuildLock`).
2. Plan: the recorded plan when nothing changed since, else validate and slice
   the data package in a process of its own; invalid data stop the build before
   anything is written.
3. Start the warm-kernel service (:mod:`compendium.run.service`) for the
   notebooks, at once when they are sure to run.
4. Run Snakemake with progress, unless the build stamp proves nothing changed,
   and record the stamp after a full build that succeeded.

:func:`build` returns a :class:`BuildResult` for the command line to report, or
raises :class:`BuildRefused` with the lines that say why nothing was built.

Nothing here imports pandas until the data must be validated (and then in
another process): a build with nothing to do answers in a fraction of a second.
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from ..data.plan import Plan
from ..paths import ProjectPaths
from .orchestrate import BuildLock, BuildStamp, prune_logs, run_snakemake, snakemake_command
from .plan import current_plan, prepare_apart
from .progress import Progress
from .stale import PlanningFailed, StaleRun, stale_runs

#: Joined slices up to this size (about 50 networks) let the book builder start early.
WARM_BOOK_MAX_BYTES = 10_000_000


@dataclass(frozen=True)
class BuildOptions:
    """What the user asked of the build.

    Attributes
    ----------
    cores : int
        Notebooks run at once.
    networks : list of str, optional
        Run only these networks' notebooks (the book is not rebuilt).
    dry_run : bool
        List what would run; run nothing.
    force : bool
        Re-run everything, even what is up to date.
    profile : str, optional
        A Snakemake profile that runs the notebooks elsewhere (e.g. ``profiles/slurm``),
        from the current folder or else the repository root.
    """

    cores: int = 2
    networks: list[str] | None = None
    dry_run: bool = False
    force: bool = False
    profile: str | None = None


class BuildRefused(RuntimeError):
    """Nothing was built: ``lines`` say why, ``exit_code`` is for the shell (1, or 2 for usage)."""

    def __init__(self, lines: list[str], exit_code: int = 1):
        super().__init__("\n".join(lines))
        self.lines = lines
        self.exit_code = exit_code


@dataclass
class BuildResult:
    """How a build went.

    Attributes
    ----------
    ok : bool
        Whether the workflow succeeded.
    elapsed : float
        Seconds from the start to the lock's release.
    log_path : Path
        Snakemake's log of this build.
    up_to_date : bool
        Nothing was out of date, so nothing ran.
    jobs_done : int
        Jobs that finished.
    networks_only : bool
        Only some networks' notebooks were asked for (``networks``).
    failures : list of str
        The failed jobs' own summaries.
    failed_rules : list of str
        The rules that failed, for when no job left a summary.
    last_good_book : Path, optional
        After a failure, the book an earlier build left (unchanged), if any.
    stale : list of StaleRun, optional
        For a dry run, what would run and why; None otherwise.
    """

    ok: bool
    elapsed: float
    log_path: Path
    up_to_date: bool = False
    jobs_done: int = 0
    networks_only: bool = False
    failures: list[str] = field(default_factory=list)
    failed_rules: list[str] = field(default_factory=list)
    last_good_book: Path | None = None
    stale: list[StaleRun] | None = None


def resolve_profile(profile: str, root: Path) -> Path | None:
    """The profile folder (or YAML file), from the current folder or else the repository root."""
    for candidate in (Path(profile), root / profile):
        if candidate.is_file() or (candidate / "config.yaml").is_file():
            return candidate.resolve()
    return None


def _profile_options(profile: str | None, root: Path) -> list[str] | None:
    """Snakemake's ``--profile`` options, or None for a local build.

    Raises
    ------
    BuildRefused
        When there is no such profile.
    """
    if not profile:
        return None
    found = resolve_profile(profile, root)
    if found is None:
        raise BuildRefused([f"no Snakemake profile at {profile} (a folder with config.yaml)"], 2)
    return ["--profile", str(found)]


@contextlib.contextmanager
def _locked(build_dir: Path) -> Iterator[None]:
    """Hold the build folder's lock; refused when another build holds it."""
    lock = BuildLock(build_dir)
    try:
        lock.__enter__()
    except RuntimeError as err:
        raise BuildRefused([str(err)]) from None
    try:
        yield
    finally:
        lock.__exit__(None, None, None)


def notebook_service(paths: ProjectPaths, options: BuildOptions, remote: bool, eager: bool):
    """Warm kernels for this build's notebooks (:mod:`compendium.run.service`), or nothing.

    Not when a profile sends the jobs elsewhere. Started at once when notebooks
    are sure to run (the data changed, outputs are missing, or ``force``), so
    the kernels' imports overlap validation and Snakemake's planning; else by
    the first job that asks, so a build with nothing to run starts no kernel.
    """
    from compendium.run.client import enabled
    from compendium.run.service import Service

    if remote or options.dry_run or not enabled():
        return None
    return Service(paths, workers=options.cores, eager=eager)


def _size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.glob("*") if p.is_file()) if folder.is_dir() else 0


def _prepare_while_warming(paths: ProjectPaths, service) -> Plan:
    """Validate and slice the data package apart, the kernels' imports starting meanwhile.

    Invalid data must leave the build folder as it was: the warming zygote
    touches nothing there, and is stopped.

    Raises
    ------
    BuildRefused
        When the data package is invalid: one line per problem, then the count.
    """
    if service is not None:
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
        count = f"{len(problems)} problem(s) in {paths.data_dir}; nothing was built"
        raise BuildRefused([*problems, count])
    return plan


def _plan_and_service(paths: ProjectPaths, options: BuildOptions, remote: bool):
    """The build's plan, and its warm-kernel service (not entered yet) or None."""
    plan = current_plan(paths)  # None: the data (or the package) changed since the last plan
    eager = (
        options.force or plan is None or not all(p.exists() for p in paths.executed_notebooks(plan))
    )
    service = notebook_service(paths, options, remote=remote, eager=eager)
    if plan is None:
        # Validate before anything starts: invalid data must leave the build folder as it was.
        plan = _prepare_while_warming(paths, service)
    if service is not None:
        # the book builder waits for the book job, rather than along the notebooks, when
        # those read a big package: they need its memory more than it needs a head start
        service.warm_book = _size(paths.all_networks_slice) < WARM_BOOK_MAX_BYTES
    return plan, service


def _network_targets(paths: ProjectPaths, plan: Plan, networks: list[str] | None):
    """The executed notebooks of the networks asked for; None for a full build.

    Raises
    ------
    BuildRefused
        When a network is not in the data package.
    """
    if not networks:
        return None
    unknown = sorted(set(networks) - set(plan.networks))
    if unknown:
        known = ", ".join(sorted(plan.networks))
        raise BuildRefused([f"unknown network(s): {', '.join(unknown)}; known: {known}"], 2)
    return [str(paths.executed_network(n)) for n in networks]


def data_line(paths: ProjectPaths, plan: Plan) -> str:
    """What the build reads: the data package, its networks, whether synthetic, its hash."""
    kind = (
        "synthetic"
        if plan.synthetic
        else "NON-SYNTHETIC (not for release before disclosure review)"
    )
    return f"data: {paths.data_dir} ({len(plan.networks)} networks, {kind}, hash {plan.data_hash})"


def _dry_run(paths: ProjectPaths, cmd: list[str], log_path: Path) -> list[StaleRun]:
    """What the workflow would run, and why (:func:`compendium.build.stale.stale_runs`)."""
    try:
        return stale_runs(paths, cmd, log_path)
    except PlanningFailed as err:
        raise BuildRefused([str(err)]) from None


def _run_workflow(
    paths: ProjectPaths, cmd: list[str], log_path: Path, progress: Progress, stamp
) -> int:
    """Run Snakemake unless ``stamp`` holds; record it after a success. Returns the exit code."""
    if stamp is not None and stamp.holds():
        progress.up_to_date = True  # exactly what the last build read and left
        return 0
    paths.build_stamp.unlink(missing_ok=True)
    rc = run_snakemake(cmd, log_path, progress)
    prune_logs(paths.logs_dir)
    if rc == 0 and stamp is not None:
        stamp.record()
    return rc


def build(paths: ProjectPaths, options: BuildOptions, out=None) -> BuildResult:
    """Run what is out of date and build the book.

    Parameters
    ----------
    paths : ProjectPaths
        The build.
    options : BuildOptions
        What the user asked.
    out : file, optional
        Where the data line and the progress lines go (default: standard output).

    Raises
    ------
    BuildRefused
        When nothing could be built: no such profile, another build running,
        invalid data, unknown networks, or (dry run) a workflow that cannot be planned.
    """
    out = sys.stdout if out is None else out
    extra = _profile_options(options.profile, paths.root)
    t0 = time.monotonic()
    with _locked(paths.build_dir):
        plan, service = _plan_and_service(paths, options, remote=extra is not None)
        with service if service is not None else contextlib.nullcontext():
            targets = _network_targets(paths, plan, options.networks)
            print(data_line(paths, plan), file=out)
            cmd = snakemake_command(
                paths,
                options.cores,
                targets,
                dry_run=options.dry_run,
                force=options.force,
                extra=extra,
            )
            log_path = paths.logs_dir / f"snakemake-{time.strftime('%Y%m%dT%H%M%S')}.log"
            if options.dry_run:
                stale = _dry_run(paths, cmd, log_path)
                return BuildResult(True, time.monotonic() - t0, log_path, stale=stale)
            progress = Progress(out)
            full = not (options.force or targets or extra)
            stamp = BuildStamp(paths, plan, cmd) if full else None
            rc = _run_workflow(paths, cmd, log_path, progress, stamp)
    book = paths.html_dir / "index.html"
    return BuildResult(
        ok=rc == 0,
        elapsed=time.monotonic() - t0,
        log_path=log_path,
        up_to_date=progress.up_to_date,
        jobs_done=progress.done,
        networks_only=bool(targets),
        failures=progress.failures,
        failed_rules=progress.failed_rules,
        last_good_book=book if rc != 0 and book.exists() else None,
    )
