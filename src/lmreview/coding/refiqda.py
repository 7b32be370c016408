"""REFI-QDA codebooks (``.qdc``): read what NVivo, MAXQDA, ATLAS.ti, Taguette and others write, and write one that
validates against the standard's ``Codebook.xsd``.

Reading is lenient where the tools differ and strict where data would be lost: any namespace is accepted (MAXQDA
writes ``urn:QDA-XML:codebook:0:4``, the others ``urn:QDA-XML:codebook:1.0``), an empty ``<Sets/>`` (Taguette) is
read as no sets, and the XML is parsed with defusedxml, so a DTD entity (XXE, "billion laughs") is refused.
The standard has no mutually exclusive set: lmreview marks one by starting its description with
``[exclusive]``, which other tools show as text and lmreview reads back.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from lmreview.errors import BadInput, Problem

if TYPE_CHECKING:
    from lmreview.coding.codebooks import CodeRow
    from lmreview.coding.models import Codebook

CODEBOOK_NS = "urn:QDA-XML:codebook:1.0"
PROJECT_NS = "urn:QDA-XML:project:1.0"
EXCLUSIVE_MARK = "[exclusive]"
_GUID = re.compile(r"^\{?[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\}?$")
_COLOUR = re.compile(r"^#([0-9a-fA-F]{6}|[0-9a-fA-F]{3})$")


@dataclass
class ParsedCode:
    guid: str
    name: str
    description: str | None
    colour: str | None
    codable: bool
    children: list[ParsedCode] = field(default_factory=list)


@dataclass
class ParsedSet:
    guid: str
    name: str
    description: str | None
    exclusive: bool = False
    members: list[str] = field(default_factory=list)  # code GUIDs


@dataclass
class ParsedCodebook:
    origin: str | None
    title: str | None = None
    codes: list[ParsedCode] = field(default_factory=list)
    sets: list[ParsedSet] = field(default_factory=list)

    def all_codes(self) -> list[ParsedCode]:
        out: list[ParsedCode] = []

        def walk(codes: list[ParsedCode]) -> None:
            for code in codes:
                out.append(code)
                walk(code.children)

        walk(self.codes)
        return out


def local(tag: object) -> str:
    """An element's name without its namespace (``{urn:…}Code`` → ``Code``)."""
    return str(tag).rsplit("}", 1)[-1]


def children(element: ET.Element, name: str) -> list[ET.Element]:
    return [child for child in element if local(child.tag) == name]


def child(element: ET.Element, name: str) -> ET.Element | None:
    found = children(element, name)
    return found[0] if found else None


def parse_xml(data: bytes, filename: str) -> ET.Element:
    """The root element, parsed without DTD entities; BadInput for XML that is broken or carries entities."""
    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import fromstring

    try:
        root: ET.Element = fromstring(data, forbid_dtd=False, forbid_entities=True, forbid_external=True)
    except DefusedXmlException:
        raise BadInput(
            [Problem(filename, 0, "-", "refused: the XML declares entities (XXE or an entity bomb)")]
        ) from None
    except ET.ParseError as exc:
        line = exc.position[0] if getattr(exc, "position", None) else 0
        raise BadInput([Problem(filename, line, "-", f"this is not well-formed XML ({exc})")]) from None
    return root


def _description(element: ET.Element) -> str | None:
    found = child(element, "Description")
    text = (found.text or "").strip() if found is not None else ""
    return text or None


def read_codes(parent: ET.Element, filename: str, problems: list[Problem], seen: set[str]) -> list[ParsedCode]:
    codes = []
    for element in children(parent, "Code"):
        guid = (element.get("guid") or "").strip()
        name = element.get("name") or ""
        if not _GUID.match(guid):
            problems.append(Problem(filename, 0, "Code", f'the code "{name}" has no valid guid ("{guid}")'))
            continue
        key = guid.upper().strip("{}")
        if key in seen:
            problems.append(Problem(filename, 0, "Code", f'the guid {guid} is used by two codes ("{name}")'))
            continue
        seen.add(key)
        colour = element.get("color")
        codes.append(
            ParsedCode(
                guid=key,
                name=name.strip() or "(unnamed)",
                description=_description(element),
                colour=colour.lower() if colour and _COLOUR.match(colour) and len(colour) == 7 else None,
                codable=(element.get("isCodable") or "true").lower() != "false",
                children=read_codes(element, filename, problems, seen),
            )
        )
    return codes


def read_sets(parent: ET.Element | None) -> list[ParsedSet]:
    sets = []
    for element in children(parent, "Set") if parent is not None else []:
        description = _description(element)
        exclusive = bool(description and description.startswith(EXCLUSIVE_MARK))
        if exclusive and description:
            description = description[len(EXCLUSIVE_MARK) :].strip() or None
        members = [(m.get("guid") or "").upper().strip("{}") for m in children(element, "MemberCode")]
        sets.append(
            ParsedSet(
                guid=(element.get("guid") or "").upper().strip("{}"),
                name=element.get("name") or "(unnamed set)",
                description=description,
                exclusive=exclusive,
                members=members,
            )
        )
    return sets


def read_codebook(data: bytes, filename: str) -> ParsedCodebook:
    root = parse_xml(data, filename)
    if local(root.tag) != "CodeBook":
        raise BadInput(
            [Problem(filename, 0, "-", f"this is not a REFI-QDA codebook (its root is <{local(root.tag)}>)")]
        )
    problems: list[Problem] = []
    codes_element = child(root, "Codes")
    parsed = ParsedCodebook(origin=root.get("origin"))
    if codes_element is not None:
        parsed.codes = read_codes(codes_element, filename, problems, set())
    parsed.sets = read_sets(child(root, "Sets"))
    check_sets(parsed, filename, problems)
    if problems:
        raise BadInput(problems)
    return parsed


def check_sets(parsed: ParsedCodebook, filename: str, problems: list[Problem]) -> None:
    guids = {c.guid for c in parsed.all_codes()}
    for parsed_set in parsed.sets:
        for member in parsed_set.members:
            if member not in guids:
                problems.append(
                    Problem(filename, 0, "Set", f'the set "{parsed_set.name}" names an unknown code {member}')
                )


# --- writing -------------------------------------------------------------------------------------------------


def codes_element(ns: str, rows: list[CodeRow]) -> ET.Element:
    codes = ET.Element(f"{{{ns}}}Codes")
    elements: dict[int, ET.Element] = {}
    for row in rows:
        parent = elements.get(row.code.parent_id) if row.code.parent_id else None
        element = ET.SubElement(parent if parent is not None else codes, f"{{{ns}}}Code")
        element.set("guid", row.code.guid)
        element.set("name", row.code.name)
        element.set("isCodable", "true" if row.code.codable else "false")
        if row.code.colour:
            element.set("color", row.code.colour.upper())
        if row.code.description:
            description = ET.Element(f"{{{ns}}}Description")
            description.text = row.code.description
            element.insert(0, description)
        elements[row.code.id] = element
    return codes


def sets_element(ns: str, codebook: Codebook) -> ET.Element | None:
    """The code groups as <Sets>, or None when there are none (an empty <Sets/> does not validate)."""
    if not codebook.groups:
        return None
    sets = ET.Element(f"{{{ns}}}Sets")
    guid_of = {c.id: c.guid for c in codebook.codes}
    for group in codebook.groups:
        element = ET.SubElement(sets, f"{{{ns}}}Set", {"guid": group.guid, "name": group.name})
        text = " ".join(t for t in (EXCLUSIVE_MARK if group.exclusive else "", group.description or "") if t)
        if text:
            ET.SubElement(element, f"{{{ns}}}Description").text = text
        for member in group.members:
            ET.SubElement(element, f"{{{ns}}}MemberCode", {"guid": guid_of[member.code_id]})
    return sets


def write_codebook(codebook: Codebook, rows: list[CodeRow]) -> bytes:
    ET.register_namespace("", CODEBOOK_NS)
    root = ET.Element(f"{{{CODEBOOK_NS}}}CodeBook", {"origin": "lmreview"})
    root.append(codes_element(CODEBOOK_NS, rows))
    sets = sets_element(CODEBOOK_NS, codebook)
    if sets is not None:
        root.append(sets)
    ET.indent(root)
    data: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return data
