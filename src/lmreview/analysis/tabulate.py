"""Tabulation of one question of a review's questionnaire, with every denominator spelled out.

The units are the projects of the review's portfolio (a form that asks ``project_code``), else the respondents of
the review's roster, else the submissions themselves. Each unit counts once in ``responded`` when it has a submitted
submission (not a draft, not one a reviewer rejected); when a unit has several, the newest is used and the others are
listed in ``set_aside``. Units whose answers a reviewer entered from a document are shown apart from the responses
(``from_documents``: "23 responded + 4 entered from documents"), yet counted as the others. Each responded unit's
answer is then judged by the form engine, as the web form judges it:

* ``not_relevant``: the question (or a group or repeat around it) was not relevant for that submission;
* ``skipped``: relevant, but left empty;
* ``answered``: relevant and not empty; shares are of these (``pct``), and of all units (``pct_units``).

A question inside a repeat is counted per repeat instance (a project may list several outcomes): ``not_relevant``,
``skipped`` and ``answered`` are instances there, and ``units_with_answer`` says how many units they come from.
docs/analysis.md defines each figure. Nothing here writes to the store.

The module is split by role: ``tabulation`` (the figures and their JSON), ``questions`` (finding and checking the
question), ``units`` (who is counted, with which submission); this one computes the figures and cross-tabs.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from lmreview.analysis.questions import (
    NOT_TABULATED,
    bad_option,
    check_tabulable,
    enclosing_repeat,
    find_question,
    is_likert,
    pick_language,
)
from lmreview.analysis.tabulation import (
    RULES,
    Block,
    Count,
    Group,
    Numbers,
    Observation,
    SetAside,
    Tabulation,
    TopBox,
)
from lmreview.analysis.units import UNIT_RULES, Observer, Unit, fill_fields, load_units, survey_of
from lmreview.errors import NotFound
from lmreview.portfolio.models import Project
from lmreview.portfolio.stats import BREAKDOWNS
from lmreview.questionnaire import engine, form_types, forms, reviews
from lmreview.questionnaire.models import FormVersion, Review, Submission, SubmissionFile
from lmreview.questionnaire.xlsform import FormDefinition, Question

__all__ = [
    "NOT_TABULATED",
    "PROJECT_FIELDS",
    "RULES",
    "Block",
    "Count",
    "Group",
    "Numbers",
    "Observation",
    "SetAside",
    "Tabulation",
    "TopBox",
    "Unit",
    "enclosing_repeat",
    "find_question",
    "is_likert",
    "load_units",
    "pick_language",
    "tabulate",
    "tabulate_many",
]

PROJECT_FIELDS: dict[str, Callable[[Project], str | None]] = BREAKDOWNS
_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")  # as an XForm stores integers and decimals (no exponent, no NaN)


# --- the figures of one block ----------------------------------------------------------------------------------------


@dataclass
class _Spec:
    definition: FormDefinition
    question: Question
    language: str
    in_repeat: bool
    kind: str  # choices | numbers | dates | places | files | text
    stored: dict[tuple[str, str], int] | None = None  # files: (instance id, file name) -> submission row id


def _counts(
    spec: _Spec, answers: list[Observation], units: int, responded: list[Unit], observer: Observer
) -> list[Count]:
    """The options' counts: for the units whose decisions are stored, an aggregate query (``GROUP BY`` the option);
    for the others (evaluated in this process), counted here. The rows behind each count are the answers'."""
    q, multiple = spec.question, spec.question.type == "select_multiple"
    names = [c.name for c in engine.choices_for(spec.definition, q)]
    aggregated, counted = observer.chosen(responded, q.path, q.type)
    chosen: dict[str, list[Observation]] = {name: [] for name in names}
    here: dict[str, tuple[int, set[str]]] = {}
    for o in answers:
        for value in dict.fromkeys(o.value.split() if multiple else [o.value]):
            chosen.setdefault(value, []).append(o)
            if o.unit not in counted:
                n, seen = here.setdefault(value, (0, set()))
                here[value] = (n + 1, seen | {o.unit})
    units_answered = len({o.unit for o in answers})
    counts = []
    for value in [*names, *sorted(v for v in chosen if v not in names)]:
        hits = chosen[value]
        listed = value in names
        sql_n, sql_units = aggregated.get(value, (0, 0))
        own_n, own_units = here.get(value, (0, set()))
        counts.append(
            Count(
                value=value,
                label=spec.definition.choice_label(q.list_name or "", value, spec.language) if listed else value,
                listed=listed,
                n=sql_n + own_n,
                answered=len(answers),
                units=units,
                rows=tuple(o.ref for o in hits),
                units_n=sql_units + len(own_units),
                units_answered=units_answered,
                in_repeat=spec.in_repeat,
            )
        )
    return counts


def _numbers(answers: list[Observation]) -> Numbers:
    values = [(o.ref, Decimal(o.value)) for o in answers if _NUMBER.match(o.value)]
    invalid = [(o.ref, o.value) for o in answers if not _NUMBER.match(o.value)]
    return Numbers.of_values(values, len(answers), invalid)


def _likert(spec: _Spec, answers: list[Observation]) -> tuple[Numbers, TopBox]:
    names = {c.name for c in engine.choices_for(spec.definition, spec.question)}
    scored = [o for o in answers if o.value in names]
    top = tuple(str(v) for v in sorted(int(n) for n in names)[-2:])
    hits = [o for o in scored if str(int(o.value)) in top]
    numbers = Numbers.of_values([(o.ref, Decimal(int(o.value))) for o in scored], len(answers))
    return numbers, TopBox(top, len(hits), len(scored), tuple(o.ref for o in hits))


def _dates(answers: list[Observation]) -> tuple[int, str | None, str | None, tuple[str, ...]]:
    days = []
    for o in answers:
        try:
            days.append((dt.date.fromisoformat(o.value[:10]), o.ref))
        except ValueError:
            continue
    if not days:
        return 0, None, None, ()
    days.sort()
    return len(days), days[0][0].isoformat(), days[-1][0].isoformat(), tuple(r for _, r in days)


def _places(answers: list[Observation]) -> tuple[int, tuple[float, float, float, float] | None, tuple[str, ...]]:
    """How many answers are places, and the box around every point of them (a trace's or shape's points too)."""
    points, rows = [], []
    for o in answers:
        found = form_types.points(o.value)
        if found:
            points += found
            rows.append(o.ref)
    if not points:
        return 0, None, ()
    latitudes, longitudes = [p[0] for p in points], [p[1] for p in points]
    return len(rows), (min(latitudes), min(longitudes), max(latitudes), max(longitudes)), tuple(rows)


def _block(spec: _Spec, units: list[Unit], observations: dict[str, list[Observation]], observer: Observer) -> Block:
    responded = [u for u in units if u.submission is not None]
    seen = [o for u in responded for o in observations.get(u.key, [])]
    block = Block(
        units=tuple(u.key for u in units),
        responded=tuple(u.key for u in responded),
        observations=seen,
        submissions={u.key: u.submission.instance_id for u in responded if u.submission is not None},
        in_repeat=spec.in_repeat,
        from_documents=tuple(
            u.key for u in responded if u.submission is not None and u.submission.source == reviews.DOCUMENT
        ),
    )
    answers = [o for o in seen if o.state == "answered"]
    if spec.kind == "choices":
        block.counts = _counts(spec, answers, len(units), responded, observer)
        if is_likert(spec.definition, spec.question):
            block.numbers, block.top_box = _likert(spec, answers)
    elif spec.kind == "numbers":
        block.numbers = _numbers(answers)
    elif spec.kind == "dates":
        block.dates = _dates(answers)
    elif spec.kind == "places":
        block.places = _places(answers)
    elif spec.kind == "files":
        stored = spec.stored or {}
        block.files = [(o, stored.get((block.submissions.get(o.unit, ""), o.value))) for o in answers]
    else:
        block.texts = answers
    return block


def _kind(question: Question, answers: list[Observation]) -> str:
    if question.type in ("select_one", "select_multiple"):
        return "choices"
    if question.type in ("integer", "decimal"):
        return "numbers"
    if question.type in ("date", "today"):
        return "dates"
    if question.type in ("geopoint", "geotrace", "geoshape", "start-geopoint"):
        return "places"
    if question.type in form_types.MEDIA_TYPES:
        return "files"
    if question.type == "calculate" and answers and all(_NUMBER.match(o.value) for o in answers):
        return "numbers"  # a calculation that always gives a number is summarised as one
    return "text"


def _stored_files(submission_ids: list[int], session: Session) -> dict[tuple[str, str], int]:
    """The files stored for these submissions: (instance id, file name) -> the submission's row id."""
    query = (
        select(Submission.instance_id, SubmissionFile.filename, Submission.id)
        .join(Submission, Submission.id == SubmissionFile.submission_id)
        .where(SubmissionFile.submission_id.in_(submission_ids or [0]))
    )
    return {(instance, name): row for instance, name, row in session.execute(query)}


# --- cross-tabs ------------------------------------------------------------------------------------------------------


def _by_question(definition: FormDefinition, by: str) -> Question:
    try:
        question = find_question(definition, by, "--by")
    except NotFound as exc:
        fields = ", ".join(PROJECT_FIELDS)
        raise NotFound(f"--by {by}: not a project field ({fields}), and {exc.message}") from None
    check_tabulable(definition, question, "--by")
    if enclosing_repeat(definition, question) is not None:
        message = f'"{question.path}" is inside a repeat; cross-tabs by a repeated question are not done yet'
        raise bad_option("--by", message)
    return question


def _groups(
    session: Session,
    definition: FormDefinition,
    by: str | Question,
    units: list[Unit],
    observer: Observer,
    language: str,
) -> tuple[str, str, list[tuple[str | None, str | None, list[Unit]]]]:
    """The field or question path of ``by``, its label, and its groups: (value, label, units), in choice order or
    sorted, missing last."""
    members: dict[str | None, list[Unit]] = {}
    labels: dict[str, str] = {}
    order: list[str] = []
    if isinstance(by, str):
        name, label = by, by.replace("_", " ").capitalize()
        fill_fields(session, units)
        for unit in units:
            members.setdefault(unit.project.values[by] if unit.project else None, []).append(unit)
    else:
        name, label = by.path, by.label(language)
        if by.list_name:
            options = engine.choices_for(definition, by)
            order = [c.name for c in options]
            labels = {c.name: definition.choice_label(by.list_name, c.name, language) for c in options}
        for unit in units:
            seen = observer.observe(unit.key, by.path, False) if unit.submission is not None else []
            answer = next((o.value for o in seen if o.state == "answered"), None)
            values = answer.split() if answer and by.type == "select_multiple" else [answer]
            for value in values:
                members.setdefault(value, []).append(unit)
    keys: list[str | None] = [k for k in order if k in members]
    keys += sorted(k for k in members if k is not None and k not in order)
    keys += [None] if None in members else []
    return name, label, [(k, labels.get(k, k) if k is not None else None, members[k]) for k in keys]


# --- the service -----------------------------------------------------------------------------------------------------


def tabulate(
    session: Session,
    review: str | Review | None,
    path: str,
    by: str | None = None,
    language: str | None = None,
    *,
    form: str | None = None,
) -> Tabulation:
    """Tabulate question ``path`` (or a unique name) of the review's questionnaire, optionally by ``by``: a project
    field (region, category, funding_year, fund_line) or another question.

    ``review`` is a review or its name; with ``review=None``, ``form`` names the form of the one review to use,
    or, when no review uses it, the form whose every submission is one respondent (a respondent-level survey).
    """
    found: Review | None = review if isinstance(review, Review) else None
    alone = None  # the form, when no review uses it
    if found is None and review is None and form is not None:
        alone = forms.get_form(session, form)
        alone = None if session.scalar(select(Review.id).where(Review.form_id == alone.id).limit(1)) else alone
    if found is None and alone is None:
        found = reviews.review_for(session, review=review if isinstance(review, str) else None, form=form)
    the_form = alone if alone is not None else found.form if found is not None else None
    if the_form is None:
        name = found.name if found is not None else ""
        raise NotFound(f"review {name} has no questionnaire yet; choose one with `lmreview review create`")
    version: FormVersion = forms.latest_version(the_form)
    definition = forms.definition_of(version)
    question = find_question(definition, path)
    check_tabulable(definition, question, "--question")
    by_what = by if by is None or by in PROJECT_FIELDS else _by_question(definition, by)
    chosen = pick_language(definition, language)
    repeat = enclosing_repeat(definition, question)
    survey = survey_of(session, found, the_form, definition, version.id)
    kind, units, set_aside, drafts, observer = (
        survey.kind,
        survey.units,
        survey.set_aside,
        survey.drafts,
        survey.observer,
    )
    if found is not None:
        rule = UNIT_RULES[kind]
    else:
        rule = f"one respondent per submission of the form: no review uses form {the_form.name}"
    if found is None and isinstance(by_what, str) and units and all(u.project is None for u in units):
        # a form no review uses: its respondents belong to no portfolio, and one group "(none)" would say nothing
        others = [
            q.path
            for q in definition.walk()
            if q.type in ("select_one", "select_multiple") and enclosing_repeat(definition, q) is None
        ]
        hint = f"; cross-tabulate by a question of the form instead: {', '.join(others)}" if others else ""
        message = f"none of the {len(units)} {kind}s counted here is linked to a project, so none has a {by_what}"
        raise bad_option("--by", message + hint)
    in_repeat = repeat is not None
    observations = observer.observe_all(question.path, in_repeat)
    answers = [o for seen in observations.values() for o in seen if o.state == "answered"]
    spec = _Spec(definition, question, chosen, in_repeat, _kind(question, answers))
    if spec.kind == "files":
        spec.stored = _stored_files([u.submission.id for u in units if u.submission is not None], session)
    result = Tabulation(
        review=found.name if found is not None else None,
        form=the_form.name,
        question=question.path,
        label=question.label(chosen),
        type=question.type,
        language=chosen,
        unit=kind,
        repeat=repeat.path if repeat else None,
        whole=_block(spec, units, observations, observer),
        set_aside=set_aside,
        drafts=drafts,
        units_rule=rule,
    )
    if by_what is not None:
        result.by, result.by_label, groups = _groups(session, definition, by_what, units, observer, chosen)
        result.groups = [
            Group(value, label, _block(spec, members, observations, observer)) for value, label, members in groups
        ]
    return result


def tabulate_many(
    session: Session, review: Review, paths: list[str], by: str | None = None, language: str | None = None
) -> list[Tabulation]:
    """:func:`tabulate` for each of ``paths`` of the review's questionnaire, their stored decisions read at once."""
    if review.form is not None and paths:
        version = forms.latest_version(review.form)
        definition = forms.definition_of(version)
        survey = survey_of(session, review, review.form, definition, version.id)
        known = definition.by_path()
        wanted = [known[p].path for p in paths if p in known]
        if by is not None and by in known:
            wanted.append(by)
        survey.observer.prefetch(wanted)
    return [tabulate(session, review, path, by=by, language=language) for path in paths]
