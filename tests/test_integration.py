"""Depth of integration on the Leutz and Ahgren–Axelsson scales, one hand-built network per step."""

import pandas as pd

from compendium.analysis.integration import (
    AHGREN_AXELSSON_STEPS,
    COOPERATION,
    COORDINATION,
    FULL_INTEGRATION,
    LEUTZ_LEVELS,
    LINKAGE,
    ahgren_axelsson_step,
    integration_depth,
    leutz_level,
)
from compendium.data.catalogues import load_catalogue


def _ns(rows):
    df = pd.DataFrame(rows, columns=["network_id", "strategy_code", "in_place"])
    df["in_place"] = df["in_place"].astype("boolean")
    return df


# network -> (strategies in place, expected Ahgren–Axelsson step, expected Leutz level)
CASES = {
    # nothing in place (one row, not in place)
    "segregated": ([("cl_case_management", False)], "full_segregation", None),
    # resource directory and follow-up protocols: collaboration on cases only
    "linked": (
        [("fa_resource_directory", True), ("cl_follow_up_protocols", True)],
        "linkage",
        "linkage",
    ),
    # case management is a shared process under separate managements
    "coordinated": (
        [("cl_case_management", True), ("fa_interorganizational_protocols", True)],
        "coordination",
        "coordination",
    ),
    # shared staff: resources shared; Leutz has no separate step, so coordination
    "cooperating": (
        [("cl_shared_staff", True), ("cl_liaison_officers", True)],
        "cooperation",
        "coordination",
    ),
    # merged, but funds not pooled by sector (row says not in place): not single management
    "merged_only": (
        [("fa_merger", True), ("fa_financial_integration_by_sector", False)],
        "cooperation",
        "coordination",
    ),
    # merger and financial integration by sector: single management
    "integrated": (
        [("fa_merger", True), ("fa_financial_integration_by_sector", True)],
        "full_integration",
        "full_integration",
    ),
}


def _table():
    return _ns([(n, code, flag) for n, (rows, _, _) in CASES.items() for code, flag in rows])


def test_every_step_and_level_from_hand_built_networks():
    out = integration_depth(_table()).set_index("network_id")
    for network_id, (_, step, level) in CASES.items():
        assert out.loc[network_id, "ahgren_axelsson_step"] == step
        assert out.loc[network_id, "ahgren_axelsson_rank"] == AHGREN_AXELSSON_STEPS.index(step) + 1
        if level is None:
            assert pd.isna(out.loc[network_id, "leutz_level"])
        else:
            assert out.loc[network_id, "leutz_level"] == level
    ranks = out["ahgren_axelsson_rank"].to_dict()
    assert ranks == {
        "segregated": 1,
        "linked": 2,
        "coordinated": 3,
        "cooperating": 4,
        "merged_only": 4,
        "integrated": 5,
    }


def test_scales_are_ordered_categoricals():
    out = integration_depth(_table())
    assert list(out.columns) == [
        "network_id",
        "leutz_level",
        "ahgren_axelsson_step",
        "ahgren_axelsson_rank",
    ]
    assert out["ahgren_axelsson_step"].cat.ordered
    assert list(out["ahgren_axelsson_step"].cat.categories) == [
        "full_segregation",
        "linkage",
        "coordination",
        "cooperation",
        "full_integration",
    ]
    assert out["leutz_level"].cat.ordered
    assert list(out["leutz_level"].cat.categories) == list(LEUTZ_LEVELS)
    assert str(out["ahgren_axelsson_rank"].dtype) == "Int64"
    # order is usable: the deepest network sorts last
    assert out.sort_values("ahgren_axelsson_step")["network_id"].iloc[-1] == "integrated"


def test_deepest_step_wins_without_shallower_ones():
    # a merger with pooled funds needs no protocol to count as full integration
    assert ahgren_axelsson_step(FULL_INTEGRATION) == "full_integration"
    assert ahgren_axelsson_step({"fa_single_point_of_entry", "ph_shared_care"}) == "coordination"
    assert ahgren_axelsson_step({"ph_visiting_psychiatrist"}) == "linkage"
    # strategies confined to one organization do not link organizations
    assert ahgren_axelsson_step({"cl_assertive_community_treatment"}) == "full_segregation"
    assert leutz_level({"cl_assertive_community_treatment"}) is None
    assert leutz_level({"fa_financial_integration_by_sector"}) == "coordination"


def test_rule_groups_name_catalogue_strategies():
    catalogue = set(load_catalogue()["strategy_code"])
    for group in (FULL_INTEGRATION, COOPERATION, COORDINATION, LINKAGE):
        assert group <= catalogue
    # a strategy is graded once (full integration is a combination of cooperation ones)
    assert not (COOPERATION & COORDINATION or COOPERATION & LINKAGE or COORDINATION & LINKAGE)
    assert FULL_INTEGRATION <= COOPERATION
