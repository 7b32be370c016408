"""Codings: apply a code to a span of a document or an answer, remove one, list them (a coder sees their own until
the comparison is opened), import a CSV of codings atomically, export them as CSV or XLSX."""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lmreview.coding.codebooks import code_path, find_code, get_codebook
from lmreview.coding.models import Code, Codebook, CodeGroup, CodeGroupMember, Coding
from lmreview.coding.sources import (
    Source,
    answer_reference,
    answer_source,
    document_source,
    document_text,
    find_answer,
    find_document,
    find_item,
    item_reference,
    item_source,
    passage_at,
)
from lmreview.errors import BadInput, Conflict, LmreviewError, NotFound, Problem
from lmreview.evidence.models import Document
from lmreview.questionnaire.models import Submission
from lmreview.store import audit
from lmreview.store.base import find_row
from lmreview.tables import normalise_header, read_table, workbook_bytes

CSV_COLUMNS = ("source", "start", "end", "code", "coder", "memo", "codebook", "text", "coded_at")
MAX_CODER = 120


def unit_of(session: Session, source: Source, start: int) -> tuple[str, int | None]:
    """The unit agreement is computed on, and the passage id for a document."""
    if source.kind == "answer":
        return f"answer:{source.submission_id}:{source.path}", None
    if source.kind == "item":
        return f"item:{source.item_id}", None
    assert source.document_id is not None
    _, starts = document_text(session, source.document_id)
    passage = passage_at(session, source.document_id, starts, start)
    if passage is None:
        return f"document:{source.document_id}", None
    return f"passage:{passage.id}", passage.id


def _exclusive_clash(session: Session, code: Code, coder: str, unit: str) -> str | None:
    groups = list(
        session.scalars(
            select(CodeGroup)
            .join(CodeGroupMember, CodeGroupMember.group_id == CodeGroup.id)
            .where(CodeGroupMember.code_id == code.id, CodeGroup.exclusive.is_(True))
        )
    )
    for group in groups:
        other = session.scalar(
            select(Code.name)
            .join(Coding, Coding.code_id == Code.id)
            .join(CodeGroupMember, CodeGroupMember.code_id == Code.id)
            .where(
                CodeGroupMember.group_id == group.id,
                Coding.unit == unit,
                Coding.coder == coder,
                Code.id != code.id,
            )
            .limit(1)
        )
        if other is not None:
            return f'{coder} gave this unit "{other}" already, and the group "{group.name}" is exclusive'
    return None


def apply_code(
    session: Session,
    source: Source,
    code: Code,
    start: int,
    end: int,
    *,
    coder: str,
    actor: str,
    memo: str | None = None,
    guid: str | None = None,
    user_id: int | None = None,
) -> Coding:
    """Code ``source.text[start:end]``; LmreviewError for a span outside the text, a second code of an exclusive
    group on the same unit, or the same coding twice."""
    coder = coder.strip()
    if not coder or len(coder) > MAX_CODER:
        raise LmreviewError(f"a coder needs a name of 1 to {MAX_CODER} characters")
    if not code.codable:
        raise LmreviewError(f'the code "{code.name}" is a heading and cannot be applied')
    if not 0 <= start < end <= len(source.text):
        raise LmreviewError(
            f"the span {start}-{end} is outside the text of {source.label} (0-{len(source.text)}, end exclusive)"
        )
    unit, passage_id = unit_of(session, source, start)
    clash = _exclusive_clash(session, code, coder, unit)
    if clash:
        raise Conflict(clash)
    same = session.scalar(
        select(Coding.id).where(
            Coding.code_id == code.id,
            Coding.coder == coder,
            Coding.unit == unit,
            Coding.start == start,
            Coding.end == end,
            Coding.document_id.is_(None) if source.document_id is None else Coding.document_id == source.document_id,
            Coding.path.is_(None) if source.path is None else Coding.path == source.path,
            Coding.item_id.is_(None) if source.item_id is None else Coding.item_id == source.item_id,
        )
    )
    if same is not None:
        raise Conflict(f'{coder} coded {source.label} {start}-{end} with "{code.name}" already')
    coding = Coding(
        guid=guid or str(uuid.uuid4()).upper(),
        code_id=code.id,
        coder=coder,
        kind=source.kind,
        document_id=source.document_id,
        passage_id=passage_id,
        submission_id=source.submission_id,
        path=source.path,
        item_id=source.item_id,
        start=start,
        end=end,
        text=source.text[start:end],
        unit=unit,
        memo=memo or None,
    )
    session.add(coding)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="create",
        entity="coding",
        entity_id=coding.id,
        after={"code": code.name, "coder": coder, "source": source.label, "start": start, "end": end, "memo": memo},
        summary=f'{coder} coded {source.label} {start}-{end} "{code.name}"',
        user_id=user_id if user_id is not None else audit.actor_user_id(session, actor),
    )
    return coding


def remove_coding(session: Session, coding_id: int, *, actor: str, coder: str | None = None) -> None:
    """Remove a coding; with ``coder``, only that coder's own."""
    coding = find_row(session, Coding, coding_id)
    if coding is None or (coder is not None and coding.coder != coder):
        raise NotFound(f"no coding {coding_id}" + (f" of {coder}" if coder else ""))
    audit.record(
        session,
        actor=actor,
        action="delete",
        entity="coding",
        entity_id=coding.id,
        before={
            "code": coding.code.name,
            "coder": coding.coder,
            "unit": coding.unit,
            "start": coding.start,
            "end": coding.end,
        },
        summary=f'removed {coding.coder}\'s coding "{coding.code.name}"',
    )
    session.delete(coding)


def resolve_source(session: Session, reference: str) -> Source | str:
    """The source a reference names, or the reason it names none."""
    reference = reference.strip()
    item = find_item(session, reference)
    if item is not None:
        return item_source(item)
    if "/" in reference:
        submission, path = find_answer(session, reference)
        if submission is not None:
            source = answer_source(submission, path)
            return source or f'the submission has no free-text answer at "{path}"'
    document = find_document(session, reference)
    if document is not None:
        return document_source(session, document)
    return unknown_source(reference)


def unknown_source(reference: str) -> str:
    """What a reference that names no source hears (an answer of a review the coder may not see hears it too)."""
    return f'no document (id or file name), no answer (submission id/path) and no item (item:ID) "{reference.strip()}"'


def source_label(coding: Coding, submission: Submission | None, document: Document | None) -> str:
    if coding.kind == "answer" and submission is not None and coding.path:
        return answer_reference(submission, coding.path)
    if coding.kind == "item" and coding.item_id is not None:
        return item_reference(coding.item_id)
    return document.filename if document is not None else str(coding.document_id)


# --- import --------------------------------------------------------------------------------------------------


@dataclass
class ImportResult:
    created: int
    coders: list[str]


def import_csv(
    session: Session, data: bytes, filename: str, *, actor: str, codebook: str | None = None
) -> ImportResult:
    """Codings from a CSV or XLSX table ``source, start, end, code, coder[, memo]``; every problem is reported at
    ``FILE:ROW:COLUMN`` and nothing is written unless every row is right."""
    table = read_table(data, filename)
    header = [normalise_header(h) for h in table.header]
    missing = [c for c in ("source", "start", "end", "code", "coder") if c not in header]
    if missing:
        raise BadInput(
            [
                Problem(
                    filename,
                    table.header_row,
                    "-",
                    f"missing column(s): {', '.join(missing)} (columns: source, start, end, code, coder, memo)",
                )
            ]
        )
    books: dict[str, Codebook] = {}
    if codebook:
        books[codebook] = get_codebook(session, codebook)
    all_books = list(session.scalars(select(Codebook))) if not codebook else list(books.values())
    sources: dict[str, Source | str] = {}
    problems: list[Problem] = []
    coders: set[str] = set()
    created = 0
    user_id = audit.actor_user_id(session, actor)
    for number, cells in table.rows:
        row = dict(zip(header, (c.strip() for c in cells), strict=True))

        def bad(column: str, message: str, number: int = number) -> None:
            problems.append(Problem(filename, number, column, message))

        reference = row["source"]
        if reference not in sources:
            sources[reference] = resolve_source(session, reference) if reference else "the source is empty"
        source = sources[reference]
        if isinstance(source, str):
            bad("source", source)
        try:
            start, end = int(row["start"]), int(row["end"])
        except ValueError:
            bad("start", f'start and end must be whole numbers ("{row["start"]}", "{row["end"]}")')
            continue
        code = _code(row, all_books, bad)
        if code is None or isinstance(source, str):
            continue
        try:
            apply_code(
                session,
                source,
                code,
                start,
                end,
                coder=row["coder"],
                actor=actor,
                memo=row.get("memo") or None,
                user_id=user_id,
            )
        except LmreviewError as exc:
            column = "coder" if "coder" in exc.message and "name" in exc.message else "start"
            bad(column, exc.message)
            continue
        coders.add(row["coder"])
        created += 1
    if problems:
        raise BadInput(problems)
    return ImportResult(created, sorted(coders))


def _code(row: dict[str, str], books: Sequence[Codebook], bad: Any) -> Code | None:
    reference = row["code"]
    if not reference:
        bad("code", "the code is empty")
        return None
    candidates = [b for b in books if not row.get("codebook") or b.name == row["codebook"]]
    found: list[Code] = []
    for book in candidates:
        try:
            found.append(find_code(book, reference))
        except LmreviewError:
            continue
    if len(found) == 1:
        return found[0]
    if not found:
        bad("code", f'no code "{reference}" in ' + (", ".join(b.name for b in candidates) or "any codebook"))
    else:
        bad(
            "code",
            f'"{reference}" is a code of several codebooks ({", ".join(c.codebook.name for c in found)}); '
            "name one with --codebook or a codebook column",
        )
    return None


# --- listing and export --------------------------------------------------------------------------------------


@dataclass
class CodingRow:
    id: int
    source: str
    start: int
    end: int
    code: str
    code_path: str
    colour: str | None
    codebook: str
    coder: str
    memo: str | None
    text: str
    unit: str
    coded_at: str
    kind: str
    document_id: int | None
    submission_id: int | None
    path: str | None
    item_id: int | None = None

    def as_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True, slots=True)
class SegmentLine:
    """A coding as a line of a list of segments: where it is, who coded it, what it says."""

    source: str
    start: int
    end: int
    coder: str
    text: str
    memo: str | None


def segment_lines(session: Session, codebook: Codebook) -> dict[int, SegmentLine]:
    """Every coding of the codebook by id, read column by column (a matrix's segments can be 100,000 lines)."""
    query = (
        select(
            Coding.id,
            Coding.kind,
            Coding.path,
            Coding.item_id,
            Coding.document_id,
            Submission.instance_id,
            Document.filename,
            Coding.start,
            Coding.end,
            Coding.coder,
            Coding.text,
            Coding.memo,
        )
        .outerjoin(Submission, Coding.submission_id == Submission.id)
        .outerjoin(Document, Coding.document_id == Document.id)
        .where(Coding.code_id.in_(select(Code.id).where(Code.codebook_id == codebook.id)))
    )
    lines = {}
    for cid, kind, path, item_id, document_id, instance, filename, start, end, coder, text, memo in session.execute(
        query
    ):
        if kind == "answer" and instance is not None and path:
            source = f"{instance.removeprefix('uuid:')}/{path}"
        elif kind == "item" and item_id is not None:
            source = item_reference(item_id)
        else:
            source = filename if filename is not None else str(document_id)
        lines[cid] = SegmentLine(source, start, end, coder, text, memo)
    return lines


def list_codings(
    session: Session,
    *,
    codebook: str | None = None,
    coders: Sequence[str] | None = None,
    document_id: int | None = None,
    submission_id: int | None = None,
    code_id: int | None = None,
    item_id: int | None = None,
) -> list[CodingRow]:
    query = (
        select(Coding, Code, Codebook, Submission, Document)
        .join(Code, Coding.code_id == Code.id)
        .join(Codebook, Code.codebook_id == Codebook.id)
        .outerjoin(Submission, Coding.submission_id == Submission.id)
        .outerjoin(Document, Coding.document_id == Document.id)
        .order_by(Coding.kind, Coding.document_id, Coding.submission_id, Coding.path, Coding.start, Coding.id)
    )
    if codebook:
        query = query.where(Codebook.name == codebook)
    if coders:
        query = query.where(Coding.coder.in_(list(coders)))
    if document_id is not None:
        query = query.where(Coding.document_id == document_id)
    if submission_id is not None:
        query = query.where(Coding.submission_id == submission_id)
    if code_id is not None:
        query = query.where(Coding.code_id == code_id)
    if item_id is not None:
        query = query.where(Coding.item_id == item_id)
    rows = []
    paths: dict[int, dict[int, Code]] = {}
    for coding, code, book, submission, document in session.execute(query):
        by_id = paths.setdefault(book.id, {c.id: c for c in book.codes})
        rows.append(
            CodingRow(
                id=coding.id,
                source=source_label(coding, submission, document),
                start=coding.start,
                end=coding.end,
                code=code.name,
                code_path=code_path(code, by_id),
                colour=code.colour,
                codebook=book.name,
                coder=coding.coder,
                memo=coding.memo,
                text=coding.text,
                unit=coding.unit,
                coded_at=coding.created_at.isoformat(timespec="seconds"),
                kind=coding.kind,
                document_id=coding.document_id,
                submission_id=coding.submission_id,
                path=coding.path,
                item_id=coding.item_id,
            )
        )
    return rows


def _cells(row: CodingRow) -> list[str | int]:
    return [
        row.source,
        row.start,
        row.end,
        row.code_path,
        row.coder,
        row.memo or "",
        row.codebook,
        row.text,
        row.coded_at,
    ]


def export_table(rows: Sequence[CodingRow], fmt: str) -> bytes:
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(CSV_COLUMNS)
        writer.writerows(_cells(r) for r in rows)
        return buffer.getvalue().encode("utf-8")
    if fmt == "xlsx":
        from openpyxl import Workbook

        workbook = Workbook()
        sheet = workbook.active
        assert sheet is not None
        sheet.title = "codings"
        sheet.append(list(CSV_COLUMNS))
        for row in rows:
            sheet.append(_cells(row))
        return workbook_bytes(workbook)
    raise LmreviewError(f'unknown format "{fmt}"; use csv, xlsx or qdpx')
