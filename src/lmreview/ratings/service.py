"""Entering criteria ratings: the shipped scales, a review's sources and weights, and the import of a ratings file.

A ratings file (CSV or XLSX) has one score per row:

| column | meaning |
|---|---|
| ``subject`` | a project code of the review's portfolio, or empty / ``review`` for the review as a whole |
| ``criterion`` | relevance, coherence, effectiveness, efficiency, impact, sustainability (or another name) |
| ``source`` | where the score comes from, e.g. ``staff survey``, ``evaluation team`` |
| ``score`` | a level of the scale, as a number (``5``) or its label (``satisfactory``), or ``N/A`` |
| ``rationale`` | why (optional) |
| ``weight`` | the source's weight (optional; the same on every row of a source) |

Importing is one transaction, with every error at ``FILE:ROW:COLUMN``. A score for the same subject, criterion and
source replaces the earlier one (and the audit log keeps it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lmreview.errors import BadInput, NotFound, Problem
from lmreview.questionnaire.models import Review
from lmreview.questionnaire.reviews import projects_by_code
from lmreview.ratings.models import Rating, RatingScale, RatingSource
from lmreview.store import audit
from lmreview.tables import normalise_header, read_table

SCALES: dict[str, tuple[str, list[tuple[int, str]]]] = {
    "six-point": (
        "Six-point scale (ILO evaluations)",
        [
            (1, "highly unsatisfactory"),
            (2, "unsatisfactory"),
            (3, "somewhat unsatisfactory"),
            (4, "somewhat satisfactory"),
            (5, "satisfactory"),
            (6, "highly satisfactory"),
        ],
    ),
    "four-level": (
        "Four levels (IOM ex-post evaluations)",
        [(1, "weak"), (2, "acceptable"), (3, "adequate"), (4, "good")],
    ),
}
NOT_APPLICABLE = {"n/a", "na", "not applicable", "-"}
REVIEW_SUBJECTS = {"", "review", "overall", "portfolio"}
COLUMNS = ("subject", "criterion", "source", "score", "rationale", "weight")
MAX_WEIGHT = Decimal(1000)
MAX_NUMBER = Decimal(10**6)  # scores and weights larger than this are typing mistakes (and overflow the sums)


@dataclass
class RatingsImport:
    created: int = 0
    replaced: int = 0
    unchanged: int = 0
    sources: dict[str, Decimal] = field(default_factory=dict)
    warnings: list[Problem] = field(default_factory=list)


def scale(session: Session, name: str) -> RatingScale:
    """A shipped scale, created in the store on first use."""
    found = session.scalar(select(RatingScale).where(RatingScale.name == name))
    if found is not None:
        return found
    if name not in SCALES:
        known = sorted({*SCALES, *session.scalars(select(RatingScale.name))})
        raise NotFound(f"there is no rating scale {name!r}; scales: {', '.join(known)}")
    title, levels = SCALES[name]
    found = RatingScale(name=name, title=title, levels=[{"score": s, "label": lb} for s, lb in levels], allows_na=True)
    session.add(found)
    session.flush()
    return found


def parse_score(text: str, levels: list[dict[str, Any]], allows_na: bool = True) -> Decimal | None:
    """A score: a level's number or label (any case), or N/A (None); ValueError says what the scale accepts."""
    value = text.strip()
    if value.casefold() in NOT_APPLICABLE:
        if not allows_na:
            raise ValueError(f'"{text}": this scale has no N/A; give a score')
        return None
    for level in levels:
        if value.casefold() == str(level["label"]).casefold():
            return Decimal(level["score"])
    number = _finite(value)
    scores = [Decimal(level["score"]) for level in levels]
    if number is not None and number in scores:
        return number
    allowed = ", ".join(f"{level['score']} ({level['label']})" for level in levels)
    raise ValueError(f'"{text}" is not on the scale; use one of {allowed}, or N/A')


def _finite(text: str) -> Decimal | None:
    """``text`` as a finite Decimal of modest size, or None ("NaN", "inf", "1e308" and words are not numbers here)."""
    try:
        number = Decimal(text.strip())
    except InvalidOperation:
        return None
    if not number.is_finite() or abs(number) > MAX_NUMBER:
        return None
    return number


def _weight(text: str) -> Decimal:
    weight = _finite(text)
    if weight is None:
        raise ValueError(f'"{text}" is not a weight; write a number from 0 to {MAX_WEIGHT} such as 1 or 2.5')
    if weight < 0 or weight > MAX_WEIGHT or weight != weight.quantize(Decimal("0.0001")):
        raise ValueError(f'"{text}" is not a weight: 0 to {MAX_WEIGHT}, at most 4 decimals')
    return weight


def import_ratings(
    session: Session, review: Review, data: bytes, filename: str, *, actor: str, scale_name: str = "six-point"
) -> RatingsImport:
    table = read_table(data, filename)
    chosen = scale(session, scale_name)
    columns: dict[str, int] = {}
    problems: list[Problem] = []
    for index, raw in enumerate(table.header):
        key = normalise_header(raw)
        if key in COLUMNS:
            columns[key] = index
        elif raw:
            problems.append(Problem(filename, table.header_row, raw, "unknown column; ignored", severity="warning"))
    for required in ("criterion", "source", "score"):
        if required not in columns:
            problems.append(Problem(filename, table.header_row, "-", f"the file needs a {required} column"))
    if any(p.severity == "error" for p in problems):
        raise BadInput(problems)
    projects = projects_by_code(session, review)
    used = {r.scale_id for r in session.scalars(select(Rating).where(Rating.review_id == review.id))}
    if used - {chosen.id}:
        problems.append(
            Problem(filename, 0, "-", f"review {review.name} is rated on another scale; use the same --scale")
        )
    weights: dict[str, tuple[Decimal, int]] = {}
    rows: list[tuple[int, dict[str, Any]]] = []
    seen: dict[tuple[str, str, str], int] = {}
    header = {c: table.header[i] for c, i in columns.items()}
    for number, cells in table.rows:
        values = {c: cells[i].strip() for c, i in columns.items()}
        row: dict[str, Any] = {"criterion": values["criterion"].casefold(), "source": values["source"]}
        subject = values.get("subject", "")
        if subject.casefold() in REVIEW_SUBJECTS:
            row["project"] = None
        elif subject.casefold() in projects:
            row["project"] = projects[subject.casefold()]
        else:
            problems.append(Problem(filename, number, header["subject"], f'"{subject}" is not a project of the review'))
        for column in ("criterion", "source"):
            if not values[column]:
                problems.append(Problem(filename, number, header[column], f"the {column} is empty"))
            elif len(values[column]) > (60 if column == "criterion" else 120):
                problems.append(Problem(filename, number, header[column], f"the {column} is too long"))
        try:
            row["score"] = parse_score(values["score"], chosen.levels, chosen.allows_na)
        except ValueError as exc:
            problems.append(Problem(filename, number, header["score"], str(exc)))
        if values.get("weight"):
            try:
                weight = _weight(values["weight"])
                earlier = weights.get(values["source"])
                if earlier is not None and earlier[0] != weight:
                    problems.append(
                        Problem(
                            filename,
                            number,
                            header["weight"],
                            f"source {values['source']!r} has weight {earlier[0]} on row {earlier[1]}; "
                            "one weight per source",
                        )
                    )
                weights.setdefault(values["source"], (weight, number))
            except ValueError as exc:
                problems.append(Problem(filename, number, header["weight"], str(exc)))
        rated = (subject.casefold(), row["criterion"], values["source"].casefold())
        if rated in seen:
            message = f"the same subject, criterion and source as row {seen[rated]}"
            problems.append(Problem(filename, number, "-", message))
        seen.setdefault(rated, number)
        row["rationale"] = values.get("rationale") or None
        rows.append((number, row))
    if any(p.severity == "error" for p in problems):
        raise BadInput(problems)
    result = RatingsImport(warnings=[p for p in problems if p.severity == "warning"])
    sources = {
        s.name.casefold(): s for s in session.scalars(select(RatingSource).where(RatingSource.review_id == review.id))
    }
    for name, (weight, _row) in weights.items():
        source = sources.get(name.casefold())
        if source is None:
            source = RatingSource(review_id=review.id, name=name, weight=weight)
            session.add(source)
            sources[name.casefold()] = source
        source.weight = weight
    for _number, row in rows:
        source = sources.get(row["source"].casefold())
        if source is None:
            source = RatingSource(review_id=review.id, name=row["source"], weight=Decimal(1))
            session.add(source)
            sources[row["source"].casefold()] = source
    session.flush()
    existing = {
        (r.project_id, r.criterion, r.source_id): r
        for r in session.scalars(select(Rating).where(Rating.review_id == review.id))
    }
    for _number, row in rows:
        project_id = row["project"].id if row["project"] is not None else None
        source = sources[row["source"].casefold()]
        found = existing.get((project_id, row["criterion"], source.id))
        if found is None:
            session.add(
                Rating(
                    review_id=review.id,
                    project_id=project_id,
                    criterion=row["criterion"],
                    source_id=source.id,
                    scale_id=chosen.id,
                    score=row["score"],
                    rationale=row["rationale"],
                    actor=actor,
                )
            )
            result.created += 1
        elif found.score == row["score"] and found.rationale == row["rationale"]:
            result.unchanged += 1
        else:
            found.score, found.rationale, found.actor = row["score"], row["rationale"], actor
            result.replaced += 1
    result.sources = {s.name: s.weight for s in sources.values()}
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="update",
        entity="review",
        entity_id=review.id,
        after={"ratings": filename, "created": result.created, "replaced": result.replaced},
        summary=f"imported ratings from {filename}: {result.created} added, {result.replaced} replaced",
    )
    return result


def set_weights(session: Session, review: Review, weights: dict[str, str], *, actor: str) -> dict[str, Decimal]:
    """Set the weights of sources (``{"staff survey": "1"}``); a new name adds a source."""
    sources = {
        s.name.casefold(): s for s in session.scalars(select(RatingSource).where(RatingSource.review_id == review.id))
    }
    problems = []
    parsed: dict[str, Decimal] = {}
    for name, text in weights.items():
        try:
            parsed[name] = _weight(text)
        except ValueError as exc:
            problems.append(Problem(name, 0, "weight", str(exc)))
    if problems:
        raise BadInput(problems)
    before = {s.name: str(s.weight) for s in sources.values()}
    for name, weight in parsed.items():
        source = sources.get(name.casefold())
        if source is None:
            source = RatingSource(review_id=review.id, name=name, weight=weight)
            session.add(source)
            sources[name.casefold()] = source
        source.weight = weight
    session.flush()
    after = {s.name: str(s.weight) for s in sources.values()}
    audit.record(
        session,
        actor=actor,
        action="update",
        entity="review",
        entity_id=review.id,
        before={"weights": before},
        after={"weights": after},
        summary="changed the weights of rating sources",
    )
    return {s.name: s.weight for s in sources.values()}


def list_scales(session: Session) -> list[RatingScale]:
    """The shipped scales and those a review team added, by name."""
    for name in SCALES:
        scale(session, name)
    return list(session.scalars(select(RatingScale).order_by(RatingScale.name)))


def add_scale(
    session: Session, name: str, levels: list[str], *, actor: str, title: str | None = None, allows_na: bool = True
) -> RatingScale:
    """A new scale from levels written ``SCORE=label`` (``1=weak``), lowest first; refused if the name is taken."""
    problems: list[Problem] = []
    clean = name.strip()
    if not re.fullmatch(r"[a-z0-9][a-z0-9_.-]{0,79}", clean):
        problems.append(Problem(name, 0, "name", "a scale name is lower-case letters, digits, '-', '_' or '.'"))
    elif clean in SCALES or session.scalar(select(RatingScale.id).where(RatingScale.name == clean)) is not None:
        problems.append(Problem(name, 0, "name", f"there is already a scale {clean!r}"))
    parsed: list[dict[str, Any]] = []
    for text in levels:
        score, sep, label = text.partition("=")
        number = _finite(score)
        if not sep or number is None or not label.strip() or number != number.to_integral_value():
            problems.append(
                Problem(
                    text, 0, "level", f"write each level as SCORE=label with a whole score up to {MAX_NUMBER}: 1=weak"
                )
            )
            continue
        parsed.append({"score": int(number), "label": " ".join(label.split())})
    scores = [level["score"] for level in parsed]
    labels = [str(level["label"]).casefold() for level in parsed]
    if len(parsed) < 2:
        problems.append(Problem(name, 0, "level", "a scale has at least two levels"))
    elif scores != sorted(set(scores)) or len(set(labels)) != len(labels):
        problems.append(Problem(name, 0, "level", "give the levels lowest first, each score and label once"))
    if problems:
        raise BadInput(problems)
    created = RatingScale(name=clean, title=title or clean, levels=parsed, allows_na=allows_na)
    session.add(created)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="create",
        entity="rating_scale",
        entity_id=created.id,
        after={"name": clean, "levels": parsed, "allows_na": allows_na},
        summary=f"added the rating scale {clean}",
    )
    return created
