"""Statistics of the qualitative coding of interview segments.

Input is the ``coded_segments`` table of the data package: one row per
interview segment and coder, holding the one code that coder applied.

Two kinds of question are answered here.

*What was said*: :func:`code_frequencies`, :func:`code_cooccurrence` and
:func:`consensus_conflict_share` count codes. A segment coded by several
coders (to measure reliability) is counted once, with the code of its
**primary coder**: the coder whose ``coder_id`` sorts first among those who
coded that segment. The rule is arbitrary but fixed, so counts never depend
on how many coders double-coded a segment.

*How reliably it was coded*: :func:`cohen_kappa` (two coders),
:func:`fleiss_kappa` (a fixed number of coders per segment) and
:func:`krippendorff_alpha` (any number of coders, missing codes allowed),
gathered by :func:`reliability_table` (domain.md §10).

Everything works on integer codes with numpy and scipy.sparse, never with a
Python loop over segments, so a million coded segments take seconds.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse
from statsmodels.stats import inter_rater

#: Krippendorff's conventional thresholds for drawing conclusions from α.
RELIABLE = 0.800
TENTATIVE = 0.667

#: Columns :func:`code_frequencies` can group by, and the table each comes from.
GROUPINGS = {
    "network_id": "informants",
    "role": "informants",
    "organization_type": "informants",
    "setting": "networks",
    "category": "codebook",
}

LEVELS = ("nominal", "ordinal", "interval", "ratio")


def _require_columns(df: pd.DataFrame, columns: Iterable[str], table: str) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ValueError(f"{table}: missing column(s) {', '.join(missing)}")


def _require_complete(df: pd.DataFrame, columns: Iterable[str], table: str) -> None:
    for col in columns:
        empty = np.flatnonzero(df[col].isna().to_numpy())
        if len(empty):
            raise ValueError(f"{table}: row {empty[0]} has no {col}")


def _lookup(keys: pd.Series, table: pd.DataFrame, key: str, column: str, name: str) -> pd.Series:
    """``table[column]`` for each of ``keys``; a key missing from ``table`` is an error."""
    if table[key].duplicated().any():
        dup = table.loc[table[key].duplicated(), key].iloc[0]
        raise ValueError(f"{name}: {key} {dup!r} appears more than once")
    out = keys.map(table.set_index(key)[column])
    unknown = keys.notna() & ~keys.isin(table[key])
    if unknown.any():
        raise ValueError(f"{name}: no row for {key} {keys[unknown].iloc[0]!r}")
    return out


# -- what was said -----------------------------------------------------------
def primary_coding(coded_segments: pd.DataFrame) -> pd.DataFrame:
    """One row per segment: the code its primary coder applied.

    The primary coder of a segment is the coder whose ``coder_id`` sorts first
    among the coders of that segment.

    Parameters
    ----------
    coded_segments : DataFrame
        The ``coded_segments`` table.

    Returns
    -------
    DataFrame
        The rows of ``coded_segments`` kept, in their original order.

    Raises
    ------
    ValueError
        When a segment is attributed to two different informants.
    """
    cols = ["segment_id", "informant_id", "coder_id", "code"]
    _require_columns(coded_segments, cols, "coded_segments")
    _require_complete(coded_segments, cols, "coded_segments")
    segment, _ = pd.factorize(coded_segments["segment_id"])
    coder_rank, _ = pd.factorize(coded_segments["coder_id"], sort=True)
    informant, _ = pd.factorize(coded_segments["informant_id"])
    n = segment.max() + 1 if len(segment) else 0
    first = np.full(n, np.iinfo(np.int64).max)
    np.minimum.at(first, segment, coder_rank)
    lo, hi = np.full(n, np.iinfo(np.int64).max), np.full(n, -1)
    np.minimum.at(lo, segment, informant)
    np.maximum.at(hi, segment, informant)
    split = np.flatnonzero(lo != hi)
    if len(split):
        seg = coded_segments["segment_id"].iloc[np.flatnonzero(segment == split[0])[0]]
        raise ValueError(f"coded_segments: segment {seg!r} is attributed to several informants")
    return coded_segments.loc[coder_rank == first[segment]]


def code_frequencies(
    coded_segments: pd.DataFrame,
    informants: pd.DataFrame,
    networks: pd.DataFrame,
    codebook: pd.DataFrame,
    by: Iterable[str] = ("network_id",),
) -> pd.DataFrame:
    """How often each code was applied, by group.

    Each segment counts once, with its primary coder's code (see
    :func:`primary_coding`).

    Parameters
    ----------
    coded_segments, informants, networks, codebook : DataFrame
        Tables of the data package.
    by : iterable of str
        Grouping columns, any of ``network_id``, ``setting``, ``role``,
        ``organization_type`` (of the informant) and ``category`` (of the code).
        Empty for totals over the whole package.

    Returns
    -------
    DataFrame
        Columns ``*by, code, n_segments, n_informants`` (``n_informants``:
        informants with at least one segment carrying the code). Only
        observed combinations appear; within each group, codes are sorted by
        decreasing ``n_segments``.
    """
    by = list(by)
    unknown = [b for b in by if b not in GROUPINGS]
    if unknown:
        raise ValueError(
            f"cannot group code frequencies by {', '.join(unknown)}; "
            f"choose among {', '.join(GROUPINGS)}"
        )
    rows = primary_coding(coded_segments)
    seg = pd.DataFrame(
        {"informant_id": rows["informant_id"].to_numpy(), "code": rows["code"].to_numpy()}
    )
    # the informant's network is needed for setting too, and checks every informant is known
    network_id = _lookup(
        seg["informant_id"], informants, "informant_id", "network_id", "informants"
    )
    for col in by:
        source = GROUPINGS[col]
        if col == "network_id":
            seg[col] = network_id
        elif source == "informants":
            seg[col] = _lookup(seg["informant_id"], informants, "informant_id", col, "informants")
        elif source == "networks":
            seg[col] = _lookup(network_id, networks, "network_id", col, "networks").to_numpy()
        else:
            seg[col] = _lookup(seg["code"], codebook, "code", col, "codebook")
    out = (
        seg.groupby([*by, "code"], sort=True, dropna=False)
        .agg(n_segments=("code", "size"), n_informants=("informant_id", "nunique"))
        .reset_index()
    )
    order = [*by, "n_segments", "code"]
    ascending = [True] * len(by) + [False, True]
    return out.sort_values(order, ascending=ascending, ignore_index=True)


def code_cooccurrence(
    coded_segments: pd.DataFrame, codebook: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Informants whose segments carry both of two codes.

    Co-occurrence is counted within informants: an informant counts once for
    the pair (a, b) when any of their segments carries ``a`` and any carries
    ``b`` (primary coder's codes, see :func:`primary_coding`).

    Parameters
    ----------
    coded_segments : DataFrame
        The ``coded_segments`` table.
    codebook : DataFrame, optional
        When given, every code of the codebook appears (in codebook order),
        including those never applied, and a code outside it is an error.

    Returns
    -------
    DataFrame
        Tidy and complete: one row per ordered pair, columns ``code_a, code_b,
        n_informants``; symmetric, and the diagonal (a, a) holds the informants
        who mention ``a`` at all. The square matrix is
        ``df.pivot(index="code_a", columns="code_b", values="n_informants")``.
    """
    rows = primary_coding(coded_segments)
    if codebook is not None:
        _require_columns(codebook, ["code"], "codebook")
        codes = pd.Index(codebook["code"].drop_duplicates())
        value = codes.get_indexer(rows["code"])
        if (value < 0).any():
            raise ValueError(
                f"coded_segments: code {rows['code'].iloc[np.argmax(value < 0)]!r} "
                "is not in the codebook"
            )
    else:
        value, codes = pd.factorize(rows["code"], sort=True)
    informant, informant_ids = pd.factorize(rows["informant_id"])
    incidence = sparse.csr_matrix(
        (np.ones(len(value)), (informant, value)), shape=(len(informant_ids), len(codes))
    )
    incidence.data[:] = 1.0  # an informant counts once however many segments carry the code
    both = (incidence.T @ incidence).toarray().astype(np.int64)
    n = len(codes)
    return pd.DataFrame(
        {
            "code_a": np.repeat(np.asarray(codes, dtype=object), n),
            "code_b": np.tile(np.asarray(codes, dtype=object), n),
            "n_informants": both.ravel(),
        }
    ).astype({"code_a": "str", "code_b": "str"})


def consensus_conflict_share(
    coded_segments: pd.DataFrame, codebook: pd.DataFrame, informants: pd.DataFrame
) -> pd.DataFrame:
    """Consensus versus conflict on practices, by network (domain.md §5 d).

    Counts the segments (primary coder's code) whose code has category
    ``consensus`` or ``conflict``.

    Returns
    -------
    DataFrame
        Columns ``network_id, n_consensus, n_conflict, consensus_share``, one
        row per network of ``informants``; ``consensus_share`` is
        ``n_consensus / (n_consensus + n_conflict)``, NaN when both are zero.
    """
    rows = primary_coding(coded_segments)
    category = _lookup(rows["code"], codebook, "code", "category", "codebook")
    network = _lookup(rows["informant_id"], informants, "informant_id", "network_id", "informants")
    networks = pd.Index(informants["network_id"].drop_duplicates().sort_values())
    counts = {}
    for kind in ("consensus", "conflict"):
        hit = (category == kind).to_numpy()
        counts[f"n_{kind}"] = (
            network[hit].value_counts().reindex(networks, fill_value=0).to_numpy(np.int64)
        )
    out = pd.DataFrame({"network_id": networks.astype("str"), **counts})
    total = out["n_consensus"] + out["n_conflict"]
    out["consensus_share"] = (out["n_consensus"] / total.where(total > 0)).astype(float)
    return out


# -- how reliably it was coded ----------------------------------------------
@dataclass(frozen=True)
class _Ratings:
    """Coded segments as integer arrays: one entry per (segment, coder)."""

    unit: np.ndarray
    coder: np.ndarray
    value: np.ndarray
    coders: pd.Index
    values: pd.Index

    @property
    def n_units(self) -> int:
        return int(self.unit.max()) + 1 if len(self.unit) else 0

    def coders_per_unit(self) -> np.ndarray:
        return np.bincount(self.unit, minlength=self.n_units)


def _ratings(coded_segments: pd.DataFrame, values: Mapping[str, float] | None = None) -> _Ratings:
    cols = ["segment_id", "coder_id", "code"]
    _require_columns(coded_segments, cols, "coded_segments")
    _require_complete(coded_segments, cols, "coded_segments")
    unit, _ = pd.factorize(coded_segments["segment_id"])
    coder, coders = pd.factorize(coded_segments["coder_id"], sort=True)
    if values is None:
        value, domain = pd.factorize(coded_segments["code"], sort=True)
    else:
        mapped = coded_segments["code"].map(dict(values))
        if mapped.isna().any():
            code = coded_segments["code"][mapped.isna()].iloc[0]
            raise ValueError(f"code {code!r} has no value in the mapping of codes to values")
        # codes sharing a value are one category: only the value carries an order
        value, domain = pd.factorize(mapped.astype(float), sort=True)
    key = unit.astype(np.int64) * len(coders) + coder
    uniq, first, counts = np.unique(key, return_index=True, return_counts=True)
    if (counts > 1).any():
        row = first[np.argmax(counts > 1)]
        raise ValueError(
            f"coded_segments: segment {coded_segments['segment_id'].iloc[row]!r} has several "
            f"codes from coder {coded_segments['coder_id'].iloc[row]!r}; one code per coder"
        )
    return _Ratings(unit, coder, value, coders, domain)


def _require_reliability_data(r: _Ratings) -> np.ndarray:
    """Coders per unit, after checking reliability can be measured at all."""
    if len(r.coders) < 2:
        found = f"only {r.coders[0]!r}" if len(r.coders) else "none"
        raise ValueError(f"reliability needs at least 2 coders; coded_segments has {found}")
    m = r.coders_per_unit()
    if not (m >= 2).any():
        raise ValueError("reliability needs segments coded by several coders; none is")
    return m


def _cohen_from_table(table: np.ndarray) -> float:
    n = table.sum()
    chance = (table.sum(0) * table.sum(1)).sum() / n**2
    if np.isclose(chance, 1.0):
        return float("nan")  # both coders used one and the same code: κ is 0/0
    return float(inter_rater.cohens_kappa(table, return_results=False))


def _pair_tables(r: _Ratings) -> dict[tuple[int, int], np.ndarray]:
    """Cohen contingency table of every coder pair that shares a segment."""
    grid = np.full((r.n_units, len(r.coders)), -1, dtype=np.int64)
    grid[r.unit, r.coder] = r.value
    v = len(r.values)
    tables = {}
    for a in range(len(r.coders)):  # loops over coders, never over segments
        for b in range(a + 1, len(r.coders)):
            both = (grid[:, a] >= 0) & (grid[:, b] >= 0)
            if both.any():
                cells = grid[both, a] * v + grid[both, b]
                tables[(a, b)] = np.bincount(cells, minlength=v * v).reshape(v, v)
    return tables


def cohen_kappa(coded_segments: pd.DataFrame, coder_a: str, coder_b: str) -> float:
    """Cohen's κ of two coders on the segments both of them coded.

    κ = (p_o − p_e) / (1 − p_e), computed by
    :func:`statsmodels.stats.inter_rater.cohens_kappa` from the codes × codes
    table of the two coders. NaN when both coders used a single, shared code
    (κ is 0/0 there).

    Raises
    ------
    ValueError
        When a coder has no segment, or the two coded no segment in common.
    """
    if coder_a == coder_b:
        raise ValueError(f"Cohen's kappa compares two different coders, got {coder_a!r} twice")
    r = _ratings(coded_segments)
    for c in (coder_a, coder_b):
        if c not in r.coders:
            raise ValueError(f"coder {c!r} has no coded segments")
    a, b = sorted((r.coders.get_loc(coder_a), r.coders.get_loc(coder_b)))
    table = _pair_tables(r).get((a, b))
    if table is None:
        raise ValueError(f"coders {coder_a!r} and {coder_b!r} coded no segment in common")
    return _cohen_from_table(table)


def _fleiss_table(r: _Ratings, n_coders: int | None) -> tuple[np.ndarray, int, int]:
    """Segments × codes counts of the segments coded by ``n_coders`` coders."""
    m = _require_reliability_data(r)
    if n_coders is None:
        # the most common number of coders per multiply coded segment (largest on ties)
        counts = np.bincount(m)
        counts[:2] = 0
        n_coders = int(len(counts) - 1 - np.argmax(counts[::-1]))
    if n_coders < 2 or not (m == n_coders).any():
        raise ValueError(f"no segment was coded by exactly {n_coders} coders")
    keep = m[r.unit] == n_coders
    units, unit_index = np.unique(r.unit[keep], return_inverse=True)
    v = len(r.values)
    # statsmodels' aggregate_raters builds this table with a loop over segments
    table = np.bincount(unit_index * v + r.value[keep], minlength=len(units) * v)
    n_involved = len(np.unique(r.coder[keep]))
    return table.reshape(len(units), v), n_coders, n_involved


def fleiss_kappa(coded_segments: pd.DataFrame, n_coders: int | None = None) -> float:
    """Fleiss' κ on the segments coded by the same number of coders.

    Fleiss' κ needs the same number of codes per segment, not the same coders.
    The segments × codes count table is passed to
    :func:`statsmodels.stats.inter_rater.fleiss_kappa`.

    Parameters
    ----------
    coded_segments : DataFrame
        The ``coded_segments`` table.
    n_coders : int, optional
        Use the segments coded by exactly this many coders. Default: the most
        common number (at least 2) of coders per segment; the other segments
        are left out.

    Returns
    -------
    float
        NaN when a single code was used throughout (κ is 0/0 there).
    """
    table, _, _ = _fleiss_table(_ratings(coded_segments), n_coders)
    return _fleiss_from_table(table)


def _fleiss_from_table(table: np.ndarray) -> float:
    if (table.sum(0) > 0).sum() < 2:
        return float("nan")
    return float(inter_rater.fleiss_kappa(table, method="fleiss"))


def _coincidences(r: _Ratings, m: np.ndarray) -> np.ndarray:
    """Krippendorff's values × values coincidence matrix of the pairable segments."""
    pairable = m[r.unit] >= 2
    v = len(r.values)
    counts = sparse.csr_matrix(
        (np.ones(pairable.sum()), (r.unit[pairable], r.value[pairable])), shape=(r.n_units, v)
    )  # duplicates add up: counts[u, c] = coders who gave value c to segment u
    weight = np.zeros(r.n_units)
    weight[m >= 2] = 1.0 / (m[m >= 2] - 1)
    o = (counts.T @ sparse.diags(weight) @ counts).toarray()
    o -= np.diag(counts.T @ weight)  # a coder's value is not paired with itself
    return o


def _distances(level: str, domain: np.ndarray, n_c: np.ndarray) -> np.ndarray:
    """Squared difference δ² between values, per level of measurement."""
    if level == "nominal":
        return 1.0 - np.eye(len(n_c))
    if level == "interval":
        return np.subtract.outer(domain, domain) ** 2
    if level == "ratio":
        total = np.add.outer(domain, domain)
        with np.errstate(invalid="ignore", divide="ignore"):
            d = (np.subtract.outer(domain, domain) / total) ** 2
        return np.nan_to_num(d)
    # ordinal: the values between c and k, counted by how often they were used
    cum = np.concatenate([[0.0], np.cumsum(n_c)])
    i = np.arange(len(n_c))
    lo, hi = np.minimum.outer(i, i), np.maximum.outer(i, i)
    between = cum[hi + 1] - cum[lo]
    return (between - (n_c[lo] + n_c[hi]) / 2) ** 2


def _alpha(r: _Ratings, m: np.ndarray, level: str) -> float:
    o = _coincidences(r, m)
    n_c = o.sum(axis=1)
    n = n_c.sum()
    if (n_c > 0).sum() < 2:
        return float("nan")  # a single value used: no disagreement is even possible
    d = _distances(level, np.asarray(r.values, dtype=float) if level != "nominal" else None, n_c)
    return float(1.0 - (n - 1) * (o * d).sum() / (np.outer(n_c, n_c) * d).sum())


def krippendorff_alpha(
    coded_segments: pd.DataFrame,
    level: str = "nominal",
    values: Mapping[str, float] | None = None,
) -> float:
    """Krippendorff's α over all coders, missing codes allowed.

    The reliability data are the coders × segments matrix of codes; a
    segment coded by a single coder is not pairable and carries no weight.
    α = 1 − D_o / D_e from the coincidence matrix (Krippendorff 2011,
    "Computing Krippendorff's alpha-reliability"). The result equals
    :func:`krippendorff.alpha` on the same matrix (the tests check it), but the
    coincidences are summed with a sparse product rather than a segments ×
    values × values array, so a million segments fit in memory and seconds.

    Parameters
    ----------
    coded_segments : DataFrame
        The ``coded_segments`` table.
    level : {"nominal", "ordinal", "interval", "ratio"}
        Level of measurement of the codes.
    values : mapping of code to number, optional
        Required for every level but nominal: the value (ordinal: the rank)
        of each code. Codes mapped to the same value are the same category.

    Returns
    -------
    float
        NaN when a single code (value) was used throughout.
    """
    if level not in LEVELS:
        raise ValueError(f"level must be one of {', '.join(LEVELS)}, got {level!r}")
    if level != "nominal" and values is None:
        raise ValueError(f"{level} alpha needs `values`, a mapping of each code to a number")
    r = _ratings(coded_segments, values if level != "nominal" else None)
    return _alpha(r, _require_reliability_data(r), level)


def interpret(value: float) -> str:
    """Krippendorff's reading of a reliability coefficient."""
    if np.isnan(value):
        return "undefined"
    if value >= RELIABLE:
        return "reliable"
    if value >= TENTATIVE:
        return "tentative"
    return "unreliable"


def reliability_table(coded_segments: pd.DataFrame) -> pd.DataFrame:
    """Every reliability coefficient of the coding, in one table.

    Rows: Krippendorff's α (nominal, all coders); Fleiss' κ (segments coded
    by the most common number of coders); Cohen's κ for each pair of coders
    who share segments. ``interpretation`` applies Krippendorff's thresholds
    (≥ 0.800 reliable, ≥ 0.667 tentative, else unreliable) to every row, so
    the table reads on one scale.

    Returns
    -------
    DataFrame
        Columns ``measure, value, n_units, n_coders, interpretation``
        (``n_units``: segments entering the coefficient; ``n_coders``: coders
        contributing to those segments).
    """
    r = _ratings(coded_segments)
    m = _require_reliability_data(r)
    pairable = m[r.unit] >= 2
    rows = [
        (
            "Krippendorff's alpha (nominal)",
            _alpha(r, m, "nominal"),
            int((m >= 2).sum()),
            len(np.unique(r.coder[pairable])),
        )
    ]
    table, k, n_involved = _fleiss_table(r, None)
    rows.append(
        (
            f"Fleiss' kappa ({k} coders per segment)",
            _fleiss_from_table(table),
            len(table),
            n_involved,
        )
    )
    for (a, b), t in _pair_tables(r).items():
        rows.append(
            (
                f"Cohen's kappa ({r.coders[a]} vs {r.coders[b]})",
                _cohen_from_table(t),
                int(t.sum()),
                2,
            )
        )
    out = pd.DataFrame(rows, columns=["measure", "value", "n_units", "n_coders"])
    out["interpretation"] = out["value"].map(interpret)
    return out.astype({"measure": "str", "interpretation": "str"})
