"""The evidence library's services: add files (read in parallel, written in one transaction per file), list,
show, edit the metadata (audited) and search.

Example::

    report = add_paths(session, [Path("reports/")], actor="ana", jobs=4)
    result = search(session, '"fair recruitment" AND fee*', Filters(year_from=2018))
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Table, delete, func, insert, select
from sqlalchemy.orm import Session

from lmreview.errors import BadInput, Problem
from lmreview.evidence import links
from lmreview.evidence.extract import KINDS
from lmreview.evidence.index import tidy
from lmreview.evidence.metadata import code_patterns
from lmreview.evidence.models import DOCUMENT_TYPES, Document, DocumentProject, Item, Page, Passage
from lmreview.evidence.parsing import Parsed, Reading, default_jobs, expand, parse
from lmreview.evidence.search import Filters, SearchResult, check_year, search
from lmreview.store import audit
from lmreview.store.base import get_row
from lmreview.text import is_number, text_problem

Progress = Callable[[int, int], None]
EDITABLE = ("title", "doc_type", "evaluation_type", "organisation", "evaluators", "period", "year", "language")

__all__ = [
    "Filters",
    "Parsed",
    "SearchResult",
    "add_files",
    "add_paths",
    "default_jobs",
    "expand",
    "get_document",
    "list_documents",
    "parse",
    "search",
]


# Core inserts of a document's rows: the ORM's bulk path costs more than the inserts themselves.
_PAGES: Table = Page.__table__  # type: ignore[assignment]
_PASSAGES: Table = Passage.__table__  # type: ignore[assignment]
_ITEMS: Table = Item.__table__  # type: ignore[assignment]


@dataclass
class AddReport:
    added: list[Document] = field(default_factory=list)
    duplicates: list[tuple[str, int]] = field(default_factory=list)  # (file, id of the document already there)
    refused: list[Problem] = field(default_factory=list)
    skipped: list[Path] = field(default_factory=list)  # files of folders in a format lmreview does not read


def add_paths(
    session: Session,
    paths: Sequence[Path],
    *,
    actor: str,
    doc_type: str | None = None,
    project: str | None = None,
    jobs: int = 1,
    progress: Progress | None = None,
    patterns_of_codes: Sequence[str] = (),
    reading: Reading | None = None,
) -> AddReport:
    """Add files and folders; ``jobs`` > 1 reads them in that many processes; ``patterns_of_codes``: more patterns of
    project codes (setting ``project_code_patterns``); ``reading``: the same files, already being read (the CLI
    starts reading them before it opens the database)."""
    _check_type(doc_type)
    patterns = _check_patterns(patterns_of_codes)
    with reading or Reading(paths, jobs, patterns) as files:
        report = _write_all(session, files.results, len(files.names), actor, doc_type, project, progress)
        report.refused = files.problems + report.refused
        report.skipped = files.skipped
    return report


def add_files(
    session: Session,
    files: Sequence[tuple[str, bytes]],
    *,
    actor: str,
    doc_type: str | None = None,
    project: str | None = None,
    patterns_of_codes: Sequence[str] = (),
) -> AddReport:
    """Add files given as (name, bytes), e.g. uploaded through the web UI."""
    patterns = _check_patterns(patterns_of_codes)
    parsed = (parse(data, name, patterns) for name, data in files)
    return _write_all(session, parsed, len(files), actor, doc_type, project)


def _check_patterns(patterns: Sequence[str]) -> tuple[str, ...]:
    """The patterns of project codes, checked once before any file is read (a wrong one stops the whole batch)."""
    code_patterns(patterns)
    return tuple(patterns)


CODE_MAX = 80  # the characters of a project code (evidence_document_project.code)
_DIRECTION = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def code_problem(code: str) -> str | None:
    """Why ``code`` is not a project code lmreview stores (too long, a control or text-direction character)."""
    if len(code) > CODE_MAX:
        return f"the project code {code[:24]}… is {len(code)} characters long; a code has at most {CODE_MAX}"
    problem = text_problem(code)
    if problem is None and (found := _DIRECTION.search(code)) is not None:
        problem = (
            f"contains a text-direction character, U+{ord(found.group()):04X}, at character {found.start() + 1}; "
            "remove it"
        )
    return None if problem is None else f"the project code {code!r} {problem}"


def _check_codes(codes: Iterable[str], what: str) -> list[str]:
    problems = [Problem(what, 0, "-", p) for p in map(code_problem, codes) if p is not None]
    if problems:
        raise BadInput(problems)
    return list(dict.fromkeys(codes))


def _check_type(doc_type: str | None) -> None:
    if doc_type is not None and doc_type not in DOCUMENT_TYPES:
        raise BadInput([Problem("--type", 0, "-", f"unknown document type {doc_type!r}: {', '.join(DOCUMENT_TYPES)}")])


def _write_all(
    session: Session,
    results: Iterable[Parsed | Problem],
    total: int,
    actor: str,
    doc_type: str | None,
    project: str | None,
    progress: Progress | None = None,
) -> AddReport:
    _check_type(doc_type)
    if project and project.strip():
        _check_codes([project.strip()], "project")
    report = AddReport()
    user_id = audit.actor_user_id(session, actor)
    candidates: links.Candidates | None = None  # the portfolio projects, read at the first document written
    written = 0  # passages
    for done, result in enumerate(results, start=1):
        if isinstance(result, Problem):
            report.refused.append(result)
        else:
            existing = session.scalar(select(Document.id).where(Document.sha256 == result.sha256))
            if existing is not None:
                report.duplicates.append((result.filename, existing))
            else:
                with session.begin_nested():
                    document = _write(session, result, actor, user_id, doc_type, project)
                    candidates = candidates or links.Candidates.read(session)
                    links.suggest(session, document, candidates)
                    report.added.append(document)
                    written += len(result.passages)
        if progress is not None:
            progress(done, total)
    tidy(session, written)
    return report


def _write(
    session: Session, parsed: Parsed, actor: str, user_id: int | None, doc_type: str | None, project: str | None
) -> Document:
    meta = parsed.metadata
    document = Document(
        sha256=parsed.sha256,
        filename=Path(parsed.filename).name[:500],
        format=parsed.format,
        size_bytes=parsed.size,
        title=meta.title,
        doc_type=doc_type or meta.doc_type,
        evaluation_type=meta.evaluation_type,
        organisation=meta.organisation,
        evaluators=meta.evaluators,
        period=meta.period,
        year=meta.year,
        language=meta.language,
        page_count=len(parsed.pages),
        actor=actor,
    )
    found = [c for c in meta.project_codes if code_problem(c) is None]  # a guess from the text, not the user's
    codes = ([project.strip()] if project and project.strip() else []) + found
    document.projects = [DocumentProject(code=c) for c in dict.fromkeys(codes)]
    session.add(document)
    session.flush()
    session.execute(
        insert(_PAGES),
        [{"document_id": document.id, "number": n, "text": t} for n, t in enumerate(parsed.pages, 1)],
    )
    if parsed.passages:
        session.execute(
            insert(_PASSAGES),
            [
                {
                    "document_id": document.id,
                    "page": p.page,
                    "seq": seq,
                    "kind": p.kind,
                    "section": p.section,
                    "char_start": p.char_start,
                    "char_end": p.char_end,
                    "text": p.text,
                }
                for seq, p in enumerate(parsed.passages)
            ],
        )
    if parsed.items:
        ids = session.scalars(select(Passage.id).where(Passage.document_id == document.id).order_by(Passage.seq)).all()
        session.execute(
            insert(_ITEMS),
            [
                {
                    "document_id": document.id,
                    "passage_id": ids[item.first] if item.first < len(ids) else None,
                    "seq": seq,
                    "kind": item.kind,
                    "number": item.number,
                    "text": item.text,
                    "pages": item.pages,
                    "locations": item.locations,
                    "fields": item.fields,
                    "rule": item.rule,
                    "response_stance": item.response.stance if item.response else None,
                    "response_text": item.response.text if item.response else None,
                    "response_pages": item.response.pages if item.response else None,
                }
                for seq, item in enumerate(parsed.items)
            ],
        )
    audit.record(
        session,
        actor=actor,
        action="create",
        entity="evidence_document",
        entity_id=document.id,
        after=document_json(document),
        summary=f"added {document.filename} to the evidence library",
        user_id=user_id,
    )
    return document


def document_json(document: Document) -> dict[str, Any]:
    return {
        "id": document.id,
        "title": document.title,
        "type": document.doc_type,
        "evaluation_type": document.evaluation_type,
        "organisation": document.organisation,
        "evaluators": document.evaluators,
        "period": document.period,
        "year": document.year,
        "language": document.language,
        "project_codes": document.project_codes,
        "pages": document.page_count,
        "file": document.filename,
        "format": document.format,
    }


def list_documents(session: Session) -> list[Document]:
    return list(session.scalars(select(Document).order_by(Document.id)))


def get_document(session: Session, document_id: int) -> Document:
    return get_row(
        session,
        Document,
        document_id,
        f"there is no document {document_id} in the evidence library (see lmreview evidence list)",
    )


def passages(session: Session, document_id: int) -> list[Passage]:
    return list(session.scalars(select(Passage).where(Passage.document_id == document_id).order_by(Passage.seq)))


def outline(session: Session, document_id: int) -> list[Passage]:
    return list(
        session.scalars(
            select(Passage).where(Passage.document_id == document_id, Passage.kind == "heading").order_by(Passage.seq)
        )
    )


def set_metadata(session: Session, document_id: int, changes: Mapping[str, str | None], *, actor: str) -> Document:
    """Change a document's metadata; ``project_codes`` is a comma-separated list. An empty value clears a field
    (a title cannot be cleared). One audit event records the fields before and after."""
    document = get_document(session, document_id)
    before = document_json(document)
    problems: list[Problem] = []
    for name, raw in changes.items():
        value = raw.strip() if isinstance(raw, str) else None
        if name == "project_codes":
            codes = _check_codes([c.strip() for c in (value or "").split(",") if c.strip()], "project_codes")
            session.execute(delete(DocumentProject).where(DocumentProject.document_id == document.id))
            session.expire(document, ["projects"])
            document.projects = [DocumentProject(code=c) for c in codes]
        elif name not in EDITABLE:
            problems.append(Problem(name, 0, "-", f"not a field of a document: {', '.join(EDITABLE)}, project_codes"))
        elif name == "title" and not value:
            problems.append(Problem("title", 0, "-", "a document needs a title"))
        elif name == "doc_type" and value not in DOCUMENT_TYPES:
            problems.append(Problem("type", 0, "-", f"unknown document type {value!r}: {', '.join(DOCUMENT_TYPES)}"))
        elif name == "year":
            if not value:
                document.year = None
            elif not is_number(value, 4) or not 1900 <= int(value) <= 2100:
                problems.append(Problem("year", 0, "-", f"{value!r} is not a year"))
            else:
                document.year = int(value)
        else:
            setattr(document, name, value or None)
    if problems:
        raise BadInput(problems)
    session.flush()
    after = document_json(document)
    if after != before:
        audit.record(
            session,
            actor=actor,
            action="update",
            entity="evidence_document",
            entity_id=document.id,
            before=before,
            after=after,
            summary=f"changed {', '.join(audit.changed_fields(before, after))} of document {document.id}",
        )
    return document


def items(
    session: Session,
    *,
    kind: str | None = None,
    document_id: int | None = None,
    project: str | None = None,
    organisation: str | None = None,
    year_from: int | None = None,
    year_to: int | None = None,
) -> list[tuple[Item, Document]]:
    """Extracted items with their documents, in document order."""
    if kind is not None and kind not in KINDS:
        raise BadInput([Problem("--kind", 0, "-", f"unknown kind {kind!r}: {', '.join(KINDS)}")])
    query = select(Item, Document).join(Document, Document.id == Item.document_id)
    if kind is not None:
        query = query.where(Item.kind == kind)
    if document_id is not None:
        get_document(session, document_id)
        query = query.where(Item.document_id == document_id)
    if project:
        query = query.where(
            Document.id.in_(select(DocumentProject.document_id).where(DocumentProject.code == project.strip()))
        )
    if organisation:
        query = query.where(func.lower(Document.organisation) == organisation.strip().lower())
    check_year(year_from, "year_from")
    check_year(year_to, "year_to")
    if year_from is not None:
        query = query.where(Document.year >= year_from)
    if year_to is not None:
        query = query.where(Document.year <= year_to)
    return [(row[0], row[1]) for row in session.execute(query.order_by(Item.document_id, Item.seq))]


def item_json(item: Item, document: Document) -> dict[str, Any]:
    response = None
    if item.response_stance is not None:
        response = {"stance": item.response_stance, "text": item.response_text, "pages": item.response_pages}
    return {
        "kind": item.kind,
        "number": item.number,
        "text": item.text,
        "document": document.id,
        "title": document.title,
        "pages": item.pages,
        "fields": item.fields,
        "response": response,
        "rule": item.rule,
        "passage": item.passage_id,
    }


def project_matches(session: Session, codes: Sequence[str]) -> dict[str, list[tuple[str, str]]]:
    """The portfolio projects behind project codes: code → [(portfolio name, project title)]."""
    from lmreview.portfolio.models import Portfolio, Project

    found: dict[str, list[tuple[str, str]]] = {code: [] for code in codes}
    if codes:
        rows = session.execute(
            select(Project.code, Portfolio.name, Project.title)
            .join(Portfolio, Portfolio.id == Project.portfolio_id)
            .where(Project.code.in_(list(codes)))
            .order_by(Portfolio.name)
        )
        for code, portfolio, title in rows:
            found[code].append((portfolio, title or ""))
    return found
