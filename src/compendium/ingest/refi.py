"""Read REFI-QDA files, within limits: a project (``.qdpx``) or a codebook (``.qdc``).

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

Limits
------
An archive is streamed, never unpacked, and refused (one line naming the file and the
reason) before anything is inflated when its directory declares more than
``MAX_MEMBERS`` files (or a directory over ``MAX_DIRECTORY_BYTES``), files whose sizes
add up to more than ``MAX_TOTAL_BYTES``, a file whose path leads outside the archive
(absolute, a drive letter, or ``..``), or a ``project.qde`` over ``MAX_XML_BYTES``. A
directory can lie about sizes, so ``project.qde`` is also counted as it inflates, and
an archive whose file inflates to other than its declared size is refused as malformed.
A ``.qdc`` file over ``MAX_XML_BYTES`` is refused before it is read. An XML document
may hold at most ``MAX_ELEMENTS`` elements, and only the text of ``Description``
elements is kept: memory stays bounded whatever the file.

This module reads a file into a :class:`QdaFile` and needs neither pandas nor the
package's schema, so that a file to refuse is refused at once;
:mod:`compendium.ingest.qda` turns a :class:`QdaFile` into tables of the data package.
"""

from __future__ import annotations

import gc
import re
import zipfile
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree import ElementTree as ET
from xml.parsers import expat

from ..data.problems import Problem, shorten

#: Limits on a ``.qdpx`` archive, checked in its directory before anything is inflated
#: (see "Limits" above): files in it, bytes of its directory, bytes of its files inflated.
MAX_MEMBERS = 10_000
MAX_DIRECTORY_BYTES = 8 << 20
MAX_TOTAL_BYTES = 4 << 30
#: The most bytes of XML read: ``project.qde`` inflated, or a ``.qdc`` file.
MAX_XML_BYTES = 64 << 20
#: The most elements of an XML document: each becomes a node of a tree in memory, and
#: with what the import makes of them 200,000 take up to about 250 MB (they hold some
#: 60,000 codings).
MAX_ELEMENTS = 200_000
#: Positions of a text selection are character offsets that REFI-QDA software writes as
#: 32-bit integers; one outside 0..MAX_POSITION was written by an overflow.
MAX_POSITION = 2**31 - 1
_CHUNK = 1 << 20  # bytes of XML parsed at a time

NS_PROJECT = "urn:QDA-XML:project:1.0"
NS_CODEBOOK = "urn:QDA-XML:codebook:1.0"
PROJECT_ENTRY = "project.qde"


class _Element(ET.Element):
    """An element that knows the line it starts on (a slot: a tree can hold many)."""

    __slots__ = ("line",)


_GUID = re.compile(
    r"\{?[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\}?"
)
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


def _size(n: int) -> str:
    """A number of bytes as people write it: ``64 MiB``."""
    for unit, shift in (("GiB", 30), ("MiB", 20), ("KiB", 10)):
        if n >= 1 << shift:
            return f"{n / (1 << shift):.3g} {unit}"
    return f"{n} bytes"


def _shown(text: str, width: int = 60) -> str:
    """Text of a file in a one-line message: cut short, control characters escaped."""
    text = shorten(text, width)
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode() for c in text)


def parse_xml(stream, file: str, entry: str | None = None) -> ET.Element:
    """Parse XML from the binary ``stream`` into an ElementTree whose elements know their line.

    The stream is read a chunk at a time, at most ``MAX_XML_BYTES``, into at most
    ``MAX_ELEMENTS`` elements; only ``Description`` elements keep their text (the only
    text the import reads).

    Raises
    ------
    QdaError
        When the document is not well-formed, declares a DOCTYPE or passes a limit.
    """
    builder = ET.TreeBuilder(element_factory=_Element)
    parser = expat.ParserCreate(namespace_separator="}")
    parser.buffer_text = True
    keep_text = [False]  # for each open element: is its text kept?
    read = n_elements = 0

    def position(n: int) -> int | None:
        # a line or column past the bytes read is a counter that overflowed: not shown
        return n if 0 < n <= max(read, 1) else None

    def refuse(message: str, line: int | None = None) -> QdaError:
        return QdaError([QdaProblem(file, entry, position(line or 0), None, message)])

    def start(tag, attrs):
        nonlocal n_elements
        n_elements += 1
        if n_elements > MAX_ELEMENTS:
            raise refuse(
                f"more than {MAX_ELEMENTS:,} elements, the most an import reads",
                parser.CurrentLineNumber,
            )
        attrs = {_clark(k): v for k, v in attrs.items()}
        builder.start(_clark(tag), attrs).line = parser.CurrentLineNumber
        keep_text.append(tag.endswith("}Description") or tag == "Description")

    def end(tag):
        keep_text.pop()
        builder.end(_clark(tag))

    def data(text):
        if keep_text[-1]:
            builder.data(text)

    def doctype(*_):
        raise refuse("a DOCTYPE is not allowed", parser.CurrentLineNumber)

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = data
    parser.StartDoctypeDeclHandler = doctype
    collecting = gc.isenabled()
    gc.disable()  # a tree of many small objects: collections while it grows cost much
    try:
        while chunk := stream.read(_CHUNK):
            read += len(chunk)
            if read > MAX_XML_BYTES:
                raise refuse(
                    f"larger than {_size(MAX_XML_BYTES)}, the most an import reads "
                    "(stopped reading there)"
                )
            parser.Parse(chunk, False)
        parser.Parse(b"", True)
    except expat.ExpatError as err:
        column = position(err.offset + 1)
        where = f", column {column}" if column else ""
        message = f"not well-formed XML ({expat.ErrorString(err.code)}{where})"
        raise refuse(message, err.lineno) from None
    finally:
        if collecting:
            gc.enable()
    return builder.close()


def _local(el: ET.Element) -> str:
    return el.tag.rsplit("}", 1)[-1]


_NAMED = ("Project", "User", "Code", "TextSource", *_NON_TEXT_SOURCES)


def _describe(el: ET.Element) -> str:
    """``<Coding guid="...">``: the element and what identifies it best."""
    attrs = ("name", "guid") if _local(el) in _NAMED else ("guid", "targetGUID", "name")
    for attr in attrs:
        if el.get(attr):
            return f'<{_local(el)} {attr}="{_shown(el.get(attr))}">'
    return f"<{_local(el)}>"


def _where(el: ET.Element, file: str, entry: str | None) -> Where:
    return Where(file, entry, getattr(el, "line", None), _describe(el))


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
            self.problems.append(self.where(el).problem(f"{attr} {_shown(value)!r} is not a GUID"))
            return None
        return value.strip("{}").lower()

    def integer(self, el: ET.Element, attr: str) -> int | None:
        value = (el.get(attr) or "").strip()
        try:
            return int(value)
        except ValueError:
            what = "is missing" if not value else f"is {_shown(value)!r}, not a whole number"
            self.problems.append(self.where(el).problem(f"the {attr} attribute {what}"))
            return None

    def position(self, el: ET.Element, attr: str) -> int | None:
        """A selection's ``startPosition`` or ``endPosition`` (a character offset)."""
        value = self.integer(el, attr)
        if value is not None and not 0 <= value <= MAX_POSITION:
            # not echoed: an overflowed counter (-2147483647) says nothing to the reader
            message = f"the {attr} attribute is out of range (0 to {MAX_POSITION:,})"
            self.problems.append(self.where(el).problem(message))
            return None
        return value

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
                start, end = self.position(sel, "startPosition"), self.position(sel, "endPosition")
                if start is not None and end is not None and end < start:
                    message = "the selection ends before it starts (endPosition < startPosition)"
                    self.problems.append(self.where(sel).problem(message))
                    start = None
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
def _outside(name: str) -> bool:
    """True when a member's path leads outside the folder the archive would unpack in."""
    slashed = name.replace("\\", "/")
    return (
        slashed.startswith("/")
        or bool(re.match(r"[A-Za-z]:", slashed))
        or (".." in slashed.split("/"))
    )


def _check_directory(fp, label: str) -> None:
    """Refuse an archive whose directory is too big to read, before :mod:`zipfile` reads it.

    ``zipfile`` reads the whole central directory that the end record names; the end
    record is found as ``zipfile`` finds it (a private function of the module, the same
    since Python 2).
    """
    end = zipfile._EndRecData(fp)
    if end is None:
        return  # not a zip archive: zipfile says so
    files, size = end[zipfile._ECD_ENTRIES_TOTAL], end[zipfile._ECD_SIZE]
    if files > MAX_MEMBERS:
        message = f"the archive holds {files:,} files, more than {MAX_MEMBERS:,}: too many to read"
    elif size > MAX_DIRECTORY_BYTES:
        message = (
            f"the archive's directory takes {_size(size)}, more than the "
            f"{_size(MAX_DIRECTORY_BYTES)} an import reads"
        )
    else:
        return
    raise QdaError([QdaProblem(label, None, None, None, message)])


def _project_member(archive: zipfile.ZipFile, label: str) -> zipfile.ZipInfo:
    """The archive's ``project.qde``, once its directory passed the limits (nothing inflated)."""

    def refuse(message: str, entry: str | None = None) -> QdaError:
        return QdaError([QdaProblem(label, entry, None, None, message)])

    infos = archive.infolist()
    if len(infos) > MAX_MEMBERS:
        raise refuse(
            f"the archive holds {len(infos):,} files, more than {MAX_MEMBERS:,}: too many to read"
        )
    outside = next((i.filename for i in infos if _outside(i.filename)), None)
    if outside is not None:
        raise refuse(f"the archive holds {_shown(outside)!r}, a path outside the archive")
    total = sum(i.file_size for i in infos)
    if total > MAX_TOTAL_BYTES:
        raise refuse(
            f"the archive's files inflate to {_size(total)}, more than the "
            f"{_size(MAX_TOTAL_BYTES)} an import accepts"
        )
    found = [i for i in infos if i.filename.lower() == PROJECT_ENTRY]
    if not found:
        names = sorted(_shown(i.filename) for i in infos)
        shown = ", ".join(names[:5]) + (", …" if len(infos) > 5 else "")
        holds = f"it holds {shown}" if infos else "it is empty"
        raise refuse(f"no {PROJECT_ENTRY} in the archive ({holds})")
    if len(found) > 1:
        raise refuse(f"the archive holds {len(found)} files named {PROJECT_ENTRY}")
    info = found[0]
    if info.file_size > MAX_XML_BYTES:
        raise refuse(
            f"inflates to {_size(info.file_size)}, more than the {_size(MAX_XML_BYTES)} an "
            "import reads (nothing was inflated)",
            info.filename,
        )
    return info


def read_project(path: Path) -> QdaFile:
    """Read a REFI-QDA project (``.qdpx``), streaming its ``project.qde`` out of the archive."""
    path = Path(path)
    label = str(path)
    try:
        with open(path, "rb") as fp:
            _check_directory(fp, label)
            with zipfile.ZipFile(fp) as archive:
                entry = _project_member(archive, label).filename
                with archive.open(entry) as member:
                    root = parse_xml(member, label, entry)
    # RuntimeError: an encrypted member; NotImplementedError: an unknown compression;
    # BadZipFile also when a file inflates to other than its declared size (Bad CRC-32)
    except (zipfile.BadZipFile, EOFError, zlib.error, NotImplementedError, RuntimeError) as err:
        message = f"not a readable .qdpx: the zip archive is malformed ({_shown(str(err), 120)})"
        raise QdaError([QdaProblem(label, None, None, None, message)]) from None
    except OSError as err:
        message = f"cannot read ({err.strerror or err})"
        raise QdaError([QdaProblem(label, None, None, None, message)]) from None
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
        size = path.stat().st_size
        if size > MAX_XML_BYTES:
            message = f"{_size(size)}, more than the {_size(MAX_XML_BYTES)} an import reads"
            raise QdaError([QdaProblem(label, None, None, None, message)])
        with open(path, "rb") as stream:
            root = parse_xml(stream, label)
    except OSError as err:
        message = f"cannot read ({err.strerror or err})"
        raise QdaError([QdaProblem(label, None, None, None, message)]) from None
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
