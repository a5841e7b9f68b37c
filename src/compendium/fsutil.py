"""Small file-system helpers: atomic writes and content hashes.

Every file the build produces is written to a temporary file beside its
destination and moved into place with :func:`os.replace`, so a reader (or a
build killed half-way) never sees a half-written file. Files are rewritten only
when their content changes, which keeps modification times stable and lets
the workflow's time-based rules see "touched but unchanged" as unchanged.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path


def _file_mode() -> int:
    # mkstemp creates 0600 files; give outputs the mode an ordinary write would.
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


FILE_MODE = _file_mode()


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, FILE_MODE)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_if_changed(path: Path, data: bytes | str) -> bool:
    """Atomically write ``data`` unless ``path`` already holds exactly it.

    Returns
    -------
    bool
        True when the file was (re)written.
    """
    if isinstance(data, str):
        data = data.encode("utf-8")
    path = Path(path)
    try:
        if path.read_bytes() == data:
            return False
    except FileNotFoundError:
        pass
    atomic_write_bytes(path, data)
    return True


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def tree_digest(files: Iterable[Path], base: Path) -> str:
    """Content hash of several files, named relative to ``base`` (order-independent)."""
    h = hashlib.sha256()
    for p in sorted(Path(f) for f in files):
        h.update(str(p.relative_to(base)).encode())
        h.update(b"\0")
        h.update(hashlib.sha256(p.read_bytes()).digest())
    return h.hexdigest()
