"""Strategy grid, scope, coherence, model assignment and gaps, on hand-built networks."""

import math

import pandas as pd
import pytest

from compendium.analysis.strategies import (
    assign_model,
    coherence,
    scope,
    strategy_gaps,
    strategy_grid,
)
from compendium.data.catalogues import load_catalogue, load_model_strategies, load_models


def _ns(rows):
    """A network_strategies table from (network_id, strategy_code, in_place) triples."""
    df = pd.DataFrame(rows, columns=["network_id", "strategy_code", "in_place"])
    df["in_place"] = df["in_place"].astype("boolean")
    df["since_year"] = pd.array([pd.NA] * len(df), dtype="Int64")
    df["synthetic"] = pd.array([True] * len(df), dtype="boolean")
    return df


def _networks(rows):
    cols = [
        "network_id",
        "setting",
        "has_general_hospital",
        "general_hospital_has_psychiatry",
        "has_psychiatric_hospital",
    ]
    df = pd.DataFrame(rows, columns=cols)
    for c in cols[2:]:
        df[c] = df[c].astype("boolean")
    return df


def _cell(grid, network_id, integration_type, governance_level):
    row = grid[
        (grid["network_id"] == network_id)
        & (grid["integration_type"] == integration_type)
        & (grid["governance_level"] == governance_level)
    ]
    assert len(row) == 1
    return int(row["n_in_place"].iloc[0]), int(row["n_catalogue"].iloc[0])


# A tiny catalogue for hand computation: three populated cells out of nine.
TINY = pd.DataFrame(
    {
        "strategy_code": ["x1", "x2", "y1", "z1"],
        "label": ["X1", "X2", "Y1", "Z1"],
        "integration_type": [
            "functional_administrative",
            "functional_administrative",
            "clinical",
            "physician_system",
        ],
        "governance_level": ["strategic", "strategic", "tactical", "operational"],
        "source": ["fleury2006"] * 4,
    }
)


def test_catalogue_grid_counts_the_33_strategies():
    # counted from resources/strategies.csv:
    # FA 9/4/0, clinical 0/5/11, physician 1/1/2 (strategic/tactical/operational)
    grid = strategy_grid(_ns([("a", "fa_merger", False)]))
    assert len(grid) == 9
    expected = {
        ("functional_administrative", "strategic"): 9,
        ("functional_administrative", "tactical"): 4,
        ("functional_administrative", "operational"): 0,
        ("clinical", "strategic"): 0,
        ("clinical", "tactical"): 5,
        ("clinical", "operational"): 11,
        ("physician_system", "strategic"): 1,
        ("physician_system", "tactical"): 1,
        ("physician_system", "operational"): 2,
    }
    for (t, lvl), n in expected.items():
        assert _cell(grid, "a", t, lvl) == (0, n)
    assert grid["n_catalogue"].sum() == 33


def test_strategy_grid_counts_in_place_only_and_keeps_zero_cells():
    ns = _ns(
        [
            ("a", "fa_merger", True),  # FA strategic
            ("a", "fa_local_coordination_committee", True),  # FA strategic
            ("a", "fa_single_point_of_entry", True),  # FA tactical
            ("a", "cl_case_management", True),  # clinical operational
            ("a", "cl_joint_follow_up", False),  # not in place: not counted
            ("b", "ph_shared_care", False),
        ]
    )
    grid = strategy_grid(ns)
    assert len(grid) == 18  # two networks × nine cells
    assert list(grid.columns) == [
        "network_id",
        "integration_type",
        "governance_level",
        "n_in_place",
        "n_catalogue",
    ]
    assert _cell(grid, "a", "functional_administrative", "strategic") == (2, 9)
    assert _cell(grid, "a", "functional_administrative", "tactical") == (1, 4)
    assert _cell(grid, "a", "clinical", "operational") == (1, 11)
    assert _cell(grid, "a", "physician_system", "tactical") == (0, 1)
    assert grid.loc[grid["network_id"] == "b", "n_in_place"].sum() == 0


def test_scope_is_the_share_of_the_catalogue_in_place():
    ns = _ns(
        [
            ("a", "fa_merger", True),
            ("a", "fa_single_point_of_entry", True),
            ("a", "cl_case_management", True),
            ("a", "cl_joint_follow_up", False),
            ("b", "ph_shared_care", False),
        ]
    )
    out = scope(ns).set_index("network_id")
    assert out.loc["a", "n_in_place"] == 3
    assert out.loc["a", "n_catalogue"] == 33
    assert out.loc["a", "scope"] == pytest.approx(3 / 33)
    assert out.loc["b", "scope"] == 0.0


def test_coherence_hand_computed_on_a_tiny_catalogue():
    ns = _ns(
        [
            # n1: x1, y1, z1 -> coverage r = (1/2, 1, 1) over the K = 3 populated cells
            ("n1", "x1", True),
            ("n1", "y1", True),
            ("n1", "z1", True),
            # n2: whole catalogue -> r = (1, 1, 1) -> perfectly even
            ("n2", "x1", True),
            ("n2", "x2", True),
            ("n2", "y1", True),
            ("n2", "z1", True),
            # n3: everything in one cell -> 0
            ("n3", "x1", True),
            ("n3", "x2", True),
            # n4: nothing in place -> undefined
            ("n4", "x1", False),
        ]
    )
    out = coherence(ns, TINY).set_index("network_id")["coherence"]
    # n1: q = (0.2, 0.4, 0.4); H = -(0.2 ln 0.2 + 2 * 0.4 ln 0.4)
    #       = 0.321888 + 0.733033 = 1.054920; H / ln 3 = 1.054920 / 1.098612 = 0.960230
    assert out["n1"] == pytest.approx(0.960230, abs=1e-6)
    assert out["n2"] == pytest.approx(1.0)
    assert str(out["n3"]) == "0.0"  # not -0.0
    assert math.isnan(out["n4"])


def test_coherence_of_the_whole_package_catalogue_is_one():
    cat = load_catalogue()
    ns = _ns([("all", code, True) for code in cat["strategy_code"]])
    assert coherence(ns)["coherence"].iloc[0] == pytest.approx(1.0)


def test_coherence_with_one_strategy_per_populated_cell():
    # one strategy in each of the 7 populated cells: r = (1/9, 1/4, 1/5, 1/11, 1, 1, 1/2)
    codes = [
        "fa_merger",
        "fa_single_point_of_entry",
        "cl_liaison_officers",
        "cl_case_management",
        "ph_physicians_on_committee",
        "ph_shared_care",
        "ph_gp_liaison",
    ]
    # sum(r) = 3.152020; q = r / sum(r) = (0.035251, 0.079315, 0.063452, 0.028842,
    #   0.317256, 0.317256, 0.158628); -q ln q = (0.117924, 0.201010, 0.174967, 0.102271,
    #   0.364229, 0.364229, 0.292066), sum H = 1.616696; H / ln 7 = 1.616696 / 1.945910
    value = coherence(_ns([("a", c, True) for c in codes]))["coherence"].iloc[0]
    assert value == pytest.approx(0.830817, abs=1e-5)


def test_unknown_strategy_code_is_refused():
    with pytest.raises(ValueError, match="'no_such_strategy' is not in the strategy catalogue"):
        scope(_ns([("a", "no_such_strategy", True)]))


def test_assign_model_every_case():
    nets = _networks(
        [
            ("r1", "rural", False, False, False),
            ("r1b", "rural", False, None, False),  # psychiatry flag empty without a hospital
            ("r2", "rural", True, False, False),
            ("r_gh_psy", "rural", True, True, False),
            ("r_ph", "rural", False, False, True),
            ("u3", "urban_semi_urban", True, True, False),
            ("u3_ph", "urban_semi_urban", True, True, True),
            ("u_no_psy", "urban_semi_urban", True, False, False),
            ("u_no_gh", "urban_semi_urban", False, False, False),
            ("m4", "metropolitan", False, False, True),
            ("m4_gh", "metropolitan", True, True, True),
            ("m_no_ph", "metropolitan", True, True, False),
            ("missing", "rural", None, False, False),
        ]
    )
    out = assign_model(nets).set_index("network_id")
    assert list(assign_model(nets).columns) == ["network_id", "model", "reason"]
    assert str(out["model"].dtype) == "Int64"
    expected = {
        "r1": 1,
        "r1b": 1,
        "r2": 2,
        "u3": 3,
        "u3_ph": 3,
        "m4": 4,
        "m4_gh": 4,
    }
    for network_id, model in expected.items():
        assert out.loc[network_id, "model"] == model
        assert not out.loc[network_id, "reason"].startswith("no matching model")
    assert "unusual" in out.loc["u3_ph", "reason"]
    for network_id in ("r_gh_psy", "r_ph", "u_no_psy", "u_no_gh", "m_no_ph", "missing"):
        assert out.loc[network_id, "model"] is pd.NA
        assert out.loc[network_id, "reason"].startswith("no matching model: ")
    assert "psychiatric hospital" in out.loc["r_ph", "reason"]
    assert "without a psychiatric hospital" in out.loc["m_no_ph", "reason"]
    assert "has_general_hospital is missing" in out.loc["missing", "reason"]


def test_models_and_their_strategies_are_consistent():
    models = load_models()
    assert list(models["model"]) == [1, 2, 3, 4]
    assert list(models["setting"]) == ["rural", "rural", "urban_semi_urban", "metropolitan"]
    ms = load_model_strategies()
    assert set(ms["strategy_code"]) <= set(load_catalogue()["strategy_code"])
    assert not ms.duplicated(["model", "strategy_code"]).any()
    by_model = ms.groupby("model")["strategy_code"].apply(set)
    # model 4 is model 3 plus the metropolitan intermediary structure
    assert by_model[4] == by_model[3] | {"fa_intermediary_structure"}
    # both rural models use regional/local planning and a regional coordinating committee
    regional = {"fa_regional_local_planning", "fa_regional_coordinating_committee"}
    assert regional <= by_model[1] and regional <= by_model[2]
    assert "cl_mobile_mental_health_team" in by_model[2]
    assert "cl_mobile_mental_health_team" not in by_model[1]
    assert "fa_financial_integration_by_sector" in by_model[3]
    assert "fa_financial_integration_by_sector" not in by_model[1] | by_model[2]
    assert (ms["why"].str.len() > 0).all()


def test_strategy_gaps_counts_missing_rows_as_not_in_place():
    nets = _networks(
        [
            ("r1", "rural", False, False, False),
            ("r_ph", "rural", False, False, True),  # no model: no gaps listed
        ]
    )
    ns = _ns(
        [
            ("r1", "fa_local_coordination_committee", True),
            ("r1", "cl_joint_follow_up", False),
            ("r1", "cl_case_management", True),  # in place but not called for: irrelevant
            ("r_ph", "fa_merger", True),
        ]
    )
    gaps = strategy_gaps(nets, ns)
    assert list(gaps.columns) == [
        "network_id",
        "model",
        "strategy_code",
        "label",
        "integration_type",
        "governance_level",
    ]
    # model 1 calls for 7 strategies; 1 in place -> 6 gaps, in catalogue order
    assert list(gaps["strategy_code"]) == [
        "fa_regional_local_planning",
        "fa_interorganizational_protocols",
        "fa_regional_coordinating_committee",
        "cl_pharmacy_protocols",
        "cl_community_follow_up",
        "cl_joint_follow_up",
    ]
    assert set(gaps["network_id"]) == {"r1"}
    assert (gaps["model"] == 1).all()
    row = gaps.set_index("strategy_code").loc["cl_pharmacy_protocols"]
    assert row["label"] == "Pharmacy protocols for medication control"
    assert (row["integration_type"], row["governance_level"]) == ("clinical", "tactical")


def test_strategy_gaps_empty_when_model_fully_in_place():
    nets = _networks([("m4", "metropolitan", True, True, True)])
    ms = load_model_strategies()
    codes = ms.loc[ms["model"] == 4, "strategy_code"]
    gaps = strategy_gaps(nets, _ns([("m4", c, True) for c in codes]))
    assert gaps.empty
    assert len(strategy_gaps(nets, _ns([("m4", "fa_merger", True)]))) == len(codes)  # 16
    assert len(codes) == 16
