"""Disclosure control on hand-computed tables, audited by brute force."""

import hashlib
import hmac
import re
import warnings

import numpy as np
import pandas as pd
import pytest

from compendium.report import privacy
from compendium.report.privacy import (
    THRESHOLD,
    DisclosureWarning,
    pseudonym,
    small_cells,
    suppress_counts,
    suppress_long,
)

S, X = privacy.SMALL_MARK, privacy.COMPLEMENT_MARK


def frame(rows, columns, index=None):
    return pd.DataFrame(rows, columns=columns, index=index)


def assert_table(result, expected_rows):
    """Cell by cell, so 5 and "5" or "<5" and "x" can never be confused."""
    assert result.to_numpy(dtype=object).tolist() == expected_rows


def test_constants():
    assert THRESHOLD == 5
    assert S == "<5"
    assert privacy.RAW_NAME_COLUMNS == {"organizations": ("name",)}


def test_one_small_cell_with_both_totals_hides_a_rectangle():
    # 3 is alone in row r1: its smallest neighbour 6 goes (r1 = 19 - 10 = 3 + 6).
    # Column b then has 3 alone: 8 goes (smaller than 14). Column a has 6
    # alone: 7 goes (smaller than 11). Row r2 now has 7 and 8: done.
    table = frame(
        [[6, 3, 10, 19], [7, 8, 12, 27], [11, 14, 9, 34], [24, 25, 31, 80]],
        ["a", "b", "c", "total"],
        ["r1", "r2", "r3", "total"],
    )
    out = suppress_counts(table, ["a", "b", "c"], row_total="total", column_total_row=True)
    assert_table(
        out,
        [[X, S, 10, 19], [X, X, 12, 27], [11, 14, 9, 34], [24, 25, 31, 80]],
    )
    assert list(out.index) == ["r1", "r2", "r3", "total"]
    assert all(pd.api.types.is_object_dtype(d) for d in out.dtypes)
    # the input is untouched
    assert table.loc["r1", "b"] == 3


def test_complements_cascade_until_every_line_has_two():
    # r1: 3 alone, complement 8 (c). Column b: 3 alone, complement 9 (r2).
    # Column c: 8 alone, complement 5 (r3). Round two: r2 has 9 alone,
    # complement 7 (a, smaller than 10); r3 has 5 alone, complement 6 (a).
    # Column a then holds 7 and 6: done. Six cells hidden for one small one.
    table = frame(
        [[12, 3, 8, 23], [7, 9, 10, 26], [6, 11, 5, 22], [25, 23, 23, 71]],
        ["a", "b", "c", "total"],
    )
    out = suppress_counts(table, row_total="total", column_total_row=True)
    assert_table(
        out,
        [[12, S, X, 23], [X, X, 10, 26], [X, 11, X, 22], [25, 23, 23, 71]],
    )


def test_row_with_one_small_cell_gets_its_smallest_neighbour_hidden():
    # Row totals are known by default; column totals are not.
    table = frame([[2, 9, 6], [10, 12, 7]], ["a", "b", "c"])
    out = suppress_counts(table)
    assert_table(out, [[S, 9, X], [10, 12, 7]])


def test_column_with_one_small_cell_gets_its_smallest_neighbour_hidden():
    table = frame([[2, 10], [9, 12], [6, 7], [17, 29]], ["a", "b"])
    out = suppress_counts(table, column_total_row=True, row_totals_known=False)
    assert_table(out, [[S, 10], [9, 12], [X, 7], [17, 29]])


def test_column_totals_known_without_a_totals_row():
    table = frame([[2, 10], [9, 12], [6, 7]], ["a", "b"])
    alone = suppress_counts(table, row_totals_known=False)
    assert_table(alone, [[S, 10], [9, 12], [6, 7]])
    known = suppress_counts(table, row_totals_known=False, column_totals_known=True)
    assert_table(known, [[S, 10], [9, 12], [X, 7]])


def test_ties_go_to_the_earliest_cell():
    table = frame([[7, 3, 7]], ["a", "b", "c"])
    assert_table(suppress_counts(table), [[X, S, 7]])


def test_zeros_are_never_hidden_and_a_lone_small_cell_with_hidden_total_warns():
    table = frame([[0, 3, 0], [0, 8, 9]], ["a", "b", "c"])
    with pytest.warns(DisclosureWarning, match=r"row 0 \(0\)"):
        out = suppress_counts(table)
    assert_table(out, [[0, S, 0], [0, 8, 9]])


def test_a_shown_small_total_is_hidden_too():
    # The total equals the lone small cell; both are "<5", so nothing pins it.
    table = frame([[0, 3, 0, 3], [0, 8, 9, 17]], ["a", "b", "c", "t"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = suppress_counts(table, row_total="t")
    assert_table(out, [[0, S, 0, S], [0, 8, 9, 17]])


def test_total_is_hidden_when_only_zeros_are_left():
    # 1 and its complement 5 sum to 6 = total, and "x" is at least 5, so
    # "<5" would be exactly 1; the only cell left to hide is the total.
    table = frame([[0, 1, 5, 6]], ["a", "b", "c", "t"])
    out = suppress_counts(table, row_total="t")
    assert_table(out, [[0, S, X, X]])


def test_four_ones_totalling_four_cannot_be_protected_and_say_so():
    # every cell and the total are "<5", and four cells of at least 1 under 5 are all 1
    table = frame([[1, 1, 1, 1, 4]], ["a", "b", "c", "d", "t"])
    with pytest.warns(DisclosureWarning, match="row 0"):
        out = suppress_counts(table, row_total="t")
    assert_table(out, [[S, S, S, S, S]])


def test_two_small_cells_summing_to_their_minimum_get_a_complement():
    # 1 + 1 = 10 - 8: two "<5" cells summing to 2 are both 1.
    table = frame([[1, 1, 8, 10]], ["a", "b", "c", "t"])
    assert_table(suppress_counts(table, row_total="t"), [[S, S, X, 10]])


def test_counts_of_five_or_more_are_untouched_when_no_complement_is_needed():
    table = frame([[5, 12, 0, 17], [30, 0, 7, 37], [35, 12, 7, 54]], ["a", "b", "c", "t"])
    out = suppress_counts(table, row_total="t", column_total_row=True)
    assert_table(out, table.to_numpy().tolist())
    assert all(type(v) is int for v in out.to_numpy().ravel())
    # small cells that already protect each other: 2 + 3 = 5 leaves each 1 to 4
    paired = frame([[2, 3, 10, 15], [3, 2, 10, 15], [5, 5, 20, 30]], ["a", "b", "c", "t"])
    out = suppress_counts(paired, row_total="t", column_total_row=True)
    assert_table(out, [[S, S, 10, 15], [S, S, 10, 15], [5, 5, 20, 30]])


def test_label_columns_stay_and_count_columns_are_found():
    table = pd.DataFrame({"network_id": ["n1", "n2"], "yes": [2, 9], "no": [8, 11]})
    out = suppress_counts(table)
    assert out["network_id"].tolist() == ["n1", "n2"]
    assert out["yes"].tolist() == [S, 9]
    assert out["no"].tolist() == [X, 11]


def test_bad_tables_are_refused_in_one_line():
    table = frame([[2, 9, 11], [10, 12, 23]], ["a", "b", "t"], ["r1", "r2"])
    with pytest.raises(ValueError, match=r"row 1 \('r2'\), column 't': 23 is not the sum .*\(22\)"):
        suppress_counts(table, row_total="t")
    with pytest.raises(
        ValueError, match=r"row 1 \('r2'\), column 'a': 10 is not the sum of the rows above \(2\)"
    ):
        suppress_counts(table.drop(columns="t"), column_total_row=True)
    with pytest.raises(ValueError, match=r"row 0 \('r1'\), column 'a': -1.0 is not a count$"):
        suppress_counts(frame([[-1.0, 3.0]], ["a", "b"], ["r1"]))
    with pytest.raises(ValueError, match=r"row 1 \(1\), column 'a'"):
        suppress_counts(frame([[1.0], [np.nan]], ["a"]))
    with pytest.raises(ValueError, match="column 'a' holds"):
        suppress_counts(pd.DataFrame({"a": ["3"]}), ["a"])
    with pytest.raises(ValueError, match="no column 'z'"):
        suppress_counts(table, ["z"])


def reachable(spans, signs):
    """Every value of sum(sign * x) with each x in its span, by enumeration."""
    sums = {0}
    for (lo, hi), sign in zip(spans, signs, strict=True):
        sums = {s + sign * v for s in sums for v in range(lo, hi + 1)}
    return sums


def audit_line(cells, total, cap):
    """Hidden cells of one line that a reader pins from its total, by enumeration.

    ``cells`` are the published line's members (int or mark) and ``total``
    its total (int or mark). A reader knows "<5" is 1..4 and "x" is at least
    5 (capped at ``cap``, which only makes the audit stricter). Returns the
    hidden positions with a single possible value; position -1 is the total.
    """
    hidden = [(k, v) for k, v in enumerate(cells) if isinstance(v, str)]
    published = sum(v for v in cells if not isinstance(v, str))
    signs = [1] * len(hidden)
    if isinstance(total, str):
        hidden.append((-1, total))
        signs.append(-1)
        rhs = -published
    else:
        rhs = total - published
    spans = [(1, 4) if mark == S else (5, cap) for _, mark in hidden]
    pinned = []
    for k, (position, _) in enumerate(hidden):
        others = reachable(spans[:k] + spans[k + 1 :], signs[:k] + signs[k + 1 :])
        lo, hi = spans[k]
        possible = [v for v in range(lo, hi + 1) if rhs - signs[k] * v in others]
        assert possible, "the published table contradicts itself"
        if len(possible) == 1:
            pinned.append(position)
    return pinned


def random_table(rng):
    n_rows, n_cols = rng.integers(1, 5), rng.integers(2, 5)
    pool = np.r_[[0] * 4, np.arange(1, 5).repeat(2), np.arange(5, 16)]
    body = rng.choice(pool, size=(n_rows, n_cols))
    body = np.c_[body, body.sum(axis=1)]
    body = np.r_[body, body.sum(axis=0, keepdims=True)]
    return frame(body, [f"c{j}" for j in range(n_cols)] + ["total"])


def test_brute_force_no_suppressed_cell_is_recoverable_from_one_total():
    rng = np.random.default_rng(20240611)
    hidden_total = 0
    for _ in range(300):
        table = random_table(rng)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            out = suppress_counts(table, row_total="total", column_total_row=True)
        raw = table.to_numpy()
        shown = out.to_numpy(dtype=object)
        hidden = np.vectorize(lambda v: isinstance(v, str))(shown)
        hidden_total += int(hidden.sum())
        # small counts are "<5", complements are 5 or more, the rest is as it was
        assert ((raw > 0) & (raw < 5) == (shown == S)).all()
        assert (raw[shown == X] >= 5).all()
        assert (shown[~hidden] == raw[~hidden]).all()
        cap = int(raw[-1, -1]) + 5
        lines = [(list(shown[r, :-1]), shown[r, -1]) for r in range(len(shown))]
        lines += [(list(shown[:-1, j]), shown[-1, j]) for j in range(shown.shape[1])]
        for cells, total in lines:
            n_hidden = sum(isinstance(v, str) for v in [*cells, total])
            assert n_hidden != 1, table
            assert audit_line(cells, total, cap) == [], table
    assert hidden_total > 300  # the tables did exercise suppression


def test_suppress_long_protects_each_group():
    tidy = pd.DataFrame(
        {
            "network_id": ["a", "a", "a", "b", "b", "b", "c", "c", "c", "d", "d"],
            "code": ["c1", "c2", "c3"] * 3 + ["c1", "c2"],
            "n_segments": [12, 3, 7, 9, 6, 0, 2, 2, 1, 1, 1],
            "n_informants": [4, 2, 3, 5, 3, 0, 1, 1, 1, 1, 1],
        }
    )
    extra = {"network_id": "d", "code": "c3", "n_segments": 20, "n_informants": 6}
    tidy = pd.concat([tidy, pd.DataFrame([extra])])  # a repeated index must not matter
    out = suppress_long(tidy, "n_segments", ["network_id"])
    # a: 3 alone, complement 7. b: nothing small, the zero stays. c: three
    # "<5" summing to 5 leave each 1 to 3. d: 1 + 1 = 22 - 20 pins both at 1,
    # so 20 goes too.
    assert out["n_segments"].tolist() == [12, S, X, 9, 6, 0, S, S, S, S, S, X]
    assert out["n_informants"].tolist() == tidy["n_informants"].tolist()
    assert out["code"].tolist() == tidy["code"].tolist()


def test_suppress_long_with_a_second_published_grouping():
    tidy = pd.DataFrame(
        {
            "network_id": ["a", "a", "b", "b", "c", "c"],
            "code": ["c1", "c2"] * 3,
            "n": [3, 10, 8, 9, 6, 12],
        }
    )
    # By network: 3 alone in a, complement 10. By code: c1 holds 3 alone,
    # complement 6 (c); c2 holds 10 alone, complement 9 (b). Then network b
    # has 9 alone, complement 8; network c has 6 alone, complement 12.
    out = suppress_long(tidy, "n", ["network_id"], also_by=["code"])
    assert out["n"].tolist() == [S, X, X, X, X, X]
    only_networks = suppress_long(tidy, "n", ["network_id"])
    assert only_networks["n"].tolist() == [S, X, 8, 9, 6, 12]


def test_suppress_long_warns_when_a_group_has_one_small_count_only():
    tidy = pd.DataFrame({"network_id": ["a", "a", "b"], "n": [0, 2, 9]})
    with pytest.warns(DisclosureWarning, match="network_id='a'"):
        out = suppress_long(tidy, "n", ["network_id"])
    assert out["n"].tolist() == [0, S, 9]
    with pytest.raises(ValueError, match="no column 'site'"):
        suppress_long(tidy, "n", ["site"])


def test_pseudonyms_are_stable_salted_and_unique():
    ids = pd.Series([f"org_{i:05d}" for i in range(10_000)], name="organization_id")
    first = pseudonym(ids, "Organization", "s3cret")
    again = pseudonym(ids.sample(frac=1, random_state=3), "Organization", "s3cret")
    assert first.is_unique
    assert (again.sort_index() == first).all()
    assert first.name == "organization_id"
    assert all(re.fullmatch(r"Organization [0-9a-f]{12}", v) for v in first)
    # the label is HMAC-SHA256(salt, id), as documented
    expected = hmac.new(b"s3cret", b"org_00000", hashlib.sha256).hexdigest()[:12]
    assert first.iloc[0] == f"Organization {expected}"
    other = pseudonym(ids, "Organization", "another salt")
    assert not (other == first).any()
    repeated = pseudonym(pd.Series(["x1", "x2", "x1"]), "Site", "k")
    assert repeated.iloc[0] == repeated.iloc[2] != repeated.iloc[1]


def test_pseudonym_refuses_what_would_weaken_it():
    with pytest.raises(ValueError, match="salt is empty"):
        pseudonym(pd.Series(["a"]), "Organization", "")
    with pytest.raises(ValueError, match=r"row 1 \(1\) has no identifier"):
        pseudonym(pd.Series(["a", None]), "Organization", "k")
    with pytest.raises(ValueError, match="digits"):
        pseudonym(pd.Series(["a"]), "Organization", "k", digits=4)
    # 200,000 ids on 8 hex digits share about 4.7 labels on average: the check bites
    ids = pd.Series([f"id{i}" for i in range(200_000)])
    with pytest.raises(ValueError, match="share a label"):
        pseudonym(ids, "Organization", "k", digits=8)


def test_small_cells_finds_only_unsuppressed_small_counts():
    table = frame(
        [[6, 3, 10, 19], [7, 8, 12, 27], [11, 14, 9, 34], [24, 25, 31, 80]],
        ["a", "b", "c", "total"],
    )
    assert small_cells(table, ["a", "b", "c", "total"]) == [(0, "b")]
    out = suppress_counts(table, row_total="total", column_total_row=True)
    assert small_cells(out, ["a", "b", "c", "total"]) == []
    # as read back from HTML: numbers may be text beside the marks
    html = pd.DataFrame(
        {
            "network": ["n1", "n2", "n3", "n4"],
            "yes": ["<5", "12", " 3 ", "x"],
            "no": [0, 2.0, 2.5, True],
        }
    )
    assert small_cells(html, ["yes", "no"]) == [(1, "no"), (2, "yes")]
    assert small_cells(html) == [(1, "no"), (2, "yes")]
