"""The computed results of a build, their provenance, and what changed since the last build.

Every number the book prints is glued by a notebook (myst-nb ``glue``), so the
glued values of the executed notebooks *are* the book's results. Each
published build records them in ``build/results/published.json``; the next
build compares its own values with that record and writes the "What changed"
page, so a reviewer sees the effect of a data change at a glance.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from ..fsutil import write_if_changed
from ..report.escape import myst_text
from ..report.privacy import publishable_change

RECORD_MIME = "application/papermill.record/text/plain"
#: What the What changed page shows for a change that disclosure control withholds.
WITHHELD = "withheld (disclosure control)"
RECORD_FILE = "published.json"


def glued_values(nb) -> dict[str, str]:
    """Glued values of an executed notebook, as the text the book shows."""
    values = {}
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            name = out.get("metadata", {}).get("scrapbook", {}).get("name")
            if name and RECORD_MIME in out.get("data", {}):
                values[name] = str(out["data"][RECORD_MIME])
    return values


def provenance_markdown(metadata: dict) -> str:
    """A collapsed note giving where a page's numbers come from.

    Parameters
    ----------
    metadata : dict
        The executed notebook's metadata (``compendium`` and ``papermill`` keys).
    """
    comp = metadata.get("compendium", {})
    pm = metadata.get("papermill", {})
    params = {k: v for k, v in comp.get("parameters", {}).items() if k != "data_dirs"}
    shown = ", ".join(f"`{k}={v!r}`" for k, v in params.items()) or "none"
    slices = ", ".join(f"{k} `{v}`" for k, v in comp.get("slice_hashes", {}).items())
    started = str(pm.get("start_time", "")).replace("T", " ")[:19]
    data = "synthetic" if comp.get("synthetic", True) else "**not synthetic**"
    rows = [
        ("Data package", f"`{comp.get('data_package_hash', '?')}` ({data})"),
        ("Slices read", slices or "none (package tables only)"),
        ("Notebook", f"`{comp.get('template', '?')}`"),
        ("Parameters", shown),
        (
            "compendium",
            f"{comp.get('compendium_version', '?')}, commit `{comp.get('git_commit', '?')}`",
        ),
        ("Executed", f"{started} UTC in {pm.get('duration', 0):.1f} s"),
    ]
    table = "\n".join(f"| {k} | {v} |" for k, v in rows)
    return (
        ":::{admonition} Provenance\n:class: dropdown note\n\n"
        "Every number on this page was computed by the notebook below from the data "
        "package named here.\n\n| | |\n|---|---|\n" + table + "\n:::\n"
    )


def record(pages: dict[str, dict[str, str]], data_hash: str, commit: str) -> dict:
    """The record of one build: glued values by page, with what produced them."""
    return {"data_package_hash": data_hash, "git_commit": commit, "pages": pages}


def load_record(path: Path) -> dict | None:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return None


def save_record(path: Path, rec: dict) -> None:
    write_if_changed(path, json.dumps(rec, indent=1, sort_keys=True, ensure_ascii=False) + "\n")


def differences(previous: dict | None, current: dict) -> pd.DataFrame:
    """Values that differ between two records.

    Returns
    -------
    DataFrame
        ``page, name, before, after``; a page or value that appeared or
        disappeared has an empty ``before`` or ``after``.
    """
    rows = []
    before_pages = (previous or {}).get("pages", {})
    after_pages = current["pages"]
    for page in sorted(set(before_pages) | set(after_pages)):
        b, a = before_pages.get(page, {}), after_pages.get(page, {})
        for name in sorted(set(b) | set(a)):
            if name.endswith("_text") and name[: -len("_text")] in (set(b) | set(a)):
                continue  # the raw value speaks for its text twin
            if b.get(name) != a.get(name):
                rows.append(
                    {
                        "page": page,
                        "name": name,
                        "before": b.get(name, ""),
                        "after": a.get(name, ""),
                    }
                )
    return pd.DataFrame(rows, columns=["page", "name", "before", "after"])


def _cell(text: str) -> str:
    """A glued value's text in a MyST table cell, read as written (it may hold data)."""
    return myst_text(text.strip()) or "—"


def what_changed_markdown(previous: dict | None, current: dict, pages_present: set[str]) -> str:
    """The "What changed" page comparing this build with the previous published one."""
    out = ["(what-changed)=", "# What changed", ""]
    if previous is None:
        out.append(
            "This is the first published build in this build folder: there is nothing to "
            "compare with yet. The next build will list here every computed value that "
            "differs from this one."
        )
        return "\n".join(out) + "\n"
    diff = differences(previous, current)
    out.append(
        "Compared with the previous published build "
        f"(data package `{previous['data_package_hash']}`, "
        f"commit `{previous['git_commit']}`), this build (data package "
        f"`{current['data_package_hash']}`, commit `{current['git_commit']}`) "
        + (
            "changes no computed value."
            if diff.empty
            else f"changes {len(diff)} computed value(s). A change that could tell a count of "
            "fewer than five people (a withheld value, or a difference under five) is listed "
            "without its values:"
        )
    )
    if diff.empty:
        return "\n".join(out) + "\n"
    out += ["", "| Page | Value | Before | After |", "|---|---|---|---|"]
    for row in diff.itertuples(index=False):
        page = f"{{doc}}`{row.page}`" if row.page in pages_present else f"{row.page} (removed)"
        if publishable_change(row.before, row.after):
            before, after = _cell(row.before), _cell(row.after)
        else:  # the change itself could tell a small count
            before = after = WITHHELD
        out.append(f"| {page} | `{row.name}` | {before} | {after} |")
    return "\n".join(out) + "\n"
