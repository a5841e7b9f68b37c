"""Seaborn figures, with one palette per setting used everywhere in the book.

Every function draws on a matplotlib ``Axes`` (created when not given) and
returns it; none calls ``plt.show()``, so notebooks decide how figures are
displayed. Layouts that involve randomness use a fixed seed, so the same data
always give the same picture.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import networkx as nx
import pandas as pd
import seaborn as sns
from matplotlib.ticker import LogFormatter

from ..data.schema import (
    GOVERNANCE_LEVELS,
    INTEGRATION_TYPES,
    ORGANIZATION_TYPES,
    SETTING_LABELS,
    SETTINGS,
)
from . import privacy
from .escape import PLOT_RC

#: One colour per setting (colour-blind safe, from seaborn's "colorblind" palette).
SETTING_PALETTE = dict(zip(SETTINGS, sns.color_palette("colorblind", 3).as_hex(), strict=True))
#: One colour per organization type, for graphs and bars.
ORGANIZATION_PALETTE = dict(
    zip(
        ORGANIZATION_TYPES, sns.color_palette("Set2", len(ORGANIZATION_TYPES)).as_hex(), strict=True
    )
)
LAYOUT_SEED = 7


def label(code: str) -> str:
    """Readable label for a vocabulary code (``urban_semi_urban`` -> ``Urban semi urban``)."""
    return SETTING_LABELS.get(code, code.replace("_", " ").capitalize())


def setup() -> None:
    """Theme for every figure of the book; text from the data is drawn as written (no mathtext)."""
    sns.set_theme(context="notebook", style="whitegrid", font_scale=0.95)
    plt.rcParams.update(
        {"figure.dpi": 100, "savefig.dpi": 100, "svg.hashsalt": "compendium", **PLOT_RC}
    )


def _axes(ax, figsize=(6, 3.5)):
    if ax is None:
        _, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax


def organizations_by_type(counts: pd.DataFrame, ax=None, hue: str | None = None):
    """Horizontal bars of organizations per type.

    Parameters
    ----------
    counts : DataFrame
        Columns ``organization_type`` and ``n`` (and ``hue`` if given).
    """
    ax = _axes(ax)
    data = counts.assign(type_label=counts["organization_type"].map(label))
    order = [label(t) for t in ORGANIZATION_TYPES]
    if hue is None:
        sns.barplot(
            data=data,
            y="type_label",
            x="n",
            order=order,
            color=sns.color_palette("colorblind")[0],
            ax=ax,
        )
    else:
        palette = SETTING_PALETTE if hue == "setting" else None
        sns.barplot(data=data, y="type_label", x="n", hue=hue, order=order, palette=palette, ax=ax)
    ax.set(xlabel="Organizations", ylabel="")
    return ax


def tie_graph(graph: nx.Graph, ax=None, title: str | None = None):
    """Draw a network's organizations (coloured by type) and their ties (width ~ transactions)."""
    ax = _axes(ax, figsize=(6.5, 5))
    if graph.number_of_nodes() == 0:
        ax.set_axis_off()
        return ax
    pos = nx.spring_layout(graph, seed=LAYOUT_SEED, weight=None)
    colours = [ORGANIZATION_PALETTE[graph.nodes[n].get("organization_type")] for n in graph.nodes]
    weights = [graph.edges[e].get("weight", 1) for e in graph.edges]
    top = max(weights, default=1) or 1
    nx.draw_networkx_edges(
        graph,
        pos,
        ax=ax,
        width=[0.5 + 3.5 * w / top for w in weights],
        alpha=0.45,
        edge_color="#555555",
    )
    degree = dict(graph.degree())
    nx.draw_networkx_nodes(
        graph,
        pos,
        ax=ax,
        node_color=colours,
        node_size=[60 + 25 * degree[n] for n in graph.nodes],
        edgecolors="#333333",
        linewidths=0.5,
    )
    present = sorted(
        {graph.nodes[n].get("organization_type") for n in graph.nodes}, key=ORGANIZATION_TYPES.index
    )
    handles = [
        plt.Line2D(
            [],
            [],
            marker="o",
            linestyle="",
            markersize=7,
            color=ORGANIZATION_PALETTE[t],
            label=label(t),
        )
        for t in present
    ]
    ax.legend(
        handles=handles,
        loc="upper left",
        bbox_to_anchor=(1.0, 1.0),
        frameon=False,
        fontsize="small",
    )
    ax.set_axis_off()
    if title:
        ax.set_title(title)
    return ax


def strategy_grid(grid: pd.DataFrame, ax=None, title: str | None = None):
    """Heat map of strategies in place on the integration-type x governance-level grid.

    Parameters
    ----------
    grid : DataFrame
        One network's rows of :func:`compendium.analysis.strategies.strategy_grid`
        (``integration_type``, ``governance_level``, ``n_in_place``, ``n_catalogue``).
    """
    ax = _axes(ax, figsize=(6, 3.2))
    in_place = grid.pivot_table(
        index="integration_type", columns="governance_level", values="n_in_place", aggfunc="sum"
    ).reindex(index=list(INTEGRATION_TYPES), columns=list(GOVERNANCE_LEVELS))
    catalogue = grid.pivot_table(
        index="integration_type", columns="governance_level", values="n_catalogue", aggfunc="sum"
    ).reindex(index=list(INTEGRATION_TYPES), columns=list(GOVERNANCE_LEVELS))
    annot = in_place.astype(int).astype(str) + " / " + catalogue.astype(int).astype(str)
    sns.heatmap(
        in_place.astype(float),
        annot=annot,
        fmt="",
        cmap="Blues",
        cbar=False,
        linewidths=1,
        linecolor="white",
        vmin=0,
        ax=ax,
    )
    ax.set_yticklabels([label(t) for t in INTEGRATION_TYPES], rotation=0)
    ax.set_xticklabels([label(g) for g in GOVERNANCE_LEVELS], rotation=0)
    ax.set(xlabel="Governance level", ylabel="Integration type")
    if title:
        ax.set_title(title)
    return ax


def metric_by_network(table: pd.DataFrame, metric: str, ax=None, xlabel: str | None = None):
    """Dot plot of one metric per network, coloured by setting.

    ``table`` has columns ``name`` (or ``network_id``), ``setting`` and ``metric``.
    """
    ax = _axes(ax, figsize=(6, 0.5 + 0.4 * len(table)))
    y = "name" if "name" in table.columns else "network_id"
    data = table.sort_values(["setting", y]).assign(setting_label=lambda d: d["setting"].map(label))
    palette = {label(s): c for s, c in SETTING_PALETTE.items()}
    sns.scatterplot(data=data, x=metric, y=y, hue="setting_label", palette=palette, s=80, ax=ax)
    ax.set(xlabel=xlabel or label(metric), ylabel="")
    if ax.get_legend_handles_labels()[0]:  # no point (the metric undefined everywhere): no key
        ax.legend(title="Setting", loc="best", frameon=False)
    return ax


def code_frequencies(freq: pd.DataFrame, hue: str = "setting", top: int = 12, ax=None):
    """Bars of the most frequent codes, split by ``hue`` (a column of ``freq``).

    ``freq`` comes from :func:`compendium.analysis.coding.code_frequencies` with ``hue``
    among its grouping columns; codes are labelled with ``label`` if present.
    """
    totals = freq.groupby("code")["n_segments"].sum().nlargest(top)
    data = freq[freq["code"].isin(totals.index)].copy()
    # a bar of 1 to 4 segments is a count the tables withhold: it is not drawn either
    small = data["n_segments"].map(privacy.is_small)
    data = data.assign(n_segments=data["n_segments"].where(~small))
    names = data["label"] if "label" in data.columns else data["code"]
    data["code_label"] = names
    order = (
        data.groupby("code_label")["n_segments"].sum().sort_values(ascending=False).index.tolist()
    )
    ax = _axes(ax, figsize=(7, 0.6 + 0.35 * len(order)))
    data[hue] = data[hue].map(label)
    palette = {label(s): c for s, c in SETTING_PALETTE.items()} if hue == "setting" else None
    sns.barplot(
        data=data,
        y="code_label",
        x="n_segments",
        hue=hue,
        order=order,
        palette=palette,
        ax=ax,
        estimator="sum",
        errorbar=None,
    )
    note = f" (bars under {privacy.THRESHOLD} not drawn)" if small.any() else ""
    ax.set(xlabel="Coded segments" + note, ylabel="")
    ax.legend(title=label(hue), frameon=False, fontsize="small")
    return ax


def cooccurrence(cooc: pd.DataFrame, codes: list[str], labels: dict | None = None, ax=None):
    """Heat map of the number of informants whose interviews carry both codes.

    Counts of 1 to 4 informants are people the tables would withhold: their
    squares are left blank and read "<5".
    """
    square = cooc.pivot(index="code_a", columns="code_b", values="n_informants")
    square = square.reindex(index=codes, columns=codes).fillna(0).astype(int)
    small = square.map(privacy.is_small)
    names = [(labels or {}).get(c, c) for c in codes]
    ax = _axes(ax, figsize=(1.5 + 0.45 * len(codes), 1.0 + 0.4 * len(codes)))
    sns.heatmap(
        square.where(~small),
        annot=True,
        fmt="g",
        cmap="Purples",
        cbar=False,
        ax=ax,
        xticklabels=names,
        yticklabels=names,
    )
    for i, j in zip(*small.to_numpy().nonzero(), strict=True):  # blank squares: no colour, a mark
        ax.text(j + 0.5, i + 0.5, privacy.SMALL_MARK, ha="center", va="center", fontsize="small")
    ax.set(xlabel="", ylabel="")
    ax.tick_params(axis="x", labelrotation=60)
    return ax


def timeline(events: pd.DataFrame, ax=None):
    """Reform phases as spans over the years, one row per phase (from the policy timeline)."""
    phases = (
        events.groupby("phase", sort=False)
        .agg(start=("period_start", "min"), end=("period_end", "max"))
        .reset_index()
    )
    ax = _axes(ax, figsize=(7, 0.8 + 0.45 * len(phases)))
    colours = sns.color_palette("colorblind", len(phases))
    for i, row in enumerate(phases.itertuples(index=False)):
        ax.barh(i, row.end - row.start + 1, left=row.start, color=colours[i], alpha=0.8)
    ax.set_yticks(range(len(phases)), [label(p) for p in phases["phase"]])
    ax.invert_yaxis()
    ax.set(xlabel="Year", ylabel="")
    return ax


def change_management(counts: pd.DataFrame, ax=None):
    """Reform components by kind and change-management approach (let / help / make it happen)."""
    square = counts.pivot(index="kind", columns="change_management", values="n")
    order = [
        c for c in ("let_it_happen", "help_it_happen", "make_it_happen") if c in square.columns
    ]
    square = square[order]
    ax = _axes(ax, figsize=(6, 2.6))
    sns.heatmap(
        square,
        annot=True,
        fmt="d",
        cmap="Oranges",
        cbar=False,
        linewidths=1,
        linecolor="white",
        ax=ax,
        xticklabels=[label(c) for c in order],
        yticklabels=[label(k) for k in square.index],
    )
    ax.set(xlabel="Change management", ylabel="Kind of component")
    ax.tick_params(axis="y", labelrotation=0)
    return ax


class _PlainLogFormatter(LogFormatter):
    """The log scale's choice of ticks to label, labelled as plain numbers (0.1, 0.6, 1, 10).

    The log scale's own labels (``10^k``) are mathtext, which the book turns off
    (:data:`compendium.report.escape.PLOT_RC`): they would show as ``$\\mathdefault{...}$``.
    """

    def _num_to_string(self, x, vmin, vmax):
        return f"{x:g}"


def estimates(table: pd.DataFrame, ratio: str, ax=None, title: str | None = None):
    """Forest plot of a model's ratios (odds or rate) with their 95 % intervals."""
    data = table.dropna(subset=[ratio]).iloc[::-1]
    ax = _axes(ax, figsize=(6, 0.6 + 0.35 * len(data)))
    y = range(len(data))
    ax.errorbar(
        data[ratio],
        y,
        xerr=[data[ratio] - data[f"{ratio}_ci_low"], data[f"{ratio}_ci_high"] - data[ratio]],
        fmt="o",
        color="#333333",
        ecolor="#888888",
        capsize=3,
    )
    ax.axvline(1.0, color="#cc3311", linewidth=1, linestyle="--")
    ax.set_yticks(list(y), data["term"])
    ax.set_xscale("log")
    ax.xaxis.set_major_formatter(_PlainLogFormatter(10))
    ax.xaxis.set_minor_formatter(_PlainLogFormatter(10, labelOnlyBase=False))
    ax.set(xlabel=label(ratio), ylabel="")
    if title:
        ax.set_title(title)
    return ax
