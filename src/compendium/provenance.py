"""Where a result came from: the commit of the source tree it was built from."""

from __future__ import annotations

import functools
import subprocess
from pathlib import Path


@functools.lru_cache(maxsize=8)
def git_commit_cached(root: Path) -> str:
    """:func:`git_commit`, asked once per process (a warm-kernel runner serves one build)."""
    return git_commit(root)


def git_commit(root: Path) -> str:
    """Commit of the source tree (with ``+dirty`` when it has local changes), or "unknown"."""
    try:
        sha = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "--short=12", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        ).stdout.strip()
        return sha + ("+dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"
