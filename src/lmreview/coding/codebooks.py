"""Codebooks: create one, add codes and code groups, list them, import and export them as CSV, XLSX or a
REFI-QDA codebook (``.qdc``), and install the starter codebooks."""

from __future__ import annotations

import io
import re
import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lmreview.coding import refiqda
from lmreview.coding.models import Code, Codebook, CodeGroup, CodeGroupMember, Coding
from lmreview.coding.starter import STARTERS
from lmreview.errors import BadInput, Conflict, LmreviewError, NotFound, Problem
from lmreview.store import audit
from lmreview.store.base import find_row
from lmreview.tables import normalise_header, read_table, sniff_format, workbook_bytes

CSV_COLUMNS = ("code", "parent", "description", "colour", "group", "exclusive")
PALETTE = ("#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f")
_COLOUR = re.compile(r"^#([0-9a-fA-F]{6}|[0-9a-fA-F]{3})$")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,79}$")
_YES, _NO = {"yes", "y", "true", "1", "x"}, {"", "no", "n", "false", "0"}


def new_guid() -> str:
    return str(uuid.uuid4()).upper()


def _colour(value: str | None) -> str | None:
    if not value:
        return None
    if not _COLOUR.match(value):
        raise ValueError(f'"{value}" is not a colour; write it as #RRGGBB')
    if len(value) == 4:
        value = "#" + "".join(c * 2 for c in value[1:])
    return value.lower()


def check_name(name: str) -> str:
    if not _NAME.match(name):
        raise LmreviewError(
            f'"{name}" cannot name a codebook: use up to 80 letters, digits, ".", "_" or "-", starting with a letter'
            " or digit"
        )
    return name


def get_codebook(session: Session, name: str) -> Codebook:
    codebook = session.scalar(select(Codebook).where(Codebook.name == name))
    if codebook is None:
        known = ", ".join(session.scalars(select(Codebook.name).order_by(Codebook.name))) or "none yet"
        raise NotFound(f'no codebook "{name}" (codebooks: {known})')
    return codebook


def create_codebook(
    session: Session, name: str, *, actor: str, title: str | None = None, description: str | None = None
) -> Codebook:
    check_name(name)
    if session.scalar(select(Codebook.id).where(Codebook.name == name)) is not None:
        raise Conflict(f'a codebook "{name}" exists already')
    codebook = Codebook(name=name, title=title, description=description, actor=actor)
    session.add(codebook)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="create",
        entity="codebook",
        entity_id=codebook.id,
        after={"name": name, "title": title},
        summary=f"codebook {name}",
    )
    return codebook


def code_path(code: Code, by_id: dict[int, Code]) -> str:
    parts = [code.name]
    seen = {code.id}
    parent = by_id.get(code.parent_id) if code.parent_id else None
    while parent is not None and parent.id not in seen:
        parts.append(parent.name)
        seen.add(parent.id)
        parent = by_id.get(parent.parent_id) if parent.parent_id else None
    return "/".join(reversed(parts))


def find_code(codebook: Codebook, reference: str) -> Code:
    """A code by its name, or by its path ``Parent/Child`` where names repeat; LmreviewError otherwise."""
    by_id = {c.id: c for c in codebook.codes}
    named = [c for c in codebook.codes if c.name == reference]
    if len(named) == 1:
        return named[0]
    pathed = [c for c in codebook.codes if code_path(c, by_id) == reference]
    if len(pathed) == 1:
        return pathed[0]
    if len(named) > 1:
        raise LmreviewError(f'{len(named)} codes of "{codebook.name}" are named "{reference}"; give its path')
    raise NotFound(f'no code "{reference}" in codebook "{codebook.name}"')


def add_code(
    session: Session,
    codebook: Codebook,
    name: str,
    *,
    actor: str,
    parent: str | None = None,
    description: str | None = None,
    colour: str | None = None,
    group: str | None = None,
) -> Code:
    name = name.strip()
    if not name or len(name) > 300:
        raise LmreviewError("a code needs a name of 1 to 300 characters")
    if any(c.name == name for c in codebook.codes):
        raise Conflict(f'codebook "{codebook.name}" has a code "{name}" already')
    try:
        colour = _colour(colour)
    except ValueError as exc:
        raise LmreviewError(str(exc)) from None
    parent_code = find_code(codebook, parent) if parent else None
    code = Code(
        guid=new_guid(),
        name=name,
        description=description or None,
        colour=colour or PALETTE[len(codebook.codes) % len(PALETTE)],
        parent_id=parent_code.id if parent_code else None,
        position=len(codebook.codes),
    )
    codebook.codes.append(code)
    session.flush()
    if group:
        found = next((g for g in codebook.groups if g.name == group), None)
        if found is None:
            found = add_group(session, codebook, group, exclusive=False, actor=actor)
        found.members.append(CodeGroupMember(code_id=code.id))
    audit.record(
        session,
        actor=actor,
        action="create",
        entity="code",
        entity_id=code.id,
        after={"codebook": codebook.name, "name": name, "parent": parent, "group": group},
        summary=f"code {name} in {codebook.name}",
    )
    return code


def add_group(
    session: Session, codebook: Codebook, name: str, *, exclusive: bool, actor: str, codes: list[str] | None = None
) -> CodeGroup:
    if any(g.name == name for g in codebook.groups):
        raise Conflict(f'codebook "{codebook.name}" has a group "{name}" already')
    group = CodeGroup(guid=new_guid(), name=name, exclusive=exclusive)
    codebook.groups.append(group)
    session.flush()
    # a code named twice (by name and by path, say) is one member of the group
    for code_id in dict.fromkeys(find_code(codebook, reference).id for reference in codes or []):
        group.members.append(CodeGroupMember(code_id=code_id))
    audit.record(
        session,
        actor=actor,
        action="create",
        entity="code_group",
        entity_id=group.id,
        after={"codebook": codebook.name, "name": name, "exclusive": exclusive, "codes": codes or []},
        summary=f"code group {name} in {codebook.name}",
    )
    return group


@dataclass
class CodebookSummary:
    name: str
    title: str | None
    codes: int
    groups: int
    codings: int
    origin: str | None


def list_codebooks(session: Session) -> list[CodebookSummary]:
    codes: dict[int, int] = dict(
        session.execute(select(Code.codebook_id, func.count()).group_by(Code.codebook_id)).all()
    )
    groups = dict(session.execute(select(CodeGroup.codebook_id, func.count()).group_by(CodeGroup.codebook_id)).all())
    codings = dict(
        session.execute(
            select(Code.codebook_id, func.count()).join(Coding, Coding.code_id == Code.id).group_by(Code.codebook_id)
        ).all()
    )
    return [
        CodebookSummary(b.name, b.title, codes.get(b.id, 0), groups.get(b.id, 0), codings.get(b.id, 0), b.origin)
        for b in session.scalars(select(Codebook).order_by(Codebook.name))
    ]


@dataclass
class CodeRow:
    code: Code
    path: str
    depth: int
    groups: list[CodeGroup] = field(default_factory=list)


def code_rows(codebook: Codebook) -> list[CodeRow]:
    """The codes in tree order (a parent before its children), with their paths and groups."""
    by_id = {c.id: c for c in codebook.codes}
    children: dict[int | None, list[Code]] = {}
    for code in codebook.codes:
        parent = code.parent_id if code.parent_id in by_id else None
        children.setdefault(parent, []).append(code)
    groups_of: dict[int, list[CodeGroup]] = {}
    for group in codebook.groups:
        for member in group.members:
            groups_of.setdefault(member.code_id, []).append(group)
    rows: list[CodeRow] = []

    def walk(parent: int | None, depth: int) -> None:
        for code in sorted(children.get(parent, []), key=lambda c: (c.position, c.id)):
            rows.append(CodeRow(code, code_path(code, by_id), depth, groups_of.get(code.id, [])))
            walk(code.id, depth + 1)

    walk(None, 0)
    return rows


def codebook_json(codebook: Codebook) -> dict[str, Any]:
    return {
        "name": codebook.name,
        "title": codebook.title,
        "codes": [
            {
                "name": r.code.name,
                "path": r.path,
                "description": r.code.description,
                "colour": r.code.colour,
                "groups": [g.name for g in r.groups],
            }
            for r in code_rows(codebook)
        ],
        "groups": [{"name": g.name, "exclusive": g.exclusive} for g in codebook.groups],
    }


# --- export --------------------------------------------------------------------------------------------------


def _table(codebook: Codebook) -> list[list[str]]:
    by_id = {c.id: c for c in codebook.codes}
    rows = [list(CSV_COLUMNS)]
    for row in code_rows(codebook):
        parent = by_id.get(row.code.parent_id) if row.code.parent_id else None
        group = row.groups[0] if row.groups else None
        rows.append(
            [
                row.code.name,
                code_path(parent, by_id) if parent else "",
                row.code.description or "",
                row.code.colour or "",
                group.name if group else "",
                ("yes" if group.exclusive else "no") if group else "",
            ]
        )
    return rows


def export_codebook(codebook: Codebook, fmt: str) -> bytes:
    """The codebook as ``qdc`` (REFI-QDA), ``csv`` or ``xlsx``."""
    if fmt == "qdc":
        return refiqda.write_codebook(codebook, code_rows(codebook))
    if fmt == "csv":
        import csv

        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\r\n").writerows(_table(codebook))
        return buffer.getvalue().encode("utf-8")
    if fmt == "xlsx":
        from openpyxl import Workbook

        workbook = Workbook()
        sheet = workbook.active
        assert sheet is not None
        sheet.title = "codebook"
        for cells in _table(codebook):
            sheet.append(cells)
        return workbook_bytes(workbook)
    raise LmreviewError(f'unknown codebook format "{fmt}"; use qdc, csv or xlsx')


# --- import --------------------------------------------------------------------------------------------------


def _from_table(data: bytes, filename: str) -> refiqda.ParsedCodebook:
    table = read_table(data, filename)
    header = [normalise_header(h) for h in table.header]
    aliases = {"name": "code", "color": "colour", "code_group": "group"}
    header = [aliases.get(h, h) for h in header]
    problems = []
    if "code" not in header:
        problems.append(
            Problem(filename, table.header_row, "-", 'no "code" column (columns: ' + ", ".join(CSV_COLUMNS) + ")")
        )
        raise BadInput(problems)
    parsed = refiqda.ParsedCodebook(origin=None)
    by_name: dict[str, refiqda.ParsedCode] = {}
    pending: list[tuple[int, refiqda.ParsedCode, str]] = []
    groups: dict[str, refiqda.ParsedSet] = {}
    for number, cells in table.rows:
        row = dict(zip(header, (c.strip() for c in cells), strict=True))
        name = row.get("code", "")
        if not name:
            problems.append(Problem(filename, number, "code", "a code needs a name"))
            continue
        if name in by_name:
            problems.append(Problem(filename, number, "code", f'"{name}" is named twice'))
            continue
        try:
            colour = _colour(row.get("colour"))
        except ValueError as exc:
            problems.append(Problem(filename, number, "colour", str(exc)))
            colour = None
        code = refiqda.ParsedCode(
            guid=new_guid(), name=name, description=row.get("description") or None, colour=colour, codable=True
        )
        by_name[name] = code
        if row.get("parent"):
            pending.append((number, code, row["parent"]))
        else:
            parsed.codes.append(code)
        group = row.get("group", "")
        exclusive = row.get("exclusive", "").lower()
        if exclusive not in _YES | _NO:
            problems.append(Problem(filename, number, "exclusive", f'"{row["exclusive"]}" is not yes or no'))
        if group:
            found = groups.setdefault(group, refiqda.ParsedSet(guid=new_guid(), name=group, description=None))
            found.members.append(code.guid)
            found.exclusive = found.exclusive or exclusive in _YES
    for number, code, parent in pending:
        target = by_name.get(parent) or by_name.get(parent.rsplit("/", 1)[-1])
        if target is None:
            problems.append(Problem(filename, number, "parent", f'no code "{parent}" in this file'))
        elif target is code:
            problems.append(Problem(filename, number, "parent", "a code cannot be its own parent"))
        else:
            target.children.append(code)
    if problems:
        raise BadInput(problems)
    parsed.sets = list(groups.values())
    return parsed


def import_codebook(session: Session, data: bytes, filename: str, *, name: str, actor: str) -> Codebook:
    """A new codebook ``name`` from a ``.qdc`` or a CSV/XLSX file; nothing is written when the file has a problem."""
    check_name(name)
    if session.scalar(select(Codebook.id).where(Codebook.name == name)) is not None:
        raise Conflict(f'a codebook "{name}" exists already; import under another --name')
    kind = sniff_format(data, filename) if data.strip() else "empty"
    if kind == "empty":
        raise BadInput([Problem(filename, 0, "-", "the file is empty")])
    parsed = refiqda.read_codebook(data, filename) if kind == "xml" else _from_table(data, filename)
    if not parsed.codes:
        raise BadInput([Problem(filename, 0, "-", "the file has no codes")])
    codebook = create_codebook(session, name, actor=actor, title=parsed.title)
    codebook.origin = parsed.origin
    store_parsed(session, codebook, parsed)
    audit.record(
        session,
        actor=actor,
        action="create",
        entity="codebook",
        entity_id=codebook.id,
        after={"file": filename, "codes": len(codebook.codes), "groups": len(codebook.groups)},
        summary=f"imported {len(codebook.codes)} codes into {name} from {filename}",
    )
    return codebook


def store_parsed(session: Session, codebook: Codebook, parsed: refiqda.ParsedCodebook) -> dict[str, Code]:
    """Write the parsed codes and sets into ``codebook``; returns the codes by their GUID (upper case)."""
    by_guid: dict[str, Code] = {}
    position = len(codebook.codes)

    def walk(codes: list[refiqda.ParsedCode], parent: Code | None) -> None:
        nonlocal position
        for parsed_code in codes:
            code = Code(
                guid=parsed_code.guid.upper().strip("{}"),
                name=parsed_code.name,
                description=parsed_code.description,
                codable=parsed_code.codable,
                colour=parsed_code.colour or PALETTE[position % len(PALETTE)],
                position=position,
            )
            position += 1
            codebook.codes.append(code)
            session.flush()
            if parent is not None:
                code.parent_id = parent.id
            by_guid[code.guid] = code
            walk(parsed_code.children, code)

    walk(parsed.codes, None)
    for parsed_set in parsed.sets:
        name, suffix = parsed_set.name, 2
        while any(g.name == name for g in codebook.groups):
            name, suffix = f"{parsed_set.name} ({suffix})", suffix + 1
        group = CodeGroup(
            guid=parsed_set.guid.upper().strip("{}"),
            name=name,
            description=parsed_set.description,
            exclusive=parsed_set.exclusive,
        )
        codebook.groups.append(group)
        session.flush()
        for member in dict.fromkeys(m.upper().strip("{}") for m in parsed_set.members):
            if member in by_guid:
                group.members.append(CodeGroupMember(code_id=by_guid[member].id))
    session.flush()
    return by_guid


def install_starter(session: Session, which: str, *, actor: str, name: str | None = None) -> Codebook:
    starter = STARTERS.get(which)
    if starter is None:
        raise NotFound(f'no starter codebook "{which}" (there are: {", ".join(STARTERS)})')
    codebook = create_codebook(
        session, name or starter.name, actor=actor, title=starter.title, description=starter.description
    )
    codebook.origin = "lmreview starter"
    for code in starter.codes:
        add_code(session, codebook, code.name, actor=actor, description=code.description, colour=code.colour)
    return codebook


def code_by_id(session: Session, code_id: int) -> Code:
    code = find_row(session, Code, code_id)
    if code is None:
        raise NotFound(f"no code {code_id}")
    return code
