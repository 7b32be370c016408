"""The question a tabulation is about: found by path or name, checked to be one that has answers, its language, and
whether it is a rating scale."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator

from lmreview.errors import BadInput, NotFound, Problem
from lmreview.questionnaire import engine
from lmreview.questionnaire.xlsform import FormDefinition, Question, language_code

NOT_TABULATED = ("group", "repeat", "note")
_INTEGER = re.compile(r"^-?\d+$")


def bad_option(option: str, message: str) -> BadInput:
    return BadInput([Problem(option, 0, "-", message)], "1 error; nothing tabulated")


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
        raise bad_option(option, f'"{wanted}" names {len(named)} questions ({paths}); give the path')
    close = difflib.get_close_matches(wanted, [*by_path, *(q.name for q in definition.walk())], n=3)
    hint = f"; did you mean {' or '.join(dict.fromkeys(close))}?" if close else ""
    raise NotFound(f'form {definition.form_id} has no question "{wanted}"{hint}')


def check_tabulable(definition: FormDefinition, question: Question, option: str) -> None:
    if question.type in NOT_TABULATED:
        inside = [q.path for q in question.walk() if q is not question and q.type not in NOT_TABULATED]
        hint = f"; name one of its questions: {', '.join(inside)}" if inside else ""
        what = "a note, which has no answers" if question.type == "note" else f"a {question.type}"
        raise bad_option(option, f'"{question.path}" is {what}{hint}')


def pick_language(definition: FormDefinition, wanted: str | None) -> str:
    if wanted is None:
        return definition.default_language
    for language in definition.languages:
        if wanted in (language, language_code(language)) or wanted.casefold() == language.casefold():
            return language
    known = ", ".join(definition.languages)
    raise bad_option("--language", f'the form has no language "{wanted}"; it has {known}')


def is_likert(definition: FormDefinition, question: Question) -> bool:
    """A select_one whose three or more choices are all whole numbers: a rating scale such as 1-6."""
    options = engine.choices_for(definition, question)
    return question.type == "select_one" and len(options) >= 3 and all(_INTEGER.match(c.name) for c in options)
