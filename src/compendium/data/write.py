"""Write a data package: stable CSV bytes, the descriptor, content hashes, validated updates."""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import replace
from pathlib import Path

import pandas as pd

from ..fsutil import FILE_MODE, sha256_bytes, write_if_changed
from . import schema
from .problems import DataPackageError
from .read import DESCRIPTOR
from .schema import TABLES, TABLES_BY_NAME, Table
from .validate import validate


# -- writing ----------------------------------------------------------------
def table_to_csv(df: pd.DataFrame, table: Table) -> str:
    """Serialize a typed table exactly as the package stores it (stable bytes)."""
    cols = {}
    for f in table.fields:
        s = df[f.name]
        if f.type == "boolean":
            cols[f.name] = s.map({True: "true", False: "false"}).astype(object).where(s.notna(), "")
        elif f.type == "date":
            cols[f.name] = s.dt.strftime("%Y-%m-%d").astype(object).where(s.notna(), "")
        elif f.type == "integer":
            cols[f.name] = s.astype("Int64").astype(str).where(s.notna(), "")
        else:
            cols[f.name] = s.astype(object).where(s.notna(), "")
    return pd.DataFrame(cols).to_csv(index=False, lineterminator="\n")


def descriptor_json(name: str, title: str, description: str) -> str:
    return json.dumps(schema.datapackage_descriptor(name, title, description), indent=2) + "\n"


def write_package(
    tables: dict[str, pd.DataFrame], out_dir: Path, name: str, title: str, description: str
) -> list[Path]:
    """Write ``tables`` as a data package in ``out_dir``; unchanged files are left alone."""
    out_dir = Path(out_dir)
    written = []
    for table in TABLES:
        path = out_dir / table.path
        if write_if_changed(path, table_to_csv(tables[table.name], table)):
            written.append(path)
    path = out_dir / DESCRIPTOR
    if write_if_changed(path, descriptor_json(name, title, description)):
        written.append(path)
    return written


def content_hash(data_dir: Path) -> str:
    """Short content hash of a data package (its descriptor and tables)."""
    data_dir = Path(data_dir)
    parts = [(data_dir / t.path).read_bytes() for t in TABLES]
    return sha256_bytes(b"\0".join(parts))[:12]


def is_synthetic(tables: dict[str, pd.DataFrame]) -> bool:
    """True when every row of every table carries the synthetic flag."""
    flags = [df["synthetic"] for df in tables.values() if "synthetic" in df.columns and len(df)]
    return bool(flags) and all(bool(s.fillna(False).all()) for s in flags)


def update_tables(data_dir: Path, texts: dict[str, str], dry_run: bool = False) -> list[Path]:
    """Replace some CSV files of a data package, but only if the result is valid.

    The new files are staged beside links to the package's other files in a
    temporary folder, and that merged package is validated. Its problems are
    reported against ``data_dir``'s files, and nothing in ``data_dir`` changes.
    When it is valid, every new file is written to a temporary file first and
    then all of them are renamed into place, so a failed write leaves the
    package as it was.

    Parameters
    ----------
    data_dir : Path
        The data package to update.
    texts : dict of str to str
        New content (CSV text, header included) of some tables, by table name.
    dry_run : bool
        Validate only; write nothing.

    Returns
    -------
    list of Path
        The files whose content changes (with ``dry_run``, would change).

    Raises
    ------
    DataPackageError
        When the package with the new tables would not be valid.
    """
    data_dir = Path(data_dir)
    unknown = sorted(set(texts) - set(TABLES_BY_NAME))
    if unknown:
        raise ValueError(f"not tables of the data package: {', '.join(unknown)}")
    with tempfile.TemporaryDirectory(prefix="compendium-update-") as tmp:
        staged = Path(tmp)
        for name in [DESCRIPTOR] + [t.path for t in TABLES]:
            if (data_dir / name).exists():
                os.symlink((data_dir / name).resolve(), staged / name)
        for name, text in texts.items():
            path = staged / TABLES_BY_NAME[name].path
            path.unlink(missing_ok=True)
            path.write_text(text, encoding="utf-8")
        problems = validate(staged)
    if problems:
        where = str(staged)
        raise DataPackageError(
            [replace(p, file=p.file.replace(where, str(data_dir), 1)) for p in problems]
        )
    changed = []
    for name, text in texts.items():
        path = data_dir / TABLES_BY_NAME[name].path
        if not path.exists() or path.read_bytes() != text.encode("utf-8"):
            changed.append((path, text.encode("utf-8")))
    if dry_run:
        return [path for path, _ in changed]
    pending = []
    try:
        for path, data in changed:
            fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=data_dir)
            pending.append(tmp_name)
            os.fchmod(fd, FILE_MODE)
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
        for (path, _), tmp_name in zip(changed, pending, strict=True):
            os.replace(tmp_name, path)
    finally:
        for tmp_name in pending:
            Path(tmp_name).unlink(missing_ok=True)
    return [path for path, _ in changed]
