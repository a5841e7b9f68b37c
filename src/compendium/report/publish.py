"""Tables and glued values as the notebooks publish them: readable, under disclosure control.

Numbers reach the book's text only through myst-nb ``glue``; :func:`glue_values`
glues each value both raw (for ``{glue:text}`name:.2f```) and as ready-made
text (``name_text``), where a value that is undefined reads "undefined"
instead of "nan".
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence

import pandas as pd

from . import privacy
from .escape import html_table, html_text
from .privacy import OUTCOME_RATES  # the notebooks name them here
from .prose import count_text, fmt, readable

#: Which totals of a count table its readers know: shown in the table, or published
#: elsewhere in the book (e.g. each network's number of discharges on its own page).
TOTALS = ("none", "rows", "columns", "both")


def protected(
    df: pd.DataFrame,
    counts: tuple[str, ...] = (),
    totals: str | None = None,
    denominator: str | None = None,
    rates: Mapping[str, str] | None = None,
    what: str = "table",
    withheld: Mapping[str, Sequence[str]] | None = None,
    key: str = "network_id",
) -> pd.DataFrame:
    """``df`` under disclosure control, as a table or a figure may publish it.

    Parameters
    ----------
    counts : tuple of str
        Columns counting people or their records: small ones are withheld, with
        complements (:func:`compendium.report.privacy.suppress_counts`).
    totals : {"none", "rows", "columns", "both"}
        Which totals of the count columns readers know; required with counts,
        because what a hidden count can be worked back from depends on it.
    denominator : str, optional
        A count column that rates of the row are computed over: its small
        values hide the row's rates and means.
    rates : mapping of str to str, optional
        Rate columns over ``denominator`` -> what they count, in words; a rate
        is withheld too when the people it counts, or the others, are fewer than
        five (:func:`compendium.report.privacy.suppress_rates`).
    what : str
        How an error names the table.
    withheld : mapping, optional
        The book's decisions (``data.slices.withheld``): the values each row's
        ``key`` withholds on every page, kept withheld here.
    key : str
        The column naming each row in ``withheld``.
    """
    out = df.reset_index(drop=True).copy()
    if not counts and denominator is None:
        return out
    if totals not in TOTALS:
        raise ValueError(
            f"{what}: say which totals of the counts readers know: totals= one of {TOTALS}"
        )
    rows, columns = totals in ("rows", "both"), totals in ("columns", "both")
    if denominator is not None and set(counts) - {denominator}:
        raise ValueError(f"{what}: with a denominator, it is the only count column")
    try:
        if denominator is not None:
            decided = {}
            if withheld and key in out.columns:
                decided = {r: withheld.get(str(v), ()) for r, v in out[key].items()}
            return privacy.suppress_rates(
                out,
                denominator,
                rates or {},
                column_totals_known=columns,
                withheld=decided,
                what=what,
            )
        return privacy.suppress_counts(
            out,
            count_columns=list(counts),
            row_totals_known=rows,
            column_totals_known=columns,
            what=what,
        )
    except privacy.DisclosureError as err:
        return all_withheld(out, counts, denominator, rates, str(err))


#: What every count and rate of a table that cannot be protected is replaced by.
WITHHELD = "withheld"


def all_withheld(
    df: pd.DataFrame,
    counts: tuple[str, ...],
    denominator: str | None,
    rates: Mapping[str, str] | None,
    why: str,
) -> pd.DataFrame:
    """``df`` with every count, rate and mean withheld: a table no complement can protect.

    The labels stay, so readers see what the table is about; ``why`` (the
    :class:`~compendium.report.privacy.DisclosureError`'s message) is kept in
    ``attrs["withheld"]``, and :func:`table` prints it under the table.
    """
    out = df.copy()
    numbers = {*counts, *(rates or {}), *([denominator] if denominator else [])}
    numbers |= {c for c in out.columns if pd.api.types.is_float_dtype(out[c])}
    for column in numbers:
        out[column] = WITHHELD
    out.attrs["withheld"] = why
    return out


def numeric(df: pd.DataFrame, column: str) -> pd.DataFrame:
    """``df`` with ``column`` as numbers, withheld values missing (for a figure)."""
    return df.assign(**{column: pd.to_numeric(df[column], errors="coerce")})


def table(
    df: pd.DataFrame,
    labels: Mapping[str, str] | None = None,
    codes: tuple[str, ...] = (),
    digits: int = 2,
    counts: tuple[str, ...] = (),
    denominator: str | None = None,
    *,
    totals: str | None = None,
    rates: Mapping[str, str] | None = None,
    what: str = "table",
    withheld: Mapping[str, Sequence[str]] | None = None,
    key: str = "network_id",
):
    """``df`` styled for the book: code columns made readable, columns renamed, no index.

    Every published table goes through here, so disclosure control and HTML escaping
    are applied here: disclosure control by :func:`protected` (``counts``, ``totals``,
    ``denominator`` and ``rates`` say what is counted and what readers know), then every
    cell and column label is escaped (:func:`compendium.report.escape.html_table`), so a
    name reads as written.

    Parameters
    ----------
    labels : mapping, optional
        Column renames (``{"n": "Organizations"}``); other columns get a readable name.
    codes : tuple of str
        Columns holding vocabulary codes to show as words.
    digits : int
        Decimals of the float columns.

    Returns
    -------
    pandas.io.formats.style.Styler
    """
    floats = [c for c in df.columns if pd.api.types.is_float_dtype(df[c])]
    out = protected(df, counts, totals, denominator, rates, what, withheld, key)
    if withheld is not None:  # the key named the rows for the decisions; it is not shown
        out = out.drop(columns=[key], errors="ignore")
    for col in codes:
        out[col] = out[col].map(readable)
    names = {c: (labels or {}).get(c, readable(c)) for c in out.columns}
    out = out.rename(columns=names)
    formats = {
        names[c]: (lambda v, d=digits: v if isinstance(v, str) else fmt(v, d)) for c in floats
    }
    classes = "compendium-table compendium-counts" if counts else "compendium-table"
    why = out.attrs.get("withheld")
    # The table's HTML id from its content, not at random: the same results give the
    # same notebook bytes (and the book's incremental build skips an unchanged page).
    uuid = hashlib.sha256(out.to_csv(index=False).encode()).hexdigest()[:8]
    styled = (
        html_table(out.style.hide(axis="index"), formats)
        .set_table_attributes(f'class="{classes}"')
        .set_uuid(uuid)
    )
    if why:  # a table no complement could protect: its numbers are withheld, and it says why
        styled = styled.set_caption(
            html_text(
                "Every count and rate of this table is withheld by disclosure control: "
                + why.split(": ", 1)[-1]
            )
        )
    return styled


def glue_values(
    values: Mapping[str, object],
    digits: int = 2,
    counts: tuple[str, ...] = (),
    withheld=(),
) -> None:
    """Glue each value raw and as text (``<name>_text``), without displaying anything.

    Values named in ``counts`` are person counts: their text is suppressed
    below five (:func:`count_text`), and so is their raw value. Values named in
    ``withheld`` are glued as :data:`WITHHELD` (the book's decision for them).

    Each value is glued as plain text (``text/plain``), which ``{glue:text}`` pastes as text,
    never parsed as Markdown: a string from the data needs no escaping here
    (:mod:`compendium.report.escape`).
    """
    from myst_nb import glue

    for name, value in values.items():
        raw = value.item() if hasattr(value, "item") else value
        if raw is pd.NA:
            raw = None
        if name in withheld:
            raw = text = WITHHELD
        elif name in counts:
            text = count_text(raw)
            raw = text if "<" in text else raw
        else:
            text = fmt(raw, digits=0 if isinstance(raw, int) else digits)
        glue(name, raw, display=False)
        glue(f"{name}_text", text, display=False)


def outcome_values(row: pd.Series, withheld=()) -> dict:
    """A network's outcome values as its page may glue them: a rate that would count
    fewer than five people, or that the book withholds, as :data:`WITHHELD`; the
    means over its people as well when they are fewer than five."""
    n = int(row["n_episodes"])
    out = {}
    for rate in OUTCOME_RATES:
        hidden = rate in withheld or not privacy.publishable_rate(row[rate], n)
        out[rate] = WITHHELD if hidden else row[rate]
    for mean in ("mean_coc", "mean_upc", "mean_story_retold", "contacts_per_person"):
        out[mean] = WITHHELD if privacy.is_small(n) else row[mean]
    return out


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
