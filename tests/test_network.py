"""Network measures on hand-built graphs and tables."""

import math

import networkx as nx
import pandas as pd
import pytest

from compendium.analysis.network import (
    degree_centralization,
    density,
    network_metrics,
    organization_counts,
    tie_graph,
    transaction_concentration,
)
from compendium.data.schema import ORGANIZATION_TYPES


def _orgs(rows):
    """organizations table from (organization_id, network_id, organization_type)."""
    df = pd.DataFrame(rows, columns=["organization_id", "network_id", "organization_type"])
    df["name"] = df["organization_id"].str.upper()
    df["synthetic"] = pd.array([True] * len(df), dtype="boolean")
    return df


def _ties(rows):
    """ties table from (network_id, source, target, transactions_per_year)."""
    df = pd.DataFrame(rows, columns=["network_id", "source", "target", "transactions_per_year"])
    df["tie_kind"] = "referral"
    df["transactions_per_year"] = df["transactions_per_year"].astype("Int64")
    df["synthetic"] = pd.array([True] * len(df), dtype="boolean")
    return df[["network_id", "source", "target", "tie_kind", "transactions_per_year", "synthetic"]]


def test_star_is_fully_centralized():
    G = nx.star_graph(4)  # hub 0 and 4 spokes: degrees 4,1,1,1,1
    # sum(4 - d) = 0 + 3*4 = 12; (n-1)(n-2) = 4*3 = 12
    assert degree_centralization(G) == 1.0
    assert density(G) == pytest.approx(4 / 10)


def test_ring_is_not_centralized():
    G = nx.cycle_graph(5)  # every degree 2
    assert degree_centralization(G) == 0.0
    assert density(G) == pytest.approx(5 / 10)


def test_path_of_four_hand_computed():
    G = nx.path_graph(["a", "b", "c", "d"])
    # degrees 1,2,2,1; max 2; sum(2 - d) = 1 + 0 + 0 + 1 = 2; (4-1)(4-2) = 6 -> 1/3
    assert degree_centralization(G) == pytest.approx(1 / 3)
    # 3 ties of 4*3/2 = 6 possible
    assert density(G) == pytest.approx(0.5)


def test_triangle_with_pendant_hand_computed():
    G = nx.Graph([("a", "b"), ("b", "c"), ("a", "c"), ("a", "d")])
    # degrees a=3, b=2, c=2, d=1; sum(3 - d) = 0 + 1 + 1 + 2 = 4; /6 -> 2/3
    assert degree_centralization(G) == pytest.approx(2 / 3)
    assert density(G) == pytest.approx(4 / 6)


def test_centralization_undefined_without_ties_or_below_three_nodes():
    G = nx.empty_graph(3)
    assert math.isnan(degree_centralization(G))
    assert density(G) == 0.0
    assert math.isnan(degree_centralization(nx.path_graph(2)))
    assert math.isnan(density(nx.empty_graph(1)))


def test_tie_graph_keeps_isolated_organizations_and_sums_both_directions():
    orgs = _orgs(
        [
            ("clsc", "n1", "local_community_centre"),
            ("hosp", "n1", "general_hospital"),
            ("co", "n1", "community_organization"),
            ("pharm", "n1", "pharmacy"),  # no tie at all
            ("other", "n2", "pharmacy"),
        ]
    )
    ties = _ties(
        [
            ("n1", "clsc", "hosp", 10),
            ("n1", "hosp", "clsc", 5),  # same pair, other direction
            ("n1", "clsc", "co", 0),  # a tie with no transactions is still a tie
        ]
    )
    G = tie_graph(orgs, ties, "n1")
    assert set(G.nodes) == {"clsc", "hosp", "co", "pharm"}
    assert G.nodes["pharm"]["organization_type"] == "pharmacy"
    assert G.number_of_edges() == 2
    assert G["clsc"]["hosp"]["weight"] == 15
    assert G["clsc"]["co"]["weight"] == 0
    # degrees clsc=2, hosp=1, co=1, pharm=0: sum(2 - d) = 0+1+1+2 = 4; (3)(2) = 6
    assert degree_centralization(G) == pytest.approx(2 / 3)
    assert density(G) == pytest.approx(2 / 6)


def test_tie_graph_refuses_a_tie_to_another_networks_organization():
    orgs = _orgs([("a", "n1", "pharmacy"), ("b", "n2", "pharmacy")])
    with pytest.raises(ValueError, match="'b' is not an organization of network 'n1'"):
        tie_graph(orgs, _ties([("n1", "a", "b", 1)]), "n1")


def test_hhi_hand_computed():
    orgs = _orgs(
        [
            ("a", "n1", "general_hospital"),
            ("b", "n1", "local_community_centre"),
            ("c", "n1", "community_organization"),
            ("d", "n1", "pharmacy"),
        ]
    )
    ties = _ties([("n1", "a", "b", 30), ("n1", "c", "a", 10)])
    # both ends credited: a = 40, b = 30, c = 10, d = 0, of 2 * 40 = 80
    # shares 0.5, 0.375, 0.125, 0 -> HHI = 0.25 + 0.140625 + 0.015625 = 0.40625
    out = transaction_concentration(orgs, ties).set_index("network_id")
    assert out.loc["n1", "hhi"] == pytest.approx(0.40625)
    assert out.loc["n1", "total_transactions"] == 40
    assert out.loc["n1", "n_organizations"] == 4
    assert out.loc["n1", "top_organization_id"] == "a"
    assert out.loc["n1", "top_share"] == pytest.approx(0.5)


def test_hhi_of_a_star_and_of_a_single_tie():
    orgs = _orgs(
        [("hub", "s", "general_hospital")]
        + [(f"o{i}", "s", "community_organization") for i in range(4)]
        + [("x", "p", "pharmacy"), ("y", "p", "pharmacy")]
    )
    ties = _ties([("s", "hub", f"o{i}", 7) for i in range(4)] + [("p", "x", "y", 3)])
    out = transaction_concentration(orgs, ties).set_index("network_id")["hhi"]
    # hub holds half of every tie: 0.5**2 + 4 * 0.125**2 = 0.25 + 0.0625
    assert out["s"] == pytest.approx(0.3125)
    # one tie: 0.5**2 + 0.5**2
    assert out["p"] == pytest.approx(0.5)


def test_hhi_undefined_without_transactions():
    orgs = _orgs([("a", "z", "pharmacy"), ("b", "z", "pharmacy"), ("c", "none", "pharmacy")])
    out = transaction_concentration(orgs, _ties([("z", "a", "b", 0)])).set_index("network_id")
    assert math.isnan(out.loc["z", "hhi"])
    assert math.isnan(out.loc["none", "hhi"])
    assert out.loc["none", "total_transactions"] == 0


def test_organization_counts_include_zero_types():
    orgs = _orgs(
        [
            ("c1", "n1", "local_community_centre"),
            ("o1", "n1", "community_organization"),
            ("o2", "n1", "community_organization"),
            ("p1", "n2", "psychiatric_hospital"),
        ]
    )
    out = organization_counts(orgs)
    assert list(out.columns) == ["network_id", "organization_type", "n"]
    assert len(out) == 2 * 7
    counts = out.set_index(["network_id", "organization_type"])["n"]
    assert counts["n1", "community_organization"] == 2
    assert counts["n1", "local_community_centre"] == 1
    assert counts["n1", "psychiatric_hospital"] == 0
    assert counts["n2", "psychiatric_hospital"] == 1
    assert counts.loc["n2"].sum() == 1
    assert list(out.loc[out["network_id"] == "n1", "organization_type"]) == list(ORGANIZATION_TYPES)


def test_network_metrics_one_row_per_network():
    orgs = _orgs(
        [
            # n1: a path of four (see test_path_of_four_hand_computed)
            ("a", "n1", "local_community_centre"),
            ("b", "n1", "general_hospital"),
            ("c", "n1", "community_organization"),
            ("d", "n1", "pharmacy"),
            # n2: three organizations, no ties
            ("e", "n2", "local_community_centre"),
            ("f", "n2", "community_organization"),
            ("g", "n2", "pharmacy"),
        ]
    )
    ties = _ties([("n1", "a", "b", 10), ("n1", "b", "c", 10), ("n1", "d", "c", 20)])
    out = network_metrics(orgs, ties).set_index("network_id")
    assert list(out.columns) == [
        "n_organizations",
        "n_ties",
        "density",
        "degree_centralization",
        "hhi",
    ]
    assert out.loc["n1", "n_organizations"] == 4
    assert out.loc["n1", "n_ties"] == 3
    assert out.loc["n1", "density"] == pytest.approx(0.5)
    assert out.loc["n1", "degree_centralization"] == pytest.approx(1 / 3)
    # credited a = 10, b = 20, c = 30, d = 20 of 80: 1/64 + 1/16 + 9/64 + 1/16 = 18/64
    assert out.loc["n1", "hhi"] == pytest.approx(18 / 64)
    assert out.loc["n2", "n_organizations"] == 3
    assert out.loc["n2", "n_ties"] == 0
    assert out.loc["n2", "density"] == 0.0
    assert math.isnan(out.loc["n2", "degree_centralization"])
    assert math.isnan(out.loc["n2", "hhi"])
