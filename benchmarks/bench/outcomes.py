"""Outcome statistics at scale: FUH-7/30, 30-day readmission, COC, UPC and story retold.

``network_outcomes``, ``continuity_indices`` and ``follow_up_after_hospitalization`` on
200,000 persons and 10,000,000 service contacts (string identifiers, as the data package's
reader gives them). Goals: ≤ 60 s, and ≤ 4 GB peak memory while computing, the tables held.
The worker runs in a process of its own (``run.py --worker outcomes``).
"""

from __future__ import annotations

import re
import statistics
import threading
import time
from pathlib import Path

from .goals import GB, GOALS
from .processes import run_worker
from .workspace import Workspace


def run(ws: Workspace, persons: int, contacts: int, repeat: int) -> dict:
    """:func:`worker` in its own process, in the workspace's environment."""
    return run_worker(
        "outcomes", ws.env, ws.dir, ["--size", str(persons), str(contacts), str(repeat)]
    )


def worker(persons: int, contacts: int, repeat: int) -> dict:
    """Time the three statistics on generated episodes and contacts, ``repeat`` times.

    Returns
    -------
    dict
        Sizes, ``times`` by function, ``totals`` by repetition, ``seconds`` (the
        median total), and this process's memory: after generating the tables,
        sampled while computing, and the high-water marks of generating
        (``peak_rss_generating``) and of computing (``peak_rss_computing``; None
        where /proc cannot reset it).
    """
    import resource

    import numpy as np
    import pandas as pd

    from compendium.analysis import outcomes

    rng = np.random.default_rng(3)
    n_networks, orgs_per_network = 90, 25
    t0 = time.perf_counter()
    person_network = rng.integers(0, n_networks, persons)
    net_ids = np.array([f"net-{i:03d}" for i in range(n_networks)])
    person_ids = np.char.add("p", np.char.zfill(np.arange(persons).astype(str), 7))
    org_ids = np.char.add(
        np.repeat(net_ids, orgs_per_network),
        np.tile(np.char.add("-org", np.arange(orgs_per_network).astype(str)), n_networks),
    )
    k = rng.integers(1, 4, persons)  # 1 to 3 hospitalizations a person
    ep_person = np.repeat(np.arange(persons), k)
    n_ep = len(ep_person)
    day = np.datetime64("2003-01-01")
    admission = day + rng.integers(0, 700, n_ep).astype("timedelta64[D]")
    discharge = admission + rng.integers(1, 40, n_ep).astype("timedelta64[D]")
    follow = discharge + rng.integers(0, 60, n_ep).astype("timedelta64[D]")
    no_follow = rng.random(n_ep) < 0.25
    readmit = discharge + rng.integers(1, 400, n_ep).astype("timedelta64[D]")
    no_readmit = rng.random(n_ep) < 0.6
    follow_org = org_ids[
        person_network[ep_person] * orgs_per_network + rng.integers(0, orgs_per_network, n_ep)
    ]
    episodes = pd.DataFrame(
        {
            "episode_id": pd.array(np.char.add("e", np.arange(n_ep).astype(str)), dtype="str"),
            "person_id": pd.array(person_ids[ep_person], dtype="str"),
            "network_id": pd.array(net_ids[person_network[ep_person]], dtype="str"),
            "admission_date": admission.astype("datetime64[ns]"),
            "discharge_date": discharge.astype("datetime64[ns]"),
            "follow_up_date": np.where(no_follow, np.datetime64("NaT"), follow).astype(
                "datetime64[ns]"
            ),
            "follow_up_organization_id": pd.array(
                np.where(no_follow, None, follow_org), dtype="str"
            ),
            "readmission_date": np.where(no_readmit, np.datetime64("NaT"), readmit).astype(
                "datetime64[ns]"
            ),
        }
    )
    # contacts: people see mostly one usual provider of their network
    who = rng.integers(0, persons, contacts)
    provider = np.minimum(rng.geometric(0.45, contacts) - 1, orgs_per_network - 1)
    org = person_network[who] * orgs_per_network + (provider + who) % orgs_per_network
    service_contacts = pd.DataFrame(
        {
            "person_id": pd.array(person_ids[who], dtype="str"),
            "network_id": pd.array(net_ids[person_network[who]], dtype="str"),
            "contact_date": (day + rng.integers(0, 900, contacts).astype("timedelta64[D]")).astype(
                "datetime64[ns]"
            ),
            "organization_id": pd.array(org_ids[org], dtype="str"),
        }
    )
    del who, provider, org
    generated = time.perf_counter() - t0
    rss_after_generation = _rss()
    # From here the kernel's high-water mark covers the computation only (with the tables
    # it is given held in memory): generating them has its own peak, reported apart.
    peak_before_computing = _reset_peak_rss()
    times = {
        "follow_up_after_hospitalization": [],
        "continuity_indices": [],
        "network_outcomes": [],
    }
    peak_during = [rss_after_generation]
    stop = threading.Event()

    def sample():
        while not stop.wait(0.1):
            peak_during[0] = max(peak_during[0], _rss())

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    for _ in range(repeat):
        t = time.perf_counter()
        outcomes.follow_up_after_hospitalization(episodes)
        times["follow_up_after_hospitalization"].append(time.perf_counter() - t)
        t = time.perf_counter()
        outcomes.continuity_indices(service_contacts)
        times["continuity_indices"].append(time.perf_counter() - t)
        t = time.perf_counter()
        result = outcomes.network_outcomes(episodes, service_contacts)
        times["network_outcomes"].append(time.perf_counter() - t)
    stop.set()
    sampler.join()
    totals = [sum(v[i] for v in times.values()) for i in range(repeat)]
    return {
        "persons": persons,
        "episodes": n_ep,
        "contacts": contacts,
        "networks": len(result),
        "engine": (
            f"pandas {pd.__version__} "
            f"(string dtype: {service_contacts['person_id'].dtype!r}), numpy"
        ),
        "generation_seconds": generated,
        "times": times,
        "totals": totals,
        "seconds": statistics.median(totals),
        "rss_after_generation": rss_after_generation,
        "peak_rss_during": peak_during[0],
        "peak_rss_computing": _peak_rss() if peak_before_computing is not None else None,
        "peak_rss_generating": peak_before_computing,
        "max_rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
    }


def table_rows(o: dict, persons: int, contacts: int, full: bool) -> list[tuple]:
    """The table's rows for :func:`run`'s result; judged only at the goals' sizes (``full``)."""
    # without /proc's high-water mark, the whole process's peak (generation included)
    computing = o.get("peak_rss_computing") or o["max_rss"]
    return [
        (
            f"outcomes: FUH/readmission/COC/UPC/story, {persons:,} persons, {contacts:,} contacts",
            o["seconds"],
            None,
            f"<= {GOALS['outcomes']:.0f} s",
            o["seconds"] <= GOALS["outcomes"] if full else None,
        ),
        (
            "outcomes: peak RSS computing, its tables held (GB)",
            computing / GB,
            None,
            "<= 4 GB",
            computing <= GOALS["outcomes_memory"] if full else None,
        ),
        (
            "  outcomes: peak RSS generating the tables (GB)",
            (o.get("peak_rss_generating") or o["max_rss"]) / GB,
            None,
            "info",
            None,
        ),
    ]


# -- this process's memory -----------------------------------------------------------------
def _peak_rss() -> int | None:
    """This process's peak resident memory (VmHWM), in bytes; None where /proc has none."""
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        return None
    found = re.search(r"VmHWM:\s+(\d+) kB", status)
    return int(found.group(1)) * 1024 if found else None


def _reset_peak_rss() -> int | None:
    """Return the peak so far and start a new one from the current RSS (Linux >= 4.0)."""
    peak = _peak_rss()
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return None
    return peak


def _rss() -> int:
    """This process's resident memory now, in bytes (its peak where /proc has none)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
