"""Against the data: figures of a report compared with the answers to a review's questionnaire.

* **Answers** (:class:`SurveyFigures`: every select question of a review's questionnaire, tabulated): the share, count
  and denominator printed next to a choice label, in any language of the form, in a sentence ("Covid-19 was a
  challenge for 3 of 7 projects (43%)", "4 (57%) named lack of funding") or a table row ("Lack of funding | 4 |
  57%"). Shares are of those who answered, or of all units when the printed denominator is the units. Compared when
  the printed denominator is the question's answered or units, or when two thirds of the passage agree with the
  data; figures of something else ("at 3 of 4 meetings") never are.

A passage is a table (a column of it) or claims less than ``GAP`` characters apart. Split from
:mod:`lmreview.analysis.audit_data` (the portfolio), whose :class:`~lmreview.analysis.audit_data.Claim` and
:func:`~lmreview.analysis.audit_data.compare` it shares.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from lmreview.analysis.audit_data import Claim, compare
from lmreview.analysis.documents import (
    FLAGS,
    GAP,
    LINKED,
    NB,
    OF_WHICH,
    PU,
    Finding,
    Printed,
    Stream,
    Table,
    W,
    is_count,
    printed,
    sentence,
    short,
    unit_of,
)
from lmreview.analysis.tabulate import tabulate_many
from lmreview.errors import NotFound
from lmreview.questionnaire import engine, forms

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from lmreview.questionnaire.models import Review


# --- the answers to a questionnaire ----------------------------------------------------------------------------------

SELECTS = ("select_one", "select_multiple")
UNIT_WORDS = {"project": "projects", "respondent": "respondents", "submission": "submissions"}
_UNIT = (
    r"(?:projects?|respondents?|submissions?|answers?|replies|participants?|people|persons?|organi[sz]ations?|"
    r"interviewees?|countries|projets?|répondants?|réponses?)\b"
)
_FUNCTION = re.compile(  # words that may follow "3 of 7" without making it a count of something else
    r"(?:and|or|but|while|whereas|with|in|at|for|to|who|that|which|were|was|had|have|named|cited|reported|said|"
    r"answered|mentioned|chose|selected|ticked|faced|et|ou|qui|ont|avaient)$",
    FLAGS,
)
_OF_T = re.compile(  # "3 of 7", "3 out of the 7", "4 projects out of 7", "4 projets sur 7", "3/7"
    rf"(?P<n>{NB})(?:\s+{_UNIT})?\s*(?:(?:out\s+of|of|sur)\s+(?:the\s+|all\s+|les\s+)?|/\s*)(?P<t>{NB})"
    rf"(?!\s*(?:{PU}))(?P<words>(?:\s+{W}){{0,3}})",
    FLAGS,
)
_SHARE = re.compile(rf"(?P<p>{NB})\s*(?P<pu>{PU})", FLAGS)
_SHARE_OF = re.compile(  # "57% of the projects", "43 per cent of the 7 respondents"
    rf"(?P<p>{NB})\s*(?:{PU})\s+of\s+(?:the\s+|all\s+|those\s+)?(?:(?P<t>{NB})\s+)?(?:{W}\s+){{0,2}}?{_UNIT}",
    FLAGS,
)
_COUNTS = [  # "4 (57%)", "4 projects (57%)", "(4, 57%)", "57% (4)", "57% (4 projects)", "4 projects"
    re.compile(rf"(?P<n>{NB})(?:\s+{W}){{0,2}}?\s*\(\s*{NB}\s*(?:{PU})", FLAGS),
    re.compile(rf"\(\s*(?P<n>{NB})(?:\s+{W}){{0,2}}\s*,\s*{NB}\s*(?:{PU})", FLAGS),
    re.compile(rf"{NB}\s*(?:{PU})\s*\(\s*(?P<n>{NB})(?:\s+{_UNIT})?\s*\)", FLAGS),
    re.compile(rf"(?P<n>{NB})(?:\s+{W}){{0,2}}?\s+{_UNIT}", FLAGS),
]
_QUOTED = r"[\"“‘'«]\s*"
_ANSWERED = r"\b(?:answered|replied|responded|said|chose|selected|ticked|répondu)\s+"


@dataclass(frozen=True, slots=True)
class Answer:
    """One choice of a select question as :func:`~lmreview.analysis.tabulate.tabulate` counts it over a review."""

    question: str  # its path
    value: str
    labels: tuple[str, ...]  # in every language of the form
    n: int
    answered: int
    units: int
    units_n: int  # units with the value (n, outside a repeat)
    unit: str  # project | respondent | submission

    def share(self, of_units: bool) -> Decimal | None:
        if of_units:
            return Decimal(100 * self.units_n) / self.units if self.units else None
        return Decimal(100 * self.n) / self.answered if self.answered else None


@dataclass(frozen=True, slots=True)
class SurveyFigures:
    review: str
    form: str
    answers: list[Answer]


def survey_figures(session: Session, review: Review) -> SurveyFigures:
    """Every choice of every select question of the review's questionnaire, tabulated (nothing is written)."""
    if review.form is None:
        raise NotFound(f"review {review.name} has no questionnaire yet; choose one with `lmreview review create`")
    definition = forms.definition_of(forms.latest_version(review.form))
    answers = []
    selects = [q for q in definition.walk() if q.type in SELECTS]
    for question, result in zip(selects, tabulate_many(session, review, [q.path for q in selects]), strict=True):
        choices = {c.name: c for c in engine.choices_for(definition, question)}
        for count in result.whole.counts or []:
            if count.listed and count.value in choices:
                texts = (" ".join(text.split()) for text in choices[count.value].labels.values())
                labels = tuple(dict.fromkeys(text for text in texts if re.search(r"[^\W\d_]", text)))
                figures = (count.n, count.answered, count.units, count.units_n, result.unit)
                answers.append(Answer(question.path, count.value, labels, *figures))
    return SurveyFigures(review.name, review.form.name, answers)


@dataclass(frozen=True, slots=True)
class _Label:
    text: str  # as the form writes it
    answers: tuple[Answer, ...]  # the choices it names (one per question that has it)
    prose: re.Pattern[str]
    row: re.Pattern[str]
    strict: bool  # one plain word: found in the prose only quoted, after "answered" and the like, or before ":"


def _labels(survey: SurveyFigures) -> list[_Label]:
    """The choice labels, each with the choices it names (a label may be in several questions: "Yes", "No")."""
    named: dict[str, list[Answer]] = {}
    texts: dict[str, str] = {}
    for answer in survey.answers:
        for text in answer.labels:
            texts.setdefault(text.casefold(), text)
            named.setdefault(text.casefold(), []).append(answer)
    out = []
    for key, answers in named.items():
        words = (re.sub(r"['’]", "['’]", re.escape(word)) for word in texts[key].split())
        body = r"(?<!\w)(?P<label>" + r"\s+".join(words) + r")(?!\w)"
        prose = rf"(?P<pre>{_QUOTED}|{_ANSWERED})?{body}(?P<post>\s*[\"”’'»:])?"
        unique = tuple({(a.question, a.value): a for a in answers}.values())
        strict = bool(re.fullmatch(r"\w+", key))
        out.append(_Label(texts[key], unique, re.compile(prose, FLAGS), re.compile(rf"{body}\W*", FLAGS), strict))
    return out


@dataclass
class _Statement:
    """The figures printed about one label: a count, a share, the denominator; ``other`` when they are of
    something else ("at 3 of 4 meetings")."""

    count: Printed | None = None
    share: Printed | None = None
    total: Printed | None = None
    other: bool = False


def _count_at(text: str, m: re.Match[str]) -> Printed | None:
    """The count a pattern found, unless it is a year, an identifier, a decimal, a population ("the 14 projects") or
    not a count of projects ("11 common project challenges")."""
    n = printed(m["n"], m.start("n"))
    population = re.search(r"\b(?:the|all|these|those|of|les|des)\s+$", text[max(0, n.pos - 8) : n.pos], FLAGS)
    adjective = n.value != 1 and re.search(r"\b(?:project|projet)\b", text[n.pos : m.end()], FLAGS)
    return n if is_count(text, n) and not n.places and not population and not adjective else None


def _statement(text: str, a: int, b: int, linked: Printed | None, label: tuple[int, int]) -> _Statement:
    """The figures of text[a:b], the part of a sentence that belongs to the label at ``label``."""
    found = _Statement()
    if (m := _OF_T.search(text, a, b)) and (n := _count_at(text, m)):
        words = m["words"].split()
        found.count, found.total = n, printed(m["t"], m.start("t"))
        found.other = bool(words) and not re.search(_UNIT, m["words"], FLAGS) and not _FUNCTION.match(words[0])
    shares = [s for s in _SHARE.finditer(text, a, b) if not OF_WHICH.match(text, s.end())]
    of = _SHARE_OF.search(text, a, b)
    if of and of["t"] and found.total is None:
        found.total = printed(of["t"], of.start("t"))
    if found.count is None:
        counts = [m for pattern in _COUNTS if (m := pattern.search(text, a, b))]
        found.count = next((n for m in sorted(counts, key=lambda m: m.start("n")) if (n := _count_at(text, m))), None)
    if found.total is None and linked is not None and (found.count is not None or shares):
        found.total = linked  # "Of the 7 projects that answered, 4 (57%) named lack of funding"
    if shares:
        s = shares[0]
        beside = (s.start() >= label[1] and not text[label[1] : s.start()].strip(" \t\n:–-(\"”’'»")) or (
            s.end() <= label[0] and not text[s.end() : label[0]].strip(" \t\n)\"“‘'«")
        )
        if found.count or found.total or (of and of.start() == s.start()) or beside:
            found.share = printed(s["p"], s.start("p"), unit_of(s["pu"]))
    return found


_AFTER_NUMBER = re.compile(rf"\s*(?:{PU}|{_UNIT})?\s*\)?", FLAGS)


def _end(text: str, number: Printed) -> int:
    """Where a printed number ends, with its "%", "per cent" or "projects" and a closing bracket."""
    end = number.pos + len(number.text)
    return end + (len(u.group(0)) if (u := _AFTER_NUMBER.match(text, end)) else 0)  # not text[end:]: a copy


def _span(text: str, head: tuple[int, int], tail: tuple[int, int]) -> str:
    """The printed claim, from the label to its numbers (or back), shortened in the middle when long."""
    said = " ".join(text[head[0] : tail[1]].split()).rstrip(":")
    if len(said) > 70:
        said = " ".join(f"{text[head[0] : head[1]]} … {text[tail[0] : tail[1]]}".split())
    return said[:-1] if said.endswith(")") and said.count(")") > said.count("(") else said


def _claims(found: _Statement, label: _Label, said: str, in_table: bool = False) -> list[Claim] | None:
    """The claims of a statement about a label, or None when its figures are about something else."""
    answers, total, count = list(label.answers), found.total, found.count
    if found.other:
        return None
    in_scope, claims = False, []
    if total is not None:
        fit = [a for a in answers if total.value in (a.answered, a.units)]
        same = [a for a in answers if count is not None and count.value == a.n]
        if fit:
            answers, in_scope = fit, True
        elif in_table:
            total = None  # a TOTAL row may count mentions, not those who answered
        elif same:
            answers = same  # the right count with a wrong denominator: "3 of 8 projects"
            what = " or ".join(dict.fromkeys(a.question for a in answers))
            targets = [(a.question, Decimal(a.answered)) for a in answers]
            claims.append(Claim(total, said, targets, f"against the data: number answering {what}"))
        else:
            return None
    name = f"'{label.text}' to {' or '.join(dict.fromkeys(a.question for a in answers))}"
    if count is not None:
        targets = [(a.question, Decimal(k)) for a in answers for k in dict.fromkeys((a.n, a.units_n))]
        claims.append(Claim(count, said, targets, f"against the data: number answering {name}"))
    if found.share is not None:
        of_units = [total is not None and total.value == a.units != a.answered for a in answers]
        targets = [(a.question, v) for a, u in zip(answers, of_units, strict=True) if (v := a.share(u)) is not None]
        whom = f" of all {UNIT_WORDS.get(answers[0].unit, 'units')}" if any(of_units) else ""
        claims.append(Claim(found.share, said, targets, f"against the data: share{whom} answering {name}"))
    for claim in claims:
        claim.in_scope = in_scope
    return claims


def _quoted(pre: str | None) -> bool:
    return pre is not None and pre != "" and not pre[0].isalpha()


def _prose_claims_about(text: str, labels: list[_Label]) -> tuple[list[Claim], int]:
    """Claims next to choice labels in the prose, and how many figures there are about something else.

    In a sentence whose first label has figures before it ("4 (57%) named lack of funding and 3 (43%) Covid-19"),
    each label has the figures between the previous label and itself; else those after it, up to the next label.
    """
    hits = sorted(
        (
            (m.start("label"), m.end("label"), label, m.start("pre" if _quoted(m["pre"]) else "label"), m.end())
            for label in labels
            for m in label.prose.finditer(text)
            if not label.strict or m["pre"] or m["post"]
        ),
        key=lambda hit: (hit[0], -hit[1]),
    )
    kept: list[tuple[int, int, _Label, int, int]] = []
    for hit in hits:  # the longest label where two overlap ("Other donors" and "Other")
        if not kept or hit[0] >= kept[-1][1]:
            kept.append(hit)
    by_sentence: dict[tuple[int, int], list[tuple[int, int, _Label, int, int]]] = {}
    for hit in kept:
        by_sentence.setdefault(sentence(text, hit[0]), []).append(hit)
    claims: list[Claim] = []
    other = 0
    for (s_start, s_end), found in by_sentence.items():
        linked, opening = None, s_start
        for m in LINKED.finditer(text, s_start, found[0][0]):
            if m["t"] and is_count(text, t := printed(m["t"], m.start("t"))):
                linked, opening = t, m.end()
        first = _statement(text, max(opening, found[0][0] - 100), found[0][0], None, (found[0][0], found[0][0]))
        before = first.count is not None or first.share is not None
        for i, (start, end, label, *shown) in enumerate(found):
            if before:
                a, b = max(found[i - 1][1] if i else opening, start - 100), start
            else:
                a, b = end, min(found[i + 1][0] if i + 1 < len(found) else s_end, end + 160)
            statement = _statement(text, a, b, linked, (start, end))
            numbers = [x for x in (statement.count, statement.share, statement.total) if x and x.pos >= a]
            if not numbers:
                continue
            low, high = min(x.pos for x in numbers), max(_end(text, x) for x in numbers)
            name = (shown[0], shown[1])
            said = _span(text, (low, high), name) if before else _span(text, name, (low, high))
            made = _claims(statement, label, said)
            if made is None:
                other += len(numbers)
            else:
                claims += made
    return claims, other


def _table_claims_about(table: Table, labels: list[_Label]) -> list[list[Claim]]:
    """Claims in the rows of a table named by a choice label: one passage per column (a cross-tab's columns are
    groups of units; its Total column is the question's)."""
    columns: dict[int, list[Claim]] = {}
    for row in table.data:
        label = next((candidate for candidate in labels if candidate.row.fullmatch(row.label)), None)
        if label is None:
            continue
        for j, cell in row.parsed.items():
            before, after = row.parsed.get(j - 1), row.parsed.get(j + 1)
            found, said = _Statement(), short(f"{row.label}: {cell.text}")
            if cell.is_pct and not (before and not before.is_pct):
                found.share = cell.number
            elif not cell.is_pct and not cell.number.places and not cell.number.currency:
                found.count = cell.number
                found.share = cell.pct or (after.number if after and after.is_pct else None)
                said = short(f"{row.label}: {cell.text}" + (f" {after.text}" if after and after.is_pct else ""))
            else:
                continue
            total = table.total.parsed.get(j) if table.total else None
            if total and not total.is_pct and not total.number.places:
                found.total = total.number
            elif m := re.search(r"\bn\s*=\s*([0-9]+)\b", table.head(j), FLAGS):
                found.total = printed(m.group(1))
            columns.setdefault(j, []).extend(_claims(found, label, said, in_table=True) or [])
    return [claims for claims in columns.values() if claims]


def check_survey(
    text: str, tables: list[Table], stream: Stream, survey: SurveyFigures
) -> tuple[list[tuple[int, Finding]], int, int]:
    """Compare the figures printed next to choice labels with the review's tabulations: findings, claims compared,
    and figures not compared (about something else, or in a passage that mostly disagrees with the data)."""
    labels = _labels(survey)
    claims, other = _prose_claims_about(text, labels)
    clusters: list[list[Claim]] = []
    for claim in sorted(claims, key=lambda c: c.number.pos):
        if clusters and claim.number.pos - clusters[-1][-1].number.pos <= GAP:
            clusters[-1].append(claim)
        else:
            clusters.append([claim])
    for table in tables:
        clusters += _table_claims_about(table, labels)
    findings, checked, not_compared = compare(clusters, stream)
    return findings, checked, not_compared + other
