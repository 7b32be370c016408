"""Who a tabulation counts: the units (projects, respondents or submissions) and the one submission each is counted
with; the submissions set aside and why; and each used submission evaluated once by the form engine.

:func:`survey_of` keeps that work for the rest of the session (one web request, one report build): the analysis
page and the report's findings tabulate some thirty questions over the same submissions, and each submission is
loaded and evaluated once for all of them. A flush, commit or rollback of the session drops what it kept, so a
tabulation never sees answers older than the session's own changes.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, NamedTuple

from sqlalchemy import Connection, distinct, event, func, select
from sqlalchemy.orm import Session

from lmreview.analysis.questions import enclosing_repeat
from lmreview.analysis.tabulation import Observation, SetAside
from lmreview.portfolio.models import Category, Project, Region
from lmreview.portfolio.stats import BREAKDOWN_COLUMNS
from lmreview.questionnaire import decisions as stored_decisions
from lmreview.questionnaire import engine
from lmreview.questionnaire.decisions import CHOSEN, SubmissionDecision
from lmreview.questionnaire.models import Form, FormVersion, Respondent, Review, Submission
from lmreview.questionnaire.xlsform import FormDefinition


class Used(NamedTuple):
    """What counting reads of a submission: its state, where it comes from and when; not its answers (the stored
    decisions serve; :class:`Observer` reads the answers of the others at once). Named tuples, as the rows they are
    read from: thousands of them for a large review."""

    id: int
    instance_id: str
    form_version_id: int
    respondent_id: int | None
    project_id: int | None
    status: str
    review_state: str
    source: str
    submitted_at: dt.datetime | None
    created_at: dt.datetime
    updated_at: dt.datetime


class ProjectFields(NamedTuple):
    """What a cross-tab reads of a project: its code and the value of each project field (region, category…),
    read when a cross-tab by a project field first asks for them (:func:`fill_fields`; empty until then)."""

    id: int
    code: str
    values: dict[str, str | None]


@dataclass
class Unit:
    key: str
    project: ProjectFields | None
    submission: Used | None = None


def _moment(submission: Used) -> tuple[dt.datetime, int]:
    when = submission.submitted_at or submission.created_at
    return (when if when.tzinfo else when.replace(tzinfo=dt.UTC)), submission.id


def _stamped(submission: Used) -> tuple[dt.datetime, int]:
    return submission.submitted_at or submission.created_at, submission.id


_USED = tuple(getattr(Submission, name) for name in Used._fields)


def _submissions(session: Session, where: Any) -> list[Used]:
    """The submissions matching ``where`` as plain rows (no ORM object, no answers, no form version)."""
    query = select(*_USED).where(where).order_by(Submission.id)
    return [Used._make(row) for row in session.connection().execute(query).all()]


def _answers(session: Session, ids: list[int]) -> dict[int, Any]:
    """The answers of these submissions, by id."""
    found: dict[int, Any] = {}
    for start in range(0, len(ids), 5_000):
        query = select(Submission.id, Submission.data).where(Submission.id.in_(ids[start : start + 5_000]))
        found.update((id_, data) for id_, data in session.connection().execute(query))
    return found


def _project_fields(session: Session, where: Any) -> list[ProjectFields]:
    """The projects matching ``where``, ordered by code (their fields' values are read by :func:`fill_fields`)."""
    query = select(Project.id, Project.code).where(where).order_by(Project.code)
    return [ProjectFields(id_, code, {}) for id_, code in session.connection().execute(query)]


def fill_fields(session: Session, units: list[Unit]) -> None:
    """Read the value of each project field (region, category…) of the units' projects that do not have them yet,
    in one query: only a cross-tab by a project field needs them."""
    missing = {u.project.id: u.project for u in units if u.project is not None and not u.project.values}
    if not missing:
        return
    names = list(BREAKDOWN_COLUMNS)
    ids = sorted(missing)
    for start in range(0, len(ids), 5_000):
        query = (
            select(Project.id, *[BREAKDOWN_COLUMNS[name]() for name in names])
            .outerjoin(Region, Project.region_id == Region.id)
            .outerjoin(Category, Project.category_id == Category.id)
            .where(Project.id.in_(ids[start : start + 5_000]))
        )
        for row in session.connection().execute(query):
            missing[row[0]].values.update(zip(names, row[1:], strict=True))


def _projects(session: Session, review: Review) -> list[ProjectFields]:
    """The projects of the review's portfolio, in the order of :func:`reviews.review_projects`."""
    if review.portfolio_id is None:
        return []
    return _project_fields(session, Project.portfolio_id == review.portfolio_id)


def load_units(
    session: Session, review: Review, definition: FormDefinition
) -> tuple[str, list[Unit], list[SetAside], int]:
    """The unit kind, the units (with the submission each one is counted with), the set-aside submissions and the
    number of drafts."""
    submissions = _submissions(session, Submission.review_id == review.id)
    submitted = [s for s in submissions if s.status == "submitted"]
    kept = [s for s in submitted if s.review_state != "rejected"]
    asks = [q for q in definition.walk() if q.name == "project_code" and enclosing_repeat(definition, q) is None]
    projects = {p.id: p for p in _projects(session, review)}

    def typed(s: Used) -> str | None:  # the project code written in a submission, to say what it was
        code = engine.get_path(_answers(session, [s.id]).get(s.id) or {}, asks[0].path) if asks else None
        return code if isinstance(code, str) and code else None

    if asks and review.portfolio_id is not None:
        kind, missing = "project", "its project is not in the review's portfolio"
        units = [Unit(p.code, p) for p in projects.values()]
    else:
        roster = select(Respondent).where(Respondent.review_id == review.id).order_by(Respondent.id)
        people = list(session.scalars(roster))
        ids = [i for i in {r.project_id for r in people} | {s.project_id for s in kept} if i is not None]
        projects = {p.id: p for p in _project_fields(session, Project.id.in_(ids))} if ids else {}
        if people:
            kind, missing = "respondent", "it comes from no respondent of the review's roster"
            units = [Unit(f"respondent:{r.id}", projects.get(r.project_id or 0)) for r in people]
        else:
            kind, missing = "submission", ""
            units = [Unit(s.instance_id, projects.get(s.project_id or 0)) for s in sorted(kept, key=lambda s: s.id)]

    def unit_of(s: Used) -> str | None:
        if kind == "project":
            return projects[s.project_id].code if s.project_id in projects else None
        if kind == "respondent":
            return f"respondent:{s.respondent_id}" if s.respondent_id is not None else None
        return s.instance_id

    by_key = {u.key: u for u in units}
    set_aside: list[SetAside] = []
    naive = {(s.submitted_at or s.created_at).tzinfo is None for s in submitted}
    moment = _moment if len(naive) > 1 else _stamped  # times of one kind compare as they are (no copy made)
    for s in sorted(submitted, key=moment, reverse=True):  # newest first: the first one a unit gets is its newest
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
    versions = select(FormVersion.id).where(FormVersion.form_id == form.id)
    submissions = _submissions(session, Submission.form_version_id.in_(versions))
    submitted = [s for s in submissions if s.status == "submitted"]
    ids = [s.project_id for s in submitted if s.project_id is not None]
    projects = {p.id: p for p in _project_fields(session, Project.id.in_(ids))} if ids else {}
    units = [Unit(s.instance_id, projects.get(s.project_id or 0), s) for s in submitted if s.review_state != "rejected"]
    rejected = [s for s in submitted if s.review_state == "rejected"]
    set_aside = [SetAside(s.instance_id, s.instance_id, "rejected by a reviewer") for s in rejected]
    return "respondent", units, set_aside, len(submissions) - len(submitted)


# --- observing answers -----------------------------------------------------------------------------------------------


Decisions = dict[str, tuple[tuple[str, str, str], ...]]  # question path -> (instance path, state, value), form order
_DECIDED: OrderedDict[tuple[str, int, str, int, dt.date], Decisions] = OrderedDict()
_DECIDED_MAX = 50_000  # submissions; a few kilobytes each
_DECIDED_LOCK = threading.Lock()


def decisions(definition: FormDefinition, data: dict[str, Any], today: dt.date) -> Decisions:
    """What the form engine decides for every question of one submission, in the few strings tabulation reads."""
    evaluation = engine.evaluate(definition, data, today=today, judge=False)
    found: dict[str, list[tuple[str, str, str]]] = {}
    for f in evaluation.fields.values():
        value = f.value.strip()
        state = "not_relevant" if not f.relevant else ("answered" if value else "skipped")
        found.setdefault(f.question.path, []).append((f.path, state, value if state == "answered" else ""))
    return {path: tuple(items) for path, items in found.items()}


class Observer:
    """Reads the engine's decisions for each used submission, with the form version it was made with.

    A submission whose stored decisions still hold (:func:`decisions.fresh_ids`) is read from ``submission_decision``,
    one query per question; any other is evaluated by the form engine once for every question. Those evaluations are
    kept for the process, by database, submission, its last change and its form version (and the day, which
    ``today()`` in a form may read): a page or a report computed again evaluates only the submissions that changed."""

    def __init__(self, session: Session, units: list[Unit], known: dict[int, FormDefinition] | None = None) -> None:
        self.evaluations: dict[str, Decisions] = {}  # unit -> the decisions of its submission, evaluated here
        self.keys: list[str] = []  # the units with a submission, in order
        self.stored: dict[int, str] = {}  # submission id -> unit, for submissions read from the stored decisions
        self._connection = session.connection()  # Core rows: the ORM's result processing is not needed here
        self._dialect = session.get_bind().dialect.name
        self._read: dict[str, dict[str, tuple[tuple[str, str, str], ...]]] = {}  # path -> unit -> decisions
        self._chosen_all: dict[str, dict[str, tuple[int, int]]] = {}  # path -> option -> counts, every stored one
        self._paths: dict[int, set[str]] = {}  # the question paths of each version
        self._versions: dict[str, int] = {}
        used = [(u.key, u.submission) for u in units if u.submission is not None]
        self.keys = [key for key, _ in used]
        fresh = stored_decisions.fresh_ids(session.connection(), [s.id for _, s in used])
        today = dt.date.today()
        missing = []
        bind = session.get_bind()
        database = (bind.engine if isinstance(bind, Connection) else bind).url.render_as_string(hide_password=True)
        for key, s in used:
            self._versions[key] = s.form_version_id
            if s.id in fresh:
                self.stored[s.id] = key
                continue
            stamp = (database, s.id, str(s.updated_at), s.form_version_id, today)
            with _DECIDED_LOCK:
                kept = _DECIDED.get(stamp)
                if kept is not None:
                    _DECIDED.move_to_end(stamp)
            if kept is None:
                missing.append((key, s, stamp))
            else:
                self.evaluations[key] = kept
        answered_with = set(self._versions.values())
        definitions: dict[int, FormDefinition] = {id_: d for id_, d in (known or {}).items() if id_ in answered_with}
        ids = sorted(answered_with - set(definitions))
        if ids:  # the versions the caller did not read already
            query = select(FormVersion.id, FormVersion.definition).where(FormVersion.id.in_(ids))
            definitions.update((id_, FormDefinition.from_json(data)) for id_, data in session.execute(query).all())
        self._paths = {id_: set(definition.by_path()) for id_, definition in definitions.items()}
        self._types = {id_: {q.path: q.type for q in d.walk()} for id_, d in definitions.items()}
        answers = _answers(session, [s.id for _, s, _ in missing])
        for key, s, stamp in missing:
            decided = decisions(definitions[s.form_version_id], answers[s.id], today)
            self.evaluations[key] = decided
            with _DECIDED_LOCK:
                _DECIDED[stamp] = decided
                while len(_DECIDED) > _DECIDED_MAX:
                    _DECIDED.popitem(last=False)

    def prefetch(self, paths: list[str]) -> None:
        """Read the stored decisions of many questions at once, and their options counted over every stored
        submission (one ``GROUP BY`` for them all): the analysis page and the report tabulate some thirty questions,
        and one query each cost more than the rows."""
        wanted = [p for p in dict.fromkeys(paths) if p not in self._read]
        if not wanted or not self.stored:
            return
        ids = sorted(self.stored)
        found: dict[str, dict[str, list[tuple[str, str, str]]]] = {p: {} for p in wanted}
        query = (
            select(
                SubmissionDecision.question_path,
                SubmissionDecision.submission_id,
                SubmissionDecision.instance_path,
                SubmissionDecision.state,
                SubmissionDecision.value,
            )
            .where(SubmissionDecision.question_path.in_(wanted), SubmissionDecision.state != CHOSEN)
            .where(stored_decisions.among(SubmissionDecision.submission_id, ids, self._dialect))
            .order_by(SubmissionDecision.question_path, SubmissionDecision.submission_id, SubmissionDecision.position)
        )
        for path, submission_id, instance, state, value in self._connection.execute(query).all():
            found[path].setdefault(self.stored[submission_id], []).append((instance, state, value))
        for path, by_unit in found.items():
            self._read[path] = {unit: tuple(items) for unit, items in by_unit.items()}
        counts = (
            select(
                SubmissionDecision.question_path,
                SubmissionDecision.value,
                func.count(),
                func.count(distinct(SubmissionDecision.submission_id)),
            )
            .where(SubmissionDecision.question_path.in_(wanted), SubmissionDecision.state == CHOSEN)
            .where(stored_decisions.among(SubmissionDecision.submission_id, ids, self._dialect))
            .group_by(SubmissionDecision.question_path, SubmissionDecision.value)
        )
        every: dict[str, dict[str, tuple[int, int]]] = {p: {} for p in wanted}
        for path, value, n, units_n in self._connection.execute(counts).all():
            every[path][value] = (n, units_n)
        self._chosen_all.update(every)

    def _stored(self, path: str) -> dict[str, tuple[tuple[str, str, str], ...]]:
        """The stored decisions of question ``path`` for the submissions read from the store, by unit."""
        if path not in self._read:
            found: dict[str, list[tuple[str, str, str]]] = {}
            query = (
                select(
                    SubmissionDecision.submission_id,
                    SubmissionDecision.instance_path,
                    SubmissionDecision.state,
                    SubmissionDecision.value,
                )
                .where(SubmissionDecision.question_path == path, SubmissionDecision.state != CHOSEN)
                .where(stored_decisions.among(SubmissionDecision.submission_id, sorted(self.stored), self._dialect))
                .order_by(
                    SubmissionDecision.question_path, SubmissionDecision.submission_id, SubmissionDecision.position
                )
            )
            for submission_id, instance, state, value in self._connection.execute(query).all():
                found.setdefault(self.stored[submission_id], []).append((instance, state, value))
            self._read[path] = {unit: tuple(items) for unit, items in found.items()}
        return self._read[path]

    def chosen(self, units: list[Unit], path: str, kind: str) -> tuple[dict[str, tuple[int, int]], set[str]]:
        """For a select ``path`` of type ``kind``: how often each option was chosen by the stored submissions of
        ``units`` (an aggregate query: answers, units), and the units that query counted. Units evaluated here, or
        whose form version gives the question another type, are left to the caller."""
        counted = {
            u.submission.id: u.key
            for u in units
            if u.submission is not None
            and u.submission.id in self.stored
            and self._types[u.submission.form_version_id].get(path, kind) == kind
        }
        if not counted:
            return {}, set()
        if len(counted) == len(self.stored) and path in self._chosen_all:  # every stored submission: prefetched
            return self._chosen_all[path], set(counted.values())
        query = (
            select(
                SubmissionDecision.value,
                func.count(),
                func.count(distinct(SubmissionDecision.submission_id)),
            )
            .where(SubmissionDecision.question_path == path, SubmissionDecision.state == CHOSEN)
            .where(stored_decisions.among(SubmissionDecision.submission_id, sorted(counted), self._dialect))
            .group_by(SubmissionDecision.value)
        )
        found = {value: (n, units_n) for value, n, units_n in self._connection.execute(query).all()}
        return found, set(counted.values())

    def observe_all(self, path: str, in_repeat: bool) -> dict[str, list[Observation]]:
        """:meth:`observe` for every unit with a submission, in order: the lookups made once for them all."""
        stored = self._stored(path) if self.stored else {}
        evaluations, versions, paths = self.evaluations, self._versions, self._paths
        asked = {version: path in known for version, known in paths.items()}
        make = Observation._make
        found: dict[str, list[Observation]] = {}
        for unit in self.keys:
            if not asked[versions[unit]]:
                found[unit] = [] if in_repeat else [Observation(unit, path, "not_relevant", "", False)]
                continue
            kept = evaluations.get(unit)
            items = kept.get(path, ()) if kept is not None else stored.get(unit, ())
            found[unit] = [make((unit, *item, in_repeat)) for item in items]
        return found

    def observe(self, unit: str, path: str, in_repeat: bool) -> list[Observation]:
        if path not in self._paths[self._versions[unit]]:  # not in the version this unit answered: it was not asked
            return [] if in_repeat else [Observation(unit, path, "not_relevant", "", False)]
        kept = self.evaluations.get(unit)
        items = kept.get(path, ()) if kept is not None else self._stored(path).get(unit, ())
        return [Observation(unit, *item, in_repeat) for item in items]


# --- one survey per session ------------------------------------------------------------------------------------------


@dataclass
class Survey:
    """The units of a review (or of a form no review uses) with their submissions, evaluated."""

    kind: str
    units: list[Unit]
    set_aside: list[SetAside]
    drafts: int
    observer: Observer


_KEY = "lmreview.analysis.surveys"


def survey_of(
    session: Session, review: Review | None, form: Form, definition: FormDefinition, version_id: int | None = None
) -> Survey:
    """The units and evaluated submissions of ``review`` (or, with ``review=None``, of ``form``), computed once per
    session until it next flushes, commits or rolls back. ``version_id``: the form version ``definition`` was read
    from, which the submissions answered with that version do not read again."""
    if session.new or session.dirty or session.deleted:
        session.flush()  # pending changes first: the flush drops what was kept before them
    kept: dict[tuple[str, int], Survey] = session.info.setdefault(_KEY, {})
    key = ("review", review.id) if review is not None else ("form", form.id)
    if key not in kept:
        if review is not None:
            kind, units, set_aside, drafts = load_units(session, review, definition)
        else:
            kind, units, set_aside, drafts = load_form_units(session, form)
        known = {version_id: definition} if version_id is not None else {}
        kept[key] = Survey(kind, units, set_aside, drafts, Observer(session, units, known))
    return kept[key]


def _forget(session: Session, *_: object) -> None:
    session.info.pop(_KEY, None)


for _name in ("after_flush", "after_commit", "after_rollback", "after_soft_rollback"):
    event.listen(Session, _name, _forget)
