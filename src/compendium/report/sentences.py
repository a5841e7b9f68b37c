"""Sentences the notebooks write from results: a network's model, an effect, continuity."""

from __future__ import annotations

import pandas as pd

from .prose import count_text, fmt, rate_text


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
    model : compendium.analysis.models.ModelResult or None
        From :func:`compendium.analysis.models.fit_or_reason`.
    notes : list of str
        Its reasons or warnings.
    what : str
        What the term stands for, in words.
    """
    if model is None:
        return f"The effect of {what} could not be estimated on these data: {notes[0]}."
    from ..analysis.models import tidy

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


def continuity_sentence(result, withheld=()) -> str:
    """The network page's paragraph on continuity after hospitalization.

    Parameters
    ----------
    result : Series or None
        The network's row of :func:`compendium.analysis.outcomes.network_outcomes`;
        None when the network recorded no psychiatric discharge.
    withheld : collection of str
        Its values the book withholds (``n_episodes``, rate columns), decided
        for every page at once (:func:`compendium.report.privacy.outcome_decisions`).
    """
    if result is None:
        return (
            "No psychiatric discharge is recorded for this network, so there is nothing to follow."
        )
    n = int(result["n_episodes"])
    rates = {
        k: WITHHELD_RATE if k in withheld else rate_text(result[k], n)
        for k in ("fuh7_rate", "fuh30_rate", "readmission30_rate")
    }
    people = (
        "Of the people discharged from a psychiatric hospitalization (their number is withheld "
        "by disclosure control)"
        if "n_episodes" in withheld
        else f"Of the {count_text(n)} people discharged from a psychiatric hospitalization"
    )
    return (
        f"{people}, "
        f"{rates['fuh7_rate']} had an ambulatory follow-up within 7 days and {rates['fuh30_rate']} "
        f"within 30 days; {rates['readmission30_rate']} were readmitted within 30 days (outcomes). "
        f"Their mean continuity-of-care index (Bice–Boxerman) is {fmt(result['mean_coc'])}, their "
        f"usual-provider continuity {fmt(result['mean_upc'])}, and on average each had to tell "
        f"their story again to {fmt(result['mean_story_retold'])} further providers. The network "
        f"delivered {fmt(result['contacts_per_person'])} ambulatory contacts per person "
        "(an output, not an outcome)."
    )


#: A rate withheld to protect another network's small count (see ``outcome_decisions``).
WITHHELD_RATE = "a share not shown (withheld by disclosure control)"
