"""Coding statistics against published reference values and planted cases."""

import krippendorff
import numpy as np
import pandas as pd
import pytest

from compendium.analysis import coding

NAN = np.nan

# Fleiss (1971) psychiatric diagnoses: 30 subjects, each diagnosed by 6 raters
# into 5 categories. Copied from statsmodels' own tests
# (statsmodels/stats/tests/test_inter_rater.py, `diagnoses`), where
# R irr::kappam.fleiss gives 0.4302445.
FLEISS_DIAGNOSES = [
    [4, 4, 4, 4, 4, 4],
    [2, 2, 2, 5, 5, 5],
    [2, 3, 3, 3, 3, 5],
    [5, 5, 5, 5, 5, 5],
    [2, 2, 2, 4, 4, 4],
    [1, 1, 3, 3, 3, 3],
    [3, 3, 3, 3, 5, 5],
    [1, 1, 3, 3, 3, 4],
    [1, 1, 4, 4, 4, 4],
    [5, 5, 5, 5, 5, 5],
    [1, 4, 4, 4, 4, 4],
    [1, 2, 4, 4, 4, 4],
    [2, 2, 2, 3, 3, 3],
    [1, 4, 4, 4, 4, 4],
    [2, 2, 4, 4, 4, 5],
    [3, 3, 3, 3, 3, 5],
    [1, 1, 1, 4, 5, 5],
    [1, 1, 1, 1, 1, 2],
    [2, 2, 4, 4, 4, 4],
    [1, 3, 3, 5, 5, 5],
    [5, 5, 5, 5, 5, 5],
    [2, 4, 4, 4, 4, 4],
    [2, 2, 4, 5, 5, 5],
    [1, 1, 4, 4, 4, 4],
    [1, 4, 4, 4, 4, 5],
    [2, 2, 2, 2, 2, 4],
    [1, 1, 1, 1, 5, 5],
    [2, 2, 4, 4, 4, 4],
    [1, 3, 3, 3, 3, 3],
    [5, 5, 5, 5, 5, 5],
]

# Reliability data (coders x units, NaN = not coded) from the docstring examples
# of the `krippendorff` package (krippendorff.alpha). The first is
# Krippendorff's 3-coder x 15-unit example (nominal 0.691, interval 0.811);
# the second the 4-coder x 12-unit example of Krippendorff (2011), "Computing
# Krippendorff's alpha-reliability", p. 8 (nominal 0.743, ordinal 0.815,
# interval 0.849, ratio 0.797).
THREE_BY_FIFTEEN = [
    [NAN, NAN, NAN, NAN, NAN, 3, 4, 1, 2, 1, 1, 3, 3, NAN, 3],
    [1, NAN, 2, 1, 3, 3, 4, 3, NAN, NAN, NAN, NAN, NAN, NAN, NAN],
    [NAN, NAN, 2, 1, 3, 4, 4, NAN, 2, 1, 1, 3, 3, NAN, 4],
]
FOUR_BY_TWELVE = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, NAN, NAN, NAN],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, NAN, 3],
    [NAN, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, NAN],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, NAN],
]
# codes are words; their numeric value is only known through this mapping
VALUES = {f"level_{k}": float(k) for k in range(1, 6)}


def segments_from_matrix(matrix) -> pd.DataFrame:
    """coded_segments rows from a coders x units matrix of values (NaN: not coded)."""
    m = np.asarray(matrix, dtype=float)
    coder, unit = np.nonzero(~np.isnan(m))
    return pd.DataFrame(
        {
            "segment_id": [f"seg{u:03d}" for u in unit],
            "informant_id": "inf1",
            "coder_id": [f"coder{c}" for c in coder],
            "code": [f"level_{int(v)}" for v in m[coder, unit]],
        }
    ).astype("str")


def segments_from_subjects(ratings) -> pd.DataFrame:
    """coded_segments rows from a subjects x raters matrix."""
    return segments_from_matrix(np.asarray(ratings, dtype=float).T)


def test_fleiss_kappa_matches_fleiss_1971():
    segments = segments_from_subjects(FLEISS_DIAGNOSES)
    assert len(segments) == 30 * 6
    assert coding.fleiss_kappa(segments) == pytest.approx(0.4302445, abs=1e-7)


def test_fleiss_kappa_keeps_segments_with_the_common_number_of_coders():
    extra = pd.DataFrame(  # one segment seen by 2 coders only: left out
        {
            "segment_id": ["odd", "odd"],
            "informant_id": "inf1",
            "coder_id": ["coder0", "coder1"],
            "code": ["level_1", "level_5"],
        }
    ).astype("str")
    segments = pd.concat([segments_from_subjects(FLEISS_DIAGNOSES), extra], ignore_index=True)
    assert coding.fleiss_kappa(segments) == pytest.approx(0.4302445, abs=1e-7)
    assert coding.fleiss_kappa(segments, n_coders=2) == pytest.approx(-1.0)


@pytest.mark.parametrize(
    ("matrix", "level", "expected"),
    [
        (THREE_BY_FIFTEEN, "nominal", 0.691358),
        (THREE_BY_FIFTEEN, "interval", 0.810845),
        (FOUR_BY_TWELVE, "nominal", 0.743),
        (FOUR_BY_TWELVE, "ordinal", 0.815),
        (FOUR_BY_TWELVE, "interval", 0.849),
        (FOUR_BY_TWELVE, "ratio", 0.797),
    ],
)
def test_krippendorff_alpha_matches_published_values(matrix, level, expected):
    values = VALUES if level != "nominal" else None
    alpha = coding.krippendorff_alpha(segments_from_matrix(matrix), level, values)
    digits = len(str(expected).split(".")[1])
    assert round(alpha, digits) == expected


@pytest.mark.parametrize("level", coding.LEVELS)
def test_krippendorff_alpha_equals_the_krippendorff_package(level):
    rng = np.random.default_rng(7)
    truth = rng.integers(1, 6, size=40)
    matrix = np.where(rng.random((5, 40)) < 0.7, truth, rng.integers(1, 6, size=(5, 40)))
    matrix = np.where(rng.random((5, 40)) < 0.3, np.nan, matrix.astype(float))
    values = VALUES if level != "nominal" else None
    ours = coding.krippendorff_alpha(segments_from_matrix(matrix), level, values)
    theirs = krippendorff.alpha(reliability_data=matrix, level_of_measurement=level)
    assert ours == pytest.approx(theirs, abs=1e-12)


def test_ordinal_alpha_needs_values():
    with pytest.raises(ValueError, match="needs `values`"):
        coding.krippendorff_alpha(segments_from_matrix(FOUR_BY_TWELVE), "ordinal")
    with pytest.raises(ValueError, match="code 'level_2' has no value"):
        coding.krippendorff_alpha(
            segments_from_matrix(FOUR_BY_TWELVE), "interval", {"level_1": 1.0}
        )


def two_coder_segments(pairs) -> pd.DataFrame:
    """Segments coded by coders 'ann' and 'bob'; pairs of (ann's code, bob's code)."""
    rows = []
    for i, (a, b) in enumerate(pairs):
        rows += [(f"s{i}", "inf1", "ann", a), (f"s{i}", "inf1", "bob", b)]
    return pd.DataFrame(rows, columns=["segment_id", "informant_id", "coder_id", "code"]).astype(
        "str"
    )


def test_cohen_kappa_hand_computed_two_by_two():
    # ann yes 25 times, bob yes 30 times; they agree on 20 yes and 15 no of 50:
    # p_o = 0.7, p_e = (25*30 + 25*20) / 50**2 = 0.5, kappa = 0.2 / 0.5 = 0.4
    pairs = [("yes", "yes")] * 20 + [("yes", "no")] * 5 + [("no", "yes")] * 10 + [("no", "no")] * 15
    segments = two_coder_segments(pairs)
    assert coding.cohen_kappa(segments, "ann", "bob") == pytest.approx(0.4)
    assert coding.cohen_kappa(segments, "bob", "ann") == pytest.approx(0.4)


def test_cohen_kappa_uses_only_segments_both_coded():
    pairs = [("yes", "yes")] * 20 + [("yes", "no")] * 5 + [("no", "yes")] * 10 + [("no", "no")] * 15
    alone = pd.DataFrame(
        {
            "segment_id": ["solo1", "solo2"],
            "informant_id": "inf1",
            "coder_id": "ann",
            "code": ["yes", "no"],
        }
    ).astype("str")
    segments = pd.concat([two_coder_segments(pairs), alone], ignore_index=True)
    assert coding.cohen_kappa(segments, "ann", "bob") == pytest.approx(0.4)


def test_reliability_errors_are_one_clear_line():
    segments = two_coder_segments([("yes", "yes"), ("no", "yes")])
    with pytest.raises(ValueError, match="coder 'cleo' has no coded segments"):
        coding.cohen_kappa(segments, "ann", "cleo")
    lone = segments[segments["coder_id"] == "ann"]
    with pytest.raises(ValueError, match="at least 2 coders; coded_segments has only 'ann'"):
        coding.krippendorff_alpha(lone)
    apart = segments.assign(segment_id=segments["segment_id"] + segments["coder_id"])
    with pytest.raises(ValueError, match="segments coded by several coders; none is"):
        coding.fleiss_kappa(apart)
    with pytest.raises(ValueError, match="coded no segment in common"):
        coding.cohen_kappa(apart, "ann", "bob")
    twice = pd.concat([segments, segments.iloc[[0]].assign(code="no")], ignore_index=True)
    with pytest.raises(ValueError, match="segment 's0' has several codes from coder 'ann'") as err:
        coding.reliability_table(twice)
    assert "\n" not in str(err.value)


def test_reliability_table_reads_alpha_on_krippendorff_scale():
    table = coding.reliability_table(segments_from_matrix(FOUR_BY_TWELVE))
    alpha = table.iloc[0]
    assert alpha["measure"] == "Krippendorff's alpha (nominal)"
    assert round(alpha["value"], 3) == 0.743
    assert alpha["interpretation"] == "tentative"
    # 11 units have at least two codes; unit 12 has a single one
    assert (alpha["n_units"], alpha["n_coders"]) == (11, 4)
    fleiss = table.iloc[1]
    assert fleiss["measure"] == "Fleiss' kappa (4 coders per segment)"
    assert fleiss["n_units"] == 8  # units 2-9 carry four codes
    cohen = table.set_index("measure").loc["Cohen's kappa (coder0 vs coder1)"]
    assert cohen["n_units"] == 9
    assert cohen["value"] == pytest.approx(
        coding.cohen_kappa(segments_from_matrix(FOUR_BY_TWELVE), "coder0", "coder1")
    )
    assert [coding.interpret(v) for v in (0.8, 0.7999, 0.667, 0.6669, np.nan)] == [
        "reliable",
        "tentative",
        "tentative",
        "unreliable",
        "undefined",
    ]


# -- planted case for counts --------------------------------------------------
@pytest.fixture
def planted():
    networks = pd.DataFrame(
        {"network_id": ["north", "south"], "setting": ["rural", "metropolitan"]}
    ).astype("str")
    informants = pd.DataFrame(
        {
            "informant_id": ["i1", "i2", "i3"],
            "network_id": ["north", "north", "south"],
            "role": ["manager", "service_user", "manager"],
        }
    ).astype("str")
    codebook = pd.DataFrame(
        {
            "code": ["leadership", "scarcity", "consensus", "conflict", "unused"],
            "category": ["facilitator", "facilitator", "consensus", "conflict", "obstacle"],
        }
    ).astype("str")
    rows = [
        # segment, informant, coder, code
        ("a", "i1", "c2", "leadership"),
        ("a", "i1", "c1", "scarcity"),  # c1 sorts first: primary coder, 'scarcity' counts
        ("b", "i1", "c1", "leadership"),
        ("c", "i1", "c2", "consensus"),  # c2 alone on this segment: primary
        ("d", "i2", "c1", "leadership"),
        ("e", "i2", "c1", "conflict"),
        ("f", "i3", "c1", "conflict"),
        ("g", "i3", "c3", "conflict"),
        ("g", "i3", "c2", "consensus"),  # c2 is primary over c3
        ("h", "i3", "c1", "scarcity"),
    ]
    segments = pd.DataFrame(
        rows, columns=["segment_id", "informant_id", "coder_id", "code"]
    ).astype("str")
    return segments, informants, networks, codebook


def test_code_frequencies_count_each_segment_once(planted):
    segments, informants, networks, codebook = planted
    freq = coding.code_frequencies(segments, informants, networks, codebook)
    got = {(r.network_id, r.code): (r.n_segments, r.n_informants) for r in freq.itertuples()}
    assert got == {
        ("north", "leadership"): (2, 2),
        ("north", "scarcity"): (1, 1),
        ("north", "consensus"): (1, 1),
        ("north", "conflict"): (1, 1),
        ("south", "conflict"): (1, 1),
        ("south", "consensus"): (1, 1),
        ("south", "scarcity"): (1, 1),
    }
    assert freq["n_segments"].sum() == segments["segment_id"].nunique()
    assert list(freq.columns) == ["network_id", "code", "n_segments", "n_informants"]
    assert freq.iloc[0]["code"] == "leadership"  # most frequent first within north


def test_code_frequencies_by_setting_role_and_category(planted):
    segments, informants, networks, codebook = planted
    freq = coding.code_frequencies(
        segments, informants, networks, codebook, by=("setting", "role", "category")
    )
    rows = freq.set_index(["setting", "role", "category", "code"])["n_segments"]
    assert rows[("rural", "manager", "facilitator", "leadership")] == 1
    assert rows[("rural", "service_user", "facilitator", "leadership")] == 1
    assert rows[("metropolitan", "manager", "conflict", "conflict")] == 1
    total = coding.code_frequencies(segments, informants, networks, codebook, by=())
    assert dict(zip(total["code"], total["n_segments"], strict=True)) == {
        "leadership": 2,
        "scarcity": 2,
        "consensus": 2,
        "conflict": 2,
    }
    with pytest.raises(ValueError, match="cannot group code frequencies by region"):
        coding.code_frequencies(segments, informants, networks, codebook, by=("region",))
    with pytest.raises(ValueError, match="informants: no row for informant_id 'i3'"):
        coding.code_frequencies(segments, informants.iloc[:2], networks, codebook)


def test_code_cooccurrence_within_informants(planted):
    segments, _, _, codebook = planted
    co = coding.code_cooccurrence(segments, codebook)
    square = co.pivot(index="code_a", columns="code_b", values="n_informants")
    assert len(co) == 5 * 5
    assert (square.to_numpy() == square.to_numpy().T).all()
    # i1: scarcity, leadership, consensus; i2: leadership, conflict;
    # i3: conflict, consensus, scarcity
    assert square.loc["leadership", "leadership"] == 2
    assert square.loc["leadership", "scarcity"] == 1
    assert square.loc["scarcity", "consensus"] == 2
    assert square.loc["conflict", "consensus"] == 1
    assert square.loc["leadership", "conflict"] == 1
    assert square.loc["unused"].sum() == 0
    observed = coding.code_cooccurrence(segments)
    assert set(observed["code_a"]) == {"leadership", "scarcity", "consensus", "conflict"}
    with pytest.raises(ValueError, match="code 'scarcity' is not in the codebook"):
        coding.code_cooccurrence(segments, codebook[codebook["code"] != "scarcity"])


def test_consensus_conflict_share(planted):
    segments, informants, _, codebook = planted
    share = coding.consensus_conflict_share(segments, codebook, informants)
    assert share.to_dict("list") == {
        "network_id": ["north", "south"],
        "n_consensus": [1, 1],
        "n_conflict": [1, 1],
        "consensus_share": [0.5, 0.5],
    }
    quiet = segments[~segments["code"].isin(["consensus", "conflict"])]
    share = coding.consensus_conflict_share(quiet, codebook, informants)
    assert share["n_consensus"].tolist() == [0, 0]
    assert share["consensus_share"].isna().all()


def test_segment_split_between_informants_is_rejected(planted):
    segments, *_ = planted
    bad = segments.copy()
    bad.loc[1, "informant_id"] = "i2"
    with pytest.raises(ValueError, match="segment 'a' is attributed to several informants"):
        coding.primary_coding(bad)
