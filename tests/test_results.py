"""The book's results record: glued values, the record file, what changed, provenance notes."""

from __future__ import annotations

import json

import nbformat
import pytest
from docutils import nodes

from compendium.book.results import (
    RECORD_MIME,
    differences,
    glued_values,
    load_record,
    provenance_markdown,
    record,
    save_record,
    what_changed_markdown,
)


def _glue_output(name: str, text: str, displayed: bool = False) -> dict:
    """One output as ``myst_nb.glue(name, value, display=displayed)`` writes it."""
    mime = "text/plain" if displayed else RECORD_MIME
    prefix = "" if displayed else "application/papermill.record/"
    return nbformat.v4.new_output(
        "display_data",
        data={mime: text},
        metadata={"scrapbook": {"name": name, "mime_prefix": prefix}},
    )


def test_glued_values_are_the_hidden_glue_outputs_of_every_cell():
    nb = nbformat.v4.new_notebook()
    first = nbformat.v4.new_code_cell("glue")
    first.outputs = [
        _glue_output("density", "0.5"),
        _glue_output("density_text", "'0.50'"),
        nbformat.v4.new_output("stream", name="stdout", text="a printed line\n"),
    ]
    second = nbformat.v4.new_code_cell("more glue")
    second.outputs = [
        _glue_output("shown", "3", displayed=True),  # displayed: not a recorded value
        _glue_output("n_ties", "3"),
        nbformat.v4.new_output("display_data", data={RECORD_MIME: "9"}),  # no name
    ]
    nb.cells = [nbformat.v4.new_markdown_cell("# Title"), first, second]
    assert glued_values(nb) == {"density": "0.5", "density_text": "'0.50'", "n_ties": "3"}


def test_glued_values_of_a_notebook_without_outputs_is_empty():
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("x = 1")]
    assert glued_values(nb) == {}


def test_a_record_survives_saving_and_loading(tmp_path):
    pages = {"networks/n1": {"name": "'Montréal-Nord'", "density": "0.5"}, "overview": {}}
    rec = record(pages, data_hash="abc123", commit="0123456789ab+dirty")
    assert rec == {
        "data_package_hash": "abc123",
        "git_commit": "0123456789ab+dirty",
        "pages": pages,
    }
    path = tmp_path / "results" / "published.json"  # the folder does not exist yet
    save_record(path, rec)
    assert load_record(path) == rec
    text = path.read_text(encoding="utf-8")
    assert "Montréal-Nord" in text  # written as text, not \u escapes
    assert json.loads(text) == rec
    # saving the same record again leaves the file alone
    before = path.stat().st_mtime_ns
    save_record(path, record(dict(pages), "abc123", "0123456789ab+dirty"))
    assert path.stat().st_mtime_ns == before


def test_a_missing_or_broken_record_loads_as_none(tmp_path):
    assert load_record(tmp_path / "published.json") is None
    broken = tmp_path / "broken.json"
    broken.write_text('{"pages": ', encoding="utf-8")
    assert load_record(broken) is None


PREVIOUS = record(
    {
        "networks/n1": {
            "density": "0.5",
            "density_text": "'0.50'",
            "n_ties": "3",
            "label_text": "'before'",
            "gone": "1",
        },
        "old_page": {"x": "1"},
    },
    data_hash="hash-before",
    commit="commit-before",
)
CURRENT = record(
    {
        "networks/n1": {
            "density": "0.6",
            "density_text": "'0.60'",
            "n_ties": "3",
            "label_text": "'after'",
            "new": "7",
        },
        "new_page": {"y": "2"},
    },
    data_hash="hash-after",
    commit="commit-after",
)


def test_differences_list_changed_added_and_removed_values_only():
    diff = differences(PREVIOUS, CURRENT)
    assert list(diff.columns) == ["page", "name", "before", "after"]
    assert diff.to_dict("records") == [
        # density_text is left out: its raw twin density speaks for it
        {"page": "networks/n1", "name": "density", "before": "0.5", "after": "0.6"},
        {"page": "networks/n1", "name": "gone", "before": "1", "after": ""},
        # a text value without a raw twin is listed
        {"page": "networks/n1", "name": "label_text", "before": "'before'", "after": "'after'"},
        {"page": "networks/n1", "name": "new", "before": "", "after": "7"},
        {"page": "new_page", "name": "y", "before": "", "after": "2"},
        {"page": "old_page", "name": "x", "before": "1", "after": ""},
    ]
    # n_ties did not change
    assert "n_ties" not in set(diff["name"])


def test_no_differences_between_a_record_and_itself():
    diff = differences(CURRENT, CURRENT)
    assert diff.empty
    assert list(diff.columns) == ["page", "name", "before", "after"]


def test_without_a_previous_record_every_value_is_new():
    diff = differences(None, CURRENT)
    assert set(diff["before"]) == {""}
    # every value of the current record, less the text twins of raw values
    assert sorted(zip(diff["page"], diff["name"], strict=True)) == [
        ("networks/n1", "density"),
        ("networks/n1", "label_text"),
        ("networks/n1", "n_ties"),
        ("networks/n1", "new"),
        ("new_page", "y"),
    ]


def test_what_changed_on_a_first_build_says_there_is_nothing_to_compare():
    page = what_changed_markdown(None, CURRENT, {"networks/n1", "new_page"})
    assert page.startswith("(what-changed)=\n# What changed\n\n")
    assert "first published build" in page
    assert "|" not in page  # no table


def test_what_changed_without_a_change_names_both_builds_and_no_table():
    same_values = record(CURRENT["pages"], "hash-before", "commit-before")
    page = what_changed_markdown(same_values, CURRENT, {"networks/n1", "new_page"})
    assert "(data package `hash-before`, commit `commit-before`)" in page
    assert "(data package `hash-after`, commit `commit-after`)" in page
    assert "changes no computed value." in page
    assert "| Page |" not in page


def test_what_changed_lists_each_change_and_marks_pages_gone():
    page = what_changed_markdown(PREVIOUS, CURRENT, {"networks/n1", "new_page"})
    assert "changes 6 computed value(s)." in page
    lines = page.splitlines()
    header = lines.index("| Page | Value | Before | After |")
    assert lines[header + 1] == "|---|---|---|---|"
    # values are text, punctuation escaped for MyST (compendium.report.escape.myst_text)
    assert lines[header + 2 :] == [
        "| {doc}`networks/n1` | `density` | 0\\.5 | 0\\.6 |",
        "| {doc}`networks/n1` | `gone` | 1 | — |",
        "| {doc}`networks/n1` | `label_text` | \\'before\\' | \\'after\\' |",
        "| {doc}`networks/n1` | `new` | — | 7 |",
        "| {doc}`new_page` | `y` | — | 2 |",
        "| old_page (removed) | `x` | 1 | — |",
    ]


def test_what_changed_withholds_a_change_that_could_tell_a_small_count():
    before = record(
        {"p": {"total": "12", "other": "12", "small": "<5", "share": "0.5", "hidden": "x"}},
        "h1",
        "c1",
    )
    after = record(
        {"p": {"total": "14", "other": "20", "small": "7", "share": "0.6", "hidden": "9"}},
        "h2",
        "c2",
    )
    rows = what_changed_markdown(before, after, {"p"}).splitlines()[-5:]
    withheld = "withheld (disclosure control)"
    assert rows == [
        f"| {{doc}}`p` | `hidden` | {withheld} | {withheld} |",  # "x" was withheld
        "| {doc}`p` | `other` | 12 | 20 |",  # 8 more: not a small group
        "| {doc}`p` | `share` | 0\\.5 | 0\\.6 |",  # escaped for MyST: read as written
        f"| {{doc}}`p` | `small` | {withheld} | {withheld} |",  # "<5" was withheld
        f"| {{doc}}`p` | `total` | {withheld} | {withheld} |",  # 12 -> 14: a group of 2
    ]


def test_what_changed_escapes_table_breaking_text():
    before = record({"p": {"v": "a|b\nc"}}, "h1", "c1")
    after = record({"p": {"v": " d "}}, "h2", "c2")
    page = what_changed_markdown(before, after, {"p"})
    assert page.splitlines()[-1] == "| {doc}`p` | `v` | a\\|b c | d |"


def test_what_changed_shows_a_value_holding_markup_as_written():
    from .test_escape import myst_doctree

    hostile = '<script>alert(1)</script> {raw}`html <b>x</b>` $\\frac{1}{2}$ A<B & "C"'
    before = record({"p": {"v": hostile}}, "h1", "c1")
    after = record({"p": {"v": "**bold**"}}, "h2", "c2")
    row = what_changed_markdown(before, after, {"p"}).splitlines()[-1]
    table = "| a | b | c | d |\n|---|---|---|---|\n" + row.replace("{doc}`p`", "p")
    cells = [c.astext() for c in myst_doctree(table).findall(nodes.entry)]
    assert cells[4:] == ["p", "v", hostile, "**bold**"]


def test_provenance_note_names_data_slices_notebook_parameters_and_run():
    metadata = {
        "compendium": {
            "data_package_hash": "datahash",
            "synthetic": False,
            "slice_hashes": {"n1": "s1", "n2": "s2"},
            "template": "setting_comparison.ipynb",
            "parameters": {"setting": "rural", "data_dirs": ["/somewhere/slices"]},
            "compendium_version": "1.2.3",
            "git_commit": "abcdef012345",
        },
        "papermill": {"start_time": "2024-05-01T10:20:30.123456", "duration": 12.34},
    }
    note = provenance_markdown(metadata)
    assert note.startswith(":::{admonition} Provenance\n:class: dropdown note\n")
    assert note.endswith(":::\n")
    rows = [line for line in note.splitlines() if line.startswith("| ") and line != "| | |"]
    assert rows == [
        "| Data package | `datahash` (**not synthetic**) |",
        "| Slices read | n1 `s1`, n2 `s2` |",
        "| Notebook | `setting_comparison.ipynb` |",
        "| Parameters | `setting='rural'` |",  # data_dirs (a local path) is left out
        "| compendium | 1.2.3, commit `abcdef012345` |",
        "| Executed | 2024-05-01 10:20:30 UTC in 12.3 s |",
    ]
    assert "/somewhere" not in note


@pytest.mark.parametrize("metadata", [{}, {"compendium": {"parameters": {"data_dirs": ["x"]}}}])
def test_provenance_note_of_a_cross_notebook_without_parameters_or_slices(metadata):
    note = provenance_markdown(metadata)
    assert "| Data package | `?` (synthetic) |" in note
    assert "| Slices read | none (package tables only) |" in note
    assert "| Parameters | none |" in note
    assert "| Notebook | `?` |" in note
