"""Commands run, timed and watched: wall-clock seconds, exit code, output, process-tree memory."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path

PYTHON = sys.executable
#: the script a worker process runs (``--worker``): the statistics benchmarks' entry point
RUN = Path(__file__).resolve().parent.parent / "run.py"


def role(cmdline: list[str]) -> str:
    """What a process of a build is, from its command line."""
    text = " ".join(cmdline)
    for needle, name in (
        ("compendium.run.kernels zygote", "zygote"),
        ("compendium.run.kernels runner", "runner"),
        ("compendium.run.book_builder book", "book builder"),
        ("ipykernel", "kernel"),
        ("compendium.build.orchestrate", "snakemake"),
        ("-m snakemake", "snakemake"),
        ("run-notebook", "job client"),
        ("build-book", "job client"),
        ("compendium build", "compendium build"),
        ("jupyter_book", "jupyter-book"),
        ("papermill", "papermill"),
    ):
        if needle in text:
            return name
    return "other"


class TreeMemory:
    """Samples the summed RSS (and PSS) of a process and all its descendants.

    Also keeps, at the peak, the RSS by kind of process, and the CPU time each
    kind used (the last sample of each process: approximate for short ones).
    Kernels forked by the zygote show as "zygote" children: named "kernel".

    Parameters
    ----------
    pid : int
        The root of the tree.
    every : float
        Seconds between samples.
    """

    def __init__(self, pid: int, every: float = 0.25):
        self.pid, self.every = pid, every
        self.peak_rss = 0
        self.peak_pss = 0
        self.peak_processes = 0
        self.peak_by_role: dict[str, int] = {}
        self.peak_biggest: list = []
        self._cpu: dict[int, tuple[str, float]] = {}
        self._args: dict[int, list[str]] = {}
        self._last: dict = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    @property
    def cpu_by_role(self) -> dict[str, float]:
        """CPU seconds by kind of process, largest first."""
        out: dict[str, float] = {}
        for name, seconds in self._cpu.values():
            out[name] = out.get(name, 0.0) + seconds
        return {k: round(v, 1) for k, v in sorted(out.items(), key=lambda kv: -kv[1])}

    def _run(self):
        import psutil

        try:
            root = psutil.Process(self.pid)
        except psutil.Error:
            return
        tick = 0
        names: dict[int, str] = {}
        while not self._stop.is_set():
            try:
                procs = [root, *root.children(recursive=True)]
            except psutil.Error:
                return
            rss = pss = 0
            by_role: dict[str, int] = {}
            current: dict = {}
            self._last = current
            for p in procs:
                try:
                    if p.pid not in names:
                        name = role(p.cmdline())
                        if names.get(p.ppid()) == "zygote":  # forked: the zygote's command line
                            name = "kernel"
                        names[p.pid] = name
                    mem = p.memory_info().rss
                    if p.pid not in self._args:
                        self._args[p.pid] = p.cmdline()
                    current[p] = mem
                    rss += mem
                    by_role[names[p.pid]] = by_role.get(names[p.pid], 0) + mem
                    cpu = p.cpu_times()
                    self._cpu[p.pid] = (names[p.pid], cpu.user + cpu.system)
                    if tick % 4 == 0:  # PSS reads smaps: less often
                        pss += p.memory_full_info().pss
                except (psutil.Error, AttributeError):
                    pass
            if rss > self.peak_rss:
                self.peak_rss, self.peak_by_role = rss, by_role
                self.peak_biggest = sorted(
                    (
                        (names.get(p.pid, "?"), " ".join(self._args.get(p.pid, []))[-60:], m)
                        for p, m in self._last.items()
                    ),
                    key=lambda t: -t[2],
                )[:6]
            if tick % 4 == 0:
                self.peak_pss = max(self.peak_pss, pss)
            self.peak_processes = max(self.peak_processes, len(procs))
            tick += 1
            self._stop.wait(self.every)


def timed(cmd: list[str], env: dict, log: Path, memory: bool = False, timeout: int = 7200) -> dict:
    """Run ``cmd``; return seconds, exit code, output and (optionally) peak tree memory.

    Parameters
    ----------
    cmd : list of str
        The command line.
    env : dict
        Its whole environment.
    log : Path
        Where its standard output and error go (read back as ``output``).
    memory : bool
        Whether to sample its process tree's memory (:class:`TreeMemory`).
    timeout : int
        Seconds before :class:`subprocess.TimeoutExpired`.

    Returns
    -------
    dict
        ``seconds``, ``rc``, ``output``; with ``memory``, also ``peak_rss``,
        ``peak_pss``, ``peak_processes``, ``peak_rss_by_role``, ``cpu_by_role``
        and ``peak_biggest``.
    """
    log.parent.mkdir(parents=True, exist_ok=True)
    t0 = time.monotonic()
    with open(log, "w", encoding="utf-8") as out:
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT, text=True)
        sampler = TreeMemory(proc.pid) if memory else None
        if sampler:
            sampler.__enter__()
        try:
            rc = proc.wait(timeout=timeout)
        finally:
            if sampler:
                sampler.__exit__()
    seconds = time.monotonic() - t0
    result = {"seconds": seconds, "rc": rc, "output": log.read_text(encoding="utf-8")}
    if sampler:
        result |= {
            "peak_rss": sampler.peak_rss,
            "peak_pss": sampler.peak_pss,
            "peak_processes": sampler.peak_processes,
            "peak_rss_by_role": sampler.peak_by_role,
            "cpu_by_role": sampler.cpu_by_role,
            "peak_biggest": sampler.peak_biggest,
        }
    return result


def require_ok(result: dict, what: str) -> None:
    """Stop the benchmark, with the last lines of its output, when a step failed."""
    if result["rc"] != 0:
        tail = "\n".join(result["output"].splitlines()[-25:])
        raise SystemExit(f"benchmark step failed: {what} (exit {result['rc']})\n{tail}")


def run_worker(kind: str, env: dict, scratch: Path, args: list[str]) -> dict:
    """Run a statistics benchmark in its own process (its memory is its own).

    Parameters
    ----------
    kind : str
        ``coding`` or ``outcomes``: ``run.py --worker KIND``.
    env : dict
        The worker's environment (the workspace's: it imports the package snapshot).
    scratch : Path
        Where its log and its JSON answer go.
    args : list of str
        Its sizes and repetitions, as ``--size ...``.

    Returns
    -------
    dict
        What the worker wrote, with ``peak_rss_tree``: its process tree's peak RSS.
    """
    out = scratch / f"{kind}.json"
    r = timed(
        [PYTHON, str(RUN), "--worker", kind, "--worker-out", str(out), *args],
        env,
        scratch / f"{kind}.log",
        memory=True,
    )
    require_ok(r, f"{kind} benchmark")
    result = json.loads(out.read_text())
    result["peak_rss_tree"] = r["peak_rss"]
    return result
