"""The side-by-side tables (network summary, model comparison) on three hand-built networks.

* A — rural, no hospital (model 1): a star of four organizations, hub ``a1`` tied to
  ``a2``, ``a3``, ``a4`` with 10, 10 and 20 transactions; a merger with pooled funds in place.
* B — rural, no hospital (model 1): three organizations, one tie ``b1``–``b2`` (6
  transactions), ``b3`` alone; a coordination committee, joint follow-up and shared care.
* C — metropolitan without a psychiatric hospital (no model): two organizations, no tie,
  no strategy known to be in place.
"""

from __future__ import annotations

import math

import pandas as pd
import pytest

from compendium.analysis.strategies import strategy_gaps
from compendium.analysis.summary import model_comparison, network_summary
from compendium.data.catalogues import load_catalogue

#: B's strategies in place, one in each of three cells of the grid.
B_IN_PLACE = ["fa_local_coordination_committee", "cl_joint_follow_up", "ph_shared_care"]


def _tables() -> dict[str, pd.DataFrame]:
    networks = pd.DataFrame(
        {
            "network_id": ["A", "B", "C"],
            "name": ["Alpha", "Beta", "Gamma"],
            "setting": ["rural", "rural", "metropolitan"],
            "population": [1000, 2500, 90000],
            "has_general_hospital": pd.array([False, False, True], dtype="boolean"),
            "general_hospital_has_psychiatry": pd.array([False, False, True], dtype="boolean"),
            "has_psychiatric_hospital": pd.array([False, False, False], dtype="boolean"),
        }
    )
    organizations = pd.DataFrame(
        {
            "network_id": ["A"] * 4 + ["B"] * 3 + ["C"] * 2,
            "organization_id": ["a1", "a2", "a3", "a4", "b1", "b2", "b3", "c1", "c2"],
            "organization_type": ["local_community_centre"] + ["community_organization"] * 8,
        }
    )
    ties = pd.DataFrame(
        {
            "network_id": ["A", "A", "A", "B"],
            "source": ["a1", "a1", "a4", "b1"],
            "target": ["a2", "a3", "a1", "b2"],
            "transactions_per_year": pd.array([10, 10, 20, 6], dtype="Int64"),
        }
    )
    network_strategies = pd.DataFrame(
        {
            "network_id": ["A", "A", "A", "B", "B", "B", "C"],
            "strategy_code": [
                "fa_merger",
                "fa_financial_integration_by_sector",
                "cl_case_management",
                *B_IN_PLACE,
                "cl_case_management",
            ],
            "in_place": pd.array([True, True, False, True, True, True, None], dtype="boolean"),
        }
    )
    return {
        "networks": networks,
        "organizations": organizations,
        "ties": ties,
        "network_strategies": network_strategies,
    }


def _cell_size(catalogue: pd.DataFrame, code: str) -> int:
    """Strategies of the catalogue in the grid cell of ``code``."""
    cell = catalogue.set_index("strategy_code").loc[code, ["integration_type", "governance_level"]]
    same = (catalogue["integration_type"] == cell["integration_type"]) & (
        catalogue["governance_level"] == cell["governance_level"]
    )
    return int(same.sum())


def test_network_summary_puts_every_measure_of_a_network_on_its_row():
    catalogue = load_catalogue()
    n_catalogue = len(catalogue)
    populated_cells = len(catalogue[["integration_type", "governance_level"]].drop_duplicates())
    summary = network_summary(_tables()).set_index("network_id")

    assert list(summary.index) == ["A", "B", "C"]
    assert list(summary.columns) == [
        "name",
        "setting",
        "population",
        "model",
        "n_organizations",
        "n_ties",
        "density",
        "degree_centralization",
        "hhi",
        "n_in_place",
        "scope",
        "coherence",
        "leutz_level",
        "ahgren_axelsson_step",
    ]
    assert summary["name"].tolist() == ["Alpha", "Beta", "Gamma"]
    assert summary["population"].tolist() == [1000, 2500, 90000]
    assert summary.loc["A", "model"] == 1 and summary.loc["B", "model"] == 1
    assert summary.loc["C", "model"] is pd.NA

    # structure
    assert summary["n_organizations"].tolist() == [4, 3, 2]
    assert summary["n_ties"].tolist() == [3, 1, 0]
    # A: 3 of 6 pairs; B: 1 of 3; C: 0 of 1
    assert summary["density"].tolist() == pytest.approx([0.5, 1 / 3, 0.0])
    # A is a star: 1; B: degrees 1, 1, 0 -> (0 + 0 + 1) / (2 * 1); C: two nodes, undefined
    assert summary.loc["A", "degree_centralization"] == pytest.approx(1.0)
    assert summary.loc["B", "degree_centralization"] == pytest.approx(0.5)
    assert math.isnan(summary.loc["C", "degree_centralization"])
    # A: credited 40, 10, 10, 20 of 80 -> 0.5² + 0.125² + 0.125² + 0.25²; B: one tie -> 0.5
    assert summary.loc["A", "hhi"] == pytest.approx(0.25 + 0.015625 + 0.015625 + 0.0625)
    assert summary.loc["B", "hhi"] == pytest.approx(0.5)
    assert math.isnan(summary.loc["C", "hhi"])

    # strategies: the row not in place (A) and the missing in_place (C) do not count
    assert summary["n_in_place"].tolist() == [2, 3, 0]
    assert summary["scope"].tolist() == pytest.approx([2 / n_catalogue, 3 / n_catalogue, 0.0])
    # A: both strategies in one cell -> 0; B: one strategy in each of three cells
    assert summary.loc["A", "coherence"] == pytest.approx(0.0)
    r = [1 / _cell_size(catalogue, code) for code in B_IN_PLACE]
    q = [x / sum(r) for x in r]
    expected = -sum(p * math.log(p) for p in q) / math.log(populated_cells)
    assert summary.loc["B", "coherence"] == pytest.approx(expected)
    assert math.isnan(summary.loc["C", "coherence"])

    # depth: merger + pooled funds = full integration; a coordination committee =
    # coordination; nothing in place = full segregation, below Leutz's scale
    assert summary["ahgren_axelsson_step"].astype(str).tolist() == [
        "full_integration",
        "coordination",
        "full_segregation",
    ]
    assert summary.loc["A", "leutz_level"] == "full_integration"
    assert summary.loc["B", "leutz_level"] == "coordination"
    assert pd.isna(summary.loc["C", "leutz_level"])


def test_model_comparison_averages_the_networks_of_each_model():
    tables = _tables()
    summary = network_summary(tables)
    # model 1 calls for four strategies here: A has one of them (3 gaps), B two (2 gaps)
    calls_for = pd.DataFrame(
        {
            "model": pd.array([1, 1, 1, 1], dtype="Int64"),
            "strategy_code": [
                "fa_merger",
                "fa_resource_directory",
                "ph_shared_care",
                "cl_joint_follow_up",
            ],
        }
    )
    gaps = strategy_gaps(tables["networks"], tables["network_strategies"], calls_for)
    assert gaps.groupby("network_id").size().to_dict() == {"A": 3, "B": 2}

    out = model_comparison(summary, gaps)
    assert list(out.columns) == [
        "model",
        "n_networks",
        "mean_scope",
        "mean_coherence",
        "mean_gaps",
    ]
    assert len(out) == 2  # model 1, and the networks without a model
    one = out[out["model"] == 1].iloc[0]
    n_catalogue = len(load_catalogue())
    assert one["n_networks"] == 2
    assert one["mean_scope"] == pytest.approx((2 + 3) / 2 / n_catalogue)
    coherence = summary.set_index("network_id")["coherence"]
    assert one["mean_coherence"] == pytest.approx((coherence["A"] + coherence["B"]) / 2)
    assert one["mean_gaps"] == pytest.approx(2.5)
    none = out[out["model"].isna()].iloc[0]
    # C has no model: it is kept, with no gaps (no model to measure it against)
    assert none["n_networks"] == 1
    assert none["mean_scope"] == pytest.approx(0.0)
    assert pd.isna(none["mean_coherence"])  # no strategy in place: evenness undefined
    assert none["mean_gaps"] == 0
    assert out["n_networks"].dtype == "int64"


def test_model_comparison_without_any_gap_counts_zero_gaps():
    summary = network_summary(_tables())
    no_gaps = pd.DataFrame(columns=["network_id", "model", "strategy_code"])
    out = model_comparison(summary, no_gaps)
    assert out["mean_gaps"].tolist() == [0.0, 0.0]
    assert out["n_networks"].sum() == 3
