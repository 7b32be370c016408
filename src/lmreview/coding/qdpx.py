"""REFI-QDA projects (``.qdpx``): read the zip that NVivo, MAXQDA, ATLAS.ti, Taguette, QualCoder and others write
into users, a codebook, text sources and coded selections; write one that validates against ``Project.xsd``.

Pitfalls handled (see the samples in ``shared/realworld/refiqda``): folder and file names vary in case
(``Sources/``, ``sources/``, ``Project.qde``); a source's text may carry a BOM and CRLF line breaks; NVivo counts
selection offsets in UTF-16 code units (a character outside the Basic Multilingual Plane counts twice); the root may
have no namespace or another one. Offsets are turned into lmreview's: Unicode code points into the text with line
breaks as LF, the way the evidence library stores a text file.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass, field

from lmreview.coding.refiqda import ParsedCodebook, ParsedSet, check_sets, child, children, local, parse_xml, read_codes
from lmreview.errors import BadInput, Problem
from lmreview.tables import MAX_RATIO, MAX_UNCOMPRESSED

MAX_MEMBERS = 10_000
_INTERNAL = "internal://"


@dataclass
class Selection:
    guid: str
    start: int
    end: int
    user: str | None
    codings: list[tuple[str, str, str | None, str | None]]  # (coding guid, code guid, user guid, note guid)


@dataclass
class TextSource:
    guid: str
    name: str
    text: str  # LF line breaks, no BOM
    selections: list[Selection] = field(default_factory=list)


@dataclass
class ParsedProject:
    name: str
    origin: str | None
    users: dict[str, str]  # guid -> name
    codebook: ParsedCodebook
    sources: list[TextSource]
    notes: dict[str, str]  # note guid -> text


def open_zip(data: bytes, filename: str) -> zipfile.ZipFile:
    def refuse(message: str) -> BadInput:
        return BadInput([Problem(filename, 0, "-", message)])

    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError):
        raise refuse("this is not a REFI-QDA project (.qdpx is a zip file)") from None
    infos = archive.infolist()
    if len(infos) > MAX_MEMBERS:
        raise refuse(f"refused: the zip holds {len(infos)} files (at most {MAX_MEMBERS})")
    total = 0
    for info in infos:
        total += info.file_size
        if info.file_size > 1024 * 1024 and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise refuse(
                f"refused: {info.filename} expands {info.file_size // max(info.compress_size, 1)} times (a zip bomb?)"
            )
    if total > MAX_UNCOMPRESSED:
        raise refuse(
            f"refused: the zip expands to {total // 1024 // 1024} MiB (limit {MAX_UNCOMPRESSED // 1024 // 1024} MiB)"
        )
    return archive


def _member(archive: zipfile.ZipFile, path: str) -> str | None:
    """The zip member named ``path``, ignoring case and a leading folder of the archive."""
    wanted = path.replace("\\", "/").lstrip("/").lower()
    for name in archive.namelist():
        lowered = name.lower()
        if lowered == wanted or lowered.endswith("/" + wanted):
            return name
    return None


def decode(raw: bytes) -> str:
    """Text of a source file: UTF-8 (with or without BOM) or UTF-16 with a BOM."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return raw.decode("utf-16")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace")


class OffsetMap:
    """Turns offsets into the text as the tool counted them (UTF-16 units or code points, CRLF or CR counted)
    into code points of the text with LF line breaks."""

    def __init__(self, text: str, utf16: bool) -> None:
        self.text = re.sub(r"\r\n?", "\n", text)
        self.table: dict[int, int] = {}
        position, out, i = 0, 0, 0
        while i < len(text):
            self.table[position] = out
            char = text[i]
            width = 2 if utf16 and ord(char) > 0xFFFF else 1
            if char == "\r" and i + 1 < len(text) and text[i + 1] == "\n":
                self.table[position + width] = out  # an offset between \r and \n lands before the break
                position, i = position + width + 1, i + 2
                out += 1
                continue
            position += width
            out += 1
            i += 1
        self.table[position] = out
        self.length = position

    def __call__(self, offset: int) -> int | None:
        return self.table.get(offset)


def read_project(data: bytes, filename: str) -> ParsedProject:
    archive = open_zip(data, filename)
    with archive:
        member = _member(archive, "project.qde")
        if member is None:
            raise BadInput([Problem(filename, 0, "-", "the zip has no project.qde: not a REFI-QDA project")])
        qde = f"{filename}/{member}"
        root = parse_xml(archive.read(member), qde)
        if local(root.tag) != "Project":
            raise BadInput([Problem(qde, 0, "-", f"the root element is <{local(root.tag)}>, not <Project>")])
        problems: list[Problem] = []
        origin = root.get("origin")
        utf16 = "nvivo" in (origin or "").lower()
        users = {}
        for user in children(child(root, "Users") or root, "User") if child(root, "Users") is not None else []:
            guid = (user.get("guid") or "").upper().strip("{}")
            users[guid] = user.get("name") or user.get("id") or guid
        codebook = ParsedCodebook(origin=origin, title=root.get("name"))
        book = child(root, "CodeBook")
        codes = child(book, "Codes") if book is not None else None
        if codes is not None:
            codebook.codes = read_codes(codes, qde, problems, set())
        sets = child(root, "Sets")
        for element in children(sets, "Set") if sets is not None else []:
            members = [
                (m.get("targetGUID") or m.get("guid") or "").upper().strip("{}")
                for m in children(element, "MemberCode")
            ]
            description = child(element, "Description")
            text = (description.text or "").strip() if description is not None else ""
            from lmreview.coding.refiqda import EXCLUSIVE_MARK

            codebook.sets.append(
                ParsedSet(
                    guid=(element.get("guid") or "").upper().strip("{}"),
                    name=element.get("name") or "(unnamed set)",
                    description=text.removeprefix(EXCLUSIVE_MARK).strip() or None,
                    exclusive=text.startswith(EXCLUSIVE_MARK),
                    members=[m for m in members if m],
                )
            )
        check_sets(codebook, qde, problems)
        notes = {}
        for note in children(child(root, "Notes") or root, "Note") if child(root, "Notes") is not None else []:
            content = child(note, "PlainTextContent")
            notes[(note.get("guid") or "").upper().strip("{}")] = (content.text or "") if content is not None else ""
        sources = []
        holder = child(root, "Sources")
        for element in children(holder, "TextSource") if holder is not None else []:
            source = _source(archive, element, filename, qde, utf16, problems)
            if source is not None:
                sources.append(source)
    if problems:
        raise BadInput(problems)
    return ParsedProject(root.get("name") or "project", origin, users, codebook, sources, notes)


def _source(
    archive: zipfile.ZipFile, element: object, filename: str, qde: str, utf16: bool, problems: list[Problem]
) -> TextSource | None:
    import xml.etree.ElementTree as ET

    assert isinstance(element, ET.Element)
    guid = (element.get("guid") or "").upper().strip("{}")
    name = element.get("name") or guid
    content = child(element, "PlainTextContent")
    path = element.get("plainTextPath") or ""
    if content is not None:
        raw_text = content.text or ""
    elif path:
        relative = path[len(_INTERNAL) :] if path.startswith(_INTERNAL) else path
        candidates = [f"sources/{relative}", relative]
        member = next((m for m in (_member(archive, c) for c in candidates) if m), None)
        if member is None:
            problems.append(Problem(qde, 0, "TextSource", f'the text of "{name}" ({path}) is not in the zip'))
            return None
        raw_text = decode(archive.read(member))
    else:
        problems.append(Problem(qde, 0, "TextSource", f'"{name}" has no plain text (plainTextPath)'))
        return None
    offsets = OffsetMap(raw_text, utf16)
    source = TextSource(guid, name, offsets.text)
    for selection in children(element, "PlainTextSelection"):
        sel_guid = (selection.get("guid") or "").upper().strip("{}")
        try:
            start_raw, end_raw = int(selection.get("startPosition", "")), int(selection.get("endPosition", ""))
        except ValueError:
            problems.append(
                Problem(qde, 0, "PlainTextSelection", f"selection {sel_guid} has no whole-number positions")
            )
            continue
        start, end = offsets(start_raw), offsets(end_raw)
        if start is None or end is None or not 0 <= start < end:
            problems.append(
                Problem(
                    qde,
                    0,
                    "PlainTextSelection",
                    f'selection {sel_guid} ({start_raw}-{end_raw}) lies outside the text of "{name}" '
                    f"({offsets.length} characters)",
                )
            )
            continue
        codings = []
        for coding in children(selection, "Coding"):
            ref = child(coding, "CodeRef")
            target = (ref.get("targetGUID") or "").upper().strip("{}") if ref is not None else ""
            note = child(coding, "NoteRef")
            user = (coding.get("creatingUser") or selection.get("creatingUser") or "").upper().strip("{}") or None
            note_guid = (note.get("targetGUID") or "").upper().strip("{}") if note is not None else None
            codings.append(((coding.get("guid") or "").upper().strip("{}"), target, user, note_guid))
        source.selections.append(
            Selection(sel_guid, start, end, (selection.get("creatingUser") or "").upper().strip("{}") or None, codings)
        )
    return source


# --- writing -------------------------------------------------------------------------------------------------


@dataclass
class OutSource:
    guid: str
    name: str
    text: str
    codings: list[OutCoding] = field(default_factory=list)


@dataclass
class OutCoding:
    guid: str
    start: int
    end: int
    code_guid: str
    coder: str
    created: str  # ISO 8601, UTC
    memo: str | None


def user_guid(coder: str) -> str:
    import uuid

    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"lmreview:coder:{coder}")).upper()


def derived_guid(*parts: str) -> str:
    import uuid

    return str(uuid.uuid5(uuid.NAMESPACE_URL, "lmreview:" + ":".join(parts))).upper()


def write_project(name: str, codes: object, sets: object, sources: list[OutSource]) -> bytes:
    """A .qdpx: project.qde (users, the codebook, the text sources with their selections, memos as notes, the
    code groups as sets) and each source's text as ``sources/<guid>.txt`` (UTF-8)."""
    import xml.etree.ElementTree as ET

    from lmreview.coding.refiqda import PROJECT_NS

    ns = PROJECT_NS
    ET.register_namespace("", ns)
    root = ET.Element(f"{{{ns}}}Project", {"name": name, "origin": "lmreview"})
    coders = sorted({c.coder for s in sources for c in s.codings})
    if coders:
        users = ET.SubElement(root, f"{{{ns}}}Users")
        for coder in coders:
            ET.SubElement(users, f"{{{ns}}}User", {"guid": user_guid(coder), "name": coder})
    assert isinstance(codes, ET.Element)
    ET.SubElement(root, f"{{{ns}}}CodeBook").append(codes)
    notes: list[tuple[str, str]] = []
    if sources:
        holder = ET.SubElement(root, f"{{{ns}}}Sources")
        for source in sources:
            element = ET.SubElement(
                holder,
                f"{{{ns}}}TextSource",
                {"guid": source.guid, "name": source.name, "plainTextPath": f"{_INTERNAL}{source.guid}.txt"},
            )
            for coding in source.codings:
                selection = ET.SubElement(
                    element,
                    f"{{{ns}}}PlainTextSelection",
                    {
                        "guid": derived_guid("selection", coding.guid),
                        "name": source.text[coding.start : coding.end][:60],
                        "startPosition": str(coding.start),
                        "endPosition": str(coding.end),
                        "creatingUser": user_guid(coding.coder),
                        "creationDateTime": coding.created,
                    },
                )
                made = ET.SubElement(
                    selection,
                    f"{{{ns}}}Coding",
                    {"guid": coding.guid, "creatingUser": user_guid(coding.coder), "creationDateTime": coding.created},
                )
                ET.SubElement(made, f"{{{ns}}}CodeRef", {"targetGUID": coding.code_guid})
                if coding.memo:
                    note = derived_guid("memo", coding.guid)
                    ET.SubElement(made, f"{{{ns}}}NoteRef", {"targetGUID": note})
                    notes.append((note, coding.memo))
    if notes:
        holder = ET.SubElement(root, f"{{{ns}}}Notes")
        for guid, text in notes:
            note_element = ET.SubElement(holder, f"{{{ns}}}Note", {"guid": guid, "name": "memo"})
            ET.SubElement(note_element, f"{{{ns}}}PlainTextContent").text = text
    if sets is not None:
        assert isinstance(sets, ET.Element)
        for member in sets.iter(f"{{{ns}}}MemberCode"):
            member.set("targetGUID", member.attrib.pop("guid"))
        root.append(sets)
    ET.indent(root)
    qde: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("project.qde", qde)
        for source in sources:
            archive.writestr(f"sources/{source.guid}.txt", source.text.encode("utf-8"))
    return buffer.getvalue()
