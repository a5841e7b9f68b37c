"""The built book as a reader gets it: served over HTTP and opened in headless Chromium.

A small book is built from a generated three-network package. A reader opens
``index.html``, follows the table of contents to a network page and sees every figure, with
no failed request, no HTTP error (favicon included) and no error in the console. Every
internal link of every page is then checked on disk: the file exists and so does the
``#fragment`` it points to.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path
from unittest import mock
from urllib.parse import unquote, urljoin, urlsplit

import pytest

from compendium.book import pdf
from compendium.data.read import load
from compendium.paths import default_paths

from .conftest import REPO

#: pydata-sphinx-theme's only console error, logged on a first visit (empty localStorage)
#: before it falls back to the automatic light/dark mode.
FIRST_VISIT_THEME_MESSAGE = "Got invalid theme mode: . Resetting to auto."

_BOOKS: dict[Path, tuple[Path, subprocess.CompletedProcess]] = {}


def build_small_book(tmp_path_factory) -> Path:
    """Project root of a book built from a 3-network package (built once per session).

    Shared with ``test_pdf``; the project is a copy (notebooks, workflow, narrative), as in
    ``test_build_e2e``. A failed build fails every test that needs it, and runs once.
    """
    key = tmp_path_factory.getbasetemp()
    if key not in _BOOKS:
        root = tmp_path_factory.mktemp("browser-book")
        _BOOKS[key] = root, build_project(root, n_networks=3, seed=5)
    root, proc = _BOOKS[key]
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return root


def build_project(
    root: Path, n_networks: int, seed: int, edit: Callable[[Path], None] | None = None
) -> subprocess.CompletedProcess:
    """Copy the project (notebooks, workflow, narrative) into ``root`` and build its book.

    The data package is generated with ``seed`` and ``n_networks``; ``edit``, when given,
    changes it (``edit(root / "data")``) before ``compendium build`` runs.
    """
    from compendium.ingest.synth import write

    for folder in ("notebooks", "workflow", "book"):
        shutil.copytree(REPO / folder, root / folder, ignore=shutil.ignore_patterns("_build", ".*"))
    write(root / "data", seed=seed, n_networks=n_networks)
    if edit is not None:
        edit(root / "data")
    env = {**os.environ, "COMPENDIUM_ROOT": str(root)}
    env.pop("COMPENDIUM_DATA", None)
    return subprocess.run(
        [sys.executable, "-m", "compendium", "build", "--cores", "2"],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )


def html_dir_of(root: Path) -> Path:
    with mock.patch.dict(os.environ, {"COMPENDIUM_ROOT": str(root)}):
        os.environ.pop("COMPENDIUM_DATA", None)
        return default_paths().html_dir


def require_chromium() -> None:
    """Skip, saying why, when there is no browser to drive."""
    pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    try:
        pdf.find_chromium()
    except pdf.PdfBuildError as err:
        pytest.skip(str(err))


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    return build_small_book(tmp_path_factory)


@pytest.fixture(scope="module")
def html_dir(project) -> Path:
    return html_dir_of(project)


# -- in the browser ----------------------------------------------------------


@pytest.mark.slow
def test_reader_follows_the_toc_to_a_network_page(project, html_dir):
    require_chromium()
    networks = load(project / "data")["networks"].sort_values("network_id")
    problems: list[str] = []

    def on_console(msg):
        if msg.type == "error" and msg.text != FIRST_VISIT_THEME_MESSAGE:
            problems.append(f"console error: {msg.text} ({msg.location.get('url')})")

    def on_response(response):
        if response.status >= 400:
            problems.append(f"HTTP {response.status}: {response.url}")

    with pdf.serve(html_dir) as server, pdf.chromium() as browser:
        context = browser.new_context()  # fresh profile: empty storage, a first visit
        page = context.new_page()
        page.on("console", on_console)
        page.on("pageerror", lambda err: problems.append(f"uncaught error: {err}"))
        page.on("requestfailed", lambda r: problems.append(f"failed: {r.url} ({r.failure})"))
        page.on("response", on_response)

        page.goto(server.url + "index.html")
        page.wait_for_url(server.url + "intro.html")  # the root redirects to the first page
        page.wait_for_load_state("networkidle")

        first = networks.iloc[0]
        toc = page.locator("nav.bd-docs-nav")
        link = toc.get_by_role("link", name=first["name"], exact=True)
        assert link.get_attribute("href") == f"networks/{first['network_id']}.html"
        link.click()
        page.wait_for_url(f"{server.url}networks/{first['network_id']}.html")
        page.wait_for_load_state("networkidle")

        assert page.locator("main h1").first.inner_text().strip().startswith(first["name"])
        images = page.evaluate(
            "Array.from(document.images).map(i => [i.getAttribute('src'), i.naturalWidth])"
        )
        figures = [src for src, _ in images if "_images/" in src]
        assert len(figures) >= 2, images  # the network page's plots
        assert [src for src, width in images if not width > 0] == []
        found = list(problems)  # closing may cancel what no longer matters
        context.close()
        # The browser fetches the favicon itself, out of the page's sight: the server saw it.
        served = list(server.requests)

    found += [f"HTTP {code} from the server: {path}" for path, code, _ in served if code >= 400]
    assert not found, "\n".join(found)
    assert any(path.startswith("/_static/") for path, _, _ in served)


# -- links, on disk ----------------------------------------------------------


class _Page(HTMLParser):
    """The ids of a page and the targets of its ``<a href>`` and ``<img src>``."""

    def __init__(self):
        super().__init__()
        self.ids: set[str] = set()
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if a.get("id"):
            self.ids.add(a["id"])
        if tag == "a" and a.get("name"):
            self.ids.add(a["name"])
        if tag == "a" and a.get("href") is not None:
            self.links.append(a["href"])
        elif tag == "img" and a.get("src"):
            self.links.append(a["src"])


def parse(path: Path) -> _Page:
    page = _Page()
    page.feed(path.read_text(encoding="utf-8"))
    return page


def book_pages(html_dir: Path) -> list[Path]:
    """Every HTML page of the book (not the theme's template snippets under ``_static``)."""
    return sorted(
        p
        for p in html_dir.rglob("*.html")
        if p.relative_to(html_dir).parts[0] not in {"_static", "_sources"}
    )


def broken_links(html_dir: Path) -> list[str]:
    """One line per internal link whose file or ``#fragment`` does not exist."""
    html_dir = html_dir.resolve()
    parsed: dict[Path, _Page] = {}

    def page_of(path: Path) -> _Page:
        if path not in parsed:
            parsed[path] = parse(path)
        return parsed[path]

    problems = []
    for source in book_pages(html_dir):
        rel = source.relative_to(html_dir).as_posix()
        for href in page_of(source).links:
            parts = urlsplit(href)
            if parts.scheme or parts.netloc or href.startswith(("mailto:", "javascript:")):
                continue  # external
            target_rel = unquote(urlsplit(urljoin(f"http://book/{rel}", href)).path).lstrip("/")
            target = html_dir / target_rel if parts.path else source
            if target.is_dir():
                target = target / "index.html"
            if not target.is_file():
                problems.append(f"{rel}: {href} -> no file {target_rel}")
                continue
            fragment = unquote(parts.fragment)
            if fragment and target.suffix == ".html" and fragment not in page_of(target).ids:
                problems.append(f"{rel}: {href} -> no id {fragment!r} in {target_rel}")
    return problems


@pytest.mark.slow
def test_every_internal_link_resolves(project, html_dir):
    pages = book_pages(html_dir)
    networks = load(project / "data")["networks"]["network_id"]
    # the crawl covers the whole book: every network page is among the pages checked
    names = {p.relative_to(html_dir).as_posix() for p in pages}
    assert {f"networks/{n}.html" for n in networks} <= names
    assert broken_links(html_dir) == []


def test_link_check_reports_a_missing_page_and_a_missing_fragment(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "index.html").write_text(
        '<h1 id="top">t</h1><a href="#top">ok</a><a href="sub/a.html#here">ok</a>'
        '<a href="sub/a.html#gone">no id</a><a href="nowhere.html">no file</a>'
        '<a href="https://example.org/x.html">external</a><img src="sub/a.html">'
    )
    (tmp_path / "sub" / "a.html").write_text('<p id="here"><a href="../index.html#top">up</a>')
    assert broken_links(tmp_path) == [
        "index.html: sub/a.html#gone -> no id 'gone' in sub/a.html",
        "index.html: nowhere.html -> no file nowhere.html",
    ]
