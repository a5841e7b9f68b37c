"""Continuity indices and follow-up outcomes on hand-computed cases."""

import numpy as np
import pandas as pd
import pytest

from compendium.analysis import outcomes


def contacts(person_providers: dict[str, str]) -> pd.DataFrame:
    """service_contacts rows: for each person, one contact per letter (the provider)."""
    rows = [
        (person, provider)
        for person, providers in person_providers.items()
        for provider in providers
    ]
    df = pd.DataFrame(rows, columns=["person_id", "organization_id"])
    df.insert(0, "contact_id", [f"k{i}" for i in range(len(df))])
    df["network_id"] = "north"
    df["contact_date"] = pd.Timestamp("2024-01-01")
    return df.astype(
        {c: "str" for c in ("contact_id", "person_id", "organization_id", "network_id")}
    )


def test_continuity_hand_computed():
    got = outcomes.continuity_indices(
        contacts({"p1": "AABC", "p2": "AAAA", "p3": "ABCD", "p4": "A", "p5": "BA"})
    ).set_index("person_id")
    # p1: n = (2, 1, 1), N = 4: COC = (4 + 1 + 1 - 4) / (4 * 3) = 1/6, UPC = 2/4
    assert got.loc["p1", "coc"] == pytest.approx(1 / 6)
    assert got.loc["p1", "upc"] == pytest.approx(0.5)
    assert got.loc["p1", "story_retold"] == 2
    assert (got.loc["p1", "n_contacts"], got.loc["p1", "n_providers"]) == (4, 3)
    # a single provider: perfect continuity, the story never retold
    assert (got.loc["p2", "coc"], got.loc["p2", "upc"], got.loc["p2", "story_retold"]) == (1, 1, 0)
    # a new provider every time: COC = (4 - 4) / 12 = 0, UPC = 1/4
    assert (got.loc["p3", "coc"], got.loc["p3", "upc"], got.loc["p3", "story_retold"]) == (
        0,
        0.25,
        3,
    )
    # p5: (1 + 1 - 2) / 2 = 0
    assert got.loc["p5", "coc"] == 0


def test_continuity_below_min_contacts_is_counted_not_dropped():
    got = outcomes.continuity_indices(contacts({"p1": "AABC", "p4": "A", "p5": "BA"}), 3)
    assert list(got["person_id"]) == ["p1", "p4", "p5"]
    assert got.attrs == {"min_contacts": 3, "n_excluded": 2}
    assert got["meets_min_contacts"].tolist() == [True, False, False]
    assert got["coc"].isna().tolist() == [False, True, True]
    assert got["upc"].isna().tolist() == [False, True, True]
    assert got["story_retold"].tolist() == [2, 0, 1]
    with pytest.raises(ValueError, match="min_contacts must be at least 2"):
        outcomes.continuity_indices(contacts({"p1": "A"}), 1)


def episodes(rows) -> pd.DataFrame:
    """care_episodes rows: (episode, person, network, discharge, follow-up, readmission)."""
    df = pd.DataFrame(
        rows,
        columns=[
            "episode_id",
            "person_id",
            "network_id",
            "discharge_date",
            "follow_up_date",
            "readmission_date",
        ],
    )
    for col in ("discharge_date", "follow_up_date", "readmission_date"):
        df[col] = pd.to_datetime(df[col]).astype("datetime64[ns]")
    df["admission_date"] = df["discharge_date"] - pd.Timedelta(days=10)
    return df.astype({"episode_id": "str", "person_id": "str", "network_id": "str"})


DISCHARGE = "2024-03-01"


@pytest.mark.parametrize(
    ("follow_up", "fuh7", "fuh30"),
    [
        ("2024-03-01", False, False),  # day 0, the discharge day: not a follow-up (HEDIS)
        ("2024-03-02", True, True),  # day 1
        ("2024-03-08", True, True),  # day 7
        ("2024-03-09", False, True),  # day 8
        ("2024-03-31", False, True),  # day 30
        ("2024-04-01", False, False),  # day 31
        (None, False, False),  # no follow-up
    ],
)
def test_fuh_boundary_days(follow_up, fuh7, fuh30):
    got = outcomes.follow_up_after_hospitalization(
        episodes([("e1", "p1", "north", DISCHARGE, follow_up, None)])
    ).iloc[0]
    assert (bool(got["fuh7"]), bool(got["fuh30"])) == (fuh7, fuh30)


@pytest.mark.parametrize(
    ("readmission", "days", "readmitted"),
    [("2024-03-02", 1, True), ("2024-03-31", 30, True), ("2024-04-01", 31, False)],
)
def test_readmission_boundary(readmission, days, readmitted):
    got = outcomes.follow_up_after_hospitalization(
        episodes([("e1", "p1", "north", DISCHARGE, None, readmission)])
    ).iloc[0]
    assert got["days_to_readmission"] == days
    assert bool(got["readmitted_30"]) is readmitted


def test_bad_episodes_are_named():
    bad = episodes(
        [
            ("e1", "p1", "north", DISCHARGE, "2024-03-05", None),
            ("e2", "p2", "north", DISCHARGE, "2024-02-27", None),
            ("e3", "p3", "north", DISCHARGE, "2024-02-20", None),
        ]
    )
    with pytest.raises(
        ValueError,
        match=r"episode 'e2' has its follow-up \(2024-02-27\) before "
        r"its discharge \(2024-03-01\) \(and 1 more",
    ):
        outcomes.follow_up_after_hospitalization(bad)
    same_day = episodes([("e4", "p4", "north", DISCHARGE, None, DISCHARGE)])
    with pytest.raises(ValueError, match="episode 'e4' has its readmission"):
        outcomes.follow_up_after_hospitalization(same_day)


def test_network_outcomes_keep_outputs_and_outcomes_apart():
    care = episodes(
        [
            ("e1", "p1", "north", DISCHARGE, "2024-03-03", None),  # fuh7
            ("e2", "p2", "north", DISCHARGE, "2024-03-20", "2024-03-25"),  # fuh30, readmitted
            ("e3", "p3", "north", DISCHARGE, None, None),  # nothing, no contact at all
            ("e4", "p4", "south", DISCHARGE, "2024-03-02", None),
            # p4 moves north later: counted there for continuity, south for the episode
            ("e5", "p4", "north", "2024-06-01", "2024-06-03", None),
        ]
    )
    seen = contacts({"p1": "AABC", "p2": "AAAA", "p4": "B"})
    got = outcomes.network_outcomes(care, seen).set_index("network_id")
    north, south = got.loc["north"], got.loc["south"]
    assert (north["n_episodes"], north["n_persons"]) == (4, 4)
    assert north["fuh7_rate"] == pytest.approx(2 / 4)
    assert north["fuh30_rate"] == pytest.approx(3 / 4)
    assert north["readmission30_rate"] == pytest.approx(1 / 4)
    # COC over p1 (1/6) and p2 (1); p3 (no contact) and p4 (one contact) excluded
    assert (north["n_persons_coc"], north["n_excluded_coc"]) == (2, 2)
    assert north["mean_coc"] == pytest.approx((1 / 6 + 1) / 2)
    assert north["mean_upc"] == pytest.approx((0.5 + 1) / 2)
    # story retold over persons with a contact: p1 2, p2 0, p4 0
    assert north["mean_story_retold"] == pytest.approx(2 / 3)
    # output: contacts per person, p3 counting 0
    assert north["contacts_per_person"] == pytest.approx((4 + 4 + 0 + 1) / 4)
    assert (south["n_episodes"], south["fuh7_rate"]) == (1, 1.0)
    assert south["n_persons"] == 0  # p4 belongs to north, the network of the latest discharge
    assert np.isnan(south["mean_coc"])
    assert set(outcomes.OUTPUT_COLUMNS).isdisjoint(outcomes.OUTCOME_COLUMNS)
    assert set(outcomes.OUTPUT_COLUMNS) | set(outcomes.OUTCOME_COLUMNS) <= set(got.columns)

    stray = pd.concat([seen, contacts({"p9": "A"})], ignore_index=True)
    with pytest.raises(ValueError, match="person 'p9' has no episode"):
        outcomes.network_outcomes(care, stray)
