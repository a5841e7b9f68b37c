"""Disclosure control on hand-computed tables, audited by brute force."""

import hashlib
import hmac
import re

import numpy as np
import pandas as pd
import pytest

from compendium.report import privacy
from compendium.report.privacy import (
    THRESHOLD,
    DisclosureError,
    pseudonym,
    publishable_change,
    publishable_share,
    small_cells,
    suppress_counts,
    suppress_long,
    suppress_rates,
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


def test_complements_close_a_rectangle_when_rows_and_columns_are_solved_together():
    # 3 needs a rectangle: b0 + c0 = 11, b1 + c1 = 19, b0 + b1 = 12, c0 + c1 = 18
    # leave b0 free in 1..4 (then b1 = 12 - b0, c0 = 11 - b0, c1 = 7 + b0, all >= 5).
    # Three complements; solving one line at a time would have hidden five.
    table = frame(
        [[12, 3, 8, 23], [7, 9, 10, 26], [6, 11, 5, 22], [25, 23, 23, 71]],
        ["a", "b", "c", "total"],
    )
    out = suppress_counts(table, row_total="total", column_total_row=True)
    assert_table(
        out,
        [[12, S, X, 23], [7, X, X, 26], [6, 11, 5, 22], [25, 23, 23, 71]],
    )


def test_row_with_one_small_cell_gets_the_neighbour_that_keeps_its_range():
    # Row totals are known by default; column totals are not. Hiding 6 would say
    # a + c = 8 with c >= 5, so a <= 3; hiding 9 leaves a + b = 11: a is any of 1..4.
    table = frame([[2, 9, 6], [10, 12, 7]], ["a", "b", "c"])
    out = suppress_counts(table)
    assert_table(out, [[S, X, 6], [10, 12, 7]])


def test_column_with_one_small_cell_gets_its_smallest_neighbour_hidden():
    table = frame([[2, 10], [9, 12], [6, 7], [17, 29]], ["a", "b"])
    out = suppress_counts(table, column_total_row=True, row_totals_known=False)
    # 6 as complement would leave a0 + a2 = 8, a0 at most 3; 9 leaves a0 any of 1..4
    assert_table(out, [[S, 10], [X, 12], [6, 7], [17, 29]])


def test_column_totals_known_without_a_totals_row():
    table = frame([[2, 10], [9, 12], [6, 7]], ["a", "b"])
    alone = suppress_counts(table, row_totals_known=False)
    assert_table(alone, [[S, 10], [9, 12], [6, 7]])
    known = suppress_counts(table, row_totals_known=False, column_totals_known=True)
    assert_table(known, [[S, 10], [X, 12], [6, 7]])


def test_ties_go_to_the_earliest_cell():
    table = frame([[7, 3, 7]], ["a", "b", "c"])
    assert_table(suppress_counts(table), [[X, S, 7]])


def test_a_lone_small_cell_whose_total_is_published_elsewhere_stops_the_table():
    # zeros are never hidden, so the known row total is the small count itself
    table = frame([[0, 3, 0], [0, 8, 9]], ["a", "b", "c"])
    with pytest.raises(
        DisclosureError, match=r"^outcomes by network: a count under 5 .*row 0 \(0\)"
    ):
        suppress_counts(table, what="outcomes by network")


def test_a_shown_small_total_is_hidden_too():
    # The total equals the lone small cell; both are "<5", so nothing pins it.
    table = frame([[0, 3, 0, 3], [0, 8, 9, 17]], ["a", "b", "c", "t"])
    out = suppress_counts(table, row_total="t")
    assert_table(out, [[0, S, 0, S], [0, 8, 9, 17]])


def test_the_total_is_hidden_when_it_alone_protects():
    # with 5 shown, b = t - 5 and t (withheld) is any of 6..9: b is any of 1..4;
    # hiding 5 instead would give b + c = 6 with c >= 5, so b = 1.
    table = frame([[0, 1, 5, 6]], ["a", "b", "c", "t"])
    out = suppress_counts(table, row_total="t")
    assert_table(out, [[0, S, 5, X]])


def test_four_ones_totalling_four_cannot_be_protected_and_say_so():
    # every cell and the total are "<5", and four cells of at least 1 under 5 are all 1
    table = frame([[1, 1, 1, 1, 4]], ["a", "b", "c", "d", "t"])
    with pytest.raises(DisclosureError, match="row 0"):
        suppress_counts(table, row_total="t")


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


def joint_solutions(shown, cap):
    """Every table a reader cannot rule out, by enumeration: each hidden body cell in its
    mark's range ("<5": 1..4, "x": 5..cap), row and column totals as published or,
    when withheld, in their mark's range. ``shown`` has a total column and a totals row.

    Capping "x" at ``cap`` only removes solutions, so an audit passed here is passed
    without the cap too. Returns the possible values of every hidden cell.
    """
    n_rows, n_cols = shown.shape[0] - 1, shown.shape[1] - 1
    spans = {S: np.arange(1, 5), X: np.arange(5, cap + 1)}
    hidden = [(r, c) for r in range(n_rows) for c in range(n_cols) if isinstance(shown[r, c], str)]
    grids = np.broadcast_to(
        np.array([[0 if isinstance(v, str) else v for v in row] for row in shown[:-1, :-1]]),
        (1, n_rows, n_cols),
    ).copy()
    if hidden:
        combos = np.array(np.meshgrid(*(spans[shown[cell]] for cell in hidden), indexing="ij"))
        combos = combos.reshape(len(hidden), -1).T
        grids = np.repeat(grids, len(combos), axis=0)
        for k, (r, c) in enumerate(hidden):
            grids[:, r, c] = combos[:, k]
    totals = {(r, n_cols): grids[:, r, :].sum(axis=1) for r in range(n_rows)}
    totals |= {(n_rows, c): grids[:, :, c].sum(axis=1) for c in range(n_cols)}
    totals[(n_rows, n_cols)] = grids.sum(axis=(1, 2))
    ok = np.ones(len(grids), dtype=bool)
    for cell, value in totals.items():
        mark = shown[cell]
        if isinstance(mark, str):
            ok &= (value >= spans[mark][0]) & ((value <= 4) if mark == S else True)
        else:
            ok &= value == mark
    possible = {cell: set(grids[ok, cell[0], cell[1]].tolist()) for cell in hidden}
    for cell, value in totals.items():
        if isinstance(shown[cell], str):
            possible[cell] = set(value[ok].tolist())
    return possible


def random_table(rng):
    n_rows, n_cols = 2, rng.integers(2, 4)
    pool = np.r_[[0] * 3, np.arange(1, 5).repeat(2), np.arange(5, 10)]
    body = rng.choice(pool, size=(n_rows, n_cols))
    body = np.c_[body, body.sum(axis=1)]
    body = np.r_[body, body.sum(axis=0, keepdims=True)]
    return frame(body, [f"c{j}" for j in range(n_cols)] + ["total"])


def test_brute_force_no_hidden_cell_is_narrowed_by_rows_and_columns_together():
    """An audit independent of the solver: every table a reader cannot rule out is
    enumerated; each "<5" keeps all of 1..4, each "x" at least two values."""
    rng = np.random.default_rng(20240611)
    hidden_total = refused = 0
    for _ in range(80):
        table = random_table(rng)
        raw = table.to_numpy()
        try:
            out = suppress_counts(table, row_total="total", column_total_row=True)
        except DisclosureError:
            # refused only when even withholding every non-zero count leaves a "<5" narrowed
            refused += 1
            everything = np.array(
                [[0 if v == 0 else S if v < 5 else X for v in row] for row in raw], dtype=object
            )
            possible = joint_solutions(everything, cap=int(raw.max()) + 3)
            assert any(
                everything[cell] == S and values != {1, 2, 3, 4}
                for cell, values in possible.items()
            ), table
            continue
        shown = out.to_numpy(dtype=object)
        hidden = np.vectorize(lambda v: isinstance(v, str))(shown)
        hidden_total += int(hidden.sum())
        # small counts are "<5", complements are 5 or more, the rest is as it was
        assert ((raw > 0) & (raw < 5) == (shown == S)).all()
        assert (raw[shown == X] >= 5).all()
        assert (shown[~hidden] == raw[~hidden]).all()
        possible = joint_solutions(shown, cap=int(raw.max()) + 3)
        for cell, values in possible.items():
            assert raw[cell] in values, table
            if shown[cell] == S:
                assert values == {1, 2, 3, 4}, (table, cell, values)
            else:
                assert len(values) >= 2, (table, cell, values)
    assert hidden_total > 60 and refused < 40  # both ways were exercised


def test_a_table_safe_line_by_line_can_be_solved_jointly_and_is_protected():
    # Each row and column below has two hidden cells, yet together they pin the small
    # count: a + b = 8, c + d = 15, a + c = 9 with b, c, d >= 5 gives a <= 3 (and the
    # second row and column then pin more). The joint audit hides until a is 1..4 again.
    table = frame([[3, 5, 0, 8], [6, 9, 7, 22], [9, 14, 7, 30]], ["a", "b", "c", "total"])
    out = suppress_counts(table, row_total="total", column_total_row=True)
    possible = joint_solutions(out.to_numpy(dtype=object), cap=40)
    assert possible[(0, 0)] == {1, 2, 3, 4}
    assert all(len(v) >= 2 for v in possible.values())


def test_suppress_rates_hides_rates_that_count_few_people():
    table = pd.DataFrame(
        {
            "name": ["A", "B", "C", "D"],
            "n_episodes": [100, 40, 3, 60],
            "fuh7_rate": [0.03, 0.5, 2 / 3, 0.95],
            "mean_coc": [0.5, 0.6, 0.7, 0.8],
        }
    )
    out = suppress_rates(table, "n_episodes", {"fuh7_rate": "followed up within 7 days"})
    # A: 3 of 100 followed up; C: 3 people in all; D: 3 of 60 not followed up
    assert out["fuh7_rate"].tolist() == [S, 0.5, S, S]
    assert out["n_episodes"].tolist() == [100, 40, S, 60]
    assert out["mean_coc"].tolist() == [0.5, 0.6, S, 0.8]
    assert out["name"].tolist() == ["A", "B", "C", "D"]


def test_suppress_rates_with_published_totals_hides_a_complement():
    # With the overall numbers published, C's 2 people followed up would be the total
    # minus A's and B's: another row's rate is withheld too.
    table = pd.DataFrame({"n": [20, 30, 10], "rate": [0.5, 0.6, 0.2]})
    out = suppress_rates(table, "n", {"rate": "followed up"}, column_totals_known=True)
    assert out["rate"].tolist()[2] == S
    assert sum(v in (S, X) for v in out["rate"].tolist()) >= 2
    alone = suppress_rates(table, "n", {"rate": "followed up"})
    assert alone["rate"].tolist() == [0.5, 0.6, S]


def test_publishable_share():
    assert publishable_share(50, 100)
    assert not publishable_share(3, 100)
    assert not publishable_share(97, 100)
    assert not publishable_share(2, 4)
    assert publishable_share(0, 100) and publishable_share(100, 100)


def test_suppress_long_protects_each_group():
    tidy = pd.DataFrame(
        {
            "network_id": ["a", "a", "a", "b", "b", "b", "c", "c", "c", "d", "d"],
            "code": ["c1", "c2", "c3"] * 3 + ["c1", "c2"],
            "n_segments": [12, 3, 7, 9, 6, 0, 2, 2, 8, 1, 1],
            "n_informants": [4, 2, 3, 5, 3, 0, 1, 1, 1, 1, 1],
        }
    )
    extra = {"network_id": "d", "code": "c3", "n_segments": 20, "n_informants": 6}
    tidy = pd.concat([tidy, pd.DataFrame([extra])])  # a repeated index must not matter
    out = suppress_long(tidy, "n_segments", ["network_id"])
    # a: 3 alone, complement 7 (3 + x = 10 leaves 3 any of 1..4). b: nothing
    # small, the zero stays. c: 2 + 2 + 8 = 12, and with 8 hidden each 2 is any of
    # 1..4. d: 1 + 1 = 22 - 20 pins both at 1, so 20 goes too.
    assert out["n_segments"].tolist() == [12, S, X, 9, 6, 0, S, S, X, S, S, X]
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
    # A rectangle of networks a and c: a1 + a2 = 13, c1 + c2 = 18, a1 + c1 = 17 - 8,
    # a2 + c2 = 31 - 9 leave a1 any of 1..4 (c1 = 9 - a1 and the others stay >= 5).
    out = suppress_long(tidy, "n", ["network_id"], also_by=["code"])
    assert out["n"].tolist() == [S, X, 8, 9, X, X]
    only_networks = suppress_long(tidy, "n", ["network_id"])
    assert only_networks["n"].tolist() == [S, X, 8, 9, 6, 12]


def test_suppress_long_refuses_a_group_with_one_small_count_only():
    tidy = pd.DataFrame({"network_id": ["a", "a", "b"], "n": [0, 2, 9]})
    with pytest.raises(DisclosureError, match="network_id='a'"):
        suppress_long(tidy, "n", ["network_id"])
    # three "<5" summing to a published 5 are each at most 3: no table
    only_small = pd.DataFrame({"network_id": ["c"] * 3, "n": [2, 2, 1]})
    with pytest.raises(DisclosureError, match="network_id='c'"):
        suppress_long(only_small, "n", ["network_id"])
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


def test_outcome_decisions_protect_every_page_at_once():
    # n1 readmitted 3 of 50. Its setting's totals (13 of 90) and the overall ones are
    # published, so n2's readmissions are withheld with it, on every page; n3 keeps all.
    by_network = pd.DataFrame(
        {
            "network_id": ["n1", "n2", "n3"],
            "setting": ["rural", "rural", "metropolitan"],
            "n_episodes": [50, 40, 60],
            "readmission30_rate": [3 / 50, 10 / 40, 12 / 60],
        }
    )
    rates = {"readmission30_rate": "people readmitted"}
    decided = privacy.outcome_decisions(by_network, "n_episodes", rates)
    assert decided == {"n1": ["readmission30_rate"], "n2": ["readmission30_rate"]}
    # a table of the rural networks alone, given the decisions, withholds the same
    rural = by_network[by_network["setting"] == "rural"].set_index("network_id")
    out = suppress_rates(rural, "n_episodes", rates, column_totals_known=True, withheld=decided)
    assert out["readmission30_rate"].tolist() == [S, S]
    # without them it would choose alike here; with a network of its own, nothing to hide
    alone = suppress_rates(by_network.iloc[[2]], "n_episodes", rates, column_totals_known=True)
    assert alone["readmission30_rate"].tolist() == [0.2]


def test_outcome_decisions_withhold_everything_when_nothing_protects():
    # one network, 2 readmissions of 3: every published figure is about fewer than five
    by_network = pd.DataFrame(
        {"network_id": ["n1"], "setting": ["rural"], "n_episodes": [3], "fuh7_rate": [2 / 3]}
    )
    decided = privacy.outcome_decisions(by_network, "n_episodes", {"fuh7_rate": "followed up"})
    assert decided == {"n1": ["n_episodes", "fuh7_rate"]}
    assert publishable_change("withheld", "0.5") is False


def test_a_withheld_zero_is_kept_withheld_without_contradiction():
    # n2 followed up nobody of 40 (a zero count), withheld by an earlier decision
    table = pd.DataFrame({"n": [30, 40], "rate": [0.5, 0.0]}, index=["n1", "n2"])
    out = suppress_rates(table, "n", {"rate": "followed up"}, withheld={"n2": ["rate"]})
    assert out["rate"].tolist() == [0.5, S]
