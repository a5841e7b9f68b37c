"""The strategy catalogue: integration strategies by type and governance level."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import pandas as pd

from .paths import STRATEGY_CATALOGUE


@lru_cache(maxsize=4)
def _read_catalogue(path: str) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def load_catalogue(path: str | Path = STRATEGY_CATALOGUE) -> pd.DataFrame:
    """The strategy catalogue (one row per strategy).

    Columns: ``strategy_code``, ``label``, ``integration_type``,
    ``governance_level``, ``source`` (a key of the book's bibliography).
    """
    return _read_catalogue(str(path)).copy()
