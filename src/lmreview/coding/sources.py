"""What can be coded and its text: an evidence document (its pages joined by a form feed) or a free-text answer of
a submission (the value at a path, a repeat's entry written ``name[n]``, 1-based).

An answer's reference is the submission's ``_uuid`` as the questionnaire export writes it, a slash, and the path:
``3f1c2a9e-8b7d-4e2f-9a61-5c0d7e4b2a10/outcomes[2]/outcome``. A document is named by its id or its file name, an
item extracted from a document (a recommendation, a lesson) by ``item:ID``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lmreview.evidence.models import Document, Item, Page, Passage
from lmreview.questionnaire.models import Submission
from lmreview.questionnaire.xlsform import FormDefinition, Question
from lmreview.store.base import find_row
from lmreview.text import is_number

PAGE_BREAK = "\f"
_STEP = re.compile(r"^([A-Za-z_][A-Za-z0-9_.\-]*)(?:\[(\d+)\])?$")


@dataclass
class Source:
    """A codable text: ``kind`` "document", "answer" or "item", and what locates it."""

    kind: str
    text: str
    label: str
    document_id: int | None = None
    submission_id: int | None = None
    path: str | None = None
    project_id: int | None = None
    item_id: int | None = None

    @property
    def reference(self) -> str:
        return self.label


def document_text(session: Session, document_id: int) -> tuple[str, list[int]]:
    """The document's text and the offset where each page starts in it."""
    texts = list(session.scalars(select(Page.text).where(Page.document_id == document_id).order_by(Page.number)))
    starts, offset = [], 0
    for text in texts:
        starts.append(offset)
        offset += len(text) + len(PAGE_BREAK)
    return PAGE_BREAK.join(texts), starts


def passage_at(session: Session, document_id: int, starts: list[int], offset: int) -> Passage | None:
    """The passage whose span holds ``offset`` (an offset into :func:`document_text`)."""
    page = max((i for i, s in enumerate(starts) if s <= offset), default=0)
    within = offset - starts[page] if starts else offset
    numbers = list(session.scalars(select(Page.number).where(Page.document_id == document_id).order_by(Page.number)))
    if not numbers:
        return None
    return session.scalar(
        select(Passage)
        .where(
            Passage.document_id == document_id,
            Passage.page == numbers[page],
            Passage.char_start <= within,
            Passage.char_end > within,
        )
        .order_by(Passage.char_end - Passage.char_start)
        .limit(1)
    )


def document_source(session: Session, document: Document) -> Source:
    text, _ = document_text(session, document.id)
    return Source("document", text, document.filename, document_id=document.id)


def item_reference(item_id: int) -> str:
    return f"item:{item_id}"


def item_source(item: Item) -> Source:
    """An item extracted from a document (a recommendation, a lesson): its text as extracted."""
    return Source("item", item.text, item_reference(item.id), item_id=item.id)


def find_item(session: Session, reference: str) -> Item | None:
    """The item ``item:ID`` names."""
    head, _, number = reference.partition(":")
    if head.lower() != "item" or not is_number(number.strip(), 18):
        return None
    return find_row(session, Item, int(number.strip()))


def find_document(session: Session, reference: str) -> Document | None:
    if is_number(reference, 18):
        found = find_row(session, Document, int(reference))
        if found is not None:
            return found
    matches = list(session.scalars(select(Document).where(Document.filename == reference).limit(2)))
    return matches[0] if len(matches) == 1 else None


def _value(data: Any, path: str) -> Any:
    for step in path.split("/"):
        match = _STEP.match(step)
        if match is None or not isinstance(data, dict):
            return None
        data = data.get(match[1])
        if match[2] is not None:
            index = int(match[2]) - 1
            if not isinstance(data, list) or not 0 <= index < len(data):
                return None
            data = data[index]
    return data


def _plain_path(path: str) -> str:
    return "/".join(_STEP.sub(r"\1", step) for step in path.split("/"))


def answer_reference(submission: Submission, path: str) -> str:
    return f"{submission.instance_id.removeprefix('uuid:')}/{path}"


def _definition(submission: Submission) -> FormDefinition:
    return FormDefinition.from_json(submission.form_version.definition)


def answer_source(submission: Submission, path: str) -> Source | None:
    """The free-text answer at ``path``, or None when there is none (no such path, not a text question, empty)."""
    question = _definition(submission).by_path().get(_plain_path(path))
    value = _value(submission.data, path)
    if question is None or question.type != "text" or not isinstance(value, str) or not value:
        return None
    return Source(
        "answer",
        value,
        answer_reference(submission, path),
        submission_id=submission.id,
        path=path,
        project_id=submission.project_id,
    )


def find_answer(session: Session, reference: str) -> tuple[Submission | None, str]:
    """The submission and the path a reference names (the submission is None when no submission has that id)."""
    instance, _, path = reference.strip().partition("/")
    instance = instance.removeprefix("uuid:")
    submission = session.scalar(select(Submission).where(Submission.instance_id == f"uuid:{instance}"))
    if submission is None:
        submission = session.scalar(select(Submission).where(Submission.instance_id == instance))
    return submission, path


def text_answers(submission: Submission) -> Iterator[tuple[Question, str, str]]:
    """Every non-empty free-text answer of a submission, in form order: (question, path, text), repeats
    expanded."""
    definition = _definition(submission)

    def walk(questions: list[Question], data: Any, prefix: str) -> Iterator[tuple[Question, str, str]]:
        if not isinstance(data, dict):
            return
        for question in questions:
            path = f"{prefix}{question.name}"
            value = data.get(question.name)
            if question.type == "repeat":
                for index, entry in enumerate(value if isinstance(value, list) else [], start=1):
                    yield from walk(question.children, entry, f"{path}[{index}]/")
            elif question.type == "group":
                yield from walk(question.children, value, f"{path}/")
            elif question.type == "text" and isinstance(value, str) and value.strip():
                yield question, path, value

    yield from walk(definition.survey, submission.data, "")
