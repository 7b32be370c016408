"""Triangulated criteria scores: for each subject (the review, or a project) and criterion, the weighted mean of
the sources' scores, with the unweighted mean and the range beside it, so a reader sees how much the sources agree.

    weighted = Σ weight(source) × score(source) / Σ weight(source)      over the sources with a score and weight > 0

A source rated "not applicable" is left out of both means and counted apart (``not_applicable``). The ILO
evaluation of 2016-2020 (seed 003, §6) weighted its sources 1 (staff survey), 1 (constituents and donors survey),
2 (synthesis report), 1 (P&B results, effectiveness only) and 4 (evaluation team). Read-only: nothing here writes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from lmreview.errors import BadInput, Problem
from lmreview.portfolio.models import Project
from lmreview.questionnaire.models import Review
from lmreview.ratings.models import DAC_CRITERIA, Rating, RatingSource


@dataclass(frozen=True)
class SourceScore:
    source: str
    weight: Decimal
    score: Decimal | None
    label: str | None
    rationale: str | None
    rating_id: int


@dataclass
class CriterionScore:
    criterion: str
    sources: list[SourceScore] = field(default_factory=list)

    @property
    def scored(self) -> list[SourceScore]:
        return [s for s in self.sources if s.score is not None]

    @property
    def weighted(self) -> Decimal | None:
        usable = [s for s in self.scored if s.weight > 0]
        total = sum((s.weight for s in usable), Decimal(0))
        if not total:
            return None
        return sum((s.weight * s.score for s in usable if s.score is not None), Decimal(0)) / total

    @property
    def mean(self) -> Decimal | None:
        scores = [s.score for s in self.scored if s.score is not None]
        return sum(scores, Decimal(0)) / len(scores) if scores else None

    @property
    def low(self) -> Decimal | None:
        return min((s.score for s in self.scored if s.score is not None), default=None)

    @property
    def high(self) -> Decimal | None:
        return max((s.score for s in self.scored if s.score is not None), default=None)

    def as_json(self) -> dict[str, object]:
        return {
            "criterion": self.criterion,
            "n": len(self.scored),
            "not_applicable": len(self.sources) - len(self.scored),
            "weighted": _num(self.weighted),
            "weight_total": _num(sum((s.weight for s in self.scored if s.weight > 0), Decimal(0))),
            "mean": _num(self.mean),
            "min": _num(self.low),
            "max": _num(self.high),
            "sources": [
                {
                    "source": s.source,
                    "weight": _num(s.weight),
                    "score": _num(s.score),
                    "label": s.label,
                    "rationale": s.rationale,
                    "rating_id": s.rating_id,
                }
                for s in self.sources
            ],
        }


@dataclass
class SubjectScores:
    subject: str  # "review" or a project code
    criteria: list[CriterionScore]

    def as_json(self) -> dict[str, object]:
        return {"subject": self.subject, "criteria": [c.as_json() for c in self.criteria]}


@dataclass
class RatingsSummary:
    review: str
    scale: str | None
    levels: list[dict[str, object]]
    weights: dict[str, Decimal]
    subjects: list[SubjectScores]

    def as_json(self) -> dict[str, object]:
        return {
            "review": self.review,
            "scale": self.scale,
            "levels": self.levels,
            "weights": {k: _num(v) for k, v in self.weights.items()},
            "rule": "weighted = sum(weight x score) / sum(weight) over the sources with a score and weight > 0",
            "subjects": [s.as_json() for s in self.subjects],
        }


def _num(value: Decimal | None) -> float | int | None:
    if value is None:
        return None
    return int(value) if value == value.to_integral_value() else float(value)


def _criterion_order(name: str) -> tuple[int, str]:
    return (DAC_CRITERIA.index(name) if name in DAC_CRITERIA else len(DAC_CRITERIA), name)


def ratings_summary(session: Session, review: Review) -> RatingsSummary:
    ratings = list(session.scalars(select(Rating).where(Rating.review_id == review.id)))
    scales = {r.scale.name for r in ratings}
    if len(scales) > 1:
        raise BadInput([Problem(review.name, 0, "-", f"ratings on several scales ({', '.join(sorted(scales))})")])
    codes = dict(
        session.execute(select(Project.id, Project.code).where(Project.portfolio_id == review.portfolio_id)).all()
    )
    weights = {
        s.name: s.weight
        for s in session.scalars(
            select(RatingSource).where(RatingSource.review_id == review.id).order_by(RatingSource.name)
        )
    }
    by_subject: dict[str, dict[str, CriterionScore]] = {}
    levels: list[dict[str, object]] = ratings[0].scale.levels if ratings else []
    labels = {str(level["score"]): str(level["label"]) for level in levels}
    for rating in sorted(ratings, key=lambda r: (r.source.name, r.id)):
        subject = codes.get(rating.project_id, "?") if rating.project_id is not None else "review"
        criteria = by_subject.setdefault(subject, {})
        entry = criteria.setdefault(rating.criterion, CriterionScore(rating.criterion))
        entry.sources.append(
            SourceScore(
                source=rating.source.name,
                weight=rating.source.weight,
                score=rating.score,
                label=labels.get(str(int(rating.score))) if rating.score is not None else "N/A",
                rationale=rating.rationale,
                rating_id=rating.id,
            )
        )
    subjects = [
        SubjectScores(name, sorted(criteria.values(), key=lambda c: _criterion_order(c.criterion)))
        for name, criteria in sorted(by_subject.items(), key=lambda item: (item[0] != "review", item[0]))
    ]
    return RatingsSummary(review.name, next(iter(scales), None), levels, weights, subjects)
