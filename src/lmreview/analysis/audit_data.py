"""Against the data: figures of a report compared with a portfolio's statistics (the answers to a review's
questionnaire are in :mod:`lmreview.analysis.audit_survey`, which shares :class:`Claim` and :func:`compare`).

* **Portfolio** (:class:`~lmreview.portfolio.stats.PortfolioStats`): shares, project counts and budgets next to a
  region, category, funding year or fund line; totals, means, medians, minima and maxima of budget, duration and
  no-cost extensions. Compared when the nearest "all/the N projects" (or TOTAL row) before a claim names the
  portfolio's number of projects, or when two thirds of its passage agree with the data.

A passage is a table (a column of it, for answers) or claims less than ``GAP`` characters apart.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from lmreview.analysis.documents import (
    FLAGS,
    GAP,
    NB,
    NUMBER,
    PU,
    Finding,
    Printed,
    Stream,
    Table,
    W,
    money_at,
    printed,
    said_between,
    sentence,
    short,
    unit_of,
)
from lmreview.figures import Summary

if TYPE_CHECKING:
    from lmreview.portfolio.stats import PortfolioStats

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
class Claim:
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


def _label_claims(text: str, groups: list[_Group], used: set[int]) -> list[Claim]:
    """Shares, counts and budgets printed after a group's name in the same sentence, before the next name, and
    "N (P%) are <name>" before it; only the first share, count and budget of each kind are the group's."""
    labels = sorted((m.start(), m.end(), g) for g in groups for m in g.prose.finditer(text))
    claims: list[Claim] = []
    slots: set[tuple[int, str]] = set()

    def add(slot: tuple[int, str], number: Printed, targets: list[tuple[str, Decimal]], rule: str, said: str) -> None:
        if targets and number.pos not in used and slot not in slots:
            used.add(number.pos)
            slots.add(slot)
            claims.append(Claim(number, said, targets, f"against the data: {rule}"))

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


def _stat_claims(text: str, figures: PortfolioStats, used: set[int]) -> list[Claim]:
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
                claims.append(Claim(number, said_between(text, m.start(), m.end(), number), [(stat, value)], rule))
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


def _prose_claims(text: str, figures: PortfolioStats, groups: list[_Group]) -> list[Claim]:
    used: set[int] = set()
    claims = _label_claims(text, groups, used)
    for m in _POPULATION.finditer(text):  # "all 14 projects" (but not "the three projects selected", "all 5 in Asia")
        about = m["words"] + text[m.end() : m.end() + 30]
        whole = m["det"].lower().startswith(("all", "total")) and m.start("n") not in used
        if whole and not any(g.prose.search(about) for g in groups):
            number = printed(m["n"], m.start("n"))
            used.add(number.pos)
            rule = "against the data: number of projects"
            claims.append(Claim(number, short(m.group(0)), [("projects", Decimal(figures.projects))], rule, True))
    return claims + _stat_claims(text, figures, used)


def _table_claims(table: Table, figures: PortfolioStats, groups: list[_Group]) -> list[Claim]:
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
                    claims.append(Claim(cell.number, said, [(name, value)], rule))
                continue
            money = cell.number.grouped or cell.number.currency or cell.number.value >= 1000
            kind = _kind(head) if head and _kind(head) != "either" else ("budget" if money else "projects")
            if group is None and row is table.total:
                value = figures.budget_usd.total if kind == "budget" else Decimal(figures.projects)
                what = "total budget (USD)" if kind == "budget" else "number of projects"
                if value is not None:
                    rule, population = f"against the data: {what}", kind != "budget"
                    claims.append(Claim(cell.number, said, [(what, value)], rule, population=population))
            elif group is not None:
                amount = group.budget if kind == "budget" else Decimal(group.projects)
                what = f"budget of {group.name}" if kind == "budget" else f"projects in {group.name}"
                if amount is not None:
                    claims.append(Claim(cell.number, said, [(kind, amount)], f"against the data: {what}"))
                if cell.pct and (targets := group.targets(kind)):
                    claims.append(Claim(cell.pct, said, targets, f"against the data: {group.share_rule(kind)}"))
    return claims


def check_portfolio(
    text: str, tables: list[Table], stream: Stream, figures: PortfolioStats
) -> tuple[list[tuple[int, Finding]], int, int]:
    """Compare the claims passage by passage (a table, or claims less than GAP characters apart).

    A claim is compared when the nearest statement of a number of projects before it ("all 14 projects", a TOTAL
    row) is the portfolio's; the other claims of a passage only when two thirds of the passage agree with the data.
    """
    populations = sorted((m.start("n"), printed(m["n"]).value) for m in _POPULATION.finditer(stream.text))
    places = [at for at, _ in populations]

    def population(pos: int) -> Decimal | None:
        """The last number of projects stated in the 400 characters up to ``pos``."""
        last = bisect_right(places, pos) - 1
        return populations[last][1] if last >= 0 and places[last] >= pos - 400 else None

    groups = _groups(figures)
    clusters: list[list[Claim]] = []
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
    return compare(clusters, stream)


def compare(clusters: list[list[Claim]], stream: Stream) -> tuple[list[tuple[int, Finding]], int, int]:
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
