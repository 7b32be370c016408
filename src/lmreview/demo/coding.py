"""The demo's qualitative coding: the starter codebook of implementation challenges applied by two coders to the
review's free-text answers and to the challenges the demo's final reports describe, with some disagreement, the
comparison opened and a few consensus decisions.

The analyst codes every "Actions taken" answer with the challenge it answers, and each challenge paragraph of the
reports as ``PASSAGES`` says. The consultant codes most of the same material: a seeded draw leaves some answers
uncoded, gives others a neighbouring code instead or as well, and the reports' paragraphs get the consultant's
codes of ``PASSAGES``. Nothing here is a figure: the agreement page and the code matrix compute theirs from the
codings. A second run finds the analyst's codings and adds nothing.
"""

from __future__ import annotations

import contextlib
import random
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lmreview.coding import agreement, codebooks
from lmreview.coding.models import Code, Codebook, Coding
from lmreview.coding.segments import apply_code
from lmreview.coding.sources import Source, answer_source, document_text, text_answers
from lmreview.errors import Conflict, LmreviewError, NotFound
from lmreview.evidence.models import Document, Passage
from lmreview.questionnaire.models import Submission
from lmreview.questionnaire.reviews import get_review
from lmreview.questionnaire.xlsform import FormDefinition
from lmreview.store import users

CODEBOOK = "challenges-2022"
ANALYST, CONSULTANT = "analyst", "consultant"
CODERS = {ANALYST: "analyst-password", CONSULTANT: "consultant-password"}
SEED = "lmreview-demo-coding"
SKIPPED, OTHER_CODE, EXTRA_CODE = 0.12, 0.2, 0.26  # the consultant's draw per answer: thresholds of random()
NEIGHBOURS = {  # the code a second coder may read instead, for a given challenge
    "Covid-19": "External administrative issues",
    "Changing governmental counterparts": "Lack of buy-in by governmental counterparts",
    "Changing governmental priorities": "Political instability ex-post project approval",
    "Consultant challenges": "Internal administrative issues",
    "Difficulty accessing existing data": "Lack of reliable information",
    "Lack of reliable information": "Difficulty accessing existing data",
    "IOM internal challenges": "Internal administrative issues",
}
FALLBACKS = ("Lack of coordination amongst agencies", "Lack of collaboration by partners")

G_COUNTERPARTS, G_PRIORITIES = "Changing governmental counterparts", "Changing governmental priorities"
DATA, INFO, COVID, NORMS = (
    "Difficulty accessing existing data",
    "Lack of reliable information",
    "Covid-19",
    "Social/cultural norms",
)
# (document file, the paragraph's opening words, the analyst's codes, the consultant's codes)
PASSAGES: list[tuple[str, str, tuple[str, ...], tuple[str, ...]]] = [
    ("final-report-lm0301.pdf", "The national statistics offices", (DATA,), (DATA,)),
    ("final-report-lm0301.pdf", "After a new regional work plan", (G_PRIORITIES,), (G_PRIORITIES,)),
    ("final-report-lm0301.pdf", "Recruiting the project's regional", ("IOM internal challenges",),
     ("Internal administrative issues",)),
    ("final-report-lm0307.docx", "The consultant hired", ("Consultant challenges",), ("Consultant challenges",)),
    ("final-report-lm0307.docx", "Border closures", (COVID,), (COVID,)),
    ("final-report-lm0325.pdf", "Three permanent secretaries", (G_COUNTERPARTS,), (G_COUNTERPARTS,)),
    ("final-report-lm0325.pdf", "The national elections of 2019", (G_PRIORITIES,),
     (G_PRIORITIES, "Political instability ex-post project approval")),
    ("final-report-lm0325.pdf", "Lockdowns during", (COVID,), (COVID,)),
    ("final-report-lm0325.pdf", "Some employers' associations", (NORMS,), (NORMS,)),
    ("final-report-lm0333.docx", "Figures on how many", (INFO,), (INFO, DATA)),
    ("final-report-lm0333.docx", "Many workers saw", (NORMS,), (NORMS,)),
    ("final-report-lm0416.pdf", "The seasonal recruitment of 2020", (COVID,), (COVID,)),
    ("final-report-lm0416.pdf", "The project's focal point", (G_COUNTERPARTS,), (G_COUNTERPARTS,)),
    ("final-report-lm0416.pdf", "The government's attention", (G_PRIORITIES,), (COVID,)),
    ("ex-post-evaluation-lm0329.docx", "Staff changes at the ministry", (G_COUNTERPARTS,), (G_COUNTERPARTS,)),
    ("ex-post-evaluation-lm0329.docx", "Data on placements abroad", (DATA,), (INFO,)),
]  # fmt: skip
# Consensus decisions: (document file, opening words, the codes kept, the reason)
CONSENSUS = [
    ("final-report-lm0301.pdf", "Recruiting the project's regional", ("IOM internal challenges",),
     "The delay came from the organisation's recruitment rules, which the internal-challenges code covers."),
    ("final-report-lm0325.pdf", "The national elections of 2019", (G_PRIORITIES,),
     "The elections were peaceful: the change of priorities is the challenge, not instability."),
    ("final-report-lm0416.pdf", "The government's attention", (G_PRIORITIES, COVID),
     "Both: the pandemic caused the shift of the government's attention."),
]  # fmt: skip


@dataclass(frozen=True)
class DemoCoding:
    created: bool
    codebook: str
    codings: int  # by the two coders
    consensus: int  # units with a consensus decision
    users_created: list[str]
    overall: agreement.Measures | None  # the two coders' agreement over every code (None: not measurable here)


def add_coders(session: Session, actor: str) -> list[str]:
    """The two demo coders (reviewers), unless they exist already; returns those created."""
    created = []
    for name, password in CODERS.items():
        with contextlib.suppress(Conflict):
            users.add_user(session, name, "reviewer", password, actor=actor)
            created.append(name)
    return created


def _codebook(session: Session, actor: str) -> Codebook:
    try:
        return codebooks.get_codebook(session, CODEBOOK)
    except NotFound:
        return codebooks.install_starter(session, CODEBOOK, actor=actor)


def _challenge_answers(session: Session, review_id: int, names: set[str]) -> list[tuple[str, Source, str]]:
    """(project code, the "Actions taken" answer, the code of its challenge) for every submitted answer."""
    found = []
    submissions = session.scalars(select(Submission).where(Submission.review_id == review_id).order_by(Submission.id))
    for submission in submissions:
        by_path = FormDefinition.from_json(submission.form_version.definition).by_path()
        code = str((submission.data.get("project") or {}).get("project_code", ""))
        for _question, path, _text in text_answers(submission):
            if not (path.startswith("challenges/") and path.endswith("_actions")):
                continue
            challenge = by_path.get(path.removesuffix("_actions"))
            label = next((v for v in challenge.labels.values() if v in names), None) if challenge else None
            source = answer_source(submission, path)
            if label is not None and source is not None:
                found.append((code, source, label))
    return sorted(found, key=lambda row: (row[0], row[1].path or ""))


def _passage(session: Session, filename: str, opening: str) -> tuple[Source, int, int]:
    """The document source and the span of the passage that starts with ``opening``."""
    document = session.scalar(select(Document).where(Document.filename == filename).order_by(Document.id).limit(1))
    if document is None:
        raise RuntimeError(f"the demo's document {filename} is not in the library")
    passage = session.scalar(
        select(Passage)
        .where(Passage.document_id == document.id, Passage.text.startswith(opening, autoescape=True))
        .order_by(Passage.seq)
        .limit(1)
    )
    if passage is None:
        raise RuntimeError(f"no passage of {filename} starts with {opening!r}")
    text, starts = document_text(session, document.id)
    base = starts[passage.page - 1]
    source = Source("document", text, document.filename, document_id=document.id)
    return source, base + passage.char_start, base + passage.char_end


def load_coding(session: Session, review: str, *, actor: str) -> DemoCoding:
    """Code the review's answers and the demo's reports once (see the module's docstring)."""
    created_users = add_coders(session, actor)
    book = _codebook(session, actor)
    mine = select(Coding.id).join(Code, Code.id == Coding.code_id)
    mine = mine.where(Code.codebook_id == book.id, Coding.coder == ANALYST).limit(1)
    created = session.scalar(mine) is None
    if created:
        _code(session, review, book, actor)
    by_two = select(func.count(Coding.id)).join(Code, Code.id == Coding.code_id)
    by_two = by_two.where(Code.codebook_id == book.id, Coding.coder.in_(list(CODERS)))
    agreed = select(func.count(func.distinct(Coding.unit))).join(Code, Code.id == Coding.code_id)
    agreed = agreed.where(Code.codebook_id == book.id, Coding.coder == agreement.CONSENSUS)
    try:
        overall: agreement.Measures | None = agreement.agreement(
            session, review, codebook=book.name, coders=list(CODERS)
        ).overall
    except LmreviewError:  # a workspace where these coders' comparison was never opened
        overall = None
    return DemoCoding(
        created=created,
        codebook=book.name,
        codings=session.scalar(by_two) or 0,
        consensus=session.scalar(agreed) or 0,
        users_created=created_users,
        overall=overall,
    )


def _code(session: Session, review: str, book: Codebook, actor: str) -> None:
    found = get_review(session, review)
    names = {c.name: c for c in book.codes if c.codable}
    draw = random.Random(SEED)
    for _project, source, label in _challenge_answers(session, found.id, set(names)):
        end = len(source.text)
        apply_code(session, source, names[label], 0, end, coder=ANALYST, actor=actor)
        chance = draw.random()
        if chance < SKIPPED:
            continue
        other = NEIGHBOURS.get(label) or next(f for f in FALLBACKS if f != label)
        given = [label] if chance >= OTHER_CODE else [other]
        if OTHER_CODE <= chance < EXTRA_CODE:
            given.append(other)
        for code in given:
            apply_code(session, source, names[code], 0, end, coder=CONSULTANT, actor=actor)
    for filename, opening, first, second in PASSAGES:
        source, start, end = _passage(session, filename, opening)
        for coder, codes in ((ANALYST, first), (CONSULTANT, second)):
            for code in codes:
                apply_code(session, source, names[code], start, end, coder=coder, actor=actor)
    agreement.open_comparison(session, review, book.name, actor=actor)
    for filename, opening, kept, reason in CONSENSUS:
        source, start, _end = _passage(session, filename, opening)
        unit = session.scalar(
            select(Coding.unit).where(Coding.document_id == source.document_id, Coding.start == start).limit(1)
        )
        assert unit is not None
        agreement.consensus(session, review, codebook=book.name, unit=unit, codes=kept, actor=actor, reason=reason)
