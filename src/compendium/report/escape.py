"""Strings from the data escaped for where they land in the book: one escape per sink.

Every string of a data package or of an import (network and organization names, regions,
code labels and descriptions, ...) is untrusted text: the book is published on the web.
Each place such a string can land has one escape, defined here, and one place that
applies it:

===============================  ===============================  ===========================
sink                             applied in                       escape
===============================  ===============================  ===========================
HTML tables: cells, headers      ``report.publish.table``         :func:`html_table` (pandas
                                                                  Styler's ``escape="html"``,
                                                                  i.e. markupsafe)
MyST the book's assembly writes  ``book.assemble`` (page title,   :func:`myst_text`
                                 subtitle), ``book.results``      (CommonMark backslash
                                 (What changed page)              escapes)
matplotlib text: titles, ticks,  ``report.plots.setup``           :data:`PLOT_RC` (no
legends, annotations                                              mathtext)
Sphinx's search results          ``book.sphinx_fixes``            :func:`html_text`
                                                                  (markupsafe)
===============================  ===============================  ===========================

Glued text needs no escape and must get none: ``{glue:text}`` pastes a value's
``text/plain`` form as a docutils text node, which is never parsed as Markdown and which the
HTML writer escapes; backslash escapes there would be shown. (``{glue:md}`` would parse its
value: the book does not use it, and :func:`compendium.report.publish.glue_values` glues plain
text only.) The PDF is Chromium's print of the HTML pages, so it shows what they show.
"""

from __future__ import annotations

import re
import string

from markupsafe import escape

#: CommonMark's ASCII punctuation (spec §2.1), every one of which may be backslash-escaped.
_PUNCTUATION = re.compile("([" + re.escape(string.punctuation) + "])")

#: matplotlib settings under which any text, whatever its ``$`` signs, is drawn as written.
#: matplotlib's own mathtext goes too: a log axis is labelled in plain numbers instead
#: (:func:`compendium.report.plots.estimates`).
PLOT_RC = {"text.parse_math": False}


def myst_text(text: str) -> str:
    r"""``text`` as MyST Markdown that renders as exactly that text, on one line.

    Every ASCII punctuation character is backslash-escaped (CommonMark spec §2.4), so no
    emphasis, link, HTML, role (``{raw}`...```), substitution, ``$`` math, heading or table
    cell boundary can start inside it; line breaks become spaces, so it cannot open a block
    (a directive fence) either. Safe in a heading, a paragraph, emphasis and a table cell.

    Examples
    --------
    >>> myst_text("A<B & *C*")
    'A\\<B \\& \\*C\\*'
    """
    return _PUNCTUATION.sub(r"\\\1", " ".join(str(text).splitlines()))


def html_text(text: str) -> str:
    """``text`` as HTML text or attribute value: ``& < > " '`` as character references."""
    return str(escape(text))


def html_table(styler, formatter=None):
    """A pandas ``Styler`` whose cells and index and column labels are HTML-escaped.

    Styler writes cell values and labels into its HTML as they are; ``escape="html"`` makes
    it escape them (with markupsafe) before ``formatter`` formats a cell. Call it once, in
    place of ``styler.format(formatter)``: a later ``format`` call replaces the escaping.
    """
    return (
        styler.format(formatter, escape="html")
        .format_index(escape="html", axis="index")
        .format_index(escape="html", axis="columns")
    )
