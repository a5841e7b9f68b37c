"""Where a build's files go: ProjectPaths, default_paths and find_root."""

from __future__ import annotations

import os
import socket
import tempfile
from pathlib import Path

import pytest

from compendium import paths as paths_module
from compendium.data.plan import Plan
from compendium.paths import CROSS_NETWORK, ProjectPaths, default_paths, find_root

from .conftest import REPO


def _paths(tmp_path: Path, build: Path | None = None) -> ProjectPaths:
    return ProjectPaths(
        root=tmp_path / "repo",
        data_dir=tmp_path / "data",
        build_dir=build or tmp_path / "build",
        html_dir=tmp_path / "site" / "html",
    )


def test_sources_are_found_under_the_root(tmp_path):
    p = _paths(tmp_path)
    root = tmp_path / "repo"
    assert p.notebooks_dir == root / "notebooks"
    assert p.notebook("overview") == root / "notebooks" / "overview.ipynb"
    assert p.book_dir == root / "book"
    assert p.snakefile == root / "workflow" / "Snakefile"
    assert (p.package_source / "paths.py").is_file()


def test_build_products_are_derived_from_the_build_folder(tmp_path):
    p = _paths(tmp_path)
    build = tmp_path / "build"
    assert p.slices_dir == build / "slices"
    assert p.network_slice("n01") == build / "slices" / "networks" / "n01"
    assert p.setting_slice("rural") == build / "slices" / "settings" / "rural"
    assert p.all_networks_slice == build / "slices" / "all"
    assert p.shared_slice == build / "slices" / "shared"
    assert p.executed_network("n01") == build / "executed" / "networks" / "n01.ipynb"
    assert p.executed_setting("rural") == build / "executed" / "settings" / "rural.ipynb"
    assert p.executed_cross("overview") == build / "executed" / "overview.ipynb"
    assert p.logs_dir == build / "logs"
    assert p.book_stage == build / "book"
    assert p.kernel_sentinel == build / ".kernel-registered"
    assert p.build_stamp == build / ".up-to-date"
    # the PDF sits beside the HTML folder, not in it
    assert p.pdf_file == tmp_path / "site" / "pdf" / "compendium.pdf"


def test_executed_notebooks_are_networks_then_settings_then_cross_notebooks(tmp_path):
    p = _paths(tmp_path)
    plan = Plan(
        networks={"n2": "rural", "n1": "metropolitan", "n3": "rural"},
        names={"n1": "One", "n2": "Two", "n3": "Three"},
        data_hash="h",
        synthetic=True,
    )
    executed = tmp_path / "build" / "executed"
    assert p.executed_notebooks(plan) == [
        executed / "networks" / "n1.ipynb",
        executed / "networks" / "n2.ipynb",
        executed / "networks" / "n3.ipynb",
        # settings in the schema's order (rural before metropolitan), only those present
        executed / "settings" / "rural.ipynb",
        executed / "settings" / "metropolitan.ipynb",
        *[executed / f"{name}.ipynb" for name in CROSS_NETWORK],
    ]


def test_sockets_sit_in_a_short_build_folder(tmp_path):
    p = _paths(tmp_path)
    assert p.executor_socket == tmp_path / "build" / ".executor.sock"
    assert p.book_socket == tmp_path / "build" / ".book.sock"


def _build_folder_of_length(tmp_path: Path, socket_bytes: int) -> Path:
    """A build folder whose ``.executor.sock`` path is exactly ``socket_bytes`` long."""
    base = len(os.fsencode(tmp_path / "b" / ".executor.sock"))
    assert base < socket_bytes, "the temporary folder is too deep for this test"
    return tmp_path / ("b" + "x" * (socket_bytes - base))


def test_sockets_move_to_the_temporary_folder_from_100_bytes_on(tmp_path):
    just_short = _build_folder_of_length(tmp_path, 99)
    assert len(os.fsencode(just_short / ".executor.sock")) == 99
    assert _paths(tmp_path, just_short).executor_socket == just_short / ".executor.sock"

    too_long = _build_folder_of_length(tmp_path, 100)
    p = _paths(tmp_path, too_long)
    assert p.executor_socket.parent == Path(tempfile.gettempdir())
    assert p.executor_socket.name.startswith("compendium-")
    assert p.executor_socket.name.endswith("-executor.sock")
    assert len(os.fsencode(p.executor_socket)) < 100
    # each socket by its own length: ".book.sock" is 4 bytes shorter and stays
    assert p.book_socket == too_long / ".book.sock"

    deeper = _build_folder_of_length(tmp_path, 104)
    p = _paths(tmp_path, deeper)
    assert p.book_socket.parent == Path(tempfile.gettempdir())
    assert p.book_socket.name.endswith("-book.sock")
    # one tag per build folder: the two sockets differ by their lane only
    assert p.book_socket.name.replace("-book", "") == p.executor_socket.name.replace(
        "-executor", ""
    )


def test_a_deep_build_folder_gets_a_socket_that_can_be_bound(tmp_path):
    deep = tmp_path.joinpath(*["a-rather-long-folder-name"] * 6) / "build"
    deep.mkdir(parents=True)
    p = _paths(tmp_path, deep)
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        with pytest.raises(OSError):  # where the socket would have gone: too long to bind
            sock.bind(str(deep / ".executor.sock"))
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(str(p.executor_socket))
            assert p.executor_socket.exists()
        finally:
            p.executor_socket.unlink(missing_ok=True)


def test_fallback_sockets_are_one_per_build_folder(tmp_path):
    deep = tmp_path.joinpath(*["a-rather-long-folder-name"] * 6)
    one, other = deep / "build", deep / "other-build"
    one.mkdir(parents=True)
    # the same folder however it is spelled: the same socket
    spelled_otherwise = deep / "other-build" / ".." / "build"
    assert (
        _paths(tmp_path, one).executor_socket == _paths(tmp_path, spelled_otherwise).executor_socket
    )
    assert _paths(tmp_path, one).executor_socket != _paths(tmp_path, other).executor_socket


@pytest.fixture
def project_root(tmp_path, monkeypatch) -> Path:
    root = tmp_path / "project"
    (root / "data").mkdir(parents=True)
    monkeypatch.setenv("COMPENDIUM_ROOT", str(root))
    monkeypatch.delenv("COMPENDIUM_DATA", raising=False)
    return root


def test_committed_data_build_in_the_repository(project_root):
    for chosen in (None, project_root / "data", project_root / "notebooks" / ".." / "data"):
        p = default_paths(chosen)
        assert p.root == project_root
        assert p.data_dir == project_root / "data"
        assert p.build_dir == project_root / "build"
        assert p.html_dir == project_root / "book" / "_build" / "html"


def test_data_elsewhere_gets_its_own_private_build_folder(project_root, tmp_path, monkeypatch):
    real = tmp_path / "hospital" / "real-data"
    real.mkdir(parents=True)
    p = default_paths(real)
    assert p.data_dir == real
    private = p.build_dir.parent
    assert private.parent == project_root / "private-builds"
    assert private.name.startswith("real-data-") and len(private.name) == len("real-data-") + 8
    assert p.build_dir == private / "build"
    assert p.html_dir == private / "html"
    # nothing of the committed data's build is shared
    committed = default_paths()
    assert not {p.build_dir, p.html_dir} & {committed.build_dir, committed.html_dir}
    # the same folder named relatively gives the same build folder
    monkeypatch.chdir(tmp_path)
    assert default_paths("hospital/real-data") == p


def test_two_packages_with_the_same_folder_name_never_share_a_build(project_root, tmp_path):
    a = tmp_path / "site-a" / "data"
    b = tmp_path / "site-b" / "data"
    a.mkdir(parents=True)
    b.mkdir(parents=True)
    pa, pb = default_paths(a), default_paths(b)
    assert pa.build_dir != pb.build_dir
    assert pa.build_dir.parent.name.startswith("data-")
    assert pb.build_dir.parent.name.startswith("data-")


def test_compendium_data_chooses_the_package_and_an_argument_overrides_it(
    project_root, tmp_path, monkeypatch
):
    env_data = tmp_path / "from-env"
    arg_data = tmp_path / "from-arg"
    monkeypatch.setenv("COMPENDIUM_DATA", str(env_data))
    assert default_paths().data_dir == env_data
    assert default_paths().build_dir.parent.name.startswith("from-env-")
    assert default_paths(arg_data).data_dir == arg_data
    monkeypatch.setenv("COMPENDIUM_DATA", str(project_root / "data"))
    assert default_paths().build_dir == project_root / "build"


def test_find_root_prefers_compendium_root(tmp_path, monkeypatch):
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.setenv("COMPENDIUM_ROOT", str(tmp_path / "elsewhere" / ".." / "root"))
    assert find_root() == tmp_path / "root"


def test_find_root_is_the_source_tree_without_compendium_root(tmp_path, monkeypatch):
    monkeypatch.delenv("COMPENDIUM_ROOT", raising=False)
    monkeypatch.chdir(tmp_path)
    assert find_root() == REPO  # the editable install's tree, wherever we stand
    # an installed package (no workflow beside it): the current folder
    monkeypatch.setattr(paths_module, "PACKAGE_DIR", tmp_path / "site-packages" / "compendium")
    assert find_root() == tmp_path.resolve()
