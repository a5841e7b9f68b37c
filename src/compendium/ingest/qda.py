"""Import coded interviews from QDA software through the REFI-QDA exchange standard.

REFI-QDA (www.qdasoftware.org) is the exchange format of ATLAS.ti, MAXQDA, NVivo,
QualCoder and others. Two kinds of file are read:

* a **project** (``.qdpx``): a zip archive holding ``project.qde``, an XML document in
  the namespace ``urn:QDA-XML:project:1.0`` (users, codebook, sources with their coded
  selections), beside the source documents themselves;
* a **codebook** (``.qdc``): an XML document in the namespace
  ``urn:QDA-XML:codebook:1.0`` holding only the codes.

Reading the files, within limits that keep memory bounded whatever the file, is
:mod:`compendium.ingest.refi`'s; this module turns what they hold into tables.

How a project becomes tables of the data package
------------------------------------------------
**Codebook** (one row per ``Code``, nested codes included, in document order):

* ``code``: the code's name as an identifier (accents dropped, lower case, runs of other
  characters replaced by ``_``, at most 64 characters). A name taken already gets its
  parent's identifier in front (``obstacles-other``), then, if still taken, the first 8
  hex digits of its GUID behind. A mapping file may set the identifier instead.
* ``label``: the name; ``description``: the ``Description`` element, white space
  collapsed; ``parent_code``: the identifier of the enclosing ``Code``.
* ``category``: from a mapping file when it names the code or one of its ancestors (the
  nearest wins), otherwise from the name of its top-level ancestor, whose words are
  matched to the categories (``Facilitators`` and ``Facilitateurs`` give ``facilitator``;
  ``Integration strategies`` and ``Stratégies`` give ``strategy``; ``Conflits`` gives
  ``conflict``). A top-level name matching no category, or several, is an error.

**Coders**: a ``User`` becomes a coder identified by its name as an identifier
(``Coder A`` gives ``coder_a``), unless a mapping file renames it. QDA software often
records people's real names there, so map them to pseudonyms (or rename the users
before exporting). A user without a name, or one named in ``creatingUser`` but absent
from ``Users``, is ``coder-`` and the first 8 hex digits of its GUID; two users whose
names give the same identifier are told apart the same way.

**Coded segments** (``coded_segments``: one row per segment and coder):

* Only text is imported: ``PlainTextSelection`` elements of a ``TextSource``. Codings
  of a whole source, and selections in pictures, PDF pages, audio or video, are
  counted in the summary and left out.
* The coder of a ``Coding`` is its ``creatingUser``, else the selection's; a coding
  with neither is an error.
* A segment is a selection: ``segment_id`` is the selection's GUID (lower case, no
  braces). Selections of one source with the same ``startPosition`` and
  ``endPosition`` are the same segment (the GUID of the first one in the file), so
  that two coders who each selected the same passage, as QDA software usually records
  independent coding, count as two coders of one segment; two coders coding one
  selection likewise give two rows with one ``segment_id``.
* The package holds one code per segment and coder. When a coder applied several
  codes to one segment, that segment is split into one segment per code, for every
  coder of it: ``segment_id`` becomes ``<guid>.<code>``. Counts of what was said stay
  right (each code counted once per passage). Reliability then compares coders code
  by code: a code only one coder applied has no partner rather than counting as a
  disagreement, which flatters agreement. The summary says how many segments were
  split; for a reliability study, code with one code per selection.
* ``informant_id``: the source's name, or that name without its file extension
  (``rural_north-inf-001.docx``), or what a mapping file gives for the name. A coded
  source matching no informant of the data package is an error.
* ``synthetic`` is false: imported coding was done by people, on real interviews.

Mapping files
-------------
CSV files (UTF-8, a header row) whose header says what they map; pass several if
needed:

* ``source_name,informant_id``: a ``TextSource`` name to an informant;
* ``code_name,code,category`` (``code`` or ``category`` may be left out, and any cell
  left empty): a code name to an identifier and/or a category (a category applies to
  the code's descendants too);
* ``user_name,coder_id``: a ``User`` name to a coder identifier.

Writing
-------
:func:`import_file` replaces ``codebook.csv`` (and, for a project,
``coded_segments.csv``) of the data package through
:func:`compendium.data.write.update_tables`: only once the package with the new tables
validates, and never half-written.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..data.problems import DataPackageError, Problem
from ..data.read import csv_records, read_table
from ..data.schema import CODE_CATEGORIES, IDENTIFIER_PATTERN, TABLES_BY_NAME
from ..data.write import table_to_csv, update_tables
from .refi import Code, QdaError, QdaFile, QdaProblem, Source, read

#: Words of a top-level code's name that give its category (accents dropped, lower case).
CATEGORY_STEMS: dict[str, tuple[str, ...]] = {
    "facilitator": ("facilitat",),
    "obstacle": ("obstacle",),
    "strategy": ("strateg",),
    "consensus": ("consensus",),
    "conflict": ("conflict", "conflit"),
}
_IDENTIFIER = re.compile(IDENTIFIER_PATTERN)


# -- mapping files -----------------------------------------------------------------
@dataclass
class Mappings:
    """What mapping files say: source, code and user names to the package's identifiers."""

    informants: dict[str, str] = field(default_factory=dict)  # source name -> informant_id
    codes: dict[str, str] = field(default_factory=dict)  # code name -> code
    categories: dict[str, str] = field(default_factory=dict)  # code name -> category
    coders: dict[str, str] = field(default_factory=dict)  # user name -> coder_id


_MAPPING_KINDS = {
    "source_name": ("informants", {"informant_id"}),
    "code_name": ("codes", {"code", "category"}),
    "user_name": ("coders", {"coder_id"}),
}


def read_mappings(paths: Iterable[Path], informant_ids: Iterable[str] | None = None) -> Mappings:
    """Read mapping files (see the module's documentation).

    Raises
    ------
    QdaError
        With one line per problem, naming the file, row and column.
    """
    mappings = Mappings()
    known_informants = set(informant_ids) if informant_ids is not None else None
    problems: list[Problem] = []
    origin: dict[tuple[str, str], str] = {}
    for path in paths:
        label = str(path)
        starts, rows, unreadable = csv_records(Path(path), label)
        if unreadable:
            problems.extend(unreadable)
            continue
        header = [c.strip() for c in rows[0]] if rows else []
        key = next((k for k in _MAPPING_KINDS if k in header), None)
        values = _MAPPING_KINDS[key][1] if key else set()
        if key is None or not values & set(header) or set(header) - values - {key}:
            problems.append(
                Problem(
                    label,
                    1,
                    None,
                    "the header must be source_name,informant_id or code_name,code,category "
                    "(code or category may be left out) or user_name,coder_id; "
                    f"got {','.join(header)}",
                )
            )
            continue
        for number, row in zip(starts[1:], rows[1:], strict=True):
            if not any(cell.strip() for cell in row):
                continue
            cells = dict(zip(header, (c.strip() for c in row), strict=False))
            name = cells.get(key, "")
            if not name:
                problems.append(Problem(label, number, key, "empty, but a name is required"))
                continue
            for column in sorted(values & set(header)):
                value = cells.get(column, "")
                if not value:
                    continue
                problem = _mapping_value_problem(column, value, known_informants)
                if problem:
                    problems.append(Problem(label, number, column, problem))
                    continue
                target = "categories" if column == "category" else _MAPPING_KINDS[key][0]
                seen = origin.get((target, name))
                if seen:
                    problems.append(
                        Problem(label, number, key, f"{name!r} is mapped already ({seen})")
                    )
                    continue
                origin[(target, name)] = f"{label}, row {number}"
                getattr(mappings, target)[name] = value
    if problems:
        raise QdaError(problems)
    return mappings


def _mapping_value_problem(column: str, value: str, informants: set[str] | None) -> str | None:
    if column == "category" and value not in CODE_CATEGORIES:
        return f"{value!r} is not one of: {', '.join(CODE_CATEGORIES)}"
    if column in ("code", "coder_id", "informant_id") and not _IDENTIFIER.fullmatch(value):
        return (
            f"{value!r} is not a valid identifier (lower-case letters, digits, '_' and '-'; "
            "no spaces, slashes or dots)"
        )
    if column == "informant_id" and informants is not None and value not in informants:
        return f"{value!r} is not an informant_id of informants.csv"
    return None


# -- identifiers -----------------------------------------------------------------
def identifier(text: str) -> str:
    """``text`` as an identifier: ASCII, lower case, ``_`` between words, at most 64 characters.

    Empty when ``text`` has no letter or digit that ASCII can spell.
    """
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "_", ascii_text.lower()).strip("_")
    return slug[:64].rstrip("_")


def _fits(candidate: str) -> str:
    return candidate[:64].rstrip("_-")


def category_of_name(name: str) -> list[str]:
    """The categories whose stems start a word of ``name`` (one, none or several)."""
    words = re.findall(r"[a-z]+", identifier(name).replace("_", " "))
    return [
        cat
        for cat, stems in CATEGORY_STEMS.items()
        if any(w.startswith(s) for w in words for s in stems)
    ]


def code_identifiers(codes: list[Code], mappings: Mappings) -> dict[str, str]:
    """GUID -> code identifier, for every code (see the module's documentation)."""
    problems = []
    names = Counter(c.name for c in codes)
    ids: dict[str, str] = {}
    used: dict[str, Code] = {}
    # identifiers a mapping gives are kept for their codes, whatever comes first
    reserved = {mappings.codes[c.name] for c in codes if c.name in mappings.codes}
    for code in codes:
        mapped = mappings.codes.get(code.name)
        if mapped and names[code.name] > 1:
            problems.append(
                code.where.problem(
                    f"several codes are named {code.name!r}: a mapping cannot tell them apart"
                )
            )
            continue
        if mapped:
            if mapped in used:
                other = used[mapped].where.element
                problems.append(code.where.problem(f"mapped to {mapped!r}, which {other} has"))
                continue
            chosen = mapped
        else:
            base = identifier(code.name) or f"code-{code.guid[:8]}"
            parent = ids.get(code.parent) if code.parent else None
            candidates = [base]
            if parent:
                candidates.append(_fits(f"{parent}-{base}"))
            candidates.append(_fits(f"{base[:55]}-{code.guid[:8]}"))
            chosen = next((c for c in candidates if c not in used and c not in reserved), None)
            if chosen is None:
                problems.append(code.where.problem("cannot find a unique identifier"))
                continue
        ids[code.guid] = chosen
        used[chosen] = code
    if problems:
        raise QdaError(problems)
    return ids


def code_categories(codes: list[Code], mappings: Mappings) -> dict[str, str]:
    """GUID -> category, for every code (see the module's documentation)."""
    out: dict[str, str] = {}
    problems = []
    for code in codes:  # parents come first, so a parent's category is known
        if code.name in mappings.categories:
            out[code.guid] = mappings.categories[code.name]
        elif code.parent is not None and code.parent in out:
            out[code.guid] = out[code.parent]
        elif code.parent is None:
            found = category_of_name(code.name)
            if len(found) == 1:
                out[code.guid] = found[0]
            else:
                why = "matches several categories" if found else "matches no category"
                problems.append(
                    code.where.problem(
                        f"top-level code {code.name!r} {why} ({', '.join(CODE_CATEGORIES)}); "
                        "give its category in a code_name,category mapping file"
                    )
                )
    if problems:
        raise QdaError(problems)
    return out


def coder_identifiers(guids: Iterable[str], users: dict[str, str | None], mappings: Mappings):
    """User GUID -> coder identifier (see the module's documentation)."""
    base = {}
    for guid in sorted(set(guids)):
        name = users.get(guid)
        if name and name in mappings.coders:
            base[guid] = (mappings.coders[name], True)
        else:
            base[guid] = ((identifier(name) if name else "") or f"coder-{guid[:8]}", False)
    counts = Counter(b for b, _ in base.values())
    return {
        guid: _fits(f"{b[:55]}-{guid[:8]}") if counts[b] > 1 and not mapped else b
        for guid, (b, mapped) in base.items()
    }


# -- tables ------------------------------------------------------------------------
def codebook_table(qda: QdaFile, mappings: Mappings | None = None) -> pd.DataFrame:
    """The ``codebook`` table of the file's codes."""
    mappings = mappings or Mappings()
    if not qda.codes:
        raise QdaError([QdaProblem(qda.path, None, None, None, "the file holds no codes")])
    ids = code_identifiers(qda.codes, mappings)
    categories = code_categories(qda.codes, mappings)
    return pd.DataFrame(
        {
            "code": [ids[c.guid] for c in qda.codes],
            "label": [c.name for c in qda.codes],
            "category": [categories[c.guid] for c in qda.codes],
            "parent_code": [ids[c.parent] if c.parent else None for c in qda.codes],
            "description": [c.description for c in qda.codes],
        },
        dtype=object,
    )


@dataclass
class Segments:
    """The ``coded_segments`` table, and what the summary says about it."""

    table: pd.DataFrame
    n_selections: int
    coders: list[str]
    n_split: int

    @property
    def n_informants(self) -> int:
        """Informants whose interviews have coded segments."""
        return self.table["informant_id"].nunique()


def _informant(source: Source, mappings: Mappings, informant_ids: set[str]) -> str | None:
    name = source.name or ""
    if name in mappings.informants:
        return mappings.informants[name]
    if name in informant_ids:
        return name
    stem = name.rsplit(".", 1)[0]
    return stem if "." in name and stem in informant_ids else None


def segments_table(
    qda: QdaFile, code_ids: dict[str, str], informant_ids: Iterable[str], mappings: Mappings
) -> Segments:
    """The ``coded_segments`` table of a project's coded text selections."""
    informant_ids = set(informant_ids)
    problems: list[QdaProblem] = []
    # (segment GUID, informant, coder GUID, code) in document order
    raw: list[tuple[str, str, str, str]] = []
    n_selections = 0
    for source in qda.sources or []:
        coded = [s for s in source.selections if s.codings]
        if not coded:
            continue
        informant = _informant(source, mappings, informant_ids)
        if informant is None:
            name = source.name
            problems.append(
                source.where.problem(
                    f"source {name!r} matches no informant_id of informants.csv; name the "
                    "informant in a source_name,informant_id mapping file"
                    if name
                    else "the source has no name, so no informant; give it the informant's id"
                )
            )
            continue
        spans: dict[tuple[int, int], str] = {}
        for sel in coded:
            n_selections += 1
            segment = spans.setdefault((sel.start, sel.end), sel.guid)
            for coding in sel.codings:
                code = code_ids.get(coding.code_guid)
                user = coding.creating_user or sel.creating_user
                if code is None:
                    problems.append(
                        coding.where.problem(
                            f"CodeRef targetGUID {coding.code_guid} is not a code of the "
                            "project's CodeBook"
                        )
                    )
                elif user is None:
                    problems.append(
                        coding.where.problem(
                            "no creatingUser on the coding or its selection: who coded it?"
                        )
                    )
                else:
                    raw.append((segment, informant, user, code))
    if problems:
        raise QdaError(problems)

    coders = coder_identifiers((r[2] for r in raw), qda.users, mappings)
    order = {code: i for i, code in enumerate(code_ids.values())}
    by_segment: dict[str, dict[str, set[str]]] = {}
    informant_of: dict[str, str] = {}
    for segment, informant, user, code in raw:
        by_segment.setdefault(segment, {}).setdefault(coders[user], set()).add(code)
        informant_of[segment] = informant
    rows = []
    n_split = 0
    for segment, applied in by_segment.items():  # segments in document order
        if all(len(codes) == 1 for codes in applied.values()):
            for coder in sorted(applied):
                rows.append((segment, informant_of[segment], coder, *applied[coder]))
            continue
        n_split += 1
        for code in sorted(set().union(*applied.values()), key=order.__getitem__):
            for coder in sorted(c for c, codes in applied.items() if code in codes):
                rows.append((f"{segment}.{code}", informant_of[segment], coder, code))
    table = pd.DataFrame(rows, columns=["segment_id", "informant_id", "coder_id", "code"])
    table["synthetic"] = pd.array([False] * len(table), dtype="boolean")
    return Segments(table, n_selections, sorted(set(table["coder_id"])), n_split)


# -- import ------------------------------------------------------------------------
@dataclass
class ImportResult:
    """What :func:`import_file` read and wrote."""

    qda: QdaFile
    codebook: pd.DataFrame
    segments: Segments | None
    written: list[Path]

    @property
    def n_top_level_codes(self) -> int:
        """Codes of the codebook with no parent code."""
        return int(self.codebook["parent_code"].isna().sum())


def import_file(
    path: Path,
    data_dir: Path,
    mapping_files: Sequence[Path] = (),
    dry_run: bool = False,
    qda: QdaFile | None = None,
) -> ImportResult:
    """Import a ``.qdpx`` project or ``.qdc`` codebook into the data package in ``data_dir``.

    A project replaces ``codebook.csv`` and ``coded_segments.csv``; a codebook replaces
    ``codebook.csv`` only, so the codes that ``coded_segments.csv`` uses must be in it.
    Nothing is written unless the package with the new tables is valid. ``qda`` is the
    file as :func:`compendium.ingest.refi.read` read it already, if it did.

    Raises
    ------
    QdaError
        The REFI-QDA file or a mapping file cannot be imported.
    DataPackageError
        The data package cannot be read, or would not be valid with the new tables.
    """
    data_dir = Path(data_dir)
    qda = qda if qda is not None else read(path)
    informants = _read_column(data_dir, "informants", "informant_id") if qda.is_project else None
    mappings = read_mappings(mapping_files, informants)
    codebook = codebook_table(qda, mappings)
    code_ids = dict(zip((c.guid for c in qda.codes), codebook["code"], strict=True))
    texts = {"codebook": table_to_csv(codebook, TABLES_BY_NAME["codebook"])}
    segments = None
    if qda.is_project:
        segments = segments_table(qda, code_ids, informants, mappings)
        texts["coded_segments"] = table_to_csv(segments.table, TABLES_BY_NAME["coded_segments"])
    else:
        used = _read_column(data_dir, "coded_segments", "code")
        lacking = sorted(set(used) - set(codebook["code"]))
        if lacking:
            shown = ", ".join(lacking[:5]) + (", …" if len(lacking) > 5 else "")
            message = (
                f"the codebook lacks {len(lacking)} code(s) that "
                f"{data_dir / 'coded_segments.csv'} uses ({shown}); import the whole project "
                "(.qdpx) instead, or keep those codes in the codebook"
            )
            raise QdaError([QdaProblem(qda.path, None, None, None, message)])
    written = update_tables(data_dir, texts, dry_run=dry_run)
    return ImportResult(qda, codebook, segments, written)


def _read_column(data_dir: Path, table: str, column: str) -> list[str]:
    path = data_dir / TABLES_BY_NAME[table].path
    df, problems = read_table(path, TABLES_BY_NAME[table])
    if problems:
        raise DataPackageError(problems)
    return df[column].dropna().tolist()
