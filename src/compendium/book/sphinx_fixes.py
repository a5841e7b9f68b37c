"""A Sphinx extension the book loads (``_config.yml``): each inline script written once,
and every page written again when the navigation changes.

Sphinx 7.4 writes an inline ``<script>`` that an extension registers after the builder has
started into every page twice (sphinx-doc/sphinx#13402, fixed in Sphinx 8.2, which Jupyter
Book 1.x cannot use). sphinx-thebe's declares ``const THEBE_JS_URL``, so its second copy
throws "Identifier 'THEBE_JS_URL' has already been declared" on every page.
"""

from __future__ import annotations


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


def setup(app):
    app.connect("html-page-context", drop_duplicate_scripts)
    # A signature of the table of contents and the page titles (compendium.book.assemble).
    # Every page's sidebar shows them; a changed "html" value makes Sphinx write every page,
    # where it otherwise writes only the pages whose source changed.
    app.add_config_value("compendium_navigation", "", "html")
    return {"parallel_read_safe": True, "parallel_write_safe": True}
