"""Who a tabulation counts: the units (projects, respondents or submissions) and the one submission each is counted
with; the submissions set aside and why; and each used submission evaluated once by the form engine."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from lmreview.analysis.questions import enclosing_repeat
from lmreview.analysis.tabulation import Observation, SetAside
from lmreview.portfolio.models import Project
from lmreview.questionnaire import engine, forms, reviews
from lmreview.questionnaire.models import Form, FormVersion, Respondent, Review, Submission
from lmreview.questionnaire.xlsform import FormDefinition


@dataclass
class Unit:
    key: str
    project: Project | None
    submission: Submission | None = None


def _moment(submission: Submission) -> tuple[dt.datetime, int]:
    when = submission.submitted_at or submission.created_at
    return (when if when.tzinfo else when.replace(tzinfo=dt.UTC)), submission.id


def load_units(
    session: Session, review: Review, definition: FormDefinition
) -> tuple[str, list[Unit], list[SetAside], int]:
    """The unit kind, the units (with the submission each one is counted with), the set-aside submissions and the
    number of drafts."""
    submissions = list(session.scalars(select(Submission).where(Submission.review_id == review.id)))
    submitted = [s for s in submissions if s.status == "submitted"]
    kept = [s for s in submitted if s.review_state != "rejected"]
    asks = [q for q in definition.walk() if q.name == "project_code" and enclosing_repeat(definition, q) is None]
    projects = {p.id: p for p in reviews.review_projects(session, review)}

    def typed(s: Submission) -> str | None:  # the project code written in a submission, to say what it was
        code = engine.get_path(s.data, asks[0].path) if asks else None
        return code if isinstance(code, str) and code else None

    if asks and review.portfolio_id is not None:
        kind, missing = "project", "its project is not in the review's portfolio"
        units = [Unit(p.code, p) for p in projects.values()]
    else:
        roster = select(Respondent).where(Respondent.review_id == review.id).order_by(Respondent.id)
        people = list(session.scalars(roster))
        ids = [i for i in {r.project_id for r in people} | {s.project_id for s in kept} if i is not None]
        projects = {p.id: p for p in session.scalars(select(Project).where(Project.id.in_(ids)))} if ids else {}
        if people:
            kind, missing = "respondent", "it comes from no respondent of the review's roster"
            units = [Unit(f"respondent:{r.id}", projects.get(r.project_id or 0)) for r in people]
        else:
            kind, missing = "submission", ""
            units = [Unit(s.instance_id, projects.get(s.project_id or 0)) for s in sorted(kept, key=lambda s: s.id)]

    def unit_of(s: Submission) -> str | None:
        if kind == "project":
            return projects[s.project_id].code if s.project_id in projects else None
        if kind == "respondent":
            return f"respondent:{s.respondent_id}" if s.respondent_id is not None else None
        return s.instance_id

    by_key = {u.key: u for u in units}
    set_aside: list[SetAside] = []
    for s in sorted(submitted, key=_moment, reverse=True):  # newest first: the first one a unit gets is its newest
        key = unit_of(s)
        unit = by_key.get(key) if key is not None else None
        if s.review_state == "rejected":
            set_aside.append(SetAside(s.instance_id, key or typed(s), "rejected by a reviewer"))
        elif unit is None:
            set_aside.append(SetAside(s.instance_id, typed(s), missing))
        elif unit.submission is None:
            unit.submission = s
        else:
            reason = f"an older submission of the same {kind}; the newest, {unit.submission.instance_id}, is used"
            set_aside.append(SetAside(s.instance_id, key, reason))
    set_aside.sort(key=lambda a: (a.unit or "", a.submission))
    return kind, units, set_aside, len(submissions) - len(submitted)


UNIT_RULES = {
    "project": "one unit per project of the review's portfolio",
    "respondent": "one unit per respondent of the review's roster",
    "submission": "one unit per submission of the review (it has no portfolio and no roster)",
}


def load_form_units(session: Session, form: Form) -> tuple[str, list[Unit], list[SetAside], int]:
    """For a form no review uses (a respondent-level survey imported with ``--form`` alone): every submitted
    submission of the form is one respondent, as :func:`load_units` returns them."""
    query = select(Submission).join(FormVersion, Submission.form_version_id == FormVersion.id)
    submissions = list(session.scalars(query.where(FormVersion.form_id == form.id).order_by(Submission.id)))
    submitted = [s for s in submissions if s.status == "submitted"]
    ids = [s.project_id for s in submitted if s.project_id is not None]
    projects = {p.id: p for p in session.scalars(select(Project).where(Project.id.in_(ids)))} if ids else {}
    units = [Unit(s.instance_id, projects.get(s.project_id or 0), s) for s in submitted if s.review_state != "rejected"]
    rejected = [s for s in submitted if s.review_state == "rejected"]
    set_aside = [SetAside(s.instance_id, s.instance_id, "rejected by a reviewer") for s in rejected]
    return "respondent", units, set_aside, len(submissions) - len(submitted)


# --- observing answers -----------------------------------------------------------------------------------------------


class Observer:
    """Evaluates each used submission once, with the form version it was made with, and reads questions from it."""

    def __init__(self, units: list[Unit]) -> None:
        self.evaluations: dict[str, tuple[FormDefinition, engine.Evaluation]] = {}
        definitions: dict[int, FormDefinition] = {}
        for unit in units:
            s = unit.submission
            if s is None:
                continue
            if s.form_version_id not in definitions:
                definitions[s.form_version_id] = forms.definition_of(s.form_version)
            definition = definitions[s.form_version_id]
            self.evaluations[unit.key] = (definition, engine.evaluate(definition, s.data))

    def observe(self, unit: str, path: str, in_repeat: bool) -> list[Observation]:
        definition, evaluation = self.evaluations[unit]
        if path not in definition.by_path():  # not in the version this unit answered: it was not asked
            return [] if in_repeat else [Observation(unit, path, "not_relevant", "", False)]
        found = []
        for f in evaluation.fields.values():
            if f.question.path != path:
                continue
            value = f.value.strip()
            state = "not_relevant" if not f.relevant else ("answered" if value else "skipped")
            found.append(Observation(unit, f.path, state, value if state == "answered" else "", in_repeat))
        return found
