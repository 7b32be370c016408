"""Auto-coding as suggestions only: a keyword or regular-expression rule proposes spans of a review's answers,
documents and extracted items for a code; nothing is coded until a coder accepts a proposal (on the coding page,
with ``coding suggest --ask``, or by importing the file of suggestions after deleting the rows they reject)."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lmreview.coding.codebooks import find_code, get_codebook
from lmreview.coding.models import Coding, Rejection
from lmreview.coding.sources import document_text
from lmreview.coding.units import review_answers, review_documents, review_items
from lmreview.errors import LmreviewError
from lmreview.questionnaire.reviews import get_review
from lmreview.store import audit

MAX_SUGGESTIONS = 5000


@dataclass
class Suggestion:
    source: str
    start: int
    end: int
    code: str
    coder: str
    text: str
    context: str


MAX_RULE = 1000  # characters of a keyword list or a pattern


def _pattern(rule: str, regex: bool) -> Any:
    """The compiled rule. A coder's regular expression runs on RE2 (linear time, whatever the pattern): with Python's
    backtracking ``re``, ``(a+)+$`` over a long answer would hold the server for minutes. Keyword lists are escaped
    by lmreview and keep ``re`` (Unicode word characters: "migración" matches "migr")."""
    if not rule.strip():
        raise LmreviewError("give a keyword or a pattern to look for")
    if len(rule) > MAX_RULE:
        raise LmreviewError(f"the rule is {len(rule)} characters long; at most {MAX_RULE} are read")
    if regex:
        import re2

        options = re2.Options()
        options.case_sensitive = False
        options.log_errors = False
        try:
            return re2.compile(rule, options)
        except re2.error as exc:
            reason = exc.args[0].decode(errors="replace") if exc.args and isinstance(exc.args[0], bytes) else exc
            raise LmreviewError(
                f"the pattern {rule!r} is not a regular expression lmreview can run (RE2: {reason}); "
                "look-arounds and back-references are not available"
            ) from None
    words = [re.escape(w.strip()).replace(r"\ ", r"\s+") for w in rule.split(",") if w.strip()]
    if not words:
        raise LmreviewError("give a keyword or a pattern to look for")
    return re.compile(r"\b(?:" + "|".join(words) + r")\w*", re.IGNORECASE)


def suggest(
    session: Session,
    review: str,
    *,
    codebook: str,
    code: str,
    rule: str,
    coder: str,
    regex: bool = False,
    sources: Collection[str] | None = None,
) -> list[Suggestion]:
    """Spans of the review's answers and documents that the rule finds and that ``coder`` has not coded with the
    code already. ``rule`` is keywords separated by commas (matched at word starts, any ending), or a regular
    expression with ``regex``. ``sources`` (answer references, document ids) limits the search to those texts: the
    ones a coding page shows."""
    found_review, book = get_review(session, review), get_codebook(session, codebook)
    target = find_code(book, code)
    pattern = _pattern(rule, regex)
    done = {
        (u, s, e)
        for u, s, e in session.execute(
            select(Coding.unit, Coding.start, Coding.end).where(Coding.code_id == target.id, Coding.coder == coder)
        ).all()
    }
    coded_answers = {u.split(":", 2)[1] + ":" + u.split(":", 2)[2] for u, _, _ in done if u.startswith("answer:")}
    rejected = {(source, a, b, text) for _, source, a, b, text in _rejections(session, [target.id], coder)}
    out: list[Suggestion] = []

    def add(reference: str, text: str, key: str | None) -> None:
        for match in pattern.finditer(text):
            if match.end() <= match.start():
                continue
            if key is not None and key in coded_answers:
                return
            if (reference, match.start(), match.end(), match[0]) in rejected:
                continue
            context = text[max(0, match.start() - 40) : match.end() + 40].replace("\n", " ")
            out.append(Suggestion(reference, match.start(), match.end(), target.name, coder, match[0], context))
            if len(out) >= MAX_SUGGESTIONS:
                raise LmreviewError(f"the rule finds more than {MAX_SUGGESTIONS} spans; make it narrower")

    for answer in review_answers(session, found_review):
        if sources is not None and answer.reference not in sources:
            continue
        add(answer.reference, answer.text, f"{answer.submission_id}:{answer.path}")
    coded_spans = {
        (d, s, e)
        for d, s, e in session.execute(
            select(Coding.document_id, Coding.start, Coding.end).where(
                Coding.code_id == target.id, Coding.coder == coder, Coding.document_id.is_not(None)
            )
        ).all()
    }
    coded_items = {u for u, _, _ in done if u.startswith("item:")}
    for item in review_items(session, found_review):
        if (sources is None or item.reference in sources) and item.reference not in coded_items:
            add(item.reference, item.text, None)
    for document in review_documents(session, found_review):
        if sources is not None and str(document.id) not in sources:
            continue
        before = len(out)
        add(str(document.id), document_text(session, document.id)[0], None)
        out[before:] = [s for s in out[before:] if (document.id, s.start, s.end) not in coded_spans]
    return out


def accept(session: Session, suggestion: Suggestion, *, codebook: str, actor: str) -> Coding:
    """Code what a suggestion proposes, for its coder, with the memo "suggested" (the coder accepted it)."""
    from lmreview.coding.segments import apply_code, resolve_source

    source = resolve_source(session, suggestion.source)
    if isinstance(source, str):
        raise LmreviewError(source)
    code = find_code(get_codebook(session, codebook), suggestion.code)
    return apply_code(
        session, source, code, suggestion.start, suggestion.end, coder=suggestion.coder, actor=actor, memo="suggested"
    )


def _rejections(session: Session, code_ids: Collection[int], coder: str) -> list[tuple[int, str, int, int, str]]:
    """(code id, source, start, end, text) of what ``coder`` rejected for those codes."""
    rows = session.execute(
        select(Rejection.code_id, Rejection.source, Rejection.start, Rejection.end, Rejection.text).where(
            Rejection.coder == coder, Rejection.code_id.in_(list(code_ids))
        )
    )
    return [(c, s, a, b, t) for c, s, a, b, t in rows]


def reject(session: Session, suggestion: Suggestion, *, codebook: str, actor: str) -> Rejection:
    """Remember that the coder rejected the suggestion: it is not proposed to them again while the source holds the
    same text at that span. The text is read from the source, not taken from the caller; audited."""
    from lmreview.coding.segments import resolve_source

    source = resolve_source(session, suggestion.source)
    if isinstance(source, str):
        raise LmreviewError(source)
    code = find_code(get_codebook(session, codebook), suggestion.code)
    if not 0 <= suggestion.start < suggestion.end <= len(source.text):
        raise LmreviewError(
            f"the span {suggestion.start}-{suggestion.end} is outside the text of {source.label} "
            f"(0-{len(source.text)}, end exclusive)"
        )
    text = source.text[suggestion.start : suggestion.end]
    found = session.scalar(
        select(Rejection).where(
            Rejection.code_id == code.id,
            Rejection.coder == suggestion.coder,
            Rejection.source == suggestion.source,
            Rejection.start == suggestion.start,
            Rejection.end == suggestion.end,
        )
    )
    if found is not None:
        found.text = text
        return found
    rejection = Rejection(
        code_id=code.id,
        coder=suggestion.coder,
        source=suggestion.source,
        start=suggestion.start,
        end=suggestion.end,
        text=text,
        actor=actor,
    )
    session.add(rejection)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="create",
        entity="coding_rejection",
        entity_id=rejection.id,
        after={"code": code.name, "coder": suggestion.coder, "source": suggestion.source, "text": text},
        summary=f'{suggestion.coder} rejected the suggestion "{text[:60]}" as {code.name}',
    )
    return rejection


def forget_rejections(session: Session, *, codebook: str, coder: str, actor: str, code: str | None = None) -> int:
    """Forget what ``coder`` rejected in the codebook (or for one code of it): those spans are proposed again."""
    book = get_codebook(session, codebook)
    ids = [find_code(book, code).id] if code else [c.id for c in book.codes]
    rows = list(session.scalars(select(Rejection).where(Rejection.coder == coder, Rejection.code_id.in_(ids))))
    for row in rows:
        session.delete(row)
    if rows:
        audit.record(
            session,
            actor=actor,
            action="delete",
            entity="coding_rejection",
            entity_id=None,
            before={"codebook": book.name, "code": code, "coder": coder, "rejections": len(rows)},
            summary=f"forgot {len(rows)} suggestions {coder} had rejected in codebook {book.name}",
        )
    return len(rows)


def suggestions_csv(rows: list[Suggestion]) -> bytes:
    """The suggestions as a codings file that ``lmreview coding import`` reads once the rejected rows are deleted."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(["source", "start", "end", "code", "coder", "memo", "text"])
    for s in rows:
        writer.writerow([s.source, s.start, s.end, s.code, s.coder, "suggested", s.text])
    return buffer.getvalue().encode("utf-8")


def from_earlier(
    session: Session, review: str, *, codebook: str, coder: str, sources: Collection[str] | None = None
) -> list[Suggestion]:
    """Codes the coder gave a passage earlier, proposed for every passage of the review's documents with the same
    text (a paragraph a brief repeats from its report, a report added twice in two versions), at the same place;
    ``sources`` (document ids) limits the proposals to those documents."""
    from lmreview.coding.models import Code
    from lmreview.evidence.models import Page, Passage

    found_review, book = get_review(session, review), get_codebook(session, codebook)
    cache: dict[int, tuple[str, dict[int, int]]] = {}

    def text_of(document_id: int) -> tuple[str, dict[int, int]]:
        if document_id not in cache:
            text, starts = document_text(session, document_id)
            numbers = list(
                session.scalars(select(Page.number).where(Page.document_id == document_id).order_by(Page.number))
            )
            cache[document_id] = (text, dict(zip(numbers, starts, strict=True)))
        return cache[document_id]

    def span(passage: Passage) -> tuple[int, int, str]:
        text, bases = text_of(passage.document_id)
        start = bases.get(passage.page, 0) + passage.char_start
        end = bases.get(passage.page, 0) + passage.char_end
        return start, end, text[start:end]

    earlier: dict[str, list[tuple[str, int, int, int]]] = {}
    coded = session.execute(
        select(Coding, Passage, Code.name, Code.id)
        .join(Passage, Passage.id == Coding.passage_id)
        .join(Code, Code.id == Coding.code_id)
        .where(Coding.coder == coder, Code.codebook_id == book.id)
    ).all()
    have: set[tuple[int, str]] = set()
    for coding, passage, name, code_id in coded:
        start, end, text = span(passage)
        if start <= coding.start and coding.end <= end and text.strip():
            earlier.setdefault(text, []).append((name, code_id, coding.start - start, coding.end - start))
        have.add((passage.id, name))
    rejected = set(_rejections(session, [c.id for c in book.codes], coder))
    out: list[Suggestion] = []
    for document in review_documents(session, found_review):
        if sources is not None and str(document.id) not in sources:
            continue
        for passage in session.scalars(select(Passage).where(Passage.document_id == document.id).order_by(Passage.seq)):
            start, end, text = span(passage)
            for name, code_id, a, b in earlier.get(text, []):
                if (passage.id, name) in have or (
                    code_id,
                    str(document.id),
                    start + a,
                    start + b,
                    text[a:b],
                ) in rejected:
                    continue
                have.add((passage.id, name))
                out.append(
                    Suggestion(
                        str(document.id), start + a, start + b, name, coder, text[a:b], text[:80].replace("\n", " ")
                    )
                )
    return out
