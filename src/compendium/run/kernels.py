"""The notebook lane of the warm-kernel service: a zygote that forks a fresh kernel for every
notebook, and runners that execute notebooks on them with papermill.

Started by :class:`compendium.run.service.Service` as ``python -m compendium.run.kernels
zygote|runner``.
"""

from __future__ import annotations

import json
import os
import random
import select
import shutil
import signal
import socket
import sys
import tempfile
import threading
import traceback
from pathlib import Path

from .execute import KERNEL_NAME
from .protocol import accept_jobs, failure_reply, lane_main, read_job, read_line, say

#: Imported once by the zygote, before the package's own modules.
PRELOAD = ("IPython.display", "myst_nb", "pandas", "seaborn", "statsmodels.api", "networkx")
#: The package's folders whose modules notebooks import; the zygote imports them all.
NOTEBOOK_PACKAGES = ("compendium.data", "compendium.analysis", "compendium.report")


_MPL_INLINE = "module://matplotlib_inline.backend_inline"


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
    import pkgutil
    import warnings

    names = list(PRELOAD)
    for package in NOTEBOOK_PACKAGES:
        module = importlib.import_module(package)
        if hasattr(module, "__path__"):  # a package: its modules too (a module is imported)
            names += [m.name for m in pkgutil.iter_modules(module.__path__, prefix=f"{package}.")]
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
        # the build folder: the data folders a job's parameters name are relative to it
        workdir = Path(args.build) if args.build else kdir / "work"
        workdir.mkdir(exist_ok=bool(args.build))
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


def _runner(args) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    import papermill  # noqa: F401  (once per runner, not once per notebook)

    from .notebook_job import execute

    zygote = socket.socket(fileno=args.zygote)
    build_dir = Path(args.build)
    accept_jobs(args, lambda conn: _serve(conn, zygote, args.lifeline, build_dir, execute))


def _serve(conn, zygote, lifeline, build_dir, execute) -> None:
    def tell(message: dict) -> None:
        say(conn, message)

    got = read_job(conn, build_dir)
    if got is None:
        return
    job, paths = got
    try:
        zygote.sendall(b"kernel\n")
        info = json.loads(read_line(zygote))
        mismatch = _kernel_mismatch(info["prefix"])
    except (OSError, ValueError, KeyError) as err:
        mismatch, info = f"no kernel from the zygote ({err or type(err).__name__})", None
    if mismatch:
        if info:
            ForkedKernel(info).close()
        tell({"fallback": mismatch})
        return
    kernel = ForkedKernel(info)
    wake_r, wake_w = os.pipe()  # the job is done: the watcher stops at once
    stopped = threading.Event()

    def watch() -> None:
        # the job's client hung up (its build stopped) or the build died: stop the kernel
        while True:
            ready, _, _ = select.select([conn, lifeline, wake_r], [], [])
            if wake_r in ready:
                return
            if lifeline in ready or not conn.recv(64):
                stopped.set()
                kernel.shutdown_kernel()
                return

    try:
        tell({"accepted": True})
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
        reply = failure_reply("notebook")
    finally:
        os.write(wake_w, b"x")
        watcher.join()
        os.close(wake_r)
        os.close(wake_w)
    try:
        # a job cut short by the build stopping gets no outcome: its client reports the
        # service lost (ServiceLost), not a failure of the notebook
        if not stopped.is_set():
            tell(reply)
    except OSError:
        pass
    finally:
        kernel.close()


def main(argv: list[str] | None = None) -> None:
    lane_main("python -m compendium.run.kernels", {"zygote": _zygote, "runner": _runner}, argv)


if __name__ == "__main__":
    main()
