"""The library of lessons learned and good practices, across reviews and evidence documents.

The fields are those of the ILO templates: a lesson states its context, the challenge or causal factor behind it,
the users it is meant for and its relevance; a good practice states the elements that made it work, whether and how
it can be replicated, its link to objectives and its measurable impact. Each is linked to its source — a review, or a
page of a document of the evidence library — and to the projects and themes it concerns.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from sqlalchemy import String, cast, or_, select
from sqlalchemy.orm import Session

from lmreview import access
from lmreview.errors import BadInput, NotFound, Problem
from lmreview.evidence.models import Document
from lmreview.questionnaire.models import Review
from lmreview.questionnaire.reviews import get_review
from lmreview.store import audit
from lmreview.store.base import find_row
from lmreview.tracking.models import LESSON_KINDS, Lesson

LESSON_FIELDS = {
    "context": "Context",
    "challenge": "Challenge or causal factor",
    "targeted_users": "Targeted users",
    "relevance": "Relevance",
}
PRACTICE_FIELDS = {
    "success_elements": "What made it work",
    "replicability": "Replicability",
    "objectives_link": "Link to objectives",
    "impact": "Measurable impact",
}
KIND_LABELS = {"lesson": "Lesson learned", "good_practice": "Good practice"}
TEXT_COLUMNS = ("title", "text", *LESSON_FIELDS, *PRACTICE_FIELDS)


def kind_of(value: str) -> str:
    kind = value.strip().lower().replace("-", "_").replace(" ", "_")
    if kind not in LESSON_KINDS:
        raise BadInput([Problem("kind", 0, "-", f"{value!r} is not a kind; use lesson or good-practice")])
    return kind


def _bad(what: str, message: str) -> BadInput:
    return BadInput([Problem(what, 0, "-", message)], message=f"{what}: {message}")


def add_lesson(
    session: Session,
    *,
    kind: str,
    title: str,
    text: str,
    actor: str,
    fields: dict[str, str] | None = None,
    review: str | None = None,
    document_id: int | None = None,
    page: int | None = None,
    projects: list[str] | None = None,
    themes: list[str] | None = None,
    year: int | None = None,
) -> Lesson:
    """Add a lesson or a good practice; its source is a review or a document page (or neither, when typed in)."""
    chosen = kind_of(kind)
    if not title.strip():
        raise _bad("title", "give the lesson or practice a title")
    if not text.strip():
        raise _bad("text", "describe the lesson or practice")
    given = {k: v.strip() for k, v in (fields or {}).items() if v and v.strip()}
    allowed = LESSON_FIELDS if chosen == "lesson" else PRACTICE_FIELDS
    wrong = sorted(set(given) - set(allowed))
    if wrong:
        names = ", ".join(allowed)
        raise _bad(wrong[0], f"a {KIND_LABELS[chosen].lower()} has the fields {names}, not {wrong[0]}")
    review_id = get_review(session, review).id if review else None
    if page is not None and document_id is None:
        raise _bad("page", "a page belongs to a document: give the document too")
    if document_id is not None:
        document = find_row(session, Document, document_id)
        if document is None:
            raise NotFound(f"there is no document {document_id} in the evidence library")
        if page is not None and not 1 <= page <= document.page_count:
            raise _bad("page", f"document {document_id} has pages 1 to {document.page_count}")
    lesson = Lesson(
        kind=chosen,
        title=title.strip(),
        text=text.strip(),
        review_id=review_id,
        document_id=document_id,
        page=page,
        projects=sorted({p.strip() for p in projects or [] if p.strip()}),
        themes=sorted({t.strip() for t in themes or [] if t.strip()}),
        year=year,
        actor=actor,
        **given,
    )
    session.add(lesson)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="create",
        entity="lesson",
        entity_id=lesson.id,
        after={"kind": chosen, "title": lesson.title, **given},
        summary=f"added the {KIND_LABELS[chosen].lower()} {lesson.title!r}",
    )
    return lesson


@dataclass(frozen=True)
class LessonFilters:
    query: str | None = None
    kind: str | None = None
    project: str | None = None
    theme: str | None = None
    year: int | None = None
    review: str | None = None


def list_lessons(
    session: Session, filters: LessonFilters | None = None, visible: Collection[int] | None = None
) -> list[Lesson]:
    """Lessons and good practices, newest first; every word of ``query`` must appear in one of the text fields.
    ``visible``: the ids of the reviews the caller may see (``access.visible_review_ids``; None: those of the user
    the session acts as, ``lmreview --user NAME``, or every review): a lesson drawn from another review is left
    out."""
    f = filters or LessonFilters()
    query = select(Lesson)
    if visible is None:
        visible = access.acting_visible(session)  # the CLI run as --user NAME
    if visible is not None:
        query = query.where(or_(Lesson.review_id.is_(None), Lesson.review_id.in_(sorted(visible))))
    if f.kind:
        query = query.where(Lesson.kind == kind_of(f.kind))
    if f.year is not None:
        query = query.where(Lesson.year == f.year)
    if f.review:
        query = query.where(Lesson.review_id == get_review(session, f.review).id)
    for word in (f.query or "").split():
        pattern = f"%{word.replace('%', '').replace('_', '')}%"
        query = query.where(or_(*(getattr(Lesson, c).ilike(pattern) for c in TEXT_COLUMNS)))
    if f.project:
        query = query.where(cast(Lesson.projects, String).contains(f'"{f.project}"'))
    if f.theme:
        query = query.where(cast(Lesson.themes, String).contains(f'"{f.theme}"'))
    lessons = list(session.scalars(query.order_by(Lesson.id.desc())))
    # the JSON text match above narrows; this keeps exactly the lessons naming the project or theme
    return [
        lesson
        for lesson in lessons
        if (not f.project or f.project in lesson.projects) and (not f.theme or f.theme in lesson.themes)
    ]


def get_lesson(session: Session, lesson_id: int, visible: Collection[int] | None = None) -> Lesson:
    """The lesson or good practice ``lesson_id``; to a caller who may see only the reviews ``visible`` (see
    :func:`list_lessons`), one drawn from another review is no lesson at all (the same NotFound as an unknown id)."""
    lesson = find_row(session, Lesson, lesson_id)
    if visible is None:
        visible = access.acting_visible(session)  # the CLI run as --user NAME
    if lesson is None or (visible is not None and lesson.review_id is not None and lesson.review_id not in visible):
        raise NotFound(f"there is no lesson or good practice {lesson_id}")
    return lesson


def _state(lesson: Lesson) -> dict[str, Any]:
    """What an edit may change, as the audit log records it."""
    labels = LESSON_FIELDS if lesson.kind == "lesson" else PRACTICE_FIELDS
    return {
        "title": lesson.title,
        "text": lesson.text,
        **{key: getattr(lesson, key) for key in labels},
        "projects": list(lesson.projects),
        "themes": list(lesson.themes),
        "year": lesson.year,
    }


def update_lesson(
    session: Session,
    lesson_id: int,
    *,
    actor: str,
    title: str | None = None,
    text: str | None = None,
    fields: dict[str, str] | None = None,
    projects: list[str] | None = None,
    themes: list[str] | None = None,
    year: int | None = None,
    clear_year: bool = False,
) -> Lesson:
    """Change a lesson's or good practice's title, text, template fields (an empty value clears a field), projects,
    themes or year; what is None stays. The change is audited with the values before and after."""
    lesson = get_lesson(session, lesson_id)
    before = _state(lesson)
    if title is not None:
        if not title.strip():
            raise _bad("title", "a lesson or practice keeps a title")
        lesson.title = title.strip()
    if text is not None:
        if not text.strip():
            raise _bad("text", "a lesson or practice keeps its text")
        lesson.text = text.strip()
    allowed = LESSON_FIELDS if lesson.kind == "lesson" else PRACTICE_FIELDS
    for key, value in (fields or {}).items():
        if key not in allowed:
            names = ", ".join(allowed)
            raise _bad(key, f"a {KIND_LABELS[lesson.kind].lower()} has the fields {names}, not {key}")
        setattr(lesson, key, value.strip() or None)
    if projects is not None:
        lesson.projects = sorted({p.strip() for p in projects if p.strip()})
    if themes is not None:
        lesson.themes = sorted({t.strip() for t in themes if t.strip()})
    if year is not None:
        if not 1 <= year <= 9999:
            raise _bad("year", f"{year} is not a year")
        lesson.year = year
    elif clear_year:
        lesson.year = None
    after = _state(lesson)
    changed = sorted(key for key in after if after[key] != before[key])
    if changed:
        session.flush()
        audit.record(
            session,
            actor=actor,
            action="update",
            entity="lesson",
            entity_id=lesson.id,
            before={key: before[key] for key in changed},
            after={key: after[key] for key in changed},
            summary=f"changed {', '.join(changed)} of the {KIND_LABELS[lesson.kind].lower()} {lesson.title!r}",
        )
    return lesson


def remove_lesson(session: Session, lesson_id: int, *, actor: str) -> str:
    """Take a lesson or good practice out of the library (audited with what it said); returns its title."""
    lesson = get_lesson(session, lesson_id)
    title, kind = lesson.title, lesson.kind
    audit.record(
        session,
        actor=actor,
        action="delete",
        entity="lesson",
        entity_id=lesson.id,
        before={"kind": kind, **_state(lesson)},
        summary=f"removed the {KIND_LABELS[kind].lower()} {title!r}",
    )
    session.delete(lesson)
    session.flush()
    return title


def lesson_json(session: Session, lesson: Lesson) -> dict[str, Any]:
    labels = LESSON_FIELDS if lesson.kind == "lesson" else PRACTICE_FIELDS
    review = session.get(Review, lesson.review_id) if lesson.review_id else None
    document = session.get(Document, lesson.document_id) if lesson.document_id else None
    return {
        "id": lesson.id,
        "kind": lesson.kind,
        "title": lesson.title,
        "text": lesson.text,
        "fields": {key: getattr(lesson, key) for key in labels},
        "source": {
            "review": review.name if review else None,
            "document_id": document.id if document else None,
            "document": document.title if document else None,
            "page": lesson.page,
        },
        "projects": lesson.projects,
        "themes": lesson.themes,
        "year": lesson.year,
    }
