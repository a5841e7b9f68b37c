"""The strategy catalogue: integration strategies by type and governance level.

Fleury's four models [fleury2006] say which strategies a network calls for;
this module holds the catalogue, places each network's strategies on the
integration type × governance level grid, measures their scope and coherence,
assigns each network to a model and lists the strategies its model calls for
that are not in place.

Grid of the catalogue (strategies per cell; two cells are empty)::

                                strategic  tactical  operational
    functional_administrative       9         4          0
    clinical                        0         5         11
    physician_system                1         1          2
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ..data.catalogues import load_catalogue, load_model_strategies
from ..data.schema import GOVERNANCE_LEVELS, INTEGRATION_TYPES, SETTINGS

_CELL = ["integration_type", "governance_level"]


def _in_place(network_strategies: pd.DataFrame, catalogue: pd.DataFrame) -> pd.DataFrame:
    """Rows of ``network_strategies`` in place, with their grid cell.

    Raises ValueError for codes missing from the catalogue or repeated keys,
    which would otherwise be dropped or counted twice without a word.
    """
    unknown = sorted(set(network_strategies["strategy_code"]) - set(catalogue["strategy_code"]))
    if unknown:
        raise ValueError(
            f"network_strategies: strategy_code {', '.join(map(repr, unknown))} "
            "is not in the strategy catalogue"
        )
    dup = network_strategies.duplicated(["network_id", "strategy_code"])
    if dup.any():
        first = network_strategies.loc[dup].iloc[0]
        raise ValueError(
            f"network_strategies: strategy {first['strategy_code']!r} appears twice "
            f"for network {first['network_id']!r}"
        )
    # a missing in_place means "not known to be in place"
    in_place = network_strategies["in_place"].astype("boolean").fillna(False).astype(bool)
    rows = network_strategies.loc[in_place, ["network_id", "strategy_code"]]
    return rows.merge(catalogue[["strategy_code", *_CELL]], on="strategy_code", how="left")


def strategy_grid(
    network_strategies: pd.DataFrame, catalogue: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Strategies in place per integration type × governance level.

    Parameters
    ----------
    network_strategies : DataFrame
        The ``network_strategies`` table (``network_id``, ``strategy_code``,
        ``in_place``, ...). Every network in it gets a row per cell.
    catalogue : DataFrame, optional
        Strategy catalogue; the package's by default.

    Returns
    -------
    DataFrame
        One row per ``network_id`` × ``integration_type`` × ``governance_level``
        (all nine cells, empty ones included): ``n_in_place`` strategies in
        place and ``n_catalogue`` strategies the catalogue holds in the cell.
    """
    catalogue = load_catalogue() if catalogue is None else catalogue
    rows = _in_place(network_strategies, catalogue)
    networks = pd.unique(network_strategies["network_id"])
    index = pd.MultiIndex.from_product(
        [networks, INTEGRATION_TYPES, GOVERNANCE_LEVELS], names=["network_id", *_CELL]
    )
    n_in_place = rows.groupby(["network_id", *_CELL]).size().reindex(index, fill_value=0)
    n_catalogue = catalogue.groupby(_CELL).size()
    out = n_in_place.rename("n_in_place").reset_index()
    cells = pd.MultiIndex.from_frame(out[_CELL])
    out["n_catalogue"] = n_catalogue.reindex(cells, fill_value=0).to_numpy()
    return out.astype({"n_in_place": "int64", "n_catalogue": "int64"})


def scope(network_strategies: pd.DataFrame, catalogue: pd.DataFrame | None = None) -> pd.DataFrame:
    """Scope of each network's strategies: the share of the catalogue in place.

    Returns
    -------
    DataFrame
        ``network_id``, ``n_in_place``, ``n_catalogue`` (strategies in the
        catalogue) and ``scope`` = ``n_in_place / n_catalogue`` (0 to 1).
    """
    catalogue = load_catalogue() if catalogue is None else catalogue
    grid = strategy_grid(network_strategies, catalogue)
    out = grid.groupby("network_id", sort=False, as_index=False)["n_in_place"].sum()
    out["n_catalogue"] = len(catalogue)
    out["scope"] = out["n_in_place"] / out["n_catalogue"]
    return out


def _normalized_entropy(weights: np.ndarray) -> float:
    """Shannon entropy of ``weights`` (made to sum to 1) over ln(len(weights))."""
    total = weights.sum()
    if total == 0:
        return math.nan
    p = weights[weights > 0] / total
    h = -(p * np.log(p)).sum() + 0.0  # + 0.0 turns the -0.0 of a single cell into 0.0
    return float(h / math.log(len(weights)))


def coherence(
    network_strategies: pd.DataFrame, catalogue: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Coherence of each network's strategies: how evenly they cover the grid.

    Fleury ties the intensity of integration to the coherence and the scope
    of a network's strategies; coherence here is the evenness of coverage
    across the integration type × governance level cells.

    Measure. For each cell ``c`` the catalogue populates, take the coverage
    ``r_c = n_in_place_c / n_catalogue_c`` (share of that cell's strategies in
    place) and normalize to ``q_c = r_c / sum(r)``. Coherence is the Shannon
    entropy of ``q`` divided by its maximum, ``ln K``::

        coherence = -sum(q_c * ln q_c) / ln K

    It is 1 when every cell is covered to the same degree (in particular when
    the whole catalogue is in place) and 0 when all in-place strategies sit in
    one cell.

    Why coverage rather than raw counts: the catalogue itself is uneven (11
    clinical-operational strategies against one physician-strategic one), so
    an entropy of raw counts would call a network that implements the whole
    catalogue incoherent. Why ``K`` is the number of populated cells rather
    than 9: the catalogue has no functional/administrative-operational and no
    clinical-strategic strategy, so no network can cover those two cells and
    they are left out (K = 7 with the package's catalogue).

    Undefined (NaN) for a network with no strategy in place: evenness of
    nothing has no meaning.

    Returns
    -------
    DataFrame
        ``network_id``, ``coherence`` (0 to 1, or NaN).
    """
    catalogue = load_catalogue() if catalogue is None else catalogue
    if catalogue[_CELL].drop_duplicates().shape[0] < 2:
        # ln K = 0: evenness across a single cell has no meaning
        raise ValueError("coherence needs a catalogue with strategies in at least two cells")
    grid = strategy_grid(network_strategies, catalogue)
    grid = grid[grid["n_catalogue"] > 0]
    coverage = grid.assign(r=grid["n_in_place"] / grid["n_catalogue"])
    values = coverage.groupby("network_id", sort=False)["r"].apply(
        lambda r: _normalized_entropy(r.to_numpy(dtype=float))
    )
    return values.rename("coherence").reset_index()


# -- the four models ---------------------------------------------------------
def _model_of(setting, general_hospital, psychiatry, psychiatric_hospital) -> tuple:
    """(model or NA, reason) for one network; see :func:`assign_model`."""
    flags = {
        "setting": setting,
        "has_general_hospital": general_hospital,
        "has_psychiatric_hospital": psychiatric_hospital,
    }
    missing = [name for name, value in flags.items() if pd.isna(value)]
    if missing:
        return pd.NA, f"no matching model: {', '.join(missing)} is missing"
    if setting not in SETTINGS:
        return pd.NA, f"no matching model: unknown setting {setting!r}"
    if not general_hospital:
        psychiatry = False  # no hospital, no psychiatry department
    elif pd.isna(psychiatry):
        return pd.NA, "no matching model: general_hospital_has_psychiatry is missing"
    general_hospital, psychiatry = bool(general_hospital), bool(psychiatry)
    psychiatric_hospital = bool(psychiatric_hospital)

    if setting == "rural":
        if psychiatric_hospital:
            return pd.NA, (
                "no matching model: rural network with a psychiatric hospital "
                "(rural models have none in the territory)"
            )
        if not general_hospital:
            return 1, "rural, no hospital"
        if not psychiatry:
            return 2, "rural, general hospital without a psychiatry department"
        return pd.NA, (
            "no matching model: rural network whose general hospital has a psychiatry "
            "department (rural models have no psychiatric services in the territory)"
        )
    if setting == "urban_semi_urban":
        if not (general_hospital and psychiatry):
            return pd.NA, (
                "no matching model: urban/semi-urban network without a general hospital "
                "with a psychiatry department"
            )
        if psychiatric_hospital:
            # model 3 networks "usually" have no psychiatric hospital: an exception, not a misfit
            return 3, (
                "urban/semi-urban, general hospital with a psychiatry department "
                "(also a psychiatric hospital, which is unusual for model 3)"
            )
        return 3, "urban/semi-urban, general hospital with a psychiatry department"
    if not psychiatric_hospital:
        return pd.NA, "no matching model: metropolitan network without a psychiatric hospital"
    if general_hospital and psychiatry:
        return 4, "metropolitan, psychiatric hospital and a general hospital psychiatry department"
    return 4, "metropolitan, psychiatric hospital"


def assign_model(networks: pd.DataFrame) -> pd.DataFrame:
    """Assign each network to one of Fleury's four models [fleury2006].

    Rules (the resources that decide a model):

    * model 1: rural, no general hospital and no psychiatric hospital;
    * model 2: rural, a general hospital without a psychiatry department,
      no psychiatric hospital;
    * model 3: urban or semi-urban, a general hospital with a psychiatry
      department (a psychiatric hospital is unusual but allowed, and the
      reason says so);
    * model 4: metropolitan, a psychiatric hospital (a general hospital's
      psychiatry department may also be present).

    Any other combination (rural with a psychiatric hospital or with hospital
    psychiatry; urban without a general hospital with psychiatry; metropolitan
    without a psychiatric hospital) or a missing flag gets no model and a
    reason starting "no matching model:", never a guess. When
    ``has_general_hospital`` is false, ``general_hospital_has_psychiatry`` is
    read as false whatever it holds.

    Parameters
    ----------
    networks : DataFrame
        The ``networks`` table.

    Returns
    -------
    DataFrame
        ``network_id``, ``model`` (nullable Int64, 1-4 or <NA>), ``reason``.
    """
    pairs = [
        _model_of(*row)
        for row in networks[
            [
                "setting",
                "has_general_hospital",
                "general_hospital_has_psychiatry",
                "has_psychiatric_hospital",
            ]
        ].itertuples(index=False, name=None)
    ]
    return pd.DataFrame(
        {
            "network_id": networks["network_id"].to_numpy(),
            "model": pd.array([m for m, _ in pairs], dtype="Int64"),
            "reason": pd.array([r for _, r in pairs], dtype="str"),
        }
    )


def strategy_gaps(
    networks: pd.DataFrame,
    network_strategies: pd.DataFrame,
    model_strategies: pd.DataFrame | None = None,
    catalogue: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Strategies a network's model calls for that are not in place.

    A strategy counts as not in place when its row says ``in_place`` false
    (or empty) and when the network has no row for it at all. Networks with
    no matching model (see :func:`assign_model`) have no gaps listed: there is
    no model to measure them against.

    Parameters
    ----------
    networks : DataFrame
        The ``networks`` table.
    network_strategies : DataFrame
        The ``network_strategies`` table.
    model_strategies : DataFrame, optional
        Strategies called for by each model; :func:`load_model_strategies` by default.
    catalogue : DataFrame, optional
        Strategy catalogue; the package's by default.

    Returns
    -------
    DataFrame
        ``network_id``, ``model`` (Int64), ``strategy_code``, ``label``,
        ``integration_type``, ``governance_level``; sorted by network and
        catalogue order.
    """
    catalogue = load_catalogue() if catalogue is None else catalogue
    model_strategies = load_model_strategies() if model_strategies is None else model_strategies
    in_place = _in_place(network_strategies, catalogue)[["network_id", "strategy_code"]]
    called = (
        assign_model(networks)
        .dropna(subset=["model"])[["network_id", "model"]]
        .merge(model_strategies[["model", "strategy_code"]], on="model")
    )
    gaps = called.merge(in_place, on=["network_id", "strategy_code"], how="left", indicator=True)
    gaps = gaps[gaps["_merge"] == "left_only"].drop(columns="_merge")
    order = {code: i for i, code in enumerate(catalogue["strategy_code"])}
    gaps = gaps.merge(catalogue[["strategy_code", "label", *_CELL]], on="strategy_code", how="left")
    network_order = {n: i for i, n in enumerate(networks["network_id"])}
    gaps = gaps.sort_values(
        ["network_id", "strategy_code"],
        key=lambda s: s.map(network_order if s.name == "network_id" else order),
    )
    columns = ["network_id", "model", "strategy_code", "label", *_CELL]
    return gaps[columns].reset_index(drop=True)
