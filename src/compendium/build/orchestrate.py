"""Drive the Snakemake workflow: command line, progress, staleness reasons, lock.

Snakemake runs in its own process; this module reads its log line by line and
turns it into :class:`Event` objects (job started, job finished, job failed),
which ``compendium build`` shows as progress and ``compendium status`` as a
list of stale runs with their reasons.
"""

from __future__ import annotations

import fcntl
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from ..paths import ProjectPaths

FAILURE_MARK = "COMPENDIUM-FAILURE "
#: Memory the notebooks running at once may take together, by the workflow's estimate
#: (``notebook_mb`` of workflow/rules/notebooks.smk): a kernel and the tables it reads.
NOTEBOOK_MEMORY_MB = 1200
_RULE = re.compile(r"^(?:local)?rule (\w+):$")
_FIELD = re.compile(r"^\s+(\w+): (.*)$")
_FINISHED = re.compile(r"^Finished jobid: (\d+) \(Rule: (\w+)\)")
_STEPS = re.compile(r"^(\d+) of (\d+) steps \(.*\) done")
_ERROR = re.compile(r"^Error in rule (\w+):")
_TOTAL = re.compile(r"^total\s+(\d+)$")


@dataclass
class Job:
    """One job of the workflow as Snakemake announced it."""

    rule: str
    jobid: str = ""
    wildcards: str = ""
    reason: str = ""
    started: float = field(default_factory=time.monotonic)

    @property
    def label(self) -> str:
        if not self.wildcards:
            return self.rule
        values = ",".join(w.split("=", 1)[-1] for w in self.wildcards.split(", "))
        return f"{self.rule}[{values}]"


@dataclass
class Event:
    kind: str  # "planned", "started", "finished", "failed", "failure-summary", "up-to-date"
    job: Job | None = None
    total: int | None = None
    done: int | None = None
    text: str = ""


def python_executable() -> str:
    """This interpreter, named alike however the build was started (``python`` or ``python3``).

    The notebook rules' commands hold it, and Snakemake re-runs every rule whose
    command changed: ``compendium build`` (``python3``) after
    ``python -m compendium build`` (``python``) must not re-run the notebooks.
    """
    exe = Path(sys.executable)
    plain = exe.with_name("python")
    try:
        if plain != exe and os.path.samefile(plain, exe):
            return str(plain)
    except OSError:
        pass
    return str(exe)


def snakemake_command(
    paths: ProjectPaths,
    cores: int = 2,
    targets: list[str] | None = None,
    dry_run: bool = False,
    force: bool = False,
    prepared: bool = True,
    extra: list[str] | None = None,
) -> list[str]:
    """The Snakemake command line for this build.

    A local build runs Snakemake through :func:`main` (its scheduler, made cheaper)
    with the greedy scheduler; a build sent elsewhere (``--profile``) runs it as is.
    """
    extra = list(extra or [])
    remote = any(a == "--profile" or a.startswith(("--profile=", "--executor")) for a in extra)
    cmd = [
        python_executable(),
        "-m",
        "snakemake" if remote else "compendium.build.orchestrate",
        "--snakefile",
        str(paths.snakefile),
        "--directory",
        str(paths.build_dir),
        "--cores",
        str(cores),
        "--rerun-incomplete",  # a killed build's half-made outputs are redone, not trusted
        "--nolock",  # `compendium build` holds its own lock (see BuildLock)
        "--keep-going",
        *([] if remote else ["--scheduler", "greedy"]),  # the ILP scheduler runs a solver per step
        # notebooks that each hold a big package's every network do not run at once
        *([] if remote else ["--resources", f"notebook_mb={NOTEBOOK_MEMORY_MB}"]),
        "--config",
        f"root={paths.root}",
        f"data_dir={paths.data_dir}",
        f"build_dir={paths.build_dir}",
        f"html_dir={paths.html_dir}",
        f"prepared={int(prepared)}",
    ]
    if dry_run:
        cmd.append("--dry-run")
    if force:
        cmd.append("--forceall")
    cmd.extend(extra)
    if targets:
        cmd.append("--")
        cmd.extend(targets)
    return cmd


def parse_log(lines: Iterator[str]) -> Iterator[Event]:
    """Turn Snakemake's log lines into events."""
    current: Job | None = None
    jobs: dict[str, Job] = {}
    in_failure = False
    failure: list[str] = []
    for raw in lines:
        line = raw.rstrip("\n")
        if in_failure:
            if line.startswith("  "):
                failure.append(line[2:])
                continue
            yield Event("failure-summary", text="\n".join(failure))
            in_failure, failure = False, []
        if line.startswith(FAILURE_MARK):
            in_failure, failure = True, [line[len(FAILURE_MARK) :]]
            continue
        if current is not None and (m := _FIELD.match(line)):
            key, value = m.groups()
            if key in ("jobid", "wildcards", "reason"):
                setattr(current, key, value)
            if key == "resources" and current.jobid:
                # the block's last field: the job starts now, not when the next line comes
                jobs[current.jobid] = current
                current.started = time.monotonic()
                yield Event("started", job=current)
                current = None
            continue
        if current is not None:
            # the job's block is complete: now its wildcards and reason are known
            if current.jobid:
                jobs[current.jobid] = current
                current.started = time.monotonic()
                yield Event("started", job=current)
            current = None
        if m := _TOTAL.match(line):
            yield Event("planned", total=int(m.group(1)))
            continue
        if m := _RULE.match(line):
            current = Job(m.group(1))
            continue
        if m := _FINISHED.match(line):
            job = jobs.get(m.group(1), Job(m.group(2), jobid=m.group(1)))
            yield Event("finished", job=job)
        elif m := _STEPS.match(line):
            yield Event("progress", done=int(m.group(1)), total=int(m.group(2)))
        elif m := _ERROR.match(line):
            yield Event("failed", job=Job(m.group(1)))
        elif line.startswith("Nothing to be done"):
            yield Event("up-to-date")
    if current is not None and current.jobid:
        yield Event("started", job=current)
    if in_failure:
        yield Event("failure-summary", text="\n".join(failure))


#: Workflow logs kept in ``build/logs`` (the newest); each build removes older ones.
KEEP_LOGS = 20


def prune_logs(logs_dir: Path, keep: int = KEEP_LOGS) -> list[Path]:
    """Remove all but the ``keep`` newest workflow logs; return the removed ones."""
    logs = sorted(logs_dir.glob("snakemake-*.log"))  # named by start time: sorted oldest first
    old = logs[:-keep] if keep > 0 else logs
    for path in old:
        path.unlink(missing_ok=True)
    return old


def run_snakemake(cmd: list[str], log_path: Path, on_event: Callable[[Event], None]) -> int:
    """Run Snakemake, copy its output to ``log_path`` and report events; return its exit code."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    with open(log_path, "w", encoding="utf-8") as log:
        proc = subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1, env=env
        )

        def lines():
            assert proc.stdout is not None
            for line in proc.stdout:
                log.write(line)
                log.flush()
                yield line

        try:
            for event in parse_log(lines()):
                on_event(event)
            return proc.wait()
        except KeyboardInterrupt:
            proc.send_signal(2)  # let Snakemake mark incomplete outputs and stop its jobs
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
            raise


def describe_reason(reason: str, paths: ProjectPaths) -> str:
    """Say in the domain's words why a job is stale."""
    slices = str(paths.slices_dir / "networks") + os.sep
    settings = str(paths.slices_dir / "settings") + os.sep
    joined = str(paths.all_networks_slice) + os.sep
    package = str(paths.package_source) + os.sep

    def name(path: str) -> str:
        if path.startswith(slices):
            network, table = path[len(slices) :].split(os.sep, 1)
            return f"data of network {network} ({table})"
        if path.startswith(settings):
            setting, table = path[len(settings) :].split(os.sep, 1)
            return f"data of the {setting} networks ({table})"
        if path.startswith(joined):
            return f"data of all networks ({path[len(joined) :]})"
        if path.startswith(package):
            return f"package code compendium/{path[len(package) :]}"
        for base, label in ((paths.root, ""), (paths.build_dir, "build/")):
            if path.startswith(str(base) + os.sep):
                return label + path[len(str(base)) + 1 :]
        return path

    if ":" not in reason:
        return reason
    head, _, tail = reason.partition(": ")
    items = [name(p.strip()) for p in tail.split(",") if p.strip()]
    shown = ", ".join(dict.fromkeys(items))  # several tables of one network read as one
    if head.startswith("Updated input files"):
        return f"changed: {shown}"
    if head.startswith("Missing output files"):
        return "never built (output missing)"
    if head.startswith("Input files updated by another job"):
        return f"reads what another stale run produces: {shown}"
    return reason


class BuildStamp:
    """Proof that nothing changed since the last successful build, so Snakemake need not look.

    Snakemake takes a second or two to start and plan even when nothing is out
    of date. A successful full build records a digest of everything its
    decisions rest on: the Snakemake command line, the plan's inputs digest
    (data package, the code that prepares it, slices), every file of the
    package, the workflow, the notebook templates and the narrative (by
    content), and every output as it was left (size and time). When the next
    build finds exactly that, nothing can be out of date and it stops there;
    any difference, even a touched output,
    and Snakemake decides as usual. Builds of some networks only, forced,
    dry or remote builds neither read nor write it, and a build removes it
    before it starts Snakemake, so an interrupted build never leaves one.
    """

    def __init__(self, paths: ProjectPaths, plan, cmd: list[str]):
        import hashlib

        from ..fsutil import tree_digest

        self.path = paths.build_stamp
        h = hashlib.sha256()
        h.update("\0".join(cmd).encode())
        h.update(plan.inputs.encode())
        # every file of the package: the plan's digest covers only the code that prepares
        source = paths.package_source
        code = [p for p in source.rglob("*") if p.is_file() and "__pycache__" not in p.parts]
        h.update(tree_digest(code, source).encode())
        for folder in (paths.root / "workflow", paths.notebooks_dir, paths.book_dir):
            files = (
                [
                    p
                    for p in folder.rglob("*")
                    if p.is_file() and "_build" not in p.relative_to(folder).parts
                ]
                if folder.is_dir()
                else []
            )
            h.update(tree_digest(files, folder).encode())
        self._inputs = h.hexdigest()
        self.outputs = sorted(
            paths.executed_notebooks(plan)
            + [paths.build_dir / "book.done", paths.kernel_sentinel, paths.html_dir / "index.html"]
        )
        self.html_dir = paths.html_dir

    def _digest(self) -> str | None:
        import hashlib

        h = hashlib.sha256(self._inputs.encode())
        for p in self.outputs:
            try:
                st = p.stat()
            except OSError:
                return None  # an output is missing: never up to date
            h.update(f"{p}\0{st.st_size}\0{st.st_mtime_ns}\0".encode())
        h.update(os.readlink(self.html_dir).encode() if self.html_dir.is_symlink() else b"-")
        return h.hexdigest()

    def holds(self) -> bool:
        """Whether the recorded build is exactly what is here now."""
        try:
            recorded = self.path.read_text().strip()
        except OSError:
            return False
        return recorded == self._digest()

    def clear(self) -> None:
        self.path.unlink(missing_ok=True)

    def record(self) -> None:
        """After a successful build: what it read (as it was when it started) and what it left."""
        from ..fsutil import write_if_changed

        digest = self._digest()
        if digest is not None:
            write_if_changed(self.path, digest + "\n")


class BuildLock:
    """An exclusive lock on the build folder, released by the OS if the holder dies."""

    def __init__(self, build_dir: Path):
        self.path = Path(build_dir) / ".build.lock"
        self.fd: int | None = None

    def __enter__(self) -> BuildLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(self.fd, 32, 0).decode(errors="replace").strip() or "?"
            os.close(self.fd)
            raise RuntimeError(
                f"another build is running on {self.path.parent} (pid {holder})"
            ) from None
        os.ftruncate(self.fd, 0)
        os.pwrite(self.fd, str(os.getpid()).encode(), 0)
        return self

    def __exit__(self, *exc) -> None:
        if self.fd is not None:
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)


def _patch_snakemake_scheduler() -> bool:
    """Remove two costs of Snakemake 9's local scheduler that grow with the number of jobs.

    Measured on a 2-core machine with 200 network notebooks, Snakemake itself kept
    most of a core busy for the whole build:

    * after every scheduling round it starts a one-second timer to look again
      (for its job-rate limit), and every timer's round starts another: the
      rounds per second grow with the jobs done so far. Here a round asks for
      one look at most once per timespan, and the timer does not keep
      Snakemake alive for a second after the workflow is done;
    * every round takes the size of every input of every waiting job (the
      slices of all networks, each time). Here a size is taken once; sizes only
      weigh the scheduler's choice between ready jobs.

    Returns False (and changes nothing) when Snakemake's internals are not the
    ones this was written for.
    """
    import threading

    try:
        from snakemake.scheduling import job_scheduler
    except ImportError:
        return False
    scheduler = getattr(job_scheduler, "JobScheduler", None)
    if scheduler is None or not all(
        hasattr(scheduler, name) for name in ("_schedule_reevalutation", "update_input_sizes")
    ):
        return False

    def _schedule_reevalutation(self, delay) -> None:
        if getattr(self, "_compendium_look_pending", False):
            return
        self._compendium_look_pending = True

        def look_again() -> None:
            self._compendium_look_pending = False
            self._open_jobs.release()

        timer = threading.Timer(delay, look_again)
        timer.daemon = True
        timer.start()

    measure = scheduler.update_input_sizes

    async def update_input_sizes(self, jobs) -> None:
        known = self._input_sizes
        await measure(self, [j for j in jobs if any(known.get(p) is None for p in j.input)])

    scheduler._schedule_reevalutation = _schedule_reevalutation
    scheduler.update_input_sizes = update_input_sizes
    return True


def main() -> None:
    """``python -m compendium.build.orchestrate ARGS``: Snakemake, its scheduler patched."""
    _patch_snakemake_scheduler()
    from snakemake.cli import main as snakemake_main

    sys.argv[0] = "snakemake"
    snakemake_main()


if __name__ == "__main__":
    main()
