"""Book staging: which notebooks a narrative page pastes from, and page titles."""

from __future__ import annotations

import nbformat

from compendium.book.assemble import page_title, pasted_notebooks

from .conftest import REPO


def test_the_pastes_of_a_page_are_found_in_each_form():
    text = (
        "Serving {glue:text}`overview.ipynb::population_text:s` people, "
        "α = {glue:}`qualitative.ipynb::alpha`.\n"
        "```{glue:figure} fuh7_plot\n:doc: outcomes\n```\n"
        "```{glue:math} eq\n  :doc: settings/rural.ipynb\n```\n"
        "A page's own glue: {glue:}`local_value`.\n"
    )
    assert pasted_notebooks(text) == {
        "overview.ipynb",
        "qualitative.ipynb",
        "outcomes.ipynb",
        "settings/rural.ipynb",
    }


def test_the_introduction_pastes_from_the_cross_network_notebooks():
    intro = (REPO / "book" / "intro.md").read_text(encoding="utf-8")
    assert {"overview.ipynb", "qualitative.ipynb", "outcomes.ipynb"} <= pasted_notebooks(intro)


def test_a_page_title_is_its_first_level_one_heading():
    assert page_title("Some text\n## Not this\n# The title \nmore") == "The title"
    assert page_title("no heading") == ""


def test_a_page_title_from_the_data_reads_as_written():
    from docutils import nodes

    from compendium.book.assemble import _title_cell

    from .test_escape import myst_doctree

    name = '<script>alert(1)</script> {raw}`html <b>x</b>` $\\frac{1}{2}$ **A<B & "C"**'
    subtitle = "Network n_1 · Rural setting · synthetic data"
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# Network profile\n\nB")])
    _title_cell(nb, name, subtitle)
    assert page_title(nb.cells[0].source) != name  # the source holds it escaped
    doc = myst_doctree(nb.cells[0].source)
    assert [t.astext() for t in doc.findall(nodes.title)] == [name]
    assert [e.astext() for e in doc.findall(nodes.emphasis)] == [subtitle]
    assert [p.astext() for p in doc.findall(nodes.paragraph)] == [subtitle, "B"]
    assert not list(doc.findall(nodes.raw)) and not list(doc.findall(nodes.math))
