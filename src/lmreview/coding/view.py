"""What the coding pages need: a review's material, an answer sheet or a document with the codings the viewer may
see, a code's segments with their context. A coder sees their own codings; the review manager (an admin) sees
everyone's, and so does everyone once the comparison of the codebook in the review is open."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lmreview.coding.agreement import is_open
from lmreview.coding.codebooks import code_rows, get_codebook
from lmreview.coding.models import Codebook, Coding, Comparison
from lmreview.coding.segments import CodingRow, list_codings
from lmreview.coding.sources import document_text, text_answers
from lmreview.coding.units import review_answers, review_documents
from lmreview.errors import LmreviewError, NotFound
from lmreview.evidence.models import Document, Item
from lmreview.portfolio.models import Project
from lmreview.questionnaire.models import Review, Submission
from lmreview.questionnaire.reviews import get_review
from lmreview.store.base import find_row
from lmreview.store.models import User

CONTEXT = 80


@dataclass
class Viewer:
    name: str
    manager: bool


def sees_all(session: Session, review: Review | None, book: Codebook, viewer: Viewer) -> bool:
    """The review manager sees every coder's codings; a coder only once the comparison of the codebook is open in
    the review (in any review, when none is named: a list or an export of every coding)."""
    if viewer.manager:
        return True
    if review is not None:
        return is_open(session, review, book)
    return session.scalar(select(Comparison.id).where(Comparison.codebook_id == book.id).limit(1)) is not None


def _coders(session: Session, review: Review | None, book: Codebook, viewer: Viewer) -> list[str] | None:
    return None if sees_all(session, review, book, viewer) else [viewer.name]


def visible_coders(
    session: Session, viewer: Viewer, book: Codebook, review: Review | None = None, wanted: list[str] | None = None
) -> list[str] | None:
    """The coders whose codings of ``book`` the viewer may see, among ``wanted`` (None: all of them). A coder who
    asks for another coder's codings before the comparison is open is refused, in one line."""
    if sees_all(session, review, book, viewer):
        return wanted
    others = sorted(set(wanted or []) - {viewer.name})
    if others:
        where = f" in review {review.name}" if review is not None else ""
        raise LmreviewError(
            f"{viewer.name} cannot see the codings of {', '.join(others)} in codebook {book.name}: a coder sees only "
            f"their own until the review manager opens the comparison{where} (lmreview coding compare)"
        )
    return [viewer.name]


def cli_viewer(session: Session, name: str) -> Viewer:
    """Who acts at the terminal (``--user``): an administrator's account is the review manager; a reviewer's or a
    viewer's account is a coder, and so is a name without an account that has coded. The operator of the
    database without an account who never coded (the default ``cli:LOGIN``) is the manager."""
    role = session.scalar(select(User.role).where(User.name == name))
    if role is not None:
        return Viewer(name, role == "admin")
    coded = session.scalar(select(Coding.id).where(Coding.coder == name).limit(1))
    return Viewer(name, coded is None)


def codes_json(book: Codebook) -> list[dict[str, Any]]:
    return [
        {
            "id": r.code.id,
            "name": r.code.name,
            "path": r.path,
            "depth": r.depth,
            "colour": r.code.colour,
            "description": r.code.description,
            "codable": r.code.codable,
        }
        for r in code_rows(book)
    ]


def _coding_json(row: CodingRow, code_ids: dict[str, int]) -> dict[str, Any]:
    return {
        "id": row.id,
        "start": row.start,
        "end": row.end,
        "code": row.code,
        "code_id": code_ids.get(row.code_path),
        "colour": row.colour,
        "coder": row.coder,
        "memo": row.memo,
        "source": row.source,
    }


def material(session: Session, review_name: str) -> dict[str, Any]:
    review = get_review(session, review_name)
    submissions: dict[int, dict[str, Any]] = {}
    for answer in review_answers(session, review):
        entry = submissions.setdefault(
            answer.submission_id, {"id": answer.submission_id, "project": answer.project, "answers": 0}
        )
        entry["answers"] += 1
    documents = [
        {"id": d.id, "title": d.title, "file": d.filename, "projects": d.project_codes}
        for d in review_documents(session, review)
    ]
    titles = {d["id"]: d["title"] for d in documents}
    items = [
        {"id": i.id, "kind": i.kind, "number": i.number, "document": titles[i.document_id], "text": i.text}
        for i in session.scalars(
            select(Item).where(Item.document_id.in_(list(titles))).order_by(Item.document_id, Item.seq)
        )
    ]
    return {"review": review.name, "submissions": list(submissions.values()), "documents": documents, "items": items}


def answers_sheet(
    session: Session, review_name: str, submission_id: int, codebook: str, viewer: Viewer
) -> dict[str, Any]:
    review, book = get_review(session, review_name), get_codebook(session, codebook)
    submission = find_row(session, Submission, submission_id)
    if submission is None or submission.review_id != review.id or submission.status != "submitted":
        raise NotFound(f"no submitted questionnaire {submission_id} in review {review.name}")
    codes = codes_json(book)
    ids = {c["path"]: c["id"] for c in codes}
    rows = list_codings(
        session, codebook=book.name, coders=_coders(session, review, book, viewer), submission_id=submission_id
    )
    project = (
        session.scalar(select(Project.code).where(Project.id == submission.project_id))
        if submission.project_id
        else None
    )
    texts = []
    for question, path, text in text_answers(submission):
        texts.append(
            {
                "reference": f"{submission.instance_id.removeprefix('uuid:')}/{path}",
                "path": path,
                "question": question.label(submission.form_version.definition.get("default_language", "")),
                "text": text,
                "codings": [_coding_json(r, ids) for r in rows if r.path == path],
            }
        )
    return {
        "review": review.name,
        "codebook": book.name,
        "submission": submission.id,
        "project": project,
        "codes": codes,
        "texts": texts,
        "sees_all": sees_all(session, review, book, viewer),
    }


def document_sheet(
    session: Session, review_name: str, document_id: int, codebook: str, viewer: Viewer
) -> dict[str, Any]:
    review, book = get_review(session, review_name), get_codebook(session, codebook)
    document = find_row(session, Document, document_id)
    if document is None:
        raise NotFound(f"no document {document_id}")
    text, _ = document_text(session, document_id)
    codes = codes_json(book)
    ids = {c["path"]: c["id"] for c in codes}
    rows = list_codings(
        session, codebook=book.name, coders=_coders(session, review, book, viewer), document_id=document_id
    )
    return {
        "review": review.name,
        "codebook": book.name,
        "document": {"id": document.id, "title": document.title, "file": document.filename},
        "codes": codes,
        "texts": [
            {
                "reference": str(document.id),
                "path": None,
                "question": document.title,
                "text": text,
                "codings": [_coding_json(r, ids) for r in rows],
            }
        ],
        "sees_all": sees_all(session, review, book, viewer),
    }


def item_label(item: Item) -> str:
    """ "Recommendation 3", "Lesson" (an item without a number)."""
    return " ".join(x for x in (item.kind.replace("_", " ").capitalize(), item.number or "") if x)


def item_sheet(session: Session, review_name: str, item_id: int, codebook: str, viewer: Viewer) -> dict[str, Any]:
    """An item extracted from a document of the review (a recommendation, a lesson) to code like an answer."""
    review, book = get_review(session, review_name), get_codebook(session, codebook)
    item = find_row(session, Item, item_id)
    if item is None or item.document_id not in {d.id for d in review_documents(session, review)}:
        raise NotFound(f"no extracted item {item_id} in the documents of review {review.name}")
    document = session.get_one(Document, item.document_id)
    codes = codes_json(book)
    ids = {c["path"]: c["id"] for c in codes}
    rows = list_codings(session, codebook=book.name, coders=_coders(session, review, book, viewer), item_id=item.id)
    return {
        "review": review.name,
        "codebook": book.name,
        "item": {"id": item.id, "label": item_label(item), "document": document.title, "document_id": document.id},
        "codes": codes,
        "texts": [
            {
                "reference": f"item:{item.id}",
                "path": None,
                "question": f"{item_label(item)} of {document.title}",
                "text": item.text,
                "codings": [_coding_json(r, ids) for r in rows],
            }
        ],
        "sees_all": sees_all(session, review, book, viewer),
    }


def code_segments(session: Session, review_name: str, codebook: str, code_id: int, viewer: Viewer) -> dict[str, Any]:
    review, book = get_review(session, review_name), get_codebook(session, codebook)
    code = next((c for c in book.codes if c.id == code_id), None)
    if code is None:
        raise NotFound(f"no code {code_id} in codebook {book.name}")
    rows = list_codings(session, codebook=book.name, coders=_coders(session, review, book, viewer), code_id=code_id)
    documents: dict[int, str] = {}
    segments = []
    for row in rows:
        if row.item_id is not None:
            text = session.get_one(Item, row.item_id).text
            link = f"/coding/reviews/{review.name}/items/{row.item_id}?codebook={book.name}#c{row.id}"
        elif row.document_id is not None:
            if row.document_id not in documents:
                documents[row.document_id] = document_text(session, row.document_id)[0]
            text = documents[row.document_id]
            link = f"/coding/reviews/{review.name}/documents/{row.document_id}?codebook={book.name}#c{row.id}"
        else:
            coding = session.get_one(Coding, row.id)
            submission = session.get_one(Submission, coding.submission_id)
            text = next((t for _, p, t in text_answers(submission) if p == row.path), row.text)
            link = f"/coding/reviews/{review.name}/answers/{row.submission_id}?codebook={book.name}#c{row.id}"
        segments.append(
            {
                "id": row.id,
                "source": row.source,
                "coder": row.coder,
                "memo": row.memo,
                "link": link,
                "before": text[max(0, row.start - CONTEXT) : row.start],
                "text": text[row.start : row.end],
                "after": text[row.end : row.end + CONTEXT],
            }
        )
    return {
        "review": review.name,
        "codebook": book.name,
        "code": {"id": code.id, "name": code.name, "colour": code.colour, "description": code.description},
        "segments": segments,
    }
