"""REFI-QDA import: hand-written projects and codebooks into a generated data package.

The files under ``tests/qda/`` were written by hand to the published schemas (Project.xsd
and Codebook.xsd of QDA-XML 1.0). ``two_coders.qdpx`` is zipped here from
``tests/qda/two_coders/``; its sources are named after informants of
``compendium.ingest.synth.write(seed=3, n_networks=2)``.
"""

from __future__ import annotations

import io
import shutil
import struct
import zipfile
import zlib
from pathlib import Path

import pytest

from compendium.analysis import coding
from compendium.cli import main
from compendium.data.read import load
from compendium.data.validate import validate
from compendium.ingest import qda, refi

from .conftest import run_measured

QDA = Path(__file__).resolve().parent / "qda"
PROJECT = QDA / "two_coders"
SOURCES_MAPPING = QDA / "sources.csv"
CODER_A = "2b1f6c5e-3f4a-4d8e-9b0a-1c2d3e4f5a01"


def guid(kind: str, n: int) -> str:
    """GUIDs of the fixtures: a = selections, c = codes, d = codings."""
    return f"{kind}0000000-0000-4000-8000-{n:012d}"


def project_text() -> str:
    return (PROJECT / "project.qde").read_text(encoding="utf-8")


def build_qdpx(out: Path, text: str | None = None) -> Path:
    """Zip the project (or ``text`` in its place) with its sources, as QDA software does."""
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("project.qde", project_text() if text is None else text)
        for source in sorted((PROJECT / "sources").iterdir()):
            archive.write(source, f"sources/{source.name}")
    return out


@pytest.fixture(scope="module")
def pristine(tmp_path_factory) -> Path:
    from compendium.ingest.synth import write

    return write(tmp_path_factory.mktemp("qda") / "data", seed=3, n_networks=2)


@pytest.fixture
def package(pristine, tmp_path) -> Path:
    dest = tmp_path / "data"
    shutil.copytree(pristine, dest)
    return dest


@pytest.fixture
def qdpx(tmp_path) -> Path:
    return build_qdpx(tmp_path / "two_coders.qdpx")


def snapshot(data_dir: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(data_dir.iterdir())}


def import_qda(capsys, *args) -> tuple[int, str, str]:
    rc = main(["import-qda", *map(str, args)])
    out, err = capsys.readouterr()
    return rc, out, err


def imported(capsys, qdpx, package):
    rc, out, err = import_qda(capsys, qdpx, "--data", package, "--mapping", SOURCES_MAPPING)
    assert rc == 0, err
    assert validate(package) == []
    return load(package), out


# -- a project ---------------------------------------------------------------------
EXPECTED_CODEBOOK = [
    # code, label, category, parent_code, description
    (
        "facilitators",
        "Facilitators",
        "facilitator",
        None,
        "Conditions that help a network integrate.",
    ),
    (
        "leadership",
        "Leadership",
        "facilitator",
        "facilitators",
        "Leaders and staff carry the project.",
    ),
    ("boundary_spanners", "Boundary spanners", "facilitator", "facilitators", None),
    (
        "liaison_officers",
        "Liaison officers",
        "facilitator",
        "boundary_spanners",
        "A liaison officer links organizations.",
    ),
    ("obstacles", "Obstacles", "obstacle", None, None),
    ("scarce_community_resources", "Scarce community resources", "obstacle", "obstacles", None),
    ("resistance_au_changement", "Résistance au changement", "obstacle", "obstacles", None),
    ("consensus_on_practices", "Consensus on practices", "consensus", None, None),
    ("conflict_on_practices", "Conflict on practices", "conflict", None, None),
]

INF_1, INF_2, INF_3 = "rural_001-inf-001", "rural_002-inf-003", "rural_002-inf-012"
SPLIT = guid("a", 6)
EXPECTED_SEGMENTS = [
    # segment_id, informant_id, coder_id, code
    (guid("a", 1), INF_1, "coder_a", "leadership"),
    (guid("a", 1), INF_1, "coder_b", "leadership"),
    (guid("a", 2), INF_1, "coder_a", "liaison_officers"),
    (guid("a", 2), INF_1, "coder_b", "liaison_officers"),
    (guid("a", 4), INF_1, "coder_a", "scarce_community_resources"),
    (guid("a", 4), INF_1, "coder_b", "resistance_au_changement"),
    (guid("a", 5), INF_2, "coder_a", "resistance_au_changement"),
    (guid("a", 5), INF_2, "coder_b", "resistance_au_changement"),
    (f"{SPLIT}.consensus_on_practices", INF_2, "coder_a", "consensus_on_practices"),
    (f"{SPLIT}.consensus_on_practices", INF_2, "coder_b", "consensus_on_practices"),
    (f"{SPLIT}.conflict_on_practices", INF_2, "coder_a", "conflict_on_practices"),
    (guid("a", 8), INF_3, "coder_a", "boundary_spanners"),
]


def test_project_replaces_codebook_and_segments_and_the_package_validates(
    capsys, qdpx, package, pristine
):
    tables, out = imported(capsys, qdpx, package)
    assert validate(package) == []
    book = tables["codebook"].astype(object).where(tables["codebook"].notna(), None)
    assert [tuple(r) for r in book.itertuples(index=False)] == EXPECTED_CODEBOOK
    seg = tables["coded_segments"]
    got = list(seg[["segment_id", "informant_id", "coder_id", "code"]].itertuples(index=False))
    assert [tuple(r) for r in got] == EXPECTED_SEGMENTS
    assert not seg["synthetic"].any()  # coded by people
    assert "12 coded segment row(s) from 7 coded selection(s) of 3 informant(s)" in out
    assert "by 2 coder(s): coder_a, coder_b" in out
    assert "1 segment(s) had several codes from one coder" in out
    assert "left out: 1 codings of whole sources" in out
    assert "left out: 1 coded sources that are not text" in out
    # only the two tables change
    before, after = snapshot(pristine), snapshot(package)
    assert {n for n in before if before[n] != after[n]} == {"codebook.csv", "coded_segments.csv"}


def test_nested_codes_keep_their_parent_and_top_level_category(capsys, qdpx, package):
    tables, _ = imported(capsys, qdpx, package)
    book = tables["codebook"].set_index("code")
    assert book.loc["liaison_officers", "parent_code"] == "boundary_spanners"
    assert book.loc["boundary_spanners", "parent_code"] == "facilitators"
    assert (
        book.loc[["facilitators", "boundary_spanners", "liaison_officers"], "category"]
        .eq("facilitator")
        .all()
    )


def test_two_coders_on_one_selection_are_two_rows_of_one_segment(capsys, qdpx, package):
    seg = imported(capsys, qdpx, package)[0]["coded_segments"]
    one = seg[seg["segment_id"] == guid("a", 1)]
    assert list(one["coder_id"]) == ["coder_a", "coder_b"]
    # two selections of the same passage, one per coder, are one segment too
    assert list(seg.loc[seg["segment_id"] == guid("a", 2), "coder_id"]) == ["coder_a", "coder_b"]
    assert guid("a", 3) not in set(seg["segment_id"])


def test_agreement_of_the_imported_coding_matches_the_hand_computed_kappa(capsys, qdpx, package):
    # Five segments coded by both: A = lead, liaison, scarce, resist, consensus and
    # B = lead, liaison, resist, resist, consensus. p_o = 4/5; A spreads 1/5 on each of its
    # five codes, B puts 1/5 on lead, liaison, consensus and 2/5 on resist, so
    # p_e = 3 x 1/25 + 2/25 = 1/5 and kappa = (4/5 - 1/5) / (1 - 1/5) = 3/4.
    seg = imported(capsys, qdpx, package)[0]["coded_segments"]
    assert coding.cohen_kappa(seg, "coder_a", "coder_b") == pytest.approx(0.75)


def test_dry_run_writes_nothing(capsys, qdpx, package):
    before = snapshot(package)
    rc, out, _ = import_qda(
        capsys, qdpx, "--data", package, "--mapping", SOURCES_MAPPING, "--dry-run"
    )
    assert rc == 0
    assert "dry run: would write codebook.csv, coded_segments.csv" in out
    assert snapshot(package) == before


def test_mapping_files_rename_coders_and_codes_and_set_categories(capsys, tmp_path, package):
    text = project_text().replace('name="Obstacles"', 'name="Barriers"')
    qdpx = build_qdpx(tmp_path / "barriers.qdpx", text)
    rc, _, err = import_qda(capsys, qdpx, "--data", package, "--mapping", SOURCES_MAPPING)
    assert rc == 1
    assert "top-level code 'Barriers' matches no category" in err
    assert '<Code name="Barriers">' in err

    codes = tmp_path / "codes.csv"
    codes.write_text("code_name,code,category\nBarriers,,obstacle\nLeadership,fac_leadership,\n")
    users = tmp_path / "users.csv"
    users.write_text("user_name,coder_id\nCoder A,rater-1\n")
    rc, _, err = import_qda(
        capsys,
        qdpx,
        "--data",
        package,
        *("--mapping", SOURCES_MAPPING, "--mapping", codes),
        *("--mapping", users),
    )
    assert rc == 0, err
    assert validate(package) == []
    tables = load(package)
    book = tables["codebook"].set_index("code")
    assert book.loc["barriers", "category"] == "obstacle"
    assert book.loc["scarce_community_resources", "category"] == "obstacle"  # inherited
    assert book.loc["fac_leadership", "label"] == "Leadership"
    seg = tables["coded_segments"]
    assert sorted(set(seg["coder_id"])) == ["coder_b", "rater-1"]
    assert set(seg.loc[seg["segment_id"] == guid("a", 1), "code"]) == {"fac_leadership"}


# -- refused ---------------------------------------------------------------------
def refused(capsys, package, *args) -> list[str]:
    """Run an import that must fail; return its problem lines; check nothing changed."""
    before = snapshot(package)
    rc, _, err = import_qda(capsys, *args, "--data", package)
    assert rc == 1
    assert snapshot(package) == before
    lines = err.strip().splitlines()
    assert lines[-1].startswith("nothing imported")
    return lines[:-1]


def test_a_coding_of_an_unknown_code_names_the_file_line_and_element(capsys, tmp_path, package):
    text = project_text().replace(
        f'<CodeRef targetGUID="{guid("c", 6)}"/>',
        '<CodeRef targetGUID="{0BAD0BAD-0000-4000-8000-000000000000}"/>',
    )
    qdpx = build_qdpx(tmp_path / "unknown.qdpx", text)
    line = 1 + next(
        i for i, s in enumerate(text.splitlines()) if f'<Coding guid="{guid("d", 5)}"' in s
    )
    (problem,) = refused(capsys, package, qdpx, "--mapping", SOURCES_MAPPING)
    assert problem == (
        f'{qdpx}, project.qde, line {line}, <Coding guid="{guid("d", 5)}">: CodeRef targetGUID '
        "0bad0bad-0000-4000-8000-000000000000 is not a code of the project's CodeBook"
    )


def test_a_source_matching_no_informant_is_refused(capsys, qdpx, package):
    (problem,) = refused(capsys, package, qdpx)  # no mapping for "Interview 12"
    assert '<TextSource name="Interview 12">' in problem
    assert "matches no informant_id of informants.csv" in problem
    assert problem.startswith(f"{qdpx}, project.qde, line ")


def test_a_malformed_zip_is_refused(capsys, tmp_path, package):
    broken = tmp_path / "broken.qdpx"
    broken.write_bytes(b"PK\x03\x04 this is not really a zip archive")
    (problem,) = refused(capsys, package, broken)
    assert problem.startswith(f"{broken}: not a readable .qdpx: the zip archive is malformed")

    truncated = tmp_path / "truncated.qdpx"
    whole = build_qdpx(tmp_path / "whole.qdpx").read_bytes()
    truncated.write_bytes(whole[: len(whole) // 2])
    (problem,) = refused(capsys, package, truncated)
    assert "the zip archive is malformed" in problem


def test_a_zip_without_project_qde_is_refused(capsys, tmp_path, package):
    empty = tmp_path / "sources-only.qdpx"
    with zipfile.ZipFile(empty, "w") as archive:
        archive.writestr("sources/interview.txt", "Hello.")
    (problem,) = refused(capsys, package, empty)
    assert problem == f"{empty}: no project.qde in the archive (it holds sources/interview.txt)"


def test_xml_outside_the_namespace_is_refused(capsys, tmp_path, package):
    text = project_text().replace('xmlns="urn:QDA-XML:project:1.0"', 'xmlns="urn:example:other"')
    qdpx = build_qdpx(tmp_path / "other.qdpx", text)
    (problem,) = refused(capsys, package, qdpx)
    assert problem.endswith(
        "the root element is <Project> in namespace urn:example:other; expected <Project> "
        "in namespace urn:QDA-XML:project:1.0"
    )
    assert '<Project name="Two coders">' in problem

    bare = (QDA / "codebook.qdc").read_text(encoding="utf-8")
    qdc = tmp_path / "bare.qdc"
    qdc.write_text(bare.replace(' xmlns="urn:QDA-XML:codebook:1.0"', ""), encoding="utf-8")
    (problem,) = refused(capsys, package, qdc)
    assert "the root element is <CodeBook> in no namespace" in problem


def test_xml_that_is_not_well_formed_or_declares_a_doctype_is_refused(capsys, tmp_path, package):
    qdpx = build_qdpx(tmp_path / "cut.qdpx", project_text()[:2000])
    (problem,) = refused(capsys, package, qdpx)
    assert problem.startswith(f"{qdpx}, project.qde, line ")
    assert "not well-formed XML" in problem

    qdc = tmp_path / "entities.qdc"
    qdc.write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE CodeBook [<!ENTITY a "aaaa">]>\n'
        '<CodeBook xmlns="urn:QDA-XML:codebook:1.0"><Codes/></CodeBook>\n'
    )
    (problem,) = refused(capsys, package, qdc)
    assert problem == f"{qdc}, line 2: a DOCTYPE is not allowed"


def test_an_invalid_package_is_left_as_it_was(capsys, qdpx, package):
    from .conftest import edit_cell

    edit_cell(package / "networks.csv", 2, "population", "many")
    problems = refused(capsys, package, qdpx, "--mapping", SOURCES_MAPPING)
    assert problems == [
        f"{package / 'networks.csv'}, row 2, column population: expected a whole number, got 'many'"
    ]


def test_a_bad_mapping_file_names_its_row_and_column(capsys, tmp_path, qdpx, package):
    mapping = tmp_path / "sources.csv"
    mapping.write_text("source_name,informant_id\nInterview 12,rural_009-inf-001\n")
    (problem,) = refused(capsys, package, qdpx, "--mapping", mapping)
    assert problem == (
        f"{mapping}, row 2, column informant_id: 'rural_009-inf-001' is not an informant_id "
        "of informants.csv"
    )
    mapping.write_text("name,informant\nInterview 12,rural_001-inf-001\n")
    (problem,) = refused(capsys, package, qdpx, "--mapping", mapping)
    assert problem.startswith(f"{mapping}, row 1: the header must be source_name,informant_id")


# -- bounded: archives and files past the limits -------------------------------------
def raw_zip(path: Path, members: list[tuple], directory_count: int | None = None) -> Path:
    """A zip archive written byte by byte, so that it can declare what it likes.

    ``members``: (name, stored bytes, CRC-32, declared inflated size, method) each;
    ``directory_count``: the number of files the end record claims (the true one if None).
    """
    out, directory = bytearray(), bytearray()
    for name, payload, crc, size, method in members:
        encoded = name.encode()
        offset = len(out)
        out += struct.pack(
            "<4s5H3L2H",
            b"PK\x03\x04",
            20,
            0,
            method,
            0,
            0,
            crc,
            len(payload),
            size,
            len(encoded),
            0,
        )
        out += encoded + payload
        directory += struct.pack(
            "<4s6H3L5H2L",
            b"PK\x01\x02",
            20,
            20,
            0,
            method,
            0,
            0,
            crc,
            len(payload),
            size,
            len(encoded),
            0,
            0,
            0,
            0,
            0,
            offset,
        )
        directory += encoded
    count = len(members) if directory_count is None else directory_count
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, count, count, len(directory), len(out), 0)
    path.write_bytes(bytes(out + directory + end))
    return path


def spaces_bomb(path: Path, mib: int, declared: int | None = None) -> Path:
    """project.qde: an XML start tag, then ``mib`` MiB of spaces, deflated to about 1 kB a MiB.

    It declares its true size and CRC, unless ``declared`` says otherwise (a lying header).
    """
    prefix = b'<?xml version="1.0"?>\n<Project xmlns="urn:QDA-XML:project:1.0" name="b">'
    deflate = zlib.compressobj(9, zlib.DEFLATED, -15)
    head = deflate.compress(prefix) + deflate.flush(zlib.Z_FULL_FLUSH)
    spaces = b" " * (1 << 20)
    # after a full flush the compressor starts afresh: each MiB deflates to the same bytes
    block = deflate.compress(spaces) + deflate.flush(zlib.Z_FULL_FLUSH)
    stream = head + block * mib + deflate.flush()
    crc = zlib.crc32(prefix)
    for _ in range(mib):
        crc = zlib.crc32(spaces, crc)
    size = len(prefix) + mib * len(spaces)
    member = ("project.qde", stream, crc, size if declared is None else declared, 8)
    return raw_zip(path, [member])


def test_a_zip_bomb_is_refused_before_it_inflates_with_little_memory(capsys, tmp_path, package):
    """2 GiB of XML in 2 MB of archive (once 4.3 GB of memory and 16 s to refuse)."""
    bomb = spaces_bomb(tmp_path / "bomb.qdpx", 2048)
    assert bomb.stat().st_size < 3 << 20
    (problem,) = refused(capsys, package, bomb)
    assert problem == (
        f"{bomb}, project.qde: inflates to 2 GiB, more than the 64 MiB an import reads "
        "(nothing was inflated)"
    )
    status, _, err, peak_mb = run_measured("import-qda", str(bomb), "--data", str(package))
    assert status == 1 and err.splitlines()[0] == problem
    assert peak_mb < 300, f"refusing the bomb took {peak_mb:.0f} MB"


def test_a_member_inflating_past_its_declared_size_is_refused(capsys, tmp_path, package):
    """The directory says 1 kB; the member inflates to 64 MiB: reading stops at the declared
    size, and the check of the member's CRC refuses it."""
    liar = spaces_bomb(tmp_path / "liar.qdpx", 64, declared=1000)
    (problem,) = refused(capsys, package, liar)
    assert problem == (
        f"{liar}: not a readable .qdpx: the zip archive is malformed "
        "(Bad CRC-32 for file 'project.qde')"
    )


def test_xml_is_read_no_further_than_the_limit(monkeypatch):
    """The size a stream holds is counted as it is read, whatever was declared."""
    monkeypatch.setattr(refi, "MAX_XML_BYTES", 3 << 20)
    stream = io.BytesIO(b'<Project xmlns="urn:QDA-XML:project:1.0">' + b" " * (8 << 20))
    with pytest.raises(qda.QdaError) as refusal:
        refi.parse_xml(stream, "f.qdpx", "project.qde")
    assert str(refusal.value) == (
        "f.qdpx, project.qde: larger than 3 MiB, the most an import reads (stopped reading there)"
    )
    assert stream.tell() <= (3 << 20) + refi._CHUNK


def test_archives_past_the_limits_are_refused(capsys, monkeypatch, tmp_path, package):
    monkeypatch.setattr(refi, "MAX_MEMBERS", 3)
    text = project_text().encode()
    qde = ("project.qde", text, zlib.crc32(text), len(text), 0)
    extra = [(f"sources/{n}.txt", b"", 0, 0, 0) for n in range(3)]
    many = raw_zip(tmp_path / "many.qdpx", [qde, *extra])
    assert refused(capsys, package, many) == [
        f"{many}: the archive holds 4 files, more than 3: too many to read"
    ]
    # an end record that under-counts: the directory itself is counted
    lying = raw_zip(tmp_path / "lying.qdpx", [qde, *extra], directory_count=1)
    assert refused(capsys, package, lying) == [
        f"{lying}: the archive holds 4 files, more than 3: too many to read"
    ]
    three_gib = 3 << 30  # declared only: nothing of it exists, nothing is inflated
    videos = [(f"sources/{n}.mp4", b"", 0, three_gib, 0) for n in range(2)]
    huge = raw_zip(tmp_path / "huge.qdpx", [qde, *videos])
    assert refused(capsys, package, huge) == [
        f"{huge}: the archive's files inflate to 6 GiB, more than the 4 GiB an import accepts"
    ]
    for name in ("../../escape.txt", "/etc/passwd", "C:\\Windows\\x.txt", "sources/../../x"):
        outside = raw_zip(tmp_path / "outside.qdpx", [qde, (name, b"", 0, 0, 0)])
        assert refused(capsys, package, outside) == [
            f"{outside}: the archive holds {name!r}, a path outside the archive"
        ]


def test_too_many_elements_are_refused(capsys, monkeypatch, qdpx, package):
    monkeypatch.setattr(refi, "MAX_ELEMENTS", 10)
    (problem,) = refused(capsys, package, qdpx)
    assert problem.startswith(f"{qdpx}, project.qde, line ")
    assert problem.endswith(": more than 10 elements, the most an import reads")


def test_a_codebook_file_past_the_limit_is_refused_unread(capsys, tmp_path, package):
    qdc = tmp_path / "huge.qdc"
    with qdc.open("wb") as f:
        f.truncate(65 << 20)  # a sparse file: nothing written, nothing to read
    assert refused(capsys, package, qdc) == [f"{qdc}: 65 MiB, more than the 64 MiB an import reads"]


def test_overflowed_positions_are_not_printed(capsys, tmp_path, package):
    text = project_text().replace(
        'startPosition="0" endPosition="51"', ('startPosition="-2147483647" endPosition="51"')
    )
    qdpx = build_qdpx(tmp_path / "overflow.qdpx", text)
    problems = refused(capsys, package, qdpx, "--mapping", SOURCES_MAPPING)
    assert len(problems) == 1 and "-2147483647" not in problems[0]
    assert problems[0].endswith(
        f'<PlainTextSelection guid="{guid("a", 1)}">: the startPosition attribute is out of '
        "range (0 to 2,147,483,647)"
    )
    backwards = project_text().replace(
        'startPosition="0" endPosition="51"', 'startPosition="51" endPosition="0"'
    )
    qdpx = build_qdpx(tmp_path / "backwards.qdpx", backwards)
    (problem,) = refused(capsys, package, qdpx, "--mapping", SOURCES_MAPPING)
    assert problem.endswith("the selection ends before it starts (endPosition < startPosition)")


def test_a_mapping_file_with_a_huge_value_is_refused_in_one_line(capsys, tmp_path, qdpx, package):
    mapping = tmp_path / "sources.csv"
    mapping.write_text("source_name,informant_id\nInterview 12," + "x" * (8 << 20))
    (problem,) = refused(capsys, package, qdpx, "--mapping", mapping)
    assert problem.startswith(f"{mapping}, row 2, column informant_id: a value longer than ")


# -- a codebook ------------------------------------------------------------------------
def test_a_codebook_replaces_only_the_codebook(capsys, qdpx, package):
    imported(capsys, qdpx, package)
    segments_before = (package / "coded_segments.csv").read_bytes()
    rc, out, err = import_qda(capsys, QDA / "codebook.qdc", "--data", package)
    assert rc == 0, err
    assert "10 code(s), 4 at the top level" in out
    assert "wrote codebook.csv in" in out
    assert (package / "coded_segments.csv").read_bytes() == segments_before
    assert validate(package) == []
    book = load(package)["codebook"].set_index("code")
    assert book.loc["visible_gains", ["category", "parent_code"]].tolist() == [
        "facilitator",
        "facilitators",
    ]
    assert book.loc["leadership", "description"] == "Managers and clinicians champion the network."


def test_a_codebook_lacking_codes_in_use_is_refused(capsys, package):
    # the generated package's segments use the default codebook's codes
    (problem,) = refused(capsys, package, QDA / "codebook.qdc")
    assert problem.startswith(f"{QDA / 'codebook.qdc'}: the codebook lacks ")
    assert f"code(s) that {package / 'coded_segments.csv'} uses (" in problem


# -- pieces -----------------------------------------------------------------------
@pytest.mark.parametrize(
    "name, expected",
    [
        ("Facilitateurs", ["facilitator"]),
        ("Integration strategies", ["strategy"]),
        ("Stratégies d'intégration", ["strategy"]),
        ("Conflits", ["conflict"]),
        ("Consensus", ["consensus"]),
        ("Obstacles and facilitators", ["facilitator", "obstacle"]),
        ("Other", []),
    ],
)
def test_top_level_names_give_categories(name, expected):
    assert qda.category_of_name(name) == expected


def test_identifiers_are_safe_file_names():
    assert qda.identifier("Résistance au changement") == "resistance_au_changement"
    assert qda.identifier("  Liaison / officers (CLSC)  ") == "liaison_officers_clsc"
    assert qda.identifier("..") == ""
    assert len(qda.identifier("x" * 100)) == 64


def test_a_name_taken_twice_gets_its_parent_in_front(tmp_path):
    qdc = tmp_path / "twice.qdc"
    qdc.write_text(
        '<CodeBook xmlns="urn:QDA-XML:codebook:1.0"><Codes>'
        f'<Code guid="{guid("c", 1)}" name="Facilitators" isCodable="false">'
        f'<Code guid="{guid("c", 2)}" name="Other" isCodable="true"/></Code>'
        f'<Code guid="{guid("c", 3)}" name="Obstacles" isCodable="false">'
        f'<Code guid="{guid("c", 4)}" name="Other" isCodable="true"/></Code>'
        "</Codes></CodeBook>"
    )
    book = qda.codebook_table(qda.read(qdc))
    assert book["code"].tolist() == ["facilitators", "other", "obstacles", "obstacles-other"]


def test_users_without_a_name_are_known_by_their_guid(tmp_path, package):
    text = project_text().replace(' name="Coder A"', "")
    qda_file = qda.read(build_qdpx(tmp_path / "anonymous.qdpx", text))
    coders = qda.coder_identifiers([CODER_A], qda_file.users, qda.Mappings())
    assert coders == {CODER_A: "coder-2b1f6c5e"}


def test_an_identifier_a_mapping_gives_is_kept_for_its_code():
    mappings = qda.Mappings(codes={"Visible gains": "leadership"})
    book = qda.codebook_table(qda.read(QDA / "codebook.qdc"), mappings)
    ids = dict(zip(book["label"], book["code"], strict=True))
    assert ids["Visible gains"] == "leadership"
    assert ids["Leadership"] == "facilitators-leadership"  # comes first, but gives way


def test_importing_the_same_project_again_changes_nothing(capsys, qdpx, package):
    imported(capsys, qdpx, package)
    before = {p.name: p.stat().st_mtime_ns for p in package.iterdir()}
    rc, out, _ = import_qda(capsys, qdpx, "--data", package, "--mapping", SOURCES_MAPPING)
    assert rc == 0 and "wrote nothing (no change)" in out
    assert {p.name: p.stat().st_mtime_ns for p in package.iterdir()} == before
