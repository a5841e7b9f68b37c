"""A book built from hostile names shows them as written and runs none of them.

The generated three-network package gets names, regions, organization names, code labels
and descriptions that carry HTML, JavaScript URLs, MyST roles and directives, LaTeX and
``$`` signs and Markdown. The package still validates (identifiers are restricted and stay
plain); the book builds; every page of it, opened in headless Chromium, opens no dialog,
logs no error, loads nothing that fails, holds no element, attribute or script made from
the data, and shows each name where the book puts it, character for character: a network's
name as its page's title and in every page's navigation, and names and code labels in the
tables.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

import pytest

from compendium.book import pdf
from compendium.data import schema
from compendium.data.read import load
from compendium.data.write import table_to_csv, update_tables

from .conftest import compendium, make_project, paths_of, require_chromium
from .test_browser import FIRST_VISIT_THEME_MESSAGE, book_pages

LITERAL = 'A<B & "C" $5 {raw}'
#: The three networks' names: each one page title, navigation entry and table row.
NETWORK_NAMES = [
    LITERAL,
    "<img src=x onerror=alert(2)> {raw}`html <b>x</b>`",
    "<script>alert(1)</script> [link](javascript:alert(5)) $\\frac{1}{2}$ **bold**",
]
#: Labels of the facilitator and obstacle codes, which the qualitative page tabulates.
CODE_LABELS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(2)>",
    "<svg onload=alert(3)>",
    "javascript:alert(4)",
    "{raw}`html <b>x</b>`",
    "```{raw} html",
    "Shared\n```{raw} html\n<svg onload=alert(6)>\n```",
    "$\\frac{1}{2}$",
    "$5",
    "**bold** _it_ `code` {{ sub }}",
    "[link](javascript:alert(5))",
    LITERAL,
]
#: Strings the book does not show today; they are hostile all the same.
UNSHOWN = [
    "<script>alert(7)</script>",
    "[x](javascript:alert(8)) $a$",
    "```{raw} html\n<img src=x onerror=alert(9)>\n```",
]
#: Attributes whose value is a URL, which ``javascript:`` would make a script.
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "data"}


def flat(text: str) -> str:
    """Text as a browser lays it out: runs of white space as one space."""
    return " ".join(text.split())


def make_hostile(data: Path) -> None:
    """Give the package's free-text fields hostile values; validate; write."""
    tables = load(data)
    nets = tables["networks"]
    assert len(nets) == len(NETWORK_NAMES)
    nets["name"] = NETWORK_NAMES
    nets["region"] = [UNSHOWN[i % len(UNSHOWN)] for i in range(len(nets))]
    orgs = tables["organizations"]
    orgs["name"] = [f"{UNSHOWN[i % len(UNSHOWN)]} {i}" for i in range(len(orgs))]
    book = tables["codebook"]
    children = book["category"].isin(["facilitator", "obstacle"]) & book["parent_code"].notna()
    assert children.sum() == len(CODE_LABELS)
    book.loc[children, "label"] = CODE_LABELS
    book["description"] = [UNSHOWN[i % len(UNSHOWN)] for i in range(len(book))]
    texts = {
        t.name: table_to_csv(tables[t.name], t)
        for t in schema.TABLES
        if t.name in {"networks", "organizations", "codebook"}
    }
    update_tables(data, texts)  # validates the whole package first
    assert list(load(data)["networks"]["name"]) == NETWORK_NAMES


@pytest.fixture(scope="module")
def hostile_book(tmp_path_factory) -> tuple[Path, Path]:
    """(project root, published HTML folder) of the book built from the hostile package."""
    root = make_project(tmp_path_factory, "hostile-book", seed=5, n_networks=3)
    make_hostile(root / "data")
    proc = compendium(root, "build", "--cores", "2")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return root, paths_of(root).html_dir


#: The page's texts the test compares, read in the browser.
_READ_PAGE = """() => {
  const clean = (el) => {
    const copy = el.cloneNode(true);
    copy.querySelectorAll(".headerlink").forEach((a) => a.remove());
    return copy.textContent.trim();
  };
  const h1 = document.querySelector("main h1");
  const attributes = [];
  for (const el of document.querySelectorAll("*"))
    for (const a of el.attributes) attributes.push([el.tagName, a.name, a.value]);
  return {
    title: document.title,
    h1: h1 ? clean(h1) : null,
    nav: Array.from(document.querySelectorAll("nav.bd-docs-nav a")).map(clean),
    cells: Array.from(document.querySelectorAll("main td, main th")).map(clean),
    scripts: Array.from(document.scripts).map((s) => s.text),
    attributes,
    bold: Array.from(document.querySelectorAll("main b")).map((b) => b.textContent),
  };
}"""


@pytest.mark.slow
def test_hostile_names_read_as_written_on_every_page(hostile_book):
    require_chromium()
    root, html_dir = hostile_book
    nets = load(root / "data")["networks"].set_index("network_id")
    pages = [p.relative_to(html_dir).as_posix() for p in book_pages(html_dir)]
    assert {f"networks/{n}.html" for n in nets.index} <= set(pages)
    problems: list[str] = []
    seen: dict[str, dict] = {}

    def watch(page, where: list[str]):
        def on_console(msg):
            if msg.type == "error" and msg.text != FIRST_VISIT_THEME_MESSAGE:
                problems.append(f"{where[0]}: console error: {msg.text}")

        def on_dialog(dialog):
            problems.append(f"{where[0]}: a {dialog.type} opened: {dialog.message!r}")
            dialog.dismiss()

        page.on("console", on_console)
        page.on("dialog", on_dialog)
        page.on("pageerror", lambda err: problems.append(f"{where[0]}: uncaught error: {err}"))
        page.on(
            "requestfailed", lambda r: problems.append(f"{where[0]}: failed: {r.url} {r.failure}")
        )
        page.on(
            "response",
            lambda r: r.status >= 400 and problems.append(f"{where[0]}: HTTP {r.status} {r.url}"),
        )

    with pdf.serve(html_dir) as server, pdf.chromium() as browser:
        context = browser.new_context()
        page = context.new_page()
        where = [""]
        watch(page, where)
        for rel in pages:
            where[0] = rel
            page.goto(server.url + rel, wait_until="networkidle")
            seen[rel] = page.evaluate(_READ_PAGE)
        # Sphinx's search lists the section titles matching a query
        for name in NETWORK_NAMES:
            where[0] = f"search for {name!r}"
            page.goto(f"{server.url}search.html?q={quote(name)}", wait_until="networkidle")
            page.wait_for_function(
                "() => !document.querySelector('#search-progress')?.textContent.trim()"
            )
            seen[where[0]] = page.evaluate(_READ_PAGE)
            results = [flat(a) for a in page.locator("#search-results a").all_inner_texts()]
            if not any(name in a for a in results):
                problems.append(f"{where[0]}: no result reads {name!r}: {results}")
        context.close()

    for rel, read in seen.items():
        problems += [
            f"{rel}: a script made from the data: {s[:80]!r}"
            for s in read["scripts"]
            if "alert(" in s
        ]
        problems += [
            f"{rel}: <{tag.lower()} {name}={value[:80]!r}> made from the data"
            for tag, name, value in read["attributes"]
            if (name.startswith("on") and "alert(" in value)
            or (name in URL_ATTRIBUTES and value.strip().lower().startswith("javascript:"))
        ]
        problems += [f"{rel}: a <b> from the data" for b in read["bold"] if b == "x"]
        nav = [flat(a) for a in read["nav"]]
        if rel.endswith(".html"):
            problems += [
                f"{rel}: {n!r} not in the navigation" for n in NETWORK_NAMES if n not in nav
            ]
    for network_id, row in nets.iterrows():
        read = seen[f"networks/{network_id}.html"]
        if read["h1"] != row["name"]:
            problems.append(f"networks/{network_id}.html: title {read['h1']!r} != {row['name']!r}")
        if not read["title"].startswith(row["name"] + " "):
            problems.append(f"networks/{network_id}.html: <title> {read['title']!r}")
    overview = [flat(c) for c in seen["overview.html"]["cells"]]
    problems += [f"overview.html: no cell reads {n!r}" for n in NETWORK_NAMES if n not in overview]
    qualitative = [flat(c) for c in seen["qualitative.html"]["cells"]]
    problems += [
        f"qualitative.html: no cell reads {flat(label)!r}"
        for label in CODE_LABELS
        if flat(label) not in qualitative
    ]
    assert not problems, "\n".join(problems)
