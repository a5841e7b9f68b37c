"""Helpers that notebooks use to show results: number formatting, readable tables, glue.

Numbers reach the book's text only through myst-nb ``glue``; :func:`glue_values`
glues each value both raw (for ``{glue:text}`name:.2f```) and as ready-made
text (``name_text``), where a value that is undefined reads "undefined"
instead of "nan".
"""

from __future__ import annotations

import hashlib
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
    if isinstance(value, int) or (
        isinstance(value, float) and float(value).is_integer() and digits == 0
    ):
        return f"{int(value):,}".replace(",", "\u202f")
    return f"{float(value):.{digits}f}"


def readable(code) -> str:
    """``urban_semi_urban`` -> ``Urban / semi-urban``; ``clinical_staff`` -> ``Clinical staff``."""
    if not isinstance(code, str):
        return code
    return SETTING_LABELS.get(code, code.replace("_", " ").capitalize())


def table(
    df: pd.DataFrame,
    labels: Mapping[str, str] | None = None,
    codes: tuple[str, ...] = (),
    digits: int = 2,
    counts: tuple[str, ...] = (),
    denominator: str | None = None,
):
    """``df`` styled for the book: code columns made readable, columns renamed, no index.

    Every published table goes through here, so disclosure control is applied
    here: ``counts`` name the columns that count people or their records; their
    small cells are suppressed (:func:`compendium.privacy.suppress_counts`), and
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
    from . import privacy

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
        out.style.hide(axis="index")
        .format(formats)
        .set_table_attributes(f'class="{classes}"')
        .set_uuid(uuid)
    )


def count_text(n) -> str:
    """A person count for prose, suppressed as "<5" when it is 1 to 4."""
    from . import privacy

    n = int(n)
    return privacy.SMALL_MARK if privacy.is_small(n) else fmt(n, digits=0)


def glue_values(
    values: Mapping[str, object], digits: int = 2, counts: tuple[str, ...] = ()
) -> None:
    """Glue each value raw and as text (``<name>_text``), without displaying anything.

    Values named in ``counts`` are person counts: their text is suppressed
    below five (:func:`count_text`), and so is their raw value.
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


def model_sentence(model_row, n_gaps: int) -> str:
    """One sentence on a network's model (from ``assign_model``) and its gaps."""
    if pd.isna(model_row["model"]):
        return f"This network fits none of the four models — {model_row['reason']}."
    gap_text = "none is missing" if n_gaps == 0 else f"{n_gaps} are not in place"
    return (
        f"The network's setting and resources correspond to model {int(model_row['model'])}; "
        f"of the strategies that model calls for, {gap_text}."
    )


def effect_sentence(model, notes: list[str], term: str, what: str) -> str:
    """One sentence on a model's estimate for ``term``, or on why there is none.

    Parameters
    ----------
    model : compendium.models.ModelResult or None
        From :func:`compendium.models.fit_or_reason`.
    notes : list of str
        Its reasons or warnings.
    what : str
        What the term stands for, in words.
    """
    if model is None:
        return f"The effect of {what} could not be estimated on these data: {notes[0]}."
    from .models import tidy

    row = tidy(model).set_index("term").loc[term]
    ratio = "odds_ratio" if model.family == "binomial" else "rate_ratio"
    text = (
        f"The {ratio.replace('_', ' ')} for {what} is {fmt(row[ratio])} "
        f"(95 % CI {fmt(row[f'{ratio}_ci_low'])} to {fmt(row[f'{ratio}_ci_high'])}), "
        f"from {model.n_obs} people in {model.n_clusters} networks"
    )
    if any("unreliable" in n for n in notes):
        text += "; with so few networks the interval is indicative only"
    return text + "."


def rate_text(rate, n) -> str:
    """A rate for prose, hidden when its denominator counts fewer than five people."""
    from . import privacy

    if privacy.is_small(int(n)):
        return f"not shown (fewer than {privacy.THRESHOLD} people)"
    return fmt(rate, percent=True)


def continuity_sentence(result) -> str:
    """The network page's paragraph on continuity after hospitalization.

    Parameters
    ----------
    result : Series or None
        The network's row of :func:`compendium.outcomes.network_outcomes`;
        None when the network recorded no psychiatric discharge.
    """
    if result is None:
        return (
            "No psychiatric discharge is recorded for this network, so there is nothing to follow."
        )
    n = int(result["n_episodes"])
    rates = {k: rate_text(result[k], n) for k in ("fuh7_rate", "fuh30_rate", "readmission30_rate")}
    return (
        f"Of the {count_text(n)} people discharged from a psychiatric hospitalization, "
        f"{rates['fuh7_rate']} had an ambulatory follow-up within 7 days and {rates['fuh30_rate']} "
        f"within 30 days; {rates['readmission30_rate']} were readmitted within 30 days (outcomes). "
        f"Their mean continuity-of-care index (Bice–Boxerman) is {fmt(result['mean_coc'])}, their "
        f"usual-provider continuity {fmt(result['mean_upc'])}, and on average each had to tell "
        f"their story again to {fmt(result['mean_story_retold'])} further providers. The network "
        f"delivered {fmt(result['contacts_per_person'])} ambulatory contacts per person "
        "(an output, not an outcome)."
    )


def is_small(n) -> bool:
    """True for a count of people that disclosure control suppresses (1 to 4)."""
    from . import privacy

    return privacy.is_small(int(n))
