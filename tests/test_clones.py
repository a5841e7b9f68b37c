"""Nothing of the builder's machine in the book: two clones in different folders, the same pages.

Two copies of the project, in folders of different names and depths, build the same data
package. Every HTML page must be the same in both once the one part that is expected to
differ is normalised: the provenance note's execution time and duration (the
"Executed | <date time> UTC in <seconds> s" row), which say when a page was computed.
Nothing else is normalised: a path, a user name or a warning in a page would differ between
the clones or be caught by the checks below.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import sys
from pathlib import Path

import pytest

from .conftest import compendium as run_compendium
from .conftest import copy_project

pytestmark = pytest.mark.slow

#: The provenance note's "Executed" cell: when the notebook ran and for how long.
EXECUTED = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC in \d+(?:\.\d+)? s")


def normalised(page: bytes) -> str:
    return EXECUTED.sub("<time> UTC in <seconds> s", page.decode("utf-8"))


def html_folder(root: Path) -> Path:
    return (root / "book" / "_build" / "html").resolve()


@pytest.fixture(scope="module")
def clones(tmp_path_factory) -> tuple[Path, Path]:
    base = tmp_path_factory.mktemp("clones")
    first = copy_project(base / "alice" / "compendium", seed=5, n_networks=3)
    second = base / "bob-on-another-machine" / "work" / "my clone"
    for folder in ("notebooks", "workflow", "book", "data"):
        shutil.copytree(first / folder, second / folder)
    for root in (first, second):
        proc = run_compendium(root, "build", "--cores", "2")
        assert proc.returncode == 0, proc.stdout + proc.stderr
    return first, second


def files(folder: Path) -> dict[str, Path]:
    return {p.relative_to(folder).as_posix(): p for p in sorted(folder.rglob("*")) if p.is_file()}


def test_two_clones_build_identical_pages(clones):
    first, second = (files(html_folder(root)) for root in clones)
    assert first.keys() == second.keys()  # figures too: their names are digests of their bytes
    pages = [name for name in first if name.endswith(".html")]
    assert any(name.startswith("networks/") for name in pages)
    differ = [
        name
        for name in pages
        if normalised(first[name].read_bytes()) != normalised(second[name].read_bytes())
    ]
    assert differ == []
    images = [name for name in first if name.startswith("_images/")]
    assert images and all(first[n].read_bytes() == second[n].read_bytes() for n in images)


def visible_text(page: str) -> str:
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    return re.sub(r"<[^>]+>", " ", page)


def test_no_page_names_the_builders_machine(clones):
    user = os.environ.get("USER") or Path.home().name
    words = [w for w in (user, socket.gethostname()) if w]
    for root in clones:
        html = html_folder(root)
        # the folders of the clone, of the user and of the interpreter, as this machine spells them
        folders = {str(root), str(root.resolve()), sys.prefix, sys.base_prefix}
        folders |= {str(Path.home()).rstrip("/") + "/"} - {"/"}
        for name, path in files(html).items():
            if name.startswith("_static/"):
                continue  # the theme's own files, copied from the installed packages
            text = path.read_text(encoding="utf-8", errors="replace")
            assert [f for f in folders if f in text] == [], name
            if name.endswith(".html"):
                assert 'class="output stderr' not in text, f"{name}: stderr in the page"
                shown = visible_text(text)
                assert [w for w in words if re.search(rf"\b{re.escape(w)}\b", shown)] == [], name


def test_the_parameters_cell_names_the_slice_relative_to_the_build(clones):
    pages = files(html_folder(clones[0]))
    network = next(n for n in pages if n.startswith("networks/") and n.endswith(".html"))
    shown = visible_text(pages[network].read_text(encoding="utf-8"))
    assert f"slices/networks/{Path(network).stem}" in shown
