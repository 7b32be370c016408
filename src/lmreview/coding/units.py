"""The material of a review a coder reads: the free-text answers of its submitted questionnaires (repeats
expanded) and the documents of the library about its projects."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lmreview.coding.sources import answer_reference, text_answers
from lmreview.evidence.models import Document, DocumentProject, Item
from lmreview.portfolio.models import Project
from lmreview.questionnaire.models import Review, Submission
from lmreview.questionnaire.reviews import get_review


@dataclass
class Answer:
    reference: str
    submission_id: int
    path: str
    question: str
    project: str | None
    text: str

    def as_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


def review_answers(session: Session, review: str | Review) -> list[Answer]:
    found = get_review(session, review) if isinstance(review, str) else review
    codes = dict(
        session.execute(
            select(Project.id, Project.code)
            .join(Submission, Submission.project_id == Project.id)
            .where(Submission.review_id == found.id)
        ).all()
    )
    answers = []
    submissions = session.scalars(
        select(Submission)
        .where(Submission.review_id == found.id, Submission.status == "submitted")
        .order_by(Submission.id)
    )
    for submission in submissions:
        for question, path, text in text_answers(submission):
            answers.append(
                Answer(
                    answer_reference(submission, path),
                    submission.id,
                    path,
                    question.label("") or question.name,
                    codes.get(submission.project_id) if submission.project_id else None,
                    text,
                )
            )
    return answers


def review_documents(session: Session, review: str | Review) -> list[Document]:
    """Documents about a project of the review's portfolio."""
    found = get_review(session, review) if isinstance(review, str) else review
    if found.portfolio_id is None:
        return []
    return list(
        session.scalars(
            select(Document)
            .where(
                Document.id.in_(
                    select(DocumentProject.document_id)
                    .join(Project, Project.code == DocumentProject.code)
                    .where(Project.portfolio_id == found.portfolio_id)
                )
            )
            .order_by(Document.id)
        )
    )


@dataclass
class ItemUnit:
    reference: str  # item:ID
    kind: str
    number: str | None
    document_id: int
    projects: list[str]
    text: str

    def as_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


def review_items(session: Session, review: str | Review) -> list[ItemUnit]:
    """The items extracted from the review's documents (recommendations, lessons...), codable as ``item:ID``."""
    documents = {d.id: d for d in review_documents(session, review)}
    if not documents:
        return []
    items = session.scalars(
        select(Item).where(Item.document_id.in_(list(documents))).order_by(Item.document_id, Item.seq)
    )
    return [
        ItemUnit(f"item:{i.id}", i.kind, i.number, i.document_id, documents[i.document_id].project_codes, i.text)
        for i in items
    ]
