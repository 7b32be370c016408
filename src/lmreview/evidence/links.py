"""Links between documents of the evidence library and portfolio projects.

A document names its projects by code when its text has one (:mod:`lmreview.evidence.metadata`). Many reports
name their project only by its title: here the document's title is compared with the titles of the portfolio
projects (rapidfuzz's ``token_set_ratio`` on the titles without their generic words such as "final evaluation of
the … project"), and the projects alike enough are stored as **suggestions**. A reviewer confirms a suggestion
(the project's code joins the document's codes) or rejects it (it is kept as rejected, so that it is never
suggested again, whatever is imported later). Every decision is written to the audit log.

Example::

    suggest(session, document)                      # new suggestions, also run when a document is added
    decide(session, 4, "LM.0181", confirm=True, actor="ana")
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from lmreview.errors import LmreviewError
from lmreview.evidence.models import Document, DocumentProject, Item, ProjectLink
from lmreview.store import audit
from lmreview.store.base import utcnow

SCORE_MIN = 80.0  # rapidfuzz's 0-100 scale: below this, a title is not alike enough to suggest
MAX_SUGGESTIONS = 5  # per document, at a time
MIN_WORDS = 2  # a project title of fewer words (once generic words are left out) matches too much to suggest
# Words of a report's or a project's title that say what kind of text it is, not what it is about.
_GENERIC_TEXT = (
    "a an and the of for in on to by with from at final mid term midterm mid-term ex post ex-post interim "
    "independent evaluation evaluations evaluating report reports review reviews brief summary executive "
    "project projects programme programmes program programs phase thematic high level high-level synthesis "
    "assessment study annex draft"
)
_GENERIC = frozenset(_GENERIC_TEXT.split())
_WORD = re.compile(r"[^\W_]+(?:-[^\W_]+)*")
PROJECT_KINDS = ("recommendation", "lesson")  # what a project's page lists of each of its documents


def key_words(title: str) -> str:
    """The words of a title that say what it is about, lower case, in their order."""
    return " ".join(w for w in _WORD.findall(title.lower()) if w not in _GENERIC and any(c.isalpha() for c in w))


def _projects(session: Session) -> dict[str, str]:
    """Each project code of the register with a title (the first portfolio's, by name, when codes repeat)."""
    from lmreview.portfolio.models import Portfolio, Project

    found: dict[str, str] = {}
    rows = session.execute(
        select(Project.code, Project.title)
        .join(Portfolio, Portfolio.id == Project.portfolio_id)
        .order_by(Portfolio.name, Project.code)
    )
    for code, title in rows:
        if title and code not in found:
            found[code] = title
    return found


@dataclass
class Candidates:
    """The projects a title is compared with: code → (title, its key words); read once for a batch of documents."""

    projects: dict[str, tuple[str, str]]

    @classmethod
    def read(cls, session: Session) -> Candidates:
        keyed = {code: (title, key_words(title)) for code, title in _projects(session).items()}
        return cls({code: tk for code, tk in keyed.items() if len(tk[1].split()) >= MIN_WORDS})


def suggest(session: Session, document: Document, candidates: Candidates | None = None) -> list[ProjectLink]:
    """Store, and return, new suggestions for ``document``: the projects whose titles are alike, best first.

    A project already among the document's codes, or already suggested, confirmed or rejected for it (or rejected
    for another document of the same title), is left out.
    """
    from rapidfuzz import fuzz, process

    words = key_words(document.title)
    if not words:
        return []
    candidates = candidates or Candidates.read(session)
    known = set(document.project_codes) | set(
        session.scalars(select(ProjectLink.code).where(ProjectLink.document_id == document.id))
    )
    # a report added again (another file of the same title: a new version, another format) keeps its rejections
    known |= set(
        session.scalars(
            select(ProjectLink.code)
            .join(Document, Document.id == ProjectLink.document_id)
            .where(ProjectLink.status == "rejected", func.lower(Document.title) == func.lower(document.title))
        )
    )
    choices = {code: key for code, (_, key) in candidates.projects.items() if code not in known}
    matches = process.extract(
        words, choices, scorer=fuzz.token_set_ratio, score_cutoff=SCORE_MIN, limit=MAX_SUGGESTIONS
    )
    links = [
        ProjectLink(
            document_id=document.id,
            code=code,
            project_title=candidates.projects[code][0],
            score=round(score, 1),
            status="suggested",
        )
        for _, score, code in sorted(matches, key=lambda m: (-m[1], m[2]))
    ]
    session.add_all(links)
    session.flush()
    return links


def links(session: Session, document_id: int) -> list[ProjectLink]:
    """The document's links: suggestions first (best first), then confirmed, then rejected ones."""
    order = {status: n for n, status in enumerate(("suggested", "confirmed", "rejected"))}
    found = session.scalars(select(ProjectLink).where(ProjectLink.document_id == document_id))
    return sorted(found, key=lambda link: (order[link.status], -(link.score or 0), link.code))


def link_json(link: ProjectLink) -> dict[str, Any]:
    return {
        "document": link.document_id,
        "code": link.code,
        "project_title": link.project_title,
        "score": link.score,
        "status": link.status,
        "decided_by": link.decided_by,
        "decided_at": link.decided_at.isoformat() if link.decided_at else None,
    }


def decide(session: Session, document_id: int, code: str, *, confirm: bool, actor: str) -> ProjectLink:
    """Confirm (the code joins the document's codes) or reject (the code leaves them, and is not suggested again)
    the link between a document and the project of ``code``; a project not suggested may be linked too."""
    from lmreview.evidence.service import code_problem, document_json, get_document

    document = get_document(session, document_id)
    code = code.strip()
    if not code:
        raise LmreviewError("name the project: --project CODE")
    problem = code_problem(code)
    if problem is not None:
        raise LmreviewError(problem)
    link = session.scalar(select(ProjectLink).where(ProjectLink.document_id == document_id, ProjectLink.code == code))
    if link is None:
        title = _projects(session).get(code)
        if title is None and code not in document.project_codes:
            raise LmreviewError(
                f"no portfolio project has the code {code!r} (see lmreview portfolio list); "
                "a document's other codes are set with lmreview evidence set --projects"
            )
        link = ProjectLink(document_id=document_id, code=code, project_title=title or "", score=None)
        session.add(link)
    before = {**document_json(document), "link": link.status if link.id else None}
    link.status = "confirmed" if confirm else "rejected"
    link.decided_by = actor
    link.decided_at = utcnow()
    if confirm and code not in document.project_codes:
        document.projects.append(DocumentProject(code=code))
    elif not confirm and code in document.project_codes:
        session.execute(
            delete(DocumentProject).where(DocumentProject.document_id == document_id, DocumentProject.code == code)
        )
        session.expire(document, ["projects"])
    session.flush()
    after = {**document_json(document), "link": link.status}
    audit.record(
        session,
        actor=actor,
        action="update",
        entity="evidence_document",
        entity_id=document_id,
        before=before,
        after=after,
        summary=f"{link.status} project {code} for document {document_id}",
    )
    return link


@dataclass
class ProjectDocument:
    """A document about a project, with its recommendations and lessons."""

    document: dict[str, Any]
    items: list[dict[str, Any]]


def project_documents(session: Session, codes: Sequence[str]) -> list[ProjectDocument]:
    """The documents whose codes include one of ``codes``, in the order they were added, each with its
    recommendations and lessons (:data:`PROJECT_KINDS`) in document order."""
    from lmreview.evidence.service import document_json, item_json

    if not codes:
        return []
    documents = session.scalars(
        select(Document)
        .where(Document.id.in_(select(DocumentProject.document_id).where(DocumentProject.code.in_(list(codes)))))
        .order_by(Document.id)
    ).all()
    found: dict[int, ProjectDocument] = {d.id: ProjectDocument(document_json(d), []) for d in documents}
    if found:
        by_id = {d.id: d for d in documents}
        rows = session.scalars(
            select(Item)
            .where(Item.document_id.in_(list(found)), Item.kind.in_(PROJECT_KINDS))
            .order_by(Item.document_id, Item.seq)
        )
        for item in rows:
            found[item.document_id].items.append(item_json(item, by_id[item.document_id]))
    return list(found.values())
