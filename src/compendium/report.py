"""Helpers that notebooks use to show results: number formatting, readable tables, glue.

Numbers reach the book's text only through myst-nb ``glue``; :func:`glue_values`
glues each value both raw (for ``{glue:text}`name:.2f```) and as ready-made
text (``name_text``), where a value that is undefined reads "undefined"
instead of "nan".
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import pandas as pd

from .schema import SETTING_LABELS


def fmt(value, digits: int = 2, percent: bool = False) -> str:
    """Format a number for prose; NaN/None/NA read "undefined"."""
    if value is None or value is pd.NA:
        return "undefined"
    if isinstance(value, str):
        return value
    if isinstance(value, float) and math.isnan(value):
        return "undefined"
    if percent:
        return f"{100 * float(value):.{max(digits - 2, 0)}f} %"
    if isinstance(value, int) or (isinstance(value, float) and float(value).is_integer() and digits == 0):
        return f"{int(value):,}".replace(",", "\u202f")
    return f"{float(value):.{digits}f}"


def readable(code) -> str:
    """``urban_semi_urban`` -> ``Urban / semi-urban``; ``clinical_staff`` -> ``Clinical staff``."""
    if not isinstance(code, str):
        return code
    return SETTING_LABELS.get(code, code.replace("_", " ").capitalize())


def table(df: pd.DataFrame, labels: Mapping[str, str] | None = None, codes: tuple[str, ...] = (),
          digits: int = 2):
    """``df`` styled for the book: code columns made readable, columns renamed, no index.

    Returns
    -------
    pandas.io.formats.style.Styler

    Parameters
    ----------
    labels : mapping, optional
        Column renames (``{"n": "Organizations"}``); other columns get a readable name.
    codes : tuple of str
        Columns holding vocabulary codes to show as words.
    """
    out = df.copy()
    for col in codes:
        out[col] = out[col].map(readable)
    names = {c: (labels or {}).get(c, readable(c)) for c in out.columns}
    out = out.rename(columns=names).reset_index(drop=True)
    floats = [c for c in out.columns if pd.api.types.is_float_dtype(out[c])]
    return (
        out.style.hide(axis="index")
        .format({c: (lambda v, d=digits: fmt(v, d)) for c in floats})
        .set_table_attributes('class="compendium-table"')
    )


def glue_values(values: Mapping[str, object], digits: int = 2) -> None:
    """Glue each value raw and as text (``<name>_text``), without displaying anything."""
    from myst_nb import glue

    for name, value in values.items():
        raw = value.item() if hasattr(value, "item") else value
        if raw is pd.NA:
            raw = None
        glue(name, raw, display=False)
        glue(f"{name}_text", fmt(raw, digits=0 if isinstance(raw, int) else digits), display=False)
