"""Tabulation of one question of a review's questionnaire, with every denominator spelled out.

The units are the projects of the review's portfolio (a form that asks ``project_code``), else the respondents of
the review's roster, else the submissions themselves. Each unit counts once in ``responded`` when it has a submitted
submission (not a draft, not one a reviewer rejected); when a unit has several, the newest is used and the others are
listed in ``set_aside``. Each responded unit's answer is then judged by the form engine, as the web form judges it:

* ``not_relevant``: the question (or a group or repeat around it) was not relevant for that submission;
* ``skipped``: relevant, but left empty;
* ``answered``: relevant and not empty; shares are of these (``pct``), and of all units (``pct_units``).

A question inside a repeat is counted per repeat instance (a project may list several outcomes): ``not_relevant``,
``skipped`` and ``answered`` are instances there, and ``units_with_answer`` says how many units they come from.
docs/analysis.md defines each figure. Nothing here writes to the store.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lmreview.analysis.intervals import percents
from lmreview.errors import BadInput, NotFound, Problem
from lmreview.portfolio.models import Project
from lmreview.portfolio.stats import BREAKDOWNS
from lmreview.questionnaire import engine, forms, reviews
from lmreview.questionnaire.models import FormVersion, Respondent, Review, Submission
from lmreview.questionnaire.xlsform import FormDefinition, Question, language_code

PROJECT_FIELDS: dict[str, Callable[[Project], str | None]] = BREAKDOWNS
NOT_TABULATED = ("group", "repeat", "note")
_INTEGER = re.compile(r"^-?\d+$")
_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")  # as an XForm stores integers and decimals (no exponent, no NaN)
RULES = {
    "pct": "100 * n / answered",
    "pct_units": "100 * n / units (in a repeat: units with the value)",
    "ci": "Wilson score interval, 95%, on n / answered",
    "bounds": "[100 * n / units, 100 * (n + units - answered) / units] (in a repeat: counted in units)",
    "responded": "units with a submitted submission, not rejected; the newest when there are several",
}


# --- figures ---------------------------------------------------------------------------------------------------------


def _float(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


@dataclass(frozen=True, slots=True)
class Count:
    """How many answers chose ``value``, among ``answered``; for a repeat, also how many units (``units_n``)."""

    value: str
    label: str
    listed: bool  # False for a value that is not one of the question's choices
    n: int
    answered: int
    units: int
    rows: tuple[str, ...]
    units_n: int  # units with the value: n outside repeats
    units_answered: int  # units with an answer: answered outside repeats
    in_repeat: bool = False

    def as_json(self) -> dict[str, Any]:
        figures = percents(self.n, self.answered, self.units, self.units_n, self.units_answered)
        data: dict[str, Any] = {"value": self.value, "label": self.label, "n": self.n}
        data |= {k: figures[k] for k in ("pct", "pct_units", "ci_low", "ci_high", "bound_low", "bound_high")}
        data |= {"in_choices": self.listed, "rows": list(self.rows)}
        return data | ({"units_n": self.units_n} if self.in_repeat else {})


@dataclass(frozen=True, slots=True)
class Numbers:
    """n, total, mean, median, min, max and sample standard deviation of the numeric answers (exact Decimals)."""

    n: int
    of: int
    total: Decimal | None
    mean: Decimal | None
    median: Decimal | None
    min: Decimal | None
    max: Decimal | None
    sd: Decimal | None  # with n - 1; None below two values
    rows: tuple[str, ...]
    invalid: tuple[tuple[str, str], ...] = ()  # answers that are not numbers: (row, value)

    @classmethod
    def of_values(cls, values: list[tuple[str, Decimal]], of: int, invalid: Iterable[tuple[str, str]] = ()) -> Numbers:
        numbers = sorted(v for _, v in values)
        rows, bad = tuple(r for r, _ in values), tuple(invalid)
        if not numbers:
            return cls(0, of, None, None, None, None, None, None, rows, bad)
        n = len(numbers)
        total = sum(numbers, Decimal(0))
        mean = total / n
        middle = n // 2
        median = numbers[middle] if n % 2 else (numbers[middle - 1] + numbers[middle]) / 2
        sd = (sum(((x - mean) ** 2 for x in numbers), Decimal(0)) / (n - 1)).sqrt() if n > 1 else None
        return cls(n, of, total, mean, median, numbers[0], numbers[-1], sd, rows, bad)

    def as_json(self, total: bool = True) -> dict[str, Any]:
        data: dict[str, Any] = {"n": self.n, "of": self.of}
        if total:
            data["total"] = _float(self.total)
        data |= {k: _float(getattr(self, k)) for k in ("mean", "median", "min", "max", "sd")}
        data["rows"] = list(self.rows)
        if self.invalid:
            data["not_numbers"] = [{"row": r, "value": v} for r, v in self.invalid]
        return data


@dataclass(frozen=True, slots=True)
class TopBox:
    """The share rating in the top two points of a scale ("% rating 5 or 6"), among the ratings given."""

    values: tuple[str, ...]
    n: int
    of: int
    rows: tuple[str, ...]

    def as_json(self) -> dict[str, Any]:
        return {
            "values": list(self.values),
            "n": self.n,
            "of": self.of,
            **percents(self.n, self.of),
            "rows": list(self.rows),
        }


@dataclass(frozen=True, slots=True)
class Observation:
    """One place a question was asked: a responded unit, or one repeat instance of it."""

    unit: str
    path: str  # the instance path: "sustained", "outcomes[2]/outcome"
    state: str  # not_relevant | skipped | answered
    value: str
    in_repeat: bool

    @property
    def ref(self) -> str:
        return f"{self.unit}/{self.path}" if self.in_repeat else self.unit


@dataclass
class Block:
    """The figures of the question over a set of units: the whole review, or one group of a cross-tab."""

    units: tuple[str, ...]
    responded: tuple[str, ...]
    observations: list[Observation]
    submissions: dict[str, str]  # unit -> instance id of the submission used
    in_repeat: bool
    counts: list[Count] | None = None
    numbers: Numbers | None = None
    dates: tuple[int, str | None, str | None, tuple[str, ...]] | None = None  # n, min, max, rows
    top_box: TopBox | None = None
    texts: list[Observation] | None = None

    def refs(self, state: str) -> list[str]:
        return [o.ref for o in self.observations if o.state == state]

    @property
    def answered(self) -> int:
        return sum(1 for o in self.observations if o.state == "answered")

    @property
    def units_with_answer(self) -> list[str]:
        return list(dict.fromkeys(o.unit for o in self.observations if o.state == "answered"))

    def summary_json(self) -> dict[str, Any] | None:
        if self.numbers is not None:
            data = self.numbers.as_json(total=self.top_box is None)
            if self.top_box is not None:
                data["top_box"] = self.top_box.as_json()
            return data
        if self.dates is not None:
            n, low, high, rows = self.dates
            return {"n": n, "of": self.answered, "min": low, "max": high, "rows": list(rows)}
        return None

    def as_json(self) -> dict[str, Any]:
        states = {s: self.refs(s) for s in ("not_relevant", "skipped", "answered")}
        data: dict[str, Any] = {
            "units": len(self.units),
            "responded": len(self.responded),
            **{s: len(refs) for s, refs in states.items()},
        }
        if self.in_repeat:
            data["instances"] = len(self.observations)
            data["units_with_answer"] = len(self.units_with_answer)
        data["counts"] = [c.as_json() for c in self.counts] if self.counts is not None else None
        data["summary"] = self.summary_json()
        if self.texts is not None:
            data["texts"] = [
                {"unit": o.unit, **({"instance": o.path} if o.in_repeat else {}), "value": o.value} for o in self.texts
            ]
        rows: dict[str, Any] = {"units": list(self.units), "responded": list(self.responded), **states}
        if self.in_repeat:
            rows["units_with_answer"] = self.units_with_answer
        rows["submissions"] = {u: self.submissions[u] for u in self.responded}
        data["rows"] = rows
        return data


@dataclass(frozen=True, slots=True)
class SetAside:
    """A submitted submission the figures do not use, and why."""

    submission: str
    unit: str | None
    reason: str

    def as_json(self) -> dict[str, str | None]:
        return {"submission": self.submission, "unit": self.unit, "reason": self.reason}


@dataclass
class Group:
    value: str | None
    label: str | None
    block: Block

    def as_json(self) -> dict[str, Any]:
        return {"value": self.value, "label": self.label, **self.block.as_json()}


@dataclass
class Tabulation:
    review: str
    form: str
    question: str
    label: str
    type: str
    language: str
    unit: str  # project | respondent | submission
    repeat: str | None  # the repeat the question is in
    whole: Block
    set_aside: list[SetAside]
    drafts: int
    by: str | None = None
    by_label: str | None = None
    groups: list[Group] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        whole = self.whole.as_json()
        head = ("units", "responded", "not_relevant", "skipped", "answered", "counts", "summary")
        data: dict[str, Any] = {"question": self.question, "type": self.type, **{k: whole.pop(k) for k in head}}
        data["by"] = [g.as_json() for g in self.groups] if self.by is not None else None
        data |= {k: getattr(self, k) for k in ("label", "review", "form", "language", "unit", "repeat")}
        data |= {"likert": self.whole.top_box is not None, **whole, "by_field": self.by, "by_label": self.by_label}
        data |= {"set_aside": [a.as_json() for a in self.set_aside], "drafts": self.drafts, "rules": RULES}
        return data


def _bad(option: str, message: str) -> BadInput:
    return BadInput([Problem(option, 0, "-", message)], "1 error; nothing tabulated")


# --- reading the form ------------------------------------------------------------------------------------------------


def enclosing_repeat(definition: FormDefinition, question: Question) -> Question | None:
    """The innermost repeat around ``question``, if any."""

    def walk(questions: list[Question], repeat: Question | None) -> Iterator[tuple[Question, Question | None]]:
        for q in questions:
            yield q, repeat
            yield from walk(q.children, q if q.type == "repeat" else repeat)

    return next((repeat for q, repeat in walk(definition.survey, None) if q is question), None)


def find_question(definition: FormDefinition, wanted: str, option: str = "--question") -> Question:
    """A question by its path (``project/report_date``) or by its name when no other question has it."""
    by_path = definition.by_path()
    if wanted in by_path:
        return by_path[wanted]
    named = [q for q in definition.walk() if q.name == wanted]
    if len(named) == 1:
        return named[0]
    if named:
        paths = ", ".join(q.path for q in named)
        raise _bad(option, f'"{wanted}" names {len(named)} questions ({paths}); give the path')
    close = difflib.get_close_matches(wanted, [*by_path, *(q.name for q in definition.walk())], n=3)
    hint = f"; did you mean {' or '.join(dict.fromkeys(close))}?" if close else ""
    raise NotFound(f'form {definition.form_id} has no question "{wanted}"{hint}')


def _check_tabulable(definition: FormDefinition, question: Question, option: str) -> None:
    if question.type in NOT_TABULATED:
        inside = [q.path for q in question.walk() if q is not question and q.type not in NOT_TABULATED]
        hint = f"; name one of its questions: {', '.join(inside)}" if inside else ""
        what = "a note, which has no answers" if question.type == "note" else f"a {question.type}"
        raise _bad(option, f'"{question.path}" is {what}{hint}')


def pick_language(definition: FormDefinition, wanted: str | None) -> str:
    if wanted is None:
        return definition.default_language
    for language in definition.languages:
        if wanted in (language, language_code(language)) or wanted.casefold() == language.casefold():
            return language
    known = ", ".join(definition.languages)
    raise _bad("--language", f'the form has no language "{wanted}"; it has {known}')


def is_likert(definition: FormDefinition, question: Question) -> bool:
    """A select_one whose three or more choices are all whole numbers: a rating scale such as 1-6."""
    options = engine.choices_for(definition, question)
    return question.type == "select_one" and len(options) >= 3 and all(_INTEGER.match(c.name) for c in options)


# --- units and submissions -------------------------------------------------------------------------------------------


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


# --- observing answers -----------------------------------------------------------------------------------------------


class _Observer:
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


# --- the figures of one block ----------------------------------------------------------------------------------------


@dataclass
class _Spec:
    definition: FormDefinition
    question: Question
    language: str
    in_repeat: bool
    kind: str  # choices | numbers | dates | text


def _counts(spec: _Spec, answers: list[Observation], units: int) -> list[Count]:
    q, multiple = spec.question, spec.question.type == "select_multiple"
    names = [c.name for c in engine.choices_for(spec.definition, q)]
    chosen: dict[str, list[Observation]] = {name: [] for name in names}
    for o in answers:
        for value in dict.fromkeys(o.value.split() if multiple else [o.value]):
            chosen.setdefault(value, []).append(o)
    units_answered = len({o.unit for o in answers})
    counts = []
    for value in [*names, *sorted(v for v in chosen if v not in names)]:
        hits = chosen[value]
        listed = value in names
        counts.append(
            Count(
                value=value,
                label=spec.definition.choice_label(q.list_name or "", value, spec.language) if listed else value,
                listed=listed,
                n=len(hits),
                answered=len(answers),
                units=units,
                rows=tuple(o.ref for o in hits),
                units_n=len({o.unit for o in hits}),
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


def _block(spec: _Spec, units: list[Unit], observations: dict[str, list[Observation]]) -> Block:
    responded = [u for u in units if u.submission is not None]
    seen = [o for u in responded for o in observations.get(u.key, [])]
    block = Block(
        units=tuple(u.key for u in units),
        responded=tuple(u.key for u in responded),
        observations=seen,
        submissions={u.key: u.submission.instance_id for u in responded if u.submission is not None},
        in_repeat=spec.in_repeat,
    )
    answers = [o for o in seen if o.state == "answered"]
    if spec.kind == "choices":
        block.counts = _counts(spec, answers, len(units))
        if is_likert(spec.definition, spec.question):
            block.numbers, block.top_box = _likert(spec, answers)
    elif spec.kind == "numbers":
        block.numbers = _numbers(answers)
    elif spec.kind == "dates":
        block.dates = _dates(answers)
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
    if question.type == "calculate" and answers and all(_NUMBER.match(o.value) for o in answers):
        return "numbers"  # a calculation that always gives a number is summarised as one
    return "text"


# --- cross-tabs ------------------------------------------------------------------------------------------------------


def _by_question(definition: FormDefinition, by: str) -> Question:
    try:
        question = find_question(definition, by, "--by")
    except NotFound as exc:
        fields = ", ".join(PROJECT_FIELDS)
        raise NotFound(f"--by {by}: not a project field ({fields}), and {exc.message}") from None
    _check_tabulable(definition, question, "--by")
    if enclosing_repeat(definition, question) is not None:
        message = f'"{question.path}" is inside a repeat; cross-tabs by a repeated question are not done yet'
        raise _bad("--by", message)
    return question


def _groups(
    definition: FormDefinition, by: str | Question, units: list[Unit], observer: _Observer, language: str
) -> tuple[str, str, list[tuple[str | None, str | None, list[Unit]]]]:
    """The field or question path of ``by``, its label, and its groups: (value, label, units), in choice order or
    sorted, missing last."""
    members: dict[str | None, list[Unit]] = {}
    labels: dict[str, str] = {}
    order: list[str] = []
    if isinstance(by, str):
        name, label = by, by.replace("_", " ").capitalize()
        for unit in units:
            members.setdefault(PROJECT_FIELDS[by](unit.project) if unit.project else None, []).append(unit)
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

    ``review`` is a review or its name; with ``review=None``, ``form`` names the form of the one review to use.
    """
    found = review if isinstance(review, Review) else reviews.review_for(session, review=review, form=form)
    if found.form is None:
        raise NotFound(f"review {found.name} has no questionnaire yet; choose one with `lmreview review create`")
    version: FormVersion = forms.latest_version(found.form)
    definition = forms.definition_of(version)
    question = find_question(definition, path)
    _check_tabulable(definition, question, "--question")
    by_what = by if by is None or by in PROJECT_FIELDS else _by_question(definition, by)
    chosen = pick_language(definition, language)
    repeat = enclosing_repeat(definition, question)
    kind, units, set_aside, drafts = load_units(session, found, definition)
    observer = _Observer(units)
    in_repeat = repeat is not None
    observations = {key: observer.observe(key, question.path, in_repeat) for key in observer.evaluations}
    answers = [o for seen in observations.values() for o in seen if o.state == "answered"]
    spec = _Spec(definition, question, chosen, in_repeat, _kind(question, answers))
    result = Tabulation(
        review=found.name,
        form=found.form.name,
        question=question.path,
        label=question.label(chosen),
        type=question.type,
        language=chosen,
        unit=kind,
        repeat=repeat.path if repeat else None,
        whole=_block(spec, units, observations),
        set_aside=set_aside,
        drafts=drafts,
    )
    if by_what is not None:
        result.by, result.by_label, groups = _groups(definition, by_what, units, observer, chosen)
        result.groups = [Group(value, label, _block(spec, members, observations)) for value, label, members in groups]
    return result
