"""The number audit: printed shares and totals that do not add up, and figures that differ from the data.

:func:`audit_text` reads the blocks of a report (see :mod:`lmreview.analysis.documents`) and checks its numbers:

* **Tables**: each share printed beside a count or an amount ("6 (23%)", "831,000 (23.5%)", or a "%" cell after the
  number) against the TOTAL row, the column sum (when the shares add up to about 100), or, in a table of row
  percentages, the row's own total; each TOTAL against its column sum, when the column's shares make up a whole
  (a TOTAL that is a base, such as the number of projects in a table of challenges, is not a sum).
* **Prose**: "N of T (P%)" against T; the pairs of a sentence that opens with "Of the 39 projects," against 39; other
  pairs ("N (P%)", "(N projects, P per cent)", "P% of ... (N projects)") of a sentence or passage against a total that
  is evident: the sum of their counts when it is printed nearby or most pairs agree with it, or a printed number most
  of them agree with. A lone "N (P%)" with no such total is not checked.
* **Against the data**: with ``figures`` (:mod:`~lmreview.analysis.audit_data`), shares, project counts and budgets
  printed next to a region, category, funding year or fund line, and totals, means, medians, minima and maxima of
  budget, duration and no-cost extensions; with ``survey`` (:mod:`~lmreview.analysis.audit_survey`), shares, counts
  and denominators printed next to a choice label of the review's questionnaire. Figures about other projects or
  other questions are not compared.

A printed number agrees with an exact value when it is that value rounded half up, rounded half down or truncated to
the printed decimals; only numbers that agree with no reading of any acceptable total are findings.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from itertools import accumulate
from typing import TYPE_CHECKING

from lmreview.analysis.audit_coding import review_figures
from lmreview.analysis.audit_data import check_portfolio
from lmreview.analysis.audit_survey import SurveyFigures, check_survey
from lmreview.analysis.documents import (
    FLAGS,
    GAP,
    LINKED,
    NB,
    NUMBER,
    OF_WHICH,
    PU,
    TOTAL,
    Block,
    Finding,
    Printed,
    Row,
    Stream,
    Table,
    W,
    find_tables,
    is_count,
    printed,
    sentence_start,
    short,
    unit_of,
)
from lmreview.errors import BadInput, Problem
from lmreview.portfolio.stats import portfolio_stats
from lmreview.questionnaire import reviews

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from lmreview.portfolio.stats import PortfolioStats

__all__ = ["AuditResult", "Finding", "audit_figures", "audit_text"]

_UNITS = r"(?:projects|projets|respondents|répondants)"  # "4 projects out of 7", "4 projets sur 7"
_PAIRS = [  # "N of T (P%)", "N/T (P%)", "P% (N of T)", "(N projects, P%)", "N words (P%)", "P% of ... (N projects)"
    rf"(?P<n>{NB})(?:\s+{_UNITS})?\s+(?:(?:out\s+)?of|sur)\s+(?:the\s+|all\s+|those\s+|these\s+)?(?P<t>{NB})"
    rf"(?:\s+{W}){{0,6}}\s*[(,]\s*(?P<p>{NB})\s*(?P<pu>{PU})",
    rf"(?P<n>{NB})\s*/\s*(?P<t>{NB})\s*[(,]?\s*(?P<p>{NB})\s*(?P<pu>{PU})",
    rf"(?P<p>{NB})\s*(?P<pu>{PU})\s*\(\s*(?P<n>{NB})\s*(?:/|(?:out\s+)?of)\s*(?P<t>{NB})\s*\)",
    rf"\(\s*(?P<n>{NB})(?:\s+{W}){{0,3}}\s*,\s*(?P<p>{NB})\s*(?P<pu>{PU})\s*\)",
    rf"(?P<n>{NB})(?:\s+{W}){{0,6}}?\s*\(\s*(?P<p>{NB})\s*(?P<pu>{PU})[^()0-9]{{0,40}}\)",
    rf"(?P<p>{NB})\s*(?P<pu>{PU})(?:\s+{W}){{0,6}}\s*\(\s*(?P<n>{NB})(?:\s+{W}){{0,2}}\s*\)",
]
_PAIR_RES = [re.compile(p, FLAGS) for p in _PAIRS]
_ROUNDED = re.compile(r"'000|000s|thousands?|millions?|\b(?:k|m|mn|bn)\b", FLAGS)  # a column of rounded amounts


@dataclass(frozen=True, slots=True)
class AuditResult:
    """The findings in reading order; ``checked`` numbers were compared; ``not_compared`` figures were about other
    projects than the portfolio's, or about something else than the answers next to their label (only against the
    data)."""

    findings: list[Finding]
    checked: int
    not_compared: int = 0


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
                claim = short(f"{table.total.label}: {total_cell.text}")
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
                finding = Finding(stream.where(row.pos), short(f"{row.label}: {text}"), expected, rule)
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


def _prose_pairs(text: str) -> list[_Pair]:
    found: list[_Pair] = []
    taken: set[int] = set()
    for pattern in _PAIR_RES:
        for m in pattern.finditer(text):
            n = printed(m["n"], m.start("n"))
            p = printed(m["p"], m.start("p"), unit_of(m["pu"]))
            t = printed(m["t"], m.start("t")) if "t" in m.groupdict() else None
            if {n.pos, p.pos} & taken or not is_count(text, n) or (t and not is_count(text, t)):
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


_Seen = dict[tuple[int, int], tuple[Printed, bool | None]]
_PERCENT_AFTER = re.compile(rf"\s*(?:{PU})", FLAGS)


def _stated_totals(text: str, group: list[_Pair], seen: _Seen) -> set[Decimal]:
    """Counts printed shortly before or among the pairs that could be their total ("Of the 39 projects, ...").

    The windows of neighbouring groups overlap; ``seen`` keeps what each number found is (its value, and once asked
    whether it is a count not followed by "%"), so that a line of many pairs reads each number once, not per window.
    """
    taken = {x for pair in group for x in pair.spans}
    largest = max(pair.n.value for pair in group)
    start = max(0, group[0].start - GAP)
    totals = set()
    for m in NUMBER.finditer(text, start, group[-1].end):
        known = seen.get(m.span())
        if known is None:
            number = printed(m.group(0), m.start())
            known = seen[m.span()] = (number, None)
        number, countable = known
        if number.value < largest or m.start() in taken:
            continue
        if countable is None:
            countable = is_count(text, number) and not _PERCENT_AFTER.match(text[m.end() : m.end() + 10])
            seen[m.span()] = (number, countable)
        if countable:
            totals.add(number.value)
    return totals


def _agreeing(group: Sequence[_Pair], total: Decimal) -> int:
    return sum(1 for pair in group if total > 0 and pair.p.agrees(100 * pair.n.value / total))


def _agreeing_each(group: Sequence[_Pair], totals: Iterable[Decimal]) -> dict[Decimal, int]:
    """:func:`_agreeing` for many totals at once, in O((pairs + totals) log totals) rather than pairs x totals.

    A share P printed with u = 10**-places agrees with x when x rounded half up, half down or truncated is P, that is
    when P - u/2 <= x < P + u. With x = 100 N / T (N > 0) that is 100 N / (P + u) < T <= 100 N / (P - u/2), an
    interval of totals: each pair adds 1 to the totals in its interval (a difference array over the sorted totals).
    The bounds are compared in exact integers (the totals times 10**places). A count N of 0 gives x = 0 whatever the
    total, which agrees with a share of 0 only.
    """
    ordered = sorted(t for t in set(totals) if t > 0)
    if len(group) * len(ordered) <= 1024:  # few enough to compare one by one
        return {total: _agreeing(group, total) for total in ordered}
    scale = 10 ** max(0, *(-int(t.as_tuple().exponent) for t in ordered))
    scaled = [num * scale // den for num, den in (t.as_integer_ratio() for t in ordered)]  # exact integers
    steps = [0] * (len(ordered) + 1)
    for pair in group:
        nn, nd = pair.n.value.as_integer_ratio()
        a, b = pair.p.value.as_integer_ratio()
        ten = 10**pair.p.places
        if nn == 0:
            first, last = (0, len(ordered)) if a == 0 else (0, 0)
        else:
            # T > 100 N / (P + u), with P + u = (a ten + b) / (b ten); in units of 1/scale
            first = bisect_right(scaled, 100 * nn * b * ten * scale // (nd * (a * ten + b)))
            low = 2 * a * ten - b  # P - u/2 = low / (2 b ten)
            last = bisect_right(scaled, 100 * nn * 2 * b * ten * scale // (nd * low)) if low > 0 else len(ordered)
        if first < last:
            steps[first] += 1
            steps[last] -= 1
    counts = list(accumulate(steps))
    return {total: counts[i] for i, total in enumerate(ordered)}


def _evident_total(text: str, group: list[_Pair], seen: _Seen) -> tuple[Decimal, str] | None:
    if len(group) < 2:  # each rule below needs two pairs that agree
        return None
    stated = _stated_totals(text, group, seen)
    summed = sum((pair.n.value for pair in group), Decimal(0))
    size = len(group)
    if size >= 2 and summed in stated:
        return summed, "percentage of stated total"
    agree = _agreeing(group, summed)
    if size >= 2 and (_near_100([pair.p for pair in group]) or (agree >= 2 and 2 * agree > size)):
        return summed, "percentage of evident total"
    agreeing = _agreeing_each(group, stated)
    best = max(stated, key=lambda total: (agreeing.get(total, 0), -total), default=None)
    if best is not None and (agree := agreeing.get(best, 0)) >= 2 and 2 * agree > size:
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
            claim = short(text[pair.start : pair.end])
            expected = pair.p.render(100 * pair.n.value / total)
            findings.append((pair.p.pos, Finding(stream.where(pair.p.pos), claim, expected, rule)))

    rest = []
    seen: _Seen = {}
    for pair in pairs:
        linked = list(LINKED.finditer(text, sentence_start(text, pair.start), pair.start))
        if pair.t is not None:
            check(pair, pair.t.value, "percentage of stated total")
        elif (
            linked
            and linked[-1]["t"]
            and is_count(text, t := printed(linked[-1]["t"], linked[-1].start("t")))
            and not OF_WHICH.match(text, pair.end)
        ):
            check(pair, t.value, "percentage of stated total")  # "Of the 39 projects, 27 (69 per cent) ..."
        else:
            rest.append(pair)
    for passage in _passages(rest):  # the total of each sentence's pairs, else of the passage's
        sentences: dict[int, list[_Pair]] = {}
        for pair in passage:
            sentences.setdefault(sentence_start(text, pair.start), []).append(pair)
        whole = _evident_total(text, passage, seen)
        for group in sentences.values():
            if evident := _evident_total(text, group, seen) or whole:
                for pair in group:
                    check(pair, *evident)
    return findings, checked


# --- the audit ---------------------------------------------------------------------------------------------------


def audit_text(
    blocks: Sequence[Block], figures: PortfolioStats | None = None, survey: SurveyFigures | None = None
) -> AuditResult:
    """Check the numbers of a document; with ``figures`` also against a portfolio's statistics, with ``survey``
    against the tabulations of a review's select questions (see :mod:`lmreview.analysis.audit_survey`).

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
    compared = [
        *([check_portfolio(prose, tables, stream, figures)] if figures is not None else []),
        *([check_survey(prose, tables, stream, survey)] if survey is not None else []),
    ]
    not_compared = 0
    for more, n, other in compared:
        findings += more
        checked += n
        not_compared += other
    findings.sort(key=lambda item: item[0])
    return AuditResult([f for _, f in findings], checked, not_compared)


def _mask(text: str, spans: Iterable[tuple[int, int]]) -> str:
    """The text with tables and web addresses blanked out (by a character no pattern crosses), positions unchanged."""
    chars = list(text)
    for start, end in [*spans, *(m.span() for m in re.finditer(r"\b(?:https?://|www\.)\S+", text))]:
        chars[start:end] = "\x00" * (end - start)
    return "".join(chars)


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
        survey = review_figures(session, found)  # its answers and its code counts
        portfolio = portfolio or reviews.portfolio_name(session, found)
    if portfolio is not None:
        figures = portfolio_stats(session, portfolio)
    return figures, survey
