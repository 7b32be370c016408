"""The content of a review's report, assembled from the store: read-only, returned as plain dataclasses.

``review_report(session, name)`` gathers what the report prints: the scope and the response rate (methodology), the
portfolio overview (budget, length incl. NCE, NCE, breakdowns, revisions), the findings per questionnaire section
(every select question tabulated by ``analysis.tabulate``), the criteria ratings, the narrative sections reviewers
wrote, and the annexes (projects, questionnaire). Every figure keeps its numerator, its denominator and the codes of
the rows behind it, so a renderer prints "n of N" and the web UI links a figure to its rows. The renderers in
``report/`` take the result and never touch the database. ``evaluation_brief(report, fields)`` picks from it the
content of the 2-page brief (seed 002's layout). Nothing here writes.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lmreview.analysis.coded import CodedFindings, coded_findings
from lmreview.analysis.ratings import CriterionScore, RatingsSummary, ratings_summary
from lmreview.analysis.tabulate import Block, Tabulation, tabulate_many
from lmreview.analysis.thumbnails import Budget, Thumbnail, thumbnails
from lmreview.errors import LmreviewError
from lmreview.figures import Share, Summary, fmt_number, fmt_pct
from lmreview.portfolio.models import Category, Portfolio, Project, ProjectCountry, Region, Revision, duration_of
from lmreview.portfolio.stats import portfolio_stats
from lmreview.questionnaire import forms, reviews
from lmreview.questionnaire.form_types import MEDIA_TYPES
from lmreview.questionnaire.models import Review
from lmreview.questionnaire.xlsform import FormDefinition, Question
from lmreview.ratings.models import DAC_CRITERIA
from lmreview.report.narrative import Section, current_sections
from lmreview.tracking.section import register_section

BREAKDOWN_LABELS = {
    "region": "Region",
    "category": "Category",
    "funding_year": "Funding year",
    "fund_line": "Fund line",
}
SELECTS = ("select_one", "select_multiple")
COUNTED = (*SELECTS, *MEDIA_TYPES)  # a media question's finding: the answers whose file arrived, and the others
SKIPPED_TYPES = ("calculate", "hidden")
UNIT_WORDS = {"project": "projects", "respondent": "respondents", "submission": "submissions"}


@dataclass(frozen=True, slots=True)
class Source:
    """The rows behind one figure: what the ``sources`` sheet lists and what the web UI links to."""

    figure: str
    n: int | None
    of: int | None
    rows: tuple[str, ...]  # project codes (or respondent/submission keys for a form that does not ask the project)
    submissions: tuple[str, ...] = ()  # the instance id of the submission of each row, when counted from answers
    rule: str = ""


@dataclass(frozen=True, slots=True)
class Breakdown:
    key: str  # region | category | funding_year | fund_line
    label: str
    shares: list[Share]


@dataclass(frozen=True, slots=True)
class Methodology:
    portfolio: str
    portfolio_title: str | None
    projects: int
    form: str | None
    form_title: str | None
    form_version: str | None
    questions: int
    respondents: int
    response: Share  # projects with a submitted questionnaire, of the projects of the portfolio
    missing: tuple[str, ...]
    rating_sources: dict[str, Decimal]
    used: int | None = None  # units whose submission the findings count (rejected and older ones are set aside)

    @property
    def response_text(self) -> str:
        """ "23 of 27 projects, 85%" (the seeds' wording)."""
        r = self.response
        pct = f", {fmt_pct(r.pct, 0)}" if r.pct is not None else ""
        return f"{r.projects} of {r.of} projects{pct}"


@dataclass(frozen=True, slots=True)
class Overview:
    projects: int
    budget_usd: Summary
    duration_months: Summary
    nce_months: Summary
    breakdowns: list[Breakdown]
    revisions: list[Share]  # per kind: projects with a recorded revision (or a no-cost extension), of all


@dataclass(frozen=True, slots=True)
class ChoiceCount:
    """How many answers chose one option of a select question, among those answered."""

    value: str
    label: str
    listed: bool  # False for a value that is not one of the question's choices
    n: int
    answered: int
    rows: tuple[str, ...]  # the units (project codes) behind the count
    submissions: tuple[str, ...]

    @property
    def pct(self) -> Decimal | None:
        return Decimal(100) * self.n / self.answered if self.answered else None


@dataclass(frozen=True, slots=True)
class QuestionFinding:
    """One select question over the review, with every denominator of ``analysis.tabulate``."""

    path: str
    label: str
    type: str
    list_name: str | None
    unit: str  # project | respondent | submission
    repeat: str | None
    units: int
    responded: int
    not_relevant: int
    skipped: int
    answered: int
    counts: list[ChoiceCount]
    answered_rows: tuple[str, ...]
    mean: Decimal | None = None  # a rating scale (1-6...): its mean
    top_box: tuple[str, int, int] | None = None  # ("5 or 6", n, of)
    from_documents: int = 0  # units whose answers were entered from a document (not in ``responded``)
    thumbnails: tuple[Thumbnail, ...] = ()  # an image question: the first images received, small
    images: tuple[tuple[str, int, str], ...] = ()  # an image question: (unit, submission row, file) of each received

    @property
    def unit_word(self) -> str:
        return UNIT_WORDS.get(self.unit, self.unit)


@dataclass(frozen=True, slots=True)
class FindingSection:
    key: str
    title: str
    questions: list[QuestionFinding]


@dataclass(frozen=True, slots=True)
class ProjectRow:
    code: str
    title: str
    funding_year: int | None
    fund_line: str | None
    budget_usd: Decimal | None
    region: str | None
    category: str | None
    months: Decimal | None
    countries: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class QuestionRow:
    path: str
    label: str
    type: str
    depth: int


@dataclass
class ReviewReport:
    review: str
    title: str
    period: str | None
    generated: dt.date
    methodology: Methodology
    overview: Overview
    findings: list[FindingSection]
    findings_note: str | None  # why there are no findings tables, when there are none
    ratings: RatingsSummary
    sections: dict[str, Section]
    projects: list[ProjectRow]
    questionnaire: list[QuestionRow]
    questionnaire_title: str | None = None
    coded: list[CodedFindings] = field(default_factory=list)  # the code matrix of each codebook used in the review
    # The renderers' layout of this report (``report.html.outline``), kept so that the formats of one build share it.
    laid_out: dict[Any, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def portfolio(self) -> str:
        return self.methodology.portfolio

    def section(self, key: str) -> Section:
        return self.sections[key]

    def sources(self) -> list[Source]:
        """Every figure of the report with the rows behind it, in the order the report prints them."""
        m, o = self.methodology, self.overview
        found = [
            Source(
                "Response rate",
                m.response.projects,
                m.response.of,
                m.response.rows,
                rule="projects with a submitted questionnaire / projects of the portfolio",
            )
        ]
        for summary, label in (
            (o.budget_usd, "Budget (USD)"),
            (o.duration_months, "Length incl. NCE (months)"),
            (o.nce_months, "No-cost extensions (months)"),
        ):
            found.append(Source(label, summary.n, summary.of, summary.rows, rule=summary.rule))
        for b in o.breakdowns:
            for s in b.shares:
                found.append(Source(f"By {b.label.lower()}: {s.value or '(none)'}", s.projects, s.of, s.rows))
        for s in o.revisions:
            found.append(Source(f"Revisions: {s.value}", s.projects, s.of, s.rows))
        for section in self.findings:
            for q in section.questions:
                for c in q.counts:
                    found.append(
                        Source(
                            f"{q.path} = {c.label}",
                            c.n,
                            c.answered,
                            c.rows,
                            c.submissions,
                            f"answers choosing {c.value} / answered ({q.unit_word})",
                        )
                    )
        for coded in (c for c in self.coded if not c.withheld):
            for figure in coded.matrix.codes:
                rule = f"projects with the code / projects with material (codebook {coded.codebook})"
                found.append(Source(f"Code {figure.code}", figure.units, figure.of, tuple(figure.rows), rule=rule))
        return found


# --- assembling ------------------------------------------------------------------------------------------------------


def _with_register(session: Session, review: Review) -> dict[str, Section]:
    """The narrative sections; Recommendations comes from the follow-up register once it holds any."""
    sections = current_sections(session, review)
    register = register_section(session, review.id, review.name)
    return sections if register is None else sections | {"recommendations": register}


def review_report(session: Session, name: str, today: dt.date | None = None) -> ReviewReport:
    """Everything the report of review ``name`` prints, computed now from the store."""
    review = reviews.get_review(session, name)
    portfolio_name = reviews.portfolio_name(session, review)
    if portfolio_name is None:
        raise LmreviewError(f"review {name} has no portfolio, and a report describes a portfolio's projects")
    portfolio = session.scalar(select(Portfolio).where(Portfolio.name == portfolio_name))
    projects = _project_rows(session, review)
    stats = portfolio_stats(session, portfolio_name)
    status = reviews.response_status(session, review)
    ratings = ratings_summary(session, review)
    definition = forms.definition_of(forms.latest_version(review.form)) if review.form else None
    of = len(projects)
    revised: dict[str, set[str]] = {"budget": set(), "duration": set()}
    ids = {i: p.code for i, p, _ in projects}
    if ids:
        query = (
            select(Revision.project_id, Revision.type)
            .join(Project, Project.id == Revision.project_id)
            .where(Project.portfolio_id == review.portfolio_id)
        )
        for project_id, kind in session.execute(query).all():
            revised.setdefault(kind, set()).add(ids[project_id])
    nce = [p.code for _, p, months in projects if months is not None and months > 0]
    revisions = [
        _count("budget revision recorded", sorted(revised["budget"]), of),
        _count("duration revision recorded", sorted(revised["duration"]), of),
        _count("no-cost extension (NCE months > 0)", nce, of),
    ]
    overview = Overview(
        projects=of,
        budget_usd=stats.budget_usd,
        duration_months=stats.duration_months,
        nce_months=stats.nce_months,
        breakdowns=[Breakdown(k, BREAKDOWN_LABELS[k], stats.breakdowns[k]) for k in BREAKDOWN_LABELS],
        revisions=revisions,
    )
    methodology = Methodology(
        portfolio=portfolio_name,
        portfolio_title=portfolio.title if portfolio else None,
        projects=of,
        form=review.form.name if review.form else None,
        form_title=definition.title if definition else None,
        form_version=definition.version if definition else None,
        questions=sum(1 for q in definition.walk() if _is_question(q)) if definition else 0,
        respondents=status.respondents,
        response=_count("answered", status.answered_codes, status.projects_total),
        missing=tuple(status.missing_codes),
        rating_sources=dict(ratings.weights),
    )
    findings, findings_note = _findings(session, review, definition)
    if findings:
        first = findings[0].questions[0]
        methodology = replace(methodology, used=first.responded + first.from_documents)
    return ReviewReport(
        review=review.name,
        title=review.title or review.name,
        period=review.period,
        generated=today or dt.date.today(),
        methodology=methodology,
        overview=overview,
        findings=findings,
        findings_note=findings_note,
        ratings=ratings,
        sections=_with_register(session, review),
        projects=[p for _, p, _ in projects],
        questionnaire=_questionnaire(definition) if definition else [],
        questionnaire_title=definition.title if definition else None,
        coded=coded_findings(session, review),
    )


def _project_rows(session: Session, review: Review) -> list[tuple[int, ProjectRow, Decimal | None]]:
    """(id, the annex's row, NCE months) of each project of the review's portfolio, by code: read as plain rows in
    two queries (the projects with their region and category; the countries), not built as ORM objects."""
    if review.portfolio_id is None:
        return []
    query = (
        select(
            Project.id,
            Project.code,
            Project.title,
            Project.funding_year,
            Project.fund_line,
            Project.budget_usd,
            Region.name,
            Category.name,
            Project.planned_months,
            Project.nce_months,
            Project.start_date,
            Project.end_date,
        )
        .outerjoin(Region, Region.id == Project.region_id)
        .outerjoin(Category, Category.id == Project.category_id)
        .where(Project.portfolio_id == review.portfolio_id)
        .order_by(Project.code)
    )
    countries: dict[int, list[str]] = {}
    named = (
        select(ProjectCountry.project_id, ProjectCountry.name)
        .join(Project, Project.id == ProjectCountry.project_id)
        .where(Project.portfolio_id == review.portfolio_id)
        .order_by(ProjectCountry.project_id, ProjectCountry.position)
    )
    for project_id, country in session.execute(named):
        countries.setdefault(project_id, []).append(country)
    return [
        (
            i,
            ProjectRow(
                code=code,
                title=title,
                funding_year=year,
                fund_line=line,
                budget_usd=budget,
                region=region,
                category=category,
                months=duration_of(planned, nce, start, end),
                countries=tuple(countries.get(i, ())),
            ),
            nce,
        )
        for i, code, title, year, line, budget, region, category, planned, nce, start, end in session.execute(query)
    ]


def _count(label: str, codes: list[str], of: int) -> Share:
    return Share(label, len(codes), of, None, None, tuple(codes))


def _is_question(q: Question) -> bool:
    return q.type not in ("group", "repeat", "note", *SKIPPED_TYPES) and not q.is_meta


def _questionnaire(definition: FormDefinition) -> list[QuestionRow]:
    language = definition.default_language
    rows: list[QuestionRow] = []

    def walk(questions: list[Question], depth: int) -> None:
        for q in questions:
            if q.is_meta or q.type in SKIPPED_TYPES:
                continue
            rows.append(QuestionRow(q.path, q.label(language), q.type, depth))
            walk(q.children, depth + 1)

    walk(definition.survey, 0)
    return rows


def _findings(
    session: Session, review: Review, definition: FormDefinition | None
) -> tuple[list[FindingSection], str | None]:
    if definition is None:
        return [], "The review has no questionnaire, so there are no findings from one."
    language = definition.default_language
    groups: list[tuple[str, str, list[Question]]] = []
    loose: list[Question] = []
    for top in definition.survey:
        selects = [q for q in top.walk() if q.type in COUNTED and not q.is_meta]
        if top.type in ("group", "repeat"):
            if selects:
                groups.append((top.path, top.label(language), selects))
        elif top.type in COUNTED:
            loose.append(top)
    if loose:
        groups.append(("", "Other questions", loose))
    sections = []
    budget = Budget()
    tables = tabulate_many(session, review, [q.path for _, _, questions in groups for q in questions])
    by_path = {t.question: t for t in tables}
    for key, title, questions in groups:
        found = [_finding(by_path[q.path], q) for q in questions]
        found = [replace(f, thumbnails=thumbnails(session, f.images, budget)) if f.images else f for f in found]
        sections.append(FindingSection(key, title, found))
    if not sections:
        return [], "The questionnaire has no select questions to tabulate."
    return sections, None


def _unit_of(ref: str, units: set[str] | frozenset[str]) -> str:
    """The unit of a row reference: the unit itself, or "UNIT/instance path" inside a repeat (a set: a report of
    10,000 projects looks up every row of every count)."""
    if ref in units:
        return ref
    slash = ref.find("/")
    while slash != -1:
        if ref[:slash] in units:
            return ref[:slash]
        slash = ref.find("/", slash + 1)
    return ref


def _finding(t: Tabulation, question: Question) -> QuestionFinding:
    block: Block = t.whole
    units = block.units
    keys = frozenset(units)
    counts = []
    for c in block.counts or []:
        rows = tuple(dict.fromkeys(_unit_of(r, keys) for r in c.rows))
        submissions = tuple(block.submissions.get(u, "") for u in rows)  # aligned with rows
        counts.append(ChoiceCount(c.value, c.label, c.listed, c.n, c.answered, rows, submissions))
    if block.files is not None:
        for value, label, stored in (("received", "file received", True), ("missing", "file not received", False)):
            found = [o for o, row in block.files if (row is not None) == stored]
            rows = tuple(dict.fromkeys(o.unit for o in found))
            submissions = tuple(block.submissions.get(u, "") for u in rows)
            counts.append(ChoiceCount(value, label, True, len(found), block.answered, rows, submissions))
    images: tuple[tuple[str, int, str], ...] = ()
    if block.files is not None and question.type == "image":
        images = tuple((o.unit, row, o.value) for o, row in block.files if row is not None)
    top_box = None
    if block.top_box is not None:
        top_box = (" or ".join(block.top_box.values), block.top_box.n, block.top_box.of)
    return QuestionFinding(
        path=t.question,
        label=t.label,
        type=t.type,
        list_name=question.list_name,
        unit=t.unit,
        repeat=t.repeat,
        units=len(units),
        responded=len(block.responses),
        from_documents=len(block.from_documents),
        not_relevant=len(block.refs("not_relevant")),
        skipped=len(block.refs("skipped")),
        answered=block.answered,
        counts=counts,
        answered_rows=tuple(block.units_with_answer),
        mean=block.numbers.mean if block.numbers is not None and block.top_box is not None else None,
        top_box=top_box,
        images=images,
    )


# --- the evaluation brief --------------------------------------------------------------------------------------------

BRIEF_FIELDS = (
    "Evaluation type",
    "Evaluator(s)",
    "Evaluation period",
    "Final report date",
    "Commissioned by",
    "Managed by",
    "Evaluation purpose",
    "Evaluation criteria",
    "Evaluation methodology",
    "Geographical coverage",
    "Funding",
)
_ALIASES = {
    "type": "Evaluation type",
    "evaluator": "Evaluator(s)",
    "evaluators": "Evaluator(s)",
    "period": "Evaluation period",
    "date": "Final report date",
    "reportdate": "Final report date",
    "finalreport": "Final report date",
    "commissioned": "Commissioned by",
    "managed": "Managed by",
    "purpose": "Evaluation purpose",
    "criteria": "Evaluation criteria",
    "methodology": "Evaluation methodology",
    "coverage": "Geographical coverage",
    "funding": "Funding",
}
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$")
_ITEM = re.compile(r"^\s{0,3}(?:\d{1,3}[.)]|[-*+])\s+(.*)$")


def field_name(name: str) -> str:
    """The brief's name of a header field: "evaluators", "Evaluator(s)" and "EVALUATOR(S)" are one field."""
    squashed = re.sub(r"[^a-z]", "", name.casefold())
    for known in BRIEF_FIELDS:
        if re.sub(r"[^a-z]", "", known.casefold()) == squashed:
            return known
    squashed = squashed.removeprefix("evaluation").removesuffix("by")
    return _ALIASES.get(squashed, name.strip())


def parse_header(markdown: str) -> dict[str, str]:
    """``Field: value`` lines (a leading "-" or "**" is allowed); other lines are ignored."""
    fields: dict[str, str] = {}
    for line in markdown.splitlines():
        name, sep, value = line.strip().lstrip("-*+ ").partition(":")
        if sep and name.strip() and value.strip():
            fields[field_name(name.replace("*", ""))] = value.strip().strip("*").strip()
    return fields


@dataclass(frozen=True, slots=True)
class CriterionFinding:
    criterion: str
    score: CriterionScore | None
    scale_top: int | None
    markdown: str


@dataclass
class Brief:
    title: str
    review: str
    header: dict[str, str]
    findings: list[CriterionFinding]
    general: str  # the findings narrative that names no criterion
    recommendations: list[str]
    generated: dt.date


def criterion_texts(markdown: str, criteria: list[str]) -> tuple[dict[str, str], str]:
    """Split the findings narrative by criterion: under a heading that names one ("## Relevance"), or in a
    paragraph that starts with one ("**Relevance:** ...", "Relevance: ..."). The rest is returned apart."""
    names = {c.casefold(): c for c in criteria}
    lead = re.compile(r"^\s*\**\s*(" + "|".join(re.escape(c) for c in criteria) + r")\s*\**\s*[:.–-]\s*\**\s*", re.I)
    parts: dict[str | None, list[str]] = {}
    heading: str | None = None
    paragraph: str | None = None
    starting = True
    for line in markdown.splitlines():
        found = _HEADING.match(line)
        if found:
            title = found[1].strip("*: ").casefold()
            heading, paragraph, starting = names.get(title), None, True
            if heading is None:
                parts.setdefault(None, []).append(line)
            continue
        if not line.strip():
            paragraph, starting = None, True
            parts.setdefault(heading, []).append("")
            continue
        if starting and criteria and (hit := lead.match(line)):
            paragraph = names[hit[1].casefold()]
            line = line[hit.end() :]
        starting = False
        parts.setdefault(paragraph or heading, []).append(line)
    texts = {names[k.casefold()]: "\n".join(v).strip() for k, v in parts.items() if k is not None}
    return {k: v for k, v in texts.items() if v}, "\n".join(parts.get(None, [])).strip()


def list_items(markdown: str) -> list[str]:
    """The top-level items of the Markdown lists (continuation lines joined), else its paragraphs."""
    items: list[str] = []
    current: list[str] | None = None
    for line in markdown.splitlines():
        hit = _ITEM.match(line)
        if hit and not line.startswith("    "):
            current = [hit[1].strip()]
            items.append("")
        elif current is not None and line.strip() and line.startswith((" ", "\t")):
            current.append(line.strip())
        elif not line.strip():
            pass
        else:
            current = None
        if current is not None:
            items[-1] = " ".join(current)
    if items:
        return items
    paragraphs = re.split(r"\n\s*\n", markdown.strip())
    return [" ".join(p.split()) for p in paragraphs if p.strip() and not _HEADING.match(p)]


def evaluation_brief(report: ReviewReport, fields: dict[str, str] | None = None) -> Brief:
    """The brief's content: header fields (``fields`` over the ``brief_header`` section over computed defaults),
    findings by criterion (scores and the findings narrative), key recommendations (the recommendations section)."""
    m, o = report.methodology, report.overview
    review_scores = next((s for s in report.ratings.subjects if s.subject == "review"), None)
    rated = [c.criterion for c in review_scores.criteria] if review_scores else []
    criteria = list(dict.fromkeys([*rated, *DAC_CRITERIA]))
    texts, general = criterion_texts(report.section("findings").markdown, [c.capitalize() for c in criteria])
    methodology = f"Portfolio data of {m.projects} projects"
    if m.form:
        methodology += f"; questionnaire {m.form_title or m.form} (answered for {m.response_text})"
    if m.rating_sources:
        methodology += f"; criteria ratings from {len(m.rating_sources)} sources, weighted"
    regions = [s.value for s in next((b.shares for b in o.breakdowns if b.key == "region"), []) if s.value]
    header: dict[str, str] = {
        "Evaluation type": "Portfolio review",
        "Evaluation period": report.period or "",
        "Evaluation criteria": ", ".join(c.capitalize() for c in rated),
        "Evaluation methodology": methodology,
        "Geographical coverage": ", ".join(regions),
        "Portfolio": f"{m.projects} projects"
        + (
            f", USD {fmt_number(o.budget_usd.total)} (budget known for {o.budget_usd.n} of {o.budget_usd.of})"
            if o.budget_usd.n
            else ""
        ),
    }
    header |= parse_header(report.section("brief_header").markdown)
    header |= {field_name(k): v for k, v in (fields or {}).items() if v}
    ordered = {k: header[k] for k in (*BRIEF_FIELDS, *header) if header.get(k)}
    top = max((int(str(level["score"])) for level in report.ratings.levels), default=None)
    scores = {c.criterion.capitalize(): c for c in review_scores.criteria} if review_scores else {}
    findings = [
        CriterionFinding(name, scores.get(name), top, texts.get(name, "")) for name in dict.fromkeys([*scores, *texts])
    ]
    return Brief(
        title=report.title,
        review=report.review,
        header=ordered,
        findings=findings,
        general=general,
        recommendations=list_items(report.section("recommendations").markdown),
        generated=report.generated,
    )
