"""The number audit: printed shares and totals that do not add up, and figures that differ from the portfolio.

:func:`audit_text` reads the blocks of a report (see :mod:`lmreview.analysis.documents`) and checks its numbers:

* **Tables**: each share printed beside a count or an amount ("6 (23%)", "831,000 (23.5%)", or a "%" cell after the
  number) against the TOTAL row, the column sum (when the shares add up to about 100), or, in a table of row
  percentages, the row's own total; each TOTAL against its column sum, when the column's shares make up a whole
  (a TOTAL that is a base, such as the number of projects in a table of challenges, is not a sum).
* **Prose**: "N of T (P%)" against T; the pairs of a sentence that opens with "Of the 39 projects," against 39; other
  pairs ("N (P%)", "(N projects, P per cent)", "P% of ... (N projects)") of a sentence or passage against a total that
  is evident: the sum of their counts when it is printed nearby or most pairs agree with it, or a printed number most
  of them agree with. A lone "N (P%)" with no such total is not checked.
* **Against the data** (``figures``): shares, project counts and budgets printed next to a region, category,
  funding year or fund line, and totals, means, medians, minima and maxima of budget, duration and no-cost
  extensions, against lmreview's figures. Figures about other projects are not compared: a claim is compared when
  the nearest "all/the N projects" (or TOTAL row) before it names the portfolio's number of projects, or when two
  thirds of its passage agree with the data.

A printed number agrees with an exact value when it is that value rounded half up, rounded half down or truncated to
the printed decimals; only numbers that agree with no reading of any acceptable total are findings.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from lmreview.analysis.documents import (
    CUR,
    FLAGS,
    NB,
    NUMBER,
    PU,
    TOTAL,
    Block,
    Printed,
    Row,
    Stream,
    Table,
    W,
    currency_of,
    find_tables,
    printed,
    unit_of,
)
from lmreview.figures import Summary

if TYPE_CHECKING:
    from lmreview.portfolio.stats import PortfolioStats

_IDENTIFIER = re.compile(
    r"(?:\b(?:no|nos|figure|fig|table|annex|outcome|output|indicator|goal|sdg|line|page|pp?|article|art|section|"
    r"chapter|recommendation|finding|step|phase|priority|objective|category|box|question|item|level|round|"
    r"convention|para|paragraph|target|lm|c|r)\.?|[#§])\s*$",
    FLAGS,
)
_PAIRS = [  # "N of T (P%)", "N/T (P%)", "P% (N of T)", "(N projects, P%)", "N words (P%)", "P% of ... (N projects)"
    rf"(?P<n>{NB})\s+(?:out\s+)?of\s+(?:the\s+|all\s+|those\s+|these\s+)?(?P<t>{NB})(?:\s+{W}){{0,6}}\s*[(,]\s*(?P<p>{NB})\s*(?P<pu>{PU})",
    rf"(?P<n>{NB})\s*/\s*(?P<t>{NB})\s*[(,]?\s*(?P<p>{NB})\s*(?P<pu>{PU})",
    rf"(?P<p>{NB})\s*(?P<pu>{PU})\s*\(\s*(?P<n>{NB})\s*(?:/|(?:out\s+)?of)\s*(?P<t>{NB})\s*\)",
    rf"\(\s*(?P<n>{NB})(?:\s+{W}){{0,3}}\s*,\s*(?P<p>{NB})\s*(?P<pu>{PU})\s*\)",
    rf"(?P<n>{NB})(?:\s+{W}){{0,6}}?\s*\(\s*(?P<p>{NB})\s*(?P<pu>{PU})[^()0-9]{{0,40}}\)",
    rf"(?P<p>{NB})\s*(?P<pu>{PU})(?:\s+{W}){{0,6}}\s*\(\s*(?P<n>{NB})(?:\s+{W}){{0,2}}\s*\)",
]
_PAIR_RES = [re.compile(p, FLAGS) for p in _PAIRS]
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
_LINKED = re.compile(
    rf"\b(?:of|from|among|out\s+of)\s+(?:the\s+|those\s+|these\s+|all\s+)?(?:(?P<t>{NB})\s+)?(?:{W}\s+){{0,4}}?{W}\s*,",
    FLAGS,
)
_ROUNDED = re.compile(r"'000|000s|thousands?|millions?|\b(?:k|m|mn|bn)\b", FLAGS)  # a column of rounded amounts
_OF_WHICH = re.compile(r"\s*(?:of|among)\s+(?:which|whom|them|these|those)\b", FLAGS)  # a share of a share
_BEFORE_LABEL = re.compile(
    rf"(?P<n>{NB})\s*\(\s*(?P<p>{NB})\s*(?P<pu>{PU})\s*\)\s+(?:are|were|is|was|in|from|for|to|of)\s+(?:the\s+)?$", FLAGS
)
_SENTENCE_END = re.compile(r"[.;!?](?=\s|$)|\n\s*\n\s*\n")
GAP = 300  # characters between two pairs or claims that still belong to one passage


@dataclass(frozen=True, slots=True)
class Finding:
    """A printed number that does not add up, with the value it should have had as it would be printed."""

    location: str
    claim: str
    expected: str
    rule: str

    def as_json(self) -> dict[str, str]:
        return {"location": self.location, "claim": self.claim, "expected": self.expected, "rule": self.rule}


@dataclass(frozen=True, slots=True)
class AuditResult:
    """The findings in reading order; ``checked`` numbers were compared; ``not_compared`` figures were about other
    projects than the portfolio's (only with figures)."""

    findings: list[Finding]
    checked: int
    not_compared: int = 0


def _short(text: str, limit: int = 70) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _pair_at(row: Row, j: int) -> tuple[Printed, Printed, str] | None:
    """(number, share, printed text) at column j: "6 (23%)" in one cell, or a number with a "%" cell after it."""
    cell, after = row.parsed.get(j), row.parsed.get(j + 1)
    if cell and not cell.is_pct and cell.pct:
        return cell.number, cell.pct, cell.text
    if cell and not cell.is_pct and after and after.is_pct:
        return cell.number, after.number, f"{cell.text} {after.text}"
    return None


def _near_100(shares: Sequence[Printed]) -> bool:
    """Shares that add up to 100, give or take what rounding or truncating each of them can lose."""
    unit = Decimal(1).scaleb(-min(p.places for p in shares))
    return abs(sum((p.value for p in shares), Decimal(0)) - 100) <= len(shares) * unit


def _row_totals(table: Table) -> dict[int, list[Decimal]]:
    """Each row's own totals, for a table of row percentages (a cross-tab): its Total column, and the sum of its counts
    when the shares of most rows add up to about 100."""
    pairs = {r.pos: [pair for j in range(1, len(r.cells)) if (pair := _pair_at(r, j))] for r in table.data}
    near = [_near_100([p for _, p, _ in ps]) for ps in pairs.values() if len(ps) >= 2]
    by_row = 2 * sum(near) >= len(near) > 0
    totals = {}
    for row in table.data:
        own = [c.number.value for j, c in row.parsed.items() if TOTAL.match(table.head(j)) and not c.is_pct]
        if by_row and len(pairs[row.pos]) >= 2:
            own.append(sum((n.value for n, _, _ in pairs[row.pos]), Decimal(0)))
        totals[row.pos] = own
    return totals


def _check_table(table: Table, stream: Stream) -> tuple[list[tuple[int, Finding]], int]:
    """Shares against the TOTAL row, the column sum or the row's own total; the TOTAL row against the column sum."""
    findings: list[tuple[int, Finding]] = []
    checked = 0
    row_totals = _row_totals(table)
    for j in range(1, max(len(r.cells) for r in table.rows)):
        data, pairs = table.data, [(row, *pair) for row in table.data if (pair := _pair_at(row, j))]
        numbers = [c.number for r in data if (c := r.parsed.get(j)) and not c.is_pct]
        column_sum = sum((n.value for n in numbers), Decimal(0)) if len(numbers) == len(data) >= 2 else None
        total_cell = table.total.parsed.get(j) if table.total else None
        stated = total_cell.number if total_cell and not total_cell.is_pct else None
        shares = [p for _, _, p, _ in pairs]
        of_sum = sum(1 for _, n, p, _ in pairs if column_sum and p.agrees(100 * n.value / column_sum))
        if pairs:  # the TOTAL is their sum when the shares make up a whole, not a base such as the respondents
            is_sum = _near_100(shares) or 2 * of_sum > len(pairs)
        else:
            is_sum = bool(table.total and re.fullmatch(r"(?:grand\s+)?total\W*", table.total.label, FLAGS))
        if stated and total_cell and column_sum is not None and table.total and is_sum:
            checked += 1
            rounded = any(n.places for n in numbers) or re.search(_ROUNDED, table.head(j))
            unit = Decimal(1).scaleb(-min(n.places for n in numbers))
            if abs(column_sum - stated.value) > (len(numbers) * unit / 2 if rounded else 0):
                claim = _short(f"{table.total.label}: {total_cell.text}")
                where = stream.where(table.total.pos)
                findings.append((table.total.pos, Finding(where, claim, stated.render(column_sum), "column sum")))
        totals = [stated.value] if stated and stated.value > 0 else []
        if column_sum and column_sum not in totals and pairs and (stated or _near_100(shares)):
            totals.append(column_sum)
        agree = [any(p.agrees(100 * n.value / t) for t in row_totals[r.pos] + totals if t > 0) for r, n, p, _ in pairs]
        split = any(not r.parsed[j].pct for r, _, _, _ in pairs)  # "6 | 23%": is the % column really of this one?
        if not totals or (split and 2 * sum(agree) <= len(agree)):
            continue
        for (row, number, share, text), ok in zip(pairs, agree, strict=True):
            checked += 1
            if not ok:
                own = row_totals[row.pos]
                rule = "share of row total" if own else "share of total row" if stated else "share of column sum"
                expected = share.render(100 * number.value / (own + totals)[0])
                finding = Finding(stream.where(row.pos), _short(f"{row.label}: {text}"), expected, rule)
                findings.append((row.pos, finding))
    return findings, checked


# --- prose -------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Pair:
    n: Printed
    p: Printed
    t: Printed | None
    start: int
    end: int

    @property
    def spans(self) -> list[int]:
        return [x.pos for x in (self.n, self.p, self.t) if x is not None]


def _is_count(text: str, number: Printed) -> bool:
    return not number.is_year and not _IDENTIFIER.search(text[max(0, number.pos - 25) : number.pos])


def _prose_pairs(text: str) -> list[_Pair]:
    found: list[_Pair] = []
    taken: set[int] = set()
    for pattern in _PAIR_RES:
        for m in pattern.finditer(text):
            n = printed(m["n"], m.start("n"))
            p = printed(m["p"], m.start("p"), unit_of(m["pu"]))
            t = printed(m["t"], m.start("t")) if "t" in m.groupdict() else None
            if {n.pos, p.pos} & taken or not _is_count(text, n) or (t and not _is_count(text, t)):
                continue
            found.append(_Pair(n, p, t, m.start(), m.end()))
            taken.update(found[-1].spans)
    return sorted(found, key=lambda pair: pair.start)


def _passages(items: Sequence[_Pair], gap: int = GAP) -> list[list[_Pair]]:
    groups: list[list[_Pair]] = []
    for item in items:
        if groups and item.start - groups[-1][-1].end <= gap:
            groups[-1].append(item)
        else:
            groups.append([item])
    return groups


def _stated_totals(text: str, group: list[_Pair]) -> set[Decimal]:
    """Counts printed shortly before or among the pairs that could be their total ("Of the 39 projects, ...")."""
    taken = {x for pair in group for x in pair.spans}
    largest = max(pair.n.value for pair in group)
    start = max(0, group[0].start - GAP)
    totals = set()
    for m in NUMBER.finditer(text, start, group[-1].end):
        number = printed(m.group(0), m.start())
        if m.start() in taken or number.value < largest or not _is_count(text, number):
            continue
        if not re.match(rf"\s*(?:{PU})", text[m.end() : m.end() + 10], FLAGS):
            totals.add(number.value)
    return totals


def _agreeing(group: Sequence[_Pair], total: Decimal) -> int:
    return sum(1 for pair in group if total > 0 and pair.p.agrees(100 * pair.n.value / total))


def _evident_total(text: str, group: list[_Pair]) -> tuple[Decimal, str] | None:
    stated = _stated_totals(text, group)
    summed = sum((pair.n.value for pair in group), Decimal(0))
    size = len(group)
    if size >= 2 and summed in stated:
        return summed, "percentage of stated total"
    agree = _agreeing(group, summed)
    if size >= 2 and (_near_100([pair.p for pair in group]) or (agree >= 2 and 2 * agree > size)):
        return summed, "percentage of evident total"
    best = max(stated, key=lambda total: (_agreeing(group, total), -total), default=None)
    if best is not None and (agree := _agreeing(group, best)) >= 2 and 2 * agree > size:
        return best, "percentage of stated total"
    return None


def _check_prose(text: str, stream: Stream) -> tuple[list[tuple[int, Finding]], int]:
    findings: list[tuple[int, Finding]] = []
    checked = 0
    pairs = _prose_pairs(text)

    def check(pair: _Pair, total: Decimal, rule: str) -> None:
        nonlocal checked
        if total <= 0 or pair.n.value > total:
            return
        checked += 1
        if not pair.p.agrees(100 * pair.n.value / total):
            claim = _short(text[pair.start : pair.end])
            expected = pair.p.render(100 * pair.n.value / total)
            findings.append((pair.p.pos, Finding(stream.where(pair.p.pos), claim, expected, rule)))

    rest = []
    for pair in pairs:
        linked = list(_LINKED.finditer(text, _sentence(text, pair.start)[0], pair.start))
        if pair.t is not None:
            check(pair, pair.t.value, "percentage of stated total")
        elif (
            linked
            and linked[-1]["t"]
            and _is_count(text, t := printed(linked[-1]["t"], linked[-1].start("t")))
            and not _OF_WHICH.match(text, pair.end)
        ):
            check(pair, t.value, "percentage of stated total")  # "Of the 39 projects, 27 (69 per cent) ..."
        else:
            rest.append(pair)
    for passage in _passages(rest):  # the total of each sentence's pairs, else of the passage's
        sentences: dict[int, list[_Pair]] = {}
        for pair in passage:
            sentences.setdefault(_sentence(text, pair.start)[0], []).append(pair)
        whole = _evident_total(text, passage)
        for group in sentences.values():
            if evident := _evident_total(text, group) or whole:
                for pair in group:
                    check(pair, *evident)
    return findings, checked


# --- against the data ---------------------------------------------------------------------------------------------


@dataclass
class _Claim:
    number: Printed
    claim: str
    targets: list[tuple[str, Decimal]]  # (what, exact value): the claim agrees when it agrees with one of them
    rule: str
    population: bool = False  # "all 14 projects", a TOTAL row: also says which projects the passage is about
    scope: Decimal | None = None  # the number of projects the passage is about, when it says so

    def agrees(self) -> bool:
        return any(self.number.agrees(value) for _, value in self.targets)

    def expected(self) -> str:
        if len(self.targets) == 1:
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


def _sentence(text: str, pos: int) -> tuple[int, int]:
    start = max((m.end() for m in _SENTENCE_END.finditer(text, max(0, pos - 400), pos)), default=max(0, pos - 400))
    end = _SENTENCE_END.search(text, pos)
    return start, end.start() if end else len(text)


def _money(text: str, m: re.Match[str]) -> Printed | None:
    """The amount at ``m`` when it reads as money: a currency before or after it, or thousands separators (not
    "USD 1.65 million": amounts in millions or thousands are not compared)."""
    if re.match(r"\s*(?:million|billion|thousand|mn|bn|m|k)\b", text[m.end() : m.end() + 10], FLAGS):
        return None
    cur = re.search(rf"({CUR})\s?$", text[max(0, m.start() - 6) : m.start()], FLAGS)
    number = printed(m.group(0), m.start(), currency=currency_of(cur.group(1)) if cur else "")
    if cur or number.grouped or re.match(r"\s*(?:USD|US\$)", text[m.end() : m.end() + 6]):
        return number
    return None


def _said(text: str, start: int, label_end: int, number: Printed) -> str:
    """The printed claim, from the label or keyword to the number, shortened in the middle when long."""
    end = number.pos + len(number.text)
    end += len(u.group(0)) if (u := re.match(rf"\s*(?:{PU}|months?\b)\s*\)?", text[end:], FLAGS)) else 0
    said = " ".join(text[start:end].split())
    if len(said) <= 60:
        return said + (")" if said.count("(") > said.count(")") and text[end : end + 1] == ")" else "")
    return " ".join(f"{text[start:label_end]} … {text[number.pos : end]}".split())


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
            kind, said = ("budget" if n.grouped else "projects"), _short(text[b.start() : end])
            if not n.grouped:
                add((i, "count"), n, count, f"projects in {group.name}", said)
            add((i, f"share {kind}"), share, group.targets(kind), group.share_rule(kind), said)
        stop = min(end + 160, _sentence(text, end)[1], labels[i + 1][0] if i + 1 < len(labels) else len(text))
        for m in NUMBER.finditer(text, end, stop):
            number, after = printed(m.group(0), m.start()), text[m.end() : m.end() + 40]
            if u := re.match(rf"\s*({PU})", after, FLAGS):
                number = printed(m.group(0), m.start(), unit_of(u.group(1)))
                kind, said = (
                    _kind(text[_sentence(text, start)[0] : m.start()], after[u.end() :]),
                    _said(text, start, end, number),
                )
                add((i, f"share {kind}"), number, group.targets(kind), group.share_rule(kind), said)
            elif not (number.places or number.grouped) and re.match(rf"\s+(?:{W}\s+){{0,2}}?projects?\b", after, FLAGS):
                add((i, "count"), number, count, f"projects in {group.name}", _said(text, start, end, number))
            elif (money := _money(text, m)) and group.budget is not None:
                said = _said(text, start, end, money)
                add((i, "budget"), money, [("budget", group.budget)], f"budget of {group.name}", said)
    return claims


def _stat_claims(text: str, figures: PortfolioStats, used: set[int]) -> list[_Claim]:
    """ "The average budget was USD 117,857.14", "a median of 18 months": a statistic, a measure, a number."""
    claims = []
    for m in _STAT.finditer(text):
        stat = STATS[m["stat"].lower()]
        s_start, s_end = _sentence(text, m.start())
        following = _STAT.search(text, m.end(), s_end)
        for n in NUMBER.finditer(text, m.end(), following.start() if following else s_end):
            measure = _measure(text[s_start : n.start()]) or _measure(text[n.end() : s_end], last=False)
            if n.start() in used or measure is None:
                continue
            if measure == "budget_usd":
                number = _money(text, n)
            else:
                months = re.match(r"\s*months?\b", text[n.end() : n.end() + 10], FLAGS)
                number = printed(n.group(0), n.start(), unit=" months") if months else None
            if number is None:
                continue
            summary: Summary = getattr(figures, measure)
            if (value := getattr(summary, stat)) is not None:
                used.add(n.start())
                rule = f"against the data: {stat} {MEASURES[measure][1]}"
                claims.append(_Claim(number, _said(text, m.start(), m.end(), number), [(stat, value)], rule))
            break
    return claims


def _measure(text: str, last: bool = True) -> str | None:
    hits = [(m.start(), name) for name, (words, _) in MEASURES.items() for m in re.finditer(words, text, FLAGS)]
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
            claims.append(_Claim(number, _short(m.group(0)), [("projects", Decimal(figures.projects))], rule, True))
    return claims + _stat_claims(text, figures, used)


def _table_claims(table: Table, figures: PortfolioStats, groups: list[_Group]) -> list[_Claim]:
    """A table whose rows are groups (and a TOTAL row), or whose rows and columns name a measure and a statistic."""
    claims = []
    for row in [*table.data, *([table.total] if table.total else [])]:
        group = next((g for g in groups if g.label.fullmatch(row.label)), None)
        for j, cell in row.parsed.items():
            head, said = table.head(j), _short(f"{row.label}: {cell.text}")
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


def _check_data(
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
    findings: list[tuple[int, Finding]] = []
    checked = not_compared = 0
    for cluster in clusters:
        most_agree = 3 * sum(1 for c in cluster if c.agrees()) >= 2 * len(cluster)
        for c in cluster:
            if c.scope != figures.projects and not most_agree:
                not_compared += 1
                continue
            checked += 1
            if not c.agrees():
                findings.append((c.number.pos, Finding(stream.where(c.number.pos), c.claim, c.expected(), c.rule)))
    return findings, checked, not_compared


# --- the audit ---------------------------------------------------------------------------------------------------


def audit_text(blocks: Sequence[Block], figures: PortfolioStats | None = None) -> AuditResult:
    """Check the numbers of a document; with ``figures`` also against a portfolio's statistics.

    Example: ``audit_text(text_blocks("Africa\\t6 (25%)\\nAsia\\t18 (75%)\\nTOTAL\\t24 (100%)"))`` has no finding.
    """
    stream = Stream(blocks)
    tables = find_tables(stream)
    prose = _mask(stream.text, ((t.start, t.end) for t in tables))
    findings, checked = _check_prose(prose, stream)
    for table in tables:
        more, n = _check_table(table, stream)
        findings += more
        checked += n
    not_compared = 0
    if figures is not None:
        more, n, not_compared = _check_data(prose, tables, stream, figures)
        findings += more
        checked += n
    findings.sort(key=lambda item: item[0])
    return AuditResult([f for _, f in findings], checked, not_compared)


def _mask(text: str, spans: Iterable[tuple[int, int]]) -> str:
    """The text with tables and web addresses blanked out (by a character no pattern crosses), positions unchanged."""
    chars = list(text)
    for start, end in [*spans, *(m.span() for m in re.finditer(r"\b(?:https?://|www\.)\S+", text))]:
        chars[start:end] = "\x00" * (end - start)
    return "".join(chars)
