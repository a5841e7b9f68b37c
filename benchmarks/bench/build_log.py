"""What a ``compendium build`` log says: the jobs it started, their seconds, the notebooks' span.

The build prints ``[N/M done, S.Ss] start  JOB | running: ...`` and ``... done   JOB (S.Ss)``;
the seconds in the brackets are the build's own clock.
"""

from __future__ import annotations

import re

#: the rules whose jobs execute a notebook
NOTEBOOK_RULES = {"network_profile", "setting_comparison", "cross_network"}


def started_jobs(output: str) -> list[str]:
    """The jobs a build started, sorted, each once."""
    return sorted(set(re.findall(r"\] start  (\S+)", output)))


def job_seconds(output: str) -> dict[str, float]:
    """Seconds each finished job took, by job."""
    return {
        m.group(1): float(m.group(2)) for m in re.finditer(r"\] done   (\S+) \(([\d.]+)s\)", output)
    }


def notebook_span(output: str) -> float:
    """Seconds from the first notebook job's start to the last one's end, by the build's clock."""
    starts = [
        float(m.group(1))
        for m in re.finditer(r"done, +([\d.]+)s\] start  (\S+)", output)
        if m.group(2).split("[")[0] in NOTEBOOK_RULES
    ]
    ends = [
        float(m.group(1))
        for m in re.finditer(r"done, +([\d.]+)s\] done   (\S+)", output)
        if m.group(2).split("[")[0] in NOTEBOOK_RULES
    ]
    return max(ends) - min(starts) if starts and ends else 0.0
