"""Tables that put the measures of several modules side by side, one row per network or model."""

from __future__ import annotations

import pandas as pd

from . import integration, network, strategies


def network_summary(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """One row per network: model, structure, strategies and depth of integration.

    Returns
    -------
    DataFrame
        ``network_id, name, setting, population, model, n_organizations, n_ties,
        density, degree_centralization, hhi, n_in_place, scope, coherence,
        leutz_level, ahgren_axelsson_step``.
    """
    nets = tables["networks"][["network_id", "name", "setting", "population"]]
    ns = tables["network_strategies"]
    return (
        nets.merge(strategies.assign_model(tables["networks"])[["network_id", "model"]], how="left")
        .merge(network.network_metrics(tables["organizations"], tables["ties"]), how="left")
        .merge(strategies.scope(ns)[["network_id", "n_in_place", "scope"]], how="left")
        .merge(strategies.coherence(ns), how="left")
        .merge(
            integration.integration_depth(ns)[
                ["network_id", "leutz_level", "ahgren_axelsson_step"]
            ],
            how="left",
        )
    )


def model_comparison(summary: pd.DataFrame, gaps: pd.DataFrame) -> pd.DataFrame:
    """Per model: networks, mean scope and coherence, and strategies the model calls for but lacks.

    Parameters
    ----------
    summary : DataFrame
        From :func:`network_summary`.
    gaps : DataFrame
        From :func:`compendium.analysis.strategies.strategy_gaps`.
    """
    per_network_gaps = gaps.groupby("network_id").size().rename("n_gaps")
    data = summary.merge(per_network_gaps, on="network_id", how="left").fillna({"n_gaps": 0})
    out = (
        data.groupby("model", dropna=False)
        .agg(
            n_networks=("network_id", "size"),
            mean_scope=("scope", "mean"),
            mean_coherence=("coherence", "mean"),
            mean_gaps=("n_gaps", "mean"),
        )
        .reset_index()
    )
    return out.astype({"n_networks": "int64"})
