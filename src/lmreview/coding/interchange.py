"""A REFI-QDA project in and out of lmreview.

Export: the codings of one codebook with their coders, the codebook, and each coded document or answer as a text
source. Import: every code, coder, source and selection of a ``.qdpx``: a source becomes an evidence document (its
text as a ``.txt`` file; the same text already in the library is reused), or the answer whose reference it is named
by when that answer holds the same text. Codes land in a new codebook, or in the codebook named when its codes carry
the file's GUIDs (several coders' files of one codebook). Nothing is written when anything is wrong.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from lmreview.coding import qdpx, refiqda
from lmreview.coding.codebooks import code_rows, create_codebook, get_codebook, store_parsed
from lmreview.coding.models import Code, Codebook, Coding
from lmreview.coding.segments import apply_code, list_codings
from lmreview.coding.sources import Source, answer_source, document_source, document_text, find_answer
from lmreview.errors import BadInput, LmreviewError, Problem
from lmreview.evidence import service as evidence
from lmreview.evidence.models import Document, Item
from lmreview.questionnaire.models import Submission
from lmreview.store import audit


def export_qdpx(session: Session, codebook: str, coders: Sequence[str] | None = None) -> bytes:
    book = get_codebook(session, codebook)
    rows = list_codings(session, codebook=book.name, coders=coders)
    guid_of = {c.id: c.guid for c in book.codes}
    code_ids = {r.path: r.code.id for r in code_rows(book)}
    sources: dict[str, qdpx.OutSource] = {}
    for row in rows:
        if row.document_id is not None:
            document = session.get_one(Document, row.document_id)
            key = f"document:{document.sha256}"
            if key not in sources:
                sources[key] = qdpx.OutSource(
                    qdpx.derived_guid(key), document.filename, document_text(session, document.id)[0]
                )
        elif row.item_id is not None:  # an extracted item: its text, named item:ID
            key = row.source
            if key not in sources:
                item = session.get_one(Item, row.item_id)
                sources[key] = qdpx.OutSource(qdpx.derived_guid(f"item:{item.id}:{item.text}"), row.source, item.text)
        else:
            submission = session.get_one(Submission, row.submission_id)
            key = f"answer:{row.source}"
            if key not in sources:
                found = answer_source(submission, row.path or "")
                sources[key] = qdpx.OutSource(qdpx.derived_guid(key), row.source, found.text if found else row.text)
        coding = session.get_one(Coding, row.id)
        sources[key].codings.append(
            qdpx.OutCoding(
                coding.guid,
                row.start,
                row.end,
                guid_of[code_ids[row.code_path]],
                row.coder,
                coding.created_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                row.memo,
            )
        )
    ns = refiqda.PROJECT_NS
    return qdpx.write_project(
        book.title or book.name,
        refiqda.codes_element(ns, code_rows(book)),
        refiqda.sets_element(ns, book),
        list(sources.values()),
    )


@dataclass
class ImportResult:
    codebook: str
    codes: int
    sources: int
    codings: int
    coders: list[str]
    skipped: list[str] = field(default_factory=list)


def _slug(name: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9_.\-]+", "-", name).strip("-._")[:80]
    return slug or "imported"


def import_qdpx(
    session: Session, data: bytes, filename: str, *, actor: str, codebook: str | None = None
) -> ImportResult:
    project = qdpx.read_project(data, filename)
    problems: list[Problem] = []
    where = f"{filename}/project.qde"
    name = codebook or _slug(project.name)
    existing = session.scalar(select(Codebook).where(Codebook.name == name))
    file_codes = {c.guid for c in project.codebook.all_codes()}
    if existing is not None:
        known = {c.guid for c in existing.codes}
        missing = sorted(file_codes - known)
        if missing:
            raise BadInput(
                [
                    Problem(
                        where,
                        0,
                        "CodeBook",
                        f'codebook "{name}" exists and lacks {len(missing)} of the '
                        f"file's codes (e.g. {missing[0]}); import under another --codebook",
                    )
                ]
            )
        book = existing
        by_guid: dict[str, Code] = {c.guid: c for c in existing.codes}
    else:
        book = create_codebook(session, name, actor=actor, title=project.codebook.title)
        book.origin = project.origin
        by_guid = store_parsed(session, book, project.codebook)
    guids = [g for s in project.sources for sel in s.selections for g, *_ in sel.codings if g]
    seen: set[str] = set()
    for guid in guids:
        if guid in seen:
            problems.append(Problem(where, 0, "Coding", f"the coding GUID {guid} is used twice in the file"))
        seen.add(guid)
    taken = set(session.scalars(select(Coding.guid).where(Coding.guid.in_(list(seen))))) if seen else set()
    for guid in sorted(taken):
        problems.append(
            Problem(
                where,
                0,
                "Coding",
                f"the coding GUID {guid} exists already (imported before, or another coder's file reuses it)",
            )
        )
    if problems:
        raise BadInput(problems)
    result = ImportResult(book.name, len(book.codes), 0, 0, [])
    coders: set[str] = set()
    user_id = audit.actor_user_id(session, actor)
    for text_source in project.sources:
        source = _land(session, text_source, actor, problems, where, result)
        if source is None:
            continue
        result.sources += 1
        for selection in text_source.selections:
            for guid, code_guid, user, note in selection.codings:
                code = by_guid.get(code_guid)
                if code is None:
                    problems.append(
                        Problem(
                            where,
                            0,
                            "CodeRef",
                            f"selection {selection.guid} refers to the unknown code {code_guid or '(none)'}",
                        )
                    )
                    continue
                user_key = user or selection.user or ""
                coder = project.users.get(user_key) or (user_key[:120] if user_key else "unknown")
                try:
                    apply_code(
                        session,
                        source,
                        code,
                        selection.start,
                        selection.end,
                        coder=coder,
                        actor=actor,
                        memo=project.notes.get(note or "") or None,
                        guid=guid or None,
                        user_id=user_id,
                    )
                except LmreviewError as exc:
                    problems.append(Problem(where, 0, "PlainTextSelection", f"{selection.guid}: {exc.message}"))
                    continue
                coders.add(coder)
                result.codings += 1
    if problems:
        raise BadInput(problems)
    result.coders = sorted(coders)
    audit.record(
        session,
        actor=actor,
        action="create",
        entity="coding_import",
        entity_id=book.id,
        after={"file": filename, "codings": result.codings, "sources": result.sources, "coders": result.coders},
        summary=f"imported {result.codings} codings from {filename}",
        user_id=user_id,
    )
    return result


def _land(
    session: Session,
    text_source: qdpx.TextSource,
    actor: str,
    problems: list[Problem],
    where: str,
    result: ImportResult,
) -> Source | None:
    """The lmreview source of a text source: the answer it names, else a document of the library."""
    if "/" in text_source.name:
        submission, path = find_answer(session, text_source.name)
        if submission is not None:
            found = answer_source(submission, path)
            if found is not None and found.text == text_source.text:
                return found
    name = text_source.name if text_source.name.lower().endswith((".txt", ".text")) else f"{text_source.name}.txt"
    name = re.sub(r"[\\/]+", "_", name)
    report = evidence.add_files(session, [(name, text_source.text.encode("utf-8"))], actor=actor)
    if report.refused:
        if text_source.selections:
            problems.append(Problem(where, 0, "TextSource", f'"{text_source.name}": {report.refused[0].message}'))
        else:
            result.skipped.append(f'"{text_source.name}": {report.refused[0].message} (no selection; left out)')
        return None
    document_id = report.added[0].id if report.added else report.duplicates[0][1]
    document = session.get_one(Document, document_id)
    if document_text(session, document_id)[0] != text_source.text:
        problems.append(
            Problem(
                where,
                0,
                "TextSource",
                f'"{text_source.name}": the library reads this text '
                "differently, so its selections cannot keep their offsets",
            )
        )
        return None
    return document_source(session, document)
