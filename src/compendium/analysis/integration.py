"""Depth of integration on the Leutz and the Ahgren–Axelsson scales.

Both scales grade how far separate organizations have gone in working as
one. Leutz has three levels (linkage, coordination, full integration);
Ahgren and Axelsson's continuum has five steps (full segregation, linkage,
coordination, cooperation, full integration). Here a network's depth is read
off the integration strategies it has in place, following the three depths
a Welsh review of the conceptual literature distinguishes: full integration
under a single management; integration of some processes (single point of
referral, case management) under separate managements; collaboration on
particular cases.

The strategy groups below are the rule. A network sits on the deepest step
whose condition its strategies meet; the steps are not cumulative, because a
deeper arrangement (a merger with pooled funds) does not need the shallower
ones to exist.
"""

from __future__ import annotations

import pandas as pd

#: Single management: institutions merged *and* funds pooled by sector.
FULL_INTEGRATION = frozenset({"fa_merger", "fa_financial_integration_by_sector"})

#: Separate organizations sharing resources, staff or programmes (any one).
COOPERATION = frozenset(
    {
        "fa_merger",
        "fa_financial_integration_by_sector",
        "fa_resource_allocation",
        "cl_shared_staff",
        "cl_interorganizational_programs",
    }
)

#: Shared processes and coordinating structures across separate managements (any one).
COORDINATION = frozenset(
    {
        "fa_single_point_of_entry",
        "cl_case_management",
        "cl_liaison_officers",
        "ph_gp_liaison",
        "fa_local_coordination_committee",
        "fa_intermediary_structure",
        "cl_tactical_subcommittees",
        "fa_common_needs_assessment_grid",
        "fa_client_information_system",
        "cl_individualized_service_plans",
    }
)

#: Collaboration on cases: protocols, referral knowledge, joint work on clients (any one).
LINKAGE = frozenset(
    {
        "fa_interorganizational_protocols",
        "fa_confidentiality_agreements",
        "fa_resource_directory",
        "cl_follow_up_protocols",
        "cl_joint_follow_up",
        "cl_pharmacy_protocols",
        "cl_staff_exchanges",
        "ph_shared_care",
        "ph_visiting_psychiatrist",
    }
)

AHGREN_AXELSSON_STEPS = (
    "full_segregation",
    "linkage",
    "coordination",
    "cooperation",
    "full_integration",
)
LEUTZ_LEVELS = ("linkage", "coordination", "full_integration")

AHGREN_AXELSSON_DTYPE = pd.CategoricalDtype(AHGREN_AXELSSON_STEPS, ordered=True)
LEUTZ_DTYPE = pd.CategoricalDtype(LEUTZ_LEVELS, ordered=True)

# cooperation (shared resources under separate managements) is coordination for Leutz
_LEUTZ_OF_STEP = {
    "linkage": "linkage",
    "coordination": "coordination",
    "cooperation": "coordination",
    "full_integration": "full_integration",
}


def ahgren_axelsson_step(strategy_codes) -> str:
    """Step of the Ahgren–Axelsson continuum reached by a set of strategies.

    Rule, deepest first:

    * ``full_integration``: both ``fa_merger`` and
      ``fa_financial_integration_by_sector`` (one management, pooled funds);
    * ``cooperation``: any of :data:`COOPERATION` — organizations share
      resources, staff or programmes (a merger or pooled funds alone also
      land here: shared resources, not yet single management);
    * ``coordination``: any of :data:`COORDINATION` — shared processes (single
      point of entry, case management, liaison) or coordinating structures;
    * ``linkage``: any of :data:`LINKAGE` — collaboration on cases through
      protocols, shared care, joint follow-up;
    * ``full_segregation``: none of these.

    Parameters
    ----------
    strategy_codes : iterable of str
        Codes of the strategies in place.
    """
    codes = set(strategy_codes)
    if FULL_INTEGRATION <= codes:
        return "full_integration"
    if codes & COOPERATION:
        return "cooperation"
    if codes & COORDINATION:
        return "coordination"
    if codes & LINKAGE:
        return "linkage"
    return "full_segregation"


def leutz_level(strategy_codes) -> str | None:
    """Leutz level reached by a set of strategies.

    Rule: ``full_integration`` when the strategies give single management
    (merger and financial integration by sector); ``coordination`` when they
    give shared processes or shared resources under separate managements
    (Ahgren–Axelsson coordination or cooperation); ``linkage`` when they give
    collaboration on cases only. None below linkage: Leutz's scale starts at
    linkage and has no level for organizations that do not work together.
    """
    return _LEUTZ_OF_STEP.get(ahgren_axelsson_step(strategy_codes))


def integration_depth(network_strategies: pd.DataFrame) -> pd.DataFrame:
    """Depth of integration of each network on both scales.

    Parameters
    ----------
    network_strategies : DataFrame
        The ``network_strategies`` table; only rows with ``in_place`` true
        count (a missing ``in_place`` counts as not in place).

    Returns
    -------
    DataFrame
        One row per network: ``network_id``, ``leutz_level`` (ordered
        categorical, NaN below linkage), ``ahgren_axelsson_step`` (ordered
        categorical) and ``ahgren_axelsson_rank`` (Int64, 1 = full
        segregation to 5 = full integration). Rules in
        :func:`ahgren_axelsson_step` and :func:`leutz_level`.
    """
    in_place = network_strategies["in_place"].astype("boolean").fillna(False).astype(bool)
    networks = pd.unique(network_strategies["network_id"])
    codes = network_strategies.loc[in_place].groupby("network_id")["strategy_code"].apply(set)
    steps = [ahgren_axelsson_step(codes.get(n, set())) for n in networks]
    levels = [_LEUTZ_OF_STEP.get(s) for s in steps]
    return pd.DataFrame(
        {
            "network_id": networks,
            "leutz_level": pd.Categorical(levels, dtype=LEUTZ_DTYPE),
            "ahgren_axelsson_step": pd.Categorical(steps, dtype=AHGREN_AXELSSON_DTYPE),
            "ahgren_axelsson_rank": pd.array(
                [AHGREN_AXELSSON_STEPS.index(s) + 1 for s in steps], dtype="Int64"
            ),
        }
    )
