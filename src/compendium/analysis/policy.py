"""Québec's reforms: the policy timeline and how each reform component was managed.

Two tables ship as package resources and may be replaced by any file with
the same columns:

* ``policy_timeline.csv`` — the phases of Québec's health and social services
  system (modernization, shock of reality, explicit integration,
  centralization) and their landmark events [couturier2021, fleury2006,
  jiwani2011];
* ``reform_components.csv`` — components of the integration reforms, each
  classed as managerial, clinical or interface, with the change-management
  approach the government gave it (Greenhalgh et al.'s *let it happen*,
  *help it happen*, *make it happen*, as used in [couturier2021]).

The shipped classification is our reading of Couturier et al. (2021): the
managerial components (mergers, control) were made to happen, the clinical
ones (case management, individualized service plans) were let or helped to
happen, and the interface component (local health networks) was better
implemented but with little effect; we record it as helped to happen, since
the 2004 reform mandated it without sustained support. The paper also names
case management among the interface components; it is recorded once, as
clinical.

The tables are declared and read in :mod:`compendium.data.policy_tables`; this
module counts what the notebooks show.
"""

from __future__ import annotations

import pandas as pd

from ..data.policy_tables import CHANGE_MANAGEMENT, COMPONENT_KINDS


def change_management_counts(components: pd.DataFrame) -> pd.DataFrame:
    """Components per kind and change-management approach.

    Returns
    -------
    DataFrame
        ``kind``, ``change_management``, ``n``: all nine combinations of
        :data:`COMPONENT_KINDS` × :data:`CHANGE_MANAGEMENT` (zeros included),
        in that order.
    """
    index = pd.MultiIndex.from_product(
        [COMPONENT_KINDS, CHANGE_MANAGEMENT], names=["kind", "change_management"]
    )
    keys = components[["kind", "change_management"]].astype(str)
    counts = keys.groupby(["kind", "change_management"]).size()
    out = counts.reindex(index, fill_value=0).rename("n").reset_index()
    return out.astype({"n": "int64"})
