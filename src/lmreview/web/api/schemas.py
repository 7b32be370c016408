"""The shapes the REST API answers with and accepts (one class per use), so that its OpenAPI has real schemas.

Figures are strings where lmreview keeps them exact (amounts and months are ``Decimal``: ``"1250000.00"``), dates and
times ISO 8601. Objects that the CLI prints with ``--json`` (statistics, tabulations, ratings, the coding matrix) are
passed on as the CLI prints them, described as open objects."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, Generic, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from lmreview.text import text_problem

T = TypeVar("T")


def _utc(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)  # SQLite gives times without zone


# A moment, always with its zone (UTC): ``2026-12-04T17:53:52.389592Z``.
Moment = Annotated[dt.datetime, AfterValidator(_utc)]


_SURROGATE = re.compile(r"[\ud800-\udfff]")  # a lone half of a UTF-16 pair: JSON may escape one, no database stores it


def _problem(value: str, multiline: bool) -> str | None:
    found = _SURROGATE.search(value)
    if found is not None:
        return f"contains a lone surrogate, U+{ord(found.group()):04X}, at character {found.start() + 1}; remove it"
    return text_problem(value, multiline=multiline)


def _one_line(value: str) -> str:
    problem = _problem(value, False)
    if problem is not None:
        raise ValueError(problem)
    return value


def _lines(value: str) -> str:
    problem = _problem(value, True)
    if problem is not None:
        raise ValueError(problem)
    return value


# Text of a request body: no control character (NUL…), and a one-line ``Line`` no line break either; a value that
# breaks this answers 422 naming its field (``body.title: …``), as a form field does on the web.
Line = Annotated[str, AfterValidator(_one_line)]
Text = Annotated[str, AfterValidator(_lines)]


class ApiError(BaseModel):
    """Every error of the API: a message, and the located problems of a file or a request (may be empty)."""

    error: str
    problems: list[str] = Field(default_factory=list)


class Page(BaseModel, Generic[T]):
    """One page of a longer list: ``total`` rows match, ``items`` are those from ``offset`` on."""

    items: list[T]
    total: int
    limit: int
    offset: int


class Me(BaseModel):
    name: str
    role: str
    auth: str = Field(description="token or session")
    scope: str = Field(description="read or write: what this request may do")


class Portfolio(BaseModel):
    name: str
    title: str | None
    projects: int
    budget_usd: str | None
    imported_at: Moment | None


class Project(BaseModel):
    code: str
    title: str | None
    funding_year: int | None
    fund_line: str | None
    budget_usd: str | None
    region: str | None
    category: str | None
    countries: list[str]
    start_date: str | None
    end_date: str | None
    duration_months: str | None
    nce_months: str | None
    status: str | None


class ProjectChange(BaseModel):
    code: str
    fields: list[str]


class PortfolioImport(BaseModel):
    portfolio: str
    filename: str
    format: str
    dry_run: bool
    batch_id: int | None
    created: list[str]
    updated: list[ProjectChange]
    unchanged: list[str]
    not_in_file: list[str]
    warnings: list[str]


class Review(BaseModel):
    id: int
    name: str
    title: str | None
    period: str | None
    status: str
    portfolio: str | None
    form: str | None
    created_at: Moment | None


class ReviewDetail(Review):
    response_status: dict[str, Any] = Field(description="as `lmreview responses status --json` prints it")


class ReviewCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(description="letters, digits, _ - . (at most 80)")
    title: str | None = None
    period: str | None = None
    portfolio: str | None = Field(default=None, description="the portfolio whose projects answer")
    form: str | None = Field(default=None, description="a questionnaire already added")
    template: str | None = Field(default=None, description="or a questionnaire template shipped with lmreview")


class Form(BaseModel):
    name: str
    title: str | None
    versions: int
    version: str
    languages: list[str]
    questions: int
    submissions: int
    updated_at: Moment


class FormVersion(BaseModel):
    version: str
    filename: str
    created_at: Moment
    actor: str
    warnings: list[str]


class FormDetail(BaseModel):
    name: str
    title: str | None
    versions: list[FormVersion]


class Respondent(BaseModel):
    id: int
    name: str
    email: str | None
    project_code: str | None
    project_title: str | None
    role: str | None
    office: str | None
    language: str | None
    status: str


class RespondentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    email: str | None = None
    project_code: str | None = None
    role: str | None = None
    office: str | None = None
    language: str | None = None


class Submission(BaseModel):
    id: int
    instance_id: str
    status: str
    review_state: str
    source: str
    form_version: str
    respondent_id: int | None
    project_id: int | None
    submitted_at: Moment | None
    updated_at: Moment | None
    changes: int


class SubmissionDetail(Submission):
    data: dict[str, Any] = Field(description="the answers as they are now, shaped like the XForm instance")
    original: dict[str, Any] | None = Field(description="the answers as submitted or imported, before any change")


class SubmissionVersion(BaseModel):
    """One change of an answer: the version of the submission it made."""

    id: int
    path: str
    old: str | None
    new: str | None
    actor: str
    at: Moment
    reason: str


class AnswerChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    path: str = Field(description="the question's path in the submission, e.g. grp/q or outcomes[2]/outcome")
    value: str | None = Field(description="the new value (empty or null: no answer)")
    reason: str = Field(description="why the answer changes: kept with the change")


class ReviewState(BaseModel):
    model_config = ConfigDict(extra="forbid")

    state: str = Field(description="received, has_issues, approved or rejected")
    comment: str = ""


class RosterImport(BaseModel):
    review: str
    filename: str
    created: list[str]
    updated: list[str]
    unchanged: list[str]
    warnings: list[str]


class FormAdded(BaseModel):
    form: str
    version: str
    outcome: str = Field(description="created, new version or unchanged")
    questions: int
    languages: list[str]
    warnings: list[str]


class ResponseImport(BaseModel):
    form: str
    review: str | None
    filename: str
    created: list[str]
    updated: list[str]
    unchanged: list[str]
    attached: list[str]
    warnings: list[str]


class ReviewImport(BaseModel):
    review: str
    from_review: str
    added: dict[str, int]
    reused: dict[str, int]
    users_missing: list[str]
    renewed: dict[str, int]


class AuditEvent(BaseModel):
    id: int
    at: Moment
    actor: str
    action: str
    entity: str
    entity_id: int | None
    summary: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    import_batch_id: int | None


class ApiToken(BaseModel):
    id: int
    user: str
    name: str
    prefix: str
    scope: str
    created: str | None
    expires: str | None
    last_used: str | None
    revoked: str | None
    state: str


JsonObject = dict[str, Any]
