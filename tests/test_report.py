"""Tables of the notebooks: the same results give the same HTML, byte for byte."""

from __future__ import annotations

import pandas as pd

from compendium.report.publish import table


def test_a_table_html_depends_on_its_content_only():
    df = pd.DataFrame({"organization_type": ["community_organization", "hospital"], "n": [7, 12]})
    first = table(df, {"n": "Organizations"}, codes=("organization_type",)).to_html()
    second = table(df.copy(), {"n": "Organizations"}, codes=("organization_type",)).to_html()
    assert first == second
    changed = df.assign(n=[7, 13])
    third = table(changed, {"n": "Organizations"}, codes=("organization_type",)).to_html()
    assert third != first
    # the element ids differ too, so two different tables on one page never share them
    assert first.split('id="', 1)[1][:10] != third.split('id="', 1)[1][:10]
    assert ">13<" in third and ">Hospital<" in first


def test_a_table_no_complement_can_protect_is_published_without_its_numbers():
    # code "a" has 2 segments, all from users: with its total known, 2 is given away
    df = pd.DataFrame({"code": ["a", "b"], "user": [2, 9], "staff": [0, 12]})
    html = table(df, counts=("user", "staff"), totals="rows", what="codes by role").to_html()
    assert html.count(">withheld<") == 4
    assert ">2<" not in html and ">9<" not in html and ">12<" not in html
    assert "withheld by disclosure control: a count under 5 can be worked out" in html
    # the same table whose totals are not published needs only the small count hidden
    shown = table(df, counts=("user", "staff"), totals="none").to_html()
    assert "withheld" not in shown and "&lt;5" in shown and ">12<" in shown
