"""The synthetic data package: deterministic, valid, shaped like the source study,
and carrying the effects it plants."""

from __future__ import annotations

import json

import krippendorff
import numpy as np
import pandas as pd
import pytest

from compendium.analysis import models
from compendium.analysis.strategies import assign_model
from compendium.data.catalogues import load_model_strategies
from compendium.data.read import DESCRIPTOR, load
from compendium.data.schema import TABLES
from compendium.data.validate import validate
from compendium.data.write import is_synthetic
from compendium.ingest import synth


@pytest.fixture(scope="module")
def default_dir(tmp_path_factory):
    return synth.write(tmp_path_factory.mktemp("synthetic") / "data")


@pytest.fixture(scope="module")
def default_tables():
    return synth.generate()


@pytest.fixture(scope="module")
def large_tables():
    """Forty networks: enough people to see the planted effects through the noise."""
    return synth.generate(seed=11, n_networks=40)


def _csv_bytes(folder):
    return {t.name: (folder / t.path).read_bytes() for t in TABLES}


def _strategy_in_place(tables, codes):
    """Network ids with every one of ``codes`` in place."""
    ns = tables["network_strategies"]
    wide = ns.pivot(index="network_id", columns="strategy_code", values="in_place")
    return set(wide.index[wide[list(codes)].all(axis=1).astype(bool)])


# -- determinism and validity ----------------------------------------------------
def test_same_seed_gives_identical_bytes_and_another_seed_does_not(default_dir, tmp_path):
    again = synth.write(tmp_path / "again")
    other = synth.write(tmp_path / "other", seed=synth.DEFAULT_SEED + 1)
    assert _csv_bytes(again) == _csv_bytes(default_dir)
    differing = [
        name for name, data in _csv_bytes(other).items() if data != _csv_bytes(default_dir)[name]
    ]
    # only the codebook is fixed by the resources; every drawn table changes
    assert set(differing) == {t.name for t in TABLES} - {"codebook"}


def test_default_package_validates_and_matches_load(default_dir, default_tables):
    assert validate(default_dir) == []
    loaded = load(default_dir)
    for name, table in default_tables.items():
        pd.testing.assert_frame_equal(table, loaded[name], check_exact=True)


@pytest.mark.parametrize("n_networks", [1, 3, 25])
def test_other_numbers_of_networks_validate(n_networks, tmp_path):
    folder = synth.write(tmp_path / "data", seed=3, n_networks=n_networks)
    assert validate(folder) == []
    networks = load(folder)["networks"]
    assert len(networks) == n_networks
    assert networks["network_id"].is_unique


def test_package_says_it_is_synthetic(default_dir, default_tables):
    for name, table in default_tables.items():
        if "synthetic" in table.columns:
            assert table["synthetic"].all(), name
    assert is_synthetic(default_tables)
    descriptor = json.loads((default_dir / DESCRIPTOR).read_text(encoding="utf-8"))
    for text in (descriptor["title"], descriptor["description"]):
        assert "SYNTHETIC" in text
        assert f"seed {synth.DEFAULT_SEED}" in text
        assert f"generator version {synth.GENERATOR_VERSION}" in text


# -- the source study's design -----------------------------------------------------
def test_default_mirrors_the_study_design(default_tables):
    networks = default_tables["networks"]
    assert len(networks) == 6
    assert networks["region"].nunique() == 5
    assert networks["setting"].value_counts().to_dict() == {
        "rural": 2,
        "urban_semi_urban": 2,
        "metropolitan": 2,
    }
    # the two metropolitan networks share the one region served twice
    metro_regions = networks.loc[networks["setting"] == "metropolitan", "region"]
    assert metro_regions.nunique() == 1
    assert networks["region"].value_counts().max() == 2
    assert networks["population"].between(20_000, 200_000).all()
    by_setting = networks.groupby("setting")["population"]
    assert by_setting.max()["rural"] < by_setting.min()["metropolitan"]

    roles = default_tables["informants"]["role"].value_counts()
    assert roles["manager"] + roles["clinical_staff"] == 275
    assert roles["service_user"] == 50
    assert roles["relative"] == 25
    per_network = pd.crosstab(
        default_tables["informants"]["network_id"], default_tables["informants"]["role"]
    )
    assert (per_network > 0).all().all()
    staff = per_network["manager"] + per_network["clinical_staff"]
    population = networks.set_index("network_id")["population"]
    assert staff[population.idxmax()] > staff[population.idxmin()]


def test_hospitalized_people_imply_a_two_to_three_percent_prevalence(default_tables):
    networks = default_tables["networks"].set_index("network_id")
    people = default_tables["care_episodes"].groupby("network_id")["person_id"].nunique()
    implied = people / (networks["population"] * synth.HOSPITALIZED_FRACTION)
    assert implied.between(0.02, 0.03).all()
    assert default_tables["care_episodes"]["person_id"].is_unique  # one index episode each


def test_resources_define_each_networks_model(default_tables):
    networks = default_tables["networks"].set_index("network_id")
    flags = networks[
        ["has_general_hospital", "general_hospital_has_psychiatry", "has_psychiatric_hospital"]
    ].astype(bool)
    rural = flags[networks["setting"] == "rural"]
    # model 1: no hospital at all; model 2: a general hospital without psychiatry
    assert (~rural.any(axis=1)).sum() == 1
    assert (rural["has_general_hospital"] & ~rural["general_hospital_has_psychiatry"]).sum() == 1
    urban = flags[networks["setting"] == "urban_semi_urban"]
    assert urban["general_hospital_has_psychiatry"].all()
    assert not urban["has_psychiatric_hospital"].any()
    metro = flags[networks["setting"] == "metropolitan"]
    assert metro["has_psychiatric_hospital"].all()
    assert not rural["has_psychiatric_hospital"].any()

    orgs = default_tables["organizations"]
    counts = orgs.groupby("network_id").size()
    assert counts[networks["setting"] == "rural"].between(6, 12).all()
    assert counts[networks["setting"] == "urban_semi_urban"].between(20, 40).all()
    assert counts[networks["setting"] == "metropolitan"].between(40, 80).all()

    model_4 = _strategy_in_place(default_tables, ["fa_intermediary_structure"])
    assert model_4 == set(networks.index[networks["setting"] == "metropolitan"])
    # urban and metropolitan networks need more strategies (domain.md §5)
    in_place = default_tables["network_strategies"].groupby("network_id")["in_place"].sum()
    rural_networks = networks["setting"] == "rural"
    assert in_place[~rural_networks].mean() > in_place[rural_networks].mean() + 3


def test_models_call_for_the_strategies_of_the_resource_file(large_tables):
    """Strategies in place follow resources/model_strategies.csv, model by model."""
    networks = large_tables["networks"]
    model = assign_model(networks).set_index("network_id")["model"]
    ns = large_tables["network_strategies"].assign(
        model=lambda d: d["network_id"].map(model).astype(int)
    )
    called = load_model_strategies()
    ns = ns.merge(called[["model", "strategy_code"]], how="left", indicator=True)
    # strategies whose presence the generator fixes or sets apart from the model's call
    special = {synth.READMISSION_STRATEGY, *synth.MODEL_4_ONLY}
    special |= {code for _, code in synth.CASE_STRATEGY_PROBABILITY}
    ns = ns[~ns["strategy_code"].isin(special)]
    share = ns.groupby(["model", "_merge"], observed=True)["in_place"].mean().unstack()
    assert set(share.index) == {1, 2, 3, 4}
    # 0.85 for called-for strategies, at most 0.35 for the others (about 150 draws each)
    assert (share["both"] > 0.75).all()
    assert (share["left_only"] < 0.45).all()
    # model 2 calls for GP liaison in the resource file; model 1 does not
    gp_liaison = ns[ns["strategy_code"] == "ph_gp_liaison"].groupby("model")["in_place"].mean()
    assert gp_liaison[2] > gp_liaison[1] + 0.4


def test_rural_ties_are_dense_and_metropolitan_ones_centralized(large_tables):
    networks = large_tables["networks"].set_index("network_id")
    orgs = large_tables["organizations"]
    ties = large_tables["ties"]
    n_orgs = orgs.groupby("network_id").size()
    pairs = ties.assign(
        a=np.minimum(ties["source"], ties["target"]), b=np.maximum(ties["source"], ties["target"])
    ).drop_duplicates(["network_id", "a", "b"])
    density = pairs.groupby("network_id").size() / (n_orgs * (n_orgs - 1) / 2)
    ends = pd.concat(
        [
            ties[["network_id", "source", "transactions_per_year"]].rename(
                columns={"source": "organization_id"}
            ),
            ties[["network_id", "target", "transactions_per_year"]].rename(
                columns={"target": "organization_id"}
            ),
        ]
    )
    volume = ends.groupby(["network_id", "organization_id"])["transactions_per_year"].sum()
    top_share = volume.groupby(level=0).max() / volume.groupby(level=0).sum()
    setting = networks["setting"]
    assert density[setting == "rural"].min() > density[setting == "metropolitan"].max()
    assert top_share[setting == "metropolitan"].mean() > 1.5 * top_share[setting == "rural"].mean()
    top_type = (
        volume.reset_index()
        .sort_values("transactions_per_year", ascending=False, kind="stable")
        .drop_duplicates("network_id")
        .merge(orgs[["organization_id", "organization_type"]])
        .set_index("network_id")["organization_type"]
    )
    metro_hubs = top_type[setting[top_type.index] == "metropolitan"]
    assert metro_hubs.isin(["psychiatric_hospital", "general_hospital"]).mean() >= 0.9


# -- coding ---------------------------------------------------------------------------
def test_coding_design_and_reliability(default_tables):
    segments = default_tables["coded_segments"]
    informants = default_tables["informants"]
    coders_per_segment = segments.groupby("segment_id").size()
    per_informant = coders_per_segment.groupby(
        segments.drop_duplicates("segment_id").set_index("segment_id")["informant_id"]
    ).size()
    assert per_informant.between(8, 12).all()
    assert len(per_informant) == len(informants)
    doubly = (coders_per_segment >= 2).mean()
    triply = (coders_per_segment == 3).sum() / (coders_per_segment >= 2).sum()
    assert 0.21 < doubly < 0.29
    assert 0.05 < triply < 0.15

    book = default_tables["codebook"]
    strategies = book[book["category"] == "strategy"].dropna(subset=["parent_code"])
    assert len(strategies) == 33 and (strategies["parent_code"] == "strategies").all()

    shared = segments[segments["segment_id"].isin(coders_per_segment.index[coders_per_segment > 1])]
    codes = {c: i for i, c in enumerate(sorted(shared["code"].unique()))}
    matrix = shared.assign(value=shared["code"].map(codes)).pivot(
        index="coder_id", columns="segment_id", values="value"
    )
    alpha = krippendorff.alpha(
        reliability_data=matrix.to_numpy(dtype=float), level_of_measurement="nominal"
    )
    assert 0.7 < alpha < 0.85


def test_code_propensities_follow_the_setting(large_tables):
    segments = (
        large_tables["coded_segments"]
        .merge(large_tables["informants"][["informant_id", "network_id"]])
        .merge(large_tables["networks"][["network_id", "setting"]])
    )
    category = large_tables["codebook"].set_index("code")["category"]
    share = pd.crosstab(segments["setting"], segments["code"].map(category), normalize="index")
    assert share.loc["rural", "facilitator"] > share.loc["metropolitan", "facilitator"]
    assert share.loc["metropolitan", "obstacle"] > share.loc["rural", "obstacle"]
    assert share.loc["metropolitan", "conflict"] > share.loc["rural", "conflict"]
    scarcity = (
        segments["code"].eq("fac_scarcity_forces_cooperation").groupby(segments["setting"]).mean()
    )
    assert scarcity["rural"] > 5 * scarcity["metropolitan"]


# -- planted effects ------------------------------------------------------------------
def _planted_fuh7_probability(episodes, both):
    effects = synth.PLANTED_EFFECTS
    eta = effects["fuh7_intercept"] + effects["fuh7_case_management_and_liaison_officers"] * both
    for (column, value), key in synth.FUH7_COVARIATE_TERMS.items():
        eta = eta + effects[key] * (episodes[column] == value).to_numpy()
    return 1.0 / (1.0 + np.exp(-eta))


def test_default_networks_contrast_the_planted_strategies(default_tables):
    ids = set(default_tables["networks"]["network_id"])
    for codes in (synth.FUH7_STRATEGIES, (synth.READMISSION_STRATEGY,)):
        with_them = _strategy_in_place(default_tables, codes)
        assert with_them and with_them != ids


def _act_by_network(tables):
    act = _strategy_in_place(tables, [synth.READMISSION_STRATEGY])
    networks = tables["networks"].set_index("network_id")
    return networks.assign(act=networks.index.isin(act))


def test_assertive_community_treatment_varies_within_settings(default_tables):
    act = _act_by_network(default_tables)["act"]
    assert act.to_dict() == {
        "rural_north": False,  # model 1: no hospital to run an ACT team
        "rural_east": True,
        "urban_west": False,
        "semi_urban_south": True,
        "metro_centre": True,
        "metro_east": False,
    }
    for n_networks in (4, 5, 8, 13, 40):
        by_setting = _act_by_network(synth.generate(seed=5, n_networks=n_networks))
        varies = by_setting.groupby("setting")["act"].nunique()
        assert (varies > 1).any(), n_networks
        # the first model 3 network relies on case management alone
        assert not by_setting.loc[by_setting["setting"] != "rural", "act"].all(), n_networks
    large = _act_by_network(synth.generate(seed=5, n_networks=40))
    share = large.groupby("setting")["act"].mean()
    # rarer in rural networks, but possible there (model 2)
    assert 0 < share["rural"] < share["urban_semi_urban"] <= share["metropolitan"]


def test_follow_up_strategies_vary_within_a_setting_in_small_packages():
    # a draw where they follow the setting is corrected, so the FUH-7 model can fit
    for seed in range(8):
        for n_networks in (3, 4, 5, 6, 7):
            tables = synth.generate(seed=seed, n_networks=n_networks)
            both = _strategy_in_place(tables, synth.FUH7_STRATEGIES)
            networks = tables["networks"]
            flag = networks["network_id"].isin(both)
            assert (flag.groupby(networks["setting"]).nunique() > 1).any(), (seed, n_networks)


def test_default_package_fits_both_outcome_models(default_tables):
    with pytest.warns(UserWarning, match="only 6 networks"):
        fuh7 = models.fuh7_model(models.person_level_frame(default_tables))
    flags = {"act": (synth.READMISSION_STRATEGY,)}
    with pytest.warns(UserWarning, match="only 6 networks"):
        readmission = models.readmission_model(
            models.person_readmission_frame(default_tables, flags=flags), predictors=("act",)
        )
    for fit, term in ((fuh7, models.EXPOSURE), (readmission, "act")):
        row = fit.table.set_index("term").loc[term]
        assert np.isfinite(row["estimate"]) and row["std_error"] > 0
        # setting stays in the model next to the network strategy
        assert "setting" not in fit.dropped_terms
        assert "setting[metropolitan]" in fit.table["term"].to_list()


def test_planted_follow_up_within_7_days_effect(large_tables):
    episodes = large_tables["care_episodes"]
    both = (
        episodes["network_id"]
        .isin(_strategy_in_place(large_tables, synth.FUH7_STRATEGIES))
        .to_numpy()
    )
    days = (episodes["follow_up_date"] - episodes["discharge_date"]).dt.days
    fuh7 = days.le(7).fillna(False).to_numpy(dtype=bool)
    p = _planted_fuh7_probability(episodes, both.astype(float))

    observed = fuh7[both].mean() - fuh7[~both].mean()
    expected = p[both].mean() - p[~both].mean()
    se = np.sqrt(
        (p[both] * (1 - p[both])).sum() / both.sum() ** 2
        + (p[~both] * (1 - p[~both])).sum() / (~both).sum() ** 2
    )
    assert 0.15 < expected < 0.25  # what a log-odds of 0.8 means around a 35 % base rate
    assert observed > 0
    assert abs(observed - expected) < 4 * se


def test_planted_readmission_rate_ratio(large_tables):
    episodes = large_tables["care_episodes"]
    act = (
        episodes["network_id"]
        .isin(_strategy_in_place(large_tables, [synth.READMISSION_STRATEGY]))
        .to_numpy()
    )
    end = pd.Timestamp(synth.STUDY_WINDOW_END)
    readmitted = episodes["readmission_date"].dropna()
    assert (readmitted <= end).all()
    days = (episodes["readmission_date"] - episodes["discharge_date"]).dt.days
    exposure = (end - episodes["discharge_date"]).dt.days
    # time at risk ends at the first readmission, else when the window closes
    at_risk = days.fillna(exposure).to_numpy(dtype=float)
    event = days.notna().to_numpy(dtype=bool)
    expected = synth.PLANTED_EFFECTS["readmission_rate_ratio_assertive_community_treatment"]
    early = synth.EARLY_READMISSION_DAYS
    # the planted rate is constant within each piece, so each piece gives the ratio
    for piece_events, piece_time in (
        (event & (at_risk <= early), np.minimum(at_risk, early)),
        (event & (at_risk > early), np.clip(at_risk - early, 0, None)),
    ):
        events = [piece_events[act].sum(), piece_events[~act].sum()]
        rates = [events[0] / piece_time[act].sum(), events[1] / piece_time[~act].sum()]
        log_se = np.sqrt(1 / events[0] + 1 / events[1])
        assert abs(np.log(rates[0] / rates[1]) - np.log(expected)) < 3.5 * log_se


def test_contacts_start_with_the_follow_up_and_concentrate_under_case_management(
    large_tables,
):
    episodes = large_tables["care_episodes"].set_index("person_id")
    contacts = large_tables["service_contacts"]
    first = contacts.groupby("person_id").first()
    followed = episodes[episodes["follow_up_date"].notna()]
    assert set(first.index) == set(followed.index)
    assert (first["contact_date"] == followed.loc[first.index, "follow_up_date"]).all()
    assert (
        first["organization_id"] == followed.loc[first.index, "follow_up_organization_id"]
    ).all()
    assert (contacts.groupby("person_id")["contact_date"].is_monotonic_increasing).all()
    assert contacts["contact_id"].is_unique

    per_person = contacts.groupby("person_id").size()
    assert 7 <= per_person.mean() <= 11

    upc = contacts.groupby("person_id")["organization_id"].agg(
        lambda s: s.value_counts().iloc[0] / len(s)
    )
    case_management = _strategy_in_place(large_tables, [synth.CASE_MANAGEMENT])
    network = episodes.loc[upc.index, "network_id"]
    under_case_management = network.isin(case_management).to_numpy()
    assert upc[under_case_management].mean() > upc[~under_case_management].mean() + 0.1
