"""Book staging: which notebooks a narrative page pastes from, and page titles."""

from __future__ import annotations

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
