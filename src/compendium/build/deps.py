"""What a result depends on in the package source, computed from the code's own imports.

A notebook run depends on the package files its code cells import, transitively,
and on the code that executes it and injects its parameters and provenance; the
book depends on the code that assembles it. Nothing here is a list of module
names to keep up to date: the import statements of the code are read with
:mod:`ast` (those inside functions too, since they run when the function does),
so editing the REFI-QDA importer re-runs no notebook and editing the job runner
re-runs them all.

A module also depends on the packages above it (their ``__init__.py`` runs when
it is imported) and on the shipped resource files it names, either by file name
or by the :mod:`compendium.paths` constant bound to that file.
"""

from __future__ import annotations

import ast
import json
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from ..paths import PACKAGE_DIR

PACKAGE = "compendium"

#: The code a notebook run goes through besides the notebook's own imports: the job's
#: command line (``python -m compendium run-notebook``) and the warm-kernel runner, which
#: both reach the job body that injects parameters and provenance and calls papermill.
NOTEBOOK_RUNNER = (f"{PACKAGE}.__main__", f"{PACKAGE}.cli.run_notebook", f"{PACKAGE}.run.kernels")
#: The code the book job goes through (``python -m compendium build-book``, the book builder),
#: and the Sphinx extension the book's ``_config.yml`` loads by name, which nothing imports.
BOOK_BUILDER = (
    f"{PACKAGE}.__main__",
    f"{PACKAGE}.cli.build_book",
    f"{PACKAGE}.run.book_builder",
    f"{PACKAGE}.book.sphinx_fixes",
)
#: The code that validates and slices the data package.
PREPARE = (f"{PACKAGE}.build.plan",)


@dataclass(frozen=True)
class ImportGraph:
    """The package's modules, what each imports of the package, and the resources each names.

    Attributes
    ----------
    files : dict
        Module name (``compendium.analysis.network``) -> its file.
    imports : dict
        Module name -> the package's modules it imports (parents excluded).
    resources : dict
        Module name -> the resource files it names.
    """

    files: dict[str, Path]
    imports: dict[str, frozenset[str]]
    resources: dict[str, frozenset[Path]]

    def closure(self, roots: Iterable[str]) -> set[str]:
        """``roots`` and every module of the package they import, transitively.

        Raises
        ------
        KeyError
            When a root is not a module of the package.
        """
        seen: set[str] = set()
        todo = list(roots)
        for name in todo:
            if name not in self.files:
                raise KeyError(f"{name} is not a module of {PACKAGE}")
        while todo:
            name = todo.pop()
            if name in seen:
                continue
            seen.add(name)
            todo.extend(self.imports[name] - seen)
            todo.extend(p for p in _parents(name) if p in self.files and p not in seen)
        return seen

    def files_of(self, modules: Iterable[str]) -> list[Path]:
        """The source files of ``modules`` and the resource files they name, sorted."""
        out: set[Path] = set()
        for name in modules:
            out.add(self.files[name])
            out.update(self.resources[name])
        return sorted(out)


def _parents(name: str) -> list[str]:
    parts = name.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]


def _module_name(path: Path, source: Path) -> str:
    parts = list(path.relative_to(source).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join([PACKAGE, *parts])


def imported_modules(tree: ast.AST, module: str, is_package: bool, known: set[str]) -> set[str]:
    """The modules of ``known`` that the code in ``tree`` imports.

    ``module`` is the name the code runs as (relative imports are resolved
    against it). ``from X import a`` imports ``X.a`` when that is a module, and
    ``X`` itself in every case.
    """
    package = module if is_package else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                found.add(alias.name)
                found.update(_parents(alias.name))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base_parts = package.split(".")
                if node.level > 1:
                    base_parts = base_parts[: len(base_parts) - (node.level - 1)]
                base = ".".join(base_parts + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            found.add(base)
            found.update(_parents(base))
            for alias in node.names:
                found.add(f"{base}.{alias.name}")
    return {m for m in found if m in known}


def _resource_names(paths_file: Path) -> dict[str, Path]:
    """``compendium.paths`` constants bound to a resource file: ``NAME = RESOURCES_DIR / "f"``."""
    out = {}
    for node in ast.parse(paths_file.read_text()).body:
        if (
            isinstance(node, ast.Assign)
            and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name)
            and isinstance(node.value, ast.BinOp)
            and isinstance(node.value.left, ast.Name)
            and node.value.left.id == "RESOURCES_DIR"
            and isinstance(node.value.right, ast.Constant)
        ):
            out[node.targets[0].id] = paths_file.parent / "resources" / node.value.right.value
    return out


def _named_resources(tree: ast.AST, constants: dict[str, Path]) -> set[Path]:
    by_file_name = {p.name: p for p in constants.values()}
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id in constants:
            out.add(constants[node.id])
        elif isinstance(node, ast.alias) and node.name in constants:
            out.add(constants[node.name])
        elif isinstance(node, ast.Attribute) and node.attr in constants:
            out.add(constants[node.attr])
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            if node.value in by_file_name:
                out.add(by_file_name[node.value])
    return out


def import_graph(source: Path = PACKAGE_DIR) -> ImportGraph:
    """Read every module of the package in ``source`` (its folder) and its imports."""
    return _import_graph(Path(source).resolve(), _source_signature(Path(source).resolve()))


def _source_signature(source: Path) -> tuple:
    # a cache key that changes when a file is edited (the watch process lives long)
    return tuple(
        (str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in sorted(source.rglob("*.py"))
    )


@lru_cache(maxsize=4)
def _import_graph(source: Path, _signature: tuple) -> ImportGraph:
    files = {
        _module_name(p, source): p
        for p in sorted(source.rglob("*.py"))
        if "__pycache__" not in p.parts
    }
    known = set(files)
    constants = _resource_names(source / "paths.py")
    imports, resources = {}, {}
    for name, path in files.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        found = imported_modules(tree, name, path.name == "__init__.py", known)
        imports[name] = frozenset(found - {name} - set(_parents(name)))
        # paths.py defines every constant; it reads none of the files
        named = _named_resources(tree, constants) if name != f"{PACKAGE}.paths" else set()
        resources[name] = frozenset(p for p in named if p.exists())
    return ImportGraph(files, imports, resources)


def notebook_imports(notebook: Path, graph: ImportGraph) -> set[str]:
    """The package's modules that the code cells of a notebook import (not transitively).

    IPython magics and shell lines (``%``, ``!``) are left out before parsing.
    """
    nb = json.loads(Path(notebook).read_text(encoding="utf-8"))
    found: set[str] = set()
    known = set(graph.files)
    for cell in nb.get("cells", []):
        if cell.get("cell_type") != "code":
            continue
        text = cell.get("source", "")
        text = "".join(text) if isinstance(text, list) else text
        code = "\n".join(
            "" if line.lstrip().startswith(("%", "!")) else line for line in text.splitlines()
        )
        found |= imported_modules(ast.parse(code), "__main__", False, known)
    return found


def notebook_run_files(notebook: Path, source: Path = PACKAGE_DIR) -> list[Path]:
    """The package files a run of ``notebook`` depends on: what its code imports, transitively,
    and the code that executes it (:data:`NOTEBOOK_RUNNER`)."""
    graph = import_graph(source)
    return graph.files_of(graph.closure(notebook_imports(notebook, graph) | set(NOTEBOOK_RUNNER)))


def book_files(source: Path = PACKAGE_DIR) -> list[Path]:
    """The package files the book job depends on (:data:`BOOK_BUILDER`, transitively)."""
    graph = import_graph(source)
    return graph.files_of(graph.closure(BOOK_BUILDER))


def prepare_files(source: Path = PACKAGE_DIR) -> list[Path]:
    """The package files that validating and slicing the data depend on (:data:`PREPARE`)."""
    graph = import_graph(source)
    return graph.files_of(graph.closure(PREPARE))
