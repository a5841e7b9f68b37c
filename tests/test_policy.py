"""The Québec reform timeline and reform components: loading, refusing bad files, counting."""

import pandas as pd
import pytest

from compendium.analysis.policy import change_management_counts
from compendium.data.policy_tables import (
    CHANGE_MANAGEMENT,
    COMPONENT_KINDS,
    PHASES,
    load_reform_components,
    load_timeline,
)

HEADER = "component,kind,change_management,year_introduced,source\n"


def _write(tmp_path, text, name="components.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_shipped_timeline_covers_the_four_phases_in_order():
    tl = load_timeline()
    assert list(tl.columns) == ["period_start", "period_end", "phase", "event", "source"]
    assert list(tl["phase"].cat.categories) == list(PHASES)
    assert tl["phase"].cat.ordered
    first = tl.groupby("phase", observed=True)["period_start"].min()
    # modernization from 1966, explicit integration from 2003, centralization from 2015
    assert first["modernization"] == 1966
    assert first["explicit_integration"] == 2003
    assert first["centralization"] == 2015
    assert set(tl["source"]) == {"fleury2006", "couturier2021", "jiwani2011"}
    mergers = tl[tl["event"].str.contains("917 to 478")]
    assert (mergers["period_start"].iloc[0], mergers["period_end"].iloc[0]) == (1990, 2001)
    # the centralization phase is still going on
    assert tl.loc[tl["period_start"] == 2015, "period_end"].isna().all()


def test_shipped_components_managerial_made_clinical_let_or_helped():
    comp = load_reform_components()
    assert list(comp["kind"].cat.categories) == list(COMPONENT_KINDS)
    managerial = comp[comp["kind"] == "managerial"]
    clinical = comp[comp["kind"] == "clinical"]
    assert len(managerial) == 4
    assert (managerial["change_management"] == "make_it_happen").all()
    assert set(clinical["change_management"]) <= {"let_it_happen", "help_it_happen"}
    assert set(clinical["component"]) == {"Case management", "Individualized service plans"}


def test_change_management_counts_computed_from_rows():
    comp = pd.DataFrame(
        {
            "component": ["m1", "m2", "c1", "c2", "c3", "i1"],
            "kind": ["managerial", "managerial", "clinical", "clinical", "clinical", "interface"],
            "change_management": [
                "make_it_happen",
                "make_it_happen",
                "let_it_happen",
                "help_it_happen",
                "let_it_happen",
                "help_it_happen",
            ],
        }
    )
    out = change_management_counts(comp)
    assert list(out.columns) == ["kind", "change_management", "n"]
    assert len(out) == 9  # all kind × approach pairs, zeros included
    n = out.set_index(["kind", "change_management"])["n"]
    assert n["managerial", "make_it_happen"] == 2
    assert n["clinical", "let_it_happen"] == 2
    assert n["clinical", "help_it_happen"] == 1
    assert n["interface", "help_it_happen"] == 1
    assert n["managerial", "let_it_happen"] == 0
    assert n.sum() == 6
    assert list(out["change_management"].iloc[:3]) == list(CHANGE_MANAGEMENT)


def test_shipped_components_counts():
    n = change_management_counts(load_reform_components()).set_index(["kind", "change_management"])[
        "n"
    ]
    # 4 managerial made to happen; case management helped, service plans let happen;
    # local health networks helped
    assert n["managerial", "make_it_happen"] == 4
    assert n["clinical", "help_it_happen"] == 1
    assert n["clinical", "let_it_happen"] == 1
    assert n["interface", "help_it_happen"] == 1
    assert n.sum() == 7


def test_loader_accepts_another_table_with_the_same_columns(tmp_path):
    # columns in another order, another source key
    path = _write(
        tmp_path,
        "kind,component,source,change_management,year_introduced\n"
        "clinical,Crisis line,smith2020,let_it_happen,2010\n"
        "managerial,Budget control,smith2020,make_it_happen,2012\n",
    )
    comp = load_reform_components(path)
    assert list(comp["component"]) == ["Crisis line", "Budget control"]
    assert list(comp["year_introduced"]) == [2010, 2012]
    assert str(comp["year_introduced"].dtype) == "Int64"


@pytest.mark.parametrize(
    ("body", "where", "message"),
    [
        (
            "A,managerial,make_it_happen,2004,couturier2021\nB,clinical,x,2004,couturier2021\n",
            "row 3, column change_management",
            "'x' is not one of: let_it_happen, help_it_happen, make_it_happen",
        ),
        (
            "A,operational,make_it_happen,2004,couturier2021\n",
            "row 2, column kind",
            "'operational' is not one of: managerial, clinical, interface",
        ),
        (
            "A,managerial,make_it_happen,20x4,couturier2021\n",
            "row 2, column year_introduced",
            "expected a whole number, got '20x4'",
        ),
        (
            "A,managerial,make_it_happen,2004,\n",
            "row 2, column source",
            "empty, but a value is required",
        ),
        (
            "A,managerial,make_it_happen,2004,couturier2021\n"
            "A,clinical,let_it_happen,2004,couturier2021\n",
            "row 3, column component",
            "'A' appears twice",
        ),
    ],
)
def test_bad_components_refused_naming_file_row_column(tmp_path, body, where, message):
    path = _write(tmp_path, HEADER + body)
    with pytest.raises(ValueError) as err:
        load_reform_components(path)
    text = str(err.value)
    assert text == f"{path}, {where}: {message}"
    assert "\n" not in text


def test_missing_and_unknown_columns_refused_on_the_header_row(tmp_path):
    path = _write(tmp_path, "component,change_management,year_introduced,source\n")
    with pytest.raises(ValueError, match=r"row 1, column kind: required column is missing"):
        load_reform_components(path)
    path = _write(tmp_path, HEADER.strip() + ",notes\nA,clinical,let_it_happen,2004,k,hi\n")
    with pytest.raises(ValueError, match=r"row 1, column notes: unknown column"):
        load_reform_components(path)


def test_timeline_refuses_a_period_that_ends_before_it_starts(tmp_path):
    path = _write(
        tmp_path,
        "period_start,period_end,phase,event,source\n"
        "1966,1980,modernization,Ministry created,couturier2021\n"
        "2003,1999,explicit_integration,Reform,couturier2021\n",
        name="timeline.csv",
    )
    with pytest.raises(ValueError) as err:
        load_timeline(path)
    assert str(err.value) == (f"{path}, row 3, column period_end: 1999 is before period_start 2003")


def test_timeline_refuses_an_unknown_phase(tmp_path):
    path = _write(
        tmp_path,
        "period_start,period_end,phase,event,source\n1966,1980,golden_age,Ministry,k\n",
        name="timeline.csv",
    )
    with pytest.raises(ValueError, match=r"row 2, column phase: 'golden_age' is not one of"):
        load_timeline(path)


def test_the_first_problem_in_reading_order_is_reported(tmp_path):
    # row 2 has a bad kind, row 3 a bad year: row 2 comes first
    path = _write(
        tmp_path,
        HEADER + "A,other,make_it_happen,2004,k\nB,clinical,let_it_happen,20x4,k\n",
    )
    with pytest.raises(ValueError, match=r"row 2, column kind: 'other' is not one of"):
        load_reform_components(path)
