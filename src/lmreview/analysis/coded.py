"""The coded findings of a review's report: for each codebook with codings in the review's material, the code
matrix by project (:func:`lmreview.coding.matrix.code_matrix`) — how many of the projects the coders had material
for carry each code — and the segments behind each count.

The report counts the codings of every coder (the review manager's view), but keeps coders blind: while two or more
coders have coded with a codebook and the review manager has not opened its comparison, the codebook's counts are
withheld (the report says so). Read-only, like the rest of the report's content; the renderers in ``report/`` never
touch the database.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from lmreview.coding.agreement import CONSENSUS, is_open
from lmreview.coding.matrix import CodeFigure, Matrix, code_matrix
from lmreview.coding.models import Code, Codebook, Coding
from lmreview.coding.segments import segment_lines
from lmreview.questionnaire.models import Review


@dataclass(frozen=True, slots=True)
class CodedSegment:
    """One coding behind a cell of the matrix: a project's answer or a document about it."""

    code: str
    project: str
    source: str
    start: int
    end: int
    coder: str
    text: str
    memo: str | None


@dataclass(frozen=True, slots=True)
class CodedFindings:
    codebook: str
    title: str | None
    matrix: Matrix
    segments: tuple[CodedSegment, ...]
    coders: tuple[str, ...] = ()
    withheld: bool = False  # several coders, comparison not open: no count is shown

    @property
    def codings(self) -> int:
        return sum(f.segments for f in self.matrix.codes)

    @property
    def coded(self) -> list[CodeFigure]:
        """The codes that some project carries, most frequent first (ties in codebook order)."""
        order = {f.code: i for i, f in enumerate(self.matrix.codes)}
        return sorted((f for f in self.matrix.codes if f.units), key=lambda f: (-f.units, order[f.code]))


def coded_findings(session: Session, review: Review) -> list[CodedFindings]:
    """The code matrices of the codebooks that have a coding in the review's material, by codebook name."""
    books = session.scalars(
        select(Codebook)
        .where(Codebook.id.in_(select(Code.codebook_id).join(Coding, Coding.code_id == Code.id)))
        .order_by(Codebook.name)
    ).all()
    found = []
    for book in books:
        matrix = code_matrix(session, review.name, codebook=book.name, by="project", segment_ids=True)
        if not any(f.segments for f in matrix.codes):
            continue
        rows = segment_lines(session, book)
        segments = [
            CodedSegment(f.code, cell.key, r.source, r.start, r.end, r.coder, r.text, r.memo)
            for f in matrix.codes
            for cell in f.cells
            for coding_id in cell.segments
            if (r := rows.get(coding_id)) is not None
        ]
        coders = tuple(sorted({s.coder for s in segments} - {CONSENSUS}))
        withheld = len(coders) > 1 and not is_open(session, review, book)
        found.append(CodedFindings(book.name, book.title, matrix, tuple(segments), coders, withheld))
    return found
