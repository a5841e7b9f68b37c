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
