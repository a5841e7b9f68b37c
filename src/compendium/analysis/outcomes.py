"""Continuity of care and the outcomes of psychiatric hospitalization.

The evaluation literature asks to keep two things apart (domain.md §9):

* **outputs**, the services delivered: number of contacts, providers seen
  (``n_contacts``, ``n_providers``, ``contacts_per_person``);
* **outcomes**, the quality of care: follow-up after hospitalization within
  7 and 30 days (HEDIS FUH), 30-day readmission, and continuity of care, read
  from the person's side (domain.md §8, §10): Bice–Boxerman continuity of
  care (COC), usual provider continuity (UPC) and how many times the person
  had to tell their story again.

Day counting: a date ``d`` lies within ``k`` days after discharge when
``1 <= d - discharge_date <= k`` in calendar days. A contact on the day of
discharge itself does not count as follow-up, as in the HEDIS FUH
specification (it is usually part of the discharge, not a follow-up).

A provider is an organization (``organization_id`` of ``service_contacts``).
All functions use groupby or integer arrays, never a Python loop per person.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

FUH7_DAYS = 7
FUH30_DAYS = 30
READMISSION_DAYS = 30

#: Columns of :func:`network_outcomes` that measure services delivered.
OUTPUT_COLUMNS = ("contacts_per_person",)
#: Columns of :func:`network_outcomes` that measure quality of care.
OUTCOME_COLUMNS = (
    "fuh7_rate",
    "fuh30_rate",
    "readmission30_rate",
    "mean_coc",
    "mean_upc",
    "mean_story_retold",
)


def _require_columns(df: pd.DataFrame, columns, table: str) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ValueError(f"{table}: missing column(s) {', '.join(missing)}")


def _reject(df: pd.DataFrame, bad: pd.Series, message: str) -> None:
    """Raise naming the first episode flagged by ``bad`` (and how many more)."""
    bad = bad.fillna(False).to_numpy(dtype=bool)
    if bad.any():
        row = df.iloc[np.argmax(bad)]
        more = int(bad.sum()) - 1
        tail = f" (and {more} more episode(s))" if more else ""
        raise ValueError(f"care_episodes: episode {row['episode_id']!r} {message(row)}{tail}")


def _days_after(later: pd.Series, earlier: pd.Series) -> pd.Series:
    return (later - earlier).dt.days.astype("Int64")


def follow_up_after_hospitalization(care_episodes: pd.DataFrame) -> pd.DataFrame:
    """Follow-up and readmission after each psychiatric hospitalization.

    Parameters
    ----------
    care_episodes : DataFrame
        The ``care_episodes`` table.

    Returns
    -------
    DataFrame
        One row per episode, in input order: ``episode_id, person_id,
        network_id, discharge_date, days_to_follow_up, fuh7, fuh30,
        days_to_readmission, readmitted_30``. ``fuh7`` / ``fuh30``: the first
        ambulatory follow-up came 1 to 7 / 1 to 30 days after discharge (a
        follow-up on the day of discharge does not count, as in HEDIS FUH);
        ``readmitted_30``: readmitted 1 to 30 days after discharge. Episodes
        with no follow-up (no readmission) are False, their day counts NA.

    Notes
    -----
    HEDIS leaves out of the FUH denominator discharges followed by certain
    readmissions within 30 days; here every episode stays in, and
    ``readmitted_30`` lets a caller apply such an exclusion. Only the first
    follow-up contact is known: when it falls on the day of discharge, a later
    contact within 7 days (in ``service_contacts``) is not looked for.

    Raises
    ------
    ValueError
        Naming the first episode discharged before admission, followed up
        before discharge, or readmitted on or before the discharge date.
    """
    cols = [
        "episode_id",
        "person_id",
        "network_id",
        "admission_date",
        "discharge_date",
        "follow_up_date",
        "readmission_date",
    ]
    _require_columns(care_episodes, cols, "care_episodes")
    e = care_episodes
    _reject(e, e["discharge_date"].isna(), lambda r: "has no discharge_date")
    _reject(
        e,
        e["discharge_date"] < e["admission_date"],
        lambda r: (
            f"is discharged ({r['discharge_date']:%Y-%m-%d}) before its admission "
            f"({r['admission_date']:%Y-%m-%d})"
        ),
    )
    _reject(
        e,
        e["follow_up_date"] < e["discharge_date"],
        lambda r: (
            f"has its follow-up ({r['follow_up_date']:%Y-%m-%d}) before its discharge "
            f"({r['discharge_date']:%Y-%m-%d})"
        ),
    )
    _reject(
        e,
        e["readmission_date"] <= e["discharge_date"],
        lambda r: (
            f"has its readmission ({r['readmission_date']:%Y-%m-%d}) on or before its "
            f"discharge ({r['discharge_date']:%Y-%m-%d})"
        ),
    )
    to_follow_up = _days_after(e["follow_up_date"], e["discharge_date"])
    to_readmission = _days_after(e["readmission_date"], e["discharge_date"])

    def within(days: pd.Series, k: int) -> np.ndarray:
        return ((days >= 1) & (days <= k)).fillna(False).to_numpy(dtype=bool)

    return pd.DataFrame(
        {
            "episode_id": e["episode_id"].to_numpy(),
            "person_id": e["person_id"].to_numpy(),
            "network_id": e["network_id"].to_numpy(),
            "discharge_date": e["discharge_date"].to_numpy(),
            "days_to_follow_up": to_follow_up.to_numpy(),
            "fuh7": within(to_follow_up, FUH7_DAYS),
            "fuh30": within(to_follow_up, FUH30_DAYS),
            "days_to_readmission": to_readmission.to_numpy(),
            "readmitted_30": within(to_readmission, READMISSION_DAYS),
        }
    ).astype({"episode_id": "str", "person_id": "str", "network_id": "str"})


def continuity_indices(service_contacts: pd.DataFrame, min_contacts: int = 2) -> pd.DataFrame:
    """Continuity of care of each person, from their ambulatory contacts.

    With N contacts, n_j of them with provider j:

    * ``coc`` (Bice–Boxerman): (Σ n_j² − N) / (N (N − 1)); 1 when every
      contact is with one provider, 0 when every contact is with a new one.
    * ``upc`` (usual provider continuity): max n_j / N.
    * ``story_retold``: distinct providers − 1. The person's view (domain.md
      §8) is of "telling the story again at every provider": the first
      provider hears it, every further one hears it again. A person who
      always sees the same provider never retells it (0).

    Parameters
    ----------
    service_contacts : DataFrame
        The ``service_contacts`` table.
    min_contacts : int
        COC and UPC are computed for persons with at least this many contacts
        (at least 2: COC divides by N (N − 1)). The others keep their row
        with NaN ``coc`` and ``upc`` and ``meets_min_contacts`` False.

    Returns
    -------
    DataFrame
        One row per person (sorted by ``person_id``): ``person_id,
        n_contacts, n_providers`` (outputs), ``coc, upc, story_retold``
        (outcomes), ``meets_min_contacts``. ``df.attrs`` holds
        ``min_contacts`` and ``n_excluded`` (persons below it).
    """
    if min_contacts < 2:
        raise ValueError(
            f"min_contacts must be at least 2 (COC is undefined for one contact), "
            f"got {min_contacts}"
        )
    _require_columns(service_contacts, ["person_id", "organization_id"], "service_contacts")
    for col in ("person_id", "organization_id"):
        empty = np.flatnonzero(service_contacts[col].isna().to_numpy())
        if len(empty):
            raise ValueError(f"service_contacts: row {empty[0]} has no {col}")
    person, persons = pd.factorize(service_contacts["person_id"], sort=True)
    provider, providers = pd.factorize(service_contacts["organization_id"])
    # one key per (person, provider); sorting by it groups each person's providers together
    pair, n_j = np.unique(person.astype(np.int64) * len(providers) + provider, return_counts=True)
    pair_person = pair // max(len(providers), 1)
    n_persons = len(persons)
    n = np.bincount(pair_person, weights=n_j, minlength=n_persons)
    n_providers = np.bincount(pair_person, minlength=n_persons)
    sum_sq = np.bincount(pair_person, weights=n_j.astype(float) ** 2, minlength=n_persons)
    starts = np.flatnonzero(np.r_[True, pair_person[1:] != pair_person[:-1]])
    usual = np.maximum.reduceat(n_j, starts) if len(n_j) else np.zeros(0, dtype=np.int64)
    eligible = n >= min_contacts
    with np.errstate(invalid="ignore", divide="ignore"):
        coc = np.where(eligible, (sum_sq - n) / (n * (n - 1)), np.nan)
        upc = np.where(eligible, usual / n, np.nan)
    out = pd.DataFrame(
        {
            "person_id": pd.Series(persons, dtype="str").to_numpy(),
            "n_contacts": n.astype(np.int64),
            "n_providers": n_providers.astype(np.int64),
            "coc": coc,
            "upc": upc,
            "story_retold": n_providers.astype(np.int64) - 1,
            "meets_min_contacts": eligible,
        }
    ).astype({"person_id": "str"})
    out.attrs["min_contacts"] = min_contacts
    out.attrs["n_excluded"] = int((~eligible).sum())
    return out


def person_network(care_episodes: pd.DataFrame, columns=()) -> pd.DataFrame:
    """The network responsible for each person: that of their latest discharge.

    Parameters
    ----------
    care_episodes : DataFrame
        The ``care_episodes`` table.
    columns : sequence of str
        Further columns to take from the same (latest) episode, e.g. the
        person covariates ``age_group, sex, diagnosis_group``.

    Returns
    -------
    DataFrame
        Columns ``person_id, network_id, *columns``, one row per person.
    """
    cols = ["person_id", "network_id", "discharge_date", *columns]
    _require_columns(care_episodes, cols, "care_episodes")
    latest = care_episodes.sort_values(["person_id", "discharge_date"], kind="stable")
    latest = latest.drop_duplicates("person_id", keep="last")
    return latest[["person_id", "network_id", *columns]].reset_index(drop=True)


def network_outcomes(
    care_episodes: pd.DataFrame, service_contacts: pd.DataFrame, min_contacts: int = 2
) -> pd.DataFrame:
    """Outcomes and outputs of care, by network.

    Episodes count in the network responsible for their follow-up; persons
    (for continuity) in the network of their latest discharge, with all their
    contacts, whichever network provided them.

    Returns
    -------
    DataFrame
        One row per network of ``care_episodes``:

        * ``n_episodes, n_persons``;
        * outcomes: ``fuh7_rate, fuh30_rate, readmission30_rate`` (shares of
          episodes); ``mean_coc, mean_upc`` over the ``n_persons_coc`` persons
          with at least ``min_contacts`` contacts (``n_excluded_coc`` others,
          including persons without any contact, are reported, not used);
          ``mean_story_retold`` over persons with at least one contact;
        * output: ``contacts_per_person`` over all ``n_persons``, those
          without any contact counting 0.

    Raises
    ------
    ValueError
        For the bad episodes of :func:`follow_up_after_hospitalization`, or a
        contact of a person who has no episode.
    """
    fuh = follow_up_after_hospitalization(care_episodes)
    by_network = fuh.groupby("network_id").agg(
        n_episodes=("episode_id", "size"),
        fuh7_rate=("fuh7", "mean"),
        fuh30_rate=("fuh30", "mean"),
        readmission30_rate=("readmitted_30", "mean"),
    )
    persons = person_network(care_episodes)
    continuity = continuity_indices(service_contacts, min_contacts)
    stray = ~continuity["person_id"].isin(persons["person_id"])
    if stray.any():
        raise ValueError(
            f"service_contacts: person {continuity['person_id'][stray].iloc[0]!r} "
            "has no episode in care_episodes"
        )
    p = persons.merge(continuity, on="person_id", how="left")
    p["n_contacts"] = p["n_contacts"].fillna(0)
    p["meets_min_contacts"] = p["meets_min_contacts"].fillna(False).astype(bool)
    by_person = p.groupby("network_id").agg(
        n_persons=("person_id", "size"),
        n_persons_coc=("meets_min_contacts", "sum"),
        mean_coc=("coc", "mean"),
        mean_upc=("upc", "mean"),
        mean_story_retold=("story_retold", "mean"),  # NaN for persons without contact: skipped
        contacts_per_person=("n_contacts", "mean"),
    )
    by_person["n_excluded_coc"] = by_person["n_persons"] - by_person["n_persons_coc"]
    out = by_network.join(by_person, how="left").reset_index()
    # a network whose persons all moved on has episodes but no person of its own
    counts = ["n_persons", "n_persons_coc", "n_excluded_coc"]
    out[counts] = out[counts].fillna(0)
    columns = [
        "network_id",
        "n_episodes",
        "n_persons",
        *OUTCOME_COLUMNS[:3],
        "n_persons_coc",
        "n_excluded_coc",
        *OUTCOME_COLUMNS[3:],
        *OUTPUT_COLUMNS,
    ]
    out = out[columns].astype(
        {"n_persons": np.int64, "n_persons_coc": np.int64, "n_excluded_coc": np.int64}
    )
    return out.astype({"network_id": "str"})
