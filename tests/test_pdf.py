"""The book as one PDF: every chapter in reading order, and a network page whole — its
computed text, every cell of its tables and every figure."""

from __future__ import annotations

import argparse
import os
import re
import unicodedata
from html.parser import HTMLParser
from pathlib import Path
from unittest import mock

import pytest

from compendium.analysis import network
from compendium.book.pdf import PdfBuildError, build_pdf, reading_order
from compendium.cli import pdf as pdf_cli
from compendium.data.read import load
from compendium.report.prose import fmt

from .conftest import built_project, paths_of, require_chromium


def words(text: str) -> list[str]:
    # NFKC folds the ligatures (ﬀ, ﬁ) of the PDF's text and the narrow spaces of the numbers
    return re.findall(r"\w+(?:[.,]\w+)*", unicodedata.normalize("NFKC", text))


def flat(text: str) -> str:
    return " ".join(words(text))


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    """A book built from a 3-network package; the same book as ``test_browser``'s (built once)."""
    return built_project(tmp_path_factory, "browser-book", seed=5, n_networks=3)


def pdf_command(root: Path, *argv: str) -> int:
    """``compendium pdf ARGV`` in project ``root``."""
    parser = argparse.ArgumentParser()
    pdf_cli.add_arguments(parser)
    with mock.patch.dict(os.environ, {"COMPENDIUM_ROOT": str(root)}):
        os.environ.pop("COMPENDIUM_DATA", None)
        return pdf_cli.run(parser.parse_args(argv))


@pytest.fixture(scope="module")
def book_pdf(project, tmp_path_factory) -> Path:
    """The PDF made by ``compendium pdf --out PATH`` from the small book."""
    require_chromium()
    out = tmp_path_factory.mktemp("pdf") / "book.pdf"
    assert pdf_command(project, "--out", str(out)) == 0
    return out


@pytest.fixture(scope="module")
def chapters(project, book_pdf):
    """``(html path, title, PDF page numbers)`` per chapter, from the PDF's bookmarks."""
    from pypdf import PdfReader

    reader = PdfReader(book_pdf)
    marks = [m for m in reader.outline if not isinstance(m, list)]
    starts = [reader.get_destination_page_number(m) for m in marks]
    ends = starts[1:] + [len(reader.pages)]
    order = reading_order(paths_of(project).html_dir)
    assert [m.title for m in marks] == [title for _, title in order]
    return [
        (rel, title, range(start, end))
        for (rel, title), start, end in zip(order, starts, ends, strict=True)
    ]


def chapter_text(reader, pages: range) -> str:
    return "\n".join(reader.pages[i].extract_text() for i in pages)


def content(html_page: Path) -> _Content:
    parsed = _Content()
    parsed.feed(html_page.read_text(encoding="utf-8"))
    return parsed


def missing_cell_words(cells: list[str], text: str) -> set[str]:
    """Words of table cells absent from ``text`` (a table cut at the margin loses columns).

    The PDF's text of a table row may have no space between two cells, hence the search
    in the text without spaces.
    """
    squashed = flat(text).replace(" ", "")
    return {w for w in words(" ".join(cells)) if w not in squashed}


@pytest.mark.slow
def test_every_chapter_in_reading_order_on_its_own_pages(book_pdf, chapters):
    from pypdf import PdfReader

    reader = PdfReader(book_pdf)
    rels = [rel for rel, _, _ in chapters]
    assert rels[0] == "intro.html" and "bibliography.html" in rels
    assert sum(rel.startswith("networks/") for rel in rels) == 3
    assert len(reader.pages) >= len(chapters) >= 15
    for _rel, title, pages in chapters:
        assert len(pages) >= 1
        assert flat(title) in flat(reader.pages[pages.start].extract_text())


@pytest.mark.slow
def test_a_network_chapter_has_its_numbers_tables_and_figures(project, book_pdf, chapters):
    from pypdf import PdfReader

    reader = PdfReader(book_pdf)
    tables = load(project / "data")
    network_id = sorted(tables["networks"]["network_id"])[0]
    name = tables["networks"].set_index("network_id")["name"][network_id]
    metrics = network.network_metrics(tables["organizations"], tables["ties"])
    metrics = metrics.set_index("network_id").loc[network_id]
    (pages,) = [p for rel, _, p in chapters if rel == f"networks/{network_id}.html"]
    text = flat(chapter_text(reader, pages))

    assert flat(name) in text
    assert flat(f"density is {fmt(metrics['density'])}") in text
    assert flat(f"links {int(metrics['n_organizations'])} organizations") in text

    page = content(paths_of(project).html_dir / "networks" / f"{network_id}.html")
    assert len(page.cells) > 20 and len(page.figures) >= 2
    assert missing_cell_words(page.cells, text) == set()
    # every figure is embedded as an image
    assert sum(len(reader.pages[i].images) for i in pages) >= len(page.figures)


@pytest.mark.slow
def test_no_table_of_the_book_loses_a_column(project, book_pdf, chapters):
    from pypdf import PdfReader

    reader = PdfReader(book_pdf)
    html_dir = paths_of(project).html_dir
    missing = {}
    n_cells = 0
    for rel, _, pages in chapters:
        cells = content(html_dir / rel).cells
        n_cells += len(cells)
        if lost := missing_cell_words(cells, chapter_text(reader, pages)):
            missing[rel] = sorted(lost)
    assert n_cells > 500
    assert missing == {}


@pytest.mark.slow
def test_links_between_chapters_stay_inside_the_pdf(book_pdf):
    from pypdf import PdfReader

    actions = [
        annot.get_object().get("/A")
        for page in PdfReader(book_pdf).pages
        for annot in page.get("/Annots") or []
    ]
    uris = [str(a["/URI"]) for a in actions if a is not None and a.get("/S") == "/URI"]
    assert [u for u in uris if "127.0.0.1" in u] == []
    assert sum(1 for a in actions if a is not None and a.get("/S") == "/GoTo") >= 3


class _Content(HTMLParser):
    """Text of the table cells and the figures of a page's ``<main>``, outside folded cells."""

    def __init__(self):
        super().__init__()
        self.cells: list[str] = []
        self.figures: list[str] = []
        self._main = self._folded = 0
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        self._main += tag == "main"
        self._folded += tag == "details"
        if not self._main or self._folded:
            return
        if tag in {"td", "th"}:
            self._cell = []
        elif tag == "img" and "_images/" in (dict(attrs).get("src") or ""):
            self.figures.append(dict(attrs)["src"])

    def handle_endtag(self, tag):
        self._main -= tag == "main"
        self._folded -= tag == "details"
        if tag in {"td", "th"} and self._cell is not None:
            self.cells.append("".join(self._cell))
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def test_reading_order_follows_the_next_links(tmp_path):
    (tmp_path / "part").mkdir()
    (tmp_path / "index.html").write_text('<meta http-equiv="Refresh" content="0; url=a.html" />')
    (tmp_path / "a.html").write_text(
        '<title>First \N{EM DASH} Book</title><link rel="next" title="x" href="part/b.html" />'
    )
    (tmp_path / "part" / "b.html").write_text(
        '<title>Second</title><link rel="prev" href="../a.html" />'
        '<link rel="next" href="../c.html" />'
    )
    (tmp_path / "c.html").write_text("<title>Third &#8212; Book</title>")
    assert reading_order(tmp_path) == [
        ("a.html", "First"),
        ("part/b.html", "Second"),
        ("c.html", "Third"),
    ]


def test_no_built_book_is_a_one_line_error_and_no_file(tmp_path):
    out = tmp_path / "out" / "book.pdf"
    with pytest.raises(PdfBuildError, match=r"index\.html: no built book here"):
        build_pdf(tmp_path / "html", out)
    assert not out.exists()


def test_the_command_without_a_built_book_says_so_in_one_line(tmp_path, capsys):
    assert pdf_command(tmp_path, "--out", str(tmp_path / "book.pdf")) == 1
    index = tmp_path / "book" / "_build" / "html" / "index.html"
    assert capsys.readouterr().err.splitlines() == [
        f"{index}: no built book here (run `compendium build` first)"
    ]
    assert not (tmp_path / "book.pdf").exists()
