"""The bad-input corpus (tests/bad_inputs/): what `compendium validate` and `build` make of it.

Each case folder holds a small data package and ``expected.yaml``
(``tests/bad_inputs/make_corpus.py`` writes both). For every case, ``compendium
validate`` must print exactly the expected one-line problems (file, row, column) and
exit 1, or accept a valid package. The slow tests build every valid case into one
project copy and check the book, and check that an invalid package given to ``build``
after a good build changes nothing.
"""

from __future__ import annotations

import hashlib
import html
import importlib.util
import itertools
import os
import re
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pytest
import yaml

from compendium.analysis import network
from compendium.data.read import MAX_FIELD_CHARS, MAX_ROW_CHARS, load
from compendium.data.validate import validate
from compendium.report.prose import fmt

from .conftest import REPO, run_measured

CORPUS = Path(__file__).resolve().parent / "bad_inputs"
CASES = sorted(d.name for d in CORPUS.iterdir() if (d / "expected.yaml").is_file())
EXPECTED = {
    name: yaml.safe_load((CORPUS / name / "expected.yaml").read_text(encoding="utf-8"))
    for name in CASES
}
VALID = [name for name in CASES if EXPECTED[name]["valid"]]
INVALID = [name for name in CASES if not EXPECTED[name]["valid"]]


def compendium(*args: str, root: Path | None = None, timeout: int = 600):
    env = {k: v for k, v in os.environ.items() if k not in ("COMPENDIUM_DATA", "COMPENDIUM_ROOT")}
    if root is not None:
        env["COMPENDIUM_ROOT"] = str(root)
    return subprocess.run(
        [sys.executable, "-m", "compendium", *args],
        env=env,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=timeout,
    )


def problem_prefix(data_dir: Path, p: dict) -> str:
    """How a problem line starts: ``<data_dir>/<file>[, row N][, column X]: ``."""
    where = [str(data_dir / p["file"])]
    if p["row"] is not None:
        where.append(f"row {p['row']}")
    if p["column"] is not None:
        where.append(f"column {p['column']}")
    return ", ".join(where) + ": "


def assert_problem_lines(lines: list[str], expected: list[dict], data_dir: Path) -> None:
    """``lines`` are exactly the expected problems, one line each, in any order."""
    left = list(lines)
    for p in expected:
        prefix = problem_prefix(data_dir, p)
        hit = next(
            (
                line
                for line in left
                if line.startswith(prefix) and p["contains"] in line[len(prefix) :]
            ),
            None,
        )
        assert hit is not None, f"expected '{prefix}…{p['contains']}…' among:\n" + "\n".join(lines)
        left.remove(hit)
    assert not left, "unexpected problem lines:\n" + "\n".join(left)


def folder_digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


# -- the corpus itself --------------------------------------------------------------
def test_corpus_has_the_cases_of_both_kinds():
    assert len(CASES) >= 18
    assert len(VALID) >= 5 and len(INVALID) >= 13
    for name in INVALID:
        problems = EXPECTED[name]["problems"]
        assert problems, name
        for p in problems:
            assert set(p) == {"file", "row", "column", "contains"} and p["contains"], (name, p)
            assert (CORPUS / name / p["file"]).name == p["file"]
    for name in CASES:
        assert EXPECTED[name]["case"] == name and EXPECTED[name]["modification"], name


def test_corpus_is_what_make_corpus_writes(tmp_path):
    """The committed folders are byte for byte the generator's output (and it is stable)."""
    spec = importlib.util.spec_from_file_location("make_corpus", CORPUS / "make_corpus.py")
    make_corpus = importlib.util.module_from_spec(spec)
    sys.modules["make_corpus"] = make_corpus  # its dataclasses look their module up
    try:
        spec.loader.exec_module(make_corpus)
        make_corpus.main(tmp_path)
    finally:
        del sys.modules["make_corpus"]
    fresh = {name: folder_digest(tmp_path / name) for name in make_corpus.CASES}
    committed = {name: folder_digest(CORPUS / name) for name in CASES}
    assert fresh == committed, "run: python tests/bad_inputs/make_corpus.py"


# -- (a) compendium validate --------------------------------------------------------
@pytest.fixture(scope="module")
def validations() -> dict[str, tuple[subprocess.CompletedProcess, dict, dict]]:
    """``compendium validate`` on every case (two at a time), with the folder before and after."""

    def one(name: str):
        before = folder_digest(CORPUS / name)
        proc = compendium("validate", str(CORPUS / name), timeout=180)
        return name, (proc, before, folder_digest(CORPUS / name))

    with ThreadPoolExecutor(max_workers=2) as pool:
        return dict(pool.map(one, CASES))


@pytest.mark.parametrize("name", INVALID)
def test_validate_prints_exactly_the_expected_problems(name, validations):
    proc, before, after = validations[name]
    expected = EXPECTED[name]["problems"]
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert proc.stdout == ""
    lines = proc.stderr.splitlines()
    assert lines[-1] == f"{len(expected)} problem(s); the data package is not valid", proc.stderr
    assert_problem_lines(lines[:-1], expected, CORPUS / name)
    assert after == before  # validation writes nothing


@pytest.mark.parametrize("name", VALID)
def test_validate_accepts_the_valid_cases(name, validations):
    proc, before, after = validations[name]
    assert (proc.returncode, proc.stderr) == (0, ""), proc.stderr
    assert proc.stdout == f"{CORPUS / name}: valid\n"
    assert after == before


@pytest.mark.parametrize("name", [n for n in VALID if EXPECTED[n].get("same_data_as_base")])
def test_the_same_data_written_differently_loads_to_the_same_tables(name):
    """BOMs, CRLF, blank lines, trailing commas, Yes/TRUE/1 booleans: the base's very tables."""
    base = load(CORPUS / "base")
    tables = load(CORPUS / name)
    for table, df in base.items():
        pd.testing.assert_frame_equal(tables[table], df, check_exact=True, obj=table)


def test_blank_lines_do_not_shift_the_index_readers_see():
    ties = load(CORPUS / "blank_line_in_the_middle")["ties"]
    assert ties.index.equals(pd.RangeIndex(len(ties)))


def test_a_runaway_quote_in_a_large_file_names_its_row(tmp_path):
    """Past the csv reader's field-size limit, the row where the quote opens is still named."""
    data = tmp_path / "data"
    shutil.copytree(CORPUS / "base", data, ignore=shutil.ignore_patterns("expected.yaml"))
    path = data / "service_contacts.csv"
    header, *rows = path.read_text(encoding="utf-8").splitlines()
    # 20 copies of the contacts under new ids: well past 131,072 characters after row 4
    lines = [header] + [row.replace(",", f"-{k:02d},", 1) for k in range(20) for row in rows]
    lines[3] = lines[3].replace(",rural_001,", ',"rural_001,', 1)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert [str(p) for p in validate(data)] == [
        f"{path}, row 4, column network_id: a value longer than 131072 characters starts in "
        "this row: "
        'a double quote (") opened there is probably never closed'
    ]


def organizations_with_a_last_row(tmp_path: Path, tail: str) -> tuple[Path, Path, int]:
    """A copy of the base case whose organizations.csv ends with a row whose name starts
    ``tail``; the copy, that file and the row."""
    data = tmp_path / "data"
    shutil.copytree(CORPUS / "base", data, ignore=shutil.ignore_patterns("expected.yaml"))
    path = data / "organizations.csv"
    row = len(path.read_text(encoding="utf-8").splitlines()) + 1
    with path.open("a", encoding="utf-8") as f:
        f.write("rural_001-x-01,rural_001,clinic," + tail)
    return data, path, row


def test_a_huge_value_without_a_line_break_is_refused_with_little_memory(tmp_path):
    """A 256 MiB value and no line break: one line naming the row and the column, and the
    file is not read into memory (reading it whole once took about 5 times its size)."""
    data, path, row = organizations_with_a_last_row(tmp_path, "x" * (256 << 20))
    status, out, err, peak_mb = run_measured("validate", str(data))
    assert status == 1
    assert err.splitlines()[:-1] == [
        f"{path}, row {row}, column name: a value longer than {MAX_FIELD_CHARS} characters "
        f"starts in this row ({MAX_FIELD_CHARS} is the most a value may hold)"
    ], out + err
    assert peak_mb < 300, f"validating took {peak_mb:.0f} MB"


def test_a_row_past_the_row_limit_is_refused(tmp_path):
    # many short values on one line
    data, path, row = organizations_with_a_last_row(tmp_path, "a," * MAX_ROW_CHARS)
    assert [str(p) for p in validate(data)] == [
        f"{path}, row {row}: the row is longer than {MAX_ROW_CHARS} characters, the most a "
        "row may hold"
    ]
    # short quoted values, each with a line break: one row of many short lines
    data, path, row = organizations_with_a_last_row(tmp_path / "2", '"a\n",' * MAX_ROW_CHARS)
    assert [str(p) for p in validate(data)] == [
        f"{path}, row {row}: the row is longer than {MAX_ROW_CHARS} characters, the most a "
        'row may hold; a double quote (") opened in it is probably never closed'
    ]


# -- (b) compendium build --------------------------------------------------------------
@dataclass
class Project:
    """A project copy whose build reads one data folder, refilled with case after case."""

    root: Path
    data: Path
    last_good: str | None = None
    #: (case, network pages of the published book) after each successful build
    history: list[tuple[str, set[str]]] = field(default_factory=list)

    def put(self, name: str) -> None:
        if self.data.exists():
            shutil.rmtree(self.data)
        shutil.copytree(CORPUS / name, self.data, ignore=shutil.ignore_patterns("expected.yaml"))

    def build(self) -> subprocess.CompletedProcess:
        return compendium("build", "--data", str(self.data), "--cores", "2", root=self.root)

    @contextmanager
    def _root_env(self):
        old = os.environ.get("COMPENDIUM_ROOT")
        os.environ["COMPENDIUM_ROOT"] = str(self.root)
        try:
            yield
        finally:
            if old is None:
                del os.environ["COMPENDIUM_ROOT"]
            else:
                os.environ["COMPENDIUM_ROOT"] = old

    @property
    def paths(self):
        from compendium.paths import default_paths

        with self._root_env():
            return default_paths(self.data)


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Project:
    root = tmp_path_factory.mktemp("project")
    for folder in ("notebooks", "workflow", "book"):
        shutil.copytree(REPO / folder, root / folder, ignore=shutil.ignore_patterns("_build", ".*"))
    # outside the project root, so the build goes to private-builds/ as real data's would
    data = tmp_path_factory.mktemp("cases").resolve() / "data"
    return Project(root, data)


@pytest.fixture(scope="module")
def good_build(project) -> Project:
    project.put("base")
    proc = project.build()
    assert proc.returncode == 0, proc.stdout + proc.stderr
    project.last_good = "base"
    project.history.append(("base", network_pages(project.paths.html_dir)))
    return project


#: Sphinx prints straight quotes as typographic ones
SMART_QUOTES = str.maketrans({"\u201c": '"', "\u201d": '"', "\u2018": "'", "\u2019": "'"})


def page_text(path: Path) -> str:
    s = path.read_text(encoding="utf-8")
    s = s[s.find("<main") : s.find("</main>")]
    text = html.unescape(re.sub(r"[ \t\r\n]+", " ", re.sub(r"<[^>]+>", " ", s)))
    return text.translate(SMART_QUOTES)


def started_jobs(output: str) -> set[str]:
    return set(re.findall(r"\] start  (\S+)", output))


def snapshot(folder: Path) -> dict[str, tuple]:
    """Every path under ``folder`` with its kind, size, time and (files) content hash."""
    out = {}
    for p in sorted(folder.rglob("*")):
        rel = str(p.relative_to(folder))
        if p.name == ".build.lock":  # every run writes its pid there
            continue
        if p.is_symlink():
            out[rel] = ("link", os.readlink(p))
        elif p.is_dir():
            out[rel] = ("dir", p.stat().st_mtime_ns)
        else:
            st = p.stat()
            out[rel] = ("file", st.st_size, st.st_mtime_ns, hashlib.sha256(p.read_bytes()).digest())
    return out


#: invalid packages handed to `build` after a good build (path escape, empty table,
#: a broken CSV, a non-UTF-8 file, an empty file)
INVALID_AFTER_GOOD = [
    "network_id_parent_folder",
    "empty_table",
    "stray_quote",
    "not_utf8",
    "empty_file",
]


@pytest.mark.slow
@pytest.mark.parametrize("name", INVALID_AFTER_GOOD)
def test_invalid_data_after_a_good_build_changes_nothing(name, good_build):
    project = good_build
    paths = project.paths
    private = paths.build_dir.parent
    before = snapshot(private)
    builds = sorted(p.name for p in (project.root / "private-builds").iterdir())
    target = os.readlink(paths.html_dir)
    index = (paths.html_dir / "index.html").read_bytes()
    assert any(paths.slices_dir.rglob("*.csv"))

    project.put(name)
    proc = project.build()

    expected = EXPECTED[name]["problems"]
    assert proc.returncode == 1, proc.stdout + proc.stderr
    lines = proc.stderr.splitlines()
    assert lines[-1] == f"{len(expected)} problem(s) in {project.data}; nothing was built"
    assert_problem_lines(lines[:-1], expected, project.data)
    assert os.readlink(paths.html_dir) == target
    assert (paths.html_dir / "index.html").read_bytes() == index
    assert snapshot(private) == before  # slices, plan, executed notebooks, book: untouched
    assert sorted(p.name for p in (project.root / "private-builds").iterdir()) == builds
    assert not (paths.slices_dir / "x").exists()


def network_pages(html_dir: Path) -> set[str]:
    return {p.stem for p in (html_dir / "networks").glob("*.html")}


def linked_pages(html_dir: Path, folder: str) -> set[str]:
    """Pages of ``folder`` the book's navigation links to (from its first page)."""
    nav = (html_dir / "intro.html").read_text(encoding="utf-8")
    return set(re.findall(rf'href="{folder}/([^"#/]+)\.html"', nav))


# Cheap first: the cases holding the base's data re-run nothing after the base build.
BUILD_ORDER = sorted(VALID, key=lambda n: (not EXPECTED[n].get("same_data_as_base"), n))


@pytest.mark.slow
@pytest.mark.parametrize("name", BUILD_ORDER)
def test_valid_case_builds_a_page_per_network(name, good_build):
    project = good_build
    project.put(name)
    proc = project.build()
    assert proc.returncode == 0, proc.stdout + proc.stderr
    if EXPECTED[name].get("same_data_as_base") and EXPECTED[project.last_good].get(
        "same_data_as_base"
    ):
        # identical slices: the incremental build has nothing to re-run
        assert started_jobs(proc.stdout) == set(), proc.stdout
    project.last_good = name
    paths = project.paths
    project.history.append((name, network_pages(paths.html_dir)))

    tables = load(project.data)
    nets = tables["networks"]
    assert linked_pages(paths.html_dir, "networks") == set(nets["network_id"])
    assert set(nets["network_id"]) <= network_pages(paths.html_dir)
    assert linked_pages(paths.html_dir, "settings") == set(nets["setting"])
    metrics = network.network_metrics(tables["organizations"], tables["ties"]).set_index(
        "network_id"
    )
    names = nets.set_index("network_id")["name"]
    tied = set(tables["ties"]["network_id"])
    for network_id, row in metrics.iterrows():
        text = page_text(paths.html_dir / "networks" / f"{network_id}.html")
        assert names[network_id] in text
        assert f"centralization {fmt(row['degree_centralization'])} " in text
        if network_id not in tied:
            # no ties: centralization is undefined, not 0 and not nan
            said = re.search(r"Freeman degree centralization (\S+)", text)
            assert said is not None and said.group(1) == "undefined", text


@pytest.mark.slow
def test_a_network_dropped_from_the_data_leaves_the_published_book(good_build):
    project = good_build
    after_two = [
        pages
        for (_, previous), (case, pages) in itertools.pairwise(project.history)
        if case == "one_network" and "rural_002" in previous
    ]
    if not after_two:  # the valid-case builds did not run (e.g. -k): build the sequence here
        for name in ("base", "one_network"):
            project.put(name)
            proc = project.build()
            assert proc.returncode == 0, proc.stdout + proc.stderr
            project.last_good = name
        after_two = [network_pages(project.paths.html_dir)]
    assert after_two[-1] == {"rural_001"}
