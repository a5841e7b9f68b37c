"""The schema accepts generated data and rejects broken copies with file, row and column."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from compendium.data import schema
from compendium.data.problems import DataPackageError, Problem
from compendium.data.read import load
from compendium.data.slices import network_slice
from compendium.data.validate import validate
from compendium.data.write import write_package

from .conftest import REPO, edit_cell


def test_committed_default_data_is_valid():
    assert validate(REPO / "data") == []


def test_generated_package_is_valid(small_package):
    assert validate(small_package) == []


def test_descriptor_lists_every_table_with_keys(small_package):
    d = json.loads((small_package / "datapackage.json").read_text())
    names = [r["name"] for r in d["resources"]]
    assert names == [t.name for t in schema.TABLES]
    ties = next(r for r in d["resources"] if r["name"] == "ties")
    assert ties["schema"]["primaryKey"] == ["network_id", "source", "target", "tie_kind"]
    assert {
        "fields": ["source"],
        "reference": {"resource": "organizations", "fields": ["organization_id"]},
    } in ties["schema"]["foreignKeys"]
    pop = next(f for f in d["resources"][0]["schema"]["fields"] if f["name"] == "population")
    assert pop["unit"] == "persons" and pop["constraints"]["exclusiveMinimum"] == 0


def one(problems: list[Problem]) -> Problem:
    assert len(problems) == 1, "\n".join(map(str, problems))
    return problems[0]


def test_wrong_type_names_file_row_and_column(package_copy):
    edit_cell(package_copy / "networks.csv", 3, "population", "many")
    p = one(validate(package_copy))
    assert (p.file, p.row, p.column) == (str(package_copy / "networks.csv"), 3, "population")
    assert "whole number" in p.message and "'many'" in p.message
    assert str(p).startswith(f"{package_copy / 'networks.csv'}, row 3, column population:")


def test_negative_population(package_copy):
    edit_cell(package_copy / "networks.csv", 2, "population", "-5")
    p = one(validate(package_copy))
    assert (p.row, p.column) == (2, "population") and "greater than 0" in p.message


def test_setting_outside_vocabulary(package_copy):
    edit_cell(package_copy / "networks.csv", 4, "setting", "suburban")
    p = one(validate(package_copy))
    assert (p.row, p.column) == (4, "setting") and "'suburban' is not one of" in p.message


def test_missing_required_column(package_copy):
    df = pd.read_csv(package_copy / "ties.csv", dtype=str, keep_default_na=False)
    df.drop(columns="tie_kind").to_csv(package_copy / "ties.csv", index=False)
    p = one(validate(package_copy))
    assert (p.file.endswith("ties.csv"), p.row, p.column) == (True, 1, "tie_kind")


def test_unknown_extra_column(package_copy):
    df = pd.read_csv(package_copy / "informants.csv", dtype=str, keep_default_na=False)
    df.assign(real_name="x").to_csv(package_copy / "informants.csv", index=False)
    p = one(validate(package_copy))
    assert (p.row, p.column) == (1, "real_name") and "unknown column" in p.message


def test_duplicate_primary_key(package_copy):
    path = package_copy / "organizations.csv"
    lines = path.read_text().splitlines()
    path.write_text("\n".join([*lines, lines[1]]) + "\n")
    problems = validate(package_copy)
    assert {(p.row, p.column) for p in problems} == {
        (2, "organization_id"),
        (len(lines) + 1, "organization_id"),
    }
    assert all("duplicate" in p.message for p in problems)


def test_tie_to_an_organization_of_another_network(package_copy):
    orgs = pd.read_csv(package_copy / "organizations.csv", dtype=str)
    ties = pd.read_csv(package_copy / "ties.csv", dtype=str)
    first = ties.iloc[0]
    foreign = orgs.loc[orgs["network_id"] != first["network_id"], "organization_id"].iloc[0]
    edit_cell(package_copy / "ties.csv", 2, "target", foreign)
    p = one(validate(package_copy))
    assert (p.row, p.column) == (2, "target") and "belongs to network" in p.message


def test_unknown_strategy_code(package_copy):
    edit_cell(package_copy / "network_strategies.csv", 5, "strategy_code", "cl_telepathy")
    p = one(validate(package_copy))
    assert (p.row, p.column) == (5, "strategy_code") and "strategy catalogue" in p.message


def test_follow_up_before_discharge(package_copy):
    path = package_copy / "care_episodes.csv"
    eps = pd.read_csv(path, dtype=str, keep_default_na=False)
    row = int(eps.index[eps["follow_up_date"] != ""][0])
    discharge = pd.Timestamp(eps.loc[row, "discharge_date"])
    edit_cell(path, row + 2, "follow_up_date", f"{discharge - pd.Timedelta(days=3):%Y-%m-%d}")
    p = one(validate(package_copy))
    assert (p.row, p.column) == (
        row + 2,
        "follow_up_date",
    ) and "before the discharge date" in p.message


def test_identifier_that_would_escape_a_folder(package_copy):
    # The network id is also a folder name: "../x" must be refused, not joined to a path.
    for table in ("networks", "organizations"):
        path = package_copy / f"{table}.csv"
        nets = pd.read_csv(package_copy / "networks.csv", dtype=str)
        path.write_text(path.read_text().replace(nets["network_id"].iloc[0] + ",", "../x,"))
    problems = validate(package_copy)
    assert any(
        p.file.endswith("networks.csv") and p.column == "network_id" and "'../x'" in p.message
        for p in problems
    )


def test_not_utf8_names_the_row(package_copy):
    path = package_copy / "organizations.csv"
    text = path.read_text()
    lines = text.splitlines()
    lines[3] = lines[3].replace(",", ",Caf\xe9 ", 1)
    path.write_bytes(("\n".join(lines) + "\n").encode("latin-1"))
    p = one(validate(package_copy))
    assert p.row == 4 and "not UTF-8" in p.message


def test_byte_order_mark_is_accepted(package_copy):
    path = package_copy / "networks.csv"
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    assert validate(package_copy) == []


def test_load_refuses_a_cell_that_does_not_parse(package_copy):
    edit_cell(package_copy / "networks.csv", 2, "population", "many")
    with pytest.raises(DataPackageError, match="networks.csv, row 2, column population"):
        load(package_copy)


def test_validate_names_a_value_outside_the_vocabulary(package_copy):
    edit_cell(package_copy / "networks.csv", 2, "setting", "moon")
    problems = validate(package_copy)
    assert [(p.row, p.column) for p in problems] == [(2, "setting")]
    assert "'moon' is not one of" in problems[0].message


def test_roundtrip_is_byte_stable(small_package, tmp_path):
    tables = load(small_package)
    write_package(tables, tmp_path, "x", "x", "x")
    for t in schema.TABLES:
        assert (tmp_path / t.path).read_bytes() == (small_package / t.path).read_bytes(), t.name


def test_network_slice_keeps_only_that_network(small_package):
    tables = load(small_package)
    nid = tables["networks"]["network_id"].iloc[1]
    part = network_slice(tables, nid)
    assert set(part["organizations"]["network_id"]) == {nid}
    informants = set(part["informants"]["informant_id"])
    assert set(part["coded_segments"]["informant_id"]) <= informants
    assert len(part["codebook"]) == len(tables["codebook"])
