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

import json
import os
import random
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from pathlib import Path

from .execute import KERNEL_NAME
from .paths import PACKAGE_DIR, ProjectPaths

#: ``COMPENDIUM_EXECUTOR=inline`` makes every job run by itself (papermill, Jupyter Book).
SWITCH = "COMPENDIUM_EXECUTOR"
#: Kernels the zygote keeps forked ahead (each holds the imported libraries' memory).
SPARES = 1
#: Imported once by the zygote, before the package's own modules.
PRELOAD = ("IPython.display", "myst_nb", "pandas", "seaborn", "statsmodels.api", "networkx")
_MPL_INLINE = "module://matplotlib_inline.backend_inline"
#: Imported by the book builder before the book job comes: Jupyter Book, Sphinx, the extensions.
BOOK_PRELOAD = (
    "compendium.book",
    "compendium.sphinx_fixes",
    "jupyter_book.cli.main",
    "jupyter_book.sphinx",
    "jupyter_book.config",
    "sphinx.application",
    "sphinx.builders.html",
    "myst_nb",
    "myst_nb.sphinx_ext",
    "sphinx_book_theme",
    "pydata_sphinx_theme",
    "sphinx_togglebutton",
    "sphinx_copybutton",
    "sphinx_design",
    "sphinx_comments",
    "sphinx_external_toc",
    "sphinx_jupyterbook_latex",
    "sphinx_multitoc_numbering",
    "sphinx_thebe",
    "sphinxcontrib.bibtex",
)


def enabled() -> bool:
    """Whether this platform and environment allow the service."""
    return (
        os.environ.get(SWITCH, "") != "inline"
        and hasattr(os, "fork")
        and hasattr(socket, "AF_UNIX")
    )


# -- client side: `compendium run-notebook` ---------------------------------------------------
class ServiceLost(RuntimeError):
    """The service went away while it ran the job (the build was stopped)."""


def submit(paths: ProjectPaths, job: dict, lane: str = "notebooks") -> dict | None:
    """Hand one job to the build's service and wait for its outcome.

    Returns
    -------
    dict or None
        ``{"failure": summary or None}``; None when no service takes the job
        (the caller then runs it itself).

    Raises
    ------
    ServiceLost
        When the service stopped after it took the job: the build is being
        stopped, so the job must not start again on its own.
    """
    if not enabled():
        return None
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(str(paths.executor_socket if lane == "notebooks" else paths.book_socket))
    except OSError:  # no socket, or a dead build's socket: no service
        sock.close()
        return None
    with sock:
        try:
            sock.sendall(json.dumps(job).encode() + b"\n")
            first = _read_line(sock)
        except OSError:
            first = b""
        if not first:  # the service closed before it took the job: nothing ran
            return None
        answer = json.loads(first)
        if "fallback" in answer:
            sys.stderr.write(
                f"the build's {lane} service declined ({answer['fallback']}); running here\n"
            )
            return None
        try:
            reply = _read_line(sock)
        except OSError:
            reply = b""
    if not reply:
        raise ServiceLost(f"the build's {lane} service stopped before the job finished")
    return json.loads(reply)


def _read_line(sock: socket.socket) -> bytes:
    buf = b""
    while not buf.endswith(b"\n"):
        chunk = sock.recv(65536)
        if not chunk:
            return b""
        buf += chunk
    return buf


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
            self.sockets[lane] = sock
        if self.eager:  # in the background: the build goes on validating and planning
            threading.Thread(target=self.start, args=("notebooks",), daemon=True).start()
        threading.Thread(target=self._start_on_demand, daemon=True).start()
        return self

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
            # The book builder's imports wait for the zygote's: at the start they would slow
            # the first notebooks down; later they only borrow a little of their time.
            def book_after_zygote() -> None:
                ready, self._zygote_ready = self._zygote_ready, None
                if ready is None:
                    return
                try:
                    os.read(ready, 1)
                finally:
                    os.close(ready)
                if self.warm_book:
                    self.start("book")

            threading.Thread(target=book_after_zygote, daemon=True).start()

    def _close(self, lane: str) -> None:
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
            zygote_fds = [p[0].fileno() for p in self._pairs]
            ready_r, ready_w = os.pipe()  # the zygote says when its imports are done
            self._zygote = subprocess.Popen(
                [
                    *_interpreter(),
                    "-m",
                    "compendium.executor",
                    "zygote",
                    "--lifeline",
                    str(self._lifeline[0]),
                    "--spares",
                    str(self.spares),
                    "--ready",
                    str(ready_w),
                    "--runners",
                    ",".join(map(str, zygote_fds)),
                ],
                pass_fds=[self._lifeline[0], ready_w, *zygote_fds],
                stdin=subprocess.DEVNULL,
                stdout=self._zygote_log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # Ctrl-C reaches the build, which stops us
                cwd=tempfile.gettempdir(),
                env=_safe_path_env(),
            )
            os.close(ready_w)
            self._zygote_ready = ready_r
            for a, _ in self._pairs:
                a.close()
            self.procs["notebooks"].append(self._zygote)

    def abort(self) -> None:
        """Stop a warmed-up zygote of a build that will not run."""
        self._stop.set()
        with self._lock:
            self._shut_down()

    def _start(self, lane: str) -> bool:
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
            lifeline = self._lifeline[0]
            listen = self.sockets[lane].fileno()
            common = dict(
                stdin=subprocess.DEVNULL,
                stdout=self._log,
                stderr=self._log,
                start_new_session=True,  # Ctrl-C reaches the build, which stops us
                cwd=str(self.paths.build_dir),
                env=_safe_path_env(),
            )
            me = [sys.executable, "-m", "compendium.executor"]
            where = [
                "--lifeline",
                str(lifeline),
                "--listen",
                str(listen),
                "--build",
                str(self.paths.build_dir),
            ]
            if lane == "book":
                self.procs[lane].append(
                    subprocess.Popen([*me, "book", *where], pass_fds=[lifeline, listen], **common)
                )
            else:
                for _, end in self._pairs:
                    self.procs[lane].append(
                        subprocess.Popen(
                            [*me, "runner", *where, "--zygote", str(end.fileno())],
                            pass_fds=[lifeline, listen, end.fileno()],
                            **common,
                        )
                    )
                    end.close()
                self._pairs = None
        return True

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
        self._stop.set()
        with self._lock:
            for lane, sock in self.sockets.items():
                sock.close()
                self._path(lane).unlink(missing_ok=True)
            self.sockets.clear()
            self._shut_down()

    def _shut_down(self) -> None:
        if self._lifeline is not None:
            os.close(self._lifeline[1])  # every process sees it close and leaves
            os.close(self._lifeline[0])
            self._lifeline = None
        for pair in self._pairs or ():
            pair[1].close()
        self._pairs = None
        deadline = time.monotonic() + 5
        for proc in (p for procs in self.procs.values() for p in procs):
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if self._zygote_log is not None:
            if self._log is not None:  # the zygote's messages join the service's log
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


def _kernel_mismatch(zygote_prefix: list[str]) -> str | None:
    """Why the registered project kernel is not what the zygote forks, or None."""
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        spec = KernelSpecManager().get_kernel_spec(KERNEL_NAME)
    except NoSuchKernel:
        return f"no kernel named {KERNEL_NAME!r}"
    argv = spec.argv
    expected_tail = ["-m", "ipykernel_launcher", "-f", "{connection_file}"]
    if len(argv) < 5 or argv[-4:] != expected_tail or spec.env:
        return f"kernel {KERNEL_NAME!r} is not a plain ipykernel launch"
    prefix = argv[:-4]
    try:
        # the same binary in the same bin folder: another venv's python resolves alike
        same = os.path.samefile(prefix[0], zygote_prefix[0]) and os.path.samefile(
            Path(prefix[0]).parent, Path(zygote_prefix[0]).parent
        )
    except OSError:
        same = False
    if not same or prefix[1:] != zygote_prefix[1:]:
        return f"kernel {KERNEL_NAME!r} runs {' '.join(prefix)}, not this interpreter"
    return None


# -- zygote -----------------------------------------------------------------------------------
def _preload() -> list[str]:
    """Import what notebooks import; return the modules that failed (the notebook will say why)."""
    import importlib
    import warnings

    from .plan import BUILD_MACHINERY

    names = list(PRELOAD) + sorted(
        f"compendium.{p.stem}"
        for p in PACKAGE_DIR.glob("*.py")
        if p.name not in BUILD_MACHINERY and p.stem not in {"__init__", "__main__", "executor"}
    )
    failed = []
    with warnings.catch_warnings(record=True) as caught:
        for name in names:
            try:
                importlib.import_module(name)
            except Exception:
                failed.append(name)
    for w in caught:  # a warning at import would show in a fresh kernel's first cell
        sys.stderr.write(f"executor: importing warned: {w.category.__name__}: {w.message}\n")
    return failed


def _zygote(args) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # kernels are reaped by the system: no zombies, and kill(pid, 0) tells whether one lives
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    # what ipykernel sets before any user code runs, so matplotlib imports as in a kernel
    if not os.environ.get("MPLBACKEND"):
        os.environ["MPLBACKEND"] = _MPL_INLINE
    import ipykernel.kernelapp  # noqa: F401
    from jupyter_client.connect import write_connection_file
    from jupyter_client.session import new_id_bytes

    failed = _preload()
    if failed:
        sys.stderr.write(f"executor: could not preload {', '.join(failed)}\n")
    if args.ready is not None:
        os.write(args.ready, b"r")
        os.close(args.ready)
    if threading.active_count() > 1:
        sys.stderr.write("executor: a preloaded module started a thread; kernels fork anyway\n")
    prefix = [sys.executable, *sys.orig_argv[1 : sys.orig_argv.index("-m")]]
    lifeline = args.lifeline
    runners = [socket.socket(fileno=int(fd)) for fd in args.runners.split(",")]
    home = Path(tempfile.mkdtemp(prefix="compendium-kernels-"))
    zygote_cwd = os.getcwd()
    spares: list[dict] = []
    buffers: dict[int, bytes] = {r.fileno(): b"" for r in runners}

    def fork_kernel() -> dict:
        kdir = Path(tempfile.mkdtemp(prefix="k", dir=home))
        conn_file = kdir / "kernel.json"
        # Unix sockets when their paths are short enough (about 100 bytes), else local TCP
        ipc = len(os.fsencode(kdir / "ipc")) < 90
        write_connection_file(
            str(conn_file),
            ip=str(kdir / "ipc") if ipc else "127.0.0.1",
            transport="ipc" if ipc else "tcp",
            key=new_id_bytes(),
            kernel_name=KERNEL_NAME,
        )
        workdir = kdir / "work"
        workdir.mkdir()
        pid = os.fork()
        if pid == 0:
            _kernel_child(conn_file, workdir, zygote_cwd)
        return {"pid": pid, "connection_file": str(conn_file), "dir": str(kdir), "prefix": prefix}

    try:
        while True:
            while len(spares) < args.spares:
                spares.append(fork_kernel())
            ready, _, _ = select.select([lifeline, *runners], [], [])
            if lifeline in ready:
                return
            for r in ready:
                data = r.recv(4096)
                if not data:
                    runners.remove(r)
                    continue
                buffers[r.fileno()] += data
                while b"\n" in buffers[r.fileno()]:
                    _, buffers[r.fileno()] = buffers[r.fileno()].split(b"\n", 1)
                    kernel = None
                    while spares and kernel is None:
                        candidate = spares.pop(0)
                        if _alive(candidate["pid"]):
                            kernel = candidate
                        else:
                            shutil.rmtree(candidate["dir"], ignore_errors=True)
                    r.sendall(json.dumps(kernel or fork_kernel()).encode() + b"\n")
            if not runners:
                return
    finally:
        for k in spares:
            _kill(k["pid"])
        shutil.rmtree(home, ignore_errors=True)


def _kernel_child(conn_file: Path, workdir: Path, zygote_cwd: str) -> None:
    """In the forked child: become a kernel, as ``python -m ipykernel_launcher -f FILE`` would."""
    code = 1
    try:
        _close_inherited_fds()  # the zygote's pipes and sockets are not the kernel's
        for sig in (signal.SIGCHLD, signal.SIGTERM, signal.SIGPIPE):
            signal.signal(sig, signal.SIG_DFL if sig != signal.SIGPIPE else signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        os.chdir(workdir)
        if sys.path and sys.path[0] and Path(sys.path[0]) == Path(zygote_cwd):
            del sys.path[0]  # as ipykernel_launcher does; the kernel adds '' back
        if "numpy" in sys.modules:  # a new interpreter seeds numpy's global generator afresh
            sys.modules["numpy"].random.seed()
        random.seed()  # and Python's
        import ipykernel_launcher
        from ipykernel.kernelapp import IPKernelApp

        sys.argv = [ipykernel_launcher.__file__, "-f", str(conn_file)]
        app = IPKernelApp.instance()
        # parent_handle: the kernel leaves when the zygote dies
        app.initialize(["-f", str(conn_file), f"--IPKernelApp.parent_handle={os.getppid()}"])
        app.start()
        code = 0
    except SystemExit as stop:
        code = stop.code if isinstance(stop.code, int) else 0
    except BaseException:
        traceback.print_exc()
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


def _close_inherited_fds() -> None:
    for folder in ("/proc/self/fd", "/dev/fd"):
        try:
            fds = [int(name) for name in os.listdir(folder)]
        except (OSError, ValueError):
            continue
        for fd in fds:
            if fd > 2:
                try:
                    os.close(fd)
                except OSError:
                    pass  # the listing's own descriptor, closed already
        return
    os.closerange(3, 4096)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


# -- runner -----------------------------------------------------------------------------------
class ForkedKernel:
    """What papermill's client needs of a kernel manager, for a kernel the zygote forked.

    The kernel is the zygote's child, reaped by the system the moment it dies,
    so it is alive exactly while its pid exists; that, not the heartbeat (which
    a busy machine can delay), tells the client when a kernel died.
    """

    has_kernel = True
    ipykernel = True

    def __init__(self, info: dict):
        self.pid = info["pid"]
        self.connection_file = info["connection_file"]
        self.dir = info["dir"]
        self.kernel_id = f"forked-{self.pid}"
        self.clients: list = []

    def client(self, **kwargs):
        from jupyter_client.asynchronous import AsyncKernelClient

        pid = self.pid

        class Client(AsyncKernelClient):
            async def _async_is_alive(self) -> bool:
                return _alive(pid)

            is_alive = _async_is_alive

        kc = Client(connection_file=self.connection_file, **kwargs)
        kc.load_connection_file()
        self.clients.append(kc)
        return kc

    def is_alive(self) -> bool:
        return _alive(self.pid)

    def interrupt_kernel(self) -> None:
        os.kill(self.pid, signal.SIGINT)

    def shutdown_kernel(self, now: bool = False, restart: bool = False) -> None:
        _kill(self.pid)

    def cleanup_resources(self, restart: bool = False) -> None:
        pass

    def close(self) -> None:
        """Kill the kernel, close its channels, remove its files."""
        _kill(self.pid)
        for kc in self.clients:
            try:
                kc.stop_channels()
            except Exception:
                pass
        shutil.rmtree(self.dir, ignore_errors=True)


def _peer_is_owner(conn: socket.socket) -> bool:
    if not hasattr(socket, "SO_PEERCRED"):
        return True  # the socket file is the owner's only (mode 0600)
    creds = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    _, uid, _ = struct.unpack("3i", creds)
    return uid == os.getuid()


def _accept_jobs(args, serve) -> None:
    """Take jobs from the shared socket, one at a time, until the build's lifeline closes."""
    lifeline = args.lifeline
    listen = socket.socket(fileno=args.listen)
    listen.setblocking(False)  # workers share it: another may take the job first
    while True:
        ready, _, _ = select.select([lifeline, listen], [], [])
        if lifeline in ready:
            return
        try:
            conn, _ = listen.accept()
        except (BlockingIOError, InterruptedError):
            continue
        with conn:
            conn.setblocking(True)
            if _peer_is_owner(conn):
                serve(conn)


def _read_job(conn: socket.socket, build_dir: Path) -> tuple[dict, ProjectPaths] | None:
    try:
        job = json.loads(_read_line(conn) or b"{}")
        paths = ProjectPaths(
            root=Path(job["root"]),
            data_dir=Path(job["data"]),
            build_dir=Path(job["build"]),
            html_dir=Path(job["html"]),
        )
    except (ValueError, KeyError, TypeError):
        return None
    if paths.build_dir != build_dir:
        _say(conn, {"fallback": "the service belongs to another build"})
        return None
    return job, paths


def _failure_reply(service: str) -> dict:
    """A job's reply when the service itself raised: one line, then the traceback indented."""
    trace = traceback.format_exc().rstrip().replace("\n", "\n    ")
    return {"failure": f"the {service} service failed:\n    {trace}"}


def _say(conn: socket.socket, message: dict) -> None:
    conn.sendall(json.dumps(message).encode() + b"\n")


def _runner(args) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    import papermill  # noqa: F401  (once per runner, not once per notebook)

    from .cli.run_notebook import execute

    zygote = socket.socket(fileno=args.zygote)
    build_dir = Path(args.build)
    _accept_jobs(args, lambda conn: _serve(conn, zygote, args.lifeline, build_dir, execute))


def _book(args) -> None:
    """The book builder: Jupyter Book, Sphinx and its extensions imported before the book job."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    import importlib

    from .cli.build_book import execute

    for name in BOOK_PRELOAD:
        try:
            importlib.import_module(name)
        except Exception:
            sys.stderr.write(f"executor: could not preload {name}\n")
    build_dir = Path(args.build)

    def serve(conn) -> None:
        got = _read_job(conn, build_dir)
        if got is None:
            return
        job, paths = got
        _say(conn, {"accepted": True})
        done = threading.Event()

        def watch() -> None:
            # the job's client hung up (its build stopped) or the build died: stop here
            ready, _, _ = select.select([conn, args.lifeline], [], [])
            if not done.is_set() and (args.lifeline in ready or not conn.recv(64)):
                os._exit(1)

        threading.Thread(target=watch, daemon=True).start()
        try:
            reply = {"failure": execute(paths, Path(job["sentinel"]))}
        except Exception:
            reply = _failure_reply("book")
        done.set()
        _say(conn, reply)
        # one book per build: Sphinx's global state is not for a second one
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)

    _accept_jobs(args, serve)


def _serve(conn, zygote, lifeline, build_dir, execute) -> None:
    def say(message: dict) -> None:
        _say(conn, message)

    got = _read_job(conn, build_dir)
    if got is None:
        return
    job, paths = got
    try:
        zygote.sendall(b"kernel\n")
        info = json.loads(_read_line(zygote))
        mismatch = _kernel_mismatch(info["prefix"])
    except (OSError, ValueError, KeyError) as err:
        mismatch, info = f"no kernel from the zygote ({err or type(err).__name__})", None
    if mismatch:
        if info:
            ForkedKernel(info).close()
        say({"fallback": mismatch})
        return
    kernel = ForkedKernel(info)
    wake_r, wake_w = os.pipe()  # the job is done: the watcher stops at once

    def watch() -> None:
        # the job's client hung up (its build stopped) or the build died: stop the kernel
        while True:
            ready, _, _ = select.select([conn, lifeline, wake_r], [], [])
            if wake_r in ready:
                return
            if lifeline in ready or not conn.recv(64):
                kernel.shutdown_kernel()
                return

    try:
        say({"accepted": True})
    except OSError:
        kernel.close()
        os.close(wake_r)
        os.close(wake_w)
        return
    watcher = threading.Thread(target=watch, name="executor-watch", daemon=True)
    watcher.start()
    try:
        failure = execute(
            paths, job["kind"], job["target"], Path(job["out"]), Path(job["log"]), kernel=kernel
        )
        reply = {"failure": failure}
    except Exception:
        reply = _failure_reply("notebook")
    finally:
        os.write(wake_w, b"x")
        watcher.join()
        os.close(wake_r)
        os.close(wake_w)
    try:
        say(reply)
    except OSError:
        pass
    finally:
        kernel.close()


def main(argv: list[str] | None = None) -> None:
    import argparse

    if os.environ.pop("COMPENDIUM_SAFEPATH_SET", None):
        os.environ.pop("PYTHONSAFEPATH", None)

    parser = argparse.ArgumentParser(prog="python -m compendium.executor")
    parser.add_argument("role", choices=["zygote", "runner", "book"])
    parser.add_argument("--lifeline", type=int, required=True)
    parser.add_argument("--spares", type=int, default=SPARES)
    parser.add_argument("--ready", type=int)
    parser.add_argument("--runners", default="")
    parser.add_argument("--listen", type=int)
    parser.add_argument("--zygote", type=int)
    parser.add_argument("--build")
    args = parser.parse_args(argv)
    try:
        {"zygote": _zygote, "runner": _runner, "book": _book}[args.role](args)
    finally:
        # no interpreter teardown of pandas, matplotlib and co.: it takes most of a second
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)


if __name__ == "__main__":
    main()
