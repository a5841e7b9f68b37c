"""Regression models of outcomes on network strategies, with tidy results.

Two generalized linear models, both with standard errors robust to the
clustering of persons within networks (by ``network_id``), since the predictor
of interest varies between networks only:

* :func:`fuh7_model`: logistic regression of follow-up within 7 days of
  discharge (per episode);
* :func:`readmission_model`: Poisson regression of 30-day readmissions per
  person, with the days at risk as exposure (log offset).

The predictor of interest, ``case_management_and_liaison``, is True for a
network that has both case management and liaison officers in place, the two
clinical strategies that bridge hospital and community (domain.md §3-§4).
Other strategy flags can be built with ``flags`` (see :func:`network_covariates`)
and passed to the models as ``predictors``.

Design matrices are built here rather than from a formula, so that term names
and reference levels do not depend on the formula engine: a categorical
covariate ``age_group`` with levels 18-34 (reference), 35-49, ... gives the
terms ``age_group[35-49]``, ...

Inference with few networks
---------------------------
A network strategy is a property of a network, and within a setting it is
often in place in all networks but one, or in one only. That network then has
a leverage near 1 on the strategy's coefficient, and the usual cluster-robust
(CR1) sandwich, which scales every network's residuals alike, is biased down.
The default (``inference="bell-mccaffrey"``, :data:`INFERENCE`) is the CR2
sandwich of Bell and McCaffrey (2002), which divides each network's residuals by
``(I - H_gg)^(1/2)``, its block of the hat matrix of the final IRLS step, with
Student's t on Satterthwaite degrees of freedom computed per term under a
working model of independent errors (Imbens and Kolesár 2016; Pustejovsky and
Tipton 2018). These degrees of freedom fall far below networks - 1 when a term
rests on one or two networks, which widens exactly those intervals. Fits on
fewer than :data:`FEW_NETWORKS` networks still warn, and a network-level
predictor is refused when the network-level terms take up every network (e.g.
two networks that differ in the strategy): their residuals then carry no
information on it, whatever the correction.

The choice was measured with ``benchmarks/validate_planted_effects.py`` (and a
one-off script for the two GEE variants and the bootstrap), on the planted
FUH-7 log-odds ratio (case management and liaison officers) and 30-day
readmission log rate ratio (assertive community treatment) of
:func:`compendium.ingest.synth.generate`: seeds 0-249 with 40 networks, 0-99 with 12.
Coverage of 95 % intervals (Monte Carlo SE about 0.012 at 0.95 with 250 seeds,
0.022 with 100), mean interval width on the log scale, and milliseconds per fit
(median, GLM plus standard errors, one thread, busy 2-core machine):

=========================== ======== ============= =============== ========
method                      networks coverage       mean width      ms / fit
                                     FUH-7 / ACT    FUH-7 / ACT     FUH / ACT
=========================== ======== ============= =============== ========
model-based (reference)     40       0.968 / 0.960 0.248 / 0.329   15 / 22
CR1, t(G-1) (former)        40       0.888 / 0.940 0.221 / 0.318   15 / 22
CR2, t(G-1)                 40       0.916 / 0.952 0.245 / 0.337   24 / 31
**CR2, Bell-McCaffrey df**  40       0.968 / 0.960 0.295 / 0.348   24 / 31
Mancl-DeRouen, t(G-1)       40       0.964 / 0.968 0.278 / 0.363   24 / 30
wild cluster score boot.    40       0.940 / 0.960 0.276 / 0.345   16 / 23
GEE exchangeable, MD, t     40       0.960 / --    53.4 / --       97 / 330
model-based (reference)     12       0.92 / 0.98   0.530 / 0.641   11 / 12
CR1, t(G-1) (former)        12       0.64 / 0.88   0.278 / 0.508   11 / 12
CR2, t(G-1)                 12       0.77 / 0.94   0.393 / 0.684   13 / 15
**CR2, Bell-McCaffrey df**  12       0.95 / 0.98   1.198 / 1.038   13 / 15
Mancl-DeRouen, t(G-1)       12       0.84 / 0.99   0.626 / 1.040   12 / 13
wild cluster score boot.    12       0.83 / 0.94   0.870 / 0.813   12 / 13
=========================== ======== ============= =============== ========

Only CR2 with Bell-McCaffrey degrees of freedom reaches 0.93 for both
effects at both sizes, at little cost: its standard errors are unbiased at 40
networks (mean SE / SD of estimates 1.00 for FUH-7, 0.97 for ACT, against 0.90
and 0.92 for CR1) and its intervals are 19 % (FUH-7) and 6 % (ACT) wider than
the model-based ones; at 12 networks the width reflects how little a handful of
networks on one side of the exposure can tell (median FUH-7 degrees of freedom
1.7). Mancl-DeRouen is statsmodels' ``GEE(..., cov_struct=Independence())``
``.fit(cov_type="bias_reduced")`` (same numbers, 2-3 times slower); it over-corrects the
standard error at 40 networks yet, keeping networks - 1 degrees of freedom,
under-covers at 12. Where one network alone identifies a direction of the
coefficients, its residuals there are zero and carry no information: the
sandwiches here leave it out (pseudo-inverse), whereas statsmodels' GEE divides
by ~0 and returns standard errors in the hundreds. The wild cluster bootstrap
of the scores (Kline and Santos 2012; Webb weights, 999 draws, symmetric
percentile-t) is fast but under-covers at 12 networks; a bootstrap that refits
the GLM would take 11-17 s per model (999 refits) and has no wild form for a
binary outcome. GEE with an exchangeable working correlation changes the
estimator: its Poisson fits did not converge (NaN) in every seed and a few
FUH-7 standard errors exploded (mean width 53). The synthetic data plant no
between-network variation beyond the covariates, so there the model-based
errors are right; real networks differ, which is what the clustering is for.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import sparse, stats

from ..data import schema
from .outcomes import READMISSION_DAYS, follow_up_after_hospitalization, person_network

#: Strategies that, together, define the network-level predictor.
BRIDGING_STRATEGIES = ("cl_case_management", "cl_liaison_officers")
EXPOSURE = "case_management_and_liaison"
#: Network-level flags: column name -> strategies that must all be in place.
DEFAULT_FLAGS = MappingProxyType({EXPOSURE: BRIDGING_STRATEGIES})
PERSON_COVARIATES = ("age_group", "sex", "diagnosis_group")
NETWORK_COVARIATES = ("setting",)
#: Below this many networks the fits warn that cluster-robust errors are unreliable.
FEW_NETWORKS = 20
#: Ways to compute standard errors and t degrees of freedom (see the module docstring).
INFERENCE_METHODS = ("bell-mccaffrey", "cr2", "mancl-derouen", "cr1")
#: The default, chosen on the coverage of the planted synthetic effects.
INFERENCE = "bell-mccaffrey"
_DESCRIPTIONS = {
    "bell-mccaffrey": "CR2 (Bell-McCaffrey) cluster-robust covariance by network; the "
    "tidy table uses t with Satterthwaite degrees of freedom per term",
    "cr2": "CR2 (Bell-McCaffrey) cluster-robust covariance by network, t with networks - 1 df",
    "mancl-derouen": "Mancl-DeRouen (CR3) cluster-robust covariance by network, "
    "t with networks - 1 df",
    "cr1": "CR1 cluster-robust covariance by network, t with networks - 1 df",
}
#: A network with leverage within this of 1 on a direction of the coefficients is
#: the only one informing it; its residuals there are 0 and are left out.
_FULL_LEVERAGE = 1e-8

#: Known vocabularies, so the reference level is the first in domain order.
_LEVEL_ORDER = {
    "age_group": schema.AGE_GROUPS,
    "sex": schema.SEXES,
    "diagnosis_group": schema.DIAGNOSIS_GROUPS,
    "setting": schema.SETTINGS,
}


@dataclass
class ModelResult:
    """A fitted model and what is needed to read it.

    Attributes
    ----------
    outcome : str
        Name of the modelled column.
    family : str
        ``"binomial"`` (logit link) or ``"poisson"`` (log link).
    result : statsmodels GLMResults
        The fit, carrying the cluster-robust covariance of ``inference``
        (``result.bse``, ``result.cov_params()``); its own t-based output
        (``summary()``, ``conf_int()``, ``t_test``) uses networks - 1 degrees of
        freedom throughout, whereas :func:`tidy` uses ``df``.
    n_obs, n_clusters : int
        Rows used and networks they fall in.
    reference_levels : dict
        Reference level of each categorical covariate.
    dropped_terms : tuple of str
        Covariates left out because they take a single value in the data
        (e.g. ``setting`` in a one-setting slice).
    inference : str
        How standard errors and degrees of freedom were computed, one of
        :data:`INFERENCE_METHODS`.
    df : Series
        Degrees of freedom of the t distribution of each term's estimate
        (index: term); networks - 1 unless ``inference`` is
        ``"bell-mccaffrey"``.
    """

    outcome: str
    family: str
    result: object
    n_obs: int
    n_clusters: int
    reference_levels: dict = field(default_factory=dict)
    dropped_terms: tuple = ()
    inference: str = INFERENCE
    df: pd.Series | None = None

    @property
    def table(self) -> pd.DataFrame:
        """The tidy coefficient table (see :func:`tidy`)."""
        return tidy(self)


# -- analysis frames ---------------------------------------------------------
def network_covariates(
    networks: pd.DataFrame,
    network_strategies: pd.DataFrame,
    flags: Mapping[str, Sequence[str]] = DEFAULT_FLAGS,
) -> pd.DataFrame:
    """Network-level covariates: ``network_id, setting`` and one boolean per flag.

    Parameters
    ----------
    networks, network_strategies : DataFrame
        Tables of the data package.
    flags : mapping of column name to strategy codes
        Each flag is True for a network where all its strategies are in place.
        Default: ``case_management_and_liaison`` (``cl_case_management`` and
        ``cl_liaison_officers``); e.g. ``{"act": ("cl_assertive_community_treatment",)}``
        adds another.

    Notes
    -----
    A strategy counts as in place only when ``network_strategies`` says so
    (``in_place`` True); a missing row or an unknown ``in_place`` counts as
    not in place.
    """
    present = network_strategies.loc[
        network_strategies["in_place"].fillna(False).astype(bool), ["network_id", "strategy_code"]
    ].drop_duplicates()
    out = networks[["network_id", "setting"]].copy().reset_index(drop=True)
    for name, codes in flags.items():
        codes = tuple(dict.fromkeys(codes))
        n_present = present[present["strategy_code"].isin(codes)].groupby("network_id").size()
        out[name] = out["network_id"].map(n_present).fillna(0).to_numpy() == len(codes)
    return out


def _with_networks(
    frame: pd.DataFrame, tables: dict[str, pd.DataFrame], flags: Mapping[str, Sequence[str]]
) -> pd.DataFrame:
    covariates = network_covariates(tables["networks"], tables["network_strategies"], flags)
    unknown = ~frame["network_id"].isin(covariates["network_id"])
    if unknown.any():
        raise ValueError(
            f"networks: no row for network_id {frame['network_id'][unknown].iloc[0]!r}"
        )
    return frame.merge(covariates, on="network_id", how="left", validate="many_to_one")


def person_level_frame(
    tables: dict[str, pd.DataFrame], flags: Mapping[str, Sequence[str]] = DEFAULT_FLAGS
) -> pd.DataFrame:
    """One row per hospitalization episode, with its person, network and FUH flags.

    Parameters
    ----------
    tables : dict of DataFrame
        The data package (:func:`compendium.data.read.load`); uses
        ``care_episodes``, ``networks`` and ``network_strategies``.
    flags : mapping of column name to strategy codes
        Network strategy flags to add (see :func:`network_covariates`).

    Returns
    -------
    DataFrame
        ``care_episodes`` columns plus ``setting``, the flags (default
        ``case_management_and_liaison``) and, from
        :func:`compendium.analysis.outcomes.follow_up_after_hospitalization`,
        ``days_to_follow_up, fuh7, fuh30, days_to_readmission, readmitted_30``.
    """
    episodes = tables["care_episodes"]
    follow_up = follow_up_after_hospitalization(episodes).drop(
        columns=["person_id", "network_id", "discharge_date"]
    )
    frame = episodes.merge(follow_up, on="episode_id", how="left", validate="one_to_one")
    return _with_networks(frame, tables, flags)


def person_readmission_frame(
    tables: dict[str, pd.DataFrame],
    window_days: int = READMISSION_DAYS,
    flags: Mapping[str, Sequence[str]] = DEFAULT_FLAGS,
) -> pd.DataFrame:
    """One row per person: readmissions within the window after each discharge, and days at risk.

    Each discharge opens a window of ``window_days`` days. The person is at
    risk from the day after discharge until readmission or the end of the
    window, whichever comes first; a readmission on day d (1 <= d <=
    ``window_days``) counts as one readmission and d days at risk. Person
    covariates and the network are those of the latest discharge (see
    :func:`compendium.analysis.outcomes.person_network`).

    Parameters
    ----------
    tables : dict of DataFrame
        The data package; uses ``care_episodes``, ``networks`` and
        ``network_strategies``.
    window_days : int
        Length of the window after each discharge.
    flags : mapping of column name to strategy codes
        Network strategy flags to add (see :func:`network_covariates`).

    Returns
    -------
    DataFrame
        ``person_id, network_id, age_group, sex, diagnosis_group, setting``,
        the flags (default ``case_management_and_liaison``), ``n_episodes,
        n_readmissions, days_at_risk``.
    """
    episodes = tables["care_episodes"]
    fuh = follow_up_after_hospitalization(episodes)
    days = fuh["days_to_readmission"]
    readmitted = ((days >= 1) & (days <= window_days)).fillna(False).to_numpy(dtype=bool)
    at_risk = np.where(readmitted, days.fillna(window_days).to_numpy(dtype=float), window_days)
    per_person = (
        pd.DataFrame({"person_id": fuh["person_id"], "readmitted": readmitted, "at_risk": at_risk})
        .groupby("person_id")
        .agg(
            n_episodes=("readmitted", "size"),
            n_readmissions=("readmitted", "sum"),
            days_at_risk=("at_risk", "sum"),
        )
        .reset_index()
    )
    frame = person_network(episodes, PERSON_COVARIATES).merge(per_person, on="person_id")
    frame = _with_networks(frame, tables, flags)
    return frame[
        [
            "person_id",
            "network_id",
            *PERSON_COVARIATES,
            "setting",
            *flags,
            "n_episodes",
            "n_readmissions",
            "days_at_risk",
        ]
    ]


# -- fitting -----------------------------------------------------------------
def _levels(values: pd.Series, name: str) -> list:
    seen = set(values.dropna().unique())
    known = [v for v in _LEVEL_ORDER.get(name, ()) if v in seen]
    return known + sorted(seen - set(known), key=str)


def _design(
    frame: pd.DataFrame, predictors: Sequence[str], covariates: Sequence[str]
) -> tuple[pd.DataFrame, dict, tuple]:
    """Intercept, numeric/boolean columns as they are, categoricals as dummies."""
    columns = {"Intercept": np.ones(len(frame))}
    references, dropped = {}, []
    for name in [*predictors, *covariates]:
        s = frame[name]
        numeric = pd.api.types.is_bool_dtype(s) or pd.api.types.is_numeric_dtype(s)
        if numeric:
            values = s.astype(float).to_numpy()
            if np.unique(values).size < 2:
                if name in predictors:
                    raise ValueError(
                        f"{name} takes the same value in every row; its effect cannot be estimated"
                    )
                dropped.append(name)
                continue
            columns[name] = values
            continue
        levels = _levels(s, name)
        if len(levels) < 2:
            if name in predictors:
                raise ValueError(f"{name} has a single level; its effect cannot be estimated")
            dropped.append(name)
            continue
        references[name] = levels[0]
        for level in levels[1:]:
            columns[f"{name}[{level}]"] = (s == level).to_numpy(dtype=float)
    return pd.DataFrame(columns, index=frame.index), references, tuple(dropped)


def _require_full_rank(X: pd.DataFrame, names: Sequence[str]) -> None:
    """Refuse a design whose terms cannot be told apart, naming the variables involved."""
    rank = np.linalg.matrix_rank(X.to_numpy())
    deficiency = X.shape[1] - rank
    if deficiency == 0:
        return
    involved = []
    for name in names:
        cols = [c for c in X.columns if c == name or c.startswith(f"{name}[")]
        rest = X.drop(columns=cols)
        if rest.shape[1] - np.linalg.matrix_rank(rest.to_numpy()) < deficiency:
            involved.append(name)
    raise ValueError(
        f"{' and '.join(involved) or 'the terms'} are confounded in these data (e.g. a strategy "
        "in place in exactly the networks of some settings); drop one to estimate the other"
    )


def _require_networks_to_spare(
    X: pd.DataFrame, groups: np.ndarray, predictors: Sequence[str]
) -> None:
    """Refuse network-level predictors when the network-level terms use up every network.

    With as many network-level terms (intercept included) as networks, e.g. two
    networks that differ in the strategy, each network's residuals are zero in
    the direction of those terms: no sandwich can estimate their standard
    errors, whatever its small-sample correction.
    """
    values = X.to_numpy()
    _, first = np.unique(groups, return_index=True)
    network_level = (values == values[first][groups]).all(axis=0)
    n_networks = len(first)
    if np.linalg.matrix_rank(values[first][:, network_level]) < n_networks:
        return
    columns = X.columns[network_level]
    names = [p for p in predictors if any(c == p or c.startswith(f"{p}[") for c in columns)]
    if names:
        raise ValueError(
            f"{' and '.join(names)}: {n_networks} networks are too few to estimate the "
            "standard error of a network-level effect (the network-level terms use them all)"
        )


def _group_sums(groups: np.ndarray, n_groups: int, values: np.ndarray) -> np.ndarray:
    """Column sums of ``values`` (rows x k) within each group: groups x k."""
    indicator = sparse.csr_array(
        (np.ones(len(groups)), (groups, np.arange(len(groups)))), shape=(n_groups, len(groups))
    )
    return indicator @ values


def _cluster_inference(result, groups: np.ndarray, method: str) -> tuple[np.ndarray, np.ndarray]:
    """Cluster-robust covariance of a GLM fit and the t degrees of freedom of each coefficient.

    Parameters
    ----------
    result : statsmodels GLMResults
        The fit.
    groups : array of int
        Network of each row, coded 0 .. G - 1.
    method : str
        One of :data:`INFERENCE_METHODS` (see the module docstring).

    Returns
    -------
    (ndarray, ndarray)
        The p x p covariance of the coefficients and, per coefficient, the
        degrees of freedom of its t distribution.

    Notes
    -----
    Everything is computed on the working linear model of the last IRLS step:
    ``Z = W^(1/2) X`` and whitened residuals ``e = W^(1/2) g'(mu) (y - mu)``, so
    the bread is ``M = (Z'Z)^-1`` and network g's score is ``s_g = Z_g' e_g``.
    CR2 and Mancl-DeRouen rescale each network's residuals by ``(I - H_gg)^(-1/2)``
    or ``(I - H_gg)^-1``, ``H_gg = Z_g M Z_g'`` its block of the hat matrix. With
    ``R = M^(1/2)`` and ``K_g = R Z_g'Z_g R`` (p x p), ``Z_g' f(I - H_gg) e_g =
    R^-1 f(I - K_g) R s_g`` for any matrix function f, so no n_g x n_g matrix is
    formed. A direction in which one network has leverage 1 (it alone
    identifies it) holds no residual information: the pseudo-inverse gives it 0.

    The Bell-McCaffrey degrees of freedom of coefficient j are those of a
    Satterthwaite approximation, ``tr(A)^2 / tr(A^2)``, where ``A`` is the G x G
    matrix of inner products of the networks' contributions to the CR2
    variance when the whitened errors are independent with unit variance (the
    working model of a correctly specified binomial or Poisson GLM). With
    ``t_g = Q_g diag(lam f) Q_g' R c`` and ``w_g = c'R Q_g diag(lam f^2) Q_g' R c``
    (``K_g = Q_g diag(lam) Q_g'``, c selecting j), ``A = diag(w) - T T'``.
    """
    model = result.model
    mu = np.asarray(result.mu)
    slope = model.family.link.deriv(mu)  # d eta / d mu
    weight = 1.0 / (slope**2 * model.family.variance(mu))
    X = np.asarray(model.exog)
    Z = np.sqrt(weight)[:, None] * X
    n_groups = int(groups.max()) + 1
    n, p = Z.shape

    # Z_g'e_g, written so that a fitted probability of 0 or 1 gives 0, not 0 * inf
    scores = _group_sums(groups, n_groups, X * (weight * slope * (model.endog - mu))[:, None])
    blocks = np.stack([_group_sums(groups, n_groups, Z * Z[:, [k]]) for k in range(p)], axis=2)
    values, vectors = np.linalg.eigh(blocks.sum(axis=0))
    R = (vectors / np.sqrt(values)) @ vectors.T
    if method == "cr1":
        # the factor of Stata and of statsmodels' cov_type="cluster"
        factor = n_groups / (n_groups - 1) * (n - 1) / (n - p)
        half = scores @ R @ R
        return factor * half.T @ half, np.full(p, n_groups - 1.0)

    lam, Q = np.linalg.eigh(R @ blocks @ R)  # batched over networks
    lam = np.clip(lam, 0.0, 1.0)
    informative = lam < 1.0 - _FULL_LEVERAGE
    power = -0.5 if method in ("cr2", "bell-mccaffrey") else -1.0
    f = np.where(informative, (1.0 - np.where(informative, lam, 0.0)) ** power, 0.0)

    # M times the adjusted score of each network: R Q f Q' R s_g
    rotated = np.einsum("gki,gk->gi", Q, scores @ R)
    half = np.einsum("gki,gi->gk", Q, f * rotated) @ R
    cov = half.T @ half
    if method != "bell-mccaffrey":
        return cov, np.full(p, n_groups - 1.0)

    qr = np.einsum("gki,kj->gij", Q, R)  # q_gi' R c_j
    w = np.einsum("gi,gij->gj", lam * f**2, qr**2)
    t = np.einsum("gki,gi,gij->gkj", Q, lam * f, qr)
    t_sq = np.einsum("gkj,gkj->gj", t, t)
    trace = w.sum(axis=0) - t_sq.sum(axis=0)
    ttt = np.einsum("gkj,glj->jkl", t, t)
    trace_sq = (w**2).sum(axis=0) - 2 * (w * t_sq).sum(axis=0) + (ttt**2).sum(axis=(1, 2))
    return cov, np.divide(trace**2, trace_sq, out=np.full(p, np.nan), where=trace_sq > 0)


def _set_covariance(result, cov: np.ndarray, groups: np.ndarray, method: str) -> None:
    """Make a GLM fit report ``cov`` (as statsmodels' own constrained fits do)."""
    inner = result._results
    inner.cov_params_default = cov
    inner.cov_type = f"cluster-{method}"
    inner.cov_kwds = {"groups": groups, "description": _DESCRIPTIONS[method]}
    inner.use_t = True
    inner.df_resid_inference = int(groups.max())  # networks - 1
    inner._cache = {}


def _fit(
    frame: pd.DataFrame,
    outcome: str,
    family: str,
    predictors: Sequence[str],
    covariates: Sequence[str],
    exposure: str | None = None,
    inference: str = INFERENCE,
) -> ModelResult:
    if inference not in INFERENCE_METHODS:
        raise ValueError(
            f"inference must be one of {', '.join(INFERENCE_METHODS)}, not {inference!r}"
        )
    needed = [outcome, "network_id", *predictors, *covariates] + ([exposure] if exposure else [])
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise ValueError(f"model frame: missing column(s) {', '.join(missing)}")
    incomplete = frame[needed].isna().any(axis=1).to_numpy()
    if incomplete.any():
        row = int(np.argmax(incomplete))
        col = next(c for c in needed if pd.isna(frame[c].iloc[row]))
        raise ValueError(f"model frame: row {row} has no {col}")
    groups, clusters = pd.factorize(frame["network_id"])
    if len(clusters) < 2:
        raise ValueError("cluster-robust standard errors need at least 2 networks")
    if len(clusters) < FEW_NETWORKS:
        warnings.warn(
            f"only {len(clusters)} networks: cluster-robust standard errors of network-level "
            "effects are unreliable with so few clusters",
            stacklevel=3,
        )
    X, references, dropped = _design(frame, predictors, covariates)
    _require_full_rank(X, [*predictors, *covariates])
    _require_networks_to_spare(X, groups, predictors)
    y = frame[outcome].astype(float).to_numpy()
    kwargs = {}
    if exposure is not None:
        at_risk = frame[exposure].astype(float).to_numpy()
        if (at_risk <= 0).any():
            raise ValueError(f"model frame: row {int(np.argmax(at_risk <= 0))} has no {exposure}")
        kwargs["offset"] = np.log(at_risk)
    fam = sm.families.Binomial() if family == "binomial" else sm.families.Poisson()
    result = sm.GLM(y, X, family=fam, **kwargs).fit(use_t=True)
    cov, df = _cluster_inference(result, groups, inference)
    _set_covariance(result, cov, groups, inference)
    return ModelResult(
        outcome,
        family,
        result,
        len(frame),
        len(clusters),
        references,
        dropped,
        inference,
        pd.Series(df, index=X.columns, name="df"),
    )


def fuh7_model(
    episodes_with_covariates: pd.DataFrame,
    predictors: Sequence[str] = (EXPOSURE,),
    covariates: Sequence[str] = (*PERSON_COVARIATES, *NETWORK_COVARIATES),
    *,
    inference: str = INFERENCE,
) -> ModelResult:
    """Logistic regression of follow-up within 7 days after discharge.

    Parameters
    ----------
    episodes_with_covariates : DataFrame
        From :func:`person_level_frame`: one row per episode with ``fuh7``,
        ``network_id``, the predictors and the covariates.
    predictors : sequence of str
        Network-level predictors of interest; each must vary.
    covariates : sequence of str
        Adjustment covariates; one that takes a single value is dropped (and
        listed in ``dropped_terms``). ``setting`` is adjusted for by default
        because the strategies in place depend on the setting (domain.md §4).
    inference : str
        Standard errors and degrees of freedom, one of
        :data:`INFERENCE_METHODS`; the default, CR2 with Bell-McCaffrey
        degrees of freedom, is the one that covers the planted effects (see
        the module docstring).

    Returns
    -------
    ModelResult
        Binomial GLM (logit link), standard errors clustered by network.
    """
    return _fit(
        episodes_with_covariates,
        "fuh7",
        "binomial",
        predictors,
        covariates,
        inference=inference,
    )


def readmission_model(
    persons: pd.DataFrame,
    predictors: Sequence[str] = (EXPOSURE,),
    covariates: Sequence[str] = (*PERSON_COVARIATES, *NETWORK_COVARIATES),
    *,
    inference: str = INFERENCE,
) -> ModelResult:
    """Poisson regression of 30-day readmissions per person, per day at risk.

    Parameters
    ----------
    persons : DataFrame
        From :func:`person_readmission_frame`: ``n_readmissions``,
        ``days_at_risk`` (the exposure, entered as log offset), ``network_id``,
        the predictors and covariates.
    predictors, covariates : sequence of str
        As in :func:`fuh7_model`.
    inference : str
        As in :func:`fuh7_model`.

    Returns
    -------
    ModelResult
        Poisson GLM (log link) with standard errors clustered by network,
        which also guard against overdispersion.
    """
    return _fit(
        persons,
        "n_readmissions",
        "poisson",
        predictors,
        covariates,
        exposure="days_at_risk",
        inference=inference,
    )


def tidy(model: ModelResult, level: float = 0.95) -> pd.DataFrame:
    """Coefficient table of a fitted model.

    Returns
    -------
    DataFrame
        ``term, estimate, std_error, ci_low, ci_high, p_value`` on the link
        scale (log-odds or log-rate), with intervals and p-values from
        Student's t with the model's ``df``, then the same on the ratio scale:
        ``odds_ratio, odds_ratio_ci_low, odds_ratio_ci_high`` for the
        logistic model, ``rate_ratio, rate_ratio_ci_low, rate_ratio_ci_high``
        for the Poisson model.
    """
    res = model.result
    estimate, std_error = np.asarray(res.params), np.asarray(res.bse)
    if model.df is None:
        df = np.full(len(estimate), model.n_clusters - 1.0)
    else:
        df = model.df.reindex(res.model.exog_names).to_numpy(dtype=float)
    half_width = stats.t.ppf(0.5 + level / 2, df) * std_error
    out = pd.DataFrame(
        {
            "term": pd.Series(res.model.exog_names, dtype="str"),
            "estimate": estimate,
            "std_error": std_error,
            "ci_low": estimate - half_width,
            "ci_high": estimate + half_width,
            "p_value": 2 * stats.t.sf(np.abs(estimate / std_error), df),
        }
    )
    ratio = "odds_ratio" if model.family == "binomial" else "rate_ratio"
    out[ratio] = np.exp(out["estimate"])
    out[f"{ratio}_ci_low"] = np.exp(out["ci_low"])
    out[f"{ratio}_ci_high"] = np.exp(out["ci_high"])
    return out


def fit_or_reason(fit, *args, **kwargs) -> tuple[ModelResult | None, list[str]]:
    """Fit a model, or say why it cannot be estimated on these data.

    A notebook run on someone's data must not stop because one model is not
    estimable there (one setting, a strategy in place everywhere, too few
    networks); it reports the reason instead.

    Returns
    -------
    (ModelResult or None, list of str)
        The fit (None when not estimable) and the reasons or warnings to show.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            model = fit(*args, **kwargs)
        except ValueError as err:
            return None, [str(err)]
    return model, [str(w.message) for w in caught]
