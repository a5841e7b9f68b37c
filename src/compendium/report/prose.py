"""Values for prose: numbers, codes as words, person counts and rates under disclosure control."""

from __future__ import annotations

import math

import pandas as pd

from ..data.schema import SETTING_LABELS
from . import privacy


def fmt(value, digits: int = 2, percent: bool = False) -> str:
    """Format a number for prose; NaN/None/NA read "undefined"."""
    if value is None or value is pd.NA:
        return "undefined"
    if isinstance(value, str):
        return value
    if isinstance(value, float) and math.isnan(value):
        return "undefined"
    if percent:
        return f"{100 * float(value):.{max(digits - 2, 0)}f} %"
    if isinstance(value, int) or (
        isinstance(value, float) and float(value).is_integer() and digits == 0
    ):
        return f"{int(value):,}".replace(",", "\u202f")
    return f"{float(value):.{digits}f}"


def readable(code) -> str:
    """``urban_semi_urban`` -> ``Urban / semi-urban``; ``clinical_staff`` -> ``Clinical staff``."""
    if not isinstance(code, str):
        return code
    return SETTING_LABELS.get(code, code.replace("_", " ").capitalize())


def count_text(n) -> str:
    """A person count for prose, suppressed as "<5" when it is 1 to 4."""
    n = int(n)
    return privacy.SMALL_MARK if privacy.is_small(n) else fmt(n, digits=0)


def rate_text(rate, n) -> str:
    """A rate of ``n`` people for prose, hidden when it would count fewer than five people.

    Not when ``n`` is small, nor when the people it counts (``rate * n``) or the
    others are (:func:`compendium.report.privacy.publishable_share`).
    """
    n = int(n)
    if privacy.is_small(n):
        return f"not shown (fewer than {privacy.THRESHOLD} people)"
    if not privacy.publishable_rate(rate, n):
        return f"not shown (it would count fewer than {privacy.THRESHOLD} people)"
    return fmt(rate, percent=True)


def is_small(n) -> bool:
    """True for a count of people that disclosure control suppresses (1 to 4)."""
    return privacy.is_small(int(n))
