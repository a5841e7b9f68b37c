"""The strategy catalogues the package ships as data (``resources/``).

* the strategy catalogue: integration strategies by type and governance level;
* Fleury's four models and the strategies each calls for [fleury2006].

Québec's policy tables are read in :mod:`compendium.data.policy_tables`.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import pandas as pd

from ..paths import MODEL_STRATEGIES, MODELS, STRATEGY_CATALOGUE


@lru_cache(maxsize=4)
def _read_catalogue(path: str) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def load_catalogue(path: str | Path = STRATEGY_CATALOGUE) -> pd.DataFrame:
    """The strategy catalogue (one row per strategy).

    Columns: ``strategy_code``, ``label``, ``integration_type``,
    ``governance_level``, ``source`` (a key of the book's bibliography).
    """
    return _read_catalogue(str(path)).copy()


def load_models(path: str | Path | None = None) -> pd.DataFrame:
    """The four models of an integrated mental-health network [fleury2006].

    Returns
    -------
    DataFrame
        ``model`` (Int64, 1-4), ``setting``, ``label``, ``resources``,
        ``central_structure``.
    """
    df = pd.read_csv(path or MODELS, dtype=str, keep_default_na=False)
    df["model"] = df["model"].astype(int).astype("Int64")
    return df


def load_model_strategies(path: str | Path | None = None) -> pd.DataFrame:
    """Which strategies each model calls for, and why.

    Read from ``resources/model_strategies.csv``, derived from the
    description of each model in [fleury2006]. Models 1 and 2 also call for
    regional and local planning and a regional coordinating committee, which
    keep the localities of a region coherent and equitable. Models 3 and 4
    also call for financial integration by sector, which the paper's
    discussion holds crucial for clinical integration in urban and
    metropolitan networks. Where the paper gives alternatives ("case
    management or assertive community treatment") both strategies are
    listed. The merger of hospital and CLSC seen in the model 2 case is
    left out: the paper presents it as what helped that case, not as part
    of the model.

    Returns
    -------
    DataFrame
        ``model`` (Int64), ``strategy_code``, ``why``.
    """
    df = pd.read_csv(path or MODEL_STRATEGIES, dtype=str, keep_default_na=False)
    df["model"] = df["model"].astype(int).astype("Int64")
    return df
