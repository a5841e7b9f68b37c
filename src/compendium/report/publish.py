"""Tables and glued values as the notebooks publish them: readable, under disclosure control.

Numbers reach the book's text only through myst-nb ``glue``; :func:`glue_values`
glues each value both raw (for ``{glue:text}`name:.2f```) and as ready-made
text (``name_text``), where a value that is undefined reads "undefined"
instead of "nan".
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

import pandas as pd

from . import privacy
from .escape import html_table
from .prose import count_text, fmt, readable


def table(
    df: pd.DataFrame,
    labels: Mapping[str, str] | None = None,
    codes: tuple[str, ...] = (),
    digits: int = 2,
    counts: tuple[str, ...] = (),
    denominator: str | None = None,
):
    """``df`` styled for the book: code columns made readable, columns renamed, no index.

    Every published table goes through here, so disclosure control and HTML escaping
    are applied here: every cell and column label is escaped
    (:func:`compendium.report.escape.html_table`), so a name reads as written. For
    disclosure control, ``counts`` name the columns that count people or their records; their
    small cells are suppressed (:func:`compendium.report.privacy.suppress_counts`), and
    when ``denominator`` (one of ``counts``) is small, the row's rates are hidden
    too, since a rate over fewer than five people discloses them.

    Parameters
    ----------
    labels : mapping, optional
        Column renames (``{"n": "Organizations"}``); other columns get a readable name.
    codes : tuple of str
        Columns holding vocabulary codes to show as words.
    counts : tuple of str
        Columns of person counts, subject to small-cell suppression.
    denominator : str, optional
        Count column that rates in the row are computed over.

    Returns
    -------
    pandas.io.formats.style.Styler
    """
    out = df.reset_index(drop=True).copy()
    for col in codes:
        out[col] = out[col].map(readable)
    floats = [c for c in out.columns if pd.api.types.is_float_dtype(out[c])]
    if denominator is not None:
        small = out[denominator].between(1, privacy.THRESHOLD - 1)
        for col in floats:
            out[col] = out[col].astype(object).where(~small, privacy.SMALL_MARK)
    if counts:
        out = privacy.suppress_counts(out, count_columns=list(counts))
    names = {c: (labels or {}).get(c, readable(c)) for c in out.columns}
    out = out.rename(columns=names)
    formats = {
        names[c]: (lambda v, d=digits: v if isinstance(v, str) else fmt(v, d)) for c in floats
    }
    classes = "compendium-table compendium-counts" if counts else "compendium-table"
    # The table's HTML id from its content, not at random: the same results give the
    # same notebook bytes (and the book's incremental build skips an unchanged page).
    uuid = hashlib.sha256(out.to_csv(index=False).encode()).hexdigest()[:8]
    return (
        html_table(out.style.hide(axis="index"), formats)
        .set_table_attributes(f'class="{classes}"')
        .set_uuid(uuid)
    )


def glue_values(
    values: Mapping[str, object], digits: int = 2, counts: tuple[str, ...] = ()
) -> None:
    """Glue each value raw and as text (``<name>_text``), without displaying anything.

    Values named in ``counts`` are person counts: their text is suppressed
    below five (:func:`count_text`), and so is their raw value.

    Each value is glued as plain text (``text/plain``), which ``{glue:text}`` pastes as text,
    never parsed as Markdown: a string from the data needs no escaping here
    (:mod:`compendium.report.escape`).
    """
    from myst_nb import glue

    for name, value in values.items():
        raw = value.item() if hasattr(value, "item") else value
        if raw is pd.NA:
            raw = None
        if name in counts:
            text = count_text(raw)
            raw = text if "<" in text else raw
        else:
            text = fmt(raw, digits=0 if isinstance(raw, int) else digits)
        glue(name, raw, display=False)
        glue(f"{name}_text", text, display=False)


#: Display names of the columns the notebooks show.
SUMMARY_LABELS = {
    "name": "Network",
    "network_id": "Network",
    "model": "Model",
    "n_organizations": "Organizations",
    "n_ties": "Ties",
    "density": "Density",
    "degree_centralization": "Centralization",
    "hhi": "HHI",
    "n_in_place": "Strategies in place",
    "scope": "Scope",
    "coherence": "Coherence",
    "leutz_level": "Leutz",
    "ahgren_axelsson_step": "Ahgren–Axelsson",
    "n_episodes": "Discharges",
    "fuh7_rate": "FUH-7",
    "fuh30_rate": "FUH-30",
    "readmission30_rate": "Readmitted ≤30 d",
    "mean_coc": "COC",
    "mean_upc": "UPC",
    "mean_story_retold": "Story retold",
    "contacts_per_person": "Contacts / person",
    "n_networks": "Networks",
    "mean_scope": "Mean scope",
    "mean_coherence": "Mean coherence",
    "mean_gaps": "Mean gaps",
}
