"""Long lists of options: a select whose options are too many to put on a page is answered through a search box.

A ``select_one`` or ``select_multiple`` with more than :data:`LONG_LIST` options (a village list of 50,000 rows
attached as a CSV), or with the ``autocomplete`` appearance of ODK Collect and Enketo, is not rendered as one radio
button or box per option: the page holds the options picked so far and a text box, and the options matching what
is typed come from ``GET /r/TOKEN/options/PATH?q=TEXT`` (at most :data:`SHOWN` of them), after the question's
``choice_filter`` (evaluated with the answers of the saved draft). Without JavaScript, the box's **Search** button
saves the draft and the page comes back with the matching options to tick.

Matching ignores case and accents, and every word typed must appear in the option's label (in the page's language)
or its name; options whose label starts with the text come first, then the others in the list's order.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from lmreview.questionnaire.xlsform import Choice, FormDefinition, Question, pick

LONG_LIST = 500  # more options than this: a search box instead of one radio button or box per option
SHOWN = 50  # options sent for one search
MAX_QUERY = 200  # characters of a search that are read

_FOLDED: dict[tuple[int, str], tuple[list[Choice], list[str]]] = {}  # by id of a list of options and language


@dataclass
class Found:
    options: list[Choice]  # the first SHOWN matches
    total: int  # how many options match


def fold(text: str) -> str:
    """Text compared without case or accents: "Ségou" and "segou" match."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def is_long(definition: FormDefinition, question: Question) -> bool:
    """Whether a select is answered through a search box (see the module's docstring)."""
    if question.type not in ("select_one", "select_multiple") or question.answers_of:
        return False
    if "autocomplete" in (question.appearance or "").split():
        return True
    return len(definition.options(question.list_name)) > LONG_LIST


def _folded(options: list[Choice], language: str) -> list[str]:
    """What a search compares for each option (its label in ``language`` and its name, folded), memoised per list
    and language: every keystroke of every respondent searches the same list of the form version."""
    key = (id(options), language)
    kept = _FOLDED.get(key)
    if kept is None or kept[0] is not options:  # the list itself is kept, so its id is not reused meanwhile
        if len(_FOLDED) > 256:
            _FOLDED.clear()
        texts = [fold(f"{pick(c.labels, language) or ''} \0{c.name}") for c in options]
        kept = _FOLDED[key] = (options, texts)
    return kept[1]


def search(
    definition: FormDefinition,
    question: Question,
    text: str,
    language: str,
    *,
    allowed: list[Choice] | None = None,
    leave_out: frozenset[str] = frozenset(),
    limit: int = SHOWN,
) -> Found:
    """The options of ``question`` matching ``text``: ``allowed`` (those its ``choice_filter`` keeps) or all, not
    those in ``leave_out`` (already picked)."""
    options = definition.options(question.list_name)
    words = fold(text[:MAX_QUERY]).split()
    kept = None if allowed is None or allowed is options else {c.name for c in allowed}
    folded = _folded(options, language)
    first: list[Choice] = []
    then: list[Choice] = []
    start = " ".join(words)
    for choice, haystack in zip(options, folded, strict=True):
        if choice.name in leave_out or (kept is not None and choice.name not in kept):
            continue
        if all(word in haystack for word in words):
            (first if start and haystack.startswith(start) else then).append(choice)
    matches = first + then
    return Found(matches[:limit], len(matches))


def picked(definition: FormDefinition, question: Question, value: str) -> list[Choice]:
    """The options an answer names, in its order; a name the list does not have is shown as itself."""
    names = value.split() if question.type == "select_multiple" else [value.strip()]
    by_name = _by_name(definition.options(question.list_name))
    return [by_name.get(name) or Choice(name, {}) for name in names if name]


_BY_NAME: dict[int, tuple[list[Choice], dict[str, Choice]]] = {}


def _by_name(options: list[Choice]) -> dict[str, Choice]:
    kept = _BY_NAME.get(id(options))
    if kept is None or kept[0] is not options:
        if len(_BY_NAME) > 256:
            _BY_NAME.clear()
        kept = _BY_NAME[id(options)] = (options, {c.name: c for c in options})
    return kept[1]
