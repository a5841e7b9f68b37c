"""Qualitative-coding statistics at scale: frequencies, co-occurrence and Krippendorff's α.

Goal: ≤ 5 s on 1,000,000 coded segments. The worker runs in a process of its own
(``run.py --worker coding``), on segments generated from the default codebook.
"""

from __future__ import annotations

import statistics
import time

from .goals import GOALS
from .processes import run_worker
from .workspace import Workspace


def run(ws: Workspace, segments: int, repeat: int) -> dict:
    """:func:`worker` in its own process, in the workspace's environment."""
    return run_worker("coding", ws.env, ws.dir, ["--size", str(segments), str(repeat)])


def worker(segments: int, repeat: int) -> dict:
    """Time the three statistics on ``segments`` generated coded segments, ``repeat`` times.

    Returns
    -------
    dict
        ``rows``, ``times`` by statistic, ``totals`` by repetition, ``alpha`` and
        ``seconds`` (the median total).
    """
    import numpy as np
    import pandas as pd

    from compendium.analysis import coding
    from compendium.paths import DEFAULT_CODEBOOK

    rng = np.random.default_rng(11)
    codebook = pd.read_csv(DEFAULT_CODEBOOK, dtype=str, keep_default_na=False).replace("", None)
    leaves = codebook.loc[codebook["parent_code"].notna(), "code"].to_numpy()
    n_networks, n_informants = 90, 4000
    networks = pd.DataFrame(
        {
            "network_id": [f"n{i:03d}" for i in range(n_networks)],
            "setting": np.array(["rural", "urban_semi_urban", "metropolitan"])[
                np.arange(n_networks) % 3
            ],
        }
    )
    inf_net = rng.integers(0, n_networks, n_informants)
    informants = pd.DataFrame(
        {
            "informant_id": [f"i{i:05d}" for i in range(n_informants)],
            "network_id": networks["network_id"].to_numpy()[inf_net],
            "role": np.array(["manager", "clinical_staff", "service_user", "relative"])[
                rng.integers(0, 4, n_informants)
            ],
            "organization_type": "clsc",
        }
    )
    # segments: each coded by one coder, a quarter of them by a second coder too
    n_seg = int(segments / 1.25)
    double = rng.random(n_seg) < 0.25
    seg = np.concatenate([np.arange(n_seg), np.flatnonzero(double)])[:segments]
    first_coder = rng.integers(0, 3, n_seg)
    coder = np.concatenate([first_coder, (first_coder[double] + 1) % 3])[:segments]
    seg_informant = rng.integers(0, n_informants, n_seg)
    code_first = rng.integers(0, len(leaves), n_seg)
    agree = rng.random(len(seg)) < 0.8
    code = np.where(agree, code_first[seg], rng.integers(0, len(leaves), len(seg)))
    seg_ids = np.char.add("s", np.arange(n_seg).astype(str))
    segs = pd.DataFrame(
        {
            "segment_id": pd.array(seg_ids[seg], dtype="str"),
            "informant_id": pd.array(
                informants["informant_id"].to_numpy()[seg_informant[seg]], dtype="str"
            ),
            "coder_id": pd.array(np.array(["coder_a", "coder_b", "coder_c"])[coder], dtype="str"),
            "code": pd.array(leaves[code], dtype="str"),
        }
    )
    informants = informants.astype("str")
    networks = networks.astype("str")
    codebook = codebook.astype({c: "str" for c in ("code", "label", "category")})
    times = {"code_frequencies": [], "code_cooccurrence": [], "krippendorff_alpha": []}
    for _ in range(repeat):
        t = time.perf_counter()
        coding.code_frequencies(segs, informants, networks, codebook, by=("network_id", "category"))
        times["code_frequencies"].append(time.perf_counter() - t)
        t = time.perf_counter()
        coding.code_cooccurrence(segs, codebook)
        times["code_cooccurrence"].append(time.perf_counter() - t)
        t = time.perf_counter()
        alpha = coding.krippendorff_alpha(segs)
        times["krippendorff_alpha"].append(time.perf_counter() - t)
    totals = [sum(v[i] for v in times.values()) for i in range(repeat)]
    return {
        "rows": len(segs),
        "times": times,
        "totals": totals,
        "alpha": alpha,
        "seconds": statistics.median(totals),
    }


def table_rows(c: dict, full: bool) -> list[tuple]:
    """The table's row for :func:`run`'s result; judged only at the goal's size (``full``)."""
    return [
        (
            f"coding: frequencies + co-occurrence + alpha, {c['rows']:,} rows",
            c["seconds"],
            None,
            f"<= {GOALS['coding']:.0f} s",
            c["seconds"] <= GOALS["coding"] if full else None,
        )
    ]
