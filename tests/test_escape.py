"""Each escape of :mod:`compendium.report.escape` on hand-written cases, and through the parser,
writer or renderer of its sink: the text comes out as written, with no markup made of it."""

from __future__ import annotations

import io
import string
from html.parser import HTMLParser
from xml.etree import ElementTree

import matplotlib.pyplot as plt
import pandas as pd
import pytest
from docutils import nodes
from docutils.core import publish_doctree
from myst_parser.parsers.docutils_ import Parser

from compendium.report import plots
from compendium.report.escape import PLOT_RC, html_table, html_text, myst_text
from compendium.report.publish import table

HOSTILE = [
    'A<B & "C" $5 {raw}',
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(2)>",
    "<svg onload=alert(3)>",
    "javascript:alert(4)",
    "{raw}`html <b>x</b>`",
    "```{raw} html",
    "$\\frac{1}{2}$",
    "$5",
    "**bold** _it_ `code` ~~s~~",
    "[link](javascript:alert(5))",
    "![img](x.png) <https://example.org> https://example.org",
    "{{ substitution }} {doc}`intro` (label)= :::{note}",
    "# not a heading",
    "- not a list",
    "1. not a list",
    "> not a quote",
    "| not | a cell |",
    "a\\|b \\ back\\slash \\\\",
    "&amp; &#60; &lt;",
    "\\(x^2\\) $$y$$",
    "Rivière-du-Nord, l'Île · 12 %",
]


# -- MyST --------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, escaped",
    [
        ("Rural North", "Rural North"),
        ("Rivière-du-Nord", "Rivière\\-du\\-Nord"),
        ("A<B & *C*", "A\\<B \\& \\*C\\*"),
        ('A<B & "C" $5 {raw}', 'A\\<B \\& \\"C\\" \\$5 \\{raw\\}'),
        ("{raw}`x`", "\\{raw\\}\\`x\\`"),
        ("a\\b", "a\\\\b"),
        ("two\nlines\r\nthree", "two lines three"),
        ("", ""),
    ],
)
def test_myst_text_escapes_every_ascii_punctuation_character(text, escaped):
    assert myst_text(text) == escaped


def test_myst_text_escapes_exactly_commonmarks_punctuation():
    # CommonMark §2.1: ASCII punctuation is string.punctuation; nothing else is escaped
    assert myst_text(string.punctuation) == "".join("\\" + c for c in string.punctuation)
    assert myst_text(string.ascii_letters + string.digits + " éß·—") == (
        string.ascii_letters + string.digits + " éß·—"
    )


def myst_doctree(source: str) -> nodes.document:
    """``source`` parsed by MyST (docutils), with the extensions the book enables."""
    return publish_doctree(
        source,
        parser=Parser(),
        settings_overrides={
            "myst_enable_extensions": ["colon_fence", "dollarmath", "deflist", "substitution"],
            "report_level": 5,
        },
    )


#: The only nodes escaped text may produce where the book writes it.
PLAIN = (
    nodes.document,
    nodes.section,
    nodes.title,
    nodes.paragraph,
    nodes.emphasis,
    nodes.table,
    nodes.tgroup,
    nodes.colspec,
    nodes.thead,
    nodes.tbody,
    nodes.row,
    nodes.entry,
    nodes.Text,
)


@pytest.mark.parametrize("text", HOSTILE + ["x\n```{raw} html\n<b>y</b>\n```"])
def test_myst_text_reads_as_written_in_a_heading_emphasis_and_a_table_cell(text):
    shown = " ".join(text.splitlines())
    doc = myst_doctree(
        f"# {myst_text(text)}\n\n*{myst_text(text)}*\n\n"
        f"| a | b |\n|---|---|\n| {myst_text(text)} | x |\n"
    )
    made = {type(n).__name__ for n in doc.findall() if not isinstance(n, PLAIN)}
    assert made == set()  # no raw HTML, math, role, link, literal, list, quote or message
    (title,) = doc.findall(nodes.title)
    (emphasis,) = doc.findall(nodes.emphasis)
    cell = list(doc.findall(nodes.entry))[2]
    assert title.astext() == emphasis.astext() == cell.astext() == shown


# -- HTML --------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, escaped",
    [
        ("Rural North", "Rural North"),
        ('A<B & "C"', "A&lt;B &amp; &#34;C&#34;"),
        ("<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;"),
        ("l'Île", "l&#39;Île"),
        ("&amp;", "&amp;amp;"),
    ],
)
def test_html_text_escapes_the_five_html_characters(text, escaped):
    assert html_text(text) == escaped


class _Cells(HTMLParser):
    """The text of each ``th`` and ``td``, and every start tag met."""

    def __init__(self):
        super().__init__()
        self.cells: list[str] = []
        self.tags: list[str] = []
        self._open = False

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        if tag in ("th", "td"):
            self.cells.append("")
            self._open = True

    def handle_endtag(self, tag):
        if tag in ("th", "td"):
            self._open = False

    def handle_data(self, data):
        if self._open:
            self.cells[-1] += data


def cells(html: str) -> _Cells:
    parsed = _Cells()
    parsed.feed(html)
    return parsed


def test_html_table_escapes_cells_index_and_column_labels():
    df = pd.DataFrame({"<b>name</b>": HOSTILE[:3], "x": [0.5, 1.25, "<5"]}, index=HOSTILE[3:6])
    html = html_table(df.style, {"x": lambda v: v if isinstance(v, str) else f"{v:.1f}"}).to_html()
    parsed = cells(html)
    assert set(parsed.tags) <= {"style", "table", "thead", "tbody", "tr", "th", "td"}
    assert [c.strip() for c in parsed.cells] == [
        "",
        "<b>name</b>",
        "x",
        HOSTILE[3],
        HOSTILE[0],
        "0.5",
        HOSTILE[4],
        HOSTILE[1],
        "1.2",
        HOSTILE[5],
        HOSTILE[2],
        "<5",
    ]


def test_published_tables_read_names_and_labels_as_written():
    df = pd.DataFrame(
        {
            "name": HOSTILE,
            "setting": ["urban_semi_urban"] * len(HOSTILE),
            "n_episodes": range(10, 10 + len(HOSTILE)),
            "fuh7_rate": [0.5] * len(HOSTILE),
        }
    )
    html = table(
        df,
        {"name": 'Network <i>"name"</i>'},
        codes=("setting",),
        counts=("n_episodes",),
        totals="none",
    ).to_html()
    parsed = cells(html)
    assert "i" not in parsed.tags and "script" not in parsed.tags and "img" not in parsed.tags
    header = [c.strip() for c in parsed.cells[:4]]
    assert header == ['Network <i>"name"</i>', "Setting", "N episodes", "Fuh7 rate"]
    names = [c.strip() for c in parsed.cells[4::4]]
    assert names == [h.strip() for h in HOSTILE]


# -- matplotlib --------------------------------------------------------------


@pytest.fixture
def book_theme():
    """The book's figure settings (:func:`plots.setup`), undone afterwards; text kept as text
    in the SVG, so what a figure shows can be read back."""
    with plt.rc_context():
        plots.setup()
        plt.rcParams["svg.fonttype"] = "none"
        yield
    plt.close("all")


def svg_texts(fig) -> list[str]:
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg")
    root = ElementTree.fromstring(buffer.getvalue())
    return [el.text for el in root.iter("{http://www.w3.org/2000/svg}text")]


def test_plot_rc_turns_mathtext_off():
    assert PLOT_RC == {"text.parse_math": False}


def test_book_figures_draw_names_with_dollar_signs_as_written(book_theme):
    names = ['A<B & "C" $5 {raw}', "$\\frac{1}{2}$", "$x$ and $y", "$\\frac{1}{$"]
    assert plt.rcParams["text.parse_math"] is False
    summary = pd.DataFrame(
        {"name": names, "setting": ["rural", "rural", "metropolitan", "metropolitan"]}
    ).assign(scope=[0.1, 0.2, 0.3, 0.4])
    ax = plots.metric_by_network(summary, "scope", xlabel="$a$ scope")
    ax.set_title(names[1])
    shown = svg_texts(ax.figure)  # drawing "$\\frac{1}{$" as math would fail
    assert set(names) <= set(shown)  # the tick labels
    assert shown.count(names[1]) == 2  # and the title
    assert "$a$ scope" in shown  # an axis label
    # a legend, a heat map's title and its tick labels
    counts = pd.DataFrame(
        {"organization_type": ["hospital", "hospital"], "n": [3, 4], "Network": names[:2]}
    )
    legend = plots.organizations_by_type(counts, hue="Network")
    assert set(names[:2]) <= set(svg_texts(legend.figure))
    cooc = pd.DataFrame({"code_a": ["a", "b"], "code_b": ["b", "a"], "n_informants": [2, 2]})
    heat = plots.cooccurrence(cooc, ["a", "b"], labels={"a": names[2], "b": names[3]})
    heat.set_title(names[0])
    assert {names[0], names[2], names[3]} <= set(svg_texts(heat.figure))


def test_without_the_book_theme_a_name_would_be_parsed_as_math():
    # what the setting protects against: the default draws $...$ as math, or fails on it
    with plt.rc_context({"text.parse_math": True, "svg.fonttype": "none"}):
        fig, ax = plt.subplots()
        ax.set_title("$\\frac{1}{2}$")
        assert "$\\frac{1}{2}$" not in svg_texts(fig)
        ax.set_title("$\\frac{1}{$")
        with pytest.raises(ValueError):
            svg_texts(fig)
    plt.close("all")


@pytest.mark.parametrize("low, high", [(0.05, 40.0), (0.6, 1.8)])
def test_a_log_axis_is_labelled_in_plain_numbers_without_mathtext(book_theme, low, high):
    # the log scale labels its ticks with mathtext ($\mathdefault{10^{1}}$), which PLOT_RC
    # would show as source: the forest plot labels them as numbers instead
    table = pd.DataFrame({"term": ["a", "b"], "rate_ratio": [low * 2, high / 2]}).assign(
        rate_ratio_ci_low=[low, low * 1.5], rate_ratio_ci_high=[high / 1.5, high]
    )
    ax = plots.estimates(table, "rate_ratio")
    shown = svg_texts(ax.figure)
    ticks = [t for t in shown if t not in {"a", "b", "Rate ratio"}]
    assert ticks and not [t for t in shown if "$" in t or "\\" in t]
    assert all(float(t) > 0 for t in ticks), ticks
