"""What a benchmark ran on: cores, CPU, memory, Python, load."""

from __future__ import annotations

import os
import platform
from pathlib import Path


def machine() -> dict:
    """Cores, platform, Python version, load average now, and (from /proc) CPU and memory.

    Returns
    -------
    dict
        ``nproc``, ``platform``, ``python``, ``load_average_start``, and where
        /proc has them ``cpu`` and ``memory_gb``.
    """
    info = {
        "nproc": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "load_average_start": load_average(),
    }
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                info["memory_gb"] = round(int(line.split()[1]) / 1024**2, 1)
    except OSError:
        info["cpu"] = platform.processor()
    return info


def load_average() -> tuple[float, float, float] | None:
    """The 1, 5 and 15 minute load averages; None where the platform has none."""
    return os.getloadavg() if hasattr(os, "getloadavg") else None
