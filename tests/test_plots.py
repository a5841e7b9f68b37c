"""The book's figures on tiny frames: one mark per data row, the labels and titles given."""

from __future__ import annotations

import warnings

import matplotlib.collections
import matplotlib.pyplot as plt
import networkx as nx
import numpy as np
import pandas as pd
import pytest

from compendium.analysis.policy import change_management_counts
from compendium.analysis.strategies import strategy_grid
from compendium.data.schema import ORGANIZATION_TYPES
from compendium.report import plots


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def texts(labels) -> list[str]:
    return [t.get_text() for t in labels]


def bar_widths(ax) -> list[list[float]]:
    """Widths of the horizontal bars, one list per bar group (hue level)."""
    return [[float(p.get_width()) for p in container] for container in ax.containers]


def test_label_reads_a_vocabulary_code():
    assert plots.label("urban_semi_urban") == "Urban / semi-urban"  # the schema's own label
    assert plots.label("community_organization") == "Community organization"


def test_organizations_by_type_draws_one_bar_per_type_present():
    counts = pd.DataFrame(
        {"organization_type": ["community_organization", "local_community_centre"], "n": [5, 2]}
    )
    ax = plots.organizations_by_type(counts)
    # bars in the schema's order of types, whatever the frame's order
    assert bar_widths(ax) == [[2.0, 5.0]]
    assert texts(ax.get_yticklabels()) == [plots.label(t) for t in ORGANIZATION_TYPES]
    assert ax.get_xlabel() == "Organizations"
    assert ax.get_ylabel() == ""


def test_organizations_by_type_with_a_hue_draws_a_bar_group_per_level():
    counts = pd.DataFrame(
        {
            "organization_type": ["local_community_centre", "community_organization"] * 2,
            "n": [2, 5, 1, 3],
            "Network": ["North", "North", "South", "South"],
        }
    )
    ax = plots.organizations_by_type(counts, hue="Network")
    assert bar_widths(ax) == [[2.0, 5.0], [1.0, 3.0]]
    assert texts(ax.get_legend().get_texts()) == ["North", "South"]


def test_tie_graph_draws_every_organization_and_tie():
    G = nx.Graph()
    G.add_node("a", organization_type="local_community_centre")
    G.add_node("b", organization_type="community_organization")
    G.add_node("c", organization_type="community_organization")
    G.add_node("d", organization_type="pharmacy")  # isolated: still drawn
    G.add_edge("a", "b", weight=3)
    G.add_edge("a", "c", weight=0)
    ax = plots.tie_graph(G, title="Organizations and their ties")
    edges = [c for c in ax.collections if isinstance(c, matplotlib.collections.LineCollection)]
    nodes = [c for c in ax.collections if isinstance(c, matplotlib.collections.PathCollection)]
    assert len(edges) == 1 and len(edges[0].get_segments()) == 2
    # widths grow with transactions: 0.5 + 3.5 * w / max(w)
    assert sorted(edges[0].get_linewidths()) == pytest.approx([0.5, 4.0])
    assert len(nodes) == 1 and len(nodes[0].get_offsets()) == 4
    # a legend entry per type present, in the schema's order
    assert texts(ax.get_legend().get_texts()) == [
        "Local community centre",
        "Community organization",
        "Pharmacy",
    ]
    assert ax.get_title() == "Organizations and their ties"
    assert not ax.axison


def test_tie_graph_of_a_network_without_organizations_is_an_empty_frame():
    ax = plots.tie_graph(nx.Graph())
    assert len(ax.collections) == 0 and not ax.axison


def test_tie_graph_places_nodes_the_same_way_every_time():
    G = nx.cycle_graph(5)
    nx.set_node_attributes(G, "community_organization", "organization_type")
    first = plots.tie_graph(G).collections[-1].get_offsets().copy()
    second = plots.tie_graph(G.copy()).collections[-1].get_offsets()
    assert np.array_equal(first, second)


def test_strategy_grid_annotates_each_cell_in_place_over_catalogue():
    in_place = pd.DataFrame(
        {
            "network_id": ["A", "A"],
            "strategy_code": ["fa_merger", "ph_shared_care"],
            "in_place": [True, True],
        }
    )
    grid = strategy_grid(in_place)
    ax = plots.strategy_grid(grid, title="Strategies in place / in the catalogue")
    # nine cells, row by row (integration type) and column by column (governance level)
    expected = [
        f"{row.n_in_place} / {row.n_catalogue}"
        for row in grid.sort_values(["integration_type", "governance_level"])
        .set_index(["integration_type", "governance_level"])
        .reindex(
            pd.MultiIndex.from_product(
                [
                    ["functional_administrative", "clinical", "physician_system"],
                    ["strategic", "tactical", "operational"],
                ]
            )
        )
        .itertuples()
    ]
    assert texts(ax.texts) == expected
    assert expected[0].startswith("1 / ") and expected[7].startswith("1 / ")  # the two set
    assert texts(ax.get_xticklabels()) == ["Strategic", "Tactical", "Operational"]
    assert texts(ax.get_yticklabels()) == [
        "Functional administrative",
        "Clinical",
        "Physician system",
    ]
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("Governance level", "Integration type")
    assert ax.get_title() == "Strategies in place / in the catalogue"


def test_metric_by_network_puts_one_point_per_network_at_its_value():
    table = pd.DataFrame(
        {
            "name": ["Beta", "Alpha", "Gamma"],
            "setting": ["rural", "metropolitan", "rural"],
            "scope": [0.1, 0.2, 0.3],
        }
    )
    ax = plots.metric_by_network(table, "scope", xlabel="Scope (share of the catalogue)")
    (points,) = ax.collections
    names = texts(ax.get_yticklabels())
    assert sorted(names) == ["Alpha", "Beta", "Gamma"]
    # each point sits at its network's value, on its network's row
    at = {names[int(y)]: x for x, y in points.get_offsets()}
    assert at == pytest.approx({"Beta": 0.1, "Alpha": 0.2, "Gamma": 0.3})
    assert ax.get_xlabel() == "Scope (share of the catalogue)"
    assert ax.get_legend().get_title().get_text() == "Setting"
    assert sorted(texts(ax.get_legend().get_texts())) == ["Metropolitan", "Rural"]


def test_metric_by_network_falls_back_on_ids_and_the_metric_label():
    table = pd.DataFrame(
        {"network_id": ["n1", "n2"], "setting": ["rural", "rural"], "hhi": [0.3, 0.5]}
    )
    ax = plots.metric_by_network(table, "hhi")
    assert sorted(texts(ax.get_yticklabels())) == ["n1", "n2"]
    assert len(ax.collections[0].get_offsets()) == 2
    assert ax.get_xlabel() == "Hhi"


def test_metric_by_network_without_a_defined_value_draws_no_key_and_warns_nothing():
    """Centralization of networks without ties is undefined: no point, so no legend (asking
    for one would warn "No artists with labels found", a warning the page used to show)."""
    table = pd.DataFrame(
        {"network_id": ["n1", "n2"], "setting": ["rural", "urban_semi_urban"], "hhi": [None] * 2}
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ax = plots.metric_by_network(table.astype({"hhi": float}), "hhi")
    assert ax.get_legend() is None
    assert sorted(texts(ax.get_yticklabels())) == ["n1", "n2"]


def test_code_frequencies_keeps_the_top_codes_summed_over_hue_levels():
    freq = pd.DataFrame(
        {
            "code": ["x", "x", "y", "z", "z"],
            "label": ["X code", "X code", "Y code", "Z code", "Z code"],
            "setting": ["rural", "metropolitan", "rural", "rural", "metropolitan"],
            "n_segments": [5, 1, 2, 1, 0],
        }
    )
    ax = plots.code_frequencies(freq.assign(n_segments=[15, 6, 7, 1, 0]), hue="setting", top=2)
    # x (21) and y (7) are the top two; z (1) is left out
    assert texts(ax.get_yticklabels()) == ["X code", "Y code"]
    assert bar_widths(ax) == [[15.0, 7.0], [6.0]]  # rural: x, y; metropolitan: x
    assert ax.get_xlabel() == "Coded segments"
    assert ax.get_legend().get_title().get_text() == "Setting"
    assert texts(ax.get_legend().get_texts()) == ["Rural", "Metropolitan"]


def test_code_frequencies_draw_no_bar_of_fewer_than_five_segments():
    freq = pd.DataFrame(
        {
            "code": ["x", "x", "y"],
            "setting": ["rural", "metropolitan", "rural"],
            "n_segments": [9, 3, 6],
        }
    )
    ax = plots.code_frequencies(freq, hue="setting", top=2)
    widths = sorted(w for group in bar_widths(ax) for w in group)
    assert 3.0 not in widths and {9.0, 6.0} <= set(widths)
    assert ax.get_xlabel() == "Coded segments (bars under 5 not drawn)"


def test_cooccurrence_is_a_square_of_informant_counts():
    cooc = pd.DataFrame(
        {
            "code_a": ["x", "x", "y", "y", "x"],
            "code_b": ["x", "y", "x", "y", "z"],
            "n_informants": [13, 2, 2, 40, 1],
        }
    )
    ax = plots.cooccurrence(cooc, ["x", "y"], {"x": "Code X"})
    # z is not among the codes shown; 2 informants are withheld as in the tables
    by_square = {
        (round(x.get_position()[1] - 0.5), round(x.get_position()[0] - 0.5)): x.get_text()
        for x in ax.texts
    }
    assert by_square == {(0, 0): "13", (0, 1): "<5", (1, 0): "<5", (1, 1): "40"}
    assert texts(ax.get_xticklabels()) == ["Code X", "y"]
    assert texts(ax.get_yticklabels()) == ["Code X", "y"]


def test_timeline_draws_one_span_per_phase_over_its_years():
    events = pd.DataFrame(
        {
            "period_start": [1966, 1970, 1981],
            "period_end": [1980, 1975, 2002],
            "phase": ["modernization", "modernization", "shock_of_reality"],
        }
    )
    ax = plots.timeline(events)
    spans = [(p.get_x(), p.get_width()) for p in ax.patches]
    # a phase spans its first start to its last end, both years included
    assert spans == [(1966, 1980 - 1966 + 1), (1981, 2002 - 1981 + 1)]
    assert texts(ax.get_yticklabels()) == ["Modernization", "Shock of reality"]
    assert ax.yaxis_inverted()  # the first phase on top
    assert ax.get_xlabel() == "Year"


def test_change_management_counts_components_by_kind_and_approach():
    components = pd.DataFrame(
        {
            "component": ["a", "b", "c"],
            "kind": ["clinical", "managerial", "clinical"],
            "change_management": ["let_it_happen", "make_it_happen", "let_it_happen"],
        }
    )
    ax = plots.change_management(change_management_counts(components))
    rows = texts(ax.get_yticklabels())
    columns = texts(ax.get_xticklabels())
    assert columns == ["Let it happen", "Help it happen", "Make it happen"]
    assert sorted(rows) == ["Clinical", "Interface", "Managerial"]
    cells = dict(zip([(r, c) for r in rows for c in columns], texts(ax.texts), strict=True))
    assert cells[("Clinical", "Let it happen")] == "2"
    assert cells[("Managerial", "Make it happen")] == "1"
    assert sorted(cells.values()) == ["0"] * 7 + ["1", "2"]
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("Change management", "Kind of component")


def test_estimates_draws_each_ratio_with_its_interval_on_a_log_scale():
    table = pd.DataFrame(
        {
            "term": ["Intercept", "setting[T.rural]", "age"],
            "odds_ratio": [1.5, 0.5, np.nan],  # a term without an estimate is left out
            "odds_ratio_ci_low": [1.0, 0.25, np.nan],
            "odds_ratio_ci_high": [2.0, 1.0, np.nan],
        }
    )
    ax = plots.estimates(table, "odds_ratio", title="Follow-up within 7 days")
    terms = texts(ax.get_yticklabels())
    assert terms == ["setting[T.rural]", "Intercept"]  # the first term on top
    markers = ax.lines[0].get_xydata()
    assert {terms[int(y)]: x for x, y in markers} == {"setting[T.rural]": 0.5, "Intercept": 1.5}
    (bars,) = [c for c in ax.collections if isinstance(c, matplotlib.collections.LineCollection)]
    intervals = {terms[int(seg[0][1])]: (seg[0][0], seg[1][0]) for seg in bars.get_segments()}
    assert intervals == {"setting[T.rural]": (0.25, 1.0), "Intercept": (1.0, 2.0)}
    assert ax.get_xscale() == "log"
    assert ax.get_xlabel() == "Odds ratio"
    assert ax.get_title() == "Follow-up within 7 days"


def test_a_figure_drawn_on_given_axes_stays_on_them():
    fig, (left, right) = plt.subplots(1, 2)
    counts = pd.DataFrame({"organization_type": ["pharmacy"], "n": [4]})
    assert plots.organizations_by_type(counts, ax=right) is right
    assert len(left.containers) == 0 and bar_widths(right) == [[4.0]]
    assert len(plt.get_fignums()) == 1
