"""The book as one PDF: headless Chromium prints each HTML page, pypdf joins them in reading order.

Printing the HTML book keeps what the reader sees on screen: the figures are the same PNG
files, the tables stay HTML tables, the glued numbers are the same text. It needs Debian's
``chromium`` and the ``playwright`` and ``pypdf`` wheels, and nothing from the network: the
book is served from ``127.0.0.1`` while it prints. (Jupyter Book's LaTeX route would need a
TeX installation of several hundred megabytes, and it prints a notebook's styled table as
its text form, ``<pandas.io.formats.style.Styler at 0x...>``.)

The reading order is Sphinx's own: the chain of ``<link rel="next">`` from the root page, the
order of ``_toc.yml``. Each chapter gets a bookmark, and links between chapters become
links inside the PDF.
"""

from __future__ import annotations

import functools
import io
import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from html.parser import HTMLParser
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

from ..fsutil import atomic_write_bytes

#: Debian's Chromium; ``COMPENDIUM_CHROMIUM`` points elsewhere (another system, another build).
CHROMIUM = Path(os.environ.get("COMPENDIUM_CHROMIUM", "/usr/bin/chromium"))
#: Headless and quiet: no GPU, no sandbox (CI runs as root), no call home of any kind.
CHROMIUM_ARGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
#: Time allowed for one page to load and print, in milliseconds.
PAGE_TIMEOUT_MS = 60_000


class PdfBuildError(RuntimeError):
    """The PDF could not be made: no browser, no book, or a page that did not render whole."""


# -- serving the book --------------------------------------------------------


@dataclass
class StaticServer:
    """A book served on 127.0.0.1: its base ``url`` and every ``(path, status, referer)``."""

    url: str
    requests: list[tuple[str, int, str | None]] = field(default_factory=list)


class _Handler(SimpleHTTPRequestHandler):
    def log_request(self, code="-", size="-"):
        status = int(code) if str(code).isdigit() else 0
        self.server.record((self.path, status, self.headers.get("Referer")))

    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, html_dir: Path, record):
        self.record = record
        super().__init__(("127.0.0.1", 0), functools.partial(_Handler, directory=str(html_dir)))

    def handle_error(self, request, client_address):
        # A browser that drops a connection it no longer needs is not an error of the book.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


@contextmanager
def serve(html_dir: Path) -> Iterator[StaticServer]:
    """Serve ``html_dir`` over HTTP on 127.0.0.1 (a free port) for the time of the block."""
    html_dir = Path(html_dir).resolve()
    requests: list[tuple[str, int, str | None]] = []
    lock = threading.Lock()

    def record(entry):
        with lock:
            requests.append(entry)

    server = _Server(html_dir, record)
    thread = threading.Thread(target=server.serve_forever, name="book-server", daemon=True)
    thread.start()
    try:
        yield StaticServer(f"http://127.0.0.1:{server.server_address[1]}/", requests)
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


# -- the browser -------------------------------------------------------------


def find_chromium() -> Path:
    """The Chromium executable, or a :class:`PdfBuildError` that says how to install it."""
    if not CHROMIUM.is_file() or not os.access(CHROMIUM, os.X_OK):
        raise PdfBuildError(
            f"Chromium not found at {CHROMIUM}: install it (Debian: apt-get install chromium; "
            "or `make browser-deps`) or set COMPENDIUM_CHROMIUM to a Chromium executable"
        )
    return CHROMIUM


@contextmanager
def chromium():
    """A headless Chromium driven by Playwright (a ``playwright.sync_api.Browser``).

    Playwright only drives the system's browser here; it never downloads one.
    """
    executable = find_chromium()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as err:  # pragma: no cover - a dependency of the package
        raise PdfBuildError(f"playwright is not installed ({err}); pip install playwright") from err
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(executable), args=list(CHROMIUM_ARGS))
        try:
            yield browser
        finally:
            browser.close()


# -- reading order -----------------------------------------------------------


class _HeadLinks(HTMLParser):
    """The ``<title>``, the refresh target and the ``rel=next`` link of a page."""

    def __init__(self):
        super().__init__()
        self.title = ""
        self.next_href: str | None = None
        self.refresh: str | None = None
        self._in_title = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "title":
            self._in_title = True
        elif tag == "link" and "next" in (a.get("rel") or "").split() and a.get("href"):
            self.next_href = self.next_href or a["href"]
        elif tag == "meta" and (a.get("http-equiv") or "").lower() == "refresh":
            _, _, target = (a.get("content") or "").partition("url=")
            self.refresh = target.strip() or None

    def handle_endtag(self, tag):
        if tag == "title":
            self._in_title = False

    def handle_data(self, data):
        if self._in_title:
            self.title += data


def _head(path: Path) -> _HeadLinks:
    parser = _HeadLinks()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


def reading_order(html_dir: Path) -> list[tuple[str, str]]:
    """Pages of the book in reading order, as ``(path relative to html_dir, title)``.

    Starts at the page ``index.html`` redirects to and follows ``rel="next"``: Sphinx's
    order of the table of contents.
    """
    html_dir = Path(html_dir)
    index = html_dir / "index.html"
    if not index.is_file():
        raise PdfBuildError(f"{index}: no built book here (run `compendium build` first)")
    start = _head(index).refresh or "index.html"
    pages: list[tuple[str, str]] = []
    seen: set[str] = set()
    current: str | None = urlsplit(start).path
    while current and current not in seen:
        path = html_dir / current
        if not path.is_file():
            raise PdfBuildError(f"{path}: listed in the book's table of contents but missing")
        seen.add(current)
        head = _head(path)
        # "<page> — <book title>": the page title alone names the chapter
        pages.append((current, head.title.split(" \N{EM DASH} ")[0].strip() or current))
        current = _resolve(current, head.next_href) if head.next_href else None
    return pages


def _resolve(page: str, href: str) -> str:
    """The path, relative to the book's root, of ``href`` found in ``page``."""
    return unquote(urlsplit(urljoin(f"http://book/{page}", href)).path).lstrip("/")


# -- printing ----------------------------------------------------------------

#: A4 with these margins (mm), printed at this scale: about 860 CSS pixels of text width.
PAPER = {"format": "A4", "width_mm": 210}
MARGIN_MM = {"top": 16, "bottom": 16, "left": 14, "right": 14}
SCALE = 0.8
PRINT_WIDTH_PX = round(
    (PAPER["width_mm"] - MARGIN_MM["left"] - MARGIN_MM["right"]) / 25.4 * 96 / SCALE
)

# Paper cannot scroll or unfold: tables and text outputs wrap instead of scrolling (long
# identifiers in table cells may break anywhere, words do not), and folded code cells
# (myst-nb's hide-input / hide-cell toggles) are left out, as a reader sees them.
PRINT_CSS = """
@media print {
  details.hide:not([open]) { display: none !important; }
  .pst-scrollable-table-container, .cell_output, .output { overflow: visible !important; }
  table { max-width: 100% !important; }
  td code, th code { overflow-wrap: anywhere; }
  pre { white-space: pre-wrap !important; overflow-wrap: anywhere; }
  img, svg { max-width: 100% !important; height: auto; }
}
"""

# Waits for every image of the page, then reports the ones that did not decode.
_IMAGES_SETTLED = """
async () => {
  const imgs = Array.from(document.images);
  imgs.forEach(img => { img.loading = "eager"; });
  await Promise.all(imgs.map(img => img.complete ? null : new Promise(done => {
    img.addEventListener("load", done); img.addEventListener("error", done); })));
  return imgs.filter(img => !(img.naturalWidth > 0)).map(img => img.getAttribute("src"));
}
"""

#: A table wider than the text is printed smaller, down to this zoom; below it, an error.
MIN_TABLE_ZOOM = 0.6

# Shrinks each table wider than its column to the column's width (not below minZoom).
_FIT_TABLES = """
(minZoom) => {
  for (const table of document.querySelectorAll("main table")) {
    const room = table.parentElement.clientWidth;
    if (table.scrollWidth > room + 1) {
      table.style.zoom = Math.max(minZoom, room / table.scrollWidth);
    }
  }
}
"""

# Figures and tables that would be cut at the right edge of the paper, or by a box that clips.
_CUT_OFF = """
() => {
  const limit = document.documentElement.clientWidth + 1;
  const root = document.querySelector("main") || document.body;
  const cut = [];
  for (const el of root.querySelectorAll("table, img, svg, pre, .pst-scrollable-table-container")) {
    const style = getComputedStyle(el);
    const box = el.getBoundingClientRect();
    if (box.width === 0 || el.closest("details:not([open])")) continue;
    const clips = !["visible", ""].includes(style.overflowX);
    if (box.right > limit || (clips && el.scrollWidth > el.clientWidth + 1)) {
      const name = el.id ? `#${el.id}` : (el.getAttribute("src") || el.className || "");
      cut.push(`<${el.tagName.toLowerCase()}> ${name}`.trim());
    }
  }
  return cut;
}
"""


# Chromium names a PDF destination after the id a link points to; pages printed apart share
# ids ("organizations" on every network page), so each page's targets get its own prefix.
_CHAPTER_IDS = """
(prefix) => {
  const links = Array.from(document.querySelectorAll('a[href^="#"]'))
    .filter(a => a.getAttribute("href").length > 1);
  for (const a of links) {
    const id = decodeURIComponent(a.getAttribute("href").slice(1));
    const target = document.getElementById(id);
    if (target) target.id = prefix + id;
    if (target || document.getElementById(prefix + id)) a.setAttribute("href", "#" + prefix + id);
  }
}
"""


def chapter_anchor(rel: str, fragment: str) -> str:
    """The PDF destination of ``#fragment`` on page ``rel`` (a path relative to the book).

    ``networks/metro_east.html#organizations`` -> ``networks.metro_east:organizations``: no
    ``/``, which a PDF name would have to escape.
    """
    return f"{rel.removesuffix('.html').replace('/', '.')}:{fragment}"


def print_page(page, url: str, where: str, rel: str) -> bytes:
    """Load ``url`` in ``page`` and print it to PDF bytes.

    Every image must have loaded and no figure or table may be cut off (a wide table is
    shrunk, down to ``MIN_TABLE_ZOOM``), or :class:`PdfBuildError` names the page and the
    element.
    """
    response = page.goto(url, wait_until="load", timeout=PAGE_TIMEOUT_MS)
    if response is None or response.status >= 400:
        status = "no response" if response is None else f"HTTP {response.status}"
        raise PdfBuildError(f"{where}: could not be loaded ({status})")
    page.add_style_tag(content=PRINT_CSS)
    broken = page.evaluate(_IMAGES_SETTLED)
    if broken:
        raise PdfBuildError(f"{where}: image(s) did not load: {', '.join(broken)}")
    page.evaluate(_CHAPTER_IDS, chapter_anchor(rel, ""))
    page.evaluate(_FIT_TABLES, MIN_TABLE_ZOOM)
    cut = page.evaluate(_CUT_OFF)
    if cut:
        raise PdfBuildError(f"{where}: too wide for the page, would be cut off: {'; '.join(cut)}")
    return page.pdf(
        format=PAPER["format"],
        scale=SCALE,
        print_background=True,
        margin={side: f"{mm}mm" for side, mm in MARGIN_MM.items()},
    )


def _link_chapters(writer, base_url: str, first_page: dict[str, int]) -> None:
    """Turn links to the local server into links inside the PDF (or drop them).

    Chromium writes a link to another page of the book as a URI on the temporary server,
    which means nothing once the server is gone: such a link goes to the section it names
    when the PDF has it, else to the first page of the chapter; a link to a page that is not
    in the PDF (the index, a notebook download) is dropped.
    """
    from pypdf.generic import ArrayObject, DictionaryObject, NameObject

    named = set(writer.named_destinations)
    for page in writer.pages:
        annots = page.get("/Annots")
        if not annots:
            continue
        kept = ArrayObject()
        for ref in annots.get_object():
            annot = ref.get_object()
            action = annot.get("/A")
            uri = str(action.get("/URI", "")) if action is not None else ""
            if not uri.startswith(base_url):
                kept.append(ref)
                continue
            parts = urlsplit(uri)
            target = unquote(parts.path).lstrip("/")
            if target not in first_page:
                continue
            # Chromium keys its destinations by PDF name: "/" + the element's id
            anchor = "/" + chapter_anchor(target, unquote(parts.fragment))
            if parts.fragment and anchor in named:
                dest = NameObject(anchor)
            else:
                page_ref = writer.pages[first_page[target]].indirect_reference
                dest = ArrayObject([page_ref, NameObject("/Fit")])
            annot[NameObject("/A")] = DictionaryObject(
                {NameObject("/S"): NameObject("/GoTo"), NameObject("/D"): dest}
            )
            kept.append(ref)
        page[NameObject("/Annots")] = kept


def build_pdf(html_dir: Path, out_pdf: Path) -> Path:
    """Print the built HTML book ``html_dir`` into one PDF, ``out_pdf``; return its path.

    Parameters
    ----------
    html_dir : Path
        A built book (``book/_build/html``): ``index.html`` and the pages it leads to.
    out_pdf : Path
        The PDF to write; written whole or not at all.

    Raises
    ------
    PdfBuildError
        No Chromium, no built book, a page of the table of contents missing, a page that
        did not load with all its images, or a figure or table too wide for the paper.
    """
    from pypdf import PdfReader, PdfWriter

    shown_dir = Path(html_dir)  # as given, for messages; served resolved (a symlink swaps)
    html_dir = shown_dir.resolve()
    out_pdf = Path(out_pdf)
    pages = reading_order(shown_dir)
    book_title = _head(html_dir / pages[0][0]).title.partition(" \N{EM DASH} ")[2].strip()
    writer = PdfWriter()
    first_page: dict[str, int] = {}
    with serve(html_dir) as server, chromium() as browser:
        # the width of the printed text, in print media: what is measured is what is printed
        context = browser.new_context(
            color_scheme="light", viewport={"width": PRINT_WIDTH_PX, "height": 1200}
        )
        page = context.new_page()
        page.emulate_media(media="print")
        for rel, title in pages:
            pdf = print_page(page, server.url + rel, str(shown_dir / rel), rel)
            first_page[rel] = len(writer.pages)
            writer.append(PdfReader(io.BytesIO(pdf)), outline_item=title, import_outline=False)
        context.close()
        _link_chapters(writer, server.url, first_page)
    writer.add_metadata({"/Title": book_title or pages[0][1], "/Creator": "compendium pdf"})
    buffer = io.BytesIO()
    writer.write(buffer)
    atomic_write_bytes(out_pdf, buffer.getvalue())
    return out_pdf


def count_pages(pdf: Path) -> int:
    """The number of pages of the PDF file ``pdf``."""
    from pypdf import PdfReader

    return len(PdfReader(pdf).pages)
