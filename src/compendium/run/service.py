"""Warm kernels for ``compendium build``: a small local executor service.

Starting a Jupyter kernel and importing pandas, seaborn, statsmodels and networkx
into it costs seconds per notebook: more than most notebooks of the compendium
take to run. While ``compendium build`` runs, this service keeps that cost out
of the notebooks.

* A *zygote* process, started with the interpreter and flags of the project
  kernel, imports the heavy modules once and then forks a **new kernel for
  every notebook**. A fork is a fresh process: nothing one notebook does
  reaches another, and no kernel is ever reused. The zygote keeps a spare
  kernel forked ahead, so the next notebook finds its kernel ready.
* One *runner* process per core executes notebooks with papermill on those
  kernels. Papermill runs in these separate processes, never in threads.
* ``compendium run-notebook`` (what each Snakemake job runs) hands its job to a
  runner over a Unix socket in the build folder (readable by its owner only)
  and waits for the outcome. When no service listens (plain ``snakemake``,
  SLURM jobs, ``COMPENDIUM_EXECUTOR=inline``), or the project kernel is not the
  zygote's interpreter, the job runs papermill itself, as before.
* A *book builder* with Jupyter Book and Sphinx imported waits likewise for
  ``compendium build-book`` (the workflow's last job), and builds the book in
  its own process.

Nothing outlives the build: the service's processes sit in their own session
(Ctrl-C reaches them through the build), runners and zygote leave when the
build's lifeline pipe closes, runners kill their kernel when its job's client
hangs up, and kernels leave when their zygote dies.
"""

from __future__ import annotations

import os
import select
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from ..paths import ProjectPaths
from .execute import KERNEL_NAME

#: Kernels the zygote keeps forked ahead (each holds the imported libraries' memory).
SPARES = 1


# -- build side -------------------------------------------------------------------------------
class Service:
    """The warm-kernel service of one build (a context manager).

    Two lanes, each with its socket: notebooks (a zygote and one runner per
    core) and the book (one process with Jupyter Book and Sphinx imported,
    which builds the book in-process when the workflow's book job asks). The
    sockets are bound on entry, so jobs queue there from the first moment; the
    processes start then (``eager``), or with the first job that knocks (the
    book builder also starts with the notebooks, to be ready when they are
    done), so a build with nothing to run starts nothing.

    Parameters
    ----------
    paths : ProjectPaths
        The build; its sockets are ``paths.executor_socket`` and ``paths.book_socket``.
    workers : int
        Runners, i.e. notebooks executing at once (the build's cores).
    eager : bool
        Start the processes on entry rather than with the first job.
    spares : int
        Kernels the zygote keeps forked ahead.
    """

    LANES = ("notebooks", "book")

    def __init__(self, paths: ProjectPaths, workers: int, eager: bool = True, spares: int = SPARES):
        self.paths = paths
        self.workers = max(1, workers)
        self.eager = eager
        self.spares = spares
        #: Start the book builder as soon as the kernels are ready (else: when the book job
        #: comes). The build turns it off for a big package, whose notebooks need the memory.
        self.warm_book = True
        self.sockets: dict[str, socket.socket] = {}
        self.procs: dict[str, list[subprocess.Popen]] = {lane: [] for lane in self.LANES}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._lifeline: tuple[int, int] | None = None
        self._zygote: subprocess.Popen | None = None
        self._zygote_ready: int | None = None
        self._zygote_log = None
        self._pairs: list | None = None
        self._log = None

    def _path(self, lane: str) -> Path:
        return self.paths.executor_socket if lane == "notebooks" else self.paths.book_socket

    def __enter__(self) -> Service:
        for lane in self.LANES:
            self.sockets[lane] = self._bind(lane)
        if self.eager:  # in the background: the build goes on validating and planning
            threading.Thread(target=self.start, args=("notebooks",), daemon=True).start()
        threading.Thread(target=self._start_on_demand, daemon=True).start()
        return self

    def _bind(self, lane: str) -> socket.socket:
        """The lane's listening socket, bound to its path with the owner's rights only."""
        path = self._path(lane)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.unlink(missing_ok=True)  # a killed build's socket; the build lock is ours
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        old = os.umask(0o177)  # owner only: a job names files to write and code to run
        try:
            sock.bind(str(path))
        finally:
            os.umask(old)
        sock.listen(128)
        return sock

    def start(self, lane: str) -> None:
        """Start a lane's processes (once); the notebooks start the book builder too."""
        try:
            if not self._start(lane):
                return  # started already, or stopping
        except Exception as err:  # jobs must never wait on a service that will not come
            sys.stderr.write(f"the {lane} service did not start ({err}); jobs run by themselves\n")
            self._close(lane)
            return
        threading.Thread(target=self._monitor, args=(lane,), daemon=True).start()
        if lane == "notebooks":
            threading.Thread(target=self._book_after_zygote, daemon=True).start()

    def _book_after_zygote(self) -> None:
        """Start the book builder once the zygote's imports are done (if ``warm_book``).

        The book builder's imports wait for the zygote's: at the start they would slow
        the first notebooks down; later they only borrow a little of their time.
        """
        ready, self._zygote_ready = self._zygote_ready, None
        if ready is None:
            return
        try:
            os.read(ready, 1)
        finally:
            os.close(ready)
        if self.warm_book:
            self.start("book")

    def _close(self, lane: str) -> None:
        """Stop taking the lane's jobs: later ones run by themselves."""
        with self._lock:
            sock = self.sockets.pop(lane, None)
            if sock is not None:
                sock.close()
                self._path(lane).unlink(missing_ok=True)

    def warm_up(self) -> None:
        """Start the zygote's imports now, before the data are validated.

        The zygote reads and writes nothing in the build folder (its messages wait
        in a temporary file until the service's log exists), so a build that
        invalid data stop leaves that folder exactly as it was (see :meth:`abort`).
        """
        with self._lock:
            if self._zygote is not None or self._stop.is_set():
                return
            self._lifeline = os.pipe()
            self._pairs = [socket.socketpair() for _ in range(self.workers)]
            self._zygote_log = tempfile.TemporaryFile()
            ready_r, ready_w = os.pipe()  # the zygote says when its imports are done
            self._zygote = self._spawn_zygote(ready_w)
            os.close(ready_w)
            self._zygote_ready = ready_r
            for a, _ in self._pairs:
                a.close()
            self.procs["notebooks"].append(self._zygote)

    def _spawn_zygote(self, ready_w: int) -> subprocess.Popen:
        """The zygote process: the kernel's interpreter, one socket end per runner to come."""
        zygote_fds = [p[0].fileno() for p in self._pairs]
        return subprocess.Popen(
            [
                *_interpreter(),
                "-m",
                "compendium.run.kernels",
                "zygote",
                "--lifeline",
                str(self._lifeline[0]),
                "--spares",
                str(self.spares),
                "--ready",
                str(ready_w),
                "--runners",
                ",".join(map(str, zygote_fds)),
                "--build",  # the kernels' working folder (the notebooks' paths start there)
                str(self.paths.build_dir),
            ],
            pass_fds=[self._lifeline[0], ready_w, *zygote_fds],
            stdin=subprocess.DEVNULL,
            stdout=self._zygote_log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C reaches the build, which stops us
            cwd=tempfile.gettempdir(),
            env=_safe_path_env(),
        )

    def abort(self) -> None:
        """Stop a warmed-up zygote of a build that will not run."""
        self._stop.set()
        with self._lock:
            self._shut_down()

    def _start(self, lane: str) -> bool:
        """Start the lane's processes; False when started already, stopping or closed."""
        if lane == "notebooks":
            self.warm_up()
        with self._lock:
            if self._stop.is_set() or lane not in self.sockets:
                return False
            if lane == "book" and self.procs[lane] or lane == "notebooks" and self._pairs is None:
                return False
            if self._log is None:
                self.paths.logs_dir.mkdir(parents=True, exist_ok=True)
                self._log = open(self.paths.logs_dir / "executor.log", "ab")
            if lane == "book":
                self._start_book_builder()
            else:
                self._start_runners()
        return True

    def _spawn(
        self, lane: str, module: str, role: str, *more: str, fds: tuple[int, ...] = ()
    ) -> None:
        """Start one process of a lane: ``python -m module role``, listening on its socket."""
        lifeline = self._lifeline[0]
        listen = self.sockets[lane].fileno()
        where = ["--lifeline", str(lifeline), "--listen", str(listen)]
        where += ["--build", str(self.paths.build_dir)]
        self.procs[lane].append(
            subprocess.Popen(
                [sys.executable, "-m", module, role, *where, *more],
                pass_fds=[lifeline, listen, *fds],
                stdin=subprocess.DEVNULL,
                stdout=self._log,
                stderr=self._log,
                start_new_session=True,  # Ctrl-C reaches the build, which stops us
                cwd=str(self.paths.build_dir),
                env=_safe_path_env(),
            )
        )

    def _start_book_builder(self) -> None:
        """The book lane's one process, with Jupyter Book and Sphinx imported."""
        self._spawn("book", "compendium.run.book_builder", "book")

    def _start_runners(self) -> None:
        """One runner per core, each with its end of a socket pair to the zygote."""
        for _, end in self._pairs:
            fd = end.fileno()
            self._spawn(
                "notebooks", "compendium.run.kernels", "runner", "--zygote", str(fd), fds=(fd,)
            )
            end.close()
        self._pairs = None

    def _monitor(self, lane: str) -> None:
        """When a lane's workers have all died, close its socket: later jobs run by themselves."""
        workers = self.procs[lane][1:] if lane == "notebooks" else self.procs[lane]
        while not self._stop.wait(0.5):
            if all(p.poll() is not None for p in workers):
                if any(p.returncode != 0 for p in workers) and not self._stop.is_set():
                    log = self.paths.logs_dir / "executor.log"
                    sys.stderr.write(f"the {lane} service stopped; see {log}\n")
                self._close(lane)  # (the book builder leaves after its one book)
                return

    def _start_on_demand(self) -> None:
        """Start a lane when its first job knocks (a build with nothing to run starts nothing)."""
        waiting = dict(self.sockets)
        while waiting and not self._stop.is_set():
            for lane in list(waiting):
                if self.procs[lane]:  # started meanwhile
                    waiting.pop(lane)
            try:
                ready, _, _ = select.select(list(waiting.values()), [], [], 0.2)
            except (OSError, ValueError):  # closed under us
                return
            for lane, sock in list(waiting.items()):
                if sock in ready:
                    self.start(lane)
                    waiting.pop(lane)

    def __exit__(self, *exc) -> None:
        """Take no more jobs, remove the sockets, and stop every process."""
        self._stop.set()
        with self._lock:
            for lane, sock in self.sockets.items():
                sock.close()
                self._path(lane).unlink(missing_ok=True)
            self.sockets.clear()
            self._shut_down()

    def _shut_down(self) -> None:
        """Cut the lifeline, wait for every process to leave, and close the logs."""
        self._cut_lifeline()
        self._wait_for_processes()
        self._close_logs()

    def _cut_lifeline(self) -> None:
        """Close the lifeline, and the socket ends kept for runners that never started."""
        if self._lifeline is not None:
            os.close(self._lifeline[1])  # every process sees it close and leaves
            os.close(self._lifeline[0])
            self._lifeline = None
        for pair in self._pairs or ():
            pair[1].close()
        self._pairs = None

    def _wait_for_processes(self, grace: float = 5) -> None:
        """Wait for the processes to leave, together at most ``grace`` seconds; kill the rest."""
        deadline = time.monotonic() + grace
        for proc in (p for procs in self.procs.values() for p in procs):
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def _close_logs(self) -> None:
        """Close the service's log, the zygote's messages appended to it first."""
        if self._zygote_log is not None:
            if self._log is not None:
                self._zygote_log.seek(0)
                shutil.copyfileobj(self._zygote_log, self._log)
            self._zygote_log.close()
            self._zygote_log = None
        if self._log is not None:
            self._log.close()
            self._log = None


def _safe_path_env() -> dict:
    """The environment, with neither the working folder nor a script's on ``sys.path``.

    The processes drop the variable once started, so kernels and what they run
    see the environment a kernel started by papermill sees.
    """
    return {**os.environ, "PYTHONSAFEPATH": "1", "COMPENDIUM_SAFEPATH_SET": "1"}


def _interpreter() -> list[str]:
    """The project kernel's interpreter and flags, to start the zygote with.

    The runners check at every job that the kernel spec still matches (see
    :func:`_kernel_mismatch`); when it does not, jobs run papermill inline.
    """
    try:
        from jupyter_client.kernelspec import KernelSpecManager

        argv = KernelSpecManager().get_kernel_spec(KERNEL_NAME).argv
        if "-m" in argv:
            return argv[: argv.index("-m")]
    except Exception:  # not registered yet: the workflow's first job registers it
        pass
    return [sys.executable, "-Xfrozen_modules=off"]
