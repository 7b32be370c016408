"""Against the data: figures of a report compared with lmreview's, for a portfolio and for a review's answers.

* **Portfolio** (:class:`~lmreview.portfolio.stats.PortfolioStats`): shares, project counts and budgets next to a
  region, category, funding year or fund line; totals, means, medians, minima and maxima of budget, duration and
  no-cost extensions. Compared when the nearest "all/the N projects" (or TOTAL row) before a claim names the
  portfolio's number of projects, or when two thirds of its passage agree with the data.
* **Answers** (:class:`SurveyFigures`: every select question of a review's questionnaire, tabulated): the share, count
  and denominator printed next to a choice label, in any language of the form, in a sentence ("Covid-19 was a
  challenge for 3 of 7 projects (43%)", "4 (57%) named lack of funding") or a table row ("Lack of funding | 4 |
  57%"). Shares are of those who answered, or of all units when the printed denominator is the units. Compared when
  the printed denominator is the question's answered or units, or when two thirds of the passage agree with the
  data; figures of something else ("at 3 of 4 meetings") never are.

A passage is a table (a column of it, for answers) or claims less than ``GAP`` characters apart.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from lmreview.analysis.documents import (
    FLAGS,
    GAP,
    LINKED,
    NB,
    NUMBER,
    OF_WHICH,
    PU,
    Finding,
    Printed,
    Stream,
    Table,
    W,
    is_count,
    money_at,
    printed,
    said_between,
    sentence,
    short,
    unit_of,
)
from lmreview.analysis.tabulate import tabulate
from lmreview.errors import BadInput, NotFound, Problem
from lmreview.figures import Summary
from lmreview.portfolio.stats import portfolio_stats
from lmreview.questionnaire import engine, forms, reviews

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from lmreview.portfolio.stats import PortfolioStats
    from lmreview.questionnaire.models import Review

_POPULATION = re.compile(
    rf"\b(?P<det>all|the|those|these|total\s+of)\s+(?P<n>{NB})\s+(?P<words>(?:{W}\s+){{0,4}}?)"
    r"projects\b",
    FLAGS,
)
_STAT = re.compile(
    r"\b(?P<stat>total|average|mean|median|maximum|minimum|max|min|longest|shortest|largest|"
    r"smallest|highest|lowest)\b",
    FLAGS,
)
STATS = (
    {"total": "total", "average": "mean", "mean": "mean", "median": "median"}
    | dict.fromkeys(("maximum", "max", "longest", "largest", "highest"), "max")
    | dict.fromkeys(("minimum", "min", "shortest", "smallest", "lowest"), "min")
)
MEASURES = {  # field of PortfolioStats: (words that name it, how the rule names it)
    "nce_months": (r"\b(?:extension|extensions|nces?|extended)\b", "no-cost extension (months)"),
    "duration_months": (r"\b(?:length|duration|long|lasted|period)\b", "duration (months)"),
    "budget_usd": (r"\b(?:budgets?|allocation|allocated|funding|amount|cost)\b|\bUSD|US\$", "budget (USD)"),
}
_BUDGET_WORDS = re.compile(
    r"budget|usd|us\$|\bfund(?:s|ing)?\b(?!\s+(?:line|year))|allocat|amount|expenditure|\$", FLAGS
)
_PROJECT_WORDS = re.compile(r"project|number|count|\bn\b|\bno\b", FLAGS)
_QUALIFIED = re.compile(r"\b(?:incl|including|excl|excluding|with|without)\.?\s*$", FLAGS)
_BEFORE_LABEL = re.compile(
    rf"(?P<n>{NB})\s*\(\s*(?P<p>{NB})\s*(?P<pu>{PU})\s*\)\s+(?:are|were|is|was|in|from|for|to|of)\s+(?:the\s+)?$", FLAGS
)


# --- the portfolio ---------------------------------------------------------------------------------------------------


@dataclass
class _Claim:
    number: Printed
    claim: str
    targets: list[tuple[str, Decimal]]  # (what, exact value): the claim agrees when it agrees with one of them
    rule: str
    population: bool = False  # "all 14 projects", a TOTAL row: also says which projects the passage is about
    scope: Decimal | None = None  # the number of projects the passage is about, when it says so
    in_scope: bool = False  # compared whatever its passage says (else only when two thirds of the passage agree)

    def agrees(self) -> bool:
        return any(self.number.agrees(value) for _, value in self.targets)

    def expected(self) -> str:
        if len({self.number.render(value) for _, value in self.targets}) == 1:
            return self.number.render(self.targets[0][1])
        return " or ".join(f"{self.number.render(value)} {what}" for what, value in self.targets)


@dataclass(frozen=True, slots=True)
class _Group:
    name: str  # "region Africa"
    prose: re.Pattern[str]
    label: re.Pattern[str]  # a table row's label
    projects: int
    pct: Decimal | None
    budget: Decimal | None
    budget_pct: Decimal | None

    def targets(self, kind: str) -> list[tuple[str, Decimal]]:
        options = {"projects": ("of projects", self.pct), "budget": ("of budget", self.budget_pct)}
        chosen = [options[kind]] if kind in options else list(options.values())
        return [(what, value) for what, value in chosen if value is not None]

    def share_rule(self, kind: str) -> str:
        return {"budget": "budget share", "projects": "share of projects"}.get(kind, "share") + f" of {self.name}"


_FIELDS = {"region": "region", "category": "category", "funding_year": "funding year", "fund_line": "line"}


def _groups(figures: PortfolioStats) -> list[_Group]:
    """Every named value of every breakdown with the patterns that find it, longest name first."""
    out = []
    for name, shares in figures.breakdowns.items():
        for s in shares:
            if s.value is None:
                continue
            words = r"\s+".join(re.escape(w) for w in s.value.split())
            prose = label = rf"line\s*{words}" if name == "fund_line" else words
            if name == "funding_year":
                prose = rf"(?:funding\s+year|funded\s+in)\s+{words}"
            out.append(
                _Group(
                    f"{_FIELDS[name]} {s.value}",
                    re.compile(rf"(?<!\w){prose}(?![0-9A-Za-z]|\s*[-–]\s*[0-9])", FLAGS),  # not "2011-2014"
                    re.compile(rf"{label}\W*", FLAGS),
                    s.projects,
                    s.pct,
                    s.budget_usd,
                    s.budget_pct,
                )
            )
    return sorted(out, key=lambda g: -len(g.name))


def _kind(before: str, after: str = "") -> str:
    """Whether a share is of projects or of budget, from the words around it ("either" when nothing says)."""
    if m := re.match(r"\s*\)?\s*of\s+(?:the\s+|all\s+)?(\w+)", after, FLAGS):
        named = "budget" if _BUDGET_WORDS.match(m.group(1)) else "projects" if _PROJECT_WORDS.match(m.group(1)) else ""
        if named:
            return named
    near = [
        (m.end(), kind)
        for kind, words in (("budget", _BUDGET_WORDS), ("projects", _PROJECT_WORDS))
        for m in words.finditer(before[-25:])
    ]
    if near:
        return max(near)[1]
    return "budget" if _BUDGET_WORDS.search(before) else "projects" if _PROJECT_WORDS.search(before) else "either"


def _label_claims(text: str, groups: list[_Group], used: set[int]) -> list[_Claim]:
    """Shares, counts and budgets printed after a group's name in the same sentence, before the next name, and
    "N (P%) are <name>" before it; only the first share, count and budget of each kind are the group's."""
    labels = sorted((m.start(), m.end(), g) for g in groups for m in g.prose.finditer(text))
    claims: list[_Claim] = []
    slots: set[tuple[int, str]] = set()

    def add(slot: tuple[int, str], number: Printed, targets: list[tuple[str, Decimal]], rule: str, said: str) -> None:
        if targets and number.pos not in used and slot not in slots:
            used.add(number.pos)
            slots.add(slot)
            claims.append(_Claim(number, said, targets, f"against the data: {rule}"))

    for i, (start, end, group) in enumerate(labels):
        count = [("projects", Decimal(group.projects))]
        if b := _BEFORE_LABEL.search(text, max(0, start - 80), start):
            n, share = printed(b["n"], b.start("n")), printed(b["p"], b.start("p"), unit_of(b["pu"]))
            kind, said = ("budget" if n.grouped else "projects"), short(text[b.start() : end])
            if not n.grouped:
                add((i, "count"), n, count, f"projects in {group.name}", said)
            add((i, f"share {kind}"), share, group.targets(kind), group.share_rule(kind), said)
        stop = min(end + 160, sentence(text, end)[1], labels[i + 1][0] if i + 1 < len(labels) else len(text))
        for m in NUMBER.finditer(text, end, stop):
            number, after = printed(m.group(0), m.start()), text[m.end() : m.end() + 40]
            if u := re.match(rf"\s*({PU})", after, FLAGS):
                number = printed(m.group(0), m.start(), unit_of(u.group(1)))
                kind, said = (
                    _kind(text[sentence(text, start)[0] : m.start()], after[u.end() :]),
                    said_between(text, start, end, number),
                )
                add((i, f"share {kind}"), number, group.targets(kind), group.share_rule(kind), said)
            elif not (number.places or number.grouped) and re.match(rf"\s+(?:{W}\s+){{0,2}}?projects?\b", after, FLAGS):
                add((i, "count"), number, count, f"projects in {group.name}", said_between(text, start, end, number))
            elif (money := money_at(text, m)) and group.budget is not None:
                said = said_between(text, start, end, money)
                add((i, "budget"), money, [("budget", group.budget)], f"budget of {group.name}", said)
    return claims


def _stat_claims(text: str, figures: PortfolioStats, used: set[int]) -> list[_Claim]:
    """ "The average budget was USD 117,857.14", "a median of 18 months": a statistic, a measure, a number."""
    claims = []
    for m in _STAT.finditer(text):
        stat = STATS[m["stat"].lower()]
        s_start, s_end = sentence(text, m.start())
        following = _STAT.search(text, m.end(), s_end)
        for n in NUMBER.finditer(text, m.end(), following.start() if following else s_end):
            measure = _measure(text[s_start : n.start()]) or _measure(text[n.end() : s_end], last=False)
            if n.start() in used or measure is None:
                continue
            if measure == "budget_usd":
                number = money_at(text, n)
            else:
                months = re.match(r"\s*months?\b", text[n.end() : n.end() + 10], FLAGS)
                number = printed(n.group(0), n.start(), unit=" months") if months else None
            if number is None:
                continue
            summary: Summary = getattr(figures, measure)
            if (value := getattr(summary, stat)) is not None:
                used.add(n.start())
                rule = f"against the data: {stat} {MEASURES[measure][1]}"
                claims.append(_Claim(number, said_between(text, m.start(), m.end(), number), [(stat, value)], rule))
            break
    return claims


def _measure(text: str, last: bool = True) -> str | None:
    """The measure the words name, the last (or first) one, not counting a qualifier: "Length incl. NCE"."""
    hits = [
        (m.start(), name)
        for name, (words, _) in MEASURES.items()
        for m in re.finditer(words, text, FLAGS)
        if not _QUALIFIED.search(text, 0, m.start())
    ]
    return (max(hits) if last else min(hits))[1] if hits else None


def _prose_claims(text: str, figures: PortfolioStats, groups: list[_Group]) -> list[_Claim]:
    used: set[int] = set()
    claims = _label_claims(text, groups, used)
    for m in _POPULATION.finditer(text):  # "all 14 projects" (but not "the three projects selected", "all 5 in Asia")
        about = m["words"] + text[m.end() : m.end() + 30]
        whole = m["det"].lower().startswith(("all", "total")) and m.start("n") not in used
        if whole and not any(g.prose.search(about) for g in groups):
            number = printed(m["n"], m.start("n"))
            used.add(number.pos)
            rule = "against the data: number of projects"
            claims.append(_Claim(number, short(m.group(0)), [("projects", Decimal(figures.projects))], rule, True))
    return claims + _stat_claims(text, figures, used)


def _table_claims(table: Table, figures: PortfolioStats, groups: list[_Group]) -> list[_Claim]:
    """A table whose rows are groups (and a TOTAL row), or whose rows and columns name a measure and a statistic."""
    claims = []
    for row in [*table.data, *([table.total] if table.total else [])]:
        group = next((g for g in groups if g.label.fullmatch(row.label)), None)
        for j, cell in row.parsed.items():
            head, said = table.head(j), short(f"{row.label}: {cell.text}")
            context = head if row is table.total else f"{row.label} {head}"
            measure, stat = _measure(context), _STAT.search(context)
            if cell.is_pct or (stat and (group or row is table.total or not measure)):
                continue
            if stat and measure:
                name = STATS[stat["stat"].lower()]
                if (value := getattr(getattr(figures, measure), name)) is not None:
                    rule = f"against the data: {name} {MEASURES[measure][1]}"
                    claims.append(_Claim(cell.number, said, [(name, value)], rule))
                continue
            money = cell.number.grouped or cell.number.currency or cell.number.value >= 1000
            kind = _kind(head) if head and _kind(head) != "either" else ("budget" if money else "projects")
            if group is None and row is table.total:
                value = figures.budget_usd.total if kind == "budget" else Decimal(figures.projects)
                what = "total budget (USD)" if kind == "budget" else "number of projects"
                if value is not None:
                    rule, population = f"against the data: {what}", kind != "budget"
                    claims.append(_Claim(cell.number, said, [(what, value)], rule, population=population))
            elif group is not None:
                amount = group.budget if kind == "budget" else Decimal(group.projects)
                what = f"budget of {group.name}" if kind == "budget" else f"projects in {group.name}"
                if amount is not None:
                    claims.append(_Claim(cell.number, said, [(kind, amount)], f"against the data: {what}"))
                if cell.pct and (targets := group.targets(kind)):
                    claims.append(_Claim(cell.pct, said, targets, f"against the data: {group.share_rule(kind)}"))
    return claims


def check_portfolio(
    text: str, tables: list[Table], stream: Stream, figures: PortfolioStats
) -> tuple[list[tuple[int, Finding]], int, int]:
    """Compare the claims passage by passage (a table, or claims less than GAP characters apart).

    A claim is compared when the nearest statement of a number of projects before it ("all 14 projects", a TOTAL
    row) is the portfolio's; the other claims of a passage only when two thirds of the passage agree with the data.
    """
    populations = sorted((m.start("n"), printed(m["n"]).value) for m in _POPULATION.finditer(stream.text))

    def population(pos: int) -> Decimal | None:
        before = [value for at, value in populations if pos - 400 <= at <= pos]
        return before[-1] if before else None

    groups = _groups(figures)
    clusters: list[list[_Claim]] = []
    for claim in sorted(_prose_claims(text, figures, groups), key=lambda c: c.number.pos):
        claim.scope = population(claim.number.pos)
        if clusters and claim.number.pos - clusters[-1][-1].number.pos <= GAP:
            clusters[-1].append(claim)
        else:
            clusters.append([claim])
    for table in tables:
        if found := _table_claims(table, figures, groups):
            scope = next((c.number.value for c in found if c.population), population(table.start))
            for claim in found:
                claim.scope = scope
            clusters.append(found)
    for cluster in clusters:
        for claim in cluster:
            claim.in_scope = claim.scope == figures.projects
    return _compare(clusters, stream)


def _compare(clusters: list[list[_Claim]], stream: Stream) -> tuple[list[tuple[int, Finding]], int, int]:
    """Findings, claims compared and claims not compared: a claim out of scope is compared only when two thirds of
    its passage (``cluster``) agree with the data."""
    findings: list[tuple[int, Finding]] = []
    checked = not_compared = 0
    for cluster in clusters:
        most_agree = 3 * sum(1 for c in cluster if c.agrees()) >= 2 * len(cluster)
        for c in cluster:
            if not c.in_scope and not most_agree:
                not_compared += 1
                continue
            checked += 1
            if not c.agrees():
                findings.append((c.number.pos, Finding(stream.where(c.number.pos), c.claim, c.expected(), c.rule)))
    return findings, checked, not_compared


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
    for question in definition.walk():
        if question.type not in SELECTS:
            continue
        result = tabulate(session, review, question.path)
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


def _end(text: str, number: Printed) -> int:
    """Where a printed number ends, with its "%", "per cent" or "projects" and a closing bracket."""
    end = number.pos + len(number.text)
    return end + (len(u.group(0)) if (u := re.match(rf"\s*(?:{PU}|{_UNIT})?\s*\)?", text[end:], FLAGS)) else 0)


def _span(text: str, head: tuple[int, int], tail: tuple[int, int]) -> str:
    """The printed claim, from the label to its numbers (or back), shortened in the middle when long."""
    said = " ".join(text[head[0] : tail[1]].split()).rstrip(":")
    if len(said) > 70:
        said = " ".join(f"{text[head[0] : head[1]]} … {text[tail[0] : tail[1]]}".split())
    return said[:-1] if said.endswith(")") and said.count(")") > said.count("(") else said


def _claims(found: _Statement, label: _Label, said: str, in_table: bool = False) -> list[_Claim] | None:
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
            claims.append(_Claim(total, said, targets, f"against the data: number answering {what}"))
        else:
            return None
    name = f"'{label.text}' to {' or '.join(dict.fromkeys(a.question for a in answers))}"
    if count is not None:
        targets = [(a.question, Decimal(k)) for a in answers for k in dict.fromkeys((a.n, a.units_n))]
        claims.append(_Claim(count, said, targets, f"against the data: number answering {name}"))
    if found.share is not None:
        of_units = [total is not None and total.value == a.units != a.answered for a in answers]
        targets = [(a.question, v) for a, u in zip(answers, of_units, strict=True) if (v := a.share(u)) is not None]
        whom = f" of all {UNIT_WORDS.get(answers[0].unit, 'units')}" if any(of_units) else ""
        claims.append(_Claim(found.share, said, targets, f"against the data: share{whom} answering {name}"))
    for claim in claims:
        claim.in_scope = in_scope
    return claims


def _quoted(pre: str | None) -> bool:
    return pre is not None and pre != "" and not pre[0].isalpha()


def _prose_claims_about(text: str, labels: list[_Label]) -> tuple[list[_Claim], int]:
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
    claims: list[_Claim] = []
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


def _table_claims_about(table: Table, labels: list[_Label]) -> list[list[_Claim]]:
    """Claims in the rows of a table named by a choice label: one passage per column (a cross-tab's columns are
    groups of units; its Total column is the question's)."""
    columns: dict[int, list[_Claim]] = {}
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
    clusters: list[list[_Claim]] = []
    for claim in sorted(claims, key=lambda c: c.number.pos):
        if clusters and claim.number.pos - clusters[-1][-1].number.pos <= GAP:
            clusters[-1].append(claim)
        else:
            clusters.append([claim])
    for table in tables:
        clusters += _table_claims_about(table, labels)
    findings, checked, not_compared = _compare(clusters, stream)
    return findings, checked, not_compared + other


def audit_figures(
    session: Session, *, portfolio: str | None, review: str | None, form: str | None, what: str
) -> tuple[PortfolioStats | None, SurveyFigures | None]:
    """The data a report is compared with: a portfolio's statistics, a review's answers (and its portfolio)."""
    figures: PortfolioStats | None = None
    survey: SurveyFigures | None = None
    if review is not None or form is not None:
        found = reviews.review_for(session, review=review, form=form)
        if review is not None and form is not None and (found.form is None or found.form.name != form):
            message = f"review {found.name} does not use form {form}; give one of --review and --form"
            raise BadInput([Problem("--form", 0, "-", message)], message=f"cannot audit {what}")
        survey = survey_figures(session, found)
        portfolio = portfolio or reviews.portfolio_name(session, found)
    if portfolio is not None:
        figures = portfolio_stats(session, portfolio)
    return figures, survey
