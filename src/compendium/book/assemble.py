"""Assemble the Jupyter Book from the narrative and the executed notebooks, build it, publish it.

The book is assembled in ``build/book`` (a staging source tree that Sphinx
builds incrementally: files are rewritten only when they change) and the
finished HTML is published by an atomic symlink swap, so a reader of
``book/_build/html`` sees either the last good book or the new one, never a
half-built one.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import time
from pathlib import Path

import yaml

from ..data import schema
from ..data.plan import Plan
from ..fsutil import write_if_changed
from ..paths import CROSS_NETWORK, ProjectPaths
from ..provenance import git_commit
from ..report.escape import myst_text
from .dictionary import dictionary_markdown
from .results import (
    RECORD_FILE,
    glued_values,
    load_record,
    provenance_markdown,
    record,
    save_record,
    what_changed_markdown,
)

#: Chapters in reading order, by part; a chapter is listed only if its file exists.
FRONT = ["methods", "models"]
ACROSS = ["overview", "qualitative", "outcomes"]
CONTEXT = ["policy", "policy_timeline", "debate", "limitations"]
REFERENCE = ["data_dictionary", "what_changed", "bibliography"]

NARRATIVE_SUFFIXES = {".md", ".bib", ".yml", ".yaml", ".png", ".svg", ".ico", ".css", ".js"}


class BookBuildError(RuntimeError):
    """Sphinx / Jupyter Book reported an error or a warning."""


def _chapter(stage: Path, name: str) -> dict | None:
    for suffix in (".md", ".ipynb"):
        if (stage / f"{name}{suffix}").exists():
            return {"file": name}
    return None


def table_of_contents(stage: Path, plan: Plan) -> dict:
    """The ``_toc.yml`` for the staged book, generated from the plan (the data)."""
    parts = []

    def part(caption: str, names: list[str]) -> None:
        chapters = [c for c in (_chapter(stage, n) for n in names) if c]
        if chapters:
            parts.append({"caption": caption, "chapters": chapters})

    part("The study", FRONT)
    part("Networks", [f"networks/{n}" for n in sorted(plan.networks)])
    part("Settings", [f"settings/{s}" for s in plan.settings])
    part("Across networks", ACROSS)
    part("Context", CONTEXT)
    part("Reference", REFERENCE)
    return {"format": "jb-book", "root": "intro", "parts": parts}


def data_banner(plan: Plan) -> str:
    """The banner every page carries: what kind of data the book was built from."""
    # No data hash here: the banner is in the Sphinx configuration, and a configuration that
    # changed with the data would make Sphinx write every page after any edit. The hash is
    # in each computed page's provenance note and on the "What changed" page.
    if plan.synthetic:
        return (
            "Built from SYNTHETIC data: no result describes a real network, organization or person."
        )
    return "Built from NON-SYNTHETIC data: not for release before disclosure review."


def staged_config(text: bytes, plan: Plan, navigation: str = "") -> str:
    """The book's ``_config.yml`` with the data banner and the navigation's signature added.

    ``navigation`` changes when a page's title or the table of contents does: every
    page's sidebar lists them, so Sphinx must then write every page, not only the
    changed ones (see :mod:`compendium.book.sphinx_fixes`).
    """
    config = yaml.safe_load(text) or {}
    config.setdefault("html", {})["announcement"] = data_banner(plan)
    config.setdefault("sphinx", {}).setdefault("config", {})["compendium_navigation"] = navigation
    return yaml.safe_dump(config, sort_keys=False, allow_unicode=True)


#: A narrative page's paste of a value glued in a notebook: ``{glue:text}`overview.ipynb::name```
#: or a glue directive's ``:doc:`` option (``:doc: overview`` or ``:doc: overview.ipynb``)
_PASTE = re.compile(r"([\w./-]+\.ipynb)::|^\s*:doc:\s*([\w./-]+)", re.MULTILINE)


def pasted_notebooks(markdown: str) -> set[str]:
    """The notebooks (paths relative to the book) a narrative page pastes values from."""
    found = set()
    for role, option in _PASTE.findall(markdown):
        name = role or option
        found.add(name if name.endswith(".ipynb") else f"{name}.ipynb")
    return found


def page_title(text: str) -> str:
    """The first level-one heading of a Markdown page (or a notebook's first cell)."""
    for line in text.splitlines():
        if line.startswith("# "):
            return line[2:].strip()
    return ""


def _title_cell(nb, title: str | None, subtitle: str) -> None:
    """Give an executed notebook its page title and subtitle.

    The per-network and per-setting templates have a generic first heading,
    replaced by ``title``; a cross-network notebook keeps its own (``title=None``).
    ``title`` and ``subtitle`` are plain text (a network's name comes from the data):
    they are escaped for MyST, and read as written in the page, its navigation and
    its ``<title>``.
    """
    first = nb.cells[0]
    if first.cell_type != "markdown" or not first.source.lstrip().startswith("# "):
        template = nb.metadata.get("compendium", {}).get("template")
        raise BookBuildError(f"{template}: the first cell must be a '# ' title")
    heading, _, rest = first.source.lstrip().partition("\n")
    heading = f"# {myst_text(title)}" if title else heading
    first.source = f"{heading}\n\n*{myst_text(subtitle)}*\n{rest}"


def stage_notebook(
    src: Path, dest: Path, title: str | None, subtitle: str
) -> tuple[bool, dict, str]:
    """Copy an executed notebook into the book: title, hidden parameters, provenance.

    Returns
    -------
    (bool, dict, str)
        Whether the staged file changed, the notebook's glued values, and its page title.
    """
    import nbformat

    nb = nbformat.read(src, as_version=4)
    _title_cell(nb, title, subtitle)
    for cell in nb.cells:
        tags = cell.metadata.get("tags", [])
        if "parameters" in tags:  # the template's defaults; the injected values are what ran
            cell.metadata["tags"] = [*tags, "remove-cell"]
        elif "injected-parameters" in tags:
            cell.metadata["tags"] = [*tags, "hide-cell"]
    # A fixed id: a random one would change the staged file at every build, and Sphinx
    # would read every page again instead of the changed ones.
    nb.cells.append(
        nbformat.v4.new_markdown_cell(provenance_markdown(nb.metadata), id="compendium-provenance")
    )
    changed = write_if_changed(dest, nbformat.writes(nb))
    return changed, glued_values(nb), page_title(nb.cells[0].source)


def assemble(paths: ProjectPaths, plan: Plan) -> list[Path]:
    """Copy narrative and executed notebooks into the staging tree.

    Returns
    -------
    (list of Path, dict)
        The staged files that changed, and this build's record of computed results.
    """
    stage_dir = paths.book_stage
    changed: list[Path] = []
    wanted: set[Path] = set()
    titles: dict[str, str] = {}
    pastes: dict[Path, set[str]] = {}  # narrative page -> the notebooks it pastes values from
    for src in sorted(paths.book_dir.rglob("*")):
        rel = src.relative_to(paths.book_dir)
        if rel.parts[0] in {"_build"} or not src.is_file() or src.suffix not in NARRATIVE_SUFFIXES:
            continue
        if rel.name == "_toc.yml":
            continue  # generated below
        if rel.as_posix() == "_config.yml":
            continue  # staged last: it holds the navigation's signature
        dest = stage_dir / rel
        wanted.add(dest)
        content = src.read_bytes()
        if dest.suffix == ".md":
            text = content.decode("utf-8")
            titles[rel.with_suffix("").as_posix()] = page_title(text)
            pastes[dest] = pasted_notebooks(text)
        if write_if_changed(dest, content):
            changed.append(dest)

    data_note = (
        "synthetic data"
        if plan.synthetic
        else "NON-SYNTHETIC data: not for release before disclosure review"
    )
    pages: dict[str, dict[str, str]] = {}

    def stage(src: Path, page: str, title: str | None, subtitle: str) -> None:
        dest = stage_dir / f"{page}.ipynb"
        wanted.add(dest)
        was_changed, pages[page], titles[page] = stage_notebook(src, dest, title, subtitle)
        if was_changed:
            changed.append(dest)

    for network_id, setting in sorted(plan.networks.items()):
        label = schema.SETTING_LABELS[setting]
        stage(
            paths.executed_network(network_id),
            f"networks/{network_id}",
            plan.names[network_id],
            f"Network {network_id} · {label} setting · {data_note}",
        )
    for setting in plan.settings:
        label = schema.SETTING_LABELS[setting]
        stage(
            paths.executed_setting(setting),
            f"settings/{setting}",
            f"{label} networks",
            f"The networks of the {label.lower()} setting compared · {data_note}",
        )
    for name, reads_data in CROSS_NETWORK.items():
        subtitle = (
            f"All networks · {data_note}" if reads_data else "Computed from the package's tables"
        )
        stage(paths.executed_cross(name), name, None, subtitle)

    current = record(pages, plan.data_hash, git_commit(paths.root))
    previous = load_record(paths.build_dir / "results" / RECORD_FILE)
    for name, text in (
        ("data_dictionary.md", dictionary_markdown()),
        ("what_changed.md", what_changed_markdown(previous, current, set(pages))),
    ):
        dest = stage_dir / name
        wanted.add(dest)
        titles[dest.stem] = page_title(text)
        if write_if_changed(dest, text):
            changed.append(dest)

    toc = stage_dir / "_toc.yml"
    wanted.add(toc)
    toc_text = yaml.safe_dump(table_of_contents(stage_dir, plan), sort_keys=False)
    if write_if_changed(toc, toc_text):
        changed.append(toc)
    navigation = hashlib.sha256(
        (toc_text + "\n".join(f"{k}\t{v}" for k, v in sorted(titles.items()))).encode()
    ).hexdigest()[:16]
    config = stage_dir / "_config.yml"
    wanted.add(config)
    text = staged_config((paths.book_dir / "_config.yml").read_bytes(), plan, navigation)
    if write_if_changed(config, text):
        changed.append(config)
    # Sphinx reads again only the pages whose file changed; a page pasting values glued in
    # a notebook that changed must be read (and written) again too, or it shows old values.
    changed_files = {p.resolve() for p in changed}
    for page, pasted in pastes.items():
        # a pasted notebook's path is relative to the page's folder
        if page not in changed and any(
            (page.parent / n).resolve() in changed_files for n in pasted
        ):
            os.utime(page)
            changed.append(page)
    # A network that left the data must leave the book too. Sphinx's incremental output would
    # keep the departed page's HTML, so its build folder starts afresh (rare: data removed).
    removed = [
        old
        for old in stage_dir.rglob("*")
        if old.is_file() and "_build" not in old.relative_to(stage_dir).parts and old not in wanted
    ]
    for old in removed:
        old.unlink()
    if removed:
        shutil.rmtree(stage_dir / "_build", ignore_errors=True)
    return changed, current


def build_html(paths: ProjectPaths, log_path: Path) -> Path:
    """Run Jupyter Book (execution off, warnings are errors) on the staged tree.

    In this process, not a new one: the book job's process (or the build's warm
    book builder) has imported Jupyter Book and Sphinx for it.
    """
    import contextlib
    import traceback

    from jupyter_book.cli.main import main as jupyter_book

    args = ["build", str(paths.book_stage), "--builder", "html", "-W", "-n", "--keep-going"]
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with (
        open(log_path, "w", encoding="utf-8") as log,
        contextlib.redirect_stdout(log),
        contextlib.redirect_stderr(log),
    ):
        try:
            jupyter_book(args, standalone_mode=False)
            returncode = 0
        except SystemExit as stop:  # a failed build exits with its status
            returncode = stop.code if isinstance(stop.code, int) else 1
        except Exception:
            traceback.print_exc(file=log)
            returncode = 1
    if returncode != 0:
        lines = log_path.read_text(encoding="utf-8").splitlines()
        problems = [ln for ln in lines if "WARNING" in ln or "ERROR" in ln] or lines[-10:]
        raise BookBuildError(
            "Jupyter Book failed:\n    "
            + "\n    ".join(problems[:15])
            + f"\n    full log: {log_path}"
        )
    return paths.book_stage / "_build" / "html"


def publish(built_html: Path, html_dir: Path) -> Path:
    """Atomically make ``html_dir`` point at a fresh copy of ``built_html``.

    ``html_dir`` is a symlink to a versioned sibling folder; the swap is one
    :func:`os.replace`, and the previous version is removed only afterwards.
    """
    html_dir = Path(html_dir)
    parent = html_dir.parent
    parent.mkdir(parents=True, exist_ok=True)
    version = parent / f".{html_dir.name}-{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}"
    shutil.copytree(built_html, version, symlinks=False)
    previous = html_dir.resolve() if html_dir.is_symlink() else None
    tmp_link = parent / f".{html_dir.name}.link-{os.getpid()}"
    tmp_link.unlink(missing_ok=True)
    os.symlink(version.name, tmp_link)
    if html_dir.exists() and not html_dir.is_symlink():
        # A real folder from an older layout: move it aside first (not atomic, once only).
        aside = parent / f".{html_dir.name}-old-{os.getpid()}"
        html_dir.rename(aside)
        previous = aside
    os.replace(tmp_link, html_dir)
    if previous is not None and previous.exists() and previous != version:
        shutil.rmtree(previous, ignore_errors=True)
    # Leftovers of builds killed between copy and swap.
    for stale in parent.glob(f".{html_dir.name}-*"):
        if stale != version and stale.is_dir():
            shutil.rmtree(stale, ignore_errors=True)
    return html_dir


def build_book(paths: ProjectPaths, plan: Plan) -> Path:
    """Assemble, build and publish; return the published HTML folder."""
    _, current = assemble(paths, plan)
    built = build_html(paths, paths.logs_dir / "jupyter-book.log")
    published = publish(built, paths.html_dir)
    # Only a published build becomes the reference for the next "What changed" page.
    save_record(paths.build_dir / "results" / RECORD_FILE, current)
    return published
