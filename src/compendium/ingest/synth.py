"""Seeded synthetic data package calibrated to the source study.

The default package mirrors the design of Fleury's study of Québec's
integrated mental-health service networks (domain.md §6): six networks in
five regions, two of each setting, one network per model of integration
(two for models 3 and 4), and the study's 275 managers and clinical staff, 50
service users and 25 relatives. Every row is flagged ``synthetic``; nothing in
it was observed.

Planted effects
---------------
The person-level tables carry effects a notebook can recover (their sizes are
in :data:`PLANTED_EFFECTS`):

* **Follow-up within 7 days (FUH-7).** ``logit P(follow-up <= 7 days) =
  fuh7_intercept + fuh7_case_management_and_liaison_officers x [the network
  has both cl_case_management and cl_liaison_officers in place] + covariate
  terms`` (:data:`FUH7_COVARIATE_TERMS`: age group, sex, diagnosis group).
  Follow-up is the first ambulatory contact, 1 to 7 days after discharge for
  those followed up in time, otherwise later or never.
* **Readmission.** Readmissions arrive as a piecewise Poisson process: a
  rate per person-year of ``readmission_rate_first_30_days`` during the
  :data:`EARLY_READMISSION_DAYS` days after discharge (the riskiest weeks),
  ``readmission_rate_after_30_days`` afterwards. Both rates are multiplied by
  ``readmission_rate_ratio_assertive_community_treatment`` in networks with
  ``cl_assertive_community_treatment`` in place and by
  ``readmission_rate_ratio_psychotic`` for the psychotic diagnosis group, so
  the rate ratio is the same in any window after discharge (a 30-day Poisson
  model with days at risk as exposure recovers it). Only the first
  readmission is recorded (``readmission_date``). A person's exposure is the
  days from discharge to :data:`STUDY_WINDOW_END` (325 to 730 days); the time
  at risk for the first readmission ends at that readmission. Which networks
  practise assertive community treatment is fixed by :data:`ACT_ROTATION`, so
  that it varies within settings and a model adjusted for the setting can
  estimate its effect.
* **Continuity of care.** Each person has a usual provider; a contact goes to
  it with probability ``usual_provider_share_case_management`` in networks
  with ``cl_case_management`` in place, ``usual_provider_share_otherwise``
  elsewhere (higher usual-provider continuity, UPC, under case management).

Networks have in place, with probability :data:`CENTRAL_STRATEGY_PROBABILITY`,
the strategies their model calls for
(:func:`compendium.data.catalogues.load_model_strategies`), and any other strategy
with a lower, setting-specific probability. :func:`recover_planted_effects`
fits the outcome models of :mod:`compendium.analysis.models` and sets their estimates
beside the planted values.

Index hospitalizations are admitted during :data:`STUDY_YEAR`; ambulatory
contacts are recorded over the :data:`FOLLOW_UP_DAYS` days after discharge,
cut at the end of the study window.

Every draw comes from ``numpy.random.default_rng(seed)`` (one spawned stream
per table) and every table has a fixed order, so a seed always gives the same
bytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..data.catalogues import load_catalogue, load_model_strategies
from ..data.schema import INFORMANT_ROLES, ORGANIZATION_TYPES, TABLES, TABLES_BY_NAME, TIE_KINDS
from ..data.write import write_package
from ..paths import DEFAULT_CODEBOOK

DEFAULT_SEED = 2004
#: Bumped whenever a change to this module changes the generated values.
GENERATOR_VERSION = "2"
PACKAGE_NAME = "compendium-synthetic"

STUDY_NETWORKS = 6
#: Informants of the source study, over its six networks (domain.md §6).
STUDY_STAFF = 275
STUDY_SERVICE_USERS = 50
STUDY_RELATIVES = 25
#: Share of the staff informants who are managers (the rest are clinical staff).
MANAGER_SHARE = 0.4

#: Adults with serious mental disorders, as a share of the population (domain.md §1).
PREVALENCE_RANGE = (0.0205, 0.0295)
#: Share of them with a psychiatric hospitalization in the study year.
HOSPITALIZED_FRACTION = 0.08
STUDY_YEAR = 2003
STUDY_WINDOW_END = np.datetime64("2004-12-31")
FOLLOW_UP_DAYS = 365
LENGTH_OF_STAY_DAYS = (5, 40)
EARLY_READMISSION_DAYS = 30
STRATEGY_YEARS = (1997, 2004)
CODERS = ("coder_a", "coder_b", "coder_c")
#: Segments coded again by a second coder, and by a third among those.
SECOND_CODER_SHARE = 0.25
THIRD_CODER_SHARE = 0.10
CODER_AGREEMENT = 0.80

PLANTED_EFFECTS: dict[str, float] = {
    "fuh7_intercept": -0.6,
    "fuh7_case_management_and_liaison_officers": 0.8,
    "fuh7_age_18_34": -0.25,
    "fuh7_age_65_plus": 0.2,
    "fuh7_female": 0.15,
    "fuh7_psychotic": 0.2,
    "fuh7_major_depressive": -0.15,
    "readmission_rate_first_30_days": 1.2,
    "readmission_rate_after_30_days": 0.3,
    "readmission_rate_ratio_assertive_community_treatment": 0.7,
    "readmission_rate_ratio_psychotic": 1.25,
    "usual_provider_share_case_management": 0.75,
    "usual_provider_share_otherwise": 0.45,
}
#: (column of care_episodes, value) -> key of PLANTED_EFFECTS added to the FUH-7 log-odds.
FUH7_COVARIATE_TERMS: dict[tuple[str, str], str] = {
    ("age_group", "18-34"): "fuh7_age_18_34",
    ("age_group", "65+"): "fuh7_age_65_plus",
    ("sex", "female"): "fuh7_female",
    ("diagnosis_group", "psychotic"): "fuh7_psychotic",
    ("diagnosis_group", "major_depressive"): "fuh7_major_depressive",
}
#: Strategies whose joint presence raises FUH-7, and the one that lowers readmission.
FUH7_STRATEGIES = ("cl_case_management", "cl_liaison_officers")
READMISSION_STRATEGY = "cl_assertive_community_treatment"
CASE_MANAGEMENT = "cl_case_management"

AGE_GROUP_SHARES = {"18-34": 0.30, "35-49": 0.32, "50-64": 0.25, "65+": 0.13}
SEX_SHARES = {"female": 0.48, "male": 0.52}
DIAGNOSIS_SHARES = {
    "psychotic": 0.40,
    "bipolar": 0.22,
    "major_depressive": 0.28,
    "other_serious": 0.10,
}


# -- the four models (domain.md §4) ------------------------------------------
@dataclass(frozen=True)
class Model:
    """A model of integration: its setting and resources.

    The strategies a model calls for live in ``resources/model_strategies.csv``
    (:func:`compendium.data.catalogues.load_model_strategies`), not here.
    """

    number: int
    setting: str
    slug: str
    population: tuple[int, int]
    general_hospital: float  # probability that the network has a general hospital
    psychiatry_department: bool
    psychiatric_hospital: bool


MODELS: dict[int, Model] = {
    1: Model(1, "rural", "rural", (20_000, 35_000), 0.0, False, False),
    2: Model(2, "rural", "rural", (30_000, 60_000), 1.0, False, False),
    3: Model(3, "urban_semi_urban", "urban", (70_000, 150_000), 1.0, True, False),
    4: Model(4, "metropolitan", "metro", (150_000, 200_000), 0.5, True, True),
}
#: The source study's six networks under pseudonyms: (network_id, name, model).
DEFAULT_NETWORKS = (
    ("rural_north", "Rural North", 1),
    ("rural_east", "Rural East", 2),
    ("urban_west", "Urban West", 3),
    ("semi_urban_south", "Semi-urban South", 3),
    ("metro_centre", "Metropolitan Centre", 4),
    ("metro_east", "Metropolitan East", 4),
)
_SLUG_LABELS = {"rural": "Rural", "urban": "Urban", "metro": "Metropolitan"}

#: P(in place) of a strategy the network's model calls for, and of any other.
CENTRAL_STRATEGY_PROBABILITY = 0.85
OTHER_STRATEGY_PROBABILITY = {"rural": 0.12, "urban_semi_urban": 0.30, "metropolitan": 0.35}
#: The intermediary structure is what sets model 4 apart, so only it has one.
MODEL_4_ONLY = ("fa_intermediary_structure",)
#: (model, strategy) -> P(in place) for strategies the source cases had beyond their model:
#: the model 2 case had merged its hospital and CLSC (domain.md §4), a merger the model
#: itself does not call for (see :func:`compendium.data.catalogues.load_model_strategies`).
CASE_STRATEGY_PROBABILITY: dict[tuple[int, str], float] = {
    (2, "fa_merger"): CENTRAL_STRATEGY_PROBABILITY
}
#: Which networks of each model practise assertive community treatment (ACT): the k-th
#: network of a model (0-based, in layout order) follows entry k modulo the length.
#: Fixed rather than drawn, so that ACT varies within settings and its planted effect
#: can be told apart from the setting's. Model 1 has no hospital to run an ACT team;
#: model 2's general hospital can, but its mobile team usually does the community
#: follow-up, hence one network in three; models 3 and 4 call for case management or
#: ACT, and half their networks practise ACT, offset so that each of the study's
#: settings has a network with ACT and one without.
ACT_ROTATION: dict[int, tuple[bool, ...]] = {
    1: (False,),
    2: (True, False, False),
    3: (False, True),
    4: (True, False),
}

# -- organizations (domain.md §2) --------------------------------------------
ORGANIZATION_COUNT = {"rural": (6, 12), "urban_semi_urban": (20, 40), "metropolitan": (40, 80)}
_ORG = {t: i for i, t in enumerate(ORGANIZATION_TYPES)}
_HOSPITALS = ("general_hospital", "psychiatric_hospital")
_COMMUNITY_TYPES = tuple(t for t in ORGANIZATION_TYPES if t not in _HOSPITALS)
#: How the organizations beyond one of each community type split, by setting.
ORGANIZATION_MIX = {
    "rural": {
        "local_community_centre": 0.0,
        "community_organization": 0.45,
        "private_medical_clinic": 0.2,
        "intersectoral_resource": 0.25,
        "pharmacy": 0.1,
    },
    "urban_semi_urban": {
        "local_community_centre": 0.05,
        "community_organization": 0.45,
        "private_medical_clinic": 0.2,
        "intersectoral_resource": 0.2,
        "pharmacy": 0.1,
    },
    "metropolitan": {
        "local_community_centre": 0.06,
        "community_organization": 0.44,
        "private_medical_clinic": 0.2,
        "intersectoral_resource": 0.2,
        "pharmacy": 0.1,
    },
}
ORGANIZATION_ABBREVIATIONS = {
    "local_community_centre": "clsc",
    "community_organization": "co",
    "private_medical_clinic": "clinic",
    "intersectoral_resource": "isr",
    "general_hospital": "gh",
    "psychiatric_hospital": "ph",
    "pharmacy": "pharmacy",
}
ORGANIZATION_LABELS = {
    "local_community_centre": "CLSC",
    "community_organization": "Community organization",
    "private_medical_clinic": "Private medical clinic",
    "intersectoral_resource": "Intersectoral resource",
    "general_hospital": "General hospital",
    "psychiatric_hospital": "Psychiatric hospital",
    "pharmacy": "Pharmacy",
}

# -- ties (domain.md §5) -----------------------------------------------------
# A pair of organizations is tied with probability 1 - exp(-density x a_i x a_j) and
# carries volume x a_i x a_j transactions a year, where a is the organization's
# centrality weight: equal in rural networks (balanced power), concentrated on the
# hospitals in urban and metropolitan ones (network centrality).
TIE_DENSITY = {"rural": 1.0, "urban_semi_urban": 0.05, "metropolitan": 0.015}
TIE_VOLUME = {"rural": 12.0, "urban_semi_urban": 6.0, "metropolitan": 5.0}
CENTRALITY_WEIGHT = {
    "rural": {"local_community_centre": 1.2, "general_hospital": 1.2},
    "urban_semi_urban": {"local_community_centre": 3.0, "general_hospital": 7.0},
    "metropolitan": {
        "local_community_centre": 3.0,
        "general_hospital": 8.0,
        "psychiatric_hospital": 20.0,
    },
}
TIE_KIND_SHARES = {
    "rural": {"referral": 0.35, "agreement": 0.15, "shared_staff": 0.20, "joint_follow_up": 0.30},
    "urban_semi_urban": {
        "referral": 0.50,
        "agreement": 0.25,
        "shared_staff": 0.10,
        "joint_follow_up": 0.15,
    },
    "metropolitan": {
        "referral": 0.55,
        "agreement": 0.25,
        "shared_staff": 0.08,
        "joint_follow_up": 0.12,
    },
}
#: Chance that a tied pair also has each other kind of relationship.
EXTRA_TIE_KIND = 0.15
#: Transactions of a tie kind relative to a referral tie.
TIE_KIND_VOLUME = {"referral": 1.0, "agreement": 0.3, "shared_staff": 0.2, "joint_follow_up": 0.6}

# -- informants and coding (domain.md §5, §6) --------------------------------
#: Where staff informants work: hospitals and CLSCs employ more of them.
STAFF_WEIGHT = {
    "local_community_centre": 4.0,
    "community_organization": 1.5,
    "private_medical_clinic": 1.0,
    "intersectoral_resource": 0.7,
    "general_hospital": 4.0,
    "psychiatric_hospital": 6.0,
    "pharmacy": 0.3,
}
SEGMENTS_PER_INFORMANT = (8, 12)
#: Share of segments per code category: consensus and facilitators in rural
#: networks, obstacles and conflict in metropolitan ones (domain.md §5).
CATEGORY_PROPENSITY = {
    "rural": {
        "facilitator": 0.32,
        "obstacle": 0.12,
        "consensus": 0.12,
        "conflict": 0.03,
        "strategy": 0.41,
    },
    "urban_semi_urban": {
        "facilitator": 0.24,
        "obstacle": 0.22,
        "consensus": 0.07,
        "conflict": 0.07,
        "strategy": 0.40,
    },
    "metropolitan": {
        "facilitator": 0.17,
        "obstacle": 0.30,
        "consensus": 0.04,
        "conflict": 0.11,
        "strategy": 0.38,
    },
}
#: Codes said more (> 1) or less (< 1) often than their category's others, by setting.
CODE_EMPHASIS = {
    "rural": {
        "fac_scarcity_forces_cooperation": 4.0,
        "fac_interest_in_collaborating": 1.5,
        "obs_scarce_community_resources": 2.5,
    },
    "urban_semi_urban": {
        "fac_boundary_spanners": 1.5,
        "obs_unclear_committee_mandate": 1.5,
        "fac_scarcity_forces_cooperation": 0.5,
    },
    "metropolitan": {
        "obs_psychiatry_community_history": 3.0,
        "obs_global_budgeting": 2.0,
        "obs_resistance_to_change": 1.5,
        "fac_scarcity_forces_cooperation": 0.2,
    },
}
#: Weight of a strategy code when the strategy is not in place (informants mention lacks).
ABSENT_STRATEGY_WEIGHT = 0.08

# -- people and contacts -----------------------------------------------------
#: Share of the people not followed up in 7 days who have no ambulatory contact at all.
NO_CONTACT_SHARE = 0.12
LATE_FOLLOW_UP_MEAN_DAYS = 25.0
#: Contacts after the first one, per person (Poisson mean).
EXTRA_CONTACTS_MEAN = 8.0
#: Who provides ambulatory mental-health contacts (0: nobody of that type).
PROVIDER_WEIGHT = {
    "local_community_centre": 3.0,
    "community_organization": 1.0,
    "private_medical_clinic": 1.5,
    "intersectoral_resource": 0.0,
    "general_hospital": 3.0,
    "psychiatric_hospital": 4.0,
    "pharmacy": 0.0,
}
#: Outpatient weight of a general hospital without a psychiatry department.
GENERAL_HOSPITAL_WITHOUT_PSYCHIATRY_WEIGHT = 1.5

_STAGES = (
    "networks",
    "organizations",
    "ties",
    "strategies",
    "informants",
    "segments",
    "episodes",
    "contacts",
)


# -- small helpers -------------------------------------------------------------
def _cat(*parts) -> np.ndarray:
    """Element-wise concatenation of strings and string arrays (an object array)."""
    out = np.asarray(parts[0], dtype=object)
    for part in parts[1:]:
        out = out + np.asarray(part, dtype=object)
    return out


def _padded(numbers: np.ndarray, width: int) -> np.ndarray:
    """Zero-padded decimal strings, so identifiers sort in numeric order."""
    return np.char.zfill(np.asarray(numbers).astype(str), width).astype(object)


def _rank_within(groups: np.ndarray) -> np.ndarray:
    """0-based position of each element within its run of equal, contiguous groups."""
    n = len(groups)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    starts = np.r_[True, groups[1:] != groups[:-1]]
    start_pos = np.maximum.accumulate(np.where(starts, np.arange(n), 0))
    return np.arange(n) - start_pos


def _choose_in_groups(rng, member_group, member_weight, group) -> np.ndarray:
    """Draw one member per request, by weight, among the members of the requested group.

    Parameters
    ----------
    rng : numpy.random.Generator
    member_group : ndarray of int
        Group of each member; members of one group must be contiguous and sorted.
    member_weight : ndarray of float
        Non-negative weights; every requested group needs a positive total.
    group : ndarray of int
        The group of each draw.

    Returns
    -------
    ndarray of int
        Index of the chosen member for each draw.
    """
    member_group = np.asarray(member_group)
    weight = np.asarray(member_weight, dtype=float)
    total = np.bincount(member_group, weights=weight)
    within = pd.Series(weight).groupby(member_group).cumsum().to_numpy() / total[member_group]
    last = np.r_[member_group[1:] != member_group[:-1], True]
    key = member_group + np.where(last, 1.0, within)
    last_of_group = np.zeros(member_group.max() + 1, dtype=np.int64)
    last_of_group[member_group[last]] = np.flatnonzero(last)
    chosen = np.searchsorted(key, group + rng.random(len(group)), side="right")
    # guards against g + u rounding up to g + 1
    return np.minimum(chosen, last_of_group[group])


def _allocate(total: int, weights: np.ndarray, minimum: int) -> np.ndarray:
    """Split ``total`` into whole shares proportional to ``weights`` (largest remainder).

    Every share gets at least ``minimum``; the result sums to ``total``.
    """
    n = len(weights)
    total = max(total, minimum * n)
    quota = (total - minimum * n) * np.asarray(weights, dtype=float) / np.sum(weights)
    share = np.floor(quota).astype(np.int64)
    left = total - minimum * n - share.sum()
    order = np.argsort(-(quota - share), kind="stable")
    share[order[:left]] += 1
    return share + minimum


def _expit(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _typed_table(name: str, columns: dict) -> pd.DataFrame:
    """A table with the columns, order and dtypes :func:`datapackage.load` gives."""
    table = TABLES_BY_NAME[name]
    n = len(next(iter(columns.values())))
    data = {}
    for f in table.fields:
        values = columns.get(f.name, True) if f.name == "synthetic" else columns[f.name]
        if f.type == "string":
            data[f.name] = pd.Series(np.asarray(values, dtype=object), dtype="str")
        elif f.type == "integer":
            data[f.name] = pd.Series(values, dtype="Int64")
        elif f.type == "boolean":
            data[f.name] = pd.Series(np.broadcast_to(values, n), dtype="boolean")
        elif f.type == "date":
            data[f.name] = pd.Series(np.asarray(values, dtype="datetime64[ns]"))
        else:  # pragma: no cover - the schema declares no other type for these tables
            raise ValueError(f"no synthetic values for type {f.type!r}")
    return pd.DataFrame(data, index=pd.RangeIndex(n))


def _dates(days_since_start: np.ndarray, valid: np.ndarray | None = None) -> np.ndarray:
    """Dates counted in days from 1 January of the study year (NaT where not valid)."""
    start = np.datetime64(f"{STUDY_YEAR}-01-01")
    dates = start + np.asarray(days_since_start, dtype=np.int64).astype("timedelta64[D]")
    if valid is not None:
        dates = np.where(valid, dates, np.datetime64("NaT"))
    return dates


# -- networks ----------------------------------------------------------------
def network_layout(n_networks: int = STUDY_NETWORKS) -> pd.DataFrame:
    """Identifiers, names, models and regions of the networks (no randomness).

    Six networks follow the source study (:data:`DEFAULT_NETWORKS`); any other
    number cycles through models 1 to 4. Metropolitan networks share a region
    two by two, as the study's two metropolitan networks do.
    """
    if n_networks < 1:
        raise ValueError(f"n_networks must be at least 1, got {n_networks}")
    if n_networks == STUDY_NETWORKS:
        ids, names, models = (list(col) for col in zip(*DEFAULT_NETWORKS, strict=True))
    else:
        models = [i % 4 + 1 for i in range(n_networks)]
        width = max(3, len(str(n_networks)))
        slugs = [MODELS[m].slug for m in models]
        ids = [f"{s}_{i + 1:0{width}d}" for i, s in enumerate(slugs)]
        names = [f"{_SLUG_LABELS[s]} network {i + 1}" for i, s in enumerate(slugs)]
    model_arr = np.asarray(models)
    metro = model_arr == 4
    metro_rank = np.cumsum(metro) - 1
    keys = np.where(metro, [f"m{r // 2}" for r in metro_rank], [f"n{i}" for i in range(n_networks)])
    region_number = pd.factorize(keys)[0] + 1
    return pd.DataFrame(
        {
            "network_id": ids,
            "name": names,
            "model": model_arr,
            "setting": [MODELS[m].setting for m in models],
            "region": [f"Region {k:02d}" for k in region_number],
        }
    )


def _networks(layout: pd.DataFrame, rng) -> pd.DataFrame:
    """Add population and hospital resources to the layout."""
    models = [MODELS[m] for m in layout["model"]]
    low = np.array([m.population[0] for m in models])
    high = np.array([m.population[1] for m in models])
    population = rng.integers(low // 100, high // 100 + 1) * 100
    gh_probability = np.array([m.general_hospital for m in models])
    has_gh = rng.random(len(models)) < gh_probability
    nets = layout.copy()
    nets["population"] = population
    nets["has_general_hospital"] = has_gh
    nets["general_hospital_has_psychiatry"] = has_gh & np.array(
        [m.psychiatry_department for m in models]
    )
    nets["has_psychiatric_hospital"] = np.array([m.psychiatric_hospital for m in models])
    nets["prevalence"] = rng.uniform(*PREVALENCE_RANGE, size=len(models))
    return nets


# -- organizations -----------------------------------------------------------
def _organizations(nets: pd.DataFrame, rng) -> pd.DataFrame:
    """Organizations of every network, ordered by network, type and number."""
    n = len(nets)
    settings = nets["setting"].to_numpy()
    low = np.array([ORGANIZATION_COUNT[s][0] for s in settings])
    high = np.array([ORGANIZATION_COUNT[s][1] for s in settings])
    total = rng.integers(low, high + 1)
    counts = np.zeros((n, len(ORGANIZATION_TYPES)), dtype=np.int64)
    counts[:, _ORG["general_hospital"]] = nets["has_general_hospital"].to_numpy()
    counts[:, _ORG["psychiatric_hospital"]] = nets["has_psychiatric_hospital"].to_numpy()
    community_cols = [_ORG[t] for t in _COMMUNITY_TYPES]
    # one of each community type, the surplus split by the setting's mix
    surplus = total - counts.sum(axis=1) - len(community_cols)
    mix = np.array([[ORGANIZATION_MIX[s][t] for t in _COMMUNITY_TYPES] for s in settings])
    counts[:, community_cols] = 1 + rng.multinomial(surplus, mix)

    net_idx = np.repeat(np.repeat(np.arange(n), len(ORGANIZATION_TYPES)), counts.ravel())
    type_idx = np.repeat(np.tile(np.arange(len(ORGANIZATION_TYPES)), n), counts.ravel())
    number = _rank_within(net_idx * len(ORGANIZATION_TYPES) + type_idx) + 1
    types = np.asarray(ORGANIZATION_TYPES, dtype=object)[type_idx]
    abbrev = np.array([ORGANIZATION_ABBREVIATIONS[t] for t in ORGANIZATION_TYPES], dtype=object)
    label = np.array([ORGANIZATION_LABELS[t] for t in ORGANIZATION_TYPES], dtype=object)
    net_ids = nets["network_id"].to_numpy(dtype=object)[net_idx]
    width = max(2, len(str(number.max())))
    return pd.DataFrame(
        {
            "organization_id": _cat(net_ids, "-", abbrev[type_idx], "-", _padded(number, width)),
            "network_id": net_ids,
            "organization_type": types,
            "name": _cat(label[type_idx], " ", number.astype(str)),
            "net_idx": net_idx,
            "type_idx": type_idx,
        }
    )


def _type_weights(orgs: pd.DataFrame, weights: dict) -> np.ndarray:
    """Per-organization weight looked up by its type."""
    table = np.array([weights.get(t, 0.0) for t in ORGANIZATION_TYPES])
    return table[orgs["type_idx"].to_numpy()]


# -- ties ----------------------------------------------------------------------
def _candidate_pairs(net_idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every unordered pair (i < j) of organizations of the same network."""
    end = np.bincount(net_idx).cumsum()[net_idx]  # one past the network's last organization
    partners = end - np.arange(len(net_idx)) - 1
    first = np.repeat(np.arange(len(net_idx)), partners)
    second = first + 1 + _rank_within(first)
    return first, second


def _ties(nets: pd.DataFrame, orgs: pd.DataFrame, rng) -> pd.DataFrame:
    settings = nets["setting"].to_numpy()
    net_idx = orgs["net_idx"].to_numpy()
    org_setting = settings[net_idx]
    org_type = orgs["organization_type"].to_numpy()
    weight = np.ones(len(orgs))
    for setting, by_type in CENTRALITY_WEIGHT.items():
        for kind, w in by_type.items():
            weight[(org_setting == setting) & (org_type == kind)] = w
    density = np.array([TIE_DENSITY[s] for s in settings])[net_idx]
    volume = np.array([TIE_VOLUME[s] for s in settings])[net_idx]

    first, second = _candidate_pairs(net_idx)
    p_tie = 1.0 - np.exp(-density[first] * weight[first] * weight[second])
    tied = rng.random(len(first)) < p_tie
    first, second = first[tied], second[tied]
    first, second = _connect_components(net_idx, weight, first, second)
    # direction of the working relationship (who refers to whom)
    swap = rng.random(len(first)) < 0.5
    source = np.where(swap, second, first)
    target = np.where(swap, first, second)

    pair_net = net_idx[source]
    shares = np.array([[TIE_KIND_SHARES[s][k] for k in TIE_KINDS] for s in settings])
    primary = _choose_in_groups(
        rng,
        np.repeat(np.arange(len(nets)), len(TIE_KINDS)),
        shares.ravel(),
        pair_net,
    ) % len(TIE_KINDS)
    kinds = rng.random((len(source), len(TIE_KINDS))) < EXTRA_TIE_KIND
    kinds[np.arange(len(source)), primary] = True
    pair_pos, kind_idx = np.nonzero(kinds)
    source, target = source[pair_pos], target[pair_pos]

    kind_volume = np.array([TIE_KIND_VOLUME[k] for k in TIE_KINDS])[kind_idx]
    mean = volume[source] * weight[source] * weight[target] * kind_volume
    # gamma-Poisson: over-dispersed volumes, as transaction counts are
    transactions = rng.poisson(mean * rng.gamma(2.0, 0.5, size=len(mean)))

    order = np.lexsort((kind_idx, target, source, net_idx[source]))
    org_ids = orgs["organization_id"].to_numpy(dtype=object)
    return _typed_table(
        "ties",
        {
            "network_id": orgs["network_id"].to_numpy(dtype=object)[source[order]],
            "source": org_ids[source[order]],
            "target": org_ids[target[order]],
            "tie_kind": np.asarray(TIE_KINDS, dtype=object)[kind_idx[order]],
            "transactions_per_year": transactions[order],
        },
    )


def _components(n_nodes: int, first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """Connected component of each node, labelled by its smallest member.

    Labels spread along the edges until nothing changes; that takes as many
    rounds as the graphs' diameter, which hubs keep small.
    """
    label = np.arange(n_nodes)
    while True:
        lower = label.copy()
        np.minimum.at(lower, first, label[second])
        np.minimum.at(lower, second, label[first])
        lower = lower[lower]  # jump along chains of labels
        if np.array_equal(lower, label):
            return label
        label = lower


def _connect_components(net_idx, weight, first, second):
    """Tie every part of a network cut off from its most central organization to it.

    Each network then forms one connected graph, as a service network does.
    """
    component = _components(len(net_idx), first, second)
    hub = pd.Series(weight).groupby(net_idx).idxmax().to_numpy()[net_idx]  # first of the max
    # the first organization of each component stands for it
    leader = np.r_[True, np.diff(component[np.argsort(component, kind="stable")]) != 0]
    members = np.argsort(component, kind="stable")[leader]
    cut_off = members[component[members] != component[hub[members]]]
    first = np.r_[first, np.minimum(cut_off, hub[cut_off])]
    second = np.r_[second, np.maximum(cut_off, hub[cut_off])]
    return first, second


# -- strategies ----------------------------------------------------------------
def called_strategies() -> dict[int, frozenset[str]]:
    """The strategies each model calls for, from :func:`strategies.load_model_strategies`.

    Returns
    -------
    dict of int to frozenset of str
        Model number (1-4) -> strategy codes.
    """
    called = load_model_strategies()
    return {
        int(model): frozenset(group["strategy_code"])
        for model, group in called.groupby("model", sort=True)
    }


def act_in_place(models: np.ndarray) -> np.ndarray:
    """Whether each network practises assertive community treatment (no randomness).

    Parameters
    ----------
    models : array of int
        Model of each network, in layout order.

    Returns
    -------
    ndarray of bool
        :data:`ACT_ROTATION` applied to each network's rank within its model.
    """
    models = np.asarray(models, dtype=np.int64)
    rank = pd.Series(models).groupby(models).cumcount().to_numpy()
    return np.array(
        [ACT_ROTATION[m][k % len(ACT_ROTATION[m])] for m, k in zip(models, rank, strict=True)],
        dtype=bool,
    )


def _strategy_probabilities(
    nets: pd.DataFrame, codes: list[str], called: dict[int, frozenset[str]]
) -> np.ndarray:
    """P(in place) for every network x strategy, from the network's model.

    Assertive community treatment gets probability 1 or 0 from :func:`act_in_place`.
    """
    prob = np.empty((len(nets), len(codes)))
    for i, (model, setting) in enumerate(zip(nets["model"], nets["setting"], strict=True)):
        central = called.get(int(model), frozenset())
        prob[i] = [
            CENTRAL_STRATEGY_PROBABILITY if c in central else OTHER_STRATEGY_PROBABILITY[setting]
            for c in codes
        ]
        for (case_model, c), p in CASE_STRATEGY_PROBABILITY.items():
            if case_model == model and c in codes:
                prob[i, codes.index(c)] = p
        for c in MODEL_4_ONLY:
            if c in codes:
                prob[i, codes.index(c)] = 1.0 if model == 4 else 0.0
    if READMISSION_STRATEGY in codes:
        prob[:, codes.index(READMISSION_STRATEGY)] = act_in_place(nets["model"].to_numpy())
    return prob


def _ensure_contrast(
    in_place: np.ndarray, prob: np.ndarray, cols: list[int], settings: np.ndarray
) -> None:
    """Make sure that, within some setting, networks differ in having all of ``cols``.

    The outcome models adjust for the setting, so a planted effect of those
    strategies can be estimated only where it varies within a setting. When the
    draw made it a function of the setting, the network (in a setting with two or
    more networks) whose flip was likeliest flips: it gets them all, or loses its
    least likely one.
    """
    settings = np.asarray(settings, dtype=object)
    has_all = in_place[:, cols].all(axis=1)
    shared = pd.Series(settings).duplicated(keep=False).to_numpy()
    if not shared.any():
        return
    if pd.Series(has_all[shared]).groupby(settings[shared]).nunique().max() > 1:
        return
    likelihood = prob[:, cols].prod(axis=1)
    flip = np.where(has_all, 1.0 - likelihood, likelihood)
    k = int(np.flatnonzero(shared)[np.argmax(flip[shared])])
    if has_all[k]:
        in_place[k, cols[int(np.argmin(prob[k, cols]))]] = False
    else:
        in_place[k, cols] = True


def _network_strategies(
    nets: pd.DataFrame, catalogue: pd.DataFrame, called: dict[int, frozenset[str]], rng
):
    """The network_strategies table and the network x strategy in-place matrix."""
    codes = catalogue["strategy_code"].tolist()
    prob = _strategy_probabilities(nets, codes, called)
    # ACT's fixed 0/1 probabilities still use up their draws, so no other draw moves
    in_place = rng.random(prob.shape) < prob
    since = rng.integers(STRATEGY_YEARS[0], STRATEGY_YEARS[1] + 1, size=prob.shape)
    col = {c: i for i, c in enumerate(codes)}
    _ensure_contrast(in_place, prob, [col[c] for c in FUH7_STRATEGIES], nets["setting"].to_numpy())
    flat_in_place = in_place.ravel()
    table = _typed_table(
        "network_strategies",
        {
            "network_id": np.repeat(nets["network_id"].to_numpy(dtype=object), len(codes)),
            "strategy_code": np.tile(np.asarray(codes, dtype=object), len(nets)),
            "in_place": flat_in_place,
            "since_year": since.ravel(),
        },
    )
    table["since_year"] = table["since_year"].mask(~flat_in_place)
    return table, pd.DataFrame(in_place, columns=codes)


# -- informants ------------------------------------------------------------------
def _informant_counts(nets: pd.DataFrame) -> np.ndarray:
    """Informants per network and role (columns in INFORMANT_ROLES order).

    The study's totals are shared out in proportion to the square root of the
    population (larger networks have more organizations to interview); other
    numbers of networks scale the totals.
    """
    n = len(nets)
    weights = np.sqrt(nets["population"].to_numpy(dtype=float))
    scale = n / STUDY_NETWORKS
    staff = _allocate(round(STUDY_STAFF * scale), weights, minimum=2)
    users = _allocate(round(STUDY_SERVICE_USERS * scale), weights, minimum=1)
    relatives = _allocate(round(STUDY_RELATIVES * scale), weights, minimum=1)
    managers = np.clip(np.rint(staff * MANAGER_SHARE).astype(np.int64), 1, staff - 1)
    return np.column_stack([managers, staff - managers, users, relatives])


def _informants(nets: pd.DataFrame, orgs: pd.DataFrame, rng) -> pd.DataFrame:
    counts = _informant_counts(nets)
    n_roles = len(INFORMANT_ROLES)
    net_idx = np.repeat(np.repeat(np.arange(len(nets)), n_roles), counts.ravel())
    role_idx = np.repeat(np.tile(np.arange(n_roles), len(nets)), counts.ravel())
    number = _rank_within(net_idx) + 1
    width = max(3, len(str(number.max())))
    roles = np.asarray(INFORMANT_ROLES, dtype=object)[role_idx]
    staff = np.isin(roles, ("manager", "clinical_staff"))
    chosen = _choose_in_groups(
        rng,
        orgs["net_idx"].to_numpy(),
        _type_weights(orgs, STAFF_WEIGHT),
        net_idx,
    )
    org_type = np.where(staff, orgs["organization_type"].to_numpy(dtype=object)[chosen], None)
    net_ids = nets["network_id"].to_numpy(dtype=object)[net_idx]
    return pd.DataFrame(
        {
            "informant_id": _cat(net_ids, "-inf-", _padded(number, width)),
            "network_id": net_ids,
            "role": roles,
            "organization_type": org_type,
            "net_idx": net_idx,
        }
    )


# -- codebook and coded segments ------------------------------------------------
def codebook(catalogue: pd.DataFrame | None = None) -> pd.DataFrame:
    """The default codebook plus one ``strategy`` code per strategy of the catalogue."""
    catalogue = load_catalogue() if catalogue is None else catalogue
    base = pd.read_csv(DEFAULT_CODEBOOK, dtype=str, keep_default_na=False)
    description = (
        "The segment describes this strategy ("
        + catalogue["integration_type"].str.replace("_", "/")
        + " integration, "
        + catalogue["governance_level"]
        + " level) in the informant's network."
    )
    strategies = pd.DataFrame(
        {
            "code": catalogue["strategy_code"],
            "label": catalogue["label"],
            "category": "strategy",
            "parent_code": "strategies",
            "description": description,
        }
    )
    both = pd.concat([base, strategies], ignore_index=True)
    both = both.where(both != "", None)
    return _typed_table("codebook", {c: both[c].to_numpy(dtype=object) for c in both.columns})


def _code_propensities(nets, book: pd.DataFrame, in_place: pd.DataFrame):
    """Leaf codes and, per network, the probability that a segment gets each of them."""
    parents = set(book["parent_code"].dropna())
    leaves = book[~book["code"].isin(parents)].reset_index(drop=True)
    codes = leaves["code"].to_numpy(dtype=object)
    category = leaves["category"].to_numpy(dtype=object)
    settings = nets["setting"].to_numpy()
    within = np.ones((len(nets), len(codes)))
    for setting, emphasis in CODE_EMPHASIS.items():
        rows = settings == setting
        for code, factor in emphasis.items():
            within[rows, codes == code] *= factor
    strategy_cols = np.flatnonzero(category == "strategy")
    present = in_place.reindex(columns=codes[strategy_cols], fill_value=False).to_numpy()
    within[:, strategy_cols] = np.where(present, 1.0, ABSENT_STRATEGY_WEIGHT)
    prob = np.zeros_like(within)
    for cat in np.unique(category):
        cols = category == cat
        share = np.array([CATEGORY_PROPENSITY[s][cat] for s in settings])
        normalized = within[:, cols] / within[:, cols].sum(axis=1, keepdims=True)
        prob[:, cols] = share[:, None] * normalized
    return codes, prob / prob.sum(axis=1, keepdims=True)


def _draw_codes(rng, prob: np.ndarray, net_idx: np.ndarray) -> np.ndarray:
    """A code index for each segment, from its network's code probabilities."""
    n_net, n_codes = prob.shape
    chosen = _choose_in_groups(rng, np.repeat(np.arange(n_net), n_codes), prob.ravel(), net_idx)
    return chosen % n_codes


def _recode(rng, prob, net_idx, primary_code) -> np.ndarray:
    """A second coder's code: the primary code mostly, a plausible other code otherwise."""
    agree = rng.random(len(net_idx)) < CODER_AGREEMENT
    code = primary_code.copy()
    todo = np.flatnonzero(~agree)
    # rejection keeps the other code's distribution that of the network, minus the primary
    while len(todo):
        code[todo] = _draw_codes(rng, prob, net_idx[todo])
        todo = todo[code[todo] == primary_code[todo]]
    return code


def _coded_segments(nets, informants, book, in_place, rng) -> pd.DataFrame:
    codes, prob = _code_propensities(nets, book, in_place)
    n_inf = len(informants)
    low, high = SEGMENTS_PER_INFORMANT
    n_segments = rng.integers(low, high + 1, size=n_inf)
    inf_idx = np.repeat(np.arange(n_inf), n_segments)
    seg_number = _rank_within(inf_idx) + 1
    net_idx = informants["net_idx"].to_numpy()[inf_idx]
    primary_coder = rng.integers(0, len(CODERS), size=n_inf)[inf_idx]
    primary_code = _draw_codes(rng, prob, net_idx)

    second = rng.random(len(inf_idx)) < SECOND_CODER_SHARE
    third = second & (rng.random(len(inf_idx)) < THIRD_CODER_SHARE)
    second_coder = (primary_coder + rng.integers(1, len(CODERS), size=len(inf_idx))) % len(CODERS)
    third_coder = 3 - primary_coder - second_coder  # the coder left over
    second_code = _recode(rng, prob, net_idx, primary_code)
    third_code = _recode(rng, prob, net_idx, primary_code)

    seg = np.r_[np.arange(len(inf_idx)), np.flatnonzero(second), np.flatnonzero(third)]
    coder = np.r_[primary_coder, second_coder[second], third_coder[third]]
    code = np.r_[primary_code, second_code[second], third_code[third]]
    order = np.lexsort((coder, seg))
    seg, coder, code = seg[order], coder[order], code[order]
    informant_ids = informants["informant_id"].to_numpy(dtype=object)[inf_idx[seg]]
    return _typed_table(
        "coded_segments",
        {
            "segment_id": _cat(informant_ids, "-s", _padded(seg_number[seg], 2)),
            "informant_id": informant_ids,
            "coder_id": np.asarray(CODERS, dtype=object)[coder],
            "code": codes[code],
        },
    )


# -- care episodes and service contacts --------------------------------------
def fuh7_log_odds(episodes: pd.DataFrame, both_strategies: np.ndarray) -> np.ndarray:
    """Planted log-odds of follow-up within 7 days for each episode.

    Parameters
    ----------
    episodes : DataFrame
        Holds ``age_group``, ``sex`` and ``diagnosis_group``.
    both_strategies : array of bool
        The episode's network has both :data:`FUH7_STRATEGIES` in place.
    """
    eta = np.full(len(episodes), PLANTED_EFFECTS["fuh7_intercept"])
    eta += PLANTED_EFFECTS["fuh7_case_management_and_liaison_officers"] * np.asarray(
        both_strategies, dtype=float
    )
    for (column, value), key in FUH7_COVARIATE_TERMS.items():
        eta += PLANTED_EFFECTS[key] * (episodes[column].to_numpy() == value)
    return eta


def _draw_category(rng, shares: dict[str, float], size: int) -> np.ndarray:
    labels = np.array(list(shares), dtype=object)
    return labels[rng.choice(len(labels), size=size, p=np.array(list(shares.values())))]


def _time_to_readmission(rng, act: np.ndarray, psychotic: np.ndarray) -> np.ndarray:
    """Days from discharge to the first readmission under the planted piecewise rates.

    A unit-exponential cumulative hazard is inverted through the two pieces.
    """
    effects = PLANTED_EFFECTS
    ratio = np.where(
        act, effects["readmission_rate_ratio_assertive_community_treatment"], 1.0
    ) * np.where(psychotic, effects["readmission_rate_ratio_psychotic"], 1.0)
    early = effects["readmission_rate_first_30_days"] / 365.25 * ratio
    late = effects["readmission_rate_after_30_days"] / 365.25 * ratio
    hazard = rng.exponential(1.0, size=len(ratio))
    early_hazard = early * EARLY_READMISSION_DAYS
    return np.where(
        hazard < early_hazard,
        hazard / early,
        EARLY_READMISSION_DAYS + (hazard - early_hazard) / late,
    )


def _people(nets: pd.DataFrame, in_place: pd.DataFrame, rng) -> pd.DataFrame:
    """Persons with an index psychiatric hospitalization, their outcomes and first contact."""
    population = nets["population"].to_numpy()
    n_people = np.rint(population * nets["prevalence"].to_numpy() * HOSPITALIZED_FRACTION)
    net_idx = np.repeat(np.arange(len(nets)), n_people.astype(np.int64))
    number = _rank_within(net_idx) + 1
    n = len(net_idx)
    people = pd.DataFrame(
        {
            "net_idx": net_idx,
            "number": number,
            "age_group": _draw_category(rng, AGE_GROUP_SHARES, n),
            "sex": _draw_category(rng, SEX_SHARES, n),
            "diagnosis_group": _draw_category(rng, DIAGNOSIS_SHARES, n),
        }
    )
    year_days = np.datetime64(f"{STUDY_YEAR + 1}-01-01") - np.datetime64(f"{STUDY_YEAR}-01-01")
    admission = rng.integers(0, year_days.astype(int), size=n)
    stay = np.clip(np.rint(rng.lognormal(np.log(14.0), 0.55, size=n)), *LENGTH_OF_STAY_DAYS)
    discharge = admission + stay.astype(np.int64)
    window_end = int((STUDY_WINDOW_END - np.datetime64(f"{STUDY_YEAR}-01-01")).astype(int))
    exposure = window_end - discharge  # days from discharge to the end of the study window
    horizon = np.minimum(FOLLOW_UP_DAYS, exposure)

    both = in_place[list(FUH7_STRATEGIES)].all(axis=1).to_numpy()[net_idx]
    fuh7 = rng.random(n) < _expit(fuh7_log_odds(people, both))
    early_day = rng.integers(1, 8, size=n)
    late_day = 8 + np.floor(rng.exponential(LATE_FOLLOW_UP_MEAN_DAYS, size=n)).astype(np.int64)
    no_contact = rng.random(n) < NO_CONTACT_SHARE
    first_day = np.where(fuh7, early_day, late_day)
    followed = fuh7 | (~no_contact & (late_day <= horizon))

    act = in_place[READMISSION_STRATEGY].to_numpy()[net_idx]
    psychotic = people["diagnosis_group"].to_numpy() == "psychotic"
    time_to_readmission = _time_to_readmission(rng, act, psychotic)
    readmitted = time_to_readmission < exposure
    readmission_day = np.floor(time_to_readmission).astype(np.int64) + 1  # strictly after

    people["admission"] = admission
    people["discharge"] = discharge
    people["horizon"] = horizon
    people["followed"] = followed
    people["first_day"] = np.where(followed, discharge + first_day, -1)
    people["readmitted"] = readmitted
    people["readmission"] = np.where(readmitted, discharge + readmission_day, -1)
    return people


def _contacts(nets, orgs, people, in_place, rng) -> pd.DataFrame:
    """Ambulatory contacts; each person's first one is the follow-up contact."""
    org_net = orgs["net_idx"].to_numpy()
    provider_weight = _type_weights(orgs, PROVIDER_WEIGHT)
    gh_without_psychiatry = (orgs["organization_type"].to_numpy() == "general_hospital") & ~nets[
        "general_hospital_has_psychiatry"
    ].to_numpy()[org_net]
    provider_weight[gh_without_psychiatry] = GENERAL_HOSPITAL_WITHOUT_PSYCHIATRY_WEIGHT

    followed = people["followed"].to_numpy()
    person = np.flatnonzero(followed)
    first_day = people["first_day"].to_numpy()[person]
    last_day = (people["discharge"] + people["horizon"]).to_numpy()[person]
    extra = rng.poisson(EXTRA_CONTACTS_MEAN, size=len(person))
    extra = np.where(first_day < last_day, extra, 0)  # later contacts need a later day
    n_contacts = 1 + extra

    row_person = np.repeat(person, n_contacts)
    is_first = np.r_[True, row_person[1:] != row_person[:-1]] if len(row_person) else row_person
    first_of_row = np.repeat(first_day, n_contacts)
    span = np.repeat(last_day - first_day, n_contacts)
    later = first_of_row + 1 + np.floor(rng.random(len(row_person)) * span).astype(np.int64)
    day = np.where(is_first, first_of_row, later)

    net_idx = people["net_idx"].to_numpy()
    usual = _choose_in_groups(rng, org_net, provider_weight, net_idx[person])
    case_management = in_place[CASE_MANAGEMENT].to_numpy()[net_idx[row_person]]
    share = np.where(
        case_management,
        PLANTED_EFFECTS["usual_provider_share_case_management"],
        PLANTED_EFFECTS["usual_provider_share_otherwise"],
    )
    other = _choose_in_groups(rng, org_net, provider_weight, net_idx[row_person])
    provider = np.where(rng.random(len(row_person)) < share, np.repeat(usual, n_contacts), other)

    order = np.lexsort((~is_first, day, row_person))
    return pd.DataFrame(
        {"person": row_person[order], "day": day[order], "provider": provider[order]}
    )


def _episode_and_contact_tables(nets, orgs, people, contacts):
    net_ids = nets["network_id"].to_numpy(dtype=object)[people["net_idx"].to_numpy()]
    width = max(5, len(str(people["number"].max() if len(people) else 0)))
    numbers = _padded(people["number"].to_numpy(), width)
    person_ids = _cat(net_ids, "-p", numbers)
    org_ids = orgs["organization_id"].to_numpy(dtype=object)

    person = contacts["person"].to_numpy()
    sequence = _rank_within(person) + 1
    first = sequence == 1
    follow_up_org = np.full(len(people), None, dtype=object)
    follow_up_org[person[first]] = org_ids[contacts["provider"].to_numpy()[first]]
    followed = people["followed"].to_numpy()
    readmitted = people["readmitted"].to_numpy()
    episodes = _typed_table(
        "care_episodes",
        {
            "episode_id": _cat(net_ids, "-e", numbers),
            "person_id": person_ids,
            "network_id": net_ids,
            "age_group": people["age_group"].to_numpy(dtype=object),
            "sex": people["sex"].to_numpy(dtype=object),
            "diagnosis_group": people["diagnosis_group"].to_numpy(dtype=object),
            "admission_date": _dates(people["admission"].to_numpy()),
            "discharge_date": _dates(people["discharge"].to_numpy()),
            "follow_up_date": _dates(np.maximum(people["first_day"].to_numpy(), 0), followed),
            "follow_up_organization_id": follow_up_org,
            "readmission_date": _dates(np.maximum(people["readmission"].to_numpy(), 0), readmitted),
        },
    )
    seq_width = max(2, len(str(sequence.max() if len(sequence) else 0)))
    service_contacts = _typed_table(
        "service_contacts",
        {
            "contact_id": _cat(person_ids[person], "-c", _padded(sequence, seq_width)),
            "person_id": person_ids[person],
            "network_id": net_ids[person],
            "contact_date": _dates(contacts["day"].to_numpy()),
            "organization_id": org_ids[contacts["provider"].to_numpy()],
        },
    )
    return episodes, service_contacts


# -- public API ------------------------------------------------------------------
def generate(seed: int = DEFAULT_SEED, n_networks: int = STUDY_NETWORKS) -> dict[str, pd.DataFrame]:
    """Generate a synthetic data package as typed tables.

    Parameters
    ----------
    seed : int
        Seed of ``numpy.random.default_rng``; the same seed gives the same tables.
    n_networks : int
        Number of networks. Six reproduces the source study's design; other
        numbers cycle through the four models and scale the informants.

    Returns
    -------
    dict of str to DataFrame
        One table per entry of :data:`compendium.data.schema.TABLES`, with the
        columns and dtypes :func:`compendium.data.read.load` returns.
    """
    if isinstance(n_networks, bool) or not isinstance(n_networks, int | np.integer):
        raise TypeError(f"n_networks must be an integer, got {n_networks!r}")
    rngs = dict(zip(_STAGES, np.random.default_rng(seed).spawn(len(_STAGES)), strict=True))
    catalogue = load_catalogue()

    nets = _networks(network_layout(int(n_networks)), rngs["networks"])
    orgs = _organizations(nets, rngs["organizations"])
    ties = _ties(nets, orgs, rngs["ties"])
    strategies, in_place = _network_strategies(
        nets, catalogue, called_strategies(), rngs["strategies"]
    )
    informants = _informants(nets, orgs, rngs["informants"])
    book = codebook(catalogue)
    segments = _coded_segments(nets, informants, book, in_place, rngs["segments"])
    people = _people(nets, in_place, rngs["episodes"])
    contacts = _contacts(nets, orgs, people, in_place, rngs["contacts"])
    episodes, service_contacts = _episode_and_contact_tables(nets, orgs, people, contacts)

    tables = {
        "networks": _typed_table("networks", {c: nets[c].to_numpy() for c in nets.columns}),
        "organizations": _typed_table(
            "organizations", {c: orgs[c].to_numpy() for c in orgs.columns}
        ),
        "ties": ties,
        "network_strategies": strategies,
        "informants": _typed_table(
            "informants", {c: informants[c].to_numpy() for c in informants.columns}
        ),
        "codebook": book,
        "coded_segments": segments,
        "care_episodes": episodes,
        "service_contacts": service_contacts,
    }
    return {t.name: tables[t.name] for t in TABLES}


def recover_planted_effects(
    tables: dict[str, pd.DataFrame], level: float = 0.95, inference: str | None = None
) -> pd.DataFrame:
    """Estimate the two planted network effects and set them beside their true values.

    Fits :func:`compendium.analysis.models.fuh7_model` (logistic, exposure: both
    :data:`FUH7_STRATEGIES` in place) and :func:`compendium.analysis.models.readmission_model`
    (30-day Poisson with days at risk, exposure: :data:`READMISSION_STRATEGY` in
    place), each with the default person and setting covariates and standard
    errors clustered by network.

    Parameters
    ----------
    tables : dict of DataFrame
        A data package from :func:`generate`.
    level : float
        Confidence level of the intervals.
    inference : str, optional
        Standard errors and degrees of freedom, one of
        :data:`compendium.analysis.models.INFERENCE_METHODS`; default that of the models.

    Returns
    -------
    DataFrame
        One row per effect: ``effect`` (key of :data:`PLANTED_EFFECTS`),
        ``term``, ``true_value``, ``estimate``, ``std_error``, ``ci_low``,
        ``ci_high`` (all on the link scale: log-odds, log rate ratio) and
        ``covered`` (the interval holds the true value).

    Raises
    ------
    ValueError
        From the models, when an exposure does not vary or is confounded with
        the setting.
    """
    # imported here so that writing a package does not load statsmodels
    from ..analysis import models

    fuh7_flag, act_flag = models.EXPOSURE, "act"
    inference = models.INFERENCE if inference is None else inference
    fuh7 = models.fuh7_model(
        models.person_level_frame(tables, flags={fuh7_flag: FUH7_STRATEGIES}),
        predictors=(fuh7_flag,),
        inference=inference,
    )
    readmission = models.readmission_model(
        models.person_readmission_frame(tables, flags={act_flag: (READMISSION_STRATEGY,)}),
        predictors=(act_flag,),
        inference=inference,
    )
    rows = []
    for effect, fit, term, true_value in (
        (
            "fuh7_case_management_and_liaison_officers",
            fuh7,
            fuh7_flag,
            PLANTED_EFFECTS["fuh7_case_management_and_liaison_officers"],
        ),
        (
            "readmission_rate_ratio_assertive_community_treatment",
            readmission,
            act_flag,
            # planted as a rate ratio; the model estimates its logarithm
            float(np.log(PLANTED_EFFECTS["readmission_rate_ratio_assertive_community_treatment"])),
        ),
    ):
        row = models.tidy(fit, level=level).set_index("term").loc[term]
        rows.append(
            {
                "effect": effect,
                "term": term,
                "true_value": true_value,
                "estimate": float(row["estimate"]),
                "std_error": float(row["std_error"]),
                "ci_low": float(row["ci_low"]),
                "ci_high": float(row["ci_high"]),
                "covered": bool(row["ci_low"] <= true_value <= row["ci_high"]),
            }
        )
    return pd.DataFrame(rows)


def describe(seed: int = DEFAULT_SEED, n_networks: int = STUDY_NETWORKS) -> tuple[str, str]:
    """Title and description of a synthetic package; both say it is synthetic."""
    title = (
        f"SYNTHETIC integrated mental-health service networks (seed {seed}, "
        f"generator version {GENERATOR_VERSION})"
    )
    effects = ", ".join(f"{k} = {v:g}" for k, v in PLANTED_EFFECTS.items())
    description = (
        "SYNTHETIC DATA: every row was generated by compendium.ingest.synth "
        f"(generator version {GENERATOR_VERSION}, seed {seed}, {n_networks} networks) and "
        "nothing was observed. The design mirrors Fleury's study of six Québec integrated "
        "mental-health service networks (2002-2004): four models of integration across "
        "rural, urban/semi-urban and metropolitan settings, 275 managers and clinical staff, "
        "50 service users and 25 relatives interviewed. Names of networks, regions and "
        "organizations are pseudonyms. Planted effects: " + effects + "."
    )
    return title, description


def write(out_dir, seed: int = DEFAULT_SEED, n_networks: int = STUDY_NETWORKS) -> Path:
    """Generate a synthetic data package and write it to ``out_dir``.

    Parameters
    ----------
    out_dir : path-like
        Folder of the data package (created if needed); unchanged files are left alone.
    seed, n_networks
        As for :func:`generate`.

    Returns
    -------
    Path
        ``out_dir``.
    """
    out_dir = Path(out_dir)
    tables = generate(seed=seed, n_networks=n_networks)
    title, description = describe(seed, n_networks)
    write_package(tables, out_dir, PACKAGE_NAME, title, description)
    return out_dir


def write_checked(out_dir, seed: int = DEFAULT_SEED, n_networks: int = STUDY_NETWORKS):
    """Write the package (:func:`write`), then validate what was written.

    The generator must never write an invalid package: a problem here is a bug in it.

    Returns
    -------
    list of Problem
        The written package's problems; empty when it is valid.
    """
    from ..data.validate import validate

    return validate(write(out_dir, seed=seed, n_networks=n_networks))
