"""The data dictionary page, generated from :mod:`compendium.data.schema`.

The book's data dictionary is written from the same declaration that
validates the data and produces ``datapackage.json``, so the three never
disagree.
"""

from __future__ import annotations

from ..data.schema import IDENTIFIER_PATTERN, TABLES, Field


def _allowed(f: Field) -> str:
    parts = []
    if f.enum is not None:
        parts.append(", ".join(f"`{v}`" for v in f.enum))
    if f.pattern == IDENTIFIER_PATTERN:
        parts.append("identifier: lower-case letters, digits, `_`, `-`")
    elif f.pattern is not None:
        parts.append(f"pattern `{f.pattern}`")
    if f.minimum is not None:
        parts.append(f"≥ {f.minimum:g}")
    if f.exclusive_minimum is not None:
        parts.append(f"> {f.exclusive_minimum:g}")
    if f.maximum is not None:
        parts.append(f"≤ {f.maximum:g}")
    if f.type == "date":
        parts.append("YYYY-MM-DD")
    if f.type == "boolean":
        parts.append("`true` / `false`")
    return "; ".join(parts)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def dictionary_markdown() -> str:
    """MyST page describing every table and field of the data package."""
    out = [
        "(data-dictionary)=",
        "# Data dictionary",
        "",
        "Every table of the data package, generated from the schema that validates the data "
        "(`compendium.data.schema`) and that writes `datapackage.json`. Empty cells are missing "
        "values; a field marked *required* may not be empty.",
        "",
    ]
    for t in TABLES:
        out += [f"## `{t.path}` — {t.title}", "", t.description, ""]
        key = ", ".join(f"`{k}`" for k in t.primary_key)
        out.append(f"Primary key: {key}.")
        for fk in t.foreign_keys:
            out.append(f"`{fk.fields[0]}` refers to `{fk.reference[0]}` of `{fk.resource}.csv`.")
        out += [
            "",
            "| Field | Type | Unit | Required | Allowed values | Description |",
            "|---|---|---|---|---|---|",
        ]
        for f in t.fields:
            out.append(
                f"| `{f.name}` | {f.type} | {f.unit or ''} | {'yes' if f.required else 'no'} | "
                f"{_cell(_allowed(f))} | {_cell(f.description)} |"
            )
        out.append("")
    return "\n".join(out) + "\n"
