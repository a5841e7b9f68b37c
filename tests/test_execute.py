"""What a notebook run gives the book: parameters without the machine's paths, no stderr."""

from __future__ import annotations

import nbformat

from compendium.paths import ProjectPaths
from compendium.run.execute import take_stderr
from compendium.run.notebook_job import template_and_parameters


def test_parameters_name_the_slices_relative_to_the_build_folder(tmp_path):
    paths = ProjectPaths(
        root=tmp_path / "clone",
        data_dir=tmp_path / "clone" / "data",
        build_dir=tmp_path / "elsewhere" / "build",
        html_dir=tmp_path / "html",
    )
    runs = {
        ("network", "rural_north"): ["slices/networks/rural_north"],
        ("setting", "rural"): ["slices/settings/rural"],
        ("cross", "overview"): ["slices/all"],
    }
    for (kind, target), expected in runs.items():
        template, params = template_and_parameters(paths, None, kind, target)
        assert params["data_dirs"] == expected
        assert (paths.build_dir / expected[0]) == {
            "network": paths.network_slice(target),
            "setting": paths.setting_slice(target),
            "cross": paths.all_networks_slice,
        }[kind]
        assert template.parent == paths.notebooks_dir
    assert template_and_parameters(paths, None, "cross", "policy_timeline")[1] == {}


def test_stderr_leaves_the_notebook_and_the_rest_stays():
    v4 = nbformat.v4
    warned = v4.new_code_cell("x", execution_count=3)
    warned.outputs = [
        v4.new_output("stream", name="stdout", text="kept\n"),
        v4.new_output("stream", name="stderr", text="/home/someone/x.py:1: UserWarning: w\n"),
        v4.new_output("display_data", data={"text/plain": "table"}),
        v4.new_output("stream", name="stderr", text="more\n"),
    ]
    quiet = v4.new_code_cell("y", execution_count=4)
    quiet.outputs = [v4.new_output("stream", name="stdout", text="fine\n")]
    nb = v4.new_notebook(cells=[v4.new_markdown_cell("# T"), warned, quiet])

    moved = take_stderr(nb)

    assert moved == [(3, "/home/someone/x.py:1: UserWarning: w\nmore\n")]
    assert [o.get("name", o.output_type) for o in warned.outputs] == ["stdout", "display_data"]
    assert [o.text for o in quiet.outputs] == ["fine\n"]
