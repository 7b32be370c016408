"""Inter-coder agreement: percent agreement, Cohen's κ (two coders) and Krippendorff's α (two or more coders,
missing values allowed), per code and overall, computed by NLTK's ``AnnotationTask`` (nominal distance).

A unit is a passage or an answer that every compared coder coded with at least one code of the codebook. For each
code, each coder's value on a unit is whether they applied the code (1) or not (0); an exclusive code group is one
nominal variable whose value is the code of the group the coder gave (missing when they gave none). The overall
figures pool every (code, unit) pair of the binary variables. Coders see each other's codings only once the review
manager has opened the comparison; the consensus is recorded as its own coder, every decision audited.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from lmreview.coding.codebooks import get_codebook
from lmreview.coding.models import Code, Codebook, CodeGroup, Coding, Comparison
from lmreview.errors import Forbidden, LmreviewError
from lmreview.evidence.models import DocumentProject, Item
from lmreview.portfolio.models import Project
from lmreview.questionnaire.models import Review, Submission
from lmreview.questionnaire.reviews import get_review
from lmreview.store import audit

CONSENSUS = "consensus"
Table = Mapping[str, Mapping[str, str | None]]  # unit -> coder -> value (None: missing)


@dataclass
class Measures:
    units: int
    percent_agreement: float | None
    kappa: float | None
    alpha: float | None

    def as_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _task(triples: list[tuple[str, str, str]]) -> Any:
    from nltk.metrics.agreement import AnnotationTask

    return AnnotationTask(data=triples)


def measures(table: Table, coders: Sequence[str]) -> Measures:
    """The three measures of one variable; None where a measure is undefined (no pairable values, no variation)."""
    triples = [(c, u, v) for u, row in table.items() for c in coders if (v := row.get(c)) is not None]
    pairable = [row for row in table.values() if sum(row.get(c) is not None for c in coders) >= 2]
    agree = [len({row[c] for c in coders if row.get(c) is not None}) == 1 for row in pairable]
    percent = 100.0 * sum(agree) / len(agree) if agree else None
    alpha = None
    pairable_values = {row[c] for row in pairable for c in coders if row.get(c) is not None}
    if pairable and len(pairable_values) > 1:
        try:
            alpha = float(_task(triples).alpha())
        except ZeroDivisionError:
            alpha = None
    kappa = None
    if len(coders) == 2:
        a, b = coders
        both = [(u, row[a], row[b]) for u, row in table.items() if row.get(a) is not None and row.get(b) is not None]
        if both and len({v for _, x, y in both for v in (x, y)}) > 1:
            try:
                pairs = [(a, u, str(x)) for u, x, _ in both] + [(b, u, str(y)) for u, _, y in both]
                kappa = float(_task(pairs).kappa())
            except ZeroDivisionError:
                kappa = None
    return Measures(len(table), percent, kappa, alpha)


@dataclass
class Agreement:
    review: str
    codebook: str
    coders: list[str]
    codes: list[tuple[str, Measures]]
    groups: list[tuple[str, Measures]]
    overall: Measures
    units: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "review": self.review,
            "codebook": self.codebook,
            "coders": self.coders,
            "codes": [{"code": name, **m.as_json()} for name, m in self.codes],
            "groups": [{"group": name, **m.as_json()} for name, m in self.groups],
            "overall": self.overall.as_json(),
        }


def _in_review(review: Review) -> Any:
    documents = (
        select(DocumentProject.document_id)
        .join(Project, Project.code == DocumentProject.code)
        .where(Project.portfolio_id == review.portfolio_id)
    )
    answers = select(Submission.id).where(Submission.review_id == review.id)
    items = select(Item.id).where(Item.document_id.in_(documents))
    return or_(Coding.submission_id.in_(answers), Coding.document_id.in_(documents), Coding.item_id.in_(items))


def _applied(session: Session, review: Review, book: Codebook) -> list[tuple[str, str, int]]:
    """Distinct (unit, coder, code id) of the codebook's codings in the review's material."""
    return [
        (u, c, k)
        for u, c, k in session.execute(
            select(Coding.unit, Coding.coder, Coding.code_id)
            .join(Code, Code.id == Coding.code_id)
            .where(Code.codebook_id == book.id, _in_review(review))
            .distinct()
        ).all()
    ]


def is_open(session: Session, review: Review, book: Codebook) -> bool:
    return (
        session.scalar(
            select(Comparison.id).where(Comparison.review_id == review.id, Comparison.codebook_id == book.id)
        )
        is not None
    )


def open_comparison(session: Session, review: str, codebook: str, *, actor: str) -> bool:
    """Let the coders of ``codebook`` in ``review`` see one another's codings; False when it was open already."""
    found, book = get_review(session, review), get_codebook(session, codebook)
    if is_open(session, found, book):
        return False
    comparison = Comparison(codebook_id=book.id, review_id=found.id, opened_by=actor)
    session.add(comparison)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="create",
        entity="coding_comparison",
        entity_id=comparison.id,
        after={"review": review, "codebook": codebook},
        summary=f"opened the comparison of {codebook}",
    )
    return True


def _require_open(session: Session, review: Review, book: Codebook) -> None:
    if not is_open(session, review, book):
        raise Forbidden(
            f"the codings of {book.name} in review {review.name} are not compared yet: the review manager opens the "
            f"comparison first (lmreview coding compare --review {review.name} --codebook {book.name})"
        )


def _coders(applied: list[tuple[str, str, int]], coders: Sequence[str] | None) -> list[str]:
    if coders:
        return list(dict.fromkeys(coders))
    return sorted({c for _, c, _ in applied if c != CONSENSUS})


def agreement(session: Session, review: str, *, codebook: str, coders: Sequence[str] | None = None) -> Agreement:
    found, book = get_review(session, review), get_codebook(session, codebook)
    _require_open(session, found, book)
    applied = _applied(session, found, book)
    names = _coders(applied, coders)
    if len(names) < 2:
        raise LmreviewError(
            f"agreement needs two coders or more; {book.name} has codings by: {', '.join(names) or 'nobody'}"
        )
    given: dict[str, dict[str, set[int]]] = defaultdict(lambda: defaultdict(set))
    for unit, coder, code_id in applied:
        if coder in names:
            given[unit][coder].add(code_id)
    units = sorted(u for u, by in given.items() if all(by.get(c) for c in names))
    code_names = {c.id: c.name for c in book.codes if c.codable}
    per_code = []
    pooled: dict[str, dict[str, str | None]] = {}
    for code_id, name in code_names.items():
        table: dict[str, dict[str, str | None]] = {
            u: {c: "1" if code_id in given[u][c] else "0" for c in names} for u in units
        }
        per_code.append((name, measures(table, names)))
        pooled.update({f"{code_id}|{u}": row for u, row in table.items()})
    groups = []
    for group in session.scalars(select(CodeGroup).where(CodeGroup.codebook_id == book.id, CodeGroup.exclusive)):
        members = {m.code_id for m in group.members}
        nominal: dict[str, dict[str, str | None]] = {
            u: {c: _only(given[u][c] & members, code_names) for c in names} for u in units
        }
        groups.append((group.name, measures(nominal, names)))
    overall = measures(pooled, names)
    overall.units = len(units)
    return Agreement(found.name, book.name, names, per_code, groups, overall, units)


def _only(codes: set[int], names: Mapping[int, str]) -> str | None:
    return names.get(min(codes)) if codes else None


# --- disagreements and consensus -----------------------------------------------------------------------------


@dataclass
class Disagreement:
    unit: str
    text: str
    codes: dict[str, list[str]]  # coder -> code names


def disagreements(
    session: Session, review: str, *, codebook: str, coders: Sequence[str] | None = None
) -> list[Disagreement]:
    """Units where the coders' codes differ, each coder's codes side by side (consensus units left out)."""
    found, book = get_review(session, review), get_codebook(session, codebook)
    _require_open(session, found, book)
    applied = _applied(session, found, book)
    names = _coders(applied, coders)
    code_names = {c.id: c.name for c in book.codes}
    given: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for unit, coder, code_id in applied:
        given[unit][coder].add(code_names[code_id])
    out = []
    for unit in sorted(given):
        if CONSENSUS in given[unit]:
            continue
        row = {c: sorted(given[unit].get(c, set())) for c in names}
        if len({tuple(v) for v in row.values()}) > 1:
            out.append(Disagreement(unit, _unit_text(session, unit), row))
    return out


def _unit_text(session: Session, unit: str) -> str:
    sample = session.scalar(select(Coding.text).where(Coding.unit == unit).limit(1))
    return sample or ""


def consensus(
    session: Session,
    review: str,
    *,
    codebook: str,
    unit: str,
    codes: Sequence[str],
    actor: str,
    reason: str | None = None,
) -> int:
    """Record the consensus of a unit: for each code kept, the coders' segments of it on the unit are copied as
    the consensus coder's (the same span once); returns the number of consensus codings. Audited."""
    from lmreview.coding.codebooks import find_code
    from lmreview.coding.segments import apply_code, resolve_source
    from lmreview.coding.sources import answer_reference

    found, book = get_review(session, review), get_codebook(session, codebook)
    _require_open(session, found, book)
    rows = list(
        session.scalars(
            select(Coding)
            .join(Code, Code.id == Coding.code_id)
            .where(Coding.unit == unit, Code.codebook_id == book.id, _in_review(found))
            .order_by(Coding.coder, Coding.start)
        )
    )
    if not rows:
        raise LmreviewError(f'no coding of {book.name} on the unit "{unit}" in review {found.name}')
    before = {c: sorted({r.code.name for r in rows if r.coder == c}) for c in sorted({r.coder for r in rows})}
    for old in [r for r in rows if r.coder == CONSENSUS]:
        session.delete(old)
    session.flush()
    kept = [find_code(book, name) for name in codes]
    made = 0
    for code in kept:
        spans = sorted({(r.start, r.end) for r in rows if r.code_id == code.id and r.coder != CONSENSUS})
        if not spans:
            raise LmreviewError(f'no coder gave "{code.name}" to this unit; consensus keeps codes the coders gave')
        first = next(r for r in rows if r.code_id == code.id)
        reference = (
            answer_reference(session.get_one(Submission, first.submission_id), first.path or "")
            if first.kind == "answer" and first.submission_id is not None
            else f"item:{first.item_id}"
            if first.kind == "item"
            else str(first.document_id)
        )
        source = resolve_source(session, reference)
        if isinstance(source, str):
            raise LmreviewError(source)
        for start, end in spans:
            apply_code(session, source, code, start, end, coder=CONSENSUS, actor=actor, memo=reason)
            made += 1
    audit.record(
        session,
        actor=actor,
        action="update",
        entity="coding_consensus",
        entity_id=None,
        before={"unit": unit, "codes": before},
        after={"unit": unit, "codes": sorted(c.name for c in kept), "reason": reason},
        summary=f"consensus on {unit}: {', '.join(sorted(c.name for c in kept)) or 'no code'}",
    )
    return made
