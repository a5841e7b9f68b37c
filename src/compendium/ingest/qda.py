"""Import coded interviews from QDA software through the REFI-QDA exchange standard.

REFI-QDA (www.qdasoftware.org) is the exchange format of ATLAS.ti, MAXQDA, NVivo,
QualCoder and others. Two kinds of file are read:

* a **project** (``.qdpx``): a zip archive holding ``project.qde``, an XML document in
  the namespace ``urn:QDA-XML:project:1.0`` (users, codebook, sources with their coded
  selections), beside the source documents themselves;
* a **codebook** (``.qdc``): an XML document in the namespace
  ``urn:QDA-XML:codebook:1.0`` holding only the codes.

The XML is read with the expat parser (the one behind :mod:`xml.etree.ElementTree`),
building an ElementTree whose elements remember their line, so that every error names
the file, the line and the element. A DOCTYPE is refused: REFI-QDA files have none, and
refusing it rules out entity-expansion attacks.

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

import csv
import io
import re
import unicodedata
import zipfile
import zlib
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree import ElementTree as ET
from xml.parsers import expat

import pandas as pd

from ..data.problems import DataPackageError, Problem
from ..data.read import read_table
from ..data.schema import CODE_CATEGORIES, IDENTIFIER_PATTERN, TABLES_BY_NAME
from ..data.write import table_to_csv, update_tables

NS_PROJECT = "urn:QDA-XML:project:1.0"
NS_CODEBOOK = "urn:QDA-XML:codebook:1.0"
PROJECT_ENTRY = "project.qde"
#: Words of a top-level code's name that give its category (accents dropped, lower case).
CATEGORY_STEMS: dict[str, tuple[str, ...]] = {
    "facilitator": ("facilitat",),
    "obstacle": ("obstacle",),
    "strategy": ("strateg",),
    "consensus": ("consensus",),
    "conflict": ("conflict", "conflit"),
}
_LINE = "{urn:compendium:qda}line"  # where the parser notes an element's line
_GUID = re.compile(
    r"\{?[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\}?"
)
_IDENTIFIER = re.compile(IDENTIFIER_PATTERN)
_NON_TEXT_SOURCES = ("PictureSource", "PDFSource", "AudioSource", "VideoSource")


# -- problems ------------------------------------------------------------------
@dataclass(frozen=True)
class QdaProblem:
    """One problem in a REFI-QDA file, printed as a single line."""

    file: str
    entry: str | None  # member of the archive (project.qde), if any
    line: int | None
    element: str | None
    message: str

    def __str__(self) -> str:
        where = [self.file]
        if self.entry:
            where.append(self.entry)
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.element:
            where.append(self.element)
        return f"{', '.join(where)}: {self.message}"


class QdaError(ValueError):
    """A REFI-QDA file (or a mapping file) cannot be imported; ``problems`` lists why."""

    def __init__(self, problems: Sequence[QdaProblem | Problem]):
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


# -- the parsed file -----------------------------------------------------------
@dataclass(frozen=True)
class Where:
    """The file, archive member, line and element a parsed item came from."""

    file: str
    entry: str | None
    line: int | None
    element: str

    def problem(self, message: str) -> QdaProblem:
        return QdaProblem(self.file, self.entry, self.line, self.element, message)


@dataclass(frozen=True)
class Code:
    guid: str
    name: str
    description: str | None
    parent: str | None  # GUID of the enclosing code
    where: Where


@dataclass(frozen=True)
class Coding:
    code_guid: str
    creating_user: str | None
    where: Where


@dataclass(frozen=True)
class Selection:
    guid: str
    start: int
    end: int
    creating_user: str | None
    codings: tuple[Coding, ...]
    where: Where


@dataclass(frozen=True)
class Source:
    guid: str
    name: str | None
    selections: tuple[Selection, ...]
    where: Where


@dataclass
class QdaFile:
    """What a ``.qdpx`` or ``.qdc`` file holds that the data package can use.

    ``sources`` is None for a codebook (``.qdc``). ``skipped`` counts what was read but
    cannot be imported (codings of whole sources, non-text sources).
    """

    path: str
    codes: list[Code]
    users: dict[str, str | None]  # GUID -> name
    sources: list[Source] | None
    skipped: dict[str, int] = field(default_factory=dict)

    @property
    def is_project(self) -> bool:
        return self.sources is not None


# -- XML ---------------------------------------------------------------------------
def _clark(name: str) -> str:
    """expat's ``uri}local`` as ElementTree's ``{uri}local``."""
    return "{" + name if "}" in name else name


def parse_xml(data: bytes, file: str, entry: str | None = None) -> ET.Element:
    """Parse XML into an ElementTree whose elements know their line.

    Raises
    ------
    QdaError
        When the document is not well-formed or declares a DOCTYPE.
    """
    builder = ET.TreeBuilder()
    parser = expat.ParserCreate(namespace_separator="}")
    parser.buffer_text = True

    def start(tag, attrs):
        attrs = {_clark(k): v for k, v in attrs.items()}
        attrs[_LINE] = str(parser.CurrentLineNumber)
        builder.start(_clark(tag), attrs)

    def doctype(*_):
        raise QdaError(
            [QdaProblem(file, entry, parser.CurrentLineNumber, None, "a DOCTYPE is not allowed")]
        )

    parser.StartElementHandler = start
    parser.EndElementHandler = lambda tag: builder.end(_clark(tag))
    parser.CharacterDataHandler = builder.data
    parser.StartDoctypeDeclHandler = doctype
    try:
        parser.Parse(data, True)
    except expat.ExpatError as err:
        message = f"not well-formed XML ({expat.ErrorString(err.code)}, column {err.offset + 1})"
        raise QdaError([QdaProblem(file, entry, err.lineno, None, message)]) from None
    return builder.close()


def _local(el: ET.Element) -> str:
    return el.tag.rsplit("}", 1)[-1]


_NAMED = ("Project", "User", "Code", "TextSource", *_NON_TEXT_SOURCES)


def _describe(el: ET.Element) -> str:
    """``<Coding guid="...">``: the element and what identifies it best."""
    attrs = ("name", "guid") if _local(el) in _NAMED else ("guid", "targetGUID", "name")
    for attr in attrs:
        if el.get(attr):
            return f'<{_local(el)} {attr}="{el.get(attr)}">'
    return f"<{_local(el)}>"


def _where(el: ET.Element, file: str, entry: str | None) -> Where:
    line = el.get(_LINE)
    return Where(file, entry, int(line) if line else None, _describe(el))


def _check_root(root: ET.Element, namespace: str, name: str, file: str, entry: str | None):
    ns = root.tag[1:].split("}", 1)[0] if root.tag.startswith("{") else None
    if ns == namespace and _local(root) == name:
        return
    found = f"<{_local(root)}> in namespace {ns}" if ns else f"<{_local(root)}> in no namespace"
    raise QdaError(
        [
            _where(root, file, entry).problem(
                f"the root element is {found}; expected <{name}> in namespace {namespace}"
            )
        ]
    )


class _Reader:
    """Turns the elements of one document into :class:`Code`, :class:`Source`, ..."""

    def __init__(self, namespace: str, file: str, entry: str | None):
        self.ns = namespace
        self.file = file
        self.entry = entry
        self.problems: list[QdaProblem] = []

    def q(self, local: str) -> str:
        return f"{{{self.ns}}}{local}"

    def where(self, el: ET.Element) -> Where:
        return _where(el, self.file, self.entry)

    def guid(self, el: ET.Element, attr: str = "guid", required: bool = True) -> str | None:
        value = (el.get(attr) or "").strip()
        if not value:
            if required:
                self.problems.append(self.where(el).problem(f"the {attr} attribute is missing"))
            return None
        if not _GUID.fullmatch(value):
            self.problems.append(self.where(el).problem(f"{attr} {value!r} is not a GUID"))
            return None
        return value.strip("{}").lower()

    def integer(self, el: ET.Element, attr: str) -> int | None:
        value = (el.get(attr) or "").strip()
        try:
            return int(value)
        except ValueError:
            what = "is missing" if not value else f"is {value!r}, not a whole number"
            self.problems.append(self.where(el).problem(f"the {attr} attribute {what}"))
            return None

    def codes(self, codes_el: ET.Element | None) -> list[Code]:
        """Every ``Code`` under ``Codes``, parents before children, in document order."""
        out: list[Code] = []
        seen: set[str] = set()
        if codes_el is None:
            return out
        stack = [(el, None) for el in reversed(codes_el.findall(self.q("Code")))]
        while stack:
            el, parent = stack.pop()
            guid = self.guid(el)
            name = " ".join((el.get("name") or "").split())
            if not name:
                self.problems.append(self.where(el).problem("the name attribute is missing"))
            if guid is not None and guid in seen:
                self.problems.append(self.where(el).problem(f"GUID {guid} is used twice"))
                guid = None
            if guid is None or not name:
                continue
            seen.add(guid)
            desc_el = el.find(self.q("Description"))
            description = " ".join((desc_el.text or "").split()) if desc_el is not None else ""
            out.append(Code(guid, name, description or None, parent, self.where(el)))
            stack.extend((child, guid) for child in reversed(el.findall(self.q("Code"))))
        return out

    def users(self, users_el: ET.Element | None) -> dict[str, str | None]:
        users: dict[str, str | None] = {}
        for el in users_el.findall(self.q("User")) if users_el is not None else ():
            guid = self.guid(el)
            if guid is not None:
                users[guid] = " ".join((el.get("name") or "").split()) or None
        return users

    def codings(self, parent: ET.Element) -> tuple[Coding, ...]:
        out = []
        for el in parent.findall(self.q("Coding")):
            ref = el.find(self.q("CodeRef"))
            if ref is None:
                self.problems.append(self.where(el).problem("no CodeRef: the code is not named"))
                continue
            code = self.guid(ref, "targetGUID")
            user = self.guid(el, "creatingUser", required=False)
            if code is not None:
                out.append(Coding(code, user, self.where(el)))
        return tuple(out)

    def sources(self, sources_el: ET.Element | None, skipped: dict[str, int]) -> list[Source]:
        out: list[Source] = []
        if sources_el is None:
            return out
        seen: set[str] = set()
        for el in sources_el:
            if _local(el) in _NON_TEXT_SOURCES:
                if el.find(f".//{self.q('Coding')}") is not None:
                    skipped["coded sources that are not text"] = (
                        skipped.get("coded sources that are not text", 0) + 1
                    )
                continue
            if el.tag != self.q("TextSource"):
                continue
            whole = len(el.findall(self.q("Coding")))
            if whole:
                skipped["codings of whole sources"] = (
                    skipped.get("codings of whole sources", 0) + whole
                )
            selections = []
            for sel in el.findall(self.q("PlainTextSelection")):
                guid = self.guid(sel)
                start, end = self.integer(sel, "startPosition"), self.integer(sel, "endPosition")
                user = self.guid(sel, "creatingUser", required=False)
                codings = self.codings(sel)
                if guid is not None and guid in seen:
                    self.problems.append(self.where(sel).problem(f"GUID {guid} is used twice"))
                    continue
                if guid is None or start is None or end is None:
                    continue
                seen.add(guid)
                selections.append(Selection(guid, start, end, user, codings, self.where(sel)))
            name = " ".join((el.get("name") or "").split()) or None
            out.append(Source(self.guid(el) or "", name, tuple(selections), self.where(el)))
        return out


# -- reading files -------------------------------------------------------------
def read_project(path: Path) -> QdaFile:
    """Read a REFI-QDA project (``.qdpx``)."""
    path = Path(path)
    label = str(path)
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
            entry = next((n for n in names if n.lower() == PROJECT_ENTRY), None)
            if entry is None:
                shown = ", ".join(sorted(names)[:5]) + (", …" if len(names) > 5 else "")
                holds = f"it holds {shown}" if names else "it is empty"
                raise QdaError(
                    [
                        QdaProblem(
                            label, None, None, None, f"no {PROJECT_ENTRY} in the archive ({holds})"
                        )
                    ]
                )
            data = archive.read(entry)
    # RuntimeError: an encrypted member; NotImplementedError: an unknown compression
    except (zipfile.BadZipFile, EOFError, zlib.error, NotImplementedError, RuntimeError) as err:
        message = f"not a readable .qdpx: the zip archive is malformed ({err})"
        raise QdaError([QdaProblem(label, None, None, None, message)]) from None
    except OSError as err:
        raise QdaError([QdaProblem(label, None, None, None, f"cannot read ({err})")]) from None
    root = parse_xml(data, label, entry)
    _check_root(root, NS_PROJECT, "Project", label, entry)
    reader = _Reader(NS_PROJECT, label, entry)
    codebook = root.find(reader.q("CodeBook"))
    codes = reader.codes(codebook.find(reader.q("Codes")) if codebook is not None else None)
    users = reader.users(root.find(reader.q("Users")))
    skipped: dict[str, int] = {}
    sources = reader.sources(root.find(reader.q("Sources")), skipped)
    if reader.problems:
        raise QdaError(reader.problems)
    return QdaFile(label, codes, users, sources, skipped)


def read_codebook(path: Path) -> QdaFile:
    """Read a REFI-QDA codebook (``.qdc``)."""
    path = Path(path)
    label = str(path)
    try:
        data = path.read_bytes()
    except OSError as err:
        raise QdaError([QdaProblem(label, None, None, None, f"cannot read ({err})")]) from None
    root = parse_xml(data, label)
    _check_root(root, NS_CODEBOOK, "CodeBook", label, None)
    reader = _Reader(NS_CODEBOOK, label, None)
    codes = reader.codes(root.find(reader.q("Codes")))
    if reader.problems:
        raise QdaError(reader.problems)
    return QdaFile(label, codes, {}, None)


def read(path: Path) -> QdaFile:
    """Read a ``.qdpx`` project or a ``.qdc`` codebook, by the file's extension."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".qdpx":
        return read_project(path)
    if suffix == ".qdc":
        return read_codebook(path)
    message = "not a REFI-QDA file: expected a .qdpx project or a .qdc codebook"
    raise QdaError([QdaProblem(str(path), None, None, None, message)])


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
        try:
            text = Path(path).read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as err:
            problems.append(Problem(label, None, None, f"cannot read the mapping file ({err})"))
            continue
        rows = list(csv.reader(io.StringIO(text, newline="")))
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
        for number, row in enumerate(rows[1:], start=2):
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
) -> ImportResult:
    """Import a ``.qdpx`` project or ``.qdc`` codebook into the data package in ``data_dir``.

    A project replaces ``codebook.csv`` and ``coded_segments.csv``; a codebook replaces
    ``codebook.csv`` only, so the codes that ``coded_segments.csv`` uses must be in it.
    Nothing is written unless the package with the new tables is valid.

    Raises
    ------
    QdaError
        The REFI-QDA file or a mapping file cannot be imported.
    DataPackageError
        The data package cannot be read, or would not be valid with the new tables.
    """
    data_dir = Path(data_dir)
    qda = read(path)
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
