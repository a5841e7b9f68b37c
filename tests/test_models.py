"""Outcome models recover effects planted in small simulated data sets."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from compendium.analysis import models
from compendium.data.schema import AGE_GROUPS, DIAGNOSIS_GROUPS, SETTINGS, SEXES

PLANTED_LOG_ODDS = 0.8
PLANTED_LOG_RATE = 0.5
N_NETWORKS = 30


def simulated_networks(rng) -> pd.DataFrame:
    ids = [f"net{i:02d}" for i in range(N_NETWORKS)]
    return pd.DataFrame(
        {
            "network_id": ids,
            "setting": rng.choice(SETTINGS, N_NETWORKS),
            models.EXPOSURE: np.arange(N_NETWORKS) % 2 == 0,
            # networks differ beyond the strategies: the reason for clustered errors
            "network_effect": rng.normal(0, 0.3, N_NETWORKS),
        }
    )


def with_persons(networks: pd.DataFrame, per_network: int, rng) -> pd.DataFrame:
    frame = networks.loc[networks.index.repeat(per_network)].reset_index(drop=True)
    n = len(frame)
    frame["age_group"] = rng.choice(AGE_GROUPS, n)
    frame["sex"] = rng.choice(SEXES, n)
    frame["diagnosis_group"] = rng.choice(DIAGNOSIS_GROUPS, n)
    return frame


def test_fuh7_model_recovers_planted_log_odds():
    rng = np.random.default_rng(2024)
    frame = with_persons(simulated_networks(rng), 250, rng)
    log_odds = (
        -0.6
        + PLANTED_LOG_ODDS * frame[models.EXPOSURE]
        + 0.3 * (frame["sex"] == "female")
        - 0.4 * (frame["diagnosis_group"] == "psychotic")
        + frame["network_effect"]
    )
    frame["fuh7"] = rng.random(len(frame)) < 1 / (1 + np.exp(-log_odds))
    fit = models.fuh7_model(frame)
    table = fit.table.set_index("term")
    row = table.loc[models.EXPOSURE]
    assert row["ci_low"] < PLANTED_LOG_ODDS < row["ci_high"]
    assert row["ci_low"] > 0  # the effect is also detected
    assert row["odds_ratio"] == pytest.approx(np.exp(row["estimate"]))
    assert row["odds_ratio_ci_low"] < np.exp(PLANTED_LOG_ODDS) < row["odds_ratio_ci_high"]
    assert list(fit.table.columns[:6]) == [
        "term",
        "estimate",
        "std_error",
        "ci_low",
        "ci_high",
        "p_value",
    ]
    assert "sex[male]" in table.index and fit.reference_levels["sex"] == "female"
    assert (fit.n_obs, fit.n_clusters) == (N_NETWORKS * 250, N_NETWORKS)
    assert fit.inference == models.INFERENCE == "bell-mccaffrey"
    assert fit.result.cov_type == "cluster-bell-mccaffrey"
    assert row["std_error"] == pytest.approx(fit.result.bse[models.EXPOSURE])
    # the interval is t with the term's own (Satterthwaite) degrees of freedom
    half = stats.t.ppf(0.975, fit.df[models.EXPOSURE]) * row["std_error"]
    assert row["ci_high"] - row["estimate"] == pytest.approx(half)


def test_readmission_model_recovers_planted_rate_ratio():
    rng = np.random.default_rng(7)
    frame = with_persons(simulated_networks(rng), 200, rng)
    frame["days_at_risk"] = rng.integers(1, 4, len(frame)) * 30.0
    rate = 0.01 * np.exp(
        PLANTED_LOG_RATE * frame[models.EXPOSURE]
        + 0.2 * (frame["age_group"] == "18-34")
        + frame["network_effect"]
    )
    frame["n_readmissions"] = rng.poisson(rate * frame["days_at_risk"])
    fit = models.readmission_model(frame)
    row = fit.table.set_index("term").loc[models.EXPOSURE]
    assert row["ci_low"] < PLANTED_LOG_RATE < row["ci_high"]
    assert row["ci_low"] > 0
    assert row["rate_ratio_ci_low"] < np.exp(PLANTED_LOG_RATE) < row["rate_ratio_ci_high"]
    intercept = fit.table.set_index("term").loc["Intercept", "rate_ratio"]
    assert intercept == pytest.approx(0.01, rel=0.35)  # baseline per day at risk, via the offset


def test_constant_covariate_is_dropped_but_constant_predictor_refused():
    rng = np.random.default_rng(3)
    frame = with_persons(simulated_networks(rng), 20, rng).assign(setting="rural")
    frame["fuh7"] = rng.random(len(frame)) < 0.4
    fit = models.fuh7_model(frame)
    assert fit.dropped_terms == ("setting",)
    assert not fit.table["term"].str.startswith("setting").any()
    with pytest.raises(ValueError, match="case_management_and_liaison takes the same value"):
        models.fuh7_model(frame.assign(case_management_and_liaison=True))


def test_confounded_or_few_networks_are_flagged():
    rng = np.random.default_rng(5)
    frame = with_persons(simulated_networks(rng), 20, rng)
    frame["fuh7"] = rng.random(len(frame)) < 0.4
    # the strategy is in place in exactly the rural networks
    confounded = frame.assign(case_management_and_liaison=frame["setting"] == "rural")
    with pytest.raises(ValueError, match="case_management_and_liaison and setting are confounded"):
        models.fuh7_model(confounded)
    few = frame[frame["network_id"].isin(frame["network_id"].unique()[:6])]
    with pytest.warns(UserWarning, match="only 6 networks"):
        fit = models.fuh7_model(few, covariates=models.PERSON_COVARIATES)
    assert fit.result.use_t and fit.result.df_resid_inference == 5
    assert (fit.df > 0).all() and list(fit.df.index) == list(fit.table["term"])
    with pytest.raises(ValueError, match="inference must be one of"):
        models.fuh7_model(frame, inference="hc0")
    # two networks, one with the strategy: intercept and strategy use up both networks,
    # whose residuals are then zero in that direction, so no sandwich can measure them
    two = frame[frame["network_id"].isin(["net00", "net01"])]
    with pytest.warns(UserWarning), pytest.raises(ValueError, match="2 networks are too few"):
        models.fuh7_model(two, covariates=models.PERSON_COVARIATES)


def test_small_sample_standard_error_exceeds_cr1_with_one_treated_network():
    """A hand-computed case: one treated network, three unbalanced control networks.

    Logit of fuh7 on the exposure alone. Treated network T: 14 of 20 followed up;
    controls A: 36 of 60, B: 7 of 20, C: 7 of 20. The fit reproduces the two arm
    proportions, 0.7 and 50/100 = 0.5, so the log-odds ratio is log(7/3) and T's
    residuals sum to zero: no sandwich sees any variation in the treated arm.

    Everything then comes from the controls, whose residual sums are +6, -3, -3
    and whose weight is 0.5 * 0.5 = 0.25: the inverse bread turns a control's residual
    sum r_g into r_g * -1 / (0.25 * 100) = -r_g / 25 on the slope. Hence the variances
    * CR1: 4/3 * (120 - 1) / (120 - 2) * (36 + 9 + 9) / 25**2;
    * CR2: each control's sum is divided by sqrt(1 - leverage), its leverage being
      its share of the control persons (0.6, 0.2, 0.2):
      (36 / 0.4 + 9 / 0.8 + 9 / 0.8) / 25**2 = 112.5 / 625 = 0.18, well above CR1
      because the large network A has leverage 0.6;
    * Mancl-DeRouen divides by 1 - leverage instead: (36/0.16 + 2 * 9/0.64) / 625.
    Bell-McCaffrey degrees of freedom are tr(A)^2 / tr(A^2), A / 0.04 having the
    leverages on its diagonal and -lev_g lev_h / sqrt((1 - lev_g)(1 - lev_h)) off it:
    tr = 1 and tr(A^2) / 0.04**2 = 0.36 + 0.04 + 0.04 + 2 * (0.045 + 0.045 + 0.0025)
    = 0.625, so 1 / 0.625 = 1.6 degrees of freedom, not networks - 1 = 3.
    """
    followed = {"T": (14, 20), "A": (36, 60), "B": (7, 20), "C": (7, 20)}
    frame = pd.DataFrame(
        [
            {"network_id": net, models.EXPOSURE: net == "T", "fuh7": i < yes}
            for net, (yes, n) in followed.items()
            for i in range(n)
        ]
    )
    fits = {}
    for method in models.INFERENCE_METHODS:
        with pytest.warns(UserWarning, match="only 4 networks"):
            fits[method] = models.fuh7_model(frame, covariates=(), inference=method)
    rows = {m: fit.table.set_index("term").loc[models.EXPOSURE] for m, fit in fits.items()}
    assert rows["cr1"]["estimate"] == pytest.approx(np.log(7 / 3))

    cr1_se = np.sqrt(4 / 3 * 119 / 118 * 54 / 625)
    assert rows["cr1"]["std_error"] == pytest.approx(cr1_se, rel=1e-6)
    chosen = rows[models.INFERENCE]
    assert chosen["std_error"] == pytest.approx(np.sqrt(0.18), rel=1e-6)
    assert chosen["std_error"] >= rows["cr1"]["std_error"]
    assert rows["cr2"]["std_error"] == pytest.approx(chosen["std_error"])
    assert rows["mancl-derouen"]["std_error"] == pytest.approx(
        np.sqrt((36 / 0.16 + 2 * 9 / 0.64) / 625), rel=1e-6
    )
    assert fits[models.INFERENCE].df[models.EXPOSURE] == pytest.approx(1.6, rel=1e-6)
    assert fits["cr1"].df[models.EXPOSURE] == 3
    half = stats.t.ppf(0.975, 1.6) * np.sqrt(0.18)
    assert chosen["ci_high"] - chosen["estimate"] == pytest.approx(half, rel=1e-6)


def small_package() -> dict[str, pd.DataFrame]:
    day = pd.Timestamp("2024-03-01")
    networks = pd.DataFrame(
        {"network_id": ["both", "one", "none"], "setting": ["rural", "urban_semi_urban", "rural"]}
    ).astype("str")
    strategies = pd.DataFrame(
        {
            "network_id": ["both", "both", "one", "one", "none"],
            "strategy_code": [
                "cl_case_management",
                "cl_liaison_officers",
                "cl_case_management",
                "cl_liaison_officers",
                "cl_case_management",
            ],
            "in_place": pd.array([True, True, True, False, True], dtype="boolean"),
        }
    ).astype({"network_id": "str", "strategy_code": "str"})
    d = pd.Timedelta
    episodes = pd.DataFrame(
        {
            "episode_id": ["e1", "e2", "e3", "e4"],
            "person_id": ["p1", "p1", "p2", "p3"],
            "network_id": ["both", "both", "one", "none"],
            "age_group": ["18-34", "35-49", "50-64", "65+"],
            "sex": ["female", "female", "male", "female"],
            "diagnosis_group": ["psychotic", "psychotic", "bipolar", "other_serious"],
            "admission_date": [day - d(days=9), day + d(days=20), day - d(days=5), day - d(days=3)],
            "discharge_date": [day, day + d(days=30), day, day],
            "follow_up_date": [day + d(days=3), pd.NaT, day + d(days=12), pd.NaT],
            "readmission_date": [day + d(days=20), pd.NaT, pd.NaT, day + d(days=45)],
        }
    ).astype(
        {
            c: "str"
            for c in (
                "episode_id",
                "person_id",
                "network_id",
                "age_group",
                "sex",
                "diagnosis_group",
            )
        }
    )
    return {"networks": networks, "network_strategies": strategies, "care_episodes": episodes}


def test_strategy_flag_needs_both_strategies_in_place():
    tables = small_package()
    frame = models.person_level_frame(tables).set_index("episode_id")
    assert frame[models.EXPOSURE].to_dict() == {"e1": True, "e2": True, "e3": False, "e4": False}
    assert frame["fuh7"].to_dict() == {"e1": True, "e2": False, "e3": False, "e4": False}
    assert frame["fuh30"].to_dict() == {"e1": True, "e2": False, "e3": True, "e4": False}
    assert frame.loc["e3", "setting"] == "urban_semi_urban"
    own = models.person_readmission_frame(tables, flags={"case_management": ["cl_case_management"]})
    assert own.set_index("person_id")["case_management"].to_dict() == {
        "p1": True,
        "p2": True,
        "p3": True,
    }
    tables["care_episodes"].loc[3, "network_id"] = "elsewhere"
    with pytest.raises(ValueError, match="networks: no row for network_id 'elsewhere'"):
        models.person_level_frame(tables)


def test_person_readmission_frame_counts_days_at_risk():
    persons = models.person_readmission_frame(small_package()).set_index("person_id")
    # p1: readmitted on day 20 after e1 (20 days at risk), then a full window after e2 (30)
    assert persons.loc["p1", ["n_episodes", "n_readmissions", "days_at_risk"]].tolist() == [
        2,
        1,
        50,
    ]
    assert persons.loc["p1", "age_group"] == "35-49"  # covariates of the latest discharge
    # p3: readmitted on day 45, outside the window
    assert persons.loc["p3", ["n_readmissions", "days_at_risk"]].tolist() == [0, 30]
    assert persons.loc["p2", models.EXPOSURE] == False  # noqa: E712 - numpy bool
