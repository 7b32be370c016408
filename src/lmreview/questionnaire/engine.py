"""The form engine: what a questionnaire means for one set of answers.

Given a :class:`FormDefinition` and an instance document (groups as dicts, repeats as lists of dicts, values as
XForm strings), :func:`evaluate` walks the questions in order and works out, for every question of every repeat
instance: its value, whether it is relevant (its own ``relevant`` and all its parents'), whether it is required,
its calculation, and the error a respondent must fix (required, constraint, type, unknown choice). The web form, the
importers and the reviewers' edits all use it, so an answer is judged the same way wherever it comes from.

Instance paths number repeat instances from 1 as XPath and ODK do: ``outcomes[2]/outcome``.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from dataclasses import field as _field
from typing import Any

from lmreview.questionnaire import expressions, form_types
from lmreview.questionnaire.xlsform import Choice, FormDefinition, Question, pick

Values = dict[str, "str | list[str]"]
NewInstances = Callable[[Question, str], dict[str, Any]]  # (repeat, instance path) -> the new instance
MAX_REPEATS = 200  # instances of one repeat; the web form posts at most as many
MAX_ANSWER_LENGTH = 10_000  # characters in one answer
INTEGER_RANGE = (-(2**31), 2**31 - 1)  # XForms int: 32 bits
_INDEX = re.compile(r"^(?P<name>[^\[\]/]+)\[(?P<n>\d+)\]$")
_OWN_CHECKS = ("time", "datetime", "geopoint", "geotrace", "geoshape", "trigger", "range", *form_types.MEDIA_TYPES)
MESSAGES = {
    "required": "This question needs an answer.",
    "constraint": "This answer is not accepted.",
    "integer": "Enter a whole number, e.g. 120.",
    "decimal": "Enter a number, e.g. 12.5 (with a full stop for decimals).",
    "date": "Enter a date as YYYY-MM-DD.",
    "choice": "Choose one of the options.",
    "integer_range": f"Enter a whole number from {INTEGER_RANGE[0]} to {INTEGER_RANGE[1]}.",
    "decimal_range": "This number is too large; enter a number below 1e308.",
    "too_long": f"This answer is too long: at most {MAX_ANSWER_LENGTH:,} characters.",
    "repeats": f"An earlier answer asks for {{wanted}} of these; at most {MAX_REPEATS} are possible.",
}


@dataclass
class Field:
    """One question in one place of the instance."""

    question: Question
    path: str
    value: str
    relevant: bool
    required: bool
    error: str | None = None
    scope: Values | None = None  # what the expressions saw here, kept for a choice_filter


@dataclass
class Instance:
    """One instance of a repeat, with the fields inside it."""

    index: int
    path: str
    children: list[Node] = _field(default_factory=list)


@dataclass
class Node:
    """A question, group or repeat of the form tree, evaluated."""

    question: Question
    path: str
    relevant: bool
    error: str | None = None  # repeats: more instances asked for than MAX_REPEATS
    field: Field | None = None  # questions
    children: list[Node] = _field(default_factory=list)  # groups
    instances: list[Instance] = _field(default_factory=list)  # repeats


@dataclass
class Evaluation:
    nodes: list[Node]
    fields: dict[str, Field]
    data: dict[str, Any]  # the document with calculations set and non-relevant answers removed
    repeat_errors: dict[str, str] = _field(default_factory=dict)  # a repeat_count beyond MAX_REPEATS

    @property
    def errors(self) -> dict[str, str]:
        return {**self.repeat_errors, **{path: f.error for path, f in self.fields.items() if f.error}}


def get_path(data: Mapping[str, Any], path: str) -> Any:
    """The value at an instance path (``project/code``, ``outcomes[2]/outcome``), or None."""
    node: Any = data
    for part in path.split("/"):
        match = _INDEX.match(part)
        if match:
            node = node.get(match["name"]) if isinstance(node, Mapping) else None
            index = int(match["n"]) - 1
            node = node[index] if isinstance(node, list) and 0 <= index < len(node) else None
        else:
            node = node.get(part) if isinstance(node, Mapping) else None
        if node is None:
            return None
    return node


def set_path(data: dict[str, Any], path: str, value: Any) -> None:
    """Set (or with None, remove) the value at an instance path, creating groups and repeat instances."""
    parts = path.split("/")
    node: Any = data
    for part in parts[:-1]:
        match = _INDEX.match(part)
        if match:
            items = node.setdefault(match["name"], [])
            index = int(match["n"]) - 1
            while len(items) <= index:
                items.append({})
            node = items[index]
        else:
            node = node.setdefault(part, {})
    if value is None:
        node.pop(parts[-1], None)
    else:
        node[parts[-1]] = value


def choices_for(definition: FormDefinition, question: Question) -> list[Choice]:
    """The options of a select (:meth:`FormDefinition.options`: case-sensitive, with the fallback for forms
    stored when list names were lower-cased)."""
    return definition.options(question.list_name)


@functools.lru_cache(maxsize=4096)
def _parse(text: str) -> expressions.Expr:
    """An expression parsed once for every submission evaluated with it (the trees are immutable); a form's
    expressions are the same text for every submission of the version, so parsing was most of an evaluation."""
    return expressions.parse(text)


class _Evaluator:
    def __init__(
        self,
        definition: FormDefinition,
        data: Mapping[str, Any],
        today: dt.date,
        language: str,
        new_instances: NewInstances | None = None,
        previous: Mapping[str, Any] | None = None,
        judge: bool = True,
    ) -> None:
        self.definition = definition
        self.new_instances = new_instances
        self.judge = judge  # False: relevance, values and calculations only, no error messages
        self.language = language
        self.position: int | None = None  # the number of the repeat instance being walked, for position(..)
        self.data = data
        self.today = today
        self.instances = definition.secondary_instances  # what pulldata() and instance('name') read
        self.fields: dict[str, Field] = {}
        self.out: dict[str, Any] = {}
        self.parsed: dict[str, expressions.Expr] = {}
        self.globals: Values = {}
        self.repeat_errors: dict[str, str] = {}
        self._collect(definition.survey, data, self.globals, inside_repeat=False)
        for name, value in last_saved_values(previous).items():
            self.globals[name] = value

    def _collect(self, questions: list[Question], data: Mapping[str, Any], into: Values, inside_repeat: bool) -> None:
        """Every question's value by name, as the expressions see them from outside: lists inside repeats."""
        for q in questions:
            raw = data.get(q.name) if isinstance(data, Mapping) else None
            if q.type == "group":
                self._collect(q.children, raw if isinstance(raw, Mapping) else {}, into, inside_repeat)
            elif q.type == "repeat":
                items = raw if isinstance(raw, list) else []
                into[q.name] = ["" for _ in items]
                for child in q.walk():
                    if child is not q and child.type not in ("group", "repeat"):
                        into.setdefault(child.name, [])
                for item in items:
                    nested: Values = {}
                    self._collect(q.children, item if isinstance(item, Mapping) else {}, nested, True)
                    for name, value in nested.items():
                        target = into.setdefault(name, [])
                        if isinstance(target, list):
                            target.extend(value if isinstance(value, list) else [value])
            else:
                value = raw if isinstance(raw, str) else ("" if raw is None else str(raw))
                if q.type in ("integer", "decimal") and value.strip() and number_error(q, value):
                    value = ""  # not a number the form accepts: no expression (nor repeat_count) sees it
                into[q.name] = value

    def expr(self, text: str) -> expressions.Expr:
        if text not in self.parsed:
            self.parsed[text] = _parse(text)
        return self.parsed[text]

    def truth(self, text: str | None, scope: Values, current: str | None = None, default: bool = True) -> bool:
        if not text:
            return default
        if text == "true()":
            return True
        result = expressions.evaluate(
            self.expr(text), scope, current=current, today=self.today, position=self.position, instances=self.instances
        )
        return expressions.truthy(result)

    def count(self, text: str, scope: Values) -> float:
        """How many instances ``repeat_count`` asks for: NaN and negatives ask for none; may exceed MAX_REPEATS."""
        number = expressions.to_number(
            expressions.evaluate(
                self.expr(text), scope, today=self.today, position=self.position, instances=self.instances
            )
        )
        return 0.0 if math.isnan(number) or number < 1 else math.floor(number)

    def walk(
        self, questions: list[Question], data: Mapping[str, Any], prefix: str, scope: Values, parent_relevant: bool
    ) -> list[Node]:
        nodes: list[Node] = []
        for q in questions:
            path = f"{prefix}{q.name}"
            relevant = parent_relevant and self.truth(q.relevant, scope)
            if q.type == "group":
                raw = data.get(q.name)
                inner: Mapping[str, Any] = raw if isinstance(raw, Mapping) else {}
                nodes.append(
                    Node(q, path, relevant, children=self.walk(q.children, inner, f"{path}/", scope, relevant))
                )
            elif q.type == "repeat":
                listed = data.get(q.name)
                items: list[Any] = listed if isinstance(listed, list) else []
                node = Node(q, path, relevant)
                if q.repeat_count and relevant:  # a fixed number of instances, e.g. one per outcome listed earlier
                    wanted = self.count(q.repeat_count, scope)
                    if wanted > MAX_REPEATS:
                        shown = f"{wanted:.0f}" if wanted < 1e15 else "too many"
                        node.error = self.repeat_errors[path] = MESSAGES["repeats"].format(wanted=shown)
                    kept = int(min(wanted, MAX_REPEATS))
                    items = items[:kept]
                    for index in range(len(items) + 1, kept + 1):  # an instance asked for and not there yet
                        made = self.new_instances(q, f"{path}[{index}]") if self.new_instances else {}
                        items.append(made)
                for index, item in enumerate(items, start=1):
                    item = item if isinstance(item, Mapping) else {}
                    local: Values = dict(scope)
                    own: Values = {}
                    self._collect(q.children, item, own, True)
                    local.update(own)
                    instance_path = f"{path}[{index}]"
                    outer, self.position = self.position, index
                    children = self.walk(q.children, item, f"{instance_path}/", local, relevant)
                    self.position = outer
                    node.instances.append(Instance(index, instance_path, children))
                if not relevant:
                    node.instances = []
                nodes.append(node)
            else:
                nodes.append(self.question(q, data, path, scope, relevant))
        return nodes

    def question(self, q: Question, data: Mapping[str, Any], path: str, scope: Values, relevant: bool) -> Node:
        raw = data.get(q.name)
        value = raw if isinstance(raw, str) else ("" if raw is None else str(raw))
        if q.type == "calculate" and q.calculation:
            result = expressions.evaluate(  # the stored value is "." (current), so once(random()) keeps its draw
                self.expr(q.calculation),
                scope,
                current=value or None,
                today=self.today,
                position=self.position,
                instances=self.instances,
            )
            value = expressions.to_string(result)
            scope[q.name] = value
        required = relevant and self.judge and self.truth(q.required, scope, default=False)
        item = Field(q, path, value if relevant else "", relevant, required)
        if q.choice_filter or q.answers_of:
            item.scope = dict(scope)
        if self.judge and relevant and q.type not in ("note", "calculate") and not q.is_meta:
            item.error = self.check(q, value, scope, required)
        self.fields[path] = item
        if relevant and item.value != "" and q.type != "note":
            set_path(self.out, path, item.value)
        return Node(q, path, relevant, field=item)

    def check(self, q: Question, value: str, scope: Values, required: bool) -> str | None:
        if value.strip() == "":
            return (pick(q.required_messages, self.language) or MESSAGES["required"]) if required else None
        problem = type_error(self.definition, q, value)
        if problem:
            return problem
        if q.choice_filter or q.answers_of:  # an option left out is not an answer, even if it is in the list
            kept = {c.name for c in visible_choices(self.definition, q, scope, self.today)}
            picked = value.split() if q.type == "select_multiple" else [value.strip()]
            outside = [v for v in picked if v not in kept]
            if outside:
                return f'"{outside[0]}" does not apply with the answers given above; choose again.'
        if q.constraint and not self.truth(q.constraint, scope, current=value):
            return pick(q.constraint_messages, self.language) or MESSAGES["constraint"]
        return None


_NAMES: dict[int, tuple[list[Choice], frozenset[str]]] = {}  # by id of a definition's list of options


def _choice_names(options: list[Choice]) -> frozenset[str]:
    """The names of a list of options, memoised per list: every answer to a select of every submission checks
    against the same list of its form version."""
    kept = _NAMES.get(id(options))
    if kept is None or kept[0] is not options:  # the list itself is kept, so its id is not reused meanwhile
        if len(_NAMES) > 4096:
            _NAMES.clear()
        kept = _NAMES[id(options)] = (options, frozenset(c.name for c in options))
    return kept[1]


def limit_error(value: str) -> str | None:
    """An answer too long to keep, whatever the question."""
    return MESSAGES["too_long"] if len(value) > MAX_ANSWER_LENGTH else None


def number_error(q: Question, value: str) -> str | None:
    """What is wrong with ``value`` as the answer to an integer or decimal question: not a number, or outside
    the range XForms gives the type (a 32-bit int; a finite double)."""
    text = value.strip()
    if q.type == "integer":
        if not re.fullmatch(r"-?[0-9]+", text):
            return MESSAGES["integer"]
        digits = text.lstrip("-").lstrip("0") or "0"
        if len(digits) > 10:  # beyond the range, and never read by int(), which refuses 4,300 digits
            return MESSAGES["integer_range"]
        if not INTEGER_RANGE[0] <= int(digits) * (-1 if text.startswith("-") else 1) <= INTEGER_RANGE[1]:
            return MESSAGES["integer_range"]
    elif q.type == "decimal":
        if not re.fullmatch(r"-?[0-9]+(\.[0-9]+)?", text):
            return MESSAGES["decimal"]
        if not math.isfinite(float(text)):
            return MESSAGES["decimal_range"]
    return None


def type_error(definition: FormDefinition, q: Question, value: str) -> str | None:
    """What is wrong with ``value`` as an answer to ``q``, whatever its relevance; None when it is fine."""
    text = value.strip()
    if limit_error(value):
        return limit_error(value)
    if q.type in ("integer", "decimal"):
        return number_error(q, value)
    if q.type == "date":
        try:
            dt.date.fromisoformat(text)
        except ValueError:
            return MESSAGES["date"]
    elif q.type in _OWN_CHECKS:
        return form_types.value_error(q.type, text, q.parameters)
    elif q.type == "rank":  # every option once, in the respondent's order
        options = [c.name for c in choices_for(definition, q)]
        if sorted(text.split()) != sorted(options):
            return f"Put every option in order: {', '.join(options)}."
    elif q.type in ("select_one", "select_multiple") and q.answers_of is None:
        allowed = _choice_names(choices_for(definition, q))
        picked = text.split() if q.type == "select_multiple" else [text]
        unknown = [p for p in picked if p not in allowed]
        if unknown and len(allowed) > 20:  # a long list: naming every option would make a message of megabytes
            return f'"{unknown[0]}" is not one of the {len(allowed):,} options of the list {q.list_name}.'
        if unknown:
            return f'"{unknown[0]}" is not one of the options ({", ".join(sorted(allowed))}).'
    return None


def refused(definition: FormDefinition, data: Mapping[str, Any]) -> dict[str, str]:
    """The answers in ``data`` no one may save, by instance path: too long, or a number outside its type's range.
    Every answer counts, relevant or not (a draft keeps them all); a plain wrong answer ("12a") is only an error
    for :func:`evaluate`, which the respondent may save and fix later."""
    found: dict[str, str] = {}

    def walk(questions: list[Question], node: Any, prefix: str) -> None:
        for q in questions:
            raw = node.get(q.name) if isinstance(node, Mapping) else None
            path = f"{prefix}{q.name}"
            if q.type == "group":
                walk(q.children, raw, f"{path}/")
            elif q.type == "repeat":
                for index, item in enumerate(raw if isinstance(raw, list) else [], start=1):
                    walk(q.children, item, f"{path}[{index}]/")
            elif isinstance(raw, str) and raw.strip():
                problem = limit_error(raw)
                if problem is None and q.type in ("integer", "decimal"):
                    problem = number_error(q, raw)
                    problem = problem if problem in (MESSAGES["integer_range"], MESSAGES["decimal_range"]) else None
                if problem:
                    found[path] = problem

    walk(definition.survey, data, "")
    return found


def evaluate(
    definition: FormDefinition,
    data: Mapping[str, Any],
    today: dt.date | None = None,
    language: str | None = None,
    new_instances: NewInstances | None = None,
    previous: Mapping[str, Any] | None = None,
    judge: bool = True,
) -> Evaluation:
    """Judge ``data``. ``new_instances`` makes the instances a ``repeat_count`` asks for beyond those in ``data``
    (the respondent's page: their defaults, see :func:`instance_defaults`); else they start empty. ``previous`` is
    the respondent's previous submission, which ``${last-saved#name}`` reads (empty without one). ``judge=False``
    decides relevance, values and calculations only: no field gets an error or ``required`` (what tabulation stores;
    a third faster)."""
    evaluator = _Evaluator(
        definition,
        data,
        today or dt.date.today(),
        language or definition.default_language,
        new_instances,
        previous,
        judge,
    )
    scope: Values = dict(evaluator.globals)
    nodes = evaluator.walk(definition.survey, data, "", scope, True)
    return Evaluation(nodes, evaluator.fields, evaluator.out, evaluator.repeat_errors)


def iter_fields(nodes: list[Node]) -> Iterator[Field]:
    for node in nodes:
        if node.field is not None:
            yield node.field
        yield from iter_fields(node.children)
        for instance in node.instances:
            yield from iter_fields(instance.children)


def visible_choices(definition: FormDefinition, q: Question, scope: Values, today: dt.date) -> list[Choice]:
    """The options of a select after its ``choice_filter`` (evaluated with each option's columns as ``name``); for
    ``select_one ${name}``, the answers given to ``name`` in an earlier repeat."""
    if q.answers_of:
        return answer_choices(q, scope, today)
    options = choices_for(definition, q)
    if not q.choice_filter:
        return options
    parsed = expressions.parse(q.choice_filter, names=True)
    tests = expressions.equalities(parsed)  # `region = ${region}`: one text comparison per option
    wanted = expressions.wanted_text(tests, scope, today, definition.secondary_instances) if tests else None
    if wanted is not None and len(wanted) == 1:
        [(key, text)] = wanted
        return [c for c in options if (c.name if key == "name" else c.filters.get(key, "")) == text]
    if wanted is not None:
        return [c for c in options if all((c.name if k == "name" else c.filters.get(k, "")) == v for k, v in wanted)]
    kept = []
    for choice in options:
        columns = {**choice.filters, "name": choice.name}
        found = expressions.evaluate(
            parsed, scope, today=today, columns=columns, instances=definition.secondary_instances
        )
        if expressions.truthy(found):
            kept.append(choice)
    return kept


def answer_choices(q: Question, scope: Values, today: dt.date) -> list[Choice]:
    """``select_one ${name}``: one option per answer to ``name`` (a question of an earlier repeat), in order, each
    once; a ``choice_filter`` is evaluated in the repeat instance the answer comes from (``${age} < 18``)."""
    answers = scope.get(q.answers_of or "")
    values = answers if isinstance(answers, list) else ([answers] if answers else [])
    parsed = expressions.parse(q.choice_filter) if q.choice_filter else None
    kept: dict[str, Choice] = {}
    for index, value in enumerate(values):
        if not value.strip() or value in kept:
            continue
        if parsed is not None:
            local: Values = dict(scope)
            for name, items in scope.items():  # the other answers of the same repeat instance
                if isinstance(items, list) and len(items) == len(values):
                    local[name] = items[index]
            if not expressions.truthy(expressions.evaluate(parsed, local, current=value, today=today)):
                continue
        kept[value] = Choice(value, {})
    return list(kept.values())


LAST_SAVED = re.compile(r"\$\{last-saved#([^}]+)\}")
LAST_SAVED_PREFIX = "last-saved#"


def last_saved_values(previous: Mapping[str, Any] | None) -> dict[str, str]:
    """The previous submission's answers as expressions read them: ``last-saved#name`` -> the answer (through groups,
    not repeats)."""
    return {f"{LAST_SAVED_PREFIX}{k}": v for k, v in answers_by_name(previous).items()} if previous else {}


@functools.lru_cache(maxsize=4096)
def dynamic_default(text: str, question_type: str) -> bool:
    """Whether a ``default`` is an expression, judged as pyxform judges it (a function call, a ``${reference}``, an
    arithmetic operator but a date's "-"): "N/A (none)" and "2024-05-01" are plain values, ``today()`` is not."""
    from pyxform.utils import default_is_dynamic

    pyxform_type = {"datetime": "dateTime"}.get(question_type, question_type)
    return bool(default_is_dynamic(text, pyxform_type))


def default_value(
    question: Question, today: dt.date | None = None, last_saved: Mapping[str, str] | None = None
) -> str | None:
    """A question's ``default``: a literal ("yes", "0"), or an expression when pyxform would read it as one
    (:func:`dynamic_default`: ``today()``), evaluated once when the questionnaire or the repeat instance is started.
    ``${last-saved#name}`` is the answer to ``name`` in ``last_saved`` (the respondent's previous submission, by
    question name), nothing when there is none."""
    text = question.default
    if not text:
        return None
    found = LAST_SAVED.fullmatch(text.strip())
    if found is not None:
        return (last_saved or {}).get(found[1]) or None
    if not dynamic_default(text, question.type):
        return text
    scope: Values = {f"{LAST_SAVED_PREFIX}{name}": value for name, value in (last_saved or {}).items()}
    value = expressions.to_string(expressions.evaluate(expressions.parse(text), scope, today=today or dt.date.today()))
    return value or None


def with_defaults(
    questions: list[Question],
    prefix: str = "",
    data: dict[str, Any] | None = None,
    last_saved: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """A document holding the defaults of ``questions`` (through groups, not into repeats), at paths under
    ``prefix``; existing values in ``data`` are kept. ``last_saved``: see :func:`default_value`."""
    document: dict[str, Any] = data if data is not None else {}
    for question in questions:
        path = f"{prefix}{question.name}"
        if question.type == "group":
            with_defaults(question.children, f"{path}/", document, last_saved)
        elif question.type not in ("repeat", "note") and get_path(document, path) in (None, ""):
            value = default_value(question, last_saved=last_saved)
            if value is not None:
                set_path(document, path, value)
    return document


def answers_by_name(document: Mapping[str, Any], into: dict[str, str] | None = None) -> dict[str, str]:
    """The answers of a document by question name, through groups (not into repeats): what ``${last-saved#name}``
    reads at the top of a form."""
    found: dict[str, str] = {} if into is None else into
    for key, value in document.items():
        if isinstance(value, Mapping):
            answers_by_name(value, found)
        elif isinstance(value, str):
            found.setdefault(key, value)
    return found


def last_saved_in(previous: Mapping[str, Any], instance_path: str) -> dict[str, str]:
    """What ``${last-saved#name}`` reads in the repeat instance ``instance_path`` (``visits[2]``): the answer in the
    same instance of the previous submission (its second visit), else the previous answers outside the repeat."""
    inside = get_path(previous, instance_path)
    outside = answers_by_name(previous)
    if isinstance(inside, Mapping):
        outside.update(answers_by_name(inside))
    return outside


def instance_defaults(
    repeat: Question, instance_path: str, previous: Mapping[str, Any] | None = None, today: dt.date | None = None
) -> dict[str, Any]:
    """A new instance of ``repeat`` at ``instance_path`` holding its questions' defaults; a ``${last-saved#name}``
    default reads the same instance of ``previous`` (the respondent's previous submission), see
    :func:`last_saved_in`."""
    saved = last_saved_in(previous, instance_path) if previous else None
    document: dict[str, Any] = {}
    for question in repeat.children:
        if question.type == "group":
            with_defaults(question.children, f"{question.name}/", document, saved)
        elif question.type not in ("repeat", "note"):
            value = default_value(question, today=today, last_saved=saved)
            if value is not None:
                document[question.name] = value
    return document


def uses_last_saved(definition: FormDefinition) -> bool:
    """Whether any default or expression of the form reads ``${last-saved#…}``."""
    columns = ("default", "relevant", "constraint", "calculation", "required", "choice_filter", "repeat_count")
    return any("${last-saved#" in (getattr(q, c) or "") for q in definition.walk() for c in columns)
