"""Submissions: a respondent's draft and submission, reviewers' edits and review states.

* A respondent's link opens one submission per review: a draft, pre-filled with the project code (and title,
  when the form asks for it), saved as often as they like and submitted once. Drafts keep everything typed, even
  answers a later choice made irrelevant; a submission keeps only relevant answers, as ODK does.
* Reviewers change a submitted answer only with a reason; each change is a :class:`SubmissionChange` (path, old,
  new, who, when, why), and the submission keeps its ``original`` document for exports of the original values.
* Review states follow ODK Central: received, has_issues, approved, rejected, each with an optional comment.
"""

from __future__ import annotations

import copy
import datetime as dt
import functools
import re
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, Update, bindparam, func, or_, select, update
from sqlalchemy.orm import Session, defer, joinedload
from sqlalchemy.orm.attributes import set_committed_value

from lmreview.errors import BadInput, Conflict, NotFound, Problem
from lmreview.portfolio.models import Project
from lmreview.questionnaire import engine, exchange, form_types, forms, media, responses, reviews
from lmreview.questionnaire.models import (
    REVIEW_STATES,
    Form,
    FormVersion,
    Respondent,
    Review,
    Submission,
    SubmissionChange,
    SubmissionComment,
)
from lmreview.questionnaire.xlsform import FormDefinition, Question
from lmreview.store import audit
from lmreview.store.base import check_value, get_row, utcnow
from lmreview.text import is_number

PREFILL = {"project_code": "code", "project_title": "title"}
# The form version of a submission without its big columns (the source file, the XForm, the definition JSON, which
# the joined relationship would otherwise read and decode on every save); :func:`definition` reads it once.
_LIGHT_VERSION = joinedload(Submission.form_version).load_only(
    FormVersion.id, FormVersion.form_id, FormVersion.version, FormVersion.sha256, FormVersion.filename
)


@dataclass
class Saved:
    submission: Submission
    evaluation: engine.Evaluation
    submitted: bool


_DEFINITIONS: OrderedDict[tuple[int, str, str], FormDefinition] = OrderedDict()
_DEFINITIONS_MAX = 64
_LOCK = threading.Lock()


def known_definition(version_id: int, sha256: str, version: str) -> FormDefinition | None:
    """The definition :func:`definition` has already read for this form version, if it has."""
    with _LOCK:
        return _DEFINITIONS.get((version_id, sha256, version))


def definition(submission: Submission) -> FormDefinition:
    """The definition of the submission's form version, read once per version for the process: a stored version
    never changes (a new file is a new version), and a respondent's every save reads it (treat it as read-only)."""
    version = submission.form_version
    key = (version.id, version.sha256, version.version)
    with _LOCK:
        found = _DEFINITIONS.get(key)
    if found is None:
        found = forms.definition_of(version)
        with _LOCK:
            _DEFINITIONS[key] = found
            while len(_DEFINITIONS) > _DEFINITIONS_MAX:
                _DEFINITIONS.popitem(last=False)
    return found


def previous_submission(session: Session, form_id: int, respondent: Respondent) -> dict[str, Any]:
    """The answers of the respondent's previous submission of the form (any version, any review): the newest
    submitted by this respondent or by a respondent with the same e-mail address; {} if none. What
    ``${last-saved#name}`` defaults read."""
    same_person = Submission.respondent_id == respondent.id
    if respondent.email:
        people = select(Respondent.id).where(func.lower(Respondent.email) == respondent.email.lower())
        same_person = or_(same_person, Submission.respondent_id.in_(people))
    query = (
        select(Submission.data)
        .join(FormVersion, FormVersion.id == Submission.form_version_id)
        .where(FormVersion.form_id == form_id, Submission.status == "submitted", same_person)
        .order_by(Submission.submitted_at.desc(), Submission.id.desc())
        .limit(1)
    )
    found = session.scalar(query)
    return dict(found) if isinstance(found, Mapping) else {}


def last_saved(session: Session, form_id: int, respondent: Respondent) -> dict[str, str]:
    """The previous submission's answers by question name, through groups (see :func:`previous_submission`)."""
    return engine.answers_by_name(previous_submission(session, form_id, respondent))


def previous_for(session: Session, submission: Submission, definition: FormDefinition) -> dict[str, Any] | None:
    """The respondent's previous submission when the form reads ``${last-saved#…}`` (None when it does not, or when
    the submission has no respondent)."""
    if not engine.uses_last_saved(definition) or submission.respondent_id is None:
        return None
    respondent = session.get(Respondent, submission.respondent_id)
    if respondent is None:
        return None
    return previous_submission(session, submission.form_version.form_id, respondent)


def new_instances(previous: Mapping[str, Any] | None) -> Callable[[Question, str], dict[str, Any]]:
    """How the respondent's page makes a new repeat instance (Add, or one a ``repeat_count`` asks for): with its
    defaults, and ``${last-saved#name}`` read in the same instance of ``previous`` (:func:`previous_for`)."""

    def make(repeat: Question, instance_path: str) -> dict[str, Any]:
        return engine.instance_defaults(repeat, instance_path, previous)

    return make


def _prefill(
    definition: FormDefinition, project: Project | None, respondent: Respondent, previous: Mapping[str, str]
) -> dict[str, Any]:
    data: dict[str, Any] = engine.with_defaults(definition.survey, last_saved=previous)
    for q in definition.walk():
        if "[" in q.path or q.type in ("group", "repeat"):
            continue
        if q.name == "project_code" and (project or respondent.project_code):
            engine.set_path(data, q.path, project.code if project else respondent.project_code)
        elif q.name == "project_title" and project is not None:
            engine.set_path(data, q.path, project.title)
        elif q.name in ("respondent_name", "name_of_respondent"):
            engine.set_path(data, q.path, respondent.name)
    return data


def for_respondent(session: Session, review: Review, respondent: Respondent, *, create: bool = True) -> Submission:
    """The respondent's submission for the review. Before they first save, a new draft (pre-filled, on the
    review's newest form version) that is stored only with ``create``: opening a link is not answering."""
    mine = select(Submission).where(Submission.respondent_id == respondent.id, Submission.review_id == review.id)
    found = session.scalar(mine.options(_LIGHT_VERSION))
    if found is not None:
        return found
    if review.form is None:
        raise NotFound("this review has no questionnaire yet; the review team has to choose one")
    version = forms.latest_version(review.form)
    project = session.get(Project, respondent.project_id) if respondent.project_id else None
    definition = forms.definition_of(version)
    previous = last_saved(session, review.form.id, respondent) if engine.uses_last_saved(definition) else {}
    submission = Submission(
        instance_id=f"uuid:{uuid.uuid4()}",
        form_version_id=version.id,
        form_version=version,
        review_id=review.id,
        respondent_id=respondent.id,
        project_id=respondent.project_id,
        status="draft",
        review_state="received",
        source="web",
        data=_prefill(definition, project, respondent, previous),
        meta={},
    )
    if create:
        session.add(submission)
        session.flush()
    return submission


def save(
    session: Session,
    submission: Submission,
    data: dict[str, Any],
    *,
    submit: bool,
    language: str | None = None,
    new: engine.NewInstances | None = None,
    previous: Mapping[str, Any] | None = None,
) -> Saved:
    """Save a draft, or submit when ``submit`` and there is no error left (else the draft is saved with them).
    ``new``: how a repeat instance a ``repeat_count`` asks for is made (:func:`new_instances`); ``previous``: what
    ``${last-saved#…}`` reads (:func:`previous_for`)."""
    if submission.status == "submitted":
        when = submission.submitted_at.date().isoformat() if submission.submitted_at else "earlier"
        raise Conflict(f"this questionnaire was submitted on {when}; it cannot be changed from this link")
    form = definition(submission)
    evaluation = engine.evaluate(form, data, language=language, new_instances=new, previous=previous)
    submitted = submit and not evaluation.errors
    if submitted:
        submission.data = evaluation.data
        submission.original = copy.deepcopy(evaluation.data)
        submission.status = "submitted"
        submission.submitted_at = utcnow()
    else:
        submission.data = data
    session.flush()
    return Saved(submission, evaluation, submitted)


def save_draft(session: Session, submission: Submission, data: dict[str, Any]) -> Submission:
    """Keep ``data`` as the draft, without judging it: what a background save needs (a draft keeps every answer
    until it is submitted, and :func:`save` judges them when the respondent presses a button)."""
    if submission.status != "draft":
        raise Conflict("this questionnaire was submitted; it cannot be changed from this link")
    if not store_draft(session, submission.id, data):
        raise Conflict("this questionnaire was submitted; it cannot be changed from this link")
    set_committed_value(submission, "data", data)
    return submission


def store_draft(session: Session, submission_id: int, data: dict[str, Any]) -> bool:
    """One UPDATE of the one column a draft save changes, checked by the flush guard's own check, instead of a unit
    of work over the whole row (a background save comes each time the respondent leaves a section). False when
    the submission is no longer a draft: nothing was written."""
    table: Table = Submission.__table__  # type: ignore[assignment]
    check_value("submission", table.c.data, data)
    # Core, and one statement built once: the ORM's bulk UPDATE machinery costs more than the UPDATE itself.
    saved = session.connection().execute(_store_draft_statement(), {"sid": submission_id, "data": data, "at": utcnow()})
    return saved.rowcount == 1


@functools.cache
def _store_draft_statement() -> Update:
    table: Table = Submission.__table__  # type: ignore[assignment]
    return (
        update(table)
        .where(table.c.id == bindparam("sid"), table.c.status == "draft")
        .values(data=bindparam("data", type_=table.c.data.type), updated_at=bindparam("at"))
    )


def form_data(form: FormDefinition, fields: Mapping[str, list[str]], existing: Mapping[str, Any]) -> dict[str, Any]:
    """The instance document from a posted form: one key per instance path, several values for select_multiple.

    Repeats post ``<repeat path>.count``; questions of a page not shown keep their ``existing`` values.
    """
    data: dict[str, Any] = copy.deepcopy(dict(existing))

    def fill(questions: list[Any], prefix: str) -> None:
        for q in questions:
            path = f"{prefix}{q.name}"
            if q.type == "group":
                fill(q.children, f"{path}/")
            elif q.type == "repeat":
                counted = fields.get(f"{path}.count")
                if counted is None:
                    continue
                try:
                    count = max(0, min(200, int(counted[-1])))
                except ValueError:
                    count = 0
                current = engine.get_path(data, path)
                items = current if isinstance(current, list) else []
                del items[count:]
                while len(items) < count:
                    items.append({})
                engine.set_path(data, path, items)
                for index in range(1, count + 1):
                    fill(q.children, f"{path}[{index}]/")
            elif q.type in ("note", "calculate", *form_types.MEDIA_TYPES) or q.is_meta:
                continue  # a file answer comes with its file (web/routes/respond.py, questionnaire/media.py)
            elif q.type == "rank" and f"{path}.present" in fields:  # a position posted for each option
                engine.set_path(data, path, _ranked(form, q, path, fields))
            elif path in fields or (q.type == "select_multiple" and f"{path}.present" in fields):
                values = [v.strip() for v in fields.get(path, []) if v.strip()]
                text = " ".join(values) if q.type == "select_multiple" else (values[-1] if values else "")
                engine.set_path(data, path, text or None)

    fill(form.survey, "")
    return data


def _ranked(form: FormDefinition, q: Any, path: str, fields: Mapping[str, list[str]]) -> str | None:
    """A rank answer from the positions posted as ``PATH.rank.OPTION``: the options in order of their positions (an
    option without one goes last, so the engine asks for it); None when no position was given."""
    positions: list[tuple[int, int, str]] = []
    for index, choice in enumerate(engine.choices_for(form, q)):
        given = (fields.get(f"{path}.rank.{choice.name}") or [""])[-1].strip()
        positions.append((int(given) if is_number(given, 4) else 10_000, index, choice.name))
    if all(position == 10_000 for position, _, _ in positions):
        return None
    return " ".join(name for position, _, name in sorted(positions) if position != 10_000)


def change_answer(
    session: Session, submission: Submission, path: str, new: str | None, *, reason: str, actor: str
) -> SubmissionChange:
    """A reviewer's correction of one answer, with the reason; refused when the new value is not valid."""
    if not reason.strip():
        raise BadInput([Problem("reason", 0, "-", "say why the answer changes: the reason is kept with the change")])
    form = definition(submission)
    base = re.sub(r"\[\d+\]", "", path)
    question = form.by_path().get(base)
    if question is None or question.type in ("group", "repeat", "note", "calculate"):
        raise BadInput([Problem(path, 0, "-", "there is no question at this path")])
    value = (new or "").strip() or None
    if value is not None:
        problem = engine.type_error(form, question, value)
        if problem:
            raise BadInput([Problem(path, 0, question.name, problem)])
    old = engine.get_path(submission.data, path)
    if old == value:
        raise BadInput([Problem(path, 0, "-", "the new value is the same as the current one")])
    data = copy.deepcopy(submission.data)
    engine.set_path(data, path, value)
    submission.data = data
    change = SubmissionChange(
        submission_id=submission.id,
        path=path,
        old=old if isinstance(old, str) else None,
        new=value,
        actor=actor,
        reason=reason.strip(),
    )
    session.add(change)
    audit.record(
        session,
        actor=actor,
        action="update",
        entity="submission",
        entity_id=submission.id,
        before={path: old},
        after={path: value},
        summary=f"changed {path}: {reason.strip()}",
    )
    session.flush()
    return change


def set_review_state(
    session: Session, submission: Submission, state: str, *, actor: str, comment: str = ""
) -> SubmissionComment:
    if state not in REVIEW_STATES:
        raise BadInput(
            [Problem("review_state", 0, "-", f'"{state}" is not a review state; use {", ".join(REVIEW_STATES)}')]
        )
    if submission.status != "submitted":
        raise Conflict("a draft cannot be reviewed: wait until it is submitted")
    before = submission.review_state
    submission.review_state = state
    note = SubmissionComment(submission_id=submission.id, actor=actor, review_state=state, text=comment.strip())
    session.add(note)
    audit.record(
        session,
        actor=actor,
        action="update",
        entity="submission",
        entity_id=submission.id,
        before={"review_state": before},
        after={"review_state": state},
        summary=f"review state {before} → {state}" + (f": {comment.strip()}" if comment.strip() else ""),
    )
    session.flush()
    return note


def get_submission(session: Session, submission_id: int) -> Submission:
    return get_row(session, Submission, submission_id, f"there is no submission {submission_id}")


def list_submissions(session: Session, review: Review) -> list[Submission]:
    return list(session.scalars(select(Submission).where(Submission.review_id == review.id).order_by(Submission.id)))


SUBMISSION_STATUSES = ("draft", "submitted")


def page_submissions(
    session: Session,
    review: Review,
    *,
    limit: int,
    offset: int = 0,
    status: str | None = None,
    review_state: str | None = None,
) -> tuple[list[Submission], int]:
    """One page of :func:`list_submissions` (same order), filtered by ``status`` and ``review_state`` (any when None):
    at most ``limit`` submissions from ``offset`` on, without their answers, and how many match in all (a
    ``COUNT``; the page is read with ``LIMIT``/``OFFSET``)."""
    problems = []
    if status is not None and status not in SUBMISSION_STATUSES:
        problems.append(Problem("status", 0, "-", f'"{status}" is not one of {", ".join(SUBMISSION_STATUSES)}'))
    if review_state is not None and review_state not in REVIEW_STATES:
        message = f'"{review_state}" is not one of {", ".join(REVIEW_STATES)}'
        problems.append(Problem("review_state", 0, "-", message))
    if problems:
        raise BadInput(problems)
    where = [Submission.review_id == review.id]
    if status is not None:
        where.append(Submission.status == status)
    if review_state is not None:
        where.append(Submission.review_state == review_state)
    total = session.scalar(select(func.count()).select_from(Submission).where(*where)) or 0
    query = (
        select(Submission)
        .where(*where)
        .order_by(Submission.id)
        .limit(limit)
        .offset(offset)
        .options(defer(Submission.data), defer(Submission.original))
    )
    return list(session.scalars(query)), total


def current_or_original(submission: Submission, original: bool) -> dict[str, Any]:
    return dict(submission.original or submission.data) if original else dict(submission.data)


def submitted_on(submission: Submission) -> dt.date | None:
    return submission.submitted_at.date() if submission.submitted_at else None


# --- importing exports -----------------------------------------------------------------------------------------------


@dataclass
class ImportedResponses:
    """An import and where its submissions went: ``attached`` when the review was found from the form alone."""

    result: responses.ResponseImport
    review: str | None
    attached: bool


def review_for_import(
    session: Session, form_name: str, review_name: str | None, visible: set[int] | None = None
) -> tuple[Review | None, bool]:
    """The review imported answers belong to: the one named, else the one review that uses the form (attached, True),
    else none (the answers stay with the form: respondent-level). Several reviews and none named: an error.

    ``visible`` (from :func:`lmreview.access.visible_review_ids`; None = all) limits the reviews considered to those
    the caller may see, so that neither their names nor their ids reach a non-member."""
    if review_name is not None:
        return reviews.get_review(session, review_name), False
    form = forms.get_form(session, form_name)
    query = select(Review).where(Review.form_id == form.id).order_by(Review.name)
    if visible is not None:
        query = query.where(Review.id.in_(visible or {0}))
    using = list(session.scalars(query))
    if len(using) > 1:
        names = ", ".join(r.name for r in using)
        message = f"{len(using)} reviews use form {form.name} ({names}): name the one these answers belong to"
        raise BadInput([Problem("--review", 0, "-", message)], "1 error; nothing was written")
    return (using[0], True) if using else (None, False)


def import_responses(
    session: Session,
    form_name: str,
    data: exchange.Source,
    filename: str,
    *,
    actor: str,
    review: str | Review | None = None,
    media_limit: int = media.DEFAULT_MAX_BYTES,
    visible: set[int] | None = None,
) -> ImportedResponses:
    """Import a KoboToolbox or ODK Central export into the form (see ``responses.import_responses``), into the review
    named, or the one review that uses the form. An export that matches none of the form's questions is refused,
    and the message names the form of lmreview whose questions its columns are, when there is one.

    ``visible``: the reviews the caller may see (None = all); others are neither chosen nor changed."""
    found, attached = review if isinstance(review, Review) else None, False
    if not isinstance(review, Review):
        found, attached = review_for_import(session, form_name, review, visible)
    try:
        result = responses.import_responses(
            session, form_name, data, filename, actor=actor, review=found, media_limit=media_limit, visible=visible
        )
    except exchange.NoQuestionColumns as exc:
        raise _other_form(session, form_name, exc) from None
    return ImportedResponses(result, found.name if found else None, attached)


def _other_form(session: Session, form_name: str, exc: exchange.NoQuestionColumns) -> BadInput:
    if not exc.headers:  # nothing but the tool's own columns, or repeats whose files are missing: nothing to guess
        return exc
    best, best_count = None, 0
    for other in session.scalars(select(Form).where(Form.name != form_name).order_by(Form.name)):
        count = exchange.question_columns(forms.definition_of(forms.latest_version(other)), exc.headers)
        if count > best_count:
            best, best_count = other.name, count
    problem = exc.problems[0]
    if best is None or 2 * best_count <= len(exc.headers):  # a name or two in common is no sign of the right form
        message = f"{problem.message}; no other form in lmreview has most of these questions either"
    else:
        message = (
            f"{problem.message}: {best_count} of its columns belong to questions of the form {best}; import it there"
        )
    return BadInput([Problem(problem.file, problem.row, problem.column, message)], exc.message)
