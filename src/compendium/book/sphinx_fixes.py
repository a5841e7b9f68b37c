"""A Sphinx extension the book loads (``_config.yml``): each inline script written once, every
page written again when the navigation changes, and page titles from the data shown as written.

Sphinx 7.4 writes an inline ``<script>`` that an extension registers after the builder has
started into every page twice (sphinx-doc/sphinx#13402, fixed in Sphinx 8.2, which Jupyter
Book 1.x cannot use). sphinx-thebe's declares ``const THEBE_JS_URL``, so its second copy
throws "Identifier 'THEBE_JS_URL' has already been declared" on every page.

A network page's title is the network's name, from the data (:mod:`compendium.book.assemble`
escapes it for MyST). Three parts of the Sphinx stack would still not show it as written:

* Sphinx's smart quotes turn its straight quotes into curly ones (and ``--`` into a dash);
* sphinx-book-theme writes ``pagetitle``, the title's plain text, unescaped into the print
  heading of every page (``<h1>{{ pagetitle }}</h1>``);
* Sphinx 7.4's search page shows the section titles it matched with ``innerHTML``, and its
  index holds them as plain text: a title holding ``<img onerror=...>`` runs on the search page.
"""

from __future__ import annotations

from docutils import nodes
from sphinx.transforms import SphinxTransform

from ..report.escape import html_text

#: Folders of the pages the book's assembly titles itself (``networks/<id>``,
#: ``settings/<setting>``): their titles may come from the data.
DATA_TITLED = ("networks/", "settings/")


def _script_key(script) -> tuple:
    # the first copy has filename None, the second "": the same inline script
    attributes = sorted(getattr(script, "attributes", {}).items())
    return (getattr(script, "filename", script) or "", getattr(script, "priority", 0), *attributes)


def drop_duplicate_scripts(app, pagename, templatename, context, doctree) -> None:
    """Keep the first of identical scripts in the page's ``script_files``, in order."""
    scripts = context.get("script_files")
    if not scripts:
        return
    seen: set[tuple] = set()
    unique = []
    for script in scripts:
        key = _script_key(script)
        if key not in seen:
            seen.add(key)
            unique.append(script)
    scripts[:] = unique


class TitleAsWritten(SphinxTransform):
    """Keep smart quotes off the title of a page titled from the data.

    Runs before Sphinx's smart quotes (priority 750), which skip the text under an element
    whose ``support_smartquotes`` is False; the title's text in the navigation, the
    ``<title>`` and the search index is collected after both.
    """

    default_priority = 740

    def apply(self, **kwargs) -> None:
        if not self.env.docname.startswith(DATA_TITLED):
            return
        for section in self.document.findall(nodes.section):
            section[0]["support_smartquotes"] = False  # its first child is its title
            break


def escape_print_title(app, pagename, templatename, context, doctree) -> None:
    """HTML-escape sphinx-book-theme's ``pagetitle``, which its template writes as it is."""
    if "pagetitle" in context:
        context["pagetitle"] = html_text(context["pagetitle"])


def escape_search_titles(app) -> None:
    """Make the HTML builder index section titles as HTML, as it already indexes page titles.

    The search page writes the matched titles with ``innerHTML``. Each page's titles are
    escaped once, as the page is indexed: the titles of pages not written again come back
    from the previous ``searchindex.js`` as they were written, escaped already.
    """
    builder = app.builder
    if not hasattr(builder, "index_page"):
        return
    index_page = builder.index_page

    def index_page_escaped(pagename, doctree, title):
        index_page(pagename, doctree, title)
        titles = getattr(builder.indexer, "_all_titles", {})  # Sphinx 7.4's IndexBuilder
        if pagename in titles:
            titles[pagename] = [(html_text(text), anchor) for text, anchor in titles[pagename]]

    builder.index_page = index_page_escaped


def setup(app):
    app.connect("html-page-context", drop_duplicate_scripts)
    # after sphinx-book-theme's add_metadata_to_page (priority 500), which sets pagetitle
    app.connect("html-page-context", escape_print_title, priority=900)
    app.connect("builder-inited", escape_search_titles)
    app.add_transform(TitleAsWritten)
    # A signature of the table of contents and the page titles (compendium.book.assemble).
    # Every page's sidebar shows them; a changed "html" value makes Sphinx write every page,
    # where it otherwise writes only the pages whose source changed.
    app.add_config_value("compendium_navigation", "", "html")
    return {"parallel_read_safe": True, "parallel_write_safe": True}
