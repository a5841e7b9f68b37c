"""``compendium new-network``: a skeleton that validates and fits its model, or a refusal."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from compendium.analysis.strategies import assign_model
from compendium.cli import main
from compendium.data.catalogues import load_catalogue
from compendium.data.read import load

from .conftest import edit_cell


@pytest.fixture(scope="module")
def pristine(tmp_path_factory) -> Path:
    from compendium.ingest.synth import write

    return write(tmp_path_factory.mktemp("new_network") / "data", seed=3, n_networks=2)


@pytest.fixture
def package(pristine, tmp_path) -> Path:
    dest = tmp_path / "data"
    shutil.copytree(pristine, dest)
    return dest


def snapshot(data_dir: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(data_dir.iterdir())}


def new_network(capsys, package, *args) -> tuple[int, str, str]:
    rc = main(["new-network", *args, "--data", str(package)])
    out, err = capsys.readouterr()
    return rc, out, err


def added(capsys, package, network_id, *args) -> dict:
    rc, out, err = new_network(
        capsys, package, network_id, "--region", "Region 09", "--population", "180000", *args
    )
    assert rc == 0, err
    assert main(["validate", str(package)]) == 0
    tables = load(package)
    return {
        name: df[df["network_id"] == network_id].reset_index(drop=True)
        for name, df in tables.items()
        if "network_id" in df.columns
    } | {"_out": out}


def test_metropolitan_network_has_a_psychiatric_hospital_and_every_strategy(
    capsys, package, pristine
):
    rows = added(capsys, package, "metro_west", "--setting", "metropolitan")
    net = rows["networks"].iloc[0]
    assert (net["name"], net["region"], net["setting"], net["population"]) == (
        "Metro West",
        "Region 09",
        "metropolitan",
        180000,
    )
    assert (
        net["has_general_hospital"],
        net["general_hospital_has_psychiatry"],
        net["has_psychiatric_hospital"],
    ) == (False, False, True)
    assert assign_model(rows["networks"])["model"].tolist() == [4]
    orgs = rows["organizations"]
    assert orgs[["organization_id", "organization_type", "name"]].values.tolist() == [
        ["metro_west-clsc-01", "local_community_centre", "CLSC 1"],
        ["metro_west-ph-01", "psychiatric_hospital", "Psychiatric hospital 1"],
    ]
    strategies = rows["network_strategies"]
    assert strategies["strategy_code"].tolist() == load_catalogue()["strategy_code"].tolist()
    assert not strategies["in_place"].any() and strategies["since_year"].isna().all()
    # the package is synthetic, so the skeleton is too
    for name in ("networks", "organizations", "network_strategies"):
        assert rows[name]["synthetic"].all()
    assert "model 4" in rows["_out"] and "all synthetic=true" in rows["_out"]
    # existing rows keep their bytes: the new ones are appended
    for name in ("networks.csv", "organizations.csv", "network_strategies.csv"):
        assert (package / name).read_bytes().startswith((pristine / name).read_bytes())
    unchanged = {"ties.csv", "informants.csv", "codebook.csv", "coded_segments.csv"}
    assert all((package / n).read_bytes() == (pristine / n).read_bytes() for n in unchanged)


@pytest.mark.parametrize(
    "setting, extra, model, hospitals",
    [
        ("rural", [], 1, []),
        ("rural", ["--general-hospital", "without-psychiatry"], 2, ["general_hospital"]),
        ("urban_semi_urban", [], 3, ["general_hospital"]),
        (
            "metropolitan",
            ["--general-hospital", "with-psychiatry"],
            4,
            ["general_hospital", "psychiatric_hospital"],
        ),
    ],
)
def test_each_setting_gets_its_model_and_the_hospitals_its_flags_announce(
    capsys, package, setting, extra, model, hospitals
):
    rows = added(capsys, package, "new_net", "--setting", setting, *extra)
    assert assign_model(rows["networks"])["model"].tolist() == [model]
    types = rows["organizations"]["organization_type"].tolist()
    assert types == ["local_community_centre", *hospitals]


def test_a_package_holding_observed_rows_gets_observed_rows(capsys, package):
    edit_cell(package / "networks.csv", 2, "synthetic", "false")
    rows = added(capsys, package, "real_one", "--setting", "rural", "--name", "Lac-Vert")
    assert rows["networks"]["name"].tolist() == ["Lac-Vert"]
    for name in ("networks", "organizations", "network_strategies"):
        assert not rows[name]["synthetic"].any()


def test_windows_line_endings_are_kept(capsys, package):
    path = package / "networks.csv"
    path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))
    added(capsys, package, "crlf_net", "--setting", "rural")
    text = path.read_bytes()
    assert text.count(b"\r\n") == text.count(b"\n") == 4  # header, two networks, the new one


def refused(capsys, package, *args) -> str:
    before = snapshot(package)
    rc, out, err = new_network(capsys, package, *args)
    assert rc == 1 and out == ""
    assert snapshot(package) == before
    return err


def test_an_existing_id_is_refused(capsys, package):
    err = refused(
        capsys, package, "rural_001", "--setting", "rural", "--region", "R", "--population", "9"
    )
    assert err == f"{package / 'networks.csv'}: network 'rural_001' exists already\n"


@pytest.mark.parametrize(
    "bad", ["../escape", "Metro East", "a/b", "trailing-", "_lead", "x.y", "x" * 65]
)
def test_an_unsafe_id_is_refused(capsys, package, bad):
    err = refused(capsys, package, bad, "--setting", "rural", "--region", "R", "--population", "9")
    assert err.count("\n") == 1
    assert err.startswith(f"{bad!r} is not a valid network identifier")


def test_a_setting_without_the_hospital_its_model_needs_is_refused(capsys, package):
    err = refused(
        capsys,
        package,
        *("urban_x", "--setting", "urban_semi_urban", "--general-hospital", "none"),
        *("--region", "R", "--population", "90000"),
    )
    assert err.startswith("a urban_semi_urban network with --general-hospital none fits none")
    assert "no matching model: urban/semi-urban network without a general hospital" in err


def test_an_invalid_package_is_left_alone(capsys, package):
    edit_cell(package / "ties.csv", 2, "transactions_per_year", "-1")
    err = refused(
        capsys, package, "new_net", "--setting", "rural", "--region", "R", "--population", "9"
    )
    assert f"{package / 'ties.csv'}, row 2, column transactions_per_year: must be at least 0" in err
    assert err.endswith("nothing added: the data package would not be valid\n")


def test_population_must_be_a_positive_whole_number(capsys, package):
    with pytest.raises(SystemExit):
        main(["new-network", "n", "--setting", "rural", "--region", "R", "--population", "0"])
    assert "must be greater than 0, got 0" in capsys.readouterr().err
