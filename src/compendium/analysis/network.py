"""Inter-organizational network measures: density, centralization, concentration.

Fleury counts network centrality — the concentration of services and
inter-organizational transactions in one or a few organizations — among what
makes a network complex [fleury2006]; Provan and Milward compared community
mental health networks on integration and centralization. This module turns
the ``organizations`` and ``ties`` tables into a graph per network and
measures it.
"""

from __future__ import annotations

import math

import networkx as nx
import pandas as pd

from ..data.schema import ORGANIZATION_TYPES


def tie_graph(organizations: pd.DataFrame, ties: pd.DataFrame, network_id: str) -> nx.Graph:
    """The undirected graph of one network's organizations and ties.

    Every organization of the network is a node (with its
    ``organization_type`` attribute), tied or not, so isolated organizations
    count in density and centralization. Two organizations are joined by one
    edge when at least one tie links them, in either direction and of any
    kind; the edge's ``weight`` is the sum of ``transactions_per_year`` over
    those ties (a tie with 0 transactions still makes an edge).

    Why undirected: most tie kinds (agreements, shared staff, joint
    follow-up) have no direction, and for referrals the question is whether
    two organizations work together, not who sends to whom. Freeman's degree
    centralization and density are then defined on the simple graph.

    Parameters
    ----------
    organizations, ties : DataFrame
        The ``organizations`` and ``ties`` tables (any networks).
    network_id : str
        The network to draw.

    Returns
    -------
    networkx.Graph

    Raises
    ------
    ValueError
        When a tie of the network names an organization that is not one of
        the network's, or joins an organization to itself.
    """
    orgs = organizations[organizations["network_id"] == network_id]
    G = nx.Graph(network_id=network_id)
    for org_id, org_type in zip(orgs["organization_id"], orgs["organization_type"], strict=True):
        G.add_node(org_id, organization_type=org_type)
    net_ties = ties[ties["network_id"] == network_id]
    for source, target, n in zip(
        net_ties["source"], net_ties["target"], net_ties["transactions_per_year"], strict=True
    ):
        for end in (source, target):
            if end not in G:
                raise ValueError(
                    f"ties: organization {end!r} is not an organization of network {network_id!r}"
                )
        if source == target:
            raise ValueError(f"ties: organization {source!r} is tied to itself")
        n = 0 if pd.isna(n) else int(n)
        if G.has_edge(source, target):
            G[source][target]["weight"] += n
        else:
            G.add_edge(source, target, weight=n)
    return G


def density(G: nx.Graph) -> float:
    """Share of possible ties present: ``2m / (n (n - 1))``; NaN below two nodes."""
    n = G.number_of_nodes()
    if n < 2:
        return math.nan
    return 2 * G.number_of_edges() / (n * (n - 1))


def degree_centralization(G: nx.Graph) -> float:
    """Freeman degree centralization of an undirected graph.

    ``C = sum_i (d_max - d_i) / ((n - 1)(n - 2))``, where ``d_i`` is the
    number of organizations ``i`` is tied to. The denominator is the sum a
    star of ``n`` nodes reaches, so a star scores 1 and any graph whose nodes
    all have the same degree (a ring, a complete graph) scores 0.

    Undefined (NaN) when the graph has fewer than 3 nodes (the denominator
    is 0) or no ties at all. A network without ties is not "perfectly
    decentralized": centralization describes how ties are spread among
    organizations, and with no ties there is nothing spread. Reporting 0
    would rank an unconnected set of organizations with a ring in which
    everybody works with two partners.

    Returns
    -------
    float
        From 0 to 1, or NaN.
    """
    n = G.number_of_nodes()
    if n < 3 or G.number_of_edges() == 0:
        return math.nan
    degrees = [d for _, d in G.degree()]
    top = max(degrees)
    return sum(top - d for d in degrees) / ((n - 1) * (n - 2))


def _organization_shares(organizations: pd.DataFrame, ties: pd.DataFrame) -> pd.DataFrame:
    """Each organization's share of its network's transactions (both ends credited)."""
    flows = pd.concat(
        [
            ties[["network_id", "source", "transactions_per_year"]].rename(
                columns={"source": "organization_id"}
            ),
            ties[["network_id", "target", "transactions_per_year"]].rename(
                columns={"target": "organization_id"}
            ),
        ]
    )
    flows["transactions_per_year"] = flows["transactions_per_year"].astype("Float64").fillna(0)
    credited = flows.groupby(["network_id", "organization_id"])["transactions_per_year"].sum()
    out = organizations[["network_id", "organization_id"]].copy()
    out["transactions"] = (
        credited.reindex(pd.MultiIndex.from_frame(out)).fillna(0).to_numpy(dtype=float)
    )
    total = out.groupby("network_id")["transactions"].transform("sum")
    out["share"] = (out["transactions"] / total).where(total > 0)
    return out


def transaction_concentration(organizations: pd.DataFrame, ties: pd.DataFrame) -> pd.DataFrame:
    """Herfindahl–Hirschman index of each network's transactions.

    Each tie's ``transactions_per_year`` is credited to **both** of its
    organizations: a referral, a joint case or a staff exchange involves the
    sender and the receiver alike, and most tie kinds have no direction.
    An organization's share ``s_i`` is its credited transactions over twice
    the network's total, so shares sum to 1, and ``HHI = sum_i s_i ** 2``.

    Reading it: ``1/n`` when all ``n`` organizations carry the same volume;
    0.5 at most, reached when all transactions run on one tie between two
    organizations; a star whose hub carries everything with ``k`` equal
    spokes gives ``0.25 + 0.25/k`` (the hub holds half of every tie).
    Undefined (NaN) when the network has no transactions.

    Returns
    -------
    DataFrame
        One row per network of ``organizations``: ``network_id``, ``hhi``,
        ``total_transactions`` (sum over ties, counted once),
        ``n_organizations``, ``top_organization_id`` and ``top_share`` (the
        organization with the largest share and that share; empty/NaN when
        there are no transactions).
    """
    shares = _organization_shares(organizations, ties)
    rows = []
    for network_id, grp in shares.groupby("network_id", sort=False):
        total = grp["transactions"].sum() / 2
        if total > 0:
            top = grp.loc[grp["share"].idxmax()]
            hhi = float((grp["share"] ** 2).sum())
            top_id, top_share = top["organization_id"], float(top["share"])
        else:
            hhi, top_id, top_share = math.nan, None, math.nan
        rows.append(
            {
                "network_id": network_id,
                "hhi": hhi,
                "total_transactions": total,
                "n_organizations": len(grp),
                "top_organization_id": top_id,
                "top_share": top_share,
            }
        )
    columns = [
        "network_id",
        "hhi",
        "total_transactions",
        "n_organizations",
        "top_organization_id",
        "top_share",
    ]
    return pd.DataFrame(rows, columns=columns)


def organization_counts(organizations: pd.DataFrame) -> pd.DataFrame:
    """Organizations per network and type, zeros included.

    Returns
    -------
    DataFrame
        ``network_id``, ``organization_type``, ``n``: one row per network of
        ``organizations`` and each of the seven organization types, in the
        schema's order.
    """
    networks = pd.unique(organizations["network_id"])
    index = pd.MultiIndex.from_product(
        [networks, ORGANIZATION_TYPES], names=["network_id", "organization_type"]
    )
    counts = organizations.groupby(["network_id", "organization_type"]).size()
    out = counts.reindex(index, fill_value=0).rename("n").reset_index()
    return out.astype({"n": "int64"})


def network_metrics(organizations: pd.DataFrame, ties: pd.DataFrame) -> pd.DataFrame:
    """Structural measures of every network, one row each.

    Returns
    -------
    DataFrame
        ``network_id``, ``n_organizations``, ``n_ties`` (pairs of
        organizations joined by at least one tie, i.e. edges of
        :func:`tie_graph`), ``density``, ``degree_centralization`` and
        ``hhi`` (:func:`transaction_concentration`).
    """
    rows = []
    for network_id in pd.unique(organizations["network_id"]):
        G = tie_graph(organizations, ties, network_id)
        rows.append(
            {
                "network_id": network_id,
                "n_organizations": G.number_of_nodes(),
                "n_ties": G.number_of_edges(),
                "density": density(G),
                "degree_centralization": degree_centralization(G),
            }
        )
    out = pd.DataFrame(
        rows,
        columns=["network_id", "n_organizations", "n_ties", "density", "degree_centralization"],
    )
    hhi = transaction_concentration(organizations, ties)[["network_id", "hhi"]]
    return out.merge(hhi, on="network_id", how="left")
