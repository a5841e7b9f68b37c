"""The build's preparation: slices cut in one pass, joined slices, and the plan's fast path.

The one-pass cut (:func:`compendium.data.slices.write_slices`) and the joined slices
(:func:`compendium.data.slices.combine_slices`) rest on the package's own definitions:
each is checked against :func:`compendium.data.slices.network_slice`,
:func:`compendium.data.write.write_package` and :func:`compendium.data.read.load`.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pandas as pd

from compendium.build.plan import current_plan, prepare
from compendium.data.read import load
from compendium.data.schema import TABLES
from compendium.data.slices import network_slice, write_slices
from compendium.data.write import content_hash, table_to_csv, write_package
from compendium.paths import ProjectPaths


def project(tmp_path: Path, data: Path) -> ProjectPaths:
    shutil.copytree(data, tmp_path / "data")
    return ProjectPaths(
        root=tmp_path,
        data_dir=tmp_path / "data",
        build_dir=tmp_path / "build",
        html_dir=tmp_path / "html",
    )


def files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_one_pass_slices_are_byte_for_byte_the_package_slices(tmp_path, small_package):
    paths = project(tmp_path, small_package)
    tables = load(paths.data_dir)
    ids = list(tables["networks"]["network_id"])
    write_slices(paths, tables, ids)
    for network_id in ids:
        reference = tmp_path / "reference" / network_id
        write_package(
            network_slice(tables, network_id),
            reference,
            name=f"slice-{network_id}",
            title=f"Slice of network {network_id}",
            description=f"Rows of network {network_id} cut from the compendium's data package.",
        )
        assert files(paths.network_slice(network_id)) == files(reference)


def test_a_line_break_inside_a_value_is_cut_slice_by_slice(tmp_path, small_package):
    paths = project(tmp_path, small_package)
    tables = load(paths.data_dir)
    tables["organizations"].loc[0, "name"] = "First line\nsecond line"
    network_id = tables["organizations"].loc[0, "network_id"]
    write_slices(paths, tables, [network_id])
    reference = tmp_path / "reference"
    write_package(
        network_slice(tables, network_id),
        reference,
        name="x",
        title="x",
        description="x",
    )
    written = (paths.network_slice(network_id) / "organizations.csv").read_bytes()
    assert written == (reference / "organizations.csv").read_bytes()
    assert b'"First line\nsecond line"' in written


def test_joined_slices_load_as_the_slices_one_by_one(tmp_path, small_package):
    paths = project(tmp_path, small_package)
    built = prepare(paths)
    ids = sorted(built.networks)
    joined = load(paths.all_networks_slice)
    one_by_one = load(*[paths.network_slice(n) for n in ids])
    for name in one_by_one:
        pd.testing.assert_frame_equal(joined[name], one_by_one[name])
    # the joined files are what serializing the joined tables writes
    for table in TABLES:
        assert (paths.all_networks_slice / table.path).read_text() == table_to_csv(
            one_by_one[table.name], table
        )
    for setting, setting_ids in built.settings.items():
        joined = load(paths.setting_slice(setting))
        one_by_one = load(*[paths.network_slice(n) for n in setting_ids])
        for name in one_by_one:
            pd.testing.assert_frame_equal(joined[name], one_by_one[name])


def test_an_unchanged_package_is_not_prepared_twice(tmp_path, small_package):
    paths = project(tmp_path, small_package)
    first = prepare(paths)
    assert first.slice_hashes == {n: content_hash(paths.network_slice(n)) for n in first.networks}
    times = {p: p.stat().st_mtime_ns for p in paths.slices_dir.rglob("*.csv")}
    os.utime(paths.data_dir / "ties.csv")  # touched, not changed
    assert current_plan(paths) == first
    assert prepare(paths) == first
    assert {p: p.stat().st_mtime_ns for p in paths.slices_dir.rglob("*.csv")} == times


def test_a_changed_package_or_slice_is_prepared_again(tmp_path, small_package):
    paths = project(tmp_path, small_package)
    first = prepare(paths)
    networks = paths.data_dir / "networks.csv"
    df = pd.read_csv(networks, dtype=str, keep_default_na=False)
    df.loc[0, "population"] = str(int(df.loc[0, "population"]) + 1)
    df.to_csv(networks, index=False)
    assert current_plan(paths) is None
    second = prepare(paths)
    assert second.data_hash != first.data_hash
    assert current_plan(paths) == second
    # a slice edited by hand is not trusted either
    edited = paths.network_slice(sorted(second.networks)[0]) / "ties.csv"
    edited.write_text(edited.read_text() + "\n")
    assert current_plan(paths) is None
